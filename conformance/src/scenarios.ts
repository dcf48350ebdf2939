/**
 * The embeddings scenarios: the families of `embeddings/` (each a flat list of cases with the bug it
 * catches), run once and, for the families that split work, again with tiny batches; then the families
 * every group shares.
 */
import { basics } from './embeddings/basics.js';
import { dimensions } from './embeddings/dimensions.js';
import { inputTypes } from './embeddings/input-types.js';
import { limits } from './embeddings/limits.js';
import { malformedAnswers } from './embeddings/malformed-answers.js';
import { memory } from './embeddings/memory.js';
import { options } from './embeddings/options.js';
import { outputTypes } from './embeddings/output-types.js';
import { realText } from './embeddings/real-text.js';
import {
  DEFAULT_MODE,
  type EmbeddingScenarioOptions,
  type EmbeddingSuite,
  embeddingJobPass,
  embeddingPass,
  type ScenarioMode,
  TINY_MODE,
} from './embeddings/suite.js';
import { truncation } from './embeddings/truncation.js';
import { sharedFamilies } from './families/index.js';
import type { Harness } from './harness.js';
import { buildScenarios, type Family, type Scenario, type ScenarioList } from './suite/family.js';
import { EMBEDDING_PROVIDER_SHAPE, refuseUnknownFields } from './suite/fields.js';

export {
  DEFAULT_MODE,
  type EmbeddingAnswer,
  type EmbeddingScenarioOptions,
  type EmbeddingSuite,
  type ScenarioMode,
  TINY_MODE,
} from './embeddings/suite.js';
export { vectorFor } from './suite/answers.js';
export type { Scenario } from './suite/family.js';

/** The embeddings families, in report order. */
export const EMBEDDING_FAMILIES: readonly Family<EmbeddingSuite, Harness>[] = [
  basics,
  limits,
  dimensions,
  inputTypes,
  outputTypes,
  truncation,
  options,
  realText,
  malformedAnswers,
  memory,
];

/**
 * Every embeddings scenario the model's capabilities and wire profile call for, and the report of which
 * families ran and which were skipped (and why). `tinyBatches` re-runs the splitting families with
 * `maxInputsPerCall: 2` and `concurrency: 1`. An unknown option or wire field is refused.
 */
export function listEmbeddingScenarios(
  options: EmbeddingScenarioOptions,
  settings: { tinyBatches?: boolean } = {},
): ScenarioList {
  refuseUnknownFields(options, EMBEDDING_PROVIDER_SHAPE, 'listEmbeddingScenarios');
  return embeddingScenarios(options, settings);
}

/** `listEmbeddingScenarios` for options already checked. */
export function embeddingScenarios(
  options: EmbeddingScenarioOptions,
  settings: { tinyBatches?: boolean } = {},
): ScenarioList {
  const passes = [embeddingPass(options, DEFAULT_MODE)];
  if (settings.tinyBatches !== false && passes[0]!.suite.capabilities.maxInputsPerCall > 2)
    passes.push(embeddingPass(options, TINY_MODE));
  const own = buildScenarios('embeddings', EMBEDDING_FAMILIES, passes);
  const shared = buildScenarios('embeddings', sharedFamilies, [embeddingJobPass(options)]);
  return {
    scenarios: [...own.scenarios, ...shared.scenarios],
    families: [...own.families, ...shared.families],
  };
}

/** The scenarios of one mode: every family in the default mode, the splitting ones in the tiny-batch mode. */
export function listScenarios(
  options: EmbeddingScenarioOptions,
  mode: ScenarioMode = DEFAULT_MODE,
): Scenario[] {
  refuseUnknownFields(options, EMBEDDING_PROVIDER_SHAPE, 'listScenarios');
  if (mode.name !== 'default')
    return buildScenarios('embeddings', EMBEDDING_FAMILIES, [embeddingPass(options, mode)]).scenarios;
  return embeddingScenarios(options, { tinyBatches: false }).scenarios;
}
