/**
 * Properties of the one runner, checked the same way for its three kinds of job: embeddings,
 * contextualized chunks and rerank. Each property runs against a fake API driven by fast-check: calls take
 * random (virtual) time, fail with random 429s, 5xx and "batch too large", and are aborted at random
 * points. The seed is fixed in CI (EMBEDKIT_PROPERTY_SEED overrides it) and printed on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter, type RateLimiter } from '../src/engine/limiter.js';
import { InvalidRequestError, RateLimitError, ServerError } from '../src/errors.js';
import { rerank } from '../src/rerank.js';
import type { EmbeddingCapabilities } from '../src/types.js';
import { textCapabilities, VirtualClock } from './helpers.js';

const SEED = Number(process.env.EMBEDKIT_PROPERTY_SEED ?? 20_261_203);
const RUNS = 60;

async function check<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  const result = await fc.check(fc.asyncProperty(arbitrary, predicate), { seed: SEED, numRuns: RUNS });
  if (result.failed) {
    throw new Error(
      `property failed with seed ${SEED} (rerun with EMBEDKIT_PROPERTY_SEED=${SEED}), path ${result.counterexamplePath}: ${fc.stringify(result.counterexample)}\n${String(result.errorInstance instanceof Error ? result.errorInstance.stack : result.errorInstance)}`,
    );
  }
}

/** How the fake API behaves for one generated run. */
interface World {
  /** Items per call the model declares. */
  perCall: number;
  /** The API answers "batch too large" above this many items (random bisection depth). */
  acceptsUpTo: number;
  /** For each call, in order: virtual milliseconds it takes, and a transient fault or none. */
  calls: { ms: number; fault: 'none' | '429' | '503' }[];
  concurrency: number;
  /** Tokens of item n: costs[n % length]. */
  costs: number[];
  /** The API's token budget per call. */
  tokensPerCall: number;
}

const worldArbitrary: fc.Arbitrary<World> = fc.record({
  costs: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 8 }),
  tokensPerCall: fc.integer({ min: 5, max: 40 }),
  perCall: fc.integer({ min: 1, max: 6 }),
  acceptsUpTo: fc.integer({ min: 1, max: 6 }),
  calls: fc.array(
    fc.record({
      ms: fc.integer({ min: 0, max: 50 }),
      fault: fc.constantFrom<'none' | '429' | '503'>('none', 'none', 'none', '429', '503'),
    }),
    { minLength: 1, maxLength: 40 },
  ),
  concurrency: fc.integer({ min: 1, max: 5 }),
});

/** What the fake API saw and did. */
interface Wire {
  /** Items of each call, in start order. */
  started: string[][];
  startTimes: number[];
  /** How many times each item was answered by a successful call. */
  answered: Map<string, number>;
  /** Calls started after the test aborted. */
  afterAbort: number;
}

/**
 * One provider call in the world: waits its virtual time, then fails (a transient fault, or "too large"
 * for a batch above `acceptsUpTo`) or succeeds. A transient fault is given at most twice to one batch, so
 * the engine's retries always get through.
 */
function fakeApi(world: World, clock: VirtualClock, aborted: () => boolean, onCall?: (call: number) => void) {
  const wire: Wire = { started: [], startTimes: [], answered: new Map(), afterAbort: 0 };
  const faultsPerBatch = new Map<string, number>();
  let callNumber = 0;
  const call = async (items: string[], signal: AbortSignal | undefined): Promise<void> => {
    if (aborted()) wire.afterAbort++;
    onCall?.(callNumber);
    const plan = world.calls[callNumber++ % world.calls.length]!;
    wire.started.push(items);
    wire.startTimes.push(clock.now());
    await clock.sleep(plan.ms, signal);
    signal?.throwIfAborted();
    if (items.length > world.acceptsUpTo) {
      throw new InvalidRequestError('too many items', { statusCode: 400, batchTooLarge: true });
    }
    const key = items.join('|');
    const faults = faultsPerBatch.get(key) ?? 0;
    if (plan.fault !== 'none' && faults < 2) {
      faultsPerBatch.set(key, faults + 1);
      if (plan.fault === '429') throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 100 });
      throw new ServerError('unavailable', { statusCode: 503 });
    }
    for (const item of items) wire.answered.set(item, (wire.answered.get(item) ?? 0) + 1);
  };
  return { wire, call };
}

/** The value the fake API returns for an item: its number, so order is checkable. */
const numberOf = (item: string) => Number(item.slice(1));

/** A kind of job, as the properties see it: run `count` items through a model built on `api`. */
interface Kind {
  name: string;
  run(options: {
    count: number;
    world: World;
    api: ReturnType<typeof fakeApi>;
    clock: VirtualClock;
    signal?: AbortSignal;
    rateLimit?: RateLimiter;
  }): Promise<number[]>;
}

const capabilities = (world: World): EmbeddingCapabilities =>
  textCapabilities({ maxInputsPerCall: world.perCall, maxTokensPerCall: world.tokensPerCall });

/** Tokens of an item ("e12" → costs[12 % length]); the rerank query counts nothing. */
const costOf = (world: World, text: string) =>
  text === 'q' ? 0 : world.costs[numberOf(text) % world.costs.length]!;

const common = (options: Parameters<Kind['run']>[0]) => ({
  clock: options.clock,
  tokenCounter: { exact: false, count: (input: unknown) => costOf(options.world, input as string) },
  concurrency: options.world.concurrency,
  maxRetries: 10,
  ...(options.signal === undefined ? {} : { signal: options.signal }),
  ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
});

const items = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

/** An embedding model on the fake API; each answer's request id is its first input. */
function embeddingModel(options: Parameters<Kind['run']>[0], modelId: string) {
  return {
    specificationVersion: 'v1' as const,
    provider: 'fake',
    modelId,
    capabilities: capabilities(options.world),
    async doEmbed(request: { inputs: unknown[]; signal?: AbortSignal }) {
      const texts = request.inputs as string[];
      await options.api.call(texts, request.signal);
      return {
        embeddings: texts.map((text) => Float32Array.of(numberOf(text))),
        warnings: [],
        response: { status: 200, headers: {}, requestId: texts[0]! },
      };
    },
  };
}

const KINDS: Kind[] = [
  {
    name: 'embeddings',
    async run(options) {
      const model = embeddingModel(options, 'embeddings');
      const result = await embedMany({ model, inputs: items(options.count, 'e'), ...common(options) });
      // One response per call that answered, in input order.
      const first = result.responses.map((response) => numberOf(response.requestId!));
      expect(first).toEqual([...first].sort((a, b) => a - b));
      return result.embeddings.map((vector) => vector[0]!);
    },
  },
  {
    name: 'stream',
    async run(options) {
      const model = embeddingModel(options, 'stream');
      async function* source() {
        for (const input of items(options.count, 's')) yield input;
      }
      // Values in the order the stream yields them (not placed by index): order is the stream's to keep.
      const values: number[] = [];
      for await (const item of embedStream({ model, inputs: source(), ...common(options) })) {
        expect(item.index).toBe(values.length);
        values.push(item.embedding[0]!);
      }
      return values;
    },
  },
  {
    name: 'contextualized',
    async run(options) {
      const model = {
        specificationVersion: 'v1' as const,
        provider: 'fake',
        modelId: 'contextualized',
        capabilities: capabilities(options.world),
        contextualizedCapabilities: {
          maxDocumentsPerCall: options.world.perCall,
          maxTokensPerCall: options.world.tokensPerCall,
        },
        doEmbed: () => Promise.reject(new Error('not used')),
        async doEmbedContextualized(request: { documents: string[][]; signal?: AbortSignal }) {
          await options.api.call(
            request.documents.map((document) => document[0]!),
            request.signal,
          );
          return {
            embeddings: request.documents.map((document) =>
              document.map((chunk) => Float32Array.of(numberOf(chunk))),
            ),
            warnings: [],
            response: { status: 200, headers: {} },
          };
        },
      };
      const documents = items(options.count, 'c').map((chunk) => [chunk]);
      const result = await embedContextualized({ model, documents, ...common(options) });
      return result.embeddings.map((vectors) => vectors[0]![0]!);
    },
  },
  {
    name: 'rerank',
    async run(options) {
      const model = {
        specificationVersion: 'v1' as const,
        provider: 'fake',
        modelId: 'rerank',
        capabilities: {
          maxDocumentsPerCall: options.world.perCall,
          maxTokensPerCall: options.world.tokensPerCall,
          supportsParallelCalls: true,
        },
        async doRerank(request: { documents: string[]; signal?: AbortSignal }) {
          await options.api.call(request.documents, request.signal);
          // Scores come back in reverse order on the wire; the engine sorts.
          return {
            results: request.documents
              .map((document, index) => ({ index, relevanceScore: -numberOf(document) }))
              .reverse(),
            warnings: [],
            response: { status: 200, headers: {} },
          };
        },
      };
      const result = await rerank({
        model,
        query: 'q',
        documents: items(options.count, 'r'),
        ...common(options),
      });
      // Highest score first is document 0, then 1…: the ranking restores document order.
      return result.results.map((ranked) => ranked.index);
    },
  },
];

describe.each(KINDS)('the one runner, $name', (kind) => {
  it('keeps order and answers every item exactly once under random completion order, 429s, 5xx and bisection', async () => {
    await check(fc.tuple(worldArbitrary, fc.integer({ min: 0, max: 40 })), async ([world, count]) => {
      const clock = new VirtualClock({ random: [0.5] });
      const api = fakeApi(world, clock, () => false);
      const values = await kind.run({ count, world, api, clock });
      expect(values).toEqual(Array.from({ length: count }, (_, index) => index));
      for (let index = 0; index < count; index++) {
        expect(api.wire.answered.get(`${kind.name[0]}${index}`)).toBe(1);
      }
      expect(api.wire.answered.size).toBe(count);
      for (const started of api.wire.started) {
        expect(started.length).toBeLessThanOrEqual(world.perCall);
        // Within the token budget, unless one item alone exceeds it.
        const tokens = started.reduce((sum, item) => sum + costOf(world, item), 0);
        if (started.length > 1) expect(tokens).toBeLessThanOrEqual(world.tokensPerCall);
      }
    });
  });

  it('after an abort at a random point, no request is sent and the native AbortError is thrown', async () => {
    // The abort comes at a random virtual time, or synchronously as a random call starts (while its
    // siblings sit between admission and their own request).
    const abortPoint = fc.oneof(
      fc.record({ atTime: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ onCall: fc.integer({ min: 0, max: 20 }) }),
    );
    await check(
      fc.tuple(worldArbitrary, fc.integer({ min: 1, max: 30 }), abortPoint),
      async ([world, count, point]) => {
        const clock = new VirtualClock({ random: [0.5] });
        const controller = new AbortController();
        const onCall =
          'onCall' in point ? (call: number) => call === point.onCall && controller.abort() : undefined;
        const api = fakeApi(world, clock, () => controller.signal.aborted, onCall);
        const timer = clock.sleep('atTime' in point ? point.atTime : 0).then(() => {
          if ('atTime' in point) controller.abort();
        });
        const outcome = await kind.run({ count, world, api, clock, signal: controller.signal }).then(
          () => 'done' as const,
          (error: unknown) => error,
        );
        if (outcome !== 'done') expect((outcome as Error).name).toBe('AbortError');
        controller.abort();
        await timer;
        expect(api.wire.afterAbort).toBe(0);
      },
    );
  });

  it('a shared limiter is never exceeded: in any window, calls ≤ the bucket plus its refill', async () => {
    await check(
      fc.tuple(worldArbitrary, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 5 })),
      async ([world, count, perMinute]) => {
        const clock = new VirtualClock({ random: [0.5] });
        const api = fakeApi(world, clock, () => false);
        const rateLimit = createRateLimiter({ requestsPerMinute: perMinute });
        // Two jobs on one limiter: their sum is what the budget bounds.
        await Promise.all([
          kind.run({ count, world, api, clock, rateLimit }),
          kind.run({ count: Math.ceil(count / 2), world, api, clock, rateLimit }),
        ]);
        const times = [...api.wire.startTimes].sort((a, b) => a - b);
        for (let first = 0; first < times.length; first++) {
          for (let last = first; last < times.length; last++) {
            const allowed = perMinute + (perMinute * (times[last]! - times[first]!)) / 60_000;
            expect(last - first + 1).toBeLessThanOrEqual(Math.floor(allowed + 1e-9));
          }
        }
      },
    );
  });
});
