/**
 * Behind one cache, every setting that changes a Gemini vector is its own entry: a call that changes one
 * reaches the API with it, and the same call again is served. Models of one name on two servers never
 * share one.
 */
import {
  cacheMiddleware,
  createMemoryCacheStore,
  type EmbedInput,
  type EmbedRequest,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { requestsPerCall } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGemini, GEMINI_TASK_TYPES } from '../src/index.js';
import { type FakeReply, fakeFetch, type SentRequest } from './fake-fetch.js';

const KEY = 'gemini-test-not-a-real-key';

/** A Gemini server whose vectors have the length asked (`outputDimensionality`, else 3,072), all 0.5. */
function geminiServer() {
  return fakeFetch((request: SentRequest): FakeReply => {
    const body = request.body as { outputDimensionality?: number };
    return {
      body: { embedding: { values: new Array<number>(body.outputDimensionality ?? 3072).fill(0.5) } },
    };
  });
}

const MODEL = 'models/gemini-embedding-001';
const content = { parts: [{ text: 'caf\u00e9' }] };

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the Gemini settings a cache keys', () => {
  it('each task type, dimensions and normalize reach the API; the same call again does not', async () => {
    const { fetch, sent } = geminiServer();
    const model = createGemini({ apiKey: KEY, fetch }).embedding('gemini-embedding-001');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    const inputTypes = Object.keys(GEMINI_TASK_TYPES) as (keyof typeof GEMINI_TASK_TYPES)[];
    const calls: Omit<EmbedRequest, 'inputs'>[] = [
      {},
      ...inputTypes.map((inputType) => ({ inputType })),
      { dimensions: 256 },
      { dimensions: 256, providerOptions: { gemini: { normalize: false } } },
    ];
    expect(await requestsPerCall(cached, sent, [...calls, ...calls])).toEqual([
      ...calls.map(() => 1),
      ...calls.map(() => 0),
    ]);
    expect(sent.map((request) => request.body)).toEqual([
      { model: MODEL, content },
      ...inputTypes.map((inputType) => ({ model: MODEL, content, taskType: GEMINI_TASK_TYPES[inputType] })),
      { model: MODEL, content, outputDimensionality: 256 },
      { model: MODEL, content, outputDimensionality: 256 },
    ]);
    // Served, each vector is the one its own settings were answered with: normalized, or as the API sent it.
    const [normalized, raw] = await Promise.all([
      cached.doEmbed({ inputs: ['caf\u00e9'], dimensions: 256 }),
      cached.doEmbed({
        inputs: ['caf\u00e9'],
        dimensions: 256,
        providerOptions: { gemini: { normalize: false } },
      }),
    ]);
    expect([normalized.embeddings[0]![0], raw.embeddings[0]![0]]).toEqual([0.0625, 0.5]);
  });

  it('a title is part of its input: another title, or none, reaches the API', async () => {
    const { fetch, sent } = geminiServer();
    const model = createGemini({ apiKey: KEY, fetch }).embedding('gemini-embedding-001');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    const document: Omit<EmbedRequest, 'inputs'> = { inputType: 'document' };
    const inputs: EmbedInput[] = [
      'caf\u00e9',
      { text: 'caf\u00e9', title: 'Menu' },
      { text: 'caf\u00e9', title: 'Wine list' },
    ];
    const counts: number[] = [];
    for (const input of [...inputs, ...inputs])
      counts.push(...(await requestsPerCall(cached, sent, [document], input)));
    expect(counts).toEqual([1, 1, 1, 0, 0, 0]);
    expect(sent.map((request) => request.body)).toEqual([
      { model: MODEL, content, taskType: 'RETRIEVAL_DOCUMENT' },
      { model: MODEL, content, taskType: 'RETRIEVAL_DOCUMENT', title: 'Menu' },
      { model: MODEL, content, taskType: 'RETRIEVAL_DOCUMENT', title: 'Wine list' },
    ]);
  });

  it('another model id reaches the API; the same id with its models/ prefix is the same model, served', async () => {
    const { fetch, sent } = geminiServer();
    const provider = createGemini({ apiKey: KEY, fetch });
    const store = createMemoryCacheStore();
    const ids = ['gemini-embedding-001', 'gemini-embedding-exp-03-07', 'models/gemini-embedding-001'];
    for (const id of ids)
      await wrapEmbeddingModel(provider.embedding(id), cacheMiddleware({ store })).doEmbed({
        inputs: ['caf\u00e9'],
      });
    expect(sent.map((request) => [request.url, request.body])).toEqual([
      [
        'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
        { model: MODEL, content },
      ],
      [
        'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-exp-03-07:embedContent?prettyPrint=false',
        { model: 'models/gemini-embedding-exp-03-07', content },
      ],
    ]);
  });

  it('another server (baseURL, GEMINI_BASE_URL, GOOGLE_GEMINI_BASE_URL) is asked, not answered from the API’s entries', async () => {
    const { fetch, sent } = geminiServer();
    const store = createMemoryCacheStore();
    const embed = (baseURL?: string) =>
      wrapEmbeddingModel(
        createGemini({ apiKey: KEY, fetch, ...(baseURL === undefined ? {} : { baseURL }) }).embedding(
          'gemini-embedding-001',
        ),
        cacheMiddleware({ store }),
      ).doEmbed({ inputs: ['caf\u00e9'] });
    await embed();
    await embed('https://generativelanguage.googleapis.com/v1beta/');
    await embed('http://127.0.0.1:4300/v1beta');
    await embed('http://127.0.0.1:4300/v1beta/');
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'http://127.0.0.1:4300');
    await embed();
    vi.stubEnv('GEMINI_BASE_URL', 'http://127.0.0.1:4400/v1beta');
    await embed();
    expect(sent.map((request) => request.url)).toEqual([
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
      'http://127.0.0.1:4300/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
      'http://127.0.0.1:4400/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
    ]);
    expect(sent.map((request) => request.body)).toEqual(sent.map(() => ({ model: MODEL, content })));
  });

  it('several inputs go to :batchEmbedContents; a second call with one new input sends only that one', async () => {
    const { fetch, sent } = fakeFetch((request: SentRequest): FakeReply => {
      const body = request.body as { requests?: unknown[] };
      if (body.requests === undefined) return { body: { embedding: { values: [0.6, 0.8] } } };
      return { body: { embeddings: body.requests.map(() => ({ values: [0.6, 0.8] })) } };
    });
    const model = createGemini({ apiKey: KEY, fetch }).embedding('gemini-embedding-001');
    const cached = wrapEmbeddingModel(model, cacheMiddleware());
    await cached.doEmbed({ inputs: ['a', 'b'], inputType: 'query', dimensions: 2 });
    await cached.doEmbed({ inputs: ['a', 'b', 'c'], inputType: 'query', dimensions: 2 });
    await cached.doEmbed({ inputs: ['a', 'b'], inputType: 'document', dimensions: 2 });
    /** One `EmbedContentRequest` of `text` at 2 values, with `taskType`. */
    const one = (text: string, taskType: string) => ({
      model: MODEL,
      content: { parts: [{ text }] },
      taskType,
      outputDimensionality: 2,
    });
    expect(sent.map((request) => [request.url.split(':').at(-1), request.body])).toEqual([
      [
        'batchEmbedContents?prettyPrint=false',
        { requests: [one('a', 'RETRIEVAL_QUERY'), one('b', 'RETRIEVAL_QUERY')] },
      ],
      ['embedContent?prettyPrint=false', one('c', 'RETRIEVAL_QUERY')],
      [
        'batchEmbedContents?prettyPrint=false',
        { requests: [one('a', 'RETRIEVAL_DOCUMENT'), one('b', 'RETRIEVAL_DOCUMENT')] },
      ],
    ]);
  });
});
