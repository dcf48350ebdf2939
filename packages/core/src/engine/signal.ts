/**
 * One real `abort` listener per signal, however many jobs, attempts and sleeps watch it. A caller may
 * share one `AbortSignal` across hundreds of calls; a listener each would trip Node's
 * MaxListenersExceededWarning and keep every waiter reachable from the signal.
 */

/** A watched signal's waiters, and the one listener that calls them. */
interface Watch {
  readonly waiters: Set<() => void>;
  readonly listener: () => void;
}

const watchers = new WeakMap<AbortSignal, Watch>();

/**
 * Calls `listener` once when `signal` aborts. Returns the function that stops watching (call it when the
 * wait is over). A signal that already aborted is not watched: check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  const watch = watchers.get(signal) ?? startWatching(signal);
  watch.waiters.add(listener);
  return () => {
    watch.waiters.delete(listener);
    // The last wait is over: the signal's listener goes too. Node holds a signal of `AbortSignal.timeout`
    // or `AbortSignal.any` for as long as it has an abort listener, so one left behind kept every such
    // signal a caller made per call (and what the listener reached) until it aborted, perhaps never.
    if (watch.waiters.size === 0 && watchers.get(signal) === watch) {
      watchers.delete(signal);
      signal.removeEventListener('abort', watch.listener);
    }
  };
}

/**
 * Adds the signal's one listener. Made apart from `onAbort`, so that the listener holds the waiters and
 * nothing of the wait that came first.
 */
function startWatching(signal: AbortSignal): Watch {
  const waiters = new Set<() => void>();
  const listener = () => {
    watchers.delete(signal);
    for (const each of [...waiters]) each();
  };
  const watch = { waiters, listener };
  watchers.set(signal, watch);
  signal.addEventListener('abort', listener, { once: true });
  return watch;
}

/**
 * A promise that rejects with the signal's reason when it aborts (at once when it has), and how to stop
 * watching: raced against a wait that may never end by itself (a body read, a store), so that an abort
 * or a timeout always ends the wait. Stop it when the wait is over.
 */
export function whenAborted(signal: AbortSignal): { promise: Promise<never>; stop(): void } {
  let stop = () => {};
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else stop = onAbort(signal, () => reject(signal.reason));
  });
  // Raced only while waiting: a rejection after the wait is over has nobody listening for it.
  promise.catch(() => {});
  // The executor ran already: `stop` is the watch's own.
  return { promise, stop };
}

/**
 * `work`, or a rejection with the signal's reason as soon as it aborts (at once when it has): a wait that
 * may never end by itself (a store that never answers) ends at a timeout or the caller's abort.
 */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  const aborted = whenAborted(signal);
  try {
    return await Promise.race([work, aborted.promise]);
  } finally {
    aborted.stop();
  }
}

/** How many waits watch `signal` now (for tests: a finished call must leave none behind). */
export function watchCount(signal: AbortSignal): number {
  return watchers.get(signal)?.waiters.size ?? 0;
}
