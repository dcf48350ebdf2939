/**
 * Behaviour of the embedding cache (cache.ts), the stored form of its vectors (cache-codec.ts) and the
 * wrapping of a model in middleware (middleware.ts) that the rest of the suite left unpinned: the exact
 * material of a cache key, the memory store's default size and misses, which stores and middleware are
 * refused and with what words, what a full hit answers, what a partial hit and an unsound answer store
 * and send, the length a model that states none is held to, the read and write failures reported, the
 * expiry of an encoded entry, and the admission of a call made through a wrapped model. Each test here
 * fails on at least one one-line change of those files that the other tests let through.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheStore,
  type CacheStoreWarning,
  cacheKey,
  cacheMiddleware,
  createMemoryCacheStore,
  emitCacheWarning,
} from '../src/cache.js';
import { decodeEmbedding, encodeEmbedding } from '../src/cache-codec.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter, defaultLimiter } from '../src/engine/limiter.js';
import type { Admission } from '../src/engine/retry.js';
import { InvalidArgumentError, InvalidResponseError } from '../src/errors.js';
import { admittedEmbed, wrapEmbeddingModel } from '../src/middleware.js';
import type { Embedding, EmbeddingModel, EmbedInput, EmbedResponse } from '../src/types.js';
import { rejection, ScriptedModel, VirtualClock } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The SHA-256 hex digest of the JSON of `material`: the form every cache key has. */
function digest(material: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

/** A plain answer to a call: `vectors`, with the given extras. */
function answer(vectors: unknown[], extras: Partial<EmbedResponse> = {}): EmbedResponse {
  return {
    embeddings: vectors as Embedding[],
    warnings: [],
    response: { status: 200, headers: {} },
    ...extras,
  };
}

/** A store over a map that records every batched write it is asked for. */
function loggingStore() {
  const entries = new Map<string, Embedding>();
  const writes: number[] = [];
  const store: CacheStore = {
    get: (key) => entries.get(key),
    set: (key, value) => {
      entries.set(key, value);
    },
    getMany: (keys) => keys.map((key) => entries.get(key)),
    setMany: (batch) => {
      writes.push(batch.length);
      for (const [key, value] of batch) entries.set(key, value);
    },
  };
  return { store, entries, writes };
}

describe('cacheKey: the material hashed, which stores on disk and in Redis keep across versions', () => {
  const model = new ScriptedModel({ provider: 'p', modelId: 'm' });
  const head = ['embedkit-cache-v2', 'p', 'm', null, null, 'float', false, null];

  it('a plain string on the provider’s own server: the settings’ defaults, the input, no server', async () => {
    expect(await cacheKey(model, {}, 'hello')).toBe(digest([...head, ['text', 'hello', null]]));
  });

  it('every setting in its place, provider options with their keys sorted at every depth, arrays kept', async () => {
    const key = await cacheKey(
      model,
      {
        inputType: 'query',
        dimensions: 256,
        outputType: 'int8',
        truncate: true,
        providerOptions: { p: { z: [{ b: 1, a: 2 }], a: null } },
      },
      { text: 'hello', title: 'Greetings' },
    );
    expect(key).toBe(
      digest([
        'embedkit-cache-v2',
        'p',
        'm',
        'query',
        256,
        'int8',
        true,
        { p: { a: null, z: [{ a: 2, b: 1 }] } },
        ['text', 'hello', 'Greetings'],
      ]),
    );
  });

  it.each<[string, EmbedInput, unknown]>([
    [
      'image bytes, each byte two hex digits, with their media type',
      { image: Uint8Array.of(1, 0x23, 0xff), mediaType: 'image/png' },
      ['image', ['bytes', '0123ff'], 'image/png'],
    ],
    [
      'an image URL without a media type',
      { image: 'https://x.test/a.png' },
      ['image', ['url', 'https://x.test/a.png'], null],
    ],
    [
      'interleaved content: a text part, image bytes with their media type, an image URL',
      {
        content: [
          { type: 'text', text: 'caption' },
          { type: 'image', data: Uint8Array.of(0x0a), mediaType: 'image/jpeg' },
          { type: 'image', url: 'https://x.test/b.png' },
        ],
      },
      [
        'content',
        [
          ['text', 'caption'],
          ['bytes', '0a', 'image/jpeg'],
          ['url', 'https://x.test/b.png'],
        ],
      ],
    ],
  ])('%s', async (_name, input, serialized) => {
    expect(await cacheKey(model, {}, input)).toBe(digest([...head, serialized]));
  });

  it('a custom server is appended after the input', async () => {
    const served = Object.assign(new ScriptedModel({ provider: 'p', modelId: 'm' }), {
      customBaseURL: () => 'http://a.test/v1',
    });
    expect(await cacheKey(served, {}, 'hello')).toBe(
      digest([...head, ['text', 'hello', null], 'http://a.test/v1']),
    );
  });
});

describe('createMemoryCacheStore', () => {
  it('keeps 10,000 entries by default: the 10,001st evicts the least recently used', () => {
    const store = createMemoryCacheStore();
    for (let index = 0; index < 10_000; index++) store.set(`k${index}`, Float32Array.of(index));
    expect(store.size).toBe(10_000);
    expect(store.get('k0')).toEqual(Float32Array.of(0));
    store.set('k10000', Float32Array.of(10_000));
    expect(store.size).toBe(10_000);
    expect(store.get('k1')).toBeUndefined();
    expect(store.get('k0')).toEqual(Float32Array.of(0));
  });

  it('a miss leaves no entry behind', () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    store.set('a', Float32Array.of(1));
    expect(store.get('b')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it.each([
    ['createMemoryCacheStore', () => createMemoryCacheStore(null as never)],
    ['cacheMiddleware', () => cacheMiddleware(null as never)],
  ])('%s refuses options of null as no options object', (owner, make) => {
    let error: unknown;
    try {
      make();
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('options');
    expect((error as Error).message).toBe(`${owner} takes an options object, or none.`);
  });
});

describe('cacheMiddleware: the store it takes', () => {
  const refusal = (store: unknown): unknown => {
    try {
      cacheMiddleware({ store: store as never });
    } catch (caught) {
      return caught;
    }
    return undefined;
  };
  const needs =
    'store must be a CacheStore with get(key) and set(key, value), e.g. createMemoryCacheStore() or openDiskCacheStore({ directory })';
  // A batched method that is no function was let through: every call then failed to read or write it,
  // said as a warning on every call, where the mistake is the store's and known when the cache is built.
  it.each<[string, Record<string, unknown>, string]>([
    ['get alone', { get: () => undefined }, 'set is undefined'],
    ['set alone', { set: () => {} }, 'get is undefined'],
    ['a get that is no function', { get: 5, set: () => {} }, 'get is 5'],
    [
      'a getMany that is no function',
      { get: () => undefined, set: () => {}, getMany: 'mget' },
      'getMany is "mget"',
    ],
    ['a getMany of null', { get: () => undefined, set: () => {}, getMany: null }, 'getMany is null'],
    [
      'a setMany that is no function',
      { get: () => undefined, set: () => {}, setMany: {} },
      'setMany is an empty object',
    ],
    // A flag where the method belongs (as the Redis store's usingFallback is one) was a TypeError at every
    // try of the store after a skip, said as its failure every cooldown.
    [
      'a degraded that is no function',
      { get: () => undefined, set: () => {}, degraded: true },
      'degraded is true',
    ],
  ])('refuses a store with %s, naming the method', (_name, store, named) => {
    const error = refusal(store);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('store');
    expect((error as Error).message).toBe(`${needs}; its ${named}.`);
  });

  it('takes a store whose batched methods are absent, or undefined', () => {
    for (const store of [
      { get: () => undefined, set: () => {} },
      { get: () => undefined, set: () => {}, getMany: undefined, setMany: undefined, degraded: undefined },
      { get: () => undefined, set: () => {}, degraded: () => false },
    ])
      expect(refusal(store)).toBeUndefined();
  });
});

describe('cacheMiddleware: what a call answers', () => {
  it('a full hit answers exactly: copies, no tokens, no warnings, status 200 and the hit header', async () => {
    const model = wrapEmbeddingModel(new ScriptedModel(), cacheMiddleware());
    await model.doEmbed({ inputs: ['3'] });
    expect(await model.doEmbed({ inputs: ['3'] })).toEqual({
      embeddings: [Float32Array.of(3, 1)],
      usage: { inputTokens: 0 },
      warnings: [],
      response: { status: 200, headers: { 'x-embedkit-cache': 'hit' } },
    });
  });

  it('a partial hit returns a copy of the held vector: mutating it changes no later answer', async () => {
    const inner = new ScriptedModel();
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await model.doEmbed({ inputs: ['3'] });
    const partial = await model.doEmbed({ inputs: ['3', '4'] });
    partial.embeddings[0]!.fill(0);
    expect((await model.doEmbed({ inputs: ['3'] })).embeddings).toEqual([Float32Array.of(3, 1)]);
    expect(inner.callInputs).toEqual([['3'], ['4']]);
  });

  it('an input repeated in a call is written once: one entry per distinct input', async () => {
    const { store, writes } = loggingStore();
    await wrapEmbeddingModel(new ScriptedModel(), cacheMiddleware({ store })).doEmbed({
      inputs: ['7', 'x', '7'],
    });
    expect(writes).toEqual([2]);
  });

  it('holds int8 answers to the int8 output type: the second call is a hit', async () => {
    const inner = new ScriptedModel({
      capabilities: { outputTypes: ['float', 'int8'] },
      respond: (call) => answer(call.inputs.map(() => Int8Array.of(3, -3))),
    });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await model.doEmbed({ inputs: ['a'], outputType: 'int8' });
    const again = await model.doEmbed({ inputs: ['a'], outputType: 'int8' });
    expect(again.embeddings).toEqual([Int8Array.of(3, -3)]);
    expect(inner.calls).toHaveLength(1);
  });

  it('an entry of another length than the model’s default is a miss from the first call of a process', async () => {
    const store = createMemoryCacheStore();
    const inner = new ScriptedModel();
    store.set(await cacheKey(inner, {}, '3'), Float32Array.of(3));
    const response = await wrapEmbeddingModel(inner, cacheMiddleware({ store })).doEmbed({ inputs: ['3'] });
    expect(response.embeddings).toEqual([Float32Array.of(3, 1)]);
    expect(inner.callInputs).toEqual([['3']]);
  });
});

describe('cacheMiddleware: an answer it cannot use', () => {
  it('an answer with no vectors is an InvalidResponseError naming the answer, with its status and request id', async () => {
    const inner = new ScriptedModel({
      provider: 'p',
      respond: () => ({
        embeddings: undefined as never,
        warnings: [],
        response: { status: 200, headers: {}, requestId: 'req-9' },
      }),
    });
    const error = await rejection(wrapEmbeddingModel(inner, cacheMiddleware()).doEmbed({ inputs: ['a'] }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('p returned no vectors for 1 input.');
    expect((error as InvalidResponseError).statusCode).toBe(200);
    expect((error as InvalidResponseError).requestId).toBe('req-9');
  });

  it('an unsound answer stores nothing, writes nothing and sends no held input again', async () => {
    // The model states no length; 'a' is held at 2 values from an earlier process, and the answer to 'b'
    // holds a NaN (at 3 values): nothing of it is a length to hold the held entries to.
    const { store, writes } = loggingStore();
    const inner = new ScriptedModel({
      capabilities: { defaultDimensions: undefined },
      respond: (call) =>
        call.inputs[0] === 'b'
          ? answer([Float32Array.of(Number.NaN, 1, 1)])
          : answer([Float32Array.of(1, 1)]),
    });
    await wrapEmbeddingModel(inner, cacheMiddleware({ store })).doEmbed({ inputs: ['a'] });
    const response = await wrapEmbeddingModel(inner, cacheMiddleware({ store })).doEmbed({
      inputs: ['a', 'b'],
    });
    expect(response.embeddings).toEqual([Float32Array.of(1, 1), Float32Array.of(Number.NaN, 1, 1)]);
    expect(inner.callInputs).toEqual([['a'], ['b']]);
    expect(writes).toEqual([1]);
  });

  it('a null vector for an input repeated in the call reaches the engine’s check, not a TypeError', async () => {
    const inner = new ScriptedModel({ provider: 'p', respond: () => answer([null]) });
    const error = await rejection(
      embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware()), inputs: ['a', 'a'], maxRetries: 0 }),
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'p returned vector 0 as object; float vectors must be Float32Array.',
    );
  });
});

describe('cacheMiddleware: a model that states no length, behind one middleware', () => {
  /** A server of `modelId` at `url` answering `width` values for `outputType` float and one for binary. */
  function server(width: number, options: { modelId?: string; url?: string } = {}) {
    const model = new ScriptedModel({
      modelId: options.modelId ?? 'm',
      capabilities: { defaultDimensions: undefined, outputTypes: ['float', 'binary'] },
      respond: (call) =>
        answer(
          call.inputs.map(() =>
            call.request.outputType === 'binary' ? Int8Array.of(1) : new Float32Array(width).fill(1),
          ),
        ),
    });
    return options.url === undefined ? model : Object.assign(model, { customBaseURL: () => options.url });
  }

  it.each([
    ['on another server', server(2, { url: 'http://a.test/v1' }), server(3, { url: 'http://b.test/v1' })],
    ['under another model id', server(2, { modelId: 'm' }), server(3, { modelId: 'n' })],
  ])(
    'holds each model’s answers to its own length: one %s is stored, and served again',
    async (_name, first, second) => {
      const middleware = cacheMiddleware();
      const a = wrapEmbeddingModel(first, middleware);
      const b = wrapEmbeddingModel(second, middleware);
      await a.doEmbed({ inputs: ['x'] });
      await b.doEmbed({ inputs: ['x'] });
      expect((await b.doEmbed({ inputs: ['x'] })).embeddings).toEqual([Float32Array.of(1, 1, 1)]);
      expect((await a.doEmbed({ inputs: ['x'] })).embeddings).toEqual([Float32Array.of(1, 1)]);
      expect([first.calls.length, second.calls.length]).toEqual([1, 1]);
    },
  );

  it('holds each output type to its own answers’ length', async () => {
    const inner = server(8);
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await model.doEmbed({ inputs: ['x'] });
    await model.doEmbed({ inputs: ['x'], outputType: 'binary' });
    expect((await model.doEmbed({ inputs: ['x'], outputType: 'binary' })).embeddings).toEqual([
      Int8Array.of(1),
    ]);
    await model.doEmbed({ inputs: ['x'] });
    expect(inner.calls.map((call) => call.request.outputType ?? 'float')).toEqual(['float', 'binary']);
  });
});

describe('cacheMiddleware: an entry sent again because the server’s model was replaced', () => {
  /** 'a' held at 2 values; the server now answers 3 values to the first request and `again` to the second. */
  async function resent(again: (inputs: string[]) => EmbedResponse) {
    const { store, entries } = loggingStore();
    let width = 2;
    let requests = 0;
    const inner = new ScriptedModel({
      capabilities: { defaultDimensions: undefined },
      respond: (call) => {
        requests++;
        if (requests === 3) return again(call.inputs);
        return answer(
          call.inputs.map(() => new Float32Array(width).fill(requests)),
          {
            usage: { inputTokens: 5 },
            warnings: [{ type: 'other', message: `request ${requests}` }],
            response: { status: 200, headers: {}, requestId: `req-${requests}` },
          },
        );
      },
    });
    await wrapEmbeddingModel(inner, cacheMiddleware({ store })).doEmbed({ inputs: ['a'] });
    width = 3;
    const response = await wrapEmbeddingModel(inner, cacheMiddleware({ store })).doEmbed({
      inputs: ['a', 'b'],
    });
    return { response, entries, key: await cacheKey(inner, {}, 'a'), inner };
  }

  it('answers with the first request’s response, both requests’ warnings, and the sum of their usage', async () => {
    const { response } = await resent((inputs) =>
      answer(
        inputs.map(() => Float32Array.of(3, 3, 3)),
        {
          usage: { inputTokens: 7 },
          warnings: [{ type: 'other', message: 'request 3' }],
          response: { status: 200, headers: {}, requestId: 'req-3' },
        },
      ),
    );
    expect(response.embeddings).toEqual([Float32Array.of(3, 3, 3), Float32Array.of(2, 2, 2)]);
    expect(response.usage).toEqual({ inputTokens: 12 });
    expect(response.warnings).toEqual([
      { type: 'other', message: 'request 2' },
      { type: 'other', message: 'request 3' },
    ]);
    expect(response.response).toEqual({ status: 200, headers: {}, requestId: 'req-2' });
  });

  it('reports no usage when the second request reports none', async () => {
    const { response } = await resent((inputs) => answer(inputs.map(() => Float32Array.of(3, 3, 3))));
    expect(response.usage).toBeUndefined();
    expect(response.embeddings).toEqual([Float32Array.of(3, 3, 3), Float32Array.of(2, 2, 2)]);
  });

  it('holds the second answer to the first one’s length: another length is placed but not stored', async () => {
    const { response, entries, key } = await resent((inputs) =>
      answer(inputs.map(() => Float32Array.of(3, 3, 3, 3))),
    );
    expect(response.embeddings).toEqual([Float32Array.of(3, 3, 3, 3), Float32Array.of(2, 2, 2)]);
    expect(entries.get(key)).toEqual(Float32Array.of(1, 1));
  });
});

describe('cache store failures', () => {
  function warningLog() {
    const warnings: CacheStoreWarning[] = [];
    return { warnings, onWarning: (warning: CacheStoreWarning) => warnings.push(warning) };
  }

  it('a store without setMany whose set rejects later is waited for, and its failure told', async () => {
    const log = warningLog();
    const store: CacheStore = {
      get: () => undefined,
      set: async () => {
        await Promise.resolve();
        throw new Error('ENOSPC: no space left on device');
      },
    };
    const model = wrapEmbeddingModel(
      new ScriptedModel(),
      cacheMiddleware({ store, onWarning: log.onWarning }),
    );
    const response = await model.doEmbed({ inputs: ['1'] });
    expect(response.embeddings).toEqual([Float32Array.of(1, 1)]);
    expect(log.warnings).toEqual([
      {
        code: 'cache-write-failed',
        message:
          'The embedding cache could not be written (ENOSPC: no space left on device); answers are returned without being cached until it can.',
      },
    ]);
  });

  // With storeCooldownMs 0, as before it: skipped, the store is asked by no call until its cooldown ends
  // (cache-store-breaker.test.ts).
  it('a read failure is told again only after a read worked in between; a thrown string is its own reason', async () => {
    const log = warningLog();
    let failing = true;
    const store: CacheStore = {
      get: () => {
        if (failing) throw 'disk gone';
        return undefined;
      },
      set: () => {},
    };
    const model = wrapEmbeddingModel(
      new ScriptedModel(),
      cacheMiddleware({ store, onWarning: log.onWarning, storeCooldownMs: 0 }),
    );
    await model.doEmbed({ inputs: ['1'] });
    await model.doEmbed({ inputs: ['2'] });
    failing = false;
    await model.doEmbed({ inputs: ['3'] });
    failing = true;
    await model.doEmbed({ inputs: ['4'] });
    const told = {
      code: 'cache-read-failed',
      message: 'The embedding cache could not be read (disk gone); inputs count as misses until it can.',
    };
    expect(log.warnings).toEqual([told, told]);
  });

  it('where process has no emitWarning, the warning goes to console.warn with its code', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const emitWarning = process.emitWarning;
    (process as { emitWarning?: unknown }).emitWarning = undefined;
    try {
      emitCacheWarning({ code: 'cache-read-failed', message: 'the disk is gone' });
    } finally {
      process.emitWarning = emitWarning;
    }
    expect(warn.mock.calls).toEqual([['EmbedkitCacheWarning [cache-read-failed]: the disk is gone']]);
  });
});

describe('encodeEmbedding / decodeEmbedding', () => {
  it('names a refused expiresAt exactly: a string quoted, a number as written', () => {
    const refusal = (expiresAt: unknown) => {
      try {
        encodeEmbedding(Float32Array.of(1), { expiresAt: expiresAt as number });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const soon = refusal('soon');
    expect(InvalidArgumentError.isInstance(soon)).toBe(true);
    expect((soon as Error).message).toBe('expiresAt must be a time in epoch milliseconds, got "soon".');
    expect((refusal(Number.NaN) as Error).message).toBe(
      'expiresAt must be a time in epoch milliseconds, got NaN.',
    );
  });

  it('decodes against the current time when none is given', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(10_000);
    expect(decodeEmbedding(encodeEmbedding(Uint8Array.of(7), { expiresAt: 10_001 }))).toEqual(
      Uint8Array.of(7),
    );
    expect(decodeEmbedding(encodeEmbedding(Uint8Array.of(7), { expiresAt: 10_000 }))).toBeUndefined();
  });

  it('reads the expiry of an entry that starts inside a larger buffer from the entry’s own header', () => {
    const encoded = encodeEmbedding(Float32Array.of(1, 2), { expiresAt: 5_000 });
    const padded = new Uint8Array(encoded.length + 3);
    padded.set(encoded, 3);
    expect(decodeEmbedding(padded.subarray(3), 4_999)).toEqual(Float32Array.of(1, 2));
    expect(decodeEmbedding(padded.subarray(3), 5_000)).toBeUndefined();
  });

  it('a header with no elements is an empty vector, not a cut value', () => {
    const bytes = encodeEmbedding(new Float32Array(0));
    expect(bytes.length).toBe(16);
    expect(decodeEmbedding(bytes)).toEqual(new Float32Array(0));
  });
});

describe('wrapEmbeddingModel: what it refuses', () => {
  function refusal(make: () => unknown): InvalidArgumentError {
    try {
      make();
    } catch (error) {
      if (InvalidArgumentError.isInstance(error)) return error as InvalidArgumentError;
      throw error;
    }
    throw new Error('expected a refusal');
  }

  it.each([
    ['null', null],
    ['a middleware factory passed uncalled', cacheMiddleware],
  ])('refuses %s as a middleware', (_name, layer) => {
    const error = refusal(() => wrapEmbeddingModel(new ScriptedModel(), layer as never));
    expect(error.argument).toBe('middleware');
    expect(error.message).toBe('middleware must be an object with transformRequest or wrapEmbed.');
  });

  it('names every function of a middleware without hooks when none is close to a hook', () => {
    const error = refusal(() => wrapEmbeddingModel(new ScriptedModel(), { run() {}, handle() {} } as never));
    expect(error.message).toBe(
      'middleware has neither transformRequest nor wrapEmbed, so it would do nothing; run, handle are not hooks',
    );
  });
});

describe('wrapEmbeddingModel: the limiter and admission', () => {
  it('keeps the model’s own limiter, or draws on its default one', () => {
    const limiter = createRateLimiter({ requestsPerMinute: 5 });
    const own = Object.assign(new ScriptedModel(), { rateLimiter: limiter });
    expect(wrapEmbeddingModel(own, {}).rateLimiter).toBe(limiter);
    const plain = new ScriptedModel();
    expect(wrapEmbeddingModel(plain, {}).rateLimiter).toBe(defaultLimiter(plain));
  });

  it('a wrapped model wrapped again is admitted at its innermost layer: its cache’s hits take no budget', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
    const model = wrapEmbeddingModel(wrapEmbeddingModel(inner, cacheMiddleware()), {
      transformRequest: ({ request }) => request,
    });
    const rateLimit = createRateLimiter({ requestsPerMinute: 2 });
    await embedMany({ model, inputs: ['a', 'b'], clock, rateLimit, concurrency: 1 });
    const waits: number[] = [];
    await embedMany({
      model,
      inputs: ['a', 'b'],
      clock,
      rateLimit,
      onWait: (event) => waits.push(event.delayMs),
    });
    expect(waits).toEqual([]);
    expect(clock.now()).toBe(0);
    expect(inner.callInputs).toEqual([['a'], ['b']]);
  });

  /** An admission that records what it is asked, and runs `onAdmit` as it admits. */
  function admission(log: string[], onAdmit: () => void = () => {}): Admission {
    return Object.assign(
      async () => {
        log.push('admit');
        onAdmit();
      },
      { sending: () => log.push('sending') },
    );
  }

  it('is told the request is sending, after admission and before the model is called', async () => {
    const log: string[] = [];
    const inner = new ScriptedModel({
      respond: () => {
        log.push('model');
        return undefined;
      },
    });
    const call = admittedEmbed(wrapEmbeddingModel(inner, {}))!;
    await call({ inputs: ['1'] }, admission(log));
    expect(log).toEqual(['admit', 'sending', 'model']);
  });

  it('an abort in the moment since admission sends nothing and rejects with the abort’s reason', async () => {
    const log: string[] = [];
    const inner = new ScriptedModel();
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    const call = admittedEmbed(wrapEmbeddingModel(inner, {}) as EmbeddingModel)!;
    const error = await rejection(
      call(
        { inputs: ['1'], signal: controller.signal },
        admission(log, () => controller.abort(reason)),
      ),
    );
    expect(error).toBe(reason);
    expect(log).toEqual(['admit']);
    expect(inner.calls).toHaveLength(0);
  });
});
