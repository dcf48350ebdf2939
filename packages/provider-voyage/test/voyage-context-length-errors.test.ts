/**
 * An input over the model's context length. embedkit sends `truncation: false`, so Voyage refuses such an
 * input with a 400 that names it by its index in the request ("The example at index 1 in your batch has
 * too many tokens …"): the error carries that index, and the engine names the input by its place in the
 * whole job, which is not the index the message gives once the job runs in more than one call.
 */
import { embedContextualized, embedMany, InvalidRequestError } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createVoyage, parseVoyageError } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const FULL_B64 = float32ToBase64(new Float32Array(1024).fill(0.03125));

/** The body Voyage sends for an input over the context length (recorded from the live API). */
const overLength = (index: number, model: string) => ({
  detail: `Request to model '${model}' failed. The example at index ${index} in your batch has too many tokens and does not fit into the model's context window of 32000 tokens. Please lower the number of tokens in the listed example(s) or use truncation.`,
});

describe('parseVoyageError on an input over the context length', () => {
  it('reads the index of the input the message names, and does not mark the batch as too large', () => {
    const body = overLength(3, 'voyage-3.5');
    expect(parseVoyageError(body, 400)).toStrictEqual({ message: body.detail, inputIndex: 3 });
  });

  it('reads a many-digit index whole', () => {
    const body = overLength(917, 'voyage-4-large');
    expect(parseVoyageError(body, 400)).toStrictEqual({ message: body.detail, inputIndex: 917 });
  });

  it('names no input when the message names none', () => {
    const detail =
      "Request to model 'voyage-3.5' failed. Input type 'querry' is not one of 'query', 'document'.";
    expect(parseVoyageError({ detail }, 400)).toStrictEqual({ message: detail });
  });
});

describe('an over-long input in a job of several calls', () => {
  it('embedMany names it by its place in the whole job, without retrying', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('voyage-3.5', [FULL_B64, FULL_B64]) },
      { status: 400, body: overLength(1, 'voyage-3.5') },
    ]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const error = await rejectionOf(
      embedMany({ model, inputs: ['a', 'b', 'c', 'd'], maxInputsPerCall: 2, concurrency: 1 }),
    );
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_request',
      statusCode: 400,
      inputIndex: 3,
      batchTooLarge: false,
      isRetryable: false,
    });
    expect((error as Error).message).toBe(
      `voyage API error 400: ${overLength(1, 'voyage-3.5').detail} — Check the inputs and options against the model’s capabilities. (input 3 of the whole job)`,
    );
    expect(server.requests.map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('embedContextualized names the document by its place in the whole job', async () => {
    const server = fakeFetch([
      {
        body: {
          object: 'list',
          data: [
            { object: 'list', index: 0, data: [{ object: 'embedding', index: 0, embedding: FULL_B64 }] },
          ],
          model: 'voyage-context-3',
          usage: { total_tokens: 3 },
        },
      },
      { status: 400, body: overLength(0, 'voyage-context-3') },
    ]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'voyage-context-3',
    );
    const error = await rejectionOf(
      embedContextualized({
        model,
        documents: [['intro'], ['a chapter far too long']],
        maxDocumentsPerCall: 1,
        concurrency: 1,
      }),
    );
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_request', statusCode: 400, inputIndex: 1 });
    expect((error as Error).message).toBe(
      `voyage API error 400: ${overLength(0, 'voyage-context-3').detail} — Check the inputs and options against the model’s capabilities. (document 1 of the whole job)`,
    );
    expect(server.requests).toHaveLength(2);
  });
});
