import { describe, expect, it } from 'vitest';
import {
  BATCH_JOB_STATES,
  type BatchJobState,
  isFinalBatchJobState,
  waitForBatchJob,
} from '../src/batch-jobs.js';
import {
  AuthenticationError,
  EmbedKitError,
  InvalidArgumentError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import { rejection, scriptedBatchGet, until, VirtualClock } from './helpers.js';

describe('batch job states', () => {
  it('only pending and running are not final', () => {
    expect(BATCH_JOB_STATES.filter((state) => !isFinalBatchJobState(state))).toEqual(['pending', 'running']);
    expect(BATCH_JOB_STATES.filter(isFinalBatchJobState)).toEqual([
      'succeeded',
      'failed',
      'cancelled',
      'expired',
    ]);
  });
});

describe('waitForBatchJob', () => {
  it('polls at once, then waits 10 s growing 1.5x per poll up to 60 s, until a final state', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet([...Array<BatchJobState>(8).fill('running'), 'succeeded'], clock);
    const result = await waitForBatchJob(get, 'batches/1', { clock });
    expect(result.state).toBe('succeeded');
    expect(polls).toHaveLength(9);
    expect(clock.sleepDurations).toEqual([10_000, 15_000, 22_500, 33_750, 50_625, 60_000, 60_000, 60_000]);
    expect(polls[0]!.at).toBe(0);
  });

  it('returns a job that ended in failure too (final is final)', async () => {
    const clock = new VirtualClock();
    const { get } = scriptedBatchGet(['pending', 'failed'], clock);
    expect((await waitForBatchJob(get, 'batches/1', { clock })).state).toBe('failed');
  });

  it('honours pollIntervalMs and maxPollIntervalMs and reports each poll', async () => {
    const clock = new VirtualClock();
    const { get } = scriptedBatchGet(['pending', 'running', 'running', 'running', 'expired'], clock);
    const seen: BatchJobState[] = [];
    await waitForBatchJob(get, 'batches/1', {
      clock,
      pollIntervalMs: 1_000,
      maxPollIntervalMs: 2_000,
      onProgress: (value) => seen.push(value.state),
    });
    expect(clock.sleepDurations).toEqual([1_000, 1_500, 2_000, 2_000]);
    expect(seen).toEqual(['pending', 'running', 'running', 'running', 'expired']);
  });

  it('passes the id, signal, headers and providerOptions to every poll', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running', 'succeeded'], clock);
    const signal = new AbortController().signal;
    await waitForBatchJob(get, 'batches/77', {
      clock,
      signal,
      headers: { 'x-a': '1' },
      providerOptions: { p: { v: 1 } },
    });
    expect(polls.map((poll) => poll.id)).toEqual(['batches/77', 'batches/77']);
    expect(polls[1]!.options).toEqual({ signal, headers: { 'x-a': '1' }, providerOptions: { p: { v: 1 } } });
  });

  it('tolerates retryable poll errors in a row below maxConsecutiveErrors', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(
      [new ServerError('busy'), new ServerError('busy'), 'running', new ServerError('busy'), 'succeeded'],
      clock,
    );
    const result = await waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 100 });
    expect(result.state).toBe('succeeded');
    expect(polls).toHaveLength(5);
  });

  it('throws the error once maxConsecutiveErrors retryable errors came in a row', async () => {
    const clock = new VirtualClock();
    const third = new ServerError('busy 3');
    const { get, polls } = scriptedBatchGet(
      [new ServerError('busy 1'), new ServerError('busy 2'), third],
      clock,
    );
    await expect(waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 100 })).rejects.toBe(third);
    expect(polls).toHaveLength(3);
  });

  it('throws a non-retryable error at once', async () => {
    const clock = new VirtualClock();
    const failure = new AuthenticationError('revoked');
    const { get, polls } = scriptedBatchGet([failure], clock);
    await expect(waitForBatchJob(get, 'batches/1', { clock })).rejects.toBe(failure);
    expect(polls).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(0);
  });

  it('waits at least a Retry-After hint that exceeds the interval, capped by maxPollIntervalMs', async () => {
    const clock = new VirtualClock();
    const { get } = scriptedBatchGet(
      [
        new RateLimitError('slow', { retryAfterMs: 7_000 }),
        new RateLimitError('slow', { retryAfterMs: 90_000 }),
        'succeeded',
      ],
      clock,
    );
    await waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 1_000, maxPollIntervalMs: 30_000 });
    expect(clock.sleepDurations).toEqual([7_000, 30_000]);
  });

  it('gives up with a TimeoutError rather than sleep past timeoutMs', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const error = await rejection(
      waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 1_000, timeoutMs: 4_000 }),
    );
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).message).toContain('batches/1');
    // polls at 0, 1000, 2500; the next wait (2250) would end at 4750 > 4000
    expect(polls.map((poll) => poll.at)).toEqual([0, 1_000, 2_500]);
    expect(clock.time).toBeLessThanOrEqual(4_000);
  });

  it('an abort during a wait re-throws the native AbortError and polls no more', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const controller = new AbortController();
    const pending = rejection(waitForBatchJob(get, 'batches/1', { clock, signal: controller.signal }));
    await until(() => clock.sleeps.length === 1, 'the first wait');
    controller.abort();
    const error = await pending;
    expect((error as Error).name).toBe('AbortError');
    expect(EmbedKitError.isInstance(error)).toBe(false);
    expect(polls).toHaveLength(1);
  });

  it('an already aborted signal polls nothing', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const controller = new AbortController();
    controller.abort();
    expect(
      ((await rejection(waitForBatchJob(get, 'batches/1', { clock, signal: controller.signal }))) as Error)
        .name,
    ).toBe('AbortError');
    expect(polls).toHaveLength(0);
  });

  it.each([
    ['pollIntervalMs 0', { pollIntervalMs: 0 }],
    ['maxPollIntervalMs negative', { maxPollIntervalMs: -1 }],
    ['timeoutMs Infinity', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['maxConsecutiveErrors 0', { maxConsecutiveErrors: 0 }],
    ['maxConsecutiveErrors 1.5', { maxConsecutiveErrors: 1.5 }],
  ])('%s is an InvalidArgumentError before any poll', async (_label, options) => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const error = await rejection(waitForBatchJob(get, 'batches/1', { clock, ...options }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(polls).toHaveLength(0);
  });
});
