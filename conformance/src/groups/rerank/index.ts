/**
 * Conformance scenarios for reranking (`RerankingModel.doRerank` + `rerank`), usable by any provider with
 * a reranker (Voyage, Jina): the families of this folder, again with tiny batches, the families every
 * group shares, and cassettes.
 */
import { describe } from 'vitest';
import { registerScenarioList, withCassettes } from '../../describe.js';
import { sharedFamilies } from '../../families/index.js';
import { buildScenarios, type Family, type Scenario, type ScenarioList } from '../../suite/family.js';
import { refuseUnknownFields } from '../../suite/fields.js';
import { rerankingBasics } from './basics.js';
import { rerankingFlags } from './flags.js';
import { rerankingLimits } from './limits.js';
import {
  type DescribeRerankingProviderOptions,
  RERANKING_PROVIDER_SHAPE,
  RERANKING_TINY_MODE,
  type RerankingSuite,
  type RerankingWorld,
  rerankingJobPass,
  rerankingPass,
} from './suite.js';

export {
  type DescribeRerankingProviderOptions,
  type RerankingAnswer,
  type RerankingMode,
  type RerankingSuite,
  type RerankingWireProfile,
  type RerankingWorld,
  relevanceFor,
} from './suite.js';

/** A rerank scenario (the same shape as every scenario of the suite). */
export type RerankingScenario = Scenario;

export const RERANKING_FAMILIES: readonly Family<RerankingSuite, RerankingWorld>[] = [
  rerankingBasics,
  rerankingLimits,
  rerankingFlags,
];

/**
 * Every rerank scenario the model's capabilities call for (cassettes included), and the report. An
 * unknown option or wire field is refused.
 */
export function listRerankingScenarioList(options: DescribeRerankingProviderOptions): ScenarioList {
  refuseUnknownFields(options, RERANKING_PROVIDER_SHAPE, 'listRerankingScenarioList');
  return rerankingScenarioList(options);
}

function rerankingScenarioList(options: DescribeRerankingProviderOptions): ScenarioList {
  const main = rerankingPass(options, { name: 'default' });
  const passes = [main];
  if (options.rerunWithTinyBatches !== false && main.suite.cap > 2)
    passes.push(rerankingPass(options, RERANKING_TINY_MODE));
  const own = buildScenarios('rerank', RERANKING_FAMILIES, passes);
  const shared = buildScenarios('rerank', sharedFamilies, [rerankingJobPass(options)]);
  return withCassettes(
    { scenarios: [...own.scenarios, ...shared.scenarios], families: [...own.families, ...shared.families] },
    'rerank',
    {
      name: options.name,
      baseURL: options.baseURL,
      createModel: options.createModel,
      kind: 'rerank',
      ...(options.cassettes === undefined ? {} : { cassettes: options.cassettes }),
    },
  );
}

/** The rerank scenarios, cassettes included. */
export function listRerankingScenarios(options: DescribeRerankingProviderOptions): RerankingScenario[] {
  refuseUnknownFields(options, RERANKING_PROVIDER_SHAPE, 'listRerankingScenarios');
  return rerankingScenarioList(options).scenarios;
}

/**
 * Registers the rerank scenarios for one provider through both transports. An id listed in
 * `expectedFailures` shows as skipped while it fails and fails the run once it passes; families that do
 * not apply show as skipped with the reason. An option or wire field the group does not know is refused
 * when this is called, before any test is registered.
 */
export function describeRerankingProvider(options: DescribeRerankingProviderOptions): void {
  refuseUnknownFields(options, RERANKING_PROVIDER_SHAPE, 'describeRerankingProvider');
  describe(`${options.name} reranking conformance`, () =>
    registerScenarioList(rerankingScenarioList(options), options.expectedFailures));
}
