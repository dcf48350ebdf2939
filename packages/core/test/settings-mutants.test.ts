/**
 * The checks of a job's settings and inputs before anything is sent, and of what a model answered,
 * where the rest of the suite left them unpinned: the exact bounds of whole-number settings (both ends
 * taken, one past refused), the shapes a signal, a clock, provider options and a token counter may take,
 * the message and `argument` of each refusal, the inputs and capabilities that are taken as they are,
 * and the typed errors a bad answer becomes. A refused setting or input must leave the model uncalled.
 */
import { describe, expect, it } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import type { LimiterPermit, LimiterRequest, RateLimiter } from '../src/engine/limiter.js';
import { checkEmbedRequest, checkInput, checkVectorSettings } from '../src/engine/settings.js';
import { InvalidArgumentError, type InvalidResponseError } from '../src/errors.js';
import { MockEmbeddingModel } from '../src/testing.js';
import type { EmbedInput, EmbedResponse, OutputType } from '../src/types.js';
import {
  BASE_CAPABILITIES,
  deferred,
  invalidArgument,
  invalidResponseOf,
  numberedInputs,
  refusedBeforeAnyCall as refused,
  ScriptedModel,
  thrownInvalidArgument as thrown,
  tick,
  until,
  VirtualClock,
} from './helpers.js';

describe('the settings object', () => {
  it('anything but one object is refused as the settings argument', async () => {
    const error = await embedMany(null as never).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('settings');
  });
});

describe('whole-number settings take both ends of their range and refuse one past them', () => {
  it.each([
    ['maxRetries', 0],
    ['maxRetries', 100],
    ['concurrency', 1],
    ['concurrency', 10_000],
    ['timeoutMs', 1],
    ['timeoutMs', 2_147_483_647],
    ['maxRetryDelayMs', 0],
    ['maxRetryDelayMs', 2_147_483_647],
  ])('%s: %d is taken', async (name, value) => {
    const model = new ScriptedModel();
    const result = await embedMany({ model, inputs: ['1'], [name]: value });
    expect(result.embeddings).toEqual([Float32Array.of(1, 1)]);
    expect(model.calls).toHaveLength(1);
  });

  it.each([
    ['maxRetries', -1, 'maxRetries must be a whole number from 0 to 100, got -1.'],
    ['maxRetries', 101, 'maxRetries must be a whole number from 0 to 100, got 101.'],
    ['maxRetries', 1.5, 'maxRetries must be a whole number from 0 to 100, got 1.5.'],
    ['concurrency', 0, 'concurrency must be a whole number from 1 to 10,000, got 0.'],
    ['concurrency', 10_001, 'concurrency must be a whole number from 1 to 10,000, got 10001.'],
    ['timeoutMs', 0, 'timeoutMs must be a whole number from 1 to 2,147,483,647, got 0.'],
    ['timeoutMs', 2_147_483_648, 'timeoutMs must be a whole number from 1 to 2,147,483,647, got 2147483648.'],
    ['maxRetryDelayMs', -1, 'maxRetryDelayMs must be a whole number from 0 to 2,147,483,647, got -1.'],
    [
      'maxRetryDelayMs',
      2_147_483_648,
      'maxRetryDelayMs must be a whole number from 0 to 2,147,483,647, got 2147483648.',
    ],
    [
      'maxRetryDelayMs',
      Number.NaN,
      'maxRetryDelayMs must be a whole number from 0 to 2,147,483,647, got NaN.',
    ],
  ])('%s: %d is refused, naming the setting and its range', async (name, value, message) => {
    const error = await refused((model) => embedMany({ model, inputs: ['1'], [name]: value }));
    expect(error.argument).toBe(name);
    expect(error.message).toBe(message);
  });

  it('each call is given 120,000 ms by default, or the timeoutMs set', async () => {
    const model = new ScriptedModel();
    await embedMany({ model, inputs: ['1'] });
    await embedMany({ model, inputs: ['1'], timeoutMs: 5_000 });
    expect(model.calls.map((call) => call.request.timeoutMs)).toEqual([120_000, 5_000]);
  });

  it('a setting with no upper bound asks for a whole number of at least its least value', async () => {
    const error = await refused((model) => embedMany({ model, inputs: ['1'], maxInputsPerCall: 0 }));
    expect(error.argument).toBe('maxInputsPerCall');
    expect(error.message).toBe('maxInputsPerCall must be a whole number ≥ 1, got 0.');
  });
});

describe('signal', () => {
  const listener = () => {};
  it.each([
    ['null', null, 'null'],
    [
      'a function shaped like a signal',
      Object.assign(() => {}, { aborted: false, addEventListener: listener }),
      'a function',
    ],
    ['an object without aborted', { addEventListener: listener }, 'an object with addEventListener'],
    [
      'an object whose aborted is not a boolean',
      { aborted: 'no', addEventListener: listener },
      'an object with aborted, addEventListener',
    ],
    ['an object without addEventListener', { aborted: false }, 'an object with aborted'],
  ])('%s is refused before any call', async (_label, signal, described) => {
    const error = await refused((model) =>
      embedMany({ model, inputs: ['1'], signal: signal as unknown as AbortSignal }),
    );
    expect(error.argument).toBe('signal');
    expect(error.message).toBe(`signal must be an AbortSignal, got ${described}.`);
  });

  it('an object with a boolean aborted and an addEventListener function is taken', async () => {
    const model = new ScriptedModel();
    const signal = { aborted: false, addEventListener: listener, removeEventListener: listener };
    await embedMany({ model, inputs: ['1'], signal: signal as unknown as AbortSignal });
    expect(model.calls).toHaveLength(1);
  });
});

describe('clock', () => {
  const now = () => 0;
  const sleep = async () => {};
  it.each([
    ['null', null, 'null'],
    ['a function with now and sleep', Object.assign(() => {}, { now, sleep }), 'a function'],
    ['an object without now', { sleep }, 'an object with sleep'],
    ['an object whose now is not a function', { now: 0, sleep }, 'an object with now, sleep'],
  ])('%s is refused before any call', async (_label, clock, described) => {
    const error = await refused((model) => embedMany({ model, inputs: ['1'], clock: clock as never }));
    expect(error.argument).toBe('clock');
    expect(error.message).toBe(
      `clock must be a Clock with now() and sleep(ms, signal) functions, got ${described}.`,
    );
  });

  it('a clock with now and sleep and no random is taken', async () => {
    const model = new ScriptedModel();
    await embedMany({ model, inputs: ['1'], clock: { now, sleep } });
    expect(model.calls).toHaveLength(1);
  });
});

describe('providerOptions', () => {
  it('a provider whose options are undefined is taken, and the options are sent as they were', async () => {
    const model = new ScriptedModel();
    const providerOptions = { scripted: undefined } as unknown as Record<string, Record<string, unknown>>;
    await embedMany({ model, inputs: ['1'], providerOptions });
    expect(model.calls[0]!.request.providerOptions).toBe(providerOptions);
  });
});

describe('the model id', () => {
  it('an id that is not a string is refused as such, not as a TypeError', async () => {
    const model = new ScriptedModel({ provider: 'acme' });
    (model as { modelId: unknown }).modelId = 42;
    const error = await refused((scripted) => embedMany({ model: scripted, inputs: ['1'] }), model);
    expect(error.argument).toBe('model');
    expect(error.message).toBe(
      "The acme model has no model id (got 42); name one when you create it, e.g. provider.embedding('model-name').",
    );
  });
});

describe('token counters', () => {
  it('a count of 0 is taken', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: 1 } });
    await embedMany({ model, inputs: ['1', '2'], tokenCounter: { exact: false, count: () => 0 } });
    expect(model.callInputs).toEqual([['1', '2']]);
  });

  it('a count that is a number names the number', async () => {
    const error = await refused((model) =>
      embedMany({ model, inputs: ['1'], tokenCounter: { exact: false, count: () => -2 } }),
    );
    expect(error.message).toBe(
      'tokenCounter.count returned -2; it must return a number of tokens, 0 or more.',
    );
  });

  it('an exact counter holds each input to the model’s limit per input before any call', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: 3 } });
    const error = await refused(
      (scripted) =>
        embedMany({ model: scripted, inputs: ['1'], tokenCounter: { exact: true, count: () => 5 } }),
      model,
    );
    expect(error.argument).toBe('inputs[0]');
    expect(error.message).toBe(
      'Input 0 has 5 tokens; scripted model scripted-1 accepts at most 3. Shorten it, split it, or pass truncate: true.',
    );
  });

  it('a counter that does not say it is exact is not held to the limit per input', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: 3 } });
    await embedMany({ model, inputs: ['1'], tokenCounter: { count: () => 5 } as never });
    expect(model.calls).toHaveLength(1);
  });
});

describe('token counters without a count function', () => {
  it.each([
    ['an empty object', {}],
    ['null', null],
    ['a count that is not a function', { count: 3 }],
  ])('%s is refused before any call', async (_label, tokenCounter) => {
    const error = await refused((model) =>
      embedMany({ model, inputs: ['1'], tokenCounter: tokenCounter as never }),
    );
    expect(error.argument).toBe('tokenCounter');
    expect(error.message).toBe('tokenCounter must have a count(input) function.');
  });
});

/** A limiter (marked as `createRateLimiter` marks its own) that admits every attempt and records what it was asked. */
function recordingLimiter() {
  const requests: LimiterRequest[] = [];
  const limiter = {
    [Symbol.for('embedkit.rate-limiter')]: true,
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    async acquire(request: LimiterRequest): Promise<LimiterPermit> {
      requests.push(request);
      return { async answered() {}, async failed() {} };
    },
  } as unknown as RateLimiter;
  return { limiter, requests };
}

describe('what each attempt asks of the limiter the job was given', () => {
  it('the scope names the provider and the model, and the clock and onWait are the job’s own', async () => {
    const { limiter, requests } = recordingLimiter();
    const model = new ScriptedModel({ provider: 'acme', modelId: 'm-1' });
    const clock = new VirtualClock();
    const onWait = () => {};
    await embedMany({ model, inputs: ['1'], rateLimit: limiter, clock, onWait });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.scope).toBe('acme:m-1');
    expect(requests[0]!.clock).toBe(clock);
    expect(requests[0]!.onWait).toBe(onWait);
    expect(requests[0]!.exactTokens).toBe(false);
  });

  it('an exact token counter is charged as exact; one that does not say so is not', async () => {
    const { limiter, requests } = recordingLimiter();
    const model = new ScriptedModel();
    await embedMany({
      model,
      inputs: ['1'],
      rateLimit: limiter,
      tokenCounter: { exact: true, count: () => 4 },
    });
    await embedMany({ model, inputs: ['1'], rateLimit: limiter, tokenCounter: { count: () => 4 } as never });
    expect(requests.map((request) => [request.exactTokens, request.tokens])).toEqual([
      [true, 4],
      [false, 4],
    ]);
  });
});

describe('concurrency', () => {
  it('a job that sets none has 4 calls in flight at once', async () => {
    const gate = deferred();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async () => {
        await gate.promise;
        return undefined;
      },
    });
    const job = embedMany({ model, inputs: numberedInputs(6) });
    await until(() => model.calls.length === 4, 'four calls');
    await tick();
    expect(model.calls).toHaveLength(4);
    gate.resolve();
    await job;
    expect(model.maxInFlight).toBe(4);
  });
});

describe('borrowed setting names', () => {
  it('input_type says to pass inputType, before any call', async () => {
    const error = await refused((model) => embedMany({ model, inputs: ['1'], input_type: 'query' } as never));
    expect(error.message).toBe('embedMany has no setting input_type: pass inputType.');
  });
});

describe('the model', () => {
  const shape = { specificationVersion: 'v1', doEmbed: async () => ({}), capabilities: BASE_CAPABILITIES };
  it.each([
    ['null', null],
    ['a function shaped like a model', Object.assign(() => {}, shape)],
    ['a model of another specification', { ...shape, specificationVersion: 'v2' }],
    ['a model without doEmbed', { ...shape, doEmbed: undefined }],
    ['a model without capabilities', { ...shape, capabilities: undefined }],
    ['a model whose capabilities are null (bug: a TypeError reading them)', { ...shape, capabilities: null }],
  ])('%s is refused as the model argument', async (_label, model) => {
    const error = await embedMany({ model: model as never, inputs: ['1'] }).catch(
      (caught: unknown) => caught,
    );
    expect(invalidArgument(error).argument).toBe('model');
    expect((error as InvalidArgumentError).message).toBe(
      'model must be an embedkit EmbeddingModel (specificationVersion "v1").',
    );
  });
});

/** A model of `capabilities` (over the scripted model's), for the checks that need no call. */
function modelWith(capabilities: Partial<typeof BASE_CAPABILITIES>) {
  return { provider: 'acme', modelId: 'm-1', capabilities: { ...BASE_CAPABILITIES, ...capabilities } };
}

describe('output types', () => {
  it('a type no model has is refused, naming the type and every type there is', async () => {
    const error = await refused((model) =>
      embedMany({ model, inputs: ['1'], outputType: 'float64' as never }),
    );
    expect(error.argument).toBe('outputType');
    expect(error.message).toBe(
      'outputType must be one of float, int8, uint8, binary, ubinary, got "float64".',
    );
  });

  it('a type this model cannot return is refused, naming the types it can', async () => {
    const model = new ScriptedModel({
      provider: 'acme',
      modelId: 'm-1',
      capabilities: { outputTypes: ['float', 'binary'], defaultDimensions: 8 },
    });
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['1'], outputType: 'int8' }),
      model,
    );
    expect(error.argument).toBe('outputType');
    expect(error.message).toBe('acme model m-1 cannot return int8 vectors; it supports float, binary.');
  });

  it.each(['uint8', 'ubinary'] as const)('%s is taken from a model that returns it', (outputType) => {
    const model = modelWith({ outputTypes: ['float', 'uint8', 'ubinary'], defaultDimensions: 16 });
    expect(checkVectorSettings(model, { outputType })).toEqual({ warnings: [], inputType: undefined });
  });
});

describe('dimensions', () => {
  it.each([
    [2, 'acme model m-1 has a fixed vector length of 2; remove the dimensions option.'],
    [undefined, 'acme model m-1 has a fixed vector length; remove the dimensions option.'],
  ])('a model of fixed length (default %s) refuses any dimensions', (defaultDimensions, message) => {
    const error = thrown(() => checkVectorSettings(modelWith({ defaultDimensions }), { dimensions: 2 }));
    expect(error.argument).toBe('dimensions');
    expect(error.message).toBe(message);
  });

  it.each([8, 64])('%d is taken at an end of the range 8 to 64', (dimensions) => {
    const model = modelWith({ dimensions: { min: 8, max: 64 } });
    expect(checkVectorSettings(model, { dimensions })).toEqual({ warnings: [], inputType: undefined });
  });

  it.each([7, 65, 16.5])('%d is refused by the range 8 to 64', (dimensions) => {
    const model = modelWith({ dimensions: { min: 8, max: 64 } });
    const error = thrown(() => checkVectorSettings(model, { dimensions }));
    expect(error.argument).toBe('dimensions');
    expect(error.message).toBe(`dimensions ${dimensions} is not allowed for acme model m-1; use 8 to 64.`);
  });

  it('a length not in a list is refused, naming the list', async () => {
    const model = new ScriptedModel({
      provider: 'acme',
      modelId: 'm-1',
      capabilities: { dimensions: [256, 512, 1024] },
    });
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['1'], dimensions: 300 }),
      model,
    );
    expect(error.argument).toBe('dimensions');
    expect(error.message).toBe('dimensions 300 is not allowed for acme model m-1; use 256, 512, 1024.');
  });

  it('a length in the list is taken', () => {
    const model = modelWith({ dimensions: [256, 512, 1024] });
    expect(checkVectorSettings(model, { dimensions: 512 })).toEqual({ warnings: [], inputType: undefined });
  });
});

describe('bit-packed output types', () => {
  it.each([
    ['binary', undefined, 12, 'got 12'],
    ['ubinary', undefined, 12, 'got 12'],
    ['ubinary', 12, 16, 'got 12'],
    ['binary', 20, 16, 'got 20'],
  ] as const)(
    '%s with dimensions %s (default %d) is refused: the length is no multiple of 8',
    (outputType, dimensions, defaultDimensions, got) => {
      const model = modelWith({
        outputTypes: ['float', 'binary', 'ubinary'],
        defaultDimensions,
        dimensions: { min: 1, max: 64 },
      });
      const error = thrown(() => checkVectorSettings(model, { outputType, dimensions }));
      expect(error.argument).toBe('dimensions');
      expect(error.message).toBe(
        `${outputType} vectors pack 8 dimensions per byte; dimensions must be a multiple of 8, ${got}.`,
      );
    },
  );

  it.each([
    ['binary', 8, 16],
    ['ubinary', undefined, 24],
    ['binary', undefined, undefined],
  ] as const)('%s with dimensions %s (default %s) is taken', (outputType, dimensions, defaultDimensions) => {
    const model = modelWith({
      outputTypes: ['float', 'binary', 'ubinary'],
      defaultDimensions,
      dimensions: { min: 1, max: 64 },
    });
    expect(checkVectorSettings(model, { outputType, dimensions })).toEqual({
      warnings: [],
      inputType: undefined,
    });
  });
});

describe('input types', () => {
  it('a type of the model’s own that no other model has is sent as it is', async () => {
    const model = new ScriptedModel({ capabilities: { inputTypes: ['query', 'code' as never] } });
    const result = await embedMany({ model, inputs: ['1'], inputType: 'code' as never });
    expect(model.calls[0]!.request.inputType).toBe('code');
    expect(result.warnings).toEqual([]);
  });

  it('a job that sets no input type has no warning', async () => {
    const model = new ScriptedModel({ capabilities: { inputTypes: ['query'] } });
    const result = await embedMany({ model, inputs: ['1'] });
    expect(result.warnings).toEqual([]);
    expect(model.calls[0]!.request.inputType).toBeUndefined();
  });

  it('a model with no input types warns without listing any, and the inputs go without one', async () => {
    const model = new ScriptedModel({ provider: 'acme', modelId: 'm-1', capabilities: { inputTypes: [] } });
    const result = await embedMany({ model, inputs: ['1'], inputType: 'query' });
    expect(result.warnings).toEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message: 'acme model m-1 has no "query" input type; the inputs were sent without one.',
      },
    ]);
    expect(model.calls[0]!.request.inputType).toBeUndefined();
  });
});

describe('an input type this model lacks', () => {
  it('is a warning naming the types it has, and the inputs go without one', async () => {
    const model = new ScriptedModel({
      provider: 'acme',
      modelId: 'm-1',
      capabilities: { inputTypes: ['query', 'document'] },
    });
    const result = await embedMany({ model, inputs: ['1'], inputType: 'clustering' });
    expect(result.warnings).toEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message:
          'acme model m-1 has no "clustering" input type (it supports query, document); the inputs were sent without one.',
      },
    ]);
    expect(model.calls[0]!.request.inputType).toBeUndefined();
  });

  it('is refused under strict, before any call', async () => {
    const model = new ScriptedModel({
      provider: 'acme',
      modelId: 'm-1',
      capabilities: { inputTypes: ['query'] },
    });
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['1'], inputType: 'clustering', strict: true }),
      model,
    );
    expect(error.argument).toBe('inputType');
    expect(error.message).toBe('acme model m-1 has no "clustering" input type (it supports query).');
  });
});

describe('how a refused value is described', () => {
  it('an object by its first five keys', async () => {
    const signal = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 };
    const error = await refused((model) => embedMany({ model, inputs: ['1'], signal: signal as never }));
    expect(error.message).toBe('signal must be an AbortSignal, got an object with a, b, c, d, e.');
  });
});

/** A scripted model that embeds images too. */
function imageModel() {
  return new ScriptedModel({ capabilities: { modalities: ['text', 'image'] } });
}

describe('image bytes', () => {
  it.each([
    ['a Float32Array', { image: new Float32Array(4) }],
    ['a DataView', { image: new DataView(new ArrayBuffer(4)) }],
  ])('%s is not image bytes: refused before any call', async (_label, input) => {
    const model = imageModel();
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: [input as never] }),
      model,
    );
    expect(error.argument).toBe('inputs[0]');
    expect(error.message).toBe('Input 0 has an image that is neither a non-empty URL / data URL nor bytes.');
  });

  it('an image part whose data is not a Uint8Array is refused', async () => {
    const model = imageModel();
    const part = { type: 'image', data: new Int8Array(3), mediaType: 'image/png' };
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: [{ content: [part] } as never] }),
      model,
    );
    expect(error.argument).toBe('inputs[0].content[0]');
  });
});

describe('fields of a text part', () => {
  it('a field of the caller’s own that is no typo of a text part’s is taken', async () => {
    const model = new ScriptedModel();
    await embedMany({ model, inputs: [{ content: [{ type: 'text', text: 'a', uri: 'x' }] } as never] });
    expect(model.calls).toHaveLength(1);
  });
});

const SHAPE = 'must be a string, { text }, { image } or { content: [...] }';
const PART = "must be { type: 'text', text } or { type: 'image', url } / { type: 'image', data, mediaType }";

describe('each input is checked before any call, and named by its place', () => {
  it.each([
    ['an empty string', '', 'inputs[1]', 'Input 1 is an empty string; embedding APIs reject empty inputs.'],
    ['a number', 42, 'inputs[1]', `Input 1 ${SHAPE}; got 42.`],
    ['null', null, 'inputs[1]', `Input 1 ${SHAPE}; got null.`],
    [
      'an array carrying a text field',
      Object.assign(['a'], { text: 'a' }),
      'inputs[1]',
      `Input 1 ${SHAPE}; got an array.`,
    ],
    ['an empty object', {}, 'inputs[1]', `Input 1 ${SHAPE}; got an empty object.`],
    [
      'both text and image',
      { text: 'a', image: 'u' },
      'inputs[1]',
      `Input 1 ${SHAPE}; got an object with text, image.`,
    ],
    ['an empty text', { text: '' }, 'inputs[1]', 'Input 1 has an empty or non-string text.'],
    ['a text that is not a string', { text: 5 }, 'inputs[1]', 'Input 1 has an empty or non-string text.'],
    [
      'a title that is not a string',
      { text: 'a', title: 3 },
      'inputs[1]',
      'Input 1 has a title that is not a string.',
    ],
    [
      'a misspelt title',
      { text: 'a', titel: 't' },
      'inputs[1].titel',
      'Input 1 has no field titel; did you mean title?',
    ],
    [
      'an empty image URL',
      { image: '' },
      'inputs[1]',
      'Input 1 has an image that is neither a non-empty URL / data URL nor bytes.',
    ],
    [
      'empty image bytes',
      { image: new Uint8Array(0) },
      'inputs[1]',
      'Input 1 has an image that is neither a non-empty URL / data URL nor bytes.',
    ],
    [
      'an image that is an array of numbers',
      { image: [1, 2] },
      'inputs[1]',
      'Input 1 has an image that is neither a non-empty URL / data URL nor bytes.',
    ],
    [
      'an empty list of parts',
      { content: [] },
      'inputs[1]',
      'Input 1 has content that is not a non-empty list of parts.',
    ],
    [
      'content that is a string',
      { content: 'ab' },
      'inputs[1]',
      'Input 1 has content that is not a non-empty list of parts.',
    ],
    [
      'a misspelt content field',
      { content: [{ type: 'text', text: 'a' }], contents: 1 },
      'inputs[1].contents',
      'Input 1 has no field contents; did you mean content?',
    ],
    [
      'a text part with an empty text',
      { content: [{ type: 'text', text: '' }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, text.`,
    ],
    [
      'a text part whose text is a list',
      { content: [{ type: 'text', text: ['a'] }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, text.`,
    ],
    [
      'a part with no type',
      { content: [{ type: 'text', text: 'a' }, { text: 'a' }] },
      'inputs[1].content[1]',
      `Part 1 of input 1 ${PART}; got an object with text.`,
    ],
    [
      'a text part with a URL',
      { content: [{ type: 'text', url: 'https://x/a.png' }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, url.`,
    ],
    [
      'an image part with an empty URL',
      { content: [{ type: 'image', url: '' }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, url.`,
    ],
    [
      'an image part whose URL is a number',
      { content: [{ type: 'image', url: 5 }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, url.`,
    ],
    [
      'an image part with bytes and no media type',
      { content: [{ type: 'image', data: Uint8Array.of(1) }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, data.`,
    ],
    [
      'an image part whose data is a list',
      { content: [{ type: 'image', data: [1], mediaType: 'image/png' }] },
      'inputs[1].content[0]',
      `Part 0 of input 1 ${PART}; got an object with type, data, mediaType.`,
    ],
    [
      'an image URL whose media type is a number',
      { image: 'https://x/a.png', mediaType: 5 },
      'inputs[1].mediaType',
      'Input 1 has a mediaType that is not a non-empty string such as "image/png"; got 5.',
    ],
    [
      'image bytes with an empty media type',
      { image: Uint8Array.of(1), mediaType: '' },
      'inputs[1].mediaType',
      'Input 1 has a mediaType that is not a non-empty string such as "image/png"; got an empty string.',
    ],
    [
      'an image part by URL whose media type is null',
      { content: [{ type: 'image', url: 'https://x/a.png', mediaType: null }] },
      'inputs[1].content[0].mediaType',
      'Part 0 of input 1 has a mediaType that is not a non-empty string such as "image/png"; got null.',
    ],
    [
      'an image part of bytes with an empty media type',
      { content: [{ type: 'image', data: Uint8Array.of(1), mediaType: '' }] },
      'inputs[1].content[0].mediaType',
      'Part 0 of input 1 has a mediaType that is not a non-empty string such as "image/png"; got an empty string.',
    ],
    [
      'a misspelt text field of a part',
      { content: [{ type: 'text', txt: 'a' }] },
      'inputs[1].content[0].txt',
      'Part 0 of input 1 has no field txt; did you mean text?',
    ],
  ])('%s is refused', async (_label, input, argument, message) => {
    const model = imageModel();
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['a', input as EmbedInput] }),
      model,
    );
    expect(error.argument).toBe(argument);
    expect(error.message).toBe(message);
  });

  it.each([
    ['an image', { image: 'https://x/a.png' }],
    [
      'an image part',
      {
        content: [
          { type: 'text', text: 'a' },
          { type: 'image', url: 'https://x/a.png' },
        ],
      },
    ],
    [
      'an image part of bytes',
      { content: [{ type: 'image', data: Uint8Array.of(1), mediaType: 'image/png' }] },
    ],
  ])('%s is refused by a model that embeds text only', async (_label, input) => {
    const error = await refused((model) => embedMany({ model, inputs: ['a', input as EmbedInput] }));
    expect(error.argument).toBe('inputs[1]');
    expect(error.message).toBe('Input 1 holds an image, but scripted model scripted-1 embeds text only.');
  });

  it('a model that embeds images takes every form of input, and sends them as they were', async () => {
    const model = imageModel();
    const inputs: EmbedInput[] = [
      ' ',
      { text: 'a', title: 't', id: 7 } as EmbedInput,
      { image: 'https://x/a.png' },
      { image: Uint8Array.of(1, 2) },
      {
        content: [
          { type: 'text', text: 'a' },
          { type: 'image', url: 'https://x/a.png' },
          { type: 'image', data: Uint8Array.of(1), mediaType: 'image/png' },
        ],
      },
    ];
    await embedMany({ model, inputs });
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]!.request.inputs).toEqual(inputs);
  });
});

describe('checkEmbedRequest: the checks for code that calls doEmbed directly', () => {
  const model = new ScriptedModel({
    provider: 'acme',
    modelId: 'm-1',
    capabilities: { maxInputsPerCall: 2, inputTypes: ['query'] },
  });

  it('takes a request of 1 to the model’s limit of inputs', () => {
    expect(() => checkEmbedRequest(model, { inputs: ['a'] })).not.toThrow();
    expect(() => checkEmbedRequest(model, { inputs: ['a', 'b'], inputType: 'query' })).not.toThrow();
  });

  it.each([
    ['no inputs', [], 'got 0'],
    ['more inputs than the model takes', ['a', 'b', 'c'], 'got 3'],
    ['inputs that are not an array', 'ab', 'got no array'],
  ])('refuses %s, naming the limit', (_label, inputs, got) => {
    const error = thrown(() => checkEmbedRequest(model, { inputs: inputs as never }));
    expect(error.argument).toBe('inputs');
    expect(error.message).toBe(
      `acme model m-1 takes 1 to 2 inputs per call, ${got}; embedMany splits larger jobs.`,
    );
  });

  it.each([
    [['', 'a'], 'inputs[0]', 'Input 0 is an empty string; embedding APIs reject empty inputs.'],
    [['a', ''], 'inputs[1]', 'Input 1 is an empty string; embedding APIs reject empty inputs.'],
  ])('checks every input of %j, by its place', (inputs, argument, message) => {
    const error = thrown(() => checkEmbedRequest(model, { inputs }));
    expect(error.argument).toBe(argument);
    expect(error.message).toBe(message);
  });

  it('refuses an input type the model lacks, as strict does', () => {
    const error = thrown(() => checkEmbedRequest(model, { inputs: ['a'], inputType: 'document' }));
    expect(error.argument).toBe('inputType');
    expect(error.message).toBe('acme model m-1 has no "document" input type (it supports query).');
  });

  it('refuses what is not a model', () => {
    const error = thrown(() =>
      checkEmbedRequest({ ...model, specificationVersion: 'v2' } as never, { inputs: ['a'] }),
    );
    expect(error.argument).toBe('model');
  });
});

describe('checkInput for a provider’s own use', () => {
  it('names an image input by its index for a text model', () => {
    const error = thrown(() => checkInput(modelWith({}), { image: 'https://x/a.png' }, 3));
    expect(error.argument).toBe('inputs[3]');
    expect(error.message).toBe('Input 3 holds an image, but acme model m-1 embeds text only.');
  });
});

/** A model that answers every call with `answer` (its vectors and response info). */
function answering(answer: Partial<EmbedResponse>, capabilities: Partial<typeof BASE_CAPABILITIES> = {}) {
  return new ScriptedModel({
    provider: 'acme',
    modelId: 'm-1',
    capabilities,
    respond: () =>
      ({ embeddings: [], warnings: [], response: { status: 200, headers: {} }, ...answer }) as EmbedResponse,
  });
}

/** What the job rejects with, which must be an `InvalidResponseError`. */
async function badAnswer(job: Promise<unknown>): Promise<InvalidResponseError> {
  const error = await invalidResponseOf(job);
  expect(error.code).toBe('invalid_response');
  return error;
}

describe('where a bad answer came from', () => {
  it('a status and a request id of the right types are kept', async () => {
    const model = answering({ embeddings: [], response: { status: 200, headers: {}, requestId: 'req-9' } });
    const error = await badAnswer(embedMany({ model, inputs: ['1'], maxRetries: 0 }));
    expect(error.message).toBe('acme returned 0 vectors for 1 input.');
    expect([error.provider, error.statusCode, error.requestId]).toEqual(['acme', 200, 'req-9']);
  });

  it('a status that is not a number and a request id that is not a string are left out', async () => {
    const response = { status: '200', headers: {}, requestId: 9 } as unknown as EmbedResponse['response'];
    const error = await badAnswer(
      embedMany({ model: answering({ embeddings: [], response }), inputs: ['1'], maxRetries: 0 }),
    );
    expect(error.provider).toBe('acme');
    expect(error.statusCode).toBeUndefined();
    expect(error.requestId).toBeUndefined();
  });
});

describe('the typed array and length each output type calls for', () => {
  const packed = {
    outputTypes: ['float', 'uint8', 'ubinary', 'binary'] as OutputType[],
    defaultDimensions: 16,
    dimensions: { min: 8, max: 64 },
  };

  it.each([
    ['uint8', Uint8Array.from({ length: 16 })],
    ['ubinary', Uint8Array.of(1, 2)],
    ['binary', Int8Array.of(1, 2)],
  ] as const)('a %s answer of the right array and length is taken', async (outputType, vector) => {
    const result = await embedMany({
      model: answering({ embeddings: [vector] }, packed),
      inputs: ['1'],
      outputType,
    });
    expect(result.embeddings).toEqual([vector]);
  });

  it.each([
    [
      'uint8',
      Int8Array.from({ length: 16 }),
      'acme returned vector 0 as Int8Array; uint8 vectors must be Uint8Array.',
    ],
    [
      'ubinary',
      Int8Array.of(1, 2),
      'acme returned vector 0 as Int8Array; ubinary vectors must be Uint8Array.',
    ],
    ['ubinary', Uint8Array.from({ length: 16 }), 'acme returned vector 0 with 16 values; expected 2.'],
  ] as const)('a %s answer of another array or length is refused', async (outputType, vector, message) => {
    const error = await badAnswer(
      embedMany({
        model: answering({ embeddings: [vector] }, packed),
        inputs: ['1'],
        outputType,
        maxRetries: 0,
      }),
    );
    expect(error.message).toBe(message);
  });

  it('the dimensions asked for, not the default, set the length', async () => {
    const model = answering({ embeddings: [Float32Array.of(1, 2, 3)] }, { dimensions: { min: 1, max: 8 } });
    const result = await embedMany({ model, inputs: ['1'], dimensions: 3 });
    expect(result.embeddings).toEqual([Float32Array.of(1, 2, 3)]);
  });

  it('a vector of another length than the dimensions asked for says so', async () => {
    const model = answering({ embeddings: [Float32Array.of(1, 2)] }, { dimensions: { min: 1, max: 8 } });
    const error = await badAnswer(embedMany({ model, inputs: ['1'], dimensions: 3, maxRetries: 0 }));
    expect(error.message).toBe('acme returned vector 0 with 2 values; expected 3 for dimensions 3.');
  });
});

describe('an answer from a model that states no length', () => {
  it('holds every vector to the first one’s length, naming the vector by its place', async () => {
    const model = answering(
      { embeddings: [Float32Array.of(1, 2), Float32Array.of(1, 2), Float32Array.of(1, 2, 3)] },
      { defaultDimensions: undefined },
    );
    const error = await badAnswer(embedMany({ model, inputs: ['1', '2', '3'], maxRetries: 0 }));
    expect(error.message).toBe('acme returned vector 2 with 3 values; expected 2.');
  });
});

describe('finite values', () => {
  it('a float vector holding NaN is refused, naming the value and its position', async () => {
    const model = answering({ embeddings: [Float32Array.of(1, 2), Float32Array.of(1, Number.NaN)] });
    const error = await badAnswer(embedMany({ model, inputs: ['1', '2'], maxRetries: 0 }));
    expect(error.message).toBe('acme returned vector 1 holding NaN at position 1, not a finite number.');
  });
});

describe('the number of vectors', () => {
  it.each([
    ['fewer vectors than inputs', [Float32Array.of(1, 1)], 'acme returned 1 vector for 2 inputs.'],
    [
      'more vectors than inputs',
      [Float32Array.of(1, 1), Float32Array.of(1, 1), Float32Array.of(1, 1)],
      'acme returned 3 vectors for 2 inputs.',
    ],
    ['no list of vectors', undefined, 'acme returned no vectors for 2 inputs.'],
  ])('%s is refused', async (_label, embeddings, message) => {
    const model = answering({
      embeddings: embeddings as never,
      response: { status: 200, headers: {}, requestId: 'req-3' },
    });
    const error = await badAnswer(embedMany({ model, inputs: ['1', '2'], maxRetries: 0 }));
    expect(error.message).toBe(message);
    expect([error.statusCode, error.requestId]).toEqual([200, 'req-3']);
  });

  it('a vector refused for its length carries where the answer came from', async () => {
    const model = answering({
      embeddings: [Float32Array.of(1)],
      response: { status: 200, headers: {}, requestId: 'req-4' },
    });
    const error = await badAnswer(embedMany({ model, inputs: ['1'], maxRetries: 0 }));
    expect(error.message).toBe('acme returned vector 0 with 1 values; expected 2.');
    expect([error.provider, error.statusCode, error.requestId]).toEqual(['acme', 200, 'req-4']);
  });
});

describe('reported usage', () => {
  it('a count of 0 is taken', async () => {
    const model = answering({ embeddings: [Float32Array.of(1, 1)], usage: { inputTokens: 0 } });
    const result = await embedMany({ model, inputs: ['1'] });
    expect(result.usage).toEqual({ inputTokens: 0 });
  });

  it.each([
    ['a negative count', { inputTokens: -1 }, 'acme reported usage of -1 tokens, which is not a count.'],
    ['a fraction', { inputTokens: 1.5 }, 'acme reported usage of 1.5 tokens, which is not a count.'],
    [
      'a string',
      { inputTokens: '12' },
      'acme reported usage of a string of 2 characters tokens, which is not a count.',
    ],
    ['no count', {}, 'acme reported usage with no token count.'],
  ])('%s is refused, saying what was reported', async (_label, usage, message) => {
    const model = answering({
      embeddings: [Float32Array.of(1, 1)],
      usage: usage as never,
      response: { status: 200, headers: {}, requestId: 'req-5' },
    });
    const error = await badAnswer(embedMany({ model, inputs: ['1'], maxRetries: 0 }));
    expect(error.message).toBe(message);
    expect([error.provider, error.statusCode, error.requestId]).toEqual(['acme', 200, 'req-5']);
  });
});

describe('warnings in an answer', () => {
  it('a list is passed on as it is', async () => {
    const warning = { type: 'other' as const, message: 'model is deprecated' };
    const model = answering({ embeddings: [Float32Array.of(1, 1)], warnings: [warning] });
    const result = await embedMany({ model, inputs: ['1'] });
    expect(result.warnings).toEqual([warning]);
  });

  it.each([
    ['an object', { type: 'other', message: 'x' }],
    ['a string', 'deprecated'],
  ])('%s is refused as not a list', async (_label, warnings) => {
    const model = answering({
      embeddings: [Float32Array.of(1, 1)],
      warnings: warnings as never,
      response: { status: 200, headers: {}, requestId: 'req-6' },
    });
    const error = await badAnswer(embedMany({ model, inputs: ['1'], maxRetries: 0 }));
    expect(error.message).toBe('acme returned warnings that are not a list.');
    expect([error.provider, error.statusCode, error.requestId]).toEqual(['acme', 200, 'req-6']);
  });
});

describe('capabilities declared for a mock model', () => {
  it('every capability a model has is taken, normalized included', () => {
    const model = new MockEmbeddingModel({ capabilities: { normalized: false, maxInputsPerCall: 3 } });
    expect(model.capabilities.normalized).toBe(false);
    expect(model.capabilities.maxInputsPerCall).toBe(3);
  });

  it('capabilities that are not an object are left to the defaults', () => {
    const model = new MockEmbeddingModel({ capabilities: undefined });
    expect(model.capabilities.maxInputsPerCall).toBe(2048);
  });
});
