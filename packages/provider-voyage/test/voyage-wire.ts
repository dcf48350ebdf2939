import type { ContextualizedWireProfile, RerankingWireProfile, WireProfile } from '@embedkit/conformance';
import type { InputType } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';

interface VoyageBody {
  input?: string | string[];
  inputs?: string[][];
  query?: string;
  documents?: string[];
  top_k?: number;
  model?: string;
  input_type?: string | null;
  output_dimension?: number;
  encoding_format?: string;
}

const inputType = (body: unknown): InputType | undefined => {
  const value = (body as VoyageBody).input_type;
  return value === 'query' || value === 'document' ? value : undefined;
};

const vector = (body: unknown, values: number[]) =>
  (body as VoyageBody).encoding_format === 'base64' ? float32ToBase64(values) : values;

/** The message Voyage sends for a request over its token budget (observed in a public issue). */
const BATCH_TOO_LARGE =
  "Request to model 'voyage-3.5' failed. The max allowed tokens per submitted batch is 320000. Your batch has 324417 tokens after truncation. Please lower the number of tokens in the batch.";

/** Voyage errors are `{"detail": "..."}` at every status; it documents no separate quota-exhausted form. */
function errorBody({ message, kind }: { status: number; message: string; kind?: string }) {
  return { detail: kind === 'batch-too-large' ? `${message}. ${BATCH_TOO_LARGE}` : message };
}

const bearer = (apiKey: string) => ({ name: 'authorization', value: `Bearer ${apiKey}` });

/** `POST /v1/embeddings`: `input` list, `input_type`, `output_dimension`, base64 vectors, `usage.total_tokens`. */
export const voyageWire: WireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/embeddings' }),
  inputsOf(body) {
    const input = (body as VoyageBody).input;
    return typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  },
  dimensionsOf: (body) => (body as VoyageBody).output_dimension,
  inputTypeOf: inputType,
  successBody: ({ body, vectors, order, usageTokens }) => ({
    object: 'list',
    data: order.map((index) => ({ object: 'embedding', embedding: vector(body, vectors[index]!), index })),
    model: (body as VoyageBody).model,
    usage: { total_tokens: usageTokens ?? 0 },
  }),
  errorBody,
  reportsUsage: true,
  // The API takes at most 1,000 inputs per request.
  maxInputsPerRequest: 1000,
  authHeader: bearer,
};

/** `POST /v1/contextualizedembeddings`: `inputs` as documents of chunks, answered as `data[].data[]`. */
export const voyageContextualizedWire: ContextualizedWireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/contextualizedembeddings' }),
  documentsOf: (body) => (body as VoyageBody).inputs ?? [],
  dimensionsOf: (body) => (body as VoyageBody).output_dimension,
  inputTypeOf: inputType,
  successBody: ({ body, vectors, order, usageTokens }) => ({
    object: 'list',
    data: order.map((index) => ({
      object: 'list',
      index,
      data: vectors[index]!.map((values, chunk) => ({
        object: 'embedding',
        index: chunk,
        embedding: vector(body, values),
      })),
    })),
    model: (body as VoyageBody).model,
    usage: { total_tokens: usageTokens ?? 0 },
  }),
  errorBody,
  reportsUsage: true,
  // 1,000 documents and 16,000 chunks per request.
  maxDocumentsPerRequest: 1000,
  maxChunksPerRequest: 16_000,
  authHeader: bearer,
};

/** `POST /v1/rerank`: `query`, `documents`, `top_k`, answered as `data[{index, relevance_score}]`. */
export const voyageRerankingWire: RerankingWireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/rerank' }),
  queryOf: (body) => (body as VoyageBody).query ?? '',
  documentsOf: (body) => (body as VoyageBody).documents ?? [],
  topNOf: (body) => (body as VoyageBody).top_k,
  successBody: ({ body, results, usageTokens }) => ({
    object: 'list',
    data: results.map((result) => ({ index: result.index, relevance_score: result.relevanceScore })),
    model: (body as VoyageBody).model,
    usage: { total_tokens: usageTokens ?? 0 },
  }),
  errorBody,
  reportsUsage: true,
  maxDocumentsPerRequest: 1000,
  authHeader: bearer,
};
