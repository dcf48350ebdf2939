import { MockEmbeddingModel } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackOpenAI, startLoopbackOpenAI } from '../../ai-sdk/test/loopback-openai.js';
import { thrownInvalidArgument } from '../../ai-sdk/test/rejection.js';
import { EmbedkitEmbeddings, type EmbedkitEmbeddingsParams } from '../src/index.js';

const KEY = 'test-key-langchain-9d2f4a6c8e1b';
const documents = (count: number) => Array.from({ length: count }, (_, index) => `doc ${index}`);

let server: LoopbackOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function loopbackModel(holdUntil: number) {
  server = await startLoopbackOpenAI({ holdUntil });
  return {
    model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).embedding('text-embedding-3-small'),
    server,
  };
}

describe("LangChain's maxConcurrency", () => {
  // Catches: maxConcurrency passed through to the engine unread (embedkit's default 4 in flight).
  it('is the most requests in flight of an embedDocuments call: 1', async () => {
    const { model, server } = await loopbackModel(1);
    const embeddings = new EmbedkitEmbeddings({
      model,
      maxConcurrency: 1,
      maxInputsPerCall: 1,
      dimensions: 4,
    });
    const vectors = await embeddings.embedDocuments(documents(8));
    expect(server.maxInFlight()).toBe(1);
    expect(server.bodies.map((body) => body.input)).toEqual(documents(8).map((document) => [document]));
    expect(vectors).toHaveLength(8);
  });

  it('is the most requests in flight of an embedDocuments call: 3', async () => {
    const { model, server } = await loopbackModel(3);
    const embeddings = new EmbedkitEmbeddings({
      model,
      maxConcurrency: 3,
      maxInputsPerCall: 1,
      dimensions: 4,
    });
    await embeddings.embedDocuments(documents(9));
    expect(server.maxInFlight()).toBe(3);
    expect(server.bodies).toHaveLength(9);
  });

  it('may be given as concurrency too, but not as two different values', () => {
    const model = new MockEmbeddingModel();
    expect(() => new EmbedkitEmbeddings({ model, maxConcurrency: 2, concurrency: 2 })).not.toThrow();
    const error = thrownInvalidArgument(
      () => new EmbedkitEmbeddings({ model, maxConcurrency: 2, concurrency: 3 }),
    );
    expect(error.argument).toBe('maxConcurrency');
    expect(error.message).toBe('maxConcurrency (2) and concurrency (3) are one setting; give one of them.');
  });

  it('must be a number of requests the engine can run: LangChain’s Infinity is refused', () => {
    const model = new MockEmbeddingModel();
    for (const maxConcurrency of [0, 2.5, Number.POSITIVE_INFINITY, 10_001]) {
      expect(thrownInvalidArgument(() => new EmbedkitEmbeddings({ model, maxConcurrency })).argument).toBe(
        'maxConcurrency',
      );
    }
  });

  it('a number given as text is shown quoted, not as the number it reads as', () => {
    const model = new MockEmbeddingModel();
    const error = thrownInvalidArgument(
      () => new EmbedkitEmbeddings({ model, maxConcurrency: '4' as never }),
    );
    expect(error.message).toBe(
      'maxConcurrency (embedkit\'s concurrency) must be a whole number from 1 to 10,000, got "4".',
    );
    const two = thrownInvalidArgument(
      () => new EmbedkitEmbeddings({ model, maxConcurrency: 2, concurrency: '2' as never }),
    );
    expect(two.message).toBe('maxConcurrency (2) and concurrency ("2") are one setting; give one of them.');
  });
});

describe('parameters EmbedkitEmbeddings does not have', () => {
  // Catches: batchSize accepted and ignored (one call of 16 inputs).
  it('refuses batchSize, naming maxInputsPerCall', () => {
    const model = new MockEmbeddingModel();
    const params = { model, batchSize: 4 } as unknown as EmbedkitEmbeddingsParams;
    const error = thrownInvalidArgument(() => new EmbedkitEmbeddings(params));
    expect(error.argument).toBe('batchSize');
    expect(error.message).toBe(
      'EmbedkitEmbeddings has no parameter batchSize: the engine packs each call by the model’s count and token limits; to send fewer inputs per call, pass maxInputsPerCall.',
    );
  });

  // Catches: LangChain's onFailedAttempt accepted although LangChain's caller never runs.
  it('refuses onFailedAttempt and any parameter of another class', () => {
    const model = new MockEmbeddingModel();
    const failedAttempt = thrownInvalidArgument(
      () =>
        new EmbedkitEmbeddings({ model, onFailedAttempt: () => {} } as unknown as EmbedkitEmbeddingsParams),
    );
    expect(failedAttempt.argument).toBe('onFailedAttempt');
    expect(failedAttempt.message).toMatch(/onRetry/);
    const stripNewLines = thrownInvalidArgument(
      () => new EmbedkitEmbeddings({ model, stripNewLines: true } as unknown as EmbedkitEmbeddingsParams),
    );
    expect(stripNewLines.message).toBe(
      'EmbedkitEmbeddings has no parameter stripNewLines: texts are sent as given; replace their newlines first if the model needs it.',
    );
    const typo = thrownInvalidArgument(
      () => new EmbedkitEmbeddings({ model, dimension: 3 } as unknown as EmbedkitEmbeddingsParams),
    );
    expect(typo.message).toBe('EmbedkitEmbeddings has no parameter dimension; did you mean dimensions?');
    expect(stripNewLines.argument).toBe('stripNewLines');
  });

  it('accepts every parameter it documents', () => {
    const model = new MockEmbeddingModel();
    expect(
      () =>
        new EmbedkitEmbeddings({
          model,
          documentInputType: 'document',
          queryInputType: 'query',
          maxConcurrency: 2,
          dimensions: 4,
          truncate: false,
          strict: false,
          maxInputsPerCall: 8,
          headers: { 'x-trace': 'a' },
          providerOptions: { mock: {} },
          maxRetries: 1,
          maxRetryDelayMs: 10,
          timeoutMs: 1000,
          onProgress: () => {},
          onRetry: () => {},
          onWait: () => {},
          onWarning: () => {},
        }),
    ).not.toThrow();
  });
});
