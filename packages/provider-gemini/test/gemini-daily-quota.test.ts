/**
 * A 429 whose `QuotaFailure` names a per-day quota: not retried (seconds of waiting do not bring it
 * back), and its hint says the quota comes back at the daily reset, not that it must be raised. A
 * per-minute quota keeps the usual rate-limit hint and is retried after its `RetryInfo`.
 */
import { embedMany, RateLimitError } from '@embedkit/core';
import { recordingClock } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createGemini, parseGeminiError } from '../src/index.js';
import { FAKE_KEY, failure, fakeFetch, quotaExhausted, values } from './fake-fetch.js';

const WAIT_HEADERS = { 'retry-after': '30', 'x-ratelimit-reset': '45' };

const DAILY_HINT =
  'A per-day quota of the project is used up; the Gemini API resets per-day quotas at midnight Pacific time: wait for the reset, or raise the project’s usage tier in Google AI Studio; retrying sooner will not help.';

const EXCEEDED =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/embed_content_free_tier_requests, limit: 1000, model: gemini-embedding-001\nPlease retry in 38.2s.';

describe('a per-day Gemini quota', () => {
  it.each([
    ['without wait headers', {}],
    ['with Retry-After and x-ratelimit-reset', WAIT_HEADERS],
  ])('fails at once %s as a used-up quota, with no retryAfterMs and the daily hint', async (_, headers) => {
    const clock = recordingClock();
    const { fetch, sent } = fakeFetch([
      {
        ...quotaExhausted('EmbedContentRequestsPerDayPerUserPerProjectPerModel-FreeTier', '38s', EXCEEDED),
        headers,
      },
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const error = await failure(embedMany({ model, inputs: ['a'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      providerCode: 'RESOURCE_EXHAUSTED',
      quotaExhausted: true,
      isRetryable: false,
    });
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.message).toBe(`gemini API error 429: ${EXCEEDED} — ${DAILY_HINT}`);
    expect(sent).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('parseGeminiError gives the daily hint with quotaExhausted', () => {
    const { body } = quotaExhausted('EmbedContentRequestsPerDayPerProjectPerModel-FreeTier', '2s', EXCEEDED);
    // The RetryInfo wait is read as on any 429; core's error for a used-up quota drops it.
    expect(parseGeminiError(body, 429)).toStrictEqual({
      message: EXCEEDED,
      providerCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 2_000,
      quotaExhausted: true,
      hint: DAILY_HINT,
    });
  });

  it.each([
    ['its RetryInfo', {}, 11_000],
    ['a Retry-After, which wins over RetryInfo', WAIT_HEADERS, 30_000],
  ])('a per-minute quota keeps the rate-limit hint and is retried after %s', async (_, headers, wait) => {
    const clock = recordingClock();
    const { fetch, sent } = fakeFetch([
      {
        ...quotaExhausted('EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier', '11s', EXCEEDED),
        headers,
      },
      { body: { embedding: { values: values(3072, [1]) } } },
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const result = await embedMany({ model, inputs: ['a'], clock });
    expect(result.embeddings).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(clock.sleeps).toEqual([wait]);
    const { body } = quotaExhausted(
      'EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier',
      '11s',
      EXCEEDED,
    );
    expect(parseGeminiError(body, 429)).toStrictEqual({
      message: EXCEEDED,
      providerCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 11_000,
    });
  });
});
