import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  EmbedKitError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import { createTransport, type ParsedError, requestJson, VERSION } from '../src/http/client.js';
import { createFetchTransport, type FetchFunction } from '../src/http/fetch-transport.js';
import { redact } from '../src/http/redact.js';
import { parseDuration, parseRateLimitReset, parseRetryAfter } from '../src/http/retry-after.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../src/http/transport.js';
import { failure, recordingFetch, type Sent, URL_BASE } from './http-helpers.js';

const SECRET = 'sk-test-5f2a9c1e7b3d';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A POST of `{}` to `URL_BASE` through the fetch transport, under `signal`. */
function requestWithSignal(fetch: FetchFunction, signal: AbortSignal) {
  return requestJson({
    transport: createFetchTransport(fetch),
    provider: 'acme',
    url: URL_BASE,
    body: {},
    signal,
  });
}

/** A body parser in the style of the OpenAI provider: `{ error: { message, code } }`. */
function openAiStyle(extra: ParsedError = {}) {
  return (body: unknown): ParsedError => {
    const error = (body as { error?: { message?: string; code?: string } }).error;
    const parsed: ParsedError = { ...extra };
    if (error?.message !== undefined) parsed.message = error.message;
    if (error?.code !== undefined) parsed.providerCode = error.code;
    return parsed;
  };
}

describe('requestJson over the fetch transport', () => {
  it('sends method, url, user agent, content type and the exact JSON body', async () => {
    const { fetch, sent } = recordingFetch(() =>
      jsonResponse(200, { data: [1] }, { 'x-request-id': 'req_42', 'X-Extra': 'yes' }),
    );
    const body = { model: 'm-1', input: ['a', 'é', '😀'], encoding_format: 'base64' };
    const result = await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      body,
      headers: { authorization: `Bearer ${SECRET}`, 'x-custom': '1' },
    });
    expect(sent).toHaveLength(1);
    const [{ url, init }] = sent as [Sent];
    expect(url).toBe(URL_BASE);
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{"model":"m-1","input":["a","é","😀"],"encoding_format":"base64"}');
    const headers = init.headers as Record<string, string>;
    expect(headers['user-agent']).toBe(`embedkit/${VERSION}`);
    expect(headers['user-agent']).toMatch(/^embedkit\/\d+\.\d+\.\d+/);
    expect(headers['content-type']).toBe('application/json');
    expect(headers.accept).toBe('application/json');
    expect(headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(headers['x-custom']).toBe('1');
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: [1] });
    expect(result.requestId).toBe('req_42');
    expect(result.headers['x-extra']).toBe('yes');
  });

  it('never hands a dispatcher to fetch, even when one is configured', async () => {
    const { fetch, sent } = recordingFetch(() => jsonResponse(200, {}));
    const transport = createTransport({ fetch, dispatcher: {} as never });
    expect(transport.kind).toBe('fetch');
    await requestJson({ transport, provider: 'acme', url: URL_BASE, body: {} });
    expect(Object.keys(sent[0]!.init)).not.toContain('dispatcher');
  });

  it('uses the undici transport on Node when no fetch is given', () => {
    expect(createTransport().kind).toBe('undici');
  });

  it('sends a GET without body or content type when there is no body', async () => {
    const { fetch, sent } = recordingFetch(() => jsonResponse(200, { ok: true }));
    await requestJson({ transport: createFetchTransport(fetch), provider: 'acme', url: URL_BASE });
    const init = sent[0]!.init;
    expect(init.method).toBe('GET');
    expect(init.body).toBeUndefined();
    expect((init.headers as Record<string, string>)['content-type']).toBeUndefined();
  });

  it('returns an undefined body for an empty 2xx answer', async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 204 }));
    const result = await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      method: 'DELETE',
    });
    expect(result.status).toBe(204);
    expect(result.body).toBeUndefined();
  });

  it('passes the caller signal to fetch', async () => {
    const { fetch, sent } = recordingFetch(() => jsonResponse(200, {}));
    const controller = new AbortController();
    await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      body: {},
      signal: controller.signal,
    });
    expect(sent[0]!.init.signal).toBe(controller.signal);
  });

  it('settles on abort even when the runtime leaves a body read pending (Node 20 fetch, corrupt gzip)', async () => {
    // A fetch that ignores the signal, with a body that never delivers: only the transport's own
    // watch on the signal can end the wait (it used to hang, a timeout included).
    const fetch: FetchFunction = async () =>
      new Response(new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => {}) }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    const controller = new AbortController();
    const reason = new Error('stopped by the caller');
    const pending = requestWithSignal(fetch, controller.signal);
    setTimeout(() => controller.abort(reason), 20);
    const outcome = await Promise.race([
      pending.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still pending after 2 s'), 2_000)),
    ]);
    expect(outcome).toBe(reason);
  });

  it('holds a compressed answer to maxResponseBytes by the bytes it decompresses to, not its declared length', async () => {
    // 100,000 incompressible bytes gzip to a little more; fetch hands back the 100,000.
    const bytes = new Uint8Array(100_000).map((_, index) => (index * 7919) % 251);
    const answer = (length: number, encoding?: string) =>
      recordingFetch(
        () =>
          new Response(bytes, {
            status: 200,
            headers: {
              'content-length': String(length),
              ...(encoding ? { 'content-encoding': encoding } : {}),
            },
          }),
      ).fetch;
    const read = (fetch: FetchFunction) =>
      requestJson({
        transport: createFetchTransport(fetch),
        provider: 'acme',
        url: URL_BASE,
        responseType: 'bytes',
        maxResponseBytes: 100_000,
      });
    expect(((await read(answer(100_047, 'gzip'))).body as Uint8Array).byteLength).toBe(100_000);
    // A plain body that declares more than the cap is still refused before it is read.
    const refused = await read(answer(100_047)).catch((error: unknown) => error);
    expect(InvalidResponseError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toContain('larger than 100000 bytes');
  });
});

describe('status codes become typed errors', () => {
  const table = [
    { status: 400, errorClass: InvalidRequestError, code: 'invalid_request', retryable: false },
    { status: 401, errorClass: AuthenticationError, code: 'authentication', retryable: false },
    { status: 403, errorClass: PermissionDeniedError, code: 'permission_denied', retryable: false },
    { status: 404, errorClass: NotFoundError, code: 'not_found', retryable: false },
    { status: 408, errorClass: TimeoutError, code: 'timeout', retryable: true },
    { status: 409, errorClass: InvalidRequestError, code: 'invalid_request', retryable: true },
    { status: 413, errorClass: InvalidRequestError, code: 'invalid_request', retryable: false },
    { status: 422, errorClass: InvalidRequestError, code: 'invalid_request', retryable: false },
    { status: 429, errorClass: RateLimitError, code: 'rate_limited', retryable: true },
    { status: 500, errorClass: ServerError, code: 'server_error', retryable: true },
    { status: 502, errorClass: ServerError, code: 'server_error', retryable: true },
    { status: 503, errorClass: ServerError, code: 'server_error', retryable: true },
  ] as const;

  it.each(table)(
    '$status -> $code (retryable: $retryable)',
    async ({ status, errorClass, code, retryable }) => {
      const body = { error: { message: `status ${status} says no`, code: 'some_code' } };
      const { fetch } = recordingFetch(() => jsonResponse(status, body, { 'x-request-id': `req_${status}` }));
      const error = await failure({ fetch, parseError: openAiStyle() });
      expect(errorClass.isInstance(error)).toBe(true);
      expect(error.code).toBe(code);
      expect(error.isRetryable).toBe(retryable);
      expect(error.statusCode).toBe(status);
      expect(error.provider).toBe('acme');
      expect(error.url).toBe(URL_BASE);
      expect(error.requestId).toBe(`req_${status}`);
      expect(error.providerCode).toBe('some_code');
      expect(error.responseBody).toBe(JSON.stringify(body));
      expect(error.message.startsWith(`acme API error ${status}: status ${status} says no`)).toBe(true);
      if (InvalidRequestError.isInstance(error)) expect(error.batchTooLarge).toBe(status === 413);
      if (RateLimitError.isInstance(error)) expect(error.quotaExhausted).toBe(false);
    },
  );

  it('without a parseError the message carries the JSON body excerpt', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(400, { detail: 'input too long' }));
    const error = await failure({ fetch });
    expect(error.message).toContain('{"detail":"input too long"}');
  });

  it('passes the parsed body and the status to parseError', async () => {
    const parseError = vi.fn((_body: unknown, _status: number): ParsedError => ({}));
    const { fetch } = recordingFetch(() => jsonResponse(422, { detail: [{ loc: ['body', 'input'] }] }));
    await failure({ fetch, parseError });
    expect(parseError).toHaveBeenCalledWith({ detail: [{ loc: ['body', 'input'] }] }, 422);
  });

  it('quotaExhausted makes a 429 a non-retryable RateLimitError with the quota hint', async () => {
    const { fetch } = recordingFetch(() =>
      jsonResponse(429, {
        error: { message: 'You exceeded your current quota', code: 'insufficient_quota' },
      }),
    );
    const error = await failure({ fetch, parseError: openAiStyle({ quotaExhausted: true }) });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).quotaExhausted).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/quota/i);
    expect(error.message).toContain('retrying will not help');
  });

  it('batchTooLarge and inputIndex reach the InvalidRequestError', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(400, { error: { message: 'too many tokens' } }));
    const error = await failure({ fetch, parseError: openAiStyle({ batchTooLarge: true, inputIndex: 3 }) });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as InvalidRequestError).batchTooLarge).toBe(true);
    expect((error as InvalidRequestError).inputIndex).toBe(3);
  });

  it('kind overrides the class the status implies (Gemini: 400 API_KEY_INVALID is authentication)', async () => {
    const { fetch } = recordingFetch(() =>
      jsonResponse(400, { error: { message: 'API key not valid', code: 'API_KEY_INVALID' } }),
    );
    const error = await failure({ fetch, parseError: openAiStyle({ kind: 'authentication' }) });
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(400);
    expect(error.providerCode).toBe('API_KEY_INVALID');
  });

  it('a hint replaces the default advice and ends the message', async () => {
    const { fetch } = recordingFetch(() =>
      jsonResponse(401, { error: { message: 'Incorrect API key provided' } }),
    );
    const error = await failure({ fetch, parseError: openAiStyle({ hint: 'Set OPENAI_API_KEY.' }) });
    expect(error.message).toBe('acme API error 401: Incorrect API key provided — Set OPENAI_API_KEY.');
  });

  it('isRetryable from the body overrides the class default', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(400, { error: { message: 'try again' } }));
    const error = await failure({ fetch, parseError: openAiStyle({ isRetryable: true }) });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(true);
  });

  it('a request id from the body is used when no header carries one; a header wins', async () => {
    const parse = openAiStyle({ requestId: 'body-id' });
    const noHeader = await failure({
      fetch: recordingFetch(() => jsonResponse(500, {})).fetch,
      parseError: parse,
    });
    expect(noHeader.requestId).toBe('body-id');
    const withHeader = await failure({
      fetch: recordingFetch(() => jsonResponse(500, {}, { 'request-id': 'hdr-id' })).fetch,
      parseError: parse,
    });
    expect(withHeader.requestId).toBe('hdr-id');
  });

  it('a parseError that throws falls back to the status mapping', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(403, { weird: true }));
    const error = await failure({
      fetch,
      parseError: () => {
        throw new Error('parser bug');
      },
    });
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    expect(error.message).toContain('{"weird":true}');
  });
});

describe('retry hints', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retry-after-ms gives milliseconds (fractional allowed) and wins over retry-after', async () => {
    const { fetch } = recordingFetch(() =>
      jsonResponse(429, {}, { 'retry-after-ms': '1500.5', 'retry-after': '9' }),
    );
    expect((await failure({ fetch })).retryAfterMs).toBe(1500.5);
  });

  it('retry-after in seconds', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(429, {}, { 'retry-after': '7' }));
    expect((await failure({ fetch })).retryAfterMs).toBe(7_000);
  });

  it('retry-after as an HTTP-date, relative to now', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-03-01T12:00:00Z'));
    const { fetch } = recordingFetch(() =>
      jsonResponse(503, {}, { 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }),
    );
    expect((await failure({ fetch })).retryAfterMs).toBe(30_000);
  });

  it('a header hint wins over a body hint; a body hint is used alone', async () => {
    const parse = openAiStyle({ retryAfterMs: 11_000 });
    const both = await failure({
      fetch: recordingFetch(() => jsonResponse(429, {}, { 'retry-after': '2' })).fetch,
      parseError: parse,
    });
    expect(both.retryAfterMs).toBe(2_000);
    const bodyOnly = await failure({
      fetch: recordingFetch(() => jsonResponse(429, {})).fetch,
      parseError: parse,
    });
    expect(bodyOnly.retryAfterMs).toBe(11_000);
  });

  it("a 429's x-ratelimit-reset is its wait when it gives no other (a date in epoch seconds, or seconds)", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-03-01T12:00:00Z'));
    const at = (reset: string) =>
      recordingFetch(() => jsonResponse(429, {}, { 'x-ratelimit-reset': reset })).fetch;
    // 12:00:42 as epoch seconds, as Voyage's SDK reads the header.
    const epoch = String(Date.parse('2025-03-01T12:00:42Z') / 1000);
    expect((await failure({ fetch: at(epoch) })).retryAfterMs).toBe(42_000);
    expect((await failure({ fetch: at('12') })).retryAfterMs).toBe(12_000);
  });

  it('x-ratelimit-reset gives way to Retry-After and to a body hint, and says nothing outside a 429', async () => {
    const reset = { 'x-ratelimit-reset': '30' };
    const withHeader = await failure({
      fetch: recordingFetch(() => jsonResponse(429, {}, { ...reset, 'retry-after': '2' })).fetch,
    });
    expect(withHeader.retryAfterMs).toBe(2_000);
    const withBody = await failure({
      fetch: recordingFetch(() => jsonResponse(429, {}, reset)).fetch,
      parseError: openAiStyle({ retryAfterMs: 11_000 }),
    });
    expect(withBody.retryAfterMs).toBe(11_000);
    // An API may send its window on every answer: a 503 that carries it is no reason to wait for the window.
    const notRateLimited = await failure({ fetch: recordingFetch(() => jsonResponse(503, {}, reset)).fetch });
    expect(notRateLimited.retryAfterMs).toBeUndefined();
  });

  it("OpenAI's reset durations are no wait: they say when a budget is full, not when a call fits", async () => {
    const error = await failure({
      fetch: recordingFetch(() =>
        jsonResponse(
          429,
          {},
          {
            'x-ratelimit-remaining-tokens': '0',
            'x-ratelimit-reset-tokens': '6m0s',
            'x-ratelimit-reset-requests': '20ms',
          },
        ),
      ).fetch,
    });
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('no hint leaves retryAfterMs undefined', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(503, {}));
    expect((await failure({ fetch })).retryAfterMs).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it.each([
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'retry-after-ms': '0' }, 0],
    [{ 'retry-after-ms': '12.75' }, 12.75],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': '120' }, 120_000],
    [{ 'retry-after': ' 3 ' }, 3_000],
    [{ 'retry-after': '1.5' }, 1_500],
    [{ 'retry-after': 'Sat, 01 Mar 2025 12:01:00 GMT' }, 60_000],
    [{ 'retry-after': 'Saturday, 01-Mar-25 12:00:05 GMT' }, 5_000],
    [{ 'retry-after': 'Sat Mar  1 12:00:02 2025' }, 2_000],
    [{ 'retry-after': 'Sat, 01 Mar 2025 11:00:00 GMT' }, 0],
    [{ 'retry-after-ms': 'soon', 'retry-after': '4' }, 4_000],
    [{ 'retry-after-ms': '-5', 'retry-after': '4' }, 4_000],
    // parseFloat read these as 0 (an immediate retry) and 250; not decimals, they fall back.
    [{ 'retry-after-ms': '0x10', 'retry-after': '4' }, 4_000],
    [{ 'retry-after-ms': '250ms', 'retry-after': '4' }, 4_000],
    [{ 'retry-after-ms': '1e3', 'retry-after': '4' }, 4_000],
    [{ 'retry-after-ms': ' 40 ' }, 40],
    // A header sent twice, joined: its first value.
    [{ 'retry-after-ms': '250, 250' }, 250],
  ])('%j -> %s ms', (headers, expected) => {
    expect(parseRetryAfter(headers, now)).toBe(expected);
  });

  it.each([
    [{}],
    [{ 'retry-after': '' }],
    [{ 'retry-after': 'soon' }],
    [{ 'retry-after-ms': 'NaN' }],
    [{ 'retry-after-ms': '0x10' }],
    [{ 'retry-after-ms': '250ms' }],
    [{ 'retry-after': '5 minutes' }],
  ])('%j -> undefined', (headers) => {
    expect(parseRetryAfter(headers, now)).toBeUndefined();
  });

  // The docstring: "Returns undefined when neither is present or parseable." RFC 9110 allows only
  // delay-seconds (digits) or an HTTP-date; V8's lenient Date.parse reads "-1" as the year 2001, which
  // turns a garbage hint into "retry immediately" instead of falling back to exponential backoff.
  it('rejects a negative retry-after rather than reading it as a date', () => {
    expect(parseRetryAfter({ 'retry-after': '-1' }, now)).toBeUndefined();
  });

  it.each(['Asia/Tokyo', 'America/Los_Angeles', 'UTC'])(
    'reads an asctime date, which names no zone, as GMT in the time zone %s',
    (zone) => {
      // Read as local time, it gave 0 (an immediate retry) in Tokyo and seven hours in Los Angeles.
      const saved = process.env.TZ;
      process.env.TZ = zone;
      try {
        expect(parseRetryAfter({ 'retry-after': 'Sat Mar  1 12:00:02 2025' }, now)).toBe(2_000);
        expect(parseRetryAfter({ 'retry-after': 'Sat, 01 Mar 2025 12:01:00 GMT' }, now)).toBe(60_000);
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    },
  );

  it.each([
    ['120, 120', 120_000],
    ['Sat, 01 Mar 2025 12:01:00 GMT, Sat, 01 Mar 2025 12:01:00 GMT', 60_000],
    ['Saturday, 01-Mar-25 12:00:05 GMT, Saturday, 01-Mar-25 12:00:05 GMT', 5_000],
    ['Sat Mar  1 12:00:02 2025, Sat Mar  1 12:00:02 2025', 2_000],
  ])('reads the first of a header sent twice (joined with ", "): %j', (value, expected) => {
    // Joined, the number was no decimal and the dates no date: the wait fell back to a short backoff.
    expect(parseRetryAfter({ 'retry-after': value }, now)).toBe(expected);
  });
});

describe('parseRateLimitReset', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it.each([
    [String(now / 1000 + 5), 5_000],
    [String(now / 1000 + 0.5), 500],
    [String(now + 1_500), 1_500],
    [String(now / 1000 - 60), 0],
    [String(now - 60_000), 0],
    ['0', 0],
    ['7', 7_000],
    ['2.5', 2_500],
    ['999999999', 999_999_999_000],
    [`${now / 1000 + 3}, ${now / 1000 + 3}`, 3_000],
  ])('%s -> %s ms', (value, expected) => {
    expect(parseRateLimitReset({ 'x-ratelimit-reset': value }, now)).toBe(expected);
  });

  it.each(['', 'soon', '-5', '1m', '0x10', 'Sat, 01 Mar 2025 12:01:00 GMT'])('%j -> undefined', (value) => {
    expect(parseRateLimitReset({ 'x-ratelimit-reset': value }, now)).toBeUndefined();
  });

  it('reads nothing without the header', () => {
    expect(parseRateLimitReset({ 'x-ratelimit-reset-tokens': '6m0s' }, now)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it.each([
    ['11s', 11_000],
    ['0.5s', 500],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['6m0s', 360_000],
    ['2h', 7_200_000],
    ['1h1m1s1ms', 3_661_001],
    [' 30s ', 30_000],
  ])('%s -> %s ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(['', 'soon', '10', '1m 30s', '5x', 's', '1.5.5s', '-3s'])('%j -> undefined', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('non-JSON and malformed bodies', () => {
  const html = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title><style>body { color: red; }</style><script>var x = 1;</script></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>`;

  it('an HTML 502 page becomes a retryable ServerError with a readable excerpt and no markup', async () => {
    const { fetch } = recordingFetch(
      () => new Response(html, { status: 502, headers: { 'content-type': 'text/html; charset=utf-8' } }),
    );
    const error = await failure({ fetch, parseError: openAiStyle() });
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBe(502);
    expect(error.message).toContain('a non-JSON text/html: 502 Bad Gateway 502 Bad Gateway nginx/1.25.3');
    expect(error.message).not.toMatch(/[<>]/);
    expect(error.message).not.toContain('color: red');
    expect(error.message).not.toContain('var x');
    expect(error.responseBody?.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('a long non-JSON body is cut to a short excerpt in the message', async () => {
    const page = `<html><body>${'overloaded '.repeat(500)}</body></html>`;
    const { fetch } = recordingFetch(
      () => new Response(page, { status: 503, headers: { 'content-type': 'text/plain' } }),
    );
    const error = await failure({ fetch });
    expect(error.message).toContain('more characters');
    expect(error.message.length).toBeLessThan(500);
    expect(error.responseBody!.length).toBeLessThan(1_100);
  });

  it.each([
    [
      'an unclosed <script> loses its tag only, and a stray < keeps the text after it',
      '<p>Upstream <b>timed out</b></p> a < b <script type="x">var n = 1; never closed',
      'Upstream timed out a < b var n = 1; never closed',
    ],
    [
      'a closing tag with a space (</script >), and <scripts> or <style-guide>, which open nothing',
      '<h1>Bad gateway</h1><script>var a = 1;</script ><scripts>kept</scripts><style-guide>too</style-guide>',
      'Bad gateway kept too',
    ],
    [
      'comments, with a conditional one inside',
      '<!--[if IE]><p>old</p><![endif]--><!--<![endif]--><p>Retry later</p>',
      'Retry later',
    ],
    [
      'letters whose lower case is longer (İ): positions were read from the lower-cased page',
      '<h1>İİİİ Sunucu hatası</h1><script>var x = 1;</script><p>Lütfen daha sonra deneyin</p>',
      'İİİİ Sunucu hatası Lütfen daha sonra deneyin',
    ],
  ])('%s', async (_name, page, text) => {
    const { fetch } = recordingFetch(
      () => new Response(page, { status: 502, headers: { 'content-type': 'text/html' } }),
    );
    const error = await failure({ fetch });
    expect(error.message).toContain(`a non-JSON text/html: ${text} — `);
  });

  // Each page took seconds to hours before (time growing with the square of its length, paid again on
  // every retry of the 502). A complexity guard, not a benchmark: the limit is a hundred times what one
  // pass takes, and a tenth or less of what the old patterns needed.
  it.each([
    // A page that is all markup has no text to quote: it is called what it is.
    ['640 KB of unclosed <script> tags', '<script>'.repeat(81_920), 'a text/html body with no text —'],
    ['200 KB of < without >', '<'.repeat(200_000), 'a non-JSON text/html: <<<<'],
    ['640 KB of <script without >', '<script '.repeat(81_920), 'a text/html body with no text —'],
    ['400 KB of <!-- never closed', '<!--'.repeat(100_000), 'a text/html body with no text —'],
  ])('a page of %s is read in well under 2 s', { timeout: 120_000 }, async (_name, page, said) => {
    const { fetch } = recordingFetch(
      () => new Response(page, { status: 502, headers: { 'content-type': 'text/html' } }),
    );
    const started = performance.now();
    const error = await failure({ fetch });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.message).toContain(`API error 502: ${said}`);
  });

  it('an API message of 1 MB is cut to 2,000 characters (it was kept whole)', async () => {
    const message = 'x'.repeat(1_048_576);
    const { fetch } = recordingFetch(() => jsonResponse(400, { error: { message } }));
    const error = await failure({ fetch, parseError: openAiStyle() });
    expect(error.message).toContain(`${'x'.repeat(2_000)}… (${1_048_576 - 2_000} more characters)`);
    expect(error.message).not.toContain('x'.repeat(2_001));
  });

  it('a 200 with invalid JSON is a non-retryable InvalidResponseError', async () => {
    const { fetch } = recordingFetch(
      () => new Response('{"data": [', { status: 200, headers: { 'content-type': 'application/json' } }),
    );
    const error = await failure({ fetch });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.statusCode).toBe(200);
    expect(error.message).toContain('not valid JSON');
    expect(error.message).toContain('{"data": [');
    expect(error.responseBody).toBe('{"data": [');
  });

  it('a 200 HTML page from a captive portal is an InvalidResponseError naming the content type', async () => {
    const { fetch } = recordingFetch(
      () =>
        new Response('<html>Sign in to Wi-Fi</html>', {
          status: 200,
          headers: { 'content-type': 'text/html' },
        }),
    );
    const error = await failure({ fetch });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toContain('text/html');
  });
});

describe('the API key never appears in an error', () => {
  function expectNoSecret(error: EmbedKitError, secret = SECRET) {
    expect(error.message).not.toContain(secret);
    expect(error.responseBody ?? '').not.toContain(secret);
    expect(error.url ?? '').not.toContain(secret);
  }

  it('not in the URL, the message or the body of a JSON error', async () => {
    const { fetch } = recordingFetch(() =>
      jsonResponse(401, {
        error: { message: `Incorrect API key provided: ${SECRET}.`, code: 'invalid_api_key' },
      }),
    );
    const error = await failure({
      fetch,
      url: `${URL_BASE}?key=${SECRET}`,
      secrets: [SECRET],
      parseError: openAiStyle(),
    });
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expectNoSecret(error);
    expect(error.message).toContain('Incorrect API key provided: [REDACTED].');
    expect(error.url).toBe(`${URL_BASE}?key=[REDACTED]`);
    expect(error.responseBody).toContain('[REDACTED]');
  });

  it('not in an HTML error page that echoes it', async () => {
    const { fetch } = recordingFetch(
      () =>
        new Response(`<html><body>Denied for ${SECRET}</body></html>`, {
          status: 502,
          headers: { 'content-type': 'text/html' },
        }),
    );
    const error = await failure({ fetch, secrets: [SECRET] });
    expectNoSecret(error);
    expect(error.message).toContain('Denied for [REDACTED]');
  });

  it('not in a malformed 2xx body that echoes it', async () => {
    const { fetch } = recordingFetch(() => new Response(`oops ${SECRET} oops`, { status: 200 }));
    const error = await failure({ fetch, secrets: [SECRET] });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expectNoSecret(error);
  });

  it('not in a connection failure whose message contains it', async () => {
    const fetch: FetchFunction = async () => {
      throw new TypeError(`request to ${URL_BASE}?api_key=${SECRET} failed, reason: socket hang up`);
    };
    const error = await failure({ fetch, url: `${URL_BASE}?api_key=${SECRET}`, secrets: [SECRET] });
    expect(ConnectionError.isInstance(error)).toBe(true);
    expectNoSecret(error);
  });

  it('redacts a credential query parameter even when the key was not passed as a secret', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(404, {}));
    const error = await failure({ fetch, url: `${URL_BASE}?alt=json&key=AIzaSyUnlisted123` });
    expect(error.url).toBe(`${URL_BASE}?alt=json&key=[REDACTED]`);
    expectNoSecret(error, 'AIzaSyUnlisted123');
  });

  it('redacts the URL-encoded form of a key', async () => {
    const secret = 'ab/cd+ef==gh';
    const { fetch } = recordingFetch(() =>
      jsonResponse(400, { error: { message: `bad token ${encodeURIComponent(secret)}` } }),
    );
    const error = await failure({
      fetch,
      url: `${URL_BASE}?sig=${encodeURIComponent(secret)}`,
      secrets: [secret],
      parseError: openAiStyle(),
    });
    expectNoSecret(error, encodeURIComponent(secret));
    expectNoSecret(error, secret);
  });

  // ARCHITECTURE.md: HTTP failures carry "a truncated response body — never the API key". The cause of a
  // transport failure is the raw error, so console.error(error) (util.inspect prints [cause]) shows the key.
  it('not in the cause chain that console.error / util.inspect prints', async () => {
    const fetch: FetchFunction = async () => {
      throw new TypeError(`Failed to parse URL from ${URL_BASE}?key=${SECRET}`);
    };
    const error = await failure({ fetch, url: `${URL_BASE}?key=${SECRET}`, secrets: [SECRET] });
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET);
  });
});

describe('transport failures', () => {
  it('ECONNRESET (fetch failed, code in the cause) becomes a retryable ConnectionError', async () => {
    const fetch: FetchFunction = async () => {
      throw Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      });
    };
    const error = await failure({ fetch });
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.code).toBe('connection');
    expect(error.isRetryable).toBe(true);
    expect(error.provider).toBe('acme');
    expect(error.url).toBe(URL_BASE);
    expect(error.message).toContain('ECONNRESET');
    expect(error.statusCode).toBeUndefined();
  });

  it('socket timeouts become a retryable TimeoutError', async () => {
    for (const code of [
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'UND_ERR_CONNECT_TIMEOUT',
      'ETIMEDOUT',
    ]) {
      const fetch: FetchFunction = async () => {
        throw Object.assign(new Error('timed out'), { code });
      };
      const error = await failure({ fetch });
      expect(TimeoutError.isInstance(error), code).toBe(true);
      expect(error.isRetryable).toBe(true);
    }
  });

  it('a caller abort re-throws the native AbortError, never an embedkit error', async () => {
    const fetch: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
      });
    const controller = new AbortController();
    const pending = requestWithSignal(fetch, controller.signal);
    controller.abort();
    const error = await pending.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(EmbedKitError.isInstance(error)).toBe(false);
  });

  it('after an abort, whatever fetch threw is replaced by the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const fetch: FetchFunction = async () => {
      controller.abort(reason);
      throw new TypeError('terminated');
    };
    await expect(
      requestJson({
        transport: createFetchTransport(fetch),
        provider: 'acme',
        url: URL_BASE,
        body: {},
        signal: controller.signal,
      }),
    ).rejects.toBe(reason);
  });
});

describe('response size cap (fetch transport)', () => {
  it('defaults to 256 MiB', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(256 * 1024 * 1024);
  });

  it('refuses a declared content-length over the cap before reading', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(100));
        controller.close();
      },
    });
    const { fetch } = recordingFetch(
      () => new Response(stream, { status: 200, headers: { 'content-length': '5000' } }),
    );
    const error = await failure({ fetch, maxResponseBytes: 1_000 });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toContain('1000 bytes');
    expect(error.message).toContain('maxResponseBytes');
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('refuses a streamed body that grows past the cap and cancels it', async () => {
    let cancelled = false;
    let chunks = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        chunks++;
        controller.enqueue(new Uint8Array(400).fill(32));
        if (chunks === 100) controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    const { fetch } = recordingFetch(() => new Response(stream, { status: 200 }));
    const error = await failure({ fetch, maxResponseBytes: 1_000 });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(cancelled).toBe(true);
    expect(chunks).toBeLessThan(10);
  });

  it('accepts a body of exactly the cap', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(990) });
    const { fetch } = recordingFetch(() => new Response(body, { status: 200 }));
    const result = await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      maxResponseBytes: body.length,
    });
    expect((result.body as { pad: string }).pad).toHaveLength(990);
  });
});

describe('redact', () => {
  it('replaces every occurrence of each secret and credential query parameters', () => {
    expect(redact(`a ${SECRET} b ${SECRET}`, [SECRET])).toBe('a [REDACTED] b [REDACTED]');
    expect(redact('https://x.test/?token=abc&x=1&api_key=def#frag', [])).toBe(
      'https://x.test/?token=[REDACTED]&x=1&api_key=[REDACTED]#frag',
    );
    expect(redact('https://x.test/?KEY=abc', [])).toBe('https://x.test/?KEY=[REDACTED]');
    expect(redact('https://x.test/?monkey=abc', [])).toBe('https://x.test/?monkey=abc');
  });

  it('ignores undefined and very short secrets (they would redact ordinary words)', () => {
    expect(redact('the cat sat', [undefined, 'at', ''])).toBe('the cat sat');
  });
});
