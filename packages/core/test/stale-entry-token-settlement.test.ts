import { describe, expect, it } from 'vitest';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { ServerError } from '../src/errors.js';
import { type EmbeddingModelMiddleware, wrapEmbeddingModel } from '../src/middleware.js';
import { hashVector, MockEmbeddingModel, recordingClock } from '../src/testing.js';
import type { EmbedRequest, EmbedResponse } from '../src/types.js';
import { tokenRecordingStore } from './helpers.js';

/** 'a…' is estimated at 5 tokens, 'b…' at 15; the model counts 10 for each. */
const held = 'a'.repeat(10);
const missed = 'b'.repeat(30);

/** A model that counts 10 tokens an input, answers `width` values, and reports no usage for `silent`. */
class CountingModel extends MockEmbeddingModel {
  width = 2;
  silent: string | undefined;
  constructor(beforeCall?: (request: EmbedRequest, callNumber: number) => void) {
    super({
      capabilities: { defaultDimensions: undefined },
      embed: (input) => hashVector(String(input), this.width),
      usage: () => 10,
      ...(beforeCall === undefined ? {} : { beforeCall }),
    });
  }
  override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const response = await super.doEmbed(request);
    if (request.inputs[0] === this.silent) delete response.usage;
    return response;
  }
}

/**
 * Stores 'a…' at 2 values, then embeds 'a…' and 'b…' while the model answers 3: the first request carries
 * 'b…', the second the stale 'a…'. Records what each admission took from the token budget and what each
 * settlement gave back (negative: charged more).
 */
async function staleCall(inner: CountingModel, outer: EmbeddingModelMiddleware[] = []) {
  const clock = recordingClock();
  const store = createMemoryCacheStore();
  await embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware({ store })), inputs: [held], clock });
  inner.width = 3;
  const { store: limiterStore, taken, adjusted } = tokenRecordingStore();
  const result = await embedMany({
    model: wrapEmbeddingModel(inner, [...outer, cacheMiddleware({ store })]),
    inputs: [held, missed],
    clock,
    rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store: limiterStore }),
  });
  const charged =
    taken.reduce((sum, amount) => sum + amount, 0) - adjusted.reduce((sum, amount) => sum + amount, 0);
  return { result, taken, adjusted, charged, sent: inner.calls.slice(1).map((call) => call.inputs) };
}

describe('a stale entry sent again within one call is charged once, with its own usage', () => {
  it('each request is settled to the tokens the API counted for it, and the budget is charged the call’s usage', async () => {
    // The call reports 20 (10 a request). Its own admission was settled with those 20 while the second
    // request was settled with its 10 as well: the budget was charged 30.
    const { result, taken, adjusted, charged, sent } = await staleCall(new CountingModel());
    expect(sent).toEqual([[missed], [held]]);
    expect(result.usage).toEqual({ inputTokens: 20 });
    expect(taken).toEqual([15, 5]);
    expect(adjusted).toEqual([-5, 5]);
    expect(charged).toBe(20);
  });

  it.each([
    ['the first request', missed, [-5], 25],
    ['the second request', held, [], 20],
  ])(
    'when %s reports no usage, the call reports none and its own admission keeps the estimate',
    async (_, silent, expected, total) => {
      const inner = new CountingModel();
      inner.silent = silent;
      const { result, taken, adjusted, charged } = await staleCall(inner);
      expect(result.usage).toBeUndefined();
      expect(taken).toEqual([15, 5]);
      expect(adjusted).toEqual(expected);
      expect(charged).toBe(total);
    },
  );

  it('a second request that fails keeps both estimates, and the retry sends only the stale entry', async () => {
    const inner = new CountingModel((_, callNumber) => {
      if (callNumber === 3) throw new ServerError('unavailable', { provider: 'mock' });
    });
    const { result, taken, adjusted, charged, sent } = await staleCall(inner);
    expect(sent).toEqual([[missed], [held], [held]]);
    expect(result.usage).toEqual({ inputTokens: 10 });
    expect(taken).toEqual([15, 5, 5]);
    expect(adjusted).toEqual([-5]);
    expect(charged).toBe(30);
  });

  it('a call that fails after both requests were answered keeps its own estimate and the second request’s usage', async () => {
    let failures = 0;
    const failOnce: EmbeddingModelMiddleware = {
      async wrapEmbed({ doEmbed, request }) {
        const response = await doEmbed(request);
        if (failures++ === 0) throw new ServerError('unavailable', { provider: 'mock' });
        return response;
      },
    };
    const { result, taken, adjusted, charged, sent } = await staleCall(new CountingModel(), [failOnce]);
    // The retry is answered whole from the cache: nothing more is sent or charged.
    expect(sent).toEqual([[missed], [held]]);
    expect(result.usage).toEqual({ inputTokens: 0 });
    expect(taken).toEqual([15, 5]);
    expect(adjusted).toEqual([-5]);
    expect(charged).toBe(25);
  });

  it('a middleware of the caller’s own that reports only its last request’s usage keeps that figure for its first', async () => {
    // Two requests of one input each, 15 tokens estimated for 'b…' and 5 for 'a…'; the model counts 10 for
    // each, and the middleware answers with the second request's usage alone.
    const split: EmbeddingModelMiddleware = {
      async wrapEmbed({ doEmbed, request }) {
        const first = await doEmbed({ ...request, inputs: request.inputs.slice(0, 1) });
        const second = await doEmbed({ ...request, inputs: request.inputs.slice(1) });
        return { ...second, embeddings: [...first.embeddings, ...second.embeddings] };
      },
    };
    const inner = new CountingModel();
    const { store: limiterStore, taken, adjusted } = tokenRecordingStore();
    await embedMany({
      model: wrapEmbeddingModel(inner, split),
      inputs: [missed, held],
      clock: recordingClock(),
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store: limiterStore }),
    });
    expect(inner.calls.map((call) => call.inputs)).toEqual([[missed], [held]]);
    expect(taken).toEqual([15, 5]);
    // Each settled to 10: the first is not settled to nothing (10 reported, less the second's 10).
    expect(adjusted).toEqual([-5, 5]);
  });
});
