import {
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedRequest,
  type EmbedResponse,
  inputText,
  type ProviderOptionsFor,
  postJson,
  type RateLimiter,
  readProviderOptions,
  type Warning,
} from '@embedkit/core/provider';
import { embeddingAnswer } from './voyage-api.js';
import { type VoyageEmbeddingOptions, voyageEmbeddingOptionsSchema } from './voyage-options.js';
import { commonEmbeddingFields, type VoyageModelConfig } from './voyage-shared.js';

/** One Voyage text embedding model: one request to `POST {baseURL}/embeddings` per call. */
export class VoyageEmbeddingModel
  implements EmbeddingModel<ProviderOptionsFor<'voyage', VoyageEmbeddingOptions>>
{
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: VoyageModelConfig;

  constructor(modelId: string, capabilities: EmbeddingCapabilities, config: VoyageModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
  }

  customBaseURL(): string | undefined {
    return this.config.customBaseURL();
  }

  async doEmbed(
    request: EmbedRequest<ProviderOptionsFor<'voyage', VoyageEmbeddingOptions>>,
  ): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    readProviderOptions(voyageEmbeddingOptionsSchema, this.provider, request.providerOptions);
    const label = `${this.provider} model ${this.modelId}`;
    const body: Record<string, unknown> = {
      input: request.inputs.map((input, index) =>
        inputText(
          input,
          index,
          label,
          "Use voyage.multimodalEmbedding('voyage-multimodal-3.5') for images and interleaved content.",
        ),
      ),
      model: this.modelId,
      ...commonEmbeddingFields(request, label, warnings),
      // The API truncates by default; embedkit never cuts silently, so `false` unless asked.
      truncation: request.truncate === true,
      encoding_format: 'base64',
    };
    const response = await postJson(this.config, '/embeddings', body, request);
    return embeddingAnswer(this.provider, response, request, 'embeddings', warnings);
  }
}
