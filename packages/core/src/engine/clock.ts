import { abortReason } from '../errors.js';

/** Time as the engine sees it. Inject one in tests to make backoff and Retry-After instant and observable. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's abort reason as soon as it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1) for backoff jitter. Default `Math.random`. */
  random?(): number;
}

/** Sleeps that reject with the native abort reason the moment `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = { now: () => Date.now(), sleep, random: Math.random };
