/**
 * `@embedkit/ai-sdk`: embedkit models inside the Vercel AI SDK (`toAISDK`), and any AI SDK embedding
 * model inside embedkit (`fromAISDK`).
 */
export {
  type AISDKEmbeddingModel,
  type FromAISDKCapabilities,
  type FromAISDKOptions,
  fromAISDK,
  type InputTypeOptions,
} from './from-ai-sdk.js';
export { EMBEDKIT_OPTIONS_KEY, type ToAISDKSettings, toAISDK } from './to-ai-sdk.js';
