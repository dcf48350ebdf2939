/**
 * A 429 on a per-day limit (requests per day, RPD, or tokens per day, TPD) has a hint of its own: wait
 * until the time the API names, or raise the usage tier. Lowering concurrency or pacing the calls cannot
 * bring a day's limit back, so the per-minute hint is not given for it.
 */
import { embedMany, RateLimitError } from '@embedkit/core';
import { fakeFetch, recordingClock, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createOpenAI, parseOpenAIError } from '../src/index.js';

// Fake key material only.
const KEY = 'sk-fake-not-a-real-key-openai-per-day-hint';

const PER_DAY_HINT =
  "A per-day limit of the organization (requests or tokens per day) is used up, which lowering concurrency or a rateLimit cannot help: wait until the time the API names, or raise the organization's usage tier; the engine retries these.";

const TOKENS_PER_DAY =
  'Rate limit reached for text-embedding-3-small in organization org-fake000000000000000000 on tokens per day (TPD): Limit 3000000, Used 2999990, Requested 120. Please try again in 2h1m4.5s. Visit https://platform.openai.com/account/rate-limits to learn more.';

const REQUESTS_PER_DAY =
  'Rate limit reached for text-embedding-3-small in organization org-fake000000000000000000 on requests per day (RPD): Limit 200, Used 200, Requested 1. Please try again in 7m12s. Visit https://platform.openai.com/account/rate-limits to learn more.';

const PER_MINUTE =
  'Rate limit reached for text-embedding-3-small in organization org-fake000000000000000000 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.';

function rateLimited(message: string, type: string) {
  return { error: { message, type, param: null, code: 'rate_limit_exceeded' } };
}

describe('the hint of a 429 on a per-day limit', () => {
  it('tokens per day: the per-day hint, with the wait the message names', () => {
    expect(parseOpenAIError(rateLimited(TOKENS_PER_DAY, 'tokens'))).toStrictEqual({
      message: TOKENS_PER_DAY,
      providerCode: 'rate_limit_exceeded',
      retryAfterMs: 7_264_500,
      hint: PER_DAY_HINT,
    });
  });

  it('requests per day: the per-day hint', () => {
    expect(parseOpenAIError(rateLimited(REQUESTS_PER_DAY, 'requests')).hint).toBe(PER_DAY_HINT);
  });

  it('requests per minute keeps the usual hint (none from the reader)', () => {
    expect(parseOpenAIError(rateLimited(PER_MINUTE, 'requests'))).toStrictEqual({
      message: PER_MINUTE,
      providerCode: 'rate_limit_exceeded',
      retryAfterMs: 20_000,
    });
  });

  it('a used-up quota keeps the quota hint, even when its message speaks of a day', () => {
    const message = 'You exceeded your current quota of tokens per day (TPD); please check your plan.';
    expect(
      parseOpenAIError({ error: { message, type: 'insufficient_quota', code: 'insufficient_quota' } }),
    ).toStrictEqual({ message, providerCode: 'insufficient_quota', quotaExhausted: true });
  });

  it('embedMany fails at once on tokens per day, the hint naming the wait and no per-minute advice', async () => {
    const clock = recordingClock();
    const server = fakeFetch([
      {
        status: 429,
        headers: { 'x-request-id': 'req_fake_tpd' },
        body: rateLimited(TOKENS_PER_DAY, 'tokens'),
      },
    ]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const error = await rejectionOf(embedMany({ model, inputs: ['hello'], dimensions: 2, clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      providerCode: 'rate_limit_exceeded',
      requestId: 'req_fake_tpd',
      retryAfterMs: 7_264_500,
      quotaExhausted: false,
      isRetryable: true,
    });
    expect((error as Error).message).toBe(
      `openai API error 429: ${TOKENS_PER_DAY} — A per-day limit of the organization (requests or tokens per day) is used up, which lowering concurrency or a rateLimit cannot help: wait until the time the API names, or raise the organization's usage tier; the API asked to wait 7265 s, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after 7265 s, or set maxRetryDelayMs to 7264500 for the engine to wait it out.`,
    );
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});
