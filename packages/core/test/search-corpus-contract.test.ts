import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { topK, topKHamming, topKInt8 } from '../src/search/top-k.js';
import { cosineSimilarity, hammingDistance } from '../src/vectors.js';
import { setWebAssemblyEnabled, wasmKernels } from '../src/wasm/kernels.js';
import { javascriptOnly, seededRandom, thrownError } from './helpers.js';

/** The refusal `run` throws: an InvalidArgumentError about `argument`, whose message is returned. */
function refusal(run: () => unknown, argument = 'vectors'): string {
  const error = thrownError(InvalidArgumentError, run);
  expect(error.code).toBe('invalid_argument');
  expect(error.argument).toBe(argument);
  return error.message;
}

/** Calls of the kernel export `name` while `run` runs: which path answered. */
function kernelCalls(name: 'dots_f32' | 'hamming', run: () => void): number {
  const kernels = wasmKernels();
  if (kernels === undefined) throw new Error('the WebAssembly kernels did not load in this runtime');
  const original = kernels.exports;
  let calls = 0;
  const kernel = original[name] as (...args: number[]) => void;
  kernels.exports = {
    ...original,
    [name]: (...args: number[]) => {
      calls++;
      kernel(...args);
    },
  };
  try {
    run();
  } finally {
    kernels.exports = original;
  }
  return calls;
}

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`a corpus is checked the same whatever k (${backend})`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    // Each corpus is refused at k = 1; k = 0 answered [] without reading it, so checking a corpus with k = 0
    // said nothing of it. Mutant killed: `if (limit === 0) return [];` before the corpus is read.
    const badCorpora: [string, () => (k: number) => unknown, string][] = [
      [
        'topK: a vector of other dimensions',
        () => (k) => topK([1, 0], [Float32Array.of(1, 2, 3)], k),
        'Vector 0 has 3 dimensions; the query has 2.',
      ],
      [
        'topK: a NaN in a number array',
        () => (k) =>
          topK(
            [1, 0],
            [
              [0, 1],
              [Number.NaN, 0],
            ],
            k,
          ),
        'Vector 1 holds NaN at position 0; a corpus holds finite numbers.',
      ],
      [
        'topK: an Infinity in a Float32Array corpus the kernels read',
        () => {
          const corpus = [new Float32Array(8), new Float32Array(8)];
          corpus[1]![5] = Number.NEGATIVE_INFINITY;
          return (k) => topK(new Float32Array(8).fill(1), corpus, k);
        },
        'Vector 1 holds -Infinity at position 5; a corpus holds finite numbers.',
      ],
      [
        'topK: a string among the numbers',
        () => (k) => topK([1, 0], [[1, '0' as never]], k),
        'Vector 0 holds "0" at position 1; a corpus holds finite numbers.',
      ],
      [
        'topKInt8: a vector of other dimensions',
        () => (k) => topKInt8(Int8Array.of(1), [Int8Array.of(1, 2)], k),
        'Vector 0 has 2 dimensions; the query has 1.',
      ],
      [
        'topKInt8: a vector that is no Int8Array',
        () => (k) => topKInt8(Int8Array.of(1), [[1] as never], k),
        'topKInt8 takes an Int8Array query and Int8Array vectors.',
      ],
      [
        'topKHamming: a vector of other length',
        () => (k) => topKHamming(Uint8Array.of(1), [Uint8Array.of(1, 2)], k),
        'Vector 0 has 2 bytes; the query has 1.',
      ],
      [
        'topKHamming: a vector of floats',
        () => (k) => topKHamming(Uint8Array.of(1), [Float32Array.of(1) as never], k),
        'topKHamming takes an Int8Array or Uint8Array query and vectors.',
      ],
    ];
    for (const [name, make, message] of badCorpora) {
      it(`${name} is refused at k = 0 as at k = 1`, () => {
        const search = make();
        expect(refusal(() => search(1))).toBe(message);
        expect(refusal(() => search(0))).toBe(message);
      });
    }

    it('k = 0 over a sound corpus, or an empty one, answers nothing', () => {
      expect(topK([1, 0], [[1, 0]], 0)).toEqual([]);
      expect(topK(new Float32Array(8), [new Float32Array(8)], 0, { metric: 'dot' })).toEqual([]);
      expect(topKInt8(Int8Array.of(1), [Int8Array.of(2)], 0)).toEqual([]);
      expect(topKHamming(Uint8Array.of(1), [Uint8Array.of(2)], 0)).toEqual([]);
      expect(topK([1, 0], [], 0)).toEqual([]);
    });

    it('a slot holding no vector is named as such (it said "has undefined dimensions")', () => {
      expect(refusal(() => topK([1, 0], [[1, 0], null as never], 1))).toBe(
        'Vector 1 is null, not a vector (a typed array or an array of numbers).',
      );
      // A hole in a sparse array.
      const sparse: number[][] = [];
      sparse[1] = [1, 0];
      expect(refusal(() => topK([1, 0], sparse, 1))).toBe(
        'Vector 0 is undefined, not a vector (a typed array or an array of numbers).',
      );
      expect(refusal(() => topKInt8(Int8Array.of(1), [{ length: 1 } as never], 1))).toBe(
        'Vector 0 is an object with length, not a vector (a typed array or an array of numbers).',
      );
      expect(refusal(() => topKHamming(Uint8Array.of(1), [undefined as never], 0))).toBe(
        'Vector 0 is undefined, not a vector (a typed array or an array of numbers).',
      );
    });
  });
}

describe('topK over Int8Array and Float64Array vectors (typed since they are read)', () => {
  const random = seededRandom(83);
  const dimensions = 24;
  const int8Corpus = Array.from({ length: 400 }, () =>
    Int8Array.from({ length: dimensions }, () => Math.floor(random() * 256) - 128),
  );
  const int8Query = Int8Array.from({ length: dimensions }, () => Math.floor(random() * 256) - 128);

  it('int8 under dot ranks and scores as topKInt8: exact integers, ties by index', () => {
    const expected = topKInt8(int8Query, int8Corpus, 30);
    expect(topK(int8Query, int8Corpus, 30, { metric: 'dot' })).toEqual(expected);
    expect(javascriptOnly(() => topK(int8Query, int8Corpus, 30, { metric: 'dot' }))).toEqual(expected);
    expect(expected.every((hit) => Number.isInteger(hit.score))).toBe(true);
  });

  it('int8 under cosine scores as cosineSimilarity, and as the same values in Float32Arrays on the kernels', () => {
    const ranked = topK(int8Query, int8Corpus, 400);
    for (const hit of ranked) expect(hit.score).toBe(cosineSimilarity(int8Query, int8Corpus[hit.index]!));
    // int8 values are exact in float32: the kernels, reading the same values, give the same doubles.
    const asFloats = int8Corpus.map((vector) => Float32Array.from(vector));
    let fromKernels: unknown;
    expect(
      kernelCalls('dots_f32', () => (fromKernels = topK(Float32Array.from(int8Query), asFloats, 400))),
    ).toBe(1);
    expect(fromKernels).toEqual(ranked);
    expect(javascriptOnly(() => topK(int8Query, int8Corpus, 400))).toEqual(ranked);
  });

  it('Float64Array vectors of float32 values score as their Float32Array twins on the kernels, under both metrics', () => {
    const floats = Array.from({ length: 300 }, () =>
      Float32Array.from({ length: 16 }, () => (random() - 0.5) * 2),
    );
    const doubles = floats.map((vector) => Float64Array.from(vector));
    const query = Float64Array.from({ length: 16 }, () => random() - 0.5);
    for (const metric of ['cosine', 'dot'] as const) {
      let fromKernels: unknown;
      expect(kernelCalls('dots_f32', () => (fromKernels = topK(query, floats, 20, { metric })))).toBe(1);
      expect(topK(query, doubles, 20, { metric })).toEqual(fromKernels);
      expect(javascriptOnly(() => topK(query, doubles, 20, { metric }))).toEqual(fromKernels);
    }
  });
});

describe('topKHamming compares every bit of every byte', () => {
  it('counts the bits past the last dimension: it is not told the dimensions, and embedkit never sends padding', () => {
    // 12 dimensions in 2 bytes, packed as numpy.packbits does (the first dimension the highest bit), the
    // last 4 bits padding. A vector whose padding is not zero is that many bits away, on both paths.
    const query = Uint8Array.of(0b10110011, 0b1010_0000);
    const corpus = [Uint8Array.of(0b10110011, 0b1010_1111), Uint8Array.of(0b10110011, 0b1011_0000)];
    const expected = [
      { index: 1, distance: 1 },
      { index: 0, distance: 4 },
    ];
    expect(kernelCalls('hamming', () => expect(topKHamming(query, corpus, 2)).toEqual(expected))).toBe(1);
    expect(javascriptOnly(() => topKHamming(query, corpus, 2))).toEqual(expected);
    expect(corpus.map((vector) => hammingDistance(query, vector))).toEqual([4, 1]);
  });
});
