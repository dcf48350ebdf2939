/**
 * Behind one cache, a model id served by OpenAI, by another server at OPENAI's wire (`baseURL`), or by an
 * OpenAI-compatible provider (Azure) is three sets of entries, and `dimensions` is part of each.
 */
import {
  cacheMiddleware,
  createMemoryCacheStore,
  type EmbeddingModel,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createOpenAI, createOpenAICompatible } from '../src/index.js';

const KEY = 'sk-test-not-a-real-key';

/** An `/embeddings` server whose vectors have the length asked (`dimensions`, else 1,536). */
function openAIServer() {
  const urls: string[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    urls.push(url);
    const body = JSON.parse(String(init.body)) as { model: string; input: string[]; dimensions?: number };
    const data = body.input.map((_, index) => ({
      object: 'embedding',
      index,
      embedding: new Array<number>(body.dimensions ?? 1536).fill(urls.length / 8),
    }));
    const answer = { object: 'list', data, model: body.model, usage: { prompt_tokens: 2, total_tokens: 2 } };
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  };
  return { fetch, urls };
}

describe('the OpenAI settings and servers a cache keys', () => {
  it('dimensions reach the API; the same call again is served', async () => {
    const server = openAIServer();
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    for (const dimensions of [undefined, 256, undefined, 256])
      await cached.doEmbed({ inputs: ['a'], dimensions });
    expect(server.urls).toHaveLength(2);
  });

  it('OpenAI, another server at baseURL (with or without a trailing slash) and Azure never share entries', async () => {
    const server = openAIServer();
    const store = createMemoryCacheStore();
    const id = 'text-embedding-3-small';
    const models: EmbeddingModel[] = [
      createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding(id),
      createOpenAI({ apiKey: KEY, fetch: server.fetch, baseURL: 'https://api.openai.com/v1/' }).embedding(id),
      createOpenAI({ apiKey: KEY, fetch: server.fetch, baseURL: 'http://127.0.0.1:4100/v1' }).embedding(id),
      createOpenAI({ apiKey: KEY, fetch: server.fetch, baseURL: 'http://127.0.0.1:4100/v1/' }).embedding(id),
      createOpenAI({ apiKey: KEY, fetch: server.fetch, baseURL: 'http://127.0.0.1:4100/other/v1' }).embedding(
        id,
      ),
      createOpenAICompatible({
        name: 'azure',
        baseURL: 'https://example-resource.openai.azure.com/openai/deployments/small',
        apiKey: KEY,
        apiKeyHeader: 'api-key',
        queryParams: { 'api-version': '2024-10-21' },
        fetch: server.fetch,
      }).embedding(id),
    ];
    for (const model of models)
      await wrapEmbeddingModel(model, cacheMiddleware({ store })).doEmbed({ inputs: ['a'] });
    expect(server.urls).toEqual([
      'https://api.openai.com/v1/embeddings',
      'http://127.0.0.1:4100/v1/embeddings',
      'http://127.0.0.1:4100/other/v1/embeddings',
      'https://example-resource.openai.azure.com/openai/deployments/small/embeddings?api-version=2024-10-21',
    ]);
  });
});
