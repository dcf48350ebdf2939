import { describe, expect, it } from 'vitest';
import { decodeEmbedding, encodeEmbedding } from '../src/cache-codec.js';

describe('encodeEmbedding / decodeEmbedding', () => {
  it('writes a 16-byte header (the element count at byte 4), then the float32 elements as raw little-endian bytes', () => {
    const bytes = encodeEmbedding(Float32Array.of(1, -2.5));
    expect([...bytes]).toEqual([
      1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      // 1.0 and -2.5 as little-endian IEEE 754 single precision
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0,
    ]);
  });

  it.each([
    ['float32', Float32Array.of(0.1, -0.2, 3.4028234663852886e38, Number.MIN_VALUE)],
    ['int8', Int8Array.of(-128, -1, 0, 127)],
    ['uint8', Uint8Array.of(0, 1, 128, 255)],
  ])('round-trips %s vectors with their element type and exact values', (_name, vector) => {
    const decoded = decodeEmbedding(encodeEmbedding(vector));
    expect(decoded?.constructor).toBe(vector.constructor);
    expect(decoded).toEqual(vector);
  });

  it('decodes into a fresh buffer: no view into the stored bytes, even at an unaligned offset', () => {
    const encoded = encodeEmbedding(Float32Array.of(1, 2, 3));
    const padded = new Uint8Array(encoded.length + 1);
    padded.set(encoded, 1);
    const decoded = decodeEmbedding(padded.subarray(1)) as Float32Array;
    expect(decoded).toEqual(Float32Array.of(1, 2, 3));
    expect(decoded.buffer).not.toBe(padded.buffer);
    expect(decoded.buffer.byteLength).toBe(12);
    padded.fill(0);
    expect(decoded).toEqual(Float32Array.of(1, 2, 3));
  });

  it('encodes a view into a larger slab as only its own elements', () => {
    const slab = Float32Array.of(9, 9, 4, 5, 9);
    expect(decodeEmbedding(encodeEmbedding(slab.subarray(2, 4)))).toEqual(Float32Array.of(4, 5));
  });

  it('serves an entry until its expiry, then reads it as a miss', () => {
    const bytes = encodeEmbedding(Int8Array.of(1, 2), { expiresAt: 5_000 });
    expect(decodeEmbedding(bytes, 4_999)).toEqual(Int8Array.of(1, 2));
    expect(decodeEmbedding(bytes, 5_000)).toBeUndefined();
  });

  it.each([[Number.NaN], ['soon'], [Number.POSITIVE_INFINITY]])(
    'refuses an expiresAt of %s (it wrote an entry expired at once)',
    (expiresAt) => {
      expect(() => encodeEmbedding(Float32Array.of(1), { expiresAt: expiresAt as number })).toThrow(
        expect.objectContaining({ name: 'InvalidArgumentError', argument: 'expiresAt' }),
      );
    },
  );

  it('refuses a value that is no vector with an InvalidArgumentError', () => {
    expect(() => encodeEmbedding(Float64Array.of(1) as never)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        message: 'a cached vector must be a Float32Array, an Int8Array or a Uint8Array.',
      }),
    );
  });

  it('reads bytes of another format (a newer version, a cut value, an unknown type) as a miss', () => {
    const good = encodeEmbedding(Float32Array.of(1, 2));
    const newer = good.slice();
    newer[0] = 2;
    const unknownType = good.slice();
    unknownType[1] = 9;
    expect(decodeEmbedding(newer)).toBeUndefined();
    expect(decodeEmbedding(unknownType)).toBeUndefined();
    expect(decodeEmbedding(good.subarray(0, 10))).toBeUndefined();
    expect(decodeEmbedding(good.subarray(0, good.length - 1))).toBeUndefined();
  });
});

describe('decodeEmbedding from a Node Buffer', () => {
  it.each([
    ['float32', Float32Array.of(1, 2)],
    ['int8', Int8Array.of(-1, 2)],
    ['uint8', Uint8Array.of(1, 255)],
  ])('returns a plain %s copy, not a Buffer or a view of it', (_name, vector) => {
    const buffer = Buffer.from(encodeEmbedding(vector));
    const decoded = decodeEmbedding(buffer)!;
    expect(decoded.constructor).toBe(vector.constructor);
    expect(decoded.buffer).not.toBe(buffer.buffer);
    buffer.fill(0);
    expect(decoded).toEqual(vector);
  });
});
