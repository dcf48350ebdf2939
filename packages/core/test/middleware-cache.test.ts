import { describe, expect, it } from 'vitest';
import { type CacheStore, cacheKey, cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { decodeEmbedding, encodeEmbedding } from '../src/cache-codec.js';
import { type Clock, sleep } from '../src/engine/clock.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { InvalidRequestError, InvalidResponseError, TimeoutError } from '../src/errors.js';
import { type EmbeddingModelMiddleware, wrapEmbeddingModel } from '../src/middleware.js';
import { MockEmbeddingModel } from '../src/testing.js';
import type { Embedding, EmbedRequest, OutputType } from '../src/types.js';
import { deferred, ScriptedModel, timersAtEach, until, VirtualClock } from './helpers.js';

describe('wrapEmbeddingModel', () => {
  function logging(name: string, log: string[]): EmbeddingModelMiddleware {
    return {
      transformRequest({ request }) {
        log.push(`${name}.transform`);
        return {
          ...request,
          headers: { ...request.headers, 'x-order': `${request.headers?.['x-order'] ?? ''}${name}` },
        };
      },
      async wrapEmbed({ doEmbed, request }) {
        log.push(`${name}.before`);
        const response = await doEmbed(request);
        log.push(`${name}.after`);
        return response;
      },
    };
  }

  it("keeps the model's custom base URL, read at each ask; leaves it out when the model has none", () => {
    let url: string | undefined = 'http://127.0.0.1:9000/v1';
    const inner = Object.assign(new ScriptedModel(), { customBaseURL: () => url });
    const model = wrapEmbeddingModel(inner, [{}]);
    expect(model.customBaseURL?.()).toBe('http://127.0.0.1:9000/v1');
    url = undefined;
    expect(model.customBaseURL?.()).toBeUndefined();
    expect(wrapEmbeddingModel(new ScriptedModel(), [{}]).customBaseURL).toBeUndefined();
  });

  it('runs the first middleware outermost: its transform and wrap run first, its wrap finishes last', async () => {
    const log: string[] = [];
    const inner = new ScriptedModel({
      respond: (call) => {
        log.push(`model:${call.request.headers?.['x-order']}`);
        return undefined;
      },
    });
    const model = wrapEmbeddingModel(inner, [logging('A', log), logging('B', log)]);
    await model.doEmbed({ inputs: ['1'] });
    expect(log).toEqual([
      'A.transform',
      'A.before',
      'B.transform',
      'B.before',
      'model:AB',
      'B.after',
      'A.after',
    ]);
  });

  it('keeps the identity and capabilities of the wrapped model', () => {
    const inner = new ScriptedModel({ provider: 'p', modelId: 'm-1', capabilities: { maxInputsPerCall: 5 } });
    const model = wrapEmbeddingModel(inner, {});
    expect(model.specificationVersion).toBe('v1');
    expect(model.provider).toBe('p');
    expect(model.modelId).toBe('m-1');
    expect(model.capabilities).toBe(inner.capabilities);
  });

  it('accepts a single middleware, and does not reorder the array it is given', async () => {
    const log: string[] = [];
    const layers = [logging('A', log), logging('B', log)];
    const copy = [...layers];
    wrapEmbeddingModel(new ScriptedModel(), layers);
    expect(layers).toEqual(copy);
    const single = wrapEmbeddingModel(new ScriptedModel(), logging('S', log));
    await single.doEmbed({ inputs: ['1'] });
    expect(log).toEqual(['S.transform', 'S.before', 'S.after']);
  });

  it('a middleware may answer without calling the model', async () => {
    const inner = new ScriptedModel();
    const model = wrapEmbeddingModel(inner, {
      wrapEmbed: async ({ request }) => ({
        embeddings: request.inputs.map(() => Float32Array.of(7, 7)),
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
    const response = await model.doEmbed({ inputs: ['a'] });
    expect(response.embeddings).toEqual([Float32Array.of(7, 7)]);
    expect(inner.calls).toHaveLength(0);
  });

  it('the engine drives a wrapped model like any other', async () => {
    const inner = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const model = wrapEmbeddingModel(inner, {
      transformRequest: ({ request }) => ({ ...request, inputType: 'document' }),
    });
    const result = await embedMany({ model, inputs: ['1', '2', '3'] });
    expect(inner.callInputs).toEqual([['1', '2'], ['3']]);
    expect(inner.calls.every((call) => call.request.inputType === 'document')).toBe(true);
    expect(result.embeddings).toHaveLength(3);
  });
});

describe('cacheMiddleware', () => {
  const reference = new MockEmbeddingModel({ dimensions: 8 });
  async function expected(input: string): Promise<Embedding> {
    return (await reference.doEmbed({ inputs: [input] })).embeddings[0]!;
  }

  it('sends only the misses, in one call, and returns every vector in input order', async () => {
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    const first = await embedMany({ model, inputs: ['a', 'b'] });
    expect(inner.calls.map((call) => call.inputs)).toEqual([['a', 'b']]);
    expect(first.embeddings).toEqual([await expected('a'), await expected('b')]);

    const second = await embedMany({ model, inputs: ['b', 'c', 'a'] });
    expect(inner.calls.map((call) => call.inputs)).toEqual([['a', 'b'], ['c']]);
    expect(second.embeddings).toEqual([await expected('b'), await expected('c'), await expected('a')]);

    const third = await embedMany({ model, inputs: ['c', 'a'] });
    expect(inner.calls).toHaveLength(2);
    expect(third.embeddings).toEqual([await expected('c'), await expected('a')]);
    expect(third.usage).toEqual({ inputTokens: 0 });
    expect(third.responses[0]!.headers['x-embedkit-cache']).toBe('hit');
  });

  // Defect 5 of issue 10: the key was the text plus the whole providerOptions, so per-position titles
  // (then a job-wide list) were served for the wrong input. A title now travels on its input and is keyed.
  it('keys each input with its own title: the same text under two titles is two entries', async () => {
    const inner = new ScriptedModel();
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    const first = await embedMany({
      model,
      inputs: [
        { text: 'jaguar', title: 'Cats' },
        { text: 'jaguar', title: 'Automobiles' },
      ],
    });
    expect(inner.callInputs).toEqual([
      [
        JSON.stringify({ text: 'jaguar', title: 'Cats' }),
        JSON.stringify({ text: 'jaguar', title: 'Automobiles' }),
      ],
    ]);
    const again = await embedMany({
      model,
      inputs: [
        { title: 'Automobiles', text: 'jaguar' },
        { text: 'jaguar', title: 'Cats' },
      ],
    });
    expect(inner.calls).toHaveLength(1);
    expect(again.embeddings).toEqual([first.embeddings[1], first.embeddings[0]]);
    expect(again.embeddings[0]).not.toEqual(again.embeddings[1]);
  });

  it('a string and { text } without a title are one input; key order of providerOptions does not matter', async () => {
    const inner = new ScriptedModel();
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await embedMany({ model, inputs: ['a'], providerOptions: { scripted: { x: 1, y: 2 } } });
    await embedMany({ model, inputs: [{ text: 'a' }], providerOptions: { scripted: { y: 2, x: 1 } } });
    expect(inner.calls).toHaveLength(1);
  });

  it('a partial hit reports the usage of the call that was made', async () => {
    const inner = new MockEmbeddingModel({ dimensions: 8, usage: () => 5 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await model.doEmbed({ inputs: ['a'] });
    const response = await model.doEmbed({ inputs: ['a', 'b', 'c'] });
    expect(response.usage).toEqual({ inputTokens: 10 });
  });

  it('returns copies: mutating a result changes neither the cache nor later results', async () => {
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    const miss = await model.doEmbed({ inputs: ['a'] });
    miss.embeddings[0]!.fill(0);
    const hit1 = await model.doEmbed({ inputs: ['a'] });
    expect(hit1.embeddings[0]).toEqual(await expected('a'));
    hit1.embeddings[0]!.fill(9);
    const hit2 = await model.doEmbed({ inputs: ['a'] });
    expect(hit2.embeddings[0]).toEqual(await expected('a'));
    expect(hit2.embeddings[0]).not.toBe(hit1.embeddings[0]);
    expect(inner.calls).toHaveLength(1);
  });

  it('stores copies that do not pin the response slab', async () => {
    const stored: Embedding[] = [];
    const store: CacheStore = {
      get: () => undefined,
      set: (_key, value) => {
        stored.push(value);
      },
    };
    const slab = new Float32Array(16);
    const inner = new ScriptedModel({
      capabilities: { defaultDimensions: 8 },
      respond: () => ({
        embeddings: [slab.subarray(0, 8), slab.subarray(8, 16)],
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
    await wrapEmbeddingModel(inner, cacheMiddleware({ store })).doEmbed({ inputs: ['a', 'b'] });
    expect(stored).toHaveLength(2);
    for (const vector of stored) {
      expect(vector.buffer).not.toBe(slab.buffer);
      expect(vector.buffer.byteLength).toBe(32);
    }
  });

  // A store outside the process keeps bytes (`encodeEmbedding`); the memory store keeps the vector itself.
  it.each([
    ['the memory store', () => createMemoryCacheStore()],
    [
      'a store of encoded bytes',
      (): CacheStore => {
        const bytes = new Map<string, Uint8Array>();
        return {
          get: (key) => {
            const held = bytes.get(key);
            return held === undefined ? undefined : decodeEmbedding(held);
          },
          set: (key, value) => {
            bytes.set(key, encodeEmbedding(value));
          },
        };
      },
    ],
  ])(
    '%s serves each output type bit for bit as answered: -0, subnormals, extremes',
    async (_name, makeStore) => {
      const answers: Record<OutputType, Embedding> = {
        float: Float32Array.of(
          -0,
          1.401298464324817e-45,
          -1.1754942106924411e-38,
          3.4028234663852886e38,
          0.1,
        ),
        int8: Int8Array.of(-128, -1, 0, 127, 5),
        uint8: Uint8Array.of(0, 1, 128, 255, 7),
        binary: Int8Array.of(-128, 127),
        ubinary: Uint8Array.of(255, 0),
      };
      const inner = new ScriptedModel({
        capabilities: { defaultDimensions: undefined, outputTypes: Object.keys(answers) as OutputType[] },
        respond: (call) => ({
          embeddings: [answers[call.request.outputType ?? 'float'].slice()],
          warnings: [],
          response: { status: 200, headers: {} },
        }),
      });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: makeStore() }));
      const bytesOf = (vector: Embedding) => [
        ...new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength),
      ];
      for (const outputType of Object.keys(answers) as OutputType[]) {
        await model.doEmbed({ inputs: ['a'], outputType });
        const [held] = (await model.doEmbed({ inputs: ['a'], outputType })).embeddings;
        expect(held!.constructor).toBe(answers[outputType].constructor);
        expect(bytesOf(held!)).toEqual(bytesOf(answers[outputType]));
      }
      expect(Object.is((await model.doEmbed({ inputs: ['a'] })).embeddings[0]![0], -0)).toBe(true);
      expect(inner.calls.map((call) => call.request.outputType)).toEqual(Object.keys(answers));
    },
  );

  it('different settings are different entries', async () => {
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await model.doEmbed({ inputs: ['a'] });
    await model.doEmbed({ inputs: ['a'], dimensions: 4 });
    await model.doEmbed({ inputs: ['a'], inputType: 'query' });
    await model.doEmbed({ inputs: ['a'], dimensions: 4 });
    expect(inner.calls).toHaveLength(3);
  });

  it('works with an asynchronous store', async () => {
    const map = new Map<string, Embedding>();
    const store: CacheStore = {
      get: async (key) => map.get(key),
      set: async (key, value) => {
        map.set(key, value);
      },
    };
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    await model.doEmbed({ inputs: ['a', 'b'] });
    expect(map.size).toBe(2);
    const again = await model.doEmbed({ inputs: ['b'] });
    expect(again.embeddings).toEqual([await expected('b')]);
    expect(inner.calls).toHaveLength(1);
  });
});

describe('cacheKey', () => {
  const model = new ScriptedModel({ provider: 'p', modelId: 'm' });
  const base: Omit<EmbedRequest, 'inputs'> = {};

  it('is a SHA-256 hex digest, the same for the same settings and input', async () => {
    const key = await cacheKey(model, base, 'hello');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await cacheKey(new ScriptedModel({ provider: 'p', modelId: 'm' }), {}, 'hello')).toBe(key);
  });

  it('changes with the provider, the model, every vector-changing option and the input', async () => {
    const keys = await Promise.all([
      cacheKey(model, base, 'hello'),
      cacheKey(model, base, 'hello!'),
      cacheKey(new ScriptedModel({ provider: 'q', modelId: 'm' }), base, 'hello'),
      cacheKey(new ScriptedModel({ provider: 'p', modelId: 'm2' }), base, 'hello'),
      cacheKey(model, { dimensions: 256 }, 'hello'),
      cacheKey(model, { dimensions: 512 }, 'hello'),
      cacheKey(model, { inputType: 'query' }, 'hello'),
      cacheKey(model, { inputType: 'document' }, 'hello'),
      cacheKey(model, { outputType: 'int8' }, 'hello'),
      cacheKey(model, { truncate: true }, 'hello'),
      cacheKey(model, { providerOptions: { p: { user: 'u-1' } } }, 'hello'),
      cacheKey(model, { providerOptions: { p: { user: 'u-2' } } }, 'hello'),
      cacheKey(model, base, { image: Uint8Array.of(1, 2, 3), mediaType: 'image/png' }),
      cacheKey(model, base, { image: Uint8Array.of(1, 2, 4), mediaType: 'image/png' }),
      cacheKey(model, base, { image: 'https://x.test/a.png' }),
    ]);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('a provider and model id cannot be confused by where the separator falls', async () => {
    const one = await cacheKey(new ScriptedModel({ provider: 'a:b', modelId: 'c' }), base, 'x');
    const two = await cacheKey(new ScriptedModel({ provider: 'a', modelId: 'b:c' }), base, 'x');
    expect(one).not.toBe(two);
  });

  it('ignores what does not change the vector: headers, signal, timeout; float is the default output type', async () => {
    const key = await cacheKey(model, base, 'hello');
    expect(
      await cacheKey(
        model,
        { headers: { 'x-trace': '1' }, signal: new AbortController().signal, timeoutMs: 5 },
        'hello',
      ),
    ).toBe(key);
    expect(await cacheKey(model, { outputType: 'float' }, 'hello')).toBe(key);
  });
});

describe('the input the cache keys', () => {
  // The API is sent the text as it is; "é" composed (NFC) and decomposed (NFD) are two inputs to it.
  it('is its exact text: no Unicode normalization, a lone surrogate kept apart from U+FFFD', async () => {
    const model = new ScriptedModel({ provider: 'p', modelId: 'm' });
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    expect(nfc.normalize('NFD')).toBe(nfd);
    expect(await cacheKey(model, {}, nfc)).not.toBe(await cacheKey(model, {}, nfd));
    expect(await cacheKey(model, {}, '\ud800')).not.toBe(await cacheKey(model, {}, '\ufffd'));
    expect(await cacheKey(model, {}, '\ud800')).not.toBe(await cacheKey(model, {}, '\udc00'));
    const inner = new ScriptedModel({ provider: 'p', modelId: 'm' });
    const cached = wrapEmbeddingModel(inner, cacheMiddleware());
    await cached.doEmbed({ inputs: [nfc] });
    await cached.doEmbed({ inputs: [nfd] });
    expect(inner.calls.map((call) => call.request.inputs)).toEqual([[nfc], [nfd]]);
  });
});

describe('createMemoryCacheStore', () => {
  const vector = (value: number) => Float32Array.of(value);

  it('evicts the least recently used entry beyond maxEntries', () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    store.set('a', vector(1));
    store.set('b', vector(2));
    expect(store.get('a')).toEqual(vector(1));
    store.set('c', vector(3));
    expect(store.size).toBe(2);
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')).toEqual(vector(1));
    expect(store.get('c')).toEqual(vector(3));
  });

  it('re-setting a key refreshes it', () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    store.set('a', vector(1));
    store.set('b', vector(2));
    store.set('a', vector(10));
    store.set('c', vector(3));
    expect(store.get('a')).toEqual(vector(10));
    expect(store.get('b')).toBeUndefined();
  });

  it('clear empties it; a miss is undefined', () => {
    const store = createMemoryCacheStore();
    store.set('a', vector(1));
    store.clear();
    expect(store.size).toBe(0);
    expect(store.get('a')).toBeUndefined();
  });
});

describe('cacheMiddleware with a batched store', () => {
  /** A store that implements the batched methods and records every call made to it. */
  function batchedStore() {
    const entries = new Map<string, Embedding>();
    const log: string[] = [];
    const store: CacheStore = {
      get(key) {
        log.push(`get ${key.slice(0, 6)}`);
        return entries.get(key);
      },
      set(key, value) {
        log.push(`set ${key.slice(0, 6)}`);
        entries.set(key, value);
      },
      async getMany(keys) {
        log.push(`getMany ${keys.length}`);
        return keys.map((key) => entries.get(key));
      },
      async setMany(batch) {
        log.push(`setMany ${batch.length}`);
        for (const [key, value] of batch) entries.set(key, value);
      },
    };
    return { store, log, entries };
  }

  it('reads a whole call with one getMany and writes its misses with one setMany', async () => {
    const { store, log, entries } = batchedStore();
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const inputs = Array.from({ length: 1_000 }, (_, index) => `text ${index}`);
    await model.doEmbed({ inputs: inputs.slice(0, 600) });
    expect(log).toEqual(['getMany 600', 'setMany 600']);
    const response = await model.doEmbed({ inputs });
    expect(log).toEqual(['getMany 600', 'setMany 600', 'getMany 1000', 'setMany 400']);
    expect(inner.calls.map((call) => call.inputs.length)).toEqual([600, 400]);
    expect(entries.size).toBe(1_000);
    expect(response.embeddings[999]).toEqual((await inner.doEmbed({ inputs: ['text 999'] })).embeddings[0]);

    await model.doEmbed({ inputs });
    expect(log.slice(4)).toEqual(['getMany 1000']);
  });

  it('stores the keys cacheKey gives, each with its own vector', async () => {
    const { store, entries } = batchedStore();
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    await model.doEmbed({ inputs: ['a', 'b'], dimensions: 4 });
    const keyA = await cacheKey(inner, { dimensions: 4 }, 'a');
    const keyB = await cacheKey(inner, { dimensions: 4 }, 'b');
    expect([...entries.keys()].sort()).toEqual([keyA, keyB].sort());
    expect(entries.get(keyB)).toEqual((await inner.doEmbed({ inputs: ['b'] })).embeddings[0]);
  });
});

describe('the cache and the server a model calls', () => {
  const serving = (url: string | undefined) =>
    Object.assign(new ScriptedModel({ provider: 'p', modelId: 'm' }), { customBaseURL: () => url });

  it("a model's custom server is part of the key; the provider's own server keeps the keys it had", async () => {
    const plain = await cacheKey(new ScriptedModel({ provider: 'p', modelId: 'm' }), {}, 'hello');
    expect(await cacheKey(serving(undefined), {}, 'hello')).toBe(plain);
    const a = await cacheKey(serving('http://a.test/v1'), {}, 'hello');
    const b = await cacheKey(serving('http://b.test/v1'), {}, 'hello');
    expect(new Set([plain, a, b]).size).toBe(3);
  });

  it('two servers behind one store never share vectors (B was answered from A before)', async () => {
    const store = createMemoryCacheStore();
    const serverA = serving('http://a.test/v1');
    const serverB = serving('http://b.test/v1');
    await wrapEmbeddingModel(serverA, cacheMiddleware({ store })).doEmbed({ inputs: ['hello'] });
    await wrapEmbeddingModel(serverB, cacheMiddleware({ store })).doEmbed({ inputs: ['hello'] });
    expect([serverA.calls.length, serverB.calls.length]).toEqual([1, 1]);
  });

  // The request goes to one URL either way (a trailing slash of the base URL is dropped before the path),
  // so one server written two ways is one set of entries; another path is another server.
  it('a base URL with a trailing slash is the same server; one with another path is not', async () => {
    const bare = await cacheKey(serving('http://a.test/v1'), {}, 'hello');
    expect(await cacheKey(serving('http://a.test/v1/'), {}, 'hello')).toBe(bare);
    expect(await cacheKey(serving('http://a.test/v1//'), {}, 'hello')).toBe(bare);
    expect(await cacheKey(serving('http://a.test/v2'), {}, 'hello')).not.toBe(bare);
    expect(await cacheKey(serving('http://a.test/v1/x'), {}, 'hello')).not.toBe(bare);
    const store = createMemoryCacheStore();
    const slashed = serving('http://a.test/v1/');
    const unslashed = serving('http://a.test/v1');
    const other = serving('http://a.test/openai/v1');
    await wrapEmbeddingModel(slashed, cacheMiddleware({ store })).doEmbed({ inputs: ['hello'] });
    await wrapEmbeddingModel(unslashed, cacheMiddleware({ store })).doEmbed({ inputs: ['hello'] });
    await wrapEmbeddingModel(other, cacheMiddleware({ store })).doEmbed({ inputs: ['hello'] });
    expect([slashed.calls.length, unslashed.calls.length, other.calls.length]).toEqual([1, 0, 1]);
  });
});

describe('a stored vector of the wrong length', () => {
  it('is a miss, and the answer replaces it (a value cut short failed every call with its input)', async () => {
    const entries = new Map<string, Embedding>();
    const store: CacheStore = {
      get: async (key) => entries.get(key),
      set: async (key, vector) => {
        entries.set(key, vector);
      },
    };
    // The scripted model's vectors have its default length, 2.
    const inner = new ScriptedModel({ provider: 'p', modelId: 'm' });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const first = await model.doEmbed({ inputs: ['hello'] });
    expect(first.embeddings[0]).toHaveLength(2);
    const [key] = [...entries.keys()];
    entries.set(key!, (entries.get(key!) as Float32Array).slice(0, 1));
    const again = await model.doEmbed({ inputs: ['hello'] });
    expect(again.embeddings).toEqual(first.embeddings);
    expect(inner.calls).toHaveLength(2);
    expect(entries.get(key!)).toHaveLength(2);
  });
});

describe('a stored vector the engine would refuse', () => {
  function recordingStore(): { entries: Map<string, Embedding>; store: CacheStore } {
    const entries = new Map<string, Embedding>();
    return {
      entries,
      store: {
        get: async (key) => entries.get(key),
        set: async (key, vector) => {
          entries.set(key, vector);
        },
      },
    };
  }

  it.each([
    ['a NaN', (vector: Embedding) => Float32Array.of(Number.NaN, vector[1]!)],
    ['an infinity', (vector: Embedding) => Float32Array.of(vector[0]!, Number.POSITIVE_INFINITY)],
    ['another typed array', (vector: Embedding) => Uint8Array.from(vector)],
  ])(
    'holding %s is a miss, and the answer replaces it (it failed every later call with its input)',
    async (_, damage) => {
      const { entries, store } = recordingStore();
      const inner = new ScriptedModel({ provider: 'p', modelId: 'm' });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
      const first = await embedMany({ model, inputs: ['hello'] });
      const [key] = [...entries.keys()];
      entries.set(key!, damage(entries.get(key!)!));
      const again = await embedMany({ model, inputs: ['hello'] });
      expect(again.embeddings).toEqual(first.embeddings);
      expect(inner.calls).toHaveLength(2);
      expect(entries.get(key!)).toEqual(Float32Array.of(5, 1));
    },
  );

  it('an answer with a NaN is refused as the engine refuses it, and nothing is stored', async () => {
    const { entries, store } = recordingStore();
    let answers = 0;
    const inner = new ScriptedModel({
      provider: 'p',
      modelId: 'm',
      respond: (call) =>
        answers++ === 0
          ? {
              embeddings: call.inputs.map(() => Float32Array.of(Number.NaN, 1)),
              warnings: [],
              response: { status: 200, headers: {} },
            }
          : undefined,
    });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const failure = await embedMany({ model, inputs: ['hello'], maxRetries: 0 }).catch((error) => error);
    expect(failure).toBeInstanceOf(InvalidResponseError);
    expect(failure.message).toBe('p returned vector 0 holding NaN at position 0, not a finite number.');
    expect(entries.size).toBe(0);
    // Before, the NaN was stored first, and every later call failed with it without asking the model.
    const again = await embedMany({ model, inputs: ['hello'] });
    expect(again.embeddings).toEqual([Float32Array.of(5, 1)]);
    expect(inner.calls).toHaveLength(2);
  });

  it('a bad vector in an answer to the misses is named by its place in the call and the job, as without the cache', async () => {
    const { entries, store } = recordingStore();
    const inner = new ScriptedModel({
      provider: 'p',
      modelId: 'm',
      capabilities: { maxInputsPerCall: 3 },
      respond: (call) =>
        call.inputs.includes('bad')
          ? {
              embeddings: call.inputs.map((input) =>
                input === 'bad' ? Float32Array.of(Number.NaN, 1) : Float32Array.of(Number(input), 1),
              ),
              warnings: [],
              response: { status: 200, headers: {} },
            }
          : undefined,
    });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    await embedMany({ model, inputs: ['1', '4'] });
    const stored = entries.size;
    // The first call is a hit for '1'; the second sends ['5', 'bad'] of ['4', '5', 'bad'] ('4' is held).
    const failure = await embedMany({
      model,
      inputs: ['1', '2', '3', '4', '5', 'bad'],
      concurrency: 1,
      maxRetries: 0,
    }).catch((error) => error);
    expect(inner.calls.at(-1)!.inputs).toEqual(['5', 'bad']);
    expect(failure).toBeInstanceOf(InvalidResponseError);
    // Before, the cache named it by its place among the two inputs it sent: "vector 1".
    expect(failure.message).toBe(
      'p returned vector 2 (input 5 of the whole job) holding NaN at position 0, not a finite number.',
    );
    // '2' and '3' were stored from the first call; nothing of the answer with the NaN.
    expect(entries.size).toBe(stored + 2);
  });

  it('an answer to fewer inputs than the call has says the cache sent only those', async () => {
    const inner = new ScriptedModel({
      provider: 'p',
      modelId: 'm',
      respond: (call) =>
        call.inputs.length === 1
          ? undefined
          : { embeddings: [Float32Array.of(1, 1)], warnings: [], response: { status: 200, headers: {} } },
    });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await model.doEmbed({ inputs: ['1'] });
    const failure = await model.doEmbed({ inputs: ['1', '2', '3'] }).catch((error) => error);
    expect(failure).toBeInstanceOf(InvalidResponseError);
    expect(failure.message).toBe(
      "p returned 1 vector for 2 inputs (the cache sent the 2 of the call's 3 inputs it did not hold).",
    );
  });

  it('an answer with a vector too many is refused, not re-packed onto the wrong inputs, and nothing is stored', async () => {
    const { entries, store } = recordingStore();
    const inner = new ScriptedModel({
      provider: 'p',
      modelId: 'm',
      respond: () => ({
        embeddings: [Float32Array.of(-1, 1), Float32Array.of(1, 1), Float32Array.of(2, 1)],
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const failure = await embedMany({ model, inputs: ['1', '2'], maxRetries: 0 }).catch((error) => error);
    expect(failure).toBeInstanceOf(InvalidResponseError);
    expect(failure.message).toBe('p returned 3 vectors for 2 inputs.');
    expect(entries.size).toBe(0);
  });

  it('an answer with a vector too few is refused the same way', async () => {
    const { entries, store } = recordingStore();
    const inner = new ScriptedModel({
      provider: 'p',
      modelId: 'm',
      respond: () => ({
        embeddings: [Float32Array.of(1, 1)],
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const failure = await model.doEmbed({ inputs: ['1', '2'] }).catch((error) => error);
    expect(failure).toBeInstanceOf(InvalidResponseError);
    expect(failure.message).toBe('p returned 1 vector for 2 inputs.');
    expect(entries.size).toBe(0);
  });
});

describe('an input the API rejects, behind the cache', () => {
  /** A model whose API refuses the input 'bad', naming its index within the call, as OpenAI does. */
  function refusingBad(maxInputsPerCall = 100): ScriptedModel {
    return new ScriptedModel({
      provider: 'p',
      modelId: 'm',
      capabilities: { maxInputsPerCall },
      respond: (call) => {
        const at = call.inputs.indexOf('bad');
        if (at < 0) return undefined;
        throw new InvalidRequestError(`Invalid 'input[${at}]'`, {
          provider: 'p',
          statusCode: 400,
          inputIndex: at,
        });
      },
    });
  }

  it("is named by its place in the caller's call, not among the misses sent (the CLI blamed the wrong line)", async () => {
    const inner = refusingBad();
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await embedMany({ model, inputs: ['1', '2'] });
    const failure = await embedMany({ model, inputs: ['1', '2', '3', '3', 'bad'] }).catch((error) => error);
    // The model was sent the misses, each once: ['3', 'bad'], so the API said 1.
    expect(inner.calls.at(-1)!.inputs).toEqual(['3', 'bad']);
    expect(failure).toBeInstanceOf(InvalidRequestError);
    expect(failure.inputIndex).toBe(4);
    expect(failure.message).toBe(
      "Invalid 'input[1]' (input 4 of the call; the cache sent only the inputs it did not hold)",
    );
    expect(failure.statusCode).toBe(400);
  });

  it('in a later call of a job, is named by its place in the whole job', async () => {
    const inner = refusingBad(3);
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    await embedMany({ model, inputs: ['4'] });
    const failure = await embedMany({
      model,
      inputs: ['1', '2', '3', '4', '5', 'bad'],
      concurrency: 1,
    }).catch((error) => error);
    expect(failure.inputIndex).toBe(5);
  });
});

describe('an input repeated within one call', () => {
  it('is sent and paid for once; every place gets the vector, each in a buffer of its own', async () => {
    const inner = new ScriptedModel({ provider: 'p', modelId: 'm' });
    const model = wrapEmbeddingModel(inner, cacheMiddleware());
    const response = await model.doEmbed({ inputs: ['7', 'x', '7', '7'] });
    // Before, all four travelled and were billed.
    expect(inner.calls.map((call) => call.inputs)).toEqual([['7', 'x']]);
    expect(response.embeddings).toEqual([
      Float32Array.of(7, 1),
      Float32Array.of(1, 1),
      Float32Array.of(7, 1),
      Float32Array.of(7, 1),
    ]);
    const buffers = new Set(response.embeddings.map((vector) => vector.buffer));
    expect(buffers.size).toBe(4);
    expect(response.usage).toEqual({ inputTokens: 20 });
  });
});

describe('cacheMiddleware, a model that states no vector length', () => {
  /** A server that answers vectors of `width` values, `width` changed by the test (the model behind a name replaced). */
  function server(widthOf: () => number) {
    return new ScriptedModel({
      capabilities: { defaultDimensions: undefined, maxInputsPerCall: 10 },
      respond: (call) => ({
        embeddings: call.inputs.map((input) =>
          Float32Array.from({ length: widthOf() }, (_, position) => input.charCodeAt(0) + position),
        ),
        usage: { inputTokens: call.inputs.length },
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
  }

  it('sends again, in the same call, an entry stored from the model that answered before (another length)', async () => {
    const store = createMemoryCacheStore();
    let width = 2;
    const inner = server(() => width);
    await embedMany({ model: wrapEmbeddingModel(inner, [cacheMiddleware({ store })]), inputs: ['a'] });
    // A new process, the server's model replaced: 'a' is stored at 2 values, 'b' is not stored.
    width = 3;
    const model = wrapEmbeddingModel(inner, [cacheMiddleware({ store })]);
    const result = await embedMany({ model, inputs: ['a', 'b'] });
    expect(result.embeddings).toEqual([Float32Array.of(97, 98, 99), Float32Array.of(98, 99, 100)]);
    expect(inner.callInputs).toEqual([['a'], ['b'], ['a']]);
    expect(result.usage).toEqual({ inputTokens: 2 });
    // Replaced in the store: the next job is answered from it.
    const again = await embedMany({ model, inputs: ['a', 'b'] });
    expect(again.embeddings).toEqual(result.embeddings);
    expect(inner.calls).toHaveLength(3);
  });

  it('holds later calls to the length it saw: an old entry is a miss once an answer of another length came', async () => {
    const store = createMemoryCacheStore();
    let width = 2;
    const inner = server(() => width);
    await embedMany({ model: wrapEmbeddingModel(inner, [cacheMiddleware({ store })]), inputs: ['a', 'c'] });
    width = 3;
    const model = wrapEmbeddingModel(inner, [cacheMiddleware({ store })]);
    // One input a call: the first call is all hits (2 values, nothing to hold them to yet), the second
    // answers 3 values, and the job refuses the mix rather than return it.
    const error = await embedMany({ model, inputs: ['a', 'b'], maxInputsPerCall: 1, concurrency: 1 }).catch(
      (caught) => caught,
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'scripted returned vector 0 (input 1 of the whole job) with 3 values; expected 2, the length of the vectors it returned earlier in this job.',
    );
    // Run again, 'a' is a miss (the answers now have 3 values) and the result has one length.
    const result = await embedMany({ model, inputs: ['a', 'b', 'c'], maxInputsPerCall: 1, concurrency: 1 });
    expect(result.embeddings.map((vector) => vector.length)).toEqual([3, 3, 3]);
    // 'b' was stored from the failed job's answer (3 values), so only the old entries go out again.
    expect(inner.callInputs).toEqual([['a', 'c'], ['b'], ['a'], ['c']]);
  });
});

describe('cacheMiddleware and the rate limiter', () => {
  /** One input a call, each call recorded; a token a character. */
  function counted(clock: Clock) {
    return new ScriptedModel({ clock, capabilities: { maxInputsPerCall: 1 } });
  }

  it('a call the cache answers whole neither waits for a budget nor spends one', async () => {
    // Two requests a minute, both spent by the first job: the second job, every input held, waited a
    // minute for budgets it did not need (the cache sat behind the limiter).
    const clock = new VirtualClock();
    const inner = counted(clock);
    const model = wrapEmbeddingModel(inner, [cacheMiddleware()]);
    const rateLimit = createRateLimiter({ requestsPerMinute: 2 });
    // One call at a time: the order the model sees them in is asserted below.
    await embedMany({ model, inputs: ['a', 'b'], clock, rateLimit, concurrency: 1 });
    const waits: number[] = [];
    const again = await embedMany({
      model,
      inputs: ['a', 'b', 'a'],
      clock,
      rateLimit,
      onWait: (event) => waits.push(event.delayMs),
    });
    expect(again.usage).toEqual({ inputTokens: 0 });
    expect(waits).toEqual([]);
    expect(clock.now()).toBe(0);
    // A call with a miss is admitted as any other: it waits for the refill.
    await embedMany({ model, inputs: ['c'], clock, rateLimit, onWait: (event) => waits.push(event.delayMs) });
    expect(waits).toEqual([30_000]);
    expect(inner.callInputs).toEqual([['a'], ['b'], ['c']]);
  });

  it('the wait for a budget is not counted against the attempt’s timeout', async () => {
    // The second call waits the minute a request budget of 1 takes to refill, far past the 100 ms timeout.
    // Admitted late, behind the cache, the attempt's timer ran through it. The timers and the clock are
    // faked: the minute passes once the call waits for it, and no other time passes at all.
    const clock: Clock = { now: () => performance.now(), sleep };
    const inner = counted(clock);
    const model = wrapEmbeddingModel(inner, [cacheMiddleware()]);
    const waits: number[] = [];
    const job = () =>
      embedMany({
        model,
        inputs: ['a', 'b'],
        clock,
        rateLimit: createRateLimiter({ requestsPerMinute: 1 }),
        timeoutMs: 100,
        maxRetries: 0,
        concurrency: 1,
        onWait: (event) => waits.push(event.delayMs),
      });
    const result = await timersAtEach(60_000, () => waits.length, 'the wait for a budget', job, [
      'performance',
    ]);
    expect(waits).toEqual([60_000]);
    expect(result.embeddings).toHaveLength(2);
    expect(inner.calls).toHaveLength(2);
  });

  it('a proxy of a wrapped model, or an object derived from one that replaces doEmbed, is called as any model', async () => {
    // The late call was a fixed property of the wrapped model: a proxy that binds methods threw on it,
    // and a replaced doEmbed was passed over.
    const inner = new ScriptedModel();
    const wrapped = wrapEmbeddingModel(inner, [cacheMiddleware()]);
    let proxied = 0;
    const proxy = new Proxy(wrapped, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key === 'doEmbed')
          return (request: EmbedRequest) => {
            proxied++;
            return target.doEmbed(request);
          };
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await embedMany({ model: proxy, inputs: ['a'] });
    expect(proxied).toBe(1);
    let derived = 0;
    const child = Object.create(wrapped) as typeof wrapped;
    Object.defineProperty(child, 'doEmbed', {
      value: (request: EmbedRequest) => {
        derived++;
        return wrapped.doEmbed(request);
      },
    });
    await embedMany({ model: child, inputs: ['b'] });
    expect(derived).toBe(1);
    expect(inner.callInputs).toEqual([['a'], ['b']]);
  });

  it('an attempt left behind while a middleware ran on takes nothing when it asks for admission later', async () => {
    // The first attempt's middleware runs on past the attempt's 50 ms; the attempt times out, is left
    // behind, and the retry answers. When the first one's middleware then asked for admission, it took a
    // request of the budget that was never sent and never given back. The attempt timers are faked: once
    // the middleware holds the first attempt, 150 ms pass (its timeout, then the 100 ms after which the
    // engine leaves it behind), and no other time passes, so the retry cannot time out.
    const clock = new VirtualClock({ random: [0] });
    const inner = counted(clock);
    const release = deferred();
    let held = 0;
    const late: unknown[] = [];
    const model = wrapEmbeddingModel(inner, [
      {
        async wrapEmbed({ doEmbed, request }) {
          if (held > 0) return doEmbed(request);
          held++;
          await release.promise;
          return doEmbed(request).catch((error: unknown) => {
            late.push(error);
            throw error;
          });
        },
      },
    ]);
    const rateLimit = createRateLimiter({ requestsPerMinute: 3 });
    try {
      const job = () =>
        embedMany({ model, inputs: ['a'], clock, rateLimit, timeoutMs: 50, maxRetryDelayMs: 1 });
      const first = await timersAtEach(
        150,
        () => held,
        'the job to end, or the middleware to hold attempt',
        job,
      );
      expect(first.embeddings).toHaveLength(1);
      expect(inner.callInputs).toEqual([['a']]);
    } finally {
      release.resolve();
    }
    // The middleware goes on with the attempt left behind: its admission is refused with the timeout.
    await until(() => late.length > 0, 'the attempt left behind to ask for admission');
    expect(TimeoutError.isInstance(late[0])).toBe(true);
    expect((late[0] as TimeoutError).message).toBe(
      'scripted model scripted-1 did not answer within 50 ms (timeoutMs).',
    );
    // Three a minute, one sent: two more go at once.
    const waits: number[] = [];
    await embedMany({
      model,
      inputs: ['b', 'c'],
      clock,
      rateLimit,
      onWait: (event) => waits.push(event.delayMs),
    });
    expect(waits).toEqual([]);
    expect(clock.now()).toBe(0);
    expect(inner.callInputs).toEqual([['a'], ['b'], ['c']]);
  });
});
