import { describe, expect, it } from 'vitest';
import {
  decodeCheckedEmbedding as decodeEmbedding,
  encodeCheckedEmbedding as encodeEmbedding,
} from '../src/cache-check.js';
import {
  decodeEmbedding as decodeUnchecked,
  encodeEmbedding as encodeUnchecked,
} from '../src/cache-codec.js';

/** `bytes` with bit `bit` of byte `at` flipped (a copy). */
function flipped(bytes: Uint8Array, at: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 1 << bit;
  return out;
}

// A value damaged where it is kept (a bit flipped on disk, a byte another program wrote into the file or
// the Redis key) decoded to a vector with the right header and length but other values: served as the
// model's own, bit for bit unnoticed.
describe('an entry damaged in the store', () => {
  const vectors = [
    ['float32', Float32Array.of(0.5, -1.25, 3, 1e-30, -0)],
    ['int8', Int8Array.of(-128, -1, 0, 127, 5)],
    ['uint8', Uint8Array.of(0, 1, 128, 255, 7)],
  ] as const;

  it.each(vectors)(
    'a %s entry with any one bit flipped outside bytes 2-3 decodes to nothing',
    (_name, vector) => {
      const bytes = encodeEmbedding(vector, { expiresAt: Date.now() + 60_000 });
      const served: string[] = [];
      for (let at = 0; at < bytes.length; at++) {
        if (at === 2 || at === 3) continue;
        for (let bit = 0; bit < 8; bit++)
          if (decodeEmbedding(flipped(bytes, at, bit)) !== undefined) served.push(`byte ${at} bit ${bit}`);
      }
      expect(served).toEqual([]);
    },
  );

  it('a flip in bytes 2-3 (where the check is kept) decodes to nothing, unless it leaves them zero', () => {
    const vector = Float32Array.of(0.5, -1.25, 3);
    const bytes = encodeEmbedding(vector);
    for (const at of [2, 3])
      for (let bit = 0; bit < 8; bit++) {
        const damaged = flipped(bytes, at, bit);
        // Bytes 2-3 left zero read as an entry written before the check: its values are intact.
        if ((damaged[2]! | damaged[3]!) === 0) expect(decodeEmbedding(damaged)).toEqual(vector);
        else expect(decodeEmbedding(damaged), `byte ${at} bit ${bit}`).toBeUndefined();
      }
  });

  it('two sign bits flipped, or two elements swapped, decode to nothing', () => {
    const bytes = encodeEmbedding(Float32Array.of(0.5, -1.25, 3, 7));
    const signs = flipped(flipped(bytes, 16 + 3, 7), 16 + 11, 7);
    expect(decodeEmbedding(signs)).toBeUndefined();
    const swapped = bytes.slice();
    swapped.set(bytes.subarray(16, 20), 20);
    swapped.set(bytes.subarray(20, 24), 16);
    expect(decodeEmbedding(swapped)).toBeUndefined();
  });

  it('the check sits in bytes 2-3 and is never 0; an entry with bytes 2-3 zero (written before it, or by encodeEmbedding) is read unchecked', () => {
    for (let value = 0; value < 200; value++) {
      const bytes = encodeEmbedding(Float32Array.of(value / 7, value));
      expect(bytes[2]! | bytes[3]!).not.toBe(0);
    }
    const older = encodeEmbedding(Float32Array.of(0.5, -1.25));
    older[2] = 0;
    older[3] = 0;
    expect(decodeEmbedding(older)).toEqual(Float32Array.of(0.5, -1.25));
    expect(decodeEmbedding(encodeUnchecked(Int8Array.of(1, 2)))).toEqual(Int8Array.of(1, 2));
    // The rest of the format is core's own: decodeEmbedding reads a checked entry as any other.
    expect(decodeUnchecked(encodeEmbedding(Uint8Array.of(3, 4)))).toEqual(Uint8Array.of(3, 4));
    expect(decodeEmbedding(encodeEmbedding(Float32Array.of(1), { expiresAt: 5 }), 6)).toBeUndefined();
  });
});
