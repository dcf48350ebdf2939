import {
  abortReason,
  EmbedKitError,
  RateLimitError,
  RetryError,
  TimeoutError,
  withoutRetryClaim,
} from '../errors.js';
import type { Clock } from './clock.js';
import type { AttemptAnswered, RateLimiter } from './limiter.js';
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

/** First wait of the exponential backoff; doubles per retry, with full jitter, up to `maxRetryDelayMs`. */
const INITIAL_BACKOFF_MS = 500;

/**
 * Runs `operation` until it succeeds, with the engine's retry rules: admission by the limiter (429 pause,
 * budgets) before each attempt, a per-attempt timeout, retries only for retryable embedkit errors, waits
 * from `retryAfterMs` (capped at `maxRetryDelayMs`) or exponential backoff with full jitter, a 429 pausing
 * every call on the limiter, and a `RetryError` only when retries were actually spent. An abort of
 * `signal` re-throws its reason at every await.
 */
export async function withRetries<T>(
  policy: AttemptPolicy,
  tokens: number,
  signal: AbortSignal,
  operation: (signal: AbortSignal, timeoutMs: number) => Promise<T>,
  answered: (result: T) => AttemptAnswered,
): Promise<T> {
  const { clock, limiter } = policy;
  const errors: unknown[] = [];
  for (let attemptNumber = 0; ; attemptNumber++) {
    const permit = await limiter.acquire({
      tokens,
      exactTokens: policy.exactTokens,
      clock,
      signal,
      onWait: policy.onWait,
    });
    if (signal.aborted) {
      await permit.failed({ rateLimited: false, waitMs: 0 });
      throw abortReason(signal);
    }
    // One controller per attempt, fed by the job's signal and the timer (cheaper than AbortSignal.any).
    const attempt = new AbortController();
    const stopWatching = onAbort(signal, () => attempt.abort(signal.reason));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(
        new TimeoutError(
          `${policy.provider} model ${policy.modelId} did not answer within ${policy.timeoutMs} ms (timeoutMs).`,
          { provider: policy.provider },
        ),
      );
    }, policy.timeoutMs);
    let error: unknown;
    let result: T;
    try {
      result = await operation(attempt.signal, policy.timeoutMs);
    } catch (caught) {
      error = timedOut && !EmbedKitError.isInstance(caught) ? attempt.signal.reason : caught;
    } finally {
      clearTimeout(timer);
      stopWatching();
    }
    if (error === undefined) {
      await permit.answered(answered(result!));
      return result!;
    }
    const retryable = EmbedKitError.isInstance(error) && error.isRetryable && !signal.aborted;
    const delayMs = retryable ? retryDelay(policy, error as EmbedKitError, attemptNumber) : 0;
    // A 429 pauses every call on the limiter, whether or not this one retries.
    await permit.failed({ rateLimited: retryable && RateLimitError.isInstance(error), waitMs: delayMs });
    if (signal.aborted) throw abortReason(signal);
    if (!retryable) throw error;
    errors.push(error);
    if (attemptNumber >= policy.maxRetries) {
      // No retry was made (maxRetries 0): the hint must not say the engine retries it.
      if (errors.length === 1) throw withoutRetryClaim(error);
      throw new RetryError(
        `${policy.provider} model ${policy.modelId} failed ${errors.length} times; the last error: ${(error as EmbedKitError).message}`,
        errors,
      );
    }
    policy.onRetry?.({ attempt: attemptNumber + 1, error, delayMs });
    // After a 429 the limiter's pause is this call's wait too: it queues there with every other call.
    if (!RateLimitError.isInstance(error)) await clock.sleep(delayMs, signal);
  }
}

function retryDelay(policy: AttemptPolicy, error: EmbedKitError, attemptNumber: number): number {
  const hint = error.retryAfterMs;
  if (hint !== undefined && Number.isFinite(hint) && hint >= 0) return Math.min(hint, policy.maxRetryDelayMs);
  const ceiling = Math.min(policy.maxRetryDelayMs, INITIAL_BACKOFF_MS * 2 ** attemptNumber);
  return Math.round((policy.clock.random ?? Math.random)() * ceiling);
}
