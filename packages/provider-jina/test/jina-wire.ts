import type { ContextualizedWireProfile, RerankingWireProfile, WireProfile } from '@embedkit/conformance';
import type { InputType } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';

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

const vector = (body: unknown, values: number[]) =>
  (body as JinaBody).embedding_type === 'base64' ? float32ToBase64(values) : values;

const usage = (tokens: number | undefined) => ({ total_tokens: tokens ?? 0, prompt_tokens: tokens ?? 0 });

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
 * the suite exercises both. Jina has no 429 form for a used-up quota (that is a 403 balance error), so
 * `quota-exhausted` gets the ordinary token rate-limit body.
 */
function errorBody({ status, message, kind }: { status: number; message: string; kind?: string }) {
  const request_id = `req-jina-${status}`;
  if (kind === 'batch-too-large') {
    // The API's answer to too many inputs in one request (observed 2025-11).
    const detail = `${message}. Validation error: 'body -> jina-embeddings-v3' Each input list can contain at most 512 items.`;
    return { detail, request_id };
  }
  if (kind === 'quota-exhausted') return { detail: message, code: 'RATE_TOKEN_LIMIT_EXCEEDED', request_id };
  if (status === 400) return { detail: { message }, request_id };
  const code = CODES[status];
  return { detail: message, ...(code === undefined ? {} : { code }), request_id };
}

const bearer = (apiKey: string) => ({ name: 'authorization', value: `Bearer ${apiKey}` });

/** `POST /v1/embeddings`: `input`, `task`, `dimensions`, `embedding_type: "base64"`, `usage.total_tokens`. */
export const jinaWire: WireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/embeddings' }),
  inputsOf: textsOf,
  dimensionsOf: (body) => (body as JinaBody).dimensions,
  inputTypeOf: (body) => {
    const task = (body as JinaBody).task;
    return task === undefined ? undefined : V3_TASKS[task];
  },
  successBody: ({ body, vectors, order, usageTokens }) => ({
    model: (body as JinaBody).model,
    object: 'list',
    usage: usage(usageTokens),
    data: order.map((index) => ({ object: 'embedding', index, embedding: vector(body, vectors[index]!) })),
  }),
  errorBody,
  reportsUsage: true,
  maxInputsPerRequest: 512,
  authHeader: bearer,
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
  // The chunk vectors are listed last to first: the provider must order them by `index`.
  successBody: ({ body, vectors, usageTokens }) => ({
    model: (body as JinaBody).model,
    object: 'list',
    usage: usage(usageTokens),
    data: (vectors[0] ?? [])
      .map((values, index) => ({ object: 'embedding', index, embedding: vector(body, values) }))
      .reverse(),
  }),
  errorBody,
  reportsUsage: true,
  maxDocumentsPerRequest: 1,
  maxChunksPerRequest: 512,
  authHeader: bearer,
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
    usage: { total_tokens: usageTokens ?? 0 },
    results: results.map((result) => ({ index: result.index, relevance_score: result.relevanceScore })),
  }),
  errorBody,
  reportsUsage: true,
  authHeader: bearer,
};
