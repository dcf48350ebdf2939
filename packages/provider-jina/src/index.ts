export { parseJinaError } from './jina-api.js';
export { JinaContextualizedEmbeddingModel } from './jina-contextualized-model.js';
export { JinaEmbeddingModel } from './jina-embedding-model.js';
export {
  JINA_EMBEDDING_MODELS,
  JINA_MAX_INPUTS_PER_CALL,
  JINA_RERANKING_MODELS,
  type JinaContextualizedModelId,
  type JinaEmbeddingModelId,
  type JinaEmbeddingOptions,
  type JinaModelProfile,
  type JinaRerankingModelId,
  type JinaRerankingOptions,
} from './jina-options.js';
export {
  createJina,
  JINA_BASE_URL,
  type JinaProvider,
  type JinaProviderSettings,
  jina,
} from './jina-provider.js';
export { JinaRerankingModel } from './jina-reranking-model.js';
export type { JinaModelConfig } from './jina-shared.js';
