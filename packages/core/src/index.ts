export * from './batch-jobs.js';
export { type CacheStore, cacheKey, cacheMiddleware, createMemoryCacheStore } from './cache.js';
export * from './contextualized.js';
export { type Clock, systemClock } from './engine/clock.js';
export {
  type EmbedManyResult,
  type EmbedResult,
  embed,
  embedMany,
  embedStream,
  type StreamedEmbedding,
} from './engine/embed.js';
export type { RateLimit } from './engine/rate-limiter.js';
export type { EmbedSettings, Progress, RetryEvent, WaitEvent } from './engine/settings.js';
export { estimateTokenCounter, type TokenCounter, utf8Length } from './engine/token-counter.js';
export {
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
  RetryError,
  ServerError,
  TimeoutError,
} from './errors.js';
export {
  createTransport,
  errorForStatus,
  type HttpSettings,
  type JsonResponse,
  type ParsedError,
  type RequestJsonOptions,
  requestJson,
  VERSION,
} from './http/client.js';
export { createFetchTransport, type FetchFunction } from './http/fetch-transport.js';
export { redact } from './http/redact.js';
export { parseDuration, parseRetryAfter } from './http/retry-after.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './http/transport.js';
export type { DispatcherOptions } from './http/undici-transport.js';
export { type EmbeddingModelMiddleware, wrapEmbeddingModel } from './middleware.js';
export {
  decodeVectors,
  inOrder,
  loadApiKey,
  parseDataUrl,
  parseResponse,
  readProviderOptions,
  responseInfo,
  type SafeParser,
} from './provider-utils.js';
export { createRegistry, type Registry } from './registry.js';
export * from './rerank.js';
export {
  type NearestIndex,
  type ScoredIndex,
  type TopKOptions,
  topK,
  topKHamming,
  topKInt8,
} from './search/top-k.js';
export type {
  ContentPart,
  Embedding,
  EmbeddingCapabilities,
  EmbeddingModel,
  EmbeddingProvider,
  EmbedInput,
  EmbedRequest,
  EmbedResponse,
  ImagePart,
  InputType,
  Modality,
  OutputType,
  ResponseInfo,
  Usage,
  Warning,
} from './types.js';
export { INPUT_TYPES } from './types.js';
export {
  base64ToFloat32,
  base64ToInt8,
  base64ToUint8,
  bytesToBase64,
  bytesToFloat32,
  cosineSimilarity,
  decodeBase64Vectors,
  dot,
  float32ToBase64,
  hammingDistance,
  norm,
  normalize,
  normalizeInPlace,
  numberArraysToVectors,
  vectorLength,
} from './vectors.js';
