/**
 * Behind one cache, every setting that changes a Voyage vector is its own entry: a call that changes one
 * reaches the API, and the same call again is served. Models of one name on two servers never share one.
 */
import {
  type CacheStore,
  cacheMiddleware,
  createMemoryCacheStore,
  type EmbeddingModel,
  type EmbedRequest,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { requestsPerCall } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { TEST_KEY } from './helpers.js';

/** A Voyage server whose vectors depend on what it was asked: their length on the dimensions and dtype. */
function voyageServer() {
  const requests: { url: string; body: Record<string, unknown> }[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    requests.push({ url, body });
    const dtype = (body.output_dtype as string | undefined) ?? 'float';
    const dimensions = (body.output_dimension as number | undefined) ?? 1024;
    const length = dtype === 'binary' || dtype === 'ubinary' ? dimensions / 8 : dimensions;
    const vector = () => new Array<number>(length).fill(dtype === 'float' ? 0.25 : requests.length);
    const inputs = (body.input ?? body.inputs) as unknown[];
    const data = url.endsWith('/contextualizedembeddings')
      ? inputs.map((_, index) => ({
          object: 'list',
          index,
          data: [{ object: 'embedding', index: 0, embedding: vector() }],
        }))
      : inputs.map((_, index) => ({ object: 'embedding', index, embedding: vector() }));
    const answer = { object: 'list', data, model: body.model, usage: { total_tokens: 3 } };
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  };
  return { fetch, requests };
}

describe('the Voyage settings a cache keys', () => {
  it('input type, dimensions, output dtype and truncation each reach the API; the same call again does not', async () => {
    const server = voyageServer();
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    const calls: Omit<EmbedRequest, 'inputs'>[] = [
      {},
      { inputType: 'query' },
      { inputType: 'document' },
      { dimensions: 256 },
      { outputType: 'int8' },
      { outputType: 'uint8' },
      { outputType: 'binary' },
      { outputType: 'ubinary' },
      { truncate: true },
    ];
    expect(await requestsPerCall(cached, server.requests, [...calls, ...calls])).toEqual([
      ...calls.map(() => 1),
      ...calls.map(() => 0),
    ]);
    expect(
      server.requests.map(({ body }) => [
        body.input_type,
        body.output_dimension,
        body.output_dtype,
        body.truncation,
      ]),
    ).toEqual([
      [undefined, undefined, undefined, false],
      ['query', undefined, undefined, false],
      ['document', undefined, undefined, false],
      [undefined, 256, undefined, false],
      [undefined, undefined, 'int8', false],
      [undefined, undefined, 'uint8', false],
      [undefined, undefined, 'binary', false],
      [undefined, undefined, 'ubinary', false],
      [undefined, undefined, undefined, true],
    ]);
  });

  it('the text as sent: "é" composed and decomposed are two inputs, each sent as it was given', async () => {
    const server = voyageServer();
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    expect(await requestsPerCall(cached, server.requests, [{}], 'caf\u00e9')).toEqual([1]);
    expect(await requestsPerCall(cached, server.requests, [{}, {}], 'cafe\u0301')).toEqual([1, 0]);
    expect(server.requests.map(({ body }) => body.input)).toEqual([['caf\u00e9'], ['cafe\u0301']]);
  });
});

describe('Voyage models of one name on two servers, behind one store', () => {
  const kinds: [string, (provider: ReturnType<typeof createVoyage>) => EmbeddingModel][] = [
    ['text', (provider) => provider.embedding('voyage-3.5')],
    ['multimodal', (provider) => provider.multimodalEmbedding('voyage-multimodal-3.5')],
    ['contextualized', (provider) => provider.contextualizedEmbedding('voyage-context-3')],
  ];

  it.each(kinds)(
    '%s: the server in front of Voyage is asked, not answered from Voyage’s own entries',
    async (_kind, open) => {
      const store: CacheStore = createMemoryCacheStore();
      const own = voyageServer();
      const proxy = voyageServer();
      const models = [
        open(createVoyage({ apiKey: TEST_KEY, fetch: own.fetch })),
        open(createVoyage({ apiKey: TEST_KEY, fetch: proxy.fetch, baseURL: 'http://127.0.0.1:4100/v1' })),
        open(createVoyage({ apiKey: TEST_KEY, fetch: proxy.fetch, baseURL: 'http://127.0.0.1:4100/v1/' })),
      ];
      for (const model of models)
        await wrapEmbeddingModel(model, cacheMiddleware({ store })).doEmbed({ inputs: ['hello'] });
      expect([own.requests.length, proxy.requests.length]).toEqual([1, 1]);
      expect(proxy.requests[0]!.url.startsWith('http://127.0.0.1:4100/v1/')).toBe(true);
    },
  );
});
