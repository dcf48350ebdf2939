import { describe, expect, expectTypeOf, it } from 'vitest';
import { schema } from '../src/provider.js';

function issues(
  parser: { safeParse(value: unknown): { success: boolean; error?: { issues: readonly unknown[] } } },
  value: unknown,
) {
  const result = parser.safeParse(value);
  return result.success ? [] : result.error!.issues;
}

describe('the schema kit: lenient on answers, strict on options', () => {
  const answer = schema.object({
    data: schema.array(schema.object({ index: schema.integer({ minimum: 0 }), embedding: schema.unknown() })),
    model: schema.optional(schema.string()),
    usage: schema.nullish(schema.object({ prompt_tokens: schema.integer({ minimum: 0 }) })),
  });

  it('an answer keeps the fields it names and drops the rest; optional and nullish fields may be missing', () => {
    const parsed = answer.safeParse({
      object: 'list',
      data: [{ index: 0, embedding: 'AAAA', object: 'embedding' }],
      usage: null,
    });
    expect(parsed).toEqual({ success: true, data: { data: [{ index: 0, embedding: 'AAAA' }], usage: null } });
    expectTypeOf(answer.safeParse({})).toMatchTypeOf<
      | { success: true; data: { data: { index: number; embedding: unknown }[]; model?: string | undefined } }
      | { success: false }
    >();
  });

  it('names the path and what was expected for each problem', () => {
    expect(issues(answer, { data: [{ index: 0, embedding: 1 }, { index: -1 }, { index: 1.5 }] })).toEqual([
      {
        code: 'too_small',
        origin: 'number',
        minimum: 0,
        inclusive: true,
        path: ['data', 1, 'index'],
        message: 'must be at least 0',
      },
      {
        code: 'invalid_type',
        expected: 'int',
        path: ['data', 2, 'index'],
        message: 'expected a whole number, got number',
      },
    ]);
    expect(issues(answer, { data: 'x', usage: 3 })).toEqual([
      { code: 'invalid_type', expected: 'array', path: ['data'], message: 'expected array, got string' },
      { code: 'invalid_type', expected: 'object', path: ['usage'], message: 'expected object, got number' },
    ]);
    expect(issues(answer, null)).toEqual([
      { code: 'invalid_type', expected: 'object', path: [], message: 'expected object, got null' },
    ]);
  });

  it('options refuse unknown keys (a typo must not pass silently), empty strings and out-of-range numbers', () => {
    const options = schema.strictObject({
      user: schema.optional(schema.string({ minLength: 1 })),
      chunkSize: schema.optional(schema.integer({ minimum: 1, maximum: 32_000 })),
      normalize: schema.optional(schema.boolean()),
    });
    expect(options.safeParse({})).toEqual({ success: true, data: {} });
    expect(options.safeParse({ user: 'u', chunkSize: 32_000, normalize: false })).toEqual({
      success: true,
      data: { user: 'u', chunkSize: 32_000, normalize: false },
    });
    expect(issues(options, { usr: 'u', chunk_size: 1 })).toEqual([
      {
        code: 'unrecognized_keys',
        keys: ['usr', 'chunk_size'],
        path: [],
        message: 'unknown keys "usr" (did you mean "user"?), "chunk_size" (did you mean "chunkSize"?)',
      },
    ]);
    expect(
      issues(options, { user: '', chunkSize: 32_001, normalize: 'no' }).map(
        (issue) => (issue as { message: string }).message,
      ),
    ).toEqual(['must not be empty', 'must be at most 32000', 'expected boolean, got string']);
  });

  it('a loose object keeps keys it does not name; a record checks every value; a union takes the first match', () => {
    expect(
      schema
        .looseObject({ output: schema.optional(schema.string()) })
        .safeParse({ output: 'a', '@type': 'x' }),
    ).toEqual({
      success: true,
      data: { output: 'a', '@type': 'x' },
    });
    expect(issues(schema.record(schema.number()), { a: 1, b: 'two' })).toEqual([
      { code: 'invalid_type', expected: 'number', path: ['b'], message: 'expected number, got string' },
    ]);
    const vector = schema.union([
      schema.string(),
      schema.custom<unknown[]>((value) => Array.isArray(value), 'expected an array'),
    ]);
    expect(vector.safeParse('AAAA')).toEqual({ success: true, data: 'AAAA' });
    expect(vector.safeParse([1, 2])).toEqual({ success: true, data: [1, 2] });
    expect(issues(vector, 3)).toEqual([
      { code: 'invalid_union', path: [], message: 'matches none of the accepted forms' },
    ]);
  });

  it('vectorArray: a JSON array or a Float32Array requestJson decoded, kept as it is; nothing else', () => {
    const values = new Float32Array([0.5, 0.25]);
    expect(schema.vectorArray().safeParse(values)).toEqual({ success: true, data: values });
    expect(schema.vectorArray().safeParse([1, 'two'])).toEqual({ success: true, data: [1, 'two'] });
    for (const value of ['AAAA', new Float64Array(2), new Int8Array(2), { 0: 1, length: 1 }, null]) {
      expect(issues(schema.vectorArray(), value)).toEqual([
        { code: 'custom', path: [], message: 'expected an array' },
      ]);
    }
  });

  it('reads own keys only: a key named like a member of every object is absent unless the body has it', () => {
    const shape = schema.object({ constructor: schema.optional(schema.string()), toString: schema.string() });
    expect(issues(shape, {})).toEqual([
      {
        code: 'invalid_type',
        expected: 'string',
        path: ['toString'],
        message: 'expected string, got undefined',
      },
    ]);
    const parsed = shape.safeParse(JSON.parse('{"toString": "a"}'));
    if (!parsed.success) throw new Error('refused');
    expect(Object.keys(parsed.data)).toEqual(['toString']);
    expect(shape.safeParse(JSON.parse('{"constructor": "c", "toString": "a"}'))).toEqual({
      success: true,
      data: { constructor: 'c', toString: 'a' },
    });
  });

  it('a record keeps a body’s own "__proto__" key as a key, and the result’s prototype as it was', () => {
    const parsed = schema.record(schema.number()).safeParse(JSON.parse('{"a": 1, "__proto__": {"b": 2}}'));
    expect(parsed.success).toBe(false);
    const result = schema.record(schema.unknown()).safeParse(JSON.parse('{"a": 1, "__proto__": {"b": 2}}'));
    if (!result.success) throw new Error('refused');
    const data = result.data;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.keys(data)).toEqual(['a', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toEqual({ b: 2 });
    expect((data as { b?: unknown }).b).toBeUndefined();
  });

  it('numbers must be finite: NaN and Infinity are not numbers an API sends', () => {
    expect(issues(schema.number(), Number.NaN)).toHaveLength(1);
    expect(issues(schema.number(), Number.POSITIVE_INFINITY)).toHaveLength(1);
    expect(schema.number().safeParse(-0.5)).toEqual({ success: true, data: -0.5 });
  });
});

describe('usageTokens: a report read leniently, never a reason to drop an answer', () => {
  const answer = schema.object({ usage: schema.usageTokens('prompt_tokens', 'total_tokens') });

  it.each([
    [{ prompt_tokens: 7, total_tokens: 9 }, 7],
    [{ total_tokens: 9 }, 9],
    [{ prompt_tokens: -1, total_tokens: 9 }, 9],
    [{ prompt_tokens: 1.5, total_tokens: 2 }, 2],
    [{ prompt_tokens: '7' }, undefined],
    [{ prompt_tokens: null }, undefined],
    [{}, undefined],
    [null, undefined],
    ['12', undefined],
    [[7], undefined],
    [{ prompt_tokens: 0 }, 0],
  ])('usage %j reads as %s, with no issue', (usage, tokens) => {
    expect(answer.safeParse({ usage })).toEqual({ success: true, data: { usage: tokens } });
  });

  it('may be absent, and is typed number | undefined', () => {
    const parsed = answer.safeParse({});
    expect(parsed).toEqual({ success: true, data: { usage: undefined } });
    expectTypeOf(answer.safeParse({})).toMatchTypeOf<
      { success: true; data: { usage?: number | undefined } } | { success: false }
    >();
  });

  it('reads own keys only', () => {
    const inherited = Object.create({ prompt_tokens: 5 }) as object;
    expect(answer.safeParse({ usage: inherited })).toEqual({ success: true, data: { usage: undefined } });
  });
});
