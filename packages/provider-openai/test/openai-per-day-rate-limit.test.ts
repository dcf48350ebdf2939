/**
 * A 429 on a per-day limit asks for minutes ("Please try again in 7m12s"), longer than the engine's
 * retries can wait under maxRetryDelayMs: every retry would come early and be refused again, so the call
 * fails at once, its hint saying how long the API asked for and how to wait it out.
 */
import { type Clock, embedMany, RateLimitError } from '@embedkit/core';
import { fakeFetch, recordingClock, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

// Fake key material only.
const KEY = 'sk-fake-not-a-real-key-openai-per-day';

const PER_DAY =
  'Rate limit reached for text-embedding-3-small in organization org-fake000000000000000000 on requests per day (RPD): Limit 200, Used 200, Requested 1. Please try again in 7m12s. Visit https://platform.openai.com/account/rate-limits to learn more.';

/** The 429 OpenAI sends when the day's requests are used up: no Retry-After, the wait in the message. */
const perDay = {
  status: 429,
  headers: { 'x-request-id': 'req_fake_per_day' },
  body: { error: { message: PER_DAY, type: 'requests', param: null, code: 'rate_limit_exceeded' } },
};

const ANSWER = {
  body: {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 1, total_tokens: 1 },
  },
};

function run(
  server: ReturnType<typeof fakeFetch>,
  clock: Clock,
  settings: { maxRetryDelayMs?: number } = {},
) {
  const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
  return embedMany({ model, inputs: ['hello'], dimensions: 2, clock, ...settings });
}

describe('429 on requests per day', () => {
  it('fails at once, saying how long the API asked to wait and how to wait it out', async () => {
    const clock = recordingClock();
    const server = fakeFetch([perDay, perDay, perDay, perDay]);
    const error = await rejectionOf(run(server, clock));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      providerCode: 'rate_limit_exceeded',
      requestId: 'req_fake_per_day',
      retryAfterMs: 432_000,
      quotaExhausted: false,
    });
    expect((error as Error).message).toBe(
      `openai API error 429: ${PER_DAY} — A per-day limit of the organization (requests or tokens per day) is used up, which lowering concurrency or a rateLimit cannot help: wait until the time the API names, or raise the organization's usage tier; the API asked to wait 432 s, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after 432 s, or set maxRetryDelayMs to 432000 for the engine to wait it out.`,
    );
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('is waited out in one wait when maxRetryDelayMs covers it', async () => {
    const clock = recordingClock();
    const server = fakeFetch([perDay, ANSWER]);
    const result = await run(server, clock, { maxRetryDelayMs: 432_000 });
    expect(result.embeddings).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([432_000]);
  });
});
