/**
 * A scenario filter that names a scenario the list does not hold is refused by the function the caller
 * called: `runScenarios` names itself, `runConformance` itself, and nothing runs.
 */
import { describe, expect, it } from 'vitest';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { runConformance, runScenarios } from '../src/describe.js';
import type { Scenario } from '../src/suite/family.js';
import type { DescribeEmbeddingProviderOptions } from '../src/types.js';

const embeddings: DescribeEmbeddingProviderOptions = {
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
};

describe('a filter naming a scenario that does not exist', () => {
  it('is refused by runScenarios in its own name, before any scenario runs', async () => {
    const ran: string[] = [];
    const scenarios: Scenario[] = [{ id: 'single', run: async (kind) => void ran.push(kind) }];
    await expect(runScenarios(scenarios, { only: ['single', 'sigle'] })).rejects.toThrow(
      new Error('runScenarios: no scenario sigle'),
    );
    expect(ran).toEqual([]);
  });

  it('is refused by runConformance in its own name', async () => {
    await expect(runConformance(embeddings, { only: ['single', 'no-such-scenario'] })).rejects.toThrow(
      new Error('runConformance: no scenario no-such-scenario'),
    );
  });
});
