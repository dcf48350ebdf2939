/**
 * A model's declared limit on a call that is no whole number (1.5, 0, NaN) is refused before any request,
 * by the field that holds it: the message and the error's `argument` name it, in every kind of job. (The
 * packer's general check of its limits once ran first and spoke of "the model's limit on items per call",
 * with `argument: 'capabilities'`.)
 */
import { describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { embedMany } from '../src/engine/embed.js';
import { rerank } from '../src/rerank.js';
import { contextualizedModel, invalidArgumentOf, ScriptedModel, ScriptedReranker } from './helpers.js';

const notLimits = [1.5, 0, Number.NaN];
const REST = 'a limit must be a whole number of at least 1. Check the capabilities the model was given.';

describe('a declared limit on a call that is no whole number names its field', () => {
  for (const field of ['maxInputsPerCall', 'maxTokensPerCall'] as const) {
    it.each(notLimits)(`embedMany: capabilities.${field} %s`, async (limit) => {
      const model = new ScriptedModel({ capabilities: { [field]: limit } });
      const error = await invalidArgumentOf(embedMany({ model, inputs: ['a', 'b'] }));
      expect(error.argument).toBe(`model.capabilities.${field}`);
      expect(error.message).toBe(
        `The scripted model scripted-1's capabilities.${field} is ${String(limit)}; ${REST}`,
      );
      expect(model.calls).toEqual([]);
    });
  }

  for (const field of ['maxDocumentsPerCall', 'maxTokensPerCall'] as const) {
    it.each(notLimits)(`rerank: capabilities.${field} %s`, async (limit) => {
      const model = new ScriptedReranker({ [field]: limit });
      const error = await invalidArgumentOf(rerank({ model, query: 'q', documents: ['1', '2'] }));
      expect(error.argument).toBe(`model.capabilities.${field}`);
      expect(error.message).toBe(
        `The rerank-co model rr-1's capabilities.${field} is ${String(limit)}; ${REST}`,
      );
      expect(model.calls).toEqual([]);
    });
  }

  for (const field of ['maxDocumentsPerCall', 'maxChunksPerCall', 'maxTokensPerCall'] as const) {
    it.each(notLimits)(`embedContextualized: contextualizedCapabilities.${field} %s`, async (limit) => {
      const { model, sent } = contextualizedModel({ [field]: limit });
      const error = await invalidArgumentOf(embedContextualized({ model, documents: [['1', '2'], ['3']] }));
      expect(error.argument).toBe(`model.contextualizedCapabilities.${field}`);
      expect(error.message).toBe(
        `The ctx model ctx-1's contextualizedCapabilities.${field} is ${String(limit)}; ${REST}`,
      );
      expect(sent).toEqual([]);
    });
  }

  it('embedContextualized: a limit contextualizedCapabilitiesFor answers is named as the job’s contextualizedCapabilities', async () => {
    const { model, sent } = contextualizedModel();
    const withLimits = {
      ...model,
      contextualizedCapabilitiesFor: () => ({ maxDocumentsPerCall: 10, maxChunksPerCall: 1.5 }),
    };
    const error = await invalidArgumentOf(embedContextualized({ model: withLimits, documents: [['1']] }));
    expect(error.argument).toBe('model.contextualizedCapabilities.maxChunksPerCall');
    expect(error.message).toBe(
      `The ctx model ctx-1's contextualizedCapabilities.maxChunksPerCall is 1.5; ${REST}`,
    );
    expect(sent).toEqual([]);
  });
});
