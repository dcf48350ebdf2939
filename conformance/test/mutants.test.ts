import { describe, expect, it } from 'vitest';
import { mutants } from '../mutants/index.js';
import { acmeWire, createAcmeModel, type ModelFactory } from '../mutants/reference-provider.js';
import { runConformance } from '../src/describe.js';
import type { DescribeEmbeddingProviderOptions } from '../src/types.js';

const suite = (createModel: ModelFactory): DescribeEmbeddingProviderOptions => ({
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel,
  wire: acmeWire,
});

describe('the suite against broken providers', () => {
  it('the reference provider passes every scenario through both transports', async () => {
    const outcomes = await runConformance(suite(createAcmeModel));
    const failed = outcomes
      .filter((outcome) => !outcome.passed)
      .map((outcome) => `${outcome.id} [${outcome.kind}]: ${String(outcome.error)}`);
    expect(failed).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(80);
  }, 60_000);

  it('has at least ten mutants, each with its own bug', () => {
    expect(mutants.length).toBeGreaterThanOrEqual(10);
    expect(new Set(mutants.map((mutant) => mutant.name)).size).toBe(mutants.length);
  });

  for (const mutant of mutants) {
    it(`rejects ${mutant.name}: ${mutant.bug}`, async () => {
      const outcomes = await runConformance(suite(mutant.createModel), { only: mutant.caughtBy });
      for (const id of mutant.caughtBy) {
        const verdicts = outcomes.filter((outcome) => outcome.id === id);
        expect(verdicts.map((outcome) => outcome.kind).sort()).toEqual(['fetch', 'undici']);
        expect(
          verdicts.filter((outcome) => outcome.passed).map((outcome) => `${id} [${outcome.kind}] passed`),
        ).toEqual([]);
      }
    }, 30_000);
  }
});
