import { rerank } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createJina, JINA_RERANKING_MODELS } from '../src/index.js';
import { fakeFetch, TEST_KEY } from './helpers.js';

const documents = [
  'Organic skincare for sensitive skin with aloe vera and chamomile.',
  'New makeup trends focus on bold colors.',
  'Bio-Hautpflege für empfindliche Haut mit Aloe Vera und Kamille.',
];

const rerankBody = {
  model: 'jina-reranker-v3',
  object: 'list',
  usage: { total_tokens: 815 },
  results: [
    { index: 0, relevance_score: 0.875, document: null },
    { index: 2, relevance_score: 0.75 },
  ],
};

describe('jina rerank', () => {
  it('posts model, query, documents, top_n, return_documents false and truncation; returns documents by score', async () => {
    const server = fakeFetch([{ body: rerankBody }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    const result = await rerank({
      model,
      query: 'Organic skincare products for sensitive skin',
      documents,
      topN: 2,
    });
    expect(server.requests[0]!.url).toBe('https://api.jina.ai/v1/rerank');
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-reranker-v3',
      query: 'Organic skincare products for sensitive skin',
      documents,
      top_n: 2,
      return_documents: false,
      truncation: false,
    });
    expect(result.results).toEqual([
      { index: 0, relevanceScore: 0.875, document: documents[0] },
      { index: 2, relevanceScore: 0.75, document: documents[2] },
    ]);
    expect(result.usage).toEqual({ inputTokens: 815 });
  });

  it('asks for truncation only when truncate is true, and sends max_doc_length for v3', async () => {
    const server = fakeFetch([{ body: { ...rerankBody, results: rerankBody.results.slice(0, 1) } }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    await rerank({
      model,
      query: 'q',
      documents,
      topN: 1,
      truncate: true,
      providerOptions: { jina: { maxDocumentLength: 512 } },
    });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-reranker-v3',
      query: 'q',
      documents,
      top_n: 1,
      return_documents: false,
      truncation: true,
      max_doc_length: 512,
    });
  });

  it('rejects max_doc_length on other rerankers and unknown options, before any request', async () => {
    const server = fakeFetch([]);
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    await expect(
      rerank({
        model: jina.reranking('jina-reranker-v2-base-multilingual'),
        query: 'q',
        documents,
        providerOptions: { jina: { maxDocumentLength: 512 } },
      }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina.maxDocumentLength',
    });
    await expect(
      rerank({
        model: jina.reranking('jina-reranker-v3'),
        query: 'q',
        documents,
        providerOptions: { jina: { maxDocumentLength: 9000 } },
      }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina' });
    expect(server.requests).toEqual([]);
  });

  it('an insufficient balance stops the rerank at once', async () => {
    const server = fakeFetch([
      {
        status: 403,
        body: {
          detail: 'Insufficient account balance.',
          code: 'AUTHZ_INSUFFICIENT_BALANCE',
          request_id: 'r-1',
        },
      },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    await expect(rerank({ model, query: 'q', documents, maxRetries: 3 })).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      isRetryable: false,
      requestId: 'r-1',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('declares its limits; an unknown reranker gets the same, as a pointwise model', () => {
    // The spec's RerankerV3Request: "Reranker v3 listwise model"; its scores do not compare across calls.
    expect(JINA_RERANKING_MODELS['jina-reranker-v3']).toEqual({
      maxDocumentsPerCall: 1000,
      supportsParallelCalls: true,
      scoresCompareAcrossCalls: false,
    });
    expect(JINA_RERANKING_MODELS['jina-reranker-v2-base-multilingual']).toEqual({
      maxDocumentsPerCall: 1000,
      supportsParallelCalls: true,
    });
    expect(createJina({ apiKey: TEST_KEY }).reranking('jina-reranker-v9').capabilities).toEqual({
      maxDocumentsPerCall: 1000,
      supportsParallelCalls: true,
    });
  });

  it('refuses to split a jina-reranker-v3 job before any request; mergeScoresAcrossCalls: true splits it', async () => {
    const many = Array.from({ length: 1001 }, (_, index) => `document ${index}`);
    const refused = fakeFetch([]);
    const v3 = createJina({ apiKey: TEST_KEY, fetch: refused.fetch }).reranking('jina-reranker-v3');
    const error = await rerank({ model: v3, query: 'q', documents: many }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: 'InvalidArgumentError',
      code: 'invalid_argument',
      argument: 'documents',
    });
    expect((error as Error).message).toBe(
      'jina model jina-reranker-v3 is listwise: its scores rank the documents of one call against each other and do not compare across calls, so merging calls by score would give a wrong order. The 1001 documents need 2 calls: the model takes at most 1000 documents per call. Rerank fewer documents (e.g. fewer first-stage candidates), or pass mergeScoresAcrossCalls: true to split them and merge by score anyway.',
    );
    expect(refused.requests).toEqual([]);

    const answer = (count: number) => ({
      ...rerankBody,
      results: [{ index: count - 1, relevance_score: count / 1000 }],
    });
    const merged = fakeFetch([{ body: answer(1000) }, { body: answer(1) }]);
    const opted = createJina({ apiKey: TEST_KEY, fetch: merged.fetch }).reranking('jina-reranker-v3');
    const result = await rerank({
      model: opted,
      query: 'q',
      documents: many,
      topN: 1,
      concurrency: 1,
      mergeScoresAcrossCalls: true,
    });
    expect(
      merged.requests.map((request) => (request.body as { documents: string[] }).documents.length),
    ).toEqual([1000, 1]);
    expect(result.results).toEqual([{ index: 999, relevanceScore: 1, document: 'document 999' }]);
  });

  it('splits a pointwise reranker’s job (jina-reranker-v2-base-multilingual) without any opt-in', async () => {
    const many = Array.from({ length: 1001 }, (_, index) => `document ${index}`);
    const server = fakeFetch([
      { body: { ...rerankBody, results: [{ index: 5, relevance_score: 0.5 }] } },
      { body: { ...rerankBody, results: [{ index: 0, relevance_score: 0.75 }] } },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking(
      'jina-reranker-v2-base-multilingual',
    );
    const result = await rerank({ model, query: 'q', documents: many, topN: 1, concurrency: 1 });
    expect(server.requests).toHaveLength(2);
    expect(result.results).toEqual([{ index: 1000, relevanceScore: 0.75, document: 'document 1000' }]);
  });
});
