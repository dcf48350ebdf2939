export {
  bodyDifferences,
  type CassetteSuite,
  loadCassettes,
  recordCassette,
  replayCassette,
  scrubCassette,
} from './cassettes.js';
export {
  type ConformanceReport,
  describeEmbeddingProvider,
  expectFailure,
  registerScenarioList,
  runConformance,
  runScenarios,
  type ScenarioFilter,
  type ScenarioOutcome,
} from './describe.js';
export * from './groups/batch-jobs.js';
export * from './groups/contextualized/index.js';
export * from './groups/rerank/index.js';
export {
  createFakeClock,
  createHarness,
  createWorld,
  type FakeClock,
  fakeApiKey,
  type Harness,
  type World,
  type WorldOptions,
  type WorldVariant,
} from './harness.js';
export {
  createInterceptor,
  type ExpectOptions,
  type Interceptor,
  type ReplyHandler,
  TRANSPORT_KINDS,
  type TransportKind,
  type WireReply,
} from './interceptor.js';
export {
  createReplayDispatcher,
  createReplayFetch,
  type ReplayDispatcher,
  type ReplayFetch,
  readCassette,
  readCassetteDirectory,
} from './replay.js';
export {
  DEFAULT_MODE,
  EMBEDDING_FAMILIES,
  type EmbeddingAnswer,
  type EmbeddingScenarioOptions,
  type EmbeddingSuite,
  listEmbeddingScenarios,
  listScenarios,
  type Scenario,
  type ScenarioMode,
  TINY_MODE,
  vectorFor,
} from './scenarios.js';
export { encodeVector, reencodeVectors, valuesFor } from './suite/answers.js';
export {
  type CallLimits,
  type Case,
  describeFamilies,
  type Family,
  type FamilyReport,
  type ScenarioList,
  type SkippedCase,
} from './suite/family.js';
export type {
  Cassette,
  CassetteCall,
  CreateModelOptions,
  DescribeEmbeddingProviderOptions,
  ErrorKind,
  ErrorSignals,
  OptionExample,
  VectorEncoding,
  VectorSettingsWire,
  WaitForms,
  WireBasics,
  WireItem,
  WireProfile,
  WireRequest,
} from './types.js';
export {
  type OpenAICompatibleWireOptions,
  openAICompatibleWire,
  openAIErrorBody,
  openAIStyleAnswer,
  unknownKeys,
} from './wires/openai-compatible.js';
