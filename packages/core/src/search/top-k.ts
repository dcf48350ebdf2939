/**
 * Exact nearest-neighbour search over a corpus of vectors: float (`topK`, cosine or dot), int8
 * (`topKInt8`, dot) and bit-packed binary (`topKHamming`). Where the WebAssembly kernels run, the first
 * query over a corpus array streams it through them a chunk at a time (a quarter megabyte, so it stays
 * in the CPU cache between the copy and the kernel); from the second, a copy of the corpus kept in
 * WebAssembly memory is read instead (`keepCopy`; a corpus's vectors are not to change in place once
 * searched). Elsewhere JavaScript loops compute the same scores, bit for bit, in the same order.
 */

import { checkBoolean, describeValue } from '../argument-checks.js';
import { InvalidArgumentError } from '../errors.js';
import { refuseUnknownSettings, type SettingNames } from '../setting-names.js';
import {
  cosineOfVectors,
  dotUnchecked,
  hammingUnchecked,
  isBytes,
  isVector,
  type NumericVector,
  norm,
  refuseNonFinite,
} from '../vectors.js';
import {
  type Kernels,
  newWasmKernels,
  releaseLargeMemory,
  WORK_START,
  wasmKernels,
} from '../wasm/kernels.js';

export interface ScoredIndex {
  index: number;
  score: number;
}

export interface NearestIndex {
  index: number;
  /** Number of bits in which the vector differs from the query. */
  distance: number;
}

/** Options of every search: `topK`, `topKInt8` and `topKHamming`. */
export interface SearchOptions {
  /**
   * Default true: from the second query over one corpus array, keep a copy of it in WebAssembly memory
   * (as large as the corpus; corpora of a quarter megabyte or less, which stream in one piece, and
   * corpora over 1 GiB are never copied), so that a query reads the corpus once at memory speed. The
   * copy goes when the array does, when a slot of it is given another vector or its length changes, or
   * at a query with `keepCopy: false`.
   *
   * The copy holds the vectors as they were, as the lengths `topK` caches for cosine do: a vector whose
   * values are changed in place afterwards (`normalizeInPlace` included) is not noticed, and the search
   * answers from the old values. After changing vectors in place, search a new array (`corpus.slice()`).
   *
   * false streams the corpus through a quarter megabyte each time instead, keeps nothing and drops a copy
   * kept before (measured over 100,000 x 1,024 in the bench: about 1.4x slower for floats, 1.2x for
   * int8, 1.3x for bits). A copy that cannot be made (the process is short of memory) is not tried again
   * for that array: it streams.
   */
  keepCopy?: boolean;
}

export interface TopKOptions extends SearchOptions {
  /**
   * `cosine` (default) divides by both lengths; `dot` is the same ranking for unit-length vectors and
   * faster.
   */
  metric?: 'cosine' | 'dot';
}

const TOP_K_OPTIONS: SettingNames<TopKOptions> = { metric: true, keepCopy: true };
const SEARCH_OPTIONS: SettingNames<SearchOptions> = { keepCopy: true };

/** Bytes of corpus copied into the kernels' memory per call: small enough to stay in a core's cache. */
const CHUNK_BYTES = 256 * 1024;
/** Corpora larger than this are streamed, never copied (`keepCopy`). */
const COPY_LIMIT_BYTES = 1024 * 1024 * 1024;
/**
 * Corpora this small (one chunk) are streamed, never copied: a copy would save one copy of a chunk per
 * query, and each takes a WebAssembly memory of its own, of which a process may hold only some thousands
 * (V8 reserves address space for each).
 */
const COPY_MIN_BYTES = CHUNK_BYTES;
/** Above this many dimensions an int8 dot product could overflow the kernel's 32-bit sums (2^31 / 128^2). */
const INT8_KERNEL_LIMIT = 131_072;

/**
 * The best `limit` (score, index) pairs offered so far: a min-heap whose root is the weakest kept. Higher
 * scores rank first; equal scores keep the lower index first. A limit of 0 keeps nothing: a search for
 * k = 0 still reads and checks the whole corpus, as any other k does. It needs no test of its own in
 * `offer`: the heap stays empty, its root `scores[0]` reads undefined, which `weaker` ranks below no score
 * (every comparison with it is false, and it is no NaN), and a store into arrays of length 0 keeps nothing.
 */
class Best {
  private readonly scores: Float64Array;
  private readonly indices: Int32Array;
  private size = 0;

  constructor(private readonly limit: number) {
    this.scores = new Float64Array(limit);
    this.indices = new Int32Array(limit);
  }

  offer(score: number, index: number): void {
    const { scores, indices } = this;
    if (this.size < this.limit) {
      let position = this.size++;
      while (position > 0) {
        const parent = (position - 1) >> 1;
        if (!weaker(score, index, scores[parent]!, indices[parent]!)) break;
        scores[position] = scores[parent]!;
        indices[position] = indices[parent]!;
        position = parent;
      }
      scores[position] = score;
      indices[position] = index;
    } else if (weaker(scores[0]!, indices[0]!, score, index)) {
      let position = 0;
      for (;;) {
        const left = 2 * position + 1;
        if (left >= this.size) break;
        const right = left + 1;
        const child =
          right < this.size && weaker(scores[right]!, indices[right]!, scores[left]!, indices[left]!)
            ? right
            : left;
        if (!weaker(scores[child]!, indices[child]!, score, index)) break;
        scores[position] = scores[child]!;
        indices[position] = indices[child]!;
        position = child;
      }
      scores[position] = score;
      indices[position] = index;
    }
  }

  /** The kept pairs, best first. */
  ranked(): ScoredIndex[] {
    const out: ScoredIndex[] = [];
    for (let position = 0; position < this.size; position++)
      out.push({ index: this.indices[position]!, score: this.scores[position]! });
    return out.sort((a, b) => (weaker(a.score, a.index, b.score, b.index) ? 1 : -1));
  }
}

/**
 * Whether (scoreA, indexA) ranks below (scoreB, indexB): lower score, or equal score and higher index. A
 * NaN score (finite values whose product overflows, `Infinity - Infinity`) ranks below every number, so it
 * never displaces a real match.
 */
function weaker(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
  if (scoreA < scoreB) return true;
  if (scoreA > scoreB) return false;
  if (scoreA === scoreB) return indexA > indexB;
  // One of the two is NaN.
  const missingA = Number.isNaN(scoreA);
  return Number.isNaN(scoreB) ? missingA && indexA > indexB : missingA;
}

/**
 * The query and the corpus must be arrays (typed or not); a float query must hold only finite numbers,
 * since a NaN in it would score every vector NaN.
 */
function checkSearch(query: unknown, vectors: unknown, float: boolean): void {
  if (!isVector(query))
    throw new InvalidArgumentError('query must be a vector (a typed array or an array of numbers).', {
      argument: 'query',
    });
  if (!Array.isArray(vectors))
    throw new InvalidArgumentError('vectors must be an array of vectors.', { argument: 'vectors' });
  if (float)
    refuseNonFinite(query as ArrayLike<unknown>, 'The query', 'a query holds finite numbers', 'query');
}

/**
 * Refuses a corpus vector holding Infinity or NaN, found by its dot product with the (finite) query: any
 * such value makes the product Infinity or NaN, whatever the query, where it ranked first under `dot` and
 * last under cosine. A test of each product costs nothing beside the product itself; only a product that
 * is not finite has its vector read, and finite values whose product overflowed (a number array holding
 * 1e200) are let through as before.
 */
function checkProduct(product: number, vectors: readonly ArrayLike<number>[], index: number): void {
  if (product - product !== 0) checkCorpusVector(vectors[index]!, index);
}

/** Refuses a corpus vector holding a value that is not a finite number, naming the vector. */
function checkCorpusVector(vector: ArrayLike<unknown>, index: number): void {
  refuseNonFinite(vector, `Vector ${index}`, 'a corpus holds finite numbers', 'vectors');
}

function checkK(k: number, corpusSize: number): number {
  if (!Number.isInteger(k) || k < 0)
    throw new InvalidArgumentError(`k must be a whole number ≥ 0, got ${describeValue(k)}.`, {
      argument: 'k',
    });
  return Math.min(k, corpusSize);
}

function lengthMismatch(
  index: number,
  vector: ArrayLike<unknown>,
  length: number,
  unit: string,
): InvalidArgumentError {
  return new InvalidArgumentError(`Vector ${index} has ${vector.length} ${unit}; the query has ${length}.`, {
    argument: 'vectors',
  });
}

// ---- the corpus layout --------------------------------------------------------------------------------

type Packed = Float32Array | Int8Array | Uint8Array;
type PackedType = typeof Float32Array | typeof Int8Array | typeof Uint8Array;

/**
 * What one corpus array looked like when last searched, so that a repeated query over it costs one
 * identity check per slot: the vector in each slot, the runs of vectors that sit back to back in one
 * buffer (as the slabs embedkit decodes do; each is copied to the kernels in one piece), and the cosine
 * length of each slot's vector once measured. A slot given another vector is noticed; a vector changed
 * in place is not (copy it, or pass a new array).
 */
interface Layout {
  vectors: unknown[];
  /** The element count every vector was checked to have, and the array types it was checked against. */
  length: number;
  types: string;
  /** Whether every vector is one of the typed arrays the kernels take. */
  packed: boolean;
  /** Start slot of each run, then the corpus size. */
  runStarts: number[];
  runBuffers: ArrayBufferLike[];
  runOffsets: number[];
  runTypes: PackedType[];
  norms: Float64Array;
  /** 1 where `norms` holds the length of the slot's current vector. */
  measured: Uint8Array;
  /**
   * Queries served with this layout that could keep a copy (`keepCopy`), and the copy kept from the
   * second on.
   */
  queries: number;
  copy: CorpusCopy | undefined;
  /** A copy could not be made (no memory for it): this layout streams from then on. */
  copyRefused: boolean;
}

/** A corpus copied into its own kernels' memory: the query, the vectors, then each vector's output bytes. */
interface CorpusCopy {
  kernels: Kernels;
  queryAt: number;
  vectorsAt: number;
  outAt: number;
}

const layouts = new WeakMap<object, Layout>();

/**
 * The layout of `vectors`, checking once per new or changed layout that every vector has `length`
 * elements and whether each is one of `types`. With `numbers` (topK, which reads any array of numbers),
 * a vector of none of them is checked to hold finite numbers only (in a product a null, a boolean or a
 * string of digits passes for a number, and a bigint throws a TypeError).
 */
function layoutOf(
  vectors: readonly unknown[],
  length: number,
  unit: string,
  types: readonly PackedType[],
  numbers = false,
): Layout {
  const previous = layouts.get(vectors);
  const typeNames = types.map((type) => type.name).join();
  // Reused only for a query of the length, and a search of the types, it was checked for: a longer query
  // would otherwise be read past the vectors (and written over a kept copy of them).
  if (
    previous !== undefined &&
    previous.vectors.length === vectors.length &&
    previous.length === length &&
    previous.types === typeNames
  ) {
    // Each slot's vector, and its length: a number array may grow, and a typed array's buffer may be
    // detached (transferred) or, resizable, shrink. A vector of another length is refused below, as in
    // a new array.
    let same = true;
    for (let index = 0; index < vectors.length && same; index++) {
      const vector = vectors[index];
      same = previous.vectors[index] === vector && (vector as ArrayLike<number>).length === length;
    }
    if (same) return previous;
  }
  const size = vectors.length;
  const layout: Layout = {
    vectors: new Array(size),
    length,
    types: typeNames,
    packed: true,
    runStarts: [],
    runBuffers: [],
    runOffsets: [],
    runTypes: [],
    norms: new Float64Array(size),
    measured: new Uint8Array(size),
    queries: 0,
    copy: undefined,
    copyRefused: false,
  };
  let lastEnd = -1;
  let lastBuffer: ArrayBufferLike | undefined;
  let lastType: PackedType | undefined;
  for (let index = 0; index < size; index++) {
    const vector = vectors[index] as Packed;
    // A hole or a null is named as what it is, not as a vector of "undefined" dimensions.
    if (!isVector(vector))
      throw new InvalidArgumentError(
        `Vector ${index} is ${describeValue(vector)}, not a vector (a typed array or an array of numbers).`,
        { argument: 'vectors' },
      );
    if (vector.length !== length) throw lengthMismatch(index, vector, length, unit);
    layout.vectors[index] = vector;
    // A length measured at another element count is not this vector's: a number array that grew since
    // is measured again, as a new one would be.
    if (previous?.length === length && previous.vectors[index] === vector && previous.measured[index] === 1) {
      layout.norms[index] = previous.norms[index]!;
      layout.measured[index] = 1;
    }
    const type = types.find((candidate) => vector instanceof candidate);
    if (type === undefined) {
      if (numbers) checkCorpusVector(vector, index);
      layout.packed = false;
      continue;
    }
    if (!layout.packed) continue;
    const buffer = vector.buffer;
    const offset = vector.byteOffset;
    if (buffer !== lastBuffer || offset !== lastEnd || type !== lastType) {
      layout.runStarts.push(index);
      layout.runBuffers.push(buffer);
      layout.runOffsets.push(offset);
      layout.runTypes.push(type);
    }
    lastBuffer = buffer;
    lastEnd = offset + vector.byteLength;
    lastType = type;
  }
  layout.runStarts.push(size);
  layouts.set(vectors, layout);
  return layout;
}

// ---- streaming through the kernels --------------------------------------------------------------------

/**
 * `at` rounded up to a multiple of 16. Not with `& ~15`: an offset past 2 GiB (a query of a few hundred
 * million values) turned into a negative 32-bit integer, and the memory was not grown for it.
 */
function align16(at: number): number {
  return Math.ceil(at / 16) * 16;
}

/** The view over the kernels' memory of element type `type`. */
function viewOf(kernels: Kernels, type: PackedType): Packed {
  if (type === Float32Array) return kernels.floats;
  return type === Int8Array ? kernels.signedBytes : kernels.bytes;
}

/** Copies vectors `from`..`to` (each `bytes` long) to byte `at` of the kernels' memory, a run at a time. */
function copyVectors(
  kernels: Kernels,
  layout: Layout,
  at: number,
  from: number,
  to: number,
  bytes: number,
): void {
  const { runStarts } = layout;
  // The run holding `from`: the last start at or before it.
  let low = 0;
  let high = runStarts.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (runStarts[middle]! <= from) low = middle;
    else high = middle - 1;
  }
  for (let run = low; runStarts[run]! < to; run++) {
    const start = Math.max(from, runStarts[run]!);
    const end = Math.min(to, runStarts[run + 1]!);
    const type = layout.runTypes[run]!;
    const elements = bytes / type.BYTES_PER_ELEMENT;
    const source = new type(
      layout.runBuffers[run]! as ArrayBuffer,
      layout.runOffsets[run]! + (start - runStarts[run]!) * bytes,
      (end - start) * elements,
    );
    viewOf(kernels, type).set(source, (at + (start - from) * bytes) / type.BYTES_PER_ELEMENT);
  }
}

/**
 * Streams the corpus through a kernel a chunk at a time: `run` scores the `count` vectors copied to
 * `vectorsAt` (the first being `from`) into `outAt`, after `prepare` wrote the query at `queryAt`. False,
 * having scored nothing, when the kernels' memory cannot grow to hold one chunk.
 */
function stream(
  kernels: Kernels,
  layout: Layout,
  vectorBytes: number,
  queryBytes: number,
  outBytes: number,
  prepare: (queryAt: number) => void,
  run: (layout: { queryAt: number; vectorsAt: number; outAt: number; count: number; from: number }) => void,
): boolean {
  const size = layout.vectors.length;
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / vectorBytes));
  const queryAt = WORK_START;
  const vectorsAt = align16(queryAt + queryBytes);
  const outAt = align16(vectorsAt + chunk * vectorBytes);
  try {
    try {
      kernels.reserve(outAt + chunk * outBytes);
    } catch (error) {
      // A query and one vector of hundreds of millions of values can pass what a WebAssembly memory
      // holds (4 GiB), or what the process can give it: the JavaScript loop scores them instead, as it
      // does when a copy cannot be had.
      if (error instanceof RangeError) return false;
      throw error;
    }
    prepare(queryAt);
    for (let from = 0; from < size; from += chunk) {
      const to = Math.min(size, from + chunk);
      copyVectors(kernels, layout, vectorsAt, from, to, vectorBytes);
      run({ queryAt, vectorsAt, outAt, count: to - from, from });
    }
    return true;
  } finally {
    releaseLargeMemory();
  }
}

// ---- float ------------------------------------------------------------------------------------------

/** Bytes of WebAssembly memory holding the copy kept of `vectors` for repeated queries; 0 when none. */
export function keptCopyBytes(vectors: readonly unknown[]): number {
  return layouts.get(vectors)?.copy?.kernels.bytes.length ?? 0;
}

/**
 * The copy of a corpus kept for repeated queries, made on its second query; undefined to stream. The
 * sizes are those {@link stream} takes.
 */
function corpusCopy(
  layout: Layout,
  vectorBytes: number,
  queryBytes: number,
  outBytes: number,
): CorpusCopy | undefined {
  if (layout.copy !== undefined) return layout.copy;
  const size = layout.vectors.length;
  const bytes = size * vectorBytes;
  if (layout.copyRefused || bytes <= COPY_MIN_BYTES || bytes > COPY_LIMIT_BYTES) return undefined;
  layout.queries++;
  if (layout.queries < 2) return undefined;
  const queryAt = WORK_START;
  const vectorsAt = align16(queryAt + queryBytes);
  const outAt = align16(vectorsAt + bytes);
  const kernels = newWasmKernels(outAt + size * outBytes);
  if (kernels === undefined) {
    // Trying again at every query would cost each one a failed allocation (V8 collects garbage first).
    layout.copyRefused = true;
    return undefined;
  }
  copyVectors(kernels, layout, vectorsAt, 0, size, vectorBytes);
  layout.copy = { kernels, queryAt, vectorsAt, outAt };
  return layout.copy;
}

/**
 * Scores the whole corpus with the kernels: on the copy kept of it ({@link corpusCopy}) unless `keepCopy`
 * is false, else streamed through the shared kernels ({@link stream}, same sizes). `prepare` writes the
 * query at `queryAt` of the kernels it is given, and `run` scores `count` vectors at `vectorsAt` (the
 * first being `from`) into `outAt` of those kernels. False, having scored nothing, when there is no
 * memory to stream through: the caller's JavaScript loop then serves.
 */
function scoreCorpus(
  kernels: Kernels,
  layout: Layout,
  keepCopy: boolean,
  sizes: { vectorBytes: number; queryBytes: number; outBytes: number },
  prepare: (kernels: Kernels, queryAt: number) => void,
  run: (
    kernels: Kernels,
    at: { queryAt: number; vectorsAt: number; outAt: number; count: number; from: number },
  ) => void,
): boolean {
  const { vectorBytes, queryBytes, outBytes } = sizes;
  if (!keepCopy) {
    // Kept nothing means keeping nothing: a copy made before goes (and is made again only from the
    // second query after this one that allows it).
    layout.copy = undefined;
    layout.queries = 0;
  }
  const copy = keepCopy ? corpusCopy(layout, vectorBytes, queryBytes, outBytes) : undefined;
  if (copy !== undefined) {
    prepare(copy.kernels, copy.queryAt);
    run(copy.kernels, { ...copy, count: layout.vectors.length, from: 0 });
    return true;
  }
  return stream(
    kernels,
    layout,
    vectorBytes,
    queryBytes,
    outBytes,
    (queryAt) => prepare(kernels, queryAt),
    (at) => run(kernels, at),
  );
}

/**
 * Scores every vector against the f64 query at `queryAt` with the kernels, `count` vectors from
 * `vectorsAt` (the first being `from`), measuring the lengths not cached yet, into `best`.
 */
function scoreFloats(
  kernels: Kernels,
  layout: Layout,
  at: { queryAt: number; vectorsAt: number; outAt: number; count: number; from: number },
  query: NumericVector,
  cosine: boolean,
  queryNorm: number,
  best: Best,
): void {
  const dimensions = query.length;
  const { exports } = kernels;
  const { queryAt, vectorsAt, outAt, count, from } = at;
  const { norms, measured } = layout;
  exports.dots_f32(queryAt, vectorsAt, count, dimensions, outAt);
  const scores = kernels.doubles;
  const first = outAt / 8;
  const vectors = layout.vectors as Float32Array[];
  for (let index = 0; index < count; index++) checkProduct(scores[first + index]!, vectors, from + index);
  if (!cosine) {
    for (let index = 0; index < count; index++) best.offer(scores[first + index]!, from + index);
    return;
  }
  let unmeasured = false;
  for (let index = from; index < from + count && !unmeasured; index++) unmeasured = measured[index] !== 1;
  if (unmeasured) {
    const squares = first + count;
    exports.squares_f32(vectorsAt, count, dimensions, squares * 8);
    for (let index = 0; index < count; index++) {
      if (measured[from + index] === 1) continue;
      norms[from + index] = Math.sqrt(scores[squares + index]!);
      measured[from + index] = 1;
    }
  }
  // As the JavaScript loop scores: a query of doubles may have a length beyond a double's squares (1e200,
  // or 1e-160), which cosineOfVectors scores as cosineSimilarity does, where the plain quotient gave 0.
  for (let index = 0; index < count; index++)
    best.offer(
      cosineOfVectors(query, vectors[from + index]!, scores[first + index]!, queryNorm, norms[from + index]!),
      from + index,
    );
}

/**
 * The `k` vectors most similar to `query`, best first (ties keep the lower index first; k beyond the
 * corpus gives every vector). Vectors are Float32Array, Float64Array, Int8Array or Uint8Array (each
 * element read as its number: bit-packed vectors go to `topKHamming`) or arrays of numbers, scored as
 * `cosineSimilarity` and `dot` score them: under cosine a vector of zeros, query or corpus, scores 0.
 * The corpus is checked whatever k, 0 included. Lengths of the candidate vectors are computed once per
 * corpus array and cached (a slot whose vector was replaced is measured again; a vector changed in place
 * is not noticed), so repeated queries over one corpus cost one dot product per vector. Runs on
 * WebAssembly SIMD where available (Float32Array corpora whose length is a multiple of 8), with the same
 * scores as the JavaScript path, bit for bit; from the second query over one corpus array, it reads a
 * copy of the corpus kept in WebAssembly memory (`keepCopy`, which holds the values as they were,
 * whatever the metric). After changing vectors in place, search a new array.
 */
export function topK(
  query: NumericVector,
  vectors: readonly NumericVector[],
  k: number,
  options: TopKOptions = {},
): ScoredIndex[] {
  checkSearch(query, vectors, true);
  refuseUnknownSettings(options, TOP_K_OPTIONS, 'topK', { noun: 'option' });
  checkBoolean(options.keepCopy, 'keepCopy');
  const metric = options.metric ?? 'cosine';
  if (metric !== 'cosine' && metric !== 'dot')
    throw new InvalidArgumentError(`metric must be 'cosine' or 'dot', got ${describeValue(metric)}.`, {
      argument: 'metric',
    });
  const limit = checkK(k, vectors.length);
  const dimensions = query.length;
  const layout = layoutOf(vectors, dimensions, 'dimensions', [Float32Array], true);
  const cosine = metric === 'cosine';
  const queryNorm = cosine ? norm(query) : 1;
  const { norms, measured } = layout;
  const best = new Best(limit);
  const kernels = layout.packed && dimensions > 0 && dimensions % 8 === 0 ? wasmKernels() : undefined;
  if (
    kernels === undefined ||
    // Per vector: its score, then (for lengths not measured yet) its squared length, 8 bytes each.
    !scoreCorpus(
      kernels,
      layout,
      options.keepCopy !== false,
      { vectorBytes: dimensions * 4, queryBytes: dimensions * 8, outBytes: 16 },
      (on, queryAt) => on.doubles.set(query, queryAt / 8),
      (on, at) => scoreFloats(on, layout, at, query, cosine, queryNorm, best),
    )
  ) {
    for (let index = 0; index < vectors.length; index++) {
      const vector = vectors[index]!;
      const product = dotUnchecked(query, vector);
      checkProduct(product, vectors, index);
      if (!cosine) {
        best.offer(product, index);
        continue;
      }
      if (measured[index] !== 1) {
        norms[index] = norm(vector);
        measured[index] = 1;
      }
      // A number array may hold values beyond a double's squares (1e200): scored as cosineSimilarity
      // scores it. Float32 vectors, all the kernels take, never are.
      best.offer(cosineOfVectors(query, vector, product, queryNorm, norms[index]!), index);
    }
  }
  return best.ranked();
}

// ---- int8 -------------------------------------------------------------------------------------------

/**
 * The `k` int8 vectors with the largest dot product with `query`, best first (ties keep the lower index
 * first); scores are exact integers, and the corpus is checked whatever k, 0 included. Runs on
 * WebAssembly SIMD where available; from the second query over one corpus array it reads a copy of the
 * corpus (`keepCopy`: a vector changed in place afterwards is not noticed).
 */
export function topKInt8(
  query: Int8Array,
  vectors: readonly Int8Array[],
  k: number,
  options: SearchOptions = {},
): ScoredIndex[] {
  checkSearch(query, vectors, false);
  refuseUnknownSettings(options, SEARCH_OPTIONS, 'topKInt8', { noun: 'option' });
  checkBoolean(options.keepCopy, 'keepCopy');
  const limit = checkK(k, vectors.length);
  const message = 'topKInt8 takes an Int8Array query and Int8Array vectors.';
  const dimensions = query?.length;
  if (!(query instanceof Int8Array)) throw notPacked(message);
  const layout = layoutOf(vectors, dimensions, 'dimensions', [Int8Array]);
  if (!layout.packed) throw notPacked(message);
  const best = new Best(limit);
  const kernels = dimensions > 0 && dimensions < INT8_KERNEL_LIMIT ? wasmKernels() : undefined;
  if (
    kernels === undefined ||
    !scoreCorpus(
      kernels,
      layout,
      options.keepCopy !== false,
      { vectorBytes: dimensions, queryBytes: dimensions, outBytes: 4 },
      (on, queryAt) => on.signedBytes.set(query, queryAt),
      (on, { queryAt, vectorsAt, outAt, count, from }) => {
        on.exports.dots_i8(queryAt, vectorsAt, count, dimensions, outAt);
        const scores = on.integers;
        for (let index = 0; index < count; index++) best.offer(scores[outAt / 4 + index]!, from + index);
      },
    )
  ) {
    // Every product and sum is an integer far below 2^53: exact in any order.
    for (let index = 0; index < vectors.length; index++)
      best.offer(dotUnchecked(query, vectors[index]!), index);
  }
  return best.ranked();
}

function notPacked(message: string): InvalidArgumentError {
  return new InvalidArgumentError(message, { argument: 'vectors' });
}

// ---- binary -----------------------------------------------------------------------------------------

/**
 * The `k` bit-packed vectors (`binary` / `ubinary`, 8 dimensions per byte) nearest to `query` in Hamming
 * distance, nearest first (ties keep the lower index first); the corpus is checked whatever k, 0
 * included. Every bit of every byte is compared: the search is not told the dimensions, so vectors whose
 * dimensions are not a multiple of 8 (embedkit refuses such dimensions for `binary` and `ubinary`) must
 * pack the bits past the last dimension as zeros, as numpy's `packbits` does. Runs on WebAssembly SIMD
 * where available; from the second query over one corpus array it reads a copy of the corpus
 * (`keepCopy`: a vector changed in place afterwards is not noticed).
 */
export function topKHamming(
  query: Int8Array | Uint8Array,
  vectors: readonly (Int8Array | Uint8Array)[],
  k: number,
  options: SearchOptions = {},
): NearestIndex[] {
  checkSearch(query, vectors, false);
  refuseUnknownSettings(options, SEARCH_OPTIONS, 'topKHamming', { noun: 'option' });
  checkBoolean(options.keepCopy, 'keepCopy');
  const limit = checkK(k, vectors.length);
  const message = 'topKHamming takes an Int8Array or Uint8Array query and vectors.';
  const bytes = query?.length;
  if (!isBytes(query)) throw notPacked(message);
  const layout = layoutOf(vectors, bytes, 'bytes', [Int8Array, Uint8Array]);
  if (!layout.packed) throw notPacked(message);
  // Fewer differing bits rank first: the heap keeps the highest scores, so it is given minus the distance.
  const best = new Best(limit);
  const kernels = bytes > 0 ? wasmKernels() : undefined;
  if (
    kernels === undefined ||
    !scoreCorpus(
      kernels,
      layout,
      options.keepCopy !== false,
      { vectorBytes: bytes, queryBytes: bytes, outBytes: 4 },
      (on, queryAt) => viewOf(on, query instanceof Int8Array ? Int8Array : Uint8Array).set(query, queryAt),
      (on, { queryAt, vectorsAt, outAt, count, from }) => {
        on.exports.hamming(queryAt, vectorsAt, count, bytes, outAt);
        const distances = on.integers;
        for (let index = 0; index < count; index++) best.offer(-distances[outAt / 4 + index]!, from + index);
      },
    )
  ) {
    for (let index = 0; index < vectors.length; index++)
      best.offer(-hammingUnchecked(query, vectors[index]!), index);
  }
  return best.ranked().map((entry) => ({ index: entry.index, distance: -entry.score }));
}
