import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkEmbeddings, vectorExpectation } from '../src/engine/checks.js';
import { InvalidResponseError } from '../src/errors.js';
import { requestJson } from '../src/http/client.js';
import type { Transport } from '../src/http/transport.js';
import { ArrayReader, parseJsonWithVectors } from '../src/json-vectors.js';
import { decodeVectors } from '../src/provider-utils.js';
import { nonFiniteValue, numberArraysToVectors } from '../src/vectors.js';
import { setWebAssemblyEnabled, wasmKernels } from '../src/wasm/kernels.js';

/**
 * The property tests run with a fixed seed, so CI always checks the same cases; fast-check prints the
 * seed and the path of any failure, and FAST_CHECK_SEED replays or explores other seeds.
 */
const SEED = Number(process.env.FAST_CHECK_SEED ?? 20_261_203);
const RUNS = Number(process.env.FAST_CHECK_RUNS ?? 300);

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Parses `text` with the vectors at `paths` taken from the bytes. */
function parse(text: string, paths: readonly string[]) {
  return parseJsonWithVectors(utf8(text), paths, (bytes) => new TextDecoder().decode(bytes));
}

/** The exact decimal expansion of a finite double (hundreds of digits for the smallest). */
function exactDecimal(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent = exponentBits - 1075;
  if (exponentBits === 0) exponent = -1074;
  else mantissa |= 1n << 52n;
  const sign = value < 0 ? '-' : '';
  if (exponent >= 0) return `${sign}${(mantissa << BigInt(exponent)).toString()}`;
  // mantissa / 2^-e = mantissa * 5^-e / 10^-e
  const digits = (mantissa * 5n ** BigInt(-exponent)).toString().padStart(-exponent + 1, '0');
  const point = digits.length + exponent;
  const fraction = digits.slice(point).replace(/0+$/, '');
  return `${sign}${digits.slice(0, point)}${fraction === '' ? '' : `.${fraction}`}`;
}

/** The next float32 above a positive finite float32. */
function nextFloat32(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  view.setUint32(0, view.getUint32(0) + 1);
  return view.getFloat32(0);
}

/** Every way the property tests write a number: all valid JSON, many beyond what a serializer emits. */
const FORMATS: ((value: number, digits: number) => string)[] = [
  (value) => String(value),
  (value, digits) => value.toPrecision(1 + (digits % 21)),
  (value, digits) => value.toExponential(digits % 21),
  (value, digits) => value.toExponential(digits % 21).toUpperCase(),
  // "1e-7" -> "1e-07", "1e+21" -> "1E+021": leading zeros in the exponent are valid JSON.
  (value) => value.toExponential().replace(/e([+-])(\d+)$/, (_, sign, exponent) => `e${sign}0${exponent}`),
  (value) => value.toExponential().replace('e+', 'E'),
  // Trailing zeros in the fraction.
  (value, digits) => {
    const text = value.toExponential();
    const [mantissa, exponent] = text.split('e');
    return `${mantissa}${mantissa!.includes('.') ? '' : '.'}${'0'.repeat(1 + (digits % 5))}e${exponent}`;
  },
  (value) => exactDecimal(value),
];

/** A finite double of every class: any double, float32 values, near float32 rounding ties, subnormals, huge. */
const doubles = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((value) => value),
  // Exactly halfway between two float32 values, and a double's ulp or a few either side.
  fc
    .tuple(fc.float({ noNaN: true, noDefaultInfinity: true, min: 0 }), fc.integer({ min: -3, max: 3 }))
    .filter(([value]) => Number.isFinite(nextFloat32(value)))
    .map(([value, nudge]) => {
      const middle = (value + nextFloat32(value)) / 2;
      const ulp = middle === 0 ? 5e-324 : 2 ** (Math.floor(Math.log2(middle)) - 52);
      return middle + nudge * ulp;
    }),
  // float32 subnormals and the double subnormal range.
  fc.integer({ min: 1, max: 2 ** 23 }).map((steps) => steps * 2 ** -149),
  fc.double({ min: 0, max: 2 ** -1022, noNaN: true }),
  // Around the float32 maximum, where values overflow to Infinity.
  fc.double({ min: 3.3e38, max: 3.5e38, noNaN: true }),
  // Typical embedding coordinates.
  fc.double({ min: -0.2, max: 0.2, noNaN: true }),
  fc.constantFrom(0, -0, 1, -1, 5e-324, 1.7976931348623157e308, 3.4028234663852886e38, 1.401298464324817e-45),
);

const numberTexts = fc
  .tuple(doubles, fc.integer({ min: 0, max: FORMATS.length - 1 }), fc.nat(100))
  .map(([value, format, digits]) => {
    if (Object.is(value, -0)) return ['-0', '-0.0', '-0e5', '-0.000E-12'][digits % 4]!;
    return FORMATS[format]!(value, digits);
  });

/** JSON whitespace (and only that) to put between tokens. */
const whitespace = fc.constantFrom('', '', '', ' ', '\n    ', '\t', '\r\n', '  \n');

/** 1 to 5 vectors of one length, as number texts with whitespace around them. */
const vectorBodies = fc.integer({ min: 1, max: 40 }).chain((length) =>
  fc.array(
    fc.array(fc.tuple(numberTexts, whitespace, whitespace), { minLength: length, maxLength: length }),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
);

function geminiBody(vectors: [string, string, string][][]): string {
  const items = vectors.map(
    (vector) =>
      `{"values":[${vector.map(([number, before, after]) => `${before}${number}${after}`).join(',')}]}`,
  );
  return `{"embeddings":[${items.join(',\n')}],"note":"ok"}`;
}

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`float vectors from the bytes (${backend}): bit-identical to Math.fround(JSON.parse(text))`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    it('uses the backend it names', () => {
      // Without this, a module that failed to load would make both runs test JavaScript.
      expect(wasmKernels() !== undefined).toBe(backend === 'webassembly');
    });

    it('for random doubles of every class, written every valid way, between any whitespace', () => {
      fc.assert(
        fc.property(vectorBodies, (vectors) => {
          const text = geminiBody(vectors);
          const parsed = parse(text, ['embeddings[*].values']);
          expect(parsed, `the fast path refused ${text.slice(0, 200)}`).toBeDefined();
          const value = parsed!.value as { embeddings: { values: Float32Array }[]; note: string };
          const reference = JSON.parse(text) as { embeddings: { values: number[] }[] };
          expect(value.note).toBe('ok');
          for (const [index, embedding] of value.embeddings.entries()) {
            expect(embedding.values).toBeInstanceOf(Float32Array);
            const expected = reference.embeddings[index]!.values.map((number) => Math.fround(number));
            for (const [position, number] of expected.entries()) {
              const actual = embedding.values[position]!;
              if (!Object.is(actual, number))
                throw new Error(
                  `${vectors[index]![position]![0]} read as ${actual}, JSON.parse + Math.fround gives ${number}`,
                );
            }
          }
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('for long mantissas: 17 to 40 digits, and the exact decimals of float32 rounding ties', () => {
      const cases = fc.oneof(
        fc
          .double({ noNaN: true, noDefaultInfinity: true })
          .map((value) => value.toPrecision(17 + ((Math.abs(value * 7) % 5) | 0))),
        fc.float({ noNaN: true, noDefaultInfinity: true, min: 0 }).map((value) => {
          const middle = (value + nextFloat32(value)) / 2;
          return Number.isFinite(middle) ? exactDecimal(middle) : '1';
        }),
        fc.bigInt({ min: 0n, max: 10n ** 40n }).map((value) => value.toString()),
        fc
          .tuple(fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.integer({ min: 0, max: 60 }))
          .map(([digits, scale]) => `0.${'0'.repeat(scale)}${digits}`),
      );
      fc.assert(
        fc.property(fc.array(cases, { minLength: 2, maxLength: 30 }), (numbers) => {
          const text = `{"embeddings":[{"values":[${numbers.join(',')}]},{"values":[${numbers.join(',')}]}]}`;
          const parsed = parse(text, ['embeddings[*].values'])!.value as {
            embeddings: { values: Float32Array }[];
          };
          for (const embedding of parsed.embeddings)
            for (const [position, number] of numbers.entries())
              expect(Object.is(embedding.values[position], Math.fround(JSON.parse(number)))).toBe(true);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('reads the common form -0.d…d (1 to 15 digits) and every edge of it exactly', () => {
      const numbers = [
        '0.5',
        '-0.5',
        '0.0',
        '-0.0',
        '-0.000000000000000',
        '0.123456789012345',
        '-0.999999999999999',
        // 16 and 17 digits, an exponent, a space, a bigger integer part: the general path.
        '0.1234567890123456',
        '0.12345678901234567',
        '0.5e-3',
        '0.25 ',
        '10.5',
        '-1.5',
        '0.000000000000001',
        '0.100000000000000',
        '0.010339832',
        '-0.030571679',
      ];
      const text = `{"embeddings":[{"values":[${numbers.join(',')}]},{"values":[${numbers.join(',')}]}]}`;
      const parsed = parse(text, ['embeddings[*].values'])!.value as {
        embeddings: { values: Float32Array }[];
      };
      for (const embedding of parsed.embeddings)
        numbers.forEach((number, position) => {
          expect(Object.is(embedding.values[position], Math.fround(JSON.parse(number))), number).toBe(true);
        });
      // And at the end of a vector, right before its `]`.
      for (const last of ['0.25', '-0.000', '0.123456789012345']) {
        const short = `{"embeddings":[{"values":[1,${last}]},{"values":[2,${last}]}]}`;
        const values = (
          parse(short, ['embeddings[*].values'])!.value as { embeddings: { values: Float32Array }[] }
        ).embeddings[1]!.values;
        expect(Object.is(values[1], Math.fround(JSON.parse(last))), last).toBe(true);
      }
    });

    it('reads two neighbours of the common form together, and any pair with one of another form, indented or not', () => {
      // The kernel reads the common form two elements at a time: every ordered pair, starting at an even
      // and an odd element, last in its vector or not, compact or pretty-printed, must read as each element
      // alone does.
      const numbers = [
        '0.5',
        '-0.5',
        '0.0',
        '-0.0',
        '0.123456789012345',
        '-0.999999999999999',
        '0.000000000000001',
        '-0.010339832',
        '0.1234567890123456',
        '-0.12345678901234567',
        '0.5e-3',
        '-0.25 ',
        '10.5',
        '1.25',
        '-9.5',
        '-1',
      ];
      for (const first of numbers)
        for (const second of numbers)
          for (const [before, after] of [
            [[], []],
            [['0.75'], []],
            [[], ['-0.375']],
            [['0.75'], ['-0.375']],
          ] as const) {
            const vector = [...before, first, second, ...after];
            // Compact, and pretty-printed as the Gemini API writes it (whitespace skipped before each).
            const compact = `[${vector.join(',')}]`;
            const pretty = `[\n${vector.map((number) => `      ${number}`).join(',\n')}\n    ]`;
            const text = `{"embeddings":[{"values":${compact}},{"values":${pretty}}]}`;
            const parsed = parse(text, ['embeddings[*].values'])!.value as {
              embeddings: { values: Float32Array }[];
            };
            const expected = vector.map((number) => Math.fround(JSON.parse(number)));
            for (const embedding of parsed.embeddings)
              expected.forEach((number, position) => {
                expect(
                  Object.is(embedding.values[position], number),
                  `${vector[position]} in [${vector}]`,
                ).toBe(true);
              });
          }
    });

    it('reads an exponent longer than it keeps as Number() does, however long the fraction before it', () => {
      // Bug: the exponent was capped at 100,000 and the capped value counted, so a fraction of 100,000
      // digits brought the scale back within +-22 and 0.0…01e1000000 (Infinity) was read as 1.
      const numbers = [
        `0.${'0'.repeat(99_999)}1e1000000`,
        `-0.${'0'.repeat(99_977)}1e1000000`,
        `0.${'0'.repeat(99_999)}1e+1000000`,
        `1e${'0'.repeat(7)}1`,
        `0.${'0'.repeat(999_999)}15e1000001`,
        `5e-${'9'.repeat(8)}`,
      ];
      for (const number of numbers) {
        const text = `{"embedding":{"values":[${number},0.5]}}`;
        const parsed = parse(text, ['embedding.values'])!.value as { embedding: { values: Float32Array } };
        const expected = Math.fround(JSON.parse(number));
        expect(
          Object.is(parsed.embedding.values[0], expected),
          `${number.slice(0, 12)}…${number.slice(-12)}`,
        ).toBe(true);
        expect(parsed.embedding.values[1]).toBe(0.5);
      }
    });

    it('across parse windows: 300 vectors of 1,024 values (3.6 MB), slow numbers in each', () => {
      const random = fc.sample(fc.double({ min: -0.2, max: 0.2, noNaN: true }), {
        seed: SEED,
        numRuns: 1024,
      });
      const values = random.map((value) => String(Math.fround(value)));
      // Numbers only the exact path can read, at the start, middle and end of vectors.
      values[0] = '1.00000000000000000000000000001';
      values[511] = '3.4028235677973366e38';
      values[1023] = '-0.1000000000000000055511151231257827021181583404541015625';
      const vector = `[${values.join(',')}]`;
      const text = `{"embeddings":[${Array.from({ length: 300 }, () => `{"values":${vector}}`).join(',')}]}`;
      const parsed = parse(text, ['embeddings[*].values'])!.value as {
        embeddings: { values: Float32Array }[];
      };
      const expected = Float32Array.from(values, (number) => Number(number));
      expect(parsed.embeddings).toHaveLength(300);
      for (const embedding of parsed.embeddings) {
        expect(embedding.values).toEqual(expected);
        // Each vector owns exactly its bytes (bug: views of one slab pinned the whole answer).
        expect(embedding.values.buffer.byteLength).toBe(1024 * 4);
      }
    });

    it('reads a vector far longer than the one before it, running past the parse window, and one longer than a window', () => {
      // 4,096 values: compact they take about 45 KB; with 150 spaces after each, about 660 KB, more than
      // the half-megabyte window the WebAssembly parser lays out. The parser finds each `]` itself, so a
      // vector that starts inside a window and ends past it must be laid out again from its start (bug
      // this catches: the vector was refused and the whole body went to JSON.parse).
      const random = fc.sample(fc.double({ min: -0.3, max: 0.3, noNaN: true }), {
        seed: SEED + 1,
        numRuns: 4096,
      });
      const texts = random.map((value) => String(Math.fround(value)));
      const compact = `[${texts.join(',')}]`;
      const padded = `[${texts.join(`${' '.repeat(150)},`)}${' '.repeat(150)}]`;
      expect(padded.length).toBeGreaterThan(600_000);
      const expected = Float32Array.from(texts, (text) => Number(text));
      for (const order of [
        [compact, padded, compact, compact],
        [padded, compact, padded, padded, compact],
      ]) {
        const text = `{"data":[${order.map((vector, index) => `{"index":${index},"embedding":${vector}}`).join(',')}]}`;
        const parsed = parse(text, ['data[*].embedding'])!.value as {
          data: { index: number; embedding: Float32Array }[];
        };
        expect(parsed.data.map((item) => item.index)).toEqual(order.map((_, index) => index));
        for (const item of parsed.data) expect(item.embedding).toEqual(expected);
      }
    });

    it('refuses a later vector of another length, or one whose `]` never comes, within the window or past it', () => {
      const vector = (count: number) =>
        `[${Array.from({ length: count }, (_, index) => index / 8).join(',')}]`;
      expect(parse(`{"data":[${vector(1024)},${vector(1023)}]}`, ['data[*]'])).toBeUndefined();
      expect(parse(`{"data":[${vector(1024)},${vector(1025)}]}`, ['data[*]'])).toBeUndefined();
      // The reader itself, since a body with an unclosed vector is refused further on whatever the reader
      // does: the vectors before it are read, the unclosed one refused, not given a made-up end and not
      // thrown on. 40 vectors of about 7.6 KB, then 300,000 spaces: the unclosed vector starts inside the
      // parser's half-megabyte window and runs past it (bug this catches: the branch that lays out a
      // larger window found no `]` and threw, or ended the vector at the end of the body).
      for (const [before, padding] of [
        [2, 0],
        [40, 300_000],
      ] as const) {
        for (const closed of [false, true]) {
          const last = closed ? vector(1024) : vector(1024).slice(0, -1);
          const vectors = Array.from({ length: before }, () => vector(1024));
          const bytes = utf8(`[${[...vectors, last].join(',')}${' '.repeat(padding)}`);
          const reader = new ArrayReader(bytes, wasmKernels());
          let position = 1;
          for (let index = 0; index < before; index++) {
            const end = reader.read(position);
            expect(bytes[end - 1]).toBe(93);
            position = end + 1;
          }
          const end = reader.read(position);
          if (closed) expect(end).toBe(position + last.length);
          else expect(end).toBe(-1);
          expect(reader.vectors).toHaveLength(closed ? before + 1 : before);
        }
      }
    });

    it('refuses every malformed number: the caller then parses with JSON.parse, which throws', () => {
      const malformed = [
        '01',
        '-01',
        '00.5',
        '1.',
        '-.5',
        '.5',
        '-',
        '+1',
        '1e',
        '1e+',
        '1E-',
        '1.e5',
        '--1',
        '1..2',
        '1e5.5',
        '0x1F',
        'NaN',
        'Infinity',
        '-Infinity',
        '1_000',
        '١',
        'true',
        'null',
        '"1"',
        '[1]',
        '{}',
        '1 2',
        '1\u000b',
        '\u00a01',
        '1\u0000',
        '',
      ];
      for (const bad of malformed) {
        for (const position of ['first', 'last']) {
          const values = position === 'first' ? `${bad},0.5,0.25` : `0.5,0.25,${bad}`;
          const text = `{"embeddings":[{"values":[0.5,0.25,0.125]},{"values":[${values}]}]}`;
          expect(parse(text, ['embeddings[*].values']), `${bad} (${position})`).toBeUndefined();
        }
      }
      // The fast path also refuses what is valid JSON but not a float vector of one length.
      for (const values of [
        '[]',
        '[0.5, 0.25]',
        '[0.5, 0.25, 0.125, 1]',
        '[0.5, [0.25], 1]',
        '[0.5,\n0.25,]',
      ]) {
        const text = `{"embeddings":[{"values":[0.5,0.25,0.125]},{"values":${values}}]}`;
        expect(parse(text, ['embeddings[*].values']), values).toBeUndefined();
      }
    });

    it('reads overflow to Infinity, as Math.fround does; the engine then refuses it quoting the number as sent', () => {
      // 3.5e38 and -1e400 are read the exact way; the 17-digit one the approximate way, whose margin
      // demotes to one float32 (an infinity) at both ends (bug: named "Infinity", not as sent).
      const text =
        '{"embeddings":[{"values":[1,2]},{"values":[3.5e38,-1e400]},{"values":[0.5,-4.0000000000000001e38]}]}';
      const parsed = parse(text, ['embeddings[*].values'])!.value as {
        embeddings: { values: Float32Array }[];
      };
      expect(Array.from(parsed.embeddings[1]!.values)).toEqual([
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
      ]);
      expect(Array.from(parsed.embeddings[2]!.values)).toEqual([0.5, Number.NEGATIVE_INFINITY]);
      const vectors = numberArraysToVectors(parsed.embeddings.map((item) => item.values));
      const check = (from: number) => () =>
        checkEmbeddings(
          { provider: 'acme' },
          vectors.slice(from),
          3 - from,
          vectorExpectation('float', 2, 2),
          (index) => `vector ${index + from}`,
        );
      expect(check(0)).toThrow('acme returned vector 1 holding 3.5e+38 at position 0, not a finite number.');
      expect(check(2)).toThrow('acme returned vector 2 holding -4e+38 at position 1, not a finite number.');
      // Nothing is kept of a body that holds no such number, and a later body is told apart.
      const finite = parse('{"embeddings":[{"values":[1,2]}]}', ['embeddings[*].values'])!.value as {
        embeddings: { values: Float32Array }[];
      };
      finite.embeddings[0]!.values[1] = Number.POSITIVE_INFINITY;
      expect(nonFiniteValue(finite.embeddings[0]!.values)).toBe('Infinity at position 1');
    });
  });
}

/** Node's Buffer, kept for building test data while a test hides it from the code under test. */
const NodeBuffer = Buffer;

// Node's decoder where there is a Buffer; the WebAssembly one where there is none (browsers, workers):
// the module is loaded again with Buffer hidden.
for (const decoder of ['node', 'webassembly'] as const) {
  describe(`base64 vectors from the bytes (${decoder} decoder): the bytes Node's decoder gives`, () => {
    let parse: (text: string, paths: readonly string[]) => { value: unknown } | undefined;
    beforeAll(async () => {
      vi.resetModules();
      if (decoder === 'webassembly') vi.stubGlobal('Buffer', undefined);
      const fresh = await import('../src/json-vectors.js');
      parse = (text, paths) =>
        fresh.parseJsonWithVectors(utf8(text), paths, (bytes) => new TextDecoder().decode(bytes));
    });
    afterAll(() => {
      vi.unstubAllGlobals();
      vi.resetModules();
    });

    it('for random bytes of every length class, with and without padding', () => {
      const vectorSets = fc.integer({ min: 1, max: 200 }).chain((floats) =>
        fc.array(fc.uint8Array({ minLength: floats * 4, maxLength: floats * 4 }), {
          minLength: 1,
          maxLength: 6,
        }),
      );
      fc.assert(
        fc.property(vectorSets, fc.boolean(), (vectors, padded) => {
          const texts = vectors.map((bytes) => {
            const text = NodeBuffer.from(bytes).toString('base64');
            return padded ? text : text.replace(/=+$/, '');
          });
          const items = texts.map((text, index) => `{"index":${index},"embedding":"${text}"}`);
          const parsed = parse(`{"data":[${items.join(',')}]}`, ['data[*].embedding'])!.value as {
            data: { embedding: Float32Array }[];
          };
          for (const [index, bytes] of vectors.entries()) {
            const decoded = parsed.data[index]!.embedding;
            expect(new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength)).toEqual(bytes);
          }
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('across windows: 400 vectors of 3,072 floats (6.6 MB of base64)', () => {
      const vector = Float32Array.from({ length: 3072 }, (_, index) => Math.sin(index) / 7);
      const text = NodeBuffer.from(vector.buffer).toString('base64');
      const body = `{"data":[${Array.from({ length: 400 }, () => `{"embedding":"${text}"}`).join(',')}]}`;
      const parsed = parse(body, ['data[*].embedding'])!.value as { data: { embedding: Float32Array }[] };
      expect(parsed.data).toHaveLength(400);
      for (const item of parsed.data) expect(item.embedding).toEqual(vector);
      // Each vector is the whole of a buffer of its own: never a view into a slab or the kernels' memory.
      const buffers = new Set(parsed.data.map((item) => item.embedding.buffer));
      expect(buffers.size).toBe(400);
      for (const { embedding } of parsed.data) {
        expect(embedding.byteOffset).toBe(0);
        expect(embedding.buffer.byteLength).toBe(3072 * 4);
      }
    });

    it('a `=` on a string whose length is not a multiple of 4 is not padding: the fast path steps aside', () => {
      // 12 bytes are 16 characters; `=` after them is what atob refuses, and before, the decoder without
      // Buffer took it as padding and read [1, 2, 3] from a body the fallback refuses.
      const text = NodeBuffer.from(Float32Array.of(1, 2, 3).buffer).toString('base64');
      expect(text).toHaveLength(16);
      for (const padded of [`${text}=`, `${text}==`]) {
        const body = `{"data":[{"embedding":"${text}"},{"embedding":"${padded}"}]}`;
        expect(parse(body, ['data[*].embedding']), padded).toBeUndefined();
      }
      const good = parse(`{"data":[{"embedding":"${text}"}]}`, ['data[*].embedding'])!.value as {
        data: { embedding: Float32Array }[];
      };
      expect(good.data[0]!.embedding).toEqual(Float32Array.of(1, 2, 3));
    });

    it('base64url and padding in the middle read as Node reads them (the WebAssembly decoder steps aside)', () => {
      const bytes = Uint8Array.from({ length: 24 }, (_, index) => 250 - index * 7);
      const standard = NodeBuffer.from(bytes).toString('base64');
      const url = NodeBuffer.from(bytes).toString('base64url');
      expect(url).toMatch(/[-_]/);
      for (const text of [url, `${standard.slice(0, 8)}=${standard.slice(9)}`]) {
        const body = `{"data":[{"embedding":"${standard}"},{"embedding":"${text}"}]}`;
        const fast = parse(body, ['data[*].embedding']);
        if (decoder === 'webassembly') expect(fast, text).toBeUndefined();
        // Whichever path reads it, the floats are what Node's decoder makes of the text, or an error.
        const plain = JSON.parse(body) as { data: { embedding: string }[] };
        const expected = NodeBuffer.from(text, 'base64');
        let decoded: Uint8Array | undefined;
        try {
          const vector =
            (fast?.value as { data: { embedding: Float32Array }[] } | undefined)?.data[1]?.embedding ??
            (decodeVectors([plain.data[1]!.embedding], 'float')[0] as Float32Array);
          decoded = new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
        } catch (error) {
          expect(InvalidResponseError.isInstance(error), text).toBe(true);
        }
        if (decoded !== undefined) expect(NodeBuffer.from(decoded).equals(expected), text).toBe(true);
      }
    });
  });
}

describe('which path the WebAssembly parser takes', () => {
  it('steps aside when the kernels cannot get the memory a vector needs, instead of throwing', () => {
    const kernels = wasmKernels()!;
    const grow = vi.spyOn(kernels, 'reserve').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    try {
      expect(parse('{"data":[{"embedding":[0.5,-0.25]}]}', ['data[*].embedding'])).toBeUndefined();
      expect(grow).toHaveBeenCalled();
    } finally {
      grow.mockRestore();
    }
    // Memory to be had again, the same body is read.
    const parsed = parse('{"data":[{"embedding":[0.5,-0.25]}]}', ['data[*].embedding'])!.value as {
      data: { embedding: Float32Array }[];
    };
    expect(Array.from(parsed.data[0]!.embedding)).toEqual([0.5, -0.25]);
  });

  /** How many elements the kernel read the general way while `read` ran. */
  function generalReads(read: () => void): number {
    const counter = wasmKernels()!.exports.general_count;
    const before = counter.value;
    read();
    return counter.value - before;
  }
  // As an embedding API writes them: -0.d…d, here with 1 to 15 digits.
  const numbers = fc
    .sample(fc.integer({ min: -200_000_000, max: 200_000_000 }), { seed: SEED, numRuns: 65 })
    .map(
      (n, index) =>
        `${n < 0 ? '-' : ''}0.${`${String(Math.abs(n)).padStart(9, '0')}314159`.slice(0, 1 + (index % 15))}`,
    );

  it('reads compact and pretty-printed arrays of the common form two at a time: the general way only at their ends', () => {
    const even = numbers.slice(0, 64);
    const odd = numbers.slice(0, 63);
    const compact = (vector: string[]) => `[${vector.join(',')}]`;
    const pretty = (vector: string[], indent: string) =>
      `[\n${vector.map((number) => `${indent}${number}`).join(',\n')}\n${indent.slice(2)}]`;
    const cases = [
      // An even count in pairs; an odd one leaves its last alone.
      { text: compact(even), general: 0 },
      { text: compact(odd), general: 1 },
      // Pretty-printed: the last value has whitespace before the `]`, so it and its partner go the general way.
      { text: pretty(even, '        '), general: 2 },
      { text: pretty(even, '  '), general: 2 },
      { text: pretty(even, '\t\t'), general: 2 },
      { text: pretty(odd, '                      '), general: 1 },
    ];
    for (const { text, general } of cases) {
      const body = `{"embeddings":[{"values":${text}},{"values":${text}},{"values":${text}}]}`;
      let parsed: { embeddings: { values: Float32Array }[] } | undefined;
      expect(
        generalReads(() => {
          parsed = parse(body, ['embeddings[*].values'])!.value as typeof parsed;
        }),
        text.slice(0, 40),
      ).toBe(3 * general);
      const expected = Float32Array.from(JSON.parse(text) as number[]);
      for (const embedding of parsed!.embeddings) expect(embedding.values).toEqual(expected);
    }
  });
});

describe('the envelope around the vectors', () => {
  it('keeps every other field exactly as JSON.parse reads it, with each vector in a buffer of its own', () => {
    const text = JSON.stringify({
      object: 'list',
      data: [
        { object: 'embedding', index: 1, embedding: [0.5, -0.25], extra: { embedding: [9, 9] } },
        { object: 'embedding', index: 0, embedding: [1e-3, 2] },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 7, total_tokens: 7 },
      embedding: [5, 6],
    });
    const parsed = parse(text, ['data[*].embedding'])!.value as Record<string, unknown> & {
      data: { embedding: Float32Array; extra: { embedding: number[] } }[];
    };
    const plain = JSON.parse(text);
    expect(Array.from(parsed.data[0]!.embedding)).toEqual([0.5, -0.25]);
    expect(Array.from(parsed.data[1]!.embedding)).toEqual([Math.fround(1e-3), 2]);
    expect(parsed.data[0]!.embedding.buffer).not.toBe(parsed.data[1]!.embedding.buffer);
    expect(parsed.data[0]!.embedding.buffer.byteLength).toBe(8);
    // Only the named path is read: a nested `embedding` and a top-level one stay plain arrays.
    expect(parsed.data[0]!.extra).toEqual({ embedding: [9, 9] });
    expect(parsed.embedding).toEqual([5, 6]);
    expect({ ...parsed, data: undefined }).toEqual({ ...plain, data: undefined });
    expect(parsed.data.map(({ embedding: _, ...rest }) => rest)).toEqual(
      plain.data.map(({ embedding: _, ...rest }: Record<string, unknown>) => rest),
    );
  });

  it('reads pretty-printed bodies (the Gemini API indents its JSON) and the single-vector path', () => {
    const text = '{\n  "embedding": {\n    "values": [\n      -0.0216,\n      0.0033\n    ]\n  }\n}\n';
    const parsed = parse(text, ['embedding.values'])!.value as { embedding: { values: Float32Array } };
    expect(Array.from(parsed.embedding.values)).toEqual([Math.fround(-0.0216), Math.fround(0.0033)]);
  });

  it('reads a vector inside an object at a path that is itself a vector path (paths y and y.values)', () => {
    // Bug: an object at a vector path was skipped unread, so the array inside it stayed in the envelope
    // as a plain array, and putting the vectors back took it for the label of another vector.
    const cases: [string, string[]][] = [
      ['{"x":[1,2],"y":{"values":[0.5,3]}}', ['x', 'y', 'y.values']],
      ['{"x":[1],"y":{"values":[2]}}', ['x', 'y', 'y.values']],
      ['{"a":[5],"a":{"b":[0.25]}}', ['a', 'a.b']],
      ['{"y":[3,4],"z":[7,8],"z":{"y":[1,-2]}}', ['y', 'z', 'z.y']],
    ];
    for (const [text, paths] of cases) {
      const parsed = parse(text, paths);
      expect(parsed, text).toBeDefined();
      // Every array at one of the paths is a Float32Array of the same values, everything else as JSON.parse reads it.
      const expected = JSON.parse(text, function (this: unknown, _key, value) {
        return Array.isArray(value) && value.every((item) => typeof item === 'number')
          ? Float32Array.from(value)
          : value;
      });
      expect(parsed!.value, text).toEqual(expected);
    }
  });

  it('compiles each list of paths apart, whatever characters the paths hold', () => {
    // Bug: lists were cached by their paths joined with newlines, so ["a\nb"] was read as ["a", "b"].
    expect((parse('{"a":[1]}', ['a', 'b'])!.value as { a: unknown }).a).toBeInstanceOf(Float32Array);
    // No vector at that path: the fast path steps aside and the caller reads the body with JSON.parse.
    expect(parse('{"a":[1]}', ['a\nb'])).toBeUndefined();
  });

  it('with duplicate keys, keeps the last one, as JSON.parse does', () => {
    const text = '{"embeddings":[{"values":[1,2],"values":[3,4]}],"embeddings":[{"values":[5,6]}]}';
    const parsed = parse(text, ['embeddings[*].values'])!.value as { embeddings: { values: Float32Array }[] };
    expect(parsed.embeddings).toHaveLength(1);
    expect(Array.from(parsed.embeddings[0]!.values)).toEqual([5, 6]);
  });

  it('steps aside for what only JSON.parse reads right: escaped keys, a byte-order mark, a top-level scalar', () => {
    expect(parse('{"embeddings":[{"val\\u0075es":[1,2]}]}', ['embeddings[*].values'])).toBeUndefined();
    expect(parse('\ufeff{"embedding":{"values":[1]}}', ['embedding.values'])).toBeUndefined();
    expect(parse('7', ['embedding.values'])).toBeUndefined();
    // Nothing at the paths: nothing to gain, plain JSON.parse.
    expect(parse('{"error":{"message":"nope"}}', ['embedding.values'])).toBeUndefined();
  });

  it('decodes base64 vectors at the path (float32, little-endian), each into its own buffer, even beside arrays', () => {
    const first = Float32Array.of(0.5, -2, 3.25);
    const second = Float32Array.of(1, 2, 3);
    const text = JSON.stringify({
      data: [
        { index: 0, embedding: Buffer.from(first.buffer).toString('base64') },
        { index: 1, embedding: Buffer.from(second.buffer).toString('base64') },
        { index: 2, embedding: [7, 8, 9] },
      ],
    });
    const parsed = parse(text, ['data[*].embedding'])!.value as { data: { embedding: Float32Array }[] };
    expect(parsed.data[0]!.embedding).toEqual(first);
    expect(parsed.data[1]!.embedding).toEqual(second);
    expect(parsed.data[0]!.embedding.buffer).not.toBe(parsed.data[1]!.embedding.buffer);
    expect(parsed.data[0]!.embedding.buffer.byteLength).toBe(12);
    expect(parsed.data[2]!.embedding).toEqual(Float32Array.of(7, 8, 9));
    // The provider decode keeps them as they are: each already owns its buffer.
    const decoded = decodeVectors(
      parsed.data.map((item) => item.embedding),
      'float',
    );
    expect(decoded[0]).toBe(parsed.data[0]!.embedding);
    expect(
      decodeVectors(
        parsed.data.map((item) => item.embedding),
        'float',
      ),
    ).toEqual([first, second, Float32Array.of(7, 8, 9)]);
  });

  it('a bad vector in an answer mixing base64 and arrays is named by its place (it was always vector 0)', () => {
    const base64 = Buffer.from(Float32Array.of(1, 2).buffer).toString('base64');
    expect(() => decodeVectors([base64, [1, 2], [1, null]], 'float')).toThrow(
      new InvalidResponseError('Vector 2 holds null at position 1, not a finite number.'),
    );
    expect(() => decodeVectors([[1, 2], base64, 'AAAAA'], 'float')).toThrow(/^Vector 2 is not valid base64/);
    expect(() => decodeVectors([[1, null], base64], 'float')).toThrow(/^Vector 0 holds null at position 1/);
  });

  it('leaves base64 with a JSON escape (`\\/`, as some servers write it) to JSON.parse, which unescapes it', () => {
    // 0xd6d8ffff, 0xfbbfd1ef: "///Y1u/Rv/s=". Its five `\/` make 16 characters before the padding,
    // which a 12-byte vector would have: only the decoder's byte count (8 written, 12 promised) can tell
    // this string is not plain base64.
    const vector = new Float32Array(Uint32Array.of(0xd6d8ffff, 0xfbbfd1ef).buffer);
    const base64 = Buffer.from(vector.buffer).toString('base64');
    expect(base64).toBe('///Y1u/Rv/s=');
    const text = `{"data":[{"embedding":"${base64.replaceAll('/', '\\/')}"}]}`;
    expect(parse(text, ['data[*].embedding'])).toBeUndefined();
    expect(decodeVectors([JSON.parse(text).data[0].embedding], 'float')).toEqual([vector]);
  });

  it('rejects a path that is not keys and [*]', () => {
    expect(() => parse('{}', ['data[0].embedding'])).toThrow(/not a vector path/);
    expect(() => parse('{}', ['data..embedding'])).toThrow(/not a vector path/);
  });
});

describe('base64 vectors where Node Buffer is missing (browsers, edge runtimes)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  async function withoutBuffer(webAssembly: boolean, reset = true) {
    if (reset) vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    if (!webAssembly) vi.stubGlobal('WebAssembly', undefined);
    const { parseJsonWithVectors: fresh } = await import('../src/json-vectors.js');
    const text = '{"data":[{"embedding":"AACAPwAAAEA="}],"other":[1]}';
    return fresh(utf8(text), ['data[*].embedding'], (bytes) => new TextDecoder().decode(bytes));
  }

  it('decodes them with the WebAssembly decoder', async () => {
    const parsed = (await withoutBuffer(true))!.value as {
      data: { embedding: Float32Array }[];
      other: number[];
    };
    expect(parsed.data[0]!.embedding).toEqual(Float32Array.of(1, 2));
    expect(parsed.other).toEqual([1]);
  });

  it('leaves the strings to the provider when the decoder cannot get memory for them, instead of throwing', async () => {
    vi.resetModules();
    const { wasmKernels: freshKernels } = await import('../src/wasm/kernels.js');
    const grow = vi.spyOn(freshKernels()!, 'reserve').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    expect(await withoutBuffer(true, false)).toBeUndefined();
    expect(grow).toHaveBeenCalled();
  });

  it('without WebAssembly either, leaves the strings in the body for the provider to decode', async () => {
    // No array at the path and nothing decodable: plain JSON.parse serves.
    expect(await withoutBuffer(false)).toBeUndefined();
  });
});

describe('requestJson with floatVectors', () => {
  function answering(text: string, status = 200): Transport {
    return {
      kind: 'fetch',
      async request() {
        return { status, headers: { 'content-type': 'application/json' }, body: utf8(text) };
      },
    };
  }

  const options = { provider: 'acme', url: 'https://api.acme.test/v1/embed', floatVectors: ['vectors[*]'] };

  it('hands the provider Float32Array views in place of the arrays', async () => {
    const response = await requestJson({
      ...options,
      transport: answering('{"vectors":[[1,2],[3,4]],"n":2}'),
    });
    expect(response.body).toEqual({ vectors: [Float32Array.of(1, 2), Float32Array.of(3, 4)], n: 2 });
  });

  it('turns a malformed number into an InvalidResponseError, never a value', async () => {
    for (const bad of ['01', '1.', 'NaN', '1e', '-']) {
      const error = await requestJson({ ...options, transport: answering(`{"vectors":[[1,${bad}]]}`) }).catch(
        (caught: unknown) => caught,
      );
      expect(InvalidResponseError.isInstance(error), bad).toBe(true);
      expect((error as Error).message).toMatch(/not valid JSON/);
    }
  });

  it('reads error bodies as before: the vectors option applies to 2xx answers only', async () => {
    const error = await requestJson({
      ...options,
      transport: answering('{"vectors":[[1,2]],"error":"bad"}', 400),
    }).catch((caught: unknown) => caught);
    expect((error as { statusCode?: number }).statusCode).toBe(400);
  });

  it('parses with JSON.parse whatever the fast path steps aside for, with the same result', async () => {
    const response = await requestJson({ ...options, transport: answering('\ufeff{"vectors":[[1,2]]}') });
    expect(response.body).toEqual({ vectors: [[1, 2]] });
  });
});
