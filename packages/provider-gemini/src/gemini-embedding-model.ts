import {
  type Embedding,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedInput,
  type EmbedRequest,
  type EmbedResponse,
  type InputType,
  InvalidArgumentError,
  InvalidResponseError,
  numberArraysToVectors,
  type ResponseInfo,
  requestJson,
  type Transport,
  type Warning,
} from '@embedkit/core';
import {
  batchEmbedContentsResponseSchema,
  embedContentResponseSchema,
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
  baseURL: string;
  /** Headers for a call, the key included; reads the key at call time. Returns the secrets to redact too. */
  headers: () => { headers: Record<string, string>; secrets: string[] };
  transport: Transport;
  capabilities: EmbeddingCapabilities;
  maxResponseBytes?: number;
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

/** Reads `providerOptions.gemini` strictly. */
export function geminiOptions(
  providerOptions: Record<string, Record<string, unknown>> | undefined,
  provider: string,
): GeminiProviderOptions {
  const options = geminiProviderOptionsSchema.safeParse(providerOptions?.[provider] ?? {});
  if (!options.success) {
    throw new InvalidArgumentError(
      `providerOptions.${provider} is invalid: ${options.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}.`,
      { argument: `providerOptions.${provider}` },
    );
  }
  return options.data;
}

export function inputText(input: EmbedInput, index: number): string {
  if (typeof input === 'string') return input;
  if (typeof input === 'object' && input !== null && 'text' in input && typeof input.text === 'string')
    return input.text;
  throw new InvalidArgumentError(`Input ${index} is not text; Gemini embedding models here take text only.`, {
    argument: `inputs[${index}]`,
  });
}

/**
 * Builds one `EmbedContentRequest` per input, after checking everything that can be checked before a
 * request: the text, the titles (one per input of the job, only for documents), the dimensions.
 */
export function buildGeminiRequests(
  options: {
    provider: string;
    modelName: string;
    capabilities: EmbeddingCapabilities;
    inputs: readonly EmbedInput[];
    inputType: InputType | undefined;
    dimensions: number | undefined;
    titles: readonly string[] | undefined;
    /** This call's position in the job and the job's size, from the engine. */
    inputOffset?: number | undefined;
    totalInputs?: number | undefined;
  },
  warnings: Warning[],
): GeminiEmbedContentRequest[] {
  const { provider, inputs, dimensions, titles } = options;
  if (dimensions !== undefined) {
    const allowed = options.capabilities.dimensions;
    const ok =
      allowed !== undefined &&
      Number.isInteger(dimensions) &&
      ('min' in allowed
        ? dimensions >= allowed.min && dimensions <= allowed.max
        : allowed.includes(dimensions));
    if (!ok) {
      throw new InvalidArgumentError(
        `dimensions ${dimensions} is not allowed for ${provider} model ${options.modelName}${allowed !== undefined && 'min' in allowed ? `; use ${allowed.min} to ${allowed.max}` : ''}.`,
        { argument: 'dimensions' },
      );
    }
  }
  let taskType: GeminiTaskType | undefined;
  if (options.inputType !== undefined) {
    taskType = (GEMINI_TASK_TYPES as Partial<Record<InputType, GeminiTaskType>>)[options.inputType];
    if (taskType === undefined) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'inputType',
        message: `${provider} has no task type for "${options.inputType}"; the inputs were sent without one (Google suggests RETRIEVAL_DOCUMENT, inputType "document", for the code side of code retrieval).`,
      });
    }
  }
  // A job-wide list (one title per input of the whole job) is sliced at this call's position; a list for
  // just this call is used as is. Inputs may also carry their own `title`.
  let callTitles: readonly string[] | undefined;
  if (titles !== undefined) {
    const offset = options.inputOffset ?? 0;
    if (options.totalInputs !== undefined && titles.length === options.totalInputs) {
      callTitles = titles.slice(offset, offset + inputs.length);
    } else if (
      titles.length === inputs.length &&
      (options.totalInputs === undefined || options.totalInputs === inputs.length)
    ) {
      callTitles = titles;
    } else {
      throw new InvalidArgumentError(
        `providerOptions.${provider}.titles has ${titles.length} entries for ${options.totalInputs ?? inputs.length} inputs; give exactly one per input ('' for none), or put a title on each input as { text, title }.`,
        { argument: `providerOptions.${provider}.titles` },
      );
    }
  }
  const titled =
    callTitles !== undefined ||
    inputs.some(
      (input) => typeof input === 'object' && input !== null && 'title' in input && input.title !== undefined,
    );
  if (titled && options.inputType !== 'document') {
    throw new InvalidArgumentError(
      `Titles need inputType "document": Gemini applies a title only to RETRIEVAL_DOCUMENT.`,
      {
        argument: `providerOptions.${provider}.titles`,
      },
    );
  }
  const model = `models/${options.modelName}`;
  return inputs.map((input, index) => {
    const text = inputText(input, index);
    if (text.length === 0) {
      throw new InvalidArgumentError(`Input ${index} is an empty string; Gemini rejects empty content.`, {
        argument: `inputs[${index}]`,
      });
    }
    const request: GeminiEmbedContentRequest = { model, content: { parts: [{ text }] } };
    if (taskType !== undefined) request.taskType = taskType;
    const title =
      (typeof input === 'object' && 'title' in input ? input.title : undefined) ?? callTitles?.[index];
    if (title !== undefined && title !== '') request.title = title;
    if (dimensions !== undefined) request.outputDimensionality = dimensions;
    return request;
  });
}

/**
 * Decodes JSON float lists into one slab and, unless turned off, L2-normalizes every vector shorter than
 * 3,072 values in place (gemini-embedding-001 normalizes only its full-length output).
 */
export function decodeGeminiVectors(values: readonly unknown[], normalize: boolean): Embedding[] {
  // Every vector of a response has one length; the full length already comes unit-length.
  const first = values[0];
  const short =
    (Array.isArray(first) || first instanceof Float32Array) && first.length < GEMINI_FULL_DIMENSIONS;
  return numberArraysToVectors(values, 'float', { normalize: normalize && short });
}

/**
 * A Gemini embedding model: one input is one `POST …/models/{id}:embedContent`, more are one
 * `POST …/models/{id}:batchEmbedContents` (at most 100). The API reports no token usage.
 */
export class GeminiEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  private readonly config: GeminiModelConfig;
  private readonly modelName: string;

  constructor(modelId: string, config: GeminiModelConfig) {
    this.modelName = geminiModelName(modelId);
    this.modelId = this.modelName;
    this.provider = config.provider;
    this.capabilities = config.capabilities;
    this.config = config;
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    const options = geminiOptions(request.providerOptions, this.provider);
    if (request.outputType !== undefined && request.outputType !== 'float') {
      throw new InvalidArgumentError(`${this.provider} model ${this.modelId} returns float vectors only.`, {
        argument: 'outputType',
      });
    }
    const count = request.inputs.length;
    if (count === 0 || count > this.capabilities.maxInputsPerCall) {
      throw new InvalidArgumentError(
        `${this.provider} takes 1 to ${this.capabilities.maxInputsPerCall} inputs per call, got ${count}; embedMany splits larger jobs.`,
        { argument: 'inputs' },
      );
    }
    const requests = buildGeminiRequests(
      {
        provider: this.provider,
        modelName: this.modelName,
        capabilities: this.capabilities,
        inputs: request.inputs,
        inputType: request.inputType,
        dimensions: request.dimensions,
        titles: options.titles,
        inputOffset: request.inputOffset,
        totalInputs: request.totalInputs,
      },
      warnings,
    );
    if (request.truncate === true) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'truncate',
        message: `${this.provider} has no truncation option on the Gemini API; over-long inputs are handled by the API.`,
      });
    }
    const single = count === 1;
    const base = `${this.config.baseURL.replace(/\/+$/, '')}/models/${this.modelName}`;
    const { headers, secrets } = this.config.headers();
    const response = await requestJson({
      transport: this.config.transport,
      provider: this.provider,
      url: single ? `${base}:embedContent` : `${base}:batchEmbedContents`,
      method: 'POST',
      headers: { ...headers, ...request.headers },
      body: single ? requests[0] : { requests },
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      secrets,
      maxResponseBytes: this.config.maxResponseBytes,
      parseError: parseGeminiError,
      // The float lists are parsed from the body bytes straight into one slab.
      floatVectors: [single ? 'embedding.values' : 'embeddings[*].values'],
    });
    const info: ResponseInfo = { status: response.status, headers: response.headers };
    if (response.requestId !== undefined) info.requestId = response.requestId;
    const where = { provider: this.provider, statusCode: response.status, requestId: response.requestId };
    let values: unknown[];
    if (single) {
      const parsed = embedContentResponseSchema.safeParse(response.body);
      if (!parsed.success) throw wrongShape(this.provider, parsed.error.issues[0], where);
      values = [parsed.data.embedding.values];
    } else {
      const parsed = batchEmbedContentsResponseSchema.safeParse(response.body);
      if (!parsed.success) throw wrongShape(this.provider, parsed.error.issues[0], where);
      values = parsed.data.embeddings.map((embedding) => embedding.values);
    }
    if (values.length !== count) {
      throw new InvalidResponseError(
        `${this.provider} returned ${values.length} vectors for ${count} inputs.`,
        where,
      );
    }
    let embeddings: Embedding[];
    try {
      embeddings = decodeGeminiVectors(values, options.normalize !== false);
    } catch (error) {
      throw new InvalidResponseError(`${this.provider}: ${(error as Error).message}`, {
        ...where,
        cause: error,
      });
    }
    // The Gemini API reports no token usage: `usage` stays absent rather than a guess.
    return { embeddings, warnings, response: info };
  }
}

function wrongShape(
  provider: string,
  issue: { path: PropertyKey[]; message: string } | undefined,
  where: { provider: string; statusCode: number; requestId: string | undefined },
): InvalidResponseError {
  return new InvalidResponseError(
    `${provider} returned an embeddings body of the wrong shape: ${issue?.path.map(String).join('.') ?? ''} ${issue?.message ?? ''}.`,
    where,
  );
}
