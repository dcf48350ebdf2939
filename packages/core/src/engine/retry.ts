import { abortReason, EmbedKitError, RateLimitError, RetryError, TimeoutError } from '../errors.js';
import type { Clock } from './clock.js';
import type { RateLimiter } from './limiter.js';
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
): Promise<T> {
  const { clock, limiter } = policy;
  const errors: unknown[] = [];
  for (let attemptNumber = 0; ; attemptNumber++) {
    await limiter.acquire({ tokens, clock, signal, onWait: policy.onWait });
    if (signal.aborted) throw abortReason(signal);
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
    try {
      return await operation(attempt.signal, policy.timeoutMs);
    } catch (caught) {
      if (signal.aborted) throw abortReason(signal);
      error = timedOut && !EmbedKitError.isInstance(caught) ? attempt.signal.reason : caught;
    } finally {
      clearTimeout(timer);
      stopWatching();
    }
    if (!(EmbedKitError.isInstance(error) && error.isRetryable)) throw error;
    errors.push(error);
    if (attemptNumber >= policy.maxRetries) {
      if (errors.length === 1) throw error;
      throw new RetryError(
        `${policy.provider} model ${policy.modelId} failed ${errors.length} times; the last error: ${error.message}`,
        errors,
      );
    }
    const delayMs = retryDelay(policy, error, attemptNumber);
    if (RateLimitError.isInstance(error)) {
      const now = clock.now();
      await limiter.pause(now + delayMs, now);
    }
    policy.onRetry?.({ attempt: attemptNumber + 1, error, delayMs });
    await clock.sleep(delayMs, signal);
  }
}

function retryDelay(policy: AttemptPolicy, error: EmbedKitError, attemptNumber: number): number {
  const hint = error.retryAfterMs;
  if (hint !== undefined && Number.isFinite(hint) && hint >= 0) return Math.min(hint, policy.maxRetryDelayMs);
  const ceiling = Math.min(policy.maxRetryDelayMs, INITIAL_BACKOFF_MS * 2 ** attemptNumber);
  return Math.round((policy.clock.random ?? Math.random)() * ceiling);
}
