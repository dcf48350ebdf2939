import { refuseUnknownSettings, type SettingNames } from '@embedkit/core/provider';
import { describe, it } from 'vitest';
import {
  type CassetteSuite,
  cassetteScenarios,
  loadCassettes,
  recordable,
  recordCassette,
} from './cassettes.js';
import { TRANSPORT_KINDS, type TransportKind } from './interceptor.js';
import { embeddingScenarios } from './scenarios.js';
import type { FamilyReport, Scenario, ScenarioList } from './suite/family.js';
import { EMBEDDING_PROVIDER_SHAPE, refuseUnknownFields } from './suite/fields.js';
import type { Cassette, DescribeEmbeddingProviderOptions } from './types.js';

export interface ScenarioOutcome {
  id: string;
  kind: TransportKind;
  passed: boolean;
  error?: unknown;
}

/** What a run found: every scenario's outcome per transport, and which families ran or were skipped (and why). */
export interface ConformanceReport {
  outcomes: ScenarioOutcome[];
  families: FamilyReport[];
}

/** Which scenarios to run, and through which transports. */
export interface ScenarioFilter {
  /** The ids of the scenarios to run. Default: every one. */
  only?: readonly string[];
  /** The transports to run them through. Default: both. */
  kinds?: readonly TransportKind[];
}

const SCENARIO_FILTER: SettingNames<ScenarioFilter> = { only: true, kinds: true };

/**
 * Runs scenarios through both transports (or only `kinds`) outside of vitest and reports each outcome.
 * `filter.only` names the scenarios to run; naming one that does not exist throws.
 */
export async function runScenarios(
  scenarios: readonly Scenario[],
  filter: ScenarioFilter = {},
): Promise<ScenarioOutcome[]> {
  return await runSelected('runScenarios', scenarios, filter);
}

/** `runScenarios`, whose refusals name `caller`: the function the user called. */
async function runSelected(
  caller: string,
  scenarios: readonly Scenario[],
  filter: ScenarioFilter,
): Promise<ScenarioOutcome[]> {
  refuseUnknownSettings(filter, SCENARIO_FILTER, `${caller} filter`, { noun: 'option' });
  const selected = scenarios.filter(
    (scenario) => filter.only === undefined || filter.only.includes(scenario.id),
  );
  if (filter.only !== undefined && selected.length !== filter.only.length) {
    const known = new Set(selected.map((scenario) => scenario.id));
    throw new Error(`${caller}: no scenario ${filter.only.filter((id) => !known.has(id)).join(', ')}`);
  }
  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of selected) {
    for (const kind of filter.kinds ?? TRANSPORT_KINDS) {
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

function cassettesOf(options: { cassettes?: Cassette[] | string }): (Cassette & { file?: string })[] {
  if (options.cassettes === undefined) return [];
  return typeof options.cassettes === 'string' ? loadCassettes(options.cassettes) : options.cassettes;
}

/** A group's scenarios plus its cassettes, replayed as scenarios `cassette/<name>`, and the report of both. */
export function withCassettes(list: ScenarioList, group: string, suite: CassetteSuite): ScenarioList {
  const cassettes = cassettesOf(suite);
  const scenarios = cassetteScenarios(suite, cassettes);
  const report: FamilyReport = {
    group,
    family: 'cassettes',
    checks:
      'recorded and constructed exchanges replayed: every request field by field, the waits, the result',
    scenarios: scenarios.map((scenario) => scenario.id),
    skippedCases: [],
    ...(cassettes.length === 0 ? { skipped: 'no cassettes were given (cassettes)' } : {}),
  };
  return { scenarios: [...list.scenarios, ...scenarios], families: [...list.families, report] };
}

function embeddingScenarioList(options: DescribeEmbeddingProviderOptions): ScenarioList {
  const list = embeddingScenarios(options, { tinyBatches: options.rerunWithTinyBatches !== false });
  return withCassettes(list, 'embeddings', { ...options, kind: 'embed' });
}

/**
 * Runs every embeddings scenario and cassette through both transports outside of vitest. The report says
 * what failed, and which families ran and which were skipped because of the capabilities or the wire
 * profile (and why). `describeEmbeddingProvider` registers the same scenarios as tests. An unknown
 * option or wire field is refused before anything runs.
 */
export async function runConformance(
  options: DescribeEmbeddingProviderOptions,
  filter: ScenarioFilter = {},
): Promise<ConformanceReport> {
  refuseUnknownFields(options, EMBEDDING_PROVIDER_SHAPE, 'runConformance');
  // The filter is refused before the scenarios are listed, as the options are.
  refuseUnknownSettings(filter, SCENARIO_FILTER, 'runConformance filter', { noun: 'option' });
  const list = embeddingScenarioList(options);
  return { outcomes: await runSelected('runConformance', list.scenarios, filter), families: list.families };
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

/**
 * Record mode, read from `EMBEDKIT_RECORD=1` and the provider's key variable, for a suite with cassettes:
 * the real key, or why record mode cannot run (it then fails loudly, rather than replaying quietly).
 */
export function recordMode(
  options: DescribeEmbeddingProviderOptions,
): { key: string } | { problem: string } | undefined {
  if (process.env.EMBEDKIT_RECORD !== '1' || options.cassettes === undefined) return undefined;
  const name = options.recordApiKeyEnvironmentVariable;
  if (name === undefined)
    return {
      problem:
        'EMBEDKIT_RECORD=1 asks to record cassettes, but this suite names no recordApiKeyEnvironmentVariable to read a real key from.',
    };
  const key = process.env[name];
  if (key === undefined || key.trim() === '')
    return { problem: `EMBEDKIT_RECORD=1 asks to record cassettes with a real key, but ${name} is not set.` };
  return { key };
}

/**
 * How long one scenario test may run, whatever vitest's `testTimeout` is: its default, 5 s, is within
 * reach of a loaded machine, where the slowest scenarios (a job split over a thousand inputs, half a second
 * on an idle one) run many times slower. The scenarios wait on fake clocks, so this bounds only the work.
 */
export const SCENARIO_TIMEOUT_MS = 30_000;

/**
 * Registers `scenarios` as tests through both transports, inside the caller's `describe`, each with
 * `SCENARIO_TIMEOUT_MS`. An id listed in `expected` (with its written reason) shows as skipped while it
 * fails and fails the run once it passes; an id that names no scenario fails too. Every scenario group of the suite registers through this.
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
      it(
        `${scenario.id} [${kind}]`,
        async (context) => {
          if (reason === undefined) return scenario.run(kind);
          await expectFailure(scenario.id, reason, () => scenario.run(kind));
          context.skip(`expected failure: ${reason}`);
        },
        SCENARIO_TIMEOUT_MS,
      );
    }
  }
}

/** Registers a group's scenarios and shows, as skipped tests, each family or case that did not apply and why. */
export function registerScenarioList(list: ScenarioList, expected: Record<string, string> = {}): void {
  registerScenarios(list.scenarios, expected);
  const notRun = list.families.flatMap((report) => [
    ...(report.skipped === undefined ? [] : [`${report.group} / ${report.family}: ${report.skipped}`]),
    ...report.skippedCases.map((item) => `${item.id}: ${item.reason}`),
  ]);
  if (notRun.length === 0) return;
  describe('families not run here', () => {
    for (const name of notRun) it.skip(name, () => {});
  });
}

/**
 * Registers the conformance suite for one provider: every generated scenario through both transports,
 * the splitting families again with `maxInputsPerCall: 2` and `concurrency: 1`, and every cassette
 * through both transports. Families and cases that do not apply show as skipped, with the reason. An id
 * listed in `expectedFailures` shows as skipped while it fails and fails the run once it passes. With
 * `EMBEDKIT_RECORD=1` and the key in `recordApiKeyEnvironmentVariable`, the cassettes of successful
 * answers in a `cassettes` directory are recorded live instead (see `recordCassette`); without the key,
 * record mode fails and names the variable. An option or wire field the suite does not know (a typo,
 * or a field put on the wrong object) is refused when this is called, before any test is registered.
 */
export function describeEmbeddingProvider(options: DescribeEmbeddingProviderOptions): void {
  refuseUnknownFields(options, EMBEDDING_PROVIDER_SHAPE, 'describeEmbeddingProvider');
  const record = recordMode(options);
  describe(`${options.name} conformance`, () => {
    if (record === undefined) {
      registerScenarioList(embeddingScenarioList(options), options.expectedFailures);
    } else {
      describeRecordMode(options, record);
    }
    options.additionalTests?.();
  });
}

/** What record mode registers: the scenarios and replayed cassettes, and a test per cassette recorded. */
export interface RecordModePlan {
  list: ScenarioList;
  expected: Record<string, string>;
  records: { name: string; run(): Promise<void> }[];
}

/**
 * Record mode: the generated scenarios as usual (each in its own network lockdown, lifted after it), then
 * each cassette of successful answers recorded live instead of replayed; the others are replayed. When
 * record mode cannot run (no key), or a cassette was given as an object (its recording would have
 * nowhere to go), its test fails and says so.
 */
export function recordModePlan(
  options: DescribeEmbeddingProviderOptions,
  record: { key: string } | { problem: string },
): RecordModePlan {
  const cassettes = cassettesOf(options);
  const recorded = 'key' in record ? cassettes.filter(recordable) : [];
  const replayed = cassettes.filter((cassette) => !recorded.includes(cassette));
  const list = withCassettes(
    embeddingScenarios(options, { tinyBatches: options.rerunWithTinyBatches !== false }),
    'embeddings',
    { ...options, kind: 'embed', cassettes: replayed },
  );
  if (replayed.length === 0 && recorded.length > 0)
    for (const report of list.families)
      if (report.family === 'cassettes') report.skipped = 'recorded live in record mode (EMBEDKIT_RECORD=1)';
  const recordedIds = new Set(recorded.map((cassette) => `cassette/${cassette.name}`));
  const expected = Object.fromEntries(
    Object.entries(options.expectedFailures ?? {}).filter(([id]) => !recordedIds.has(id)),
  );
  if ('problem' in record)
    return {
      list,
      expected,
      records: [
        {
          name: 'record mode',
          run: async () => {
            throw new Error(record.problem);
          },
        },
      ],
    };
  const records = recorded.map((cassette) => ({
    name: `${cassette.name} [record]`,
    run: async () => {
      if (cassette.file === undefined)
        throw new Error(
          `cassette "${cassette.name}" was given as an object, so its recording would have nowhere to go; give cassettes as a directory of files to record them.`,
        );
      await recordCassette({ ...options, kind: 'embed' }, cassette, record.key);
    },
  }));
  return { list, expected, records };
}

function describeRecordMode(
  options: DescribeEmbeddingProviderOptions,
  record: { key: string } | { problem: string },
): void {
  const plan = recordModePlan(options, record);
  registerScenarioList(plan.list, plan.expected);
  describe('cassettes', () => {
    for (const item of plan.records) it(item.name, () => item.run(), 120_000);
  });
}
