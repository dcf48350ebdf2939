import {
  checkProviderSettings,
  createTransport,
  type EmbeddingProvider,
  loadApiKey,
  loadBaseURL,
  nonDefaultURL,
  PROVIDER_SETTING_NAMES,
  type ProviderSettings,
  type RerankingProvider,
  type SettingNames,
} from '@embedkit/core/provider';
import { parseVoyageError } from './voyage-api.js';
import { VoyageContextualizedEmbeddingModel } from './voyage-contextualized-model.js';
import { VoyageEmbeddingModel } from './voyage-embedding-model.js';
import { VoyageMultimodalEmbeddingModel } from './voyage-multimodal-model.js';
import {
  VOYAGE_CONTEXTUALIZED_CAPABILITIES,
  VOYAGE_CONTEXTUALIZED_LIMITS,
  type VoyageContextualizedModelId,
  type VoyageEmbeddingModelId,
  type VoyageMultimodalModelId,
  type VoyageRerankingModelId,
  voyageEmbeddingCapabilities,
  voyageMultimodalCapabilities,
  voyageRerankingCapabilities,
} from './voyage-options.js';
import { VoyageRerankingModel } from './voyage-reranking-model.js';
import type { VoyageModelConfig } from './voyage-shared.js';

/** The Voyage host, for keys created in the Voyage dashboard. */
export const VOYAGE_BASE_URL = 'https://api.voyageai.com/v1';
/** The MongoDB Atlas host, for Atlas model API keys (they begin `al-`). Same wire contract. */
export const VOYAGE_ATLAS_BASE_URL = 'https://ai.mongodb.com/v1';

export interface VoyageProviderSettings extends ProviderSettings {
  /** Default: the `VOYAGE_API_KEY` environment variable, read when a call is made. */
  apiKey?: string | undefined;
  /**
   * Default: the `VOYAGE_BASE_URL` environment variable, read when a call is made; else
   * `https://api.voyageai.com/v1`, or `https://ai.mongodb.com/v1` when the key begins `al-` (keys work on
   * one host only).
   */
  baseURL?: string | undefined;
  /** Extra headers on every call. */
  headers?: Record<string, string> | undefined;
}

export interface VoyageProvider extends EmbeddingProvider, RerankingProvider {
  /** A text embedding model, e.g. `voyage-3.5`. */
  embedding(modelId: VoyageEmbeddingModelId): VoyageEmbeddingModel;
  /** A contextualized chunk embedding model, e.g. `voyage-context-3`; use it with `embedContextualized`. */
  contextualizedEmbedding(modelId: VoyageContextualizedModelId): VoyageContextualizedEmbeddingModel;
  /** A multimodal (text and image) embedding model, e.g. `voyage-multimodal-3.5`. */
  multimodalEmbedding(modelId: VoyageMultimodalModelId): VoyageMultimodalEmbeddingModel;
  /** A reranker, e.g. `rerank-2.5`; use it with `rerank`. */
  reranking(modelId: VoyageRerankingModelId): VoyageRerankingModel;
}

const VOYAGE_SETTINGS: SettingNames<VoyageProviderSettings> = {
  ...PROVIDER_SETTING_NAMES,
  apiKey: true,
  baseURL: true,
  headers: true,
};

/** A Voyage provider. Settings are read once; the API key (and so the default host) at each call. */
export function createVoyage(settings: VoyageProviderSettings = {}): VoyageProvider {
  checkProviderSettings(settings, VOYAGE_SETTINGS, 'createVoyage');
  const transport = createTransport(settings);
  // The setting, else VOYAGE_BASE_URL; '' when neither names one (the default host depends on the key).
  const chosen = () =>
    loadBaseURL({
      baseURL: settings.baseURL,
      environmentVariables: ['VOYAGE_BASE_URL'],
      defaultURL: '',
      provider: 'voyage',
    });
  const chosenURL = () => chosen().url;
  const config: VoyageModelConfig = {
    provider: 'voyage',
    resolve() {
      const apiKey = loadApiKey({
        apiKey: settings.apiKey,
        environmentVariables: ['VOYAGE_API_KEY'],
        provider: 'voyage',
      });
      // Atlas model API keys authenticate only at ai.mongodb.com; dashboard keys only at api.voyageai.com.
      const { url, origin } = chosen();
      const baseURL = url !== '' ? url : apiKey.startsWith('al-') ? VOYAGE_ATLAS_BASE_URL : VOYAGE_BASE_URL;
      return {
        baseURL,
        baseURLOrigin: origin,
        headers: { authorization: `Bearer ${apiKey}`, ...settings.headers },
        secrets: [apiKey],
      };
    },
    transport,
    parseError: parseVoyageError,
    maxResponseBytes: settings.maxResponseBytes,
    rateLimiter: settings.rateLimit,
    customBaseURL() {
      const chosen = chosenURL();
      return chosen === '' ? undefined : nonDefaultURL(chosen, [VOYAGE_BASE_URL, VOYAGE_ATLAS_BASE_URL]);
    },
  };
  return {
    embedding: (modelId) => new VoyageEmbeddingModel(modelId, voyageEmbeddingCapabilities(modelId), config),
    contextualizedEmbedding: (modelId) =>
      new VoyageContextualizedEmbeddingModel(
        modelId,
        VOYAGE_CONTEXTUALIZED_CAPABILITIES,
        VOYAGE_CONTEXTUALIZED_LIMITS,
        config,
      ),
    multimodalEmbedding: (modelId) =>
      new VoyageMultimodalEmbeddingModel(modelId, voyageMultimodalCapabilities(modelId), config),
    reranking: (modelId) => new VoyageRerankingModel(modelId, voyageRerankingCapabilities(modelId), config),
  };
}

/** The default Voyage provider: key from `VOYAGE_API_KEY`, API root from `VOYAGE_BASE_URL` when set. */
export const voyage: VoyageProvider = createVoyage();
