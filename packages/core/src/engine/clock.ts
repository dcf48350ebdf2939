import { abortReason } from '../errors.js';
import { onAbort } from './signal.js';

/** The longest delay a timer can hold (2^31 - 1 ms, about 24.8 days); longer ones fire at once in Node. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Time as the engine sees it. Inject one in tests to make backoff and Retry-After instant and observable.
 * Every wait of the engine runs on it (backoff, Retry-After, 429 pauses, budgets, batch-job polls), but
 * not the per-attempt `timeoutMs`: that bounds how long the network takes, which runs on real time, and a
 * clock that skips ahead to its next wait would end every request in flight at once.
 */
export interface Clock {
  /**
   * Milliseconds. Waits, refills and 429 pauses are read from differences; never taken as a date. It should
   * never step back (read a monotonic source, as `systemClock` does). If it does, budgets refill nothing
   * until it is back where it was (the stores count no time twice, as a store shared by callers whose
   * clocks differ must not), and a 429 pause or a paced turn set before the step ends later by its length.
   * A step forward refills the budgets by its length at once (the API then refuses what it lacks, and its
   * 429s pause calls).
   */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's abort reason as soon as it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1) for backoff jitter. Default `Math.random`. */
  random?(): number;
}

/** Sleeps that reject with the native abort reason the moment `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let stop: (() => void) | undefined;
    const timer = setTimeout(
      () => {
        stop?.();
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    if (signal !== undefined)
      stop = onAbort(signal, () => {
        clearTimeout(timer);
        reject(abortReason(signal));
      });
  });
}

/**
 * Milliseconds that never step: the moment the process started (wall-clock time) plus the monotonic time
 * since. The wall clock itself can jump (an NTP step, a virtual machine's clock set after a pause): a
 * budget refilled by it would hand out a jump forward as free tokens, stall for as long as a jump back,
 * and end a 429 pause early or hours late.
 */
const monotonicNow: () => number =
  typeof performance === 'object' && typeof performance?.now === 'function'
    ? () => performance.timeOrigin + performance.now()
    : () => Date.now();

/** Real time that never steps (close to wall-clock time, not tied to it) and real timers. */
export const systemClock: Clock = { now: monotonicNow, sleep, random: Math.random };
