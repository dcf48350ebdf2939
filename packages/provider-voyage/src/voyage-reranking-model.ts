import {
  type ProviderOptionsFor,
  parseResponse,
  postJson,
  type RateLimiter,
  type RerankingCapabilities,
  type RerankingModel,
  type RerankRequest,
  type RerankResponse,
  readProviderOptions,
  responseInfo,
} from '@embedkit/core/provider';
import { voyageRerankResponseSchema } from './voyage-api.js';
import { type VoyageRerankingOptions, voyageRerankingOptionsSchema } from './voyage-options.js';
import type { VoyageModelConfig } from './voyage-shared.js';

/** A Voyage reranker (`rerank-2.5`, …): one request to `POST {baseURL}/rerank` per call. */
export class VoyageRerankingModel
  implements RerankingModel<ProviderOptionsFor<'voyage', VoyageRerankingOptions>>
{
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: RerankingCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: VoyageModelConfig;

  constructor(modelId: string, capabilities: RerankingCapabilities, config: VoyageModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
  }

  async doRerank(
    request: RerankRequest<ProviderOptionsFor<'voyage', VoyageRerankingOptions>>,
  ): Promise<RerankResponse> {
    readProviderOptions(voyageRerankingOptionsSchema, this.provider, request.providerOptions);
    const body: Record<string, unknown> = {
      query: request.query,
      documents: request.documents,
      model: this.modelId,
      // The API truncates by default; embedkit never cuts silently. Documents are not asked back
      // (`return_documents` stays false): the engine already has them.
      truncation: request.truncate === true,
    };
    if (request.topN !== undefined) body.top_k = request.topN;
    const response = await postJson(this.config, '/rerank', body, request);
    const parsed = parseResponse(voyageRerankResponseSchema, response, this.provider, 'rerank');
    const out: RerankResponse = {
      results: parsed.data.map((item) => ({ index: item.index, relevanceScore: item.relevance_score })),
      warnings: [],
      response: responseInfo(response, parsed.model),
    };
    if (parsed.usage !== undefined) out.usage = { inputTokens: parsed.usage };
    return out;
  }
}
