import {
  checkProviderSettings,
  createTransport,
  type EmbeddingProvider,
  InvalidArgumentError,
  loadApiKey,
  loadBaseURL,
  nonDefaultURL,
  PROVIDER_SETTING_NAMES,
  type ProviderSettings,
  type RerankingProvider,
  type SettingNames,
} from '@embedkit/core/provider';
import { parseJinaError } from './jina-api.js';
import { JinaContextualizedEmbeddingModel } from './jina-contextualized-model.js';
import { JinaEmbeddingModel } from './jina-embedding-model.js';
import {
  type JinaContextualizedModelId,
  type JinaEmbeddingModelId,
  type JinaRerankingModelId,
  jinaContextualizedLimits,
  jinaEmbeddingProfile,
  jinaEmbeddingRefusal,
  jinaRerankingCapabilities,
} from './jina-options.js';
import { JinaRerankingModel } from './jina-reranking-model.js';
import type { JinaModelConfig } from './jina-shared.js';

/** The Jina API root; every path is under `/v1`. */
export const JINA_BASE_URL = 'https://api.jina.ai/v1';

export interface JinaProviderSettings extends ProviderSettings {
  /** Default: the `JINA_API_KEY` environment variable, read when a call is made. */
  apiKey?: string | undefined;
  /** Default: the `JINA_BASE_URL` environment variable, read when a call is made, else `https://api.jina.ai/v1`. */
  baseURL?: string | undefined;
  /** Extra headers on every call. */
  headers?: Record<string, string> | undefined;
}

export interface JinaProvider extends EmbeddingProvider, RerankingProvider {
  /** An embedding model, e.g. `jina-embeddings-v3`; v4 and `jina-clip-v2` take images too. */
  embedding(modelId: JinaEmbeddingModelId): JinaEmbeddingModel;
  /** A model with late chunking (`jina-embeddings-v3`, `jina-embeddings-v4`); use it with `embedContextualized`. */
  contextualizedEmbedding(modelId: JinaContextualizedModelId): JinaContextualizedEmbeddingModel;
  /** A reranker, e.g. `jina-reranker-v3`; use it with `rerank`. */
  reranking(modelId: JinaRerankingModelId): JinaRerankingModel;
}

const JINA_SETTINGS: SettingNames<JinaProviderSettings> = {
  ...PROVIDER_SETTING_NAMES,
  apiKey: true,
  baseURL: true,
  headers: true,
};

/** A Jina provider. Settings are read once; the API key at each call. */
export function createJina(settings: JinaProviderSettings = {}): JinaProvider {
  checkProviderSettings(settings, JINA_SETTINGS, 'createJina');
  const transport = createTransport(settings);
  const loadedBaseURL = () =>
    loadBaseURL({
      baseURL: settings.baseURL,
      environmentVariables: ['JINA_BASE_URL'],
      defaultURL: JINA_BASE_URL,
      provider: 'jina',
    });
  const baseURL = () => loadedBaseURL().url;
  const config: JinaModelConfig = {
    provider: 'jina',
    resolve() {
      const apiKey = loadApiKey({
        apiKey: settings.apiKey,
        environmentVariables: ['JINA_API_KEY'],
        provider: 'jina',
      });
      const { url, origin } = loadedBaseURL();
      return {
        baseURL: url,
        baseURLOrigin: origin,
        headers: { authorization: `Bearer ${apiKey}`, ...settings.headers },
        secrets: [apiKey],
      };
    },
    transport,
    parseError: parseJinaError,
    maxResponseBytes: settings.maxResponseBytes,
    rateLimiter: settings.rateLimit,
    customBaseURL: () => nonDefaultURL(baseURL(), [JINA_BASE_URL]),
  };
  return {
    embedding(modelId) {
      // Sent, a ColBERT or sparse model's answer would fail on every call, after the call was paid for.
      const refusal = jinaEmbeddingRefusal(modelId);
      if (refusal !== undefined) throw new InvalidArgumentError(refusal, { argument: 'modelId' });
      return new JinaEmbeddingModel(modelId, jinaEmbeddingProfile(modelId), config);
    },
    contextualizedEmbedding(modelId) {
      const profile = jinaEmbeddingProfile(modelId);
      if (!profile.lateChunking) {
        throw new InvalidArgumentError(
          `jina model ${modelId} has no late chunking; use jina-embeddings-v3 or jina-embeddings-v4.`,
          { argument: 'modelId' },
        );
      }
      return new JinaContextualizedEmbeddingModel(
        modelId,
        profile,
        jinaContextualizedLimits(profile.capabilities),
        config,
      );
    },
    reranking: (modelId) => new JinaRerankingModel(modelId, jinaRerankingCapabilities(modelId), config),
  };
}

/** The default Jina provider: key from `JINA_API_KEY`, API root from `JINA_BASE_URL` when set. */
export const jina: JinaProvider = createJina();
