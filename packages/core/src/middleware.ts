import { defaultLimiter } from './engine/limiter.js';
import type { EmbeddingModel, EmbedRequest, EmbedResponse } from './types.js';

/** Changes how a model is called without changing the model. */
export interface EmbeddingModelMiddleware {
  /** Rewrites each request before it reaches the model. */
  transformRequest?(options: {
    request: EmbedRequest;
    model: EmbeddingModel;
  }): EmbedRequest | Promise<EmbedRequest>;
  /** Wraps each call; call `doEmbed` to reach the model (or the next middleware). */
  wrapEmbed?(options: {
    doEmbed: (request: EmbedRequest) => Promise<EmbedResponse>;
    request: EmbedRequest;
    model: EmbeddingModel;
  }): Promise<EmbedResponse>;
}

/**
 * A model that runs every call through `middleware` (the first in a list is the outermost). The wrapped
 * model keeps the provider, id, capabilities, limiter and custom base URL of the original.
 */
export function wrapEmbeddingModel(
  model: EmbeddingModel,
  middleware: EmbeddingModelMiddleware | readonly EmbeddingModelMiddleware[],
): EmbeddingModel {
  const layers = Array.isArray(middleware) ? [...middleware] : [middleware as EmbeddingModelMiddleware];
  let doEmbed = (request: EmbedRequest) => model.doEmbed(request);
  for (const layer of layers.reverse()) {
    const next = doEmbed;
    doEmbed = async (request: EmbedRequest) => {
      const transformed =
        layer.transformRequest === undefined ? request : await layer.transformRequest({ request, model });
      return layer.wrapEmbed === undefined
        ? next(transformed)
        : layer.wrapEmbed({ doEmbed: next, request: transformed, model });
    };
  }
  const wrapped: EmbeddingModel = {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    capabilities: model.capabilities,
    doEmbed,
  };
  if (model.customBaseURL !== undefined) wrapped.customBaseURL = () => model.customBaseURL?.();
  // The wrapped model draws on the original's limiter, so both share one budget and one 429 pause.
  return { ...wrapped, rateLimiter: model.rateLimiter ?? defaultLimiter(model) };
}
