import { getEventListeners } from 'node:events';
import type { Socket } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectionError, InvalidResponseError, ServerError, TimeoutError } from '../src/errors.js';
import { type ParsedError, requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { redact } from '../src/http/redact.js';
import { parseRetryAfter } from '../src/http/retry-after.js';
import type { Transport } from '../src/http/transport.js';
import { createUndiciTransport } from '../src/http/undici-transport.js';
import { rejection, until } from './helpers.js';
import { failure, type RawLoopback, startRawLoopback, walkForSecrets, watchHeads } from './http-helpers.js';

const KEY = 'sk-live-Rv82Tq5Wm0';
/** A credential the call did not send (a gateway's own key), echoed by the server. */
const OTHER_KEY = 'gw-Lp93Xc7Hd2';

const TRANSPORTS: Record<string, () => Transport> = {
  fetch: () => createFetchTransport(),
  undici: () => createUndiciTransport(),
};

describe('error bodies a provider reads into other types than strings', () => {
  const answer503 = async () =>
    new Response('{"error":{"message":"overloaded","request_id":12345,"code":7}}', {
      status: 503,
      headers: { 'content-type': 'application/json' },
    });

  it('a numeric request id or code read from the body is kept as text, and the error is the typed ServerError', async () => {
    const parseError = (body: unknown): ParsedError => {
      const { error } = body as { error: { message: string; request_id: unknown; code: unknown } };
      return { message: error.message, requestId: error.request_id, providerCode: error.code } as ParsedError;
    };
    const error = await failure({ fetch: answer503, parseError });
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.code).toBe('server_error');
    expect(error.isRetryable).toBe(true);
    expect(error.requestId).toBe('12345');
    expect(error.providerCode).toBe('7');
    expect(error.message).toBe(
      'acme API error 503: overloaded — The API failed on its side; the engine retries these.',
    );
  });

  it('a message that is not text is left out: the body stands in for it', async () => {
    const parseError = () => ({ message: { text: 'overloaded' } }) as unknown as ParsedError;
    const error = await failure({ fetch: answer503, parseError });
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.code).toBe('server_error');
    expect(error.message).toBe(
      'acme API error 503: {"error":{"message":"overloaded","request_id":12345,"code":7}} — The API failed on its side; the engine retries these.',
    );
  });

  it('a reader that returns nothing still gives the typed error of the status', async () => {
    const parseError = (() => undefined) as unknown as (body: unknown) => ParsedError;
    const error = await failure({ fetch: answer503, parseError });
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.code).toBe('server_error');
    expect(error.statusCode).toBe(503);
  });
});

describe('Retry-After that is no number and no HTTP-date', () => {
  const now = Date.parse('Sun, 06 Dec 2026 16:00:00 GMT');

  it.each(['wait 60', 'Tomorrow 5', 'Sun 2030', 'Wed 12'])(
    '%j is no wait at all (it read as a date of the past, a wait of 0, or of years)',
    (value) => {
      expect(parseRetryAfter({ 'retry-after': value }, now)).toBeUndefined();
    },
  );

  it.each([
    ['Sun, 06 Dec 2026 16:00:30 GMT', 30_000],
    ['Sunday, 06-Dec-26 16:00:45 GMT', 45_000],
    ['Sun Dec  6 16:01:00 2026', 60_000],
  ])('the three HTTP-date forms still read: %j', (value, waitMs) => {
    expect(parseRetryAfter({ 'retry-after': value }, now)).toBe(waitMs);
  });

  it('a 503 with "Retry-After: wait 60" carries no retryAfterMs, so the engine backs off on its own', async () => {
    const error = await failure({
      fetch: async () => new Response('{}', { status: 503, headers: { 'retry-after': 'wait 60' } }),
    });
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBeUndefined();
  });
});

describe('redaction of a credential parameter whose value is quoted', () => {
  it.each([
    [`client rejected: OpenAI(api_key='${OTHER_KEY}')`, "client rejected: OpenAI(api_key='[REDACTED]')"],
    [`token="${OTHER_KEY}" is not valid`, 'token="[REDACTED]" is not valid'],
    [`{"message":"bad api_key=\\"${OTHER_KEY}\\""}`, '{"message":"bad api_key=\\"[REDACTED]\\""}'],
    [`https://api.test/v1?code='${OTHER_KEY}'&x=1`, "https://api.test/v1?code='[REDACTED]'&x=1"],
  ])('%s', (text, redacted) => {
    expect(redact(text)).toBe(redacted);
  });

  it('the end of a quoted URL with an empty credential is not taken for the start of a value: the JSON still parses', () => {
    const text = '{"url":"https://api.test/v1?sig=","next":"page-2"}';
    const redacted = redact(text);
    expect(redacted).toBe('{"url":"https://api.test/v1?sig=[REDACTED]","next":"page-2"}');
    expect(JSON.parse(redacted)).toEqual({ url: 'https://api.test/v1?sig=[REDACTED]', next: 'page-2' });
  });

  it('a 401 whose body quotes another credential as a keyword argument keeps it out of every field', async () => {
    const body = JSON.stringify({
      error: { message: `upstream raised AuthenticationError(api_key='${OTHER_KEY}')` },
    });
    const error = await failure({
      fetch: async () => new Response(body, { status: 401, headers: { 'content-type': 'application/json' } }),
      headers: { authorization: `Bearer ${KEY}` },
      parseError: (parsed) => ({ message: (parsed as { error: { message: string } }).error.message }),
    });
    expect(error.code).toBe('authentication');
    expect(error.message).toContain("AuthenticationError(api_key='[REDACTED]')");
    expect(walkForSecrets(error, [KEY, OTHER_KEY]).leaks).toEqual([]);
  });
});

/**
 * A raw TCP server: each request is answered by `answer` with whatever bytes it writes, so that bodies can
 * be cut, lie about their length or never end.
 */
describe('both transports against the same misbehaving server', () => {
  let loopback: RawLoopback;
  let answer: (socket: Socket) => void = (socket) => socket.destroy();

  beforeAll(async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    loopback = await startRawLoopback((socket) => answer(socket));
  });

  afterEach(() => loopback.reset());

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  const call = (transport: string, signal?: AbortSignal) =>
    requestJson({
      transport: TRANSPORTS[transport]!(),
      provider: 'acme',
      url: `${loopback.origin}/v1/embeddings?key=${KEY}`,
      body: { input: ['a'] },
      headers: { authorization: `Bearer ${KEY}` },
      maxResponseBytes: 50_000,
      ...(signal === undefined ? {} : { signal }),
    });

  describe.each(Object.keys(TRANSPORTS))('%s', (transport) => {
    it('a gzip body cut mid-stream is a retryable ConnectionError that names no key', async () => {
      const gzipped = gzipSync(JSON.stringify({ data: 'x'.repeat(5_000) }));
      answer = (socket) => {
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${gzipped.length}\r\n\r\n`,
        );
        socket.write(gzipped.subarray(0, 10));
        setTimeout(() => socket.destroy(), 20);
      };
      const error = (await rejection(call(transport))) as ConnectionError;
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.code).toBe('connection');
      expect(error.isRetryable).toBe(true);
      expect(error.neverSent).toBe(false);
      expect(walkForSecrets(error, [KEY]).leaks).toEqual([]);
    });

    it('a brotli body that grows past maxResponseBytes with no Content-Length is refused', async () => {
      const compressed = brotliCompressSync(Buffer.alloc(100_000, 32));
      answer = (socket) =>
        socket.end(
          Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\ncontent-encoding: br\r\nconnection: close\r\n\r\n'),
            compressed,
          ]),
        );
      const error = (await rejection(call(transport))) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.code).toBe('invalid_response');
      expect(error.message).toBe(
        'acme sent a response larger than 50000 bytes; raise maxResponseBytes or send fewer inputs per call.',
      );
    });

    it('a timeout while the body streams rejects with its reason, closes the socket and leaves no listener', async () => {
      answer = (socket) =>
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":"',
        );
      const { heads, stop } = watchHeads();
      try {
        const controller = new AbortController();
        const outcomes: unknown[] = [];
        rejection(call(transport, controller.signal)).then(
          (error) => outcomes.push(error),
          (failure) => outcomes.push(failure),
        );
        // The timeout strikes only once the client has the head of the answer (undici reports it as it hands
        // the head on; a turn of the event loop later the transport waits for the body): what it must end is
        // the read of the body.
        await until(() => heads.some((head) => head.origin === loopback.origin), 'the head of the answer');
        expect(outcomes).toEqual([]);
        expect(loopback.sockets).toHaveLength(1);
        const reason = new TimeoutError('acme model m did not answer within 50 ms (timeoutMs).');
        controller.abort(reason);
        await until(() => outcomes.length > 0, 'the call to end at the abort');
        expect(outcomes[0]).toBe(reason);
        await until(() => loopback.closed.has(loopback.sockets[0]!), 'the socket to close');
        expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
      } finally {
        stop();
      }
    });
  });
});
