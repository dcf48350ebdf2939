/**
 * The rate limiter's queue, the headers it reads and the charge of a call the API never saw, on a
 * virtual clock. Each case names the fault that makes it fail.
 */
import { describe, expect, it } from 'vitest';
import { embed, embedMany } from '../src/engine/embed.js';
import { createMemoryLimiterStore, createRateLimiter, type LimiterStore } from '../src/engine/limiter.js';
import { withRetries } from '../src/engine/retry.js';
import type { WaitEvent } from '../src/engine/settings.js';
import { ConnectionError, InvalidRequestError } from '../src/errors.js';
import type { EmbeddingModel } from '../src/types.js';
import { rejectionOf, ScriptedModel, textCapabilities, VirtualClock } from './helpers.js';

/** Counts a token a character, as `recordingModel` does. */
const counter = { exact: false, count: (input: unknown) => (input as string).length };

/**
 * A model that records when each call started and its text, answers after `latencyMs` reporting a token a
 * character (unless `usage` is false), with `headers`.
 */
function recordingModel(
  clock: VirtualClock,
  options: { latencyMs?: number; usage?: boolean; headers?: () => Record<string, string> } = {},
) {
  const starts: { at: number; text: string }[] = [];
  const model: EmbeddingModel = {
    specificationVersion: 'v1',
    provider: 'simulated',
    modelId: 'm',
    capabilities: textCapabilities({ maxInputsPerCall: 1 }),
    async doEmbed(request) {
      const text = (request.inputs as string[]).join('');
      starts.push({ at: clock.now(), text });
      if (options.latencyMs !== undefined) await clock.sleep(options.latencyMs, request.signal);
      return {
        embeddings: request.inputs.map(() => Float32Array.of(1)),
        ...(options.usage === false ? {} : { usage: { inputTokens: text.length } }),
        warnings: [],
        response: { status: 200, headers: options.headers?.() ?? {} },
      };
    },
  };
  return { model, starts };
}

describe('a query beside a bulk job on one budget', () => {
  it('waits about one refill of its own need, not for the bulk calls queued', async () => {
    // A bulk job of 10,000-token calls, eight at a time, on 60,000 tokens a minute (1,000 a second): each
    // call needs 10 s of refill, so seven wait in the queue. A one-token query needs a millisecond of it,
    // and the bucket holds that nearly all the time. The head of the queue counted as starved from when it
    // joined, not from when it came to the head, so every query queued behind the bulk calls (70 s each).
    const clock = new VirtualClock({ random: [0.5] });
    const { model, starts } = recordingModel(clock, { latencyMs: 200 });
    const rateLimit = createRateLimiter({ tokensPerMinute: 60_000 });
    const documents = Array.from(
      { length: 40 },
      (_, index) => `${String(index).padStart(4, '0')}${'d'.repeat(9_996)}`,
    );
    const bulk = embedMany({
      model,
      inputs: documents,
      clock,
      concurrency: 8,
      rateLimit,
      tokenCounter: counter,
    });
    const waits: number[] = [];
    await clock.sleep(60_000);
    for (let query = 0; query < 5; query++) {
      const askedAt = clock.now();
      await embed({ model, input: 'q', clock, rateLimit, tokenCounter: counter });
      const started = starts.find((start) => start.text === 'q' && start.at >= askedAt)!;
      waits.push(started.at - askedAt);
      await clock.sleep(7_300);
    }
    await bulk;
    expect(starts.length).toBe(45);
    // The query needs 1 ms of refill; it may find the bucket just emptied by the head, and wait for that.
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(10);
  });
});

describe('the x-ratelimit-* headers', () => {
  /** When the calls of a three-input job, one at a time, start under `headers`. */
  async function startsUnder(headers: Record<string, string>): Promise<number[]> {
    const clock = new VirtualClock();
    const { model, starts } = recordingModel(clock, { usage: false, headers: () => headers });
    await embedMany({ model, inputs: ['a', 'b', 'c'], clock, concurrency: 1 });
    return starts.map((start) => start.at);
  }

  it.each([
    ['an empty value', ''],
    ['a hexadecimal number', '0x0'],
    ['an exponent', '0e5'],
    ['a negative number', '-0'],
    ['a number with a unit', '0 requests'],
  ])('a remaining count that is not a plain decimal (%s) is no reading', async (_name, value) => {
    // Read with Number(), "" and "0x0" said nothing remained: each call then waited for a refill (a
    // second at 60 a minute) that the API never asked for.
    expect(
      await startsUnder({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': value }),
    ).toEqual([0, 0, 0]);
  });

  it('a header sent twice (joined with ", ") is read by its first value', async () => {
    // Read with Number(), "60, 60" was no number, so the limit the API stated was never learned.
    expect(
      await startsUnder({ 'x-ratelimit-limit-requests': '60, 60', 'x-ratelimit-remaining-requests': '0, 0' }),
    ).toEqual([0, 1_000, 2_000]);
    expect(
      await startsUnder({ 'x-ratelimit-limit-requests': '60,60', 'x-ratelimit-remaining-requests': '0,5' }),
    ).toEqual([0, 1_000, 2_000]);
  });

  it('what one model’s headers say holds only that model’s calls, on a limiter the models share', async () => {
    // Learned per limiter, model A's "5 a minute, none left" held model B's call for 12 s.
    const clock = new VirtualClock();
    const rateLimit = createRateLimiter();
    const headers = { 'x-ratelimit-limit-requests': '5', 'x-ratelimit-remaining-requests': '0' };
    const modelOf = (modelId: string) =>
      new ScriptedModel({
        clock,
        modelId,
        respond: (call) => ({
          embeddings: call.inputs.map(() => Float32Array.of(1, 2)),
          warnings: [],
          response: { status: 200, headers },
        }),
      });
    const first = modelOf('a');
    const second = modelOf('b');
    await embedMany({ model: first, inputs: ['1'], clock, rateLimit });
    await embedMany({ model: second, inputs: ['2'], clock, rateLimit });
    expect(clock.now()).toBe(0);
    // Each model's own next call waits its own refill (a fifth of a minute at 5 a minute).
    await embedMany({ model: first, inputs: ['3'], clock, rateLimit });
    expect(clock.now()).toBe(12_000);
  });

  it('a model’s call waiting on its own learned limit does not queue behind another model’s', async () => {
    // One queue for the limiter: B, due after 100 ms, waited its turn behind A, due after 10 s.
    const clock = new VirtualClock();
    const rateLimit = createRateLimiter();
    const starts: string[] = [];
    const modelOf = (modelId: string, limit: string) =>
      new ScriptedModel({
        clock,
        modelId,
        respond: (call) => {
          starts.push(`${modelId}@${clock.now()}`);
          return {
            embeddings: call.inputs.map(() => Float32Array.of(1, 2)),
            warnings: [],
            response: {
              status: 200,
              headers: { 'x-ratelimit-limit-requests': limit, 'x-ratelimit-remaining-requests': '0' },
            },
          };
        },
      });
    const a = modelOf('a', '6');
    const b = modelOf('b', '600');
    await embedMany({ model: a, inputs: ['1'], clock, rateLimit });
    await embedMany({ model: b, inputs: ['1'], clock, rateLimit });
    await Promise.all([
      embedMany({ model: a, inputs: ['2'], clock, rateLimit }),
      embedMany({ model: b, inputs: ['2'], clock, rateLimit }),
    ]);
    expect(starts).toEqual(['a@0', 'b@0', 'b@100', 'a@10000']);
  });

  it('a call estimated above the tokens a minute the API states goes once its bucket is full, and takes only that', async () => {
    // The estimate errs high, so the API decides. Charged all 8,000 tokens to a bucket of 1,000, it drove
    // the bucket to -7,000, and after its 429 the model's next call waited seven minutes (419,600 ms).
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const headers = { 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '990' };
    await (await limiter.acquire({ tokens: 10, scope: 'p:m', clock })).answered({
      reportedTokens: 10,
      headers,
    });
    const events: WaitEvent[] = [];
    const big = await limiter.acquire({
      tokens: 8_000,
      scope: 'p:m',
      clock,
      onWait: (event) => events.push(event),
    });
    // It waits for a full bucket: the 10 tokens the first call took, at 1,000 a minute.
    expect(clock.now()).toBe(600);
    await big.failed({ rateLimited: true, waitMs: 1_000 });
    await limiter.acquire({ tokens: 10, scope: 'p:m', clock, onWait: (event) => events.push(event) });
    expect(clock.now()).toBe(1_600);
    expect(events).toEqual([
      { reason: 'pacing', delayMs: 600 },
      { reason: 'paused', delayMs: 1_000 },
    ]);
  });

  it('a call counted exactly above the tokens a minute the API states is not sent: the engine halves it', async () => {
    // Sent, it was refused with a 429 every time, each retry a minute's refill after the last.
    const clock = new VirtualClock();
    const { model, starts } = recordingModel(clock, {
      headers: () => ({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '1000' }),
    });
    (model.capabilities as { maxInputsPerCall: number }).maxInputsPerCall = 10;
    const rateLimit = createRateLimiter({ adaptive: false });
    const exact = { exact: true, count: counter.count };
    await embedMany({ model, inputs: ['x'], clock, rateLimit, tokenCounter: exact });
    await embedMany({
      model,
      inputs: ['a'.repeat(600), 'b'.repeat(600)],
      clock,
      rateLimit,
      tokenCounter: exact,
    });
    expect(starts.map((start) => start.text)).toEqual(['x', 'a'.repeat(600), 'b'.repeat(600)]);
    // One input that large cannot be halved: it fails at once, and says why.
    const error = await rejectionOf(
      InvalidRequestError,
      embedMany({ model, inputs: ['c'.repeat(1_200)], clock, rateLimit, tokenCounter: exact }),
    );
    expect(error).toMatchObject({ code: 'invalid_request', batchTooLarge: true });
    expect(error.message).toBe(
      'A call of 1200 tokens is more than the 1000 tokens a minute the API allows simulated:m (its x-ratelimit-limit-tokens header), so the API would refuse it every time. Send shorter inputs, or ask the provider for a higher limit.',
    );
    expect(starts).toHaveLength(3);
  });

  it('plain decimals are still read as they are', async () => {
    expect(
      await startsUnder({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': ' 0 ' }),
    ).toEqual([0, 1_000, 2_000]);
  });
});

/** A memory store that records the keys given back to, and can run `onPausedUntil` at each read of the pause. */
function recordingStore() {
  const inner = createMemoryLimiterStore();
  const adjusted: { key: string; amount: number }[] = [];
  const store: LimiterStore & { onPausedUntil?: () => void } = {
    take: (key, bucket, amount, now) => inner.take(key, bucket, amount, now),
    adjust(key, bucket, amount, now) {
      adjusted.push({ key, amount });
      return inner.adjust(key, bucket, amount, now);
    },
    lower: (key, bucket, level, now) => inner.lower(key, bucket, level, now),
    pause: (key, until, now) => inner.pause(key, until, now),
    pausedUntil(key, now) {
      store.onPausedUntil?.();
      return inner.pausedUntil(key, now);
    },
  };
  return { store, adjusted };
}

describe('a call the API never saw', () => {
  it('gives back what it took of the budgets set by the user, not of the budgets learned from headers', async () => {
    const clock = new VirtualClock();
    const { store, adjusted } = recordingStore();
    const limiter = createRateLimiter({ requestsPerMinute: 1, tokensPerMinute: 100, store, key: 'k' });
    // A first answer states the API's own limits: the limiter learns a budget of each.
    const first = await limiter.acquire({ tokens: 10, clock });
    await first.answered({
      reportedTokens: 10,
      headers: {
        'x-ratelimit-limit-requests': '1000',
        'x-ratelimit-remaining-requests': '999',
        'x-ratelimit-limit-tokens': '100000',
        'x-ratelimit-remaining-tokens': '99990',
      },
    });
    clock.time = 60_000;
    const unsent = await limiter.acquire({ tokens: 90, clock });
    adjusted.length = 0;
    await unsent.failed({ rateLimited: false, waitMs: 0, unsent: true });
    expect(adjusted.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'k:requests', amount: 1 },
      { key: 'k:tokens', amount: 90 },
    ]);
    // The budget it took is there for the next call: it starts at once, not a minute later.
    await limiter.acquire({ tokens: 90, clock });
    expect(clock.now()).toBe(60_000);
  });

  it('an attempt that was made keeps its charge (the API may have counted it)', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ requestsPerMinute: 1 });
    await (await limiter.acquire({ tokens: 1, clock })).failed({
      rateLimited: false,
      waitMs: 0,
      unsent: false,
    });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(60_000);
  });

  it('a call aborted after it was admitted, before it was sent, leaves the budget to the next', async () => {
    // The abort lands while the limiter reads the pause after taking the budget: the engine then makes no
    // attempt. The request it charged was never made, and the next job waited a minute for it.
    const clock = new VirtualClock();
    const { store } = recordingStore();
    const rateLimit = createRateLimiter({ requestsPerMinute: 1, store });
    const { model, starts } = recordingModel(clock);
    const controller = new AbortController();
    let reads = 0;
    store.onPausedUntil = () => {
      // The first read is the wait for a pause; the second, after the budget was taken, the check for one
      // that began meanwhile.
      if (++reads === 2) controller.abort();
    };
    await expect(
      embedMany({ model, inputs: ['a'], clock, rateLimit, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(starts).toEqual([]);
    store.onPausedUntil = undefined;
    await embedMany({ model, inputs: ['b'], clock, rateLimit });
    expect(starts).toEqual([{ at: 0, text: 'b' }]);
  });

  it.each([
    [true, 250],
    [false, 60_000],
  ])('a connection that failed with neverSent %s: the retry starts at %i ms', async (neverSent, at) => {
    // One request a minute. A connection refused never reached the API, so its retry need not wait for
    // the refill of a request never made (it waited a minute); one lost mid-answer may have been counted.
    const clock = new VirtualClock({ random: [0.5] });
    const starts: number[] = [];
    const model = new ScriptedModel({
      clock,
      respond: (call) => {
        starts.push(clock.now());
        if (call.number === 1) throw new ConnectionError('connect ECONNREFUSED', { neverSent });
        return undefined;
      },
    });
    await embedMany({ model, inputs: ['a'], clock, rateLimit: createRateLimiter({ requestsPerMinute: 1 }) });
    expect(starts).toEqual([0, at]);
  });

  it('an attempt admitted late that fails before its request leaves gives its budget back', async () => {
    // Kept, a request budget of one a minute held the next call back a minute for a request never made.
    const clock = new VirtualClock();
    const rateLimit = createRateLimiter({ requestsPerMinute: 1 });
    const policy = {
      provider: 'p',
      modelId: 'm',
      limiter: rateLimit,
      clock,
      maxRetries: 0,
      maxRetryDelayMs: 0,
      timeoutMs: 1_000,
      exactTokens: false,
      onRetry: undefined,
      onWait: undefined,
    };
    const refused = new InvalidRequestError('refused before sending');
    const outcome = await withRetries(
      policy,
      1,
      new AbortController().signal,
      async (_signal, _timeoutMs, admit) => {
        await admit();
        throw refused;
      },
      () => ({ reportedTokens: undefined, headers: {} }),
      { admitsLate: true },
    ).catch((error: unknown) => error);
    expect(outcome).toBe(refused);
    await rateLimit.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(0);
  });
});
