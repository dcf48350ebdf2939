import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { topK } from '../src/search/top-k.js';
import { cosineSimilarity, dot, hammingDistance, normalize, normalizeInPlace } from '../src/vectors.js';
import { thrownError } from './helpers.js';

/** The InvalidArgumentError `run` throws (any other outcome fails the test). */
const refusal = (run: () => unknown) => thrownError(InvalidArgumentError, run);

describe('the pairwise helpers refuse values with no direction, as topK does', () => {
  it.each([
    [
      'a NaN in a (cosineSimilarity answered NaN, outside the [-1, 1] it promises)',
      () => cosineSimilarity([1, Number.NaN], [1, 1]),
      'Vector a holds NaN at position 1; cosineSimilarity takes finite numbers.',
      'a',
    ],
    [
      'an infinity in b (NaN: a dedupe threshold read it as "not similar")',
      () => cosineSimilarity(Float32Array.of(1, 1, 0), Float32Array.of(0, 1, Number.NEGATIVE_INFINITY)),
      'Vector b holds -Infinity at position 2; cosineSimilarity takes finite numbers.',
      'b',
    ],
    [
      'an infinity in a dot product (it answered Infinity, the best score there is)',
      () => dot([1, 2], [Number.POSITIVE_INFINITY, 0]),
      'Vector b holds Infinity at position 0; dot takes finite numbers.',
      'b',
    ],
    [
      'a NaN in a dot product of float64 values',
      () => dot(Float64Array.of(Number.NaN), Float64Array.of(0)),
      'Vector a holds NaN at position 0; dot takes finite numbers.',
      'a',
    ],
  ])('%s', (_what, run, message, argument) => {
    const error = refusal(run);
    expect(error.message).toBe(message);
    expect(error.argument).toBe(argument);
  });

  it('a corpus vector topK refuses, cosineSimilarity refuses too', () => {
    const broken = Float32Array.of(0, Number.NaN);
    expect(refusal(() => topK([1, 0], [broken], 1)).message).toContain('holds NaN at position 1');
    expect(refusal(() => cosineSimilarity([1, 0], broken)).message).toBe(
      'Vector b holds NaN at position 1; cosineSimilarity takes finite numbers.',
    );
  });

  it('finite values whose product leaves a double still answer (1e200: no value is refused)', () => {
    expect(dot([1e200], [1e200])).toBe(Number.POSITIVE_INFINITY);
    expect(cosineSimilarity([1e200, 0], [1e200, 0])).toBe(1);
    expect(cosineSimilarity([1e200, 1e200], [1e200, -1e200])).toBe(0);
  });

  it('normalize and topK refuse in the same words: the value, its place, and what is taken', () => {
    expect(refusal(() => normalize([1, Number.NaN])).message).toBe(
      'The vector holds NaN at position 1; normalize takes finite float32 values.',
    );
    // A number beyond float32 is named as given, not as the infinity its float32 copy holds.
    expect(refusal(() => normalize([1, 1e39])).message).toBe(
      'The vector holds 1e+39 at position 1; normalize takes finite float32 values.',
    );
    // Given a number array in place of its Float32Array, normalizeInPlace turned 1e200 into 0 (its length
    // was Infinity, and no value of the array is).
    expect(refusal(() => normalizeInPlace([1e200, 1e200] as never)).message).toBe(
      'The vector holds 1e+200 at position 0; normalizeInPlace takes finite float32 values.',
    );
  });
});

describe('the pairwise helpers refuse what is not a vector', () => {
  it.each([
    ['null (a TypeError from reading its length)', () => dot(null as never, [1])],
    [
      'a string (its characters were multiplied: NaN, or the digits it spells)',
      () => dot('12' as never, [1, 2]),
    ],
    ['an object with a length', () => cosineSimilarity({ length: 1, 0: 1 } as never, [1])],
    ['a string to normalize (the digits it spells were normalized)', () => normalize('34' as never)],
    ['null to normalize (a TypeError from Float32Array.from)', () => normalize(null as never)],
    [
      'undefined to normalizeInPlace (a TypeError from reading its length)',
      () => normalizeInPlace(undefined as never),
    ],
  ])('%s is an InvalidArgumentError', (_what, run) => {
    expect(refusal(run).message).toBe('Vectors must be typed arrays or arrays of numbers.');
  });

  it.each([
    [
      'number arrays (256 was counted as 0 bits, 1.5 as 1)',
      () => hammingDistance([256] as never, [0] as never),
    ],
    ['Float32Arrays', () => hammingDistance(Float32Array.of(1.5) as never, Float32Array.of(0) as never)],
    ['an Int8Array beside a number array', () => hammingDistance(Int8Array.of(1), [1] as never)],
    [
      'undefined as b (a TypeError from reading its length)',
      () => hammingDistance(Uint8Array.of(1), undefined as never),
    ],
  ])('hammingDistance refuses %s: it counts the bits of bytes', (_what, run) => {
    expect(refusal(run).message).toBe('Vectors must be Int8Arrays or Uint8Arrays.');
  });

  it('bit-packed vectors, signed and unsigned, mixed, are still compared', () => {
    expect(hammingDistance(Int8Array.of(-1), Uint8Array.of(0))).toBe(8);
  });
});
