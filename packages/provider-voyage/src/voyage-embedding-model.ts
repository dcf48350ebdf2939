import {
  decodeVectors,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedInput,
  type EmbedRequest,
  type EmbedResponse,
  InvalidArgumentError,
  inOrder,
  parseResponse,
  readProviderOptions,
  responseInfo,
  type Warning,
} from '@embedkit/core';
import { voyageEmbeddingResponseSchema } from './voyage-api.js';
import { voyageEmbeddingOptionsSchema } from './voyage-options.js';
import { commonEmbeddingFields, postVoyage, type VoyageModelConfig } from './voyage-shared.js';

function inputText(input: EmbedInput, index: number, modelId: string): string {
  if (typeof input === 'string') return input;
  if ('text' in input) return input.text;
  throw new InvalidArgumentError(
    `Input ${index} is not plain text; voyage model ${modelId} takes text only. Use voyage.multimodalEmbedding('voyage-multimodal-3.5') for images and interleaved content.`,
    { argument: `inputs[${index}]` },
  );
}

/** One Voyage text embedding model: one request to `POST {baseURL}/embeddings` per call. */
export class VoyageEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  private readonly config: VoyageModelConfig;

  constructor(modelId: string, capabilities: EmbeddingCapabilities, config: VoyageModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.config = config;
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    readProviderOptions(voyageEmbeddingOptionsSchema, this.provider, request.providerOptions);
    const label = `${this.provider} model ${this.modelId}`;
    const body: Record<string, unknown> = {
      input: request.inputs.map((input, index) => inputText(input, index, this.modelId)),
      model: this.modelId,
      ...commonEmbeddingFields(request, this.capabilities, label, warnings),
      // The API truncates by default; embedkit never cuts silently, so `false` unless asked.
      truncation: request.truncate === true,
      encoding_format: 'base64',
    };
    const response = await postVoyage(this.config, '/embeddings', body, request);
    const parsed = parseResponse(voyageEmbeddingResponseSchema, response, this.provider, 'embeddings');
    const ordered = inOrder(parsed.data, request.inputs.length, 'vectors', this.provider);
    const embeddings = decodeVectors(
      ordered.map((item) => item.embedding),
      request.outputType ?? 'float',
    );
    const out: EmbedResponse = { embeddings, warnings, response: responseInfo(response, parsed.model) };
    if (parsed.usage !== undefined && parsed.usage !== null)
      out.usage = { inputTokens: parsed.usage.total_tokens };
    return out;
  }
}
