/**
 * A tokensPerMinute budget given to the class caps each call at the budget, and a 429 whose body is cut
 * short reaches LangChain's callers as a RateLimitError with its wait, one request per attempt.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeClock } from '@embedkit/conformance';
import {
  createRateLimiter,
  InvalidArgumentError,
  RateLimitError,
  RetryError,
  type TokenCounter,
} from '@embedkit/core';
import { MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { describe, expect, it } from 'vitest';
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
    let requests = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        requests++;
        response.writeHead(429, {
          'content-type': 'application/json',
          'content-length': '200',
          'retry-after-ms': '30',
        });
        response.write('{"error":{"mess', () => response.socket?.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const model = createOpenAI({
        apiKey: 'sk-fake-not-a-real-key-abc',
        baseURL: `http://127.0.0.1:${port}/v1`,
      }).embedding('text-embedding-3-small');

      const error = await rejectionOf(new EmbedkitEmbeddings({ model, maxRetries: 0 }).embedDocuments(['x']));
      expect(RateLimitError.isInstance(error)).toBe(true);
      expect(error.code).toBe('rate_limited');
      expect(error.statusCode).toBe(429);
      expect(error.retryAfterMs).toBe(30);
      expect(error.message).toBe(
        'openai API error 429: its body could not be read whole (UND_ERR_SOCKET other side closed) — Lower concurrency or set rateLimit; retries are turned off (maxRetries 0), so none was made.',
      );
      expect(requests).toBe(1);

      const embeddings = new EmbedkitEmbeddings({ model, maxRetries: 1, clock: createFakeClock() });
      const retried = await rejectionOf(embeddings.embedQuery('x'));
      expect(RetryError.isInstance(retried)).toBe(true);
      expect(retried.code).toBe('retries_exhausted');
      expect(RateLimitError.isInstance(retried.lastError)).toBe(true);
      expect((retried.lastError as RateLimitError).retryAfterMs).toBe(30);
      expect(requests).toBe(3);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
