import {
  decodeAnswer,
  decodeVectors,
  type Embedding,
  type EmbedRequest,
  InvalidArgumentError,
  InvalidResponseError,
  inOrder,
  type JsonEndpoint,
  type OutputType,
  type ProviderOptionsFor,
  parseResponse,
  postJson,
  type RateLimiter,
  type ResponseInfo,
  readProviderOptions,
  responseInfo,
  type Usage,
  type Warning,
} from '@embedkit/core/provider';
import { jinaEmbeddingResponseSchema } from './jina-api.js';
import {
  type JinaEmbeddingOptions,
  type JinaModelProfile,
  jinaEmbeddingOptionsSchema,
  multiVectorAdvice,
} from './jina-options.js';

/** What a Jina provider hands each of its models: the API as a JSON endpoint (the key read at each call). */
export interface JinaModelConfig extends JsonEndpoint {
  /** The limiter the provider's models draw on, when the provider was given one. */
  rateLimiter?: RateLimiter | undefined;
  /** The base URL the setting or the environment chose, unless it is the API's own (no key is read). */
  customBaseURL: () => string | undefined;
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
  request: Pick<
    EmbedRequest<ProviderOptionsFor<'jina', JinaEmbeddingOptions>>,
    'inputType' | 'dimensions' | 'outputType' | 'providerOptions'
  >,
  profile: JinaModelProfile,
  provider: string,
  label: string,
  warnings: Warning[],
): Record<string, unknown> {
  const options = readProviderOptions(jinaEmbeddingOptionsSchema, provider, request.providerOptions);
  const body: Record<string, unknown> = {};
  if (options.task !== undefined) {
    if (request.inputType !== undefined) {
      throw new InvalidArgumentError(
        `Give inputType or providerOptions.${provider}.task, not both; task "${options.task}" would replace inputType "${request.inputType}".`,
        { argument: `providerOptions.${provider}.task` },
      );
    }
    if (profile.taskWords !== undefined && !profile.taskWords.includes(options.task)) {
      // The older models' schemas have no `task` field at all.
      const takes =
        profile.taskWords.length === 0 ? 'it takes no task' : `it takes ${profile.taskWords.join(', ')}`;
      throw new InvalidArgumentError(`${label} has no task "${options.task}"; ${takes}.`, {
        argument: `providerOptions.${provider}.task`,
      });
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
  // The engine checked dimensions and the output type against the capabilities.
  if (request.dimensions !== undefined) body.dimensions = request.dimensions;
  const outputType = request.outputType ?? 'float';
  const embeddingType = EMBEDDING_TYPE[outputType];
  if (embeddingType === undefined) {
    throw new InvalidArgumentError(`${label} cannot return ${outputType} vectors.`, {
      argument: 'outputType',
    });
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

/**
 * An id the table does not know may name a multi-vector model (a newer ColBERT), whose answer holds
 * `embeddings` (one vector per token) in place of `embedding`. The schema would call that only
 * "data.0.embedding: matches none of the accepted forms", which names neither the model nor the cause.
 */
function refuseMultiVectorAnswer(body: unknown, modelId: string, provider: string): void {
  const data = typeof body === 'object' && body !== null ? (body as { data?: unknown }).data : undefined;
  const multiVector =
    Array.isArray(data) &&
    data.some(
      (item) =>
        typeof item === 'object' &&
        item !== null &&
        !('embedding' in item) &&
        Array.isArray((item as { embeddings?: unknown }).embeddings),
    );
  if (multiVector) {
    throw new InvalidResponseError(
      `${provider} model ${modelId} answered several vectors for each input, as a multi-vector (late-interaction) model does, ${multiVectorAdvice(modelId)}`,
      { provider },
    );
  }
}

/** Sends one `/v1/embeddings` body and decodes one vector per input, in input order. */
export async function sendEmbeddings(
  config: JinaModelConfig,
  body: Record<string, unknown>,
  inputCount: number,
  outputType: OutputType,
  request: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> },
): Promise<EmbeddingsAnswer> {
  const response = await postJson(config, '/embeddings', body, request);
  const answer = { provider: config.provider, response };
  const parsed = decodeAnswer(answer, () => {
    refuseMultiVectorAnswer(response.body, String(body.model), config.provider);
    return parseResponse(jinaEmbeddingResponseSchema, response, config.provider, 'embeddings');
  });
  const embeddings = decodeAnswer(answer, () =>
    decodeVectors(
      inOrder(parsed.data, inputCount, 'vectors', config.provider).map((item) => item.embedding),
      outputType,
    ),
  );
  const usage = parsed.usage === undefined ? undefined : { inputTokens: parsed.usage };
  return { embeddings, usage, response: responseInfo(response, parsed.model) };
}
