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
  requestJson,
  responseInfo,
  type Transport,
  type Warning,
} from '@embedkit/core';
import { openAIEmbeddingResponseSchema, parseOpenAIError } from './openai-api.js';
import { openAIProviderOptionsSchema } from './openai-options.js';

/** What a provider hands each of its models. */
export interface OpenAIModelConfig {
  /** Provider name: `openai`, or the name given to `createOpenAICompatible`. Also the `providerOptions` key. */
  provider: string;
  baseURL: string;
  /** Headers for a call, the auth header included; reads the key at call time. Returns the secrets to redact too. */
  headers: () => { headers: Record<string, string>; secrets: string[] };
  queryParams?: Record<string, string>;
  transport: Transport;
  capabilities: EmbeddingCapabilities;
  encodingFormat: 'base64' | 'float';
  maxResponseBytes?: number;
}

function inputText(input: EmbedInput, index: number): string {
  if (typeof input === 'string') return input;
  if ('text' in input) return input.text;
  throw new InvalidArgumentError(`Input ${index} is not text; OpenAI embedding models take text only.`, {
    argument: `inputs[${index}]`,
  });
}

/** One OpenAI (or OpenAI-compatible) embedding model: one request to `POST {baseURL}/embeddings` per call. */
export class OpenAIEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  private readonly config: OpenAIModelConfig;
  private readonly url: string;

  constructor(modelId: string, config: OpenAIModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = config.capabilities;
    this.config = config;
    const query =
      config.queryParams === undefined ? '' : `?${new URLSearchParams(config.queryParams).toString()}`;
    this.url = `${config.baseURL.replace(/\/+$/, '')}/embeddings${query}`;
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    const options = readProviderOptions(openAIProviderOptionsSchema, this.provider, request.providerOptions);
    if (request.dimensions !== undefined && this.capabilities.dimensions === undefined) {
      throw new InvalidArgumentError(
        `${this.provider} model ${this.modelId} has a fixed vector length; remove the dimensions option.`,
        { argument: 'dimensions' },
      );
    }
    if (request.outputType !== undefined && request.outputType !== 'float') {
      throw new InvalidArgumentError(`${this.provider} model ${this.modelId} returns float vectors only.`, {
        argument: 'outputType',
      });
    }
    if (request.inputType !== undefined) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'inputType',
        message: `${this.provider} embeddings have no input type; "${request.inputType}" was not sent.`,
      });
    }
    if (request.truncate === true) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'truncate',
        message: `${this.provider} cannot truncate inputs; an input over the context length fails instead.`,
      });
    }
    const body: Record<string, unknown> = {
      model: this.modelId,
      input: request.inputs.map(inputText),
      encoding_format: this.config.encodingFormat,
    };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (options.user !== undefined) body.user = options.user;

    const { headers, secrets } = this.config.headers();
    const response = await requestJson({
      transport: this.config.transport,
      provider: this.provider,
      url: this.url,
      method: 'POST',
      headers: { ...headers, ...request.headers },
      body,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      secrets,
      maxResponseBytes: this.config.maxResponseBytes,
      parseError: parseOpenAIError,
      requestIdHeaders: ['x-request-id'],
      // Float answers (and base64 ones) are decoded from the body bytes straight into one slab.
      floatVectors: ['data[*].embedding'],
    });
    const { data, model, usage } = parseResponse(
      openAIEmbeddingResponseSchema,
      response,
      this.provider,
      'embeddings',
    );
    const ordered = inOrder(data, request.inputs.length, 'vectors', this.provider);
    const embeddings = decodeVectors(
      ordered.map((item) => item.embedding),
      'float',
    );
    const info = responseInfo(response, model);
    const out: EmbedResponse = { embeddings, warnings, response: info };
    if (usage !== undefined && usage !== null) out.usage = { inputTokens: usage.prompt_tokens };
    return out;
  }
}
