/**
 * Behind one cache, every setting that changes a Jina vector is its own entry: a call that changes one
 * reaches the API with it, and the same call again is served. Models of one name on two servers never
 * share one.
 */
import {
  cacheMiddleware,
  createMemoryCacheStore,
  type EmbedRequest,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { requestsPerCall } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJina } from '../src/index.js';

const KEY = 'jina-test-not-a-real-key';

/**
 * A `/v1/embeddings` server whose vectors depend on what it was asked: their length on `dimensions` (else
 * 1,024) and `embedding_type` (bits packed eight to a byte).
 */
function jinaServer() {
  const requests: { url: string; body: Record<string, unknown> }[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    requests.push({ url, body });
    const dimensions = (body.dimensions as number | undefined) ?? 1024;
    const bits = body.embedding_type === 'binary' || body.embedding_type === 'ubinary';
    const embedding = new Array<number>(bits ? dimensions / 8 : dimensions).fill(bits ? 3 : 0.25);
    const data = (body.input as unknown[]).map((_, index) => ({ object: 'embedding', index, embedding }));
    const answer = { model: body.model, object: 'list', usage: { total_tokens: 2, prompt_tokens: 2 }, data };
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  };
  return { fetch, requests };
}

/** The body `/v1/embeddings` gets for jina-embeddings-v3 with no settings, then `fields` over it. */
const v3Body = (fields: Record<string, unknown> = {}) => ({
  model: 'jina-embeddings-v3',
  input: ['caf\u00e9'],
  embedding_type: 'base64',
  normalized: true,
  truncate: false,
  ...fields,
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the Jina settings a cache keys', () => {
  it('input type, task, dimensions, normalized, output type and truncation each reach the API; the same call again does not', async () => {
    const server = jinaServer();
    const model = createJina({ apiKey: KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    const calls: Omit<EmbedRequest, 'inputs'>[] = [
      {},
      { inputType: 'query' },
      { inputType: 'document' },
      { inputType: 'similarity' },
      { inputType: 'classification' },
      { inputType: 'clustering' },
      { providerOptions: { jina: { task: 'retrieval.passage' } } },
      { dimensions: 256 },
      { providerOptions: { jina: { normalized: false } } },
      { outputType: 'binary' },
      { outputType: 'ubinary' },
      { truncate: true },
    ];
    expect(await requestsPerCall(cached, server.requests, [...calls, ...calls])).toEqual([
      ...calls.map(() => 1),
      ...calls.map(() => 0),
    ]);
    expect(server.requests.map(({ body }) => body)).toEqual([
      v3Body(),
      v3Body({ task: 'retrieval.query' }),
      v3Body({ task: 'retrieval.passage' }),
      v3Body({ task: 'text-matching' }),
      v3Body({ task: 'classification' }),
      v3Body({ task: 'separation' }),
      v3Body({ task: 'retrieval.passage' }),
      v3Body({ dimensions: 256 }),
      v3Body({ normalized: false }),
      v3Body({ embedding_type: 'binary' }),
      v3Body({ embedding_type: 'ubinary' }),
      v3Body({ truncate: true }),
    ]);
    // Served, each output type is the one it was answered as.
    const served = await Promise.all(
      (['float', 'binary', 'ubinary'] as const).map((outputType) =>
        cached.doEmbed({ inputs: ['caf\u00e9'], outputType }),
      ),
    );
    expect(served.map(({ embeddings }) => [embeddings[0]!.constructor.name, embeddings[0]!.length])).toEqual([
      ['Float32Array', 1024],
      ['Int8Array', 128],
      ['Uint8Array', 128],
    ]);
  });

  it('another model id reaches the API, each with its own body', async () => {
    const server = jinaServer();
    const provider = createJina({ apiKey: KEY, fetch: server.fetch });
    const store = createMemoryCacheStore();
    for (const id of ['jina-embeddings-v3', 'jina-embeddings-v5-text-small', 'jina-embeddings-v3'])
      await wrapEmbeddingModel(provider.embedding(id), cacheMiddleware({ store })).doEmbed({
        inputs: ['caf\u00e9'],
      });
    expect(server.requests.map(({ body }) => body)).toEqual([
      v3Body(),
      v3Body({ model: 'jina-embeddings-v5-text-small' }),
    ]);
  });

  it('late chunking is not reachable through doEmbed: the contextualized model, called so, sends the plain body and shares its entries', async () => {
    const server = jinaServer();
    const provider = createJina({ apiKey: KEY, fetch: server.fetch });
    const store = createMemoryCacheStore();
    const models = [
      provider.contextualizedEmbedding('jina-embeddings-v3'),
      provider.embedding('jina-embeddings-v3'),
    ];
    for (const model of models)
      await wrapEmbeddingModel(model, cacheMiddleware({ store })).doEmbed({ inputs: ['caf\u00e9'] });
    expect(server.requests.map(({ body }) => body)).toEqual([v3Body()]);
  });

  it('another server (baseURL, JINA_BASE_URL) is asked, not answered from the API’s entries', async () => {
    const server = jinaServer();
    const store = createMemoryCacheStore();
    const embed = (baseURL?: string) =>
      wrapEmbeddingModel(
        createJina({
          apiKey: KEY,
          fetch: server.fetch,
          ...(baseURL === undefined ? {} : { baseURL }),
        }).embedding('jina-embeddings-v3'),
        cacheMiddleware({ store }),
      ).doEmbed({ inputs: ['caf\u00e9'] });
    await embed();
    await embed('https://api.jina.ai/v1/');
    await embed('http://127.0.0.1:4200/v1');
    await embed('http://127.0.0.1:4200/v1/');
    vi.stubEnv('JINA_BASE_URL', 'http://127.0.0.1:4300/v1');
    await embed();
    expect(server.requests.map(({ url, body }) => [url, body])).toEqual([
      ['https://api.jina.ai/v1/embeddings', v3Body()],
      ['http://127.0.0.1:4200/v1/embeddings', v3Body()],
      ['http://127.0.0.1:4300/v1/embeddings', v3Body()],
    ]);
  });
});
