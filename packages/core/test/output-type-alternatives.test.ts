/**
 * A model may name the other models of its provider that return a type it lacks
 * (`capabilities.outputTypeAlternatives`): the refusal of that type then says where to go instead.
 */
import { describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { embedMany } from '../src/engine/embed.js';
import { checkVectorSettings } from '../src/engine/settings.js';
import { InvalidArgumentError } from '../src/errors.js';
import { MockEmbeddingModel } from '../src/testing.js';
import type { EmbeddingCapabilities } from '../src/types.js';
import {
  contextualizedModel,
  invalidArgumentOf,
  refusedBeforeAnyCall as refused,
  ScriptedModel,
} from './helpers.js';

const floatOnly = (outputTypeAlternatives?: EmbeddingCapabilities['outputTypeAlternatives']) =>
  new ScriptedModel({
    provider: 'acme',
    modelId: 'acme-fixed',
    capabilities: {
      outputTypes: ['float'],
      defaultDimensions: 8,
      ...(outputTypeAlternatives === undefined ? {} : { outputTypeAlternatives }),
    },
  });

describe('the refusal of an output type the model lacks', () => {
  it('names the models the model lists for that type', async () => {
    const model = floatOnly({ int8: ['acme-small', 'acme-large'], binary: ['acme-large'] });
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['a'], outputType: 'int8' }),
      model,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('outputType');
    expect(error.message).toBe(
      'acme model acme-fixed cannot return int8 vectors; it supports float. For int8 vectors use acme-small, acme-large.',
    );
  });

  it('names only the models listed for the type asked', async () => {
    const model = floatOnly({ int8: ['acme-small', 'acme-large'], binary: ['acme-large'] });
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['a'], outputType: 'binary' }),
      model,
    );
    expect(error.message).toBe(
      'acme model acme-fixed cannot return binary vectors; it supports float. For binary vectors use acme-large.',
    );
  });

  it.each([
    ['no alternatives at all', undefined],
    ['none for the type asked', { binary: ['acme-large'] }],
    ['an empty list for it', { uint8: [] }],
    ['a declaration that is not a list', { uint8: 'acme-large' as unknown as string[] }],
  ])('stays the plain refusal with %s', async (_name, alternatives) => {
    const error = await refused(
      (scripted) => embedMany({ model: scripted, inputs: ['a'], outputType: 'uint8' }),
      floatOnly(alternatives),
    );
    expect(error.argument).toBe('outputType');
    expect(error.message).toBe('acme model acme-fixed cannot return uint8 vectors; it supports float.');
  });

  it('is the same for contextualized chunks, before any call', async () => {
    const { model, sent } = contextualizedModel();
    const error = await invalidArgumentOf(
      embedContextualized({
        model: {
          ...model,
          capabilities: {
            ...model.capabilities,
            outputTypes: ['float'],
            outputTypeAlternatives: { ubinary: ['ctx-large'] },
          },
        },
        documents: [['a']],
        outputType: 'ubinary',
      }),
    );
    expect(sent).toStrictEqual([]);
    expect(error.message).toBe(
      'ctx model ctx-1 cannot return ubinary vectors; it supports float. For ubinary vectors use ctx-large.',
    );
  });

  it('does not touch a type the model returns', () => {
    const model = floatOnly({ int8: ['acme-small'] });
    expect(checkVectorSettings(model, { outputType: 'float' })).toEqual({
      warnings: [],
      inputType: undefined,
    });
  });
});

describe('outputTypeAlternatives as a declared capability', () => {
  it('is a capability name a model may be given', async () => {
    const model = new MockEmbeddingModel({
      capabilities: { outputTypeAlternatives: { int8: ['mock-quantized'] } },
    });
    const error = await invalidArgumentOf(embedMany({ model, inputs: ['a'], outputType: 'int8' }));
    expect(error.message).toBe(
      'mock model mock-embedding cannot return int8 vectors; it supports float. For int8 vectors use mock-quantized.',
    );
  });
});
