/**
 * Edges of core around its extremes: the cosine of number arrays whose values are near the ends of a
 * double's range, a search whose vectors are too long for the WebAssembly memory, a `code` in an error
 * text that is an ordinary code and not a credential, the budget of a call whose middleware's further
 * request never left, and a request URL with a user name or password on either transport.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { ConnectionError, InvalidArgumentError, InvalidRequestError } from '../src/errors.js';
import { type RequestJsonOptions, requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { redact } from '../src/http/redact.js';
import type { Transport } from '../src/http/transport.js';
import { createUndiciTransport } from '../src/http/undici-transport.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { topK, topKHamming, topKInt8 } from '../src/search/top-k.js';
import { cosineSimilarity } from '../src/vectors.js';
import { wasmKernels } from '../src/wasm/kernels.js';
import { javascriptOnly, rejectionOf, ScriptedModel, seededRandom, VirtualClock } from './helpers.js';
import { failure, startLoopback } from './http-helpers.js';

const R = '[REDACTED]';

describe('cosineSimilarity of number arrays and Float64Arrays near the ends of a double’s range', () => {
  const large = 2 ** 700;
  const small = 2 ** -700;

  it('values whose squares overflow (about 1e210) give the cosine of the same vectors at ordinary scale', () => {
    // Their lengths were Infinity, and the cosine NaN.
    expect(cosineSimilarity([3 * large, 4 * large], [4 * large, 3 * large])).toBe(0.96);
    expect(cosineSimilarity(Float64Array.of(3 * large, 4 * large), [-3 * large, -4 * large])).toBe(-1);
    expect(cosineSimilarity([1e200, 1e200], [1e200, 1e200])).toBe(cosineSimilarity([1, 1], [1, 1]));
  });

  it('values whose squares fall below a double (about 1e-211) give it too, not 0', () => {
    expect(
      cosineSimilarity(Float64Array.of(3 * small, 4 * small), Float64Array.of(4 * small, 3 * small)),
    ).toBe(0.96);
    // One vector large and the other small: each is scaled by its own largest value.
    expect(cosineSimilarity([3 * large, 4 * large], [4 * small, 3 * small])).toBe(0.96);
  });

  it('an all-zero vector gives 0 beside a vector of any scale (beside 1e200, NaN), and float32 vectors keep their cosine', () => {
    expect(cosineSimilarity([0, 0], [1e200, 1e200])).toBe(0);
    expect(cosineSimilarity(new Float32Array(2), Float32Array.of(3, 4))).toBe(0);
    expect(cosineSimilarity(Float32Array.of(3, 4), Float32Array.of(4, 3))).toBe(0.96);
  });
});

describe('a search whose kernels’ memory cannot grow to stream the corpus', () => {
  const shortOfMemory = () =>
    vi.spyOn(wasmKernels()!, 'reserve').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });

  it('topK answers from the JavaScript loop, with the same scores, instead of throwing', () => {
    const random = seededRandom(5);
    const corpus = Array.from({ length: 40 }, () => Float32Array.from({ length: 16 }, () => random() - 0.5));
    const query = Float32Array.from({ length: 16 }, () => random() - 0.5);
    const expected = javascriptOnly(() => topK(query, corpus, 3));
    const grow = shortOfMemory();
    try {
      expect(topK(query, corpus, 3)).toEqual(expected);
      expect(topK(query, corpus, 3, { metric: 'dot', keepCopy: false })).toEqual(
        javascriptOnly(() => topK(query, corpus, 3, { metric: 'dot' })),
      );
      expect(grow).toHaveBeenCalledTimes(2);
    } finally {
      grow.mockRestore();
    }
  });

  it('topKInt8 and topKHamming answer from the JavaScript loop too', () => {
    const corpus = [Int8Array.of(1, 2, 3, 4), Int8Array.of(-4, -3, -2, -1), Int8Array.of(4, 3, 2, 1)];
    const query = Int8Array.of(1, 0, 0, 1);
    const grow = shortOfMemory();
    try {
      expect(topKInt8(query, corpus, 2)).toEqual([
        { index: 0, score: 5 },
        { index: 2, score: 5 },
      ]);
      expect(topKHamming(Uint8Array.of(0b1111), [Uint8Array.of(0b0111), Uint8Array.of(0b1111)], 2)).toEqual([
        { index: 1, distance: 0 },
        { index: 0, distance: 1 },
      ]);
      expect(grow).toHaveBeenCalledTimes(2);
    } finally {
      grow.mockRestore();
    }
  });

  it('a query of 180 million values asks for the memory it needs, past 2 GiB, not a wrapped 32-bit size', () => {
    // 180,000,000 float32 values: the query as doubles (1.44 GB) and one vector (0.72 GB) pass 2^31
    // bytes, which `& ~15` turned into a negative offset; the memory was not grown, and copying the
    // query into it threw a RangeError out of topK.
    const dimensions = 180_000_000;
    const query = new Float32Array(dimensions);
    query[0] = 1;
    const asked: number[] = [];
    const grow = vi.spyOn(wasmKernels()!, 'reserve').mockImplementation((size) => {
      asked.push(size);
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    try {
      expect(topK(query, [query], 1, { metric: 'dot' })).toEqual([{ index: 0, score: 1 }]);
      // 1,024 + 8 x 180,000,000 bytes of query, then 4 x 180,000,000 of vector, then 16 of scores.
      expect(asked).toEqual([2_160_001_040]);
    } finally {
      grow.mockRestore();
    }
  });
});

describe('redaction of a `code` parameter in free text', () => {
  it.each([
    'error code=400: the input is too long',
    'request failed (code=429, retry later)',
    'code=invalid_request',
    'rejected: code=rate_limit_exceeded.',
    'grpc status code=RESOURCE_EXHAUSTED; quota',
    'https://api.test/v1/embeddings?code=404',
  ])('an ordinary code stays readable: %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  it.each([
    [
      'https://app.test/callback?code=4/0AX4XfWh7Yk2mQp&state=x',
      `https://app.test/callback?code=${R}&state=x`,
    ],
    [
      'POST https://fn.azurewebsites.net/api/embed?code=aZ9kQ2vLm8RtYx4pWc7nB1sDfGh3JkL0==',
      `POST https://fn.azurewebsites.net/api/embed?code=${R}`,
    ],
    ['oauth code=3584d83530557fdd1f46 expired', `oauth code=${R} expired`],
    ['code=AbCdEfGhIjKl', `code=${R}`],
    ['code=Invalid_request', `code=${R}`],
    ['verify code=4821', `verify code=${R}`],
    ["code='aZ9kQ2vLm8Rt'", `code='${R}'`],
  ])('a value that may be a credential is redacted: %s', (text, redacted) => {
    expect(redact(text)).toBe(redacted);
  });

  it('an API error quoting `error code=400` shows it in the message', async () => {
    const error = await failure({
      fetch: async () =>
        new Response(JSON.stringify({ error: { message: 'error code=400: the input is too long' } }), {
          status: 400,
          headers: { 'content-type': 'application/json' },
        }),
      parseError: (body) => ({ message: (body as { error: { message: string } }).error.message }),
    });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toBe(
      'acme API error 400: error code=400: the input is too long — Check the inputs and options against the model’s capabilities.',
    );
  });
});

describe('a middleware’s further request that never left', () => {
  it('gives back its own budget only: the call’s first request, sent and answered, stays counted', async () => {
    // The connection failure's backoff is drawn (and not waited: no retry is made).
    const clock = new VirtualClock({ random: [0] });
    const store = createMemoryCacheStore();
    let width = 2;
    // A model that states no vector length, whose answers have `width` values.
    const inner = new ScriptedModel({
      clock,
      capabilities: { defaultDimensions: undefined, maxInputsPerCall: 10 },
      respond: (call) => {
        if (call.number === 3) {
          throw new ConnectionError('connect ECONNREFUSED', { neverSent: true, provider: 'scripted' });
        }
        return {
          embeddings: call.inputs.map(() => new Float32Array(width).fill(1)),
          usage: { inputTokens: call.inputs.length },
          warnings: [],
          response: { status: 200, headers: {} },
        };
      },
    });
    await embedMany({
      model: wrapEmbeddingModel(inner, [cacheMiddleware({ store })]),
      inputs: ['a'],
      clock,
      rateLimit: createRateLimiter(),
    });
    // A new process, the model behind the name replaced: the store holds 'a' at 2 values.
    width = 3;
    const model = wrapEmbeddingModel(inner, [cacheMiddleware({ store })]);
    // Two requests a minute, one every 30 s.
    const rateLimit = createRateLimiter({ requestsPerMinute: 2 });
    // 'b' is sent and answered with 3 values; 'a', held at 2, is sent again and is refused before it left.
    const error = await rejectionOf(
      ConnectionError,
      embedMany({ model, inputs: ['a', 'b'], clock, rateLimit, maxRetries: 0 }),
    );
    expect(error.code).toBe('connection');
    expect(inner.callInputs).toEqual([['a'], ['b'], ['a']]);
    // One of the two requests of the minute was spent: the next call's second request waits 30 s. Both
    // given back, the two went out at once.
    const waits: number[] = [];
    await embedMany({
      model,
      inputs: ['c', 'd'],
      clock,
      rateLimit,
      maxInputsPerCall: 1,
      concurrency: 1,
      onWait: (event) => waits.push(event.delayMs),
    });
    expect(waits).toEqual([30_000]);
    expect(inner.calls.slice(3).map((call) => [call.inputs, call.startedAt])).toEqual([
      [['c'], 0],
      [['d'], 30_000],
    ]);
  });
});

describe('a request URL with a user name or password', () => {
  let server: Awaited<ReturnType<typeof startLoopback>>;

  beforeAll(async () => {
    server = await startLoopback((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const transports: [string, () => Transport][] = [
    ['fetch', () => createFetchTransport()],
    ['undici', () => createUndiciTransport()],
  ];
  const send = (transport: Transport, url: string, rest: Partial<RequestJsonOptions> = {}) =>
    requestJson({ transport, provider: 'acme', url, body: { input: ['a'] }, ...rest });

  it.each(transports)(
    'is refused before anything is sent, on the %s transport, without the URL',
    async (_name, make) => {
      server.reset();
      const url = `http://gw-user:pa55-w0rd-9@${server.origin.slice('http://'.length)}/v1/embeddings`;
      const error = await rejectionOf(InvalidArgumentError, send(make(), url));
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe('url');
      expect(error.isRetryable).toBe(false);
      expect(error.message).toBe(
        "acme: the request URL holds a user name or password (user:password@); credentials in the URL are not sent. Remove them and pass the API key as the apiKey setting (a gateway's own credentials go in the headers setting).",
      );
      expect(server.requests).toEqual([]);
    },
  );

  it.each(transports)('an @ in the path is no user name: the %s transport sends it', async (_name, make) => {
    server.reset();
    const response = await send(make(), `${server.origin}/v1/@team/embeddings`);
    expect(response.body).toEqual({ ok: true });
    expect(server.requests.map((request) => request.url)).toEqual(['/v1/@team/embeddings']);
  });
});
