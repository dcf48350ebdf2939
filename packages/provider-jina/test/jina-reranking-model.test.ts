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

  it('declares its limits; an unknown reranker gets the same', () => {
    expect(JINA_RERANKING_MODELS['jina-reranker-v3']).toEqual({
      maxDocumentsPerCall: 1000,
      supportsParallelCalls: true,
    });
    expect(createJina({ apiKey: TEST_KEY }).reranking('jina-reranker-v9').capabilities).toEqual({
      maxDocumentsPerCall: 1000,
      supportsParallelCalls: true,
    });
  });
});
