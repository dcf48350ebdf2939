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

interface VoyageBody {
  input?: string | string[];
  inputs?: string[][];
  query?: string;
  documents?: string[];
  top_k?: number;
  truncation?: boolean;
  return_documents?: boolean;
  output_dtype?: OutputType;
  model?: string;
  input_type?: string | null;
  output_dimension?: number;
  encoding_format?: string;
}

const inputType = (body: unknown): InputType | undefined => {
  const value = (body as VoyageBody).input_type;
  return value === 'query' || value === 'document' ? value : undefined;
};

const encodingOf = (body: unknown): VectorEncoding =>
  (body as VoyageBody).encoding_format === 'base64' ? 'base64' : 'float';
const outputTypeOf = (body: unknown): OutputType => (body as VoyageBody).output_dtype ?? 'float';

/** A vector as Voyage sends it: the values of the `output_dtype` asked, base64 when `encoding_format` says so. */
const vector = (body: unknown, values: number[], encoding?: VectorEncoding) =>
  encodeVector(values, outputTypeOf(body), encoding ?? encodingOf(body));

/** Voyage sends `Retry-After` on a 429 (honoured by its own SDK); it documents no quota-exhausted form. */
const common = {
  errorBody,
  reportsUsage: true,
  waits: { headers: ['retry-after'] },
  signals: { batchTooLarge: true },
  authHeader: (apiKey: string) => ({ name: 'authorization', value: `Bearer ${apiKey}` }),
} as const;

/** The message Voyage sends for a request over its token budget (observed in a public issue). */
const BATCH_TOO_LARGE =
  "Request to model 'voyage-3.5' failed. The max allowed tokens per submitted batch is 320000. Your batch has 324417 tokens after truncation. Please lower the number of tokens in the batch.";

/** Voyage errors are `{"detail": "..."}` at every status; it documents no separate quota-exhausted form. */
function errorBody({ message, kind }: { status: number; message: string; kind?: string }) {
  return { detail: kind === 'batch-too-large' ? `${message}. ${BATCH_TOO_LARGE}` : message };
}

/** `POST /v1/embeddings`: `input` list, `input_type`, `output_dimension`, base64 vectors, `usage.total_tokens`. */
export const voyageWire: WireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/embeddings' }),
  inputsOf(body) {
    const input = (body as VoyageBody).input;
    return typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  },
  dimensionsOf: (body) => (body as VoyageBody).output_dimension,
  inputTypeOf: inputType,
  outputTypeOf,
  encodingOf,
  // The API cuts over-long inputs unless `truncation` is false.
  truncateOf: (body) => (body as VoyageBody).truncation !== false,
  indexedAnswers: true,
  successBody: ({ body, vectors, order, usageTokens, encoding }) => ({
    object: 'list',
    data: order.map((index) => ({
      object: 'embedding',
      embedding: vector(body, vectors[index]!, encoding),
      index,
    })),
    model: (body as VoyageBody).model,
    // None at all for an answer without usage.
    ...(usageTokens === undefined ? {} : { usage: { total_tokens: usageTokens } }),
  }),
  encodingSwap: { field: 'encoding_format', reencode: (body, encoding) => reencodeVectors(body, encoding) },
  ...common,
  // The API takes at most 1,000 inputs and, for voyage-3.5, 320,000 tokens per request.
  maxInputsPerRequest: 1000,
  maxTokensPerRequest: 320_000,
  // voyage-3.5's context length, and its lengths.
  maxTokensPerInput: 32_000,
  vectorLengths: { default: 1024, allowed: [256, 512, 1024, 2048] },
  modelOf: (request) => (request.body as VoyageBody).model,
  // The fields of the spec's embeddings request.
  unknownFields: (body) =>
    unknownKeys(body, [
      'input',
      'model',
      'input_type',
      'truncation',
      'output_dimension',
      'output_dtype',
      'encoding_format',
    ]),
};

/** `POST /v1/contextualizedembeddings`: `inputs` as documents of chunks, answered as `data[].data[]`. */
export const voyageContextualizedWire: ContextualizedWireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v1/contextualizedembeddings' }),
  documentsOf: (body) => (body as VoyageBody).inputs ?? [],
  dimensionsOf: (body) => (body as VoyageBody).output_dimension,
  inputTypeOf: inputType,
  outputTypeOf,
  successBody: ({ body, vectors, order, chunkOrder, usageTokens }) => ({
    object: 'list',
    data: order.map((index) => ({
      object: 'list',
      index,
      data: (chunkOrder?.[index] ?? vectors[index]!.map((_, chunk) => chunk)).map((chunk) => ({
        object: 'embedding',
        index: chunk,
        embedding: vector(body, vectors[index]![chunk]!),
      })),
    })),
    model: (body as VoyageBody).model,
    ...(usageTokens === undefined ? {} : { usage: { total_tokens: usageTokens } }),
  }),
  ...common,
  // 1,000 documents and 16,000 chunks per request.
  maxDocumentsPerRequest: 1000,
  maxChunksPerRequest: 16_000,
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
    ...(usageTokens === undefined ? {} : { usage: { total_tokens: usageTokens } }),
  }),
  // The API cuts long documents unless `truncation` is false, and sends none back unless asked.
  truncateOf: (body) => (body as VoyageBody).truncation !== false,
  returnsDocumentsOf: (body) => (body as VoyageBody).return_documents === true,
  ...common,
  maxDocumentsPerRequest: 1000,
};
