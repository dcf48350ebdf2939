import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { Agent, type Dispatcher, MockAgent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  EmbedKitError,
  InvalidResponseError,
  RateLimitError,
  ServerError,
} from '../src/errors.js';
import {
  createTransport,
  type ParsedError,
  type RequestJsonOptions,
  requestJson,
  VERSION,
} from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { rejection } from './helpers.js';
import { type LoopbackHandler, startLoopback } from './http-helpers.js';

const ORIGIN = 'https://api.acme.test';

describe('undici transport through an injected MockAgent', () => {
  let agent: MockAgent;

  beforeAll(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });
  afterEach(() => {
    agent.assertNoPendingInterceptors();
  });
  afterAll(async () => {
    await agent.close();
  });

  it('sends the exact body and headers and parses the answer', async () => {
    let seen: { body: unknown; headers: unknown; method: string } | undefined;
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/embeddings', method: 'POST' })
      .reply((options) => {
        seen = { body: options.body, headers: options.headers, method: options.method };
        return {
          statusCode: 200,
          data: JSON.stringify({ data: [{ embedding: 'AACAPw==' }] }),
          responseOptions: { headers: { 'content-type': 'application/json', 'x-request-id': 'req_mock' } },
        };
      });
    const transport = createTransport({ dispatcher: agent });
    expect(transport.kind).toBe('undici');
    const result = await requestJson({
      transport,
      provider: 'acme',
      url: `${ORIGIN}/v1/embeddings`,
      body: { input: ['a', 'b'], model: 'm' },
      headers: { authorization: 'Bearer k-123456' },
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: [{ embedding: 'AACAPw==' }] });
    expect(result.requestId).toBe('req_mock');
    expect(seen?.method).toBe('POST');
    expect(seen?.body).toBe('{"input":["a","b"],"model":"m"}');
    const headers = new Headers(seen?.headers as Record<string, string>);
    expect(headers.get('user-agent')).toBe(`embedkit/${VERSION}`);
    expect(headers.get('content-type')).toBe('application/json');
    expect(headers.get('authorization')).toBe('Bearer k-123456');
    // A caller-supplied dispatcher is used as is: compression is not negotiated on its behalf.
    expect(headers.get('accept-encoding')).toBeNull();
  });

  it('maps an error status with its Retry-After through the same typed errors', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/embeddings', method: 'POST' })
      .reply(
        429,
        { error: { message: 'slow down' } },
        { headers: { 'content-type': 'application/json', 'retry-after': '3' } },
      );
    const error = await rejection(
      requestJson({
        transport: createTransport({ dispatcher: agent }),
        provider: 'acme',
        url: `${ORIGIN}/v1/embeddings`,
        body: {},
        parseError: (body) => ({ message: (body as { error: { message: string } }).error.message }),
      }),
    );
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(3_000);
    expect((error as RateLimitError).message).toContain('slow down');
  });

  it('a reset connection becomes a retryable ConnectionError', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/embeddings', method: 'POST' })
      .replyWithError(Object.assign(new Error('other side closed'), { code: 'ECONNRESET' }));
    const error = await rejection(
      requestJson({
        transport: createTransport({ dispatcher: agent }),
        provider: 'acme',
        url: `${ORIGIN}/v1/embeddings`,
        body: {},
      }),
    );
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as ConnectionError).isRetryable).toBe(true);
    expect((error as ConnectionError).message).toContain('ECONNRESET');
  });

  it('enforces maxResponseBytes', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/embeddings', method: 'POST' })
      .reply(200, JSON.stringify({ pad: 'x'.repeat(5_000) }));
    const error = await rejection(
      requestJson({
        transport: createTransport({ dispatcher: agent }),
        provider: 'acme',
        url: `${ORIGIN}/v1/embeddings`,
        body: {},
        maxResponseBytes: 1_000,
      }),
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
  });
});

describe('undici transport against a local HTTP server (default dispatcher)', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  let origin = '';
  let handler: LoopbackHandler = (_request, response) => response.end('{}');

  beforeAll(async () => {
    // The default dispatcher reads proxy variables on first use; this test talks to loopback directly.
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    loopback = await startLoopback((request, response, body) => handler(request, response, body));
    origin = loopback.origin;
  });

  afterEach(() => {
    loopback.reset();
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  function call(options: Partial<RequestJsonOptions> = {}) {
    return requestJson({
      transport: createTransport(),
      provider: 'local',
      url: `${origin}/v1/embeddings`,
      body: { input: ['x'] },
      ...options,
    });
  }

  /** Answers every request with `payload`, its length declared, written `step` bytes at a time. */
  function serveWithLength(payload: Buffer, step: number) {
    handler = (_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': payload.length,
      });
      for (let offset = 0; offset < payload.length; offset += step)
        response.write(payload.subarray(offset, offset + step));
      response.end();
    };
  }

  /** A request straight to the transport, whose body the tests read as bytes. */
  function rawRequest() {
    return {
      url: `${origin}/v1/embeddings`,
      method: 'POST' as const,
      headers: {},
      body: '{}',
      maxResponseBytes: 1e9,
    };
  }

  it('reads the answer after a 103 Early Hints (every call failed on an assertion of the decompressor)', async () => {
    handler = (_request, response) => {
      response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    };
    const result = await call();
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ ok: true });
    // And a gzipped answer after one, through the decompressor the hints tripped.
    handler = (_request, response) => {
      response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      response.end(gzipSync('{"gzipped":true}'));
    };
    expect((await call()).body).toEqual({ gzipped: true });
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    };
    const transport = createTransport();
    for (let index = 0; index < 6; index++) {
      const result = await requestJson({
        transport,
        provider: 'local',
        url: `${origin}/v1/embeddings`,
        body: { index },
      });
      expect(result.body).toEqual({ ok: true });
    }
    expect(loopback.requests.map((request) => JSON.parse(request.body))).toEqual(
      [0, 1, 2, 3, 4, 5].map((index) => ({ index })),
    );
    // undici hands a finished socket back to the pool a tick late, so a second socket may open once;
    // without keep-alive every one of the 6 requests would open its own.
    expect(loopback.connections.length).toBeLessThanOrEqual(2);
  });

  it('joins a many-chunk body into a buffer that is reused once released, and not before', async () => {
    // 600 KB in several writes: undici delivers it in several chunks.
    const payload = Buffer.alloc(600_000, 'a');
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let offset = 0; offset < payload.length; offset += 100_000)
        response.write(payload.subarray(offset, offset + 100_000));
      response.end();
    };
    const transport = createTransport();
    const request = rawRequest();
    const first = await transport.request(request);
    expect(Buffer.from(first.body).equals(payload)).toBe(true);
    // Not released: the next body needs a buffer of its own. (Buffers are compared as booleans here and
    // below: a failing toBe would diff two buffers of a megabyte element by element, for minutes.)
    const second = await transport.request(request);
    expect(second.body.buffer === first.body.buffer).toBe(false);
    second.release?.();
    const third = await transport.request(request);
    expect(third.body.buffer === second.body.buffer).toBe(true);
    expect(Buffer.from(third.body).equals(payload)).toBe(true);
    // A spare in use is never handed out again (bug: one kept in the list went to two bodies at once).
    const fourth = await transport.request(request);
    expect(fourth.body.buffer === third.body.buffer).toBe(false);
    // Released twice, it is still one spare: the next two bodies get two buffers.
    third.release?.();
    third.release?.();
    const fifth = await transport.request(request);
    const sixth = await transport.request(request);
    expect(fifth.body.buffer === third.body.buffer).toBe(true);
    expect(sixth.body.buffer === fifth.body.buffer).toBe(false);
    for (const response of [fourth, fifth, sixth]) response.release?.();
  });

  it('copies a body that declares its length into one buffer as it arrives, reused once released', async () => {
    // Bytes that differ from place to place, in uneven writes: a chunk copied to the wrong place shows.
    // 1.2 MB: larger than the spares the test before leaves, so only this test's own buffers are reused.
    const payload = Buffer.from(Array.from({ length: 1_200_001 }, (_, index) => (index * 31) % 251));
    serveWithLength(payload, 150_001);
    const transport = createTransport();
    const request = rawRequest();
    const first = await transport.request(request);
    expect(first.body.byteLength).toBe(payload.length);
    expect(Buffer.from(first.body).equals(payload)).toBe(true);
    // One buffer, handed back by release (bug: a body copied as it arrives was never a spare again).
    const second = await transport.request(request);
    expect(second.body.buffer === first.body.buffer).toBe(false);
    first.release?.();
    const third = await transport.request(request);
    expect(third.body.buffer === first.body.buffer).toBe(true);
    expect(Buffer.from(third.body).equals(payload)).toBe(true);
    for (const response of [second, third]) response.release?.();
  });

  it('gives a body the smallest spare that holds it, and takes back the buffer of a body that failed', async () => {
    // Spares go after a second without answers: start with none.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const transport = createTransport();
    const request = rawRequest();
    const large = Buffer.alloc(3_000_000, 'l');
    const small = Buffer.alloc(1_200_000, 's');
    serveWithLength(large, 500_000);
    const first = await transport.request(request);
    serveWithLength(small, 500_000);
    const second = await transport.request(request);
    first.release?.();
    second.release?.();
    // Bug: the first spare large enough went, so a small body took the large one.
    const third = await transport.request(request);
    expect(third.body.buffer === second.body.buffer).toBe(true);
    serveWithLength(large, 500_000);
    const fourth = await transport.request(request);
    expect(fourth.body.buffer === first.body.buffer).toBe(true);
    fourth.release?.();
    // A body cut off mid-way: its buffer, taken from the spares, goes back to them.
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': large.length });
      response.write(large.subarray(0, 1_000_000), () => request.socket.destroy());
    };
    await expect(transport.request(request)).rejects.toThrow();
    serveWithLength(large, 500_000);
    const sixth = await transport.request(request);
    expect(sixth.body.buffer === first.body.buffer).toBe(true);
    expect(Buffer.from(sixth.body).equals(large)).toBe(true);
    for (const response of [third, sixth]) response.release?.();
  });

  it('keeps a spare for each of four calls at once, answers of 1,000 x 3,072 floats included', async () => {
    // 40 MB, the size of such an answer: 39 MiB once rounded. Four held at once, then released: each of
    // the next four answers gets one of those four buffers (bug: a 128 MiB cap kept three of them, so one
    // call in four made a fresh buffer).
    const payload = Buffer.alloc(40_000_000, 'f');
    serveWithLength(payload, 4_000_000);
    const transport = createTransport();
    const request = rawRequest();
    const held = await Promise.all([0, 1, 2, 3].map(() => transport.request(request)));
    const buffers = new Set(held.map((answer) => answer.body.buffer));
    expect(buffers.size).toBe(4);
    for (const answer of held) answer.release?.();
    const again = await Promise.all([0, 1, 2, 3].map(() => transport.request(request)));
    for (const answer of again) {
      expect(buffers.has(answer.body.buffer)).toBe(true);
      expect(answer.body.byteLength).toBe(payload.length);
    }
    expect(new Set(again.map((answer) => answer.body.buffer)).size).toBe(4);
    for (const answer of again) answer.release?.();
  });

  it('a body longer than its declared length (a dispatcher that changes bodies) is read whole', async () => {
    // A user's interceptor that passes every chunk on twice and leaves content-length as it was: the
    // body outgrows the buffer its header sized, twice over.
    const passed: Buffer[] = [];
    const doubling: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, downstream) =>
      dispatch(options, {
        onRequestStart: (controller, context) => downstream.onRequestStart?.(controller, context),
        onResponseStart: (controller, statusCode, headers, statusMessage) =>
          downstream.onResponseStart?.(controller, statusCode, headers, statusMessage),
        onResponseData: (controller, chunk) => {
          for (let copy = 0; copy < 2; copy++) {
            passed.push(Buffer.from(chunk));
            downstream.onResponseData?.(controller, chunk);
          }
        },
        onResponseEnd: (controller, trailers) => downstream.onResponseEnd?.(controller, trailers),
        onResponseError: (controller, error) => downstream.onResponseError?.(controller, error),
      });
    const payload = Buffer.from(Array.from({ length: 1_300_000 }, (_, index) => (index * 7) % 253));
    serveWithLength(payload, 100_000);
    const agent = new Agent();
    try {
      const transport = createTransport({ dispatcher: agent.compose(doubling) });
      const answer = await transport.request(rawRequest());
      expect(passed.length).toBeGreaterThan(2);
      expect(answer.body.byteLength).toBe(2 * payload.length);
      expect(Buffer.from(answer.body).equals(Buffer.concat(passed))).toBe(true);
      answer.release?.();
    } finally {
      await agent.close();
    }
  });

  it('a bytes body (a results file) is a copy: the next answer joined into the spare leaves it as it was', async () => {
    // 1.5 MB: larger than any spare an earlier test left, so the second answer is joined into the first's.
    const files = [Buffer.alloc(1_500_000, 'a'), Buffer.alloc(1_500_000, 'b')];
    let round = 0;
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const file = files[round++]!;
      for (let offset = 0; offset < file.length; offset += 250_000)
        response.write(file.subarray(offset, offset + 250_000));
      response.end();
    };
    const transport = createTransport();
    const ask = () =>
      requestJson({
        transport,
        provider: 'local',
        url: `${origin}/v1/files/results`,
        method: 'GET',
        responseType: 'bytes',
      });
    const first = (await ask()).body as Uint8Array;
    const second = (await ask()).body as Uint8Array;
    expect(Buffer.from(second).equals(files[1]!)).toBe(true);
    expect(Buffer.from(first).equals(files[0]!)).toBe(true);
  });

  it('requestJson keeps nothing of a released body: vectors and fields survive the next answer', async () => {
    const answers = [0, 1].map((round) =>
      JSON.stringify({
        data: Array.from({ length: 40 }, (_, index) => ({
          index,
          embedding: Array.from({ length: 512 }, (_, position) => round + index + position / 1024),
          // As long as the arrays: a body of vectors of two lengths is left to JSON.parse.
          base64: Buffer.from(
            Float32Array.of(round, index, ...new Array<number>(510).fill(0.5)).buffer,
          ).toString('base64'),
        })),
        model: `model-${round}`,
      }),
    );
    let round = 0;
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const text = answers[round++]!;
      for (let offset = 0; offset < text.length; offset += 50_000)
        response.write(text.slice(offset, offset + 50_000));
      response.end();
    };
    const transport = createTransport();
    const ask = (floatVectors?: string[]) =>
      requestJson({
        transport,
        provider: 'local',
        url: `${origin}/v1/embeddings`,
        body: {},
        ...(floatVectors === undefined ? {} : { floatVectors }),
      });
    const first = (await ask(['data[*].embedding', 'data[*].base64'])).body as {
      data: { embedding: Float32Array; base64: Float32Array }[];
      model: string;
    };
    const second = (await ask()).body as { data: { embedding: number[] }[]; model: string };
    expect(first.model).toBe('model-0');
    expect(Array.from(first.data[39]!.embedding.subarray(0, 2))).toEqual([39, Math.fround(39 + 1 / 1024)]);
    expect(Array.from(first.data[39]!.base64.subarray(0, 3))).toEqual([0, 39, 0.5]);
    expect(first.data[39]!.base64).toHaveLength(512);
    expect(second.model).toBe('model-1');
    expect(second.data[39]!.embedding[1]).toBe(40 + 1 / 1024);
  });

  it('negotiates gzip and decompresses the answer', async () => {
    const payload = { data: Array.from({ length: 200 }, (_, index) => ({ index, embedding: 'AACAPw==' })) };
    handler = (request, response) => {
      const compressed = gzipSync(JSON.stringify(payload));
      if (!String(request.headers['accept-encoding']).includes('gzip')) {
        response.writeHead(500);
        response.end('gzip was not offered');
        return;
      }
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': compressed.length,
      });
      response.end(compressed);
    };
    const result = await call();
    expect(result.body).toEqual(payload);
    expect(loopback.requests[0]!.headers['accept-encoding']).toBe('gzip, br');
    expect(loopback.requests[0]!.headers['user-agent']).toBe(`embedkit/${VERSION}`);
    expect(loopback.requests[0]!.body).toBe('{"input":["x"]}');
  });

  // A 429 or 5xx from a gateway is gzipped like any other answer when the client offered gzip. undici's
  // decompress interceptor skips error responses by default (skipErrorResponses: true), so the provider's
  // parseError never sees the JSON: quotaExhausted / batchTooLarge are lost and the message is binary noise.
  it('decompresses a gzipped error body so the provider can read it', async () => {
    handler = (_request, response) => {
      const compressed = gzipSync(
        JSON.stringify({ error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } }),
      );
      response.writeHead(429, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': compressed.length,
      });
      response.end(compressed);
    };
    const parseError = (body: unknown): ParsedError => {
      const error = (body as { error?: { message?: string; code?: string } }).error;
      return {
        ...(error?.message === undefined ? {} : { message: error.message }),
        quotaExhausted: error?.code === 'insufficient_quota',
      };
    };
    const error = await rejection(call({ parseError }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).message).toContain('You exceeded your current quota');
    expect((error as RateLimitError).quotaExhausted).toBe(true);
    expect((error as RateLimitError).isRetryable).toBe(false);
  });

  it('refuses a declared content-length over maxResponseBytes', async () => {
    handler = (_request, response) => {
      const body = JSON.stringify({ pad: 'x'.repeat(4_000) });
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    };
    const error = await rejection(call({ maxResponseBytes: 1_000 }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as InvalidResponseError).message).toContain('1000 bytes');
  });

  it('refuses a chunked body that grows past maxResponseBytes', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let index = 0; index < 20; index++) response.write('x'.repeat(500));
      response.end();
    };
    const error = await rejection(call({ maxResponseBytes: 2_000 }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
  });

  it('counts decompressed bytes against the cap (a small gzip bomb is refused)', async () => {
    const bomb = gzipSync(Buffer.alloc(2_000_000, 0x20));
    expect(bomb.length).toBeLessThan(10_000);
    handler = (_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': bomb.length,
      });
      response.end(bomb);
    };
    const error = await rejection(call({ maxResponseBytes: 100_000 }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
  });

  it('offers no deflate: an answer some servers would send raw-deflated is read (undici reads only zlib-wrapped deflate)', async () => {
    const payload = { data: [{ index: 0, embedding: 'AACAPw==' }], pad: 'x'.repeat(5_000) };
    handler = (request, response) => {
      // As such a server does: deflate when offered (raw, without the zlib wrapper), else gzip.
      const offered = String(request.headers['accept-encoding']);
      const deflate = offered.includes('deflate');
      const body = deflate ? deflateRawSync(JSON.stringify(payload)) : gzipSync(JSON.stringify(payload));
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': deflate ? 'deflate' : 'gzip',
        'content-length': body.length,
      });
      response.end(body);
    };
    expect((await call()).body).toEqual(payload);
  });

  it('a compressed body that does not decompress is a non-retryable InvalidResponseError, not a network fault', async () => {
    const whole = gzipSync(JSON.stringify({ data: [], pad: 'y'.repeat(50_000) }));
    const bodies: [string, Buffer][] = [
      // Cut short, with a length that matches what is sent (a proxy's truncation).
      ['gzip', whole.subarray(0, 40)],
      // Raw deflate under a deflate label, sent though not offered.
      ['deflate', deflateRawSync('{"data":[]}')],
    ];
    for (const [encoding, body] of bodies) {
      handler = (_request, response) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': encoding,
          'content-length': body.length,
        });
        response.end(body);
      };
      const error = await rejection(call());
      expect(InvalidResponseError.isInstance(error), String(error)).toBe(true);
      expect((error as InvalidResponseError).isRetryable).toBe(false);
      expect((error as Error).message).toMatch(
        /^local sent a compressed body that does not decompress \(Z_(BUF|DATA)_ERROR .+\)\. A proxy or gateway/,
      );
    }
  });

  it('keeps working after a refused response', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"after":true}');
    };
    expect((await call()).body).toEqual({ after: true });
  });

  it('an HTML 502 from a proxy becomes a ServerError', async () => {
    handler = (_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    };
    const error = await rejection(call());
    expect(ServerError.isInstance(error)).toBe(true);
    expect((error as ServerError).message).toContain('502 Bad Gateway');
    expect((error as ServerError).message).not.toContain('<h1>');
  });

  it('a connection the server drops becomes a retryable ConnectionError', async () => {
    handler = (request) => {
      request.socket.destroy();
    };
    const error = await rejection(call());
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as ConnectionError).isRetryable).toBe(true);
    // The request was written before the socket closed: the API may have counted it.
    expect((error as ConnectionError).neverSent).toBe(false);
  });

  it.each(['undici', 'fetch'] as const)(
    'a connection refused is a ConnectionError whose request never left (%s transport)',
    async (kind) => {
      // A port with nothing listening: bound, then closed, so no other test can be on it.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const error = await rejection(
        requestJson({
          transport: kind === 'undici' ? createTransport() : createFetchTransport(),
          provider: 'local',
          url: `http://127.0.0.1:${port}/v1/embeddings`,
          body: { input: ['x'] },
        }),
      );
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect((error as ConnectionError).neverSent).toBe(true);
    },
  );

  it('a caller abort while waiting for headers re-throws the native AbortError', async () => {
    handler = () => {
      // never answers
    };
    const controller = new AbortController();
    const pending = rejection(call({ signal: controller.signal }));
    await vi.waitFor(() => expect(loopback.requests).toHaveLength(1), { interval: 5 });
    controller.abort();
    const error = await pending;
    expect((error as Error).name).toBe('AbortError');
    expect(EmbedKitError.isInstance(error)).toBe(false);
  });

  it.each([
    ['declared', true],
    ['chunked', false],
  ])(
    'an abort while a %s body stalls half-way ends the call with the caller reason, and the connection',
    async (_, declared) => {
      // Headers and half the body arrive, then nothing: the socket timeouts are minutes long (the engine's
      // own timeout governs, through this signal), so only the abort can end the read.
      let closed = false;
      let sentHalf = false;
      handler = (_request, response) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          ...(declared ? { 'content-length': 200_000 } : {}),
        });
        response.write(Buffer.alloc(100_000, 32), () => {
          sentHalf = true;
        });
        response.on('close', () => {
          closed = true;
        });
      };
      const controller = new AbortController();
      const reason = new Error('the caller gave up');
      const pending = rejection(call({ signal: controller.signal }));
      await vi.waitFor(() => expect(sentHalf).toBe(true), { interval: 5 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort(reason);
      expect(await pending).toBe(reason);
      await vi.waitFor(() => expect(closed).toBe(true), { interval: 5, timeout: 2_000 });
    },
  );
});
