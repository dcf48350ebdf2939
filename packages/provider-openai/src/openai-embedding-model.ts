import {
  type BaseURLOrigin,
  decodeAnswer,
  decodeVectors,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedRequest,
  type EmbedResponse,
  inOrder,
  inputText,
  type JsonEndpoint,
  type ProviderOptionsFor,
  parseResponse,
  postJson,
  type RateLimiter,
  readProviderOptions,
  responseInfo,
  type Transport,
  type Warning,
} from '@embedkit/core/provider';
import { openAIEmbeddingResponseSchema, parseOpenAIError } from './openai-api.js';
import { type OpenAIProviderOptions, openAIProviderOptionsSchema } from './openai-options.js';

/** What a provider hands each of its models. */
export interface OpenAIModelConfig {
  /** Provider name: `openai`, or the name given to `createOpenAICompatible`. Also the `providerOptions` key. */
  provider: string;
  /** The API root, read at each call (`OPENAI_BASE_URL` may change between calls, like the key). */
  baseURL: () => string;
  /** Where `baseURL()` came from, which an answer of the wrong shape names; unnamed when absent. */
  baseURLOrigin?: () => BaseURLOrigin;
  /** `baseURL()` unless it is the provider's default (see `EmbeddingModel.customBaseURL`). */
  customBaseURL: () => string | undefined;
  /** Headers for a call, the auth header included; reads the key at call time. Returns the secrets to redact too. */
  headers: () => { headers: Record<string, string>; secrets: string[] };
  queryParams?: Record<string, string>;
  transport: Transport;
  capabilities: EmbeddingCapabilities;
  encodingFormat: 'base64' | 'float';
  maxResponseBytes?: number;
  /** The limiter the provider's models draw on, when the provider was given one. */
  rateLimiter?: RateLimiter | undefined;
}

/**
 * One OpenAI (or OpenAI-compatible) embedding model: one request to `POST {baseURL}/embeddings` per call.
 * `Name` is its provider's name, the key its `providerOptions` are read under (`openai`, or a compatible
 * provider's); as `string`, any options are taken. `P`, the options it types, follows `Name` and is never
 * written: as a parameter of its own rather than inline, it lets the compiler see that a model of a known
 * name is an `OpenAIEmbeddingModel` of any name (it cannot relate the options of two names inline).
 */
export class OpenAIEmbeddingModel<
  Name extends string = string,
  P extends Readonly<Record<string, unknown>> = ProviderOptionsFor<Name, OpenAIProviderOptions>,
> implements EmbeddingModel<P>
{
  readonly specificationVersion = 'v1' as const;
  readonly provider: Name;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: OpenAIModelConfig;
  private readonly endpoint: JsonEndpoint;
  private readonly path: string;

  constructor(modelId: string, config: OpenAIModelConfig & { provider: Name }) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = config.capabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
    const query =
      config.queryParams === undefined ? '' : `?${new URLSearchParams(config.queryParams).toString()}`;
    this.path = `/embeddings${query}`;
    this.endpoint = {
      provider: config.provider,
      transport: config.transport,
      resolve: () => ({
        baseURL: config.baseURL(),
        baseURLOrigin: config.baseURLOrigin?.(),
        ...config.headers(),
      }),
      parseError: parseOpenAIError,
      requestIdHeaders: ['x-request-id'],
      maxResponseBytes: config.maxResponseBytes,
    };
  }

  customBaseURL(): string | undefined {
    return this.config.customBaseURL();
  }

  async doEmbed(request: EmbedRequest<P>): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    const options = readProviderOptions(openAIProviderOptionsSchema, this.provider, request.providerOptions);
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
      input: request.inputs.map((input, index) =>
        inputText(input, index, `${this.provider} model ${this.modelId}`),
      ),
      encoding_format: this.config.encodingFormat,
    };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (options.user !== undefined) body.user = options.user;

    // Float answers (and base64 ones) are decoded from the body bytes, each vector into a buffer of its own.
    const response = await postJson(this.endpoint, this.path, body, request, {
      floatVectors: ['data[*].embedding'],
    });
    const { data, model, usage } = parseResponse(
      openAIEmbeddingResponseSchema,
      response,
      this.provider,
      'embeddings',
    );
    const embeddings = decodeAnswer({ provider: this.provider, response }, () =>
      decodeVectors(
        inOrder(data, request.inputs.length, 'vectors', this.provider).map((item) => item.embedding),
        'float',
      ),
    );
    const info = responseInfo(response, model);
    const out: EmbedResponse = { embeddings, warnings, response: info };
    if (usage !== undefined) out.usage = { inputTokens: usage };
    return out;
  }
}
