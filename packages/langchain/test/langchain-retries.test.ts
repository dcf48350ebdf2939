import { createFakeClock } from '@embedkit/conformance';
import { RetryError, ServerError } from '@embedkit/core';
import { MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { EmbedkitEmbeddings } from '../src/index.js';
import { refusal } from './refusal.js';

describe("LangChain's maxRetries", () => {
  it('is the retries of the query call too: maxRetries 1 makes two attempts, then a RetryError', async () => {
    const model = new MockEmbeddingModel({
      beforeCall: () => {
        throw new ServerError('mock API error 503: unavailable', { statusCode: 503 });
      },
    });
    const embeddings = new EmbedkitEmbeddings({ model, maxRetries: 1, clock: createFakeClock() });
    const error = await embeddings.embedQuery('q').then(
      () => expect.unreachable('embedQuery resolved; it had to fail'),
      (caught: unknown) => caught,
    );
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).code).toBe('retries_exhausted');
    expect(model.calls).toHaveLength(2);
  });

  it('refuses LangChain’s Infinity on both sides, naming maxRetries and its range, before any request', async () => {
    const model = new MockEmbeddingModel();
    const embeddings = new EmbedkitEmbeddings({ model, maxRetries: Number.POSITIVE_INFINITY });
    for (const error of [
      await refusal(embeddings.embedDocuments(['a'])),
      await refusal(embeddings.embedQuery('q')),
    ]) {
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe('maxRetries');
      expect(error.message).toBe('maxRetries must be a whole number from 0 to 100, got Infinity.');
    }
    expect(model.calls).toHaveLength(0);
  });
});
