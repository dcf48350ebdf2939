import {
  decodeBase64Vectors,
  type Embedding,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedInput,
  type EmbedRequest,
  type EmbedResponse,
  InvalidArgumentError,
  InvalidResponseError,
  numberArraysToVectors,
  type ResponseInfo,
  requestJson,
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
    const options = openAIProviderOptionsSchema.safeParse(request.providerOptions?.[this.provider] ?? {});
    if (!options.success) {
      throw new InvalidArgumentError(
        `providerOptions.${this.provider} is invalid: ${options.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}.`,
        {
          argument: `providerOptions.${this.provider}`,
        },
      );
    }
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
    if (options.data.user !== undefined) body.user = options.data.user;

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
    });
    const info: ResponseInfo = { status: response.status, headers: response.headers };
    if (response.requestId !== undefined) info.requestId = response.requestId;
    const parsed = openAIEmbeddingResponseSchema.safeParse(response.body);
    if (!parsed.success) {
      throw new InvalidResponseError(
        `${this.provider} returned an embeddings body of the wrong shape: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}.`,
        {
          provider: this.provider,
          statusCode: response.status,
          requestId: response.requestId,
        },
      );
    }
    const { data, model, usage } = parsed.data;
    if (model !== undefined) info.modelId = model;
    const embeddings = decodeInOrder(data, request.inputs.length, this.provider);
    const out: EmbedResponse = { embeddings, warnings, response: info };
    if (usage !== undefined && usage !== null) out.usage = { inputTokens: usage.prompt_tokens };
    return out;
  }
}

/**
 * Places each vector at its `index` (the API does not promise order) and decodes it: base64 into one
 * slab, or JSON floats when a compatible server ignored `encoding_format`.
 */
function decodeInOrder(
  data: { index: number; embedding: string | unknown[] }[],
  expected: number,
  provider: string,
): Embedding[] {
  if (data.length !== expected) {
    throw new InvalidResponseError(`${provider} returned ${data.length} vectors for ${expected} inputs.`, {
      provider,
    });
  }
  const ordered = new Array<string | unknown[]>(expected);
  for (const item of data) {
    if (item.index >= expected || ordered[item.index] !== undefined) {
      throw new InvalidResponseError(
        `${provider} returned vector index ${item.index} ${item.index >= expected ? 'out of range' : 'twice'} for ${expected} inputs.`,
        { provider },
      );
    }
    ordered[item.index] = item.embedding;
  }
  const strings = ordered.every((vector) => typeof vector === 'string');
  if (strings) return decodeBase64Vectors(ordered as string[], 'float');
  if (ordered.every((vector) => Array.isArray(vector))) return numberArraysToVectors(ordered, 'float');
  return ordered.map((vector) =>
    typeof vector === 'string'
      ? decodeBase64Vectors([vector], 'float')[0]!
      : numberArraysToVectors([vector], 'float')[0]!,
  );
}
