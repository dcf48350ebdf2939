/**
 * One real `abort` listener per signal, however many jobs, attempts and sleeps watch it. A caller may
 * share one `AbortSignal` across hundreds of calls; a listener each would trip Node's
 * MaxListenersExceededWarning and keep every waiter reachable from the signal.
 */

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` once when `signal` aborts. Returns the function that stops watching (call it when the
 * wait is over). A signal that already aborted is not watched: check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let listeners = watchers.get(signal);
  if (listeners === undefined) {
    const created = new Set<() => void>();
    listeners = created;
    watchers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const each of [...created]) each();
      },
      { once: true },
    );
  }
  const set = listeners;
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

/** How many waits watch `signal` now (for tests: a finished call must leave none behind). */
export function watchCount(signal: AbortSignal): number {
  return watchers.get(signal)?.size ?? 0;
}
