/**
 * The limits every engine reads, and what a limiter does at the edges of a call: a model's declared limit
 * on one input, query or document that is no whole number is refused like its limits on a call, a
 * limiter's store is checked when the limiter is made, a paced turn a call never used goes to the next
 * call, an answered call is kept when its limiter cannot settle it, and `waitForBatchJob` takes no wait
 * longer than a timer holds.
 */
import { describe, expect, it } from 'vitest';
import { waitForBatchJob } from '../src/batch-jobs.js';
import { embedContextualized } from '../src/contextualized.js';
import { MAX_TIMER_MS } from '../src/engine/clock.js';
import { embedMany } from '../src/engine/embed.js';
import {
  createMemoryLimiterStore,
  createRateLimiter,
  type LimiterStore,
  type RateLimiter,
} from '../src/engine/limiter.js';
import type { WaitEvent } from '../src/engine/settings.js';
import { rerank } from '../src/rerank.js';
import type { Warning } from '../src/types.js';
import {
  contextualizedModel,
  invalidArgumentOf,
  rejection,
  ScriptedModel,
  ScriptedReranker,
  scriptedBatchGet,
  thrownInvalidArgument,
  VirtualClock,
} from './helpers.js';

/** A counter that is the model's own tokenizer and counts 5 tokens for anything. */
const exactFive = { exact: true, count: () => 5 };

describe("a model's declared limit on one input, query or document", () => {
  const notLimits = [[Number.NaN], [0], [-1], [1.5]];

  it.each(notLimits)('maxTokensPerInput %s is refused before any call', async (limit) => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: limit as number } });
    const error = await invalidArgumentOf(embedMany({ model, inputs: ['1', '2'], tokenCounter: exactFive }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('model.capabilities.maxTokensPerInput');
    expect(error.message).toBe(
      `The scripted model scripted-1's capabilities.maxTokensPerInput is ${String(limit)}; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
    );
    expect(model.calls).toEqual([]);
  });

  it('maxTokensPerInput NaN is refused with the default counter and with truncate: true too', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: Number.NaN } });
    for (const run of [
      () => embedMany({ model, inputs: ['1'] }),
      () => embedMany({ model, inputs: ['1'], tokenCounter: exactFive, truncate: true }),
    ]) {
      const error = await invalidArgumentOf(run);
      expect(error.message).toMatch(
        /^The scripted model scripted-1's capabilities.maxTokensPerInput is NaN;/,
      );
    }
    expect(model.calls).toEqual([]);
  });

  it.each([
    ['maxTokensPerQuery', Number.NaN],
    ['maxTokensPerQuery', -1],
    ['maxTokensPerDocument', Number.NaN],
    ['maxTokensPerDocument', 0],
  ])('rerank: %s %s is refused before any call', async (capability, limit) => {
    const model = new ScriptedReranker({ [capability]: limit });
    const error = await invalidArgumentOf(
      rerank({ model, query: 'q', documents: ['1', '2'], tokenCounter: exactFive }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe(`model.capabilities.${capability}`);
    expect(error.message).toBe(
      `The rerank-co model rr-1's capabilities.${capability} is ${String(limit)}; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
    );
    expect(model.calls).toEqual([]);
  });

  it.each(notLimits)(
    'embedContextualized: maxTokensPerDocument %s is refused before any call',
    async (limit) => {
      const { model, sent } = contextualizedModel({ maxTokensPerDocument: limit as number });
      const error = await invalidArgumentOf(
        embedContextualized({ model, documents: [['1', '2'], ['3']], tokenCounter: exactFive }),
      );
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe('model.contextualizedCapabilities.maxTokensPerDocument');
      expect(error.message).toBe(
        `The ctx model ctx-1's contextualizedCapabilities.maxTokensPerDocument is ${String(limit)}; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
      );
      expect(sent).toEqual([]);
    },
  );

  it('a limit on inputs or documents per call given as text is refused as given, in all three engines', async () => {
    const embedding = new ScriptedModel({ capabilities: { maxInputsPerCall: '100' as unknown as number } });
    const reranker = new ScriptedReranker({ maxDocumentsPerCall: '10' as unknown as number });
    const { model: contextualized, sent } = contextualizedModel({
      maxDocumentsPerCall: '10' as unknown as number,
    });
    const cases = [
      [
        embedMany({ model: embedding, inputs: ['1'] }),
        "The scripted model scripted-1's capabilities.maxInputsPerCall",
        'model.capabilities.maxInputsPerCall',
      ],
      [
        rerank({ model: reranker, query: 'q', documents: ['1'] }),
        "The rerank-co model rr-1's capabilities.maxDocumentsPerCall",
        'model.capabilities.maxDocumentsPerCall',
      ],
      [
        embedContextualized({ model: contextualized, documents: [['1']] }),
        "The ctx model ctx-1's contextualizedCapabilities.maxDocumentsPerCall",
        'model.contextualizedCapabilities.maxDocumentsPerCall',
      ],
    ] as const;
    for (const [run, what, argument] of cases) {
      const error = await invalidArgumentOf(run);
      expect(error.argument).toBe(argument);
      expect(error.message).toBe(
        `${what} is ${what.startsWith('The scripted') ? '"100"' : '"10"'}; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
      );
    }
    expect([embedding.calls, reranker.calls, sent]).toEqual([[], [], []]);
  });

  it('limits that are whole numbers, or Infinity, are kept and applied', async () => {
    const over = new ScriptedModel({ capabilities: { maxTokensPerInput: 4 } });
    const error = await invalidArgumentOf(embedMany({ model: over, inputs: ['1'], tokenCounter: exactFive }));
    expect(error.argument).toBe('inputs[0]');
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: Number.POSITIVE_INFINITY } });
    const result = await embedMany({ model, inputs: ['1'], tokenCounter: exactFive });
    expect(Array.from(result.embeddings[0]!)).toEqual([1, 1]);
    const reranker = new ScriptedReranker({ maxTokensPerQuery: 5, maxTokensPerDocument: 10 });
    const ranked = await rerank({ model: reranker, query: 'q', documents: ['1'], tokenCounter: exactFive });
    expect(ranked.results).toEqual([{ index: 0, relevanceScore: 1, document: '1' }]);
    const { model: context, sent } = contextualizedModel({ maxTokensPerDocument: 10 });
    await embedContextualized({ model: context, documents: [['1', '2']], tokenCounter: exactFive });
    expect(sent).toEqual([[['1', '2']]]);
  });
});

describe("a limiter's store is checked when the limiter is made", () => {
  const methods = 'take, adjust, lower, pause, pausedUntil';

  it('an empty object is refused, naming every method it lacks', () => {
    const error = thrownInvalidArgument(() => createRateLimiter({ store: {} as LimiterStore }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('store');
    expect(error.message).toBe(
      `store must be a LimiterStore with ${methods}, e.g. createMemoryLimiterStore() or await createRedisLimiterStore({ url }); it has no ${methods}.`,
    );
  });

  it('a store without lower and pause is refused, naming those two', () => {
    const { lower: _lower, pause: _pause, ...rest } = createMemoryLimiterStore();
    const error = thrownInvalidArgument(() => createRateLimiter({ store: rest as LimiterStore }));
    expect(error.argument).toBe('store');
    expect(error.message).toMatch(/; it has no lower, pause\.$/);
  });

  it.each([
    [
      'a store not yet awaited',
      Promise.resolve(createMemoryLimiterStore()),
      'got a Promise (await the store before you pass it)',
    ],
    ['null', null, 'got null'],
    ['a string', 'redis', 'got "redis"'],
  ])('%s is refused', (_name, store, what) => {
    const error = thrownInvalidArgument(() => createRateLimiter({ store: store as unknown as LimiterStore }));
    expect(error.argument).toBe('store');
    expect(error.message).toBe(
      `store must be a LimiterStore with ${methods}, e.g. createMemoryLimiterStore() or await createRedisLimiterStore({ url }); ${what}.`,
    );
  });

  it('a store whose methods come from its class is taken', async () => {
    const memory = createMemoryLimiterStore();
    class ClassStore implements LimiterStore {
      take(...args: Parameters<LimiterStore['take']>) {
        return memory.take(...args);
      }
      adjust(...args: Parameters<LimiterStore['adjust']>) {
        return memory.adjust(...args);
      }
      lower(...args: Parameters<LimiterStore['lower']>) {
        return memory.lower(...args);
      }
      pause(...args: Parameters<LimiterStore['pause']>) {
        return memory.pause(...args);
      }
      pausedUntil(...args: Parameters<LimiterStore['pausedUntil']>) {
        return memory.pausedUntil(...args);
      }
    }
    const limiter = createRateLimiter({ store: new ClassStore(), requestsPerMinute: 1 });
    const clock = new VirtualClock();
    await limiter.acquire({ tokens: 1, clock });
    await limiter.acquire({ tokens: 1, clock });
    // The second call waited for the one-a-minute budget the class's store keeps.
    expect(clock.now()).toBe(60_000);
  });
});

/**
 * A limiter paced by the 429s of an API that reports no usage: ten calls of 100 tokens went through, then
 * one was refused with no wait asked, so the pace reads a minute's allowance of 1,000 tokens and 10
 * calls and spaces calls of 100 tokens 6 s apart.
 */
async function pacedLimiter(store?: LimiterStore): Promise<{ limiter: RateLimiter; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const limiter = createRateLimiter(store === undefined ? {} : { store, key: 'k' });
  for (let call = 0; call < 10; call++)
    await (await limiter.acquire({ tokens: 100, clock })).answered({
      reportedTokens: undefined,
      headers: {},
    });
  await (await limiter.acquire({ tokens: 100, clock })).failed({ rateLimited: true, waitMs: 0 });
  expect(clock.now()).toBe(0);
  return { limiter, clock };
}

describe('a paced turn a call never used goes to the next call', () => {
  it('a call admitted and then ended before it was sent leaves the next call its turn', async () => {
    const { limiter, clock } = await pacedLimiter();
    const unsent = await limiter.acquire({ tokens: 100, clock });
    await unsent.failed({ rateLimited: false, waitMs: 0, unsent: true });
    const waits: WaitEvent[] = [];
    await limiter.acquire({ tokens: 100, clock, onWait: (event) => waits.push(event) });
    expect(clock.now()).toBe(0);
    expect(waits).toEqual([]);
    // The call after it waits its turn: the pace still spaces the calls that go.
    await limiter.acquire({ tokens: 100, clock, onWait: (event) => waits.push(event) });
    expect(clock.now()).toBe(6_000);
    expect(waits).toEqual([{ reason: 'pacing', delayMs: 6_000 }]);
  });

  it('a call that was sent keeps its turn: the next waits for its own', async () => {
    const { limiter, clock } = await pacedLimiter();
    const sent = await limiter.acquire({ tokens: 100, clock });
    await sent.failed({ rateLimited: false, waitMs: 0, unsent: false });
    await limiter.acquire({ tokens: 100, clock });
    expect(clock.now()).toBe(6_000);
  });

  it('a call aborted while it waits out a pause that began after its turn was booked leaves its turn', async () => {
    // A store shared with another process, whose 429 pauses calls for 1 s right after this call's turn
    // was booked: the call goes back to wait out the pause, and its job is aborted there.
    const memory = createMemoryLimiterStore();
    let pauseOnRead = 0;
    const store: LimiterStore = {
      ...memory,
      pausedUntil: async (key, now) => {
        if (pauseOnRead > 0 && --pauseOnRead === 0) memory.pause(key, now + 1_000, now);
        return memory.pausedUntil(key, now);
      },
    };
    const { limiter, clock } = await pacedLimiter(store);
    // Its first read waits out no pause; the second, after its turn was booked, meets the new one.
    pauseOnRead = 2;
    const controller = new AbortController();
    const aborted = limiter.acquire({
      tokens: 100,
      clock,
      signal: controller.signal,
      onWait: () => controller.abort(new Error('job aborted')),
    });
    expect(((await rejection(aborted)) as Error).message).toBe('job aborted');
    expect(clock.now()).toBe(0);
    await limiter.acquire({ tokens: 100, clock });
    // The pause is waited out; the turn the aborted call booked (due at 6 s) does not hold this one.
    expect(clock.now()).toBe(1_000);
  });
});

describe('an answered call whose limiter cannot settle it', () => {
  /** A limiter on a store that cannot lower a bucket (a shared store out of reach at that moment). */
  function failingLimiter() {
    const store: LimiterStore = {
      ...createMemoryLimiterStore(),
      lower: () => {
        throw new Error('store unreachable');
      },
    };
    return createRateLimiter({ tokensPerMinute: 1_000_000, store });
  }

  it('keeps the answer, and says so once through onWarning and the warnings', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    const heard: Warning[] = [];
    const result = await embedMany({
      model,
      inputs: ['1', '2', '3'],
      concurrency: 1,
      rateLimit: failingLimiter(),
      onWarning: (warning) => heard.push(warning),
    });
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(result.usage).toEqual({ inputTokens: 30 });
    expect(model.calls).toHaveLength(3);
    const warning: Warning = {
      type: 'other',
      message:
        "The rate limiter could not record an answered call (store unreachable); the answer is kept, and the limiter's budgets may not count it.",
    };
    expect(result.warnings).toEqual([warning]);
    expect(heard).toEqual([warning]);
  });

  it('a rerank is kept the same way: every engine runs on the one runner', async () => {
    const model = new ScriptedReranker();
    const result = await rerank({ model, query: 'q', documents: ['1', '2'], rateLimit: failingLimiter() });
    expect(result.results.map((ranked) => ranked.index)).toEqual([1, 0]);
    expect(result.warnings).toHaveLength(1);
    expect(model.calls).toHaveLength(1);
  });
});

describe('waitForBatchJob takes no wait longer than a timer holds', () => {
  it.each(['pollIntervalMs', 'maxPollIntervalMs'])(
    '%s one past the timer maximum is refused before any poll',
    async (name) => {
      const clock = new VirtualClock();
      const { get, polls } = scriptedBatchGet(['running', 'succeeded'], clock);
      const error = await invalidArgumentOf(
        waitForBatchJob(get, 'batches/1', { clock, [name]: MAX_TIMER_MS + 1 }),
      );
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe(name);
      expect(error.message).toBe(`${name} must be a number > 0 and ≤ 2,147,483,647, got 2147483648.`);
      expect(polls).toEqual([]);
    },
  );

  it('the timer maximum itself is taken, and waited in full', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running', 'succeeded'], clock);
    const job = await waitForBatchJob(get, 'batches/1', {
      clock,
      pollIntervalMs: MAX_TIMER_MS,
      maxPollIntervalMs: MAX_TIMER_MS,
    });
    expect(job.state).toBe('succeeded');
    expect(polls.map((poll) => poll.at)).toEqual([0, MAX_TIMER_MS]);
  });
});
