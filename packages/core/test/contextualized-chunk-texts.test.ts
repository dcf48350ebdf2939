/**
 * The chunk texts a contextualized provider returns when it chunked the documents itself: each document's
 * must be a list of strings, one per vector, or the answer is an `InvalidResponseError` naming the
 * document by its place in the whole job, as for its vectors; and a job whose calls answered differently
 * (one with the texts of the chunks the provider made, another without) carries the chunk texts of every
 * document, so that no text the provider gave is lost.
 */
import { describe, expect, it } from 'vitest';
import {
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  embedContextualized,
} from '../src/contextualized.js';
import type { EmbeddingCapabilities, EmbedResponse } from '../src/types.js';
import { BASE_CAPABILITIES, invalidResponseOf, vectorFor } from './helpers.js';

/** A model that chunks each document into two texts itself; `texts` replaces a call's chunk texts. */
class ChunkingModel implements ContextualizedEmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'ctx';
  readonly modelId = 'ctx-1';
  readonly capabilities: EmbeddingCapabilities = { ...BASE_CAPABILITIES, dimensions: { min: 1, max: 2 } };
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  calls = 0;

  constructor(
    limits: Partial<ContextualizedCapabilities>,
    private readonly texts: (request: ContextualizedEmbedRequest, call: number) => unknown,
  ) {
    this.contextualizedCapabilities = { maxDocumentsPerCall: 100, ...limits };
  }

  async doEmbed(): Promise<EmbedResponse> {
    throw new Error('not used');
  }

  async doEmbedContextualized(request: ContextualizedEmbedRequest): Promise<ContextualizedEmbedResponse> {
    this.calls += 1;
    return {
      embeddings: request.documents.map(() => [vectorFor('1'), vectorFor('2')]),
      chunks: this.texts(request, this.calls) as string[][],
      warnings: [],
      response: { status: 200, headers: {}, requestId: 'req-7' },
    };
  }
}

/**
 * A model that splits a document of one chunk longer than ten characters in two halves and says so with
 * the halves' texts; a call whose documents it left alone answers without chunk texts.
 */
class SometimesChunkingModel extends ChunkingModel {
  constructor() {
    super({ maxDocumentsPerCall: 1 }, () => undefined);
  }

  override async doEmbedContextualized(
    request: ContextualizedEmbedRequest,
  ): Promise<ContextualizedEmbedResponse> {
    this.calls += 1;
    const split = request.documents.map((chunks) =>
      chunks.length === 1 && chunks[0]!.length > 10
        ? [chunks[0]!.slice(0, 5), chunks[0]!.slice(5)]
        : undefined,
    );
    const chunked = split.some((texts) => texts !== undefined);
    const answer: ContextualizedEmbedResponse = {
      embeddings: request.documents.map((chunks, index) =>
        (split[index] ?? chunks).map((_, position) => vectorFor(String(position + 1))),
      ),
      warnings: [],
      response: { status: 200, headers: {}, requestId: `req-${this.calls}` },
    };
    if (chunked) answer.chunks = request.documents.map((chunks, index) => split[index] ?? [...chunks]);
    return answer;
  }
}

describe('embedContextualized checks the chunk texts it hands back', () => {
  it.each([
    ['null', null, 'ctx returned the chunk texts of document 1 as null, not a list of strings.'],
    [
      'a string as long as the vector count',
      'ab',
      'ctx returned the chunk texts of document 1 as a string of 2 characters, not a list of strings.',
    ],
    [
      'an object with a length',
      { length: 2 },
      'ctx returned the chunk texts of document 1 as a value of type object, not a list of strings.',
    ],
    [
      'a list holding a number',
      ['first half', 2],
      'ctx returned the text of chunk 1 of document 1 as 2, not a string.',
    ],
    [
      'a list holding null',
      [null, 'second half'],
      'ctx returned the text of chunk 0 of document 1 as null, not a string.',
    ],
  ])('%s for a document is an InvalidResponseError naming it', async (_label, bad, message) => {
    const model = new ChunkingModel({}, (request) =>
      request.documents.map((_, index) => (index === 1 ? bad : ['first half', 'second half'])),
    );
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['a'], ['b'], ['c']] }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(message);
    expect(error.statusCode).toBe(200);
    expect(error.requestId).toBe('req-7');
    expect(model.calls).toBe(1);
  });

  it('names the document by its place in the whole job when a later call sends it', async () => {
    const model = new ChunkingModel({ maxDocumentsPerCall: 1 }, (_request, call) =>
      call === 3 ? [undefined] : [['first half', 'second half']],
    );
    const error = await invalidResponseOf(
      embedContextualized({ model, documents: [['a'], ['b'], ['c']], concurrency: 1 }),
    );
    expect(error.message).toBe(
      'ctx returned the chunk texts of document 2 as nothing, not a list of strings.',
    );
  });

  it('chunk texts of another length than the vectors are still refused by their count', async () => {
    const model = new ChunkingModel({}, (request) => request.documents.map(() => ['only text']));
    const error = await invalidResponseOf(embedContextualized({ model, documents: [['a']] }));
    expect(error.message).toBe('ctx returned 2 vectors for the 1 chunk of document 0.');
  });

  it('lists of strings, one per vector, reach the caller as they are', async () => {
    const model = new ChunkingModel({}, (request) =>
      request.documents.map(([text]) => [`${text} first`, `${text} second`]),
    );
    const result = await embedContextualized({ model, documents: [['a'], ['b']] });
    expect(result.chunks).toEqual([
      ['a first', 'a second'],
      ['b first', 'b second'],
    ]);
    expect(result.embeddings).toEqual([
      [vectorFor('1'), vectorFor('2')],
      [vectorFor('1'), vectorFor('2')],
    ]);
  });
});

describe('embedContextualized keeps chunk texts when only some calls answered with them', () => {
  it('gives every document its chunk texts, the given chunks where its call answered without texts', async () => {
    const model = new SometimesChunkingModel();
    const result = await embedContextualized({
      model,
      documents: [['short', 'tiny'], ['a long document'], ['brief']],
    });
    expect(model.calls).toBe(3);
    expect(result.chunks).toEqual([['short', 'tiny'], ['a lon', 'g document'], ['brief']]);
    expect(result.embeddings.map((vectors) => vectors.length)).toEqual([2, 2, 1]);
    expect(result.warnings).toEqual([]);
  });

  it('carries no chunk texts when no call answered with them', async () => {
    const model = new SometimesChunkingModel();
    const result = await embedContextualized({ model, documents: [['short', 'tiny'], ['brief']] });
    expect(model.calls).toBe(2);
    expect(result.chunks).toBeUndefined();
    expect(Object.hasOwn(result, 'chunks')).toBe(false);
  });

  it('carries the chunk texts when every call answered with them', async () => {
    const model = new SometimesChunkingModel();
    const result = await embedContextualized({
      model,
      documents: [['a long document'], ['another long one']],
    });
    expect(result.chunks).toEqual([
      ['a lon', 'g document'],
      ['anoth', 'er long one'],
    ]);
  });
});
