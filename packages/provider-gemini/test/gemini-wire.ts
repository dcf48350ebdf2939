import {
  type BatchEmbeddingJobsWireJob,
  type BatchEmbeddingJobsWireProfile,
  encodeVector,
  unknownKeys,
  type WaitForms,
  type WireItem,
  type WireProfile,
} from '@embedkit/conformance';
import type { InputType } from '@embedkit/core';

interface RequestBody {
  model?: string;
  content?: { parts?: { text?: string }[] };
  taskType?: string;
  title?: string;
  outputDimensionality?: number;
}

const CANONICAL: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

// Written out here rather than imported from src, so a wrong mapping in the provider cannot pass.
const INPUT_TYPE_OF: Record<string, InputType> = {
  RETRIEVAL_QUERY: 'query',
  RETRIEVAL_DOCUMENT: 'document',
  SEMANTIC_SIMILARITY: 'similarity',
  CLASSIFICATION: 'classification',
  CLUSTERING: 'clustering',
  QUESTION_ANSWERING: 'question-answering',
  FACT_VERIFICATION: 'fact-verification',
  CODE_RETRIEVAL_QUERY: 'code-query',
};

function requestsOf(body: unknown): RequestBody[] {
  const requests = (body as { requests?: RequestBody[] }).requests;
  return Array.isArray(requests) ? requests : [body as RequestBody];
}

function textOf(request: RequestBody): string {
  return (request.content?.parts ?? []).map((part) => part.text ?? '').join('');
}

/** Gemini repeats the settings on every request of a batch: each item read on its own. */
function itemOf(request: RequestBody): WireItem {
  return {
    text: textOf(request),
    title: request.title,
    inputType: request.taskType === undefined ? undefined : INPUT_TYPE_OF[request.taskType],
    dimensions: request.outputDimensionality,
  };
}

/**
 * Gemini states waits in the body: `RetryInfo.retryDelay` and "Please retry in N s." in the message. It
 * documents no `Retry-After` header.
 */
const geminiWaits: WaitForms = {
  headers: [],
  structuredBody: (waitMs) =>
    geminiErrorBody(429, 'Resource has been exhausted (e.g. check quota).', [
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${waitMs / 1_000}s` },
    ]),
  messageBody: (waitMs) =>
    geminiErrorBody(
      429,
      `You exceeded your current quota, please check your plan and billing details. Please retry in ${waitMs / 1_000}s.`,
    ),
};

/** A `google.rpc.Status` body as the Gemini API sends it. */
export function geminiErrorBody(status: number, message: string, details?: unknown[]): unknown {
  return {
    error: {
      code: status,
      message,
      status: CANONICAL[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
      ...(details === undefined ? {} : { details }),
    },
  };
}

/**
 * What embedkit's provider puts after every JSON call's path: it asks for compact JSON. Written out here
 * rather than imported from src, so that a call without it, or with another value, finds no answer.
 */
export const COMPACT_QUERY = '?prettyPrint=false';

/**
 * The Gemini API's embedding wire: one input → `:embedContent` (`{embedding}`), more →
 * `:batchEmbedContents` (`{embeddings}`, in request order, at most 100), no usage, `x-goog-api-key`.
 * `query` is what the client under test sends after the path: embedkit's provider asks for compact JSON,
 * other clients (`@ai-sdk/google`) send none.
 */
export function geminiEmbeddingWire(query: string): WireProfile {
  return {
    endpoint: ({ inputCount, modelId }) => ({
      method: 'POST',
      path: `/v1beta/models/${modelId}:${inputCount === 1 ? 'embedContent' : 'batchEmbedContents'}${query}`,
    }),
    ...geminiWireRest,
  };
}

const geminiWireRest: Omit<WireProfile, 'endpoint'> = {
  inputsOf: (body) => requestsOf(body).map(textOf),
  itemsOf: (body) => requestsOf(body).map(itemOf),
  dimensionsOf: (body) => requestsOf(body)[0]?.outputDimensionality,
  inputTypeOf: (body) => {
    const taskType = requestsOf(body)[0]?.taskType;
    return taskType === undefined ? undefined : INPUT_TYPE_OF[taskType];
  },
  outputTypeOf: () => 'float',
  // Always JSON floats; a base64 answer (built for the suite's encoding scenarios) is malformed for Gemini.
  encodingOf: () => 'float',
  // Gemini answers in request order and carries no index, so `order` cannot be expressed.
  successBody: ({ body, vectors, encoding = 'float' }) => {
    const values = vectors.map((vector) => encodeVector(vector, 'float', encoding));
    return Array.isArray((body as { requests?: unknown }).requests)
      ? { embeddings: values.map((vector) => ({ values: vector })) }
      : { embedding: { values: values[0] } };
  },
  errorBody({ status, message, kind }) {
    if (kind === 'batch-too-large')
      return geminiErrorBody(400, `Request payload size exceeds the limit: 4194304 bytes. (${message})`);
    if (kind === 'quota-exhausted')
      return geminiErrorBody(429, message, [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/embed_content_free_tier_requests',
              quotaId: 'EmbedContentRequestsPerDayPerProjectPerModel-FreeTier',
              quotaDimensions: { location: 'global', model: 'gemini-embedding-001' },
              quotaValue: '1000',
            },
          ],
        },
      ]);
    return geminiErrorBody(status, message);
  },
  reportsUsage: false,
  waits: geminiWaits,
  // A per-day QuotaFailure is a used-up quota; "at most 100 requests" and a payload over 4 MiB are too large.
  signals: { quotaExhausted: true, batchTooLarge: true },
  maxInputsPerRequest: 100,
  // gemini-embedding-001's input limit, and its lengths.
  maxTokensPerInput: 2_048,
  vectorLengths: { default: 3072, allowed: { min: 128, max: 3072 } },
  // The model is in the path (`models/<id>:…`) and, on a batch, in every request as `models/<id>`: each
  // must name the model asked.
  modelOf: (request) => {
    const named = new Set([/\/models\/([^/:?]+):/.exec(request.path)?.[1]]);
    for (const item of requestsOf(request.body))
      if (item.model !== undefined) named.add(item.model.replace(/^models\//, ''));
    return [...named].join(' and ');
  },
  // The fields of the discovery document's BatchEmbedContentsRequest, EmbedContentRequest and Content.
  unknownFields: (body) => {
    const batch = Array.isArray((body as { requests?: unknown }).requests);
    return [
      ...(batch ? unknownKeys(body, ['requests']) : []),
      ...requestsOf(body).flatMap((request, index) => {
        const at = batch ? `requests[${index}].` : '';
        return [
          ...unknownKeys(request, ['model', 'content', 'taskType', 'title', 'outputDimensionality'], at),
          ...unknownKeys(request.content, ['parts', 'role'], `${at}content.`),
        ];
      }),
    ];
  },
  // A title goes with RETRIEVAL_DOCUMENT only.
  titles: { inputType: 'document' },
  options: [
    // Below 3,072 values the API's vectors are not unit length: normalized on the client unless turned off.
    { name: 'normalize', options: { normalize: true }, vectors: 'unit-length' },
    { name: 'normalize-off', options: { normalize: false }, vectors: 'as-sent' },
  ],
  authHeader: (apiKey) => ({ name: 'x-goog-api-key', value: apiKey }),
};

/** The wire as embedkit's provider speaks it. */
export const geminiWire: WireProfile = geminiEmbeddingWire(COMPACT_QUERY);

const STATE_WORDS = {
  pending: 'BATCH_STATE_PENDING',
  running: 'BATCH_STATE_RUNNING',
  succeeded: 'BATCH_STATE_SUCCEEDED',
  failed: 'BATCH_STATE_FAILED',
  cancelled: 'BATCH_STATE_CANCELLED',
  expired: 'BATCH_STATE_EXPIRED',
} as const;

function outcomeLine(
  outcome: NonNullable<BatchEmbeddingJobsWireJob['outcomes']>[number],
  file: boolean,
): unknown {
  const body =
    'vector' in outcome
      ? { response: { embedding: { values: outcome.vector } } }
      : { error: { code: 3, message: outcome.error.message, status: CANONICAL[outcome.error.status] } };
  return file
    ? { key: String(outcome.index), ...body }
    : { ...body, metadata: { key: String(outcome.index) } };
}

/**
 * The Gemini Batch API wire for the batch-jobs group: results inline (`inlinedResponses`) or in a
 * JSONL `responsesFile` downloaded from `/download/v1beta/files/…:download?alt=media`.
 */
export function geminiBatchWire(results: 'inline' | 'file'): BatchEmbeddingJobsWireProfile {
  const jobId = 'batches/conformance-job-1';
  const file = 'files/batch-conformance-job-1-results';
  const bare = (id: string) => id.replace(/^batches\//, '');
  return {
    jobId,
    create: (modelId) => ({
      method: 'POST',
      path: `/v1beta/models/${modelId}:asyncBatchEmbedContent${COMPACT_QUERY}`,
    }),
    get: (id) => ({ method: 'GET', path: `/v1beta/batches/${bare(id)}${COMPACT_QUERY}` }),
    cancel: (id) => ({
      method: 'POST',
      path: `/v1beta/batches/${bare(id)}:cancel${COMPACT_QUERY}`,
      reply: { status: 200, body: {} },
    }),
    delete: (id) => ({
      method: 'DELETE',
      path: `/v1beta/batches/${bare(id)}${COMPACT_QUERY}`,
      reply: { status: 200, body: {} },
    }),
    inputsOf: (body) =>
      (
        body as { batch: { inputConfig: { requests: { requests: { request: RequestBody }[] } } } }
      ).batch.inputConfig.requests.requests.map((item) => textOf(item.request)),
    dimensionsOf: (body) =>
      (body as { batch: { inputConfig: { requests: { requests: { request: RequestBody }[] } } } }).batch
        .inputConfig.requests.requests[0]?.request.outputDimensionality,
    itemsOf: (body) =>
      (
        body as { batch: { inputConfig: { requests: { requests: { request: RequestBody }[] } } } }
      ).batch.inputConfig.requests.requests.map((item) => itemOf(item.request)),
    titles: { inputType: 'document' },
    waits: geminiWaits,
    jobBody(job) {
      const stats: Record<string, string> = { requestCount: String(job.counts.total) };
      // proto3 JSON leaves zero counts out.
      if (job.counts.succeeded > 0) stats.successfulRequestCount = String(job.counts.succeeded);
      if (job.counts.failed > 0) stats.failedRequestCount = String(job.counts.failed);
      if (job.counts.pending > 0) stats.pendingRequestCount = String(job.counts.pending);
      const final = !['pending', 'running'].includes(job.state);
      const metadata: Record<string, unknown> = {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatch',
        model: 'models/gemini-embedding-001',
        name: job.id,
        displayName: 'conformance batch',
        state: STATE_WORDS[job.state],
        createTime: '2026-01-01T00:00:00.000000Z',
        updateTime: '2026-01-01T00:05:00.000000Z',
        batchStats: stats,
      };
      if (final) metadata.endTime = '2026-01-01T00:05:00.000000Z';
      if (job.outcomes !== undefined) {
        metadata.output =
          results === 'file'
            ? { responsesFile: file }
            : {
                inlinedResponses: {
                  inlinedResponses: job.outcomes.map((outcome) => outcomeLine(outcome, false)),
                },
              };
      }
      return { name: job.id, metadata, done: final };
    },
    ...(results === 'file'
      ? {
          resultExchanges: (job: BatchEmbeddingJobsWireJob) => [
            {
              method: 'GET',
              path: `/download/v1beta/${file}:download?alt=media`,
              reply: {
                status: 200,
                headers: { 'content-type': 'application/octet-stream' },
                body: `${(job.outcomes ?? []).map((outcome) => JSON.stringify(outcomeLine(outcome, true))).join('\n')}\n`,
              },
            },
          ],
        }
      : {}),
    errorBody: ({ status, message }) => geminiErrorBody(status, message),
    authHeader: (apiKey) => ({ name: 'x-goog-api-key', value: apiKey }),
  };
}
