/**
 * A tokensPerMinute budget given to the class caps each call at the budget, and a 429 whose body is cut
 * short reaches LangChain's callers as a RateLimitError with its wait, one request per attempt.
 */
import { createFakeClock } from '@embedkit/conformance';
import { createRateLimiter, InvalidArgumentError, type TokenCounter } from '@embedkit/core';
import { MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { describe, expect, it } from 'vitest';
import {
  cutRateLimitMessage,
  expectCutRateLimit,
  expectRetriedCutRateLimit,
  startCutRateLimitServer,
} from '../../ai-sdk/test/loopback-openai.js';
import { EmbedkitEmbeddings } from '../src/index.js';

/** A token a character, said to be exact. */
const exactCharacters: TokenCounter = {
  exact: true,
  count: (input) => (typeof input === 'string' ? input.length : 0),
};

describe('a tokensPerMinute budget given to EmbedkitEmbeddings', () => {
  it('caps each call at the budget, and refuses an input over it counted exactly', async () => {
    const model = new MockEmbeddingModel({ dimensions: 2 });
    const embeddings = new EmbedkitEmbeddings({
      model,
      rateLimit: createRateLimiter({ tokensPerMinute: 10 }),
      tokenCounter: exactCharacters,
      clock: createFakeClock(),
    });
    expect(await embeddings.embedDocuments(['aaaa', 'bbbb', 'cccc'])).toHaveLength(3);
    expect(model.calls.map((call) => call.inputs)).toStrictEqual([['aaaa', 'bbbb'], ['cccc']]);

    const error = await rejectionOf(embeddings.embedQuery('a'.repeat(11)));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(
      "Input 0 has 11 tokens, more than the rate limit's budget of 10 tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.",
    );
    expect(model.calls).toHaveLength(2);
  });
});

describe('a 429 whose body is cut short', () => {
  it('is a RateLimitError with its wait, one request per attempt', async () => {
    const server = await startCutRateLimitServer();
    try {
      const model = createOpenAI({ apiKey: 'sk-fake-not-a-real-key-abc', baseURL: server.baseURL }).embedding(
        'text-embedding-3-small',
      );

      const error = await rejectionOf(new EmbedkitEmbeddings({ model, maxRetries: 0 }).embedDocuments(['x']));
      expectCutRateLimit(error);
      expect(error.message).toBe(cutRateLimitMessage('UND_ERR_SOCKET other side closed'));
      expect(server.requests()).toBe(1);

      const embeddings = new EmbedkitEmbeddings({ model, maxRetries: 1, clock: createFakeClock() });
      expectRetriedCutRateLimit(await rejectionOf(embeddings.embedQuery('x')), server.requests());
    } finally {
      await server.close();
    }
  });
});
