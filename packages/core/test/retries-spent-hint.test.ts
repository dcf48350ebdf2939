/**
 * What an error says once every retry failed: the hint of a retryable error ends with "the engine retries
 * these", which is no longer news when the retries were made and all failed. The `RetryError`, and its
 * last error with it, say instead that every retry failed and what to do now.
 */
import { describe, expect, it } from 'vitest';
import { embed } from '../src/engine/embed.js';
import { RETRIED_CLAUSE, RETRIES_SPENT_CLAUSE, RetryError, ServerError } from '../src/errors.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { recordingClock, rejectionOf } from '../src/testing.js';
import { recordingFetch, requestJsonModel, URL_BASE } from './http-helpers.js';

const SERVER_ERROR = () =>
  new Response(JSON.stringify({ error: { message: 'Boom.' } }), {
    status: 500,
    headers: { 'content-type': 'application/json' },
  });

describe('after every retry failed', () => {
  it('the RetryError and its last error say every retry failed and what to do, not that the engine retries these', async () => {
    const { fetch, sent } = recordingFetch(SERVER_ERROR);
    const model = requestJsonModel(createFetchTransport(fetch), URL_BASE);
    const error = await rejectionOf(embed({ model, input: 'a', maxRetries: 1, clock: recordingClock() }));
    if (!RetryError.isInstance(error)) throw error;
    const retryError = error;
    expect(sent).toHaveLength(2);
    expect(RETRIES_SPENT_CLAUSE).toBe('every retry failed: try again later, or raise maxRetries');
    expect(retryError.message).toBe(
      `acme model m failed 2 times; the last error: acme API error 500: {"error":{"message":"Boom."}} — The API failed on its side; ${RETRIES_SPENT_CLAUSE}.`,
    );
    expect(retryError.lastError.message).toBe(
      `acme API error 500: {"error":{"message":"Boom."}} — The API failed on its side; ${RETRIES_SPENT_CLAUSE}.`,
    );
    expect(retryError.lastError.stack).toContain(RETRIES_SPENT_CLAUSE);
    expect(retryError.message).not.toContain(RETRIED_CLAUSE);
    // The first failure was retried: its hint still says so, as it did to onRetry.
    expect(retryError.errors[0]!.message).toBe(
      `acme API error 500: {"error":{"message":"Boom."}} — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
  });

  it('an error whose message makes no such claim is left as it is', async () => {
    let calls = 0;
    const model = {
      ...requestJsonModel(createFetchTransport(recordingFetch(SERVER_ERROR).fetch), URL_BASE),
      async doEmbed(): Promise<never> {
        calls++;
        throw new ServerError(`own failure ${calls}`);
      },
    };
    const error = await rejectionOf(embed({ model, input: 'a', maxRetries: 1, clock: recordingClock() }));
    if (!RetryError.isInstance(error)) throw error;
    expect(error.message).toBe('acme model m failed 2 times; the last error: own failure 2');
    expect(error.lastError.message).toBe('own failure 2');
  });
});
