import { describe, expect, it, vi } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import type { TokenCounter } from '../src/engine/token-counter.js';
import { InvalidArgumentError, RateLimitError, ServerError } from '../src/errors.js';
import type { EmbeddingModel } from '../src/types.js';
import {
  numberedInputs,
  ScriptedModel,
  textCapabilities,
  until,
  VirtualClock,
  vectorFor,
} from './helpers.js';

/** Start times of each input's calls, keyed by input. */
function startTimes(model: ScriptedModel): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const call of model.calls) {
    const key = call.inputs.join(',');
    out[key] = [...(out[key] ?? []), call.startedAt];
  }
  return out;
}

/** Exact counts: the budgets charge them as they are (an estimate is calibrated; see below). */
const hundredTokens: TokenCounter = { exact: true, count: () => 100 };

describe('a 429 pauses the model', () => {
  /** Input '0' fails its first attempt with `error`; every other call takes 10 ms of virtual time. */
  function firstCallFails(clock: VirtualClock, error: Error) {
    let failed = false;
    return new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        if (call.inputs[0] === '0' && !failed) {
          failed = true;
          throw error;
        }
        await clock.sleep(10);
        return undefined;
      },
    });
  }

  it('queued calls of the same model do not start before the Retry-After has passed', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = firstCallFails(
      clock,
      new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 5_000 }),
    );
    // Pacing off: this is about the pause alone (limiter-learning.test.ts covers the pace).
    const rateLimit = createRateLimiter({ adaptive: false });
    const result = await embedMany({ model, inputs: numberedInputs(4), concurrency: 2, clock, rateLimit });
    expect(startTimes(model)).toEqual({
      '0': [0, 5_000],
      '1': [0],
      // Without the pause '2' would start at 10 ms, when '1' finished. Calls queued behind the pause
      // resume one after another, spaced by the server's wait (capped at 2 s): '0' (the refused call, first
      // in the queue), then '2'. '3' came after the pause and is not held.
      '2': [7_000],
      '3': [5_010],
    });
    expect(result.embeddings).toEqual(numberedInputs(4).map(vectorFor));
  });

  it('a 429 without a hint pauses the model for its backoff delay', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = firstCallFails(clock, new RateLimitError('slow down', { statusCode: 429 }));
    await embedMany({ model, inputs: numberedInputs(3), concurrency: 2, clock });
    // First retry backoff: 0.5 x 500 = 250 ms; '2', queued behind the pause, goes one spacing later.
    expect(startTimes(model)).toEqual({ '0': [0, 250], '1': [0], '2': [500] });
  });

  it('the pause is capped by maxRetryDelayMs like the wait itself', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = firstCallFails(
      clock,
      // 5 s under a 2 s cap, which three retries reach (a wait they cannot reach fails the call at once).
      new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 5_000 }),
    );
    await embedMany({ model, inputs: numberedInputs(3), concurrency: 2, clock, maxRetryDelayMs: 2_000 });
    expect(startTimes(model)).toEqual({ '0': [0, 2_000], '1': [0], '2': [4_000] });
  });

  it('a 5xx with a hint delays only its own retry', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = firstCallFails(clock, new ServerError('busy', { statusCode: 503, retryAfterMs: 5_000 }));
    await embedMany({ model, inputs: numberedInputs(3), concurrency: 2, clock });
    expect(startTimes(model)).toEqual({ '0': [0, 5_000], '1': [0], '2': [10] });
  });

  it('does not pause a different model object', async () => {
    const clock = new VirtualClock({ random: [0.5], autoAdvance: false });
    const limited = firstCallFails(clock, new RateLimitError('slow down', { retryAfterMs: 5_000 }));
    const controller = new AbortController();
    const first = embedMany({ model: limited, inputs: ['0'], clock, signal: controller.signal }).catch(
      (error: unknown) => error,
    );
    await until(() => clock.sleeps.length === 1, 'the 429 wait');
    const other = new ScriptedModel({ clock });
    await embedMany({ model: other, inputs: ['2'], clock });
    expect(other.calls).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(1);
    controller.abort();
    expect(((await first) as Error).name).toBe('AbortError');
  });
});

describe('after a pause, the calls it held go oldest first, and later calls are not held', () => {
  it('embedStream: the retries of four calls refused for 2 s go 2 s apart, oldest first', async () => {
    // Concurrency 4, one input a call, each answer 10 ms. The first attempts of inputs 0 to 3 are refused
    // at 10 ms with Retry-After 2 s; their retries are released 2 s apart from 2.01 s, oldest first, so the
    // stream, which yields in input order, gives one result every 2 s. Inputs 4 to 7, which come after
    // the pause, are not held: the pace lets them go between the retries.
    const clock = new VirtualClock({ random: [0.5] });
    const refused = new Set<string>();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        const input = call.inputs[0]!;
        await clock.sleep(10);
        if (Number(input) < 4 && !refused.has(input)) {
          refused.add(input);
          throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 2_000 });
        }
        return undefined;
      },
    });
    const yielded: string[] = [];
    for await (const { index } of embedStream({ model, inputs: numberedInputs(8), concurrency: 4, clock }))
      yielded.push(`${index}@${Math.round(clock.now())}`);
    const admitted = model.calls.filter((call) => call.startedAt > 0);
    expect(admitted.map((call) => `${call.inputs[0]}@${Math.round(call.startedAt)}`)).toEqual([
      '0@2010',
      '4@2510',
      '5@3000',
      '6@3240',
      '7@3476',
      '1@4010',
      '2@6010',
      '3@8010',
    ]);
    expect(yielded.slice(0, 4)).toEqual(['0@2020', '1@4020', '2@6020', '3@8020']);
  });

  it('a call that comes while calls held by a pause wait for their slots is not held', async () => {
    // Pacing off: the release order alone. Two calls held by a 5 s pause go at 5 s and 7 s; a call that
    // comes at 5.5 s, the pause over, goes at once: holding it would leave the slot between them unused.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 5_000 });
    const order: string[] = [];
    const admit = (name: string) =>
      limiter.acquire({ tokens: 1, clock }).then(() => order.push(`${name}@${clock.now()}`));
    const held = [admit('held 1'), admit('held 2')];
    await clock.sleep(5_500);
    await Promise.all([...held, admit('later')]);
    expect(order).toEqual(['held 1@5000', 'later@5500', 'held 2@7000']);
  });
});

describe('client-side rate limits (token buckets, full at start, refilled continuously)', () => {
  it('requestsPerMinute spaces calls once the bucket is empty', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    await embedMany({
      model,
      inputs: numberedInputs(4),
      concurrency: 4,
      clock,
      rateLimit: createRateLimiter({ requestsPerMinute: 2 }),
    });
    expect(model.calls.map((call) => call.startedAt).sort((a, b) => a - b)).toEqual([0, 0, 30_000, 60_000]);
  });

  it('tokensPerMinute spaces calls by their counted tokens (an API that reports no usage)', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({ clock, usage: false, capabilities: { maxInputsPerCall: 1 } });
    await embedMany({
      model,
      inputs: numberedInputs(4),
      concurrency: 1,
      clock,
      tokenCounter: hundredTokens,
      rateLimit: createRateLimiter({ tokensPerMinute: 200 }),
    });
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 0, 30_000, 60_000]);
  });

  it('tokens per call are the sum of the call’s inputs', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({ clock, usage: false, capabilities: { maxInputsPerCall: 2 } });
    await embedMany({
      model,
      inputs: numberedInputs(6),
      concurrency: 1,
      clock,
      tokenCounter: hundredTokens,
      rateLimit: createRateLimiter({ tokensPerMinute: 400 }),
    });
    // 200 tokens per call, 400 in the bucket: two calls at once, the third after 200 tokens refilled (30 s).
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 0, 30_000]);
  });

  it('both limits apply together', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({ clock, usage: false, capabilities: { maxInputsPerCall: 1 } });
    await embedMany({
      model,
      inputs: numberedInputs(3),
      concurrency: 1,
      clock,
      tokenCounter: hundredTokens,
      rateLimit: createRateLimiter({ requestsPerMinute: 60, tokensPerMinute: 100 }),
    });
    // The token limit (one call per minute) is the tighter one.
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 60_000, 120_000]);
  });

  it('one limiter is shared by every job it is passed to, across models and over time', async () => {
    const clock = new VirtualClock();
    const one = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    const two = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    const rateLimit = createRateLimiter({ requestsPerMinute: 2 });
    await Promise.all([
      embedMany({ model: one, inputs: ['0', '1'], clock, rateLimit }),
      embedMany({ model: two, inputs: ['2', '3'], clock, rateLimit }),
    ]);
    expect([...one.calls, ...two.calls].map((call) => call.startedAt).sort((a, b) => a - b)).toEqual([
      0, 0, 30_000, 60_000,
    ]);
    // A later job finds the bucket where the others left it.
    await embedMany({ model: one, inputs: ['4'], clock, rateLimit });
    expect(one.calls.at(-1)!.startedAt).toBe(90_000);
  });

  it('two limiters are two budgets, even on one model', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    await Promise.all([
      embedMany({ model, inputs: ['0', '1'], clock, rateLimit: createRateLimiter({ requestsPerMinute: 2 }) }),
      embedMany({ model, inputs: ['2', '3'], clock, rateLimit: createRateLimiter({ requestsPerMinute: 2 }) }),
    ]);
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 0, 0, 0]);
  });

  // Defect 1 of issue 10: every entry point reconfigured the model's buckets, so a call with no
  // rateLimit cleared a running job's limit and one with other values refilled it.
  it('an unrelated call on the same model neither clears nor refills a running job’s limit', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    const bulkLimit = createRateLimiter({ requestsPerMinute: 1 });
    const bulk = embedMany({ model, inputs: numberedInputs(5), concurrency: 1, clock, rateLimit: bulkLimit });
    await until(() => model.calls.length === 1, 'the first bulk call');
    // Queries served meanwhile on the same model object: none, and another limiter with other values.
    await embedMany({ model, inputs: ['query'], clock });
    await embedMany({
      model,
      inputs: ['query 2'],
      clock,
      rateLimit: createRateLimiter({ requestsPerMinute: 600 }),
    });
    await bulk;
    const bulkStarts = model.calls
      .filter((call) => /^\d$/.test(call.inputs[0] as string))
      .map((call) => call.startedAt);
    expect(bulkStarts).toEqual([0, 60_000, 120_000, 180_000, 240_000]);
  });

  it('a rateLimit that is not a limiter is an InvalidArgumentError that says how to make one, before any call', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    const error = await embedMany({
      model,
      inputs: ['0'],
      rateLimit: { requestsPerMinute: 2 } as never,
    }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('createRateLimiter');
    expect(model.calls).toHaveLength(0);
  });

  it.each([
    [{ requestsPerMinute: 0 }],
    [{ tokensPerMinute: -5 }],
    [{ requestsPerMinute: Number.NaN }],
    [{ tokensPerMinute: Number.POSITIVE_INFINITY }],
  ])('createRateLimiter(%o) is an InvalidArgumentError', (options) => {
    expect(() => createRateLimiter(options)).toThrow(InvalidArgumentError);
  });

  it('a limiter set on the model (by its provider) is used when the call passes none', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    const model = Object.assign(Object.create(inner) as ScriptedModel, {
      rateLimiter: createRateLimiter({ requestsPerMinute: 1 }),
    });
    await embedMany({ model, inputs: numberedInputs(2), concurrency: 2, clock });
    expect(inner.calls.map((call) => call.startedAt)).toEqual([0, 60_000]);
  });

  it('an abort while waiting for the bucket re-throws the native AbortError and makes no further call', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const model = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    const controller = new AbortController();
    const pending = embedMany({
      model,
      inputs: numberedInputs(3),
      concurrency: 1,
      clock,
      signal: controller.signal,
      rateLimit: createRateLimiter({ requestsPerMinute: 1 }),
    }).catch((error: unknown) => error);
    await until(() => clock.sleeps.length === 1, 'the rate-limit wait');
    expect(model.calls).toHaveLength(1);
    controller.abort();
    const error = await pending;
    expect((error as Error).name).toBe('AbortError');
    expect(model.calls).toHaveLength(1);
  });
});

describe('token bucket settled with reported usage', () => {
  it('gives back what the estimate overcounted, so throughput follows the real token count', async () => {
    const { embedMany } = await import('../src/engine/embed.js');
    const { MockEmbeddingModel } = await import('../src/testing.js');
    const counter = { exact: true, count: () => 100 };
    const run = async (usage: false | (() => number)) => {
      const clock = new VirtualClock();
      const model = new MockEmbeddingModel({ capabilities: { maxInputsPerCall: 1 }, usage });
      await embedMany({
        model,
        inputs: Array.from({ length: 20 }, (_, index) => `input ${index}`),
        concurrency: 1,
        clock,
        tokenCounter: counter,
        rateLimit: createRateLimiter({ tokensPerMinute: 1_000 }),
      });
      return clock.sleeps.reduce((sum, sleep) => sum + sleep.ms, 0);
    };
    // Estimated 100 per call, reported 10: 20 calls net 200 tokens, inside the 1,000 bucket: no wait.
    expect(await run(() => 10)).toBe(0);
    // No usage reported: the estimate stands; 2,000 tokens through a 1,000/min bucket wait about a minute.
    expect(await run(false)).toBeGreaterThanOrEqual(59_000);
    // Reported above the estimate: the extra is charged, so the wait is longer still.
    expect(await run(() => 150)).toBeGreaterThan(await run(false));
  });
});

describe('calibrating an estimate for an API that reports no usage', () => {
  /** 20 calls of 100 estimated tokens through 1,000 tokens/min; the API reports nothing. */
  async function run(respond?: (call: { number: number }) => undefined) {
    const clock = new VirtualClock({ random: [0.5] });
    const model = new ScriptedModel({
      clock,
      usage: false,
      capabilities: { maxInputsPerCall: 1 },
      ...(respond === undefined ? {} : { respond }),
    });
    await embedMany({
      model,
      inputs: numberedInputs(20),
      concurrency: 1,
      clock,
      tokenCounter: { exact: false, count: () => 100 },
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000 }),
    });
    return model.calls.map((call) => call.startedAt);
  }

  it('charges less while the budget holds calls back and the API lets every one through', async () => {
    const starts = await run();
    const gaps = starts.slice(11).map((start, index) => start - starts[10 + index]!);
    // An exact charge would space calls 6 s apart for ever; the calibrated charge shrinks the gap.
    expect(gaps[0]).toBeLessThan(6_000);
    expect(gaps.at(-1)!).toBeLessThan(gaps[0]!);
    for (let index = 1; index < gaps.length; index++)
      expect(gaps[index]!).toBeLessThanOrEqual(gaps[index - 1]!);
  });

  it('charges more again after the API refuses a call', async () => {
    const refusedAt = 14;
    const starts = await run((call) => {
      if (call.number === refusedAt)
        throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 1_000 });
      return undefined;
    });
    const gap = (call: number) => starts[call]! - starts[call - 1]!;
    // The call after the refusal's retry is spaced further than the one before the refusal.
    expect(gap(refusedAt + 1)).toBeGreaterThan(gap(refusedAt - 1));
  });
});

describe('the wall clock steps during a job (an NTP step, a virtual machine resumed)', () => {
  /**
   * Real timers and the default clock. Four calls of 15,075 tokens against 60,000 a minute: three fit the
   * full bucket, the fourth waits 300 ms of refill. After the first call starts, `Date.now` jumps by
   * `stepMs`. Returns when each call started, in ms of the monotonic clock after the first.
   */
  async function stepDuringJob(stepMs: number): Promise<number[]> {
    const started: number[] = [];
    const realNow = Date.now.bind(Date);
    const model: EmbeddingModel = {
      specificationVersion: 'v1',
      provider: 'stepping',
      modelId: 'clock',
      capabilities: textCapabilities({ maxInputsPerCall: 1 }),
      async doEmbed(request) {
        if (started.push(performance.now()) === 1)
          vi.spyOn(Date, 'now').mockImplementation(() => realNow() + stepMs);
        return {
          embeddings: request.inputs.map(() => Float32Array.of(1)),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      },
    };
    const rateLimit = createRateLimiter({ tokensPerMinute: 60_000, adaptive: false });
    try {
      const job = embedMany({
        model,
        inputs: numberedInputs(4),
        concurrency: 1,
        rateLimit,
        tokenCounter: { exact: true, count: () => 15_075 },
      });
      // A budget kept by the wall clock would wait out the whole step back (an hour): fail in seconds.
      const stalled = new Promise<'stalled'>((resolve) =>
        setTimeout(() => resolve('stalled'), 5_000).unref(),
      );
      expect(await Promise.race([job.then(() => 'done'), stalled])).toBe('done');
    } finally {
      vi.restoreAllMocks();
    }
    return started.map((at) => at - started[0]!);
  }

  it('a step back does not stall the budget: the fourth call waits its 300 ms of refill, not an hour', async () => {
    const started = await stepDuringJob(-3_600_000);
    expect(started).toHaveLength(4);
    expect(started[3]).toBeGreaterThanOrEqual(295);
  });

  it('a step forward grants no tokens: the fourth call still waits its 300 ms of refill', async () => {
    const started = await stepDuringJob(3_600_000);
    expect(started).toHaveLength(4);
    // Kept by the wall clock, the bucket would have refilled an hour's worth at once: a start near 0 ms.
    expect(started[3]).toBeGreaterThanOrEqual(295);
  });
});
