import {
  InvalidArgumentError,
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
import { jinaRerankResponseSchema } from './jina-api.js';
import { type JinaRerankingOptions, jinaRerankingOptionsSchema } from './jina-options.js';
import type { JinaModelConfig } from './jina-shared.js';

/** A Jina reranker (`jina-reranker-v3`, …): one request to `POST {baseURL}/rerank` per call. */
export class JinaRerankingModel implements RerankingModel<ProviderOptionsFor<'jina', JinaRerankingOptions>> {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: RerankingCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: JinaModelConfig;

  constructor(modelId: string, capabilities: RerankingCapabilities, config: JinaModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
  }

  async doRerank(
    request: RerankRequest<ProviderOptionsFor<'jina', JinaRerankingOptions>>,
  ): Promise<RerankResponse> {
    const options = readProviderOptions(jinaRerankingOptionsSchema, this.provider, request.providerOptions);
    const body: Record<string, unknown> = {
      model: this.modelId,
      query: request.query,
      documents: request.documents,
      // The API echoes every document by default; the engine already has them.
      return_documents: false,
      // embedkit never cuts silently: `truncation` only when asked.
      truncation: request.truncate === true,
    };
    if (request.topN !== undefined) body.top_n = request.topN;
    if (options.maxDocumentLength !== undefined) {
      if (this.modelId !== 'jina-reranker-v3') {
        throw new InvalidArgumentError(
          `maxDocumentLength (max_doc_length) applies to jina-reranker-v3 only, not ${this.modelId}.`,
          { argument: `providerOptions.${this.provider}.maxDocumentLength` },
        );
      }
      body.max_doc_length = options.maxDocumentLength;
    }
    const response = await postJson(this.config, '/rerank', body, request);
    const parsed = parseResponse(jinaRerankResponseSchema, response, this.provider, 'rerank');
    const out: RerankResponse = {
      results: parsed.results.map((item) => ({ index: item.index, relevanceScore: item.relevance_score })),
      warnings: [],
      response: responseInfo(response, parsed.model),
    };
    if (parsed.usage !== undefined) out.usage = { inputTokens: parsed.usage };
    return out;
  }
}
