/**
 * What the two adapters carry across, exactly, both ways. toAISDK: the model and settings objects it
 * takes (an AI SDK model given to it is refused as `model`), the per-call settings it refuses by name,
 * its own inputType and truncate kept for every call that does not set them, the headers handed on
 * (lower-cased, a header without a value left out, the user-agent only joined when the AI SDK sent one),
 * the warnings and the per-call metadata it reports, and how the requests in flight are shared between
 * the doEmbed calls of one model (a job runs only as many calls as it holds; a model without a count
 * limit takes one request per job; a job with no values takes none; an aborted waiter takes nothing;
 * waiters are served in order). fromAISDK: the taskType each unified input type becomes for
 * @ai-sdk/google.
 */
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import {
  AISDKError,
  InvalidArgumentError as AISDKInvalidArgumentError,
  type EmbeddingModelV4CallOptions,
  type EmbeddingModelV4Result,
  LoadAPIKeyError,
  LoadSettingError,
  TooManyEmbeddingValuesForCallError,
  UnsupportedFunctionalityError,
} from '@ai-sdk/provider';
import {
  createRateLimiter,
  type EmbeddingModel,
  type EmbedRequest,
  type EmbedResponse,
  embedMany,
  type InputType,
  InvalidArgumentError,
  type Warning,
} from '@embedkit/core';
import { VERSION } from '@embedkit/core/provider';
import { fakeFetch, MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromAISDK, type ToAISDKSettings, toAISDK } from '../src/index.js';
import { handMade } from './hand-made-model.js';
import { apiCallError, thrownInvalidArgument } from './rejection.js';

const call = (values: string[], extra: Partial<EmbeddingModelV4CallOptions> = {}) => ({ values, ...extra });

describe('toAISDK: what it takes', () => {
  it.each([
    ['null', null],
    ['a number', 4],
    ['an array', [{ concurrency: 2 }]],
  ])('refuses %s as settings, naming the settings object', (_label, settings) => {
    const error = thrownInvalidArgument(() => toAISDK(new MockEmbeddingModel(), settings as never));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('settings');
    expect(error.message).toBe(
      'toAISDK takes the model and a settings object, toAISDK(model, { concurrency }).',
    );
  });

  it.each([
    ['undefined', undefined],
    [
      'an AI SDK model',
      { specificationVersion: 'v4', provider: 'openai.embedding', modelId: 'm', doEmbed: () => {} },
    ],
    ['null', null],
    [
      'a model without capabilities',
      { specificationVersion: 'v1', provider: 'acme', modelId: 'm', doEmbed: () => {} },
    ],
    [
      'a model with null capabilities',
      { specificationVersion: 'v1', provider: 'acme', modelId: 'm', doEmbed: () => {}, capabilities: null },
    ],
    [
      'a model of another specification version',
      { ...new MockEmbeddingModel(), specificationVersion: 'v2', doEmbed: () => {} },
    ],
    ['a model without doEmbed', { ...new MockEmbeddingModel() }],
  ])('refuses %s as the model with an InvalidArgumentError', (_label, model) => {
    const error = thrownInvalidArgument(() => toAISDK(model as never));
    expect(error.argument).toBe('model');
    expect(error.message).toBe(
      'model must be an embedkit EmbeddingModel (specificationVersion "v1"). toAISDK wraps an embedkit model for the AI SDK; an AI SDK embedding model needs no wrapping.',
    );
  });

  it.each([
    ['model', 'the model is the first argument, toAISDK(model, settings)'],
    ['signal', 'the AI SDK passes it with each call (its abortSignal setting)'],
    ['abortSignal', 'the AI SDK passes it with each call'],
    ['headers', 'the AI SDK passes them with each call (its headers setting)'],
    ['providerOptions', 'the AI SDK passes them with each call (its providerOptions setting)'],
    ['outputType', 'the AI SDK takes float vectors only'],
  ])('refuses %s, which the AI SDK passes per call, saying so', (name, instead) => {
    const error = thrownInvalidArgument(() =>
      toAISDK(new MockEmbeddingModel(), { [name]: {} } as ToAISDKSettings),
    );
    expect(error.argument).toBe(name);
    expect(error.message).toBe(`toAISDK has no setting ${name}: ${instead}.`);
  });

  it('names the setting a bad maxEmbeddingsPerCall or concurrency is', () => {
    const mock = new MockEmbeddingModel();
    const perCall = thrownInvalidArgument(() => toAISDK(mock, { maxEmbeddingsPerCall: 1.5 }));
    expect(perCall.argument).toBe('maxEmbeddingsPerCall');
    expect(perCall.message).toBe('maxEmbeddingsPerCall must be a whole number from 1, or Infinity; got 1.5.');
    const inFlight = thrownInvalidArgument(() => toAISDK(mock, { concurrency: 0 }));
    expect(inFlight.argument).toBe('concurrency');
    expect(inFlight.message).toBe('concurrency must be a whole number from 1 to 10,000, got 0.');
  });

  it("gives the AI SDK the embedkit model's provider and model id", () => {
    const model = toAISDK(new MockEmbeddingModel({ provider: 'acme', modelId: 'acme-embed-2' }));
    expect([model.specificationVersion, model.provider, model.modelId]).toEqual([
      'v4',
      'acme',
      'acme-embed-2',
    ]);
  });
});

describe('toAISDK: each call', () => {
  it('takes every embedkit input type under providerOptions.embedkit', async () => {
    const mock = new MockEmbeddingModel({
      capabilities: { inputTypes: ['clustering', 'fact-verification'] },
    });
    const model = toAISDK(mock);
    for (const inputType of ['clustering', 'fact-verification']) {
      await model.doEmbed(call(['a'], { providerOptions: { embedkit: { inputType } } }));
    }
    expect(mock.calls.map((request) => request.inputType)).toEqual(['clustering', 'fact-verification']);
  });

  it('refuses an option under providerOptions.embedkit it does not have, before any request', async () => {
    const mock = new MockEmbeddingModel();
    const error = await toAISDK(mock)
      .doEmbed(call(['a'], { providerOptions: { embedkit: { inputTyp: 'query' } } }))
      .then(
        () => expect.unreachable('doEmbed resolved; it had to refuse the option'),
        (caught: unknown) => caught as InvalidArgumentError,
      );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.argument).toBe('providerOptions.embedkit');
    expect(error.message).toBe('providerOptions.embedkit is invalid: (root): Unrecognized key: "inputTyp".');
    expect(mock.calls).toEqual([]);
  });

  it("keeps the settings' inputType and truncate for a call that does not set them; a call's own win", async () => {
    const mock = new MockEmbeddingModel();
    const model = toAISDK(mock, { inputType: 'document', truncate: true });
    await model.doEmbed(call(['a']));
    await model.doEmbed(
      call(['b'], { providerOptions: { embedkit: { inputType: 'query', truncate: false } } }),
    );
    expect(
      mock.calls.map((request) => [request.inputs, request.inputType, request.truncate === true]),
    ).toEqual([
      [['a'], 'document', true],
      [['b'], 'query', false],
    ]);
  });

  it('hands on the headers lower-cased, leaves out one without a value, and adds no user-agent of its own', async () => {
    const mock = new MockEmbeddingModel();
    const model = toAISDK(mock);
    // The AI SDK's own headers setting takes undefined values.
    const headers = { 'X-Trace-Id': 'trace-1', 'x-empty': undefined } as unknown as Record<string, string>;
    await model.doEmbed(call(['a'], { headers }));
    expect(mock.calls[0]!.headers).toStrictEqual({ 'x-trace-id': 'trace-1' });
  });
});

/** An embedkit model whose answer carries `warnings` and `response` as given. */
function answering(warnings: Warning[], response: EmbedResponse['response']): EmbeddingModel {
  const mock = new MockEmbeddingModel({ dimensions: 2 });
  return {
    specificationVersion: 'v1',
    provider: 'acme',
    modelId: 'acme-1',
    capabilities: mock.capabilities,
    async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
      return { ...(await mock.doEmbed(request)), warnings, response };
    },
  };
}

describe('toAISDK: what each doEmbed reports', () => {
  it("maps the model's warnings: unsupported only with the setting named, otherwise other", async () => {
    const warnings: Warning[] = [
      { type: 'unsupported-setting', setting: 'dimensions', message: 'no dimensions here' },
      { type: 'unsupported-setting', message: 'something unsupported' },
      { type: 'other', setting: 'truncate', message: 'truncate noted' },
    ];
    const result = await toAISDK(answering(warnings, { status: 200, headers: {} })).doEmbed(call(['a']));
    expect(result.warnings).toEqual([
      { type: 'unsupported', feature: 'dimensions', details: 'no dimensions here' },
      { type: 'other', message: 'something unsupported' },
      { type: 'other', message: 'truncate noted' },
    ]);
  });

  it('lists each call in providerMetadata with only the fields it has, and the first response headers', async () => {
    const bare = await toAISDK(answering([], { status: 200, headers: { 'x-a': '1' } })).doEmbed(call(['a']));
    expect(bare.providerMetadata).toStrictEqual({ embedkit: { calls: [{ status: 200 }] } });
    expect(bare.response).toStrictEqual({ headers: { 'x-a': '1' } });
    const full = await toAISDK(
      answering([], { status: 200, headers: {}, requestId: 'req-9', modelId: 'acme-1-2025' }),
    ).doEmbed(call(['a']));
    expect(full.providerMetadata).toStrictEqual({
      embedkit: { calls: [{ status: 200, requestId: 'req-9', modelId: 'acme-1-2025' }] },
    });
  });
});

/** Event-loop turns each call of `countingModel` stays in flight. */
const TURNS = 5;
const turns = async (count: number) => {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
};

/** A promise that resolves when `open()` is called. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * A mock model that records the most calls it had in flight. A call whose first input begins with a key of
 * `gates` (`a` for `a:1`) stays open until that gate opens; every other call stays open for a few turns.
 */
function countingModel(
  options: ConstructorParameters<typeof MockEmbeddingModel>[0] = {},
  gates: Record<string, Promise<void>> = {},
) {
  let inFlight = 0;
  let most = 0;
  const mock = new MockEmbeddingModel({
    dimensions: 2,
    ...options,
    beforeCall: async (request) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const held = gates[String(request.inputs[0]).split(':')[0]!];
      if (held !== undefined) await held;
      else await turns(TURNS);
      inFlight--;
    },
  });
  return { mock, maxInFlight: () => most };
}

/** Settles `promise` into a record that can be read synchronously. */
function settle<T>(promise: PromiseLike<T>): { done: boolean; error?: unknown } {
  const state: { done: boolean; error?: unknown } = { done: false };
  promise.then(
    () => {
      state.done = true;
    },
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

describe('toAISDK: requests in flight shared by the doEmbed calls of one model', () => {
  it('runs a job with only as many calls at once as the requests it holds', async () => {
    // Concurrency 3: the first job holds 2 (its 2 calls), the second gets the 1 left for its 4 calls.
    const { mock, maxInFlight } = countingModel({ capabilities: { maxInputsPerCall: 1 } });
    const model = toAISDK(mock, { concurrency: 3 });
    const results = await Promise.all([
      model.doEmbed(call(['a', 'b'])),
      model.doEmbed(call(['c', 'd', 'e', 'f'])),
    ]);
    expect(results.map((result) => result.embeddings.length)).toEqual([2, 4]);
    expect(maxInFlight()).toBe(3);
  });

  it('takes one request per job for a model without a count limit', async () => {
    const first = gate();
    const { mock, maxInFlight } = countingModel(
      { capabilities: { maxInputsPerCall: Number.POSITIVE_INFINITY } },
      { a: first.promise },
    );
    const model = toAISDK(mock, { concurrency: 2 });
    const jobs = [model.doEmbed(call(['a', 'b'])), model.doEmbed(call(['c'])), model.doEmbed(call(['d']))];
    await turns(2);
    // The first job's one call holds one request, the second job the other; the third waits.
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a', 'b'], ['c']]);
    first.open();
    await Promise.all(jobs);
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a', 'b'], ['c'], ['d']]);
    expect(maxInFlight()).toBe(2);
  });

  it('hands the requests a job frees to the waiting jobs, each only as many as it can use', async () => {
    const [a, x] = [gate(), gate()];
    const { mock, maxInFlight } = countingModel(
      { capabilities: { maxInputsPerCall: 1 } },
      { a: a.promise, x: x.promise },
    );
    const model = toAISDK(mock, { concurrency: 3 });
    const holding = model.doEmbed(call(['a:1', 'a:2']));
    const other = model.doEmbed(call(['x:1']));
    const waiting = [model.doEmbed(call(['b'])), model.doEmbed(call(['c']))];
    await turns(2);
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a:1'], ['a:2'], ['x:1']]);
    a.open();
    await holding;
    await turns(2);
    // The two requests freed go one to each waiting job, while the third is still held.
    expect(mock.calls.slice(3).map((request) => request.inputs)).toEqual([['b'], ['c']]);
    x.open();
    await Promise.all([other, ...waiting]);
    expect(maxInFlight()).toBe(3);
  });

  it('answers a job with no values at once, even while every request is taken', async () => {
    const { mock } = countingModel({ capabilities: { maxInputsPerCall: Number.POSITIVE_INFINITY } });
    const model = toAISDK(mock, { concurrency: 1 });
    const busy = model.doEmbed(call(['a']));
    let answered: unknown;
    const empty = model.doEmbed(call([])).then((result) => {
      answered = result;
    });
    await turns(2);
    expect(answered).toEqual({
      embeddings: [],
      warnings: [],
      response: { headers: {} },
      providerMetadata: { embedkit: { calls: [] } },
      usage: { tokens: 0 },
    });
    await Promise.all([busy, empty]);
  });

  it('ends a job whose signal was aborted before it began at once, even while every request is taken', async () => {
    const { mock } = countingModel();
    const model = toAISDK(mock, { concurrency: 1 });
    const busy = model.doEmbed(call(['a']));
    const aborted = settle(model.doEmbed(call(['b'], { abortSignal: AbortSignal.abort() })));
    await turns(2);
    expect(aborted.done).toBe(true);
    expect((aborted.error as Error | undefined)?.name).toBe('AbortError');
    await busy;
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a']]);
  });

  it('serves the jobs waiting for a request in the order they asked', async () => {
    const first = gate();
    const { mock } = countingModel({}, { a: first.promise });
    const model = toAISDK(mock, { concurrency: 1 });
    const jobs = [model.doEmbed(call(['a'])), model.doEmbed(call(['b'])), model.doEmbed(call(['c']))];
    await turns(2);
    first.open();
    await Promise.all(jobs);
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a'], ['b'], ['c']]);
  });

  it('gives nothing to a job aborted while it waits, and keeps the bound for the jobs after it', async () => {
    const first = gate();
    const { mock, maxInFlight } = countingModel({}, { a: first.promise });
    const model = toAISDK(mock, { concurrency: 1 });
    const busy = model.doEmbed(call(['a']));
    const controller = new AbortController();
    const waiting = settle(model.doEmbed(call(['b'], { abortSignal: controller.signal })));
    await turns(2);
    controller.abort();
    await turns(2);
    expect(waiting.done).toBe(true);
    expect((waiting.error as Error).name).toBe('AbortError');
    // While the first job still holds the one request, the next two wait; then they run one at a time.
    const later = [settle(model.doEmbed(call(['c']))), settle(model.doEmbed(call(['d'])))];
    await turns(TURNS * 2);
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a']]);
    first.open();
    await busy;
    await turns(TURNS * 4);
    expect(later.map((job) => [job.done, job.error])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
    expect(mock.calls.map((request) => request.inputs)).toEqual([['a'], ['c'], ['d']]);
    expect(maxInFlight()).toBe(1);
  });
});

describe('fromAISDK: input types for @ai-sdk/google', () => {
  const taskTypes: [InputType, string][] = [
    ['query', 'RETRIEVAL_QUERY'],
    ['document', 'RETRIEVAL_DOCUMENT'],
    ['similarity', 'SEMANTIC_SIMILARITY'],
    ['classification', 'CLASSIFICATION'],
    ['clustering', 'CLUSTERING'],
    ['question-answering', 'QUESTION_ANSWERING'],
    ['fact-verification', 'FACT_VERIFICATION'],
    ['code-query', 'CODE_RETRIEVAL_QUERY'],
  ];

  it("declares every input type it maps, and sends each as Google's taskType", async () => {
    const server = fakeFetch(taskTypes.map(() => ({ body: { embedding: { values: [1, 0] } } })));
    const model = fromAISDK(
      createGoogleGenerativeAI({
        apiKey: 'test-key-google-3a7c',
        fetch: server.fetch as typeof fetch,
      }).embedding('gemini-embedding-001'),
    );
    expect(model.capabilities.inputTypes).toEqual(taskTypes.map(([inputType]) => inputType));
    for (const [inputType] of taskTypes) {
      await embedMany({ model, inputs: ['x'], inputType, dimensions: 2, strict: true });
    }
    expect(server.requests.map((request) => (request.body as { taskType?: string }).taskType)).toEqual(
      taskTypes.map(([, taskType]) => taskType),
    );
  });
});

const vectorsFor = (values: string[]): EmbeddingModelV4Result => ({
  embeddings: values.map(() => [1, 0]),
  warnings: [],
});

const embedOnce = (model: EmbeddingModel, request: Partial<EmbedRequest> = {}) =>
  model.doEmbed({ inputs: ['x'], ...request } as EmbedRequest);

const failingWith = (error: unknown) =>
  fromAISDK(
    handMade(async () => {
      throw error;
    }),
  );

describe('fromAISDK: the model and options it takes', () => {
  const modelMessage =
    'fromAISDK takes an AI SDK embedding model of specification v4 or v3 (e.g. openai.embedding("text-embedding-3-small")).';
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a model without doEmbed', { specificationVersion: 'v4', provider: 'acme', modelId: 'm' }],
    [
      'a model of specification v2',
      { specificationVersion: 'v2', provider: 'acme', modelId: 'm', doEmbed: () => {} },
    ],
    ['a string', 'openai.embedding'],
  ])('refuses %s as the AI SDK model, naming aiModel', (_label, aiModel) => {
    const error = thrownInvalidArgument(() => fromAISDK(aiModel as never));
    expect(error.argument).toBe('aiModel');
    expect(error.message).toBe(modelMessage);
  });

  it('takes a rate limiter and a list of secrets as options, and hands the limiter to the engine', () => {
    const limiter = createRateLimiter({ requestsPerMinute: 60 });
    const model = fromAISDK(
      handMade(async ({ values }) => vectorsFor(values)),
      {},
      {
        rateLimit: limiter,
        secrets: ['k'],
      },
    );
    expect(model.rateLimiter).toBe(limiter);
  });
});

describe('fromAISDK: what each call carries', () => {
  it('sends only the values, provider options and headers when the request sets nothing else', async () => {
    const aiModel = handMade(async ({ values }) => vectorsFor(values));
    await embedOnce(fromAISDK(aiModel));
    expect(aiModel.calls[0]).toStrictEqual({
      values: ['x'],
      providerOptions: undefined,
      headers: { 'user-agent': `embedkit/${VERSION}` },
    });
  });

  it("lower-cases the caller's headers and puts embedkit before the caller's user-agent", async () => {
    const aiModel = handMade(async ({ values }) => vectorsFor(values));
    await embedOnce(fromAISDK(aiModel), { headers: { 'X-Trace': 't-1', 'User-Agent': 'app/2' } });
    expect(aiModel.calls[0]!.headers).toStrictEqual({
      'x-trace': 't-1',
      'user-agent': `embedkit/${VERSION} app/2`,
    });
  });

  it("keeps the caller's options for other providers beside an input type's options", async () => {
    const aiModel = handMade(async ({ values }) => vectorsFor(values));
    const model = fromAISDK(aiModel, {}, { inputTypes: { query: { acme: { mode: 'q' } } } });
    await embedOnce(model, { inputType: 'query', providerOptions: { other: { x: 1 } } });
    expect(aiModel.calls[0]!.providerOptions).toStrictEqual({ acme: { mode: 'q' }, other: { x: 1 } });
  });

  it('names the model in the refusal of an input that is not text', async () => {
    const aiModel = handMade(async ({ values }) => vectorsFor(values));
    const error = await rejectionOf(
      embedOnce(fromAISDK(aiModel), { inputs: ['a', { image: 'https://x/y.png' }] }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.argument).toBe('inputs[1]');
    expect(error.message).toBe(
      'Input 1 is not text; the AI SDK model acme.embedding acme-embed-1 takes text only.',
    );
  });

  it('refuses dimensions for a specification v3 model, naming the option to use instead', async () => {
    const v3 = {
      ...handMade(async ({ values }) => vectorsFor(values)),
      specificationVersion: 'v3' as const,
    };
    const error = await rejectionOf(embedOnce(fromAISDK(v3 as never), { dimensions: 4 }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.argument).toBe('dimensions');
    expect(error.message).toBe(
      "acme.embedding acme-embed-1 implements the AI SDK's specification v3, which has no dimensions option; pass the provider's own option in providerOptions.acme instead.",
    );
  });

  it('rethrows unchanged what the model throws once the call was aborted', async () => {
    const thrown = apiCallError({ message: 'late', statusCode: 500 });
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(embedOnce(failingWith(thrown), { signal: controller.signal }));
    expect(error).toBe(thrown);
  });

  it('maps what the model throws on a call without a signal', async () => {
    const thrown = apiCallError({ message: 'down', statusCode: 500 });
    const error = await rejectionOf(embedOnce(failingWith(thrown)));
    expect(error.name).toBe('ServerError');
  });
});

describe('fromAISDK: what each call reports', () => {
  it('reads the response headers lower-cased, leaves out those without a value, and takes request-id as the request id', async () => {
    const aiModel = handMade(async ({ values }) => ({
      ...vectorsFor(values),
      response: { headers: { 'Request-Id': 'req-7', 'X-Empty': undefined as unknown as string } },
    }));
    const result = await embedOnce(fromAISDK(aiModel));
    expect(result.response).toStrictEqual({
      status: 200,
      headers: { 'request-id': 'req-7' },
      requestId: 'req-7',
    });
  });

  it('reports no request id and no headers when the model gives no response', async () => {
    const result = await embedOnce(fromAISDK(handMade(async ({ values }) => vectorsFor(values))));
    expect(result.response).toStrictEqual({ status: 200, headers: {} });
    expect('usage' in result).toBe(false);
  });

  it.each([
    [0, { inputTokens: 0 }],
    [3, { inputTokens: 3 }],
    [-1, undefined],
    [1.5, undefined],
  ])('reports %s usage tokens as %o', async (tokens, usage) => {
    const result = await embedOnce(
      fromAISDK(handMade(async ({ values }) => ({ ...vectorsFor(values), usage: { tokens } }))),
    );
    expect(result.usage).toStrictEqual(usage);
  });

  it("puts its own warnings before the model's, each kind of AI SDK warning in embedkit's words", async () => {
    const aiModel = handMade(async ({ values }) => ({
      ...vectorsFor(values),
      warnings: [
        { type: 'unsupported', feature: 'dimensions' },
        { type: 'compatibility', feature: 'batching' },
        { type: 'compatibility', feature: 'batching', details: 'one at a time' },
        { type: 'deprecated', setting: 'taskType', message: 'use inputType' },
        { type: 'other', message: 'something else' },
      ],
    }));
    const result = await embedOnce(fromAISDK(aiModel), { truncate: true });
    expect(result.warnings).toStrictEqual([
      {
        type: 'unsupported-setting',
        setting: 'truncate',
        message:
          "The AI SDK's specification has no truncate option, so acme.embedding acme-embed-1 was not asked to cut long inputs; pass the provider's own option in providerOptions if it has one.",
      },
      {
        type: 'unsupported-setting',
        setting: 'dimensions',
        message: 'dimensions is not supported by this model.',
      },
      { type: 'other', message: 'batching runs in a compatibility mode.' },
      { type: 'other', message: 'batching runs in a compatibility mode: one at a time.' },
      { type: 'other', message: 'taskType is deprecated: use inputType' },
      { type: 'other', message: 'something else' },
    ]);
  });

  it('says nothing of truncate when it is false, nor of a title that is undefined', async () => {
    const aiModel = handMade(async ({ values }) => vectorsFor(values));
    const result = await embedOnce(fromAISDK(aiModel), {
      inputs: [{ text: 'x', title: undefined }],
      truncate: false,
    });
    expect(result.warnings).toStrictEqual([]);
  });
});

describe('fromAISDK: capabilities read from the model', () => {
  it('declares text in, float vectors out, not normalized, for a model that declares nothing', () => {
    const model = fromAISDK(
      handMade(async ({ values }) => vectorsFor(values), {
        maxEmbeddingsPerCall: undefined,
        supportsParallelCalls: undefined,
      }),
    );
    expect(model.capabilities).toStrictEqual({
      maxInputsPerCall: 2048,
      inputTypes: [],
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: false,
      supportsParallelCalls: false,
      dimensions: { min: 1, max: 65_536 },
    });
  });

  it.each([
    [1, 1],
    [0, 2048],
    [1.5, 2048],
    [Number.POSITIVE_INFINITY, 2048],
  ])('takes a call limit of %s as %s inputs per call', (limit, expected) => {
    const model = fromAISDK(
      handMade(async ({ values }) => vectorsFor(values), { maxEmbeddingsPerCall: limit }),
    );
    expect(model.capabilities.maxInputsPerCall).toBe(expected);
  });

  it('keeps declared dimensions, and opens none for specification v3', () => {
    const aiModel = handMade(async ({ values }) => vectorsFor(values), { supportsParallelCalls: false });
    const model = fromAISDK(aiModel, { dimensions: { min: 8, max: 64 } });
    expect(model.capabilities.dimensions).toStrictEqual({ min: 8, max: 64 });
    expect(model.capabilities.supportsParallelCalls).toBe(false);
    expect('dimensions' in fromAISDK({ ...aiModel, specificationVersion: 'v3' } as never).capabilities).toBe(
      false,
    );
  });
});

describe('fromAISDK: errors from the AI SDK model', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('hands on an embedkit error the model throws as it is', async () => {
    const thrown = new InvalidArgumentError('bad', { argument: 'x' });
    expect(await rejectionOf(embedOnce(failingWith(thrown)))).toBe(thrown);
  });

  it.each([
    [
      'an invalid argument',
      new AISDKInvalidArgumentError({ argument: 'a', message: 'bad a sk-explicit-0001' }),
    ],
    ['a missing key', new LoadAPIKeyError({ message: 'no key sk-explicit-0001' })],
    [
      'too many values',
      new TooManyEmbeddingValuesForCallError({
        provider: 'acme',
        modelId: 'm',
        maxEmbeddingsPerCall: 1,
        values: ['a', 'b'],
      }),
    ],
    [
      'an unsupported functionality',
      new UnsupportedFunctionalityError({ functionality: 'x', message: 'no sk-explicit-0001' }),
    ],
  ])(
    'refuses %s as an InvalidArgumentError, redacted and prefixed by the provider',
    async (_label, thrown) => {
      const model = fromAISDK(
        handMade(async () => {
          throw thrown;
        }),
        {},
        { secrets: ['sk-explicit-0001'] },
      );
      const error = await rejectionOf(embedOnce(model));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error.message).toBe(`acme: ${thrown.message.replace('sk-explicit-0001', '[REDACTED]')}`);
    },
  );

  it('reports another AI SDK error as an InvalidResponseError of the provider, redacted', async () => {
    const thrown = new AISDKError({ name: 'AI_Other', message: 'odd sk-explicit-0001' });
    const model = fromAISDK(
      handMade(async () => {
        throw thrown;
      }),
      {},
      { secrets: ['sk-explicit-0001'] },
    );
    const error = await rejectionOf(embedOnce(model));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe('acme: odd [REDACTED]');
    expect(error.provider).toBe('acme');
  });

  it.each([
    ['ECONNRESET', 'ConnectionError'],
    ['ENOTFOUND', 'ConnectionError'],
    ['UND_ERR_SOCKET', 'ConnectionError'],
    ['UND_ERR_CONNECT_TIMEOUT', 'TimeoutError'],
    ['ETIMEDOUT', 'TimeoutError'],
  ])('reports a failure with the system code %s as a %s', async (code, name) => {
    const error = await rejectionOf(embedOnce(failingWith(Object.assign(new Error('boom'), { code }))));
    expect(error.name).toBe(name);
    expect(error.message).toBe(
      name === 'TimeoutError'
        ? `acme: no answer from the acme API in time (${code} boom).`
        : `acme: could not complete the request to the acme API (${code} boom). Check the network, proxy settings and base URL; the engine retries these.`,
    );
    expect(error.isRetryable).toBe(true);
  });

  it('finds a system code three causes deep, not four', async () => {
    const chain = (depth: number): unknown =>
      depth === 0
        ? Object.assign(new Error('socket'), { code: 'ECONNRESET' })
        : new Error(`level ${depth}`, { cause: chain(depth - 1) });
    const three = await rejectionOf(embedOnce(failingWith(chain(3))));
    const four = await rejectionOf(embedOnce(failingWith(chain(4))));
    expect(three.name).toBe('ConnectionError');
    expect(four.message).toBe('level 4');
    expect(four.name).toBe('Error');
  });

  it.each([['ERR_INVALID_ARG_TYPE'], ['XECONNRESET'], ['E'], [20], [Symbol('ECONNRESET')]])(
    'hands on unchanged an error whose code %s is no system code',
    async (code) => {
      const thrown = Object.assign(new TypeError('bad'), { code });
      expect(await rejectionOf(embedOnce(failingWith(thrown)))).toBe(thrown);
    },
  );

  it('reports an APICallError without a status as a failure to connect', async () => {
    const thrown = apiCallError({
      message: 'Cannot connect to API: x',
      isRetryable: true,
    });
    const error = await rejectionOf(embedOnce(failingWith(thrown)));
    expect(error.name).toBe('ConnectionError');
    expect(error.message).toBe(
      'acme: could not complete the request to https://api.acme.example/v1/embed (Cannot connect to API: x). Check the network, proxy settings and base URL; the engine retries these.',
    );
    const withCause = apiCallError({
      message: 'Cannot connect',
      cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
    });
    const e2 = await rejectionOf(embedOnce(failingWith(withCause)));
    expect(e2.message).toBe(
      'acme: could not complete the request to https://api.acme.example/v1/embed (ECONNREFUSED refused). Check the network, proxy settings and base URL; the engine retries these.',
    );
  });

  it('reads Retry-After whatever its case, keeps the status, message and verdict', async () => {
    const thrown = apiCallError({
      message: 'slow down',
      statusCode: 429,
      responseHeaders: { 'Retry-After': '7', 'X-Request-Id': 'r-1' },
      responseBody: '{"error":"rate"}',
      isRetryable: false,
    });
    const error = await rejectionOf(embedOnce(failingWith(thrown)));
    expect(JSON.parse(JSON.stringify(error))).toStrictEqual({
      code: 'rate_limited',
      isRetryable: false,
      provider: 'acme',
      url: 'https://api.acme.example/v1/embed',
      statusCode: 429,
      requestId: 'r-1',
      retryAfterMs: 7000,
      responseBody: '{"error":"rate"}',
      name: 'RateLimitError',
      quotaExhausted: false,
    });
    // The AI SDK's verdict is final: the message says so, never that the engine retries it.
    expect(error.message).toBe(
      'acme API error 429: slow down — Lower concurrency or set rateLimit; the provider reads this answer as final, so it is not retried.',
    );
    const noBody = apiCallError({ message: 'gone', statusCode: 500 });
    const e2 = await rejectionOf(embedOnce(failingWith(noBody)));
    expect([e2.name, e2.statusCode, e2.responseBody, e2.isRetryable]).toStrictEqual([
      'ServerError',
      500,
      '',
      true,
    ]);
  });

  it.each([
    [
      199,
      'InvalidRequestError',
      'acme API error 199: sdk words — Check the inputs and options against the model’s capabilities.',
    ],
    [
      200,
      'InvalidResponseError',
      'acme answered status 200 with an error instead of embeddings: server words — the API or a gateway in front of it reported a failure with a success status; check the message, and that the base URL points at the API.',
    ],
    [
      299,
      'InvalidResponseError',
      'acme answered status 299 with an error instead of embeddings: server words — the API or a gateway in front of it reported a failure with a success status; check the message, and that the base URL points at the API.',
    ],
    [
      400,
      'InvalidRequestError',
      'acme API error 400: sdk words — Check the inputs and options against the model’s capabilities.',
    ],
  ])(
    'a %i answer carrying an error: the body speaks for a 2xx, the AI SDK provider for any other',
    async (status, name, message) => {
      const thrown = apiCallError({
        message: 'sdk words',
        statusCode: status,
        responseBody: '{"error":{"message":"server words"}}',
        isRetryable: false,
      });
      const error = await rejectionOf(embedOnce(failingWith(thrown)));
      expect([error.name, error.message]).toStrictEqual([name, message]);
    },
  );

  it('reports a 2xx answer the provider refused in its words and the cause, redacted, the cause cut to 300 characters', async () => {
    const thrown = apiCallError({
      message: 'Invalid JSON response sk-explicit-0001',
      statusCode: 200,
      responseBody: '{"data":null}',
      cause: new Error(`x sk-explicit-0001 ${'y'.repeat(400)}`),
    });
    const model = fromAISDK(
      handMade(async () => {
        throw thrown;
      }),
      {},
      { secrets: ['sk-explicit-0001'] },
    );
    const error = await rejectionOf(embedOnce(model));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      `acme returned an embeddings body of the wrong shape: (root): Invalid JSON response [REDACTED] (x [REDACTED] ${'y'.repeat(300 - 'x [REDACTED] '.length)}); check that the base URL points at the acme API.`,
    );
    const t2 = apiCallError({
      message: undefined as never,
      statusCode: 200,
      responseBody: 'not json',
    });
    const e2 = await rejectionOf(embedOnce(failingWith(t2)));
    expect(e2.message).toBe(
      'acme returned status 200 with a body that is not valid JSON: not json. A proxy or gateway between you and the API may be answering instead of it.',
    );
  });

  it('redacts the values of the key variables of the environment, trimmed, from 8 characters on', async () => {
    vi.stubEnv('ACME_API_KEY', ' key-acme-123 ');
    vi.stubEnv('ACME_TOKEN', 'tok-acme-456');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'aws-secret-789');
    vi.stubEnv('API_KEY_HINT', 'hint-value-000');
    vi.stubEnv('API_KEY', 'bare-key-001');
    vi.stubEnv('SHORT_API_KEY', '  seven77  ');
    vi.stubEnv('EIGHT_API_KEY', 'eight888');
    const error = await rejectionOf(
      embedOnce(
        failingWith(
          new LoadAPIKeyError({
            message: 'key-acme-123 tok-acme-456 aws-secret-789 bare-key-001 hint-value-000 seven77 eight888',
          }),
        ),
      ),
    );
    expect(error.message).toBe(
      'acme: [REDACTED] [REDACTED] [REDACTED] [REDACTED] hint-value-000 seven77 [REDACTED]',
    );
  });
});

describe('fromAISDK: a setting the AI SDK provider is missing', () => {
  it('refuses a missing provider setting as an InvalidArgumentError, as it does a missing key', async () => {
    const thrown = new LoadSettingError({
      message:
        "Azure OpenAI resource name setting is missing. Pass it using the 'resourceName' parameter or the AZURE_RESOURCE_NAME environment variable.",
    });
    const error = await rejectionOf(embedOnce(failingWith(thrown)));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe(`acme: ${thrown.message}`);
  });
});
