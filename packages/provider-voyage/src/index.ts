export { parseVoyageError } from './voyage-api.js';
export { VoyageContextualizedEmbeddingModel } from './voyage-contextualized-model.js';
export { VoyageEmbeddingModel } from './voyage-embedding-model.js';
export { VoyageMultimodalEmbeddingModel } from './voyage-multimodal-model.js';
export {
  VOYAGE_AUTO_CHUNKING_LIMITS,
  VOYAGE_CONTEXTUALIZED_LIMITS,
  VOYAGE_EMBEDDING_MODELS,
  VOYAGE_MULTIMODAL_MODELS,
  VOYAGE_RERANKING_MODELS,
  type VoyageContextualizedModelId,
  type VoyageContextualizedOptions,
  type VoyageEmbeddingModelId,
  type VoyageEmbeddingOptions,
  type VoyageMultimodalModelId,
  type VoyageRerankingModelId,
  type VoyageRerankingOptions,
} from './voyage-options.js';
export {
  createVoyage,
  VOYAGE_ATLAS_BASE_URL,
  VOYAGE_BASE_URL,
  type VoyageProvider,
  type VoyageProviderSettings,
  voyage,
} from './voyage-provider.js';
export { VoyageRerankingModel } from './voyage-reranking-model.js';
export type { VoyageModelConfig } from './voyage-shared.js';
