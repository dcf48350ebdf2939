/**
 * The error bodies OpenAI is recorded answering for a bad input list, an over-long input (the older
 * wording), `dimensions` on a model without it, and an unknown model: each is raised as its class and
 * code, sent once, with the API's message kept and no key in it.
 */
import { embedMany, InvalidRequestError, NotFoundError } from '@embedkit/core';
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

// Fake key material only.
const KEY = 'sk-fake-not-a-real-key-abc';

const openAIError = (message: string, code: string | null) => ({
  error: { message, type: 'invalid_request_error', param: null, code },
});

const INPUTS_HINT = 'Check the inputs and options against the model’s capabilities.';

describe('recorded 400 bodies', () => {
  it.each([
    [
      'an input list the API refuses',
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      'text-embedding-3-small',
      {},
    ],
    [
      'an input over the context length, in the older wording',
      "This model's maximum context length is 8192 tokens, however you requested 8610 tokens (8610 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
      'text-embedding-3-small',
      {},
    ],
    [
      'dimensions sent for a model id the table does not know, which lacks them',
      'This model does not support specifying dimensions.',
      'text-embedding-legacy',
      { dimensions: 256 },
    ],
  ])(
    '%s: InvalidRequestError with the message kept, sent once',
    async (_label, message, modelId, options) => {
      const server = fakeFetch([
        { status: 400, body: openAIError(message, null) },
        { status: 400, body: openAIError(message, null) },
      ]);
      const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding(modelId);
      const error = await rejectionOf(embedMany({ model, inputs: ['hello'], ...options }));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error).toMatchObject({
        code: 'invalid_request',
        statusCode: 400,
        providerCode: 'invalid_request_error',
        isRetryable: false,
      });
      expect(error.message).toBe(`openai API error 400: ${message} — ${INPUTS_HINT}`);
      expect(error.message).not.toContain(KEY);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.body).toStrictEqual({
        model: modelId,
        input: ['hello'],
        encoding_format: 'base64',
        ...options,
      });
    },
  );
});

describe('recorded 404 body', () => {
  it('model_not_found: NotFoundError with the message kept and the model-id hint, sent once', async () => {
    const message = 'The model `text-embedding-4-huge` does not exist or you do not have access to it.';
    const server = fakeFetch([{ status: 404, body: openAIError(message, 'model_not_found') }]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-4-huge');
    const error = await rejectionOf(embedMany({ model, inputs: ['hello'] }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      code: 'not_found',
      statusCode: 404,
      providerCode: 'model_not_found',
      isRetryable: false,
    });
    expect(error.message).toBe(`openai API error 404: ${message} — Check the model id and the base URL.`);
    expect(error.message).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });
});
