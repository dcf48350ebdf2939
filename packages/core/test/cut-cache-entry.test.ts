/**
 * A stored entry cut short (a store that loses the end of a value) must never be served: for a model
 * that states no vector length, a float entry cut by 4 bytes would otherwise decode to a vector one value
 * short, and a call whose every input is held would return it.
 */
import { describe, expect, it } from 'vitest';
import { type CacheStore, cacheMiddleware } from '../src/cache.js';
import { decodeEmbedding, encodeEmbedding } from '../src/cache-codec.js';
import { embedMany } from '../src/engine/embed.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import type { Embedding } from '../src/types.js';
import { ScriptedModel } from './helpers.js';

/** A store that keeps entries in the codec's bytes and answers each with its last `cut` bytes lost. */
function cuttingStore(cut: () => number): CacheStore & { bytes: Map<string, Uint8Array> } {
  const bytes = new Map<string, Uint8Array>();
  return {
    bytes,
    get(key) {
      const stored = bytes.get(key);
      return stored === undefined ? undefined : decodeEmbedding(stored.subarray(0, stored.length - cut()));
    },
    set(key, value) {
      bytes.set(key, encodeEmbedding(value));
    },
  };
}

describe('an entry cut short', () => {
  it('the element count is in bytes 4-7 (uint32 little-endian), the rest of the header as before', () => {
    const bytes = encodeEmbedding(new Float32Array(1024), { expiresAt: 0 });
    expect([...bytes.subarray(0, 16)]).toEqual([1, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(bytes.length).toBe(16 + 4096);
  });

  it.each([
    ['float32, 4 bytes', Float32Array.of(1, 2, 3), 4],
    ['float32, 8 bytes', Float32Array.of(1, 2, 3), 8],
    ['int8, 1 byte', Int8Array.of(1, 2, 3), 1],
    ['uint8, 2 bytes', Uint8Array.of(1, 2, 3), 2],
  ] as [string, Embedding, number][])('%s short decodes to nothing (a miss)', (_name, vector, cut) => {
    const bytes = encodeEmbedding(vector);
    expect(decodeEmbedding(bytes)).toEqual(vector);
    expect(decodeEmbedding(bytes.subarray(0, bytes.length - cut))).toBeUndefined();
  });

  it('bytes appended to an entry decode to nothing too', () => {
    const bytes = encodeEmbedding(Float32Array.of(1, 2));
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(decodeEmbedding(longer)).toBeUndefined();
  });

  it('an entry written before the count (bytes 4-7 zero) is read as it was; one of broken floats is not', () => {
    const bytes = encodeEmbedding(Float32Array.of(1, 2));
    bytes.fill(0, 4, 8);
    expect(decodeEmbedding(bytes)).toEqual(Float32Array.of(1, 2));
    expect(decodeEmbedding(bytes.subarray(0, bytes.length - 2))).toBeUndefined();
    expect(decodeEmbedding(encodeEmbedding(new Float32Array(0)))).toEqual(new Float32Array(0));
  });

  it.each([4, 8])(
    'cut by %i bytes, a held input of a model that states no length is sent again, not served short',
    async (cut) => {
      let cutNow = 0;
      const store = cuttingStore(() => cutNow);
      const inner = new ScriptedModel({
        capabilities: { defaultDimensions: undefined },
        respond: (call) => ({
          embeddings: call.inputs.map(() => Float32Array.of(0.5, 0.5, 0.5, 0.5)),
          warnings: [],
          response: { status: 200, headers: {} },
        }),
      });
      await embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware({ store })), inputs: ['a'] });
      // A new process, the store now losing the end of every value.
      cutNow = cut;
      const result = await embedMany({
        model: wrapEmbeddingModel(inner, cacheMiddleware({ store })),
        inputs: ['a'],
      });
      expect(result.embeddings).toEqual([Float32Array.of(0.5, 0.5, 0.5, 0.5)]);
      expect(inner.callInputs).toEqual([['a'], ['a']]);
    },
  );
});
