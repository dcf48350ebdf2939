export { parseOpenAIError } from './openai-api.js';
export { OpenAIEmbeddingModel, type OpenAIModelConfig } from './openai-embedding-model.js';
export { OPENAI_MODELS, type OpenAIEmbeddingModelId, type OpenAIProviderOptions } from './openai-options.js';
export {
  createOpenAI,
  createOpenAICompatible,
  OPENAI_BASE_URL,
  type OpenAICompatibleSettings,
  type OpenAIEncodingFormat,
  type OpenAIProvider,
  type OpenAIProviderSettings,
  openai,
} from './openai-provider.js';
