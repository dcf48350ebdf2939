import { ownEntry, type ParsedError, RETRIED_CLAUSE, schema } from '@embedkit/core/provider';

// Lenient on responses: only the fields we use. A vector is checked as "string or array" here and
// element by element only while it is decoded, never by the schema.
const vectorSchema = schema.union([
  schema.string(),
  schema.custom<unknown[]>((value) => Array.isArray(value), 'expected an array'),
]);
const indexSchema = schema.integer({ minimum: 0 });
const usageSchema = schema.usageTokens('total_tokens');

/** `POST /v1/embeddings` answers `{model, usage: {total_tokens, prompt_tokens}, data: [{index, embedding}]}`. */
export const jinaEmbeddingResponseSchema = schema.object({
  data: schema.array(schema.object({ index: indexSchema, embedding: vectorSchema })),
  model: schema.optional(schema.string()),
  usage: usageSchema,
});

/** `POST /v1/rerank` answers `{model, usage: {total_tokens}, results: [{index, relevance_score, document?}]}`. */
export const jinaRerankResponseSchema = schema.object({
  results: schema.array(schema.object({ index: indexSchema, relevance_score: schema.number() })),
  model: schema.optional(schema.string()),
  usage: usageSchema,
});

const location = schema.array(schema.union([schema.string(), schema.number()]));

/**
 * Jina errors are `{detail, code, request_id}`; `detail` is a string in the spec but has been seen as an
 * object `{message}`. A 422 adds `errors: [{field, message}]`; a plain FastAPI 422 lists `detail: [{loc, msg}]`.
 */
const errorBodySchema = schema.object({
  detail: schema.optional(
    schema.union([
      schema.string(),
      schema.object({ message: schema.optional(schema.string()), code: schema.optional(schema.string()) }),
      schema.array(schema.object({ msg: schema.optional(schema.string()), loc: schema.optional(location) })),
    ]),
  ),
  code: schema.optional(schema.string()),
  request_id: schema.optional(schema.string()),
  errors: schema.optional(
    schema.array(
      schema.object({ field: schema.optional(schema.string()), message: schema.optional(schema.string()) }),
    ),
  ),
});

/**
 * A request with more inputs than the API takes: "Each input list can contain at most 512 items"
 * (observed 2025-11) and "input length is larger than the largest allowed size" (observed 2025-05).
 */
const BATCH_TOO_LARGE = /at most \d+ items|larger than the largest allowed size/i;

const KEY_HINT =
  'Check JINA_API_KEY or the apiKey setting: Jina keys begin "jina_" and are managed at https://jina.ai/api-dashboard/key-manager.';
const BALANCE_HINT =
  'The Jina account has no tokens left: top up its balance at https://jina.ai/api-dashboard before retrying; retrying alone will not help.';

const HINTS: Record<string, string> = {
  AUTHZ_INSUFFICIENT_BALANCE: BALANCE_HINT,
  // The key is valid: the advice is the plan's, not a new key.
  AUTHZ_RESOURCE_LIMIT_EXCEEDED:
    'The key is valid, but its account has reached a limit of its plan: raise the plan at https://jina.ai/api-dashboard; retrying will not help.',
  RATE_CONCURRENCY_LIMIT_EXCEEDED: `Too many requests at once for this key: lower concurrency; ${RETRIED_CLAUSE}.`,
  INPUT_MODEL_NOT_FOUND: 'Check the model id; the message lists the models the API knows.',
};

/** Where a validation problem points at one input: `input.3`, `input[3]`, `body -> input -> 3`. */
function inputIndexOf(field: string | undefined): number | undefined {
  if (field === undefined) return undefined;
  const match = /(?:^|[\s.>])(?:input|documents)(?:\.|\[|\s*->\s*)(\d+)/.exec(field);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Reads Jina's error bodies into the engine's terms. The `code` decides over the status where they
 * differ: `AUTH_*` is an authentication failure, `AUTHZ_*` a permission failure (a used-up balance is
 * never retried), `RATE_*` a rate limit, `INPUT_MODEL_NOT_FOUND` an unknown model. A request over the
 * input limit sets `batchTooLarge`, so the engine bisects it; a validation error lists the fields.
 */
export function parseJinaError(body: unknown, status: number): ParsedError {
  const parsed = errorBodySchema.safeParse(body);
  const out: ParsedError = {};
  if (status === 401) out.hint = KEY_HINT;
  if (!parsed.success) return out;
  const { detail, errors } = parsed.data;
  const code =
    parsed.data.code ?? (typeof detail === 'object' && !Array.isArray(detail) ? detail.code : undefined);
  if (parsed.data.request_id !== undefined) out.requestId = parsed.data.request_id;
  let fields: { field?: string | undefined; message?: string | undefined }[] = [];
  if (typeof detail === 'string') out.message = detail;
  else if (Array.isArray(detail))
    fields = detail.map((problem) => ({ field: problem.loc?.join('.'), message: problem.msg }));
  else if (detail?.message !== undefined) out.message = detail.message;
  if (errors !== undefined) fields = fields.concat(errors);
  if (fields.length > 0) {
    const listed = fields
      .map((problem) => [problem.field, problem.message].filter((part) => part !== undefined).join(': '))
      .join('; ');
    out.message = out.message === undefined ? listed : `${out.message} (${listed})`;
    for (const problem of fields) {
      const index = inputIndexOf(problem.field);
      if (index !== undefined) {
        out.inputIndex = index;
        break;
      }
    }
  }
  // The balance message without its code still means the same thing.
  const balance =
    code === 'AUTHZ_INSUFFICIENT_BALANCE' ||
    (status === 403 && /insufficient (account )?balance/i.test(out.message ?? ''));
  if (code !== undefined) {
    out.providerCode = code;
    if (code.startsWith('AUTH_')) {
      out.kind = 'authentication';
      out.hint = KEY_HINT;
    } else if (code.startsWith('AUTHZ_')) {
      out.kind = 'permission_denied';
      out.isRetryable = false;
    } else if (code.startsWith('RATE_')) {
      out.kind = 'rate_limited';
    } else if (code === 'INPUT_MODEL_NOT_FOUND') {
      out.kind = 'not_found';
    }
    // Own entries only: a code is the server's text, and "constructor" must not read a function.
    const hint = ownEntry(HINTS, code);
    if (hint !== undefined) out.hint = hint;
  }
  if (balance) {
    out.kind = 'permission_denied';
    out.isRetryable = false;
    out.hint = BALANCE_HINT;
  }
  if (
    (status === 400 || status === 413 || status === 422) &&
    out.message !== undefined &&
    BATCH_TOO_LARGE.test(out.message)
  ) {
    out.batchTooLarge = true;
  }
  return out;
}
