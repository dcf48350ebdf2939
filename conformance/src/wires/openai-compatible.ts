import type { OutputType } from '@embedkit/core';
import type { SettingNames } from '@embedkit/core/provider';
import { encodeVector, reencodeVectors, reportedTotalTokens } from '../suite/answers.js';
import {
  EMBEDDING_PROVIDER_SHAPE,
  type FieldShape,
  OPTION_EXAMPLES,
  refuseUnknownFields,
  VECTOR_LENGTHS_SHAPE,
  WIRE_PROFILE_SHAPE,
} from '../suite/fields.js';
import type { OptionExample, VectorEncoding, WireProfile } from '../types.js';

interface OpenAIRequestBody {
  input?: string | string[];
  model?: string;
  dimensions?: number;
  encoding_format?: string;
}

/** An OpenAI-style list of vectors (`data[{object, index, embedding}]`, `usage`), in the given order and encoding. */
export function openAIStyleAnswer(answer: {
  model: unknown;
  vectors: number[][];
  order: number[];
  outputType: OutputType;
  encoding: VectorEncoding;
  usageTokens: number | undefined;
}): unknown {
  return {
    object: 'list',
    data: answer.order.map((index) => ({
      object: 'embedding',
      index,
      embedding: encodeVector(answer.vectors[index]!, answer.outputType, answer.encoding),
    })),
    model: answer.model,
    // No usage at all when the answer carries none; `total_tokens` above `prompt_tokens`, the input tokens.
    ...(answer.usageTokens === undefined
      ? {}
      : {
          usage: {
            prompt_tokens: answer.usageTokens,
            total_tokens: reportedTotalTokens(answer.usageTokens),
          },
        }),
  };
}

/** OpenAI's error envelope, `{"error": {message, type, param, code}}`, with the codes the API sends per status. */
export function openAIErrorBody({
  status,
  message,
  kind,
}: {
  status: number;
  message: string;
  kind?: string;
}) {
  // Shapes as the API sends them: quota errors carry type and code `insufficient_quota`; the
  // request-size error carries `max_tokens_per_request`.
  if (kind === 'quota-exhausted')
    return { error: { message, type: 'insufficient_quota', param: null, code: 'insufficient_quota' } };
  if (kind === 'batch-too-large')
    return {
      error: { message, type: 'max_tokens_per_request', param: null, code: 'max_tokens_per_request' },
    };
  const code =
    status === 401
      ? 'invalid_api_key'
      : status === 404
        ? 'model_not_found'
        : status === 429
          ? 'rate_limit_exceeded'
          : null;
  return {
    error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code },
  };
}

/**
 * The keys of `value` (when it is a plain object) outside `known`, each named `${at}${key}`: a building block
 * for a wire profile's `unknownFields`, applied to the body and to each nested object the API defines.
 */
export function unknownKeys(value: unknown, known: readonly string[], at = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => `${at}${key}`);
}

/** The request fields of OpenAI's `CreateEmbeddingRequest`. */
const OPENAI_REQUEST_FIELDS = ['input', 'model', 'encoding_format', 'dimensions', 'user'] as const;

/** What `openAICompatibleWire` takes: the server's path, its limits and lengths, and its extra fields and options. */
export interface OpenAICompatibleWireOptions {
  /** The full path of the endpoint, e.g. `/v1/embeddings`. */
  path: string;
  /** A query string the server needs after the path, without `?`. */
  query?: string;
  maxInputsPerRequest?: number;
  maxTokensPerRequest?: number;
  /** The server's extra options, each with an example value. */
  options?: readonly OptionExample[];
  /** The header the server names requests by (OpenAI: `x-request-id`); servers differ, so none by default. */
  requestIdHeader?: string;
  /** The server's limit on the tokens of one input (OpenAI: 8,192). */
  maxTokensPerInput?: number;
  /** Top-level request fields the server takes beyond OpenAI's, e.g. `['input_type', 'truncate']`. */
  requestFields?: readonly string[];
  /** The server's vector lengths for the model (OpenAI's text-embedding-3-small: 1,536, any of 1 to 1,536). */
  vectorLengths?: WireProfile['vectorLengths'];
}

const OPENAI_COMPATIBLE_WIRE_OPTIONS: SettingNames<OpenAICompatibleWireOptions> = {
  path: true,
  query: true,
  maxInputsPerRequest: true,
  maxTokensPerRequest: true,
  options: true,
  requestIdHeader: true,
  maxTokensPerInput: true,
  requestFields: true,
  vectorLengths: true,
};

const OPENAI_COMPATIBLE_WIRE_SHAPE: FieldShape = {
  names: OPENAI_COMPATIBLE_WIRE_OPTIONS,
  inner: { options: OPTION_EXAMPLES, vectorLengths: VECTOR_LENGTHS_SHAPE },
};

/** Where a field `openAICompatibleWire` does not take belongs: on the wire it returns, or beside it. */
const OPENAI_COMPATIBLE_WIRE_ELSEWHERE: Readonly<Record<string, string>> = Object.fromEntries([
  ...Object.keys(WIRE_PROFILE_SHAPE.names).map((name) => [
    name,
    `it is a field of the wire; set it on the wire this returns: { ...openAICompatibleWire(…), ${name} }`,
  ]),
  ...Object.keys(EMBEDDING_PROVIDER_SHAPE.names).map((name) => [
    name,
    'it is an option of describeEmbeddingProvider, beside wire',
  ]),
]);

/**
 * The wire of OpenAI's `POST /embeddings`, shared by every OpenAI-compatible server: `input` array,
 * `dimensions`, `encoding_format` (floats unless `base64` is asked), `{"error": {...}}` bodies,
 * `usage.prompt_tokens`, Bearer auth, `retry-after` / `retry-after-ms` and "try again in 2.5s" waits.
 * `path` is the full path of the endpoint, e.g. `/v1/embeddings`; `options` lists the server's extra
 * options with example values. A request may carry OpenAI's fields (`input`, `model`, `encoding_format`,
 * `dimensions`, `user`) and the server's own `requestFields`, nothing else. An option it does not take
 * is refused.
 */
export function openAICompatibleWire(options: OpenAICompatibleWireOptions): WireProfile {
  refuseUnknownFields(
    options,
    OPENAI_COMPATIBLE_WIRE_SHAPE,
    'openAICompatibleWire',
    OPENAI_COMPATIBLE_WIRE_ELSEWHERE,
  );
  const path = options.query === undefined ? options.path : `${options.path}?${options.query}`;
  const known = [...OPENAI_REQUEST_FIELDS, ...(options.requestFields ?? [])];
  const encodingOf = (body: unknown): VectorEncoding =>
    (body as OpenAIRequestBody).encoding_format === 'base64' ? 'base64' : 'float';
  return {
    ...(options.requestIdHeader === undefined ? {} : { requestIdHeader: options.requestIdHeader }),
    endpoint: () => ({ method: 'POST', path }),
    inputsOf(body) {
      const input = (body as OpenAIRequestBody).input;
      return typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
    },
    dimensionsOf: (body) => (body as OpenAIRequestBody).dimensions,
    // OpenAI embeddings have no input type.
    inputTypeOf: () => undefined,
    outputTypeOf: () => 'float',
    encodingOf,
    // OpenAI never cuts: an input over the context length is a 400.
    truncateOf: () => false,
    indexedAnswers: true,
    successBody: ({ body, vectors, order, usageTokens, encoding }) =>
      openAIStyleAnswer({
        model: (body as OpenAIRequestBody).model,
        vectors,
        order,
        outputType: 'float',
        encoding: encoding ?? encodingOf(body),
        usageTokens,
      }),
    errorBody: openAIErrorBody,
    reportsUsage: true,
    waits: {
      headers: ['retry-after', 'retry-after-ms'],
      messageBody: (waitMs) => ({
        error: {
          message: `Rate limit reached for requests per min (RPM): Limit 3000, Used 3000, Requested 1. Please try again in ${waitMs / 1_000}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      }),
    },
    signals: { quotaExhausted: true, batchTooLarge: true },
    encodingSwap: { field: 'encoding_format', reencode: (body, encoding) => reencodeVectors(body, encoding) },
    ...(options.maxInputsPerRequest === undefined
      ? {}
      : { maxInputsPerRequest: options.maxInputsPerRequest }),
    ...(options.maxTokensPerRequest === undefined
      ? {}
      : { maxTokensPerRequest: options.maxTokensPerRequest }),
    ...(options.maxTokensPerInput === undefined ? {} : { maxTokensPerInput: options.maxTokensPerInput }),
    ...(options.options === undefined ? {} : { options: options.options }),
    unknownFields: (body) => unknownKeys(body, known),
    modelOf: (request) => {
      const model = (request.body as OpenAIRequestBody).model;
      return typeof model === 'string' ? model : undefined;
    },
    ...(options.vectorLengths === undefined ? {} : { vectorLengths: options.vectorLengths }),
    authHeader: (apiKey) => ({ name: 'authorization', value: `Bearer ${apiKey}` }),
  };
}
