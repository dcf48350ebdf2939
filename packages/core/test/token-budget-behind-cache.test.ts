import { describe, expect, it } from 'vitest';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import type { TokenCounter } from '../src/engine/token-counter.js';
import { type EmbeddingModelMiddleware, wrapEmbeddingModel } from '../src/middleware.js';
import { hashVector, MockEmbeddingModel, recordingClock } from '../src/testing.js';
import type { EmbeddingModel, EmbedInput } from '../src/types.js';
import { tokenRecordingStore } from './helpers.js';

/** An input of `bytes` ASCII characters: the default estimate counts it `bytes / 2` tokens. */
function text(letter: string, bytes: number): string {
  return letter.repeat(bytes);
}

/**
 * Embeds 'a…' (20 tokens), then 'a…' and 'b…' (30 tokens) under a token budget, through `model` (a cache
 * in it); returns what each admission of the second job took from the budget.
 */
async function partialHit(model: EmbeddingModel): Promise<number[]> {
  const clock = recordingClock();
  await embedMany({ model, inputs: [text('a', 40)], clock });
  const { store, taken } = tokenRecordingStore();
  await embedMany({
    model,
    inputs: [text('a', 40), text('b', 60)],
    clock,
    rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store }),
  });
  return taken;
}

describe('a request behind the cache is charged the estimate of the inputs it sends', () => {
  it('a partial hit takes only its misses’ estimate, and leaves the rest of the budget to the next job', async () => {
    // Four inputs of 200 estimated tokens, three of them held: the request carries one. Charged the whole
    // call's 800, it left 200 of a 1,000-token minute, and the next job waited 36 s for a refill.
    const clock = recordingClock();
    const inner = new MockEmbeddingModel({ usage: false });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    const held = [text('a', 400), text('b', 400), text('c', 400)];
    await embedMany({ model, inputs: held, clock });
    const { store, taken, adjusted } = tokenRecordingStore();
    const rateLimit = createRateLimiter({ tokensPerMinute: 1_000, store });
    await embedMany({ model, inputs: [...held, text('d', 400)], clock, rateLimit });
    expect(inner.calls.map((call) => call.inputs.length)).toEqual([3, 1]);
    expect(taken).toEqual([200]);
    // No usage is reported: the estimate stands as what was spent.
    expect(adjusted).toEqual([]);
    const waits: number[] = [];
    const fresh = [text('e', 400), text('f', 400), text('g', 400), text('h', 400)];
    await embedMany({ model, inputs: fresh, clock, rateLimit, onWait: (event) => waits.push(event.delayMs) });
    expect(taken).toEqual([200, 800]);
    expect(waits).toEqual([]);
    expect(clock.sleeps).toEqual([]);
  });

  it('a call the cache answers whole takes nothing from the token budget', async () => {
    const clock = recordingClock();
    const model = wrapEmbeddingModel(new MockEmbeddingModel({ usage: false }), cacheMiddleware());
    const inputs = [text('a', 40), text('b', 60)];
    await embedMany({ model, inputs, clock });
    const { store, taken } = tokenRecordingStore();
    await embedMany({
      model,
      inputs,
      clock,
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store }),
    });
    expect(taken).toEqual([]);
  });

  it('with usage reported, the request is admitted at its misses’ estimate, then settled to the reported figure', async () => {
    // Settlement corrects the charge once the answer comes, but not the wait before the request left:
    // charged the whole call's 800 where 600 remained, the partial hit waited 12 s for a refill it did not
    // need.
    const clock = recordingClock();
    // The mock reports a quarter of each input's length: 100 tokens an input here.
    const inner = new MockEmbeddingModel();
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    const held = [text('a', 400), text('b', 400), text('c', 400)];
    await embedMany({ model, inputs: held, clock });
    const { store, taken, adjusted } = tokenRecordingStore();
    const rateLimit = createRateLimiter({ tokensPerMinute: 1_000, store });
    const fresh = [text('e', 400), text('f', 400), text('g', 400), text('h', 400)];
    await embedMany({ model, inputs: fresh, clock, rateLimit });
    expect(taken).toEqual([800]);
    expect(adjusted).toEqual([400]);
    const waits: number[] = [];
    const result = await embedMany({
      model,
      inputs: [...held, text('d', 400)],
      clock,
      rateLimit,
      onWait: (event) => waits.push(event.delayMs),
    });
    expect(result.usage).toEqual({ inputTokens: 100 });
    expect(taken).toEqual([800, 200]);
    expect(adjusted).toEqual([400, 100]);
    expect(waits).toEqual([]);
  });

  it('an entry sent again because it proved stale is charged its own estimate, and the first request its own', async () => {
    // 'a…' (5 tokens) is held at 2 values; the model now answers 3. The first request carries the miss
    // 'b…' (15 tokens), the second the stale 'a…': each was charged both inputs' 20.
    const clock = recordingClock();
    let width = 2;
    const inner = new MockEmbeddingModel({
      usage: false,
      capabilities: { defaultDimensions: undefined },
      embed: (input) => hashVector(String(input), width),
    });
    const store = createMemoryCacheStore();
    const shortInput = text('a', 10);
    const longInput = text('b', 30);
    await embedMany({
      model: wrapEmbeddingModel(inner, cacheMiddleware({ store })),
      inputs: [shortInput],
      clock,
    });
    width = 3;
    const recorded = tokenRecordingStore();
    const result = await embedMany({
      model: wrapEmbeddingModel(inner, cacheMiddleware({ store })),
      inputs: [shortInput, longInput],
      clock,
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store: recorded.store }),
    });
    expect(result.embeddings.map((vector) => vector.length)).toEqual([3, 3]);
    expect(inner.calls.map((call) => call.inputs)).toEqual([[shortInput], [longInput], [shortInput]]);
    expect(recorded.taken).toEqual([15, 5]);
    expect(recorded.adjusted).toEqual([]);
  });

  it('a request a middleware rewrote is charged the estimate of the inputs it sends', async () => {
    // A prefix of 8 bytes adds 4 tokens to each input sent; only the miss is sent.
    const prefixed: EmbeddingModelMiddleware = {
      transformRequest: ({ request }) => ({
        ...request,
        inputs: request.inputs.map((input) => `passage:${input as string}`),
      }),
    };
    const inner = new MockEmbeddingModel({ usage: false });
    const taken = await partialHit(wrapEmbeddingModel(inner, [cacheMiddleware(), prefixed]));
    expect(inner.calls.map((call) => call.inputs)).toEqual([
      [`passage:${text('a', 40)}`],
      [`passage:${text('b', 60)}`],
    ]);
    expect(taken).toEqual([34]);
  });

  it('a cache of a model wrapped inside another charges its request the same way', async () => {
    const inner = new MockEmbeddingModel({ usage: false });
    const taken = await partialHit(wrapEmbeddingModel(wrapEmbeddingModel(inner, cacheMiddleware()), {}));
    expect(inner.calls.map((call) => call.inputs)).toEqual([[text('a', 40)], [text('b', 60)]]);
    expect(taken).toEqual([30]);
  });

  it('counts each of the call’s own inputs once: the job’s count is reused for the request', async () => {
    const counted: EmbedInput[] = [];
    const tokenCounter: TokenCounter = {
      exact: false,
      count(input) {
        counted.push(input);
        return 7;
      },
    };
    const clock = recordingClock();
    const model = wrapEmbeddingModel(new MockEmbeddingModel({ usage: false }), cacheMiddleware());
    await embedMany({ model, inputs: ['x'], clock, tokenCounter });
    counted.length = 0;
    const { store, taken } = tokenRecordingStore();
    await embedMany({
      model,
      inputs: ['x', 'y', 'z'],
      clock,
      tokenCounter,
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store }),
    });
    expect(counted).toEqual(['x', 'y', 'z']);
    expect(taken).toEqual([14]);
  });
});
