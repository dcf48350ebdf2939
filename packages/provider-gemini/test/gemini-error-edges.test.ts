/**
 * Two answers of the Gemini API whose fix lies outside the request's inputs: a 400 `FAILED_PRECONDITION`
 * (the project's billing, or where the call comes from) says so in its hint; and the batch limit of 100
 * inputs, which the engine keeps to, reaches a direct `doEmbed` call of more as the API's own 400.
 */
import { embedMany, InvalidArgumentError, InvalidRequestError } from '@embedkit/core';
import { checkEmbedRequest } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createGemini, parseGeminiError } from '../src/index.js';
import { FAKE_KEY, failure, fakeFetch } from './fake-fetch.js';

const BILLING_HINT =
  'Nothing in the request can fix this: enable billing on the project in Google AI Studio, or call from a region the Gemini API serves; retrying will not help.';

function precondition(message: string) {
  return { status: 400, body: { error: { code: 400, message, status: 'FAILED_PRECONDITION' } } };
}

describe('400 FAILED_PRECONDITION', () => {
  it('says to enable billing or call from a supported region, not to check the inputs', async () => {
    const message =
      'Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.';
    const { fetch, sent } = fakeFetch([precondition(message)]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const error = await failure(embedMany({ model, inputs: ['a', 'b'] }));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_request',
      statusCode: 400,
      providerCode: 'FAILED_PRECONDITION',
      isRetryable: false,
    });
    expect(error.message).toBe(`gemini API error 400: ${message} — ${BILLING_HINT}`);
    expect(sent).toHaveLength(1);
  });

  it('parseGeminiError gives the hint for "User location is not supported for the API use."', () => {
    const message = 'User location is not supported for the API use.';
    expect(parseGeminiError(precondition(message).body, 400)).toStrictEqual({
      message,
      providerCode: 'FAILED_PRECONDITION',
      hint: BILLING_HINT,
    });
  });

  it('one that names no billing, location or region (a request in the wrong state) gets no such hint', () => {
    const message = 'Batch job batches/1 has already ended.';
    expect(parseGeminiError(precondition(message).body, 400)).toStrictEqual({
      message,
      providerCode: 'FAILED_PRECONDITION',
    });
  });

  it('an INVALID_ARGUMENT 400 keeps the usual hint about the request', () => {
    const body = { error: { code: 400, message: 'Invalid value', status: 'INVALID_ARGUMENT' } };
    expect(parseGeminiError(body, 400)).toStrictEqual({
      message: 'Invalid value',
      providerCode: 'INVALID_ARGUMENT',
    });
  });
});

describe('more than 100 inputs given straight to doEmbed', () => {
  const inputs = Array.from({ length: 101 }, (_, index) => `input ${index}`);

  it('are sent as they are, and the API refuses the batch: an InvalidRequestError marked batchTooLarge', async () => {
    const { fetch, sent } = fakeFetch([
      {
        status: 400,
        body: {
          error: {
            code: 400,
            message: '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n',
            status: 'INVALID_ARGUMENT',
          },
        },
      },
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const error = await failure(model.doEmbed({ inputs }));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_request', statusCode: 400, batchTooLarge: true });
    expect(sent).toHaveLength(1);
    expect((sent[0]!.body as { requests: unknown[] }).requests).toHaveLength(101);
  });

  it('are refused before sending by checkEmbedRequest, the engine’s check for direct callers', () => {
    const { fetch, sent } = fakeFetch([]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    let caught: unknown;
    try {
      checkEmbedRequest(model, { inputs });
    } catch (error) {
      caught = error;
    }
    expect(InvalidArgumentError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'invalid_argument', argument: 'inputs' });
    expect((caught as Error).message).toBe(
      'gemini model gemini-embedding-001 takes 1 to 100 inputs per call, got 101; embedMany splits larger jobs.',
    );
    expect(sent).toHaveLength(0);
  });
});
