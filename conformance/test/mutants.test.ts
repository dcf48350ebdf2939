import { describe, expect, it } from 'vitest';
import { mutants } from '../mutants/index.js';
import { checkMutant, checkReference, GROUPS } from './mutant-suites.js';

describe('the suite against its reference providers', () => {
  for (const [name, group] of Object.entries(GROUPS)) {
    it(
      `the ${name} reference passes every scenario through both transports`,
      () => checkReference(group),
      60_000,
    );
  }

  it('has a mutant for every kind of check, each with its own bug and the scenarios that reject it', () => {
    expect(mutants.length).toBeGreaterThanOrEqual(30);
    expect(new Set(mutants.map((mutant) => mutant.name)).size).toBe(mutants.length);
    for (const mutant of mutants) expect(mutant.caughtBy.length, mutant.name).toBeGreaterThan(0);
  });
});

describe('the suite against broken providers', () => {
  for (const mutant of mutants) {
    it(`rejects ${mutant.name} (${mutant.suite}): ${mutant.bug}`, () => checkMutant(mutant), 60_000);
  }
});
