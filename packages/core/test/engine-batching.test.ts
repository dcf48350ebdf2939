import { describe, expect, it } from 'vitest';
import { embed, embedMany } from '../src/engine/embed.js';
import type { EmbedSettings, Progress } from '../src/engine/settings.js';
import { estimateTokenCounter, type TokenCounter, utf8Length } from '../src/engine/token-counter.js';
import { InvalidArgumentError, InvalidRequestError, InvalidResponseError } from '../src/errors.js';
import { MockEmbeddingModel } from '../src/testing.js';
import type { EmbedInput, EmbedResponse } from '../src/types.js';
import { numberedInputs, ScriptedModel, seededRandom, vectorFor } from './helpers.js';

/** Counts one token per character: easy to reason about budgets. */
function lengthCounter(exact: boolean): TokenCounter {
  return { exact, count: (input: EmbedInput) => (typeof input === 'string' ? input.length : 1) };
}

async function invalidArgument(run: () => Promise<unknown>): Promise<InvalidArgumentError> {
  try {
    await run();
  } catch (error) {
    expect(
      InvalidArgumentError.isInstance(error),
      `expected InvalidArgumentError, got ${String(error)}`,
    ).toBe(true);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('splitting by input count', () => {
  it.each([
    [3, [[0, 1, 2]]],
    [4, [[0, 1, 2], [3]]],
    [
      6,
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    ],
    [7, [[0, 1, 2], [3, 4, 5], [6]]],
  ])('%i inputs with maxInputsPerCall 3 -> %j', async (count, expectedCalls) => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 3 } });
    const result = await embedMany({ model, inputs: numberedInputs(count), concurrency: 1 });
    expect(model.callInputs).toEqual(expectedCalls.map((call) => call.map(String)));
    expect(result.embeddings).toEqual(numberedInputs(count).map(vectorFor));
  });

  it('a maxInputsPerCall setting lowers the limit but never raises it above the model', async () => {
    const lower = new ScriptedModel({ capabilities: { maxInputsPerCall: 3 } });
    await embedMany({ model: lower, inputs: numberedInputs(5), maxInputsPerCall: 2, concurrency: 1 });
    expect(lower.callInputs.map((call) => call.length)).toEqual([2, 2, 1]);
    const higher = new ScriptedModel({ capabilities: { maxInputsPerCall: 3 } });
    await embedMany({ model: higher, inputs: numberedInputs(5), maxInputsPerCall: 50, concurrency: 1 });
    expect(higher.callInputs.map((call) => call.length)).toEqual([3, 2]);
  });

  it('no inputs: no calls, no vectors, no usage', async () => {
    const model = new ScriptedModel();
    const result = await embedMany({ model, inputs: [] });
    expect(model.calls).toHaveLength(0);
    expect(result.embeddings).toEqual([]);
    expect(result.responses).toEqual([]);
    expect('usage' in result).toBe(false);
  });
});

describe('a bad vector in a later call', () => {
  it("is named by its place in the call and in the whole job (only the call's place was given)", async () => {
    const model = new ScriptedModel({
      provider: 'p',
      capabilities: { maxInputsPerCall: 2 },
      respond: (call) =>
        call.inputs.includes('3')
          ? {
              embeddings: call.inputs.map((input) =>
                input === '3' ? Float32Array.of(Number.NaN, 1) : vectorFor(input),
              ),
              warnings: [],
              response: { status: 200, headers: {} },
            }
          : undefined,
    });
    const failure = await embedMany({
      model,
      inputs: numberedInputs(4),
      concurrency: 1,
      maxRetries: 0,
    }).catch((error) => error);
    expect(failure).toBeInstanceOf(InvalidResponseError);
    expect(failure.message).toBe(
      'p returned vector 1 (input 3 of the whole job) holding NaN at position 0, not a finite number.',
    );
  });
});

describe('splitting by token budget', () => {
  it('packs greedily: a call at exactly the budget stays whole, one token more splits', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: 10 } });
    await embedMany({
      model,
      inputs: ['aaaa', 'bbbb', 'cc', 'd', 'eeeeeeeee', 'ff'],
      tokenCounter: lengthCounter(false),
      concurrency: 1,
    });
    expect(model.callInputs).toEqual([['aaaa', 'bbbb', 'cc'], ['d', 'eeeeeeeee'], ['ff']]);
  });

  it('an input over the budget on its own travels alone (the provider decides)', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: 10 } });
    await embedMany({
      model,
      inputs: ['aa', 'x'.repeat(12), 'bb'],
      tokenCounter: lengthCounter(false),
      concurrency: 1,
    });
    expect(model.callInputs).toEqual([['aa'], ['x'.repeat(12)], ['bb']]);
  });

  it('count and token limits apply together', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: 6, maxInputsPerCall: 2 } });
    await embedMany({
      model,
      inputs: ['a', 'b', 'c', 'dddd', 'ee', 'f'],
      tokenCounter: lengthCounter(false),
      concurrency: 1,
    });
    expect(model.callInputs).toEqual([
      ['a', 'b'],
      ['c', 'dddd'],
      ['ee', 'f'],
    ]);
  });

  it('uses the default estimate (half the UTF-8 bytes, rounded up) when no counter is given', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: 4 } });
    // 'abcd' -> 2, 'éé' (4 bytes) -> 2, 'abc' -> 2
    await embedMany({ model, inputs: ['abcd', 'éé', 'abc'], concurrency: 1 });
    expect(model.callInputs).toEqual([['abcd', 'éé'], ['abc']]);
  });
});

describe('token counting', () => {
  it('utf8Length equals the encoded byte length for random text (ASCII, accents, CJK, emoji)', () => {
    const random = seededRandom(5);
    const alphabet = [
      'a',
      'Z',
      ' ',
      '\n',
      'é',
      'ß',
      'Ω',
      '中',
      '語',
      '€',
      '😀',
      '🧪',
      '\u0000',
      '\u07ff',
      '\u0800',
      '\uffff',
    ];
    for (let sample = 0; sample < 200; sample++) {
      const text = Array.from(
        { length: Math.floor(random() * 40) },
        () => alphabet[Math.floor(random() * alphabet.length)]!,
      ).join('');
      expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });

  it('the estimate is ceil(bytes / 2) per text, 1,000 per image, summed over content parts, and not exact', () => {
    expect(estimateTokenCounter.exact).toBe(false);
    expect(estimateTokenCounter.count('abcd')).toBe(2);
    expect(estimateTokenCounter.count('abcde')).toBe(3);
    expect(estimateTokenCounter.count({ text: '中' })).toBe(2);
    expect(estimateTokenCounter.count({ image: 'https://x.test/cat.png' })).toBe(1_000);
    expect(
      estimateTokenCounter.count({
        content: [
          { type: 'text', text: 'abc' },
          { type: 'image', url: 'https://x.test/cat.png' },
        ],
      }),
    ).toBe(1_002);
  });
});

describe('inputs are checked before any call', () => {
  it('an exact counter rejects an over-long input with InvalidArgumentError and no call is made', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: 5, maxInputsPerCall: 1 } });
    const error = await invalidArgument(() =>
      embedMany({
        model,
        inputs: ['ok', 'fine', 'much too long'],
        tokenCounter: lengthCounter(true),
        concurrency: 1,
      }),
    );
    expect(error.argument).toBe('inputs[2]');
    expect(error.message).toContain('13 tokens');
    expect(model.calls).toHaveLength(0);
  });

  it('the default estimate does not reject (it is an upper bound): the provider decides', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: 5 } });
    const result = await embedMany({ model, inputs: ['x'.repeat(100)] });
    expect(model.calls).toHaveLength(1);
    expect(result.embeddings).toHaveLength(1);
  });

  it('truncate: true lets an over-long input through even with an exact counter, and asks the provider to cut', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: 5 } });
    await embedMany({ model, inputs: ['much too long'], tokenCounter: lengthCounter(true), truncate: true });
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]!.request.truncate).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['an empty text', { text: '' }],
    ['null', null],
    ['a number', 42],
    ['an image on a text-only model', { image: 'https://x.test/cat.png' }],
    [
      'interleaved content with an image on a text-only model',
      { content: [{ type: 'image', url: 'https://x.test/cat.png' }] },
    ],
  ])('%s in a later batch is rejected before the first call', async (_label, bad) => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    const error = await invalidArgument(() =>
      embedMany({ model, inputs: ['a', 'b', bad as EmbedInput], concurrency: 1 }),
    );
    expect(error.argument).toBe('inputs[2]');
    expect(model.calls).toHaveLength(0);
  });

  it('structured inputs the model supports are sent as given', async () => {
    const model = new ScriptedModel({ capabilities: { modalities: ['text', 'image'] } });
    const image = { image: 'https://x.test/cat.png' };
    await embedMany({ model, inputs: [{ text: 'hello' }, image] });
    expect(model.calls[0]!.request.inputs).toEqual([{ text: 'hello' }, image]);
  });

  it('inputs must be an array', async () => {
    const model = new ScriptedModel();
    await invalidArgument(() => embedMany({ model, inputs: 'abc' as unknown as string[] }));
    expect(model.calls).toHaveLength(0);
  });
});

describe('settings are checked against capabilities before any call', () => {
  it.each([
    ['dimensions above the range', { dimensions: 9 }],
    ['dimensions below the range', { dimensions: 0 }],
    ['fractional dimensions', { dimensions: 4.5 }],
  ])('%s -> InvalidArgumentError naming the allowed range', async (_label, settings) => {
    const model = new MockEmbeddingModel({ dimensions: 8 });
    const error = await invalidArgument(() => embedMany({ model, inputs: ['a'], ...settings }));
    expect(error.argument).toBe('dimensions');
    expect(error.message).toContain('1 to 8');
    expect(model.calls).toHaveLength(0);
  });

  it('dimensions on a fixed-length model -> InvalidArgumentError', async () => {
    const model = new ScriptedModel({ capabilities: { defaultDimensions: 1536 } });
    const error = await invalidArgument(() => embedMany({ model, inputs: ['a'], dimensions: 1536 }));
    expect(error.argument).toBe('dimensions');
    expect(error.message).toContain('fixed vector length of 1536');
    expect(model.calls).toHaveLength(0);
  });

  it('dimensions must be one of a listed set', async () => {
    const model = new ScriptedModel({
      capabilities: { dimensions: [256, 512, 1024], defaultDimensions: 1024 },
    });
    const error = await invalidArgument(() => embedMany({ model, inputs: ['a'], dimensions: 300 }));
    expect(error.message).toContain('256, 512, 1024');
    expect(model.calls).toHaveLength(0);
  });

  it('a valid dimensions value is sent and the vectors are checked against it', async () => {
    const model = new MockEmbeddingModel({ dimensions: 8 });
    const result = await embedMany({ model, inputs: ['a', 'b'], dimensions: 4 });
    expect(model.calls[0]!.dimensions).toBe(4);
    expect(result.embeddings.map((vector) => vector.length)).toEqual([4, 4]);
  });

  it('binary output needs dimensions that are a multiple of 8', async () => {
    const model = new ScriptedModel({
      capabilities: { outputTypes: ['float', 'binary'], dimensions: { min: 8, max: 64 } },
    });
    const error = await invalidArgument(() =>
      embedMany({ model, inputs: ['a'], outputType: 'binary', dimensions: 12 }),
    );
    expect(error.argument).toBe('dimensions');
    expect(model.calls).toHaveLength(0);
  });

  it('an unsupported input type is a warning and is not sent', async () => {
    const model = new ScriptedModel({ capabilities: { inputTypes: ['query', 'document'] } });
    const result = await embedMany({ model, inputs: ['a'], inputType: 'clustering' });
    expect(model.calls[0]!.request.inputType).toBeUndefined();
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({ type: 'unsupported-setting', setting: 'inputType' });
    expect(result.warnings[0]!.message).toContain('clustering');
  });

  it('under strict, an unsupported input type is an InvalidArgumentError before any call', async () => {
    const model = new ScriptedModel({ capabilities: { inputTypes: ['query', 'document'] } });
    const error = await invalidArgument(() =>
      embedMany({ model, inputs: ['a'], inputType: 'clustering', strict: true }),
    );
    expect(error.argument).toBe('inputType');
    expect(model.calls).toHaveLength(0);
  });

  it('a supported input type is sent without warnings', async () => {
    const model = new ScriptedModel();
    const result = await embedMany({ model, inputs: ['a'], inputType: 'query', strict: true });
    expect(model.calls[0]!.request.inputType).toBe('query');
    expect(result.warnings).toEqual([]);
  });

  it('an output type the model cannot return -> InvalidArgumentError before any call', async () => {
    const model = new ScriptedModel({ capabilities: { outputTypes: ['float'] } });
    const error = await invalidArgument(() => embedMany({ model, inputs: ['a'], outputType: 'int8' }));
    expect(error.argument).toBe('outputType');
    expect(model.calls).toHaveLength(0);
  });

  it.each([
    ['concurrency 0', { concurrency: 0 }],
    ['fractional concurrency', { concurrency: 1.5 }],
    ['negative maxRetries', { maxRetries: -1 }],
    ['maxInputsPerCall 0', { maxInputsPerCall: 0 }],
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['negative maxRetryDelayMs', { maxRetryDelayMs: -5 }],
    ['requestsPerMinute 0', { rateLimit: { requestsPerMinute: 0 } }],
    ['NaN tokensPerMinute', { rateLimit: { tokensPerMinute: Number.NaN } }],
  ] as [string, Partial<EmbedSettings>][])(
    '%s -> InvalidArgumentError before any call',
    async (_label, settings) => {
      const model = new ScriptedModel();
      await invalidArgument(() => embedMany({ model, inputs: ['a'], ...settings }));
      expect(model.calls).toHaveLength(0);
    },
  );

  it('something that is not a v1 model -> InvalidArgumentError', async () => {
    const error = await invalidArgument(() =>
      embedMany({ model: { specificationVersion: 'v0', doEmbed: async () => ({}) } as never, inputs: ['a'] }),
    );
    expect(error.argument).toBe('model');
  });
});

describe('what each call carries', () => {
  it('passes inputType, dimensions, headers, providerOptions, a signal and the timeout; float is the default output type', async () => {
    const model = new ScriptedModel({
      capabilities: { dimensions: { min: 1, max: 4 }, defaultDimensions: 4 },
    });
    await embedMany({
      model,
      inputs: ['1', '2'],
      inputType: 'document',
      dimensions: 2,
      headers: { 'x-trace': 't-1' },
      providerOptions: { scripted: { user: 'u-1' } },
      timeoutMs: 5_000,
    });
    const request = model.calls[0]!.request;
    expect(request.inputs).toEqual(['1', '2']);
    expect(request.inputType).toBe('document');
    expect(request.dimensions).toBe(2);
    expect(request.headers).toEqual({ 'x-trace': 't-1' });
    expect(request.providerOptions).toEqual({ scripted: { user: 'u-1' } });
    expect(request.timeoutMs).toBe(5_000);
    expect(request.signal).toBeInstanceOf(AbortSignal);
    expect('outputType' in request).toBe(false);
    expect('truncate' in request).toBe(false);
  });

  // Positions are out of the contract (issue 10): a call carries nothing that depends on where its
  // inputs stand in the job, so a cache or a bisection may re-pack calls freely.
  it('a call carries only its inputs and the job-wide settings, nothing positional', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: (call) => {
        if (call.inputs.length > 1 && call.inputs[0] === '2')
          throw new InvalidRequestError('too large', { batchTooLarge: true });
        return undefined;
      },
    });
    await embedMany({ model, inputs: numberedInputs(5), concurrency: 1 });
    for (const call of model.calls) {
      expect(Object.keys(call.request).sort()).toEqual(['inputs', 'signal', 'timeoutMs']);
    }
    expect(model.calls.map((call) => call.inputs)).toEqual([['0', '1'], ['2', '3'], ['2'], ['3'], ['4']]);
  });

  it('a call as large as one the API refused as too large goes out already halved, for the rest of the job', async () => {
    // A server that takes at most 3 inputs, under a declared 8: each batch of 8 was refused, then its
    // first half of 4, before halves of 2 went through (3 of 7 requests refused, in every batch).
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 8 },
      respond: (call) => {
        if (call.inputs.length > 3) throw new InvalidRequestError('batch too large', { batchTooLarge: true });
        return undefined;
      },
    });
    const result = await embedMany({ model, inputs: numberedInputs(32), concurrency: 1 });
    expect(result.embeddings).toEqual(numberedInputs(32).map((input) => vectorFor(input)));
    const sizes = model.calls.map((call) => call.inputs.length);
    expect(sizes).toEqual([8, 4, 2, 2, 2, 2, ...Array(12).fill(2)]);
    expect(result.responses).toHaveLength(16);
  });

  it('a non-float output type is sent and must come back as the matching typed array', async () => {
    const model = new ScriptedModel({
      capabilities: { outputTypes: ['float', 'int8'], defaultDimensions: 3 },
      respond: (call) => ({
        embeddings: call.inputs.map(() => Int8Array.of(-1, 0, 1)),
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
    const result = await embedMany({ model, inputs: ['a'], outputType: 'int8' });
    expect(model.calls[0]!.request.outputType).toBe('int8');
    expect(result.embeddings[0]).toEqual(Int8Array.of(-1, 0, 1));
  });
});

describe('responses are checked', () => {
  function respondingWith(make: (inputs: string[]) => Partial<EmbedResponse>, capabilities = {}) {
    return new ScriptedModel({
      capabilities,
      respond: (call) => ({
        warnings: [],
        response: { status: 200, headers: {} },
        embeddings: [],
        ...make(call.inputs),
      }),
    });
  }

  async function invalidResponse(
    model: ScriptedModel,
    settings: Partial<EmbedSettings> = {},
  ): Promise<InvalidResponseError> {
    try {
      await embedMany({ model, inputs: ['1', '2', '3'], ...settings });
    } catch (error) {
      expect(
        InvalidResponseError.isInstance(error),
        `expected InvalidResponseError, got ${String(error)}`,
      ).toBe(true);
      return error as InvalidResponseError;
    }
    throw new Error('expected an InvalidResponseError');
  }

  it('a wrong vector count -> InvalidResponseError, not retried', async () => {
    const model = respondingWith((inputs) => ({ embeddings: inputs.slice(1).map(vectorFor) }));
    const error = await invalidResponse(model);
    expect(error.message).toContain('2 vectors for 3 inputs');
    expect(model.calls).toHaveLength(1);
  });

  it('a vector of the wrong dimension -> InvalidResponseError', async () => {
    const model = respondingWith((inputs) => ({
      embeddings: inputs.map((input, index) => (index === 1 ? Float32Array.of(1, 2, 3) : vectorFor(input))),
    }));
    const error = await invalidResponse(model);
    expect(error.message).toContain('vector 1 with 3 values');
  });

  it('vectors of differing lengths when the model declares no default dimension -> InvalidResponseError', async () => {
    const model = respondingWith(
      (inputs) => ({ embeddings: inputs.map((_input, index) => new Float32Array(index === 2 ? 5 : 4)) }),
      {
        defaultDimensions: undefined,
      },
    );
    await invalidResponse(model);
  });

  it('vectors not of the requested dimensions -> InvalidResponseError', async () => {
    const model = new MockEmbeddingModel({ dimensions: 8, embed: () => new Float32Array(8).fill(0.1) });
    try {
      await embedMany({ model, inputs: ['a'], dimensions: 4 });
      throw new Error('expected failure');
    } catch (error) {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('for dimensions 4');
    }
  });

  it('number[] instead of Float32Array -> InvalidResponseError', async () => {
    const model = respondingWith((inputs) => ({
      embeddings: inputs.map(() => [0.1, 0.2]) as unknown as Float32Array[],
    }));
    const error = await invalidResponse(model);
    expect(error.message).toContain('Float32Array');
  });

  it('a Float64Array for float output -> InvalidResponseError', async () => {
    const model = respondingWith((inputs) => ({
      embeddings: inputs.map(() => Float64Array.of(0.1, 0.2)) as unknown as Float32Array[],
    }));
    await invalidResponse(model);
  });

  it('usage that is not a count (NaN, negative, fractional, none) -> InvalidResponseError saying what it holds', async () => {
    for (const [usage, said] of [
      [{ inputTokens: Number.NaN }, 'reported usage of NaN tokens, which is not a count.'],
      [{ inputTokens: -1 }, 'reported usage of -1 tokens, which is not a count.'],
      [{ inputTokens: 2.5 }, 'reported usage of 2.5 tokens, which is not a count.'],
      [
        { inputTokens: 'sk-secret' },
        'reported usage of a string of 9 characters tokens, which is not a count.',
      ],
      [{}, 'reported usage with no token count.'],
    ] as const) {
      const model = respondingWith((inputs) => ({
        embeddings: inputs.map(vectorFor),
        usage: usage as { inputTokens: number },
      }));
      const error = await invalidResponse(model);
      expect(error.message).toContain(said);
    }
  });

  it('a response without embeddings -> InvalidResponseError', async () => {
    const model = new ScriptedModel({ respond: () => ({}) as EmbedResponse });
    await invalidResponse(model);
  });
});

describe('usage, warnings, responses and progress', () => {
  it('usage is the sum over every call', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      usage: (inputs) => inputs.length * 7 + 1,
    });
    const result = await embedMany({ model, inputs: numberedInputs(5) });
    // calls of 2, 2 and 1 inputs: 15 + 15 + 8
    expect(result.usage).toEqual({ inputTokens: 38 });
  });

  it('usage is absent, never NaN or 0, when any call reported none', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: (call) => ({
        embeddings: call.inputs.map(vectorFor),
        warnings: [],
        response: { status: 200, headers: {} },
        ...(call.inputs.includes('2') ? {} : { usage: { inputTokens: 5 } }),
      }),
    });
    const result = await embedMany({ model, inputs: numberedInputs(6), concurrency: 1 });
    expect(result.usage).toBeUndefined();
    expect('usage' in result).toBe(false);
  });

  it('a model that never reports usage gives no usage', async () => {
    const model = new ScriptedModel({ usage: false });
    const result = await embedMany({ model, inputs: ['1'] });
    expect('usage' in result).toBe(false);
  });

  it('onProgress reports completed inputs, the total and tokens so far', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      usage: (inputs) => inputs.length * 3,
    });
    const progress: Progress[] = [];
    await embedMany({
      model,
      inputs: numberedInputs(5),
      concurrency: 1,
      onProgress: (value) => progress.push(value),
    });
    expect(progress).toEqual([
      { completedInputs: 2, totalInputs: 5, inputTokens: 6 },
      { completedInputs: 4, totalInputs: 5, inputTokens: 12 },
      { completedInputs: 5, totalInputs: 5, inputTokens: 15 },
    ]);
  });

  it('onProgress drops inputTokens once a call reported none', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => ({
        embeddings: call.inputs.map(vectorFor),
        warnings: [],
        response: { status: 200, headers: {} },
        ...(call.inputs[0] === '1' ? {} : { usage: { inputTokens: 4 } }),
      }),
    });
    const progress: Progress[] = [];
    await embedMany({
      model,
      inputs: numberedInputs(3),
      concurrency: 1,
      onProgress: (value) => progress.push(value),
    });
    expect(progress).toEqual([
      { completedInputs: 1, totalInputs: 3, inputTokens: 4 },
      { completedInputs: 2, totalInputs: 3 },
      { completedInputs: 3, totalInputs: 3 },
    ]);
  });

  it('each distinct warning appears once, after the engine’s own', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => ({
        embeddings: call.inputs.map(vectorFor),
        warnings: [{ type: 'other', message: 'served by a fallback region' }],
        response: { status: 200, headers: {} },
      }),
    });
    const result = await embedMany({ model, inputs: numberedInputs(3), inputType: 'clustering' });
    expect(result.warnings.map((warning) => warning.type)).toEqual(['unsupported-setting', 'other']);
  });

  it('one response entry per call, in input order', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const result = await embedMany({ model, inputs: numberedInputs(5), concurrency: 1 });
    expect(result.responses.map((response) => response.requestId)).toEqual(['req-1', 'req-2', 'req-3']);
  });
});

describe('embed', () => {
  it('embeds one input with one call and returns its vector, usage and response', async () => {
    const model = new ScriptedModel({ usage: () => 9 });
    const result = await embed({ model, input: '42', inputType: 'query' });
    expect(model.callInputs).toEqual([['42']]);
    expect(model.calls[0]!.request.inputType).toBe('query');
    expect(result.embedding).toEqual(Float32Array.of(42, 1));
    expect(result.usage).toEqual({ inputTokens: 9 });
    expect(result.response.requestId).toBe('req-1');
    expect(result.warnings).toEqual([]);
  });

  it('rejects an empty input before calling', async () => {
    const model = new ScriptedModel();
    await invalidArgument(() => embed({ model, input: '' }));
    expect(model.calls).toHaveLength(0);
  });

  it('omits usage when the model reports none', async () => {
    const model = new ScriptedModel({ usage: false });
    const result = await embed({ model, input: '1' });
    expect('usage' in result).toBe(false);
  });
});
