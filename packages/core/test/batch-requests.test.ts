/**
 * `sendBatchJobRequest`: how every provider's batch-job operation sends its HTTP requests. Each test names
 * the defect it catches: batch requests had no timeout at all (only the transport's 10-minute socket
 * timeout, none with `fetch`), options were not checked as the engines check theirs, and `get`,
 * `results`, `cancel` and `delete` failed on the first 5xx while their message said "the engine retries
 * these". Request timeouts are real timers, faked here; backoff runs on a VirtualClock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BatchJobOperation, sendBatchJobRequest } from '../src/batch-jobs.js';
import {
  EmbedKitError,
  InvalidArgumentError,
  InvalidRequestError,
  RetryError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import { VirtualClock, waitForAbort } from './helpers.js';

const JOBS = { provider: 'acme', modelId: 'embed-1' };

/** A `send` that answers each attempt from `script` (a value, or an error to throw) and records them. */
function scripted(script: (string | Error)[]) {
  const attempts: { signal: AbortSignal; timeoutMs: number }[] = [];
  const send = async (signal: AbortSignal, timeoutMs: number): Promise<string> => {
    attempts.push({ signal, timeoutMs });
    const next = script[Math.min(attempts.length - 1, script.length - 1)]!;
    if (next instanceof Error) throw next;
    return next;
  };
  return { send, attempts };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('the call had to fail'),
    (error: unknown) => error,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe('per-request timeout', () => {
  it('gives each attempt 120,000 ms by default, then aborts it with a TimeoutError', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const attempts: { signal: AbortSignal; timeoutMs: number }[] = [];
    const sending = failure(
      sendBatchJobRequest(JOBS, 'create', {}, (signal, timeoutMs) => {
        attempts.push({ signal, timeoutMs });
        return waitForAbort(signal);
      }),
    );
    await vi.advanceTimersByTimeAsync(119_999);
    expect(attempts[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await sending;
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).message).toBe(
      'acme model embed-1 did not answer within 120000 ms (timeoutMs).',
    );
    expect(attempts.map((attempt) => attempt.timeoutMs)).toEqual([120_000]);
    expect(attempts[0]!.signal.reason).toBe(error);
  });

  it.each<BatchJobOperation>(['create', 'get', 'results', 'cancel', 'delete'])(
    '%s takes timeoutMs per request',
    async (operation) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const attempts: number[] = [];
      const sending = failure(
        sendBatchJobRequest(JOBS, operation, { timeoutMs: 500, maxRetries: 0 }, (signal, timeoutMs) => {
          attempts.push(timeoutMs);
          return waitForAbort(signal);
        }),
      );
      await vi.advanceTimersByTimeAsync(500);
      expect(TimeoutError.isInstance(await sending)).toBe(true);
      expect(attempts).toEqual([500]);
    },
  );

  it('the caller’s abort re-throws its own reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const sending = failure(
      sendBatchJobRequest(JOBS, 'get', { signal: controller.signal }, (signal) => waitForAbort(signal)),
    );
    controller.abort(reason);
    expect(await sending).toBe(reason);
  });
});

describe('retries', () => {
  it.each<BatchJobOperation>(['get', 'results', 'cancel', 'delete'])(
    '%s is retried after a 5xx with the engine’s backoff',
    async (operation) => {
      const clock = new VirtualClock({ random: [0.5] });
      const { send, attempts } = scripted([new ServerError('busy'), new ServerError('busy'), 'done']);
      expect(await sendBatchJobRequest(JOBS, operation, { clock }, send)).toBe('done');
      expect(attempts).toHaveLength(3);
      // Full jitter over 500 ms, then 1,000 ms: half of each.
      expect(clock.sleepDurations).toEqual([250, 500]);
    },
  );

  it('stops after maxRetries with a RetryError holding every failure', async () => {
    const clock = new VirtualClock({ random: [0] });
    const failures = [new ServerError('a'), new ServerError('b')];
    const { send, attempts } = scripted(failures);
    const error = await failure(sendBatchJobRequest(JOBS, 'get', { clock, maxRetries: 1 }, send));
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).errors).toEqual(failures);
    expect(attempts).toHaveLength(2);
  });

  it('create is attempted once: a retry could submit the job twice', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const busy = new ServerError('busy');
    const { send, attempts } = scripted([busy, 'done']);
    expect(await failure(sendBatchJobRequest(JOBS, 'create', { clock, maxRetries: 3 }, send))).toBe(busy);
    expect(attempts).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(0);
  });

  it('maxRetries 0 attempts once; a non-retryable error is thrown at once', async () => {
    const busy = new ServerError('busy');
    const once = scripted([busy, 'done']);
    expect(await failure(sendBatchJobRequest(JOBS, 'get', { maxRetries: 0 }, once.send))).toBe(busy);
    expect(once.attempts).toHaveLength(1);
    const refused = new InvalidRequestError('bad');
    const bad = scripted([refused, 'done']);
    expect(await failure(sendBatchJobRequest(JOBS, 'delete', {}, bad.send))).toBe(refused);
    expect(bad.attempts).toHaveLength(1);
  });
});

describe('options', () => {
  it.each([
    ['signal: {}', { signal: {} }, 'signal', 'signal must be an AbortSignal, got an empty object.'],
    ['signal: "x"', { signal: 'x' }, 'signal', 'signal must be an AbortSignal, got "x".'],
    [
      'providerOptions: "x"',
      { providerOptions: 'x' },
      'providerOptions',
      'providerOptions must be an object of provider names to options, like { gemini: { normalize: false } }; got "x".',
    ],
    [
      'clock: {}',
      { clock: {} },
      'clock',
      'clock must be a Clock with now() and sleep(ms, signal) functions, got an empty object.',
    ],
    [
      'timeoutMs: 0',
      { timeoutMs: 0 },
      'timeoutMs',
      'timeoutMs must be a whole number from 1 to 2,147,483,647, got 0.',
    ],
    [
      'maxRetries: -1',
      { maxRetries: -1 },
      'maxRetries',
      'maxRetries must be a whole number from 0 to 100, got -1.',
    ],
    [
      'headers with a line break',
      { headers: { 'x-a': 'a\nb' } },
      'headers.x-a',
      'headers has a value for header "x-a" that holds a line break, a control character or a character beyond Latin-1, which HTTP cannot carry.',
    ],
    [
      'options that are a string',
      'x',
      'settings',
      'Call it with one settings object, get(id, { signal, timeoutMs }); got "x".',
    ],
  ])('%s is an InvalidArgumentError before anything is sent', async (_label, options, argument, message) => {
    const { send, attempts } = scripted(['done']);
    const error = await failure(sendBatchJobRequest(JOBS, 'get', options as never, send));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(EmbedKitError.isInstance(error) && error.isRetryable).toBe(false);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect((error as InvalidArgumentError).message).toBe(message);
    expect(attempts).toHaveLength(0);
  });
});
