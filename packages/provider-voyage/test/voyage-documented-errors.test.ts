/**
 * Every error status and body the Voyage reference documents (providers.md §2.8), one row each: the
 * class, code, retry decision, flags, provider code and the whole message a user reads, the API's words
 * and the advice after them. The advice must fit the failure (an unknown model points at the model id,
 * a bad key at the key and its host); the retry decision follows the TypeScript SDK's: 429 and 5xx.
 */
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';

// Fake key material only.
const KEY = 'pa-test-fake-documented-errors-0123';

const INPUTS = 'Check the inputs and options against the model’s capabilities.';
const RETRIED = 'the engine retries these.';
const KEY_HINT =
  'Voyage keys work on one host only: a key from the Voyage dashboard at api.voyageai.com, an Atlas model API key (al-…) at ai.mongodb.com. Check VOYAGE_API_KEY and baseURL.';
const TOO_MANY_TOKENS =
  "Request to model 'voyage-3.5' failed. The max allowed tokens per submitted batch is 320000. Your batch has 324417 tokens after truncation. Please lower the number of tokens in the batch.";
const NO_PAYMENT =
  'You have not yet added your payment method in the billing page and will have reduced rate limits of 3 RPM and 10K TPM. To unlock our standard rate limits, please add a payment method in the billing page for the appropriate organization in the user dashboard (https://dashboard.voyageai.com/).';
const UNKNOWN_MODEL =
  "Model voyage-9 is not supported. Supported models are ['voyage-3.5', 'voyage-3.5-lite'].";

/** A row: the answer, and the error's fields (those of its class only). */
const rows: { label: string; status: number; body: unknown; expected: Record<string, unknown> }[] = [
  {
    label: '400 a batch over the token limit is too large a batch',
    status: 400,
    body: { detail: TOO_MANY_TOKENS },
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      providerCode: undefined,
      batchTooLarge: true,
      inputIndex: undefined,
      message: `voyage API error 400: ${TOO_MANY_TOKENS} — ${INPUTS}`,
    },
  },
  {
    label: '400 TOO_MANY_TOKENS_IN_BATCH keeps its code',
    status: 400,
    body: { detail: 'Too many tokens in the batch.', error_code: 'TOO_MANY_TOKENS_IN_BATCH' },
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      providerCode: 'TOO_MANY_TOKENS_IN_BATCH',
      batchTooLarge: true,
      inputIndex: undefined,
      message: `voyage API error 400: Too many tokens in the batch. — ${INPUTS}`,
    },
  },
  {
    label: '400 an input over the context length names the input',
    status: 400,
    body: {
      detail:
        "The example at index 0 in your batch has too many tokens and does not fit into the model's context window of 32000 tokens.",
    },
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      batchTooLarge: false,
      inputIndex: 0,
      message: `voyage API error 400: The example at index 0 in your batch has too many tokens and does not fit into the model's context window of 32000 tokens. — ${INPUTS}`,
    },
  },
  {
    // Voyage answers an unknown model with 400, not 404: the advice is the model id's, not the inputs'.
    label: '400 an unknown model points at the model id',
    status: 400,
    body: { detail: UNKNOWN_MODEL },
    expected: {
      name: 'NotFoundError',
      code: 'not_found',
      isRetryable: false,
      providerCode: undefined,
      message: `voyage API error 400: ${UNKNOWN_MODEL} — Check the model id; the message lists the models the API knows.`,
    },
  },
  {
    label: '401 an invalid key, echoed and redacted',
    status: 401,
    body: { detail: `Provided API key is invalid: ${KEY}` },
    expected: {
      name: 'AuthenticationError',
      code: 'authentication',
      isRetryable: false,
      message: `voyage API error 401: Provided API key is invalid: [REDACTED] — ${KEY_HINT}`,
    },
  },
  {
    label: '403 an address Voyage does not allow',
    status: 403,
    body: { detail: 'Forbidden' },
    expected: {
      name: 'PermissionDeniedError',
      code: 'permission_denied',
      isRetryable: false,
      message:
        'voyage API error 403: Forbidden — Voyage answers 403 when the request comes from an IP address it does not allow; call from an allowed address or network.',
    },
  },
  {
    label: '422 a validation list names the input',
    status: 422,
    body: { detail: [{ loc: ['body', 'input', 2], msg: 'String should have at least 1 character' }] },
    expected: {
      name: 'InvalidRequestError',
      code: 'invalid_request',
      isRetryable: false,
      batchTooLarge: false,
      inputIndex: 2,
      message: `voyage API error 422: body.input.2: String should have at least 1 character — ${INPUTS}`,
    },
  },
  {
    label: '429 a rate limit is retried',
    status: 429,
    body: { detail: 'Rate limit exceeded.' },
    expected: {
      name: 'RateLimitError',
      code: 'rate_limited',
      isRetryable: true,
      quotaExhausted: false,
      retryAfterMs: undefined,
      message: `voyage API error 429: Rate limit exceeded. — Lower concurrency or set rateLimit; ${RETRIED}`,
    },
  },
  {
    label: '429 without a payment method waits for the reduced rate and says how to lift it',
    status: 429,
    body: { detail: NO_PAYMENT },
    expected: {
      name: 'RateLimitError',
      code: 'rate_limited',
      isRetryable: true,
      quotaExhausted: false,
      retryAfterMs: 20_000,
      message: `voyage API error 429: ${NO_PAYMENT} — Voyage holds an account without a payment method to 3 requests a minute, so each retry waits 20 s: add a payment method on the billing page of the Voyage dashboard to lift the limit, or pace the calls with rateLimit: createRateLimiter({ requestsPerMinute: 3 }); ${RETRIED}`,
    },
  },
  ...[500, 502, 503, 504].map((status) => ({
    label: `${status} is the API's failure, retried`,
    status,
    body: { detail: 'Service unavailable.' },
    expected: {
      name: 'ServerError',
      code: 'server_error',
      isRetryable: true,
      message: `voyage API error ${status}: Service unavailable. — The API failed on its side; ${RETRIED}`,
    },
  })),
];

describe('every documented Voyage error', () => {
  it.each(rows)('$label', async ({ status, body, expected }) => {
    const server = fakeFetch([{ status, body }]);
    const model = createVoyage({ apiKey: KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const error = await rejectionOf(model.doEmbed({ inputs: ['hello'] }));
    expect(error).toMatchObject({ ...expected, statusCode: status, provider: 'voyage' });
    expect(`${JSON.stringify(error)} ${error.message} ${error.stack}`).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });
});
