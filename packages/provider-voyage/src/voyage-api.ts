import {
  decodeAnswer,
  decodeVectors,
  type EmbedRequest,
  type EmbedResponse,
  inOrder,
  type JsonResponse,
  type ParsedError,
  parseResponse,
  RETRIED_CLAUSE,
  responseInfo,
  schema,
  type Warning,
} from '@embedkit/core/provider';

// Lenient on responses: only the fields we use. A vector is checked as "string or array" here and
// element by element only while it is decoded, never by the schema.
const vectorSchema = schema.union([
  schema.string(),
  schema.custom<unknown[]>((value) => Array.isArray(value), 'expected an array'),
]);
const usageSchema = schema.usageTokens('total_tokens');
const indexSchema = schema.integer({ minimum: 0 });

/** `/embeddings` and `/multimodalembeddings` answer `{data: [{index, embedding}], model, usage: {total_tokens}}`. */
export const voyageEmbeddingResponseSchema = schema.object({
  data: schema.array(schema.object({ index: indexSchema, embedding: vectorSchema })),
  model: schema.optional(schema.string()),
  usage: usageSchema,
});

/** `/contextualizedembeddings` nests one list per document: `data[].data[]`, each with its own `index`. */
export const voyageContextualizedResponseSchema = schema.object({
  data: schema.array(
    schema.object({
      index: indexSchema,
      data: schema.array(
        schema.object({
          index: indexSchema,
          embedding: vectorSchema,
          text: schema.optional(schema.string()),
        }),
      ),
    }),
  ),
  model: schema.optional(schema.string()),
  usage: usageSchema,
});

/** `/rerank` answers `{data: [{index, relevance_score, document?}], model, usage}`, sorted by score. */
export const voyageRerankResponseSchema = schema.object({
  data: schema.array(schema.object({ index: indexSchema, relevance_score: schema.number() })),
  model: schema.optional(schema.string()),
  usage: usageSchema,
});

/**
 * Voyage errors are `{"detail": "..."}`; a 422 from request validation may carry a list of problems instead.
 * Newer bodies add `error_code` beside it (`TOO_MANY_TOKENS_IN_BATCH`, observed): the provider's code.
 */
const errorBodySchema = schema.object({
  detail: schema.union([
    schema.string(),
    schema.array(
      schema.object({
        msg: schema.optional(schema.string()),
        loc: schema.optional(schema.array(schema.union([schema.string(), schema.number()]))),
      }),
    ),
  ]),
});

/**
 * A request over the per-request limits: "The max allowed tokens per submitted batch is 120000. Your batch
 * has 124417 tokens … Please lower the number of tokens in the batch." (observed), and "Batch size is too
 * large" (Voyage error-code table).
 */
const BATCH_TOO_LARGE = /per submitted batch|number of tokens in the batch|batch size is too large/i;

/** The `error_code` of a batch over the per-request token limit: bisected like the message that says so. */
const BATCH_TOO_LARGE_CODES = new Set(['TOO_MANY_TOKENS_IN_BATCH']);

/**
 * The 429 of an account without a payment method (observed): "You have not yet added your payment method
 * in the billing page and will have reduced rate limits of 3 RPM and 10K TPM. …". It comes with no
 * `Retry-After`, and a backoff of seconds is refused again: at 3 RPM a call goes every 20 s.
 */
const REDUCED_RATE = /reduced rate limits? of (\d+) RPM/i;

/** The wait and hint for a 429 at the reduced rate of `rpm` requests a minute. */
function reducedRate(rpm: number): Pick<ParsedError, 'retryAfterMs' | 'hint'> {
  const retryAfterMs = Math.ceil(60_000 / rpm);
  return {
    retryAfterMs,
    hint: `Voyage holds an account without a payment method to ${rpm} requests a minute, so each retry waits ${retryAfterMs / 1_000} s: add a payment method on the billing page of the Voyage dashboard to lift the limit, or pace the calls with rateLimit: createRateLimiter({ requestsPerMinute: ${rpm} }); ${RETRIED_CLAUSE}.`,
  };
}

/**
 * An input over the context length with `truncation: false` (observed): "The example at index 3 in your
 * batch has too many tokens and does not fit into the model's context window of 32000 tokens." The index
 * counts inputs of this call, not of the whole job: read, the engine names the input by its place in the job.
 */
const EXAMPLE_INDEX = /\bexample at index (\d+)\b/i;

/**
 * An unknown model, which Voyage answers with 400, not 404 (a message of the form "Model voyage-9 is not
 * supported. Supported models are [...]"): a model id to fix, not an input.
 */
const UNKNOWN_MODEL = /\bsupported models are\b/i;

const HINTS: Record<number, string> = {
  401: 'Voyage keys work on one host only: a key from the Voyage dashboard at api.voyageai.com, an Atlas model API key (al-…) at ai.mongodb.com. Check VOYAGE_API_KEY and baseURL.',
  403: 'Voyage answers 403 when the request comes from an IP address it does not allow; call from an allowed address or network.',
};

/**
 * Reads Voyage's `{"detail": ..., "error_code": ...}` error bodies; `error_code` is the `providerCode`.
 * A 400 that says the batch is over the token or size limit (in its message or its code) sets
 * `batchTooLarge`, so the engine bisects the call; a validation list, or a message about an input over
 * the context length, names the input it rejected. A 429 at the reduced rate of an account without a
 * payment method waits for the next call that rate allows, with a hint that says how to lift it. A 400
 * that lists the supported models is an unknown model id, a `NotFoundError`. Every
 * other status keeps its usual meaning (429 and 5xx are retried by the engine).
 */
export function parseVoyageError(body: unknown, status: number): ParsedError {
  const parsed = errorBodySchema.safeParse(body);
  const out: ParsedError = {};
  const hint = HINTS[status];
  if (hint !== undefined) out.hint = hint;
  if (!parsed.success) return out;
  const { detail } = parsed.data;
  // Read beside the schema: a code of another type must not cost the message.
  const code = (body as { error_code?: unknown }).error_code;
  if (typeof code === 'string' && code !== '') out.providerCode = code;
  if (typeof detail === 'string') {
    out.message = detail;
    const example = EXAMPLE_INDEX.exec(detail);
    if (example !== null) out.inputIndex = Number(example[1]);
    const reduced = status === 429 ? REDUCED_RATE.exec(detail) : null;
    const rpm = reduced === null ? 0 : Number(reduced[1]);
    if (rpm > 0) Object.assign(out, reducedRate(rpm));
    if (status === 400 && UNKNOWN_MODEL.test(detail)) {
      out.kind = 'not_found';
      out.hint = 'Check the model id; the message lists the models the API knows.';
    }
  } else {
    out.message = detail
      .map((problem) => [problem.loc?.join('.'), problem.msg].filter((part) => part !== undefined).join(': '))
      .join('; ');
    const location = detail[0]?.loc;
    // FastAPI locations read ["body", "input", 3]: the third part is the index of the input.
    if (
      location !== undefined &&
      typeof location[2] === 'number' &&
      /^inputs?$|^documents$/.test(String(location[1]))
    ) {
      out.inputIndex = location[2];
    }
  }
  if (
    (status === 400 || status === 413) &&
    (BATCH_TOO_LARGE.test(out.message) || BATCH_TOO_LARGE_CODES.has(out.providerCode ?? ''))
  ) {
    out.batchTooLarge = true;
  }
  return out;
}

/**
 * The answer of `/embeddings` or `/multimodalembeddings` (`what` names it in errors) to `request`: its
 * vectors in input order, decoded as the request's output type, with its usage and response details.
 */
export function embeddingAnswer(
  provider: string,
  response: JsonResponse,
  request: EmbedRequest,
  what: string,
  warnings: Warning[],
): EmbedResponse {
  const parsed = parseResponse(voyageEmbeddingResponseSchema, response, provider, what);
  const embeddings = decodeAnswer({ provider, response }, () =>
    decodeVectors(
      inOrder(parsed.data, request.inputs.length, 'vectors', provider).map((item) => item.embedding),
      request.outputType ?? 'float',
    ),
  );
  const out: EmbedResponse = { embeddings, warnings, response: responseInfo(response, parsed.model) };
  if (parsed.usage !== undefined) out.usage = { inputTokens: parsed.usage };
  return out;
}
