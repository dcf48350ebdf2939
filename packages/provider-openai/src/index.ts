export { createOpenAI, createOpenAICompatible, openai, type OpenAICompatibleSettings, type OpenAIProvider, type OpenAIProviderSettings } from './openai-provider.js';
export { OpenAIEmbeddingModel } from './openai-embedding-model.js';
export { OPENAI_MODELS, type OpenAIEmbeddingModelId, type OpenAIProviderOptions } from './openai-options.js';
export { parseOpenAIError } from './openai-api.js';
