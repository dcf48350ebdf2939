/**
 * Reading float vectors straight from JSON bytes (json-vectors.ts), on the cases the broader suite
 * leaves loose: which vector paths are accepted, numbers whose approximate reading lands next to a
 * float32 rounding tie, the envelope written with whitespace and strings that a byte scanner can trip
 * on, keys that only resemble a path key, shapes off the paths, and which base64 strings each decoder
 * reads. Each case states the exact result: the values bit for bit, the structure around them, or
 * undefined where the fast path must step aside for `JSON.parse`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArrayReader, parseJsonWithVectors } from '../src/json-vectors.js';
import { newWasmKernels, setWebAssemblyEnabled, wasmKernels } from '../src/wasm/kernels.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Parses `text` with the vectors at `paths` taken from the bytes. */
function parse(text: string, paths: readonly string[]) {
  return parseJsonWithVectors(utf8(text), paths, (bytes) => new TextDecoder().decode(bytes));
}

/** What `JSON.parse` gives, with every array of numbers at a vector path as a `Float32Array`. */
function expected(text: string, isVector: (key: string, value: unknown[]) => boolean): unknown {
  return JSON.parse(text, (key, value) =>
    Array.isArray(value) && isVector(key, value) ? Float32Array.from(value as number[]) : value,
  );
}

describe('vector paths: keys separated by dots, [*] for every array item', () => {
  it('accepts a leading [*] (a body that is itself an array) and reads the vectors in it', () => {
    expect(parse('[[1,2],[3,4]]', ['[*]'])).toEqual({
      value: [Float32Array.of(1, 2), Float32Array.of(3, 4)],
    });
    expect(parse(' \n[[0.5]]', ['[*]'])).toEqual({ value: [Float32Array.of(0.5)] });
  });

  it('reads every level of a path with [*][*]', () => {
    expect(parse('{"batches":[[[1,2],[3,4]],[[5,6]]]}', ['batches[*][*]'])).toEqual({
      value: { batches: [[Float32Array.of(1, 2), Float32Array.of(3, 4)], [Float32Array.of(5, 6)]] },
    });
  });

  it('rejects an empty path, an empty segment and a [*] that follows a dot', () => {
    for (const path of ['', 'data.', '.data', 'data.[*]', 'data[*].[*]', 'a.b.[*]'])
      expect(() => parse('{}', [path]), path).toThrow(
        `"${path}" is not a vector path; write keys separated by dots, with [*] for every array item, e.g. data[*].embedding.`,
      );
  });

  it('with paths x and x[*], reads an array of numbers at x and steps aside for an array of arrays', () => {
    expect(parse('{"v":[1,2],"n":1}', ['v', 'v[*]'])).toEqual({ value: { v: Float32Array.of(1, 2), n: 1 } });
    expect(parse('{"v":[[1,2],[3,4]]}', ['v', 'v[*]'])).toBeUndefined();
  });
});

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`numbers and arrays (${backend} parser)`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    it('uses the backend it names', () => {
      expect(wasmKernels() !== undefined).toBe(backend === 'webassembly');
    });

    it('reads long mantissas that lie a hair from a float32 rounding tie as Math.fround(JSON.parse) does', () => {
      // Each one's approximate double lies within digits x 2^-51 of a tie between two float32 values
      // (the last with a mantissa just above 2^53 and 2^54): only the exact reading decides.
      const numbers = [
        '0.19825979322195053101',
        '604650881141424179079e-22',
        '0.017315295524895191191',
        '0.34649030864238737',
        '0.16935116797685625',
      ];
      const vector = `[${numbers.join(',')}]`;
      const parsed = parse(`{"data":[${vector},${vector}]}`, ['data[*]'])!.value as { data: Float32Array[] };
      const reference = Float32Array.from(numbers, (number) => JSON.parse(number) as number);
      expect(parsed.data).toEqual([reference, reference]);
      // And one at a time, alone in its vector.
      for (const [index, number] of numbers.entries()) {
        const single = parse(`{"v":[${number}]}`, ['v'])!.value as { v: Float32Array };
        expect(Object.is(single.v[0], reference[index]), number).toBe(true);
      }
    });

    it('reads compact vectors of one-digit values (two bytes a value)', () => {
      const text = '{"data":[[1,2,3,4,5,6,7,8,9],[9,8,7,6,5,4,3,2,1]]}';
      expect(parse(text, ['data[*]'])).toEqual({
        value: {
          data: [Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), Float32Array.of(9, 8, 7, 6, 5, 4, 3, 2, 1)],
        },
      });
    });

    it('steps aside for an empty first vector', () => {
      expect(parse('{"data":[[],[]]}', ['data[*]'])).toBeUndefined();
      expect(parse('{"data":[{"embedding":[]}]}', ['data[*].embedding'])).toBeUndefined();
      expect(parse('{"data":[{"embedding":[ ]},{"embedding":[1]}]}', ['data[*].embedding'])).toBeUndefined();
    });

    it('reads a body written with spaces around every token, as Python writes JSON, and with CRLF and tabs', () => {
      const compact = {
        object: 'list',
        data: [
          { index: 0, embedding: [0.5, -0.25], tags: ['a', 'b'] },
          { index: 1, embedding: [1, 2], tags: [] },
        ],
        usage: { total_tokens: 4 },
      };
      const bodies = [
        JSON.stringify(compact, null, 1).replaceAll('\n', ' '),
        JSON.stringify(compact).replaceAll(',', ', ').replaceAll(':', ': '),
        JSON.stringify(compact, null, '\t').replaceAll('\n', '\r\n'),
        JSON.stringify(compact, null, 2)
          .replaceAll('":', '" \t:')
          .replaceAll('{', '{\r')
          .replaceAll('[', '[\t')
          .replaceAll(',', '\r\n,\t'),
      ];
      for (const text of bodies) {
        expect(JSON.parse(text)).toEqual(compact);
        expect(parse(text, ['data[*].embedding']), text).toEqual({
          value: expected(text, (key) => key === 'embedding'),
        });
      }
    });

    it('steps aside for an exponent without digits, whatever byte follows the e', () => {
      // The byte after `e` (or its sign) must be a digit; a delimiter there is not read as one, even where
      // the elided body would then parse (`[1e]]` elided leaves `{"v":[0]}`).
      for (const text of [
        '{"v":[1e ,2]}',
        '{"v":[1E-\t,2]}',
        '{"v":[1e+\r\n,2]}',
        '{"v":[1e]]}',
        '{"v":[0.5,1e]]}',
      ])
        expect(parse(text, ['v']), text).toBeUndefined();
    });

    it('reads a 52-digit number whose approximate reading errs by more than 2^-51 as Math.fround(JSON.parse) does', () => {
      // Both lie a hair from the float32 rounding tie 373449671615939659408682778624 (2^98 x 1.1785…), on
      // either side; the error of the approximate double grows with the digits read, past 2^-51 here.
      for (const number of [
        '373449671615939659408682778624.0000000000000000000001',
        '373449671615939659408682778623.9999999999999999999996',
      ]) {
        const parsed = parse(`{"v":[${number},0.5]}`, ['v'])!.value as { v: Float32Array };
        expect(Object.is(parsed.v[0], Math.fround(JSON.parse(number))), number).toBe(true);
        expect(parsed.v[1]).toBe(0.5);
      }
    });

    it('steps aside for an array closed by anything but `]`, even where the rest would parse', () => {
      // `[1,2}` elided would leave `{"a":[0]}`, valid JSON, from a body JSON.parse rejects.
      for (const text of ['{"a":[1,2}}', '{"a":[1,2 }}', '{"a":[1,2"]}', '{"b":[[1,2],[3,4}]}'])
        expect(parse(text, ['a', 'b[*]']), text).toBeUndefined();
    });
  });
}

describe('the array reader', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('returns -1 for a first vector whose `]` never comes, with either parser, wherever it starts', () => {
    for (const kernels of [undefined, wasmKernels()])
      for (const [text, position] of [
        ['[1,2,3', 0],
        ['{"a":[1,2,3', 5],
        ['{"data":[{"embedding":[0.5, 0.25', 22],
      ] as const) {
        const reader = new ArrayReader(utf8(text), kernels);
        expect(reader.read(position), text).toBe(-1);
        expect(reader.vectors).toEqual([]);
      }
  });

  it('returns -1 for a first vector of 300,000 values whose `]` never comes, on kernels with little memory', () => {
    // More separators than the memory laid out for the window holds: the reader must stop before the kernel runs.
    const text = `{"v":[${'1,'.repeat(300_000)}`;
    const reader = new ArrayReader(utf8(text), newWasmKernels(0)!);
    expect(reader.read(5)).toBe(-1);
    expect(reader.vectors).toEqual([]);
  });
});

describe('the envelope: whitespace, strings and values the scanner skips', () => {
  it('skips strings holding escaped quotes, backslashes, commas, spaces and brackets', () => {
    const text = String.raw`{"note":"say \"hi\", [then] {go}","path":"C:\\dir\\","odd":"\\\"","data":[{"id":"x, y]","embedding":[1,2]}],"end":"}"}`;
    const plain = JSON.parse(text) as Record<string, unknown>;
    expect(plain.path).toBe('C:\\dir\\');
    expect(parse(text, ['data[*].embedding'])).toEqual({
      value: { ...plain, data: [{ id: 'x, y]', embedding: Float32Array.of(1, 2) }] },
    });
  });

  it('skips a scalar that is the last item of an array on a path', () => {
    const text = '{"data":[{"embedding":[1,2]},5],"n":7}';
    expect(parse(text, ['data[*].embedding'])).toEqual({
      value: { data: [{ embedding: Float32Array.of(1, 2) }, 5], n: 7 },
    });
  });

  it('skips an empty object, an array where an object is expected, and an object where an array is', () => {
    const text = '{"data":[{},{ },{"embedding":[1,2]},[3,4],{"embedding":[5,6]}],"list":{"k\\u0065y":[7]}}';
    expect(parse(text, ['data[*].embedding', 'list[*]'])).toEqual({
      value: {
        data: [{}, {}, { embedding: Float32Array.of(1, 2) }, [3, 4], { embedding: Float32Array.of(5, 6) }],
        list: { key: [7] },
      },
    });
  });

  it('steps aside when a value in the envelope is malformed, rather than throwing', () => {
    for (const text of ['{"note":nul,"v":[1,2]}', '{"v":[1,2],"n":01}', '{"v":[1,2]} x'])
      expect(parse(text, ['v']), text).toBeUndefined();
  });
});

describe('keys', () => {
  it('matches a path key only in full: a longer key or one that differs in its last byte is not it', () => {
    const text = '{"data":[{"embedding_v2":[7,8],"embeddinG":[9,9],"embedding":[1,2],"embeddin":[3]}]}';
    expect(parse(text, ['data[*].embedding'])).toEqual({
      value: {
        data: [{ embedding_v2: [7, 8], embeddinG: [9, 9], embedding: Float32Array.of(1, 2), embeddin: [3] }],
      },
    });
  });

  it('steps aside for an escaped key, even where another vector sits under the plain spelling', () => {
    const text = '{"embeddings":[{"values":[1,2]},{"val\\u0075es":[3,4]}]}';
    expect(parse(text, ['embeddings[*].values'])).toBeUndefined();
  });

  it('leaves an object without the path key as it is: no key is added', () => {
    const parsed = parse('{"data":[{"embedding":[1,2]},{"error":"x"}]}', ['data[*].embedding'])!.value as {
      data: Record<string, unknown>[];
    };
    expect(Object.keys(parsed.data[1]!)).toEqual(['error']);
    expect(Object.keys(parsed.data[0]!)).toEqual(['embedding']);
  });

  it('leaves an object without an own key named like an Object.prototype member as it is', () => {
    const parsed = parse('{"data":[{"embedding":[1,2]}]}', ['data[*].embedding', 'data[*].toString'])!
      .value as { data: Record<string, unknown>[] };
    expect(Object.keys(parsed.data[0]!)).toEqual(['embedding']);
  });
});

describe('base64 vectors (Node Buffer present)', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('steps aside for an empty string and for a length that is not whole floats', () => {
    expect(parse('{"data":[{"embedding":""}]}', ['data[*].embedding'])).toBeUndefined();
    // 6 bytes: a float and a half.
    expect(parse('{"data":[{"embedding":"AACAPwAA"}]}', ['data[*].embedding'])).toBeUndefined();
  });

  it("reads base64url with Node's decoder, as the JSON.parse path would", () => {
    const bytes = Uint8Array.from({ length: 24 }, (_, index) => 250 - index * 7);
    const url = Buffer.from(bytes).toString('base64url');
    expect(url).toMatch(/[-_]/);
    const parsed = parse(`{"data":[{"embedding":"${url}"}]}`, ['data[*].embedding'])!.value as {
      data: { embedding: Float32Array }[];
    };
    const vector = parsed.data[0]!.embedding;
    expect(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength)).toEqual(bytes);
  });

  it('decodes them with the WebAssembly kernels off', () => {
    setWebAssemblyEnabled(false);
    expect(wasmKernels()).toBeUndefined();
    expect(parse('{"data":[{"embedding":"AACAPwAAAEA="}]}', ['data[*].embedding'])).toEqual({
      value: { data: [{ embedding: Float32Array.of(1, 2) }] },
    });
  });

  it('steps aside for a later string that decodes to more bytes than the first', () => {
    expect(
      parse('{"data":[{"embedding":"AACAPw=="},{"embedding":"AACAPwAAAEA="}]}', ['data[*].embedding']),
    ).toBeUndefined();
  });
});

describe('base64 strings where there is neither Buffer nor WebAssembly', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('reads the arrays and leaves the strings in place for the provider', async () => {
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    vi.stubGlobal('WebAssembly', undefined);
    const fresh = await import('../src/json-vectors.js');
    const text = '{"data":[{"embedding":[1,2]},{"embedding":"AACAPwAAAEA="}]}';
    expect(
      fresh.parseJsonWithVectors(utf8(text), ['data[*].embedding'], (bytes) =>
        new TextDecoder().decode(bytes),
      ),
    ).toEqual({ value: { data: [{ embedding: Float32Array.of(1, 2) }, { embedding: 'AACAPwAAAEA=' }] } });
  });
});

describe('the WebAssembly memory after a parse', () => {
  const LARGE = 33 * 1024 * 1024;

  it('drops an instance whose memory has grown past 32 MB once the arrays are read, and keeps a smaller one', () => {
    const small = wasmKernels()!;
    expect(parse('{"v":[1,2]}', ['v'])).toEqual({ value: { v: Float32Array.of(1, 2) } });
    expect(wasmKernels() === small).toBe(true);
    small.reserve(LARGE);
    expect(parse('{"v":[1,2]}', ['v'])).toEqual({ value: { v: Float32Array.of(1, 2) } });
    const next = wasmKernels()!;
    expect(next === small).toBe(false);
    expect(next.bytes.byteLength).toBeLessThan(LARGE);
  });

  describe('with no Node Buffer (base64 decoded by the WebAssembly decoder)', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
      vi.resetModules();
    });

    it('drops an instance whose memory the decoder grew past 32 MB', async () => {
      vi.resetModules();
      vi.stubGlobal('Buffer', undefined);
      const fresh = await import('../src/json-vectors.js');
      const { wasmKernels: freshKernels } = await import('../src/wasm/kernels.js');
      const kernels = freshKernels()!;
      const reserve = kernels.reserve;
      // The decoder asks for what it needs; here it gets more than is worth keeping.
      kernels.reserve = (size) => reserve(Math.max(size, LARGE));
      const text = '{"data":[{"embedding":"AACAPwAAAEA="}]}';
      expect(
        fresh.parseJsonWithVectors(utf8(text), ['data[*].embedding'], (bytes) =>
          new TextDecoder().decode(bytes),
        ),
      ).toEqual({ value: { data: [{ embedding: Float32Array.of(1, 2) }] } });
      expect(kernels.bytes.byteLength).toBeGreaterThanOrEqual(LARGE);
      expect(freshKernels() === kernels).toBe(false);
    });

    it('steps aside when no new instance can get its memory once the grown one is dropped', async () => {
      vi.resetModules();
      vi.stubGlobal('Buffer', undefined);
      const fresh = await import('../src/json-vectors.js');
      const { wasmKernels: freshKernels } = await import('../src/wasm/kernels.js');
      // Grown past what is kept: the instance is dropped once the body is scanned, before the decoder runs.
      freshKernels()!.reserve(LARGE);
      const api = (globalThis as unknown as { WebAssembly: { Instance: new () => object } }).WebAssembly;
      const instance = vi.spyOn(api, 'Instance').mockImplementation(
        class {
          constructor() {
            throw new RangeError('WebAssembly.Instance(): Out of memory');
          }
        },
      );
      try {
        const text = '{"data":[{"embedding":"AACAPwAAAEA="}]}';
        expect(
          fresh.parseJsonWithVectors(utf8(text), ['data[*].embedding'], (bytes) =>
            new TextDecoder().decode(bytes),
          ),
        ).toBeUndefined();
        expect(instance).toHaveBeenCalled();
      } finally {
        instance.mockRestore();
      }
    });
  });
});
