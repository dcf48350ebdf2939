import {
  decodeVectors,
  type Embedding,
  type EmbedRequest,
  InvalidArgumentError,
  inOrder,
  type JsonResponse,
  type OutputType,
  parseResponse,
  type ResponseInfo,
  readProviderOptions,
  requestJson,
  responseInfo,
  type Transport,
  type Usage,
  type Warning,
} from '@embedkit/core';
import { jinaEmbeddingResponseSchema, parseJinaError } from './jina-api.js';
import { type JinaModelProfile, jinaEmbeddingOptionsSchema } from './jina-options.js';

/** What a Jina provider hands each of its models. */
export interface JinaModelConfig {
  /** `jina`: the provider name and the `providerOptions` key. */
  provider: string;
  /** Reads the key at call time; returns the secrets to redact too. */
  resolve: () => { baseURL: string; headers: Record<string, string>; secrets: string[] };
  transport: Transport;
  maxResponseBytes?: number;
}

/** Posts one JSON body to `{baseURL}{path}` with the key, mapping Jina's error bodies. */
export async function postJina(
  config: JinaModelConfig,
  path: string,
  body: Record<string, unknown>,
  request: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> },
): Promise<JsonResponse> {
  const { baseURL, headers, secrets } = config.resolve();
  return requestJson({
    transport: config.transport,
    provider: config.provider,
    url: `${baseURL.replace(/\/+$/, '')}${path}`,
    method: 'POST',
    headers: { ...headers, ...request.headers },
    body,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    secrets,
    maxResponseBytes: config.maxResponseBytes,
    parseError: parseJinaError,
  });
}

/** `embedding_type` for each output type: floats travel as base64 float32, bits as packed bytes. */
const EMBEDDING_TYPE: Partial<Record<OutputType, string>> = {
  float: 'base64',
  binary: 'binary',
  ubinary: 'ubinary',
};

/**
 * The settings `/v1/embeddings` takes besides `model` and `input`, checked against the model before
 * anything is sent: `task`, `dimensions`, `embedding_type`, `normalized`.
 */
export function embeddingFields(
  request: Pick<EmbedRequest, 'inputType' | 'dimensions' | 'outputType' | 'providerOptions'>,
  profile: JinaModelProfile,
  provider: string,
  label: string,
  warnings: Warning[],
): Record<string, unknown> {
  const options = readProviderOptions(jinaEmbeddingOptionsSchema, provider, request.providerOptions);
  const { capabilities } = profile;
  const body: Record<string, unknown> = {};
  if (options.task !== undefined) {
    if (request.inputType !== undefined) {
      throw new InvalidArgumentError(
        `Give inputType or providerOptions.${provider}.task, not both; task "${options.task}" would replace inputType "${request.inputType}".`,
        { argument: `providerOptions.${provider}.task` },
      );
    }
    if (profile.taskWords !== undefined && !profile.taskWords.includes(options.task)) {
      throw new InvalidArgumentError(
        `${label} has no task "${options.task}"; it takes ${profile.taskWords.join(', ')}.`,
        { argument: `providerOptions.${provider}.task` },
      );
    }
    body.task = options.task;
  } else if (request.inputType !== undefined) {
    const task = profile.tasks[request.inputType];
    if (task === undefined) {
      const supported = Object.keys(profile.tasks);
      warnings.push({
        type: 'unsupported-setting',
        setting: 'inputType',
        message: `${label} has no "${request.inputType}" input type${supported.length === 0 ? '' : ` (it supports ${supported.join(', ')})`}; the inputs were sent without a task.`,
      });
    } else if (task !== null) {
      body.task = task;
    }
  }
  if (request.dimensions !== undefined) {
    const allowed = capabilities.dimensions;
    const ok =
      allowed !== undefined &&
      Number.isInteger(request.dimensions) &&
      ('min' in allowed
        ? request.dimensions >= allowed.min && request.dimensions <= allowed.max
        : allowed.includes(request.dimensions));
    if (!ok) {
      throw new InvalidArgumentError(
        `dimensions ${request.dimensions} is not allowed for ${label}; use ${allowed === undefined ? 'none' : 'min' in allowed ? `${allowed.min} to ${allowed.max}` : allowed.join(', ')}.`,
        { argument: 'dimensions' },
      );
    }
    body.dimensions = request.dimensions;
  }
  const outputType = request.outputType ?? 'float';
  const embeddingType = EMBEDDING_TYPE[outputType];
  if (embeddingType === undefined || !capabilities.outputTypes.includes(outputType)) {
    throw new InvalidArgumentError(
      `${label} cannot return ${outputType} vectors; it supports ${capabilities.outputTypes.join(', ')}.`,
      { argument: 'outputType' },
    );
  }
  body.embedding_type = embeddingType;
  if (options.normalized !== undefined) {
    if (profile.normalizedField === false) {
      throw new InvalidArgumentError(
        `${label} has no normalized setting; remove providerOptions.${provider}.normalized.`,
        { argument: `providerOptions.${provider}.normalized` },
      );
    }
    body.normalized = options.normalized;
  } else if (profile.normalizedField === true) {
    // The spec's default is true, older docs said false: say it, so `capabilities.normalized` holds.
    body.normalized = true;
  }
  return body;
}

export interface EmbeddingsAnswer {
  embeddings: Embedding[];
  usage: Usage | undefined;
  response: ResponseInfo;
}

/** Sends one `/v1/embeddings` body and decodes one vector per input, in input order. */
export async function sendEmbeddings(
  config: JinaModelConfig,
  body: Record<string, unknown>,
  inputCount: number,
  outputType: OutputType,
  request: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> },
): Promise<EmbeddingsAnswer> {
  const response = await postJina(config, '/embeddings', body, request);
  const parsed = parseResponse(jinaEmbeddingResponseSchema, response, config.provider, 'embeddings');
  const ordered = inOrder(parsed.data, inputCount, 'vectors', config.provider);
  const embeddings = decodeVectors(
    ordered.map((item) => item.embedding),
    outputType,
  );
  const usage =
    parsed.usage === undefined || parsed.usage === null
      ? undefined
      : { inputTokens: parsed.usage.total_tokens };
  return { embeddings, usage, response: responseInfo(response, parsed.model) };
}

/** Rejects a call over the API's input limit before sending (the engine splits; a direct call may not). */
export function checkInputCount(count: number, maxInputs: number, label: string, argument: string): void {
  if (count > maxInputs) {
    throw new InvalidArgumentError(
      `${label} takes at most ${maxInputs} inputs a call; got ${count}. Use embedMany, which splits them.`,
      { argument },
    );
  }
}
