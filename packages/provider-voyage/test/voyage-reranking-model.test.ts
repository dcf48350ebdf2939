import { rerank } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createVoyage, VOYAGE_RERANKING_MODELS } from '../src/index.js';
import { fakeFetch, TEST_KEY } from './helpers.js';

const documents = [
  'The Mediterranean diet emphasizes fish, olive oil, and vegetables.',
  'Photosynthesis in plants converts light energy into glucose.',
  'Apple’s conference call to discuss fourth fiscal quarter results is scheduled for Thursday.',
];

const rerankBody = {
  object: 'list',
  data: [
    { index: 2, relevance_score: 0.9140625 },
    { index: 0, relevance_score: 0.2109375 },
  ],
  model: 'rerank-2.5',
  usage: { total_tokens: 64 },
};

describe('voyage rerank', () => {
  it('posts query, documents, top_k and truncation; returns documents sorted by score', async () => {
    const server = fakeFetch([{ body: rerankBody }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('rerank-2.5');
    const result = await rerank({ model, query: 'When is Apple’s conference call?', documents, topN: 2 });
    expect(server.requests[0]!.url).toBe('https://api.voyageai.com/v1/rerank');
    expect(server.requests[0]!.body).toEqual({
      query: 'When is Apple’s conference call?',
      documents,
      model: 'rerank-2.5',
      top_k: 2,
      truncation: false,
    });
    expect(result.results).toEqual([
      { index: 2, relevanceScore: 0.9140625, document: documents[2] },
      { index: 0, relevanceScore: 0.2109375, document: documents[0] },
    ]);
    expect(result.usage).toEqual({ inputTokens: 64 });
  });

  it('asks the API to truncate only when truncate is true', async () => {
    const server = fakeFetch([{ body: { ...rerankBody, data: rerankBody.data.slice(0, 1) } }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('rerank-2.5-lite');
    await rerank({ model, query: 'q', documents, topN: 1, truncate: true });
    expect(server.requests[0]!.body).toMatchObject({ truncation: true, top_k: 1, model: 'rerank-2.5-lite' });
  });

  it('maps a 401 to AuthenticationError without retrying', async () => {
    const server = fakeFetch([{ status: 401, body: { detail: 'Provided API key is invalid.' } }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('rerank-2.5');
    await expect(rerank({ model, query: 'q', documents })).rejects.toMatchObject({
      name: 'AuthenticationError',
      statusCode: 401,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('declares the documented limits per model', () => {
    expect(VOYAGE_RERANKING_MODELS['rerank-2.5']).toEqual({
      maxDocumentsPerCall: 1000,
      maxTokensPerQuery: 8_000,
      maxTokensPerDocument: 32_000,
      maxTokensPerCall: 600_000,
      supportsParallelCalls: true,
    });
    expect(VOYAGE_RERANKING_MODELS['rerank-2-lite']).toMatchObject({
      maxTokensPerQuery: 2_000,
      maxTokensPerDocument: 8_000,
    });
    expect(VOYAGE_RERANKING_MODELS['rerank-lite-1']).toMatchObject({
      maxTokensPerQuery: 1_000,
      maxTokensPerCall: 300_000,
    });
  });

  it('with an exact token counter, a document over the context is an error before sending', async () => {
    const server = fakeFetch([]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('rerank-2-lite');
    const counter = { exact: true, count: (text: string) => (text === 'long' ? 7_999 : 2) };
    await expect(
      rerank({ model, query: 'q', documents: ['short', 'long'], tokenCounter: counter }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'documents[1]',
    });
    expect(server.requests).toEqual([]);
  });
});
