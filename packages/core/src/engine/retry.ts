import { abortReason, EmbedKitError, RateLimitError, RetryError, TimeoutError } from '../errors.js';
import type { Clock } from './clock.js';
import type { ModelState } from './rate-limiter.js';
import type { RetryEvent, WaitEvent } from './settings.js';

/** What one retried operation needs: who it calls (for messages), the shared model state, and the limits. */
export interface RetryOptions {
  /** Provider and model id, for error messages. */
  provider: string;
  modelId: string;
  /** The model's shared 429 pause and rate-limit buckets. */
  state: ModelState;
  clock: Clock;
  /** Tokens this operation takes from the token bucket at each attempt. */
  tokens: number;
  maxRetries: number;
  maxRetryDelayMs: number;
  /** Per attempt. */
  timeoutMs: number;
  onRetry: ((event: RetryEvent) => void) | undefined;
  onWait?: ((event: WaitEvent) => void) | undefined;
  /** The caller's signal (or the pool's): honoured at every await, backoff sleeps included. */
  signal: AbortSignal;
}

/** First wait of the exponential backoff; doubles per retry, with full jitter, up to `maxRetryDelayMs`. */
const INITIAL_BACKOFF_MS = 500;

/**
 * Runs `operation` until it succeeds, with the engine's retry rules: admission (429 pause, rate limits)
 * before each attempt, a per-attempt timeout, retries only for retryable embedkit errors, waits from
 * `retryAfterMs` or exponential backoff with full jitter, a 429 pausing every call of the same model, and
 * a `RetryError` only when retries were actually spent. A caller's abort re-throws the native abort reason.
 */
export async function withRetries<T>(
  options: RetryOptions,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { clock, state, signal } = options;
  const errors: unknown[] = [];
  for (let attemptNumber = 0; ; attemptNumber++) {
    await state.admit(options.tokens, clock, signal, options.onWait);
    // One controller per attempt, fed by the caller's signal and the timer (cheaper than AbortSignal.any).
    if (signal.aborted) throw abortReason(signal);
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(
        new TimeoutError(
          `${options.provider} model ${options.modelId} did not answer within ${options.timeoutMs} ms (timeoutMs).`,
          { provider: options.provider },
        ),
      );
    }, options.timeoutMs);
    let error: unknown;
    try {
      return await operation(attempt.signal);
    } catch (caught) {
      if (signal.aborted) throw abortReason(signal);
      error = timedOut && !EmbedKitError.isInstance(caught) ? attempt.signal.reason : caught;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    const retryable = EmbedKitError.isInstance(error) && error.isRetryable;
    if (!retryable) throw error;
    errors.push(error);
    if (attemptNumber >= options.maxRetries) {
      if (errors.length === 1) throw error;
      throw new RetryError(
        `${options.provider} model ${options.modelId} failed ${errors.length} times; the last error: ${(error as EmbedKitError).message}`,
        errors,
      );
    }
    const delayMs = retryDelay(options, error as EmbedKitError, attemptNumber);
    if (RateLimitError.isInstance(error)) state.pause(clock.now() + delayMs);
    options.onRetry?.({ attempt: attemptNumber + 1, error, delayMs });
    await clock.sleep(delayMs, signal);
  }
}

function retryDelay(options: RetryOptions, error: EmbedKitError, attemptNumber: number): number {
  if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0) {
    return Math.min(error.retryAfterMs, options.maxRetryDelayMs);
  }
  const ceiling = Math.min(options.maxRetryDelayMs, INITIAL_BACKOFF_MS * 2 ** attemptNumber);
  return Math.round((options.clock.random ?? Math.random)() * ceiling);
}
