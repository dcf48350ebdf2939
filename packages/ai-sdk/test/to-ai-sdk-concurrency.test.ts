import { InvalidArgumentError } from '@embedkit/core';
import { MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { embed, embedMany } from 'ai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ToAISDKSettings, toAISDK } from '../src/index.js';
import { type LoopbackOpenAI, startLoopbackOpenAI } from './loopback-openai.js';
import { openAIWireFetch, type Step } from './openai-wire-fetch.js';

const KEY = 'test-key-concurrency-5c1e8b3d7a9f';
const values = (count: number) => Array.from({ length: count }, (_, index) => `value ${index}`);

let server: LoopbackOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function loopbackModel(holdUntil: number, settings: ToAISDKSettings) {
  server = await startLoopbackOpenAI({ holdUntil });
  const model = createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).embedding('text-embedding-3-small');
  return { model: toAISDK(model, settings), server };
}

describe('toAISDK concurrency: requests in flight over every doEmbed of one model', () => {
  // Catches: each AI SDK chunk running as its own embedkit job with its own pool (21 in flight for concurrency 3).
  it('bounds the chunks of one AI SDK embedMany together when maxEmbeddingsPerCall is finite', async () => {
    const { model, server } = await loopbackModel(3, { maxEmbeddingsPerCall: 2, concurrency: 3 });
    const result = await embedMany({ model, values: values(42), dimensions: 4 });
    expect(server.maxInFlight()).toBe(3);
    expect(server.bodies).toHaveLength(21);
    expect(server.bodies.map((body) => body.input).sort()).toEqual(
      Array.from({ length: 21 }, (_, index) => [`value ${2 * index}`, `value ${2 * index + 1}`]).sort(),
    );
    expect(result.embeddings).toHaveLength(42);
    expect(result.usage).toEqual({ tokens: 42 });
  });

  // Catches: the same with concurrency 1, the reviewer's probe (20 in flight).
  it('sends one request at a time for concurrency 1, whatever the AI SDK runs in parallel', async () => {
    const { model, server } = await loopbackModel(1, { maxEmbeddingsPerCall: 2, concurrency: 1 });
    await embedMany({ model, values: values(12), dimensions: 4 });
    expect(server.maxInFlight()).toBe(1);
    expect(server.bodies.map((body) => body.input.length)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  // Catches: embedkit's default concurrency applying per chunk instead of per model.
  it('holds to embedkit’s default of 4 when no concurrency is given', async () => {
    const { model, server } = await loopbackModel(4, { maxEmbeddingsPerCall: 1 });
    await embedMany({ model, values: values(16), dimensions: 4 });
    expect(server.maxInFlight()).toBe(4);
    expect(server.bodies).toHaveLength(16);
  });

  // Catches: two application calls at once through one model object each getting their own pool.
  it('bounds concurrent AI SDK calls through the same model object together', async () => {
    const { model, server } = await loopbackModel(3, { maxInputsPerCall: 1, concurrency: 3 });
    const [first, second] = await Promise.all([
      embedMany({ model, values: values(6), dimensions: 4 }),
      embedMany({ model, values: values(6).map((value) => `other ${value}`), dimensions: 4 }),
    ]);
    expect(server.maxInFlight()).toBe(3);
    expect(server.bodies).toHaveLength(12);
    expect([first.embeddings.length, second.embeddings.length]).toEqual([6, 6]);
  });

  // The AI SDK hands all values to one doEmbed and never passes maxParallelCalls to the model.
  it('runs one doEmbed under embedkit’s concurrency: the AI SDK’s maxParallelCalls does not reach the model', async () => {
    const { model, server } = await loopbackModel(2, { maxInputsPerCall: 2, concurrency: 2 });
    await embedMany({ model, values: values(8), dimensions: 4, maxParallelCalls: 1 });
    expect(server.maxInFlight()).toBe(2);
    expect(server.bodies.map((body) => body.input.length)).toEqual([2, 2, 2, 2]);
  });

  // Catches: a model without parallel calls getting one call per concurrent doEmbed.
  it('sends one call at a time to a model without parallel calls, across doEmbed calls', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const mock = new MockEmbeddingModel({
      capabilities: { supportsParallelCalls: false },
      beforeCall: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
      },
    });
    const model = toAISDK(mock, { concurrency: 8 });
    await Promise.all(values(6).map((value) => embed({ model, value })));
    expect(mock.calls).toHaveLength(6);
    expect(maxInFlight).toBe(1);
  });

  it('refuses a concurrency that is not a whole number from 1 to 10,000 when the model is made', () => {
    const mock = new MockEmbeddingModel();
    for (const concurrency of [0, 1.5, Number.POSITIVE_INFINITY, 10_001, Number.NaN]) {
      expect(() => toAISDK(mock, { concurrency })).toThrow(InvalidArgumentError);
    }
    expect(() => toAISDK(mock, { concurrency: 10_000 })).not.toThrow();
  });

  it('shows a number given as text quoted when it refuses it', () => {
    const mock = new MockEmbeddingModel();
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error as InvalidArgumentError;
      }
      throw new Error('not refused');
    };
    expect(refusal(() => toAISDK(mock, { concurrency: '4' as never })).message).toBe(
      'concurrency must be a whole number from 1 to 10,000, got "4".',
    );
    expect(refusal(() => toAISDK(mock, { maxEmbeddingsPerCall: '64' as never })).message).toBe(
      'maxEmbeddingsPerCall must be a whole number from 1, or Infinity; got "64".',
    );
  });
});

describe('toAISDK concurrency: waiting for a free request', () => {
  function wireModel(steps: Step[], settings: ToAISDKSettings) {
    const wire = openAIWireFetch(steps);
    const model = createOpenAI({ apiKey: KEY, fetch: wire.fetch }).embedding('text-embedding-3-small');
    return { model: toAISDK(model, settings), requests: wire.requests };
  }

  it('ends a call aborted while it waits with the native AbortError, without sending it', async () => {
    const { model, requests } = wireModel(['hang'], { concurrency: 1 });
    const holding = new AbortController();
    const first = rejectionOf(embed({ model, value: 'first', abortSignal: holding.signal }));
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    const waiting = new AbortController();
    const second = rejectionOf(embed({ model, value: 'second', abortSignal: waiting.signal }));
    // One turn of the event loop: the AI SDK has called doEmbed, which now waits for the request in flight.
    await new Promise((resolve) => setImmediate(resolve));
    waiting.abort();
    expect((await second).name).toBe('AbortError');
    holding.abort();
    expect((await first).name).toBe('AbortError');
    expect(requests.map((request) => request.body.input)).toEqual([['first']]);
  });

  it('frees the requests of a failed call for the calls waiting behind it', async () => {
    const badRequest: Step = {
      status: 400,
      body: { error: { message: 'bad input', type: 'invalid_request_error' } },
    };
    const { model, requests } = wireModel([badRequest, 'answer'], { concurrency: 1, maxRetries: 0 });
    const [failed, answered] = await Promise.allSettled([
      embed({ model, value: 'first' }),
      embed({ model, value: 'second' }),
    ]);
    expect(failed.status).toBe('rejected');
    expect(answered.status).toBe('fulfilled');
    expect(requests.map((request) => request.body.input)).toEqual([['first'], ['second']]);
  });
});

describe('toAISDK usage', () => {
  // Catches: the engine's absent usage for a job with no call reaching the AI SDK, which sums NaN.
  it('reports 0 tokens for no values, and sends nothing', async () => {
    const { fetch, requests } = openAIWireFetch();
    const model = toAISDK(createOpenAI({ apiKey: KEY, fetch }).embedding('text-embedding-3-small'));
    const result = await embedMany({ model, values: [] });
    expect(result.embeddings).toEqual([]);
    expect(result.usage).toEqual({ tokens: 0 });
    expect(requests).toHaveLength(0);
  });

  it('reports no usage when the API reports none: the AI SDK shows NaN, as for its own providers', async () => {
    const mock = new MockEmbeddingModel({ usage: false });
    const result = await embedMany({ model: toAISDK(mock), values: ['a', 'b'] });
    expect(result.usage.tokens).toBeNaN();
    expect(mock.calls).toHaveLength(1);
  });
});
