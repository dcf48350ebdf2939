/**
 * voyage-code-2, an older id the Atlas spec still lists: a fixed-length float model, so a length or a
 * quantized type is refused before anything is sent, and the refusal of a type names the text models
 * that return it.
 */
import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

/** Runs one embedMany of voyage-code-2 that must be refused before any request, and returns the error. */
async function refusal(settings: object) {
  const server = fakeFetch([]);
  const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-code-2');
  const error = await rejectionOf(embedMany({ model, inputs: ['def add(a, b):'], ...settings }));
  expect(server.requests).toStrictEqual([]);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error.code).toBe('invalid_argument');
  return error;
}

describe('voyage-code-2', () => {
  it('sends float requests with no output_dimension or output_dtype', async () => {
    const vector = float32ToBase64(new Float32Array([0.5, -0.25, 1, -2]));
    const server = fakeFetch([{ body: embeddingsBody('voyage-code-2', [vector], 4) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-code-2');
    const result = await embedMany({ model, inputs: ['def add(a, b):'], inputType: 'document' });
    expect(server.requests[0]!.body).toStrictEqual({
      input: ['def add(a, b):'],
      model: 'voyage-code-2',
      input_type: 'document',
      truncation: false,
      encoding_format: 'base64',
    });
    expect(Array.from(result.embeddings[0]!)).toStrictEqual([0.5, -0.25, 1, -2]);
  });

  it('refuses a dimensions option: its length is fixed', async () => {
    const error = await refusal({ dimensions: 1024 });
    expect(error.argument).toBe('dimensions');
    expect(error.message).toBe(
      'voyage model voyage-code-2 has a fixed vector length; remove the dimensions option.',
    );
  });

  it.each(['int8', 'uint8', 'binary', 'ubinary'] as const)(
    'refuses %s, naming the text models that return it',
    async (outputType) => {
      const error = await refusal({ outputType });
      expect(error.argument).toBe('outputType');
      expect(error.message).toBe(
        `voyage model voyage-code-2 cannot return ${outputType} vectors; it supports float. For ${outputType} vectors use voyage-4-large, voyage-4, voyage-4-lite, voyage-3.5, voyage-3.5-lite, voyage-3-large, voyage-code-3.`,
      );
    },
  );
});
