import { inspect } from 'node:util';
import { createFakeClock } from '@embedkit/conformance';
import { embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createJina, parseJinaError } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const ok = {
  body: embeddingsBody('jina-embeddings-v3', [float32ToBase64(new Float32Array(1024).fill(0.5))], 3),
};

function setup(replies: Parameters<typeof fakeFetch>[0]) {
  const server = fakeFetch(replies);
  const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
  const clock = createFakeClock();
  const call = (maxRetries = 3) => embedMany({ model, inputs: ['x'], clock, maxRetries });
  return { server, clock, call };
}

describe('parseJinaError', () => {
  it('reads {detail, code, request_id}', () => {
    expect(
      parseJinaError({ detail: 'Invalid API key.', code: 'AUTH_INVALID_API_KEY', request_id: 'abc' }, 401),
    ).toEqual({
      message: 'Invalid API key.',
      providerCode: 'AUTH_INVALID_API_KEY',
      requestId: 'abc',
      kind: 'authentication',
      hint: expect.stringContaining('JINA_API_KEY'),
    });
  });

  it('reads detail given as an object {message}', () => {
    expect(parseJinaError({ detail: { message: 'Input text exceeds the model maximum.' } }, 400)).toEqual({
      message: 'Input text exceeds the model maximum.',
    });
  });

  it('lists the fields of a 422 and names the input it points at', () => {
    expect(
      parseJinaError(
        {
          detail: 'Request validation failed',
          errors: [
            { field: 'dimensions', input: 4096, message: 'at most 1024', type: 'less_than_equal' },
            { field: 'input.2', input: '', message: 'must not be empty', type: 'string_too_short' },
          ],
        },
        422,
      ),
    ).toEqual({
      message: 'Request validation failed (dimensions: at most 1024; input.2: must not be empty)',
      inputIndex: 2,
    });
    // FastAPI's own form: detail as a list of {loc, msg}.
    expect(parseJinaError({ detail: [{ loc: ['body', 'input', 5], msg: 'bad item' }] }, 422)).toEqual({
      message: 'body.input.5: bad item',
      inputIndex: 5,
    });
  });

  it.each([
    ['AUTH_MISSING_API_KEY', 401, 'authentication', undefined],
    ['AUTH_INVALID_FORMAT', 401, 'authentication', undefined],
    ['AUTHZ_INSUFFICIENT_BALANCE', 403, 'permission_denied', false],
    ['AUTHZ_RESOURCE_LIMIT_EXCEEDED', 403, 'permission_denied', false],
    ['RATE_TOKEN_LIMIT_EXCEEDED', 429, 'rate_limited', undefined],
    ['RATE_CONCURRENCY_LIMIT_EXCEEDED', 429, 'rate_limited', undefined],
    ['INPUT_MODEL_NOT_FOUND', 400, 'not_found', undefined],
    ['INTERNAL_ERROR', 500, undefined, undefined],
  ])('code %s at %i is kind %s', (code, status, kind, isRetryable) => {
    const parsed = parseJinaError({ detail: 'x', code }, status);
    expect(parsed.kind).toBe(kind);
    expect(parsed.isRetryable).toBe(isRetryable);
    expect(parsed.providerCode).toBe(code);
  });

  it("a hint that names a retry ends with core's clause, the one the engine words again when maxRetries is 0", () => {
    const hint = parseJinaError({ detail: 'x', code: 'RATE_CONCURRENCY_LIMIT_EXCEEDED' }, 429).hint;
    expect(hint).toBe('Too many requests at once for this key: lower concurrency; the engine retries these.');
  });

  it('flags a request over the item limit as batchTooLarge, at 400 or 422 only', () => {
    const detail =
      "Validation error: 'body -> jina-embeddings-v4' Each input list can contain at most 512 items.";
    expect(parseJinaError({ detail }, 422).batchTooLarge).toBe(true);
    expect(
      parseJinaError(
        { detail: { message: 'input length is larger than the largest allowed size 2048' } },
        400,
      ).batchTooLarge,
    ).toBe(true);
    expect(parseJinaError({ detail }, 500).batchTooLarge).toBeUndefined();
    expect(
      parseJinaError({ detail: 'Single text cannot exceed 8194 tokens.' }, 400).batchTooLarge,
    ).toBeUndefined();
  });

  it('a body of another shape yields only the status hint', () => {
    expect(parseJinaError({ error: { message: 'x' } }, 500)).toEqual({});
    expect(parseJinaError('text', 401)).toEqual({ hint: expect.stringContaining('JINA_API_KEY') });
  });
});

describe('errors through the engine', () => {
  it('a 200 carrying a Jina error body is an InvalidResponseError with its detail and code', async () => {
    const { server, call } = setup([
      { status: 200, body: { detail: `Invalid API key ${TEST_KEY}.`, code: 'AUTH_INVALID_API_KEY' } },
    ]);
    const error = await call().then(
      () => expect.fail('the call had to fail'),
      (caught: unknown) => caught as Error & Record<string, unknown>,
    );
    expect(error.name).toBe('InvalidResponseError');
    expect(error.statusCode).toBe(200);
    expect(error.providerCode).toBe('AUTH_INVALID_API_KEY');
    expect(error.message).toContain('with an error instead of embeddings: Invalid API key [REDACTED].');
    expect(JSON.stringify(error)).not.toContain(TEST_KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('401 AUTH_INVALID_API_KEY: AuthenticationError with the request id, not retried, no key in any text', async () => {
    const { server, call } = setup([
      {
        status: 401,
        body: { detail: `Invalid API key ${TEST_KEY}.`, code: 'AUTH_INVALID_API_KEY', request_id: 'req-401' },
      },
    ]);
    const error = await call().then(
      () => expect.fail('the call had to fail'),
      (caught: unknown) => caught as Error & Record<string, unknown>,
    );
    expect(error).toMatchObject({
      name: 'AuthenticationError',
      code: 'authentication',
      statusCode: 401,
      providerCode: 'AUTH_INVALID_API_KEY',
      requestId: 'req-401',
      isRetryable: false,
    });
    expect(error.message).toContain('https://jina.ai/api-dashboard/key-manager');
    for (const text of [
      error.message,
      String(error.responseBody),
      inspect(error, { depth: 5 }),
      JSON.stringify(error),
    ]) {
      expect(text).not.toContain(TEST_KEY);
    }
    expect(server.requests).toHaveLength(1);
  });

  it('403 AUTHZ_INSUFFICIENT_BALANCE: PermissionDeniedError, never retried, and says to top up', async () => {
    const { server, clock, call } = setup([
      {
        status: 403,
        body: {
          detail: 'Insufficient account balance.',
          code: 'AUTHZ_INSUFFICIENT_BALANCE',
          request_id: 'req-403',
        },
      },
    ]);
    await expect(call(5)).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      code: 'permission_denied',
      statusCode: 403,
      isRetryable: false,
      providerCode: 'AUTHZ_INSUFFICIENT_BALANCE',
      requestId: 'req-403',
      message: expect.stringMatching(/Insufficient account balance\..*top up/),
    });
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a balance message without its code is treated the same', async () => {
    const { server, call } = setup([
      { status: 403, body: { detail: { message: 'Insufficient balance on this account' } } },
    ]);
    await expect(call()).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      isRetryable: false,
      message: expect.stringContaining('top up'),
    });
    expect(server.requests).toHaveLength(1);
  });

  it('422 validation: InvalidRequestError listing the fields', async () => {
    const { server, call } = setup([
      {
        status: 422,
        body: {
          detail: 'Validation error',
          errors: [{ field: 'task', input: 'x', message: 'not a task of this model' }],
        },
      },
    ]);
    await expect(call()).rejects.toMatchObject({
      name: 'InvalidRequestError',
      statusCode: 422,
      isRetryable: false,
      message: expect.stringContaining('Validation error (task: not a task of this model)'),
    });
    expect(server.requests).toHaveLength(1);
  });

  it('400 INPUT_MODEL_NOT_FOUND: NotFoundError that keeps the API message', async () => {
    const { call } = setup([
      {
        status: 400,
        body: { detail: "Model 'jina-embeddings-v3x' not found.", code: 'INPUT_MODEL_NOT_FOUND' },
      },
    ]);
    await expect(call()).rejects.toMatchObject({
      name: 'NotFoundError',
      statusCode: 400,
      message: expect.stringContaining("Model 'jina-embeddings-v3x' not found."),
    });
  });

  it.each([
    'RATE_REQUEST_LIMIT_EXCEEDED',
    'RATE_TOKEN_LIMIT_EXCEEDED',
    'RATE_CONCURRENCY_LIMIT_EXCEEDED',
    'RATE_IP_LIMIT_EXCEEDED',
  ])('429 %s is retried after Retry-After', async (code) => {
    const { server, clock, call } = setup([
      {
        status: 429,
        headers: { 'retry-after': '7' },
        body: { detail: 'Rate limit exceeded', code, request_id: 'r' },
      },
      ok,
    ]);
    const result = await call();
    expect(result.embeddings).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([7000]);
  });

  it.each([
    [500, 'INTERNAL_ERROR'],
    [503, 'SERVICE_UNAVAILABLE'],
    [504, 'SERVICE_TIMEOUT'],
  ])('%i %s is retried', async (status, code) => {
    const { server, clock, call } = setup([{ status, body: { detail: 'try again', code } }, ok]);
    await call();
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('409 CONFLICT_RESOURCE_BUSY is an InvalidRequestError that is retried', async () => {
    const { server, call } = setup([
      { status: 409, body: { detail: 'Resource busy', code: 'CONFLICT_RESOURCE_BUSY' } },
      ok,
    ]);
    await call();
    expect(server.requests).toHaveLength(2);
    const single = setup([
      { status: 409, body: { detail: 'Resource busy', code: 'CONFLICT_RESOURCE_BUSY' } },
    ]);
    const error = await single.call(0).then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error).toMatchObject({ name: 'InvalidRequestError', isRetryable: true });
    // A busy server's advice, not the one for a request that is wrong.
    expect(error?.message).toBe(
      'jina API error 409: Resource busy — The API was busy with a conflicting request; retries are turned off (maxRetries 0), so none was made.',
    );
  });

  it('5xx on every attempt ends in a RetryError whose last error carries the code and request id', async () => {
    const failure = {
      status: 503,
      body: { detail: 'down', code: 'SERVICE_UNAVAILABLE', request_id: 'req-503' },
    };
    const { server, call } = setup([failure, failure]);
    await expect(call(1)).rejects.toMatchObject({
      name: 'RetryError',
      attempts: 2,
      lastError: {
        name: 'ServerError',
        statusCode: 503,
        providerCode: 'SERVICE_UNAVAILABLE',
        requestId: 'req-503',
      },
    });
    expect(server.requests).toHaveLength(2);
  });

  it('a request-id header wins over the body field', async () => {
    const { call } = setup([
      {
        status: 401,
        headers: { 'x-request-id': 'from-header' },
        body: { detail: 'no', request_id: 'from-body' },
      },
    ]);
    await expect(call()).rejects.toMatchObject({ requestId: 'from-header' });
  });
});
