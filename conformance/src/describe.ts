import { describe, it } from 'vitest';
import { loadCassettes, recordCassette, replayCassette } from './cassettes.js';
import { TRANSPORT_KINDS, type TransportKind } from './interceptor.js';
import { DEFAULT_MODE, listScenarios, type Scenario, TINY_MODE } from './scenarios.js';
import type { Cassette, DescribeEmbeddingProviderOptions } from './types.js';

export interface ScenarioOutcome {
  id: string;
  kind: TransportKind;
  passed: boolean;
  error?: unknown;
}

function allScenarios(options: DescribeEmbeddingProviderOptions): Scenario[] {
  const scenarios = listScenarios(options, DEFAULT_MODE);
  if (options.rerunWithTinyBatches !== false) scenarios.push(...listScenarios(options, TINY_MODE));
  return scenarios;
}

/**
 * Runs every generated scenario through both transports outside of vitest and reports each outcome.
 * `describeEmbeddingProvider` registers the same scenarios as tests; this form lets a tool (or the
 * suite's own test against broken providers) see exactly which ones fail.
 */
export async function runConformance(
  options: DescribeEmbeddingProviderOptions,
  filter: { only?: readonly string[] } = {},
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const scenarios = allScenarios(options).filter(
    (scenario) => filter.only === undefined || filter.only.includes(scenario.id),
  );
  if (filter.only !== undefined && scenarios.length !== filter.only.length) {
    const known = new Set(scenarios.map((scenario) => scenario.id));
    throw new Error(`runConformance: no scenario ${filter.only.filter((id) => !known.has(id)).join(', ')}`);
  }
  for (const scenario of scenarios) {
    for (const kind of TRANSPORT_KINDS) {
      try {
        await scenario.run(kind);
        outcomes.push({ id: scenario.id, kind, passed: true });
      } catch (error) {
        outcomes.push({ id: scenario.id, kind, passed: false, error });
      }
    }
  }
  return outcomes;
}

/** Resolves when `run` fails as expected; throws when it passes, so a fixed bug cannot hide behind the list. */
export async function expectFailure(id: string, reason: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch {
    return;
  }
  throw new Error(
    `${id} is listed in expectedFailures ("${reason}") but passes now; remove it from the list.`,
  );
}

function cassettesOf(options: DescribeEmbeddingProviderOptions): (Cassette & { file?: string })[] {
  if (options.cassettes === undefined) return [];
  return typeof options.cassettes === 'string' ? loadCassettes(options.cassettes) : options.cassettes;
}

/** Reads `EMBEDKIT_RECORD=1` and the provider's key variable; record mode needs both. */
function recordKey(options: DescribeEmbeddingProviderOptions): string | undefined {
  if (process.env.EMBEDKIT_RECORD !== '1') return undefined;
  const name = options.recordApiKeyEnvironmentVariable;
  return name === undefined ? undefined : process.env[name];
}

/**
 * Registers `scenarios` as tests through both transports, inside the caller's `describe`. An id listed in
 * `expected` (with its written reason) shows as skipped while it fails and fails the run once it passes;
 * an id that names no scenario fails too. Every scenario group of the suite registers through this.
 */
export function registerScenarios(
  scenarios: readonly { id: string; run(kind: TransportKind): Promise<void> }[],
  expected: Record<string, string> = {},
): void {
  it('every expectedFailures id names a scenario', () => {
    const ids = new Set(scenarios.map((scenario) => scenario.id));
    const unknown = Object.keys(expected).filter((id) => !ids.has(id));
    if (unknown.length > 0) throw new Error(`expectedFailures names no scenario: ${unknown.join(', ')}`);
    for (const [id, reason] of Object.entries(expected)) {
      if (typeof reason !== 'string' || reason.trim() === '')
        throw new Error(`expectedFailures.${id} needs a written reason`);
    }
  });
  for (const scenario of scenarios) {
    const reason = expected[scenario.id];
    for (const kind of TRANSPORT_KINDS) {
      it(`${scenario.id} [${kind}]`, async (context) => {
        if (reason === undefined) return scenario.run(kind);
        await expectFailure(scenario.id, reason, () => scenario.run(kind));
        context.skip(`expected failure: ${reason}`);
      });
    }
  }
}

/**
 * Registers the conformance suite for one provider: every generated scenario through both transports,
 * the same again with `maxInputsPerCall: 2` and `concurrency: 1`, and every cassette through both
 * transports. An id listed in `expectedFailures` shows as skipped while it fails and fails the run
 * once it passes.
 */
export function describeEmbeddingProvider(options: DescribeEmbeddingProviderOptions): void {
  const expected = options.expectedFailures ?? {};
  const scenarios = allScenarios(options);
  describe(`${options.name} conformance`, () => {
    registerScenarios(scenarios, expected);
    const cassettes = cassettesOf(options);
    const liveKey = recordKey(options);
    if (cassettes.length > 0) {
      describe('cassettes', () => {
        for (const cassette of cassettes) {
          if (liveKey !== undefined) {
            it(`${cassette.name} [record]`, async () => {
              await recordCassette(options, cassette, liveKey);
            }, 60_000);
            continue;
          }
          for (const kind of TRANSPORT_KINDS) {
            it(`${cassette.name} (${cassette.source}) [${kind}]`, () =>
              replayCassette(options, cassette, kind));
          }
        }
      });
    }
    options.additionalTests?.();
  });
}
