import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { TEST_KEY } from './helpers.js';

type Kind = 'embedding' | 'multimodalEmbedding';

/** Runs one embedMany that must be refused before any request, and returns the error. */
async function refusal(kind: Kind, modelId: string, settings: object) {
  const server = fakeFetch([]);
  const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })[kind](modelId);
  const error = await rejectionOf(embedMany({ model, inputs: ['a'], ...settings }));
  expect(server.requests).toStrictEqual([]);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error.code).toBe('invalid_argument');
  return error;
}

/** What a refusal by a float-only text model adds: the text models that return the type. */
const TEXT_MODELS_INSTEAD =
  'voyage-4-large, voyage-4, voyage-4-lite, voyage-3.5, voyage-3.5-lite, voyage-3-large, voyage-code-3';

describe('a quantized output type asked of a float-only model', () => {
  it.each([
    ['embedding', 'voyage-finance-2', 'int8', ` For int8 vectors use ${TEXT_MODELS_INSTEAD}.`],
    ['embedding', 'voyage-finance-2', 'binary', ` For binary vectors use ${TEXT_MODELS_INSTEAD}.`],
    ['embedding', 'voyage-law-2', 'uint8', ` For uint8 vectors use ${TEXT_MODELS_INSTEAD}.`],
    ['embedding', 'voyage-law-2', 'ubinary', ` For ubinary vectors use ${TEXT_MODELS_INSTEAD}.`],
    // No multimodal model returns a quantized type, so there is none to name.
    ['multimodalEmbedding', 'voyage-multimodal-3', 'int8', ''],
    ['multimodalEmbedding', 'voyage-multimodal-3.5', 'binary', ''],
  ] as const)(
    '%s(%s) with %s: InvalidArgumentError before any request',
    async (kind, modelId, outputType, instead) => {
      const error = await refusal(kind, modelId, { outputType });
      expect(error.argument).toBe('outputType');
      expect(error.message).toBe(
        `voyage model ${modelId} cannot return ${outputType} vectors; it supports float.${instead}`,
      );
    },
  );
});

describe('output_dimension outside the values a model lists', () => {
  it.each([
    [
      'voyage-3.5',
      768,
      'dimensions 768 is not allowed for voyage model voyage-3.5; use 256, 512, 1024, 2048.',
    ],
    [
      'voyage-finance-2',
      512,
      'voyage model voyage-finance-2 has a fixed vector length of 1024; remove the dimensions option.',
    ],
  ])(
    '%s with dimensions %i: InvalidArgumentError before any request',
    async (modelId, dimensions, message) => {
      const error = await refusal('embedding', modelId, { dimensions });
      expect(error.argument).toBe('dimensions');
      expect(error.message).toBe(message);
    },
  );
});
