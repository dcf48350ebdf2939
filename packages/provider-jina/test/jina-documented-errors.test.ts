/**
 * Every error code the Jina OpenAPI documents (providers.md §4.4–4.5), one row each: the class, code,
 * retry decision, flags, provider code and the whole message a user reads, the API's words and the
 * advice after them. The advice must fit the failure: a key problem points at the key, a used-up balance
 * says to top up and is never retried, an unknown model points at the model id, a busy or failed API is
 * retried. Jina has no official SDK; the retry decision is the reference's: 409, 429 and 5xx, never 403.
 */
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';

// Fake key material only, in Jina's form.
const KEY = 'jina_test_fake_documented_errors_0123';

const INPUTS = 'Check the inputs and options against the model’s capabilities.';
const RETRIED = 'the engine retries these.';
const KEY_HINT =
  'Check JINA_API_KEY or the apiKey setting: Jina keys begin "jina_" and are managed at https://jina.ai/api-dashboard/key-manager.';
const OVER_LENGTH =
  "Input text exceeds the model's maximum of 8194 tokens. Use 'truncate: true' to automatically truncate, or split into smaller chunks.";
const TOO_MANY =
  "Validation error: 'body -> jina-embeddings-v4' Each input list can contain at most 512 items.";

type Row = { label: string; status: number; body: unknown; expected: Record<string, unknown> };

const invalid = (status: number, code: string | undefined, message: string, extra = {}): Row => ({
  label: `${status} ${code ?? message.slice(0, 40)}`,
  status,
  body: code === undefined ? { detail: { message } } : { detail: message, code },
  expected: {
    name: 'InvalidRequestError',
    code: 'invalid_request',
    isRetryable: false,
    providerCode: code,
    batchTooLarge: false,
    inputIndex: undefined,
    message: `jina API error ${status}: ${message} — ${INPUTS}`,
    ...extra,
  },
});

const rows: Row[] = [
  {
    label: '400 INPUT_MODEL_NOT_FOUND points at the model id',
    status: 400,
    body: {
      detail: "Model 'jina-embeddings-v9' not found. Available models: jina-embeddings-v3",
      code: 'INPUT_MODEL_NOT_FOUND',
    },
    expected: {
      name: 'NotFoundError',
      code: 'not_found',
      isRetryable: false,
      providerCode: 'INPUT_MODEL_NOT_FOUND',
      message:
        "jina API error 400: Model 'jina-embeddings-v9' not found. Available models: jina-embeddings-v3 — Check the model id; the message lists the models the API knows.",
    },
  },
  invalid(400, 'INPUT_INVALID_LABELS', 'Invalid labels.'),
  invalid(400, 'INPUT_LABEL_LIMIT_EXCEEDED', 'Too many labels.'),
  invalid(400, undefined, OVER_LENGTH),
  ...['AUTH_MISSING_API_KEY', 'AUTH_INVALID_API_KEY', 'AUTH_INVALID_FORMAT'].map((code) => ({
    label: `401 ${code} points at the key, the key echoed and redacted`,
    status: 401,
    body: { detail: `Invalid API key ${KEY}.`, code, request_id: 'req-401' },
    expected: {
      name: 'AuthenticationError',
      code: 'authentication',
      isRetryable: false,
      providerCode: code,
      requestId: 'req-401',
      message: `jina API error 401: Invalid API key [REDACTED]. — ${KEY_HINT}`,
    },
  })),
  {
    label: '403 AUTHZ_INSUFFICIENT_BALANCE says to top up, never retried',
    status: 403,
    body: { detail: 'Insufficient account balance.', code: 'AUTHZ_INSUFFICIENT_BALANCE' },
    expected: {
      name: 'PermissionDeniedError',
      code: 'permission_denied',
      isRetryable: false,
      providerCode: 'AUTHZ_INSUFFICIENT_BALANCE',
      message:
        'jina API error 403: Insufficient account balance. — The Jina account has no tokens left: top up its balance at https://jina.ai/api-dashboard before retrying; retrying alone will not help.',
    },
  },
  {
    label: '403 AUTHZ_RESOURCE_LIMIT_EXCEEDED is a limit of the plan: no new key, never retried',
    status: 403,
    body: { detail: 'Resource limit exceeded.', code: 'AUTHZ_RESOURCE_LIMIT_EXCEEDED' },
    expected: {
      name: 'PermissionDeniedError',
      code: 'permission_denied',
      isRetryable: false,
      providerCode: 'AUTHZ_RESOURCE_LIMIT_EXCEEDED',
      message:
        'jina API error 403: Resource limit exceeded. — The key is valid, but its account has reached a limit of its plan: raise the plan at https://jina.ai/api-dashboard; retrying will not help.',
    },
  },
  {
    label: '404 RESOURCE_NOT_FOUND',
    status: 404,
    body: { detail: 'Not found.', code: 'RESOURCE_NOT_FOUND' },
    expected: {
      name: 'NotFoundError',
      code: 'not_found',
      isRetryable: false,
      providerCode: 'RESOURCE_NOT_FOUND',
      message: 'jina API error 404: Not found. — Check the model id and the base URL.',
    },
  },
  {
    label: '409 CONFLICT_RESOURCE_BUSY is retried, with the advice of a busy API',
    status: 409,
    body: { detail: 'Resource busy.', code: 'CONFLICT_RESOURCE_BUSY' },
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: true,
      providerCode: 'CONFLICT_RESOURCE_BUSY',
      batchTooLarge: false,
      message: `jina API error 409: Resource busy. — The API was busy with a conflicting request; ${RETRIED}`,
    },
  },
  {
    label: '422 a validation list names the field',
    status: 422,
    body: {
      detail: 'Request validation failed',
      errors: [{ field: 'input.1', input: '', message: 'must not be empty', type: 'string_too_short' }],
    },
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      batchTooLarge: false,
      inputIndex: 1,
      message: `jina API error 422: Request validation failed (input.1: must not be empty) — ${INPUTS}`,
    },
  },
  { ...invalid(422, undefined, TOO_MANY, { batchTooLarge: true }), body: { detail: TOO_MANY } },
  ...[
    'RATE_REQUEST_LIMIT_EXCEEDED',
    'RATE_TOKEN_LIMIT_EXCEEDED',
    'RATE_CONCURRENCY_LIMIT_EXCEEDED',
    'RATE_IP_LIMIT_EXCEEDED',
  ].map((code) => ({
    label: `429 ${code} is retried`,
    status: 429,
    body: { detail: 'Rate limit exceeded.', code },
    expected: {
      name: 'RateLimitError',
      code: 'rate_limited',
      isRetryable: true,
      quotaExhausted: false,
      providerCode: code,
      message: `jina API error 429: Rate limit exceeded. — ${code === 'RATE_CONCURRENCY_LIMIT_EXCEEDED' ? 'Too many requests at once for this key: lower concurrency' : 'Lower concurrency or set rateLimit'}; ${RETRIED}`,
    },
  })),
  ...(
    [
      [500, 'INTERNAL_ERROR'],
      [503, 'SERVICE_UNAVAILABLE'],
      [504, 'SERVICE_TIMEOUT'],
    ] as const
  ).map(([status, code]) => ({
    label: `${status} ${code} is the API's failure, retried`,
    status,
    body: { detail: 'Service unavailable, retry with exponential backoff.', code },
    expected: {
      name: 'ServerError',
      code: 'server_error',
      isRetryable: true,
      providerCode: code,
      message: `jina API error ${status}: Service unavailable, retry with exponential backoff. — The API failed on its side; ${RETRIED}`,
    },
  })),
];

describe('every documented Jina error', () => {
  it.each(rows)('$label', async ({ status, body, expected }) => {
    const server = fakeFetch([{ status, body }]);
    const model = createJina({ apiKey: KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const error = await rejectionOf(model.doEmbed({ inputs: ['hello'] }));
    expect(error).toMatchObject({ ...expected, statusCode: status, provider: 'jina' });
    expect(`${JSON.stringify(error)} ${error.message} ${error.stack}`).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });
});
