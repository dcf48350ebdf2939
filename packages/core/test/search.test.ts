import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { keptCopyBytes, type ScoredIndex, topK, topKHamming, topKInt8 } from '../src/search/top-k.js';
import { cosineSimilarity, dot, hammingDistance } from '../src/vectors.js';
import { setWebAssemblyEnabled, WORK_START, wasmKernels } from '../src/wasm/kernels.js';
import { instancesShortOfMemory, javascriptOnly, seededRandom } from './helpers.js';

function randomFloat32(random: () => number, length: number): Float32Array {
  return Float32Array.from({ length }, () => (random() - 0.5) * 2);
}

function randomInt8(random: () => number, length: number): Int8Array {
  return Int8Array.from({ length }, () => Math.floor(random() * 256) - 128);
}

/** `count` vectors of `dimensions` as the engine returns them: views of one slab per `perSlab` vectors. */
function slabs(random: () => number, count: number, dimensions: number, perSlab: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let start = 0; start < count; start += perSlab) {
    const slab = randomFloat32(random, Math.min(perSlab, count - start) * dimensions);
    for (let offset = 0; offset < slab.length; offset += dimensions)
      out.push(slab.subarray(offset, offset + dimensions));
  }
  return out;
}

/** Counts calls of one kernel export while `run` runs (proves which path answered). */
function countKernelCalls(name: 'dots_f32' | 'squares_f32' | 'dots_i8' | 'hamming', run: () => void): number {
  const kernels = wasmKernels();
  if (kernels === undefined) throw new Error('the WebAssembly kernels did not load in this runtime');
  const original = kernels.exports;
  let calls = 0;
  const wrapped = { ...original } as Record<string, unknown>;
  const kernel = original[name] as (...args: number[]) => void;
  wrapped[name] = (...args: number[]) => {
    calls++;
    kernel(...args);
  };
  kernels.exports = wrapped as unknown as typeof original;
  try {
    run();
  } finally {
    kernels.exports = original;
  }
  return calls;
}

/** `run` answers `expected` through the kernel `name` (called at least once), and again in JavaScript alone. */
function expectBothPaths<T>(name: 'dots_i8' | 'hamming', run: () => T, expected: T): void {
  let fast: T | undefined;
  expect(countKernelCalls(name, () => (fast = run()))).toBeGreaterThan(0);
  expect(fast).toEqual(expected);
  expect(javascriptOnly(run)).toEqual(expected);
}

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`topK (${backend})`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    function naiveDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
      let sum = 0;
      for (let index = 0; index < a.length; index++) sum += a[index]! * b[index]!;
      return sum;
    }

    function bruteForce(
      query: ArrayLike<number>,
      vectors: readonly ArrayLike<number>[],
      k: number,
      metric: 'cosine' | 'dot',
    ) {
      const queryNorm = Math.sqrt(naiveDot(query, query));
      return vectors
        .map((vector, index) => {
          const raw = naiveDot(query, vector);
          const denominator = queryNorm * Math.sqrt(naiveDot(vector, vector));
          return { index, score: metric === 'dot' ? raw : denominator === 0 ? 0 : raw / denominator };
        })
        .sort((a, b) => b.score - a.score || a.index - b.index)
        .slice(0, k);
    }

    function expectSameRanking(
      actual: { index: number; score: number }[],
      expected: { index: number; score: number }[],
    ) {
      expect(actual.map((entry) => entry.index)).toEqual(expected.map((entry) => entry.index));
      for (const [position, entry] of actual.entries())
        expect(entry.score).toBeCloseTo(expected[position]!.score, 10);
    }

    const random = seededRandom(42);
    const corpus = Array.from({ length: 300 }, () => randomFloat32(random, 24));
    const queries = Array.from({ length: 5 }, () => randomFloat32(random, 24));

    for (const metric of ['cosine', 'dot'] as const) {
      for (const k of [1, 2, 7, 64, 299, 300]) {
        it(`matches a brute-force sort (${metric}, k=${k})`, () => {
          for (const query of queries)
            expectSameRanking(topK(query, corpus, k, { metric }), bruteForce(query, corpus, k, metric));
        });
      }
    }

    it('defaults to cosine, which differs from dot on vectors of different lengths', () => {
      const vectors = [
        [10, 10],
        [1, 0],
      ];
      expect(topK([1, 0], vectors, 2).map((entry) => entry.index)).toEqual([1, 0]);
      expect(topK([1, 0], vectors, 2, { metric: 'dot' }).map((entry) => entry.index)).toEqual([0, 1]);
    });

    it('keeps the lower index first on ties, at every k', () => {
      const tieRandom = seededRandom(3);
      const templates = Array.from({ length: 4 }, () => randomFloat32(tieRandom, 8));
      // Separate copies of 4 templates, so scores tie exactly and often.
      const vectors = Array.from({ length: 60 }, () =>
        Float32Array.from(templates[Math.floor(tieRandom() * 4)]!),
      );
      const query = randomFloat32(tieRandom, 8);
      for (const k of [1, 3, 10, 15, 31, 60]) {
        for (const metric of ['cosine', 'dot'] as const) {
          const result = topK(query, vectors, k, { metric });
          expectSameRanking(result, bruteForce(query, vectors, k, metric));
          for (let position = 1; position < result.length; position++) {
            const previous = result[position - 1]!;
            const current = result[position]!;
            if (previous.score === current.score) expect(previous.index).toBeLessThan(current.index);
          }
        }
      }
    });

    it('repeated queries over one corpus give the same answers as the first (cached lengths)', () => {
      const cacheRandom = seededRandom(21);
      // 16 dimensions: a multiple of 8, so the kernels run (and keep a copy from the second query).
      const vectors = Array.from({ length: 50 }, () => randomFloat32(cacheRandom, 16));
      const query = randomFloat32(cacheRandom, 16);
      const first = topK(query, vectors, 10);
      expect(topK(query, vectors, 10)).toEqual(first);
      expectSameRanking(first, bruteForce(query, vectors, 10, 'cosine'));
    });

    it('notices a corpus slot replaced by another vector, and a corpus that grew', () => {
      // 8 dimensions (the first two used), so the kernels run, and from the second query read a kept copy
      // that a replaced slot must not leave stale.
      const of = (x: number, y: number) => Float32Array.of(x, y, 0, 0, 0, 0, 0, 0);
      const vectors: Float32Array[] = [of(1, 0), of(0, 1), of(1, 1)];
      const query = [1, 0, 0, 0, 0, 0, 0, 0];
      expect(topK(query, vectors, 1)[0]!.index).toBe(0);
      expect(topK(query, vectors, 1)[0]!.index).toBe(0);
      // Replace slot 0 by a long vector pointing away from the query: its cached length must not be reused.
      vectors[0] = of(-10, 0);
      expectSameRanking(topK(query, vectors, 3), bruteForce(query, vectors, 3, 'cosine'));
      expect(topK(query, vectors, 3).map((entry) => entry.index)).toEqual([2, 1, 0]);
      vectors.push(of(3, 0));
      expect(topK(query, vectors, 1)).toEqual([{ index: 3, score: 1 }]);
    });

    it('accepts plain number arrays as query and corpus', () => {
      const vectors = [
        [0, 1],
        [1, 0],
        [0.6, 0.8],
      ];
      expect(topK([0, 1], vectors, 2)).toEqual([
        { index: 0, score: 1 },
        { index: 2, score: 0.8 },
      ]);
    });

    it('returns nothing for k=0 or an empty corpus, and every vector when k exceeds it', () => {
      expect(topK([1, 0], [[1, 0]], 0)).toEqual([]);
      expect(topK([1, 0], [], 5)).toEqual([]);
      const result = topK(
        [1, 0],
        [
          [0, 1],
          [1, 0],
        ],
        10,
      );
      expect(result.map((entry) => entry.index)).toEqual([1, 0]);
    });

    it('scores every vector 0 against a zero query under cosine (ties by index)', () => {
      expect(
        topK(
          [0, 0],
          [
            [1, 0],
            [0, 1],
            [1, 1],
          ],
          3,
        ),
      ).toEqual([
        { index: 0, score: 0 },
        { index: 1, score: 0 },
        { index: 2, score: 0 },
      ]);
    });

    it('rejects a dimension mismatch and a bad k with InvalidArgumentError', () => {
      expect(() =>
        topK(
          [1, 0],
          [
            [1, 0],
            [1, 0, 0],
          ],
          1,
        ),
      ).toThrow(InvalidArgumentError);
      expect(() => topK([1, 0], [[1, 0]], -1)).toThrow(InvalidArgumentError);
      expect(() => topK([1, 0], [[1, 0]], 1.5)).toThrow(InvalidArgumentError);
    });
  });
}

describe('topK: WebAssembly and JavaScript give the same answers, bit for bit', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('loads the WebAssembly kernels in this runtime (Node has WebAssembly SIMD)', () => {
    // Without this, every "same answers" test below would compare JavaScript with itself.
    expect(wasmKernels()).toBeDefined();
  });

  for (const dimensions of [8, 64, 1024]) {
    for (const metric of ['cosine', 'dot'] as const) {
      it(`${metric} over ${dimensions} dimensions: same indices and scores, scores equal to ${metric === 'dot' ? 'dot' : 'cosineSimilarity'}`, () => {
        const random = seededRandom(dimensions);
        // Several 256 KB chunks each (700 x 1,024 floats is 2.8 MB), so chunk edges and runs across
        // slabs are crossed.
        const count = { 8: 20_000, 64: 3000, 1024: 700 }[dimensions]!;
        const corpus = slabs(random, count, dimensions, 128);
        const query = randomFloat32(random, dimensions);
        let fast: ReturnType<typeof topK> = [];
        const calls = countKernelCalls('dots_f32', () => {
          fast = topK(query, corpus, 25, { metric });
        });
        expect(calls).toBeGreaterThan(1);
        const slow = javascriptOnly(() => topK(query, corpus, 25, { metric }));
        expect(fast).toEqual(slow);
        for (const entry of fast) {
          const vector = corpus[entry.index]!;
          expect(entry.score).toBe(metric === 'dot' ? dot(query, vector) : cosineSimilarity(query, vector));
        }
      });
    }
  }

  for (const kernel of ['dots_f32', 'squares_f32'] as const) {
    it(`${kernel} reads four vectors side by side, and a last group of one to three: each slot its own ${kernel === 'dots_f32' ? 'dot' : 'squared length'}, none outside the count`, () => {
      const kernels = wasmKernels();
      if (kernels === undefined) throw new Error('the WebAssembly kernels did not load in this runtime');
      const random = seededRandom(kernel === 'dots_f32' ? 21 : 22);
      const sentinel = 0.125;
      for (const dimensions of [8, 24]) {
        for (let count = 1; count <= 9; count++) {
          const query = randomFloat32(random, dimensions);
          const vectors = Array.from({ length: count }, () => randomFloat32(random, dimensions));
          // Query (f64), then the vectors back to back, then one guard slot, the scores and two more.
          const queryAt = WORK_START;
          const vectorsAt = queryAt + dimensions * 8;
          const outAt = vectorsAt + count * dimensions * 4 + 8;
          kernels.reserve(outAt + (count + 2) * 8);
          kernels.doubles.set(query, queryAt / 8);
          for (const [index, vector] of vectors.entries())
            kernels.floats.set(vector, vectorsAt / 4 + index * dimensions);
          kernels.doubles.fill(sentinel, outAt / 8 - 1, outAt / 8 + count + 2);
          if (kernel === 'dots_f32') kernels.exports.dots_f32(queryAt, vectorsAt, count, dimensions, outAt);
          else kernels.exports.squares_f32(vectorsAt, count, dimensions, outAt);
          const scores = Array.from(kernels.doubles.subarray(outAt / 8 - 1, outAt / 8 + count + 2));
          expect(scores, `${count} vectors of ${dimensions}`).toEqual([
            sentinel,
            ...vectors.map((vector) => dot(kernel === 'dots_f32' ? query : vector, vector)),
            sentinel,
            sentinel,
          ]);
        }
      }
    });
  }

  for (const kernel of ['dots_i8', 'hamming'] as const) {
    it(`${kernel} reads four vectors side by side, and a last group of one to three: each slot its own ${kernel === 'dots_i8' ? 'dot product' : 'distance'}, none outside the count`, () => {
      const kernels = wasmKernels();
      if (kernels === undefined) throw new Error('the WebAssembly kernels did not load in this runtime');
      const random = seededRandom(kernel === 'dots_i8' ? 24 : 25);
      const sentinel = -7;
      const exact = (query: Int8Array, vector: Int8Array) =>
        kernel === 'dots_i8' ? dot(query, vector) : hammingDistance(query, vector);
      // A tail alone (1, 15), whole blocks (16, 32) and both (33).
      for (const width of [1, 15, 16, 32, 33]) {
        for (let count = 1; count <= 9; count++) {
          const query = randomInt8(random, width);
          const vectors = Array.from({ length: count }, () => randomInt8(random, width));
          // Query, then the vectors back to back, then one guard slot, the results and two more.
          const queryAt = WORK_START;
          const vectorsAt = queryAt + 64;
          const outAt = (vectorsAt + count * width + 4 + 3) & ~3;
          kernels.reserve(outAt + (count + 2) * 4);
          kernels.signedBytes.set(query, queryAt);
          for (const [index, vector] of vectors.entries())
            kernels.signedBytes.set(vector, vectorsAt + index * width);
          kernels.integers.fill(sentinel, outAt / 4 - 1, outAt / 4 + count + 2);
          kernels.exports[kernel](queryAt, vectorsAt, count, width, outAt);
          const results = Array.from(kernels.integers.subarray(outAt / 4 - 1, outAt / 4 + count + 2));
          expect(results, `${count} vectors of ${width} bytes`).toEqual([
            sentinel,
            ...vectors.map((vector) => exact(query, vector)),
            sentinel,
            sentinel,
          ]);
        }
      }
    });
  }

  it('corpora of odd sizes, streamed and from the kept copy, rank and score as in JavaScript', () => {
    const random = seededRandom(23);
    // 129 x 1,024 streams as chunks of 64, 64 and 1 vectors.
    for (const [count, dimensions] of [
      [1, 8],
      [3, 16],
      [65, 8],
      [129, 1024],
    ] as const) {
      const corpus = slabs(random, count, dimensions, 50);
      const query = randomFloat32(random, dimensions);
      const expected = javascriptOnly(() => topK(query, corpus, count, { metric: 'dot' }));
      for (const entry of expected) expect(entry.score).toBe(dot(query, corpus[entry.index]!));
      // Streamed through the shared kernels, twice.
      for (let round = 0; round < 2; round++) {
        let fast: ScoredIndex[] = [];
        const options = { metric: 'dot', keepCopy: false } as const;
        expect(countKernelCalls('dots_f32', () => (fast = topK(query, corpus, count, options)))).toBe(
          Math.ceil((count * dimensions * 4) / (256 * 1024)),
        );
        expect(fast, `${count} x ${dimensions}, streamed`).toEqual(expected);
      }
      // The first query that may keep a copy streams; the second makes the copy and reads it (a corpus
      // of one chunk or less is never copied).
      for (let round = 0; round < 2; round++) {
        expect(
          topK(query, corpus, count, { metric: 'dot' }),
          `${count} x ${dimensions}, query ${round + 1}`,
        ).toEqual(expected);
      }
      if (count * dimensions * 4 > 256 * 1024)
        expect(keptCopyBytes(corpus)).toBeGreaterThan(count * dimensions * 4);
      else expect(keptCopyBytes(corpus)).toBe(0);
    }
  });

  it('a query of plain doubles (not float32 values) is multiplied as doubles on both paths', () => {
    const random = seededRandom(5);
    const corpus = slabs(random, 500, 16, 100);
    const query = Array.from({ length: 16 }, () => random() - 0.5);
    let fast: ScoredIndex[] = [];
    expect(
      countKernelCalls('dots_f32', () => (fast = topK(query, corpus, 40, { metric: 'dot' }))),
    ).toBeGreaterThan(0);
    expect(fast).toEqual(javascriptOnly(() => topK(query, corpus, 40, { metric: 'dot' })));
    for (const entry of fast) expect(entry.score).toBe(dot(query, corpus[entry.index]!));
  });

  it('a query of doubles whose length is out of reach (1e200, 1e-160) scores as cosineSimilarity does on both paths (the kernel path gave 0 for every vector, or cosines off in the sixth digit)', () => {
    const random = seededRandom(29);
    const corpus = slabs(random, 40, 16, 40);
    for (const scale of [1e200, 1e-160]) {
      const query = Array.from(randomFloat32(random, 16), (value) => value * scale);
      let fast: ScoredIndex[] = [];
      expect(countKernelCalls('dots_f32', () => (fast = topK(query, corpus, 5)))).toBeGreaterThan(0);
      expect(fast).toEqual(javascriptOnly(() => topK(query, corpus, 5)));
      for (const entry of fast) expect(entry.score).toBe(cosineSimilarity(query, corpus[entry.index]!));
      expect(fast[0]!.score).toBeGreaterThan(0.3);
    }
  });

  it('copies vectors that are not back to back (separate arrays, gaps, reversed order) correctly', () => {
    const random = seededRandom(9);
    const slab = randomFloat32(random, 40 * 32);
    const corpus: Float32Array[] = [];
    // Every other vector of a slab (gaps), then some in reverse order, then separate arrays.
    for (let index = 0; index < 40; index += 2) corpus.push(slab.subarray(index * 32, index * 32 + 32));
    for (let index = 39; index > 0; index -= 2) corpus.push(slab.subarray(index * 32, index * 32 + 32));
    for (let index = 0; index < 20; index++) corpus.push(randomFloat32(random, 32));
    const query = randomFloat32(random, 32);
    let fast: ScoredIndex[] = [];
    expect(
      countKernelCalls('dots_f32', () => (fast = topK(query, corpus, corpus.length, { metric: 'dot' }))),
    ).toBeGreaterThan(0);
    expect(fast).toEqual(javascriptOnly(() => topK(query, corpus, corpus.length, { metric: 'dot' })));
    for (const entry of fast) expect(entry.score).toBe(dot(query, corpus[entry.index]!));
  });

  it('cached lengths computed by the kernel equal the JavaScript ones, and a replaced slot is measured again', () => {
    const random = seededRandom(13);
    const corpus = slabs(random, 300, 24, 50);
    const query = randomFloat32(random, 24);
    // Streamed (no copy kept), so every query goes through the shared kernels.
    const options = { keepCopy: false };
    const squares = countKernelCalls('squares_f32', () => topK(query, corpus, 5, options));
    expect(squares).toBeGreaterThan(0);
    // Cached now: the second query measures nothing.
    expect(countKernelCalls('squares_f32', () => topK(query, corpus, 5, options))).toBe(0);
    corpus[123] = Float32Array.from(query, (value) => value * 7);
    const fast = topK(query, corpus, 5);
    expect(fast[0]).toEqual({ index: 123, score: cosineSimilarity(query, corpus[123]!) });
    expect(fast).toEqual(javascriptOnly(() => topK(query, [...corpus], 5)));
  });

  it('dimensions that are not a multiple of 8, and number[] corpora, take the JavaScript path', () => {
    const random = seededRandom(17);
    const odd = slabs(random, 50, 12, 50);
    const query = randomFloat32(random, 12);
    expect(countKernelCalls('dots_f32', () => topK(query, odd, 3))).toBe(0);
    const mixed: (Float32Array | number[])[] = slabs(random, 50, 16, 50);
    mixed[7] = Array.from(mixed[7]!);
    expect(countKernelCalls('dots_f32', () => topK(randomFloat32(random, 16), mixed, 3))).toBe(0);
  });
});

describe('topK: the copy kept for repeated queries (keepCopy)', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('streams the first query, copies the corpus on the second and reads the copy after, same answers each time', () => {
    const random = seededRandom(29);
    const corpus = slabs(random, 2000, 64, 300);
    const queries = [0, 1, 2].map(() => randomFloat32(random, 64));
    const expected = javascriptOnly(() => queries.map((query) => topK(query, [...corpus], 12)));
    // The first query streams through the shared kernels, in 256 KB chunks.
    expect(
      countKernelCalls('dots_f32', () => expect(topK(queries[0]!, corpus, 12)).toEqual(expected[0])),
    ).toBe(2);
    expect(keptCopyBytes(corpus)).toBe(0);
    // The second and third read the corpus's own copy: no call on the shared kernels.
    expect(
      countKernelCalls('dots_f32', () => expect(topK(queries[1]!, corpus, 12)).toEqual(expected[1])),
    ).toBe(0);
    expect(keptCopyBytes(corpus)).toBeGreaterThanOrEqual(2000 * 64 * 4);
    expect(
      countKernelCalls('dots_f32', () => expect(topK(queries[2]!, corpus, 12)).toEqual(expected[2])),
    ).toBe(0);
  });

  it('drops the copy when a slot is given another vector, and answers from the new one', () => {
    const random = seededRandom(31);
    const corpus = slabs(random, 5000, 16, 100);
    const query = randomFloat32(random, 16);
    topK(query, corpus, 3);
    topK(query, corpus, 3);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
    corpus[2500] = Float32Array.from(query);
    expect(topK(query, corpus, 1)).toEqual([{ index: 2500, score: cosineSimilarity(query, query) }]);
    expect(keptCopyBytes(corpus)).toBe(0);
  });

  it('never copies a corpus of a quarter megabyte or less: it streams in one piece', () => {
    // Each copy takes a WebAssembly memory of its own, of which a process may hold only some thousands.
    const random = seededRandom(53);
    const corpus = slabs(random, 1000, 64, 250); // 256,000 bytes
    const query = randomFloat32(random, 64);
    for (let round = 0; round < 3; round++)
      expect(countKernelCalls('dots_f32', () => topK(query, corpus, 5, { metric: 'dot' }))).toBe(1);
    expect(keptCopyBytes(corpus)).toBe(0);
  });

  it('keepCopy: false drops a copy kept before; vectors changed in place are then read as they are', () => {
    const random = seededRandom(59);
    const corpus = slabs(random, 2000, 64, 300);
    const query = randomFloat32(random, 64);
    topK(query, corpus, 3, { metric: 'dot' });
    topK(query, corpus, 3, { metric: 'dot' });
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
    // Changed in place, as normalizeInPlace or a user's own code would: the copy still holds the old values.
    corpus[1234]!.set(Float32Array.from(query, (value) => value * 100));
    expect(topK(query, corpus, 1, { metric: 'dot' })[0]!.index).not.toBe(1234);
    const live = javascriptOnly(() => topK(query, corpus, 3, { metric: 'dot' }));
    expect(live[0]!.index).toBe(1234);
    expect(topK(query, corpus, 3, { metric: 'dot', keepCopy: false })).toEqual(live);
    expect(keptCopyBytes(corpus)).toBe(0);
    // Later queries stream, then copy the values as they are now.
    expect(topK(query, corpus, 3, { metric: 'dot' })).toEqual(live);
    expect(topK(query, corpus, 3, { metric: 'dot' })).toEqual(live);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
  });

  it('a copy that cannot be made (no memory) is not tried again for that corpus: it streams, with the same answers', () => {
    const random = seededRandom(61);
    const corpus = slabs(random, 2000, 64, 300);
    const query = randomFloat32(random, 64);
    const expected = javascriptOnly(() => topK(query, corpus, 5));
    expect(topK(query, corpus, 5)).toEqual(expected);
    // The copy's own instance cannot get its memory (the shared kernels exist already).
    const instance = instancesShortOfMemory();
    try {
      for (let round = 0; round < 3; round++)
        expect(countKernelCalls('dots_f32', () => expect(topK(query, corpus, 5)).toEqual(expected))).toBe(2);
      // Tried once, at the second query; not at the third and fourth (each try costs a failed allocation).
      expect(instance).toHaveBeenCalledTimes(1);
    } finally {
      instance.mockRestore();
    }
    expect(keptCopyBytes(corpus)).toBe(0);
  });

  it('refuses a vector whose buffer was detached after a copy was kept, as it refuses one in a new array', () => {
    const random = seededRandom(67);
    const corpus = Array.from({ length: 2000 }, () => randomFloat32(random, 64));
    const query = randomFloat32(random, 64);
    topK(query, corpus, 3);
    topK(query, corpus, 3);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
    // Transferred away: the view now has no elements.
    structuredClone(corpus[1]!.buffer, { transfer: [corpus[1]!.buffer as ArrayBuffer] });
    expect(corpus[1]!.length).toBe(0);
    expect(refusedWith(() => topK(query, corpus, 3)).message).toBe(
      'Vector 1 has 0 dimensions; the query has 64.',
    );
    expect(refusedWith(() => topK(query, [...corpus], 3)).message).toBe(
      'Vector 1 has 0 dimensions; the query has 64.',
    );
  });

  it('keepCopy: false streams every query and keeps nothing', () => {
    const random = seededRandom(37);
    const corpus = slabs(random, 2000, 64, 300);
    const query = randomFloat32(random, 64);
    for (let round = 0; round < 3; round++)
      expect(countKernelCalls('dots_f32', () => topK(query, corpus, 5, { keepCopy: false }))).toBe(2);
    expect(keptCopyBytes(corpus)).toBe(0);
  });
});

describe('topKInt8 and topKHamming: the copy kept for repeated queries (keepCopy)', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('topKInt8 streams the first query, copies the corpus on the second and reads the copy after, with the same exact scores each time', () => {
    const random = seededRandom(41);
    // 1,031 dimensions: whole 16-byte blocks and a tail; 700 vectors stream as three 256 KB chunks.
    const corpus = Array.from({ length: 700 }, () => randomInt8(random, 1031));
    const queries = [0, 1, 2].map(() => randomInt8(random, 1031));
    const expected = javascriptOnly(() => queries.map((query) => topKInt8(query, [...corpus], 25)));
    const search = (round: number, options?: { keepCopy: boolean }) =>
      countKernelCalls('dots_i8', () =>
        expect(topKInt8(queries[round]!, corpus, 25, options)).toEqual(expected[round]),
      );
    expect(search(0)).toBe(3);
    expect(keptCopyBytes(corpus)).toBe(0);
    // The second and third read the corpus's own copy: no call on the shared kernels.
    expect(search(1)).toBe(0);
    expect(keptCopyBytes(corpus)).toBeGreaterThanOrEqual(700 * 1031);
    expect(search(2)).toBe(0);
    // keepCopy: false streams, copy or not.
    expect(search(2, { keepCopy: false })).toBe(3);
  });

  it('topKHamming does the same over binary and ubinary vectors mixed', () => {
    const random = seededRandom(43);
    // 131 bytes: whole blocks and a tail; 3,000 vectors stream as two chunks.
    const corpus = Array.from({ length: 3000 }, (_, index) => {
      const bits = Uint8Array.from({ length: 131 }, () => Math.floor(random() * 256));
      return index % 3 === 0 ? new Int8Array(bits.buffer) : bits;
    });
    const queries = [0, 1, 2].map(() => Uint8Array.from({ length: 131 }, () => Math.floor(random() * 256)));
    const expected = javascriptOnly(() => queries.map((query) => topKHamming(query, [...corpus], 25)));
    const search = (round: number) =>
      countKernelCalls('hamming', () =>
        expect(topKHamming(queries[round]!, corpus, 25)).toEqual(expected[round]),
      );
    expect(search(0)).toBe(2);
    expect(keptCopyBytes(corpus)).toBe(0);
    expect(search(1)).toBe(0);
    expect(keptCopyBytes(corpus)).toBeGreaterThanOrEqual(3000 * 131);
    expect(search(2)).toBe(0);
  });

  it('keepCopy: false keeps nothing; a slot given another vector drops the copy; an unknown option is refused', () => {
    const random = seededRandom(47);
    const corpus = Array.from({ length: 5000 }, () => randomInt8(random, 64));
    const query = randomInt8(random, 64);
    for (let round = 0; round < 3; round++) topKInt8(query, corpus, 3, { keepCopy: false });
    expect(keptCopyBytes(corpus)).toBe(0);
    topKInt8(query, corpus, 3);
    topKInt8(query, corpus, 3);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
    corpus[2500] = Int8Array.from(query);
    expect(topKInt8(query, corpus, 1)[0]!.index).toBe(2500);
    expect(keptCopyBytes(corpus)).toBe(0);
    // k = 0 still checks the query's type.
    expect(refusedWith(() => topKInt8(new Float32Array(64) as never, corpus, 0)).message).toBe(
      'topKInt8 takes an Int8Array query and Int8Array vectors.',
    );
    expect(refusedWith(() => topKHamming(new Float32Array(8) as never, [Uint8Array.of(1)], 0)).message).toBe(
      'topKHamming takes an Int8Array or Uint8Array query and vectors.',
    );
    expect(refusedWith(() => topKInt8(query, corpus, 1, { keepcopy: false } as never)).message).toBe(
      'topKInt8 has no option keepcopy; did you mean keepCopy?',
    );
    expect(
      refusedWith(() => topKHamming(Uint8Array.of(1), [Uint8Array.of(1)], 1, { metric: 'dot' } as never))
        .message,
    ).toBe('topKHamming has no option metric. It takes keepCopy.');
  });
});

describe('search without WebAssembly (a runtime that lacks it, or a policy that forbids compiling)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('falls back to JavaScript and gives the same answers', async () => {
    const random = seededRandom(23);
    const corpus = slabs(random, 400, 64, 100);
    const query = randomFloat32(random, 64);
    const int8 = Array.from({ length: 200 }, () => randomInt8(random, 40));
    const int8Query = randomInt8(random, 40);
    const expected = {
      cosine: topK(query, corpus, 10),
      int8: topKInt8(int8Query, int8, 10),
      hamming: topKHamming(int8Query, int8, 10),
    };
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    const fresh = await import('../src/search/top-k.js');
    const kernels = await import('../src/wasm/kernels.js');
    expect(kernels.wasmKernels()).toBeUndefined();
    expect(fresh.topK(query, corpus, 10)).toEqual(expected.cosine);
    expect(fresh.topKInt8(int8Query, int8, 10)).toEqual(expected.int8);
    expect(fresh.topKHamming(int8Query, int8, 10)).toEqual(expected.hamming);
  });
});

describe('topKInt8', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  function naive(query: Int8Array, vectors: readonly Int8Array[], k: number) {
    return vectors
      .map((vector, index) => {
        let score = 0;
        for (let position = 0; position < query.length; position++)
          score += query[position]! * vector[position]!;
        return { index, score };
      })
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, k);
  }

  // 1 and 15 leave only a tail; 1,024 is whole 16-byte blocks; 1,031 both.
  for (const dimensions of [1, 15, 1024, 1031]) {
    it(`ranks by the exact integer dot product at ${dimensions} dimensions, on both paths`, () => {
      const random = seededRandom(dimensions + 1);
      const vectors = Array.from({ length: 600 }, () => randomInt8(random, dimensions));
      const query = randomInt8(random, dimensions);
      expectBothPaths('dots_i8', () => topKInt8(query, vectors, 30), naive(query, vectors, 30));
    });
  }

  it('reaches the extremes exactly (every value -128 against -128)', () => {
    const query = new Int8Array(1024).fill(-128);
    const vectors = [new Int8Array(1024).fill(127), new Int8Array(1024).fill(-128), new Int8Array(1024)];
    expect(topKInt8(query, vectors, 3)).toEqual([
      { index: 1, score: 1024 * 128 * 128 },
      { index: 2, score: 0 },
      { index: 0, score: -1024 * 127 * 128 },
    ]);
  });

  it('keeps the lower index first on ties and handles k larger than the corpus', () => {
    const vectors = [Int8Array.of(1, 2), Int8Array.of(2, 1), Int8Array.of(1, 2)];
    expect(topKInt8(Int8Array.of(1, 1), vectors, 10).map((entry) => entry.index)).toEqual([0, 1, 2]);
    expect(topKInt8(Int8Array.of(1, 1), vectors, 0)).toEqual([]);
  });

  it('rejects a length mismatch, other array types and a bad k with InvalidArgumentError', () => {
    expect(() => topKInt8(Int8Array.of(1, 2), [Int8Array.of(1)], 1)).toThrow(/Vector 0 has 1 dimensions/);
    expect(() => topKInt8(Int8Array.of(1), [Uint8Array.of(1) as unknown as Int8Array], 1)).toThrow(
      InvalidArgumentError,
    );
    expect(() => topKInt8(Int8Array.of(1), [Int8Array.of(1)], -1)).toThrow(InvalidArgumentError);
  });
});

describe('topKHamming', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  function naive(query: Int8Array | Uint8Array, vectors: readonly (Int8Array | Uint8Array)[], k: number) {
    return vectors
      .map((vector, index) => ({ index, distance: hammingDistance(query, vector) }))
      .sort((a, b) => a.distance - b.distance || a.index - b.index)
      .slice(0, k);
  }

  function randomBits(random: () => number, bytes: number, signed: boolean): Int8Array | Uint8Array {
    const out = Uint8Array.from({ length: bytes }, () => Math.floor(random() * 256));
    return signed ? new Int8Array(out.buffer) : out;
  }

  for (const bytes of [1, 13, 128, 131]) {
    it(`ranks by the exact Hamming distance over ${bytes} bytes, binary and ubinary mixed, on both paths`, () => {
      const random = seededRandom(bytes + 7);
      const vectors = Array.from({ length: 900 }, (_, index) => randomBits(random, bytes, index % 3 === 0));
      const query = randomBits(random, bytes, true);
      expectBothPaths('hamming', () => topKHamming(query, vectors, 40), naive(query, vectors, 40));
    });
  }

  it('puts an identical vector first at distance 0, and the complement last at every bit', () => {
    const query = Uint8Array.of(0b10110000, 0xff);
    const vectors = [Uint8Array.of(0b01001111, 0x00), Int8Array.of(-80, -1), Uint8Array.of(0b10110001, 0xff)];
    expect(topKHamming(query, vectors, 3)).toEqual([
      { index: 1, distance: 0 },
      { index: 2, distance: 1 },
      { index: 0, distance: 16 },
    ]);
  });

  it('rejects a length mismatch, other array types and a bad k with InvalidArgumentError', () => {
    expect(() => topKHamming(Uint8Array.of(1, 2), [Uint8Array.of(1)], 1)).toThrow(/Vector 0 has 1 bytes/);
    expect(() => topKHamming(Uint8Array.of(1), [[1] as unknown as Uint8Array], 1)).toThrow(
      InvalidArgumentError,
    );
    expect(() => topKHamming(Uint8Array.of(1), [Uint8Array.of(1)], 2.5)).toThrow(InvalidArgumentError);
  });
});

/** The InvalidArgumentError `run` throws (failing the test when it throws anything else, or nothing). */
function refusedWith(run: () => unknown): InvalidArgumentError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(InvalidArgumentError.isInstance(caught), String(caught)).toBe(true);
  return caught as InvalidArgumentError;
}

describe('a corpus searched before is checked again for a query of another kind', () => {
  const unit = (position: number) => {
    const vector = new Float32Array(8);
    vector[position] = 1;
    return vector;
  };

  it('a longer query is refused, and the kept copy stays right (it was written over, and every later answer wrong)', () => {
    const corpus = [0, 1, 2, 3].map(unit);
    topK(corpus[0]!, corpus, 2, { metric: 'dot' });
    topK(corpus[0]!, corpus, 2, { metric: 'dot' });
    expect(refusedWith(() => topK(new Float32Array(16).fill(5), corpus, 2, { metric: 'dot' })).message).toBe(
      'Vector 0 has 8 dimensions; the query has 16.',
    );
    expect(topK(corpus[0]!, corpus, 2, { metric: 'dot' })).toEqual([
      { index: 0, score: 1 },
      { index: 1, score: 0 },
    ]);
  });

  it('a number array that grew after a search is refused, as in a new array', () => {
    const corpus = [
      [1, 0],
      [0, 1],
    ];
    expect(topK([1, 0], corpus, 1)).toEqual([{ index: 0, score: 1 }]);
    corpus[1]!.push(5);
    expect(refusedWith(() => topK([1, 0], corpus, 1)).message).toBe(
      'Vector 1 has 3 dimensions; the query has 2.',
    );
  });

  it('a shorter query is refused (it was scored against the first values only)', () => {
    const corpus = [0, 1, 2, 3].map(unit);
    topK(corpus[0]!, corpus, 2);
    expect(refusedWith(() => topK([1, 0, 0, 0], corpus, 2)).message).toBe(
      'Vector 0 has 8 dimensions; the query has 4.',
    );
  });

  it('a corpus topKHamming took is still refused by topKInt8 (uint8 200 was read as -56)', () => {
    const corpus = [Uint8Array.of(200, 0), Uint8Array.of(1, 0)];
    topKHamming(Int8Array.of(1, 0), corpus, 2);
    expect(refusedWith(() => topKInt8(Int8Array.of(1, 0), corpus as never, 2)).message).toBe(
      'topKInt8 takes an Int8Array query and Int8Array vectors.',
    );
  });
});

describe('topK scores of parallel vectors', () => {
  it('are the scores cosineSimilarity gives, never above 1, and tie in index order on both paths (some were 1.0000000000000002)', () => {
    const random = seededRandom(41);
    let aboveOne = 0;
    for (let round = 0; round < 200; round++) {
      const query = randomFloat32(random, 16);
      // Power-of-two multiples of the query: exactly parallel, and every quotient is the same double.
      const corpus = [4, 1, 0.5, 8, 2, 0.25].map((scale) => query.map((value) => value * scale));
      const expected = corpus.map((vector, index) => ({ index, score: cosineSimilarity(query, vector) }));
      const quotient = dot(query, query) / (Math.hypot(...query) * Math.hypot(...query));
      if (quotient > 1) aboveOne++;
      for (const answer of [topK(query, corpus, 6), topK(Array.from(query), corpus, 6)]) {
        expect(answer).toEqual(expected);
        for (const { score } of answer) expect(score).toBeLessThanOrEqual(1);
      }
    }
    // The rounds include quotients that rounding carries past 1, which the clamp is for.
    expect(aboveOne).toBeGreaterThan(0);
  });
});

describe('search arguments', () => {
  it('a corpus vector holding NaN is refused, whatever its place (it took the first place)', () => {
    const hit = new Float32Array([1, 0]);
    const other = new Float32Array([0, 1]);
    const broken = new Float32Array([Number.NaN, 0]);
    expect(refusedWith(() => topK([1, 0], [broken, other, hit], 2)).message).toBe(
      'Vector 0 holds NaN at position 0; a corpus holds finite numbers.',
    );
    expect(refusedWith(() => topK([1, 0], [other, broken, hit], 3)).message).toBe(
      'Vector 1 holds NaN at position 0; a corpus holds finite numbers.',
    );
  });

  it.each([
    [
      'a NaN in the query',
      () => topK([Number.NaN, 0], [new Float32Array(2)], 1),
      'The query holds NaN at position 0; a query holds finite numbers.',
    ],
    [
      'an infinity in the query',
      () => topK(Float32Array.of(0, Number.POSITIVE_INFINITY), [new Float32Array(2)], 1),
      'The query holds Infinity at position 1; a query holds finite numbers.',
    ],
    [
      'a string query',
      () => topK('ab' as never, [new Float32Array(2)], 1),
      'query must be a vector (a typed array or an array of numbers).',
    ],
    [
      'no query, even with k 0',
      () => topK(undefined as never, [new Float32Array(2)], 0),
      'query must be a vector (a typed array or an array of numbers).',
    ],
    ['no corpus', () => topK([1, 0], undefined as never, 1), 'vectors must be an array of vectors.'],
    [
      'an unknown metric (it ran as dot)',
      () => topK([1, 0], [new Float32Array(2)], 1, { metric: 'euclid' as never }),
      "metric must be 'cosine' or 'dot', got \"euclid\".",
    ],
    [
      'no int8 corpus',
      () => topKInt8(Int8Array.of(1), undefined as never, 1),
      'vectors must be an array of vectors.',
    ],
    [
      'k as a string',
      () => topK([1, 0], [new Float32Array(2)], '2' as never),
      'k must be a whole number ≥ 0, got "2".',
    ],
    [
      'a null in a number array of the corpus (JSON writes NaN as null; it was read as 0)',
      () => topK([1, 0], [[0, 1], [null, 1] as never], 2),
      'Vector 1 holds null at position 0; a corpus holds finite numbers.',
    ],
    [
      'a string in a number array of the corpus (it was read as the number it spells)',
      () => topK([1, 0], [[0, 1], [1, '0.5'] as never], 2),
      'Vector 1 holds "0.5" at position 1; a corpus holds finite numbers.',
    ],
    [
      'a boolean in a number array of the corpus',
      () => topK([1, 0], [[true, 0] as never], 1),
      'Vector 0 holds true at position 0; a corpus holds finite numbers.',
    ],
    [
      'a corpus vector that is a string of digits (scored as the numbers it spells)',
      () => topK([1, 0], [[0, 1], '10' as never], 2),
      'Vector 1 is "10", not a vector (a typed array or an array of numbers).',
    ],
    [
      'a corpus vector of bigints (a TypeError from inside the loop)',
      () => topK([1, 0], [new BigInt64Array(2) as never], 1),
      'Vector 0 holds 0n at position 0; a corpus holds finite numbers.',
    ],
    [
      'a DataView query (it was said to have undefined dimensions)',
      () => topK(new DataView(new ArrayBuffer(8)) as never, [[1, 0]], 1),
      'query must be a vector (a typed array or an array of numbers).',
    ],
    [
      'no Hamming query',
      () => topKHamming(undefined as never, [Uint8Array.of(1)], 1),
      'query must be a vector (a typed array or an array of numbers).',
    ],
  ])('%s is an InvalidArgumentError', (_what, run, message) => {
    expect(refusedWith(run).message).toBe(message);
  });
});
