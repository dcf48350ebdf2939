import { embedContextualized, embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const chunkVector = (value: number) => float32ToBase64([value, -value, value / 2, 0]);

describe('late chunking (embedContextualized)', () => {
  it('sends one document per call, its chunks as input with late_chunking: true, and orders vectors by index', async () => {
    const reversed = (model: string, values: number[]) => ({
      model,
      object: 'list',
      usage: { total_tokens: values.length * 3, prompt_tokens: values.length * 3 },
      data: values
        .map((value, index) => ({ object: 'embedding', index, embedding: chunkVector(value) }))
        .reverse(),
    });
    const server = fakeFetch([
      { body: reversed('jina-embeddings-v3', [0.5, 0.25, 0.125]) },
      { body: reversed('jina-embeddings-v3', [1]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    const result = await embedContextualized({
      model,
      documents: [
        ['Berlin is the capital of Germany.', 'Its population is 3.85 million.', 'It is also a state.'],
        ['Paris.'],
      ],
      inputType: 'document',
      dimensions: 4,
      concurrency: 1,
    });
    expect(server.requests.map((request) => request.body)).toEqual([
      {
        model: 'jina-embeddings-v3',
        input: [
          'Berlin is the capital of Germany.',
          'Its population is 3.85 million.',
          'It is also a state.',
        ],
        task: 'retrieval.passage',
        dimensions: 4,
        embedding_type: 'base64',
        normalized: true,
        truncate: false,
        late_chunking: true,
      },
      {
        model: 'jina-embeddings-v3',
        input: ['Paris.'],
        task: 'retrieval.passage',
        dimensions: 4,
        embedding_type: 'base64',
        normalized: true,
        truncate: false,
        late_chunking: true,
      },
    ]);
    expect(result.embeddings.map((document) => document.map((vector) => Array.from(vector)))).toEqual([
      [
        [0.5, -0.5, 0.25, 0],
        [0.25, -0.25, 0.125, 0],
        [0.125, -0.125, 0.0625, 0],
      ],
      [[1, -1, 0.5, 0]],
    ]);
    expect(result.usage).toEqual({ inputTokens: 12 });
    expect(result.chunks).toBeUndefined();
  });

  it('v4 late-chunks too, with its own task word and no normalized field', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v4', [chunkVector(0.5), chunkVector(0.25)]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v4',
    );
    await embedContextualized({
      model,
      documents: [['one', 'two']],
      inputType: 'code-document',
      dimensions: 4,
    });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v4',
      input: ['one', 'two'],
      task: 'code.passage',
      dimensions: 4,
      embedding_type: 'base64',
      truncate: false,
      late_chunking: true,
    });
  });

  it('declares one document per call, 512 chunks, the context window per document', () => {
    const jina = createJina({ apiKey: TEST_KEY });
    expect(jina.contextualizedEmbedding('jina-embeddings-v3').contextualizedCapabilities).toEqual({
      maxDocumentsPerCall: 1,
      maxChunksPerCall: 512,
      maxTokensPerCall: 8192,
      maxTokensPerDocument: 8192,
    });
    expect(jina.contextualizedEmbedding('jina-embeddings-v4').contextualizedCapabilities).toEqual({
      maxDocumentsPerCall: 1,
      maxChunksPerCall: 512,
      maxTokensPerCall: 32768,
      maxTokensPerDocument: 32768,
    });
  });

  it('models without late_chunking in their schema are refused when the model is created', () => {
    const jina = createJina({ apiKey: TEST_KEY });
    for (const id of ['jina-embeddings-v5-text-small', 'jina-clip-v2', 'jina-code-embeddings-1.5b']) {
      expect(() => jina.contextualizedEmbedding(id)).toThrow(
        expect.objectContaining({ name: 'InvalidArgumentError', argument: 'modelId' }),
      );
    }
  });

  it('a direct call with several documents is refused before sending; embedContextualized refuses a document over 512 chunks', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    await expect(model.doEmbedContextualized({ documents: [['a'], ['b']] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'documents',
    });
    const long = Array.from({ length: 513 }, (_, index) => `chunk ${index}`);
    await expect(embedContextualized({ model, documents: [long] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'documents[0]',
    });
    expect(server.requests).toEqual([]);
  });

  it('as a plain embedding model it embeds each input on its own: no late_chunking', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v3', [chunkVector(1), chunkVector(0.5)]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    const result = await embedMany({ model, inputs: ['a', 'b'], dimensions: 4 });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v3',
      input: ['a', 'b'],
      dimensions: 4,
      embedding_type: 'base64',
      normalized: true,
      truncate: false,
    });
    expect(Array.from(result.embeddings[1]!)).toEqual([0.5, -0.5, 0.25, 0]);
  });

  it('a wrong number of chunk vectors is an InvalidResponseError', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [chunkVector(1)]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    await expect(model.doEmbedContextualized({ documents: [['a', 'b']] })).rejects.toMatchObject({
      name: 'InvalidResponseError',
    });
  });
});
