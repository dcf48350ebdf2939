/**
 * Two things a Voyage error body says beyond its status: the `error_code` beside `detail`, which is the
 * error's `providerCode` (and, for a batch over the token limit, makes the engine bisect the call); and
 * the 429 of an account without a payment method, held to a few requests a minute with no `Retry-After`,
 * whose retries wait for the next call that rate allows and whose hint says how to lift it.
 */
import { embedMany, InvalidRequestError, RateLimitError } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { recordingClock, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createVoyage, parseVoyageError } from '../src/index.js';
import { embeddingsBody, fakeFetch } from './helpers.js';

// Fake key material only.
const KEY = 'pa-fake-not-a-real-key-voyage-rate-limits';

const VECTOR = float32ToBase64(new Float32Array(1024).fill(0.5));

const REDUCED =
  'You have not yet added your payment method in the billing page and will have reduced rate limits of 3 RPM and 10K TPM. Please add a payment method in the billing page to unlock your full rate limits.';

const REDUCED_HINT =
  'Voyage holds an account without a payment method to 3 requests a minute, so each retry waits 20 s: add a payment method on the billing page of the Voyage dashboard to lift the limit, or pace the calls with rateLimit: createRateLimiter({ requestsPerMinute: 3 }); the engine retries these.';

const OVER_BATCH =
  "Request to model 'voyage-3.5' failed. The max allowed tokens per submitted batch is 320000. Your batch has 331207 tokens after truncation. Please lower the number of tokens in the batch.";

describe('429 at the reduced rate of an account without a payment method', () => {
  it('is retried after 20 s (3 RPM), not after a backoff of a fraction of a second', async () => {
    const clock = recordingClock();
    const server = fakeFetch([
      { status: 429, body: { detail: REDUCED } },
      { body: embeddingsBody('voyage-3.5', [VECTOR]) },
    ]);
    const model = createVoyage({ apiKey: KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const result = await embedMany({ model, inputs: ['a'], clock });
    expect(result.embeddings).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([20_000]);
  });

  it('says how to lift the limit or pace the calls', async () => {
    const clock = recordingClock();
    const server = fakeFetch([{ status: 429, body: { detail: REDUCED } }]);
    const model = createVoyage({ apiKey: KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const error = await rejectionOf(embedMany({ model, inputs: ['a'], clock, maxRetries: 0 }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      quotaExhausted: false,
      isRetryable: true,
      retryAfterMs: 20_000,
    });
    expect((error as Error).message).toBe(
      `voyage API error 429: ${REDUCED} — ${REDUCED_HINT.replace('the engine retries these', 'retries are turned off (maxRetries 0), so none was made')}`,
    );
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a Retry-After header still wins over the wait the rate implies', async () => {
    const clock = recordingClock();
    const server = fakeFetch([
      { status: 429, headers: { 'retry-after': '30' }, body: { detail: REDUCED } },
      { body: embeddingsBody('voyage-3.5', [VECTOR]) },
    ]);
    const model = createVoyage({ apiKey: KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await embedMany({ model, inputs: ['a'], clock });
    expect(clock.sleeps).toEqual([30_000]);
  });

  it('parseVoyageError reads the rate from the message, on a 429 only', () => {
    expect(parseVoyageError({ detail: REDUCED }, 429)).toStrictEqual({
      message: REDUCED,
      retryAfterMs: 20_000,
      hint: REDUCED_HINT,
    });
    expect(parseVoyageError({ detail: REDUCED.replace('3 RPM', '4 RPM') }, 429).retryAfterMs).toBe(15_000);
    expect(parseVoyageError({ detail: REDUCED }, 400)).toStrictEqual({ message: REDUCED });
  });
});

describe('error_code', () => {
  it('is the providerCode, and TOO_MANY_TOKENS_IN_BATCH sets batchTooLarge', () => {
    expect(
      parseVoyageError({ detail: OVER_BATCH, error_code: 'TOO_MANY_TOKENS_IN_BATCH' }, 400),
    ).toStrictEqual({
      message: OVER_BATCH,
      providerCode: 'TOO_MANY_TOKENS_IN_BATCH',
      batchTooLarge: true,
    });
  });

  it('a batch-too-large code makes the engine bisect even when the message does not say so', async () => {
    const server = fakeFetch([
      {
        status: 400,
        body: { detail: "Request to model 'voyage-3.5' failed.", error_code: 'TOO_MANY_TOKENS_IN_BATCH' },
      },
      { body: embeddingsBody('voyage-3.5', [VECTOR], 3) },
      { body: embeddingsBody('voyage-3.5', [VECTOR], 4) },
    ]);
    const model = createVoyage({ apiKey: KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const result = await embedMany({ model, inputs: ['a', 'b'], concurrency: 1 });
    expect(server.requests.map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['a', 'b'],
      ['a'],
      ['b'],
    ]);
    expect(result.usage).toEqual({ inputTokens: 7 });
  });

  it('another code reaches the error as its providerCode and bisects nothing', async () => {
    const server = fakeFetch([
      { status: 400, body: { detail: 'Invalid model name.', error_code: 'SOME_OTHER_CODE' } },
    ]);
    const model = createVoyage({ apiKey: KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const error = await rejectionOf(embedMany({ model, inputs: ['a', 'b'] }));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_request',
      statusCode: 400,
      providerCode: 'SOME_OTHER_CODE',
      batchTooLarge: false,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('a code that is not a string is left out, and the message kept', () => {
    expect(parseVoyageError({ detail: 'Invalid model name.', error_code: 42 }, 400)).toStrictEqual({
      message: 'Invalid model name.',
    });
  });
});
