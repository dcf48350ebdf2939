import { describeValue } from './argument-checks.js';
import { InvalidArgumentError, InvalidResponseError } from './errors.js';
import type { Embedding, OutputType } from './types.js';
import { WORK_START, wasmKernels } from './wasm/kernels.js';

/** Whether this machine stores numbers little-endian (as every API sends float32). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The parts of Node's `Buffer` the decoders use (it is absent in browsers and workers). */
export type NodeBuffer = Uint8Array & {
  write(text: string, offset: number, length: number, encoding: 'base64'): number;
  toString(encoding: 'latin1' | 'base64', start?: number, end?: number): string;
};
type BufferConstructorLike = {
  allocUnsafeSlow(size: number): NodeBuffer;
  from(buffer: ArrayBuffer, offset?: number, length?: number): NodeBuffer;
};
/** Node's `Buffer`, or undefined where there is none. */
export const NodeBufferClass = (globalThis as { Buffer?: BufferConstructorLike }).Buffer;

/**
 * Decoded size of base64 of `length` characters whose last two are `last` and `beforeLast` (character
 * codes), or -1 when that length cannot be base64. As `atob` reads it: `=` is padding only in a string
 * whose length is a multiple of 4, one or two of them at its end, so every runtime takes the same strings.
 */
export function base64Size(length: number, last: number, beforeLast: number): number {
  if (length % 4 === 0 && last === 61 /* = */) length -= beforeLast === 61 ? 2 : 1;
  if (length % 4 === 1) return -1;
  return Math.floor((length * 3) / 4);
}

/** Decoded size of a base64 string, or -1 when its length cannot be base64. */
function base64ByteLength(text: string): number {
  const length = text.length;
  return base64Size(length, text.charCodeAt(length - 1), text.charCodeAt(length - 2));
}

/** Decodes `text` into `target` at `offset`; returns the bytes written. */
function writeBase64(
  target: Uint8Array,
  text: string,
  offset: number,
  length: number,
  nodeBuffer: NodeBuffer | undefined,
): number {
  if (nodeBuffer !== undefined) return nodeBuffer.write(text, offset, length, 'base64');
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return -1;
  }
  const count = Math.min(binary.length, length);
  for (let index = 0; index < count; index++) target[offset + index] = binary.charCodeAt(index);
  return binary.length;
}

function bytesPerElement(outputType: OutputType): number {
  return outputType === 'float' ? 4 : 1;
}

/** Elements per vector for `dimensions`: bit-packed types hold 8 dimensions per byte. */
export function vectorLength(outputType: OutputType, dimensions: number): number {
  return outputType === 'binary' || outputType === 'ubinary' ? dimensions / 8 : dimensions;
}

function view(
  outputType: OutputType,
  buffer: ArrayBuffer,
  byteOffset: number,
  byteLength: number,
): Embedding {
  if (outputType === 'float') return new Float32Array(buffer, byteOffset, byteLength / 4);
  if (outputType === 'int8' || outputType === 'binary') return new Int8Array(buffer, byteOffset, byteLength);
  return new Uint8Array(buffer, byteOffset, byteLength);
}

/** Reverses the bytes of every float32 in place (big-endian machines). */
export function swapFloat32Bytes(bytes: Uint8Array): void {
  for (let index = 0; index + 3 < bytes.length; index += 4) {
    const a = bytes[index]!;
    const b = bytes[index + 1]!;
    bytes[index] = bytes[index + 3]!;
    bytes[index + 1] = bytes[index + 2]!;
    bytes[index + 2] = b;
    bytes[index + 3] = a;
  }
}

/** Values `allFinite` copies into the kernels' memory per step. */
const FINITE_CHUNK = 65_536;

/** Vectors at least this long are checked by the kernels (the JavaScript loop serves shorter ones). */
const FINITE_KERNEL_MIN = 256;

/**
 * Whether every float32 in `values` is finite. The kernels test 16 values per step on a copy in their
 * memory, a quarter megabyte at a time: measured 2.3 to 2.6 times faster than the JavaScript loop even
 * with the copy, from one vector of 1,024 values (0.25 against 0.58 µs; 0.69 against 1.74 µs at 3,072,
 * on Node 24). Where they cannot run, `value * 0` is 0 for every finite value and NaN for an infinity or
 * NaN, so four running sums of it decide with no branch per value.
 */
export function allFinite(values: Float32Array): boolean {
  const kernels = values.length >= FINITE_KERNEL_MIN ? wasmKernels() : undefined;
  if (kernels !== undefined) {
    kernels.reserve(WORK_START + Math.min(values.length, FINITE_CHUNK) * 4);
    for (let start = 0; start < values.length; start += FINITE_CHUNK) {
      const count = Math.min(FINITE_CHUNK, values.length - start);
      kernels.floats.set(
        start === 0 && count === values.length ? values : values.subarray(start, start + count),
        WORK_START / 4,
      );
      if (kernels.exports.all_finite(WORK_START, count) === 0) return false;
    }
    return true;
  }
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  const length = values.length;
  const end = length - (length % 4);
  let position = 0;
  for (; position < end; position += 4) {
    sum0 += values[position]! * 0;
    sum1 += values[position + 1]! * 0;
    sum2 += values[position + 2]! * 0;
    sum3 += values[position + 3]! * 0;
  }
  for (; position < length; position++) sum0 += values[position]! * 0;
  return sum0 + sum1 + sum2 + sum3 === 0;
}

/**
 * Decodes base64 vectors (little-endian float32 for `float`, raw bytes otherwise), each into its own
 * exactly sized buffer: a vector the caller keeps never pins its neighbours or the response. Every vector
 * must decode to the same, valid byte length. Float values are not checked for NaN or infinities here:
 * the engine checks every answer's vectors, naming the vector and its input (one pass, not two).
 */
export function decodeBase64Vectors(texts: readonly string[], outputType: OutputType = 'float'): Embedding[] {
  const width = bytesPerElement(outputType);
  const lengths = new Array<number>(texts.length);
  for (let index = 0; index < texts.length; index++) {
    const text = texts[index]!;
    const length = base64ByteLength(text);
    if (length <= 0 || length % width !== 0) {
      throw new InvalidResponseError(
        `Vector ${index} is not valid base64 of ${outputType} values (${text.length} characters${length < 0 ? ', a length no base64 text has' : ` decode to ${length} bytes`}).`,
      );
    }
    if (index > 0 && length !== lengths[0]) {
      throw new InvalidResponseError(
        `Vector ${index} decodes to ${length} bytes; vector 0 to ${lengths[0]}. Every vector of a response has one length.`,
      );
    }
    lengths[index] = length;
  }
  const out = new Array<Embedding>(texts.length);
  for (let index = 0; index < texts.length; index++) {
    const length = lengths[index]!;
    // Unpooled on Node: the buffer is exactly this vector's bytes.
    const own = NodeBufferClass !== undefined ? NodeBufferClass.allocUnsafeSlow(length) : undefined;
    const bytes: Uint8Array = own ?? new Uint8Array(length);
    const written = writeBase64(bytes, texts[index]!, 0, length, own);
    if (written !== length) {
      throw new InvalidResponseError(
        written < 0
          ? `Vector ${index} is not valid base64: it holds a character outside the base64 alphabet or a misplaced "=".`
          : `Vector ${index} is not valid base64: it decoded to ${written} bytes, expected ${length}.`,
      );
    }
    if (outputType === 'float' && !LITTLE_ENDIAN) swapFloat32Bytes(bytes);
    out[index] = view(outputType, bytes.buffer as ArrayBuffer, bytes.byteOffset, length);
  }
  return out;
}

/**
 * Copies JSON number arrays, each into its own exactly sized typed array. Every element must be a
 * number, and one that fits the output type when that is an integer type. `normalize` (float only)
 * scales each vector to unit length in the same pass that copies it, leaving vectors that already have
 * length 1 untouched. Float vectors that are already `Float32Array`s with a buffer of their own (what
 * `requestJson` with `floatVectors` returns) are used in place, never copied (and normalized in place).
 * Float values are not refused here for NaN or infinities: the one check of float values
 * (`nonFiniteValue`, which the engine runs on every answer) does that. A number too large for float32
 * (1e+39, which reads as Infinity) is handed on to that check as it was sent, for its message to quote.
 */
export function numberArraysToVectors(
  arrays: readonly unknown[],
  outputType: OutputType = 'float',
  options: { normalize?: boolean } = {},
): Embedding[] {
  if (outputType === 'float' && allOwnFloat32(arrays))
    return inPlace(arrays as readonly Float32Array[], options.normalize === true);
  for (let index = 0; index < arrays.length; index++) {
    const array = arrays[index];
    if (!(Array.isArray(array) || array instanceof Float32Array) || array.length === 0) {
      throw new InvalidResponseError(`Vector ${index} is not a non-empty array of numbers.`);
    }
  }
  const width = bytesPerElement(outputType);
  const out = new Array<Embedding>(arrays.length);
  const float = outputType === 'float';
  for (let index = 0; index < arrays.length; index++) {
    const array = arrays[index] as ArrayLike<unknown>;
    const vector = view(outputType, new ArrayBuffer(array.length * width), 0, array.length * width);
    let squares = 0;
    for (let position = 0; position < array.length; position++) {
      const value = array[position];
      if (typeof value !== 'number') throw notANumber(index, position, value);
      vector[position] = value;
      const stored = vector[position]!;
      if (float) squares += stored * stored;
      else if (stored !== value) {
        throw new InvalidResponseError(
          `Vector ${index} holds ${value} at position ${position}, outside the ${outputType} range.`,
        );
      }
    }
    if (float) {
      // The summed squares of float32 values cannot overflow a double: they are not finite only when a
      // value is not (NaN, an infinity, or a number beyond float32), found here at no cost per value.
      if (squares - squares !== 0) {
        const position = (vector as Float32Array).findIndex((value) => !Number.isFinite(value));
        keepSentNumber(vector as Float32Array, position, array[position] as number);
      } else if (options.normalize === true) scaleToUnit(vector as Float32Array, squares);
    }
    out[index] = vector;
  }
  return out;
}

/** Whether every entry is a non-empty `Float32Array` that is the whole of its own buffer. */
function allOwnFloat32(arrays: readonly unknown[]): boolean {
  if (arrays.length === 0) return false;
  for (const array of arrays) {
    if (
      !(array instanceof Float32Array) ||
      array.length === 0 ||
      array.byteOffset !== 0 ||
      array.byteLength !== array.buffer.byteLength
    )
      return false;
  }
  return true;
}

/** Decoded float vectors as they are or, when asked, each scaled to unit length in place. */
function inPlace(vectors: readonly Float32Array[], normalize: boolean): Float32Array[] {
  if (!normalize) return vectors as Float32Array[];
  for (const vector of vectors) {
    let squares = 0;
    for (let position = 0; position < vector.length; position++)
      squares += vector[position]! * vector[position]!;
    scaleToUnit(vector, squares);
  }
  return vectors as Float32Array[];
}

/**
 * Divides `vector` by the root of `squares` (its summed squares), unless that is 1 or 0, or not finite: a
 * vector holding NaN or an infinity is left as sent, for the check of float values to name the value.
 */
function scaleToUnit(vector: Float32Array, squares: number): void {
  if (squares === 1 || !(squares > 0 && squares < Number.POSITIVE_INFINITY)) return;
  const length = Math.sqrt(squares);
  for (let position = 0; position < vector.length; position++) vector[position]! /= length;
}

function notANumber(index: number, position: number, value: unknown): InvalidResponseError {
  return new InvalidResponseError(
    `Vector ${index} holds ${describeAnswerValue(value)} at position ${position}, not a finite number.`,
  );
}

/**
 * The number a JSON copy read as an infinity, beyond float32 (`1e+39`), kept with its vector as sent, and
 * where: the check of float values quotes it, as a reader of the answer would find it.
 */
const sentNumbers = new WeakMap<Float32Array, { position: number; value: number }>();

/**
 * Keeps `value`, the number JSON sent at `position` of `vector` that reads there as an infinity: the copy
 * of a parsed array and the parser of the body bytes (json-vectors.ts) call it, only for such a number.
 */
export function keepSentNumber(vector: Float32Array, position: number, value: number): void {
  sentNumbers.set(vector, { position, value });
}

/**
 * The one check of a float vector's values (the engine's, of every answer; a batch job's results, which
 * reach no engine, call it too): the first value that is not a finite number, told as "1e+39 at position
 * 3" (a number beyond float32 as the JSON it came in sent it, when `numberArraysToVectors` copied it or
 * `requestJson` read it from the body bytes; else NaN or the infinity it reads as), or undefined when every
 * value is finite.
 */
export function nonFiniteValue(vector: Float32Array): string | undefined {
  if (allFinite(vector)) return undefined;
  const position = vector.findIndex((value) => !Number.isFinite(value));
  const sent = sentNumbers.get(vector);
  // A value changed since the copy is told as it is now.
  const value =
    sent?.position === position && Object.is(Math.fround(sent.value), vector[position])
      ? sent.value
      : vector[position];
  return `${value} at position ${position}`;
}

/**
 * A value an answer holds where a number belongs, told by its kind: a number, `null` or a boolean as it is, a string
 * by its length only (a server may echo a request header, the key's among them, where a number belongs),
 * anything else by its type.
 */
export function describeAnswerValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === undefined ? 'nothing' : `a value of type ${typeof value}`;
}

/** Decodes one base64 string of little-endian float32 values. */
export function base64ToFloat32(text: string): Float32Array {
  return decodeBase64Vectors([text], 'float')[0] as Float32Array;
}

/** Decodes one base64 string of signed bytes (`int8` or bit-packed `binary`). */
export function base64ToInt8(text: string): Int8Array {
  return decodeBase64Vectors([text], 'int8')[0] as Int8Array;
}

/** Decodes one base64 string of unsigned bytes (`uint8` or bit-packed `ubinary`). */
export function base64ToUint8(text: string): Uint8Array {
  return decodeBase64Vectors([text], 'uint8')[0] as Uint8Array;
}

/** Views little-endian float32 bytes as a `Float32Array`; copies only when the bytes are misaligned. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0)
    throw new InvalidArgumentError(`${bytes.byteLength} bytes is not a whole number of float32 values.`);
  const aligned = bytes.byteOffset % 4 === 0;
  // `new Uint8Array(bytes)` copies; a Node Buffer's `slice()` would be a view at the same misaligned offset.
  const source = aligned ? bytes : new Uint8Array(bytes);
  if (!LITTLE_ENDIAN) {
    const copy = aligned ? new Uint8Array(bytes) : source;
    swapFloat32Bytes(copy);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return new Float32Array(source.buffer, source.byteOffset, source.byteLength / 4);
}

/** Standard base64 of `bytes`, with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBufferClass !== undefined) {
    return NodeBufferClass.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength).toString(
      'base64',
    );
  }
  let binary = '';
  // Chunks keep String.fromCharCode under the engine's argument limit.
  for (let start = 0; start < bytes.length; start += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}

/** Encodes float32 values as little-endian base64 (the form OpenAI-compatible APIs return). */
export function float32ToBase64(vector: Float32Array | readonly number[]): string {
  const values = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  if (!LITTLE_ENDIAN) swapFloat32Bytes(bytes);
  return bytesToBase64(bytes);
}

/** Any vector the similarity helpers take: a typed array of any kind an embedding comes in, or numbers. */
export type NumericVector = Float32Array | Float64Array | Int8Array | Uint8Array | readonly number[];

/** An array or a typed array: a DataView, though a view, holds no elements to read by index. */
export function isVector(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/**
 * Two vectors of one length: anything else (null, a string, whose characters would be multiplied) is an
 * InvalidArgumentError, not a TypeError or an answer.
 */
function assertSameLength(
  a: NumericVector,
  b: NumericVector,
  isKind: (vector: unknown) => boolean = isVector,
  kind = 'typed arrays or arrays of numbers',
): void {
  if (!(isKind(a) && isKind(b))) throw new InvalidArgumentError(`Vectors must be ${kind}.`);
  if (a.length !== b.length)
    throw new InvalidArgumentError(`Vectors differ in length: ${a.length} and ${b.length}.`);
}

/**
 * The dot product of two vectors of equal length. A NaN or an infinity in either is an
 * InvalidArgumentError naming it (it answered NaN or an infinity, which ranks first); finite values whose
 * product leaves a double's range (1e200) give the infinity they make.
 */
export function dot(a: NumericVector, b: NumericVector): number {
  assertSameLength(a, b);
  const product = dotUnchecked(a, b);
  if (product - product !== 0) refuseNonFinitePair('dot', a, b);
  return product;
}

/** The Euclidean length of a vector. */
export function norm(vector: NumericVector): number {
  return Math.sqrt(dotUnchecked(vector, vector));
}

/**
 * Element i goes to sum (i mod 8), and the sums meet as ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)):
 * independent sums let the CPU overlap the multiply-adds, and this exact order is the one the
 * WebAssembly search kernel computes four pairs of lanes in, so both give the same doubles.
 */
export function dotUnchecked(a: NumericVector, b: NumericVector): number {
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  let sum4 = 0;
  let sum5 = 0;
  let sum6 = 0;
  let sum7 = 0;
  const length = a.length;
  const end = length - (length % 8);
  let index = 0;
  for (; index < end; index += 8) {
    sum0 += a[index]! * b[index]!;
    sum1 += a[index + 1]! * b[index + 1]!;
    sum2 += a[index + 2]! * b[index + 2]!;
    sum3 += a[index + 3]! * b[index + 3]!;
    sum4 += a[index + 4]! * b[index + 4]!;
    sum5 += a[index + 5]! * b[index + 5]!;
    sum6 += a[index + 6]! * b[index + 6]!;
    sum7 += a[index + 7]! * b[index + 7]!;
  }
  // The tail keeps the same rule: element i to sum (i mod 8).
  if (index < length) sum0 += a[index]! * b[index]!;
  if (index + 1 < length) sum1 += a[index + 1]! * b[index + 1]!;
  if (index + 2 < length) sum2 += a[index + 2]! * b[index + 2]!;
  if (index + 3 < length) sum3 += a[index + 3]! * b[index + 3]!;
  if (index + 4 < length) sum4 += a[index + 4]! * b[index + 4]!;
  if (index + 5 < length) sum5 += a[index + 5]! * b[index + 5]!;
  if (index + 6 < length) sum6 += a[index + 6]! * b[index + 6]!;
  return sum0 + sum2 + (sum4 + sum6) + (sum1 + sum3 + (sum5 + sum7));
}

/**
 * The cosine of two vectors from their dot product and lengths, in [-1, 1]; 0 when either is all zeros.
 * `cosineSimilarity` and `topK` both end here, so they give one score for one pair.
 */
export function cosineOfParts(product: number, lengthA: number, lengthB: number): number {
  const denominator = lengthA * lengthB;
  if (denominator === 0) return 0;
  // Rounding can carry the quotient a unit past 1 for parallel vectors; a cosine never is.
  return Math.min(1, Math.max(-1, product / denominator));
}

/**
 * Cosine similarity in [-1, 1]; 0 when either vector is all zeros. A NaN or an infinity in either is an
 * InvalidArgumentError naming it, as `topK` refuses one (it answered NaN, which no threshold passes).
 */
export function cosineSimilarity(a: NumericVector, b: NumericVector): number {
  assertSameLength(a, b);
  const cosine = cosineOfVectors(a, b, dotUnchecked(a, b), norm(a), norm(b));
  // Finite values always give a cosine (their lengths are scaled into reach): NaN means a value is not.
  if (cosine - cosine !== 0) refuseNonFinitePair('cosineSimilarity', a, b);
  return cosine;
}

/**
 * The cosine of `a` and `b` from their dot product and lengths, as {@link cosineOfParts} gives it, unless
 * a length is out of a double's reach. A number array or a Float64Array may hold values whose squares
 * overflow a double (beyond about 1e154: a length of Infinity, a cosine of NaN) or fall below its range
 * (under about 1e-154: a length of 0, a cosine of 0). The cosine is then taken of the vectors divided by
 * their largest values, which keeps the angle. Float32 values and bytes come near neither end: their
 * vectors take that path only when one is all zeros. `cosineSimilarity` and `topK`'s JavaScript loop both
 * end here, so they agree at either end too.
 */
export function cosineOfVectors(
  a: NumericVector,
  b: NumericVector,
  product: number,
  lengthA: number,
  lengthB: number,
): number {
  if (!(lengthA > 1e-150 && lengthB > 1e-150 && lengthA * lengthB < Infinity)) {
    // An all-zero vector (the one way float32 vectors come here) scores 0 before the other is copied: a
    // search for a zero query would otherwise copy every vector of the corpus, and one for any query the
    // query once for each zero vector in it. Only a vector whose length is out of reach can be all zeros,
    // so that one is scaled first.
    const [first, second] = lengthA > 1e-150 ? [b, a] : [a, b];
    const scaledFirst = scaledByLargest(first);
    if (scaledFirst === undefined) return 0;
    const scaledSecond = scaledByLargest(second);
    if (scaledSecond === undefined) return 0;
    return cosineOfParts(dotUnchecked(scaledFirst, scaledSecond), norm(scaledFirst), norm(scaledSecond));
  }
  return cosineOfParts(product, lengthA, lengthB);
}

/** `vector` divided by its largest magnitude; undefined when it is all zeros. */
function scaledByLargest(vector: NumericVector): Float64Array | undefined {
  let largest = 0;
  for (let index = 0; index < vector.length; index++) largest = Math.max(largest, Math.abs(vector[index]!));
  return largest === 0 ? undefined : Float64Array.from(vector, (value) => value / largest);
}

/**
 * The vector as a plain `number[]`, for APIs that take no typed arrays (the AI SDK, LangChain, JSON). A
 * preallocated array filled by index: on Node 24 at 1,024 values about 15x faster than `Array.from`.
 */
export function toNumberArray(vector: Float32Array | Int8Array | Uint8Array): number[] {
  const length = vector.length;
  const out = new Array<number>(length);
  for (let index = 0; index < length; index++) out[index] = vector[index]!;
  return out;
}

/**
 * A unit-length copy of `vector` (an all-zero vector is returned as zeros). A value that is not a finite
 * float32 (NaN, an infinity, or a number beyond float32's range) is an InvalidArgumentError: it has no
 * direction to keep.
 */
export function normalize(vector: Float32Array | readonly number[]): Float32Array {
  return toUnitLength(vector, 'normalize', true);
}

/**
 * Refuses `vector` when one of its values is not a finite number, as "<subject> holds <value> at position
 * <i>; <rule>." (`shown` is what the caller passed when `vector` is a float32 copy of it: a number beyond
 * float32 is named as given, not as the infinity it became). The one wording of every vector function.
 */
export function refuseNonFinite(
  vector: ArrayLike<unknown>,
  subject: string,
  rule: string,
  argument: string,
  shown: ArrayLike<unknown> = vector,
): void {
  for (let position = 0; position < vector.length; position++) {
    const value = vector[position];
    if (typeof value !== 'number' || value - value !== 0)
      throw new InvalidArgumentError(
        `${subject} holds ${describeValue(shown[position])} at position ${position}; ${rule}.`,
        { argument },
      );
  }
}

/** Refuses `a` or `b` (in that order) holding NaN or an infinity. */
function refuseNonFinitePair(caller: string, a: NumericVector, b: NumericVector): void {
  const rule = `${caller} takes finite numbers`;
  refuseNonFinite(a, 'Vector a', rule, 'a');
  refuseNonFinite(b, 'Vector b', rule, 'b');
}

/**
 * Scales `vector` to unit length in place and returns it. A corpus array searched before holds its
 * vectors as they were (`topK` and its kin keep a copy, and cosine lengths): search a new array after.
 * A vector holding NaN or an infinity is an InvalidArgumentError, as in `normalize`, and is left as it
 * was: divided by its length, every value would turn to NaN or 0.
 */
export function normalizeInPlace(vector: Float32Array): Float32Array {
  return toUnitLength(vector, 'normalizeInPlace');
}

/**
 * Divides `given` (or, with `copy`, a float32 copy of it) by its length in place, unless that is 0 or 1,
 * for `caller`: refused when it is no vector, or a value is not a finite float32 (named as given).
 */
function toUnitLength(given: Float32Array | readonly number[], caller: string, copy = false): Float32Array {
  // The check of a pair's vectors, for one: a string or null is refused, not read.
  assertSameLength(given, given);
  const vector = copy ? Float32Array.from(given) : (given as Float32Array);
  const length = norm(vector);
  // Read as float32 values: a number array given in place beyond float32 (1e200) is refused, not zeroed.
  if (!Number.isFinite(length))
    refuseNonFinite(
      Float32Array.from(vector),
      'The vector',
      `${caller} takes finite float32 values`,
      'vector',
      given,
    );
  if (length !== 0 && length !== 1)
    for (let index = 0; index < vector.length; index++) vector[index]! /= length;
  return vector;
}

const POPCOUNT = new Uint8Array(256);
for (let value = 1; value < 256; value++) POPCOUNT[value] = (value & 1) + POPCOUNT[value >> 1]!;

/**
 * Number of differing bits between two bit-packed vectors (`binary` / `ubinary`), every bit of every byte
 * counted: pack the bits past the last dimension as zeros. Other arrays are an InvalidArgumentError (the
 * bits of 256 or 1.5 are not a byte's).
 */
export function hammingDistance(a: Int8Array | Uint8Array, b: Int8Array | Uint8Array): number {
  assertSameLength(a, b, isBytes, 'Int8Arrays or Uint8Arrays');
  return hammingUnchecked(a, b);
}

/** Whether `vector` holds bytes, signed or not (the bit-packed vectors Hamming distances compare). */
export function isBytes(vector: unknown): vector is Int8Array | Uint8Array {
  return vector instanceof Int8Array || vector instanceof Uint8Array;
}

/** `hammingDistance` without the length check. */
export function hammingUnchecked(a: Int8Array | Uint8Array, b: Int8Array | Uint8Array): number {
  let distance = 0;
  for (let index = 0; index < a.length; index++) distance += POPCOUNT[(a[index]! ^ b[index]!) & 0xff]!;
  return distance;
}
