import { abortReason } from '../errors.js';
import { onAbort } from './signal.js';

/** The reason siblings are aborted with after one call failed; never surfaces to the caller. */
const SIBLING_FAILED = Symbol('embedkit.sibling-failed');

/**
 * Where the pool's work comes from. `next` may take as long as it likes (a stream waiting for its next
 * line): the pool keeps delivering results, failures and aborts meanwhile. `undefined` means the end.
 */
export interface PoolSource<T> {
  next(): T | undefined | Promise<T | undefined>;
  /**
   * Releases the source. Called once when the pool stops for any reason, even while `next` is pending.
   * The pool waits for it when no `next` is pending, so it must not wait for a read of its own that may
   * never end.
   */
  close(): void | Promise<void>;
}

export interface PoolOptions {
  /** Workers running at once. */
  concurrency: number;
  /**
   * Most items started and not yet done with: running, finished and waiting for their turn, or yielded
   * and still held by the consumer (bounds memory for streams). Default: no bound.
   */
  window?: number;
  signal?: AbortSignal;
  /**
   * Whether a worker's failure lets the workers started before it finish (streams: their results come
   * before the failure, and are paid for), aborting only those after it. Default false: every other
   * worker is aborted (a job whose results are all or nothing).
   */
  finishEarlier?: boolean;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * A sliding pool: starts a new worker the moment one finishes (not in waves) and yields results in
 * source order, each as soon as it and everything before it are done, whatever the source is doing.
 *
 * - A worker's failure aborts the other workers and ends the pool with that failure; with `finishEarlier`,
 *   the workers started before it finish and their results are yielded first, and the pool ends with the
 *   earliest failure in source order.
 * - A failure of the source (a bad input) stops reading; the workers already running finish (they are
 *   paid for), their results are yielded in order, then the pool ends with the earliest failure.
 * - The caller's abort ends the pool at once with the native abort reason.
 * - However the pool ends (a `break` of the consumer included), running workers are aborted and awaited
 *   and the source is closed. A source that fails to close does not replace the error the pool ends with.
 */
export async function* runPool<T, R>(
  source: PoolSource<T>,
  options: PoolOptions,
  worker: (item: T, signal: AbortSignal) => Promise<R>,
): AsyncGenerator<R> {
  // A signal aborted already ends the pool at the loop's first step, which closes the source as any end does.
  const outer = options.signal;
  const controller = new AbortController();
  const window = options.window ?? Number.POSITIVE_INFINITY;
  const settled = new Map<number, Settled<R>>();
  const running = new Set<Promise<void>>();
  /**
   * With `finishEarlier`, each running worker's own abort, by its place in the source: a failure stops
   * only those after it. Otherwise every worker runs on the pool's one signal.
   */
  const aborts = new Map<number, AbortController>();
  const finishEarlier = options.finishEarlier === true;
  let started = 0;
  let yielded = 0;
  let exhausted = false;
  /**
   * The first failed worker: it ends the pool at once (with `finishEarlier`, once everything before it
   * is yielded). `sequence` is the earliest place in the source that failed.
   */
  let workerFailure: { error: unknown; sequence: number } | undefined;
  /** The source failed: everything started still finishes and is yielded, then this is thrown. */
  let sourceFailure: { error: unknown } | undefined;
  let pending: Promise<void> | undefined;
  /** Set once the pool ended: a read that completes afterwards starts nothing. */
  let finished = false;
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
  // The caller's abort reaches the workers at once (synchronously), so none starts a request after it.
  const stopWatching =
    outer === undefined
      ? undefined
      : onAbort(outer, () => {
          if (!controller.signal.aborted) controller.abort(abortReason(outer));
          abortWorkers(abortReason(outer), -1);
          notify();
        });

  /** Aborts the running workers started after `after` in the source (-1: all). */
  function abortWorkers(reason: unknown, after: number): void {
    for (const [sequence, own] of aborts) if (sequence > after && !own.signal.aborted) own.abort(reason);
  }

  const start = (item: T) => {
    const sequence = started++;
    const own = finishEarlier ? new AbortController() : controller;
    if (finishEarlier) aborts.set(sequence, own);
    const task: Promise<void> = worker(item, own.signal).then(
      (value) => {
        settled.set(sequence, { ok: true, value });
      },
      (error: unknown) => {
        settled.set(sequence, { ok: false, error });
        if (own.signal.aborted && own.signal.reason === SIBLING_FAILED) return;
        // The first failure wins (with `finishEarlier`, the earliest in the source): the siblings it
        // aborts fail afterwards, with the abort.
        if (workerFailure === undefined || (finishEarlier && sequence < workerFailure.sequence)) {
          workerFailure = { error, sequence };
          if (finishEarlier) abortWorkers(SIBLING_FAILED, sequence);
          else if (!controller.signal.aborted) controller.abort(SIBLING_FAILED);
        }
      },
    );
    running.add(task);
    void task.finally(() => {
      aborts.delete(sequence);
      running.delete(task);
      fill();
      notify();
    });
  };

  const pull = () => {
    let next: T | undefined | Promise<T | undefined>;
    try {
      next = source.next();
    } catch (error) {
      sourceFailure = { error };
      return;
    }
    if (!(next instanceof Promise)) {
      if (next === undefined) exhausted = true;
      else start(next);
      return;
    }
    pending = next.then(
      (item) => {
        pending = undefined;
        if (item === undefined) exhausted = true;
        // Not after the caller's abort: a worker started now would get a signal of its own, not aborted.
        else if (!finished && workerFailure === undefined && !controller.signal.aborted) start(item);
        fill();
        notify();
      },
      (error: unknown) => {
        pending = undefined;
        sourceFailure = { error };
        notify();
      },
    );
  };

  /**
   * Starts work while there is room, and says whether it read the source. It runs in the loop, and also
   * the moment a worker finishes or a read completes, while the consumer may be busy with a result: the
   * loop is then suspended at its `yield`, and a pool that started work only there stood idle until the
   * consumer asked for a result not yet done, then ran its calls in waves.
   */
  function fill(): boolean {
    let read = false;
    while (
      !finished &&
      workerFailure === undefined &&
      !controller.signal.aborted &&
      !exhausted &&
      sourceFailure === undefined &&
      pending === undefined &&
      running.size < options.concurrency &&
      started - yielded < window
    ) {
      pull();
      read = true;
    }
    return read;
  }

  /** Whether the pool ends with an error (a failed call, a bad input, an abort). */
  let failing = false;
  try {
    for (;;) {
      if (outer?.aborted) throw abortReason(outer);
      // Results come in order, those finished before a failure too: they were answered (and paid for).
      const result = settled.get(yielded);
      if (result?.ok) {
        settled.delete(yielded);
        yield result.value;
        // Counted only once the consumer is done with it: the result it holds is still in memory, and
        // the window bounds what is.
        yielded++;
        continue;
      }
      if (workerFailure !== undefined && (!finishEarlier || yielded >= workerFailure.sequence)) {
        // A worker failed: the workers still running after it were aborted; the next result in order is
        // not there (with `finishEarlier`, it is the failure's own place).
        throw workerFailure.error;
      }
      // A read runs the source's code, which may have aborted the caller's signal or failed: look again.
      if (fill()) continue;
      const reading = !exhausted && sourceFailure === undefined;
      if (!reading && running.size === 0 && yielded === started) {
        if (sourceFailure !== undefined) throw sourceFailure.error;
        return;
      }
      await woken;
    }
  } catch (error) {
    failing = true;
    throw error;
  } finally {
    finished = true;
    stopWatching?.();
    if (running.size > 0) {
      const reason = outer?.aborted ? abortReason(outer) : SIBLING_FAILED;
      if (!controller.signal.aborted) controller.abort(reason);
      abortWorkers(reason, -1);
      await Promise.allSettled([...running]);
    }
    const closing = (async () => source.close())();
    if (pending !== undefined) {
      // A read still pending (an idle stdin) must not hold the caller: close without waiting for it.
      void closing.catch(() => {});
    } else if (failing) {
      // The error the pool ends with is the one the caller needs (a refused call names its input): a
      // source that also fails to close must not replace it, as a `for...of` keeps the error of its loop
      // over one of its iterator's `return()`.
      await closing.catch(() => {});
    } else {
      await closing;
    }
  }
}
