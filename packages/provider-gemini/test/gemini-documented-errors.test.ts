/**
 * Every error status and body the Gemini reference documents (providers.md §3.5–3.6), one row each: the
 * class, code, retry decision, flags, provider code and the whole message a user reads, the API's words
 * and the advice after them. The advice must fit the failure: a key the API did not take (400
 * `API_KEY_INVALID`, or a 403 for a call it got no key with) points at the key, not at the inputs or at a
 * key "valid but not allowed"; a per-day quota never says a retry helps. The retry decision follows
 * js-genai's opt-in list: 408, 429 and 5xx.
 */
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';

// Fake key material only.
const KEY = 'AIza-test-fake-documented-errors-0123';

const RPC = 'type.googleapis.com/google.rpc.';
const status = (code: number, canonical: string, message: string, details?: unknown[]) => ({
  error: { code, message, status: canonical, ...(details === undefined ? {} : { details }) },
});
const errorInfo = (reason: string) => ({ '@type': `${RPC}ErrorInfo`, reason, domain: 'googleapis.com' });

const INPUTS = 'Check the inputs and options against the model’s capabilities.';
const RETRIED = 'the engine retries these.';
const KEY_HINT =
  'The Gemini API rejected the key; check GEMINI_API_KEY / GOOGLE_API_KEY or the apiKey setting.';
const PERMISSION =
  'The key is valid but may not use this model or endpoint; check the project, region or account.';
const UNREGISTERED =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
const LEAKED = 'Your API key was reported as leaked. Please use another API key.';
const RETIRED =
  'models/text-embedding-004 is not found for API version v1beta, or is not supported for embedContent. Call ListModels to see the list of available models and their supported methods.';
const PER_MINUTE =
  'You exceeded your current quota, please check your plan and billing details. Please retry in 11.665902715s.';

type Row = { label: string; status: number; body: unknown; expected: Record<string, unknown> };

const quotaFailure = (per: string) => ({
  '@type': `${RPC}QuotaFailure`,
  violations: [{ quotaId: `EmbedContentRequests${per}PerProjectPerModel-FreeTier` }],
});
const retryInfo = { '@type': `${RPC}RetryInfo`, retryDelay: '11s' };

/** A 429 `RESOURCE_EXHAUSTED` row: the API's message, then `advice`. */
const rateLimited = (
  label: string,
  message: string,
  details: unknown[] | undefined,
  {
    advice,
    ...fields
  }: { isRetryable: boolean; quotaExhausted: boolean; retryAfterMs: number | undefined; advice: string },
): Row => ({
  label,
  status: 429,
  body: status(429, 'RESOURCE_EXHAUSTED', message, details),
  expected: {
    name: 'RateLimitError',
    code: 'rate_limited',
    providerCode: 'RESOURCE_EXHAUSTED',
    ...fields,
    message: `gemini API error 429: ${message} — ${advice}`,
  },
});

/** A row: the answer, and the error's fields (those of its class only). */
const rows: Row[] = [
  {
    label: '400 API_KEY_INVALID is a bad key',
    status: 400,
    body: status(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      errorInfo('API_KEY_INVALID'),
    ]),
    expected: {
      name: 'AuthenticationError',
      code: 'authentication',
      isRetryable: false,
      providerCode: 'API_KEY_INVALID',
      message: `gemini API error 400: API key not valid. Please pass a valid API key. — ${KEY_HINT}`,
    },
  },
  {
    label: '400 FAILED_PRECONDITION for the region or billing is nothing the request can fix',
    status: 400,
    body: status(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.'),
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      providerCode: 'FAILED_PRECONDITION',
      batchTooLarge: false,
      message:
        'gemini API error 400: User location is not supported for the API use. — Nothing in the request can fix this: enable billing on the project in Google AI Studio, or call from a region the Gemini API serves; retrying will not help.',
    },
  },
  ...[
    '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch',
    'Request payload size exceeds the limit: 4194304 bytes.',
  ].map((message) => ({
    label: `400 too large a batch: ${message.slice(0, 40)}`,
    status: 400,
    body: status(400, 'INVALID_ARGUMENT', message),
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      providerCode: 'INVALID_ARGUMENT',
      batchTooLarge: true,
      inputIndex: undefined,
      message: `gemini API error 400: ${message} — ${INPUTS}`,
    },
  })),
  {
    // The API got no key (a proxy dropped x-goog-api-key, a headers setting blanked it): not a valid key.
    label: '403 for a call without a key points at the key',
    status: 403,
    body: status(403, 'PERMISSION_DENIED', UNREGISTERED),
    expected: {
      name: 'AuthenticationError',
      code: 'authentication',
      isRetryable: false,
      providerCode: 'PERMISSION_DENIED',
      message: `gemini API error 403: ${UNREGISTERED} — ${KEY_HINT}`,
    },
  },
  {
    // Observed: Google revokes a key found in public; PERMISSION_DENIED must not call it valid.
    label: '403 for a key reported as leaked points at the key',
    status: 403,
    body: status(403, 'PERMISSION_DENIED', LEAKED),
    expected: {
      name: 'AuthenticationError',
      code: 'authentication',
      isRetryable: false,
      providerCode: 'PERMISSION_DENIED',
      message: `gemini API error 403: ${LEAKED} — ${KEY_HINT}`,
    },
  },
  ...[
    ['API_KEY_SERVICE_BLOCKED', 'Requests to this API method are blocked.'],
    [
      'SERVICE_DISABLED',
      'Generative Language API has not been used in project 123 before or it is disabled.',
    ],
  ].map(([reason, message]) => ({
    label: `403 ${reason} is a key not allowed this API`,
    status: 403,
    body: status(403, 'PERMISSION_DENIED', message!, [errorInfo(reason!)]),
    expected: {
      name: 'PermissionDeniedError',
      code: 'permission_denied',
      isRetryable: false,
      providerCode: reason,
      message: `gemini API error 403: ${message} — ${PERMISSION}`,
    },
  })),
  {
    label: '404 a retired model names its successor',
    status: 404,
    body: status(404, 'NOT_FOUND', RETIRED),
    expected: {
      name: 'NotFoundError',
      code: 'not_found',
      isRetryable: false,
      providerCode: 'NOT_FOUND',
      message: `gemini API error 404: ${RETIRED} — text-embedding-004 was retired on the Gemini API on 2026-01-14; use gemini-embedding-001.`,
    },
  },
  rateLimited(
    '429 a per-minute quota waits its RetryInfo',
    PER_MINUTE,
    [quotaFailure('PerMinute'), retryInfo],
    {
      isRetryable: true,
      quotaExhausted: false,
      retryAfterMs: 11_000,
      advice: `Lower concurrency or set rateLimit; ${RETRIED}`,
    },
  ),
  rateLimited(
    '429 a per-day quota is used up, not retried',
    'You exceeded your current quota.',
    [quotaFailure('PerDay')],
    {
      isRetryable: false,
      quotaExhausted: true,
      retryAfterMs: undefined,
      advice:
        'A per-day quota of the project is used up; the Gemini API resets per-day quotas at midnight Pacific time: wait for the reset, or raise the project’s usage tier in Google AI Studio; retrying sooner will not help.',
    },
  ),
  rateLimited(
    '429 in the older wording is retried',
    'Resource has been exhausted (e.g. check quota).',
    undefined,
    {
      isRetryable: true,
      quotaExhausted: false,
      retryAfterMs: undefined,
      advice: `Lower concurrency or set rateLimit; ${RETRIED}`,
    },
  ),
  ...(
    [
      [500, 'INTERNAL', 'An internal error has occurred.'],
      [503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'],
      [504, 'DEADLINE_EXCEEDED', 'Deadline exceeded.'],
    ] as const
  ).map(([code, canonical, message]) => ({
    label: `${code} ${canonical} is the API's failure, retried`,
    status: code,
    body: status(code, canonical, message),
    expected: {
      name: 'ServerError',
      code: 'server_error',
      isRetryable: true,
      providerCode: canonical,
      message: `gemini API error ${code}: ${message} — The API failed on its side; ${RETRIED}`,
    },
  })),
];

describe('every documented Gemini error', () => {
  it.each(rows)('$label', async ({ status: code, body, expected }) => {
    const server = fakeFetch([{ status: code, body }]);
    const model = createGemini({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-004');
    const error = await rejectionOf(model.doEmbed({ inputs: ['hello'] }));
    expect(error).toMatchObject({ ...expected, statusCode: code, provider: 'gemini' });
    expect(`${JSON.stringify(error)} ${error.message} ${error.stack}`).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });
});
