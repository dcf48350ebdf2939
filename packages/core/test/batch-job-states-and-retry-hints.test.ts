/**
 * Batch jobs: the polling loop reads only the job states it knows, and a retryable failure of an
 * operation that is not retried by design (`create`, or a poll of `wait`) says why no retry was made in
 * terms of that operation, not of a `maxRetries` the caller never set.
 */
import { describe, expect, it } from 'vitest';
import { type BatchJobState, sendBatchJobRequest, waitForBatchJob } from '../src/batch-jobs.js';
import { InvalidResponseError, RateLimitError, ServerError } from '../src/errors.js';
import { rejection, scriptedBatchGet, VirtualClock } from './helpers.js';

const JOBS = { provider: 'acme', modelId: 'embed-1' };

/** A 503 as the HTTP client words it: its hint says the engine retries it. */
function busy(): ServerError {
  return new ServerError('acme returned 503. The API failed on its side; the engine retries these.', {
    provider: 'acme',
    statusCode: 503,
  });
}

describe('waitForBatchJob and job states', () => {
  it.each([
    ['in_progress', 'a string of 11 characters'],
    [undefined, 'nothing'],
  ])('a poll answering the state %s is an InvalidResponseError, not a finished job', async (state, shown) => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running', state as BatchJobState, 'succeeded'], clock);
    const seen: unknown[] = [];
    const error = await rejection(
      waitForBatchJob(get, 'batches/1', {
        clock,
        pollIntervalMs: 100,
        onProgress: (job) => seen.push(job.state),
      }),
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as InvalidResponseError).code).toBe('invalid_response');
    expect((error as InvalidResponseError).message).toBe(
      `Batch job batches/1 has the state ${shown}, not one of pending, running, succeeded, failed, cancelled, expired.`,
    );
    expect(polls).toHaveLength(2);
    expect(seen).toEqual(['running']);
  });

  it('every known state is still taken: final ones end the wait, the others poll on', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['pending', 'running', 'cancelled'], clock);
    expect((await waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 100 })).state).toBe('cancelled');
    expect(polls).toHaveLength(3);
  });
});

describe('why no retry was made', () => {
  it('create says it is never retried, not that maxRetries is 0', async () => {
    let attempts = 0;
    const error = await rejection(
      sendBatchJobRequest(JOBS, 'create', {}, async () => {
        attempts++;
        throw busy();
      }),
    );
    expect(ServerError.isInstance(error)).toBe(true);
    expect((error as ServerError).code).toBe('server_error');
    expect((error as ServerError).message).toBe(
      'acme returned 503. The API failed on its side; create is never retried: a retry could submit the job twice.',
    );
    expect(attempts).toBe(1);
  });

  it('get with maxRetries 0 still says retries are turned off', async () => {
    const error = await rejection(
      sendBatchJobRequest(JOBS, 'get', { maxRetries: 0 }, async () => {
        throw busy();
      }),
    );
    expect((error as ServerError).message).toBe(
      'acme returned 503. The API failed on its side; retries are turned off (maxRetries 0), so none was made.',
    );
  });

  it('a wait that gives up on failed polls says how many failed in a row', async () => {
    const clock = new VirtualClock();
    let polls = 0;
    const get = () => {
      polls++;
      return sendBatchJobRequest(JOBS, 'get', { maxRetries: 0 }, async () => {
        throw busy();
      });
    };
    const error = await rejection(waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 100 }));
    expect(ServerError.isInstance(error)).toBe(true);
    expect((error as ServerError).code).toBe('server_error');
    expect((error as ServerError).message).toBe(
      'acme returned 503. The API failed on its side; wait() gave up after maxConsecutiveErrors (3) failed polls in a row.',
    );
    expect(polls).toBe(3);
  });

  it('a wait whose polls are retried names its failed polls too', async () => {
    const clock = new VirtualClock();
    const { get } = scriptedBatchGet(
      [
        new RateLimitError(
          'acme returned 429. Lower concurrency or set rateLimit; the engine retries these.',
        ),
      ],
      clock,
    );
    const error = await rejection(
      waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 100, maxConsecutiveErrors: 1 }),
    );
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).message).toBe(
      'acme returned 429. Lower concurrency or set rateLimit; wait() gave up after maxConsecutiveErrors (1) failed polls in a row.',
    );
  });
});
