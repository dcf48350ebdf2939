/**
 * A model's capabilities as a plain-JS provider (or one cast into shape) may give them: a list the engine
 * reads (`inputTypes`, `outputTypes`, `modalities`, `dimensions`) missing or of another kind. Each is
 * refused as an argument naming the field and what it holds, before any request, where the engine failed
 * with a TypeError ("Cannot read properties of undefined (reading 'includes')") or ran on.
 */
import { describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { embed, embedMany } from '../src/engine/embed.js';
import { checkEmbedRequest } from '../src/engine/settings.js';
import { InvalidArgumentError } from '../src/errors.js';
import { rejectionOf } from '../src/testing.js';
import type { EmbeddingCapabilities } from '../src/types.js';
import { contextualizedModel, ScriptedModel } from './helpers.js';

/** A scripted model whose capabilities have `changes` (a field set to undefined is left out). */
function modelWith(changes: Record<string, unknown>): ScriptedModel {
  const model = new ScriptedModel();
  const capabilities: Record<string, unknown> = { ...model.capabilities, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete capabilities[name];
  Object.assign(model, { capabilities: capabilities as unknown as EmbeddingCapabilities });
  return model;
}

const REFUSED: [field: string, value: unknown, message: string][] = [
  [
    'inputTypes',
    undefined,
    `scripted model scripted-1's capabilities.inputTypes must be a list of the input types it takes (such as "query"), each once, [] for none; got undefined.`,
  ],
  [
    'inputTypes',
    'query',
    `scripted model scripted-1's capabilities.inputTypes must be a list of the input types it takes (such as "query"), each once, [] for none; got "query".`,
  ],
  [
    'outputTypes',
    undefined,
    `scripted model scripted-1's capabilities.outputTypes must be a list of the vector types it returns (float, int8, uint8, binary, ubinary), each once; got undefined.`,
  ],
  [
    'modalities',
    null,
    `scripted model scripted-1's capabilities.modalities must be a list of what it embeds (text, image), each once; got null.`,
  ],
  [
    'dimensions',
    1536,
    `scripted model scripted-1's capabilities.dimensions must be a list of lengths, each once, or a range { min, max }, or absent when the length is fixed; got 1536.`,
  ],
  [
    'dimensions',
    { min: 1 },
    `scripted model scripted-1's capabilities.dimensions must be a list of lengths, each once, or a range { min, max }, or absent when the length is fixed; got an object with min.`,
  ],
];

describe('capabilities the engine reads', () => {
  it.each(REFUSED)(
    '%s of %o is refused before any request, naming the field',
    async (field, value, message) => {
      const model = modelWith({ [field]: value });
      for (const call of [
        () => embed({ model, input: 'a', inputType: 'query', dimensions: 2 }),
        () => embedMany({ model, inputs: ['a'] }),
      ]) {
        const error = await rejectionOf(call());
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ message, argument: `model.capabilities.${field}` });
      }
      expect(() => checkEmbedRequest(model, { inputs: ['a'] })).toThrow(message);
      expect(model.calls).toEqual([]);
    },
  );

  it('a contextualized model without inputTypes is refused as well, before any call', async () => {
    const { model, sent } = contextualizedModel();
    const { inputTypes: _left, ...capabilities } = model.capabilities;
    const error = await rejectionOf(
      embedContextualized({
        model: { ...model, capabilities: capabilities as EmbeddingCapabilities },
        documents: [['a']],
        inputType: 'document',
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      message: `ctx model ctx-1's capabilities.inputTypes must be a list of the input types it takes (such as "query"), each once, [] for none; got undefined.`,
      argument: 'model.capabilities.inputTypes',
    });
    expect(sent).toHaveLength(0);
  });

  it('a model with every list, and dimensions as a list, a range or absent, is taken as before', async () => {
    for (const dimensions of [[2, 4], { min: 1, max: 8 }, undefined]) {
      const model = modelWith({ dimensions, inputTypes: [] });
      const result = await embed({
        model,
        input: 'a',
        ...(dimensions === undefined ? {} : { dimensions: 2 }),
      });
      expect(result.embedding).toHaveLength(2);
      expect(model.calls).toHaveLength(1);
    }
  });
});
