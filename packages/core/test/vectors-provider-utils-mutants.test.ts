/**
 * Decoding and checking vectors (vectors.ts) and the helpers providers are built from
 * (provider-utils.ts), on the cases the broader suite leaves loose: which base64 lengths and padding
 * are refused and what the message says, the vector and position a bad value is reported at, which
 * float vectors are used in place and which are copied into a buffer of their own, normalisation in
 * the decoders, the byte swap for big-endian machines, the finiteness check of every lane, and how a
 * provider's answer, its settings and its requests are read and built. Each case states the exact
 * result: values bit for bit, or the error class, its code and its message.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import { InvalidArgumentError, InvalidResponseError } from '../src/errors.js';
import type { Transport, TransportRequest, TransportResponse } from '../src/http/transport.js';
import {
  checkProviderSettings,
  decodeAnswer,
  decodeVectors,
  inputText,
  type JsonEndpoint,
  loadApiKey,
  loadBaseURL,
  loneVectorProblem,
  nonDefaultURL,
  PROVIDER_SETTING_NAMES,
  parseDataUrl,
  placeByIndex,
  postJson,
  readProviderOptions,
  responseInfo,
  type SafeParser,
  type SchemaIssue,
} from '../src/provider-utils.js';
import type { Embedding, EmbedInput } from '../src/types.js';
import {
  allFinite,
  base64ToInt8,
  bytesToBase64,
  decodeBase64Vectors,
  dot,
  nonFiniteValue,
  numberArraysToVectors,
  swapFloat32Bytes,
} from '../src/vectors.js';
import { wasmKernels } from '../src/wasm/kernels.js';
import { invalidResponseOf, ScriptedModel, thrownInvalidResponse } from './helpers.js';

/** What `run` threw; fails the test when it returned. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got a result');
}

/** Asserts `run` throws an InvalidResponseError with exactly `message`. */
function expectInvalidResponse(run: () => unknown, message: string): void {
  const error = thrownInvalidResponse(run);
  expect(error.code).toBe('invalid_response');
  expect(error.message).toBe(message);
}

/** Base64 of the little-endian float32 bytes of `values`. */
function base64Of(...values: number[]): string {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer).toString('base64');
}

describe('base64 lengths and padding', () => {
  it('refuses a `=` at the end of a string whose length is not a multiple of 4', () => {
    expectInvalidResponse(
      () => decodeBase64Vectors(['AACAPw=']),
      'Vector 0 is not valid base64 of float values (7 characters decode to 5 bytes).',
    );
  });

  it('refuses a length of 4n+1 characters even where the bytes would fit the type', () => {
    expectInvalidResponse(
      () => base64ToInt8('AAAAA'),
      'Vector 0 is not valid base64 of int8 values (5 characters, a length no base64 text has).',
    );
  });

  it('refuses an empty string that comes alone', () => {
    expectInvalidResponse(
      () => decodeBase64Vectors(['']),
      'Vector 0 is not valid base64 of float values (0 characters decode to 0 bytes).',
    );
  });

  it('refuses bytes that are not whole float32 values, naming characters and bytes', () => {
    expectInvalidResponse(
      () => decodeBase64Vectors(['AAAAAAAA']),
      'Vector 0 is not valid base64 of float values (8 characters decode to 6 bytes).',
    );
  });

  it('refuses a later vector shorter than the first, naming both lengths', () => {
    expectInvalidResponse(
      () => decodeBase64Vectors([base64Of(1, 2, 3, 4), base64Of(1, 2)]),
      'Vector 1 decodes to 8 bytes; vector 0 to 16. Every vector of a response has one length.',
    );
  });

  it('names the bytes a string with a character outside the alphabet decoded to', () => {
    expectInvalidResponse(
      () => base64ToInt8('AACAP%AA'),
      'Vector 0 is not valid base64: it decoded to 5 bytes, expected 6.',
    );
  });
});

describe('non-finite values in decoded float vectors: checked once, by the engine', () => {
  const nanAt = (length: number, position: number) => {
    const vector = new Float32Array(length).fill(0.5);
    vector[position] = Number.NaN;
    return vector;
  };
  const base64 = (vector: Float32Array) => Buffer.from(vector.buffer).toString('base64');

  // A second pass over the values in the decoders costs as much again as the engine's (1.3 ms per 1,000
  // vectors of 3,072): the decoders hand every float on and the engine refuses the answer.
  it('the decoders hand a NaN on, base64 and float vectors used in place alike', () => {
    const decoded = decodeBase64Vectors([base64Of(1, 2), base64(nanAt(2, 1))]);
    expect(Array.from(decoded[1]!)).toEqual([0.5, Number.NaN]);
    const inPlace = [Float32Array.of(1, 2), Float32Array.of(2, Number.NaN)];
    expect(numberArraysToVectors(inPlace)[1]).toBe(inPlace[1]);
  });

  it('a JSON number that overflows float32 is copied as Infinity, the number as sent kept for the check', () => {
    const copied = numberArraysToVectors([
      [1, 2],
      [2, 1e39],
    ]);
    expect(Array.from(copied[1]!)).toEqual([2, Number.POSITIVE_INFINITY]);
    expect(nonFiniteValue(copied[1] as Float32Array)).toBe('1e+39 at position 1');
    // Every check quotes it (the cache's, then the engine's): a message names what the answer held.
    expect(nonFiniteValue(copied[1] as Float32Array)).toBe('1e+39 at position 1');
  });

  it('a number kept as sent that no longer is what the vector holds there is told as it is now', () => {
    const [changed, other] = numberArraysToVectors([
      [2, 1e39, 0.5],
      [2, 1e39, 0.5],
    ]) as Float32Array[];
    changed![1] = 3;
    expect(nonFiniteValue(changed!)).toBeUndefined();
    other![1] = Number.NaN;
    expect(nonFiniteValue(other!)).toBe('NaN at position 1');
  });

  const decoders: [string, (vectors: Float32Array[]) => Embedding[]][] = [
    ['base64', (vectors) => decodeVectors(vectors.map(base64), 'float')],
    ['float vectors read from the body (floatVectors)', (vectors) => decodeVectors(vectors, 'float')],
  ];
  for (const [form, decode] of decoders) {
    it(`${form}: one pass of the kernels per vector, and the engine names the vector a NaN is in`, async () => {
      const kernels = wasmKernels();
      if (kernels === undefined) return;
      const allFiniteKernel = kernels.exports.all_finite;
      let passes = 0;
      kernels.exports.all_finite = (at: number, count: number) => {
        passes++;
        return allFiniteKernel(at, count);
      };
      try {
        const model = new ScriptedModel({
          capabilities: { defaultDimensions: 256 },
          respond: (call) => ({
            embeddings: decode(
              call.inputs.map((_, index) => (index === 1 ? nanAt(256, 7) : new Float32Array(256).fill(0.5))),
            ),
            warnings: [],
            response: { status: 200, headers: {}, requestId: 'req-nan' },
          }),
        });
        const result = await embedMany({ model, inputs: ['a'] });
        expect(result.embeddings[0]!.length).toBe(256);
        expect(passes).toBe(1);
        const error = await invalidResponseOf(embedMany({ model, inputs: ['a', 'b'] }));
        expect(error.message).toBe(
          'scripted returned vector 1 holding NaN at position 7, not a finite number.',
        );
        expect([error.provider, error.statusCode, error.requestId]).toEqual(['scripted', 200, 'req-nan']);
      } finally {
        kernels.exports.all_finite = allFiniteKernel;
      }
    });
  }
});

describe('allFinite', () => {
  it('sees a NaN in every lane of a short vector', () => {
    for (let lane = 0; lane < 7; lane++) {
      const values = new Float32Array(7);
      values[lane] = Number.NaN;
      expect(allFinite(values)).toBe(false);
    }
    expect(allFinite(new Float32Array(7))).toBe(true);
  });

  it('reads a vector longer than one chunk, finding an infinity only in the second', () => {
    const values = new Float32Array(200_000);
    expect(allFinite(values)).toBe(true);
    values[199_999] = Number.POSITIVE_INFINITY;
    expect(allFinite(values)).toBe(false);
  });
});

describe('swapFloat32Bytes', () => {
  it('reverses each whole group of four bytes and leaves a tail alone', () => {
    const eight = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    swapFloat32Bytes(eight);
    expect(Array.from(eight)).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    const ten = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    swapFloat32Bytes(ten);
    expect(Array.from(ten)).toEqual([4, 3, 2, 1, 8, 7, 6, 5, 9, 10]);
  });
});

describe('numberArraysToVectors', () => {
  it('copies a Float32Array into an int8 vector, refusing a value outside the int8 range', () => {
    expectInvalidResponse(
      () => numberArraysToVectors([Float32Array.of(1.5)], 'int8'),
      'Vector 0 holds 1.5 at position 0, outside the int8 range.',
    );
    const [vector] = numberArraysToVectors([Float32Array.of(-3, 7)], 'int8');
    expect(vector).toEqual(Int8Array.of(-3, 7));
  });

  it('names the value as sent, the vector and the position of an int8 value out of range', () => {
    expectInvalidResponse(
      () =>
        numberArraysToVectors(
          [
            [1, 2],
            [2, 200],
          ],
          'int8',
        ),
      'Vector 1 holds 200 at position 1, outside the int8 range.',
    );
  });

  it('refuses an empty Float32Array and names the vector that is empty', () => {
    expectInvalidResponse(
      () => numberArraysToVectors([new Float32Array(0)]),
      'Vector 0 is not a non-empty array of numbers.',
    );
    expectInvalidResponse(
      () => numberArraysToVectors([[1], []]),
      'Vector 1 is not a non-empty array of numbers.',
    );
  });

  it('gives an int8 vector a buffer of exactly its bytes', () => {
    const [vector] = numberArraysToVectors([[1, 2, 3]], 'int8');
    expect(vector).toEqual(Int8Array.of(1, 2, 3));
    expect(vector!.buffer.byteLength).toBe(3);
  });

  it('normalizes own Float32Arrays in place and leaves them alone unasked', () => {
    const own = Float32Array.of(3, 4);
    const [normalized] = numberArraysToVectors([own], 'float', { normalize: true });
    expect(normalized === own).toBe(true);
    expect(Array.from(own)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const kept = Float32Array.of(3, 4);
    expect(Array.from(numberArraysToVectors([kept])[0]!)).toEqual([3, 4]);
  });

  it('normalizes number arrays from the float32 values stored, bit for bit', () => {
    const [vector] = numberArraysToVectors([[0.14285714285714285, 0.17692307692307693, 0.3]], 'float', {
      normalize: true,
    });
    expect(Array.from(vector!)).toEqual([0.37949129939079285, 0.46998536586761475, 0.7969316840171814]);
    const [simple] = numberArraysToVectors([[3, 4]], 'float', { normalize: true });
    expect(Array.from(simple!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('leaves all-zero vectors as zeros when normalizing', () => {
    expect(
      Array.from(numberArraysToVectors([Float32Array.of(0, 0)], 'float', { normalize: true })[0]!),
    ).toEqual([0, 0]);
    expect(Array.from(numberArraysToVectors([[0, 0]], 'float', { normalize: true })[0]!)).toEqual([0, 0]);
  });

  it('copies a Float32Array view that is not its whole buffer, leaving the caller’s buffer alone', () => {
    const backing = Float32Array.of(3, 4, 5, 6);
    const [vector] = numberArraysToVectors([backing.subarray(0, 2)], 'float', { normalize: true });
    expect(Array.from(vector!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(vector!.buffer.byteLength).toBe(8);
    expect(Array.from(backing)).toEqual([3, 4, 5, 6]);
    const [tail] = numberArraysToVectors([backing.subarray(2)]);
    expect(Array.from(tail!)).toEqual([5, 6]);
    expect(tail!.byteOffset).toBe(0);
  });
});

describe('dot', () => {
  it('adds element i of the tail to sum (i mod 8), so that the sums meet in the kernel’s order', () => {
    const a = [0, 0, 0, 0, 1e16, 0, -1e16, 0, 0, 0, 0, 0, 1, 1];
    expect(dot(a, new Array<number>(14).fill(1))).toBe(1);
  });

  it('refuses vectors of two lengths, naming both', () => {
    const error = thrown(() => dot([1, 2], [1, 2, 3]));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('Vectors differ in length: 2 and 3.');
  });
});

describe('bytesToBase64', () => {
  it('encodes only the view, not the start of its buffer', () => {
    expect(bytesToBase64(Uint8Array.of(0, 1, 2, 3).subarray(1))).toBe('AQID');
  });
});

describe('decoding where there is no Buffer', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('reads base64 with atob, and names the bytes it could not decode', async () => {
    const text = base64Of(1, -2.5);
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    const fresh = await import('../src/vectors.js');
    expect(Array.from(fresh.base64ToFloat32(text))).toEqual([1, -2.5]);
    expect(fresh.base64ToInt8('gP8Afw==')).toEqual(Int8Array.of(-128, -1, 0, 127));
    const error = thrown(() => fresh.base64ToInt8('AACAP%AA'));
    expect((error as Error).message).toBe(
      'Vector 0 is not valid base64: it holds a character outside the base64 alphabet or a misplaced "=".',
    );
  });
});

describe('loadApiKey', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const settings = { environmentVariables: ['ACME_KEY', 'ACME_OTHER_KEY'], provider: 'acme' };

  function keyError(run: () => unknown): string {
    const error = thrown(run);
    expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
    expect((error as InvalidArgumentError).code).toBe('invalid_argument');
    expect((error as InvalidArgumentError).argument).toBe('apiKey');
    return (error as Error).message;
  }

  it('reads the variable by the exact name given', () => {
    vi.stubEnv('acme_lower_key', 'k-lower');
    expect(
      loadApiKey({ apiKey: undefined, environmentVariables: ['acme_lower_key'], provider: 'acme' }),
    ).toBe('k-lower');
  });

  it('calls a blank or non-string apiKey setting empty, naming the variables to use instead', () => {
    const empty = 'acme: apiKey is empty; pass a key or leave it out to use ACME_KEY or ACME_OTHER_KEY.';
    expect(keyError(() => loadApiKey({ ...settings, apiKey: '   ' }))).toBe(empty);
    expect(keyError(() => loadApiKey({ ...settings, apiKey: 42 as unknown as string }))).toBe(empty);
    expect(keyError(() => loadApiKey({ apiKey: '', environmentVariables: [], provider: 'acme' }))).toBe(
      'acme: apiKey is empty; pass a key.',
    );
  });

  it.each([
    ['ab cd', 'white space at position 2'],
    ['ab\tcd', 'white space at position 2'],
    ['ab\rcd', 'a line break at position 2'],
    ['abc\u007f', 'a control character at position 3'],
    ['abcd\u00e9', 'the non-ASCII character U+00E9 at position 4'],
  ])('names what a key from the setting holds and where (%j)', (key, what) => {
    expect(keyError(() => loadApiKey({ ...settings, apiKey: key }))).toBe(
      `acme: the API key from the apiKey setting holds ${what}, which cannot be sent in an HTTP header; copy the key again without it.`,
    );
  });

  it('names the variable a bad key came from', () => {
    vi.stubEnv('ACME_KEY', 'ab\ncd');
    expect(keyError(() => loadApiKey({ ...settings, apiKey: undefined }))).toBe(
      'acme: the API key from ACME_KEY holds a line break at position 2, which cannot be sent in an HTTP header; copy the key again without it.',
    );
  });
});

describe('loadBaseURL and nonDefaultURL', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('passes over a variable that holds only white space', () => {
    vi.stubEnv('ACME_BASE_URL', '   ');
    vi.stubEnv('ACME_HOST', 'https://host.acme.test/v2');
    expect(
      loadBaseURL({
        baseURL: undefined,
        environmentVariables: ['ACME_BASE_URL', 'ACME_HOST'],
        defaultURL: 'https://api.acme.test/v1',
        provider: 'acme',
      }),
    ).toEqual({ url: 'https://host.acme.test/v2', source: 'ACME_HOST', origin: 'ACME_HOST' });
  });

  it('refuses a control character that is not white space', () => {
    const error = thrown(() =>
      loadBaseURL({
        baseURL: 'https://api.acme.test/v\u007f1',
        environmentVariables: [],
        defaultURL: 'https://api.acme.test/v1',
        provider: 'acme',
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'acme: the base URL from the baseURL setting holds white space or a control character; it should look like https://api.example.com/v1.',
    );
  });

  it('counts a URL as a default whatever trailing slashes either has', () => {
    const defaults = ['https://eu.acme.test/v1/', 'https://api.acme.test/v1'];
    expect(nonDefaultURL('https://api.acme.test/v1//', defaults)).toBeUndefined();
    expect(nonDefaultURL('https://eu.acme.test/v1', defaults)).toBeUndefined();
    expect(nonDefaultURL('https://proxy.acme.test/v1', defaults)).toBe('https://proxy.acme.test/v1');
  });
});

describe('schema issues written from their code', () => {
  function optionsMessage(...issues: SchemaIssue[]): string {
    const error = thrown(() =>
      readProviderOptions(
        { safeParse: () => ({ success: false, error: { issues } }) } as SafeParser<never>,
        'acme',
        { acme: {} },
      ),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  const generic = { message: 'Invalid input', path: ['x'] };

  it.each([
    [{ code: 'too_small', minimum: 2, origin: 'number' }, 'x: must be at least 2'],
    [{ code: 'too_small', minimum: 1, origin: 'set' }, 'x: must not be empty'],
    [{ code: 'too_small', minimum: 1, origin: 'array', inclusive: false }, 'x: must be more than 1 item'],
    [{ code: 'too_big', maximum: 1, origin: 'array' }, 'x: must be at most 1 item'],
    [
      { code: 'too_big', maximum: 5, origin: 'string', inclusive: false },
      'x: must be less than 5 characters',
    ],
    [{ code: 'invalid_union' }, 'x: matches none of the accepted forms'],
  ])('%j reads "%s"', (issue, text) => {
    expect(optionsMessage({ ...generic, ...issue })).toBe(`providerOptions.acme is invalid: ${text}.`);
  });

  it('joins several issues with semicolons', () => {
    expect(optionsMessage({ message: 'one', path: ['a'] }, { message: 'two', path: ['b'] })).toBe(
      'providerOptions.acme is invalid: a: one; b: two.',
    );
  });

  it('reads absent provider options as an empty object', () => {
    const seen: unknown[] = [];
    const schema: SafeParser<unknown> = {
      safeParse: (value) => {
        seen.push(value);
        return { success: true, data: value };
      },
    };
    expect(readProviderOptions(schema, 'acme', undefined)).toEqual({});
    expect(seen).toEqual([{}]);
  });
});

describe('responseInfo', () => {
  it('copies the status and headers, and only the request id and model id that are known', () => {
    const headers = { 'x-a': '1' };
    expect(responseInfo({ status: 201, headers, body: {} }, undefined)).toStrictEqual({
      status: 201,
      headers,
    });
    expect(responseInfo({ status: 202, headers, requestId: 'req-1', body: {} }, 'm-1')).toStrictEqual({
      status: 202,
      headers,
      requestId: 'req-1',
      modelId: 'm-1',
    });
  });
});

describe('placeByIndex', () => {
  it('refuses an index equal to the count', () => {
    expectInvalidResponse(
      () => placeByIndex([{ index: 2 }], 2, 'vector', 'the 2 inputs', 'acme'),
      'acme returned vector index 2, out of range for the 2 inputs.',
    );
  });
});

describe('decodeVectors', () => {
  it('decodes base64 and arrays as the output type asked for', () => {
    expect(decodeVectors(['gP8Afw=='], 'int8')).toEqual([Int8Array.of(-128, -1, 0, 127)]);
    expect(decodeVectors([[1, 2]], 'uint8')).toEqual([Uint8Array.of(1, 2)]);
    expect(decodeVectors(['gP8Afw==', [1, 2, 3, 4]], 'uint8')).toEqual([
      Uint8Array.of(128, 255, 0, 127),
      Uint8Array.of(1, 2, 3, 4),
    ]);
    expect(decodeVectors([[5, 6], 'gP8Afw=='], 'int8')).toEqual([
      Int8Array.of(5, 6),
      Int8Array.of(-128, -1, 0, 127),
    ]);
  });

  it('holds base64 vectors of one answer to one length', () => {
    expectInvalidResponse(
      () => decodeVectors([base64Of(1, 2, 3, 4), base64Of(1, 2)], 'float'),
      'Vector 1 decodes to 8 bytes; vector 0 to 16. Every vector of a response has one length.',
    );
  });

  it('names a bad vector of a mixed answer by its place in the answer', () => {
    expectInvalidResponse(
      () => decodeVectors([base64Of(1, 2), [1, null]], 'float'),
      'Vector 1 holds null at position 1, not a finite number.',
    );
    expectInvalidResponse(
      () => decodeVectors([[1, 2], 'AAAAA'], 'float'),
      'Vector 1 is not valid base64 of float values (5 characters, a length no base64 text has).',
    );
  });
});

describe('loneVectorProblem', () => {
  it('reads the problem from what a decoder threw about vector 0, and nothing from other errors', () => {
    expect(loneVectorProblem(new InvalidResponseError('Vector 0 holds NaN at position 1.'))).toBe(
      'holds NaN at position 1.',
    );
    expect(loneVectorProblem(new Error('Vector 0 holds NaN at position 1.'))).toBeUndefined();
    expect(loneVectorProblem(new InvalidResponseError('Vector 1 holds NaN.'))).toBeUndefined();
  });
});

describe('decodeAnswer', () => {
  it('returns what the reader returns', () => {
    expect(decodeAnswer({ provider: 'acme' }, () => 7)).toBe(7);
  });

  it('names the provider, the status and the request id of the answer a decoder refused', () => {
    const cause = new InvalidResponseError('Vector 1 holds NaN at position 2.');
    const error = thrown(() =>
      decodeAnswer({ provider: 'acme', response: { status: 201, requestId: 'req-7' } }, () => {
        throw cause;
      }),
    ) as InvalidResponseError;
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe('acme returned an answer whose vector 1 holds NaN at position 2.');
    expect(error.provider).toBe('acme');
    expect(error.statusCode).toBe(201);
    expect(error.requestId).toBe('req-7');
    expect(error.cause).toBe(cause);
  });

  it('keeps the message of an error that names its provider, and reads an answer with no response', () => {
    const error = thrown(() =>
      decodeAnswer({ provider: 'acme' }, () => {
        throw new InvalidResponseError('acme returned vector index 2 twice for the 2 inputs.', {
          provider: 'acme',
        });
      }),
    ) as InvalidResponseError;
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe('acme returned vector index 2 twice for the 2 inputs.');
    expect(error.statusCode).toBeUndefined();
    expect(error.requestId).toBeUndefined();
  });

  it('passes on an error that already names a status, and any error of another kind, as it is', () => {
    const named = new InvalidResponseError('bad', { statusCode: 502 });
    expect(
      thrown(() =>
        decodeAnswer({ provider: 'acme', response: { status: 200 } }, () => {
          throw named;
        }),
      ),
    ).toBe(named);
    const other = new TypeError('x');
    expect(
      thrown(() =>
        decodeAnswer({ provider: 'acme', response: { status: 200 } }, () => {
          throw other;
        }),
      ),
    ).toBe(other);
  });
});

describe('inputText', () => {
  it('reads a string or a text input, and names any other input and how to embed it', () => {
    expect(inputText('a', 0, 'acme-embed')).toBe('a');
    expect(inputText({ text: 'b' }, 1, 'acme-embed')).toBe('b');
    for (const [hint, tail] of [
      ['', ''],
      ['Use acme-vision.', ' Use acme-vision.'],
    ]) {
      const error = thrown(() => inputText({ text: 5 } as unknown as EmbedInput, 2, 'acme-embed', hint));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('inputs[2]');
      expect((error as Error).message).toBe(`Input 2 is not text; acme-embed takes text only.${tail}`);
    }
  });
});

describe('postJson', () => {
  function endpoint(answer: (request: TransportRequest) => TransportResponse) {
    const requests: TransportRequest[] = [];
    const transport: Transport = {
      kind: 'fetch',
      async request(request) {
        requests.push(request);
        if (request.signal?.aborted === true) throw request.signal.reason;
        return answer(request);
      },
    };
    const json: JsonEndpoint = {
      provider: 'acme',
      transport,
      resolve: () => ({
        baseURL: 'https://api.acme.test/v1//',
        headers: { authorization: 'Bearer key-123456', 'x-side': 'endpoint' },
        secrets: ['key-123456', 'other-secret-42'],
      }),
      requestIdHeaders: ['x-acme-id'],
      maxResponseBytes: 4096,
      parseError: (body) => ({ message: (body as { error: { message: string } }).error.message }),
    };
    return { json, requests };
  }
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it('sends the body to the path after the base URL with the endpoint’s and the call’s settings', async () => {
    const { json, requests } = endpoint(() => ({
      status: 200,
      headers: { 'x-acme-id': 'req-9', 'content-type': 'application/json' },
      body: bytes({ data: [{ embedding: 'AACAPwAAAEA=' }] }),
    }));
    const response = await postJson(
      json,
      '/embeddings?v=1',
      { input: ['a'] },
      { headers: { 'x-side': 'call' }, timeoutMs: 1234 },
      { floatVectors: ['data[*].embedding'] },
    );
    expect(requests).toHaveLength(1);
    const sent = requests[0]!;
    expect(sent.url).toBe('https://api.acme.test/v1/embeddings?v=1');
    expect(sent.method).toBe('POST');
    expect(sent.headers['x-side']).toBe('call');
    expect(sent.headers.authorization).toBe('Bearer key-123456');
    expect(sent.body).toBe('{"input":["a"]}');
    expect(sent.timeoutMs).toBe(1234);
    expect(sent.maxResponseBytes).toBe(4096);
    expect(response.requestId).toBe('req-9');
    expect(response.body).toEqual({ data: [{ embedding: Float32Array.of(1, 2) }] });
  });

  it('finds the request id under a header name the provider declares in mixed case', async () => {
    let status = 200;
    const { json } = endpoint(() => ({
      status,
      // Both transports hand over header names in lower case.
      headers: { 'x-acme-id': `req-${status}`, 'content-type': 'application/json' },
      body: bytes(status === 200 ? { data: [] } : { error: { message: 'busy' } }),
    }));
    const declared: JsonEndpoint = { ...json, requestIdHeaders: ['X-Acme-Id'] };
    expect((await postJson(declared, '/embeddings', {}, {})).requestId).toBe('req-200');
    status = 503;
    const error = await postJson(declared, '/embeddings', {}, {}).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect((error as { code: string }).code).toBe('server_error');
    expect((error as { requestId?: string }).requestId).toBe('req-503');
  });

  it('stops at an aborted signal, and reads an error with the endpoint’s parser, redacting its secrets', async () => {
    const { json } = endpoint(() => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: bytes({ error: { message: 'model nope for other-secret-42' } }),
    }));
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(postJson(json, '/embeddings', {}, { signal: controller.signal })).rejects.toThrow('stopped');
    const error = await postJson(json, '/embeddings', {}, {}).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect((error as Error).message).toBe(
      'acme API error 400: model nope for [REDACTED] — Check the inputs and options against the model’s capabilities.',
    );
  });
});

describe('parseDataUrl', () => {
  it('reads a media type with a dot, a plus or a dash', () => {
    expect(parseDataUrl('data:image/svg+xml;base64,AAAA')).toEqual({
      mediaType: 'image/svg+xml',
      base64: 'AAAA',
    });
    expect(parseDataUrl('data:image/vnd.ms-photo;base64,AAAA')).toEqual({
      mediaType: 'image/vnd.ms-photo',
      base64: 'AAAA',
    });
  });
});

describe('checkProviderSettings', () => {
  it('takes every name of the shared provider settings', () => {
    expect(
      checkProviderSettings(
        { fetch: () => undefined, dispatcher: {}, maxResponseBytes: 1, rateLimit: {} },
        PROVIDER_SETTING_NAMES,
        'createAcme',
      ),
    ).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['an array', [{ apiKey: 'k' }]],
  ])('refuses %s for the settings object', (_label, settings) => {
    const error = thrown(() => checkProviderSettings(settings, PROVIDER_SETTING_NAMES, 'createAcme'));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('settings');
    expect((error as Error).message).toBe('createAcme takes a settings object, e.g. createAcme({ apiKey }).');
  });
});
