/**
 * Float vectors straight from JSON response bytes. A response of 1,000 vectors of 1,024 floats is about
 * 12 MB of digits; `JSON.parse` spends most of a float answer's CPU building a `number[]` per vector that
 * is then copied into a slab. Here a small scanner walks only the envelope, every vector array at the
 * paths a provider names is parsed from the bytes into a `Float32Array` that owns its buffer (so a vector
 * the caller keeps pins nothing else), base64 vectors are decoded without ever becoming part of a parsed
 * string, and `JSON.parse` reads the envelope with each vector elided.
 *
 * Contract: every value is bit-identical to `Math.fround(JSON.parse(text))`. Anything the fast path does
 * not handle exactly as `JSON.parse` would (a malformed number, an element that is not a number, vectors
 * of different lengths, an escaped key, a byte-order mark) makes it step aside: the caller then parses
 * the whole body with `JSON.parse` as before, so every error is the one that path gives.
 */

import { InvalidArgumentError } from './errors.js';
import { base64Size, keepSentNumber, LITTLE_ENDIAN, NodeBufferClass, swapFloat32Bytes } from './vectors.js';
import { type Kernels, releaseLargeMemory, WORK_START, wasmKernels } from './wasm/kernels.js';

/** A compiled path trie: object keys, array items (`[*]`), and whether a vector sits here. */
interface PathNode {
  keys: { name: string; bytes: Uint8Array; node: PathNode }[];
  items: PathNode | undefined;
  vector: boolean;
}

const compiled = new Map<string, PathNode>();

function newNode(): PathNode {
  return { keys: [], items: undefined, vector: false };
}

const PATH_SEGMENT = /^([^.[\]]*)((?:\[\*\])*)$/;

/**
 * Compiles paths such as `data[*].embedding`, `embeddings[*].values` or `embedding.values` into one
 * trie. A segment is a key, optionally followed by `[*]` for every item of an array.
 */
function compilePaths(paths: readonly string[]): PathNode {
  // JSON of the list: a key no other list shares (a path may hold any character but `.`, `[` and `]`).
  const cacheKey = JSON.stringify(paths);
  const cached = compiled.get(cacheKey);
  if (cached !== undefined) return cached;
  const root = newNode();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  for (const path of paths) {
    let node = root;
    const segments = path.split('.');
    for (let index = 0; index < segments.length; index++) {
      const match = PATH_SEGMENT.exec(segments[index]!);
      const name = match?.[1];
      // Only a leading segment may be a bare `[*]` (a body that is itself an array).
      if (match === null || name === undefined || (name === '' && (index > 0 || match[2] === ''))) {
        throw new InvalidArgumentError(
          `"${path}" is not a vector path; write keys separated by dots, with [*] for every array item, e.g. data[*].embedding.`,
          { argument: 'floatVectors' },
        );
      }
      if (name !== '') {
        let child = node.keys.find((key) => key.name === name)?.node;
        if (child === undefined) {
          const bytes = encoder.encode(name);
          // Keys are matched by their UTF-8 bytes, which is how JSON.parse tells them apart only for a
          // name without U+FFFD: the body's decoder makes that of malformed bytes (another key to the
          // scanner), and a lone surrogate in the name is encoded as it. Such a key would leave a label
          // in the value, or lose the value there.
          if (decoder.decode(bytes).includes('\uFFFD')) {
            throw new InvalidArgumentError(
              `"${path}" is not a vector path; a key may not hold U+FFFD or a lone surrogate.`,
              { argument: 'floatVectors' },
            );
          }
          child = newNode();
          node.keys.push({ name, bytes, node: child });
        }
        node = child;
      }
      for (let star = 0; star < match[2]!.length / 3; star++) {
        node.items ??= newNode();
        node = node.items;
      }
    }
    node.vector = true;
  }
  compiled.set(cacheKey, root);
  return root;
}

// ---- numbers ----------------------------------------------------------------------------------------

/** Powers of ten a double holds exactly (10^22 is the largest). */
const POWERS_OF_TEN = new Float64Array(23);
for (let exponent = 0; exponent < 23; exponent++) POWERS_OF_TEN[exponent] = Number(`1e${exponent}`);

/** 2^53: every integer up to it is a double. */
const EXACT_INTEGER_LIMIT = 9007199254740992;
/** Exponents are read up to this; a longer one sends its number to `Number()`. */
const EXPONENT_CAP = 100_000;
/** 2^-51: the relative error bound per digit of the approximate path (see `parseNumberArray`). */
const ERROR_PER_DIGIT = 2 ** -51;

const asciiDecoder = new TextDecoder();

/** The first number beyond float32 the array being read holds, and its position; kept with its vector. */
let overflow: { position: number; value: number } | undefined;

/**
 * `Number()` of the validated ASCII number at `start`..`end`, value `position` of its array: the exact
 * path, as `JSON.parse` reads it. Every number beyond float32 comes here (the others cannot reach it),
 * and the first is noted, for the engine's check to quote as sent.
 */
function exactNumber(bytes: Uint8Array, start: number, end: number, position: number): number {
  const value = Number(asciiDecoder.decode(bytes.subarray(start, end)));
  if (overflow === undefined && !Number.isFinite(Math.fround(value))) overflow = { position, value };
  return value;
}

/** Where the last `parseNumberArray` stopped: the byte after its `]`. */
let parsedEnd = 0;

/**
 * Parses the JSON array of numbers whose `[` is at `start` into `out` from `offset`, at most `limit`
 * values. Returns how many it read, or -1 when the bytes are anything but such an array (a malformed
 * number, a non-number element, more than `limit` values).
 *
 * A number with at most 2^53 as its digits and a decimal exponent within ±22 is one correctly rounded
 * double operation away (both operands are exact doubles): the same double `JSON.parse` reads. A longer
 * mantissa (17-digit doubles some servers print) is approximated with a relative error below
 * digits x 2^-51; when every double within that error rounds to one float32, that float32 is the answer,
 * since the double `JSON.parse` would read lies within it. Anything else goes through `Number()`.
 */
function parseNumberArray(
  bytes: Uint8Array,
  start: number,
  out: Float32Array,
  offset: number,
  limit: number,
): number {
  let position = start + 1;
  let byte = bytes[position]!;
  while (byte === 32 || byte === 10 || byte === 13 || byte === 9) byte = bytes[++position]!;
  if (byte === 93 /* ] */) {
    parsedEnd = position + 1;
    return 0;
  }
  let count = 0;
  for (;;) {
    if (count === limit) return -1;
    const numberStart = position;
    let negative = false;
    if (byte === 45 /* - */) {
      negative = true;
      byte = bytes[++position]!;
    }
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    let exponentBeyondCap = false;
    if (byte === 48 /* 0 */) {
      // JSON allows no leading zeros: a digit after this one is caught by the delimiter check below.
      byte = bytes[++position]!;
    } else if (byte >= 49 && byte <= 57) {
      const digitsStart = position;
      do {
        mantissa = mantissa * 10 + (byte - 48);
        byte = bytes[++position]!;
      } while (byte >= 48 && byte <= 57);
      digits = position - digitsStart;
    } else {
      return -1;
    }
    if (byte === 46 /* . */) {
      byte = bytes[++position]!;
      if (!(byte >= 48 && byte <= 57)) return -1;
      const fractionStart = position;
      do {
        mantissa = mantissa * 10 + (byte - 48);
        byte = bytes[++position]!;
      } while (byte >= 48 && byte <= 57);
      scale = fractionStart - position;
      digits += position - fractionStart;
    }
    if (byte === 101 || byte === 69 /* e E */) {
      byte = bytes[++position]!;
      let exponentNegative = false;
      if (byte === 45) {
        exponentNegative = true;
        byte = bytes[++position]!;
      } else if (byte === 43 /* + */) {
        byte = bytes[++position]!;
      }
      if (!(byte >= 48 && byte <= 57)) return -1;
      let exponent = 0;
      do {
        // Past the cap the exponent is not kept: `Number()` reads the number below. (A capped exponent
        // must not count: a fraction of as many digits would bring it back within +-22.)
        if (exponent < EXPONENT_CAP) exponent = exponent * 10 + (byte - 48);
        else exponentBeyondCap = true;
        byte = bytes[++position]!;
      } while (byte >= 48 && byte <= 57);
      scale += exponentNegative ? -exponent : exponent;
    }
    let value: number;
    if (mantissa === 0) {
      value = negative ? -0 : 0;
    } else if (scale >= -22 && scale <= 22 && !exponentBeyondCap) {
      value = scale < 0 ? mantissa / POWERS_OF_TEN[-scale]! : mantissa * POWERS_OF_TEN[scale]!;
      if (negative) value = -value;
      if (mantissa > EXACT_INTEGER_LIMIT) {
        const margin = value * digits * ERROR_PER_DIGIT;
        // Not 0 also when both ends are one infinity: a number beyond float32 is read the exact way.
        if (Math.fround(value - margin) - Math.fround(value + margin) !== 0)
          value = exactNumber(bytes, numberStart, position, count);
      }
    } else {
      value = exactNumber(bytes, numberStart, position, count);
    }
    out[offset + count++] = value;
    while (byte === 32 || byte === 10 || byte === 13 || byte === 9) byte = bytes[++position]!;
    if (byte === 44 /* , */) {
      byte = bytes[++position]!;
      while (byte === 32 || byte === 10 || byte === 13 || byte === 9) byte = bytes[++position]!;
      continue;
    }
    if (byte === 93 /* ] */) {
      parsedEnd = position + 1;
      return count;
    }
    return -1;
  }
}

// ---- the envelope scanner ---------------------------------------------------------------------------

/** Why the scanner gave up; the caller then parses the whole body with `JSON.parse`. */
const GIVE_UP = -1;

function isSpace(byte: number | undefined): boolean {
  return byte === 32 || byte === 10 || byte === 13 || byte === 9;
}

function skipSpace(bytes: Uint8Array, position: number): number {
  while (isSpace(bytes[position])) position++;
  return position;
}

/**
 * Whether `bytes` end with a bracket or a string of their first value still open: JSON cut short, as
 * `requestJson` tells it (the parser's words differ between runtimes).
 */
export function endsOpen(bytes: Uint8Array): boolean {
  return skipValue(bytes, skipSpace(bytes, 0)) === GIVE_UP;
}

/** The position after the string whose opening quote is at `position`. */
function skipString(bytes: Uint8Array, position: number): number {
  for (;;) {
    const quote = bytes.indexOf(34, position + 1);
    if (quote < 0) return GIVE_UP;
    let backslash = quote - 1;
    while (bytes[backslash] === 92) backslash--;
    // An even run of backslashes before the quote escapes only itself.
    if ((quote - 1 - backslash) % 2 === 0) return quote + 1;
    position = quote;
  }
}

/** The position after the value at `position`, whatever it is (nothing inside is parsed). */
function skipValue(bytes: Uint8Array, position: number): number {
  const first = bytes[position];
  if (first === 34) return skipString(bytes, position);
  if (first === 123 || first === 91) {
    let depth = 0;
    for (;;) {
      const byte = bytes[position];
      if (byte === undefined) return GIVE_UP;
      if (byte === 34) {
        position = skipString(bytes, position);
        if (position === GIVE_UP) return GIVE_UP;
        continue;
      }
      if (byte === 123 || byte === 91) depth++;
      else if (byte === 125 || byte === 93) {
        depth--;
        if (depth === 0) return position + 1;
      }
      position++;
    }
  }
  // A number or a literal: it runs to the next delimiter.
  while (position < bytes.length) {
    const byte = bytes[position]!;
    if (byte === 44 || byte === 125 || byte === 93 || isSpace(byte)) break;
    position++;
  }
  return position;
}

/** What the scanner found: every vector value at a path, in document order. */
interface Found {
  /** Byte offsets of each vector value (an array or a base64 string, quotes included). */
  starts: number[];
  ends: number[];
  /** 0: a JSON array of numbers; 1: a base64 string of little-endian float32. */
  kinds: number[];
  /** Parses each array as the scanner reaches it (which is how the scanner learns where it ends). */
  arrays: ArrayReader;
}

/** Whether the key at `start`..`end` (quotes excluded) is `name`. */
function keyIs(bytes: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let index = 0; index < name.length; index++) if (bytes[start + index] !== name[index]) return false;
  return true;
}

/**
 * Walks the value at `position` along `node`, recording every vector value it reaches; returns the
 * position after the value or `GIVE_UP`.
 */
function scanValue(
  bytes: Uint8Array,
  position: number,
  node: PathNode,
  found: Found,
  base64: boolean,
): number {
  const first = bytes[position];
  if (node.vector) {
    if (first === 91) {
      // Parsed here: the parser finds the `]` that ends it, reading each byte once.
      const end = found.arrays.read(position);
      if (end === GIVE_UP) return GIVE_UP;
      found.starts.push(position);
      found.ends.push(end);
      found.kinds.push(0);
      return end;
    }
    if (first === 34 && base64) {
      const end = skipString(bytes, position);
      if (end === GIVE_UP) return GIVE_UP;
      found.starts.push(position);
      found.ends.push(end);
      found.kinds.push(1);
      return end;
    }
    // Anything else stays in the envelope for the provider's own checks, walked like any other value
    // when a longer path goes through it (paths `y` and `y.values`: an object at `y` may hold a vector).
    if (node.keys.length === 0 && node.items === undefined) return skipValue(bytes, position);
  }
  if (first === 123 && node.keys.length > 0) {
    position = skipSpace(bytes, position + 1);
    if (bytes[position] === 125) return position + 1;
    for (;;) {
      if (bytes[position] !== 34) return GIVE_UP;
      const keyEnd = skipString(bytes, position);
      if (keyEnd === GIVE_UP) return GIVE_UP;
      // An escaped key could spell a path key in another way: JSON.parse must decide.
      for (let at = position + 1; at < keyEnd; at++) if (bytes[at] === 92) return GIVE_UP;
      let child: PathNode | undefined;
      for (const key of node.keys) {
        if (keyIs(bytes, position + 1, keyEnd - 1, key.bytes)) {
          child = key.node;
          break;
        }
      }
      position = skipSpace(bytes, keyEnd);
      if (bytes[position] !== 58 /* : */) return GIVE_UP;
      position = skipSpace(bytes, position + 1);
      position =
        child === undefined ? skipValue(bytes, position) : scanValue(bytes, position, child, found, base64);
      if (position === GIVE_UP) return GIVE_UP;
      position = skipSpace(bytes, position);
      const next = bytes[position];
      if (next === 125) return position + 1;
      if (next !== 44) return GIVE_UP;
      position = skipSpace(bytes, position + 1);
    }
  }
  if (first === 91 && node.items !== undefined) {
    position = skipSpace(bytes, position + 1);
    if (bytes[position] === 93) return position + 1;
    for (;;) {
      position = scanValue(bytes, position, node.items, found, base64);
      if (position === GIVE_UP) return GIVE_UP;
      position = skipSpace(bytes, position);
      const next = bytes[position];
      if (next === 93) return position + 1;
      if (next !== 44) return GIVE_UP;
      position = skipSpace(bytes, position + 1);
    }
  }
  return skipValue(bytes, position);
}

// ---- base64 -----------------------------------------------------------------------------------------

/** Bytes a base64 string of `length` characters (quotes excluded) decodes to, or -1. */
function base64Bytes(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  return base64Size(length, length > 0 ? bytes[end - 1]! : -1, length > 1 ? bytes[end - 2]! : -1);
}

/**
 * Decodes the base64 vectors (strings at `found` positions of `kinds` 1), each into a buffer of its own; undefined when
 * any is not plain base64 of the same whole number of floats (the `JSON.parse` path then explains).
 */
function decodeBase64(bytes: Uint8Array, found: Found, indices: number[]): Float32Array[] | undefined {
  if (indices.length === 0) return undefined;
  const first = indices[0]!;
  const length = base64Bytes(bytes, found.starts[first]! + 1, found.ends[first]! - 1);
  if (length <= 0 || length % 4 !== 0) return undefined;
  // Node's decoder first: on Node 22 and later it is faster than the WebAssembly one (measured: 6-7 µs
  // against 9 µs per 3,072-float vector), which serves where there is no Buffer (browsers, workers).
  if (NodeBufferClass !== undefined) return decodeBase64WithBuffer(bytes, found, indices, length);
  const kernels = wasmKernels();
  if (kernels === undefined) return undefined;
  try {
    return decodeBase64WithKernels(kernels, bytes, found, indices, length);
  } catch (error) {
    // No memory for the decoded vectors: the strings stay in the body for the provider to decode.
    if (error instanceof RangeError) return undefined;
    throw error;
  } finally {
    releaseLargeMemory();
  }
}

/**
 * Node's own base64 decoder, one string at a time, each straight into an unpooled buffer of exactly its
 * bytes: a vector the caller keeps pins nothing else.
 */
function decodeBase64WithBuffer(
  bytes: Uint8Array,
  found: Found,
  indices: number[],
  length: number,
): Float32Array[] | undefined {
  if (NodeBufferClass === undefined) return undefined;
  const text = NodeBufferClass.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<Float32Array>(indices.length);
  for (let index = 0; index < indices.length; index++) {
    const at = indices[index]!;
    const start = found.starts[at]! + 1;
    const end = found.ends[at]! - 1;
    if (base64Bytes(bytes, start, end) !== length) return undefined;
    const own = NodeBufferClass.allocUnsafeSlow(length);
    // Any character outside the base64 alphabet (a JSON escape such as `\/` included) is skipped by the
    // decoder, so fewer bytes come out than the length promised: JSON.parse then unescapes the string.
    if (own.write(text.toString('latin1', start, end), 0, length, 'base64') !== length) return undefined;
    if (!LITTLE_ENDIAN) swapFloat32Bytes(own);
    // Values are checked by the engine, which names a vector that holds NaN or an infinity.
    out[index] = new Float32Array(own.buffer, own.byteOffset, length / 4);
  }
  return out;
}

/**
 * Decodes the strings with the WebAssembly decoder, a window of the body at a time, straight from the
 * bytes (no string is made of them), each vector then copied out into a buffer of its own; undefined
 * when any string holds a character outside the standard alphabet (a JSON escape, base64url, whitespace)
 * or decodes to another length: Node's decoder, after JSON.parse, then has the last word. Values are not
 * checked here: the engine does that, and names the vector.
 */
function decodeBase64WithKernels(
  kernels: Kernels,
  bytes: Uint8Array,
  found: Found,
  indices: number[],
  length: number,
): Float32Array[] | undefined {
  const { exports } = kernels;
  const out = new Array<Float32Array>(indices.length);
  let next = 0;
  while (next < indices.length) {
    const base = found.starts[indices[next]!]! + 1;
    let last = next + 1;
    while (last < indices.length && found.ends[indices[last]!]! - base <= PARSE_WINDOW) last++;
    const count = last - next;
    const windowLength = found.ends[indices[last - 1]!]! - 1 - base;
    // Layout: (start, end) pairs, the window (plus 16 bytes a block may read past it), the bytes (plus 4
    // a block writes past them).
    const rangesAt = WORK_START;
    const inputAt = rangesAt + count * 8;
    const outAt = (inputAt + windowLength + 16 + 15) & ~15;
    kernels.reserve(outAt + count * length + 16);
    const memory = kernels.bytes;
    memory.set(bytes.subarray(base, base + windowLength), inputAt);
    const integers = kernels.integers;
    for (let index = 0; index < count; index++) {
      const at = indices[next + index]!;
      integers[rangesAt / 4 + index * 2] = found.starts[at]! + 1 - base + inputAt;
      integers[rangesAt / 4 + index * 2 + 1] = found.ends[at]! - 1 - base + inputAt;
    }
    if (exports.decode_base64(rangesAt, count, outAt, length) !== count) return undefined;
    for (let index = 0; index < count; index++) {
      const own = memory.slice(outAt + index * length, outAt + (index + 1) * length);
      // The decoded bytes are little-endian float32, whatever this machine's order.
      if (!LITTLE_ENDIAN) swapFloat32Bytes(own);
      out[next + index] = new Float32Array(own.buffer, 0, length / 4);
    }
    next = last;
  }
  return out;
}

// ---- the envelope -----------------------------------------------------------------------------------

/**
 * `values[from..from + length]` in a buffer of its own. On Node the buffer is taken unzeroed (every byte
 * is written at once), as the base64 path takes its own.
 */
function ownCopy(values: Float32Array, from: number, length: number): Float32Array {
  if (NodeBufferClass === undefined) return values.slice(from, from + length);
  const own = NodeBufferClass.allocUnsafeSlow(length * 4);
  own.set(new Uint8Array(values.buffer, values.byteOffset + from * 4, length * 4));
  return new Float32Array(own.buffer, own.byteOffset, length);
}

/** Bytes of body laid out in the kernels' memory at a time (then room for one vector's values). */
const PARSE_WINDOW = 512 * 1024;

/**
 * Reads the number arrays at vector paths as the scanner reaches them, in document order, each into a
 * `Float32Array` of its own, all of the first one's length: with the WebAssembly twin of
 * `parseNumberArray` (same values, bit for bit) over a window of the body copied into the kernels'
 * memory, or with `parseNumberArray` where the kernels cannot run. Finding an array's `]` is part of
 * parsing it, so the scanner never searches a vector for its end first (measured on Node 20: 2 to 4 ms
 * less main-thread CPU for an answer of 1,000 x 3,072 floats, of about 52).
 *
 * (Parsing the body where it lies, written by the transport straight into the memory of a kernels
 * instance of its own, cost more than the copy it saved: the window copy leaves the bytes in the cache
 * for the parser's two passes.) Exported for tests only.
 */
export class ArrayReader {
  readonly vectors: Float32Array[] = [];
  private dimensions = 0;
  /** The body's bytes from `windowStart` to `windowEnd` sit in the kernels' memory at `WORK_START`. */
  private windowStart = 0;
  private windowEnd = 0;
  private outAt = 0;
  private slowAt = 0;
  /** Bytes of the last array: the window is laid out again when the next might not fit what is left. */
  private lastLength = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly kernels: Kernels | undefined,
  ) {}

  /** Parses the array whose `[` is at `position`; the position after its `]`, or `GIVE_UP`. */
  read(position: number): number {
    const end =
      this.kernels === undefined
        ? this.readWithJavaScript(position)
        : this.readWithKernels(this.kernels, position);
    if (overflow !== undefined) {
      if (end !== GIVE_UP) keepSentNumber(this.vectors.at(-1)!, overflow.position, overflow.value);
      overflow = undefined;
    }
    return end;
  }

  private readWithJavaScript(position: number): number {
    const { bytes } = this;
    let vector: Float32Array;
    if (this.dimensions === 0) {
      // The first array sizes the rest: its own size bounds its values (each takes a digit and a comma).
      const close = bytes.indexOf(93, position + 1);
      if (close < 0) return GIVE_UP;
      const scratch = new Float32Array(((close + 1 - position) >> 1) + 1);
      const count = parseNumberArray(bytes, position, scratch, 0, scratch.length);
      if (count <= 0) return GIVE_UP;
      this.dimensions = count;
      vector = scratch.slice(0, count);
    } else {
      vector = new Float32Array(this.dimensions);
      if (parseNumberArray(bytes, position, vector, 0, this.dimensions) !== this.dimensions) return GIVE_UP;
    }
    this.vectors.push(vector);
    return parsedEnd;
  }

  private readWithKernels(kernels: Kernels, position: number): number {
    const { bytes } = this;
    let limit = this.dimensions;
    if (limit === 0) {
      const close = bytes.indexOf(93, position + 1);
      if (close < 0) return GIVE_UP;
      limit = ((close + 1 - position) >> 1) + 1;
      this.layOut(kernels, position, close + 1 - position, limit);
    } else if (
      this.windowEnd < bytes.length &&
      position + this.lastLength + (this.lastLength >> 2) > this.windowEnd
    ) {
      // Sized for the last array and a quarter more: arrays longer than a window are then copied once.
      this.layOut(kernels, position, this.lastLength + (this.lastLength >> 2), limit);
    }
    let count = this.parse(kernels, position, limit);
    if (count === 0 && kernels.exports.array_end.value === 0 && this.windowEnd < bytes.length) {
      // The array runs past the window (much longer than the one before it): a window that holds it whole.
      const close = bytes.indexOf(93, position + 1);
      if (close < 0) return GIVE_UP;
      this.layOut(kernels, position, close + 1 - position, limit);
      count = this.parse(kernels, position, limit);
    }
    if (count === 0 || (this.dimensions !== 0 && count !== this.dimensions)) return GIVE_UP;
    this.dimensions = count;
    const end = kernels.exports.array_end.value - WORK_START + this.windowStart;
    this.lastLength = end - position;
    const values = kernels.floats;
    const integers = kernels.integers;
    for (let slow = 0; slow < kernels.exports.slow_count.value; slow++) {
      const entry = this.slowAt / 4 + slow * 3;
      values[this.outAt / 4 + integers[entry]!] = Math.fround(
        exactNumber(kernels.bytes, integers[entry + 1]!, integers[entry + 2]!, integers[entry]!),
      );
    }
    this.vectors.push(ownCopy(values, this.outAt / 4, count));
    return end;
  }

  /**
   * Lays out the body from `position`, at least `length` bytes of it, in the kernels' memory, then room
   * for `limit` values (plus the six slots of scratch the kernel may write past them) and one slow-number
   * entry (12 bytes) per value.
   */
  private layOut(kernels: Kernels, position: number, length: number, limit: number): void {
    const { bytes } = this;
    this.windowStart = position;
    this.windowEnd = Math.min(bytes.length, position + Math.max(length, PARSE_WINDOW));
    const size = this.windowEnd - position;
    // The window, then zeros: the kernel reads up to 64 bytes past its end, and they must hold no digits.
    this.outAt = (WORK_START + size + 64 + 15) & ~15;
    this.slowAt = this.outAt + limit * 4 + 24;
    kernels.reserve(this.slowAt + limit * 12);
    const memory = kernels.bytes;
    memory.set(bytes.subarray(position, this.windowEnd), WORK_START);
    memory.fill(0, WORK_START + size, WORK_START + size + 64);
  }

  private parse(kernels: Kernels, position: number, limit: number): number {
    const at = WORK_START - this.windowStart;
    return kernels.exports.parse_array(at + position, at + this.windowEnd, this.outAt, limit, 0, this.slowAt);
  }
}

/** The body with each vector value replaced by `[n]`, its number in document order. */
function envelope(bytes: Uint8Array, found: Found): Uint8Array {
  let length = bytes.length;
  const labels: string[] = [];
  for (let index = 0; index < found.starts.length; index++) {
    const label = `[${index}]`;
    labels.push(label);
    length += label.length - (found.ends[index]! - found.starts[index]!);
  }
  const out = new Uint8Array(length);
  let from = 0;
  let to = 0;
  for (let index = 0; index < found.starts.length; index++) {
    const start = found.starts[index]!;
    out.set(bytes.subarray(from, start), to);
    to += start - from;
    const label = labels[index]!;
    for (let character = 0; character < label.length; character++) out[to++] = label.charCodeAt(character);
    from = found.ends[index]!;
  }
  out.set(bytes.subarray(from), to);
  return out;
}

/**
 * Puts the vectors back where their `[n]` labels are. Every array at a vector path is a label: all
 * arrays there were elided, so a value the server sent can never be mistaken for one.
 */
function substitute(value: unknown, node: PathNode, vectors: Float32Array[]): unknown {
  if (node.vector && Array.isArray(value)) return vectors[value[0] as number];
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    if (node.items !== undefined)
      for (let index = 0; index < value.length; index++)
        value[index] = substitute(value[index], node.items, vectors);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of node.keys) {
    if (Object.hasOwn(record, key.name)) record[key.name] = substitute(record[key.name], key.node, vectors);
  }
  return value;
}

/**
 * Parses a JSON body whose vectors sit at `paths`: each JSON array of numbers there becomes a
 * `Float32Array` with a buffer of its own (values exactly `Math.fround` of what `JSON.parse` reads), and
 * each base64 string there one of its little-endian float32 values. The rest is
 * read by `JSON.parse(text(envelope))`. Returns undefined when the body is anything the fast path does not
 * read exactly as `JSON.parse` would; the caller then parses it whole.
 */
export function parseJsonWithVectors(
  bytes: Uint8Array,
  paths: readonly string[],
  text: (bytes: Uint8Array) => string,
): { value: unknown } | undefined {
  const root = compilePaths(paths);
  // Scanned through a Node Buffer where there is one: its indexOf (how the scanner skips strings and
  // finds the end of each vector) is a native memchr, several times faster than a Uint8Array's.
  if (NodeBufferClass !== undefined && !(bytes as { readUInt8?: unknown }).readUInt8)
    bytes = NodeBufferClass.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  const start = skipSpace(bytes, 0);
  if (bytes[start] !== 123 && bytes[start] !== 91) return undefined;
  const kernels = wasmKernels();
  const found: Found = { starts: [], ends: [], kinds: [], arrays: new ArrayReader(bytes, kernels) };
  let end: number;
  try {
    end = scanValue(bytes, start, root, found, NodeBufferClass !== undefined || kernels !== undefined);
  } catch (error) {
    // Memory for a huge vector not to be had (the kernels' memory cannot grow, a typed array too large):
    // `JSON.parse` then reads the body, or says what is wrong with it.
    if (error instanceof RangeError) return undefined;
    throw error;
  } finally {
    // A number noted in an array the scan did not finish belongs to no vector.
    overflow = undefined;
    if (kernels !== undefined) releaseLargeMemory();
  }
  if (end === GIVE_UP || found.starts.length === 0) return undefined;
  const arrays = found.arrays.vectors;
  const strings: number[] = [];
  const vectors = new Array<Float32Array>(found.kinds.length);
  for (let index = 0, array = 0; index < found.kinds.length; index++) {
    if (found.kinds[index] === 0) vectors[index] = arrays[array++]!;
    else strings.push(index);
  }
  if (strings.length > 0) {
    const decoded = decodeBase64(bytes, found, strings);
    if (decoded === undefined) return undefined;
    // The arrays are held to one length and the strings to one length, each apart: a body with both
    // (two paths, or a server that mixed them at one) may hold vectors of two lengths. Once a body, so
    // the common path pays nothing per vector.
    if (arrays.length > 0 && decoded[0]!.length !== arrays[0]!.length) return undefined;
    for (let index = 0; index < strings.length; index++) vectors[strings[index]!] = decoded[index]!;
  }
  let value: unknown;
  try {
    value = JSON.parse(text(envelope(bytes, found)));
  } catch {
    return undefined;
  }
  return { value: substitute(value, root, vectors) };
}
