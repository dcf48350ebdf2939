/**
 * Voyage's contextualized limits follow `autoChunking`: the Atlas spec allows 120,000 tokens a request
 * with `enable_auto_chunking` and 32,000 otherwise; its 32,000 per document is stated for a document sent
 * as a list of chunks, which auto-chunking replaces by one string. The engine asks the model once per job.
 */
import { embedContextualized, InvalidArgumentError, type TokenCounter } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createVoyage, VOYAGE_CONTEXTUALIZED_LIMITS } from '../src/index.js';
import { fakeFetch, TEST_KEY } from './helpers.js';

/** Exact counts read from each text: "20000 tokens: …" counts 20,000. */
const statedTokens: TokenCounter = { exact: true, count: (input) => Number.parseInt(String(input), 10) };

const documentsOf = (tokens: number, count: number) =>
  Array.from({ length: count }, (_, index) => [`${tokens} tokens: document ${index}`]);

/** voyage-context-3's default vector length. */
const vector = float32ToBase64(new Array<number>(1024).fill(0.5));

/** One success per request, each answering `size` documents with one chunk (and its text) apiece. */
const answers = (sizes: number[]) =>
  sizes.map((size) => ({
    body: {
      object: 'list',
      data: Array.from({ length: size }, (_, index) => ({
        object: 'list',
        index,
        data: [{ object: 'embedding', index: 0, embedding: vector, text: `chunk ${index}` }],
      })),
      model: 'voyage-context-3',
      usage: { total_tokens: 1 },
    },
  }));

const modelWith = (fetch: ReturnType<typeof fakeFetch>['fetch']) =>
  createVoyage({ apiKey: TEST_KEY, fetch }).contextualizedEmbedding('voyage-context-3');

/** The statedTokens of each request's inputs, summed per request. */
const tokensPerRequest = (server: ReturnType<typeof fakeFetch>) =>
  server.requests.map((request) =>
    (request.body as { inputs: (string | string[])[] }).inputs
      .flat()
      .reduce((sum, text) => sum + statedTokens.count(text), 0),
  );

const autoChunking = { voyage: { autoChunking: true } };

describe('voyage contextualized limits follow autoChunking', () => {
  it('with autoChunking, packs requests up to 120,000 tokens', async () => {
    const server = fakeFetch(answers([6, 1]));
    await embedContextualized({
      model: modelWith(server.fetch),
      documents: documentsOf(20_000, 7),
      inputType: 'document',
      providerOptions: autoChunking,
      tokenCounter: statedTokens,
      concurrency: 1,
    });
    expect(tokensPerRequest(server)).toEqual([120_000, 20_000]);
    expect((server.requests[0]!.body as { enable_auto_chunking?: boolean }).enable_auto_chunking).toBe(true);
  });

  it('without it, packs requests up to 32,000 tokens', async () => {
    const server = fakeFetch(answers([1, 1, 1, 1, 1, 1, 1]));
    await embedContextualized({
      model: modelWith(server.fetch),
      documents: documentsOf(20_000, 7),
      inputType: 'document',
      tokenCounter: statedTokens,
      concurrency: 1,
    });
    expect(tokensPerRequest(server)).toEqual([20_000, 20_000, 20_000, 20_000, 20_000, 20_000, 20_000]);
  });

  it('sends a 40,000-token document with autoChunking, and refuses it before any request without', async () => {
    const refused = fakeFetch([]);
    const error = await embedContextualized({
      model: modelWith(refused.fetch),
      documents: documentsOf(40_000, 1),
      inputType: 'document',
      tokenCounter: statedTokens,
    }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_argument',
      argument: 'documents[0]',
      message:
        'Document 0 has 40000 tokens; voyage model voyage-context-3 takes at most 32000 per document. Split it into several documents.',
    });
    expect(refused.requests).toEqual([]);

    const server = fakeFetch(answers([1]));
    await embedContextualized({
      model: modelWith(server.fetch),
      documents: documentsOf(40_000, 1),
      inputType: 'document',
      providerOptions: autoChunking,
      tokenCounter: statedTokens,
    });
    expect(tokensPerRequest(server)).toEqual([40_000]);
  });

  it('refuses a document over 120,000 tokens with autoChunking before any request', async () => {
    const refused = fakeFetch([]);
    const error = await embedContextualized({
      model: modelWith(refused.fetch),
      documents: documentsOf(120_001, 1),
      inputType: 'document',
      providerOptions: autoChunking,
      tokenCounter: statedTokens,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'invalid_argument',
      message:
        'Document 0 has 120001 tokens; voyage model voyage-context-3 takes at most 120000 per document. Split it into several documents.',
    });
    expect(refused.requests).toEqual([]);
  });

  it('contextualizedCapabilitiesFor: 120,000 tokens with autoChunking, the declared limits otherwise', () => {
    const model = modelWith(fakeFetch([]).fetch);
    expect(model.contextualizedCapabilitiesFor(autoChunking)).toEqual({
      maxDocumentsPerCall: 1000,
      maxChunksPerCall: 16_000,
      maxTokensPerCall: 120_000,
      maxTokensPerDocument: 120_000,
    });
    expect(model.contextualizedCapabilitiesFor(undefined)).toBe(model.contextualizedCapabilities);
    expect(model.contextualizedCapabilitiesFor({ voyage: { autoChunking: false } })).toBe(
      VOYAGE_CONTEXTUALIZED_LIMITS,
    );
    expect(() => model.contextualizedCapabilitiesFor({ voyage: { autoChunking: 'yes' as never } })).toThrow(
      InvalidArgumentError,
    );
  });
});
