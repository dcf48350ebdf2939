/**
 * A provider author outside this repository runs the suite under vitest's default test timeout (5 s),
 * not the 30 s of this repository's config; the suite gives its scenarios their own.
 */
import { afterAll, describe, expect, it, TestRunner, vi } from 'vitest';
import { registerScenarios, SCENARIO_TIMEOUT_MS } from '../src/describe.js';

// Read when the tests are collected, as an author's run without a vitest config would have it.
vi.setConfig({ testTimeout: 5_000 });
afterAll(() => vi.resetConfig());

const timeouts: Record<string, number | undefined> = {};

describe('a scenario registered under the default test timeout', () => {
  registerScenarios([
    {
      id: 'timed',
      run: async (kind) => {
        timeouts[kind] = TestRunner.getCurrentTest()?.timeout;
      },
    },
  ]);

  it('runs with the suite’s own timeout, on each transport', () => {
    expect(SCENARIO_TIMEOUT_MS).toBe(30_000);
    expect(timeouts).toEqual({ undici: 30_000, fetch: 30_000 });
  });
});
