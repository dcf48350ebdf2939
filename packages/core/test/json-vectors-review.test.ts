/**
 * Reading float vectors straight from JSON bytes (json-vectors.ts) against its contract, body by body:
 * the result is `JSON.parse` of the body with each vector at a path a `Float32Array` of `Math.fround`
 * of its values (a base64 string there: its little-endian float32 values), bit for bit, or undefined
 * where the fast path steps aside. Each case states which of the two it is, on both parsers; a property
 * test then builds bodies from the same pieces (duplicate and escaped keys, values of every kind at a
 * path, numbers of every form, whitespace JSON allows and some it refuses, base64 with flaws, bodies cut
 * short or with a byte more) and compares every answer with `JSON.parse`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { parseJsonWithVectors } from '../src/json-vectors.js';
import { setWebAssemblyEnabled, wasmKernels } from '../src/wasm/kernels.js';

const SEED = Number(process.env.FAST_CHECK_SEED ?? 20_260_418);
const RUNS = Number(process.env.FAST_CHECK_RUNS ?? 400);

const utf8 = (text: string) => new TextEncoder().encode(text);
const decoder = new TextDecoder();

/** Parses `bytes` with the vectors at `paths` taken from them, the text decoded as requestJson does. */
function parseBytes(bytes: Uint8Array, paths: readonly string[]) {
  return parseJsonWithVectors(bytes, paths, (envelope) => decoder.decode(envelope));
}

function parse(text: string, paths: readonly string[]) {
  return parseBytes(utf8(text), paths);
}

/** A path split into steps: a key, or `*` for every item of an array. */
function steps(path: string): string[] {
  return path.split('.').flatMap((segment) => {
    const [name, ...stars] = segment.split('[*]');
    return [...(name === '' ? [] : [name!]), ...stars.map(() => '*')];
  });
}

/**
 * What the contract promises for `text`: `JSON.parse`, then at each path every array of numbers as a
 * `Float32Array` of their `Math.fround`, every string as the float32 values its base64 decodes to.
 */
function reference(text: string, paths: readonly string[]): unknown {
  const root = JSON.parse(text) as unknown;
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value) && value.every((item) => typeof item === 'number'))
      return Float32Array.from(value);
    if (typeof value !== 'string') return value;
    const bytes = Buffer.from(value, 'base64');
    return bytes.length % 4 === 0 ? new Float32Array(new Uint8Array(bytes).buffer) : value;
  };
  const visit = (holder: Record<string, unknown> | unknown[], key: string | number, rest: string[]) => {
    const value = (holder as Record<string, unknown>)[key];
    if (rest.length === 0) (holder as Record<string, unknown>)[key] = convert(value);
    else if (rest[0] === '*') {
      if (Array.isArray(value))
        for (let index = 0; index < value.length; index++) visit(value, index, rest.slice(1));
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      if (Object.hasOwn(value, rest[0]!)) visit(value as Record<string, unknown>, rest[0]!, rest.slice(1));
    }
  };
  const holder = { root };
  for (const path of paths) visit(holder, 'root', steps(path));
  return holder.root;
}

/**
 * A value written out so that two are equal exactly when they are the same: float32 bits, -0, key order,
 * own `__proto__` keys and the prototype of every object.
 */
function canonical(value: unknown): string {
  if (value instanceof Float32Array)
    return `f32(${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')})`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? String(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const prototype = Object.getPrototypeOf(value) === Object.prototype ? '' : '(another prototype)';
  const entries = Object.keys(value).map(
    (key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`,
  );
  return `${prototype}{${entries.join(',')}}`;
}

/** Asserts that the fast path reads `text` exactly as the contract says. */
function expectRead(text: string, paths: readonly string[]) {
  const parsed = parse(text, paths);
  expect(parsed, `the fast path stepped aside for ${JSON.stringify(text)}`).toBeDefined();
  expect(canonical(parsed!.value), text).toBe(canonical(reference(text, paths)));
}

const base64 = (...values: number[]) => Buffer.from(Float32Array.of(...values).buffer).toString('base64');

describe('path keys, which the fast path matches by their UTF-8 bytes', () => {
  it('refuses a key holding U+FFFD or a lone surrogate, which could match bytes JSON.parse reads as another key', () => {
    // Bug: with paths ["a", "\uFFFD"], the body {"a":[1,2],"<0xff>":[0]} (JSON.parse reads the key as
    // U+FFFD) came back with the vector of "a" in place of the [0] the server sent; with a vector at that
    // key it came back undefined, and with the path "\uD800" the label [1] stood in for the vector [3,4].
    for (const path of ['\uFFFD', 'data[*].emb\uFFFDedding', '\uD800', 'x.\uDC00y[*]']) {
      let thrown: unknown;
      try {
        parse('{"a":[1,2]}', ['a', path]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError);
      expect(thrown).toMatchObject({
        code: 'invalid_argument',
        argument: 'floatVectors',
        message: `"${path}" is not a vector path; a key may not hold U+FFFD or a lone surrogate.`,
      });
    }
  });

  it('reads a key of any other character, a surrogate pair included, as JSON.parse does', () => {
    expectRead('{"😀":[1,2],"é":{"ü":[3,4]},"😀x":[5]}', ['😀', 'é.ü']);
    // A key whose bytes are not UTF-8 is not a path key: it stays as JSON.parse reads it.
    const bytes = Buffer.concat([Buffer.from('{"é":[1,2],"'), Buffer.from([0xc3]), Buffer.from('":[0]}')]);
    const parsed = parseBytes(bytes, ['é']);
    expect(canonical(parsed!.value)).toBe(canonical({ é: Float32Array.of(1, 2), '\uFFFD': [0] }));
  });
});

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`every body read as JSON.parse reads it, or not at all (${backend} parser)`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    it('uses the backend it names', () => {
      expect(wasmKernels() !== undefined).toBe(backend === 'webassembly');
    });

    it('keeps the last of duplicate keys, whatever each holds, and steps aside for one spelt with an escape', () => {
      for (const text of [
        '{"v":[1,2],"v":null}',
        '{"v":null,"v":[1,2]}',
        '{"v":[1,2] , "v" : [3 ,4]}',
        `{"v":[1,2],"v":"${base64(5, 6)}"}`,
        `{"v":"${base64(5, 6)}","v":[-0,0.5]}`,
        '{"data":[{"embedding":[1]}],"data":[{"embedding":[2]},{"embedding":[3]}]}',
      ])
        expectRead(text, ['v', 'data[*].embedding']);
      expect(parse('{"v":[1,2],"\\u0076":[3,4]}', ['v'])).toBeUndefined();
      expect(parse('{"\\u0065mbedding":[1,2]}', ['embedding'])).toBeUndefined();
      // A later vector of another length: JSON.parse would keep it, the fast path leaves it to JSON.parse.
      expect(parse('{"v":[1,2],"v":[3,4,5]}', ['v'])).toBeUndefined();
    });

    it('keeps a key __proto__ as an own property, at a path or off it, and Object.prototype untouched', () => {
      for (const [text, paths] of [
        ['{"__proto__":[1,2]}', ['__proto__']],
        ['{"__proto__":{"v":[0.5]},"v":[7]}', ['__proto__.v', 'v']],
        ['{"a":[1],"__proto__":[0]}', ['a']],
        ['{"data":[{"__proto__":{"embedding":[9]},"embedding":[1]}]}', ['data[*].embedding']],
      ] as const)
        expectRead(text, paths);
      const parsed = parse('{"__proto__":[1,2]}', ['__proto__'])!.value as object;
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    });

    it('tells the labels that stand for vectors from arrays the server sent that look like them', () => {
      expectRead('{"v":[1,2],"w":[0],"x":{"v":[0]},"s":"[0]"}', ['v']);
      expectRead('{"v":[1,2],"y":{"v":[[1]]},"z":[[0],[1]]}', ['v']);
    });

    it('leaves null, a number, true and an object at a path as they are, beside a vector', () => {
      for (const other of ['null', '5', '-0', 'true', '{}', '{"v":[9]}'])
        expectRead(`{"v":${other},"w":[1,2]}`, ['v', 'w']);
      // A string there is read as base64: one that is not is left to JSON.parse and the provider's decode.
      expect(parse('{"v":"x","w":[1,2]}', ['v', 'w'])).toBeUndefined();
    });

    it('steps aside for an array at a path that is not numbers, or not of the first one length', () => {
      for (const vector of ['[]', '[ ]', '[[1]]', '[1,"2"]', '[null]', '[true]', '[{}]', '[1,2,3]', '[1]'])
        expect(parse(`{"a":[1,2],"v":${vector}}`, ['a', 'v']), vector).toBeUndefined();
    });

    it('reads every number JSON.parse reads, at the edges of float32, as Math.fround of its double', () => {
      const numbers = [
        '-0',
        '-0.0e5',
        '0e99999999',
        '1e-400',
        '-1e-400',
        '1e39',
        '-1e39',
        '1e309',
        '3.4028235677973366e38',
        '3.4028235677973362e38',
        '-3.4028235677973366e38',
        '1.401298464324817e-45',
        '7.006492321624085e-46',
        '7.006492321624087e-46',
        '9007199254740993',
        '9007199254740993e-10',
        '0.9007199254740993',
        '123456789012345678901234567890',
        '12345678901234567890123.4567890e-3',
        '0.000000000000000000000000000001',
        '1e0000000000000000000005',
        '16777217',
        '0.30000000000000004',
      ];
      const text = `{"v":[${numbers.join(',')}],"w":[${numbers.toReversed().join(' , ')}]}`;
      expectRead(text, ['v', 'w']);
      const parsed = parse(text, ['v'])!.value as { v: Float32Array };
      expect(Array.from(parsed.v.subarray(0, 10), (value) => (Object.is(value, -0) ? '-0' : value))).toEqual([
        '-0',
        '-0',
        0,
        0,
        '-0',
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
        Number.POSITIVE_INFINITY,
        3.4028234663852886e38,
      ]);
    });

    it('steps aside for every malformed number and every array JSON.parse refuses', () => {
      for (const bad of [
        '+1',
        '.5',
        '5.',
        '01',
        '-',
        '1e',
        '1E+',
        '-01',
        '1.e5',
        '0x1',
        'NaN',
        '- 1',
        '1 2',
      ]) {
        for (const text of [`{"v":[${bad}]}`, `{"v":[0.5,${bad}]}`, `{"a":[1],"v":[${bad}]}`]) {
          expect(() => JSON.parse(text), text).toThrow(SyntaxError);
          expect(parse(text, ['a', 'v']), text).toBeUndefined();
        }
      }
      for (const text of [
        '{"v":[1,]}',
        '{"v":[,1]}',
        '{"v":[1,,2]}',
        '{"v":[1 2]}',
        '{"v":[1,2}',
        '{"v":[1,2]]}',
      ])
        expect(parse(text, ['v']), text).toBeUndefined();
    });

    it('reads JSON whitespace anywhere and steps aside for whitespace JSON refuses: \\v, \\f, U+00A0, U+2028', () => {
      expectRead(' \t\r\n{ \t\r\n"v" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n} \t\r\n', ['v']);
      for (const space of ['\u000b', '\u000c', '\u00a0', '\u2028', '\u0000']) {
        for (const text of [
          `{"v":[1,${space}2]}`,
          `{"v":[1,2${space}]}`,
          `{"v":${space}[1,2]}`,
          `{"v":[1,2]${space}}`,
          `${space}{"v":[1,2]}`,
          `{"v":[1,2]}${space}`,
        ]) {
          expect(() => JSON.parse(text), JSON.stringify(text)).toThrow(SyntaxError);
          expect(parse(text, ['v']), JSON.stringify(text)).toBeUndefined();
        }
      }
    });

    it('steps aside for a byte-order mark, trailing content and every body cut short', () => {
      for (const text of [
        '\ufeff{"v":[1,2]}',
        '{"v":[1,2]}x',
        '{"v":[1,2]}{}',
        '{"v":[1,2]}]',
        '{"v":[1,2]}[0]',
      ])
        expect(parse(text, ['v']), text).toBeUndefined();
      const whole = `{"data":[{"embedding":[0.5,-1e-3,2]},{"embedding":"${base64(1, 2, 3)}","n":"a]b"}]}`;
      expectRead(whole, ['data[*].embedding']);
      for (let length = 0; length < whole.length; length++)
        expect(parse(whole.slice(0, length), ['data[*].embedding']), whole.slice(0, length)).toBeUndefined();
    });

    it('skips strings holding `]`, `,`, `[0]` and escaped quotes right before and after a vector', () => {
      expectRead(String.raw`{"s":"]","v":[1,2],"t":",","u":"\"]\\","w":"[0]"}`, ['v']);
      expectRead(String.raw`{"o":{"\\":"\""},"v":[1,2],"v2":"\\\"[3]"}`, ['v']);
    });

    it('reads base64 as Node decodes it and steps aside for one with whitespace, an escape or bad padding', () => {
      const text = base64(1, 2);
      expect(text).toBe('AACAPwAAAEA=');
      expectRead(`{"v":"${text}"}`, ['v']);
      expectRead('{"v":"AACAPwAAAEA"}', ['v']);
      for (const flawed of [
        'AACAPwAAAE==',
        'AACA PwAAAEA=',
        'AACA\\nPwAAAEA=',
        'AACA\\u0050wAAAEA=',
        'AACAPwAAAEA=\\u0000',
        'AACAPwAAAEA==',
        'AACAPw=AAAEA',
      ])
        expect(parse(`{"v":"${flawed}"}`, ['v']), flawed).toBeUndefined();
      // A raw line feed in the string: JSON.parse refuses the body, and so does the fast path.
      expect(parse('{"v":"AACA\nPwAAAEA="}', ['v'])).toBeUndefined();
    });
  });
}

// ---- random bodies ----------------------------------------------------------------------------------

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '0.5',
  '-0.0216',
  '0.0033',
  '1E+5',
  '1e-5',
  '-0.0e5',
  '1e-400',
  '1e39',
  '3.4028235677973366e38',
  '7.006492321624085e-46',
  '0.19825979322195053101',
  '12345678901234567890',
  '9007199254740993e-10',
  '1.0000000000000000000000001',
];
const MALFORMED = ['+1', '.5', '5.', '01', '-', '1e', '1E+', 'NaN', 'null', '"1"', '[1]'];
const NOISE = [
  '"a]b"',
  '"x, y"',
  '"\\"]"',
  '"[0]"',
  '[0]',
  '[[1]]',
  '{}',
  '{"embedding":[9]}',
  'null',
  '-1.5e3',
  '"é"',
];

/** Whitespace between tokens: mostly JSON's, now and then some it refuses. */
const space = fc.oneof(
  { weight: 150, arbitrary: fc.constantFrom('', '', '', ' ', '\n  ', '\t', '\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\u000b', '\u000c', '\u00a0') },
);

const numberText = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 30, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(String) },
  { weight: 30, arbitrary: fc.double({ min: -0.2, max: 0.2, noNaN: true }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom(...MALFORMED) },
);

/** A vector of `length` values as JSON text: mostly an array, sometimes base64 (some flawed) or not one at all. */
function vectorText(length: number) {
  return fc.oneof(
    {
      weight: 40,
      arbitrary: fc
        .array(fc.tuple(space, numberText, space), { minLength: length, maxLength: length })
        .map(
          (items) => `[${items.map(([before, number, after]) => `${before}${number}${after}`).join(',')}]`,
        ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.array(fc.float({ noNaN: true }), { minLength: length, maxLength: length }),
          fc.constantFrom('', '', '', 'unpadded', 'escaped', 'spaced'),
        )
        .map(([values, flaw]) => {
          const text = base64(...values);
          if (flaw === 'unpadded') return `"${text.replace(/=+$/, '')}"`;
          if (flaw === 'escaped') return `"\\u0041${text}"`;
          if (flaw === 'spaced') return `"${text.slice(0, 4)} ${text.slice(4)}"`;
          return `"${text}"`;
        }),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'null',
        '5',
        '{}',
        '[]',
        '[[1]]',
        '"x"',
        '[1,]',
        `[${'0,'.repeat(length)}0]`,
      ),
    },
  );
}

const keyText = fc.oneof(
  { weight: 20, arbitrary: fc.constant('embedding') },
  { weight: 1, arbitrary: fc.constantFrom('\\u0065mbedding', 'embeddinG', '__proto__') },
);
const noiseMember = fc
  .tuple(fc.constantFrom('index', 'object', '__proto__', 'n'), fc.constantFrom(...NOISE))
  .map(([key, value]) => `"${key}":${value}`);

function itemText(length: number) {
  return fc
    .tuple(
      keyText,
      vectorText(length),
      fc.array(noiseMember, { maxLength: 2 }),
      fc.option(vectorText(length)),
      space,
    )
    .map(([key, vector, noise, duplicate, gap]) => {
      const members = [`${gap}"${key}"${gap}:${gap}${vector}`, ...noise];
      if (duplicate !== null) members.push(`"embedding":${duplicate}`);
      return `{${members.join(',')}}`;
    });
}

/** Most bodies as they are; some with a byte-order mark, a byte more or less, or cut short. */
const edit = fc.oneof(
  { weight: 20, arbitrary: fc.constant((text: string) => text) },
  { weight: 1, arbitrary: fc.constant((text: string) => `\ufeff${text}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('', 'x', ',', ']', '}', '[', '"', '\\', '0'),
      )
      .map(
        ([where, byte]) =>
          (text: string) =>
            `${text.slice(0, Math.floor(where * text.length))}${byte}${text.slice(Math.floor(where * text.length) + 1)}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .double({ min: 0, max: 1, noNaN: true })
      .map((where) => (text: string) => text.slice(0, Math.floor(where * text.length))),
  },
);

const bodies = fc.integer({ min: 1, max: 12 }).chain((length) =>
  fc.oneof(
    fc
      .tuple(
        fc.array(itemText(length), { minLength: 1, maxLength: 4 }),
        fc.array(noiseMember, { maxLength: 2 }),
        edit,
      )
      .map(([items, noise, change]) => ({
        text: change(`{${[`"data":[${items.join(',')}]`, ...noise].join(',')}}`),
        paths: ['data[*].embedding'],
      })),
    fc
      .tuple(fc.array(fc.tuple(space, vectorText(length)), { minLength: 1, maxLength: 4 }), edit)
      .map(([vectors, change]) => ({
        text: change(`[${vectors.map(([gap, vector]) => `${gap}${vector}`).join(',')}]`),
        paths: ['[*]'],
      })),
  ),
);

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`random bodies (${backend} parser)`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    it('are read exactly as JSON.parse and Math.fround read them, or left to JSON.parse', () => {
      let read = 0;
      let refused = 0;
      fc.assert(
        fc.property(bodies, ({ text, paths }) => {
          const parsed = parse(text, paths);
          if (parsed === undefined) {
            refused++;
            return;
          }
          read++;
          let expected: unknown;
          try {
            expected = reference(text, paths);
          } catch {
            throw new Error(`the fast path read ${JSON.stringify(text)}, which JSON.parse refuses`);
          }
          expect(canonical(parsed.value), text).toBe(canonical(expected));
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // Both outcomes are exercised: most bodies are read, and a good share stepped aside for.
      expect(read).toBeGreaterThan(RUNS / 4);
      expect(refused).toBeGreaterThan(RUNS / 10);
    });
  });
}
