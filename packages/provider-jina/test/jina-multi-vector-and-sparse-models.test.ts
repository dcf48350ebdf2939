import { embedMany, InvalidArgumentError, InvalidResponseError } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { fakeFetch, TEST_KEY } from './helpers.js';

/** A `/v1/embeddings` answer in the spec's `MultiEmbeddingData` form: several vectors for each input. */
function multiVectorBody(model: string, perInput: (number[] | string)[][]) {
  return {
    model,
    object: 'list',
    usage: { total_tokens: 6, prompt_tokens: 6 },
    data: perInput.map((embeddings, index) => ({ object: 'embeddings', index, embeddings })),
  };
}

describe('an id the table does not know that answers several vectors per input', () => {
  const MESSAGE =
    "jina model jina-colbert-v3 answered several vectors for each input, as a multi-vector (late-interaction) model does, which embedkit's embeddings, one vector per input, do not carry; use it with reranking('jina-colbert-v3'), or embed with a single-vector model such as jina-embeddings-v3.";

  it.each([
    [
      'float arrays',
      [
        [
          [0.5, 0.5],
          [0.25, 0.75],
        ],
        [[1, 0]],
      ],
    ],
    ['base64 strings', [['AACAPwAAAAA=', 'AAAAAAAAgD8='], ['AACAPwAAAAA=']]],
  ])(
    'fails with an InvalidResponseError naming the model, the cause and reranking() (%s)',
    async (_form, perInput) => {
      const server = fakeFetch([{ body: multiVectorBody('jina-colbert-v3', perInput) }]);
      const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-colbert-v3');
      const error = await rejectionOf(embedMany({ model, inputs: ['first', 'second'] }));
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect(error).toMatchObject({ code: 'invalid_response', statusCode: 200, provider: 'jina' });
      expect(error.message).toBe(MESSAGE);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.body).toStrictEqual({
        model: 'jina-colbert-v3',
        input: ['first', 'second'],
        embedding_type: 'base64',
        truncate: false,
      });
    },
  );

  it('an answer with one vector per input still decodes', async () => {
    const server = fakeFetch([
      {
        body: {
          model: 'jina-colbert-v3',
          usage: { total_tokens: 2, prompt_tokens: 2 },
          data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
        },
      },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-colbert-v3');
    const result = await embedMany({ model, inputs: ['only'] });
    expect(result.embeddings).toHaveLength(1);
    expect(Array.from(result.embeddings[0]!)).toStrictEqual([0.6000000238418579, 0.800000011920929]);
  });
});

describe('elser-v2, which answers sparse vectors', () => {
  it('embedding("elser-v2") is refused when it is made, naming the model and why', () => {
    const server = fakeFetch([]);
    const make = () => createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('elser-v2');
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(
      expect.objectContaining({
        code: 'invalid_argument',
        argument: 'modelId',
        message:
          "jina model elser-v2 answers sparse vectors (a weight for each vocabulary token), which embedkit's embeddings, dense vectors of one length, do not carry; embed with a dense model such as jina-embeddings-v3.",
      }),
    );
    expect(server.requests).toStrictEqual([]);
  });
});
