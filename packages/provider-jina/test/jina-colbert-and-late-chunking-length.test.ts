import { embedContextualized, embedMany, InvalidArgumentError, InvalidRequestError } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

describe('ColBERT models, which answer one vector per token', () => {
  it.each([['jina-colbert-v2'], ['jina-colbert-v1-en']])(
    'embedding(%s) is refused when it is made, naming the model and why',
    (modelId) => {
      const make = () => createJina({ apiKey: TEST_KEY }).embedding(modelId);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(
        expect.objectContaining({
          code: 'invalid_argument',
          argument: 'modelId',
          message: `jina model ${modelId} answers one vector per token (multi-vector output), which embedkit's embeddings, one vector per input, do not carry; use it with reranking('${modelId}'), or embed with a single-vector model such as jina-embeddings-v3.`,
        }),
      );
    },
  );

  it('still rerank', async () => {
    const server = fakeFetch([
      {
        body: {
          model: 'jina-colbert-v2',
          usage: { total_tokens: 9 },
          results: [{ index: 0, relevance_score: 0.75 }],
        },
      },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-colbert-v2');
    const answer = await model.doRerank({ query: 'q', documents: ['d'] });
    expect(answer.results).toStrictEqual([{ index: 0, relevanceScore: 0.75 }]);
    expect(server.requests[0]!.body).toMatchObject({
      model: 'jina-colbert-v2',
      query: 'q',
      documents: ['d'],
    });
  });
});

describe('a late-chunking call over the model’s context', () => {
  const LATE_CHUNKING_HINT =
    "Late chunking embeds all of a document's chunks as one sequence, which must fit the model's context, and truncate does not apply to it: split the document into smaller documents, each with fewer or shorter chunks.";
  const TOO_LONG =
    "Input text exceeds the model's maximum of 8194 tokens. Use 'truncate: true' to automatically truncate, or split into smaller chunks.";

  it('is an InvalidRequestError whose hint says what can fix it, since truncate does not apply there', async () => {
    const server = fakeFetch([{ status: 400, body: { detail: { message: TOO_LONG } } }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    const error = await rejectionOf(embedContextualized({ model, documents: [['chunk one', 'chunk two']] }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toBe(`jina API error 400: ${TOO_LONG} — ${LATE_CHUNKING_HINT}`);
    expect(server.requests[0]!.body).toStrictEqual({
      model: 'jina-embeddings-v3',
      input: ['chunk one', 'chunk two'],
      embedding_type: 'base64',
      normalized: true,
      truncate: false,
      late_chunking: true,
    });
  });

  it.each([
    ['the older form', 'Single text cannot exceed 8194 tokens. 8746 tokens given.'],
    [
      'the long form',
      'The input is longer than the 8194 tokens this model takes. Send truncate: true to cut it.',
    ],
  ])('gets the same hint for %s of the message', async (_, message) => {
    const server = fakeFetch([{ status: 400, body: { detail: message } }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v4',
    );
    const error = await rejectionOf(embedContextualized({ model, documents: [['a', 'b']] }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe(`jina API error 400: ${message} — ${LATE_CHUNKING_HINT}`);
  });

  it('leaves the API’s truncate advice alone for a plain embedding call, where truncate: true can follow it', async () => {
    const server = fakeFetch([
      { status: 400, body: { detail: { message: TOO_LONG } } },
      { body: embeddingsBody('jina-embeddings-v3', [[0.5, 0.25]]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const error = await rejectionOf(embedMany({ model, inputs: ['a very long report'], maxRetries: 0 }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe(
      `jina API error 400: ${TOO_LONG} — Check the inputs and options against the model’s capabilities.`,
    );
  });
});
