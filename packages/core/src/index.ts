/**
 * `@embedkit/core`: what applications call. The engine (`embed`, `embedMany`, `embedStream`,
 * `embedContextualized`, `rerank`), rate limiters, errors, vector maths, cache, registry and the types.
 * What provider authors build with is in `@embedkit/core/provider`.
 */
export * from './batch-jobs.js';
export {
  type CacheFailureMessages,
  type CacheMiddlewareOptions,
  type CacheStore,
  type CacheStoreWarning,
  cacheFailureReporter,
  cacheKey,
  cacheMiddleware,
  checkCacheStoreArguments,
  createMemoryCacheStore,
  emitCacheWarning,
  type MemoryCacheStoreOptions,
} from './cache.js';
export { decodeEmbedding, type EncodeEmbeddingOptions, encodeEmbedding } from './cache-codec.js';
export {
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  type ContextualizedProviderOptionsOf,
  type EmbedContextualizedResult,
  type EmbedContextualizedSettings,
  embedContextualized,
  isContextualizedEmbeddingModel,
} from './contextualized.js';
export { type Clock, MAX_TIMER_MS, systemClock } from './engine/clock.js';
export {
  type EmbedManyResult,
  type EmbedResult,
  type EmbedStreamSettings,
  embed,
  embedMany,
  embedStream,
  type StreamedEmbedding,
} from './engine/embed.js';
export {
  type AttemptAnswered,
  type BucketSpec,
  createMemoryLimiterStore,
  createRateLimiter,
  isRateLimiter,
  type LimiterPermit,
  type LimiterRequest,
  type LimiterStore,
  type RateLimiter,
  type RateLimiterOptions,
} from './engine/limiter.js';
export {
  type CallSettings,
  checkEmbedRequest,
  DEFAULT_CONCURRENCY,
  type EmbedSettings,
  MAX_CONCURRENCY,
  MAX_RETRIES,
  type Progress,
  type RetryEvent,
  type WaitEvent,
} from './engine/settings.js';
export { estimateTokenCounter, type TokenCounter, utf8Length } from './engine/token-counter.js';
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
  RetryError,
  ServerError,
  TimeoutError,
} from './errors.js';
export { type EmbeddingModelMiddleware, wrapEmbeddingModel } from './middleware.js';
export { createRegistry, type Registry, type RegistryEmbeddingModel } from './registry.js';
export {
  type RankedDocument,
  type RerankingCapabilities,
  type RerankingModel,
  type RerankingProvider,
  type RerankingProviderOptionsOf,
  type RerankRequest,
  type RerankResponse,
  type RerankResult,
  type RerankScore,
  type RerankSettings,
  rerank,
} from './rerank.js';
export {
  type NearestIndex,
  type ScoredIndex,
  type SearchOptions,
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
  EmbeddingOf,
  EmbeddingProvider,
  EmbeddingProviderOptionsOf,
  EmbedInput,
  EmbedRequest,
  EmbedResponse,
  ImagePart,
  InputCheckSettings,
  InputType,
  Modality,
  OutputType,
  ProviderOptions,
  ProviderOptionsFor,
  ResponseInfo,
  Usage,
  Warning,
} from './types.js';
export { INPUT_TYPES, MODALITIES, OUTPUT_TYPES } from './types.js';
export {
  cosineSimilarity,
  dot,
  hammingDistance,
  type NumericVector,
  norm,
  normalize,
  normalizeInPlace,
  toNumberArray,
} from './vectors.js';
