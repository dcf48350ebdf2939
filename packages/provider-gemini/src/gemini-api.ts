import { type ParsedError, parseDuration } from '@embedkit/core';
import { z } from 'zod';

// Lenient on responses: only the fields we use. A vector is checked as "an array" here and element by
// element only while it is copied into the slab, never by zod.
const valuesSchema = z.custom<unknown[]>((value) => Array.isArray(value), 'expected an array');
const contentEmbeddingSchema = z.object({ values: valuesSchema });
// embedContent and batchEmbedContents answers: `requestJson` has already decoded the values (`floatVectors`).
const decodedEmbeddingSchema = z.object({
  values: z.custom<unknown[] | Float32Array>(
    (value) => Array.isArray(value) || value instanceof Float32Array,
    'expected an array',
  ),
});

export const embedContentResponseSchema = z.object({ embedding: decodedEmbeddingSchema });
export const batchEmbedContentsResponseSchema = z.object({ embeddings: z.array(decodedEmbeddingSchema) });

/** google.rpc.Status, as both a whole error body and a per-item batch error. */
const statusSchema = z.object({
  code: z.number().optional(),
  message: z.string().optional(),
  status: z.string().optional(),
  details: z.array(z.record(z.string(), z.unknown())).optional(),
});

export type GeminiStatus = z.infer<typeof statusSchema>;

/** int64 fields arrive as strings; proto3 JSON omits zeros. */
const countSchema = z.union([z.string(), z.number()]).optional();

const outputSchema = z
  .object({
    responsesFile: z.string().optional(),
    inlinedResponses: z
      .object({
        inlinedResponses: z
          .array(
            z.object({
              response: z.object({ embedding: contentEmbeddingSchema.optional() }).optional(),
              error: statusSchema.optional(),
              metadata: z.record(z.string(), z.unknown()).optional(),
            }),
          )
          .optional(),
      })
      .optional(),
  })
  .optional();

/** The batch resource: a long-running operation whose `metadata` is the `EmbedContentBatch`. */
export const batchOperationSchema = z.object({
  name: z.string().optional(),
  done: z.boolean().optional(),
  error: statusSchema.optional(),
  metadata: z
    .object({
      name: z.string().optional(),
      model: z.string().optional(),
      displayName: z.string().optional(),
      state: z.string().optional(),
      createTime: z.string().optional(),
      updateTime: z.string().optional(),
      endTime: z.string().optional(),
      batchStats: z
        .object({
          requestCount: countSchema,
          successfulRequestCount: countSchema,
          failedRequestCount: countSchema,
          pendingRequestCount: countSchema,
        })
        .optional(),
      output: outputSchema,
    })
    .optional(),
  response: z.object({ output: outputSchema }).passthrough().optional(),
});

export type GeminiBatchOperation = z.infer<typeof batchOperationSchema>;
export type GeminiBatchOutput = z.infer<typeof outputSchema>;

/** One line of a batch results file: `{"key": …, "response": {"embedding": …}}` or `{"key": …, "error": …}`. */
export const resultsFileLineSchema = z.object({
  key: z.string().optional(),
  metadata: z.object({ key: z.string().optional() }).passthrough().optional(),
  response: z.object({ embedding: contentEmbeddingSchema.optional() }).optional(),
  error: statusSchema.optional(),
});

const errorBodySchema = z.object({ error: statusSchema });

const TYPE_PREFIX = 'type.googleapis.com/google.rpc.';

/** Models the Gemini API has retired, with what the 404 cannot say itself. */
const RETIRED_MODELS: Record<string, string> = {
  'text-embedding-004': 'text-embedding-004 was retired on the Gemini API on 2026-01-14',
};

/** "models/text-embedding-004 is not found for API version v1beta, …" */
const MODEL_NOT_FOUND = /models\/([\w.-]+) is not found/;
/** "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch" / payload over 4 MiB. */
const BATCH_TOO_LARGE = /at most \d+ requests can be in one batch|request payload size exceeds the limit/i;
/** "… Please retry in 11.665902715s." when the body carries no RetryInfo. */
const RETRY_IN = /retry in (\d+(?:\.\d+)?)(ms|s)\b/i;
/** A field error that names one request of a batch: "requests[3].content…". */
const REQUEST_INDEX = /requests\[(\d+)\]/;

function detailsOf(status: GeminiStatus, type: string): Record<string, unknown>[] {
  return (status.details ?? []).filter((detail) => detail['@type'] === `${TYPE_PREFIX}${type}`);
}

/** Whether a `QuotaFailure` names a per-day quota: waiting seconds will not help. */
function perDayQuota(status: GeminiStatus): boolean {
  for (const failure of detailsOf(status, 'QuotaFailure')) {
    const violations = Array.isArray(failure.violations) ? failure.violations : [];
    for (const violation of violations as Record<string, unknown>[]) {
      const words = [violation.quotaId, violation.quotaMetric, violation.subject]
        .filter((word): word is string => typeof word === 'string')
        .join(' ');
      if (/per[_ ]?day/i.test(words)) return true;
    }
  }
  return false;
}

/**
 * Reads a `google.rpc.Status` error body (`{"error": {code, message, status, details}}`). The Gemini
 * API answers an invalid key with 400 `API_KEY_INVALID`: an authentication failure, not a bad request.
 * A 429's wait comes from `RetryInfo.retryDelay`; a `QuotaFailure` on a per-day quota is a used-up quota.
 */
export function parseGeminiError(body: unknown, status: number): ParsedError {
  const candidate = Array.isArray(body) ? body[0] : body;
  const parsed = errorBodySchema.safeParse(candidate);
  if (!parsed.success) return {};
  const error = parsed.data.error;
  const out: ParsedError = {};
  if (error.message) out.message = error.message;
  const reasons = detailsOf(error, 'ErrorInfo')
    .map((detail) => detail.reason)
    .filter((reason): reason is string => typeof reason === 'string');
  const providerCode = reasons[0] ?? error.status;
  if (providerCode) out.providerCode = providerCode;

  if (reasons.includes('API_KEY_INVALID')) {
    out.kind = 'authentication';
    out.hint =
      'The Gemini API rejected the key; check GEMINI_API_KEY / GOOGLE_API_KEY or the apiKey setting.';
  }

  const retryDelay = detailsOf(error, 'RetryInfo')
    .map((detail) => detail.retryDelay)
    .find((delay): delay is string => typeof delay === 'string');
  const fromDetail = retryDelay === undefined ? undefined : parseDuration(retryDelay);
  if (fromDetail !== undefined) out.retryAfterMs = fromDetail;
  else {
    const wait = error.message?.match(RETRY_IN);
    if (wait) out.retryAfterMs = Number(wait[1]) * (wait[2] === 's' ? 1_000 : 1);
  }
  if (status === 429 && perDayQuota(error)) out.quotaExhausted = true;

  if (error.message !== undefined && BATCH_TOO_LARGE.test(error.message)) out.batchTooLarge = true;
  const index = error.message?.match(REQUEST_INDEX);
  if (index && status < 500) out.inputIndex = Number(index[1]);

  const missing = error.message?.match(MODEL_NOT_FOUND);
  if (status === 404 && missing) {
    const model = missing[1]!;
    out.hint =
      RETIRED_MODELS[model] !== undefined
        ? `${RETIRED_MODELS[model]}; use gemini-embedding-001.`
        : `models/${model} is not served by this API version: check the id, or whether the model was retired; gemini-embedding-001 is current.`;
  }
  return out;
}
