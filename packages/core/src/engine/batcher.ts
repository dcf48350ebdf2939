import type { PoolSource } from './pool.js';

/** One provider call's worth of items (inputs, documents), with where they start in the whole job. */
export interface Batch<I> {
  offset: number;
  items: I[];
  /** Tokens of each item, as the counter reported them: what the token bucket is charged. */
  tokens: number[];
}

/** What one item costs against the per-call limits. */
export interface ItemCost {
  tokens: number;
  /** Units of a second per-call limit, e.g. the chunks of a document. Default 1. */
  units?: number;
}

/** The per-call limits a job packs items under. */
export interface PackLimits {
  maxItems: number;
  maxTokens?: number | undefined;
  maxUnits?: number | undefined;
}

/**
 * Checks one item and says what it costs; throws `InvalidArgumentError` (naming the item's index) for a
 * bad one, before anything is sent.
 */
export type Measure<I> = (item: I, index: number) => ItemCost;

/**
 * Packs items greedily into calls that respect the count, token and unit limits. An item whose cost
 * alone exceeds a budget travels in a call of its own (the provider then decides).
 */
export class Packer<I> {
  private open: Batch<I> = { offset: 0, items: [], tokens: [] };
  private openTokens = 0;
  private openUnits = 0;
  private nextIndex = 0;

  constructor(
    private readonly measure: Measure<I>,
    private readonly limits: PackLimits,
  ) {}

  /** Adds the next item; returns the full batch it did not fit in, if any. A bad item is not added. */
  push(item: I): Batch<I> | undefined {
    const index = this.nextIndex;
    const cost = this.measure(item, index);
    this.nextIndex++;
    const units = cost.units ?? 1;
    const { maxItems, maxTokens, maxUnits } = this.limits;
    let full: Batch<I> | undefined;
    if (
      this.open.items.length > 0 &&
      (this.open.items.length >= maxItems ||
        (maxTokens !== undefined && this.openTokens + cost.tokens > maxTokens) ||
        (maxUnits !== undefined && this.openUnits + units > maxUnits))
    ) {
      full = this.open;
      this.open = { offset: index, items: [], tokens: [] };
      this.openTokens = 0;
      this.openUnits = 0;
    }
    this.open.items.push(item);
    this.open.tokens.push(cost.tokens);
    this.openTokens += cost.tokens;
    this.openUnits += units;
    return full;
  }

  /** The open, partly filled batch, if any. */
  flush(): Batch<I> | undefined {
    if (this.open.items.length === 0) return undefined;
    const last = this.open;
    this.open = { offset: this.nextIndex, items: [], tokens: [] };
    this.openTokens = 0;
    this.openUnits = 0;
    return last;
  }
}

/** Every batch of an array, computed (and every item checked) before anything is sent. */
export function planBatches<I>(items: readonly I[], packer: Packer<I>): Batch<I>[] {
  const batches: Batch<I>[] = [];
  for (const item of items) {
    const full = packer.push(item);
    if (full !== undefined) batches.push(full);
  }
  const last = packer.flush();
  if (last !== undefined) batches.push(last);
  return batches;
}

/** A pool source over planned batches. */
export function arraySource<T>(items: readonly T[]): PoolSource<T> {
  let position = 0;
  return {
    next: () => items[position++],
    close() {},
  };
}

/**
 * A pool source that packs a (possibly endless, possibly slow) iterable lazily: memory holds one open
 * batch. A bad item stops the source where it stands: the batch of good items before it is still
 * delivered, and the error comes with the read after it.
 */
export function streamSource<I>(
  inputs: Iterable<I> | AsyncIterable<I>,
  packer: Packer<I>,
): PoolSource<Batch<I>> {
  const iterator: Iterator<I> | AsyncIterator<I> =
    Symbol.asyncIterator in inputs
      ? (inputs as AsyncIterable<I>)[Symbol.asyncIterator]()
      : (inputs as Iterable<I>)[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  /** No more reads: the end, or a failure. */
  let done = false;
  /** The iterator finished by itself (its end, or it threw), so it needs no `return()`. */
  let iteratorEnded = false;
  let closed = false;
  return {
    async next() {
      if (failure !== undefined) throw failure.error;
      for (;;) {
        if (done || closed) return undefined;
        let step: IteratorResult<I>;
        try {
          step = await iterator.next();
        } catch (error) {
          // The source itself failed: deliver what was packed, then the failure.
          iteratorEnded = true;
          return stopWith(error);
        }
        if (closed) return undefined;
        if (step.done) {
          done = true;
          iteratorEnded = true;
          return packer.flush();
        }
        let full: Batch<I> | undefined;
        try {
          full = packer.push(step.value);
        } catch (error) {
          return stopWith(error);
        }
        if (full !== undefined) return full;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!iteratorEnded) await iterator.return?.();
    },
  };

  function stopWith(error: unknown): Batch<I> | undefined {
    done = true;
    const open = packer.flush();
    if (open === undefined) throw error;
    failure = { error };
    return open;
  }
}
