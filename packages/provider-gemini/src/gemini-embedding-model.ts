import {
  type BaseURLOrigin,
  countMismatch,
  decodeAnswer,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedInput,
  type EmbedRequest,
  type EmbedResponse,
  type InputCheckSettings,
  type InputType,
  InvalidArgumentError,
  InvalidResponseError,
  inputText,
  type JsonEndpoint,
  numberArraysToVectors,
  ownEntry,
  type ProviderOptionsFor,
  parseResponse,
  postJson,
  type RateLimiter,
  type ResponseInfo,
  readProviderOptions,
  type Transport,
  type Warning,
} from '@embedkit/core/provider';
import {
  batchEmbedContentsResponseSchema,
  embedContentResponseSchema,
  GEMINI_QUERY,
  parseGeminiError,
} from './gemini-api.js';
import {
  GEMINI_FULL_DIMENSIONS,
  GEMINI_TASK_TYPES,
  type GeminiProviderOptions,
  type GeminiTaskType,
  geminiProviderOptionsSchema,
} from './gemini-options.js';

/** What a provider hands each of its models and batch-job clients. */
export interface GeminiModelConfig {
  provider: string;
  /** The API root, e.g. `https://generativelanguage.googleapis.com/v1beta`. */
  /** The API root, read at each call (`GEMINI_BASE_URL` may change between calls, like the key). */
  baseURL: () => string;
  /** Where `baseURL()` came from, which an answer of the wrong shape names; unnamed when absent. */
  baseURLOrigin?: () => BaseURLOrigin;
  /** `baseURL()` unless it is the API's own (see `EmbeddingModel.customBaseURL`). */
  customBaseURL: () => string | undefined;
  /** Headers for a call, the key included; reads the key at call time. Returns the secrets to redact too. */
  headers: () => { headers: Record<string, string>; secrets: string[] };
  transport: Transport;
  capabilities: EmbeddingCapabilities;
  maxResponseBytes?: number;
  /** The limiter the provider's models draw on, when the provider was given one. */
  rateLimiter?: RateLimiter | undefined;
  /** Batch jobs the provider's `create` made in this process, by id, shared by its batch-job clients. */
  createdBatchJobs?: Map<string, GeminiCreatedBatchJob>;
}

/** What `create` asked for: the API's batch resource reports neither back. */
export interface GeminiCreatedBatchJob {
  /** How many inputs the job was given. */
  inputs: number;
  /** The `dimensions` it asked for; undefined when it asked none (then the vectors need only agree). */
  dimensions: number | undefined;
}

/** The Gemini API as one JSON endpoint: the key from the config at each call, Gemini's error bodies. */
export function geminiEndpoint(config: GeminiModelConfig): JsonEndpoint {
  return {
    provider: config.provider,
    transport: config.transport,
    resolve: () => ({
      baseURL: config.baseURL(),
      baseURLOrigin: config.baseURLOrigin?.(),
      ...config.headers(),
    }),
    parseError: parseGeminiError,
    maxResponseBytes: config.maxResponseBytes,
  };
}

/** One `EmbedContentRequest` as the wire spells it. */
export interface GeminiEmbedContentRequest {
  model: string;
  content: { parts: { text: string }[] };
  taskType?: GeminiTaskType;
  title?: string;
  outputDimensionality?: number;
}

/** Accepts `gemini-embedding-001` or `models/gemini-embedding-001`; anything else with a `/` or `:` is refused. */
export function geminiModelName(modelId: string): string {
  const id = typeof modelId === 'string' && modelId.startsWith('models/') ? modelId.slice(7) : modelId;
  if (typeof id !== 'string' || !/^[\w.-]+$/.test(id)) {
    throw new InvalidArgumentError(
      `"${String(modelId)}" is not a Gemini model id; use an id such as gemini-embedding-001.`,
      { argument: 'modelId' },
    );
  }
  return id;
}

/** The `providerOptions` Gemini's models and batch jobs take: the Gemini options under `gemini`. */
export type GeminiCallProviderOptions = ProviderOptionsFor<'gemini', GeminiProviderOptions>;

/** Reads `providerOptions.gemini` strictly. */
export function geminiOptions(
  providerOptions: Readonly<Record<string, unknown>> | undefined,
  provider: string,
): GeminiProviderOptions {
  return readProviderOptions(geminiProviderOptionsSchema, provider, providerOptions);
}

/**
 * The title to send with an input (`{ text, title }`), if any: Gemini applies a title only to
 * RETRIEVAL_DOCUMENT, so one with any other input type is refused rather than dropped.
 */
export function geminiTitle(
  input: EmbedInput,
  index: number,
  inputType: InputType | undefined,
): string | undefined {
  const title = typeof input === 'object' && input !== null && 'title' in input ? input.title : undefined;
  if (title === undefined || title === '') return undefined;
  if (inputType !== 'document') {
    throw new InvalidArgumentError(
      `Input ${index} has a title, which needs inputType "document": Gemini applies a title only to RETRIEVAL_DOCUMENT.`,
      { argument: `inputs[${index}]` },
    );
  }
  return title;
}

/**
 * Gemini's task type for `inputType`; undefined for none, or for an input type Gemini has no word for.
 * Read from the table's own entries: a direct call's `toString` or `__proto__` is no task type.
 */
function geminiTaskType(inputType: InputType | undefined): GeminiTaskType | undefined {
  return inputType === undefined
    ? undefined
    : ownEntry(GEMINI_TASK_TYPES as Readonly<Record<string, GeminiTaskType>>, inputType);
}

/**
 * Builds one `EmbedContentRequest` per input. The engine (or, for batch jobs, `create`) checked the
 * inputs, dimensions and input type against the capabilities; what is left is Gemini's own rule on
 * titles: a title (on its input, `{ text, title }`) applies only to RETRIEVAL_DOCUMENT. An input type
 * without a task type is sent as none: `create` refuses one up front, and `doEmbed` warns of it.
 */
export function buildGeminiRequests(options: {
  provider: string;
  modelName: string;
  inputs: readonly EmbedInput[];
  inputType: InputType | undefined;
  dimensions: number | undefined;
}): GeminiEmbedContentRequest[] {
  const { provider, inputs, dimensions } = options;
  const taskType = geminiTaskType(options.inputType);
  const model = `models/${options.modelName}`;
  const label = `${provider} model ${options.modelName}`;
  return inputs.map((input, index) => {
    const text = inputText(input, index, label);
    const request: GeminiEmbedContentRequest = { model, content: { parts: [{ text }] } };
    if (taskType !== undefined) request.taskType = taskType;
    const title = geminiTitle(input, index, options.inputType);
    if (title !== undefined) request.title = title;
    if (dimensions !== undefined) request.outputDimensionality = dimensions;
    return request;
  });
}

/**
 * Decodes JSON float lists, each into its own `Float32Array`, and, unless turned off, L2-normalizes every vector shorter than
 * 3,072 values in place (gemini-embedding-001 normalizes only its full-length output). Decided per
 * vector: a response whose lengths differ is refused by whoever checks lengths, not normalized by the first.
 */
export function decodeGeminiVectors(values: readonly unknown[], normalize: boolean): Float32Array[] {
  // Float vectors are Float32Arrays: `numberArraysToVectors` types them as any output type's.
  if (!normalize) return numberArraysToVectors(values, 'float') as Float32Array[];
  const short = values.map(
    (value) =>
      (Array.isArray(value) || value instanceof Float32Array) && value.length < GEMINI_FULL_DIMENSIONS,
  );
  if (short.every((each) => each === short[0])) {
    return numberArraysToVectors(values, 'float', { normalize: short[0] === true }) as Float32Array[];
  }
  const decoded = numberArraysToVectors(values, 'float') as Float32Array[];
  short.forEach((each, index) => {
    if (each)
      decoded[index] = numberArraysToVectors([decoded[index]], 'float', {
        normalize: true,
      })[0] as Float32Array;
  });
  return decoded;
}

/**
 * A Gemini embedding model: one input is one `POST …/models/{id}:embedContent`, more are one
 * `POST …/models/{id}:batchEmbedContents` (at most 100), each asking for compact JSON
 * (`?prettyPrint=false`). The API reports no token usage.
 */
export class GeminiEmbeddingModel implements EmbeddingModel<GeminiCallProviderOptions> {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly endpoint: JsonEndpoint;
  private readonly modelName: string;
  private readonly config: GeminiModelConfig;

  constructor(modelId: string, config: GeminiModelConfig) {
    this.modelName = geminiModelName(modelId);
    this.modelId = this.modelName;
    this.provider = config.provider;
    this.capabilities = config.capabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
    this.endpoint = geminiEndpoint(config);
  }

  customBaseURL(): string | undefined {
    return this.config.customBaseURL();
  }

  checkInput(
    input: EmbedInput,
    index: number,
    settings: InputCheckSettings<GeminiCallProviderOptions>,
  ): void {
    geminiTitle(input, index, settings.inputType);
  }

  async doEmbed(request: EmbedRequest<GeminiCallProviderOptions>): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    const options = geminiOptions(request.providerOptions, this.provider);
    const count = request.inputs.length;
    const requests = buildGeminiRequests({
      provider: this.provider,
      modelName: this.modelName,
      inputs: request.inputs,
      inputType: request.inputType,
      dimensions: request.dimensions,
    });
    // The engine sends an input type the model lacks as none, with its own warning; a direct call may not.
    if (request.inputType !== undefined && geminiTaskType(request.inputType) === undefined) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'inputType',
        message: `${this.provider} has no task type for "${request.inputType}"; the inputs were sent without one (Google suggests RETRIEVAL_DOCUMENT, inputType "document", for the code side of code retrieval).`,
      });
    }
    if (request.truncate === true) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'truncate',
        message: `${this.provider} has no truncation option on the Gemini API; over-long inputs are handled by the API.`,
      });
    }
    // One input is one :embedContent call; more are one :batchEmbedContents call.
    const single = count === 1;
    const path = `/models/${this.modelName}${single ? ':embedContent' : ':batchEmbedContents'}${GEMINI_QUERY}`;
    // The float lists are parsed from the body bytes, each into a buffer of its own.
    const response = await postJson(this.endpoint, path, single ? requests[0] : { requests }, request, {
      floatVectors: [single ? 'embedding.values' : 'embeddings[*].values'],
    });
    const info: ResponseInfo = { status: response.status, headers: response.headers };
    if (response.requestId !== undefined) info.requestId = response.requestId;
    const where = { provider: this.provider, statusCode: response.status, requestId: response.requestId };
    // parseResponse: a 200 that carries a google.rpc.Status error surfaces its message, not "wrong shape".
    const values: unknown[] = single
      ? [parseResponse(embedContentResponseSchema, response, this.provider, 'embeddings').embedding.values]
      : parseResponse(batchEmbedContentsResponseSchema, response, this.provider, 'embeddings').embeddings.map(
          (embedding) => embedding.values,
        );
    if (values.length !== count) {
      throw new InvalidResponseError(countMismatch(this.provider, values, count, 'vector', 'input'), where);
    }
    const embeddings = decodeAnswer({ provider: this.provider, response }, () =>
      decodeGeminiVectors(values, options.normalize !== false),
    );
    // The Gemini API reports no token usage: `usage` stays absent rather than a guess.
    return { embeddings, warnings, response: info };
  }
}
