export { parseGeminiError } from './gemini-api.js';
export {
  GeminiBatchEmbeddingJobs,
  type GeminiBatchJob,
  type GeminiBatchJobResults,
  type GeminiBatchState,
} from './gemini-batch-jobs.js';
export {
  type GeminiCallProviderOptions,
  type GeminiCreatedBatchJob,
  GeminiEmbeddingModel,
  type GeminiModelConfig,
} from './gemini-embedding-model.js';
export {
  GEMINI_MODELS,
  GEMINI_TASK_TYPES,
  type GeminiEmbeddingModelId,
  type GeminiProviderOptions,
  type GeminiTaskType,
} from './gemini-options.js';
export {
  createGemini,
  GEMINI_BASE_URL,
  type GeminiProvider,
  type GeminiProviderSettings,
  gemini,
} from './gemini-provider.js';
