/**
 * What a server's answer says about waiting and retrying: a used-up quota carries no wait, whatever header
 * or body named one; `x-should-retry` decides retryability over the status; a `Retry-After` HTTP-date is
 * read against the response's own `Date`; and the duration strings the providers' bodies carry.
 */
import { describe, expect, it } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import {
  InvalidRequestError,
  RateLimitError,
  RETRIED_CLAUSE,
  RetryError,
  ServerError,
} from '../src/errors.js';
import { errorForStatus, type ParsedError, requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { parseDuration, parseRateLimitReset, parseRetryAfter } from '../src/http/retry-after.js';
import { fakeFetch, recordingClock, rejectionOf } from '../src/testing.js';
import type { EmbeddingModel, EmbedRequest, EmbedResponse } from '../src/types.js';
import { BASE_CAPABILITIES, ScriptedModel } from './helpers.js';
import { failure, recordingFetch } from './http-helpers.js';

/** Reads an OpenAI-shaped error body: `insufficient_quota` is a used-up quota. */
function openAiShaped(body: unknown): ParsedError {
  const error = (body as { error?: { message?: string; code?: string } }).error ?? {};
  const out: ParsedError = {};
  if (error.message !== undefined) out.message = error.message;
  if (error.code !== undefined) out.providerCode = error.code;
  if (error.code === 'insufficient_quota') out.quotaExhausted = true;
  return out;
}

const QUOTA_BODY = {
  error: {
    message: 'You exceeded your current quota.',
    type: 'insufficient_quota',
    code: 'insufficient_quota',
  },
};
const RATE_BODY = {
  error: { message: 'Rate limit reached.', type: 'requests', code: 'rate_limit_exceeded' },
};
const WAIT_HEADERS = { 'retry-after': '30', 'x-ratelimit-reset': '45' };

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A model whose calls go through requestJson to `fetch`, read with the OpenAI-shaped parser. */
function modelOver(
  fetch: ReturnType<typeof fakeFetch>['fetch'],
  parseError: (body: unknown) => ParsedError = openAiShaped,
): EmbeddingModel {
  const transport = createFetchTransport(fetch);
  return {
    specificationVersion: 'v1',
    provider: 'acme',
    modelId: 'm',
    capabilities: BASE_CAPABILITIES,
    async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
      const response = await requestJson({
        transport,
        provider: 'acme',
        url: 'https://api.acme.test/v1/embeddings',
        body: { input: request.inputs },
        parseError,
      });
      const vectors = (response.body as { vectors: number[][] }).vectors;
      return {
        embeddings: vectors.map((vector) => Float32Array.from(vector)),
        warnings: [],
        response: { status: response.status, headers: response.headers },
      };
    },
  };
}

const OK = { body: { vectors: [[1, 2]] } };

describe('a used-up quota names no wait', () => {
  it('an insufficient_quota 429 with Retry-After: 30 and x-ratelimit-reset carries no retryAfterMs', async () => {
    const error = await failure({
      fetch: recordingFetch(() => answer(429, QUOTA_BODY, WAIT_HEADERS)).fetch,
      parseError: openAiShaped,
    });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      providerCode: 'insufficient_quota',
      quotaExhausted: true,
      isRetryable: false,
    });
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('a body wait on a used-up quota is dropped too', async () => {
    const error = await failure({
      fetch: recordingFetch(() => answer(429, QUOTA_BODY)).fetch,
      parseError: (body) => ({ ...openAiShaped(body), retryAfterMs: 11_000 }),
    });
    expect(error).toMatchObject({ quotaExhausted: true });
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('a 429 that is not a used-up quota keeps the Retry-After wait', async () => {
    const error = await failure({
      fetch: recordingFetch(() => answer(429, RATE_BODY, WAIT_HEADERS)).fetch,
      parseError: openAiShaped,
    });
    expect(error).toMatchObject({ quotaExhausted: false, isRetryable: true, retryAfterMs: 30_000 });
  });

  it('errorForStatus drops the wait of an error it marks quotaExhausted, and keeps any other', () => {
    const input = { message: 'Quota.', provider: 'acme', details: { statusCode: 429, retryAfterMs: 30_000 } };
    const quota = errorForStatus(429, { ...input, quotaExhausted: true });
    expect(quota).toMatchObject({ quotaExhausted: true, isRetryable: false });
    expect(quota.retryAfterMs).toBeUndefined();
    expect(errorForStatus(429, input).retryAfterMs).toBe(30_000);
    expect(
      new RateLimitError('quota', { quotaExhausted: true, retryAfterMs: 5_000 }).retryAfterMs,
    ).toBeUndefined();
    expect(new RateLimitError('busy', { retryAfterMs: 5_000 }).retryAfterMs).toBe(5_000);
  });
});

describe("a provider's final answer", () => {
  /** Reads the message and marks every answer final, as a provider that knows its API's 429s and 5xx are. */
  const final = (body: unknown): ParsedError => ({ ...openAiShaped(body), isRetryable: false });

  it.each([
    [429, RATE_BODY, 'Rate limit reached. — Lower concurrency or set rateLimit'],
    [503, { error: { message: 'Down.' } }, 'Down. — The API failed on its side'],
  ])(
    'a %i its parseError marks isRetryable: false is sent once and says it is not retried',
    async (status, body, said) => {
      const clock = recordingClock();
      const { fetch, requests } = fakeFetch([{ status, body }, OK]);
      const model = modelOver(fetch, final);
      const error = await rejectionOf(embedMany({ model, inputs: ['a'], clock }));
      expect(error).toMatchObject({ statusCode: status, isRetryable: false });
      // "the engine retries these" on an error the engine does not retry sent users waiting for a retry.
      expect(error.message).toBe(
        `acme API error ${status}: ${said}; the provider reads this answer as final, so it is not retried.`,
      );
      expect(requests).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
    },
  );

  it('errorForStatus words a final answer the same way for a provider that calls it directly', () => {
    const error = errorForStatus(500, {
      message: 'Boom.',
      provider: 'acme',
      details: { statusCode: 500, isRetryable: false },
    });
    expect(error.message).toBe(
      'acme API error 500: Boom. — The API failed on its side; the provider reads this answer as final, so it is not retried.',
    );
    expect(
      errorForStatus(500, { message: 'Boom.', provider: 'acme', details: { statusCode: 500 } }).message,
    ).toContain(RETRIED_CLAUSE);
  });
});

describe('x-should-retry', () => {
  it('false: a 500 fails after exactly one request, a ServerError whose hint promises no retry', async () => {
    const clock = recordingClock();
    const { fetch, requests } = fakeFetch([
      { status: 500, body: { error: { message: 'Boom.' } }, headers: { 'x-should-retry': 'false' } },
      OK,
    ]);
    const error = await rejectionOf(embedMany({ model: modelOver(fetch), inputs: ['a'], clock }));
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'server_error', statusCode: 500, isRetryable: false });
    expect(error.message).toBe(
      'acme API error 500: Boom. — The API failed on its side; the API answered x-should-retry: false, so it is not retried.',
    );
    expect(error.message).not.toContain(RETRIED_CLAUSE);
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('false: a rate-limited 429 is not retried either, and does not wait its Retry-After', async () => {
    const clock = recordingClock();
    const { fetch, requests } = fakeFetch([
      { status: 429, body: RATE_BODY, headers: { 'x-should-retry': 'false', 'retry-after': '2' } },
      OK,
    ]);
    const error = await rejectionOf(embedMany({ model: modelOver(fetch), inputs: ['a'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'rate_limited', isRetryable: false, retryAfterMs: 2_000 });
    expect(error.message).toBe(
      'acme API error 429: Rate limit reached. — Lower concurrency or set rateLimit; the API answered x-should-retry: false, so it is not retried.',
    );
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('true: a 400 is retried, after the backoff', async () => {
    const clock = recordingClock();
    const { fetch, requests } = fakeFetch([
      { status: 400, body: { error: { message: 'Try again.' } }, headers: { 'x-should-retry': 'true' } },
      OK,
    ]);
    const result = await embedMany({ model: modelOver(fetch), inputs: ['a'], clock });
    expect(result.embeddings).toEqual([Float32Array.of(1, 2)]);
    expect(requests).toHaveLength(2);
    // The first backoff is at most 500 ms; the clock's jitter is its middle.
    expect(clock.sleeps).toEqual([250]);
  });

  it('true: a 400 sent every time is retried until the retries run out', async () => {
    const clock = recordingClock();
    const refusal = {
      status: 400,
      body: { error: { message: 'Try again.' } },
      headers: { 'x-should-retry': 'True ' },
    };
    const { fetch, requests } = fakeFetch([refusal, refusal, refusal]);
    const error = await rejectionOf(
      embedMany({ model: modelOver(fetch), inputs: ['a'], clock, maxRetries: 2 }),
    );
    expect(RetryError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'retries_exhausted', attempts: 3 });
    expect(InvalidRequestError.isInstance((error as unknown as RetryError).lastError)).toBe(true);
    expect(requests).toHaveLength(3);
  });

  it('true does not make a used-up quota retryable', async () => {
    const clock = recordingClock();
    const { fetch, requests } = fakeFetch([
      { status: 429, body: QUOTA_BODY, headers: { 'x-should-retry': 'true', ...WAIT_HEADERS } },
      OK,
    ]);
    const error = await rejectionOf(embedMany({ model: modelOver(fetch), inputs: ['a'], clock }));
    expect(error).toMatchObject({ code: 'rate_limited', quotaExhausted: true, isRetryable: false });
    expect(error.retryAfterMs).toBeUndefined();
    expect(requests).toHaveLength(1);
  });

  it('true does not keep a call too large from being split, each half sent once', async () => {
    const clock = recordingClock();
    const { fetch, requests } = fakeFetch([
      { status: 413, body: { error: { message: 'Too large.' } }, headers: { 'x-should-retry': 'true' } },
      OK,
      OK,
    ]);
    const result = await embedMany({ model: modelOver(fetch), inputs: ['a', 'b'], clock });
    expect(result.embeddings).toEqual([Float32Array.of(1, 2), Float32Array.of(1, 2)]);
    expect(requests.map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['a', 'b'],
      ['a'],
      ['b'],
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it('of a header sent twice, the first value counts', async () => {
    const { fetch, requests } = fakeFetch([
      { status: 500, body: { error: { message: 'Boom.' } }, headers: { 'x-should-retry': 'false, true' } },
      OK,
    ]);
    const error = await rejectionOf(
      embedMany({ model: modelOver(fetch), inputs: ['a'], clock: recordingClock() }),
    );
    expect(error).toMatchObject({ code: 'server_error', isRetryable: false });
    expect(requests).toHaveLength(1);
  });

  it('any other value leaves the status to decide', async () => {
    const error = await failure({
      fetch: recordingFetch(() => answer(400, {}, { 'x-should-retry': 'maybe' })).fetch,
    });
    expect(error).toMatchObject({ code: 'invalid_request', isRetryable: false });
    const server = await failure({
      fetch: recordingFetch(() => answer(503, {}, { 'x-should-retry': '' })).fetch,
    });
    expect(server).toMatchObject({ code: 'server_error', isRetryable: true });
  });
});

describe('Retry-After as an HTTP-date', () => {
  const RETRY_AT = 'Sat, 01 Mar 2025 12:00:30 GMT';
  const SERVER_NOW = 'Sat, 01 Mar 2025 12:00:00 GMT';
  const tenMinutes = 600_000;
  const serverNow = Date.parse('2025-03-01T12:00:00Z');

  it("is read against the response's Date, whatever this machine's clock says", () => {
    const headers = { 'retry-after': RETRY_AT, date: SERVER_NOW };
    expect(parseRetryAfter(headers, serverNow - tenMinutes)).toBe(30_000);
    expect(parseRetryAfter(headers, serverNow + tenMinutes)).toBe(30_000);
    expect(parseRetryAfter(headers, serverNow)).toBe(30_000);
  });

  it('is read against now without a Date, or with one that is not an HTTP-date', () => {
    expect(parseRetryAfter({ 'retry-after': RETRY_AT }, serverNow - tenMinutes)).toBe(630_000);
    expect(parseRetryAfter({ 'retry-after': RETRY_AT, date: 'yesterday' }, serverNow + 10_000)).toBe(20_000);
  });

  it('takes the first of a Date sent twice, and waits nothing for a date the server has passed', () => {
    expect(
      parseRetryAfter({ 'retry-after': RETRY_AT, date: `${SERVER_NOW}, Sat, 01 Mar 2025 12:00:20 GMT` }, 0),
    ).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': SERVER_NOW, date: RETRY_AT }, serverNow - tenMinutes)).toBe(0);
  });

  it("an x-ratelimit-reset date is read against the response's Date too; a count of seconds is not", () => {
    const resetSeconds = String((serverNow + 30_000) / 1_000);
    const resetMilliseconds = String(serverNow + 30_000);
    for (const reset of [resetSeconds, resetMilliseconds]) {
      const headers = { 'x-ratelimit-reset': reset, date: SERVER_NOW };
      expect(parseRateLimitReset(headers, serverNow - tenMinutes)).toBe(30_000);
      expect(parseRateLimitReset(headers, serverNow + tenMinutes)).toBe(30_000);
      expect(parseRateLimitReset({ 'x-ratelimit-reset': reset }, serverNow + 10_000)).toBe(20_000);
    }
    expect(parseRateLimitReset({ 'x-ratelimit-reset': '30', date: SERVER_NOW }, 0)).toBe(30_000);
  });

  it('reaches the error through requestJson from a server whose clock is years from this one', async () => {
    const error = await failure({
      fetch: recordingFetch(() =>
        answer(
          503,
          {},
          { 'retry-after': 'Tue, 01 Jan 2019 00:00:45 GMT', date: 'Tue, 01 Jan 2019 00:00:00 GMT' },
        ),
      ).fetch,
    });
    expect(error).toMatchObject({ code: 'server_error', retryAfterMs: 45_000 });
  });
});

describe('duration strings', () => {
  it('reads hours, whole and fractional, and protobuf Duration seconds with fractional digits', () => {
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('0.000500s')).toBe(0.5);
  });

  it('reads no unit it does not know, so no wait is made up', () => {
    expect(parseDuration('500us')).toBeUndefined();
    expect(parseDuration('3d')).toBeUndefined();
  });
});

describe('a wait too long for a number', () => {
  // 309 digits of milliseconds, or 306 of seconds (times 1000), are past Number.MAX_VALUE: they read as
  // Infinity, which the engine took for no wait at all and retried with backoff.
  const overflowing = { 'retry-after-ms': '9'.repeat(309) };
  const overflowingSeconds = { 'retry-after': '9'.repeat(306) };
  const hugeFinite = { 'retry-after-ms': `1${'0'.repeat(300)}` };
  // Past the longest timer (about 24.8 days) a wait is told in days, and past a hundred years (36,525
  // days) as that: "1.7976931348623156e+305 s" was the longest wait a number holds, in seconds.
  const thirtyDays = { 'retry-after': String(30 * 86_400) };
  const hundredYears = { 'retry-after': String(36_525 * 86_400) };
  const pastHundredYears = { 'retry-after': String(36_525 * 86_400 + 1) };

  it.each([
    ['retry-after-ms of 309 digits', overflowing, 'more than 100 years'],
    ['Retry-After of 306 digits', overflowingSeconds, 'more than 100 years'],
    ['a huge but finite retry-after-ms', hugeFinite, 'more than 100 years'],
    ['a Retry-After of 30 days', thirtyDays, '30 days'],
    ['a Retry-After of 100 years to the second', hundredYears, '36,525 days'],
    ['a Retry-After a second past 100 years', pastHundredYears, 'more than 100 years'],
  ])('%s fails the call at once, saying the API asked for a wait past reach', async (_, headers, wait) => {
    const clock = recordingClock();
    const { fetch, requests } = fakeFetch([{ status: 429, body: RATE_BODY, headers }, OK]);
    const error = await rejectionOf(embedMany({ model: modelOver(fetch), inputs: ['a'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'rate_limited', statusCode: 429 });
    expect(Number.isFinite(error.retryAfterMs)).toBe(true);
    expect(error.message).toBe(
      `acme API error 429: Rate limit reached. — Lower concurrency or set rateLimit; the API asked to wait ${wait}, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after ${wait}, longer than the engine can wait out (maxRetryDelayMs is at most 2147483647).`,
    );
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it.each([
    ['2147483647', '2147484 s', 'or set maxRetryDelayMs to 2147483647 for the engine to wait it out'],
    ['2147483648', '25 days', 'longer than the engine can wait out (maxRetryDelayMs is at most 2147483647)'],
  ])(
    'a retry-after-ms of %s, at the longest timer or a millisecond past it: told in seconds, then in days, as the advice changes',
    async (ms, wait, advice) => {
      const { fetch } = fakeFetch([{ status: 429, body: RATE_BODY, headers: { 'retry-after-ms': ms } }, OK]);
      const error = await rejectionOf(
        embedMany({ model: modelOver(fetch), inputs: ['a'], clock: recordingClock() }),
      );
      expect(error.message).toBe(
        `acme API error 429: Rate limit reached. — Lower concurrency or set rateLimit; the API asked to wait ${wait}, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after ${wait}, ${advice}.`,
      );
    },
  );

  it('reaches the error as the longest wait a number holds, not Infinity', async () => {
    const error = await failure({
      fetch: recordingFetch(() => answer(429, RATE_BODY, overflowing)).fetch,
      parseError: openAiShaped,
    });
    expect(error.retryAfterMs).toBe(Number.MAX_VALUE);
  });

  // A provider that reads its answers without `requestJson` (its own client, an SDK it wraps) and its wait
  // with core's `parseRetryAfter` or `parseDuration`: the wait reached the engine as Infinity and was
  // retried with backoff three times, where the same header through `requestJson` failed at once.
  it.each([
    ['parseRetryAfter', () => parseRetryAfter(overflowing)],
    ['parseDuration', () => parseDuration(`${'9'.repeat(306)}s`)],
    ['an Infinity of its own', () => Number.POSITIVE_INFINITY],
  ])('read by a provider with %s, fails the call at once as through requestJson', async (_, wait) => {
    const clock = recordingClock();
    let calls = 0;
    const model = new ScriptedModel({
      provider: 'acme',
      respond: () => {
        calls++;
        throw new RateLimitError('acme API error 429: Rate limit reached.', {
          statusCode: 429,
          retryAfterMs: wait(),
        });
      },
    });
    const error = await rejectionOf(embedMany({ model, inputs: ['a'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBe(Number.MAX_VALUE);
    expect(error.message).toBe(
      "acme API error 429: Rate limit reached. — the API asked to wait more than 100 years, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after more than 100 years, longer than the engine can wait out (maxRetryDelayMs is at most 2147483647).",
    );
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });
});
