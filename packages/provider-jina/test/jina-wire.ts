import {
  type ContextualizedWireProfile,
  encodeVector,
  type RerankingWireProfile,
  reencodeVectors,
  unknownKeys,
  type VectorEncoding,
  type WireProfile,
} from '@embedkit/conformance';
import type { InputType, OutputType } from '@embedkit/core';

interface JinaBody {
  model?: string;
  input?: (string | { text: string })[] | string;
  task?: string;
  dimensions?: number;
  embedding_type?: string;
  late_chunking?: boolean;
  query?: string;
  documents?: string[];
  top_n?: number;
  truncate?: boolean;
  truncation?: boolean;
  return_documents?: boolean;
  normalized?: boolean;
  max_doc_length?: number;
}

/** jina-embeddings-v3's task words, read back as unified input types (written out here, not imported). */
const V3_TASKS: Record<string, InputType> = {
  'retrieval.query': 'query',
  'retrieval.passage': 'document',
  'text-matching': 'similarity',
  classification: 'classification',
  separation: 'clustering',
};

const textsOf = (body: unknown): string[] => {
  const input = (body as JinaBody).input;
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  return list.map((item) => (typeof item === 'string' ? item : item.text));
};

/** `embedding_type` asks both the type and the encoding: `base64` floats, JSON `float`, bit-packed `binary` / `ubinary` integers. */
const outputTypeOf = (body: unknown): OutputType => {
  const type = (body as JinaBody).embedding_type;
  return type === 'binary' || type === 'ubinary' ? type : 'float';
};
const encodingOf = (body: unknown): VectorEncoding =>
  (body as JinaBody).embedding_type === 'base64' ? 'base64' : 'float';
const vector = (body: unknown, values: number[], encoding?: VectorEncoding) =>
  encodeVector(values, outputTypeOf(body), encoding ?? encodingOf(body));

/** Usage as Jina reports it; none at all for an answer without usage. */
const usage = (tokens: number | undefined) =>
  tokens === undefined ? {} : { usage: { total_tokens: tokens, prompt_tokens: tokens } };

/** The `code` Jina sends with each status (Jina OpenAPI error table). */
const CODES: Record<number, string> = {
  400: 'INPUT_INVALID_LABELS',
  401: 'AUTH_INVALID_API_KEY',
  403: 'AUTHZ_INSUFFICIENT_BALANCE',
  404: 'RESOURCE_NOT_FOUND',
  409: 'CONFLICT_RESOURCE_BUSY',
  429: 'RATE_REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
  504: 'SERVICE_TIMEOUT',
};

/**
 * Jina's `{detail, code, request_id}`. A 400 uses the object form `{detail: {message}}` seen in 2026, so
 * the suite exercises both.
 */
function errorBody({ status, message, kind }: { status: number; message: string; kind?: string }) {
  const request_id = `req-jina-${status}`;
  if (kind === 'batch-too-large') {
    // The API's answer to too many inputs in one request (observed 2025-11).
    const detail = `${message}. Validation error: 'body -> jina-embeddings-v3' Each input list can contain at most 512 items.`;
    return { detail, request_id };
  }
  if (status === 400) return { detail: { message }, request_id };
  const code = CODES[status];
  return { detail: message, ...(code === undefined ? {} : { code }), request_id };
}

/** Jina sends `Retry-After` with its 429s (observed); its only special error is a list too long for one request. */
const common = {
  errorBody,
  reportsUsage: true,
  waits: { headers: ['retry-after'] },
  signals: { batchTooLarge: true },
  authHeader: (apiKey: string) => ({ name: 'authorization', value: `Bearer ${apiKey}` }),
} as const;

/** Whether the API may cut over-long inputs: `truncate` defaults to false. */
const truncateOf = (body: unknown) => (body as JinaBody).truncate === true;

/** `POST /v1/embeddings`: `input`, `task`, `dimensions`, `embedding_type: "base64"`, `usage.total_tokens`. */
export const jinaWire: WireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/embeddings' }),
  inputsOf: textsOf,
  dimensionsOf: (body) => (body as JinaBody).dimensions,
  inputTypeOf: (body) => {
    const task = (body as JinaBody).task;
    return task === undefined ? undefined : V3_TASKS[task];
  },
  outputTypeOf,
  encodingOf,
  truncateOf,
  indexedAnswers: true,
  successBody: ({ body, vectors, order, usageTokens, encoding }) => ({
    model: (body as JinaBody).model,
    object: 'list',
    ...usage(usageTokens),
    data: order.map((index) => ({
      object: 'embedding',
      index,
      embedding: vector(body, vectors[index]!, encoding),
    })),
  }),
  encodingSwap: { field: 'embedding_type', reencode: (body, encoding) => reencodeVectors(body, encoding) },
  options: [
    // Tasks no unified input type names go as they are; `normalized` is sent as given.
    {
      name: 'task',
      options: { task: 'text-matching' },
      onWire: (body) => (body as JinaBody).task,
      expected: 'text-matching',
    },
    {
      name: 'normalized',
      options: { normalized: false },
      onWire: (body) => (body as JinaBody).normalized,
      expected: false,
    },
  ],
  ...common,
  maxInputsPerRequest: 512,
  // jina-embeddings-v3's context length, and its lengths.
  maxTokensPerInput: 8_192,
  vectorLengths: { default: 1024, allowed: { min: 1, max: 1024 } },
  modelOf: (request) => (request.body as JinaBody).model,
  // The fields of the spec's request for jina-embeddings-v3, and of each `{ text }` input.
  unknownFields: (body) => [
    ...unknownKeys(body, [
      'model',
      'input',
      'task',
      'dimensions',
      'embedding_type',
      'late_chunking',
      'normalized',
      'truncate',
    ]),
    ...(Array.isArray((body as JinaBody).input) ? ((body as JinaBody).input as unknown[]) : []).flatMap(
      (item, index) => unknownKeys(item, ['text'], `input[${index}].`),
    ),
  ],
};

/**
 * Late chunking on `POST /v1/embeddings`: one document per request, its chunks as `input`, flagged
 * `late_chunking: true`. A request without the flag reads as no document at all, so the suite fails it.
 */
export const jinaContextualizedWire: ContextualizedWireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/embeddings' }),
  documentsOf: (body) => ((body as JinaBody).late_chunking === true ? [textsOf(body)] : []),
  dimensionsOf: (body) => (body as JinaBody).dimensions,
  inputTypeOf: (body) => {
    const task = (body as JinaBody).task;
    return task === undefined ? undefined : V3_TASKS[task];
  },
  outputTypeOf,
  encodingOf,
  truncateOf,
  // Unless told otherwise, the chunk vectors are listed last to first: the provider must order them by `index`.
  successBody: ({ body, vectors, chunkOrder, usageTokens }) => {
    const chunks = vectors[0] ?? [];
    const order = chunkOrder?.[0] ?? chunks.map((_, index) => chunks.length - 1 - index);
    return {
      model: (body as JinaBody).model,
      object: 'list',
      ...usage(usageTokens),
      data: order.map((index) => ({ object: 'embedding', index, embedding: vector(body, chunks[index]!) })),
    };
  },
  ...common,
  maxDocumentsPerRequest: 1,
  maxChunksPerRequest: 512,
};

/** `POST /v1/rerank`: `query`, `documents`, `top_n`, answered as `results[{index, relevance_score}]`. */
export const jinaRerankingWire: RerankingWireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/rerank' }),
  queryOf: (body) => (body as JinaBody).query ?? '',
  documentsOf: (body) => (body as JinaBody).documents ?? [],
  topNOf: (body) => (body as JinaBody).top_n,
  successBody: ({ body, results, usageTokens }) => ({
    model: (body as JinaBody).model,
    object: 'list',
    ...(usageTokens === undefined ? {} : { usage: { total_tokens: usageTokens } }),
    results: results.map((result) => ({ index: result.index, relevance_score: result.relevanceScore })),
  }),
  // `truncation` has no documented default, so only an explicit false is sure not to cut; `return_documents`
  // defaults to true (Jina OpenAPI).
  truncateOf: (body) => (body as JinaBody).truncation !== false,
  returnsDocumentsOf: (body) => (body as JinaBody).return_documents !== false,
  // The suite runs this wire with jina-reranker-v3, which the spec's `RerankerV3Request` calls a listwise
  // model: its scores do not compare across calls, and the model must say so.
  listwise: true,
  options: [
    {
      name: 'max-document-length',
      options: { maxDocumentLength: 1024 },
      onWire: (body) => (body as JinaBody).max_doc_length,
      expected: 1024,
    },
  ],
  ...common,
};
