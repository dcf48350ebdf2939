import {
  type AnyEmbedKitError,
  abortReason,
  ConnectionError,
  EmbedKitError,
  RateLimitError,
  RETRIES_SPENT_CLAUSE,
  RetryError,
  TimeoutError,
  withoutRetryClaim,
} from '../errors.js';
import { type Clock, MAX_TIMER_MS } from './clock.js';
import type { AttemptAnswered, LimiterPermit, RateLimiter } from './limiter.js';
import type { RetryEvent, WaitEvent } from './settings.js';
import { onAbort } from './signal.js';

/** How a job's calls are attempted: the same for every call of one job. */
export interface AttemptPolicy {
  /** Provider and model id, for error messages. */
  provider: string;
  modelId: string;
  /** The shared 429 pause and budgets. */
  limiter: RateLimiter;
  clock: Clock;
  maxRetries: number;
  maxRetryDelayMs: number;
  /** Per attempt. */
  timeoutMs: number;
  /** Whether token counts come from the model's real tokenizer (not an estimate). */
  exactTokens: boolean;
  onRetry: ((event: RetryEvent) => void) | undefined;
  onWait: ((event: WaitEvent) => void) | undefined;
}

/**
 * The limiter's admission of one attempt, handed to an operation that admits late: call it right before
 * the request leaves (every call waits for the same admission), then `sending()` as it leaves. An attempt
 * that fails after admission but before `sending()` gives back what it took: the API never saw it. Each
 * request is charged `tokens`, the estimate of the inputs it sends (a cache sends only its misses), or
 * the attempt's whole estimate when none is given.
 */
export interface Admission {
  (tokens?: number): Promise<void>;
  sending(): void;
  /**
   * Sends a further request of the same attempt (a middleware that calls the model again, as the cache
   * does when an entry it held proves stale), admitted by the limiter on its own and settled with what
   * `answered` reads from its answer: the attempt's admission covers one request. Absent from an
   * admission made by hand (a test's), where the request is sent as it is.
   */
  again?<R>(send: () => Promise<R>, answered: (result: R) => AttemptAnswered, tokens?: number): Promise<R>;
}

/** Why an attempt that is over admits nothing: its abort's reason, or that it was decided. */
function overReason(signal: AbortSignal): unknown {
  return signal.aborted
    ? signal.reason
    : new Error('embedkit: the attempt was already decided; nothing was sent.');
}

/** How long after an attempt's abort its model may take to end the call by itself before it is left. */
const ABANDON_AFTER_MS = 100;

/** First wait of the exponential backoff; doubles per retry, with full jitter, up to `maxRetryDelayMs`. */
const INITIAL_BACKOFF_MS = 500;

/**
 * Runs `operation` until it succeeds, with the engine's retry rules: admission by the limiter (429 pause,
 * budgets) before each attempt, a per-attempt timeout, retries only for retryable embedkit errors, waits
 * from `retryAfterMs` (capped at `maxRetryDelayMs`; a wait the retries left cannot reach fails the call at
 * once) or exponential backoff with full jitter, a 429 pausing every call on the limiter, and a
 * `RetryError` only when retries were actually spent. An abort of `signal` re-throws its reason at every
 * await. A limiter that fails to settle a call, answered or failed, does not change how the call ends:
 * `options.onSettleFailure` hears of it, with whether the call was answered.
 */
export async function withRetries<T>(
  policy: AttemptPolicy,
  tokens: number,
  signal: AbortSignal,
  operation: (signal: AbortSignal, timeoutMs: number, admit: Admission) => Promise<T>,
  answered: (result: T) => AttemptAnswered,
  options: { admitsLate?: boolean; onSettleFailure?: (error: unknown, answered: boolean) => void } = {},
): Promise<T> {
  const { clock, limiter } = policy;
  const errors: unknown[] = [];
  for (let attemptNumber = 0; ; attemptNumber++) {
    // A signal that aborted already fires no more, so the watch below would never end this attempt: one
    // aborted before the first attempt, or in the caller's onRetry before a retry that waits for nothing
    // (a 429 asking for no wait), would otherwise be admitted and sent.
    if (signal.aborted) throw abortReason(signal);
    // One controller per attempt, fed by the job's signal and the timer (cheaper than AbortSignal.any).
    // A model that ignores the attempt's signal (a third-party provider) must not keep a timeout or the
    // caller's abort from ending the attempt: it is left behind a moment after the abort. One that honours
    // the signal, or was done already (a cache handing back an answer it holds), ends by itself first.
    const attempt = new AbortController();
    let leaveTimer: ReturnType<typeof setTimeout> | undefined;
    let leaveBehind: (reason: unknown) => void = () => {};
    const leftBehind = new Promise<never>((_, reject) => {
      leaveBehind = (reason) => {
        leaveTimer ??= setTimeout(() => reject(reason), ABANDON_AFTER_MS);
      };
    });
    // Raced only while the attempt runs: a rejection after it ended has nobody listening for it.
    leftBehind.catch(() => {});
    const abortAttempt = (reason: unknown) => {
      attempt.abort(reason);
      leaveBehind(reason);
    };
    const stopWatching = onAbort(signal, () => abortAttempt(signal.reason));
    let timedOut = false;
    // The attempt's time runs until admission and from it on, not while the call waits for a budget.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let usedMs = 0;
    let runningSince = 0;
    const startTimer = () => {
      runningSince = performance.now();
      timer = setTimeout(
        () => {
          timedOut = true;
          abortAttempt(
            new TimeoutError(
              `${policy.provider} model ${policy.modelId} did not answer within ${policy.timeoutMs} ms (timeoutMs).`,
              { provider: policy.provider },
            ),
          );
        },
        Math.max(0, policy.timeoutMs - usedMs),
      );
    };
    const pauseTimer = () => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      usedMs += performance.now() - runningSince;
    };
    // Admission by the limiter (the 429 pause, the budgets) comes right before the request leaves. An
    // operation that admits late (a model behind middleware) asks for it only when it sends: a call a
    // cache answers whole sends nothing, and neither waits for a budget nor spends one.
    let permit: LimiterPermit | undefined;
    let admission: Promise<void> | undefined;
    /** What a request of `share` tokens (of the attempt's, when not given) asks of the limiter. */
    const request = (share = tokens) => ({
      tokens: share,
      // APIs state their limits per model: what one model's headers say holds only its own calls.
      scope: `${policy.provider}:${policy.modelId}`,
      exactTokens: policy.exactTokens,
      clock,
      signal,
      onWait: policy.onWait,
    });
    /**
     * Settles a permit, and says whether the limiter recorded it: one that cannot (its store out of reach
     * at that moment) fails nothing, and `onSettleFailure` hears of it.
     */
    const settle = async (permitted: () => Promise<void>, answer: boolean): Promise<boolean> => {
      try {
        await permitted();
        return true;
      } catch (failure) {
        options.onSettleFailure?.(failure, answer);
        return false;
      }
    };
    /** Whether the request left: an attempt that fails before it gives its budget back. */
    let sent = false;
    /** Set once the attempt is decided: a late admission then takes nothing. */
    let ended = false;
    /**
     * The error of a further request (`again`), settled with its own admission: that it never left says
     * nothing of the attempt's own request, which left before it.
     */
    let againError: unknown;
    /**
     * The tokens the further requests (`again`) reported, each settled with its own: the call's answer
     * counts them too (the cache sums its requests' usage), so they are taken out of it before the
     * attempt's own admission, which covers its first request only, is settled.
     */
    let againTokens = 0;
    const admit: Admission = Object.assign(
      (share?: number) => {
        admission ??= (async () => {
          // An attempt left behind (timed out, aborted, or decided while a middleware ran on) admits nothing.
          if (ended || attempt.signal.aborted) throw overReason(attempt.signal);
          pauseTimer();
          const taken = await limiter.acquire(request(share));
          if (ended || attempt.signal.aborted) {
            // Over while it waited: the API never sees it, so what it took is given back.
            await taken.failed({ rateLimited: false, waitMs: 0, unsent: true });
            throw overReason(attempt.signal);
          }
          permit = taken;
          startTimer();
        })();
        return admission;
      },
      {
        sending() {
          sent = true;
        },
        async again<R>(
          send: () => Promise<R>,
          answered: (result: R) => AttemptAnswered,
          share?: number,
        ): Promise<R> {
          if (ended || attempt.signal.aborted) throw overReason(attempt.signal);
          const taken = await limiter.acquire(request(share));
          if (ended || attempt.signal.aborted) {
            await settle(() => taken.failed({ rateLimited: false, waitMs: 0, unsent: true }), false);
            throw overReason(attempt.signal);
          }
          let result: R;
          try {
            result = await send();
          } catch (error) {
            // A 429 pauses the limiter when the attempt's own admission settles with the error.
            const unsent = ConnectionError.isInstance(error) && error.neverSent;
            await settle(() => taken.failed({ rateLimited: false, waitMs: 0, unsent }), false);
            againError = error;
            throw error;
          }
          await settle(() => {
            const outcome = answered(result);
            againTokens += outcome.reportedTokens ?? 0;
            return taken.answered(outcome);
          }, true);
          return result;
        },
      },
    );
    const run = async () => {
      if (options.admitsLate !== true) {
        await admit();
        // An abort in the moment since admission (a sibling's failure, as it started) sends nothing.
        if (attempt.signal.aborted) throw attempt.signal.reason;
        admit.sending();
      }
      return operation(attempt.signal, policy.timeoutMs, admit);
    };
    // Admitted first, the attempt's time starts at admission; admitted late, it starts now.
    if (options.admitsLate === true) startTimer();
    let error: unknown;
    let result: T;
    try {
      result = await Promise.race([run(), leftBehind]);
    } catch (caught) {
      error = timedOut && !EmbedKitError.isInstance(caught) ? attempt.signal.reason : caught;
    } finally {
      ended = true;
      clearTimeout(timer);
      clearTimeout(leaveTimer);
      stopWatching();
    }
    const held = permit;
    if (error === undefined) {
      // The API answered, and the call is paid for: a limiter that cannot settle it (its store out of
      // reach at that moment) must not turn it into an error and lose the answer. The next call's
      // admission asks the store again.
      if (held !== undefined)
        await settle(() => {
          const outcome = answered(result!);
          // A middleware of the caller's own may report its last request's usage alone: what is left after
          // taking the further requests out is then nothing, and the answer's figure stands.
          const own = (outcome.reportedTokens ?? 0) - againTokens;
          return held.answered(own > 0 ? { ...outcome, reportedTokens: own } : outcome);
        }, true);
      return result!;
    }
    const retryable = EmbedKitError.isInstance(error) && error.isRetryable && !signal.aborted;
    const delayMs = retryable ? retryDelay(policy, error as EmbedKitError, attemptNumber) : 0;
    // A 429 pauses every call on the limiter, whether or not this one retries. An attempt that was sent
    // keeps its budget charge (the API may have counted it) unless its request certainly never left (a
    // connection refused, a host not found): a further request's error never says so of it. A limiter
    // that cannot record the failure leaves the attempt's own error (a 429, a 500) to decide: it is
    // retried or thrown as it would have been. An attempt that failed before it was admitted (a
    // middleware's own 429) holds no permit, and its pause is recorded nowhere.
    const settled =
      held !== undefined &&
      (await settle(
        () =>
          held.failed({
            rateLimited: retryable && RateLimitError.isInstance(error),
            waitMs: delayMs,
            unsent: !sent || (error !== againError && ConnectionError.isInstance(error) && error.neverSent),
          }),
        false,
      ));
    if (signal.aborted) throw abortReason(signal);
    if (!retryable) throw error;
    errors.push(error);
    // A wait the retries left cannot reach ends the call now, not after minutes of retries bound to be
    // refused; its hint says how long the API asked for and how to wait it out.
    const retriesLeft = policy.maxRetries - attemptNumber;
    const unreachable =
      retriesLeft > 0
        ? unreachableWait(policy, error as EmbedKitError, retriesLeft, errors.length)
        : undefined;
    if (unreachable !== undefined) withoutRetryClaim(error, unreachable, true);
    if (retriesLeft <= 0 || unreachable !== undefined) {
      // No retry was made (maxRetries 0): the hint must not say the engine retries it.
      if (errors.length === 1) throw unreachable === undefined ? withoutRetryClaim(error) : error;
      // Every retry failed: the last error's hint says so and what to do, not that the engine retries it;
      // one whose message says nothing of retries (a timeout, a model's own words) gets it after it.
      if (unreachable === undefined) withoutRetryClaim(error, RETRIES_SPENT_CLAUSE, true);
      throw new RetryError(
        `${policy.provider} model ${policy.modelId} failed ${errors.length} times; the last error: ${(error as EmbedKitError).message}`,
        // Only retryable embedkit errors are kept (`retryable` above).
        errors as AnyEmbedKitError[],
      );
    }
    policy.onRetry?.({ attempt: attemptNumber + 1, error, delayMs });
    // After a 429 the limiter's pause is this call's wait too: it queues there with every other call. A
    // pause the limiter did not record holds nobody, so the call then waits it out by itself.
    if (!RateLimitError.isInstance(error) || !settled) await clock.sleep(delayMs, signal);
  }
}

/**
 * What the error's hint says in place of "the engine retries these" when the API asked for a wait that the
 * retries left cannot reach: each waits at most `maxRetryDelayMs`, so every retry would come before the
 * moment the API named and be refused again (a per-day limit asking for minutes: "Please try again in
 * 7m12s"). A wait past the cap that the retries can still reach (120 s under the 60 s default, with three
 * retries) is retried as before, a capped wait at a time: each refusal names a shorter wait. Undefined when
 * no wait was asked or the retries can reach it.
 */
function unreachableWait(
  policy: AttemptPolicy,
  error: EmbedKitError,
  retriesLeft: number,
  failures: number,
): string | undefined {
  const hint = error.retryAfterMs;
  if (hint === undefined || !Number.isFinite(hint) || hint <= retriesLeft * policy.maxRetryDelayMs)
    return undefined;
  const wait = describeWait(hint);
  // maxRetryDelayMs is a timer's delay: a wait past the longest one (about 24.8 days) cannot be set.
  const waitItOut =
    Math.ceil(hint) > MAX_TIMER_MS
      ? `longer than the engine can wait out (maxRetryDelayMs is at most ${MAX_TIMER_MS})`
      : `or set maxRetryDelayMs to ${Math.ceil(hint)} for the engine to wait it out`;
  return `the API asked to wait ${wait}, longer than the engine's retries can wait (${retriesLeft} left, at most maxRetryDelayMs ${policy.maxRetryDelayMs} ms each), so no ${failures === 1 ? '' : 'further '}retry was made: try again after ${wait}, ${waitItOut}`;
}

/** A day in ms. */
const DAY_MS = 86_400_000;

/** Days in a hundred years: a longer wait is told as "more than 100 years". */
const HUNDRED_YEARS_DAYS = 36_525;

/**
 * A wait as a person reads it: ms under a second, seconds up to the longest timer (about 24.8 days), days
 * beyond it, and "more than 100 years" past that: a wait too long for a number reaches here as the
 * largest one (about 1.8e+305 s), a figure that tells the reader nothing a century does not.
 */
function describeWait(ms: number): string {
  if (ms < 1_000) return `${Math.ceil(ms)} ms`;
  if (Math.ceil(ms) <= MAX_TIMER_MS) return `${Math.ceil(ms / 1_000)} s`;
  const days = Math.ceil(ms / DAY_MS);
  return days <= HUNDRED_YEARS_DAYS ? `${days.toLocaleString('en-US')} days` : 'more than 100 years';
}

function retryDelay(policy: AttemptPolicy, error: EmbedKitError, attemptNumber: number): number {
  const hint = error.retryAfterMs;
  if (hint !== undefined && Number.isFinite(hint) && hint >= 0) return Math.min(hint, policy.maxRetryDelayMs);
  const ceiling = Math.min(policy.maxRetryDelayMs, INITIAL_BACKOFF_MS * 2 ** attemptNumber);
  return Math.round((policy.clock.random ?? Math.random)() * ceiling);
}
