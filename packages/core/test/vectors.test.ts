import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkEmbeddings, vectorExpectation } from '../src/engine/checks.js';
import { InvalidArgumentError, InvalidResponseError } from '../src/errors.js';
import type { Embedding } from '../src/types.js';
import {
  base64ToFloat32,
  base64ToInt8,
  base64ToUint8,
  bytesToFloat32,
  cosineSimilarity,
  decodeBase64Vectors,
  dot,
  float32ToBase64,
  hammingDistance,
  norm,
  normalize,
  normalizeInPlace,
  numberArraysToVectors,
  toNumberArray,
  vectorLength,
} from '../src/vectors.js';
import { seededRandom } from './helpers.js';

/** A vector OpenAI returned for a real input, and the base64 it came as. */
const KNOWN_VALUES = [0.0023064255, -0.009327292, 0.015797347, -0.0028842222];
const KNOWN_BASE64 = 'ZicXO4DRGLxwaYE8OAU9uw==';

/** Independent encoder: Node's Buffer over the little-endian bytes of a Float32Array. */
function encodeWithBuffer(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function randomFloat32(random: () => number, length: number): Float32Array {
  return Float32Array.from({ length }, () => (random() - 0.5) * 2);
}

function expectInvalidResponse(run: () => unknown): InvalidResponseError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(
    InvalidResponseError.isInstance(caught),
    `expected InvalidResponseError, got ${String(caught)}`,
  ).toBe(true);
  return caught as InvalidResponseError;
}

/** The message with which the engine's check refuses a float vector of two values as vector 0 of an answer. */
function engineRefusal(vector: Embedding): string {
  return expectInvalidResponse(() =>
    checkEmbeddings(
      { provider: 'acme' },
      [vector],
      1,
      vectorExpectation('float', 2, 2),
      (index) => `vector ${index}`,
    ),
  ).message;
}

describe('base64 decoding', () => {
  it('decodes a known OpenAI vector to the exact float32 values', () => {
    const vector = base64ToFloat32(KNOWN_BASE64);
    expect(vector).toBeInstanceOf(Float32Array);
    expect(Array.from(vector)).toEqual(KNOWN_VALUES.map((value) => Math.fround(value)));
  });

  it('encodes those values back to the same base64', () => {
    expect(float32ToBase64(KNOWN_VALUES)).toBe(KNOWN_BASE64);
    expect(float32ToBase64(Float32Array.from(KNOWN_VALUES))).toBe(KNOWN_BASE64);
  });

  it('float32ToBase64 encodes only the view, not the whole underlying buffer', () => {
    const backing = Float32Array.from([9, ...KNOWN_VALUES, 9]);
    expect(float32ToBase64(backing.subarray(1, 5))).toBe(KNOWN_BASE64);
  });

  it('matches an independent decoder bit for bit on random vectors', () => {
    const random = seededRandom(7);
    const vectors = Array.from({ length: 20 }, () =>
      randomFloat32(random, 1 + Math.floor(random() * 64) * 3),
    );
    for (const vector of vectors) {
      expect(base64ToFloat32(encodeWithBuffer(vector))).toEqual(vector);
      expect(float32ToBase64(vector)).toBe(encodeWithBuffer(vector));
    }
  });

  it('decodes int8 and uint8 bytes, and binary/ubinary as their signed/unsigned arrays', () => {
    const text = Buffer.from([0x80, 0xff, 0x00, 0x7f]).toString('base64');
    expect(text).toBe('gP8Afw==');
    expect(base64ToInt8(text)).toEqual(Int8Array.of(-128, -1, 0, 127));
    expect(base64ToUint8(text)).toEqual(Uint8Array.of(128, 255, 0, 127));
    const [binary] = decodeBase64Vectors([text], 'binary');
    const [ubinary] = decodeBase64Vectors([text], 'ubinary');
    expect(binary).toEqual(Int8Array.of(-128, -1, 0, 127));
    expect(ubinary).toEqual(Uint8Array.of(128, 255, 0, 127));
  });

  it('accepts base64 without padding', () => {
    expect(Array.from(base64ToFloat32(KNOWN_BASE64.replace(/=+$/, '')))).toEqual(
      KNOWN_VALUES.map((value) => Math.fround(value)),
    );
  });

  it('gives every vector of a response its own exactly sized buffer, never a slab or the shared Buffer pool', () => {
    const random = seededRandom(11);
    const originals = Array.from({ length: 3 }, () => randomFloat32(random, 4));
    const decoded = decodeBase64Vectors(originals.map(encodeWithBuffer));
    expect(decoded).toHaveLength(3);
    for (const [index, vector] of decoded.entries()) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toEqual(originals[index]);
      // 4 floats x 4 bytes: keeping one vector keeps 16 bytes, not the response or an 8 KiB pool slice.
      expect(vector.byteOffset).toBe(0);
      expect(vector.buffer.byteLength).toBe(16);
    }
    expect(new Set(decoded.map((vector) => vector.buffer)).size).toBe(3);
    expect(Buffer.poolSize).toBeGreaterThan(16);
  });

  it('a single small decoded vector owns an exactly sized buffer', () => {
    const vector = base64ToFloat32(KNOWN_BASE64);
    expect(vector.byteOffset).toBe(0);
    expect(vector.buffer.byteLength).toBe(16);
  });

  it('decodes an empty list to an empty list', () => {
    expect(decodeBase64Vectors([])).toEqual([]);
  });

  it.each([
    ['6 bytes is not whole float32 values', 'AAAAAAAA'],
    ['a length that cannot be base64', 'AAAAA'],
    ['an empty string', ''],
    ['characters outside the alphabet', 'ZicX!4DRGLxwaYE8OAU9uw=='],
    ['padding in the middle', 'ZicXO4DR=LxwaYE8OAU9uw=='],
    ['whitespace inside', 'ZicXO4DR GLxwaYE8OAU9uw=='],
    [
      'a `=` after a whole number of blocks (atob refuses it; Node took it as padding)',
      'ZicXO4DRGLxwaYE8OAU9uw===',
    ],
    ['`=` after 16 characters', 'AACAPwAAAEAAAEBA='],
  ])('rejects %s with InvalidResponseError', (_label, text) => {
    expectInvalidResponse(() => decodeBase64Vectors([KNOWN_BASE64, text]));
  });

  it('names the bad vector in the message', () => {
    const error = expectInvalidResponse(() => decodeBase64Vectors([KNOWN_BASE64, KNOWN_BASE64, 'AAAAA']));
    expect(error.message).toContain('Vector 2');
  });

  it.each([
    ['NaN', [0x00, 0x00, 0xc0, 0x7f]],
    ['+Infinity', [0x00, 0x00, 0x80, 0x7f]],
    ['-Infinity', [0x00, 0x00, 0x80, 0xff]],
  ])(
    'hands float bits that decode to %s on, for the engine to refuse once, naming the position',
    (label, bytes) => {
      const text = Buffer.from([0, 0, 128, 63, ...bytes]).toString('base64');
      const [vector] = decodeBase64Vectors([text]);
      expect(Object.is(vector![1], Number(label))).toBe(true);
      expect(engineRefusal(vector!)).toBe(
        `acme returned vector 0 holding ${Number(label)} at position 1, not a finite number.`,
      );
    },
  );

  it('int8 output accepts any byte (no finiteness check applies)', () => {
    const text = Buffer.from([0x00, 0x00, 0xc0, 0x7f]).toString('base64');
    expect(base64ToInt8(text)).toEqual(Int8Array.of(0, 0, -64, 127));
  });

  // ARCHITECTURE.md: "Check that decoded bytes equal dimensions x 4"; the docstring of decodeBase64Vectors:
  // "Every vector must decode to the same, valid byte length."
  it('rejects vectors of different lengths within one response', () => {
    const one = float32ToBase64([1]);
    const two = float32ToBase64([1, 2]);
    expectInvalidResponse(() => decodeBase64Vectors([one, two]));
  });
});

describe('base64 decoding without Node Buffer (browsers, edge runtimes)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('decodes with atob into one buffer per vector and still rejects invalid base64', async () => {
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    const portable = await import('../src/vectors.js');
    const [first, second] = portable.decodeBase64Vectors([KNOWN_BASE64, KNOWN_BASE64]);
    expect(Array.from(first!)).toEqual(KNOWN_VALUES.map((value) => Math.fround(value)));
    expect(second!.buffer).not.toBe(first!.buffer);
    expect(first!.buffer.byteLength).toBe(16);
    expect(portable.float32ToBase64(KNOWN_VALUES)).toBe(KNOWN_BASE64);
    expect(() => portable.decodeBase64Vectors(['ZicX!4DRGLxwaYE8OAU9uw=='])).toThrow(/not valid base64/);
  });
});

describe('numberArraysToVectors', () => {
  it('copies each float array into its own exactly sized buffer', () => {
    const vectors = numberArraysToVectors([
      [0.5, -1.25],
      [3, 4, 5],
    ]);
    expect(vectors[0]).toEqual(Float32Array.of(0.5, -1.25));
    expect(vectors[1]).toEqual(Float32Array.of(3, 4, 5));
    expect(vectors[1]!.buffer).not.toBe(vectors[0]!.buffer);
    expect(vectors[0]!.buffer.byteLength).toBe(8);
    expect(vectors[1]!.buffer.byteLength).toBe(12);
  });

  it('rounds JSON doubles to float32 like the API would have', () => {
    const [vector] = numberArraysToVectors([KNOWN_VALUES]);
    expect(Array.from(vector!)).toEqual(KNOWN_VALUES.map((value) => Math.fround(value)));
  });

  it('fills int8 and uint8 arrays with in-range integers', () => {
    expect(numberArraysToVectors([[-128, 0, 127]], 'int8')[0]).toEqual(Int8Array.of(-128, 0, 127));
    expect(numberArraysToVectors([[0, 255]], 'uint8')[0]).toEqual(Uint8Array.of(0, 255));
    expect(numberArraysToVectors([[-3, 5]], 'binary')[0]).toBeInstanceOf(Int8Array);
    expect(numberArraysToVectors([[250, 5]], 'ubinary')[0]).toBeInstanceOf(Uint8Array);
  });

  it.each([
    ['a null vector', [null], 'float'],
    ['a string vector', ['0.1,0.2'], 'float'],
    ['an empty vector', [[]], 'float'],
    ['a null element', [[0.1, null]], 'float'],
    ['a string element', [[0.1, '0.2']], 'float'],
    ['128 as int8', [[1, 128]], 'int8'],
    ['-129 as int8', [[-129]], 'int8'],
    ['1.5 as int8', [[1.5]], 'int8'],
    ['-1 as uint8', [[-1]], 'uint8'],
    ['256 as uint8', [[256]], 'uint8'],
  ] as const)('rejects %s', (_label, arrays, outputType) => {
    expectInvalidResponse(() => numberArraysToVectors(arrays as readonly unknown[], outputType));
  });

  it.each([
    ['x-goog-api-key: FAKE-KEY-not-a-real-key-0000', 'a string of 44 characters'],
    [{ key: 'FAKE-KEY-not-a-real-key-0000' }, 'a value of type object'],
    [[1, 2], 'an array of 2'],
    [null, 'null'],
    [true, 'true'],
  ])(
    'names a value that is not a number by its kind, never its content (%j was quoted whole)',
    (value, told) => {
      const error = expectInvalidResponse(() =>
        numberArraysToVectors([
          [0.5, 0.25],
          [0.5, value],
        ]),
      );
      expect(error.message).toBe(`Vector 1 holds ${told} at position 1, not a finite number.`);
    },
  );

  // NaN, an infinity and a JSON number beyond float32 are copied as float32 reads them and left to the one
  // check of float values (the engine's), which quotes the number beyond float32 as it was sent.
  it.each([
    ['NaN', Number.NaN, 'NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['1e40, beyond float32', 1e40, '1e+40'],
    ['-1e39, beyond float32', -1e39, '-1e+39'],
  ])('copies %s for the check of float values, which names it as sent', (_label, value, told) => {
    const [vector] = numberArraysToVectors([[0.5, value]]);
    expect(Object.is(vector![1], Math.fround(value))).toBe(true);
    expect(engineRefusal(vector!)).toBe(
      `acme returned vector 0 holding ${told} at position 1, not a finite number.`,
    );
  });
});

describe('toNumberArray', () => {
  it('copies every value of a view into a plain, packed number[] of the same length', () => {
    const slab = new Float32Array([9, 0.1, -2.5, 3e-8, 7]);
    const vector = slab.subarray(1, 4);
    const out = toNumberArray(vector);
    expect(Array.isArray(out)).toBe(true);
    expect(out).toEqual([Math.fround(0.1), -2.5, Math.fround(3e-8)]);
    expect(Object.keys(out)).toEqual(['0', '1', '2']);
    vector[0] = 1;
    expect(out[0]).toBe(Math.fround(0.1));
    expect(toNumberArray(new Int8Array([-128, 0, 127]))).toEqual([-128, 0, 127]);
    expect(toNumberArray(new Float32Array(0))).toEqual([]);
  });
});

describe('bytesToFloat32', () => {
  it('views aligned bytes without copying', () => {
    const buffer = new ArrayBuffer(16);
    new Float32Array(buffer).set([1, 2, 3, 4]);
    const vector = bytesToFloat32(new Uint8Array(buffer, 4, 8));
    expect(vector.buffer).toBe(buffer);
    expect(vector.byteOffset).toBe(4);
    expect(Array.from(vector)).toEqual([2, 3]);
  });

  it('copies misaligned bytes into an aligned buffer', () => {
    const buffer = new ArrayBuffer(13);
    const data = new DataView(buffer);
    data.setFloat32(1, 1.5, true);
    data.setFloat32(5, -2.25, true);
    data.setFloat32(9, 1e-3, true);
    const vector = bytesToFloat32(new Uint8Array(buffer, 1, 12));
    expect(vector.buffer).not.toBe(buffer);
    expect(vector.byteOffset % 4).toBe(0);
    expect(Array.from(vector)).toEqual([1.5, -2.25, Math.fround(1e-3)]);
  });

  it('copies a misaligned Node Buffer too (its slice() is a view at the same offset)', () => {
    // What fs.readFileSync hands over may sit at any offset of a pooled buffer.
    const pooled = Buffer.alloc(13);
    pooled.writeFloatLE(1.5, 1);
    pooled.writeFloatLE(-2.25, 5);
    pooled.writeFloatLE(1e-3, 9);
    const vector = bytesToFloat32(pooled.subarray(1));
    expect(vector.byteOffset % 4).toBe(0);
    expect(Array.from(vector)).toEqual([1.5, -2.25, Math.fround(1e-3)]);
  });

  it('rejects a byte count that is not a multiple of 4', () => {
    expect(() => bytesToFloat32(new Uint8Array(6))).toThrow(InvalidArgumentError);
  });
});

describe('vector maths', () => {
  it('dot is the exact sum of products, for any length (unrolled loop tail included)', () => {
    expect(dot([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toBe(130);
    expect(dot(Float32Array.of(1, -2, 3), Float32Array.of(4, 5, -6))).toBe(-24);
    expect(dot([], [])).toBe(0);
    expect(dot(Int8Array.of(-128, 127), Int8Array.of(2, 2))).toBe(-2);
  });

  it('norm is the Euclidean length', () => {
    expect(norm([3, 4])).toBe(5);
    expect(norm(Float32Array.of(1, 2, 2))).toBe(3);
    expect(norm([0, 0, 0])).toBe(0);
  });

  it('cosineSimilarity gives exact values, and 0 for a zero vector', () => {
    expect(cosineSimilarity([3, 4], [4, 3])).toBe(0.96);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([2, 0], [-5, 0])).toBe(-1);
    expect(cosineSimilarity([3, 4], [6, 8])).toBe(1);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
  });

  it('normalize returns a unit-length float32 copy and leaves the input alone', () => {
    const input = [3, 4];
    const unit = normalize(input);
    expect(unit).toBeInstanceOf(Float32Array);
    expect(Array.from(unit)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(input).toEqual([3, 4]);
    const typed = Float32Array.of(0, 0, 2);
    expect(Array.from(normalize(typed))).toEqual([0, 0, 1]);
    expect(Array.from(typed)).toEqual([0, 0, 2]);
    expect(Array.from(normalize([0, 0]))).toEqual([0, 0]);
  });

  it('normalize refuses a value that is not a finite float32, naming it', () => {
    for (const [vector, message] of [
      [[1, Number.NaN, 2], 'The vector holds NaN at position 1; normalize takes finite float32 values.'],
      [
        Float32Array.of(0, Number.POSITIVE_INFINITY),
        'The vector holds Infinity at position 1; normalize takes finite float32 values.',
      ],
      [[1e39, 1], 'The vector holds 1e+39 at position 0; normalize takes finite float32 values.'],
    ] as const) {
      const error = (() => {
        try {
          normalize(vector);
        } catch (caught) {
          return caught as InvalidArgumentError;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error?.message).toBe(message);
      expect(error?.argument).toBe('vector');
    }
  });

  it('cosineSimilarity of parallel vectors is 1, never a rounding unit above', () => {
    // Found by search: vectors whose dot over the product of norms rounds above 1.
    const random = seededRandom(7);
    const over: Float32Array[] = [];
    for (let trial = 0; trial < 2_000 && over.length < 5; trial++) {
      const vector = Float32Array.from({ length: 1 + (trial % 40) }, () => random() * 2 - 1);
      const norms = norm(vector) * norm(vector);
      if (dot(vector, vector) / norms > 1) over.push(vector);
    }
    expect(over.length).toBeGreaterThan(0);
    for (const vector of over) {
      expect(cosineSimilarity(vector, vector)).toBe(1);
      expect(
        cosineSimilarity(
          vector,
          vector.map((value) => -value),
        ),
      ).toBe(-1);
    }
  });

  it('normalizeInPlace scales the given array and returns it', () => {
    const vector = Float32Array.of(0, 3, 4);
    const result = normalizeInPlace(vector);
    expect(result).toBe(vector);
    expect(Array.from(vector)).toEqual([0, Math.fround(0.6), Math.fround(0.8)]);
    const zeros = new Float32Array(3);
    expect(Array.from(normalizeInPlace(zeros))).toEqual([0, 0, 0]);
  });

  it('hammingDistance counts differing bits of packed vectors, signed or unsigned', () => {
    expect(hammingDistance(Uint8Array.of(0b1010_1010, 0xff), Uint8Array.of(0b0101_0101, 0x00))).toBe(16);
    expect(hammingDistance(Uint8Array.of(0b1000_0001), Uint8Array.of(0b0000_0001))).toBe(1);
    expect(hammingDistance(Int8Array.of(-1), Int8Array.of(0))).toBe(8);
    expect(hammingDistance(Int8Array.of(-128), Int8Array.of(127))).toBe(8);
    expect(hammingDistance(Int8Array.of(5, -7), Int8Array.of(5, -7))).toBe(0);
  });

  it('every pairwise function rejects vectors of different lengths', () => {
    expect(() => dot([1, 2], [1])).toThrow(InvalidArgumentError);
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(InvalidArgumentError);
    expect(() => hammingDistance(Uint8Array.of(1), Uint8Array.of(1, 2))).toThrow(InvalidArgumentError);
  });

  it('vectorLength packs 8 dimensions per byte for binary types only', () => {
    expect(vectorLength('float', 1024)).toBe(1024);
    expect(vectorLength('int8', 1024)).toBe(1024);
    expect(vectorLength('binary', 1024)).toBe(128);
    expect(vectorLength('ubinary', 256)).toBe(32);
  });
});
