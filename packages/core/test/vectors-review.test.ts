/**
 * Edges of the vector maths, the search, the cache and the registry: a vector normalized in place that
 * holds a non-finite value, a cache whose held entries disagree in length for a model that states none,
 * a store whose batched read answers no list, a malformed model id that may be a key given in the wrong
 * place, and the answers search gives at its edges on both of its paths.
 */
import { describe, expect, it } from 'vitest';
import {
  type CacheStore,
  type CacheStoreWarning,
  cacheMiddleware,
  createMemoryCacheStore,
} from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { createRegistry } from '../src/registry.js';
import { topK, topKHamming, topKInt8 } from '../src/search/top-k.js';
import type { EmbeddingProvider } from '../src/types.js';
import { normalize, normalizeInPlace } from '../src/vectors.js';
import { javascriptOnly, ScriptedModel, thrownInvalidArgument } from './helpers.js';

describe('normalizeInPlace', () => {
  it.each([
    [
      Float32Array.of(Number.POSITIVE_INFINITY, 1),
      'The vector holds Infinity at position 0; normalizeInPlace takes finite float32 values.',
    ],
    [
      Float32Array.of(1, 2, Number.NaN),
      'The vector holds NaN at position 2; normalizeInPlace takes finite float32 values.',
    ],
  ])(
    'refuses %o as normalize does, and leaves the vector as it was (it turned to NaN and 0)',
    (vector, message) => {
      const before = Array.from(vector);
      const error = thrownInvalidArgument(() => normalizeInPlace(vector));
      expect(error.message).toBe(message);
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe('vector');
      expect(Array.from(vector)).toEqual(before);
    },
  );

  it('still scales the largest finite float32 values, as normalize does', () => {
    const vector = Float32Array.of(3e38, 3e38);
    expect(Array.from(normalizeInPlace(vector))).toEqual([
      Math.fround(Math.SQRT1_2),
      Math.fround(Math.SQRT1_2),
    ]);
    expect(Array.from(normalize(Float32Array.of(3e38, 3e38)))).toEqual(Array.from(vector));
  });
});

describe('cacheMiddleware, a model that states no length, every input of a call held', () => {
  /** A server of no stated length: `width()` values per input, from the input's first character code up. */
  const server = (width: () => number) =>
    new ScriptedModel({
      capabilities: { defaultDimensions: undefined, maxInputsPerCall: 10 },
      respond: (call) => {
        const codes = call.inputs.map((input) => input.charCodeAt(0));
        return {
          embeddings: codes.map((code) => Float32Array.from({ length: width() }, (_, at) => code + at)),
          warnings: [],
          usage: { inputTokens: codes.length },
          response: { status: 200, headers: {} },
        };
      },
    });

  it('held at two lengths (the server’s model replaced between runs), sends every input and stores the answers; the call failed every time', async () => {
    const store = createMemoryCacheStore();
    let width = 2;
    const inner = server(() => width);
    // One process stores 'a' at 2 values; the server's model is replaced, and another stores 'b' at 3.
    await embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware({ store })), inputs: ['a'] });
    width = 3;
    await embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware({ store })), inputs: ['b'] });
    // A third process asks for both.
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const result = await embedMany({ model, inputs: ['a', 'b'] });
    expect(result.embeddings).toEqual([Float32Array.of(97, 98, 99), Float32Array.of(98, 99, 100)]);
    expect(result.usage).toEqual({ inputTokens: 2 });
    expect(inner.callInputs).toEqual([['a'], ['b'], ['a', 'b']]);
    // The answers replaced the entries: the next call is answered from the store.
    const again = await embedMany({ model, inputs: ['a', 'b'] });
    expect(again.embeddings).toEqual(result.embeddings);
    expect(inner.calls).toHaveLength(3);
  });

  it('held at one length, is answered from the store without a request', async () => {
    const store = createMemoryCacheStore();
    const inner = server(() => 2);
    await embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware({ store })), inputs: ['a', 'b'] });
    const result = await embedMany({
      model: wrapEmbeddingModel(inner, cacheMiddleware({ store })),
      inputs: ['b', 'a'],
    });
    expect(result.embeddings).toEqual([Float32Array.of(98, 99), Float32Array.of(97, 98)]);
    expect(inner.callInputs).toEqual([['a', 'b']]);
  });
});

describe('createRegistry: a malformed id', () => {
  const openai: EmbeddingProvider = {
    embedding: (modelId) => new ScriptedModel({ provider: 'openai', modelId }),
  };

  it('longer than 24 characters is shown by its length alone: an API key given as the id stays out of the message', () => {
    const key = 'sk-fake-not-a-real-key-xxxxxxxxxxxxxxxxxxxxxxxxx';
    const error = thrownInvalidArgument(() => createRegistry({ openai }).embeddingModel(key as never));
    expect(error.message).toBe(
      'Model id a string of 48 characters must look like "provider:model", e.g. "openai:text-embedding-3-small".',
    );
    expect(error.argument).toBe('id');
  });

  it('of 24 characters or fewer is shown quoted, with JSON escapes', () => {
    const error = thrownInvalidArgument(() => createRegistry({ openai }).embeddingModel('open"ai' as never));
    expect(error.message).toBe(
      'Model id "open\\"ai" must look like "provider:model", e.g. "openai:text-embedding-3-small".',
    );
  });
});

describe('cacheMiddleware: a batched read that answers no list', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
  ])('getMany answering %s is a failed read, told once, and every input a miss', async (name, answered) => {
    const warnings: CacheStoreWarning[] = [];
    const written: string[] = [];
    const store: CacheStore = {
      get: () => undefined,
      set: () => undefined,
      getMany: () => answered as never,
      setMany: (entries) => {
        for (const [key] of entries) written.push(key);
      },
    };
    const inner = new ScriptedModel({ provider: 'p', modelId: 'm' });
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({ store, onWarning: (warning) => warnings.push(warning) }),
    );
    const response = await model.doEmbed({ inputs: ['a', 'b'] });
    expect(response.embeddings).toHaveLength(2);
    expect(inner.callInputs).toEqual([['a', 'b']]);
    expect(written).toHaveLength(2);
    expect(warnings).toEqual([
      {
        code: 'cache-read-failed',
        message: `The embedding cache could not be read (the store answered ${name} where a list of vectors belongs); inputs count as misses until it can.`,
      },
    ]);
  });
});

describe('search at its edges, on the WebAssembly path and in JavaScript alike', () => {
  it('a k that cuts a run of equal scores keeps the lowest indices of the run, in index order', () => {
    // Nine vectors (two groups of four and a last group of one); 1, 4, 5 and 8 tie for first.
    const same = Float32Array.from({ length: 16 }, (_, position) => (position % 3) - 1);
    const other = Float32Array.from({ length: 16 }, (_, position) => (position % 5) - 2);
    const corpus = [other, same, other, other, same, same, other, other, same];
    const expected = [
      { index: 1, score: 1 },
      { index: 4, score: 1 },
      { index: 5, score: 1 },
    ];
    expect(topK(same, corpus.slice(), 3)).toEqual(expected);
    expect(javascriptOnly(() => topK(same, corpus.slice(), 3))).toEqual(expected);
  });

  it('ties in Hamming distance over 17 bytes, binary and ubinary mixed, keep the lower index first', () => {
    const query = new Uint8Array(17);
    const oneBitAt = (at: number, Type: typeof Int8Array | typeof Uint8Array) => {
      const vector = new Type(17);
      vector[at] = 1;
      return vector;
    };
    // Every vector differs from the query in one bit, in the blocks of 16 or in the last byte.
    const corpus = [
      oneBitAt(16, Int8Array),
      oneBitAt(0, Uint8Array),
      oneBitAt(3, Int8Array),
      new Int8Array(17),
    ];
    const expected = [
      { index: 3, distance: 0 },
      { index: 0, distance: 1 },
      { index: 1, distance: 1 },
    ];
    expect(topKHamming(query, corpus.slice(), 3)).toEqual(expected);
    expect(javascriptOnly(() => topKHamming(query, corpus.slice(), 3))).toEqual(expected);
  });

  it.each([
    [131_071, 2_147_467_264],
    [131_072, 2_147_483_648],
  ])('topKInt8 over %i dimensions of -128 scores exactly %i (no 32-bit sum wraps)', (dimensions, score) => {
    const query = new Int8Array(dimensions).fill(-128);
    const corpus = [new Int8Array(dimensions).fill(127), new Int8Array(dimensions).fill(-128)];
    const expected = [
      { index: 1, score },
      { index: 0, score: -dimensions * 127 * 128 },
    ];
    expect(topKInt8(query, corpus.slice(), 2)).toEqual(expected);
    expect(javascriptOnly(() => topKInt8(query, corpus.slice(), 2))).toEqual(expected);
  });
});

describe('topK over number arrays that all grew after a search', () => {
  it('measures each vector again at its new length: its old length ranked the two in the wrong order, both at 1', () => {
    const corpus = [
      [3, 4],
      [1, 0],
    ];
    expect(topK([3, 4], corpus, 2)).toEqual([
      { index: 0, score: 1 },
      { index: 1, score: 0.6 },
    ]);
    for (const vector of corpus) vector.push(12);
    // 12 / 13 for the first, 12 / √145 for the second.
    expect(topK([0, 0, 1], corpus, 2)).toEqual([
      { index: 1, score: 12 / Math.sqrt(145) },
      { index: 0, score: 12 / 13 },
    ]);
  });
});
