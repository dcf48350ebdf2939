/**
 * The suite of each mutant group, built around any provider factory, and the check that a mutant is
 * rejected by exactly the scenarios it names. Shared by the test files that run the mutants.
 */
import { createRateLimiter } from '@embedkit/core';
import { expect } from 'vitest';
import { acmeCassettes } from '../mutants/cassettes.js';
import { createAcmeFetchModel } from '../mutants/fetch-reference-provider.js';
import { type Mutant, type MutantSuite, mutants } from '../mutants/index.js';
import {
  acmeBatchWire,
  acmeContextualizedWire,
  acmeListwiseRerankingWire,
  acmeRerankingWire,
  createAcmeBatchJobs,
  createAcmeContextualizedModel,
  createAcmeListwiseRerankingModel,
  createAcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { AcmeEmbeddingModel, acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { runScenarios, type ScenarioOutcome, withCassettes } from '../src/describe.js';
import { listBatchEmbeddingJobsScenarioList } from '../src/groups/batch-jobs.js';
import { listContextualizedScenarioList } from '../src/groups/contextualized/index.js';
import { listRerankingScenarioList } from '../src/groups/rerank/index.js';
import { listEmbeddingScenarios } from '../src/scenarios.js';
import type { ScenarioList } from '../src/suite/family.js';
import type { CreateModelOptions } from '../src/types.js';

const base = { name: 'acme', baseURL: 'https://api.acme.test/v1' };

type Factory = (options: CreateModelOptions) => unknown;

interface Group {
  /** Every scenario of the group around `create`. */
  list(create: Factory): ScenarioList;
  reference: Factory;
}

export const GROUPS: Record<MutantSuite, Group> = {
  embeddings: {
    list: (create) => {
      const options = { ...base, modelId: 'acme-embed-1', createModel: create as never, wire: acmeWire };
      return withCassettes(listEmbeddingScenarios(options), 'embeddings', {
        ...options,
        kind: 'embed',
        cassettes: acmeCassettes,
      });
    },
    reference: createAcmeModel,
  },
  'embeddings-fetch': {
    list: (create) => GROUPS.embeddings.list(create),
    reference: createAcmeFetchModel,
  },
  contextualized: {
    list: (create) =>
      listContextualizedScenarioList({
        ...base,
        modelId: 'acme-context-1',
        createModel: create as never,
        wire: acmeContextualizedWire,
      }),
    reference: createAcmeContextualizedModel,
  },
  rerank: {
    list: (create) =>
      listRerankingScenarioList({
        ...base,
        modelId: 'acme-rerank-1',
        createModel: create as never,
        wire: acmeRerankingWire,
      }),
    reference: createAcmeRerankingModel,
  },
  'rerank-listwise': {
    list: (create) =>
      listRerankingScenarioList({
        ...base,
        modelId: 'acme-rerank-listwise-1',
        createModel: create as never,
        wire: acmeListwiseRerankingWire,
      }),
    reference: createAcmeListwiseRerankingModel,
  },
  'batch-jobs': {
    list: (create) =>
      listBatchEmbeddingJobsScenarioList({
        ...base,
        modelId: 'acme-embed-1',
        createJobs: create as never,
        wire: acmeBatchWire,
        dimensions: 16,
      }),
    reference: createAcmeBatchJobs,
  },
};

/**
 * The Acme embedding model created with a limiter of its own of `tokensPerMinute` (each model its own), as
 * a provider created with `rateLimit` is: the engine caps each call's tokens at that budget, far below the
 * 50,000 a call the model declares.
 */
export const acmeWithLimiter = (tokensPerMinute: number) =>
  withOwnLimiter(
    ({ modelId, ...settings }: CreateModelOptions) => new AcmeEmbeddingModel(modelId, settings),
    tokensPerMinute,
  );

/**
 * The model `create` makes, created with a limiter of its own of `tokensPerMinute` (each model its own), as
 * a provider created with `rateLimit` is: for any group's reference.
 */
export const withOwnLimiter =
  <M extends object>(create: (options: CreateModelOptions) => M, tokensPerMinute: number) =>
  (options: CreateModelOptions): M =>
    Object.assign(create(options), { rateLimiter: createRateLimiter({ tokensPerMinute }) });

/** A scenario's id without its mode: `tiny-batches/single` is `single`. */
export const baseId = (id: string) => id.replace(/^tiny-batches\//, '');

const describeFailure = (outcome: ScenarioOutcome) =>
  `${outcome.id} [${outcome.kind}]: ${String((outcome.error as Error)?.message ?? outcome.error).slice(0, 240)}`;

/** The reference of a group passes every scenario through both transports. */
export async function checkReference(group: Group): Promise<void> {
  const outcomes = await runScenarios(group.list(group.reference).scenarios);
  expect(outcomes.filter((outcome) => !outcome.passed).map(describeFailure)).toEqual([]);
}

/**
 * A mutant is rejected by exactly the scenarios it names: each named one fails through each transport (in
 * at least one mode), and no other fails through either, as every cassette and scenario replays through both.
 */
export async function checkMutant(mutant: Mutant): Promise<void> {
  const { scenarios } = GROUPS[mutant.suite].list(mutant.create);
  const named = new Set(mutant.caughtBy);
  const known = new Set(scenarios.map((scenario) => baseId(scenario.id)));
  expect(
    mutant.caughtBy.filter((id) => !known.has(id)),
    'names only existing scenarios',
  ).toEqual([]);
  const outcomes = await runScenarios(scenarios);
  const failed = outcomes.filter((outcome) => !outcome.passed);
  expect(
    failed.filter((outcome) => !named.has(baseId(outcome.id))).map(describeFailure),
    'rejected only by the scenarios it names',
  ).toEqual([]);
  for (const kind of ['undici', 'fetch'] as const) {
    const rejected = new Set(
      failed.filter((outcome) => outcome.kind === kind).map((outcome) => baseId(outcome.id)),
    );
    // A named scenario that raced real time (a 40 ms timeout that a loaded machine lets land before the
    // headers, where a provider that follows its signal only until then passes alike) gets two more tries
    // through that transport: it must still reject the mutant in one of them.
    for (let retry = 0; retry < MISSED_RETRIES && [...named].some((id) => !rejected.has(id)); retry++) {
      const missed = scenarios.filter(
        (scenario) => named.has(baseId(scenario.id)) && !rejected.has(baseId(scenario.id)),
      );
      for (const outcome of await runScenarios(missed, { kinds: [kind] }))
        if (!outcome.passed) rejected.add(baseId(outcome.id));
    }
    expect(
      [...named].filter((id) => !rejected.has(id)),
      `rejected by every scenario it names [${kind}]`,
    ).toEqual([]);
  }
}

/** How many more times a named scenario that let a mutant pass is run before the mutant is said to escape it. */
const MISSED_RETRIES = 2;

/**
 * The messages the scenarios `ids` fail the mutant `name` with, through both transports, each as
 * `<id> [<transport>]: <message>`.
 */
export async function failureMessages(name: string, ids: string[]): Promise<string[]> {
  const mutant = mutants.find((candidate) => candidate.name === name)!;
  const { scenarios } = GROUPS[mutant.suite].list(mutant.create);
  const outcomes = await runScenarios(scenarios, { only: ids });
  expect(outcomes.length).toBe(ids.length * 2);
  return outcomes.map(
    (outcome) =>
      `${outcome.id} [${outcome.kind}]: ${String((outcome.error as Error)?.message ?? outcome.error)}`,
  );
}
