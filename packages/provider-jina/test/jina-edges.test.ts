import { embedContextualized, embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { embeddingsBody, fakeFetch } from './helpers.js';

const KEY = 'jina_fake-not-a-real-credential';
const HINT = 'Check the inputs and options against the model’s capabilities.';

const chunkVector = (value: number) => float32ToBase64([value, -value, value / 2, 0]);
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('the call had to fail'),
    (error: unknown) => error as Error & Record<string, unknown>,
  );

describe('jina-embeddings-v5-text-nano dimensions', () => {
  it('takes at most its 768 values: 768 is sent, 769 and 1024 are refused before sending', async () => {
    const server = fakeFetch([
      {
        body: embeddingsBody('jina-embeddings-v5-text-nano', [
          float32ToBase64(new Float32Array(768).fill(0.5)),
        ]),
      },
    ]);
    const model = createJina({ apiKey: KEY, fetch: server.fetch }).embedding('jina-embeddings-v5-text-nano');
    expect(model.capabilities.dimensions).toEqual({ min: 1, max: 768 });
    const result = await embedMany({ model, inputs: ['x'], dimensions: 768 });
    expect(result.embeddings[0]).toHaveLength(768);
    for (const dimensions of [769, 1024]) {
      const error = await caught(embedMany({ model, inputs: ['x'], dimensions }));
      expect(error.name).toBe('InvalidArgumentError');
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe('dimensions');
      expect(error.message).toBe(
        `dimensions ${dimensions} is not allowed for jina model jina-embeddings-v5-text-nano; use 1 to 768.`,
      );
    }
    expect(server.requests.map((request) => (request.body as { dimensions: number }).dimensions)).toEqual([
      768,
    ]);
  });
});

describe('late chunking errors that name a chunk', () => {
  const reply = (documents: number) =>
    embeddingsBody(
      'jina-embeddings-v3',
      Array.from({ length: documents }, (_, index) => chunkVector(index + 1)),
    );

  it('a validation error naming input.1 of the second document names document 1 of the job and its chunk 1', async () => {
    const server = fakeFetch([
      { body: reply(2) },
      {
        status: 422,
        body: {
          detail: 'Validation error',
          errors: [{ field: 'input.1', input: '', message: 'String should have at least 1 character' }],
        },
      },
    ]);
    const model = createJina({ apiKey: KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    const error = await caught(
      embedContextualized({
        model,
        documents: [
          ['a', 'b'],
          ['c', 'd'],
        ],
        dimensions: 4,
        concurrency: 1,
        maxRetries: 0,
      }),
    );
    expect(error.name).toBe('InvalidRequestError');
    expect(error.code).toBe('invalid_request');
    expect(error.statusCode).toBe(422);
    expect(error.inputIndex).toBe(1);
    expect(error.message).toBe(
      `jina API error 422: Validation error (input.1: String should have at least 1 character) (chunk 1 of the document) — ${HINT} (document 1 of the whole job)`,
    );
    expect(server.requests.map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('a FastAPI location naming chunk 2 of the only document names document 0', async () => {
    const server = fakeFetch([
      {
        status: 422,
        body: { detail: [{ loc: ['body', 'input', 2], msg: 'Input should be a valid string' }] },
      },
    ]);
    const model = createJina({ apiKey: KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v4',
    );
    const error = await caught(model.doEmbedContextualized({ documents: [['a', 'b', 'c']] }));
    expect(error.name).toBe('InvalidRequestError');
    expect(error.code).toBe('invalid_request');
    expect(error.inputIndex).toBe(0);
    expect(error.message).toBe(
      `jina API error 422: body.input.2: Input should be a valid string (chunk 2 of the document) — ${HINT}`,
    );
  });

  it('the same model as a plain embedding model still names the input itself', async () => {
    const server = fakeFetch([
      {
        status: 422,
        body: { detail: [{ loc: ['body', 'input', 2], msg: 'Input should be a valid string' }] },
      },
    ]);
    const model = createJina({ apiKey: KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    const error = await caught(model.doEmbed({ inputs: ['a', 'b', 'c'] }));
    expect(error.name).toBe('InvalidRequestError');
    expect(error.inputIndex).toBe(2);
    expect(error.message).toBe(`jina API error 422: body.input.2: Input should be a valid string — ${HINT}`);
  });
});
