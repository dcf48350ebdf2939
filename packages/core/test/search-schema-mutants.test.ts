/**
 * Edges of exact search, of the WebAssembly kernels under it, of the model registry and of the schema
 * kit that the rest of the suite left unpinned. Search: empty vectors, NaN scores among themselves, k far
 * above the corpus, vectors longer than a streamed chunk, and the exact messages of refused arguments, on
 * the WebAssembly path and the JavaScript one alike; the chunk and copy sizes taken exactly at their edge
 * (a quarter megabyte, 1 GiB), the int8 dimension limit, when a copy is made again after `keepCopy: false`,
 * and which lengths are measured again. Kernels: every table they are given, growth by whole pages, the
 * 32 MB memory kept, the second they stand down after an instance went short of memory, and that any other
 * failure turns them off for good. Registry: exact messages, ids that are not strings. Schema: required
 * fields, absent optional ones, records, nested paths, and the message of each issue.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { schema } from '../src/provider.js';
import { createRegistry } from '../src/registry.js';
import { keptCopyBytes, topK, topKHamming, topKInt8 } from '../src/search/top-k.js';
import type { EmbeddingProvider } from '../src/types.js';
import { cosineOfParts, cosineSimilarity, dot, norm } from '../src/vectors.js';
import {
  KERNEL_LAYOUT,
  newWasmKernels,
  releaseLargeMemory,
  setWebAssemblyEnabled,
  wasmKernels,
} from '../src/wasm/kernels.js';
import {
  instancesShortOfMemory,
  javascriptOnly,
  ScriptedModel,
  seededRandom,
  thrownInvalidArgument,
} from './helpers.js';

type KernelName = 'dots_f32' | 'squares_f32' | 'dots_i8' | 'hamming';

/** The shared kernels (failing the test where they did not load). */
function sharedKernels() {
  const kernels = wasmKernels();
  if (kernels === undefined) throw new Error('the WebAssembly kernels did not load in this runtime');
  return kernels;
}

/** Runs `run` with the kernel `name` of the shared instance replaced by `replacement` (given the original). */
function withKernel<T>(
  name: KernelName,
  replacement: (original: (...args: number[]) => void) => (...args: number[]) => void,
  run: () => T,
): T {
  const kernels = sharedKernels();
  const original = kernels.exports;
  const wrapped = { ...original } as Record<string, unknown>;
  wrapped[name] = replacement(original[name] as (...args: number[]) => void);
  kernels.exports = wrapped as unknown as typeof original;
  try {
    return run();
  } finally {
    kernels.exports = original;
  }
}

/** Calls of the shared kernel `name` while `run` runs. */
function kernelCalls(name: KernelName, run: () => unknown): number {
  let calls = 0;
  withKernel(
    name,
    (original) =>
      (...args) => {
        calls++;
        original(...args);
      },
    run,
  );
  return calls;
}

function randomFloat32(random: () => number, length: number): Float32Array {
  return Float32Array.from({ length }, () => random() - 0.5);
}

/** `count` vectors of `dimensions` floats, views of one slab. */
function slab(random: () => number, count: number, dimensions: number): Float32Array[] {
  const values = randomFloat32(random, count * dimensions);
  return Array.from({ length: count }, (_, index) =>
    values.subarray(index * dimensions, (index + 1) * dimensions),
  );
}

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`search edges (${backend})`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    it('vectors of no elements score 0 (cosine and dot) and 0 bits apart, in index order', () => {
      const empty = [new Float32Array(0), new Float32Array(0), new Float32Array(0)];
      const zeros = [
        { index: 0, score: 0 },
        { index: 1, score: 0 },
        { index: 2, score: 0 },
      ];
      expect(topK(new Float32Array(0), empty, 3)).toEqual(zeros);
      expect(topK([], empty, 3, { metric: 'dot' })).toEqual(zeros);
      expect(topKInt8(new Int8Array(0), [new Int8Array(0), new Int8Array(0), new Int8Array(0)], 3)).toEqual(
        zeros,
      );
      expect(topKHamming(new Uint8Array(0), [new Uint8Array(0), new Int8Array(0)], 5)).toEqual([
        { index: 0, distance: 0 },
        { index: 1, distance: 0 },
      ]);
    });

    it('NaN scores rank after every number and among themselves by index, at every k', () => {
      // Finite values whose products overflow to Infinity and -Infinity, which sum to NaN.
      const nan = () => Float32Array.of(3e38, -3e38, 0, 0, 0, 0, 0, 0);
      const unit = (x: number) => Float32Array.of(x, 0, 0, 0, 0, 0, 0, 0);
      // NaN first, between and last; the numbers 2, 1 and -1 times 1e300 (dot with the query 1e300, 1e300, 0, ...).
      const corpus = [nan(), unit(2), nan(), unit(-1), nan(), unit(1), nan()];
      const query = [1e300, 1e300, 0, 0, 0, 0, 0, 0];
      const all = topK(query, corpus, 7, { metric: 'dot' });
      expect(all.map((entry) => entry.index)).toEqual([1, 5, 3, 0, 2, 4, 6]);
      expect(all.slice(0, 3).map((entry) => entry.score)).toEqual([2 * 1e300, 1e300, -1e300]);
      for (const entry of all.slice(3)) expect(entry.score).toBeNaN();
      for (let k = 1; k <= 7; k++) {
        expect(
          topK(query, corpus, k, { metric: 'dot' }).map((entry) => entry.index),
          `k=${k}`,
        ).toEqual([1, 5, 3, 0, 2, 4, 6].slice(0, k));
      }
      // Only NaN: index order.
      expect(topK(query, [nan(), nan(), nan()], 2, { metric: 'dot' }).map((entry) => entry.index)).toEqual([
        0, 1,
      ]);
    });

    it('keeps the best 7 of 11 whatever the order they come in (a heap filled out of order)', () => {
      const scores = [280, 413, 701, 172, 820, 435, 264, 941, 509, 540, 643];
      const corpus = scores.map((score) => Float32Array.of(score, 0, 0, 0, 0, 0, 0, 0));
      expect(topK([1, 0, 0, 0, 0, 0, 0, 0], corpus, 7, { metric: 'dot' })).toEqual(
        [7, 4, 2, 10, 9, 8, 5].map((index) => ({ index, score: scores[index] })),
      );
      const bytes = scores.map((score) => Int8Array.of(score >> 3));
      expect(topKInt8(Int8Array.of(1), bytes, 7).map((entry) => entry.index)).toEqual([7, 4, 2, 10, 9, 8, 5]);
    });

    it('a corpus that shrank after a search answers from the vectors it holds now', () => {
      const of = (x: number) => Float32Array.of(x, 1, 0, 0, 0, 0, 0, 0);
      const corpus = [of(1), of(2), of(3)];
      const query = [1, 0, 0, 0, 0, 0, 0, 0];
      expect(topK(query, corpus, 3, { metric: 'dot' }).map((entry) => entry.index)).toEqual([2, 1, 0]);
      corpus.pop();
      expect(topK(query, corpus, 3, { metric: 'dot' })).toEqual([
        { index: 1, score: 2 },
        { index: 0, score: 1 },
      ]);
    });

    it('views of one buffer in reverse order are each read from their own offset', () => {
      const values = Float32Array.from({ length: 24 }, (_, index) => (index % 8 === 0 ? index / 8 + 1 : 0));
      const views = [0, 1, 2].map((index) => values.subarray(index * 8, index * 8 + 8));
      expect(topK([1, 0, 0, 0, 0, 0, 0, 0], [views[2]!, views[1]!, views[0]!], 3, { metric: 'dot' })).toEqual(
        [
          { index: 0, score: 3 },
          { index: 1, score: 2 },
          { index: 2, score: 1 },
        ],
      );
    });

    it('the same vector in several slots, back to back, is read once per slot', () => {
      const a = Float32Array.of(1, 2, 0, 0, 0, 0, 0, 0);
      const b = Float32Array.of(3, 0, 0, 0, 0, 0, 0, 0);
      expect(topK([1, 0, 0, 0, 0, 0, 0, 0], [a, a, b, a], 4, { metric: 'dot' })).toEqual([
        { index: 2, score: 3 },
        { index: 0, score: 1 },
        { index: 1, score: 1 },
        { index: 3, score: 1 },
      ]);
      const bits = Uint8Array.of(0b1111);
      expect(topKHamming(Uint8Array.of(0), [bits, bits, Uint8Array.of(1)], 3)).toEqual([
        { index: 2, distance: 1 },
        { index: 0, distance: 4 },
        { index: 1, distance: 4 },
      ]);
    });

    it('k far above the corpus size (Number.MAX_SAFE_INTEGER) answers every vector, best first', () => {
      const vectors = [Float32Array.of(0, 1), Float32Array.of(1, 0), Float32Array.of(1, 1)];
      expect(topK([1, 0], vectors, Number.MAX_SAFE_INTEGER, { metric: 'dot' })).toEqual([
        { index: 1, score: 1 },
        { index: 2, score: 1 },
        { index: 0, score: 0 },
      ]);
      expect(topKInt8(Int8Array.of(1), [Int8Array.of(-1), Int8Array.of(3)], Number.MAX_SAFE_INTEGER)).toEqual(
        [
          { index: 1, score: 3 },
          { index: 0, score: -1 },
        ],
      );
      expect(topKHamming(Uint8Array.of(1), [Uint8Array.of(3)], Number.MAX_SAFE_INTEGER)).toEqual([
        { index: 0, distance: 1 },
      ]);
      expect(topK([1, 0], [], Number.MAX_SAFE_INTEGER)).toEqual([]);
    });

    it('k = 0 answers nothing, but reads the vectors as any k does: a ragged corpus is refused', () => {
      // Deliberate: checking a corpus with k = 0 once answered [] for any corpus (search-corpus-contract
      // tests every refusal at k = 0 and k = 1).
      expect(topK([1, 0], [Float32Array.of(1, 0)], 0)).toEqual([]);
      expect(() => topK([1, 0], [Float32Array.of(1, 2, 3)], 0)).toThrow(
        'Vector 0 has 3 dimensions; the query has 2.',
      );
      expect(() => topKInt8(Int8Array.of(1), [Int8Array.of(1, 2)], 0)).toThrow(
        'Vector 0 has 2 dimensions; the query has 1.',
      );
      expect(() => topKHamming(Uint8Array.of(1), [Uint8Array.of(1, 2)], 0)).toThrow(
        'Vector 0 has 2 bytes; the query has 1.',
      );
    });

    it('bit vectors longer than a streamed chunk (300,000 bytes) are compared whole', () => {
      const random = seededRandom(71);
      const bytes = 300_000;
      const query = Uint8Array.from({ length: bytes }, () => Math.floor(random() * 256));
      const near = Uint8Array.from(query);
      near[bytes - 1]! ^= 0b101;
      const far = Uint8Array.from(query, (value) => value ^ 0xff);
      const signed = new Int8Array(Uint8Array.from(query).buffer);
      signed[0]! ^= 1;
      expect(topKHamming(query, [far, near, signed], 3)).toEqual([
        { index: 2, distance: 1 },
        { index: 1, distance: 2 },
        { index: 0, distance: bytes * 8 },
      ]);
    });

    it.each([
      [
        'a query holding a numeric string',
        () => topK(['1', 0] as never, [new Float32Array(2)], 1),
        'The query holds "1" at position 0; a query holds finite numbers.',
      ],
      [
        'a query holding undefined after a number',
        () => topK([1, undefined] as never, [new Float32Array(2)], 1),
        'The query holds undefined at position 1; a query holds finite numbers.',
      ],
      [
        'a negative infinity last in the query',
        () => topK([0, 0, Number.NEGATIVE_INFINITY], [new Float32Array(3)], 1),
        'The query holds -Infinity at position 2; a query holds finite numbers.',
      ],
      [
        'k of NaN',
        () => topK([1, 0], [new Float32Array(2)], Number.NaN),
        'k must be a whole number ≥ 0, got NaN.',
      ],
      [
        'k of -1',
        () => topKInt8(Int8Array.of(1), [Int8Array.of(1)], -1),
        'k must be a whole number ≥ 0, got -1.',
      ],
      [
        'k of Infinity',
        () => topKHamming(Uint8Array.of(1), [Uint8Array.of(1)], Number.POSITIVE_INFINITY),
        'k must be a whole number ≥ 0, got Infinity.',
      ],
      [
        'an empty metric',
        () => topK([1, 0], [new Float32Array(2)], 1, { metric: '' as never }),
        "metric must be 'cosine' or 'dot', got an empty string.",
      ],
      [
        'a corpus that is a typed array, not an array of vectors',
        () => topKHamming(Uint8Array.of(1), Uint8Array.of(1) as never, 1),
        'vectors must be an array of vectors.',
      ],
      [
        'an int8 query that is a plain array (of NaN)',
        () => topKInt8([Number.NaN] as never, [Int8Array.of(1)], 1),
        'topKInt8 takes an Int8Array query and Int8Array vectors.',
      ],
      [
        'a Hamming query that is a plain array (of a string)',
        () => topKHamming(['1'] as never, [Uint8Array.of(1)], 1),
        'topKHamming takes an Int8Array or Uint8Array query and vectors.',
      ],
      [
        'a Float32Array among Hamming vectors',
        () => topKHamming(Uint8Array.of(1), [Uint8Array.of(1), new Float32Array(1) as never], 1),
        'topKHamming takes an Int8Array or Uint8Array query and vectors.',
      ],
      [
        'a missing vector',
        () => topK([1, 0], [Float32Array.of(1, 0), undefined as never], 1),
        'Vector 1 is undefined, not a vector (a typed array or an array of numbers).',
      ],
    ])('%s is refused with its own message', (_what, run, message) => {
      const error = thrownInvalidArgument(run);
      expect(error.code).toBe('invalid_argument');
      expect(error.message).toBe(message);
    });
  });
}

describe('search on the WebAssembly path: sizes at their edge', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('streams a quarter megabyte (1,024 vectors of 64 floats) in one kernel call, and 1,025 vectors in two', () => {
    const random = seededRandom(79);
    const corpus = slab(random, 1025, 64);
    const query = randomFloat32(random, 64);
    const options = { metric: 'dot', keepCopy: false } as const;
    expect(kernelCalls('dots_f32', () => topK(query, corpus.slice(0, 1024), 3, options))).toBe(1);
    expect(kernelCalls('dots_f32', () => topK(query, corpus, 3, options))).toBe(2);
    expect(
      kernelCalls('dots_i8', () => topKInt8(new Int8Array(256), Array(1024).fill(new Int8Array(256)), 1)),
    ).toBe(1);
    expect(
      kernelCalls('hamming', () =>
        topKHamming(new Uint8Array(256), Array(1025).fill(new Uint8Array(256)), 1),
      ),
    ).toBe(2);
  });

  it('fits as many whole vectors as a quarter megabyte holds in a chunk: 2,730 of 96 bytes, so 2,731 take two calls', () => {
    const random = seededRandom(101);
    const corpus = slab(random, 2731, 24);
    const query = randomFloat32(random, 24);
    const options = { keepCopy: false };
    expect(kernelCalls('dots_f32', () => topK(query, corpus.slice(0, 2730), 1, options))).toBe(1);
    expect(kernelCalls('dots_f32', () => topK(query, corpus, 1, options))).toBe(2);
    // Every vector once, cosine, over both chunks.
    const all = topK(query, corpus, 2731, options);
    expect(new Set(all.map((entry) => entry.index)).size).toBe(2731);
    expect(all[0]!.score).toBe(Math.max(...corpus.map((vector) => cosineSimilarity(query, vector))));
  });

  it('a fresh instance grows to hold a 4-byte result for every vector of a chunk (int8 and bits)', () => {
    const random = seededRandom(109);
    const values = Int8Array.from({ length: 16_384 * 16 }, () => Math.floor(random() * 256) - 128);
    const corpus = Array.from({ length: 16_384 }, (_, index) => values.subarray(index * 16, index * 16 + 16));
    const query = corpus[100]!;
    const searches: (() => unknown)[] = [
      () => topKInt8(query, corpus, 3),
      () => topKHamming(query, corpus, 3),
    ];
    for (const search of searches) {
      // Drops the shared instance: the next search starts from the smallest memory.
      sharedKernels().reserve(33 * 1024 * 1024);
      releaseLargeMemory();
      const fast = search();
      expect(fast).toEqual(javascriptOnly(search));
    }
  });

  it('streams vectors longer than a quarter megabyte one per kernel call', () => {
    const vectors = [0, 1, 2].map((value) => new Uint8Array(300_000).fill(value));
    let answer: ReturnType<typeof topKHamming> = [];
    expect(kernelCalls('hamming', () => (answer = topKHamming(new Uint8Array(300_000), vectors, 3)))).toBe(3);
    expect(answer).toEqual([
      { index: 0, distance: 0 },
      { index: 1, distance: 300_000 },
      { index: 2, distance: 300_000 },
    ]);
  });

  it('keeps the scores apart from the vectors when a chunk ends one byte past a 16-byte boundary (7 x 37,447 bytes)', () => {
    // Vector 0 equals the query (distance 0, written first); the last byte of vector 6 differs in every bit.
    const bytes = 37_447;
    const query = new Uint8Array(bytes);
    const corpus = Array.from({ length: 7 }, (_, index) => new Uint8Array(bytes).fill(index === 0 ? 0 : 1));
    corpus[6]![bytes - 1] = 0xff;
    let answer: ReturnType<typeof topKHamming> = [];
    expect(kernelCalls('hamming', () => (answer = topKHamming(query, corpus, 7)))).toBe(1);
    expect(answer).toEqual([
      { index: 0, distance: 0 },
      ...[1, 2, 3, 4, 5].map((index) => ({ index, distance: bytes })),
      { index: 6, distance: bytes - 1 + 8 },
    ]);
  });

  it('lays a kept copy out apart from the query and the scores (16,001 vectors of 17 bytes: both one byte past a boundary)', () => {
    // The last vector equals the query; the others differ from it in 132 bits (a distance whose low byte,
    // written first, is not the query's last byte, 0x0f).
    const query = new Uint8Array(17);
    query[16] = 0x0f;
    const far = new Uint8Array(17).fill(0xff);
    const corpus = [...Array(16_000).fill(far), Uint8Array.from(query)];
    const expected = [
      { index: 16_000, distance: 0 },
      { index: 0, distance: 132 },
      { index: 1, distance: 132 },
    ];
    expect(topKHamming(query, corpus, 3)).toEqual(expected);
    expect(kernelCalls('hamming', () => expect(topKHamming(query, corpus, 3)).toEqual(expected))).toBe(0);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(16_001 * 17);
  });

  it('a fresh instance grows to hold the scores and lengths of a whole chunk (5 vectors of 11,664 floats end 16 bytes into a page)', () => {
    const random = seededRandom(113);
    const corpus = slab(random, 5, 11_664);
    const query = randomFloat32(random, 11_664);
    sharedKernels().reserve(33 * 1024 * 1024);
    releaseLargeMemory();
    const fast = topK(query, corpus, 5);
    expect(fast).toEqual(javascriptOnly(() => topK(query, corpus, 5)));
  });

  it('a kept copy is given memory for a 4-byte result per vector (19,609 int8 vectors of 16 bytes end 4 bytes into a page)', () => {
    const random = seededRandom(127);
    const corpus = Array.from({ length: 19_609 }, () =>
      Int8Array.from({ length: 16 }, () => Math.floor(random() * 256) - 128),
    );
    const query = corpus[19_608]!;
    const expected = javascriptOnly(() => topKInt8(query, [...corpus], 4));
    expect(topKInt8(query, corpus, 4)).toEqual(expected);
    expect(kernelCalls('dots_i8', () => expect(topKInt8(query, corpus, 4)).toEqual(expected))).toBe(0);
    expect(keptCopyBytes(corpus)).toBe(7 * 65_536);
  });

  it('topKHamming with keepCopy: false keeps no copy, query after query', () => {
    const corpus = Array.from({ length: 3000 }, (_, index) => new Uint8Array(128).fill(index));
    for (let round = 0; round < 3; round++)
      expect(topKHamming(corpus[7]!, corpus, 1, { keepCopy: false })).toEqual([{ index: 7, distance: 0 }]);
    expect(keptCopyBytes(corpus)).toBe(0);
  });

  it('keptCopyBytes of an array never searched is 0', () => {
    expect(keptCopyBytes([new Float32Array(8)])).toBe(0);
  });

  it('never copies a corpus of exactly a quarter megabyte; copies one a vector larger on its second query', () => {
    const random = seededRandom(83);
    const small = slab(random, 1024, 64);
    const large = slab(random, 1025, 64);
    const query = randomFloat32(random, 64);
    for (let round = 0; round < 3; round++) topK(query, small, 1);
    expect(keptCopyBytes(small)).toBe(0);
    topK(query, large, 1);
    expect(keptCopyBytes(large)).toBe(0);
    topK(query, large, 1);
    expect(keptCopyBytes(large)).toBeGreaterThanOrEqual(1025 * 64 * 4);
  });

  it('after keepCopy: false, the copy is made again only at the second query that allows it', () => {
    const random = seededRandom(89);
    const corpus = slab(random, 2000, 64);
    const query = randomFloat32(random, 64);
    topK(query, corpus, 1);
    topK(query, corpus, 1);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
    topK(query, corpus, 1, { keepCopy: false });
    expect(keptCopyBytes(corpus)).toBe(0);
    expect(kernelCalls('dots_f32', () => topK(query, corpus, 1))).toBe(2);
    expect(keptCopyBytes(corpus)).toBe(0);
    expect(kernelCalls('dots_f32', () => topK(query, corpus, 1))).toBe(0);
    expect(keptCopyBytes(corpus)).toBeGreaterThan(0);
  });

  it('tries to copy a corpus of exactly 1 GiB, and never one larger', () => {
    // The same 1 MiB vector in every slot; each query is stopped at its first kernel call (the corpus is
    // never read), and the copy's own instance cannot get memory: what counts is whether it was tried.
    const vector = new Uint8Array(1024 * 1024);
    const stopped = new Error('stopped');
    const halt = () => () => {
      throw stopped;
    };
    const copiesTried = (corpus: Uint8Array[]) => {
      expect(() => withKernel('hamming', halt, () => topKHamming(vector, corpus, 1))).toThrow(stopped);
      const instance = instancesShortOfMemory();
      try {
        expect(() => withKernel('hamming', halt, () => topKHamming(vector, corpus, 1))).toThrow(stopped);
        return instance.mock.calls.length;
      } finally {
        instance.mockRestore();
      }
    };
    expect(copiesTried(Array(1024).fill(vector))).toBe(1);
    expect(copiesTried(Array(1025).fill(vector))).toBe(0);
  });

  it('runs int8 dot products in the kernel up to 131,071 dimensions, and in JavaScript from 131,072 (where 32-bit sums overflow)', () => {
    for (const dimensions of [131_071, 131_072]) {
      const query = new Int8Array(dimensions).fill(-128);
      const vectors = [new Int8Array(dimensions).fill(1), new Int8Array(dimensions).fill(-128)];
      let answer: ReturnType<typeof topKInt8> = [];
      const calls = kernelCalls('dots_i8', () => {
        answer = topKInt8(query, vectors, 2);
      });
      expect(calls, `${dimensions} dimensions`).toBe(dimensions === 131_071 ? 1 : 0);
      expect(answer).toEqual([
        { index: 1, score: dimensions * 128 * 128 },
        { index: 0, score: -dimensions * 128 },
      ]);
    }
  });

  it('hands the memory of a search over huge vectors back: the next caller gets a small instance', () => {
    const before = sharedKernels();
    const bytes = 16 * 1024 * 1024 + 65_536;
    const query = new Uint8Array(bytes);
    const vector = new Uint8Array(bytes);
    vector[bytes - 1] = 0b111;
    expect(topKHamming(query, [vector], 1)).toEqual([{ index: 0, distance: 3 }]);
    const after = sharedKernels();
    expect(after).not.toBe(before);
    expect(after.bytes.length).toBeLessThan(1024 * 1024);
  });

  it('measures only lengths not measured yet, as JavaScript does: a vector changed in place keeps its old length on both paths', () => {
    const build = () => {
      const random = seededRandom(97);
      return { corpus: slab(random, 40, 8), query: randomFloat32(random, 8) };
    };
    const fast = build();
    const slow = build();
    const search = ({ corpus, query }: ReturnType<typeof build>) => {
      const first = topK(query, corpus, 40, { keepCopy: false });
      const oldLength = norm(corpus[3]!);
      // Changed in place (not noticed), and slot 5 given another vector (measured again).
      corpus[3]!.set(corpus[3]!.map((value) => value / 2));
      corpus[5] = Float32Array.from(corpus[5]!);
      const second = topK(query, corpus, 40, { keepCopy: false });
      return { first, second, oldLength };
    };
    const answer = search(fast);
    expect(javascriptOnly(() => search(slow))).toEqual(answer);
    const three = answer.second.find((entry) => entry.index === 3)!;
    expect(three.score).toBe(
      cosineOfParts(dot(fast.query, fast.corpus[3]!), norm(fast.query), answer.oldLength),
    );
    expect(three.score).not.toBe(cosineSimilarity(fast.query, fast.corpus[3]!));
  });
});

describe('the WebAssembly kernels', () => {
  afterEach(() => {
    setWebAssemblyEnabled(true);
    vi.restoreAllMocks();
  });

  it('hold every table the parser reads, each filling the region KERNEL_LAYOUT declares for it', () => {
    const kernels = sharedKernels();
    const { powers, integerPowers, align, masks, base64Scratch } = KERNEL_LAYOUT;
    const region = ({ at, bytes }: { at: number; bytes: number }) => kernels.bytes.subarray(at, at + bytes);
    // 1e0..1e22 as doubles.
    expect([...new Float64Array(region(powers).slice().buffer)]).toEqual(
      Array.from({ length: 23 }, (_, exponent) => Number(`1e${exponent}`)),
    );
    // 10^0..10^16 as little-endian 64-bit integers.
    expect([...new BigUint64Array(region(integerPowers).slice().buffer)]).toEqual(
      Array.from({ length: 17 }, (_, exponent) => 10n ** BigInt(exponent)),
    );
    // For n in 0..16, 16 - n bytes of 255 (read as zero), then the bytes 0..n-1.
    expect([...region(align)]).toEqual(
      Array.from({ length: 17 }, (_, run) => [
        ...Array(16 - run).fill(255),
        ...Array.from({ length: run }, (_, index) => index),
      ]).flat(),
    );
    // For n in 0..16, n bytes of 255, then zeros.
    expect([...region(masks)]).toEqual(
      Array.from({ length: 17 }, (_, run) => [...Array(run).fill(255), ...Array(16 - run).fill(0)]).flat(),
    );
    // The base64 decoder's scratch: a block at 608 and one at 624 (kernels.wat), ending where the masks begin.
    expect(base64Scratch).toEqual({ at: 608, bytes: 32 });
    expect(base64Scratch.at + base64Scratch.bytes).toBe(masks.at);
  });

  it('grow by whole 64 KiB pages to hold what is reserved, a byte over a page included', () => {
    const kernels = sharedKernels();
    const start = kernels.bytes.length;
    kernels.reserve(start);
    expect(kernels.bytes.length).toBe(start);
    kernels.reserve(start + 65_537);
    expect(kernels.bytes.length).toBe(start + 2 * 65_536);
    kernels.reserve(start + 2 * 65_536 + 1);
    expect(kernels.bytes.length).toBe(start + 3 * 65_536);
    kernels.reserve(start + 4 * 65_536);
    expect(kernels.bytes.length).toBe(start + 4 * 65_536);
    // Every view covers the grown memory.
    expect(kernels.doubles.length * 8).toBe(kernels.bytes.length);
    expect(kernels.integers.length * 4).toBe(kernels.bytes.length);
    expect(kernels.floats.length * 4).toBe(kernels.bytes.length);
    expect(kernels.signedBytes.length).toBe(kernels.bytes.length);
  });

  it('keep an instance of exactly 32 MiB; drop one a page larger', () => {
    const kernels = sharedKernels();
    kernels.reserve(32 * 1024 * 1024);
    expect(kernels.bytes.length).toBe(32 * 1024 * 1024);
    releaseLargeMemory();
    expect(wasmKernels()).toBe(kernels);
    kernels.reserve(32 * 1024 * 1024 + 1);
    releaseLargeMemory();
    expect(wasmKernels()).not.toBe(kernels);
  });

  it('a separate instance is had only where the shared kernels run, with at least the memory asked for', () => {
    const own = newWasmKernels(200_000);
    expect(own).toBeDefined();
    expect(own).not.toBe(wasmKernels());
    expect(own!.bytes.length).toBeGreaterThanOrEqual(200_000);
    setWebAssemblyEnabled(false);
    expect(newWasmKernels(1024)).toBeUndefined();
  });

  describe('in a fresh module', () => {
    afterEach(() => vi.resetModules());

    async function fresh() {
      vi.resetModules();
      const kernels = await import('../src/wasm/kernels.js');
      const { systemClock } = await import('../src/engine/clock.js');
      return { kernels, systemClock };
    }

    it('come back exactly a second after an instance went short of memory', async () => {
      const { kernels, systemClock } = await fresh();
      const now = systemClock.now();
      vi.spyOn(systemClock, 'now').mockReturnValue(now);
      const instance = instancesShortOfMemory();
      expect(kernels.wasmKernels()).toBeUndefined();
      instance.mockRestore();
      vi.spyOn(systemClock, 'now').mockReturnValue(now + 1_000);
      expect(kernels.wasmKernels()).toBeDefined();
    });

    it('any other failure (no SIMD, a content policy) turns them off for good', async () => {
      const { kernels, systemClock } = await fresh();
      const now = systemClock.now();
      const instance = vi
        .spyOn(
          (globalThis as unknown as { WebAssembly: { Instance: new (...args: never[]) => unknown } })
            .WebAssembly,
          'Instance',
        )
        // biome-ignore lint/complexity/useArrowFunction: a mock of a constructor is called with `new`, which an arrow refuses
        .mockImplementation(function () {
          throw new TypeError('WebAssembly.Instance(): Compiling is forbidden');
        } as never);
      expect(kernels.wasmKernels()).toBeUndefined();
      instance.mockRestore();
      expect(kernels.wasmKernels()).toBeUndefined();
      vi.spyOn(systemClock, 'now').mockReturnValue(now + 60_000);
      expect(kernels.wasmKernels()).toBeUndefined();
      expect(kernels.newWasmKernels(1024)).toBeUndefined();
    });
  });
});

describe('createRegistry: exact refusals', () => {
  const openai: EmbeddingProvider = {
    embedding: (modelId) => new ScriptedModel({ provider: 'openai', modelId }),
  };

  it.each([
    [undefined, 'Model id undefined must look like "provider:model", e.g. "openai:text-embedding-3-small".'],
    [42, 'Model id 42 must look like "provider:model", e.g. "openai:text-embedding-3-small".'],
    ['openai', 'Model id "openai" must look like "provider:model", e.g. "openai:text-embedding-3-small".'],
    ['openai:', 'Model id "openai:" must look like "provider:model", e.g. "openai:text-embedding-3-small".'],
    [':m', 'Model id ":m" must look like "provider:model", e.g. "openai:text-embedding-3-small".'],
    ['cohere:embed', 'No provider "cohere" in this registry; it has openai, jina.'],
    ['OpenAI:x', 'No provider "OpenAI" in this registry; it has openai, jina.'],
  ])('id %j is refused: %s', (id, message) => {
    const registry = createRegistry({ openai, jina: openai });
    const error = thrownInvalidArgument(() => registry.embeddingModel(id as never));
    expect(error.message).toBe(message);
    expect(error.argument).toBe('id');
  });

  it('an empty registry says it has none', () => {
    expect(thrownInvalidArgument(() => createRegistry({}).embeddingModel('a:b' as never)).message).toBe(
      'No provider "a" in this registry; it has none.',
    );
  });

  it('a one-letter provider and a one-letter model resolve', () => {
    const model = createRegistry({ o: openai }).embeddingModel('o:m');
    expect(model.modelId).toBe('m');
  });
});

function issuesOf(parser: { safeParse(value: unknown): unknown }, value: unknown): unknown[] {
  const result = parser.safeParse(value) as { success: boolean; error?: { issues: unknown[] } };
  expect(result.success).toBe(false);
  return result.error!.issues;
}

describe('the schema kit: edges', () => {
  it('a required field that is missing is an issue at its path', () => {
    expect(issuesOf(schema.object({ id: schema.string(), n: schema.number() }), {})).toEqual([
      { code: 'invalid_type', expected: 'string', path: ['id'], message: 'expected string, got undefined' },
      { code: 'invalid_type', expected: 'number', path: ['n'], message: 'expected number, got undefined' },
    ]);
  });

  it('an optional or nullish field left out stays out of the result; one present is checked', () => {
    const shape = schema.object({
      a: schema.optional(schema.string()),
      b: schema.nullish(schema.string()),
      c: schema.usageTokens('n'),
    });
    const parsed = shape.safeParse({}) as { success: true; data: object };
    expect(parsed.success).toBe(true);
    expect(Object.keys(parsed.data)).toEqual([]);
    expect(issuesOf(shape, { a: 1, b: 2 })).toEqual([
      { code: 'invalid_type', expected: 'string', path: ['a'], message: 'expected string, got number' },
      { code: 'invalid_type', expected: 'string', path: ['b'], message: 'expected string, got number' },
    ]);
    expect(schema.optional(schema.string()).optional).toBe(true);
    expect(schema.nullish(schema.string()).optional).toBe(true);
    expect(schema.usageTokens('n').optional).toBe(true);
    expect(schema.string().optional).toBe(false);
  });

  it('optional and nullish take undefined (and nullish null) on their own, in an array or a union', () => {
    expect(schema.optional(schema.string()).safeParse(undefined)).toEqual({ success: true, data: undefined });
    expect(schema.nullish(schema.string()).safeParse(undefined)).toEqual({ success: true, data: undefined });
    expect(schema.nullish(schema.string()).safeParse(null)).toEqual({ success: true, data: null });
    expect(schema.array(schema.nullish(schema.number())).safeParse([1, null, undefined])).toEqual({
      success: true,
      data: [1, null, undefined],
    });
    expect(issuesOf(schema.optional(schema.string()), null)).toEqual([
      { code: 'invalid_type', expected: 'string', path: [], message: 'expected string, got null' },
    ]);
  });

  it('names an array an array, and a function by its type', () => {
    expect(issuesOf(schema.string(), [])).toEqual([
      { code: 'invalid_type', expected: 'string', path: [], message: 'expected string, got array' },
    ]);
    expect(issuesOf(schema.boolean(), () => 1)).toEqual([
      { code: 'invalid_type', expected: 'boolean', path: [], message: 'expected boolean, got function' },
    ]);
  });

  it('a record refuses an array and null, and names the path of a bad value nested in it', () => {
    expect(issuesOf(schema.record(schema.number()), [1])).toEqual([
      { code: 'invalid_type', expected: 'object', path: [], message: 'expected object, got array' },
    ]);
    expect(issuesOf(schema.record(schema.number()), null)).toEqual([
      { code: 'invalid_type', expected: 'object', path: [], message: 'expected object, got null' },
    ]);
    expect(
      issuesOf(schema.object({ scores: schema.record(schema.array(schema.number())) }), {
        scores: { a: [1], b: [2, 'x'] },
      }),
    ).toEqual([
      {
        code: 'invalid_type',
        expected: 'number',
        path: ['scores', 'b', 1],
        message: 'expected number, got string',
      },
    ]);
    expect(schema.record(schema.number()).safeParse({ a: 1, b: 2 })).toEqual({
      success: true,
      data: { a: 1, b: 2 },
    });
  });

  it('an object refuses an array; a strict one names a single unknown key at its nested path', () => {
    expect(issuesOf(schema.object({}), [])).toEqual([
      { code: 'invalid_type', expected: 'object', path: [], message: 'expected object, got array' },
    ]);
    const options = schema.object({ inner: schema.strictObject({ a: schema.optional(schema.number()) }) });
    expect(issuesOf(options, { inner: { a: 1, b: 2 } })).toEqual([
      {
        code: 'unrecognized_keys',
        keys: ['b'],
        path: ['inner'],
        message: 'unknown key "b"',
      },
    ]);
    expect(options.safeParse({ inner: { a: 1 } })).toEqual({ success: true, data: { inner: { a: 1 } } });
  });

  it('a string shorter than a minimum over 1 says how many characters; the minimum itself passes', () => {
    const code = schema.string({ minLength: 3 });
    expect(issuesOf(code, 'ab')).toEqual([
      {
        code: 'too_small',
        origin: 'string',
        minimum: 3,
        inclusive: true,
        path: [],
        message: 'must be at least 3 characters',
      },
    ]);
    expect(code.safeParse('abc')).toEqual({ success: true, data: 'abc' });
    expect(schema.string().safeParse('')).toEqual({ success: true, data: '' });
  });

  it('whole numbers: bounds taken inclusively, unsafe integers refused, bounds of plain numbers checked', () => {
    const count = schema.integer({ minimum: -2, maximum: 5 });
    expect(count.safeParse(-2)).toEqual({ success: true, data: -2 });
    expect(count.safeParse(5)).toEqual({ success: true, data: 5 });
    expect(issuesOf(count, 6)).toEqual([
      {
        code: 'too_big',
        origin: 'number',
        maximum: 5,
        inclusive: true,
        path: [],
        message: 'must be at most 5',
      },
    ]);
    expect(issuesOf(count, -3)).toEqual([
      {
        code: 'too_small',
        origin: 'number',
        minimum: -2,
        inclusive: true,
        path: [],
        message: 'must be at least -2',
      },
    ]);
    expect(issuesOf(schema.integer(), 2 ** 53)).toEqual([
      { code: 'invalid_type', expected: 'int', path: [], message: 'expected a whole number, got number' },
    ]);
    expect(issuesOf(schema.number({ maximum: 1 }), 1.5)).toEqual([
      {
        code: 'too_big',
        origin: 'number',
        maximum: 1,
        inclusive: true,
        path: [],
        message: 'must be at most 1',
      },
    ]);
    expect(schema.number({ minimum: 0.5 }).safeParse(0.5)).toEqual({ success: true, data: 0.5 });
    expect(issuesOf(schema.number(), '1')).toEqual([
      { code: 'invalid_type', expected: 'number', path: [], message: 'expected number, got string' },
    ]);
  });

  it('names the path of each kind of issue nested in objects and arrays', () => {
    const options = schema.object({
      items: schema.array(
        schema.object({
          name: schema.string({ minLength: 2 }),
          size: schema.integer({ maximum: 3 }),
          tag: schema.custom<string>((value) => value === 'ok', 'expected ok'),
        }),
      ),
    });
    expect(
      issuesOf(options, {
        items: [
          { name: 'ab', size: 3, tag: 'ok' },
          { name: 'a', size: 4, tag: 'no' },
        ],
      }),
    ).toEqual([
      {
        code: 'too_small',
        origin: 'string',
        minimum: 2,
        inclusive: true,
        path: ['items', 1, 'name'],
        message: 'must be at least 2 characters',
      },
      {
        code: 'too_big',
        origin: 'number',
        maximum: 3,
        inclusive: true,
        path: ['items', 1, 'size'],
        message: 'must be at most 3',
      },
      { code: 'custom', path: ['items', 1, 'tag'], message: 'expected ok' },
    ]);
  });

  it('a loose object answers a new object and leaves the input as it was', () => {
    const input = { inner: { x: 1, y: 2 }, kept: 'k' };
    const parsed = schema.looseObject({ inner: schema.object({ x: schema.number() }) }).safeParse(input);
    expect(parsed).toEqual({ success: true, data: { inner: { x: 1 }, kept: 'k' } });
    expect((parsed as { data: unknown }).data).not.toBe(input);
    expect(input).toEqual({ inner: { x: 1, y: 2 }, kept: 'k' });
  });

  it('a strict object refuses keys named like Object.prototype members', () => {
    expect(issuesOf(schema.strictObject({ a: schema.optional(schema.number()) }), { toString: 1 })).toEqual([
      { code: 'unrecognized_keys', keys: ['toString'], path: [], message: 'unknown key "toString"' },
    ]);
  });

  it('a union answers with what the matching form kept, and records its issue at the path', () => {
    const form = schema.union([schema.object({ a: schema.number() }), schema.object({ b: schema.string() })]);
    expect(form.safeParse({ b: 'x', c: 1 })).toEqual({ success: true, data: { b: 'x' } });
    expect(issuesOf(schema.object({ v: form }), { v: 1 })).toEqual([
      { code: 'invalid_union', path: ['v'], message: 'matches none of the accepted forms' },
    ]);
  });

  it('usage tokens read the first key holding a whole number of at least 0, in the order given', () => {
    const tokens = schema.usageTokens('total_tokens', 'prompt_tokens');
    expect(tokens.safeParse({ prompt_tokens: 3, total_tokens: 5 })).toEqual({ success: true, data: 5 });
    expect(tokens.safeParse({ prompt_tokens: 3, total_tokens: 2 ** 53 })).toEqual({ success: true, data: 3 });
    expect(tokens.safeParse({ prompt_tokens: 3, total_tokens: Number.NaN })).toEqual({
      success: true,
      data: 3,
    });
  });
});
