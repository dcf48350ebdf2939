import { abortReason } from '../errors.js';

/** The reason siblings are aborted with after one call failed; never surfaces to the caller. */
const SIBLING_FAILED = Symbol('embedkit.sibling-failed');

export interface PoolOptions {
  /** Workers running at once. */
  concurrency: number;
  /** Most items started but not yet yielded (bounds memory for streams). Default: no bound. */
  window?: number;
  signal?: AbortSignal;
}

/**
 * A sliding pool: starts a new worker the moment one finishes (not in waves), yields results in source
 * order, and on the first failure aborts the other workers and throws that failure once they settled.
 */
export async function* runPool<T, R>(
  source: Iterator<T> | AsyncIterator<T>,
  options: PoolOptions,
  worker: (item: T, signal: AbortSignal) => Promise<R>,
): AsyncGenerator<R> {
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(abortReason(outer!));
  if (outer?.aborted) throw abortReason(outer);
  outer?.addEventListener('abort', onOuterAbort, { once: true });

  const window = options.window ?? Number.POSITIVE_INFINITY;
  const results = new Map<number, R>();
  const running = new Set<Promise<void>>();
  let started = 0;
  let yielded = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let wake: () => void = () => {};
  let woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const notify = () => {
    const current = wake;
    woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    current();
  };
  const fail = (error: unknown) => {
    if (failure === undefined) {
      failure = { error };
      controller.abort(SIBLING_FAILED);
    }
  };

  try {
    for (;;) {
      while (
        !exhausted &&
        failure === undefined &&
        running.size < options.concurrency &&
        started - yielded < window
      ) {
        let next: IteratorResult<T>;
        try {
          next = await source.next();
        } catch (error) {
          fail(error);
          break;
        }
        if (next.done) {
          exhausted = true;
          break;
        }
        const sequence = started++;
        const task: Promise<void> = worker(next.value, controller.signal).then(
          (result) => {
            results.set(sequence, result);
          },
          (error: unknown) => {
            fail(outer?.aborted ? abortReason(outer) : error);
          },
        );
        running.add(task);
        void task.finally(() => {
          running.delete(task);
          notify();
        });
      }
      if (failure !== undefined) throw failure.error;
      if (results.has(yielded)) {
        const result = results.get(yielded)!;
        results.delete(yielded);
        yielded++;
        yield result;
        continue;
      }
      if (exhausted && running.size === 0) return;
      await woken;
    }
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    if (running.size > 0) {
      if (!controller.signal.aborted) controller.abort(SIBLING_FAILED);
      await Promise.allSettled([...running]);
    }
    await (source as AsyncIterator<T>).return?.();
  }
}
