/**
 * The tiny batches re-run the limit scenarios at two inputs (documents) a call. There a token budget
 * that splits three items in calls of [2, 1] tests nothing the cap does not: the cap alone packs them so.
 * `token-budget-split` (and `ctx-token-budget-split`) therefore give the tiny pass items whose budget split
 * the cap cannot give, and a provider whose calls go past its budget fails that pass too.
 */
import { describe, expect, it } from 'vitest';
import { mutants } from '../mutants/index.js';
import { runScenarios } from '../src/describe.js';
import { budgetSplit, packedCallSizes } from '../src/suite/family.js';
import { GROUPS } from './mutant-suites.js';

describe('the token budget split', () => {
  it('splits differently from the item cap alone, whatever the cap', () => {
    for (const budget of [1, 2, 3, 4, 6, 40, 50_000])
      for (const cap of [2, 3, 16]) {
        const { counts, calls } = budgetSplit(budget, cap);
        const costs = counts.map((tokens) => ({ tokens }));
        const where = `budget ${budget}, cap ${cap}`;
        expect(packedCallSizes(costs, { maxItems: cap, maxTokens: budget }), where).toEqual(calls);
        expect(packedCallSizes(costs, { maxItems: cap }), where).not.toEqual(calls);
        // A packer closing a call a token early splits them otherwise too (where a call holds two).
        if (budget >= 2)
          expect(packedCallSizes(costs, { maxItems: cap, maxTokens: budget - 1 }), where).not.toEqual(calls);
      }
  });

  it('rejects, in the tiny batches, a provider whose calls go past its token budget', async () => {
    const mutant = mutants.find((candidate) => candidate.name === 'drops-token-budget-with-headers')!;
    const { scenarios } = GROUPS.embeddings.list(mutant.create);
    const outcomes = await runScenarios(scenarios, { only: ['tiny-batches/token-budget-split'] });
    expect(outcomes.map((outcome) => [outcome.kind, outcome.passed])).toEqual([
      ['undici', false],
      ['fetch', false],
    ]);
    expect(String((outcomes[0]!.error as Error).message)).toMatch(
      /^the calls the budget splits the inputs into|^Expected values to be strictly deep-equal/,
    );
  });
});
