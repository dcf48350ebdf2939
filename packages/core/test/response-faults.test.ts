/**
 * Answers that go wrong after the request was sent, through both transports: compressed bodies that do
 * not decompress or inflate past the cap, encodings never offered, bodies that lie about their length,
 * are cut or stall, headers that trickle in, and 2xx bodies that are not what the call expects. A raw TCP
 * server writes each answer byte for byte.
 */
import type { Socket } from 'node:net';
import * as zlib from 'node:zlib';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import {
  ConnectionError,
  InvalidResponseError,
  RateLimitError,
  RetryError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import { type JsonResponse, requestJson } from '../src/http/client.js';
import { createFetchTransport, type FetchFunction } from '../src/http/fetch-transport.js';
import type { Transport } from '../src/http/transport.js';
import { createDefaultDispatcher, createUndiciTransport } from '../src/http/undici-transport.js';
import { rejection, timersAtEach, VirtualClock } from './helpers.js';
import {
  acmeRequest,
  type RawLoopback,
  requestJsonModel,
  startRawLoopback,
  TRANSPORTS,
  watchHeads,
} from './http-helpers.js';

const GOOD = JSON.stringify({ data: [{ index: 0, embedding: [0.5] }], pad: 'z'.repeat(3_000) });
const GZIPPED = gzipSync(GOOD);
/** A gzip body whose header is sound and whose compressed data is not. */
const CORRUPT_GZIP = Buffer.from(GZIPPED);
for (let index = 20; index < 60; index++) CORRUPT_GZIP[index]! ^= 0x5a;
/** Bytes that are no brotli stream. */
const NOT_BROTLI = Buffer.from('these bytes were never compressed with anything at all');

/** The head of an answer, ending with its blank line. */
function head(status: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status}\r\n${lines.join('')}\r\n`;
}

/**
 * An answer written whole, after which the server closes the connection (as `connection: close` says):
 * no connection a client keeps for the next call outlives its test.
 */
function writes(status: string, headers: Record<string, string | number>, body: Buffer | string) {
  return (socket: Socket) =>
    socket.end(
      Buffer.concat([Buffer.from(head(status, { ...headers, connection: 'close' })), Buffer.from(body)]),
    );
}

/** An answer of JSON sent under `encoding`, with a length that matches the bytes sent. */
function encoded(
  encoding: string,
  body: Buffer | string,
  status = '200 OK',
  headers: Record<string, string | number> = {},
) {
  const type = { 'content-type': 'application/json', 'content-encoding': encoding };
  return writes(status, { ...type, 'content-length': Buffer.byteLength(body), ...headers }, body);
}

describe('response faults through both transports', () => {
  let loopback: RawLoopback;
  let answer: (socket: Socket) => void = (socket) => socket.destroy();
  const timers: ReturnType<typeof setInterval>[] = [];

  beforeAll(async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    loopback = await startRawLoopback((socket) => answer(socket));
  });

  afterEach(() => {
    for (const timer of timers.splice(0)) clearInterval(timer);
    loopback.reset();
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  const call = (transport: Transport, maxResponseBytes = 1_000_000) =>
    acmeRequest(transport, `${loopback.origin}/v1/embeddings`, { maxResponseBytes });

  /**
   * What `run` settles with, and every error thrown outside it (from a socket's event, where no caller can
   * catch it, and the process would end) until the server has seen each connection closed.
   */
  async function settledAndThrownOutside(run: () => Promise<unknown>) {
    const thrown: unknown[] = [];
    const onThrown = (error: unknown) => thrown.push(error);
    process.on('uncaughtException', onThrown);
    try {
      const settled = await run().catch((error: unknown) => error);
      await vi.waitFor(() =>
        expect(thrown.length > 0 || loopback.sockets.every((socket) => loopback.closed.has(socket))).toBe(
          true,
        ),
      );
      return { settled, thrown };
    } finally {
      process.off('uncaughtException', onThrown);
    }
  }

  /** A model that sends each call to the loopback through `requestJson`. */
  const model = (transport: Transport) => requestJsonModel(transport, `${loopback.origin}/v1/embeddings`);

  describe.each(Object.keys(TRANSPORTS))('%s', (name) => {
    const transport = TRANSPORTS[name]!;
    /** The fetch transport's errors quote Node's fetch, which puts `terminated: ` before the cause. */
    const terminated = name === 'fetch' ? 'terminated: ' : '';

    /** What `embedMany` of one input through this transport fails with. */
    const embedFailure = (settings: { timeoutMs?: number; maxRetries?: number } = {}) =>
      rejection(
        embedMany({
          model: model(transport()),
          inputs: ['a'],
          clock: new VirtualClock({ random: [0] }),
          ...settings,
        }),
      );

    /**
     * Both attempts of a call with `timeoutMs` 100 and one retry end at that timeout, each let pass only
     * once `reached()` counts the attempt (see `timersAtEach`).
     */
    async function expectTimedOutTwice(reached: () => number, what: string) {
      const call = () => embedFailure({ timeoutMs: 100, maxRetries: 1 });
      const error = (await timersAtEach(100, reached, what, call)) as RetryError;
      expect(RetryError.isInstance(error)).toBe(true);
      expect(error.code).toBe('retries_exhausted');
      expect(error.attempts).toBe(2);
      expect(TimeoutError.isInstance(error.lastError)).toBe(true);
      expect((error.lastError as TimeoutError).message).toBe(
        'acme model m did not answer within 100 ms (timeoutMs). — every retry failed: try again later, or raise maxRetries.',
      );
      expect(loopback.requests).toBe(2);
    }

    it('a 200 whose gzip body does not decompress is a non-retryable InvalidResponseError', async () => {
      answer = encoded('gzip', CORRUPT_GZIP);
      const error = (await rejection(call(transport()))) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.code).toBe('invalid_response');
      expect(error.isRetryable).toBe(false);
      expect(error.message).toBe(
        `acme sent a compressed body that does not decompress (${terminated}Z_DATA_ERROR invalid bit length repeat). A proxy or gateway between you and the API may be altering the answer.`,
      );
      expect(loopback.requests).toBe(1);
    });

    it('a 503 whose gzip body does not decompress is still a retryable ServerError that keeps its Retry-After', async () => {
      answer = encoded('gzip', CORRUPT_GZIP, '503 Service Unavailable', {
        'retry-after': 7,
        'x-request-id': 'req-fake-503',
      });
      const error = (await rejection(call(transport()))) as ServerError;
      expect(ServerError.isInstance(error)).toBe(true);
      expect(error.code).toBe('server_error');
      expect(error.isRetryable).toBe(true);
      expect(error.statusCode).toBe(503);
      expect(error.retryAfterMs).toBe(7_000);
      expect(error.requestId).toBe('req-fake-503');
      expect(loopback.requests).toBe(1);
      expect(error.message).toBe(
        `acme API error 503: its compressed body does not decompress (${terminated}Z_DATA_ERROR invalid bit length repeat) — The API failed on its side; the engine retries these.`,
      );
    });

    it('embedMany retries a 503 whose gzip body does not decompress, after the Retry-After wait', async () => {
      answer = (socket) =>
        loopback.requests === 1
          ? encoded('gzip', CORRUPT_GZIP, '503 Service Unavailable', { 'retry-after': 7 })(socket)
          : encoded('gzip', GZIPPED)(socket);
      const clock = new VirtualClock({ random: [0] });
      const result = await embedMany({ model: model(transport()), inputs: ['a'], clock, maxRetries: 2 });
      expect(result.embeddings).toEqual([Float32Array.of(0.5, 0.5)]);
      expect(loopback.requests).toBe(2);
      expect(clock.sleepDurations).toEqual([7_000]);
    });

    it('a gzip bomb is refused as too large once the cap is reached, without inflating the rest', async () => {
      // About 49 KB of gzip that inflates to 50 MB of JSON.
      const json = `{"data":[{"index":0,"embedding":[${'0.5,'.repeat(12_500_000)}0.5]}]}`;
      const bomb = gzipSync(json, { level: 9 });
      expect(bomb.length).toBeLessThan(64 * 1024);
      answer = encoded('gzip', bomb);
      // Counts the decompressed bytes the transport is handed, as the transport reads them.
      let handed = 0;
      let counted: Transport;
      let dispatcher: Dispatcher | undefined;
      if (name === 'undici') {
        const counting: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
          dispatch(options, {
            onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
            onResponseStart: (controller, status, headers, message) =>
              handler.onResponseStart?.(controller, status, headers, message),
            onResponseData: (controller, chunk) => {
              handed += chunk.byteLength;
              handler.onResponseData?.(controller, chunk);
            },
            onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
            onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
          });
        dispatcher = createDefaultDispatcher().compose(counting);
        counted = createUndiciTransport(dispatcher);
      } else {
        const countingFetch: FetchFunction = async (url, init) => {
          const response = await fetch(url, init);
          const reader = response.body!.getReader();
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              const { done, value } = await reader.read();
              if (done) return controller.close();
              handed += value.byteLength;
              controller.enqueue(value);
            },
            cancel: (reason) => reader.cancel(reason),
          });
          return new Response(body, { status: response.status, headers: response.headers });
        };
        counted = createFetchTransport(countingFetch);
      }
      try {
        // The server closes the connection after the body.
        const { settled, thrown } = await settledAndThrownOutside(() => call(counted));
        expect(thrown).toEqual([]);
        const error = settled as InvalidResponseError;
        expect(InvalidResponseError.isInstance(error)).toBe(true);
        expect(error.code).toBe('invalid_response');
        expect(error.message).toBe(
          'acme sent a response larger than 1000000 bytes; raise maxResponseBytes or send fewer inputs per call.',
        );
        expect(loopback.requests).toBe(1);
        // The cap and at most a few chunks past it, of the 50 MB the body inflates to.
        expect(handed).toBeGreaterThan(1_000_000);
        expect(handed).toBeLessThan(1_300_000);
      } finally {
        await dispatcher?.close();
      }
    });

    it('a gzip answer that inflates to 50 MB, after which the server closes the connection, is read whole and throws nothing outside the call', async () => {
      const json = `{"data":[{"index":0,"embedding":[${'0.5,'.repeat(12_500_000)}0.5]}]}`;
      answer = encoded('gzip', gzipSync(json, { level: 9 }));
      const { settled, thrown } = await settledAndThrownOutside(() =>
        requestJson({
          transport: transport(),
          provider: 'acme',
          url: `${loopback.origin}/v1/embeddings`,
          body: { input: ['a'] },
          responseType: 'bytes',
        }),
      );
      expect(thrown).toEqual([]);
      expect(((settled as JsonResponse).body as Uint8Array).byteLength).toBe(json.length);
      expect(loopback.requests).toBe(1);
    });

    it('a brotli body that does not decompress is a non-retryable InvalidResponseError', async () => {
      answer = encoded('br', NOT_BROTLI);
      const error = (await rejection(call(transport()))) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(false);
      expect(error.message).toBe(
        `acme sent a compressed body that does not decompress (${terminated}ERR__ERROR_FORMAT_PADDING_1 Decompression failed). A proxy or gateway between you and the API may be altering the answer.`,
      );
    });

    it('a body under an encoding no runtime decodes (x-unknown) is read as sent', async () => {
      answer = encoded('x-unknown', GOOD);
      expect((await call(transport())).body).toEqual(JSON.parse(GOOD));
      // Bytes that are not JSON as sent are reported as such, naming the encoding left undecoded.
      answer = encoded('x-unknown', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x51, 0x00]));
      const error = (await rejection(call(transport()))) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.statusCode).toBe(200);
      expect(error.message).toBe(
        'acme returned status 200 with a body that is not valid JSON: a body in content-encoding x-unknown, not decoded. A proxy or gateway between you and the API may be answering instead of it.',
      );
      expect(loopback.requests).toBe(2);
    });

    it('a zstd body that is no zstd frame does not decompress where this Node decodes zstd, and is read as sent where it does not', async () => {
      answer = encoded('zstd', GOOD);
      if (typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress !== 'function') {
        // Node 20 has no zstd: the body is handed on as it came.
        expect((await call(transport())).body).toEqual(JSON.parse(GOOD));
        return;
      }
      const error = (await rejection(call(transport()))) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(false);
      expect(error.message).toMatch(
        /^acme sent a compressed body that does not decompress \((terminated: )?ZSTD_error_prefix_unknown /,
      );
      expect(loopback.requests).toBe(1);
    });

    it('a body shorter than its Content-Length, then a closed connection, is a retryable ConnectionError', async () => {
      answer = (socket) =>
        socket.end(
          head('200 OK', { 'content-type': 'application/json', 'content-length': GOOD.length + 100 }) + GOOD,
        );
      const error = (await rejection(call(transport()))) as ConnectionError;
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.code).toBe('connection');
      expect(error.isRetryable).toBe(true);
      expect(error.neverSent).toBe(false);
      expect(error.message).toContain('UND_ERR_SOCKET other side closed');
    });

    it('a body longer than its Content-Length is read to that length, and the next call is answered whole', async () => {
      // On a connection kept open: what follows the declared length must not be read as the next answer.
      answer = (socket) =>
        socket.write(
          head('200 OK', { 'content-type': 'application/json', 'content-length': GOOD.length - 100 }) + GOOD,
        );
      const shared = transport();
      const error = (await rejection(call(shared))) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(
        /^acme returned status 200 with a body that is not valid JSON \(application\/json\): /,
      );
      answer = writes('200 OK', { 'content-type': 'application/json', 'content-length': GOOD.length }, GOOD);
      expect((await call(shared)).body).toEqual(JSON.parse(GOOD));
      expect(loopback.requests).toBe(2);
    });

    it('a chunked body cut mid-chunk is a retryable ConnectionError', async () => {
      answer = (socket) =>
        socket.end(
          `${head('200 OK', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })}7d0\r\n${'x'.repeat(500)}`,
        );
      const error = (await rejection(call(transport()))) as ConnectionError;
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(true);
      expect(error.message).toContain('UND_ERR_SOCKET other side closed');
    });

    it('a body that stalls after the headers ends at timeoutMs as a TimeoutError, and is retried', async () => {
      answer = (socket) =>
        socket.write(`${head('200 OK', { 'content-type': 'application/json', 'content-length': 100 })}{"da`);
      // The timeout strikes only once the client has the head: it must end the read of the body.
      const { heads, stop } = watchHeads();
      try {
        const reached = () => heads.filter((head) => head.origin === loopback.origin).length;
        await expectTimedOutTwice(reached, 'the head of the answer to attempt');
      } finally {
        stop();
      }
    });

    it('headers that arrive a byte at a time past timeoutMs end as a TimeoutError, and are retried', async () => {
      const text = head('200 OK', {
        'content-type': 'application/json',
        'x-pad': 'p'.repeat(500),
        'content-length': 2,
      });
      // Every byte but the blank line that ends the headers, one each 5 ms: they never end.
      const trickled: number[] = [];
      answer = (socket) => {
        const attempt = trickled.push(0) - 1;
        timers.push(
          setInterval(() => {
            if (!socket.destroyed && trickled[attempt]! < text.length - 2) {
              socket.write(text[trickled[attempt]!++]!);
            }
          }, 5),
        );
      };
      const { heads, stop } = watchHeads();
      try {
        // The timeout strikes once a few bytes of the attempt's head have arrived.
        const reached = () => trickled.filter((sent) => sent >= 3).length;
        await expectTimedOutTwice(reached, 'bytes of the head of the answer to attempt');
        expect(heads).toEqual([]);
      } finally {
        stop();
      }
    });

    it('a 200 HTML login page from a proxy is an InvalidResponseError that points at the proxy', async () => {
      const page = '<html><body>Please log in</body></html>';
      answer = writes('200 OK', { 'content-type': 'text/html', 'content-length': page.length }, page);
      const error = (await embedFailure()) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.code).toBe('invalid_response');
      expect(error.isRetryable).toBe(false);
      expect(error.statusCode).toBe(200);
      expect(error.message).toBe(
        'acme returned status 200 with a body that is not valid JSON (text/html): Please log in. A proxy or gateway between you and the API may be answering instead of it.',
      );
      expect(loopback.requests).toBe(1);
    });

    it('a 200 JSON body of the wrong shape is an InvalidResponseError that names what is wrong', async () => {
      const body = '{"result":[1]}';
      answer = writes('200 OK', { 'content-type': 'application/json', 'content-length': body.length }, body);
      const error = (await embedFailure()) as InvalidResponseError;
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(false);
      expect(error.message).toBe(
        'acme returned an embedding body of the wrong shape: data: expected an array; check that the base URL points at the acme API.',
      );
      expect(loopback.requests).toBe(1);
    });
  });

  it('undici: a 429 whose brotli body does not decompress is still a RateLimitError with its Retry-After', async () => {
    answer = encoded('br', NOT_BROTLI, '429 Too Many Requests', { 'retry-after': 3 });
    const error = (await rejection(call(createUndiciTransport()))) as RateLimitError;
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.code).toBe('rate_limited');
    expect(error.isRetryable).toBe(true);
    expect(error.retryAfterMs).toBe(3_000);
    expect(error.quotaExhausted).toBe(false);
    expect(error.message).toBe(
      'acme API error 429: its compressed body does not decompress (ERR__ERROR_FORMAT_PADDING_1 Decompression failed) — Lower concurrency or set rateLimit; the engine retries these.',
    );
  });

  it('undici: a gzip body cut short, with a length that matches, is a non-retryable InvalidResponseError', async () => {
    const cut = GZIPPED.subarray(0, 40);
    answer = encoded('gzip', cut);
    const error = (await rejection(call(createUndiciTransport()))) as InvalidResponseError;
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'acme sent a compressed body that does not decompress (Z_BUF_ERROR unexpected end of file). A proxy or gateway between you and the API may be altering the answer.',
    );
  });

  it('a brotli answer is read through both transports when it decompresses', async () => {
    const compressed = brotliCompressSync(GOOD);
    for (const name of Object.keys(TRANSPORTS)) {
      answer = encoded('br', compressed);
      expect((await call(TRANSPORTS[name]!())).body, name).toEqual(JSON.parse(GOOD));
    }
  });
});
