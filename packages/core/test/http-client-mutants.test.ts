/**
 * What `requestJson` hands its transport and how it reads every answer, pinned where the rest of the suite
 * left it loose: the method, timeout and headers a request carries, the release of a transport's body
 * buffer, which statuses succeed, the request id headers, the exact advice each status carries, the text read
 * out of an HTML page or a JSON error body, the error-shaped 2xx bodies `unexpectedBodyError` reports, the
 * reason, class and `neverSent` of a transport failure (codes found down a cause chain), the edges of the
 * `Retry-After` / `x-ratelimit-reset` readers, and the header checks. The transport is a scripted one, so
 * every request and answer is exact.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  RETRIED_CLAUSE,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import {
  type JsonResponse,
  type ParsedError,
  type RequestJsonOptions,
  requestJson,
  unexpectedBodyError,
  VERSION,
} from '../src/http/client.js';
import { checkHeaders, isPlainObject } from '../src/http/headers.js';
import { parseRateLimitReset, parseRetryAfter } from '../src/http/retry-after.js';
import {
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from '../src/http/transport.js';
import { rejection } from './helpers.js';
import { failure, recordingFetch, URL_BASE } from './http-helpers.js';

const SECRET = 'sk-test-5f2a9c1e7b3d';
const encoder = new TextEncoder();

/** A transport that records each request and answers with `answer()` (or throws what it throws). */
function scriptedTransport(answer: () => TransportResponse | Promise<TransportResponse>) {
  const requests: TransportRequest[] = [];
  const transport: Transport = {
    kind: 'fetch',
    async request(request) {
      requests.push(request);
      return answer();
    },
  };
  return { transport, requests };
}

/** An answer of `status` with `body` as UTF-8 bytes and exactly `headers` (no content-type unless given). */
function answer(status: number, body: string, headers: Record<string, string> = {}): TransportResponse {
  return { status, headers, body: encoder.encode(body) };
}

/** `requestJson` for provider `acme` at `URL_BASE` over a transport that gives `response`. */
function call(response: TransportResponse, options: Partial<RequestJsonOptions> = {}) {
  const { transport, requests } = scriptedTransport(() => response);
  const pending = requestJson({
    transport,
    provider: 'acme',
    url: URL_BASE,
    body: { input: ['a'] },
    ...options,
  });
  return { pending, requests };
}

/** The embedkit error `requestJson` fails with for `response`. */
async function failed(response: TransportResponse, options: Partial<RequestJsonOptions> = {}) {
  return (await rejection(call(response, options).pending)) as InvalidResponseError;
}

/** The error a transport failure that throws `thrown` becomes. */
async function transportError(thrown: unknown) {
  const transport: Transport = {
    kind: 'fetch',
    request: async () => {
      throw thrown;
    },
  };
  return (await rejection(
    requestJson({ transport, provider: 'acme', url: URL_BASE, body: {} }),
  )) as ConnectionError;
}

/** `error` with `cause` attached, as undici and fetch chain their failures. */
function withCause(error: Error & { code?: string }, cause: unknown): Error {
  return Object.assign(error, { cause });
}

function coded(message: string, code: string | number): Error {
  return Object.assign(new Error(message), { code });
}

describe('requestJson: what the transport is given', () => {
  it('the headers setting overrides the default accept and user-agent', async () => {
    const { pending, requests } = call(answer(200, '{}'), {
      headers: { accept: 'application/x-ndjson', 'user-agent': 'my-app/1.0' },
    });
    await pending;
    expect(requests[0]!.headers).toEqual({
      accept: 'application/x-ndjson',
      'user-agent': 'my-app/1.0',
      'content-type': 'application/json',
    });
  });

  it('a header replaces the one before it whatever the letter case of either, and goes out once, lower-case (bug: Authorization beside authorization went as one header with both values, the key included)', async () => {
    const { pending, requests } = call(answer(200, '{}'), {
      headers: {
        authorization: 'Bearer sk-provider-key',
        'X-Trace': 'a',
        Authorization: 'Bearer gateway-token',
        'User-Agent': 'my-app/2.0',
        'Content-Type': 'text/plain',
        'x-trace': 'b',
      },
    });
    await pending;
    expect(requests[0]!.headers).toStrictEqual({
      accept: 'application/json',
      'user-agent': 'my-app/2.0',
      authorization: 'Bearer gateway-token',
      'x-trace': 'b',
      // The body is JSON whatever a header said.
      'content-type': 'application/json',
    });
  });

  it('a header named __proto__ is a header, not the prototype of the headers object', async () => {
    const headers = JSON.parse('{"__proto__":"x","x-a":"1"}') as Record<string, string>;
    const { pending, requests } = call(answer(200, '{}'), { headers });
    await pending;
    const sent = requests[0]!.headers;
    expect(Object.getPrototypeOf(sent)).toBe(Object.prototype);
    expect(Object.entries(sent)).toEqual([
      ['accept', 'application/json'],
      ['user-agent', `embedkit/${VERSION}`],
      ['__proto__', 'x'],
      ['x-a', '1'],
      ['content-type', 'application/json'],
    ]);
  });

  it('an explicit method wins over the one the body implies', async () => {
    const { pending, requests } = call(answer(200, ''), { method: 'DELETE', body: undefined });
    await pending;
    expect(requests[0]!.method).toBe('DELETE');
    expect(requests[0]!.body).toBeUndefined();
  });

  it('timeoutMs reaches the transport', async () => {
    const { pending, requests } = call(answer(200, '{}'), { timeoutMs: 1_234 });
    await pending;
    expect(requests[0]!.timeoutMs).toBe(1_234);
  });
});

describe("requestJson: the transport's body buffer", () => {
  it('is released once after the body is read, whether the call succeeds or fails', async () => {
    for (const [status, body] of [
      [200, '{"ok":true}'],
      [500, '{"error":"down"}'],
      [200, 'not json'],
    ] as const) {
      const release = vi.fn();
      const { transport } = scriptedTransport(() => ({ ...answer(status, body), release }));
      await requestJson({ transport, provider: 'acme', url: URL_BASE }).catch(() => undefined);
      expect(release, `${status} ${body}`).toHaveBeenCalledTimes(1);
    }
  });

  it('a bytes body is a copy: a transport that reuses the buffer it takes back does not change it', async () => {
    const bytes = encoder.encode('{"a":1}\n');
    const { transport } = scriptedTransport(() => ({
      status: 200,
      headers: {},
      body: bytes,
      release: () => bytes.fill(0),
    }));
    const response = await requestJson({ transport, provider: 'acme', url: URL_BASE, responseType: 'bytes' });
    expect(bytes.every((byte) => byte === 0)).toBe(true);
    expect(new TextDecoder().decode(response.body as Uint8Array)).toBe('{"a":1}\n');
  });
});

describe('requestJson: which answers succeed', () => {
  it('a 2xx body of only whitespace is an empty body', async () => {
    const response = await call(answer(200, '  \n\t ')).pending;
    expect(response.body).toBeUndefined();
    expect(response.status).toBe(200);
  });

  it('status 299 is a success', async () => {
    const response = await call(answer(299, '{"ok":true}')).pending;
    expect(response.status).toBe(299);
    expect(response.body).toEqual({ ok: true });
  });

  it('status 199 is a failure, like any status outside 2xx', async () => {
    const error = await failed(answer(199, '{}'));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(199);
    expect(error.message).toBe(
      'acme API error 199: {} — Check the inputs and options against the model’s capabilities.',
    );
  });
});

describe('request ids', () => {
  it('x-request-id wins over request-id when both come', async () => {
    const response = await call(answer(200, '{}', { 'request-id': 'second', 'x-request-id': 'first' }))
      .pending;
    expect(response.requestId).toBe('first');
  });

  it('requestIdHeaders replaces the default list, and its first header present wins', async () => {
    const headers = { 'x-request-id': 'default', 'x-amzn-requestid': 'amzn', 'cf-ray': 'ray' };
    const options = { requestIdHeaders: ['x-missing', 'x-amzn-requestid', 'cf-ray'] };
    expect((await call(answer(200, '{}', headers), options).pending).requestId).toBe('amzn');
    expect((await failed(answer(500, '{}', headers), options)).requestId).toBe('amzn');
  });

  it('a redirect carries the request id of its answer', async () => {
    const error = await failed(
      answer(302, '', { location: 'https://elsewhere.test/v1', 'x-request-id': 'req-302' }),
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.requestId).toBe('req-302');
  });

  it('a 2xx that is not JSON carries the request id of its answer', async () => {
    const error = await failed(answer(200, 'not json', { 'x-request-id': 'req-bad' }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.requestId).toBe('req-bad');
  });
});

describe('a 2xx body that is not JSON', () => {
  it('calls a body without a content type a non-JSON response and quotes 200 characters of it', async () => {
    const body = `n${'o'.repeat(499)}`;
    const error = await failed(answer(200, body));
    expect(error.message).toBe(
      `acme returned status 200 with a body that is not valid JSON: ${body.slice(0, 200)}… (300 more characters). A proxy or gateway between you and the API may be answering instead of it.`,
    );
    expect(error.responseBody).toBe(body);
  });

  it('keeps the JSON syntax error as its cause, with the secret it quotes redacted', async () => {
    const secret = 'Zk9q-w';
    const body = `x ${secret}`;
    let syntax = '';
    try {
      JSON.parse(body);
    } catch (error) {
      syntax = (error as Error).message;
    }
    // The runtime's message quotes a body this short whole: the secret is in the raw cause.
    expect(syntax).toContain(secret);
    const error = await failed(answer(200, body), { secrets: [secret] });
    const cause = error.cause as Error;
    expect(cause.message).toBe(syntax.replace(secret, '[REDACTED]'));
    expect(cause.message).not.toContain(secret);
  });
});

describe('an error status whose JSON body is not an object', () => {
  it('a 503 of JSON null is reported as a non-JSON body', async () => {
    const error = await failed(answer(503, 'null', { 'content-type': 'application/json' }));
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      `acme API error 503: a non-JSON application/json: null — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
  });

  it('a JSON string is never handed to parseError', async () => {
    const parseError = vi.fn((): ParsedError => ({ message: 'from the parser', providerCode: 'P1' }));
    const error = await failed(answer(503, '"overloaded"', { 'content-type': 'application/json' }), {
      parseError,
    });
    expect(parseError).not.toHaveBeenCalled();
    expect(error.providerCode).toBeUndefined();
    expect(error.message).toBe(
      `acme API error 503: a non-JSON application/json: "overloaded" — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
  });
});

describe('the text of an error body in the message', () => {
  it('a JSON body with no message of its own is quoted to 300 characters', async () => {
    const text = JSON.stringify({ detail: 'x'.repeat(400) });
    const error = await failed(answer(400, text, { 'content-type': 'application/json' }));
    expect(error.message).toBe(
      `acme API error 400: ${text.slice(0, 300)}… (${text.length - 300} more characters) — Check the inputs and options against the model’s capabilities.`,
    );
  });

  it('a non-JSON body without a content type is "a non-JSON response"', async () => {
    const error = await failed(answer(502, 'plain text'));
    expect(error.message).toBe(
      `acme API error 502: a non-JSON response: plain text — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
  });

  it.each([
    ['an empty body without a content type', '', {}, 'an empty body'],
    ['an empty HTML body', '', { 'content-type': 'text/html; charset=utf-8' }, 'an empty text/html body'],
    ['a body of whitespace', ' \r\n ', { 'content-type': 'text/plain' }, 'an empty text/plain body'],
    [
      'a page with no text',
      '<html><body></body></html>',
      { 'content-type': 'text/html' },
      'a text/html body with no text',
    ],
    ['markup with no content type', '<p></p>', {}, 'a non-JSON body with no text'],
  ])('%s is called what it is, not quoted as nothing', async (_name, body, headers, said) => {
    const error = await failed(answer(502, body, headers));
    expect(error.message).toBe(
      `acme API error 502: ${said} — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
    expect(error.responseBody).toBe(body);
  });

  it("the provider's code is redacted", async () => {
    const error = await failed(answer(401, '{}'), {
      secrets: [SECRET],
      parseError: () => ({ message: 'denied', providerCode: `bad_key_${SECRET}` }),
    });
    expect(error.providerCode).toBe('bad_key_[REDACTED]');
  });
});

describe('the text of an HTML error page', () => {
  it.each([
    [
      'a <scripts> tag opens no script: the text up to a real </script> stays',
      '<p>Busy</p><scripts>kept</scripts><script>var x = 1;</script><p>Retry</p>',
      'Busy kept Retry',
    ],
    ['a comment ends at -->, not at ->', '<p>Busy</p><!-- a -> b --><p>Retry</p>', 'Busy Retry'],
    ['upper-case SCRIPT tags', '<P>Busy</P><SCRIPT>var x = 1;</SCRIPT><p>Retry</p>', 'Busy Retry'],
    ['a comment between two words leaves a space', 'Busy<!--c-->Retry', 'Busy Retry'],
    ['a <script whose > never comes drops the rest of the page', '<p>Error</p><script src=x', 'Error'],
    [
      'a comment never closed loses only its <!--',
      '<p>Busy</p><!-- never closed <p>Retry</p>',
      'Busy never closed Retry',
    ],
  ])('%s', async (_name, page, text) => {
    const error = await failed(answer(502, page, { 'content-type': 'text/html' }));
    expect(error.message).toBe(
      `acme API error 502: a non-JSON text/html: ${text} — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
  });
});

describe('the advice each status carries', () => {
  it.each([
    [401, 'Check that the API key is set, current and meant for this host.'],
    [403, 'The key is valid but may not use this model or endpoint; check the project, region or account.'],
    [404, 'Check the model id and the base URL.'],
    [400, 'Check the inputs and options against the model’s capabilities.'],
    [408, `The API asked us to retry (408); ${RETRIED_CLAUSE}.`],
    [409, `The API was busy with a conflicting request; ${RETRIED_CLAUSE}.`],
  ])('%s: %s', async (status, hint) => {
    const error = await failed(answer(status, '{}'));
    expect(error.message).toBe(`acme API error ${status}: {} — ${hint}`);
  });

  it('a 409 the provider reads as final keeps the invalid-request advice, not a claim that it is retried', async () => {
    const error = await failed(answer(409, '{}'), {
      parseError: () => ({ message: 'the resource already exists', isRetryable: false }),
    });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe(
      'acme API error 409: the resource already exists — Check the inputs and options against the model’s capabilities.',
    );
  });

  it('a 418 (a replay refusing a request no recording matches) carries its own words only, not the invalid-request advice', async () => {
    const error = await failed(answer(418, '{"error":"no recording matches — record it again."}'), {
      parseError: (body) => ({ message: (body as { error: string }).error }),
    });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe('acme API error 418: no recording matches — record it again.');
  });

  it('the quota advice is for a rate limit only: a 400 that says quota keeps the invalid-request advice', async () => {
    const error = await failed(answer(400, '{}'), { parseError: () => ({ quotaExhausted: true }) });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'acme API error 400: {} — Check the inputs and options against the model’s capabilities.',
    );
  });

  it('an empty hint from the provider ends the message at the API message', async () => {
    const error = await failed(answer(401, '{}'), { parseError: () => ({ message: 'denied', hint: '' }) });
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.message).toBe('acme API error 401: denied');
  });

  it('a 408 the provider reads as a server error is a ServerError, not a timeout', async () => {
    const error = await failed(answer(408, '{}'), { parseError: () => ({ kind: 'server_error' }) });
    expect(ServerError.isInstance(error)).toBe(true);
    expect(TimeoutError.isInstance(error)).toBe(false);
    expect(error.code).toBe('server_error');
  });
});

describe('redirects', () => {
  it('a Location that is no URL is quoted as it came', async () => {
    const error = await failed(answer(302, '', { location: 'http://[bad' }));
    expect(error.message).toBe(
      `acme answered ${URL_BASE} with status 302, a redirect to http://[bad. Redirects are not followed, so that the API key is never sent to another address: check that the base URL points at the address the API answers at.`,
    );
  });
});

describe('unexpectedBodyError: a 2xx body of the wrong shape', () => {
  const WRONG_SHAPE =
    'acme returned an embeddings body of the wrong shape: data: expected an array; check that the base URL points at the acme API.';
  const instead = (message: string) =>
    `acme answered status 200 with an error instead of embeddings: ${message} — the API or a gateway in front of it reported a failure with a success status; check the message, and that the base URL points at the API.`;

  async function answered(body: unknown, options: Partial<RequestJsonOptions> = {}, id?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (id !== undefined) headers['x-request-id'] = id;
    return call(answer(200, JSON.stringify(body), headers), options).pending;
  }

  const reported = (response: JsonResponse, what = 'embeddings', problem = 'data: expected an array') =>
    unexpectedBodyError(response, 'acme', what, problem);

  it('redacts the URL of the call and the problem it names', async () => {
    const response = await answered({}, { url: `${URL_BASE}?key=${SECRET}`, secrets: [SECRET] });
    const error = reported(response, 'embeddings', `data: got "${SECRET}"`);
    expect(error.url).toBe(`${URL_BASE}?key=[REDACTED]`);
    expect(error.message).toBe(
      'acme returned an embeddings body of the wrong shape: data: got "[REDACTED]"; check that the base URL points at the acme API.',
    );
  });

  it('a response that did not come from requestJson has no URL', () => {
    const error = reported({ status: 200, headers: {}, body: {} });
    expect(error.url).toBeUndefined();
    expect(error.statusCode).toBe(200);
    expect(error.message).toBe(WRONG_SHAPE);
  });

  it('says "an" before a vowel in either case', async () => {
    const error = reported(await answered({}), 'Embeddings');
    expect(error.message).toBe(
      'acme returned an Embeddings body of the wrong shape: data: expected an array; check that the base URL points at the acme API.',
    );
  });

  it("the answer's request id wins over the body's; the body's is used alone", async () => {
    const parseError = (): ParsedError => ({ requestId: 'from-body' });
    const both = reported(await answered({ error: 'down' }, { parseError }, 'from-header'));
    expect(both.requestId).toBe('from-header');
    const bodyOnly = reported(await answered({ error: 'down' }, { parseError }));
    expect(bodyOnly.requestId).toBe('from-body');
  });

  it("takes isRetryable from the provider's parseError", async () => {
    const error = reported(await answered({ error: 'busy' }, { parseError: () => ({ isRetryable: true }) }));
    expect(error.isRetryable).toBe(true);
    expect(error.message).toBe(instead('busy'));
  });

  it("reads the message the provider's own parser finds in a body with none of the common fields", async () => {
    const parseError = (body: unknown): ParsedError => {
      const { message, code } = body as { message?: unknown; code?: unknown };
      return typeof message === 'string' ? { message, providerCode: String(code) } : {};
    };
    const error = reported(await answered({ message: 'upstream failed', code: 'busy' }, { parseError }));
    expect(error.message).toBe(instead('upstream failed'));
    expect(error.providerCode).toBe('busy');
    // A body the parser finds no message in is the wrong shape, as before; so is one in which it finds a
    // message alone, with no code (a gateway's `{ code: 0, message: 'success', data }`).
    expect(reported(await answered({ vectors: 'none' }, { parseError })).message).toBe(WRONG_SHAPE);
    const messageOnly = (body: unknown): ParsedError => ({ message: (body as { message: string }).message });
    expect(
      reported(await answered({ code: 0, message: 'success', data: {} }, { parseError: messageOnly }))
        .message,
    ).toBe(WRONG_SHAPE);
  });

  it.each<[string, unknown, string]>([
    ['the error over the detail', { error: 'E', detail: 'D' }, 'E'],
    ['a top-level message when the error has none', { error: { code: 7 }, message: 'top' }, 'top'],
    ['message over msg', { error: { message: 'M', msg: 'm' } }, 'M'],
    ['the body itself when nothing holds a message', { error: { code: 500 } }, '{"error":{"code":500}}'],
    ['the body itself when the errors hold no message', { errors: [{ code: 1 }] }, '{"errors":[{"code":1}]}'],
  ])('reads %s', async (_name, body, message) => {
    expect(reported(await answered(body)).message).toBe(instead(message));
  });

  it('JSON null is no error either, and is called so', async () => {
    expect(reported(await answered(null)).message).toBe(
      'acme returned status 200 with a JSON null; check that the base URL points at the acme API.',
    );
  });

  it.each<[string, unknown]>([
    ['error: false', { error: false }],
    ['an empty errors list', { errors: [] }],
    ['a list of two errors (only a list of one is unwrapped)', [{ error: 'a' }, { error: 'b' }]],
  ])('%s is no error, just the wrong shape', async (_name, body) => {
    expect(reported(await answered(body)).message).toBe(WRONG_SHAPE);
  });
});

describe('transport failures: the reason and the class', () => {
  const connection = (reason: string) =>
    `acme: could not complete the request to ${URL_BASE} (${reason}). Check the network, proxy settings and base URL; ${RETRIED_CLAUSE}.`;

  it('names each error of the chain as its code then its message', async () => {
    const error = await transportError(
      withCause(new TypeError('fetch failed'), coded('read ECONNRESET', 'ECONNRESET')),
    );
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toBe(connection('fetch failed: ECONNRESET read ECONNRESET'));
  });

  it('names four errors of a chain, not a fifth', async () => {
    const chain = withCause(
      new Error('one'),
      withCause(
        new Error('two'),
        withCause(new Error('three'), withCause(new Error('four'), new Error('five'))),
      ),
    );
    expect((await transportError(chain)).message).toBe(connection('one: two: three: four'));
  });

  it('skips an error of the chain that has neither code nor message', async () => {
    const error = await transportError(withCause(new Error(''), coded('read', 'ECONNRESET')));
    expect(error.message).toBe(connection('ECONNRESET read'));
  });

  it('a thrown string is named once; nothing at all is an unknown error; a null cause ends the chain', async () => {
    expect((await transportError('socket hang up')).message).toBe(connection('socket hang up'));
    expect((await transportError({})).message).toBe(connection('unknown error'));
    expect((await transportError(withCause(new Error('closed'), null))).message).toBe(connection('closed'));
  });

  it('finds a timeout code in the cause and three causes down, not four', async () => {
    const inCause = await transportError(
      withCause(new TypeError('fetch failed'), coded('t', 'UND_ERR_CONNECT_TIMEOUT')),
    );
    expect(TimeoutError.isInstance(inCause)).toBe(true);
    const nested = (depth: number): unknown =>
      depth === 0
        ? coded('timed out', 'ETIMEDOUT')
        : withCause(new Error(`level ${depth}`), nested(depth - 1));
    expect(TimeoutError.isInstance(await transportError(nested(3)))).toBe(true);
    const tooDeep = await transportError(nested(4));
    expect(ConnectionError.isInstance(tooDeep)).toBe(true);
    expect(TimeoutError.isInstance(tooDeep)).toBe(false);
  });

  it('passes over a numeric code to the string code of its cause', async () => {
    const error = await transportError(withCause(coded('socket', -110), coded('timed out', 'ETIMEDOUT')));
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(error.message).toBe(`acme: no answer from ${URL_BASE} in time (socket: ETIMEDOUT timed out).`);
  });
});

describe('transport failures that are no network fault, and requests that never left', () => {
  it("a response over the cap is an InvalidResponseError that keeps the transport's error as its cause", async () => {
    const tooLarge = new ResponseTooLargeError(1_000);
    const error = await transportError(tooLarge);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'acme sent a response larger than 1000 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
    expect(error.cause).toBe(tooLarge);
  });

  it.each(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'ERR__ERROR_FORMAT_PADDING_1'])(
    'a body that does not decompress (%s) is a non-retryable InvalidResponseError',
    async (code) => {
      const error = await transportError(withCause(new TypeError('terminated'), coded('bad body', code)));
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(false);
      expect(error.message).toBe(
        `acme sent a compressed body that does not decompress (terminated: ${code} bad body). A proxy or gateway between you and the API may be altering the answer.`,
      );
    },
  );

  it.each([
    'ECONNREFUSED',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EAI_FAIL',
    'EAI_NONAME',
    'ENETUNREACH',
    'EHOSTUNREACH',
  ])('%s: the request never left', async (code) => {
    const error = await transportError(
      withCause(new TypeError('fetch failed'), coded('no connection', code)),
    );
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.neverSent).toBe(true);
  });

  it.each(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])(
    '%s: the request may have reached the API',
    async (code) => {
      const error = await transportError(withCause(new TypeError('fetch failed'), coded('closed', code)));
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.neverSent).toBe(false);
    },
  );
});

describe('Retry-After and x-ratelimit-reset at their edges', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it.each([
    ['a number ending in a point', { 'retry-after': '1.' }],
    ['a date without a day name and a space', { 'retry-after': 'Dec-01-2025' }],
    ['a day-name-like word that is no date', { 'retry-after': 'Someday soon' }],
  ])('%s is no wait', (_name, headers) => {
    expect(parseRetryAfter(headers, now)).toBeUndefined();
  });

  it('an HTTP-date with spaces around it is read', () => {
    expect(parseRetryAfter({ 'retry-after': '  Sat, 01 Mar 2025 12:01:00 GMT ' }, now)).toBe(60_000);
  });

  it('1e12 is already a date in epoch milliseconds, and 1e9 one in epoch seconds (both long past)', () => {
    expect(parseRateLimitReset({ 'x-ratelimit-reset': '1000000000000' }, now)).toBe(0);
    expect(parseRateLimitReset({ 'x-ratelimit-reset': '1000000000' }, now)).toBe(0);
  });
});

describe('header checks', () => {
  const refusal = (headers: unknown, source = 'headers') => {
    try {
      checkHeaders(headers, source);
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      return error as InvalidArgumentError;
    }
    throw new Error('expected checkHeaders to refuse');
  };

  it('an empty header name is refused', () => {
    const error = refusal({ '': 'x' });
    expect(error.message).toBe(
      "headers has a header name HTTP does not allow (the name at position 1); a name holds only letters, digits and !#$%&'*+-.^_`|~, with no spaces or colons.",
    );
    expect(error.argument).toBe('headers');
  });

  it('a DEL character in a value is refused', () => {
    const error = refusal({ 'x-trace-id': 'a\x7f' });
    expect(error.message).toBe(
      'headers has a value for header "x-trace-id" that holds a line break, a control character or a character beyond Latin-1, which HTTP cannot carry.',
    );
    expect(error.argument).toBe('headers.x-trace-id');
  });

  it('a null value is named as null', () => {
    const error = refusal({ 'x-trace-id': null });
    expect(error.message).toBe(
      'headers has a null value for header "x-trace-id"; header values are strings.',
    );
  });

  it('null headers are refused as not a plain object', () => {
    expect(refusal(null).message).toBe(
      "headers must be a plain object of header names to string values, like { 'x-trace-id': 'a1' }.",
    );
    expect(isPlainObject(undefined)).toBe(false);
  });

  it("a Headers object in a provider's setting is refused with the provider named", async () => {
    const { fetch, sent } = recordingFetch(() => new Response('{}'));
    const error = await failure({
      fetch,
      headers: new Headers({ a: 'b' }) as unknown as Record<string, string>,
    });
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.provider).toBe('acme');
    expect(error.message).toBe(
      "acme: the headers setting must be a plain object of header names to string values, like { 'x-trace-id': 'a1' }.",
    );
    expect(sent).toHaveLength(0);
  });

  it('an object without a prototype is a plain object, and its headers are sent', async () => {
    const headers = Object.assign(Object.create(null) as Record<string, string>, { 'x-trace-id': 'a1' });
    const { pending, requests } = call(answer(200, '{}'), { headers });
    await pending;
    expect(requests[0]!.headers['x-trace-id']).toBe('a1');
  });
});
