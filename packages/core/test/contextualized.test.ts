import { describe, expect, it } from 'vitest';
import {
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  embedContextualized,
  isContextualizedEmbeddingModel,
} from '../src/contextualized.js';
import type { TokenCounter } from '../src/engine/token-counter.js';
import {
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  RetryError,
  ServerError,
} from '../src/errors.js';
import type { EmbedRequest, EmbedResponse } from '../src/types.js';
import {
  BASE_CAPABILITIES,
  deferred,
  rejection,
  ScriptedModel,
  tick,
  until,
  VirtualClock,
  vectorFor,
  waitForAbort,
} from './helpers.js';

interface ContextCall {
  number: number;
  request: ContextualizedEmbedRequest;
}

/** A contextualized model answering `vectorFor(chunk)` for every chunk; `respond` can fail or replace a call. */
class ScriptedContextModel implements ContextualizedEmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'ctx';
  readonly modelId = 'ctx-1';
  readonly capabilities = { ...BASE_CAPABILITIES, dimensions: { min: 1, max: 2 } };
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  readonly calls: ContextCall[] = [];

  constructor(
    limits: Partial<ContextualizedCapabilities> = {},
    private readonly respond?: (
      call: ContextCall,
    ) => ContextualizedEmbedResponse | undefined | Promise<ContextualizedEmbedResponse | undefined>,
  ) {
    this.contextualizedCapabilities = { maxDocumentsPerCall: 100, ...limits };
  }

  async doEmbed(_request: EmbedRequest): Promise<EmbedResponse> {
    throw new Error('not used');
  }

  async doEmbedContextualized(request: ContextualizedEmbedRequest): Promise<ContextualizedEmbedResponse> {
    const call = { number: this.calls.length + 1, request };
    this.calls.push(call);
    const custom = await this.respond?.(call);
    if (custom !== undefined) return custom;
    return {
      embeddings: request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk))),
      usage: { inputTokens: request.documents.flat().length },
      warnings: [],
      response: { status: 200, headers: {} },
    };
  }

  get callDocuments(): string[][][] {
    return this.calls.map((call) => call.request.documents);
  }
}

const oneTokenPerCharacter = (exact: boolean): TokenCounter => ({
  exact,
  count: (input) => (typeof input === 'string' ? input.length : 0),
});

const expectedVectors = (documents: string[][]) =>
  documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk)));

describe('isContextualizedEmbeddingModel', () => {
  it('is true only for v1 models with doEmbedContextualized and contextualizedCapabilities', () => {
    expect(isContextualizedEmbeddingModel(new ScriptedContextModel())).toBe(true);
    expect(isContextualizedEmbeddingModel(new ScriptedModel())).toBe(false);
    expect(isContextualizedEmbeddingModel(null)).toBe(false);
    expect(isContextualizedEmbeddingModel({ specificationVersion: 'v1', doEmbedContextualized() {} })).toBe(
      false,
    );
  });
});

describe('embedContextualized', () => {
  it('returns one vector per chunk per document, in order, with usage summed', async () => {
    const model = new ScriptedContextModel({ maxDocumentsPerCall: 2 });
    const documents = [['1', '2'], ['3'], ['4', '5', '6']];
    const result = await embedContextualized({ model, documents, concurrency: 1 });
    expect(model.callDocuments).toEqual([[['1', '2'], ['3']], [['4', '5', '6']]]);
    expect(result.embeddings).toEqual(expectedVectors(documents));
    expect(result.usage).toEqual({ inputTokens: 6 });
    expect(result.responses).toHaveLength(2);
    expect('chunks' in result).toBe(false);
  });

  it('keeps document order when calls finish out of order', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const model = new ScriptedContextModel({ maxDocumentsPerCall: 1 }, async (call) => {
      await gates[call.number - 1]!.promise;
      return undefined;
    });
    const documents = [['1'], ['2', '3'], ['4']];
    const pending = embedContextualized({ model, documents, concurrency: 3 });
    await until(() => model.calls.length === 3, 'three calls');
    for (const index of [2, 0, 1]) {
      gates[index]!.resolve();
      await tick();
    }
    expect((await pending).embeddings).toEqual(expectedVectors(documents));
  });

  it('never splits a document: chunk limits close the call before a document that would not fit', async () => {
    const model = new ScriptedContextModel({ maxChunksPerCall: 4 });
    await embedContextualized({ model, documents: [['1', '2'], ['3', '4'], ['5', '6', '7'], ['8']] });
    expect(model.callDocuments).toEqual([
      [
        ['1', '2'],
        ['3', '4'],
      ],
      [['5', '6', '7'], ['8']],
    ]);
  });

  it('a document with more chunks than one call takes is an InvalidArgumentError before any call', async () => {
    const model = new ScriptedContextModel({ maxChunksPerCall: 2 });
    const error = (await rejection(
      embedContextualized({ model, documents: [['1'], ['2', '3', '4']] }),
    )) as InvalidArgumentError;
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.argument).toBe('documents[1]');
    expect(model.calls).toHaveLength(0);
  });

  it('splits by the token budget of a call', async () => {
    const model = new ScriptedContextModel({ maxTokensPerCall: 6 });
    await embedContextualized({
      model,
      documents: [['1a', '2b'], ['3c'], ['4d', '5e', '6f']],
      tokenCounter: oneTokenPerCharacter(false),
    });
    expect(model.callDocuments).toEqual([[['1a', '2b'], ['3c']], [['4d', '5e', '6f']]]);
  });

  it('with an exact counter, a document over maxTokensPerDocument is rejected before any call', async () => {
    const model = new ScriptedContextModel({ maxTokensPerDocument: 4 });
    const error = (await rejection(
      embedContextualized({
        model,
        documents: [['1a'], ['2bb', '3cc']],
        tokenCounter: oneTokenPerCharacter(true),
      }),
    )) as InvalidArgumentError;
    expect(error.argument).toBe('documents[1]');
    expect(model.calls).toHaveLength(0);
  });

  it.each([
    ['an empty document', [['1'], []], 'documents[1]'],
    ['an empty chunk', [['1', '']], 'documents[0][1]'],
    ['a chunk that is not a string', [['1', 2]], 'documents[0][1]'],
    ['a document that is not an array', ['1'], 'documents[0]'],
  ])('%s is an InvalidArgumentError naming it, before any call', async (_label, documents, argument) => {
    const model = new ScriptedContextModel();
    const error = (await rejection(
      embedContextualized({ model, documents: documents as string[][] }),
    )) as InvalidArgumentError;
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.argument).toBe(argument);
    expect(model.calls).toHaveLength(0);
  });

  it('a plain embedding model is an InvalidArgumentError', async () => {
    const error = (await rejection(
      embedContextualized({
        model: new ScriptedModel() as unknown as ContextualizedEmbeddingModel,
        documents: [['1']],
      }),
    )) as InvalidArgumentError;
    expect(error.argument).toBe('model');
  });

  it('checks settings against the model like embedMany: dimensions, input type warning, strict', async () => {
    const model = new ScriptedContextModel();
    const dimensions = (await rejection(
      embedContextualized({ model, documents: [['1']], dimensions: 3 }),
    )) as InvalidArgumentError;
    expect(dimensions.argument).toBe('dimensions');
    const result = await embedContextualized({
      model,
      documents: [['1']],
      inputType: 'clustering',
      dimensions: 2,
    });
    expect(result.warnings).toHaveLength(1);
    expect(model.calls[0]!.request.inputType).toBeUndefined();
    expect(model.calls[0]!.request.dimensions).toBe(2);
    const strict = (await rejection(
      embedContextualized({ model, documents: [['1']], inputType: 'clustering', strict: true }),
    )) as InvalidArgumentError;
    expect(strict.argument).toBe('inputType');
    expect(model.calls).toHaveLength(1);
  });

  it('returns the provider’s own chunks when it chunked the documents itself', async () => {
    const model = new ScriptedContextModel({}, (call) => ({
      embeddings: call.request.documents.map(() => [vectorFor('1'), vectorFor('2')]),
      chunks: call.request.documents.map(() => ['1 first half', '2 second half']),
      warnings: [],
      response: { status: 200, headers: {} },
    }));
    const result = await embedContextualized({ model, documents: [['1 whole text'], ['2 whole text']] });
    expect(result.chunks).toEqual([
      ['1 first half', '2 second half'],
      ['1 first half', '2 second half'],
    ]);
    expect(result.embeddings[1]).toEqual([vectorFor('1'), vectorFor('2')]);
    expect('usage' in result).toBe(false);
  });

  it('bisects a call the API says is too large', async () => {
    const model = new ScriptedContextModel({}, (call) => {
      if (call.request.documents.length > 1)
        throw new InvalidRequestError('too large', { batchTooLarge: true });
      return undefined;
    });
    const documents = [['1'], ['2'], ['3']];
    const result = await embedContextualized({ model, documents });
    expect(model.calls.map((call) => call.request.documents.length)).toEqual([3, 2, 1, 1, 1]);
    expect(result.embeddings).toEqual(expectedVectors(documents));
  });

  it('retries with the engine’s rules', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = new ScriptedContextModel({}, () => {
      throw new ServerError('busy');
    });
    const error = await rejection(embedContextualized({ model, documents: [['1']], clock, maxRetries: 1 }));
    expect(RetryError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(2);
  });

  it('an abort re-throws the native AbortError', async () => {
    const model = new ScriptedContextModel({}, (call) => waitForAbort(call.request.signal));
    const controller = new AbortController();
    const pending = rejection(embedContextualized({ model, documents: [['1']], signal: controller.signal }));
    await until(() => model.calls.length === 1, 'the call');
    controller.abort();
    expect(((await pending) as Error).name).toBe('AbortError');
  });
});

describe('embedContextualized response checks', () => {
  function answering(make: (request: ContextualizedEmbedRequest) => Partial<ContextualizedEmbedResponse>) {
    return new ScriptedContextModel({}, (call) => ({
      embeddings: [],
      warnings: [],
      response: { status: 200, headers: {} },
      ...make(call.request),
    }));
  }

  it.each([
    ['too few documents', () => ({ embeddings: [[vectorFor('1')]] })],
    ['too few chunk vectors', () => ({ embeddings: [[vectorFor('1')], [vectorFor('2')]] })],
    [
      'number[] vectors',
      () => ({
        embeddings: [
          [[1, 1]],
          [
            [1, 1],
            [2, 1],
          ],
        ] as unknown as Float32Array[][],
      }),
    ],
    [
      'a vector of the wrong dimension',
      () => ({ embeddings: [[vectorFor('1')], [vectorFor('2'), Float32Array.of(1, 2, 3)]] }),
    ],
    [
      'chunk texts for the wrong number of documents',
      () => ({ embeddings: [[vectorFor('1')], [vectorFor('2'), vectorFor('3')]], chunks: [['1']] }),
    ],
    [
      'NaN usage',
      () => ({
        embeddings: [[vectorFor('1')], [vectorFor('2'), vectorFor('3')]],
        usage: { inputTokens: Number.NaN },
      }),
    ],
  ])('%s -> InvalidResponseError', async (_label, make) => {
    const model = answering(make);
    const error = await rejection(embedContextualized({ model, documents: [['1'], ['2', '3']] }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(1);
  });
});

describe('embedContextualized errors of a later call', () => {
  it('an API error naming a document says its place in the whole job, as a document', async () => {
    const model = new ScriptedContextModel({ maxDocumentsPerCall: 2 }, (call) => {
      if (call.number === 2) throw new InvalidRequestError('document 0 is too long', { inputIndex: 0 });
      return undefined;
    });
    const error = await rejection(
      embedContextualized({ model, documents: [['a'], ['b'], ['c'], ['d']], concurrency: 1 }),
    );
    if (!InvalidRequestError.isInstance(error)) throw error;
    expect(error.inputIndex).toBe(2);
    expect(error.message).toBe('document 0 is too long (document 2 of the whole job)');
  });
});

describe('vectors of one contextualized job have one length, when the model states none', () => {
  it('a later call whose chunk vectors are longer than the first call’s is refused', async () => {
    const model = new ScriptedContextModel({ maxDocumentsPerCall: 1 }, (call) => ({
      embeddings: call.request.documents.map((chunks) =>
        chunks.map(() => (call.number === 1 ? Float32Array.of(1, 2) : Float32Array.of(1, 2, 3, 4, 5))),
      ),
      warnings: [],
      response: { status: 200, headers: {} },
    }));
    Object.assign(model.capabilities, { defaultDimensions: undefined });
    const error = await rejection(
      embedContextualized({ model, documents: [['a', 'b'], ['c']], maxRetries: 0, concurrency: 1 }),
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'ctx returned chunk 0 of document 1 with 5 values; expected 2, the length of the vectors it returned earlier in this job.',
    );
    expect(model.calls).toHaveLength(2);
  });
});
