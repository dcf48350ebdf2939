import { embedContextualized, embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createVoyage, VOYAGE_CONTEXTUALIZED_LIMITS } from '../src/index.js';
import { fakeFetch, TEST_KEY } from './helpers.js';

const vector = (first: number) => float32ToBase64([first, first / 2, -first, 0.25]);

/** A `/contextualizedembeddings` body: `chunks[d]` vectors for document d, listed in `order`. */
function contextBody(chunks: string[][], order: number[], texts?: string[][]) {
  return {
    object: 'list',
    data: order.map((index) => ({
      object: 'list',
      index,
      // Chunks listed last-first: the provider must place them by index.
      data: chunks[index]!.map((embedding, chunk) => ({
        object: 'embedding',
        index: chunk,
        embedding,
        ...(texts === undefined ? {} : { text: texts[index]![chunk] }),
      })).reverse(),
    })),
    model: 'voyage-context-3',
    usage: { total_tokens: 42 },
  };
}

const model = (fetch: ReturnType<typeof fakeFetch>['fetch']) =>
  createVoyage({ apiKey: TEST_KEY, fetch }).contextualizedEmbedding('voyage-context-3');

describe('voyage-context-3', () => {
  it('declares the documented limits: 1,000 documents, 16,000 chunks, 120,000 tokens per call', () => {
    expect(model(fakeFetch([]).fetch).contextualizedCapabilities).toEqual({
      maxDocumentsPerCall: 1000,
      maxChunksPerCall: 16_000,
      maxTokensPerCall: 120_000,
      maxTokensPerDocument: 32_000,
    });
    expect(VOYAGE_CONTEXTUALIZED_LIMITS.maxChunksPerCall).toBe(16_000);
  });

  it('sends documents as lists of chunks and returns chunk vectors per document, in order', async () => {
    const server = fakeFetch([{ body: contextBody([[vector(1), vector(2)], [vector(3)]], [1, 0]) }]);
    // Called directly: the engine would reject these 4-value vectors for dimensions 512.
    const result = await model(server.fetch).doEmbedContextualized({
      documents: [['Chapter one opens.', 'It ends.'], ['A short note.']],
      inputType: 'document',
      dimensions: 512,
    });
    expect(server.requests[0]!.url).toBe('https://api.voyageai.com/v1/contextualizedembeddings');
    expect(server.requests[0]!.body).toEqual({
      inputs: [['Chapter one opens.', 'It ends.'], ['A short note.']],
      model: 'voyage-context-3',
      input_type: 'document',
      output_dimension: 512,
      encoding_format: 'base64',
    });
    expect(result.embeddings.map((document) => document.map((chunk) => Array.from(chunk)))).toEqual([
      [
        [1, 0.5, -1, 0.25],
        [2, 1, -2, 0.25],
      ],
      [[3, 1.5, -3, 0.25]],
    ]);
    expect(result.usage).toEqual({ inputTokens: 42 });
  });

  it('decodes int8 chunk vectors per output_dtype', async () => {
    const server = fakeFetch([{ body: contextBody([['DPlkgA==']], [0]) }]);
    const response = await model(server.fetch).doEmbedContextualized({
      documents: [['x']],
      outputType: 'int8',
    });
    expect((server.requests[0]!.body as { output_dtype: string }).output_dtype).toBe('int8');
    expect(response.embeddings[0]![0]).toBeInstanceOf(Int8Array);
    expect(Array.from(response.embeddings[0]![0]!)).toEqual([12, -7, 100, -128]);
  });

  it('as an EmbeddingModel, sends each input as a document of one chunk', async () => {
    const full = float32ToBase64(new Float32Array(1024).fill(0.5));
    const server = fakeFetch([{ body: contextBody([[full], [full]], [0, 1]) }]);
    const result = await embedMany({
      model: model(server.fetch),
      inputs: ['query one', 'query two'],
      inputType: 'query',
    });
    expect(server.requests[0]!.body).toEqual({
      inputs: [['query one'], ['query two']],
      model: 'voyage-context-3',
      input_type: 'query',
      encoding_format: 'base64',
    });
    expect(result.embeddings.map((item) => item.length)).toEqual([1024, 1024]);
  });

  it('auto-chunking sends whole documents flat and returns the chunk texts', async () => {
    const server = fakeFetch([
      {
        body: contextBody(
          [[vector(1), vector(2)], [vector(3)]],
          [0, 1],
          [['Part A.', 'Part B.'], ['Part C.']],
        ),
      },
    ]);
    const result = await embedContextualized({
      model: model(server.fetch),
      documents: [['Part A. Part B.'], ['Part C.']],
      inputType: 'document',
      providerOptions: { voyage: { autoChunking: true, chunkSize: 256, chunkOverlap: 32 } },
      dimensions: 256,
    }).catch((error: unknown) => error);
    // The fake vectors have 4 values, not 256: the engine's length check must catch it.
    expect(result).toMatchObject({ name: 'InvalidResponseError' });
    expect(server.requests[0]!.body).toEqual({
      inputs: ['Part A. Part B.', 'Part C.'],
      model: 'voyage-context-3',
      input_type: 'document',
      output_dimension: 256,
      enable_auto_chunking: true,
      chunk_size: 256,
      chunk_overlap: 32,
      encoding_format: 'base64',
    });
    const again = fakeFetch([
      {
        body: contextBody(
          [[vector(1), vector(2)], [vector(3)]],
          [0, 1],
          [['Part A.', 'Part B.'], ['Part C.']],
        ),
      },
    ]);
    const response = await model(again.fetch).doEmbedContextualized({
      documents: [['Part A. Part B.'], ['Part C.']],
      inputType: 'document',
      providerOptions: { voyage: { autoChunking: true } },
    });
    expect(response.chunks).toEqual([['Part A.', 'Part B.'], ['Part C.']]);
    expect(response.embeddings.map((document) => document.map((chunk) => chunk[0]))).toEqual([[1, 2], [3]]);
  });

  it.each([
    [
      'autoChunking without inputType document',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true } } },
      'inputType',
    ],
    [
      'autoChunking with a pre-chunked document',
      {
        documents: [['a', 'b']],
        inputType: 'document' as const,
        providerOptions: { voyage: { autoChunking: true } },
      },
      'documents[0]',
    ],
    [
      'chunkSize without autoChunking',
      { documents: [['a']], providerOptions: { voyage: { chunkSize: 100 } } },
      'providerOptions.voyage',
    ],
    [
      'an overlap not smaller than the chunk size',
      {
        documents: [['a']],
        inputType: 'document' as const,
        providerOptions: { voyage: { autoChunking: true, chunkSize: 64, chunkOverlap: 64 } },
      },
      'providerOptions.voyage.chunkOverlap',
    ],
    [
      'a chunk size over 32,000',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true, chunkSize: 32_001 } } },
      'providerOptions.voyage',
    ],
  ])('rejects %s before any request', async (_label, request, argument) => {
    const server = fakeFetch([]);
    await expect(model(server.fetch).doEmbedContextualized(request)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument,
    });
    expect(server.requests).toEqual([]);
  });

  it('a wrong number of chunk vectors is an InvalidResponseError', async () => {
    const server = fakeFetch([{ body: contextBody([[vector(1)]], [0]) }]);
    await expect(
      model(server.fetch).doEmbedContextualized({ documents: [['a', 'b']] }),
    ).rejects.toMatchObject({
      name: 'InvalidResponseError',
    });
  });
});

describe('checks that live in the engine', () => {
  it('dimensions Voyage lacks are refused by embedContextualized before any request', async () => {
    const server = fakeFetch([]);
    await expect(
      embedContextualized({ model: model(server.fetch), documents: [['a']], dimensions: 768 }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'dimensions' });
    expect(server.requests).toEqual([]);
  });

  // Defect 6 of issue 10: through embedMany, auto-chunking kept the first chunk's vector of each input and
  // dropped the rest without a word.
  it('autoChunking through embedMany is refused before any request: it answers several vectors per input', async () => {
    const server = fakeFetch([]);
    await expect(
      embedMany({
        model: model(server.fetch),
        inputs: ['a long document'],
        inputType: 'document',
        providerOptions: { voyage: { autoChunking: true } },
      }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.voyage.autoChunking',
    });
    expect(server.requests).toEqual([]);
  });
});

describe('autoChunking checks over a whole job', () => {
  const autoChunked = {
    inputType: 'document' as const,
    providerOptions: { voyage: { autoChunking: true } },
  };
  const job = [['doc a'], ['doc b'], ['doc c'], ['doc d part 1', 'doc d part 2']];

  it('checkContextualizedRequest refuses a job whose fourth document is pre-chunked, naming documents[3], and sends nothing', () => {
    const server = fakeFetch([]);
    let error: unknown;
    try {
      model(server.fetch).checkContextualizedRequest({ documents: job, ...autoChunked });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'documents[3]',
      message: 'With autoChunking each document is one string for Voyage to chunk; document 3 has 2 chunks.',
    });
    expect(server.requests).toEqual([]);
  });

  it('checkContextualizedRequest makes the same checks doEmbedContextualized makes on a call', () => {
    const check = model(fakeFetch([]).fetch);
    expect(() => check.checkContextualizedRequest({ documents: [['a']], ...autoChunked })).not.toThrow();
    expect(() =>
      check.checkContextualizedRequest({
        documents: [['a']],
        providerOptions: { voyage: { autoChunking: true } },
      }),
    ).toThrow('autoChunking needs inputType "document".');
    expect(() =>
      check.checkContextualizedRequest({
        documents: [['a']],
        providerOptions: { voyage: { chunkSize: 100 } },
      }),
    ).toThrow('chunkSize and chunkOverlap apply only with autoChunking: true.');
    expect(() => check.checkContextualizedRequest({ documents: job })).not.toThrow();
  });

  // core's embedContextualized calls checkContextualizedRequest with every document before the first call.
  // Before, the first three documents were sent (and billed) before the fourth was refused as documents[0]
  // of its call.
  it('embedContextualized refuses the job before any request, naming documents[3]', async () => {
    // One chunk of 1,024 values per call, as voyage-context-3 answers.
    const full = float32ToBase64(new Array<number>(1024).fill(1 / 32));
    const answer = (text: string) => ({ body: contextBody([[full]], [0], [[text]]) });
    const server = fakeFetch([answer('doc a'), answer('doc b'), answer('doc c')]);
    const error = await embedContextualized({
      model: model(server.fetch),
      documents: job,
      maxDocumentsPerCall: 1,
      concurrency: 1,
      ...autoChunked,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InvalidArgumentError', argument: 'documents[3]' });
    expect(server.requests).toEqual([]);
  });
});
