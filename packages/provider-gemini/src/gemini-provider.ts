import {
  checkProviderSettings,
  createTransport,
  type EmbeddingProvider,
  loadApiKey,
  loadBaseURL,
  nonDefaultURL,
  PROVIDER_SETTING_NAMES,
  type ProviderSettings,
  type SettingNames,
} from '@embedkit/core/provider';
import { GeminiBatchEmbeddingJobs } from './gemini-batch-jobs.js';
import {
  type GeminiCreatedBatchJob,
  GeminiEmbeddingModel,
  type GeminiModelConfig,
} from './gemini-embedding-model.js';
import { type GeminiEmbeddingModelId, geminiCapabilities } from './gemini-options.js';

/** The Gemini API root. */
export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

export interface GeminiProviderSettings extends ProviderSettings {
  /** Default: `GEMINI_API_KEY`, then `GOOGLE_API_KEY`, read when a call is made. Sent as `x-goog-api-key`, never in the URL. */
  apiKey?: string | undefined;
  /**
   * Default: `GEMINI_BASE_URL` (the API root, as this setting), else `GOOGLE_GEMINI_BASE_URL` (Google's SDKs'
   * variable: a host, to which `/v1beta` is appended as they do), read when a call is made; else
   * `https://generativelanguage.googleapis.com/v1beta`.
   */
  baseURL?: string | undefined;
  /** Extra headers on every call. */
  headers?: Record<string, string> | undefined;
}

export interface GeminiProvider extends EmbeddingProvider {
  /** A Gemini embedding model, e.g. `gemini-embedding-001`. */
  embedding(modelId: GeminiEmbeddingModelId): GeminiEmbeddingModel;
  /** Asynchronous batch embedding jobs (the Batch API) of one model, e.g. `gemini-embedding-001`. */
  batchEmbeddingJobs(modelId: GeminiEmbeddingModelId): GeminiBatchEmbeddingJobs;
}

const GEMINI_SETTINGS: SettingNames<GeminiProviderSettings> = {
  ...PROVIDER_SETTING_NAMES,
  apiKey: true,
  baseURL: true,
  headers: true,
};

/** A Gemini API provider. Settings are read once; the API key is read at each call. */
export function createGemini(settings: GeminiProviderSettings = {}): GeminiProvider {
  checkProviderSettings(settings, GEMINI_SETTINGS, 'createGemini');
  const transport = createTransport(settings);
  const loadedBaseURL = () =>
    loadBaseURL({
      baseURL: settings.baseURL,
      environmentVariables: ['GEMINI_BASE_URL', 'GOOGLE_GEMINI_BASE_URL'],
      defaultURL: GEMINI_BASE_URL,
      provider: 'gemini',
    });
  const baseURL = () => {
    const { url, source } = loadedBaseURL();
    // Google's SDKs read GOOGLE_GEMINI_BASE_URL as a host and add the API version themselves.
    return source === 'GOOGLE_GEMINI_BASE_URL' ? `${url.replace(/\/+$/, '')}/v1beta` : url;
  };
  const headers = () => {
    const apiKey = loadApiKey({
      apiKey: settings.apiKey,
      environmentVariables: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
      provider: 'gemini',
    });
    return { headers: { 'x-goog-api-key': apiKey, ...settings.headers }, secrets: [apiKey] };
  };
  // Shared by every batch-job client of this provider: results() of a job made here knows its size.
  const createdBatchJobs = new Map<string, GeminiCreatedBatchJob>();
  const config = (modelId: string): GeminiModelConfig => ({
    provider: 'gemini',
    baseURL,
    baseURLOrigin: () => loadedBaseURL().origin,
    customBaseURL: () => nonDefaultURL(baseURL(), [GEMINI_BASE_URL]),
    headers,
    transport,
    capabilities: geminiCapabilities(String(modelId).replace(/^models\//, '')),
    rateLimiter: settings.rateLimit,
    createdBatchJobs,
    ...(settings.maxResponseBytes === undefined ? {} : { maxResponseBytes: settings.maxResponseBytes }),
  });
  return {
    embedding: (modelId) => new GeminiEmbeddingModel(modelId, config(modelId)),
    batchEmbeddingJobs: (modelId) => new GeminiBatchEmbeddingJobs(modelId, config(modelId)),
  };
}

/** The default Gemini provider: key from `GEMINI_API_KEY` or `GOOGLE_API_KEY`, API root from `GEMINI_BASE_URL` when set. */
export const gemini: GeminiProvider = createGemini();
