/**
 * The older models `/v1/embeddings` still takes, jina-embeddings-v2-* and jina-clip-v1: schemas with
 * `normalized` but no `dimensions` and no `task`, so a length or a task is refused before anything is
 * sent; clip-v1 takes images.
 */
import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

/** float32 little-endian [0.5, -0.25, 1, -2]. */
const FLOAT_B64 = 'AAAAPwAAgL4AAIA/AAAAwA==';

const V2_IDS = [
  'jina-embeddings-v2-base-en',
  'jina-embeddings-v2-base-zh',
  'jina-embeddings-v2-base-de',
  'jina-embeddings-v2-base-es',
  'jina-embeddings-v2-base-code',
] as const;

/** Runs one embedMany that must be refused before any request, and returns the error. */
async function refusal(modelId: string, settings: object) {
  const server = fakeFetch([]);
  const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(modelId);
  const error = await rejectionOf(embedMany({ model, inputs: ['a'], maxRetries: 0, ...settings }));
  expect(server.requests).toStrictEqual([]);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error.code).toBe('invalid_argument');
  return error;
}

describe('jina-embeddings-v2-* and jina-clip-v1', () => {
  it.each([...V2_IDS, 'jina-clip-v1'])(
    '%s is sent with normalized and no task or dimensions',
    async (modelId) => {
      const server = fakeFetch([{ body: embeddingsBody(modelId, [FLOAT_B64], 3) }]);
      const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(modelId);
      const result = await embedMany({ model, inputs: ['sunset over the beach'] });
      expect(server.requests[0]!.body).toStrictEqual({
        model: modelId,
        input: ['sunset over the beach'],
        embedding_type: 'base64',
        normalized: true,
        truncate: false,
      });
      expect(Array.from(result.embeddings[0]!)).toStrictEqual([0.5, -0.25, 1, -2]);
    },
  );

  it.each([...V2_IDS, 'jina-clip-v1'])(
    '%s refuses a dimensions option: its length is fixed',
    async (modelId) => {
      const error = await refusal(modelId, { dimensions: 256 });
      expect(error.argument).toBe('dimensions');
      expect(error.message).toBe(
        `jina model ${modelId} has a fixed vector length; remove the dimensions option.`,
      );
    },
  );

  it('refuses a task: the schema has none', async () => {
    const error = await refusal('jina-embeddings-v2-base-en', {
      providerOptions: { jina: { task: 'retrieval.query' } },
    });
    expect(error.argument).toBe('providerOptions.jina.task');
    expect(error.message).toBe(
      'jina model jina-embeddings-v2-base-en has no task "retrieval.query"; it takes no task.',
    );
  });

  it('sends an input type as no task, with a warning', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v2-base-code', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(
      'jina-embeddings-v2-base-code',
    );
    const result = await embedMany({ model, inputs: ['def add(a, b):'], inputType: 'query' });
    expect(Object.hasOwn(server.requests[0]!.body as object, 'task')).toBe(false);
    expect(result.warnings).toStrictEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message:
          'jina model jina-embeddings-v2-base-code has no "query" input type; the inputs were sent without one.',
      },
    ]);
  });

  it('jina-clip-v1 takes an image URL', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-clip-v1', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-clip-v1');
    await embedMany({ model, inputs: [{ image: 'https://example.com/beach.jpg' }] });
    expect((server.requests[0]!.body as { input: unknown }).input).toStrictEqual([
      { image: 'https://example.com/beach.jpg' },
    ]);
  });
});
