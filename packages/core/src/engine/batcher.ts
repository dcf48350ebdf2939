import { describeValue } from '../argument-checks.js';
import { InvalidArgumentError } from '../errors.js';
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
  /**
   * Items of different groups never share a call (a model's rule, such as one image form per request);
   * an item of no group goes with any.
   */
  group?: string | undefined;
}

/** The per-call limits a job packs items under. */
export interface PackLimits {
  maxItems: number;
  maxTokens?: number | undefined;
  maxUnits?: number | undefined;
  /**
   * The capabilities the model declares, whose every `max…` field is a limit, on a call or on one part of
   * it (one input's tokens, the query's); the model that declares them; and where it holds them
   * (`capabilities` when not said): checked before the limits on a call, so that a bad one is refused by
   * the field that holds it. The engines compare counts with them, and no count is more than NaN, so a
   * limit of NaN would turn its check off unseen.
   */
  declared?: { model: string; at?: string; limits: object };
  /**
   * The token budget a minute of the job's rate limiter (its `tokensPerMinute`), which caps a call's
   * tokens too: a call larger than a whole minute's budget is let go by the limiter, and an API whose
   * budget it is refuses it with a 429 every time. An item larger than the budget alone is an
   * `InvalidArgumentError` when `exactTokens` says its count is exact; an estimate (which errs high) lets
   * it travel in a call of its own, as an item over the model's limit does. Default: no budget.
   */
  tokensPerMinute?: number | undefined;
  /** Whether the items' token counts are exact (the job's token counter is): see `tokensPerMinute`. */
  exactTokens?: boolean;
  /** What an item is called in a message, `'input'` or `'document'`. Default `'input'`. */
  item?: string;
  /** How a message says what an item's tokens are, when its count holds more than the item (a query). */
  itemTokens?: (index: number, tokens: number) => string;
}

/**
 * Checks one item and says what it costs; throws `InvalidArgumentError` (naming the item's index) for a
 * bad one, before anything is sent.
 */
export type Measure<I> = (item: I, index: number) => ItemCost;

/**
 * Packs items greedily into calls that respect the count, token and unit limits. A batch is closed as soon
 * as it is full, or when the next item does not fit. An item whose cost alone exceeds a limit of the model
 * travels in a call of its own (the provider then decides); one whose exact count is larger than the token
 * budget a minute is refused.
 */
export class Packer<I> {
  private open: Batch<I> = { offset: 0, items: [], tokens: [] };
  private openTokens = 0;
  private openUnits = 0;
  /** The group of the open batch: that of its first item that has one. */
  private openGroup: string | undefined;
  private nextIndex = 0;
  private readonly ready: Batch<I>[] = [];
  /** The model's limit on tokens per call or the token budget a minute, whichever is lower. */
  private readonly maxTokens: number;

  constructor(
    private readonly measure: Measure<I>,
    private readonly limits: PackLimits,
  ) {
    // A limit of NaN, 0 or a string would pack everything into one call, or loop: the model's declared
    // capabilities (a provider's, or ones given to a compatible provider) are checked before packing.
    // Only the limit on items must be given.
    const checked: [what: string, limit: number | undefined, required: boolean, argument?: string][] = [];
    const { declared } = limits;
    const at = declared?.at ?? 'capabilities';
    for (const [capability, limit] of Object.entries(declared?.limits ?? {}))
      if (capability.startsWith('max'))
        checked.push([
          `The ${declared!.model}'s ${at}.${capability}`,
          limit,
          false,
          `model.${at}.${capability}`,
        ]);
    checked.push(
      ["The model's limit on items per call", limits.maxItems, true],
      ["The model's limit on tokens per call", limits.maxTokens, false],
      ["The model's limit on units per call", limits.maxUnits, false],
    );
    for (const [what, limit, required, argument = 'capabilities'] of checked) {
      if (limit === undefined && !required) continue;
      if (limit === Number.POSITIVE_INFINITY || (Number.isSafeInteger(limit) && (limit as number) >= 1))
        continue;
      throw new InvalidArgumentError(
        `${what} is ${describeValue(limit)}; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
        { argument },
      );
    }
    this.maxTokens = Math.min(
      limits.maxTokens ?? Number.POSITIVE_INFINITY,
      limits.tokensPerMinute ?? Number.POSITIVE_INFINITY,
    );
  }

  /** Adds the next item; throws for a bad one, which is then not added. */
  push(item: I): void {
    const index = this.nextIndex;
    const cost = this.measure(item, index);
    const units = cost.units ?? 1;
    const {
      maxItems,
      maxUnits,
      tokensPerMinute,
      exactTokens,
      item: noun = 'input',
      itemTokens,
    } = this.limits;
    if (exactTokens === true && tokensPerMinute !== undefined && cost.tokens > tokensPerMinute) {
      const what =
        itemTokens?.(index, cost.tokens) ??
        `${noun[0]!.toUpperCase()}${noun.slice(1)} ${index} has ${cost.tokens} tokens`;
      throw new InvalidArgumentError(
        `${what}, more than the rate limit's budget of ${tokensPerMinute} tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.`,
        { argument: `${noun}s[${index}]` },
      );
    }
    if (
      this.open.items.length > 0 &&
      (this.openTokens + cost.tokens > this.maxTokens ||
        (maxUnits !== undefined && this.openUnits + units > maxUnits) ||
        (cost.group !== undefined && this.openGroup !== undefined && cost.group !== this.openGroup))
    ) {
      this.close();
    }
    this.openGroup ??= cost.group;
    this.open.items.push(item);
    this.open.tokens.push(cost.tokens);
    this.openTokens += cost.tokens;
    this.openUnits += units;
    this.nextIndex++;
    if (this.open.items.length >= maxItems) this.close();
  }

  /** The next closed batch, if any. */
  take(): Batch<I> | undefined {
    return this.ready.shift();
  }

  /** Whether an open, partly filled batch waits for more items. */
  get pending(): boolean {
    return this.open.items.length > 0;
  }

  /** Closes the open, partly filled batch (if any), so that `take` returns it. */
  flush(): void {
    if (this.open.items.length > 0) this.close();
  }

  private close(): void {
    this.ready.push(this.open);
    this.open = { offset: this.nextIndex, items: [], tokens: [] };
    this.openTokens = 0;
    this.openUnits = 0;
    this.openGroup = undefined;
  }
}

/** Every batch of an array, computed (and every item checked) before anything is sent. */
export function planBatches<I>(items: readonly I[], packer: Packer<I>): Batch<I>[] {
  for (const item of items) packer.push(item);
  packer.flush();
  const batches: Batch<I>[] = [];
  for (let batch = packer.take(); batch !== undefined; batch = packer.take()) batches.push(batch);
  return batches;
}

/**
 * The sizes of the calls items of these costs go in, packed under `limits` as a job packs them: for a test
 * that predicts a job's calls from the model's limits (the conformance suite plans its scenarios with it).
 * Throws as the packer does, for a limit or an item it refuses.
 */
export function planCallSizes(costs: readonly ItemCost[], limits: PackLimits): number[] {
  return planBatches(costs, new Packer((cost: ItemCost) => cost, limits)).map((batch) => batch.items.length);
}

/** A pool source over planned batches. */
export function arraySource<T>(items: readonly T[]): PoolSource<T> {
  let position = 0;
  return {
    next: () => items[position++],
    close() {},
  };
}

const IDLE = Symbol('idle');

/**
 * Microtask turns a read of an async source may take and still count as ready, not slow: an async
 * generator's ready value settles in two, each async generator it reads through adds two, and a
 * `Readable`'s buffered chunk takes two.
 */
const READY_READ_TURNS = 16;

/** IDLE after `turns` microtask turns, or as soon as `read` has settled (the race is then decided). */
async function turnsUnlessSettled(read: Promise<unknown>, turns: number): Promise<typeof IDLE> {
  let settled = false;
  const settle = () => {
    settled = true;
  };
  read.then(settle, settle);
  for (let turn = 0; turn < turns && !settled; turn++) await undefined;
  return IDLE;
}

/**
 * A pool source that packs a (possibly endless, possibly slow) iterable lazily: memory holds one open
 * batch. A batch goes out as soon as it is full, and a partly filled one once the source has been idle
 * for `flushAfterMs` (a slow source, a person typing into stdin: their inputs are not held back until a
 * whole batch arrives). A bad item stops the source where it stands: the batch of good items before it is
 * still delivered, and the error comes with the read after it.
 */
export function streamSource<I>(
  inputs: Iterable<I> | AsyncIterable<I>,
  packer: Packer<I>,
  flushAfterMs: number,
): PoolSource<Batch<I>> {
  /** Whether reads can be slow: a sync iterator's read is done when it returns, and never arms a timer. */
  const asynchronous = Symbol.asyncIterator in inputs;
  const iterator: Iterator<I> | AsyncIterator<I> = asynchronous
    ? (inputs as AsyncIterable<I>)[Symbol.asyncIterator]()
    : (inputs as Iterable<I>)[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  /** No more reads: the end, or a failure. */
  let done = false;
  /** The iterator finished by itself (its end, or it threw), so it needs no `return()`. */
  let iteratorEnded = false;
  let closed = false;
  /** A read that outlived an idle flush; the next `next()` picks it up. */
  let reading: Promise<IteratorResult<I>> | undefined;
  /** `reading` has settled: close() then returns the source as when no read is outstanding. */
  let readSettled = false;
  /** Ends the idle wait in progress at once and clears its timer; set only while that wait lasts. */
  let endIdleWait: (() => void) | undefined;

  /** The next step of the iterator, or IDLE when the source stays quiet for `flushAfterMs` with a batch open. */
  const read = async (): Promise<IteratorResult<I> | typeof IDLE> => {
    if (reading === undefined) {
      const started = Promise.resolve(iterator.next());
      const settle = () => {
        readSettled = reading === started;
      };
      started.then(settle, settle);
      reading = started;
      readSettled = false;
    }
    const current = reading;
    let step: IteratorResult<I> | typeof IDLE;
    if (!packer.pending || !asynchronous) step = await current;
    else {
      // Only an actually slow read arms a timer. A read whose value is ready still settles a few microtask
      // turns later (an async generator's takes two, and two more for each generator it reads through),
      // so it gets that many turns first; racing it against a promise already resolved armed and cleared
      // a timer for almost every read of an async source.
      step = await Promise.race([current, turnsUnlessSettled(current, READY_READ_TURNS)]);
      // A source closed meanwhile arms no timer: nothing would flush, and the timer would hold the process.
      if (step === IDLE && !closed) {
        const idle = new Promise<typeof IDLE>((resolve) => {
          const timer = setTimeout(() => resolve(IDLE), flushAfterMs);
          endIdleWait = () => {
            clearTimeout(timer);
            resolve(IDLE);
          };
        });
        try {
          step = await Promise.race([current, idle]);
        } finally {
          endIdleWait?.();
          endIdleWait = undefined;
        }
      }
    }
    if (step !== IDLE) reading = undefined;
    return step;
  };

  return {
    async next() {
      for (;;) {
        const ready = packer.take();
        if (ready !== undefined) return ready;
        if (failure !== undefined) throw failure.error;
        if (done || closed) return undefined;
        let step: IteratorResult<I> | typeof IDLE;
        try {
          step = await read();
        } catch (error) {
          // The source itself failed: deliver what was packed, then the failure.
          iteratorEnded = true;
          stopWith(error);
          continue;
        }
        if (closed) return undefined;
        if (step === IDLE) {
          packer.flush();
          continue;
        }
        if (step.done) {
          done = true;
          iteratorEnded = true;
          packer.flush();
          continue;
        }
        try {
          packer.push(step.value);
        } catch (error) {
          stopWith(error);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // The timer of an idle wait would keep the process alive for up to flushAfterMs after the end.
      endIdleWait?.();
      if (iteratorEnded) return;
      if (reading === undefined || readSettled) {
        await iterator.return?.();
        return;
      }
      // A read is still pending (an idle stdin). An async generator runs return() only after that read
      // settles, which may be never, so waiting for it would hold the caller for good. The source is still
      // asked to finish, and it does once the read settles; the input that read brings is not embedded,
      // since the job has ended, and a failure of the read or of return() has no one left to reach.
      void reading.catch(() => {});
      void (async () => iterator.return?.())().catch(() => {});
    },
  };

  function stopWith(error: unknown): void {
    done = true;
    packer.flush();
    failure = { error };
  }
}
