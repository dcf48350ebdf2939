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
import type { EmbeddingModelV4CallOptions } from '@ai-sdk/provider';
import {
  type EmbeddingModel,
  type EmbedRequest,
  type EmbedResponse,
  embedMany,
  type InputType,
  InvalidArgumentError,
  type Warning,
} from '@embedkit/core';
import { fakeFetch, MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { fromAISDK, type ToAISDKSettings, toAISDK } from '../src/index.js';
import { thrownInvalidArgument } from './rejection.js';

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
