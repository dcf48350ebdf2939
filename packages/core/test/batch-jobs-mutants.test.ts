/**
 * Batch-job behaviour the rest of the suite left unpinned: the exact refusals of `waitForBatchJob`'s
 * options (and the smallest values it takes), the options each poll is given and nothing more, how
 * failed polls are counted and how long the wait after one is, the whole-wait deadline at its edges
 * (a clock that does not start at 0, a wait that ends exactly at it, a poll with 1 ms left, deadlines
 * at and beyond what a timer holds), the caller's abort during a poll, and `sendBatchJobRequest`
 * without options, with `create`'s own options, and with the 429 pause of calls attempted once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BatchJob,
  type BatchJobCallOptions,
  sendBatchJobRequest,
  waitForBatchJob,
} from '../src/batch-jobs.js';
import { MAX_TIMER_MS } from '../src/engine/clock.js';
import { AuthenticationError, RateLimitError, ServerError, TimeoutError } from '../src/errors.js';
import {
  deferred,
  errorOf,
  invalidArgumentOf,
  rejection,
  scriptedBatchGet,
  until,
  VirtualClock,
  waitForAbort,
} from './helpers.js';

const busy = () => new ServerError('busy');

afterEach(() => {
  vi.useRealTimers();
});

describe('waitForBatchJob refuses bad options with exact messages, and takes the smallest good ones', () => {
  it.each([
    ['pollIntervalMs', { pollIntervalMs: 0 }, 'pollIntervalMs must be a finite number > 0, got 0.'],
    [
      'maxPollIntervalMs',
      { maxPollIntervalMs: -1 },
      'maxPollIntervalMs must be a finite number > 0, got -1.',
    ],
    ['timeoutMs', { timeoutMs: Number.NaN }, 'timeoutMs must be a finite number > 0, got NaN.'],
    [
      'maxConsecutiveErrors',
      { maxConsecutiveErrors: 0 },
      'maxConsecutiveErrors must be a whole number ≥ 1, got 0.',
    ],
  ])('%s out of range', async (argument, options, message) => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const error = await invalidArgumentOf(waitForBatchJob(get, 'batches/1', { clock, ...options }));
    expect(error.argument).toBe(argument);
    expect(error.message).toBe(message);
    expect(polls).toHaveLength(0);
  });

  it('options that are not an object are refused, naming wait’s form', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const error = await invalidArgumentOf(waitForBatchJob(get, 'batches/1', null as never));
    expect(error.argument).toBe('settings');
    expect(error.message).toBe(
      'Call it with one settings object, wait(id, { pollIntervalMs, timeoutMs, onProgress }); got null.',
    );
    expect(polls).toHaveLength(0);
  });

  it('headers with a line break are refused before the first poll', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const error = await invalidArgumentOf(
      waitForBatchJob(get, 'batches/1', { clock, headers: { 'x-a': 'a\nb' } }),
    );
    expect(error.argument).toBe('headers.x-a');
    expect(polls).toHaveLength(0);
  });

  it('pollIntervalMs and maxPollIntervalMs of 1 ms are taken', async () => {
    const clock = new VirtualClock();
    const { get } = scriptedBatchGet(['running', 'running', 'succeeded'], clock);
    await waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 1, maxPollIntervalMs: 1 });
    expect(clock.sleepDurations).toEqual([1, 1]);
  });

  it('maxConsecutiveErrors 1 is taken: the first retryable poll error ends the wait', async () => {
    const clock = new VirtualClock();
    const first = busy();
    const { get, polls } = scriptedBatchGet([first, 'succeeded'], clock);
    expect(await rejection(waitForBatchJob(get, 'batches/1', { clock, maxConsecutiveErrors: 1 }))).toBe(
      first,
    );
    expect(polls).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(0);
  });
});

describe('what each poll is given', () => {
  it('no option the caller left out, not even as undefined', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['succeeded'], clock);
    await waitForBatchJob(get, 'batches/1', { clock });
    expect(polls[0]!.options).toStrictEqual({});
  });
});

describe('failed polls', () => {
  it('a successful poll starts the count of errors in a row again', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet([busy(), busy(), 'running', busy(), busy(), 'succeeded'], clock);
    const result = await waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 100 });
    expect(result.state).toBe('succeeded');
    expect(polls).toHaveLength(6);
  });

  // A wait too long for a number is the longest a number holds (as `requestJson` reads it): the longest poll interval.
  it('the wait after a failed poll is the interval unless a hint asks for longer', async () => {
    const clock = new VirtualClock();
    const { get } = scriptedBatchGet(
      [
        busy(),
        new RateLimitError('slow', { retryAfterMs: 100 }),
        new RateLimitError('slow', { retryAfterMs: Number.POSITIVE_INFINITY }),
        'succeeded',
      ],
      clock,
    );
    await waitForBatchJob(get, 'batches/1', {
      clock,
      pollIntervalMs: 1_000,
      maxPollIntervalMs: 10_000,
      maxConsecutiveErrors: 4,
    });
    expect(clock.sleepDurations).toEqual([1_000, 1_500, 10_000]);
  });

  it('a poll that fails after the caller aborted re-throws the caller’s reason, not the poll’s error', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const answer = deferred<BatchJob>();
    let polls = 0;
    const get = () => {
      polls++;
      return answer.promise;
    };
    const waiting = rejection(waitForBatchJob(get, 'batches/1', { clock, signal: controller.signal }));
    await until(() => polls === 1, 'the first poll');
    const reason = new Error('stop');
    controller.abort(reason);
    answer.reject(new AuthenticationError('revoked'));
    expect(await waiting).toBe(reason);
    expect(polls).toBe(1);
  });
});

describe('the whole-wait deadline', () => {
  it('is measured from the clock’s time at the start, which need not be 0', async () => {
    const clock = new VirtualClock();
    clock.time = 1_000_000;
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const error = errorOf(
      TimeoutError,
      await rejection(waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 1_000, timeoutMs: 4_000 })),
    );
    expect(error.message).toBe(
      'Batch job batches/1 did not finish within 4000 ms (timeoutMs); it keeps running, so wait again or cancel it.',
    );
    expect(polls.map((poll) => poll.at)).toEqual([1_000_000, 1_001_000, 1_002_500]);
  });

  it('a wait that ends exactly at the deadline is taken, and then no poll is started with nothing left', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running', 'running', 'succeeded'], clock);
    errorOf(
      TimeoutError,
      await rejection(waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: 1_000, timeoutMs: 2_500 })),
    );
    expect(clock.sleepDurations).toEqual([1_000, 1_500]);
    expect(polls.map((poll) => poll.at)).toEqual([0, 1_000]);
    expect(clock.time).toBe(2_500);
  });

  it('a poll with 1 ms left is still made', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running', 'running', 'succeeded'], clock);
    const result = await waitForBatchJob(get, 'batches/1', {
      clock,
      pollIntervalMs: 1_000,
      timeoutMs: 2_501,
    });
    expect(result.state).toBe('succeeded');
    expect(polls.map((poll) => poll.at)).toEqual([0, 1_000, 2_500]);
  });

  it('a poll that fails for its own reason within the deadline ends the wait with that error', async () => {
    const clock = new VirtualClock();
    const failure = new AuthenticationError('revoked');
    const { get } = scriptedBatchGet([failure], clock);
    expect(await rejection(waitForBatchJob(get, 'batches/1', { clock, timeoutMs: 60_000 }))).toBe(failure);
  });

  it('the caller’s abort aborts the poll in flight with the caller’s own reason', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const get = (_id: string, options: BatchJobCallOptions) => {
      signals.push(options.signal!);
      return waitForAbort(options.signal);
    };
    const waiting = rejection(
      waitForBatchJob(get, 'batches/1', { clock, timeoutMs: 60_000, signal: controller.signal }),
    );
    await until(() => signals.length === 1, 'the first poll');
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    expect(signals[0]).not.toBe(controller.signal);
    expect(signals[0]!.reason).toBe(reason);
  });

  it('a deadline of exactly the longest timer still aborts a poll that never answers, at that moment', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new VirtualClock();
    const get = (_id: string, options: BatchJobCallOptions) => waitForAbort(options.signal);
    let settled = false;
    const waiting = rejection(waitForBatchJob(get, 'batches/1', { clock, timeoutMs: MAX_TIMER_MS })).finally(
      () => {
        settled = true;
      },
    );
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    errorOf(TimeoutError, await waiting);
  });

  it('a deadline beyond the longest timer sets no timer until what is left fits one', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running', 'succeeded'], clock);
    const result = await waitForBatchJob(get, 'batches/1', {
      clock,
      pollIntervalMs: 1_000,
      timeoutMs: MAX_TIMER_MS + 1,
    });
    expect(result.state).toBe('succeeded');
    // The first poll gets the caller's options as they are; 1 s later what is left fits a timer.
    expect(polls[0]!.options).toStrictEqual({});
    expect(Object.keys(polls[1]!.options)).toEqual(['signal']);
  });
});

describe('sendBatchJobRequest', () => {
  it('without options, sends once with the 120,000 ms default timeout', async () => {
    const attempts: { signal: AbortSignal; timeoutMs: number }[] = [];
    const result = await sendBatchJobRequest(
      { provider: 'acme', modelId: 'embed-1' },
      'get',
      undefined,
      async (signal, timeoutMs) => {
        attempts.push({ signal, timeoutMs });
        return 'done';
      },
    );
    expect(result).toBe('done');
    expect(attempts.map((attempt) => attempt.timeoutMs)).toEqual([120_000]);
    expect(attempts[0]!.signal.aborted).toBe(false);
  });

  it('create takes inputType among its options', async () => {
    let sent = 0;
    await sendBatchJobRequest(
      { provider: 'acme', modelId: 'embed-1' },
      'create',
      { inputs: ['a'], inputType: 'document' } as BatchJobCallOptions,
      async () => {
        sent++;
        return 'ok';
      },
    );
    expect(sent).toBe(1);
  });

  it('options that are not an object are refused in the form of the operation named', async () => {
    const error = await invalidArgumentOf(
      sendBatchJobRequest({ provider: 'acme', modelId: 'embed-1' }, 'cancel', 'x' as never, async () => 'ok'),
    );
    expect(error.message).toBe(
      'Call it with one settings object, cancel(id, { signal, timeoutMs }); got "x".',
    );
  });

  it.each([
    ['create', {}],
    ['get with maxRetries 0', { maxRetries: 0 }],
  ] as const)('a 429 to %s, attempted once, pauses no later call of the same jobs', async (label, extra) => {
    const jobs = { provider: 'acme', modelId: 'embed-1' };
    const clock = new VirtualClock({ random: [0.5] });
    const limited = new RateLimitError('slow down', { retryAfterMs: 30_000 });
    const operation = label === 'create' ? 'create' : 'get';
    expect(
      await rejection(
        sendBatchJobRequest(jobs, operation, { clock, ...extra }, async () => Promise.reject(limited)),
      ),
    ).toBe(limited);
    expect(await sendBatchJobRequest(jobs, 'get', { clock }, async () => 'done')).toBe('done');
    expect(clock.sleeps).toEqual([]);
  });
});
