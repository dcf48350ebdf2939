/**
 * What an error says once every retry failed: the hint of a retryable error ends with "the engine retries
 * these", which is no longer news when the retries were made and all failed. The `RetryError`, and its
 * last error with it, say instead that every retry failed and what to do now.
 */
import { describe, expect, it } from 'vitest';
import { embed } from '../src/engine/embed.js';
import {
  RETRIED_CLAUSE,
  RETRIES_SPENT_CLAUSE,
  RetryError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
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

  it('an error whose message makes no such claim gets the advice after it, once (bug: no advice at all after the retries)', async () => {
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
    expect(error.message).toBe(
      `acme model m failed 2 times; the last error: own failure 2 — ${RETRIES_SPENT_CLAUSE}.`,
    );
    expect(error.lastError.message).toBe(`own failure 2 — ${RETRIES_SPENT_CLAUSE}.`);
    expect(error.lastError.stack).toContain(`own failure 2 — ${RETRIES_SPENT_CLAUSE}.`);
    // The first failure was retried and says nothing of it.
    expect(error.errors[0]!.message).toBe('own failure 1');
  });

  it('a timeout, every attempt: the advice after its message', async () => {
    const model = {
      ...requestJsonModel(createFetchTransport(recordingFetch(SERVER_ERROR).fetch), URL_BASE),
      // Answers never: every attempt ends at timeoutMs, with the engine's TimeoutError.
      doEmbed: ({ signal }: { signal?: AbortSignal | undefined }) =>
        new Promise<never>((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason)),
        ),
    };
    const error = await rejectionOf(
      embed({ model, input: 'a', maxRetries: 1, timeoutMs: 5, clock: recordingClock() }),
    );
    if (!RetryError.isInstance(error)) throw error;
    expect(TimeoutError.isInstance(error.lastError)).toBe(true);
    expect(error.message).toBe(
      `acme model m failed 2 times; the last error: acme model m did not answer within 5 ms (timeoutMs). — ${RETRIES_SPENT_CLAUSE}.`,
    );
  });

  it('one error thrown by every attempt, in two calls: the advice once, not twice (bug: appended again)', async () => {
    const same = new ServerError('own failure');
    const model = {
      ...requestJsonModel(createFetchTransport(recordingFetch(SERVER_ERROR).fetch), URL_BASE),
      async doEmbed(): Promise<never> {
        throw same;
      },
    };
    for (let call = 0; call < 2; call++) {
      const error = await rejectionOf(embed({ model, input: 'a', maxRetries: 1, clock: recordingClock() }));
      if (!RetryError.isInstance(error)) throw error;
      expect(error.message).toBe(
        `acme model m failed 2 times; the last error: own failure — ${RETRIES_SPENT_CLAUSE}.`,
      );
    }
    // A later call that makes no retry says so in place of the spent retries, not after them.
    const error = await rejectionOf(embed({ model, input: 'a', maxRetries: 0, clock: recordingClock() }));
    expect(error).toBe(same);
    expect(same.message).toBe('own failure — retries are turned off (maxRetries 0), so none was made.');
  });

  it('an error already saying every retry failed, from an earlier call: the advice once', async () => {
    let calls = 0;
    const model = {
      ...requestJsonModel(createFetchTransport(recordingFetch(SERVER_ERROR).fetch), URL_BASE),
      async doEmbed(): Promise<never> {
        calls++;
        throw new ServerError(`said before ${calls}; ${RETRIES_SPENT_CLAUSE}.`);
      },
    };
    const error = await rejectionOf(embed({ model, input: 'a', maxRetries: 1, clock: recordingClock() }));
    if (!RetryError.isInstance(error)) throw error;
    expect(error.message).toBe(
      `acme model m failed 2 times; the last error: said before 2; ${RETRIES_SPENT_CLAUSE}.`,
    );
  });
});
