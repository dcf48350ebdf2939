/**
 * Behaviour of rerank and embedContextualized that the rest of the suite left unpinned: which settings,
 * models and documents are refused before any request (with the setting named and the numbers said),
 * the token and chunk limits taken exactly at their edge, exactly what each request and the whole-job
 * check carry, the vector length an answer is held to, the message naming each kind of bad answer
 * (with the document's place in the whole job for a later call), and where the provider's own chunk
 * texts land after several calls or a bisected call.
 */
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
import { InvalidArgumentError, InvalidRequestError, InvalidResponseError } from '../src/errors.js';
import {
  type RerankingCapabilities,
  type RerankRequest,
  type RerankResponse,
  type RerankScore,
  rerank,
} from '../src/rerank.js';
import type { EmbeddingCapabilities, EmbedResponse } from '../src/types.js';
import {
  BASE_CAPABILITIES,
  invalidArgumentOf,
  invalidResponseOf,
  ScriptedReranker,
  vectorFor,
} from './helpers.js';

/**
 * The shared scripted reranker (scores are the numbers documents start with, one usage token per document);
 * `respond` gets each request and its call number, and may replace the answer.
 */
function reranker(
  capabilities: Partial<RerankingCapabilities> = {},
  respond?: (request: RerankRequest, call: number) => RerankResponse | undefined,
): ScriptedReranker {
  return new ScriptedReranker(capabilities, respond && ((call) => respond(call.request, call.number)), 1);
}

/** A reranker that answers `results` to every call. */
const answering = (results: unknown, capabilities: Partial<RerankingCapabilities> = {}) =>
  reranker(capabilities, () => ({
    results: results as RerankScore[],
    warnings: [],
    response: { status: 200, headers: {} },
  }));

const oneTokenPerCharacter = (exact: boolean): TokenCounter => ({
  exact,
  count: (input) => (typeof input === 'string' ? input.length : 0),
});

const MODEL_MESSAGE = 'model must be an embedkit RerankingModel (specificationVersion "v1").';

describe('rerank refuses bad settings before any call, naming the setting', () => {
  const doRerank = async (): Promise<RerankResponse> => {
    throw new Error('must not be called');
  };
  const capabilities = { maxDocumentsPerCall: 10, supportsParallelCalls: true };
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a model of another specification version', { specificationVersion: 'v2', doRerank, capabilities }],
    ['a model without doRerank', { specificationVersion: 'v1', capabilities }],
    ['a model without capabilities', { specificationVersion: 'v1', doRerank }],
  ])('a model that is %s is refused as model', async (_label, model) => {
    const error = await invalidArgumentOf(rerank({ model: model as never, query: 'q', documents: ['1'] }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('model');
    expect(error.message).toBe(MODEL_MESSAGE);
  });

  it.each([
    ['empty', ''],
    ['missing', undefined],
    ['a number', 42],
  ])('a query that is %s is refused as query', async (_label, query) => {
    const model = reranker();
    const error = await invalidArgumentOf(rerank({ model, query: query as never, documents: ['1'] }));
    expect(error.argument).toBe('query');
    expect(error.message).toBe('query must be a non-empty string.');
    expect(model.requests).toHaveLength(0);
  });

  it('documents that are not an array are refused as documents', async () => {
    const model = reranker();
    const error = await invalidArgumentOf(rerank({ model, query: 'q', documents: 'abc' as never }));
    expect(error.argument).toBe('documents');
    expect(error.message).toBe('documents must be an array of strings.');
    expect(model.requests).toHaveLength(0);
  });

  it('topN 0 is refused as topN; topN 1 returns the single best document', async () => {
    const model = reranker();
    const error = await invalidArgumentOf(rerank({ model, query: 'q', documents: ['1'], topN: 0 }));
    expect(error.argument).toBe('topN');
    expect(error.message).toBe('topN must be a whole number ≥ 1, got 0.');
    expect(model.requests).toHaveLength(0);
    const result = await rerank({ model, query: 'q', documents: ['1 a', '3 b', '2 c'], topN: 1 });
    expect(result.results).toEqual([{ index: 1, relevanceScore: 3, document: '3 b' }]);
    expect(model.requests[0]!.topN).toBe(1);
  });

  it('maxDocumentsPerCall 0 is refused as maxDocumentsPerCall; 1 sends one document per call', async () => {
    const model = reranker();
    const error = await invalidArgumentOf(
      rerank({ model, query: 'q', documents: ['1'], maxDocumentsPerCall: 0 }),
    );
    expect(error.argument).toBe('maxDocumentsPerCall');
    expect(error.message).toBe('maxDocumentsPerCall must be a whole number ≥ 1, got 0.');
    expect(model.requests).toHaveLength(0);
    await rerank({ model, query: 'q', documents: ['1', '2'], maxDocumentsPerCall: 1, concurrency: 1 });
    expect(model.callDocuments).toEqual([['1'], ['2']]);
  });
});

describe('rerank checks the query and documents against the model’s token limits', () => {
  const limits = { maxTokensPerQuery: 5, maxTokensPerDocument: 10, maxTokensPerCall: 1000 };

  it('an exact count at the query limit passes; one over is refused, saying both numbers', async () => {
    const model = reranker(limits);
    await rerank({ model, query: 'abcde', documents: ['1'], tokenCounter: oneTokenPerCharacter(true) });
    expect(model.requests.map((request) => request.query)).toEqual(['abcde']);
    const error = await invalidArgumentOf(
      rerank({ model, query: 'abcdef', documents: ['1'], tokenCounter: oneTokenPerCharacter(true) }),
    );
    expect(error.argument).toBe('query');
    expect(error.message).toBe('The query has 6 tokens; rerank-co model rr-1 takes at most 5.');
    expect(model.requests).toHaveLength(1);
  });

  it('an estimated count never refuses a query', async () => {
    const model = reranker(limits);
    await rerank({ model, query: 'abcdefghij', documents: ['1'], tokenCounter: oneTokenPerCharacter(false) });
    expect(model.requests.map((request) => request.query)).toEqual(['abcdefghij']);
  });

  it('query plus document at the limit passes; one over is refused as that document, with the sum', async () => {
    const model = reranker(limits);
    // query 'abc' is 3 tokens: '1234567' makes 10, '12345678' makes 11
    await rerank({ model, query: 'abc', documents: ['1234567'], tokenCounter: oneTokenPerCharacter(true) });
    expect(model.callDocuments).toEqual([['1234567']]);
    const error = await invalidArgumentOf(
      rerank({
        model,
        query: 'abc',
        documents: ['1', '12345678'],
        tokenCounter: oneTokenPerCharacter(true),
      }),
    );
    expect(error.argument).toBe('documents[1]');
    expect(error.message).toBe(
      'The query and document 1 have 11 tokens together; rerank-co model rr-1 takes at most 10. Shorten the document or pass truncate: true.',
    );
    expect(model.requests).toHaveLength(1);
  });

  it('a document that is not a string is refused as that document', async () => {
    const model = reranker();
    const error = await invalidArgumentOf(rerank({ model, query: 'q', documents: ['1', 7 as never] }));
    expect(error.argument).toBe('documents[1]');
    expect(error.message).toBe(
      'Document 1 must be a non-empty string; reranking APIs reject empty documents.',
    );
    expect(model.requests).toHaveLength(0);
  });
});

describe('rerank sends exactly what the caller set', () => {
  it('without truncate or topN the request carries neither; with them it carries both', async () => {
    const model = reranker();
    await rerank({ model, query: 'q', documents: ['1', '2'], timeoutMs: 1234 });
    const plain = model.requests[0]!;
    expect(Object.keys(plain).sort()).toEqual(['documents', 'query', 'signal', 'timeoutMs']);
    expect(plain.timeoutMs).toBe(1234);
    await rerank({ model, query: 'q', documents: ['1', '2', '3'], topN: 1, truncate: true });
    const full = model.requests[1]!;
    expect(full.topN).toBe(1);
    expect(full.truncate).toBe(true);
  });

  it('asks each call for topN when it has more documents than that, and for all of them when not', async () => {
    const model = reranker({ maxDocumentsPerCall: 3 });
    const result = await rerank({
      model,
      query: 'q',
      documents: ['1', '9', '3', '4', '8'],
      topN: 2,
      concurrency: 1,
    });
    expect(model.requests.map((request) => request.topN)).toEqual([2, 2]);
    expect(result.results).toEqual([
      { index: 1, relevanceScore: 9, document: '9' },
      { index: 4, relevanceScore: 8, document: '8' },
    ]);
  });

  it('reports progress over all the documents of the job', async () => {
    const model = reranker({ maxDocumentsPerCall: 2 });
    const progress: unknown[] = [];
    await rerank({
      model,
      query: 'q',
      documents: ['1', '2', '3'],
      concurrency: 1,
      onProgress: (event) => progress.push(event),
    });
    expect(progress).toEqual([
      { completedInputs: 2, totalInputs: 3, inputTokens: 2 },
      { completedInputs: 3, totalInputs: 3, inputTokens: 3 },
    ]);
  });
});

describe('rerank names what is wrong with an answer', () => {
  it('no scores at all', async () => {
    const error = await invalidResponseOf(
      rerank({ model: answering(undefined), query: 'q', documents: ['1', '2'] }),
    );
    expect(error.message).toBe('rerank-co returned no scores; expected 2 for 2 documents of this call.');
  });

  it('too many scores for topN: the count asked for, of how many documents', async () => {
    const scores = [
      { index: 0, relevanceScore: 1 },
      { index: 1, relevanceScore: 0 },
    ];
    const error = await invalidResponseOf(
      rerank({ model: answering(scores), query: 'q', documents: ['1', '2', '3'], topN: 1 }),
    );
    expect(error.message).toBe('rerank-co returned 2 scores; expected 1 for 3 documents of this call.');
  });

  it('a topN above the documents expects one score per document', async () => {
    const error = await invalidResponseOf(
      rerank({
        model: answering([{ index: 0, relevanceScore: 1 }]),
        query: 'q',
        documents: ['1', '2'],
        topN: 5,
      }),
    );
    expect(error.message).toBe('rerank-co returned 1 scores; expected 2 for 2 documents of this call.');
  });

  it('an index twice, with topN: of how many documents', async () => {
    const scores = [
      { index: 2, relevanceScore: 1 },
      { index: 2, relevanceScore: 0 },
    ];
    const error = await invalidResponseOf(
      rerank({ model: answering(scores), query: 'q', documents: ['1', '2', '3'], topN: 2 }),
    );
    expect(error.message).toBe('rerank-co returned a score for document index 2, twice for 3 documents.');
  });

  it.each([
    [-1, '-1'],
    ['secret', 'a string of 6 characters'],
  ])('an index %s is out of range, named by its kind', async (index, described) => {
    const scores = [
      { index: 0, relevanceScore: 1 },
      { index, relevanceScore: 0 },
    ];
    const error = await invalidResponseOf(
      rerank({ model: answering(scores), query: 'q', documents: ['1', '2', '3'], topN: 2 }),
    );
    expect(error.message).toBe(
      `rerank-co returned a score for document index ${described}, out of range for 3 documents of this call.`,
    );
  });

  it('an infinite score is not a finite number', async () => {
    const scores = [
      { index: 0, relevanceScore: Number.POSITIVE_INFINITY },
      { index: 1, relevanceScore: 0 },
    ];
    const error = await invalidResponseOf(
      rerank({ model: answering(scores), query: 'q', documents: ['1', '2'] }),
    );
    expect(error.message).toBe('rerank-co returned the score Infinity for document 0, not a finite number.');
  });

  it('a bad score in a later call names the document’s place in the whole job', async () => {
    const model = reranker({ maxDocumentsPerCall: 2 }, (_request, call) =>
      call === 2
        ? {
            results: [{ index: 0, relevanceScore: Number.NaN }],
            warnings: [],
            response: { status: 200, headers: {} },
          }
        : undefined,
    );
    const error = await invalidResponseOf(
      rerank({ model, query: 'q', documents: ['1', '2', '3'], concurrency: 1 }),
    );
    expect(error.message).toBe(
      'rerank-co returned the score NaN for document 0 (document 2 of the whole job), not a finite number.',
    );
  });
});

/** A contextualized model answering `vectorFor(chunk)` for every chunk; `respond` can replace an answer. */
class ContextModel implements ContextualizedEmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'ctx';
  readonly modelId = 'ctx-1';
  readonly capabilities: EmbeddingCapabilities = {
    ...BASE_CAPABILITIES,
    outputTypes: ['float', 'int8'],
    dimensions: { min: 1, max: 2 },
  };
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  readonly requests: ContextualizedEmbedRequest[] = [];

  constructor(
    limits: Partial<ContextualizedCapabilities> = {},
    private readonly respond?: (
      request: ContextualizedEmbedRequest,
      call: number,
    ) => Partial<ContextualizedEmbedResponse> | undefined,
  ) {
    this.contextualizedCapabilities = { maxDocumentsPerCall: 100, ...limits };
  }

  async doEmbed(): Promise<EmbedResponse> {
    throw new Error('not used');
  }

  async doEmbedContextualized(request: ContextualizedEmbedRequest): Promise<ContextualizedEmbedResponse> {
    this.requests.push(request);
    const base: ContextualizedEmbedResponse = {
      embeddings: request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk))),
      usage: { inputTokens: 1 },
      warnings: [],
      response: { status: 200, headers: {} },
    };
    const custom = this.respond?.(request, this.requests.length);
    return custom === undefined ? base : { ...base, ...custom };
  }

  get documentsSent(): string[][][] {
    return this.requests.map((request) => request.documents);
  }
}

describe('isContextualizedEmbeddingModel', () => {
  const doEmbedContextualized = async () => ({});
  it.each([
    [
      'a function carrying the fields',
      Object.assign(() => undefined, {
        specificationVersion: 'v1',
        doEmbedContextualized,
        contextualizedCapabilities: {},
      }),
    ],
    [
      'another specification version',
      { specificationVersion: 'v2', doEmbedContextualized, contextualizedCapabilities: {} },
    ],
    [
      'doEmbedContextualized that is not a function',
      { specificationVersion: 'v1', doEmbedContextualized: 'yes', contextualizedCapabilities: {} },
    ],
  ])('is false for %s', (_label, candidate) => {
    expect(isContextualizedEmbeddingModel(candidate)).toBe(false);
  });
});

describe('embedContextualized refuses bad settings and documents before any call, naming them', () => {
  it.each([
    ['maxDocumentsPerCall', { maxDocumentsPerCall: 0 }],
    ['maxChunksPerCall', { maxChunksPerCall: 0 }],
  ])('%s 0 is refused as itself', async (name, setting) => {
    const model = new ContextModel();
    const error = await invalidArgumentOf(embedContextualized({ model, documents: [['1']], ...setting }));
    expect(error.argument).toBe(name);
    expect(error.message).toBe(`${name} must be a whole number ≥ 1, got 0.`);
    expect(model.requests).toHaveLength(0);
  });

  it('documents that are not an array are refused as documents', async () => {
    const model = new ContextModel();
    const error = await invalidArgumentOf(embedContextualized({ model, documents: 'ab' as never }));
    expect(error.argument).toBe('documents');
    expect(error.message).toBe('documents must be an array of documents, each an array of chunk strings.');
    expect(model.requests).toHaveLength(0);
  });

  it('an empty document is refused with its index in the message', async () => {
    const model = new ContextModel();
    const error = await invalidArgumentOf(embedContextualized({ model, documents: [['1'], []] }));
    expect(error.argument).toBe('documents[1]');
    expect(error.message).toBe('Document 1 must be a non-empty array of chunk strings.');
  });

  it('an empty chunk is refused naming its position and its document', async () => {
    const model = new ContextModel();
    const error = await invalidArgumentOf(embedContextualized({ model, documents: [['1'], ['2', '3', '']] }));
    expect(error.argument).toBe('documents[1][2]');
    expect(error.message).toBe(
      'Chunk 2 of document 1 must be a non-empty string; embedding APIs reject empty inputs.',
    );
    expect(model.requests).toHaveLength(0);
  });

  it('a document at the chunk limit passes; one over is refused, saying both numbers', async () => {
    const model = new ContextModel({ maxChunksPerCall: 2 });
    await embedContextualized({ model, documents: [['1', '2']] });
    expect(model.documentsSent).toEqual([[['1', '2']]]);
    const error = await invalidArgumentOf(
      embedContextualized({ model, documents: [['1'], ['1', '2', '3']] }),
    );
    expect(error.argument).toBe('documents[1]');
    expect(error.message).toBe(
      'Document 1 has 3 chunks; ctx model ctx-1 takes at most 2 chunks per call and a document cannot be split across calls. Use fewer, larger chunks.',
    );
    expect(model.requests).toHaveLength(1);
  });

  it('a smaller maxChunksPerCall or maxDocumentsPerCall setting wins over the model’s, and 1 is allowed', async () => {
    const chunks = new ContextModel({ maxChunksPerCall: 4 });
    await embedContextualized({ model: chunks, documents: [['1'], ['2'], ['3']], maxChunksPerCall: 2 });
    expect(chunks.documentsSent).toEqual([[['1'], ['2']], [['3']]]);
    const one = new ContextModel();
    await embedContextualized({ model: one, documents: [['1'], ['2']], maxChunksPerCall: 1 });
    expect(one.documentsSent).toEqual([[['1']], [['2']]]);
    const documents = new ContextModel();
    await embedContextualized({ model: documents, documents: [['1'], ['2'], ['3']], maxDocumentsPerCall: 2 });
    expect(documents.documentsSent).toEqual([[['1'], ['2']], [['3']]]);
  });

  it('a document at its token limit passes; one over is refused, saying both numbers', async () => {
    const model = new ContextModel({ maxTokensPerDocument: 4, maxTokensPerCall: 1000 });
    const tokenCounter = oneTokenPerCharacter(true);
    await embedContextualized({ model, documents: [['1a', '2b']], tokenCounter });
    expect(model.documentsSent).toEqual([[['1a', '2b']]]);
    const error = await invalidArgumentOf(
      embedContextualized({ model, documents: [['1'], ['1a', '2bc']], tokenCounter }),
    );
    expect(error.argument).toBe('documents[1]');
    expect(error.message).toBe(
      'Document 1 has 5 tokens; ctx model ctx-1 takes at most 4 per document. Split it into several documents.',
    );
    expect(model.requests).toHaveLength(1);
  });

  it('an estimated count never refuses a document', async () => {
    const model = new ContextModel({ maxTokensPerDocument: 4 });
    await embedContextualized({
      model,
      documents: [['1abcdef', '2abcdef']],
      tokenCounter: oneTokenPerCharacter(false),
    });
    expect(model.documentsSent).toEqual([[['1abcdef', '2abcdef']]]);
  });
});

describe('embedContextualized sends exactly what the caller set', () => {
  it('every call, and the whole-job check before them, gets the documents and the settings', async () => {
    const checked: ContextualizedEmbedRequest[] = [];
    const int8 = (request: ContextualizedEmbedRequest) => ({
      embeddings: request.documents.map((chunks) => chunks.map(() => Int8Array.of(1, 2))),
    });
    const model = Object.assign(new ContextModel({ maxDocumentsPerCall: 1 }, int8), {
      checkContextualizedRequest: (request: ContextualizedEmbedRequest) => {
        checked.push(request);
      },
    });
    const settings = {
      inputType: 'query' as const,
      outputType: 'int8' as const,
      dimensions: 2,
      headers: { 'x-a': '1' },
      providerOptions: { ctx: { late: true } },
    };
    const result = await embedContextualized({
      model,
      documents: [['1'], ['2', '3']],
      timeoutMs: 4321,
      concurrency: 1,
      ...settings,
    });
    expect(result.embeddings).toEqual([[Int8Array.of(1, 2)], [Int8Array.of(1, 2), Int8Array.of(1, 2)]]);
    expect(checked).toEqual([{ documents: [['1'], ['2', '3']], ...settings }]);
    expect(model.requests[0]).toEqual({
      documents: [['1']],
      ...settings,
      signal: model.requests[0]!.signal,
      timeoutMs: 4321,
    });
    expect(model.requests[0]!.signal).toBeInstanceOf(AbortSignal);
  });

  it('a whole-job check that refuses stops the job before any call', async () => {
    const refusal = new InvalidArgumentError('document 2 is too long (document 2 of the whole job)', {
      argument: 'documents[2]',
    });
    const model = Object.assign(new ContextModel({ maxDocumentsPerCall: 1 }), {
      checkContextualizedRequest: (request: ContextualizedEmbedRequest) => {
        if (request.documents.length > 2) throw refusal;
      },
    });
    await expect(embedContextualized({ model, documents: [['1'], ['2'], ['3']] })).rejects.toBe(refusal);
    expect(model.requests).toHaveLength(0);
  });

  it('float vectors send no outputType; the provider gets its own copies of the chunk lists', async () => {
    const model = new ContextModel({}, (request) => {
      const embeddings = request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk)));
      for (const chunks of request.documents) chunks.splice(0);
      return { embeddings };
    });
    const documents = [['1', '2']];
    const result = await embedContextualized({ model, documents });
    expect('outputType' in model.requests[0]!).toBe(false);
    expect(documents).toEqual([['1', '2']]);
    expect(result.embeddings).toEqual([[vectorFor('1'), vectorFor('2')]]);
  });

  it('reports progress over all the documents of the job', async () => {
    const model = new ContextModel({ maxDocumentsPerCall: 2 });
    const progress: unknown[] = [];
    await embedContextualized({
      model,
      documents: [['1'], ['2'], ['3']],
      concurrency: 1,
      onProgress: (event) => progress.push(event),
    });
    expect(progress).toEqual([
      { completedInputs: 2, totalInputs: 3, inputTokens: 1 },
      { completedInputs: 3, totalInputs: 3, inputTokens: 2 },
    ]);
  });
});

describe('embedContextualized holds vectors to the requested or default length', () => {
  it('dimensions 1 expects vectors of 1 value', async () => {
    const model = new ContextModel({}, (request) => ({
      embeddings: request.documents.map((chunks) => chunks.map(() => Float32Array.of(7))),
    }));
    const result = await embedContextualized({ model, documents: [['1', '2']], dimensions: 1 });
    expect(result.embeddings).toEqual([[Float32Array.of(7), Float32Array.of(7)]]);
  });

  it('vectors that all miss the default length are refused', async () => {
    const model = new ContextModel({}, (request) => ({
      embeddings: request.documents.map((chunks) => chunks.map(() => Float32Array.of(1, 2, 3))),
    }));
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['1', '2']] }));
    expect(error.message).toBe('ctx returned chunk 0 of document 0 with 3 values; expected 2.');
  });

  it('without a stated length, a later document of the same call must match the first', async () => {
    const model = new ContextModel({}, (request) => ({
      embeddings: request.documents.map((chunks, index) =>
        chunks.map(() => (index === 0 ? Float32Array.of(1, 2) : Float32Array.of(1, 2, 3))),
      ),
    }));
    Object.assign(model.capabilities, { defaultDimensions: undefined });
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['1'], ['2']] }));
    expect(error.message).toBe('ctx returned chunk 0 of document 1 with 3 values; expected 2.');
  });
});

describe('embedContextualized names what is wrong with an answer', () => {
  it('more documents of vectors than documents sent', async () => {
    const model = new ContextModel({}, () => ({
      embeddings: [[vectorFor('1')], [vectorFor('2')], [vectorFor('3')]],
    }));
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['1'], ['2']] }));
    expect(error.message).toBe('ctx returned 3 documents of vectors for 2 documents of this call.');
  });

  it.each([
    [
      'chunk texts for more documents',
      [['a'], ['b']],
      'ctx returned chunk texts for 2 documents, not 1 of this call.',
    ],
    [
      'chunk texts that are not an array',
      'a',
      'ctx returned chunk texts for no documents, not 1 of this call.',
    ],
  ])('%s', async (_label, chunks, message) => {
    const model = new ContextModel({}, () => ({
      embeddings: [[vectorFor('1')]],
      chunks: chunks as string[][],
    }));
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['1']] }));
    expect(error.message).toBe(message);
  });

  it.each([
    [
      'more vectors than chunks',
      [[vectorFor('1'), vectorFor('2'), vectorFor('3')]],
      undefined,
      'ctx returned 3 vectors for the 2 chunks of document 0.',
    ],
    [
      'vectors that are not an array',
      ['ab'],
      undefined,
      'ctx returned no vectors for the 2 chunks of document 0.',
    ],
    [
      'no chunks and no vectors for a document',
      [[]],
      [[]],
      'ctx returned 0 vectors for the 0 chunks of document 0.',
    ],
  ])('%s', async (_label, embeddings, chunks, message) => {
    const model = new ContextModel({}, () => ({
      embeddings: embeddings as Float32Array[][],
      ...(chunks === undefined ? {} : { chunks: chunks as string[][] }),
    }));
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['1', '2']] }));
    expect(error.message).toBe(message);
  });

  it('a wrong vector count in a later call names the document’s place in the whole job', async () => {
    const model = new ContextModel({ maxDocumentsPerCall: 1 }, (_request, call) =>
      call === 2 ? { embeddings: [[vectorFor('2')]] } : undefined,
    );
    const error = await invalidResponseOf(
      embedContextualized({ model, documents: [['1'], ['2', '3']], concurrency: 1 }),
    );
    expect(error.message).toBe('ctx returned 1 vector for the 2 chunks of document 1.');
  });
});

describe('embedContextualized puts the provider’s chunk texts back by document', () => {
  const chunking = (request: ContextualizedEmbedRequest) => ({
    embeddings: request.documents.map((chunks) => [vectorFor(chunks[0])]),
    chunks: request.documents.map((chunks) => [`${chunks[0]} whole`]),
  });

  it('over several calls, each document gets its own texts', async () => {
    const model = new ContextModel({ maxDocumentsPerCall: 1 }, chunking);
    const result = await embedContextualized({ model, documents: [['1'], ['2'], ['3']], concurrency: 1 });
    expect(result.chunks).toEqual([['1 whole'], ['2 whole'], ['3 whole']]);
    expect(result.embeddings).toEqual([[vectorFor('1')], [vectorFor('2')], [vectorFor('3')]]);
  });

  it('over the halves of a bisected call, in document order', async () => {
    const model = new ContextModel({}, (request) => {
      if (request.documents.length > 1) throw new InvalidRequestError('too large', { batchTooLarge: true });
      return chunking(request);
    });
    const result = await embedContextualized({ model, documents: [['1'], ['2']] });
    expect(result.chunks).toEqual([['1 whole'], ['2 whole']]);
  });

  it('when one half of a bisected call came back unchunked, its document keeps its given chunks', async () => {
    const model = new ContextModel({}, (request, call) => {
      if (request.documents.length > 1) throw new InvalidRequestError('too large', { batchTooLarge: true });
      return call === 2 ? chunking(request) : undefined;
    });
    const result = await embedContextualized({ model, documents: [['1'], ['2']] });
    expect(result.chunks).toEqual([['1 whole'], ['2']]);
    expect(result.embeddings).toEqual([[vectorFor('1')], [vectorFor('2')]]);
  });

  it('no documents: no call and no chunk texts', async () => {
    const model = new ContextModel({}, chunking);
    const result = await embedContextualized({ model, documents: [] });
    expect(result).toEqual({ embeddings: [], warnings: [], responses: [] });
    expect(model.requests).toHaveLength(0);
  });
});

describe('a later call whose answer is wrong as a whole names its documents in the whole job', () => {
  const documents = ['1', '2', '3', '4', '5'];
  const secondCallAnswers = (results: RerankScore[]) =>
    reranker({ maxDocumentsPerCall: 2 }, (_request, call) =>
      call === 2 ? { results, warnings: [], response: { status: 200, headers: {} } } : undefined,
    );

  it('rerank: too few scores for the second call', async () => {
    const model = secondCallAnswers([{ index: 0, relevanceScore: 1 }]);
    const error = await invalidResponseOf(rerank({ model, query: 'q', documents, concurrency: 1 }));
    expect(error.message).toBe(
      'rerank-co returned 1 scores; expected 2 for 2 documents of this call (documents 2 to 3 of the whole job).',
    );
  });

  it('rerank: an index out of range of the second call', async () => {
    const model = secondCallAnswers([
      { index: 0, relevanceScore: 1 },
      { index: 2, relevanceScore: 0 },
    ]);
    const error = await invalidResponseOf(rerank({ model, query: 'q', documents, concurrency: 1 }));
    expect(error.message).toBe(
      'rerank-co returned a score for document index 2, out of range for 2 documents of this call (documents 2 to 3 of the whole job).',
    );
  });

  it('rerank: the last call of one document', async () => {
    const model = reranker({ maxDocumentsPerCall: 2 }, (_request, call) =>
      call === 3 ? { results: [], warnings: [], response: { status: 200, headers: {} } } : undefined,
    );
    const error = await invalidResponseOf(rerank({ model, query: 'q', documents, concurrency: 1 }));
    expect(error.message).toBe(
      'rerank-co returned 0 scores; expected 1 for 1 documents of this call (document 4 of the whole job).',
    );
  });

  it('embedContextualized: too few documents of vectors for the second call', async () => {
    const model = new ContextModel({ maxDocumentsPerCall: 2 }, (request, call) =>
      call === 2 ? { embeddings: [[vectorFor(request.documents[0]![0]!)]] } : undefined,
    );
    const error = await invalidResponseOf(
      embedContextualized({ model, documents: [['1'], ['2'], ['3'], ['4']], concurrency: 1 }),
    );
    expect(error.message).toBe(
      'ctx returned 1 document of vectors for 2 documents of this call (documents 2 to 3 of the whole job).',
    );
  });

  it('embedContextualized: chunk texts for too many documents in the second call', async () => {
    const model = new ContextModel({ maxDocumentsPerCall: 2 }, (request, call) =>
      call === 2
        ? {
            embeddings: request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk))),
            chunks: [['3'], ['4'], ['5']],
          }
        : undefined,
    );
    const error = await invalidResponseOf(
      embedContextualized({ model, documents: [['1'], ['2'], ['3'], ['4']], concurrency: 1 }),
    );
    expect(error.message).toBe(
      'ctx returned chunk texts for 3 documents, not 2 of this call (documents 2 to 3 of the whole job).',
    );
  });
});

describe('a provider refusing an answer by a place "of this call" is told which call', () => {
  const refusing = () =>
    new ContextModel({ maxDocumentsPerCall: 2 }, () => {
      throw new InvalidResponseError('ctx returned chunk index 0 twice for document 0 of this call.', {
        provider: 'ctx',
        statusCode: 200,
        requestId: 'req-9',
      });
    });

  it('a later call: its documents in the whole job, every other detail as it was', async () => {
    const model = refusing();
    let calls = 0;
    const original = model.doEmbedContextualized.bind(model);
    model.doEmbedContextualized = async (request) => {
      calls++;
      if (calls === 1) {
        return {
          embeddings: request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk))),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      }
      // Its stack read before the engine sees the error, as a model that logs what it throws reads it.
      return original(request).catch((refused: Error) => {
        void refused.stack;
        throw refused;
      });
    };
    const error = await invalidResponseOf(
      embedContextualized({ model, documents: [['1'], ['2'], ['3']], concurrency: 1, maxRetries: 0 }),
    );
    expect(error).toMatchObject({
      message: 'ctx returned chunk index 0 twice for document 0 of this call (document 2 of the whole job).',
      provider: 'ctx',
      statusCode: 200,
      requestId: 'req-9',
      isRetryable: false,
    });
    // The stack says it too (what a debugging user, or the CLI's `EMBEDKIT_DEBUG`, prints), though it was
    // read before the note was added.
    expect(error.stack?.split('\n')[0]).toBe(`InvalidResponseError: ${error.message}`);
  });

  it('the first call: its places are the job’s, the message as it was', async () => {
    const error = await invalidResponseOf(
      embedContextualized({ model: refusing(), documents: [['1'], ['2'], ['3']], concurrency: 1 }),
    );
    expect(error.message).toBe('ctx returned chunk index 0 twice for document 0 of this call.');
  });
});
