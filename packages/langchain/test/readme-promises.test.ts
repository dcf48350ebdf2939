/**
 * What the README promises about the vectors, the defaults and the warnings: each Float32 vector in a
 * buffer of its own, embedkit's default of 4 requests in flight and 3 retries, and each distinct warning
 * of a job printed once however many API calls the job makes.
 */
import { createFakeClock } from '@embedkit/conformance';
import { RetryError, ServerError } from '@embedkit/core';
import { fakeFetch, MockEmbeddingModel } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbedkitEmbeddings } from '../src/index.js';
import { countingModel } from './counting-model.js';

const KEY = 'test-key-langchain-readme-3c7e';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the Float32 path', () => {
  it('hands back each vector of one API call in a buffer of its own, exactly its bytes', async () => {
    // Two base64 vectors in one answer: [1, 2] and [3, 4] as little-endian float32.
    const server = fakeFetch([
      {
        body: {
          object: 'list',
          data: [
            { object: 'embedding', index: 0, embedding: 'AACAPwAAAEA=' },
            { object: 'embedding', index: 1, embedding: 'AABAQAAAgEA=' },
          ],
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 2, total_tokens: 2 },
        },
      },
    ]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const vectors = await new EmbedkitEmbeddings({ model, dimensions: 2 }).embedDocumentsFloat32(['a', 'b']);
    expect(server.requests).toHaveLength(1);
    expect(vectors.map((vector) => Array.from(vector))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(vectors.map((vector) => [vector.byteOffset, vector.buffer.byteLength])).toEqual([
      [0, 8],
      [0, 8],
    ]);
    expect(vectors[0]!.buffer).not.toBe(vectors[1]!.buffer);
  });
});

describe('defaults taken from embedkit', () => {
  it('runs at most 4 requests of one embedDocuments call at once when no concurrency is given', async () => {
    const { model, maxInFlight } = countingModel();
    const texts = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const vectors = await new EmbedkitEmbeddings({ model, maxInputsPerCall: 1 }).embedDocuments(texts);
    expect(vectors).toHaveLength(8);
    expect(model.calls).toHaveLength(8);
    expect(maxInFlight()).toBe(4);
  });

  it('retries a failing call 3 times when no maxRetries is given: 4 attempts, then a RetryError', async () => {
    const model = new MockEmbeddingModel({
      beforeCall: () => {
        throw new ServerError('mock API error 503: unavailable', { statusCode: 503 });
      },
    });
    const embeddings = new EmbedkitEmbeddings({ model, clock: createFakeClock() });
    const error = await embeddings.embedQuery('q').then(
      () => expect.unreachable('embedQuery resolved; it had to fail'),
      (caught: unknown) => caught,
    );
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).code).toBe('retries_exhausted');
    expect((error as RetryError).attempts).toBe(4);
    expect(model.calls).toHaveLength(4);
  });
});

describe('warnings without onWarning', () => {
  it('prints a warning every API call of a job repeats once for the job', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    const embeddings = new EmbedkitEmbeddings({ model, documentInputType: 'document', maxInputsPerCall: 1 });
    await embeddings.embedDocuments(['a', 'b', 'c']);
    expect(model.calls).toHaveLength(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(
      /^embedkit: mock model mock-embedding has no "document" input type/,
    );
  });
});
