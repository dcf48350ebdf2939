/**
 * `@embedkit/core/provider`: what provider authors build with. Requests and transports, error mapping,
 * response parsing and ordering, vector decoding, and the contract's types and errors again, so that a
 * provider imports from one place. Applications use `@embedkit/core`.
 */

export { describeValue } from './argument-checks.js';
export type {
  BatchEmbeddingJobs,
  BatchJob,
  BatchJobCallOptions,
  BatchJobItemError,
  BatchJobRequestCounts,
  BatchJobResults,
  BatchJobState,
  CreateBatchJobOptions,
  WaitForBatchJobOptions,
} from './batch-jobs.js';
export {
  type BatchJobOperation,
  isFinalBatchJobState,
  sendBatchJobRequest,
  waitForBatchJob,
} from './batch-jobs.js';
export type {
  ContextualizedCapabilities,
  ContextualizedEmbeddingModel,
  ContextualizedEmbedRequest,
  ContextualizedEmbedResponse,
  ContextualizedProviderOptionsOf,
} from './contextualized.js';
export { countMismatch } from './engine/checks.js';
export type { RateLimiter } from './engine/limiter.js';
export { Tally } from './engine/runner.js';
export {
  checkCapabilityNames,
  checkEmbeddingModel,
  checkEmbedRequest,
  checkInput,
  checkVectorSettings,
  EMBED_SETTING_NAMES,
  EMBEDDING_CAPABILITY_NAMES,
} from './engine/settings.js';
export {
  type AnyEmbedKitError,
  AuthenticationError,
  ConnectionError,
  EmbedKitError,
  type ErrorCode,
  type ErrorDetails,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  isAbortError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RETRIED_CLAUSE,
  RETRIES_SPENT_CLAUSE,
  RetryError,
  ServerError,
  TimeoutError,
} from './errors.js';
export {
  type BaseURLOrigin,
  createTransport,
  DEFAULT_REQUEST_ID_HEADERS,
  errorForStatus,
  type HttpSettings,
  type JsonResponse,
  type ParsedError,
  type RequestJsonOptions,
  requestJson,
  type StatusErrorInput,
  VERSION,
} from './http/client.js';
export { createFetchTransport, type FetchFunction } from './http/fetch-transport.js';
export {
  base64Forms,
  compileRedaction,
  isAccountHeaderName,
  isSecretFieldName,
  isSecretHeaderName,
  isSecretParameterName,
  type Redaction,
  type RedactionOptions,
  redact,
  redactGivenUrl,
  secretsOfCall,
} from './http/redact.js';
export { parseDuration, parseRetryAfter } from './http/retry-after.js';
export {
  bodyFailure,
  DEFAULT_MAX_RESPONSE_BYTES,
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './http/transport.js';
export type { DispatcherOptions } from './http/undici-transport.js';
export {
  type AnswerOf,
  checkProviderSettings,
  decodeAnswer,
  decodeVectors,
  inOrder,
  inputText,
  type JsonEndpoint,
  loadApiKey,
  loadBaseURL,
  loadHeaderSetting,
  loneVectorProblem,
  nonDefaultURL,
  ownEntry,
  PROVIDER_SETTING_NAMES,
  type ProviderSettings,
  parseDataUrl,
  parseResponse,
  placeByIndex,
  postJson,
  readProviderOptions,
  responseInfo,
  type SafeParser,
  type SchemaIssue,
} from './provider-utils.js';
export type {
  RerankingCapabilities,
  RerankingModel,
  RerankingProvider,
  RerankingProviderOptionsOf,
  RerankRequest,
  RerankResponse,
  RerankScore,
} from './rerank.js';
export * as schema from './schema.js';
export {
  closestName,
  omitSettingNames,
  refuseUnknownSettings,
  type SettingNames,
  type UnknownSettingsOptions,
} from './setting-names.js';
export type * from './types.js';
export { INPUT_TYPES, MODALITIES, OUTPUT_TYPES } from './types.js';
export {
  base64ToFloat32,
  base64ToInt8,
  base64ToUint8,
  bytesToBase64,
  bytesToFloat32,
  decodeBase64Vectors,
  float32ToBase64,
  nonFiniteValue,
  numberArraysToVectors,
  vectorLength,
} from './vectors.js';
