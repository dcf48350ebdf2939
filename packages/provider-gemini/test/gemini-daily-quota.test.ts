/**
 * A 429 whose `QuotaFailure` names a per-day quota: not retried (seconds of waiting do not bring it
 * back), and its hint says the quota comes back at the daily reset, not that it must be raised. A
 * per-minute quota keeps the usual rate-limit hint and is retried after its `RetryInfo`.
 */
import { embedMany, RateLimitError } from '@embedkit/core';
import { recordingClock } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createGemini, parseGeminiError } from '../src/index.js';
import { FAKE_KEY, failure, fakeFetch, values } from './fake-fetch.js';

const DAILY_HINT =
  'A per-day quota of the project is used up; the Gemini API resets per-day quotas at midnight Pacific time: wait for the reset, or raise the project’s usage tier in Google AI Studio; retrying sooner will not help.';

const EXCEEDED =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/embed_content_free_tier_requests, limit: 1000, model: gemini-embedding-001\nPlease retry in 38.2s.';

/** The 429 the Gemini API sends for a used-up quota named by `quotaId`, with its three details. */
function exhausted(quotaId: string, retryDelay: string) {
  return {
    status: 429,
    body: {
      error: {
        code: 429,
        message: EXCEEDED,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/embed_content_free_tier_requests',
                quotaId,
                quotaDimensions: { location: 'global', model: 'gemini-embedding-001' },
                quotaValue: '1000',
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [
              {
                description: 'Learn more about Gemini API quotas',
                url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
        ],
      },
    },
  };
}

describe('a per-day Gemini quota', () => {
  it('fails at once as a used-up quota whose hint says to wait for the daily reset', async () => {
    const clock = recordingClock();
    const { fetch, sent } = fakeFetch([
      exhausted('EmbedContentRequestsPerDayPerUserPerProjectPerModel-FreeTier', '38s'),
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
      retryAfterMs: 38_000,
    });
    expect(error.message).toBe(`gemini API error 429: ${EXCEEDED} — ${DAILY_HINT}`);
    expect(sent).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('parseGeminiError gives the daily hint with quotaExhausted', () => {
    const { body } = exhausted('EmbedContentRequestsPerDayPerProjectPerModel-FreeTier', '2s');
    expect(parseGeminiError(body, 429)).toStrictEqual({
      message: EXCEEDED,
      providerCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 2_000,
      quotaExhausted: true,
      hint: DAILY_HINT,
    });
  });

  it('a per-minute quota keeps the rate-limit hint and is retried after its RetryInfo', async () => {
    const clock = recordingClock();
    const { fetch, sent } = fakeFetch([
      exhausted('EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier', '11s'),
      { body: { embedding: { values: values(3072, [1]) } } },
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const result = await embedMany({ model, inputs: ['a'], clock });
    expect(result.embeddings).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(clock.sleeps).toEqual([11_000]);
    const { body } = exhausted('EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier', '11s');
    expect(parseGeminiError(body, 429)).toStrictEqual({
      message: EXCEEDED,
      providerCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 11_000,
    });
  });
});
