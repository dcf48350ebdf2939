/**
 * The waits every group shares count the small job's one wait: where the model's own limiter (a provider
 * created with `rateLimit`) cannot take that job's call and its retry within a minute, the retry waits for
 * the limiter's refill besides the wait the API asked, so a correct provider would fail them. The
 * contextualized and reranking groups plan their small job's tokens as the engine counts them and skip the
 * waits, naming the limiter, exactly there: at twice the job's tokens they run and pass; one token below,
 * run anyway, they fail.
 */
import { estimateTokenCounter } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import {
  acmeContextualizedWire,
  acmeRerankingWire,
  createAcmeContextualizedModel,
  createAcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { runScenarios } from '../src/describe.js';
import { waits } from '../src/families/waits.js';
import { contextualizedJobPass } from '../src/groups/contextualized/suite.js';
import { JOB_QUERY, rerankingJobPass } from '../src/groups/rerank/suite.js';
import { buildScenarios, type FamilyPass } from '../src/suite/family.js';
import type { JobKit, JobWorld } from '../src/suite/job-kit.js';
import type { CreateModelOptions } from '../src/types.js';
import { checkReference, GROUPS, withOwnLimiter } from './mutant-suites.js';

const count = (texts: readonly string[]) =>
  texts.reduce((sum, text) => sum + estimateTokenCounter.count(text), 0);

const base = { name: 'acme', baseURL: 'https://api.acme.test/v1' };

interface Group {
  name: 'contextualized' | 'rerank';
  prefix: string;
  reference(options: CreateModelOptions): object;
  /** The small job's call, in tokens by the engine's estimate. */
  jobTokens: number;
  jobPass(create: (options: CreateModelOptions) => object): FamilyPass<JobKit, JobWorld>;
}

const groups: Group[] = [
  {
    name: 'contextualized',
    prefix: 'ctx-',
    reference: createAcmeContextualizedModel,
    // One document of two chunks: 8 and 7 tokens.
    jobTokens: count(['pets and animals', 'cats and dogs']),
    jobPass: (create) =>
      contextualizedJobPass({
        ...base,
        modelId: 'acme-context-1',
        createModel: create as never,
        wire: acmeContextualizedWire,
      }),
  },
  {
    name: 'rerank',
    prefix: 'rerank-',
    reference: createAcmeRerankingModel,
    // The query (3 tokens) counted with each of the two documents (2 each), as the engine packs them.
    jobTokens: 2 * count([JOB_QUERY]) + count(['cats', 'dogs']),
    jobPass: (create) =>
      rerankingJobPass({
        ...base,
        modelId: 'acme-rerank-1',
        createModel: create as never,
        wire: acmeRerankingWire,
      }),
  },
];

/** The waits family of `group`'s listing around its reference created with a limiter of `minute` tokens. */
const waitsFamily = (group: Group, minute: number) =>
  GROUPS[group.name]
    .list(withOwnLimiter(group.reference, minute))
    .families.find((family) => family.family === 'waits');

/** The waits scenarios of `group` with the family's skip left off, as if the group planned none. */
const waitsRunAnyway = (group: Group, minute: number) =>
  buildScenarios(
    group.name,
    [{ ...waits, skip: undefined }],
    [group.jobPass(withOwnLimiter(group.reference, minute))],
  ).scenarios;

const failed = async (group: Group, minute: number) =>
  (await runScenarios(waitsRunAnyway(group, minute)))
    .filter((outcome) => !outcome.passed)
    .map((outcome) => `${outcome.id} [${outcome.kind}]`);

describe.each(groups)("the $name waits, under a limiter of the model's own", (group) => {
  it('are the counts the tests below rest on', () => {
    expect(group.jobTokens).toBe(group.name === 'contextualized' ? 15 : 10);
  });

  it('fail a correct provider one token below twice the small job, when run', async () => {
    // The retry lacks one token, which the limiter refills over the wait the API asked only where that
    // wait is long enough: the shortest one asked (retry-after-ms of 1.5 s) is followed by the refill's.
    const id = `${group.prefix}error-429-retry-after-milliseconds`;
    expect(await failed(group, 2 * group.jobTokens - 1)).toEqual(
      expect.arrayContaining([`${id} [undici]`, `${id} [fetch]`]),
    );
  }, 60_000);

  it('pass a correct provider at twice the small job, and run there', async () => {
    const minute = 2 * group.jobTokens;
    expect(await failed(group, minute)).toEqual([]);
    expect(waitsFamily(group, minute)?.skipped).toBeUndefined();
    expect(waitsFamily(group, minute)?.scenarios).toContain(`${group.prefix}error-429-retry-after-seconds`);
  }, 60_000);

  it('are skipped, naming the limiter, one token below', () => {
    const minute = 2 * group.jobTokens - 1;
    expect(waitsFamily(group, minute)).toMatchObject({
      skipped: `the model's limiter allows ${minute} tokens a minute: the small job's call of ${group.jobTokens} tokens, retried, waits for the limiter's refill besides the wait the API asked`,
      scenarios: [],
    });
  });

  it('are skipped at a limiter of 8 tokens a minute, where the rest of the group passes', async () => {
    expect(waitsFamily(group, 8)?.skipped).toMatch(/^the model's limiter allows 8 tokens a minute: /);
    // The group's other scenarios pass there (its token budget split by the limiter's budget included).
    await checkReference({ list: GROUPS[group.name].list, reference: withOwnLimiter(group.reference, 8) });
  }, 60_000);
});
