/**
 * Every error status and body the OpenAI reference documents (providers.md §1.4–1.5), one row each: the
 * class, code, retry decision, flags, provider code and the whole message a user reads, the API's words
 * and the advice after them. The advice must fit the failure: a used-up quota never says a retry helps,
 * a bad key never says to check the inputs, an unknown model points at the model id. The retry decision
 * follows openai-node's: 408, 409, 429 and 5xx are retried, a used-up quota is not.
 */
import { embedMany } from '@embedkit/core';
import { fakeFetch, recordingClock, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

// Fake key material only.
const KEY = 'sk-test-fake-documented-errors-0123';

const body = (message: string, type: string, code: string | null) => ({
  error: { message, type, param: null, code },
});

const TOO_LARGE =
  'Request too large for text-embedding-3-small in organization org-fake on tokens per min (TPM): Limit 150000, Requested 200000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.';

const INPUTS = 'Check the inputs and options against the model’s capabilities.';
const RETRIED = 'the engine retries these.';

type Row = { label: string; status: number; body: unknown; expected: Record<string, unknown> };

/** An `InvalidRequestError` row: the API's message, then `advice` (the inputs' by default). */
const invalid = (
  label: string,
  status: number,
  answer: ReturnType<typeof body>,
  fields: { isRetryable?: boolean; batchTooLarge?: boolean; inputIndex?: number; advice?: string } = {},
): Row => ({
  label,
  status,
  body: answer,
  expected: {
    name: 'InvalidRequestError',
    code: 'invalid_request',
    isRetryable: fields.isRetryable ?? false,
    providerCode: answer.error.code ?? answer.error.type,
    batchTooLarge: fields.batchTooLarge ?? false,
    inputIndex: fields.inputIndex,
    message: `openai API error ${status}: ${answer.error.message} — ${fields.advice ?? INPUTS}`,
  },
});

/** A row: the answer, and the error's fields (those of its class only). */
const rows: Row[] = [
  invalid(
    '400 dimensions on a model without them',
    400,
    body('This model does not support specifying dimensions.', 'invalid_request_error', null),
  ),
  invalid(
    '400 an input over the context length names the input',
    400,
    body("Invalid 'input[0]': maximum input length is 8192 tokens", 'invalid_request_error', null),
    { inputIndex: 0 },
  ),
  invalid(
    '400 max_tokens_per_request is too large a batch',
    400,
    body(
      'Requested 453357 tokens, max 300000 tokens per request',
      'max_tokens_per_request',
      'max_tokens_per_request',
    ),
    { batchTooLarge: true },
  ),
  invalid(
    "400 '$.input' is invalid (an empty string or too many inputs)",
    400,
    body(
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      'invalid_request_error',
      null,
    ),
  ),
  {
    label: '401 invalid_api_key, the key echoed and redacted',
    status: 401,
    body: body(
      `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      'invalid_api_key',
    ),
    expected: {
      name: 'AuthenticationError',
      code: 'authentication',
      isRetryable: false,
      providerCode: 'invalid_api_key',
      message:
        'openai API error 401: Incorrect API key provided: [REDACTED]. You can find your API key at https://platform.openai.com/account/api-keys. — Check that the API key is set, current and meant for this host.',
    },
  },
  {
    label: '403 a project without access to the model',
    status: 403,
    body: body(
      'Project `proj_fake` does not have access to model `text-embedding-3-large`',
      'invalid_request_error',
      'model_not_found',
    ),
    expected: {
      name: 'PermissionDeniedError',
      code: 'permission_denied',
      isRetryable: false,
      providerCode: 'model_not_found',
      message:
        'openai API error 403: Project `proj_fake` does not have access to model `text-embedding-3-large` — The key is valid but may not use this model or endpoint; check the project, region or account.',
    },
  },
  {
    label: '404 model_not_found points at the model id',
    status: 404,
    body: body(
      'The model `foo` does not exist or you do not have access to it.',
      'invalid_request_error',
      'model_not_found',
    ),
    expected: {
      name: 'NotFoundError',
      code: 'not_found',
      isRetryable: false,
      providerCode: 'model_not_found',
      message:
        'openai API error 404: The model `foo` does not exist or you do not have access to it. — Check the model id and the base URL.',
    },
  },
  {
    label: '408 is retried (openai-node retries it)',
    status: 408,
    body: body('Request timed out.', 'invalid_request_error', null),
    expected: {
      name: 'TimeoutError',
      code: 'timeout',
      isRetryable: true,
      providerCode: 'invalid_request_error',
      message: `openai API error 408: Request timed out. — The API asked us to retry (408); ${RETRIED}`,
    },
  },
  invalid(
    '409 is retried (openai-node retries it) with the advice of a busy API',
    409,
    body('Another request is in progress.', 'invalid_request_error', null),
    { isRetryable: true, advice: `The API was busy with a conflicting request; ${RETRIED}` },
  ),
  invalid(
    '422 is a wrong request, not retried',
    422,
    body('Unprocessable entity.', 'invalid_request_error', null),
  ),
  {
    label: '429 rate_limit_exceeded waits the time the message names',
    status: 429,
    body: body(
      'Rate limit reached for text-embedding-3-small in organization org-fake on tokens per min (TPM): Limit 1000000, Used 976163, Requested 70716. Please try again in 2.812s. Visit https://platform.openai.com/account/rate-limits to learn more.',
      'tokens',
      'rate_limit_exceeded',
    ),
    expected: {
      name: 'RateLimitError',
      code: 'rate_limited',
      isRetryable: true,
      providerCode: 'rate_limit_exceeded',
      quotaExhausted: false,
      retryAfterMs: 2812,
      message: `openai API error 429: Rate limit reached for text-embedding-3-small in organization org-fake on tokens per min (TPM): Limit 1000000, Used 976163, Requested 70716. Please try again in 2.812s. Visit https://platform.openai.com/account/rate-limits to learn more. — Lower concurrency or set rateLimit; ${RETRIED}`,
    },
  },
  {
    label: '429 insufficient_quota is a used-up quota, never retried',
    status: 429,
    body: body(
      'You exceeded your current quota, please check your plan and billing details.',
      'insufficient_quota',
      'insufficient_quota',
    ),
    expected: {
      name: 'RateLimitError',
      code: 'rate_limited',
      isRetryable: false,
      providerCode: 'insufficient_quota',
      quotaExhausted: true,
      retryAfterMs: undefined,
      message:
        'openai API error 429: You exceeded your current quota, please check your plan and billing details. — The account’s quota or balance is used up; retrying will not help until it is raised.',
    },
  },
  // One call over a whole minute of the limit: no wait lets it through, and a smaller call would pass.
  invalid(
    '429 "Request too large" is too large a batch, not a pace to wait out',
    429,
    body(TOO_LARGE, 'tokens', 'rate_limit_exceeded'),
    {
      batchTooLarge: true,
      advice:
        'The call alone is over the organization’s tokens-per-minute (or per-day) limit, so no wait helps: send fewer or shorter inputs per call, or raise the usage tier.',
    },
  ),
  ...[500, 502, 503].map((status) => ({
    label: `${status} is the API's failure, retried`,
    status,
    body: body('The server had an error while processing your request.', 'server_error', null),
    expected: {
      name: 'ServerError',
      code: 'server_error',
      isRetryable: true,
      providerCode: 'server_error',
      message: `openai API error ${status}: The server had an error while processing your request. — The API failed on its side; ${RETRIED}`,
    },
  })),
];

describe('every documented OpenAI error', () => {
  it.each(rows)('$label', async ({ status, body: answer, expected }) => {
    const server = fakeFetch([{ status, body: answer }]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const error = await rejectionOf(model.doEmbed({ inputs: ['hello'] }));
    expect(error).toMatchObject({ ...expected, statusCode: status, provider: 'openai' });
    expect(`${JSON.stringify(error)} ${error.message} ${error.stack}`).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });
});

describe('429 "Request too large" through embedMany', () => {
  it('halves the call at once, with no wait and no retry of the same call', async () => {
    const answer = (index: number) => ({
      body: {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8 + index] }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 1, total_tokens: 1 },
      },
    });
    const server = fakeFetch([
      { status: 429, body: body(TOO_LARGE, 'tokens', 'rate_limit_exceeded') },
      answer(0),
      answer(1),
    ]);
    const clock = recordingClock();
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const result = await embedMany({ model, inputs: ['a', 'b'], dimensions: 2, clock, maxRetries: 3 });
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([
      [Math.fround(0.6), Math.fround(0.8)],
      [Math.fround(0.6), Math.fround(1.8)],
    ]);
    expect(server.requests.map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['a', 'b'],
      ['a'],
      ['b'],
    ]);
    expect(clock.sleeps).toEqual([]);
  });
});
