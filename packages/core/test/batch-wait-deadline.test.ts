/**
 * `wait`'s `timeoutMs` bounds the whole wait, a poll in flight included: it was checked only between
 * polls, so a poll that never answered kept `wait({ timeoutMs: 1000 })` waiting for as long as the
 * transport allowed (10 minutes, or for ever with `fetch`). Real timers are faked; nothing sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BatchJob, type BatchJobCallOptions, waitForBatchJob } from '../src/batch-jobs.js';
import { InvalidArgumentError, TimeoutError } from '../src/errors.js';
import { batchJob, until, VirtualClock, waitForAbort } from './helpers.js';

beforeEach(() => {
  // The deadline is a real timer, as every request timeout is; the VirtualClock's setImmediate stays real.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('waitForBatchJob timeoutMs', () => {
  it('aborts a poll still in flight at the deadline with a TimeoutError', async () => {
    const clock = new VirtualClock();
    const signals: (AbortSignal | undefined)[] = [];
    const get = (_id: string, options: BatchJobCallOptions) => {
      signals.push(options.signal);
      return waitForAbort(options.signal);
    };
    let settled: unknown = 'pending';
    const waiting = waitForBatchJob(get, 'batches/1', { clock, timeoutMs: 1_000, pollIntervalMs: 100 }).then(
      () => 'returned',
      (error: unknown) => error,
    );
    void waiting.then((value) => {
      settled = value;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = await waiting;
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).message).toBe(
      'Batch job batches/1 did not finish within 1000 ms (timeoutMs); it keeps running, so wait again or cancel it.',
    );
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBe(error);
  });

  it('ends at the deadline even when get ignores its signal', async () => {
    const clock = new VirtualClock();
    const get = () => new Promise<BatchJob>(() => {});
    const waiting = waitForBatchJob(get, 'batches/1', { clock, timeoutMs: 5_000 }).catch(
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(5_000);
    expect(TimeoutError.isInstance(await waiting)).toBe(true);
  });

  it('gives a later poll only what is left of the wait', async () => {
    const clock = new VirtualClock();
    let polls = 0;
    const get = (_id: string, options: BatchJobCallOptions) => {
      polls++;
      // The first poll answers; the second hangs.
      return polls === 1 ? Promise.resolve(batchJob('running')) : waitForAbort(options.signal);
    };
    let settled = false;
    const waiting = waitForBatchJob(get, 'batches/1', { clock, timeoutMs: 1_000, pollIntervalMs: 400 }).catch(
      (error: unknown) => {
        settled = true;
        return error;
      },
    );
    // The first poll at virtual 0, a 400 ms virtual sleep, the second poll at 400: 600 ms are left.
    await until(() => polls === 2, 'the second poll');
    expect(clock.sleepDurations).toEqual([400]);
    await vi.advanceTimersByTimeAsync(599);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(TimeoutError.isInstance(await waiting)).toBe(true);
  });

  it('a poll answered in time clears its deadline timer', async () => {
    const clock = new VirtualClock();
    const result = await waitForBatchJob(async () => batchJob('succeeded'), 'batches/1', {
      clock,
      timeoutMs: 60_000,
    });
    expect(result.state).toBe('succeeded');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the caller’s abort during a poll re-throws its own reason, not a TimeoutError', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const get = (_id: string, options: BatchJobCallOptions) => waitForAbort(options.signal);
    const waiting = waitForBatchJob(get, 'batches/1', {
      clock,
      timeoutMs: 10_000,
      signal: controller.signal,
    }).catch((error: unknown) => error);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await waiting).toBe(reason);
  });

  it('passes pollTimeoutMs to each poll as its timeoutMs', async () => {
    const clock = new VirtualClock();
    const seen: BatchJobCallOptions[] = [];
    await waitForBatchJob(
      async (_id, options) => {
        seen.push(options);
        return batchJob('succeeded');
      },
      'batches/1',
      { clock, pollTimeoutMs: 5_000 },
    );
    expect(seen).toEqual([{ timeoutMs: 5_000 }]);
  });
});

describe('waitForBatchJob options', () => {
  it.each([
    ['signal: {}', { signal: {} }, 'signal', 'signal must be an AbortSignal, got an empty object.'],
    ['signal: "x"', { signal: 'x' }, 'signal', 'signal must be an AbortSignal, got "x".'],
    ['onProgress: 5', { onProgress: 5 }, 'onProgress', 'onProgress must be a function, got 5.'],
    [
      'clock: {}',
      { clock: {} },
      'clock',
      'clock must be a Clock with now() and sleep(ms, signal) functions, got an empty object.',
    ],
    [
      'providerOptions: "x"',
      { providerOptions: 'x' },
      'providerOptions',
      'providerOptions must be an object of provider names to options, like { gemini: { normalize: false } }; got "x".',
    ],
    [
      'pollTimeoutMs: 0',
      { pollTimeoutMs: 0 },
      'pollTimeoutMs',
      'pollTimeoutMs must be a whole number from 1 to 2,147,483,647, got 0.',
    ],
  ])(
    '%s is an InvalidArgumentError before any poll (it failed as a poll error, or after the first poll)',
    async (_label, options, argument, message) => {
      let polls = 0;
      const error = await waitForBatchJob(
        async () => {
          polls++;
          return batchJob('running');
        },
        'batches/1',
        { pollIntervalMs: 1, ...(options as object) },
      ).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe(argument);
      expect((error as InvalidArgumentError).message).toBe(message);
      expect(polls).toBe(0);
    },
  );
});
