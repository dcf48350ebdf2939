export { loadCassettes, recordCassette, replayCassette, scrubCassette } from './cassettes.js';
export {
  describeEmbeddingProvider,
  expectFailure,
  runConformance,
  type ScenarioOutcome,
} from './describe.js';
export * from './groups/batch-jobs.js';
export * from './groups/contextualized.js';
export * from './groups/rerank.js';
export { createFakeClock, createHarness, type FakeClock, fakeApiKey, type Harness } from './harness.js';
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
  listScenarios,
  type Scenario,
  type ScenarioMode,
  TINY_MODE,
  vectorFor,
} from './scenarios.js';
export type {
  Cassette,
  CreateModelOptions,
  DescribeEmbeddingProviderOptions,
  WireProfile,
  WireRequest,
} from './types.js';
export { openAICompatibleWire } from './wires/openai-compatible.js';
