import { ownEntry, type ParsedError, parseDuration, schema } from '@embedkit/core/provider';

/**
 * The query every JSON call carries. The Gemini API indents its answers unless told otherwise (the
 * `prettyPrint` system parameter, default true): a vector then takes one line per value,
 * 1.5 to 1.7 times the bytes of compact JSON, and every byte is sent, read and skipped again.
 */
export const GEMINI_QUERY = '?prettyPrint=false';

// Lenient on responses: only the fields we use. A vector is checked as "an array" here and element by
// element only while it is copied into its own buffer, never by the schema.
const valuesSchema = schema.custom<unknown[]>((value) => Array.isArray(value), 'expected an array');
const contentEmbeddingSchema = schema.object({ values: valuesSchema });
// embedContent and batchEmbedContents answers: `requestJson` may have decoded the values (`floatVectors`).
const decodedEmbeddingSchema = schema.object({ values: schema.vectorArray() });

export const embedContentResponseSchema = schema.object({ embedding: decodedEmbeddingSchema });
export const batchEmbedContentsResponseSchema = schema.object({
  embeddings: schema.array(decodedEmbeddingSchema),
});

/** google.rpc.Status, as both a whole error body and a per-item batch error. */
const statusSchema = schema.object({
  code: schema.optional(schema.number()),
  message: schema.optional(schema.string()),
  status: schema.optional(schema.string()),
  details: schema.optional(schema.array(schema.record(schema.unknown()))),
});

export type GeminiStatus = schema.Infer<typeof statusSchema>;

/** int64 fields arrive as strings; proto3 JSON omits zeros. */
const countSchema = schema.optional(schema.union([schema.string(), schema.number()]));

/**
 * What one result carries, inline or as a line of the results file. `metadata` is a Struct: its `key`
 * may be any JSON value, and is read by the batch jobs' one reader of keys, never refused here.
 */
const resultFields = {
  response: schema.optional(schema.object({ embedding: schema.optional(contentEmbeddingSchema) })),
  error: schema.optional(statusSchema),
  metadata: schema.optional(schema.record(schema.unknown())),
};

const outputSchema = schema.optional(
  schema.object({
    responsesFile: schema.optional(schema.string()),
    inlinedResponses: schema.optional(
      schema.object({
        inlinedResponses: schema.optional(schema.array(schema.object(resultFields))),
      }),
    ),
  }),
);

/** The batch resource: a long-running operation whose `metadata` is the `EmbedContentBatch`. */
export const batchOperationSchema = schema.object({
  name: schema.optional(schema.string()),
  done: schema.optional(schema.boolean()),
  error: schema.optional(statusSchema),
  metadata: schema.optional(
    schema.object({
      name: schema.optional(schema.string()),
      model: schema.optional(schema.string()),
      displayName: schema.optional(schema.string()),
      state: schema.optional(schema.string()),
      createTime: schema.optional(schema.string()),
      updateTime: schema.optional(schema.string()),
      endTime: schema.optional(schema.string()),
      batchStats: schema.optional(
        schema.object({
          requestCount: countSchema,
          successfulRequestCount: countSchema,
          failedRequestCount: countSchema,
          pendingRequestCount: countSchema,
        }),
      ),
      output: outputSchema,
    }),
  ),
  response: schema.optional(schema.looseObject({ output: outputSchema })),
});

export type GeminiBatchOperation = schema.Infer<typeof batchOperationSchema>;
export type GeminiBatchOutput = schema.Infer<typeof outputSchema>;

/**
 * One line of a batch results file: `{"key": …, "response": {"embedding": …}}` or `{"key": …, "error": …}`,
 * the key as the line's own `key` or in its `metadata`, of any JSON type, as an inline result's.
 */
export const resultsFileLineSchema = schema.object({
  key: schema.optional(schema.unknown()),
  ...resultFields,
});

/** One result, inline or a line of the results file. */
export type GeminiBatchResult = schema.Infer<typeof resultsFileLineSchema>;

const errorBodySchema = schema.object({ error: statusSchema });

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

/**
 * A per-day quota is not used up for good: it comes back at the daily reset, which the Gemini API's
 * rate-limits page puts at midnight Pacific time.
 */
const PER_DAY_HINT =
  'A per-day quota of the project is used up; the Gemini API resets per-day quotas at midnight Pacific time: wait for the reset, or raise the project’s usage tier in Google AI Studio; retrying sooner will not help.';

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
 * API answers an invalid key with 400 `API_KEY_INVALID`, a call without one with 403 to "unregistered
 * callers", and a revoked one with 403 "reported as leaked": authentication failures, not a bad request or
 * a missing permission.
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

  // A 403 to "unregistered callers" got no key at all (a proxy or a headers setting dropped it), and one
  // "reported as leaked" has a key Google revoked: no valid key that lacks a permission, as a
  // PERMISSION_DENIED otherwise reads.
  if (
    reasons.includes('API_KEY_INVALID') ||
    (status === 403 && /unregistered callers|reported as leaked/.test(error.message ?? ''))
  ) {
    out.kind = 'authentication';
    out.hint =
      'The Gemini API rejected the key; check GEMINI_API_KEY / GOOGLE_API_KEY or the apiKey setting.';
  } else if (
    status === 400 &&
    error.status === 'FAILED_PRECONDITION' &&
    /\b(?:location|country|region|billing)\b/i.test(error.message ?? '')
  ) {
    // "User location is not supported for the API use.", "… free tier is not available in your country.
    // Please enable billing …": the project or the place the call comes from, which no input or option
    // of the request can change. Only those: FAILED_PRECONDITION also names a request made in the wrong
    // state (a batch job cancelled once it had ended), which the request's own message explains.
    out.hint =
      'Nothing in the request can fix this: enable billing on the project in Google AI Studio, or call from a region the Gemini API serves; retrying will not help.';
  }

  const retryDelay = detailsOf(error, 'RetryInfo')
    .map((detail) => detail.retryDelay)
    .find((delay): delay is string => typeof delay === 'string');
  const fromDetail = retryDelay === undefined ? undefined : parseDuration(retryDelay);
  if (fromDetail !== undefined) out.retryAfterMs = fromDetail;
  else {
    const wait = error.message?.match(RETRY_IN);
    // Read as case-blind as the pattern matched it ("2S" is seconds, not milliseconds), by core's reader.
    const waitMs = wait ? parseDuration(`${wait[1]}${wait[2]!.toLowerCase()}`) : undefined;
    if (waitMs !== undefined) out.retryAfterMs = waitMs;
  }
  if (status === 429 && perDayQuota(error)) {
    // Not retried; core's error for a used-up quota carries no `retryAfterMs`, so its `RetryInfo` (seconds,
    // not the daily reset) never reads as the time to try again.
    out.quotaExhausted = true;
    out.hint = PER_DAY_HINT;
  }

  if (error.message !== undefined && BATCH_TOO_LARGE.test(error.message)) out.batchTooLarge = true;
  const index = error.message?.match(REQUEST_INDEX);
  if (index && status < 500) out.inputIndex = Number(index[1]);

  const missing = error.message?.match(MODEL_NOT_FOUND);
  if (status === 404 && missing) {
    const model = missing[1]!;
    const retired = ownEntry(RETIRED_MODELS, model);
    out.hint =
      retired !== undefined
        ? `${retired}; use gemini-embedding-001.`
        : `models/${model} is not served by this API version: check the id, or whether the model was retired; gemini-embedding-001 is current.`;
  }
  return out;
}
