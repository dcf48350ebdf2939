/**
 * A 429 that no wait can cure: OpenAI answers an account whose billing is not active with status 429 and
 * `billing_not_active`. Like `insufficient_quota`, it is a used-up quota, failed at once with the hint
 * that says so, not retried as a rate limit with a hint to lower concurrency.
 */
import { embedMany, RateLimitError } from '@embedkit/core';
import { fakeFetch, recordingClock, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createOpenAI, parseOpenAIError } from '../src/index.js';

// Fake key material only.
const KEY = 'sk-fake-not-a-real-key-openai-billing';

const NOT_ACTIVE = 'Your account is not active, please check your billing details on our website.';

/** The body OpenAI sends for an account whose billing is not active (observed with status 429). */
const notActive = (type: string | null, code: string | null) => ({
  error: { message: NOT_ACTIVE, type, param: null, code },
});

describe('parseOpenAIError on billing_not_active', () => {
  it('is a used-up quota, as the code and the type', () => {
    expect(parseOpenAIError(notActive('billing_not_active', 'billing_not_active'))).toStrictEqual({
      message: NOT_ACTIVE,
      providerCode: 'billing_not_active',
      quotaExhausted: true,
    });
  });

  it('is a used-up quota as the code alone, or as the type alone', () => {
    expect(parseOpenAIError(notActive('requests', 'billing_not_active'))).toStrictEqual({
      message: NOT_ACTIVE,
      providerCode: 'billing_not_active',
      quotaExhausted: true,
    });
    expect(parseOpenAIError(notActive('billing_not_active', null))).toStrictEqual({
      message: NOT_ACTIVE,
      providerCode: 'billing_not_active',
      quotaExhausted: true,
    });
  });

  it('a rate limit with another code is still a wait', () => {
    expect(parseOpenAIError(notActive('requests', 'rate_limit_exceeded'))).toStrictEqual({
      message: NOT_ACTIVE,
      providerCode: 'rate_limit_exceeded',
    });
  });
});

describe('429 billing_not_active through embedMany', () => {
  it('is a RateLimitError with quotaExhausted, sent once, not retried, with the quota hint', async () => {
    const clock = recordingClock();
    const server = fakeFetch([
      { status: 429, body: notActive('billing_not_active', 'billing_not_active') },
      { status: 429, body: notActive('billing_not_active', 'billing_not_active') },
    ]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const error = await rejectionOf(embedMany({ model, inputs: ['hello'], maxRetries: 3, clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      quotaExhausted: true,
      isRetryable: false,
      providerCode: 'billing_not_active',
    });
    expect((error as Error).message).toBe(
      `openai API error 429: ${NOT_ACTIVE} — The account’s quota or balance is used up; retrying will not help until it is raised.`,
    );
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});
