import { type ParsedError, parseDuration, RETRIED_CLAUSE, schema } from '@embedkit/core/provider';

// Lenient on responses: only the fields we use. A vector is checked as "string or array" here and
// element by element only while it is copied, never by the schema. `requestJson` may have decoded it already.
const vectorSchema = schema.union([schema.string(), schema.vectorArray()]);

export const openAIEmbeddingResponseSchema = schema.object({
  data: schema.array(schema.object({ index: schema.integer({ minimum: 0 }), embedding: vectorSchema })),
  model: schema.optional(schema.string()),
  usage: schema.usageTokens('prompt_tokens', 'total_tokens'),
});

export type OpenAIEmbeddingResponse = schema.Infer<typeof openAIEmbeddingResponseSchema>;

const errorBodySchema = schema.object({
  error: schema.union([
    schema.object({
      message: schema.nullish(schema.string()),
      type: schema.nullish(schema.string()),
      code: schema.nullish(schema.union([schema.string(), schema.number()])),
    }),
    schema.string(),
  ]),
});

/**
 * 429 codes (or types) of an account that cannot be served until someone acts, not of a pace to wait out:
 * `insufficient_quota` (the quota or balance used up) and `billing_not_active` ("Your account is not
 * active, please check your billing details on our website.").
 */
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_not_active']);

/** "Invalid 'input[3]': maximum input length is 8192 tokens" names the input. */
const INPUT_INDEX = /'input\[(\d+)\]'/;
/** "Please try again in 2.812s." / "in 20ms" / "in 7m12s" in rate-limit messages. */
const TRY_AGAIN = /try again in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)/i;

/** "… on requests per day (RPD): Limit 200, Used 200 …" / "… on tokens per day (TPD) …": a per-day limit. */
const PER_DAY = /\b(?:requests|tokens) per day\b|\((?:RPD|TPD)\)/i;

/**
 * A per-day limit comes back at the time the API names, not by sending more slowly: the generic "lower
 * concurrency" cannot help. The engine puts its own word on the wait in place of the retried clause.
 */
const PER_DAY_HINT = `A per-day limit of the organization (requests or tokens per day) is used up, which lowering concurrency or a rateLimit cannot help: wait until the time the API names, or raise the organization's usage tier; ${RETRIED_CLAUSE}.`;

/**
 * "Request too large for text-embedding-3-small in organization org-… on tokens per min (TPM): Limit 150000,
 * Requested 200000. The input or output tokens must be reduced in order to run successfully.": a 429 for a
 * call larger than a whole minute (or day) of the limit, which no wait lets through.
 */
const REQUEST_TOO_LARGE = /^Request too large for /i;

const REQUEST_TOO_LARGE_HINT =
  'The call alone is over the organization’s tokens-per-minute (or per-day) limit, so no wait helps: send fewer or shorter inputs per call, or raise the usage tier.';

/**
 * Reads `{"error": {message, type, param, code}}` (and the string form some compatible servers send).
 * `insufficient_quota` and `billing_not_active` are a used-up quota, not a wait; `max_tokens_per_request`,
 * and a 429 "Request too large" (one call over a whole minute of the limit), make the engine bisect.
 */
export function parseOpenAIError(body: unknown): ParsedError {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) {
    const message = (body as { message?: unknown; detail?: unknown }) ?? {};
    const text =
      typeof message.message === 'string'
        ? message.message
        : typeof message.detail === 'string'
          ? message.detail
          : undefined;
    return text === undefined ? {} : { message: text };
  }
  const error = parsed.data.error;
  if (typeof error === 'string') return { message: error };
  const out: ParsedError = {};
  if (error.message) out.message = error.message;
  const code = error.code === null || error.code === undefined ? undefined : String(error.code);
  const providerCode = code ?? error.type ?? undefined;
  if (providerCode) out.providerCode = providerCode;
  if (QUOTA_CODES.has(code ?? '') || QUOTA_CODES.has(error.type ?? '')) out.quotaExhausted = true;
  if (code === 'max_tokens_per_request' || error.type === 'max_tokens_per_request') out.batchTooLarge = true;
  const index = error.message?.match(INPUT_INDEX);
  if (index) out.inputIndex = Number(index[1]);
  const wait = error.message?.match(TRY_AGAIN);
  const waitMs = wait ? parseDuration(wait[1]!) : undefined;
  if (waitMs !== undefined) out.retryAfterMs = waitMs;
  if (out.quotaExhausted !== true && error.message && REQUEST_TOO_LARGE.test(error.message)) {
    // A wrong request, not a pace: the engine halves a call of several inputs instead of waiting.
    out.kind = 'invalid_request';
    out.batchTooLarge = true;
    out.hint = REQUEST_TOO_LARGE_HINT;
  } else if (out.quotaExhausted !== true && error.message && PER_DAY.test(error.message))
    out.hint = PER_DAY_HINT;
  return out;
}
