import { createFakeClock } from '@embedkit/conformance';
import { cosineSimilarity as embedkitCosine, InvalidArgumentError, RetryError } from '@embedkit/core';
import { MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { cosineSimilarity, embed, embedMany } from 'ai';
import { describe, expect, it, vi } from 'vitest';
import { type ToAISDKSettings, toAISDK } from '../src/index.js';
import { expectedVector, openAIWireFetch, type Step } from './openai-wire-fetch.js';

const KEY = 'test-key-toaisdk-7e3f9a1c5b2d';
const texts = ['pets and animals', 'The cat sat on the mat', 'Dogs are loyal companions', 'Python', 'Sunny'];

function openAIModel(steps: Step[] = [], settings: ToAISDKSettings = {}) {
  const server = openAIWireFetch(steps);
  const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
  return { model: toAISDK(model, settings), requests: server.requests };
}

describe('toAISDK with ai embedMany', () => {
  it("hands every value to one doEmbed, where embedkit's engine splits by the model's limits, in input order", async () => {
    const { model, requests } = openAIModel([], { maxInputsPerCall: 2, concurrency: 1 });
    const result = await embedMany({ model, values: texts, dimensions: 16 });
    expect(requests.map((request) => request.body)).toEqual([
      {
        model: 'text-embedding-3-small',
        input: texts.slice(0, 2),
        encoding_format: 'base64',
        dimensions: 16,
      },
      {
        model: 'text-embedding-3-small',
        input: texts.slice(2, 4),
        encoding_format: 'base64',
        dimensions: 16,
      },
      { model: 'text-embedding-3-small', input: texts.slice(4), encoding_format: 'base64', dimensions: 16 },
    ]);
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 16)));
    expect(result.embeddings.every((vector) => Array.isArray(vector))).toBe(true);
    // One token per input, summed over the three HTTP calls of the one doEmbed.
    expect(result.usage).toEqual({ tokens: 5 });
    expect(result.responses).toHaveLength(1);
    expect(result.responses?.[0]?.headers?.['x-request-id']).toBe('req-1');
    expect(result.providerMetadata).toEqual({
      embedkit: {
        calls: [
          { status: 200, requestId: 'req-1', modelId: 'text-embedding-3-small' },
          { status: 200, requestId: 'req-2', modelId: 'text-embedding-3-small' },
          { status: 200, requestId: 'req-3', modelId: 'text-embedding-3-small' },
        ],
      },
    });
  });

  it('puts answers that come back out of order in input order', async () => {
    const { model } = openAIModel([{ reverse: true }]);
    const result = await embedMany({ model, values: texts.slice(0, 3), dimensions: 8 });
    expect(result.embeddings).toEqual(texts.slice(0, 3).map((text) => expectedVector(text, 8)));
  });

  it('declares maxEmbeddingsPerCall Infinity by default, or the given limit, and the model’s parallel calls', async () => {
    const { model } = openAIModel();
    expect(model.maxEmbeddingsPerCall).toBe(Number.POSITIVE_INFINITY);
    expect(model.supportsParallelCalls).toBe(true);
    const serial = new MockEmbeddingModel({ capabilities: { supportsParallelCalls: false } });
    expect(toAISDK(serial).supportsParallelCalls).toBe(false);

    const { model: limited, requests } = openAIModel([], { maxEmbeddingsPerCall: 2 });
    const result = await embedMany({ model: limited, values: texts, dimensions: 8, maxParallelCalls: 1 });
    expect(requests.map((request) => request.body.input.length)).toEqual([2, 2, 1]);
    expect(result.responses).toHaveLength(3);
    expect(result.usage).toEqual({ tokens: 5 });
    expect(() => toAISDK(serial, { maxEmbeddingsPerCall: 0 })).toThrow(InvalidArgumentError);
  });

  it('refuses a setting it does not read when it is made, not at the first call (maxParallelCall, dimensions)', () => {
    const model = new MockEmbeddingModel();
    const refused = (settings: object) => {
      try {
        toAISDK(model, settings as ToAISDKSettings);
      } catch (error) {
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        return (error as InvalidArgumentError).message;
      }
      return expect.fail('toAISDK took the settings');
    };
    expect(refused({ concurrensy: 2 })).toBe('toAISDK has no setting concurrensy; did you mean concurrency?');
    expect(refused({ dimensions: 8 })).toBe(
      'toAISDK has no setting dimensions: the AI SDK passes it with each call.',
    );
    expect(refused({ maxParallelCalls: 2 })).toBe(
      'toAISDK has no setting maxParallelCalls: requests in flight are bounded by concurrency, here; the AI SDK’s maxParallelCalls never reaches the model.',
    );
  });

  it('passes provider options to the provider and reads embedkit’s own from providerOptions.embedkit', async () => {
    const mock = new MockEmbeddingModel({ provider: 'mock' });
    await embedMany({
      model: toAISDK(mock),
      values: ['a', 'b'],
      providerOptions: { mock: { flavour: 'x' }, embedkit: { inputType: 'query', truncate: true } },
    });
    expect(mock.calls).toHaveLength(1);
    expect(mock.calls[0]).toMatchObject({
      inputs: ['a', 'b'],
      inputType: 'query',
      truncate: true,
      providerOptions: { mock: { flavour: 'x' } },
    });
    expect(mock.calls[0]!.providerOptions).not.toHaveProperty('embedkit');

    const { model, requests } = openAIModel();
    await embed({ model, value: 'x', providerOptions: { openai: { user: 'user-1234' } } });
    expect(requests[0]!.body).toEqual({
      model: 'text-embedding-3-small',
      input: ['x'],
      encoding_format: 'base64',
      user: 'user-1234',
    });
  });

  it('refuses a bad embedkit option or dimensions the model lacks before any request', async () => {
    const { model, requests } = openAIModel();
    const badOption = await rejectionOf(
      embedMany({ model, values: ['x'], providerOptions: { embedkit: { inputType: 'questions' } } }),
    );
    expect(InvalidArgumentError.isInstance(badOption)).toBe(true);
    expect(badOption.argument).toBe('providerOptions.embedkit');
    const badDimensions = await rejectionOf(embedMany({ model, values: ['x'], dimensions: 4096 }));
    expect(InvalidArgumentError.isInstance(badDimensions)).toBe(true);
    expect(badDimensions.argument).toBe('dimensions');
    expect(requests).toHaveLength(0);
  });

  it('reports what the model could not honour as AI SDK warnings', async () => {
    const mock = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    const result = await embedMany({
      model: toAISDK(mock),
      values: ['x'],
      providerOptions: { embedkit: { inputType: 'document' } },
    });
    expect(result.warnings).toEqual([
      {
        type: 'unsupported',
        feature: 'inputType',
        details: 'mock model mock-embedding has no "document" input type; the inputs were sent without one.',
      },
    ]);
    expect(mock.calls[0]!.inputType).toBeUndefined();
  });

  it('sends the caller’s headers and names both clients in the user-agent', async () => {
    const { model, requests } = openAIModel();
    await embed({ model, value: 'x', headers: { 'x-trace-id': 'trace-1' } });
    expect(requests[0]!.headers['x-trace-id']).toBe('trace-1');
    expect(requests[0]!.headers['user-agent']).toMatch(/^embedkit\/\S+ ai\/\d+\.\d+\.\d+/);
  });
});

describe('toAISDK retries and aborts', () => {
  const unavailable: Step = {
    status: 503,
    body: { error: { message: 'unavailable', type: 'server_error' } },
  };

  it('retries inside embedkit only: a failing call makes maxRetries + 1 requests, not their product', async () => {
    const clock = createFakeClock();
    const { model, requests } = openAIModel([unavailable], { maxRetries: 2, clock });
    // The AI SDK's own maxRetries (default 2) never applies: embedkit's errors are not its APICallError.
    const error = await rejectionOf(embedMany({ model, values: ['x'] }));
    expect(requests).toHaveLength(3);
    expect(RetryError.isInstance(error)).toBe(true);
    expect(error.code).toBe('retries_exhausted');
    expect(clock.sleeps).toHaveLength(2);
  });

  it('waits as the server asks and succeeds on the retry', async () => {
    const clock = createFakeClock();
    const limited: Step = {
      status: 429,
      headers: { 'retry-after-ms': '1500' },
      body: { error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } },
    };
    const { model, requests } = openAIModel([limited, 'answer'], { clock });
    const result = await embed({ model, value: 'pets and animals', maxRetries: 0 });
    expect(requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([1500]);
    expect(result.embedding).toEqual(expectedVector('pets and animals', 1536));
  });

  it('ends the request on the wire when the AI SDK call is aborted, with the native AbortError', async () => {
    const { model, requests } = openAIModel(['hang']);
    const controller = new AbortController();
    const pending = rejectionOf(embedMany({ model, values: ['x'], abortSignal: controller.signal }));
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    controller.abort();
    const error = await pending;
    expect(error.name).toBe('AbortError');
    expect(requests[0]!.signal?.aborted).toBe(true);
    expect(requests).toHaveLength(1);
  });
});

describe('toAISDK with ai embed and cosineSimilarity', () => {
  it('gives vectors whose AI SDK cosine equals embedkit’s', async () => {
    const { model } = openAIModel();
    const query = await embed({ model, value: texts[0]!, dimensions: 32 });
    const documents = await embedMany({ model, values: texts.slice(1), dimensions: 32 });
    expect(query.embedding).toEqual(expectedVector(texts[0]!, 32));
    expect(query.usage).toEqual({ tokens: 1 });
    expect(query.response?.headers?.['x-request-id']).toBe('req-1');
    for (const [index, vector] of documents.embeddings.entries()) {
      expect(cosineSimilarity(query.embedding, vector)).toBeCloseTo(
        embedkitCosine(
          Float32Array.from(expectedVector(texts[0]!, 32)),
          Float32Array.from(expectedVector(texts[index + 1]!, 32)),
        ),
        12,
      );
    }
  });
});
