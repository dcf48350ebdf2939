/**
 * `contextualizedCapabilitiesFor(providerOptions)`: the limits of one job, where an option changes what
 * the API takes (Voyage's auto-chunking). Asked once per job, before any call, and checked as the model's
 * `contextualizedCapabilities` are: a provider that answers something other than limits is refused by
 * name rather than read as limits of `undefined`.
 */
import { describe, expect, it } from 'vitest';
import { type ContextualizedCapabilities, embedContextualized } from '../src/contextualized.js';
import { contextualizedModel, invalidArgumentOf } from './helpers.js';

/** The helper's model with `contextualizedCapabilitiesFor` answering `limitsFor`, and the options it was asked with. */
function modelWithJobLimits(limitsFor: (providerOptions: unknown) => unknown) {
  const { model, sent } = contextualizedModel({ maxDocumentsPerCall: 10 });
  const asked: unknown[] = [];
  const withLimits = {
    ...model,
    contextualizedCapabilitiesFor: (providerOptions: unknown) => {
      asked.push(providerOptions);
      // Answered before any call: nothing was sent when the job's limits are asked.
      expect(sent).toHaveLength(0);
      return limitsFor(providerOptions) as ContextualizedCapabilities;
    },
  };
  return { model: withLimits, sent, asked };
}

const documents = [['a'], ['b'], ['c']];

describe('embedContextualized with contextualizedCapabilitiesFor', () => {
  it('asks once per job with the job’s providerOptions, and packs by what it answers', async () => {
    const { model, sent, asked } = modelWithJobLimits(() => ({ maxDocumentsPerCall: 2 }));
    const providerOptions = { ctx: { wide: true } };
    await embedContextualized({ model, documents, providerOptions });
    expect(asked).toEqual([providerOptions]);
    expect(sent).toEqual([[['a'], ['b']], [['c']]]);
  });

  for (const [what, answer, described] of [
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a number', 5, '5'],
  ] as const) {
    it(`refuses an answer that is ${what}, before any call, naming the method`, async () => {
      const { model, sent } = modelWithJobLimits(() => answer);
      const error = await invalidArgumentOf(embedContextualized({ model, documents }));
      expect(error.code).toBe('invalid_argument');
      expect(error.argument).toBe('model');
      // Kills the mutant that reads `undefined` or `null` as "use contextualizedCapabilities" unseen, and
      // the one that reads a number's missing fields as limits of NaN.
      expect(error.message).toBe(
        `ctx model ctx-1's contextualizedCapabilitiesFor(providerOptions) returned ${described}; it must return the job's limits, an object like contextualizedCapabilities.`,
      );
      expect(sent).toHaveLength(0);
    });
  }

  it('refuses a contextualizedCapabilitiesFor that is not a function, before any call', async () => {
    const { model, sent } = contextualizedModel();
    const error = await invalidArgumentOf(
      embedContextualized({
        model: { ...model, contextualizedCapabilitiesFor: { maxDocumentsPerCall: 2 } as never },
        documents,
      }),
    );
    expect(error.argument).toBe('model');
    expect(error.message).toBe(
      "ctx model ctx-1's contextualizedCapabilitiesFor must be a function (providerOptions) => limits, got an object with maxDocumentsPerCall.",
    );
    expect(sent).toHaveLength(0);
  });

  it('refuses a limit of NaN it answers as it refuses one the model declares', async () => {
    const { model, sent } = modelWithJobLimits(() => ({
      maxDocumentsPerCall: 10,
      maxTokensPerCall: Number.NaN,
    }));
    const error = await invalidArgumentOf(embedContextualized({ model, documents }));
    expect(error.argument).toBe('model.contextualizedCapabilities.maxTokensPerCall');
    expect(error.message).toContain(
      "The ctx model ctx-1's contextualizedCapabilities.maxTokensPerCall is NaN",
    );
    expect(sent).toHaveLength(0);
  });
});
