/**
 * The batch-jobs timeout and abort scenarios hold each answer back until they release it, so what they
 * decide does not hang on a race against real time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mutants } from '../mutants/index.js';
import { runScenarios } from '../src/describe.js';
import { GROUPS } from './mutant-suites.js';

const outcomesOf = async (create: (typeof mutants)[number]['create'] | undefined, id: string) => {
  const group = GROUPS['batch-jobs'];
  const { scenarios } = group.list(create ?? group.reference);
  const outcomes = await runScenarios(scenarios, { only: [id] });
  return outcomes.map((outcome) => [outcome.kind, outcome.passed]);
};

/** The outcomes of scenario `id`, with timers faked and moved on only while the scenario runs. */
const outcomesOnFakeTime = async (create: (typeof mutants)[number]['create'] | undefined, id: string) => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  let done = false;
  const outcomes = outcomesOf(create, id).finally(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersByTimeAsync(5);
  return outcomes;
};

const mutantNamed = (name: string) => mutants.find((mutant) => mutant.name === name)!.create;

afterEach(() => {
  vi.useRealTimers();
});

describe('call-timeout', () => {
  it('passes a provider that hands timeoutMs to its requests, on time moved on by hand', async () => {
    expect(await outcomesOnFakeTime(undefined, 'call-timeout')).toEqual([
      ['undici', true],
      ['fetch', true],
    ]);
  });

  it('rejects a provider that leaves timeoutMs off its requests, on time moved on by hand', async () => {
    expect(await outcomesOnFakeTime(mutantNamed('batch-drops-timeout'), 'call-timeout')).toEqual([
      ['undici', false],
      ['fetch', false],
    ]);
  });
});

describe('call-abort', () => {
  it('passes a provider that hands the signal to its requests with no timer ever firing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(await outcomesOf(undefined, 'call-abort')).toEqual([
      ['undici', true],
      ['fetch', true],
    ]);
  });

  it('rejects a provider that leaves the signal off its requests with no timer ever firing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(await outcomesOf(mutantNamed('batch-drops-signal'), 'call-abort')).toEqual([
      ['undici', false],
      ['fetch', false],
    ]);
  });
});
