/**
 * Conformance scenarios for contextualized chunk embeddings (`doEmbedContextualized` +
 * `embedContextualized`), usable by any provider that implements them (Voyage `voyage-context-3`, Jina
 * late chunking): the families of this folder, again with tiny batches, the families every group shares,
 * and cassettes.
 */
import { describe } from 'vitest';
import { registerScenarioList, withCassettes } from '../../describe.js';
import { sharedFamilies } from '../../families/index.js';
import { buildScenarios, type Family, type Scenario, type ScenarioList } from '../../suite/family.js';
import { refuseUnknownFields } from '../../suite/fields.js';
import { contextualizedBasics } from './basics.js';
import { contextualizedLimits } from './limits.js';
import {
  CONTEXTUALIZED_PROVIDER_SHAPE,
  CONTEXTUALIZED_TINY_MODE,
  type ContextualizedSuite,
  type ContextualizedWorld,
  contextualizedJobPass,
  contextualizedPass,
  type DescribeContextualizedProviderOptions,
} from './suite.js';
import { contextualizedVectorSettings } from './vector-settings.js';

export type {
  ContextualizedAnswer,
  ContextualizedMode,
  ContextualizedSuite,
  ContextualizedWireProfile,
  ContextualizedWorld,
  DescribeContextualizedProviderOptions,
} from './suite.js';

/** A contextualized scenario (the same shape as every scenario of the suite). */
export type ContextualizedScenario = Scenario;

export const CONTEXTUALIZED_FAMILIES: readonly Family<ContextualizedSuite, ContextualizedWorld>[] = [
  contextualizedBasics,
  contextualizedLimits,
  contextualizedVectorSettings,
];

/**
 * Every contextualized scenario the model's capabilities call for (cassettes included), and the report.
 * An unknown option or wire field is refused.
 */
export function listContextualizedScenarioList(options: DescribeContextualizedProviderOptions): ScenarioList {
  refuseUnknownFields(options, CONTEXTUALIZED_PROVIDER_SHAPE, 'listContextualizedScenarioList');
  return contextualizedScenarioList(options);
}

function contextualizedScenarioList(options: DescribeContextualizedProviderOptions): ScenarioList {
  const main = contextualizedPass(options, { name: 'default' });
  const passes = [main];
  if (options.rerunWithTinyBatches !== false && main.suite.cap > 2)
    passes.push(contextualizedPass(options, CONTEXTUALIZED_TINY_MODE));
  const own = buildScenarios('contextualized', CONTEXTUALIZED_FAMILIES, passes);
  const shared = buildScenarios('contextualized', sharedFamilies, [contextualizedJobPass(options)]);
  return withCassettes(
    { scenarios: [...own.scenarios, ...shared.scenarios], families: [...own.families, ...shared.families] },
    'contextualized',
    { ...options, kind: 'contextualized' },
  );
}

/** The contextualized scenarios, cassettes included. */
export function listContextualizedScenarios(
  options: DescribeContextualizedProviderOptions,
): ContextualizedScenario[] {
  refuseUnknownFields(options, CONTEXTUALIZED_PROVIDER_SHAPE, 'listContextualizedScenarios');
  return contextualizedScenarioList(options).scenarios;
}

/**
 * Registers the contextualized scenarios for one provider through both transports. An id listed in
 * `expectedFailures` shows as skipped while it fails and fails the run once it passes; families that do
 * not apply show as skipped with the reason. An option or wire field the group does not know is refused
 * when this is called, before any test is registered.
 */
export function describeContextualizedProvider(options: DescribeContextualizedProviderOptions): void {
  refuseUnknownFields(options, CONTEXTUALIZED_PROVIDER_SHAPE, 'describeContextualizedProvider');
  describe(`${options.name} contextualized conformance`, () =>
    registerScenarioList(contextualizedScenarioList(options), options.expectedFailures));
}
