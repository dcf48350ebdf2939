/**
 * Behaviour of the engine's retry loop, pool and runner that a mutation sweep of retry.ts, pool.ts and
 * runner.ts found unpinned: each test here fails on at least one mutant of those files that the rest of
 * the suite let through. Timers are faked where the engine uses real ones (the attempt timeout and the
 * moment a model that ignores its signal is left behind); backoff runs on the virtual clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Batch } from '../src/engine/batcher.js';
import type { AttemptAnswered, LimiterPermit, LimiterRequest, RateLimiter } from '../src/engine/limiter.js';
import { type PoolSource, runPool } from '../src/engine/pool.js';
import { withRetries } from '../src/engine/retry.js';
import { type JobAdapter, runJob, Tally } from '../src/engine/runner.js';
import type { Progress } from '../src/engine/settings.js';
import {
  AuthenticationError,
  ConnectionError,
  InvalidRequestError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import type { Warning } from '../src/types.js';
import {
  attemptPolicy,
  deferred,
  noAnswer,
  rejection,
  tick,
  until,
  VirtualClock,
  waitForAbort,
} from './helpers.js';

/** Everything a limiter was asked and told, in order. */
type LimiterEvent =
  | { kind: 'acquire'; request: LimiterRequest }
  | { kind: 'answered'; outcome: AttemptAnswered }
  | { kind: 'failed'; outcome: { rateLimited: boolean; waitMs: number; unsent?: boolean } };

/**
 * A limiter that admits every attempt at once (or when `gate` says) and records every call made on it. A
 * permit records what it is told only after an event-loop turn (as a shared store would), so an outcome
 * the engine does not wait for shows up late.
 */
function recordingLimiter(gate?: () => Promise<void>) {
  const events: LimiterEvent[] = [];
  const limiter: RateLimiter = {
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    async acquire(request: LimiterRequest): Promise<LimiterPermit> {
      events.push({ kind: 'acquire', request });
      await gate?.();
      return {
        async answered(outcome) {
          await tick();
          events.push({ kind: 'answered', outcome });
        },
        async failed(outcome) {
          await tick();
          events.push({ kind: 'failed', outcome });
        },
      };
    },
  };
  /** What the permits were told, without the acquisitions. */
  const outcomes = () => events.filter((event) => event.kind !== 'acquire');
  return { limiter, events, outcomes };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Advances the faked timers by `ms`, then lets the permits (which record a turn later) finish. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await tick();
  await tick();
}

describe('withRetries: a model that ignores its signal', () => {
  it('is left exactly 100 ms after its timeout, and no timer is left behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter } = recordingLimiter();
    let settled = false;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      () => new Promise<never>(() => {}),
      noAnswer,
    ).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    await advance(1_000);
    await advance(99);
    expect(settled).toBe(false);
    await advance(1);
    expect(settled).toBe(true);
    const error = await rejection(pending);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts the grace from the first abort: a caller’s abort after the timeout does not extend it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter } = recordingLimiter();
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    let settled = false;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      controller.signal,
      () => new Promise<never>(() => {}),
      noAnswer,
    ).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    await advance(1_050);
    controller.abort(reason);
    await advance(50);
    expect(settled).toBe(true);
    await expect(pending).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a model that honours the timeout late, within the grace, keeps its own answer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter } = recordingLimiter();
    const refused = new AuthenticationError('key revoked');
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      async (signal) => {
        await waitForAbort(signal).catch(() => undefined);
        // Cleaning up takes the transport a moment after the abort.
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw refused;
      },
      noAnswer,
    );
    pending.catch(() => {});
    await advance(1_050);
    await expect(pending).rejects.toBe(refused);
  });

  it('leaves no timer behind when the model ends by itself after a timeout and an abort', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter } = recordingLimiter();
    const controller = new AbortController();
    const ended = new ConnectionError('socket closed');
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      controller.signal,
      async (signal) => {
        await waitForAbort(signal).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw ended;
      },
      noAnswer,
    );
    pending.catch(() => {});
    await advance(1_010);
    controller.abort();
    await advance(10);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('withRetries: a late admission', () => {
  it('after the caller’s abort rejects with the abort’s reason and takes nothing', async () => {
    const { limiter, events } = recordingLimiter();
    const controller = new AbortController();
    const reason = new Error('stop');
    let admitLater: (() => Promise<void>) | undefined;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      1,
      controller.signal,
      (signal, _timeoutMs, admit) => {
        admitLater = admit;
        return waitForAbort(signal);
      },
      noAnswer,
      { admitsLate: true },
    );
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(admitLater!()).rejects.toBe(reason);
    expect(events).toEqual([]);
  });

  it('asked after the abort, while the model is still being left, rejects at once and takes nothing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter, events } = recordingLimiter();
    const controller = new AbortController();
    const reason = new Error('stop');
    let admission: Promise<void> | undefined;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      1,
      controller.signal,
      async (_signal, _timeoutMs, admit) => {
        // Ignores the abort; its middleware asks for admission 10 ms later, inside the 100 ms grace.
        await new Promise((resolve) => setTimeout(resolve, 60));
        admission = admit();
        admission.catch(() => {});
        return new Promise<never>(() => {});
      },
      noAnswer,
      { admitsLate: true },
    );
    pending.catch(() => {});
    await advance(50);
    controller.abort(reason);
    await advance(10);
    await expect(admission!).rejects.toBe(reason);
    await advance(100);
    await expect(pending).rejects.toBe(reason);
    expect(events).toEqual([]);
  });

  it('after the attempt was decided rejects with an error saying nothing was sent', async () => {
    const { limiter, events } = recordingLimiter();
    let admitLater: (() => Promise<void>) | undefined;
    const value = await withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      1,
      new AbortController().signal,
      async (_signal, _timeoutMs, admit) => {
        admitLater = admit;
        return 'cached';
      },
      noAnswer,
      { admitsLate: true },
    );
    expect(value).toBe('cached');
    const error = await rejection(admitLater!());
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('embedkit: the attempt was already decided; nothing was sent.');
    expect(events).toEqual([]);
  });
});

describe('withRetries: what the limiter is asked and told', () => {
  it('one admission per attempt, and each permit told exactly how its attempt ended', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const { limiter, events } = recordingLimiter();
    const controller = new AbortController();
    const onWait = () => {};
    const retries: [number, number, string][] = [];
    const failures = [
      new ServerError('busy', { statusCode: 503 }),
      new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 2_000 }),
      new ConnectionError('refused', { neverSent: true }),
    ];
    let attempt = 0;
    const value = await withRetries(
      attemptPolicy({
        limiter,
        clock,
        exactTokens: true,
        onWait,
        onRetry: (event) => retries.push([event.attempt, event.delayMs, (event.error as Error).name]),
      }),
      7,
      controller.signal,
      async () => {
        const failure = failures[attempt++];
        if (failure !== undefined) throw failure;
        return { tokens: 9 };
      },
      (answer) => ({ reportedTokens: answer.tokens, headers: { 'x-seen': 'yes' } }),
    );
    expect(value).toEqual({ tokens: 9 });
    const request = { tokens: 7, scope: 'p:m', exactTokens: true, clock, signal: controller.signal, onWait };
    expect(events).toEqual([
      { kind: 'acquire', request },
      { kind: 'failed', outcome: { rateLimited: false, waitMs: 250, unsent: false } },
      { kind: 'acquire', request },
      { kind: 'failed', outcome: { rateLimited: true, waitMs: 2_000, unsent: false } },
      { kind: 'acquire', request },
      { kind: 'failed', outcome: { rateLimited: false, waitMs: 1_000, unsent: true } },
      { kind: 'acquire', request },
      { kind: 'answered', outcome: { reportedTokens: 9, headers: { 'x-seen': 'yes' } } },
    ]);
    expect(retries).toEqual([
      [1, 250, 'ServerError'],
      [2, 2_000, 'RateLimitError'],
      [3, 1_000, 'ConnectionError'],
    ]);
    // A 429 waits in the limiter's pause, not in a sleep of its own.
    expect(clock.sleepDurations).toEqual([250, 1_000]);
  });

  it('a 429 that is not retried (quota exhausted) pauses nothing; a sent attempt keeps its charge', async () => {
    const { limiter, outcomes } = recordingLimiter();
    const quota = new RateLimitError('quota', { statusCode: 429, quotaExhausted: true });
    await expect(
      withRetries(
        attemptPolicy({ limiter, clock: new VirtualClock({ random: [0.5] }) }),
        1,
        new AbortController().signal,
        async () => {
          throw quota;
        },
        noAnswer,
      ),
    ).rejects.toBe(quota);
    expect(outcomes()).toEqual([
      { kind: 'failed', outcome: { rateLimited: false, waitMs: 0, unsent: false } },
    ]);
  });

  it('the last 429 of a job still pauses the limiter for its hint, capped at maxRetryDelayMs', async () => {
    const { limiter, outcomes } = recordingLimiter();
    const error = await rejection(
      withRetries(
        attemptPolicy({
          limiter,
          clock: new VirtualClock({ random: [0.5] }),
          maxRetries: 0,
          maxRetryDelayMs: 1_500,
        }),
        1,
        new AbortController().signal,
        async () => {
          throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 4_000 });
        },
        noAnswer,
      ),
    );
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(outcomes()).toEqual([
      { kind: 'failed', outcome: { rateLimited: true, waitMs: 1_500, unsent: false } },
    ]);
  });

  it('a failure during the caller’s abort is not a 429 to pause on, and its abort reason is thrown', async () => {
    const { limiter, outcomes } = recordingLimiter();
    const controller = new AbortController();
    const reason = new Error('stop');
    const started = deferred();
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0.5] }) }),
      1,
      controller.signal,
      async (signal) => {
        started.resolve();
        await waitForAbort(signal).catch(() => undefined);
        throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 3_000 });
      },
      noAnswer,
    );
    await started.promise;
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(outcomes()).toEqual([
      { kind: 'failed', outcome: { rateLimited: false, waitMs: 0, unsent: false } },
    ]);
  });

  it('an abort in the very moment the attempt is admitted (its timer starting) sends nothing', async () => {
    const controller = new AbortController();
    const { limiter, outcomes } = recordingLimiter();
    // The attempt's timer starts right after admission: the caller aborts exactly then.
    const now = performance.now.bind(performance);
    vi.spyOn(performance, 'now').mockImplementation(() => {
      controller.abort();
      return now();
    });
    let calls = 0;
    const error = await rejection(
      withRetries(
        attemptPolicy({ limiter, clock: new VirtualClock({ random: [0.5] }) }),
        1,
        controller.signal,
        async () => {
          calls++;
          return 'sent';
        },
        noAnswer,
      ),
    );
    vi.restoreAllMocks();
    expect((error as Error).name).toBe('AbortError');
    expect(calls).toBe(0);
    expect(outcomes()).toEqual([
      { kind: 'failed', outcome: { rateLimited: false, waitMs: 0, unsent: true } },
    ]);
  });

  it('an attempt the caller aborts between admission and sending sends nothing and gives its budget back', async () => {
    const controller = new AbortController();
    const { limiter, outcomes } = recordingLimiter(async () => {
      // Admitted, and in the same moment a sibling's failure aborts the job.
      queueMicrotask(() => controller.abort());
    });
    let calls = 0;
    const error = await rejection(
      withRetries(
        attemptPolicy({ limiter, clock: new VirtualClock({ random: [0.5] }) }),
        1,
        controller.signal,
        async () => {
          calls++;
          return 'sent';
        },
        noAnswer,
      ),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(calls).toBe(0);
    expect(outcomes()).toEqual([
      { kind: 'failed', outcome: { rateLimited: false, waitMs: 0, unsent: true } },
    ]);
  });
});

describe('withRetries: the attempt’s time', () => {
  it('stops while a late admission waits for the limiter and resumes with what is left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter } = recordingLimiter(() => new Promise((resolve) => setTimeout(resolve, 5_000)));
    let settled = false;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      async (signal, _timeoutMs, admit) => {
        // A middleware works 300 ms before the request leaves, then waits 5 s for a budget.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await admit();
        admit.sending();
        return waitForAbort(signal);
      },
      noAnswer,
      { admitsLate: true },
    ).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    await advance(5_999);
    expect(settled).toBe(false);
    await advance(1);
    expect(settled).toBe(true);
    expect((await rejection(pending)) as Error).toMatchObject({ name: 'TimeoutError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an attempt admitted at once gets its whole timeoutMs, however long the process has run', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // The process has been up a while: performance.now() is far past timeoutMs.
    vi.advanceTimersByTime(50_000);
    const { limiter } = recordingLimiter();
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      async (signal) => {
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 999)), waitForAbort(signal)]);
        return 'answered';
      },
      noAnswer,
    );
    pending.catch(() => {});
    await advance(999);
    await expect(pending).resolves.toBe('answered');
    // Its timer went with it.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a finished attempt is no longer linked to the caller’s signal', async () => {
    const { limiter } = recordingLimiter();
    const controller = new AbortController();
    let attemptSignal: AbortSignal | undefined;
    await withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      1,
      controller.signal,
      async (signal) => {
        attemptSignal = signal;
        return 'answered';
      },
      noAnswer,
    );
    controller.abort();
    expect(attemptSignal!.aborted).toBe(false);
  });

  it('an attempt admitted late that never admits (a cache answering) still times out at timeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { limiter, events } = recordingLimiter();
    let settled = false;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), maxRetries: 0, timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      (signal) => waitForAbort(signal),
      noAnswer,
      { admitsLate: true },
    ).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    await advance(999);
    expect(settled).toBe(false);
    await advance(1);
    expect(TimeoutError.isInstance(await rejection(pending))).toBe(true);
    expect(events).toEqual([]);
  });
});

describe('withRetries: what the operation is given', () => {
  it('each attempt its own signal and the whole timeoutMs, admitted early or late', async () => {
    for (const admitsLate of [false, true]) {
      const { limiter } = recordingLimiter();
      const given: [AbortSignal, number][] = [];
      const controller = new AbortController();
      await withRetries(
        attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }), timeoutMs: 4_321 }),
        1,
        controller.signal,
        async (signal, timeoutMs) => {
          given.push([signal, timeoutMs]);
          if (given.length === 1) throw new ServerError('busy');
          return 'ok';
        },
        noAnswer,
        { admitsLate },
      );
      expect(given.map(([, timeoutMs]) => timeoutMs)).toEqual([4_321, 4_321]);
      expect(given[0]![0]).not.toBe(controller.signal);
      expect(given[0]![0]).not.toBe(given[1]![0]);
    }
  });
});

describe('withRetries: one admission per attempt', () => {
  it('every admit() of one attempt waits for the same admission: one acquisition, one permit', async () => {
    const { limiter, events } = recordingLimiter();
    await withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      3,
      new AbortController().signal,
      async (_signal, _timeoutMs, admit) => {
        await admit();
        await admit();
        admit.sending();
        return 'two requests';
      },
      noAnswer,
      { admitsLate: true },
    );
    expect(events.map((event) => event.kind)).toEqual(['acquire', 'answered']);
  });

  it('an admission that completes after the attempt was decided gives back what it took', async () => {
    const gate = deferred();
    const { limiter, events } = recordingLimiter(() => gate.promise);
    let admission: Promise<void> | undefined;
    const value = await withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      3,
      new AbortController().signal,
      async (_signal, _timeoutMs, admit) => {
        // A middleware asked for admission, then answered from its cache without waiting for it.
        admission = admit();
        admission.catch(() => {});
        return 'cached';
      },
      noAnswer,
      { admitsLate: true },
    );
    expect(value).toBe('cached');
    gate.resolve();
    const error = await rejection(admission!);
    expect((error as Error).message).toContain('already decided');
    expect(events.map((event) => event.kind)).toEqual(['acquire', 'failed']);
    expect(events[1]).toEqual({ kind: 'failed', outcome: { rateLimited: false, waitMs: 0, unsent: true } });
  });

  it('an admission that completes after the caller’s abort gives back what it took, and nothing is sent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const controller = new AbortController();
    const reason = new Error('stop');
    // A limiter whose wait does not end at the abort (its last few ms run on).
    const { limiter, events } = recordingLimiter(() => new Promise((resolve) => setTimeout(resolve, 20)));
    let sent = 0;
    const pending = withRetries(
      attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
      3,
      controller.signal,
      async (_signal, _timeoutMs, admit) => {
        await admit();
        admit.sending();
        sent++;
        return 'answered';
      },
      noAnswer,
      { admitsLate: true },
    );
    pending.catch(() => {});
    await advance(10);
    controller.abort(reason);
    await advance(10);
    await expect(pending).rejects.toBe(reason);
    expect(sent).toBe(0);
    expect(events.map((event) => event.kind)).toEqual(['acquire', 'failed']);
    expect(events[1]).toEqual({ kind: 'failed', outcome: { rateLimited: false, waitMs: 0, unsent: true } });
  });
});

describe('withRetries: hints that are not a wait', () => {
  // An infinite hint is no longer among these: an error holds at most Number.MAX_VALUE, a wait past reach.
  it('a hint of 0 is waited (not at all); a negative or NaN hint falls back to the jittered backoff', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const { limiter } = recordingLimiter();
    const hints = [0, -1, Number.NaN];
    let attempt = 0;
    await withRetries(
      attemptPolicy({ limiter, clock, maxRetries: 4 }),
      1,
      new AbortController().signal,
      async () => {
        if (attempt < hints.length) throw new ServerError('busy', { retryAfterMs: hints[attempt++]! });
        return 'ok';
      },
      noAnswer,
    );
    // 0.5 x 500 x 2^n for the attempts without a usable hint.
    expect(clock.sleepDurations).toEqual([0, 500, 1_000]);
  });
});

/** A source over `items` that records its reads and its close; `fail(n)` makes the n-th read (1-based) throw. */
function listSource<T>(items: T[], options: { failAt?: number; failure?: unknown } = {}) {
  let reads = 0;
  let closed = 0;
  const source: PoolSource<T> = {
    next() {
      reads++;
      if (reads === options.failAt) throw options.failure;
      return items[reads - 1 - (options.failAt !== undefined && reads > options.failAt ? 1 : 0)];
    },
    close() {
      closed++;
    },
  };
  return {
    source,
    get reads() {
      return reads;
    },
    get closed() {
      return closed;
    },
  };
}

/** Workers the test ends by hand: each records its signal; `settle(item)` resolves or rejects it. */
function handWorkers<T>() {
  const started = new Map<T, { signal: AbortSignal; done: ReturnType<typeof deferred<string>> }>();
  const worker = (item: T, signal: AbortSignal) => {
    const done = deferred<string>();
    started.set(item, { signal, done });
    return done.promise;
  };
  return { started, worker };
}

async function drain<R>(pool: AsyncGenerator<R>): Promise<{ values: R[]; error?: unknown }> {
  const values: R[] = [];
  try {
    for await (const value of pool) values.push(value);
  } catch (error) {
    return { values, error };
  }
  return { values };
}

describe('runPool', () => {
  it('a signal aborted before it starts closes the source, then throws the abort reason', async () => {
    const list = listSource([1, 2]);
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    let calls = 0;
    const outcome = await drain(
      runPool(list.source, { concurrency: 2, signal: controller.signal }, async (item: number) => {
        calls++;
        return item;
      }),
    );
    expect(outcome).toEqual({ values: [], error: reason });
    expect(list.closed).toBe(1);
    expect(list.reads).toBe(0);
    expect(calls).toBe(0);
  });

  it('the caller’s abort reaches every running worker at once, with its reason', async () => {
    const { started, worker } = handWorkers<number>();
    const controller = new AbortController();
    const reason = new Error('gone');
    const pool = runPool(listSource([1, 2]).source, { concurrency: 2, signal: controller.signal }, worker);
    const first = pool.next();
    await until(() => started.size === 2, 'two workers');
    controller.abort(reason);
    // Synchronously: no worker may start a request after the abort.
    expect(started.get(1)!.signal.aborted).toBe(true);
    expect(started.get(2)!.signal.reason).toBe(reason);
    for (const { done } of started.values()) done.reject(reason);
    await expect(first).rejects.toBe(reason);
  });

  it('a worker’s failure aborts its siblings at once, even while the consumer holds a result', async () => {
    const { started, worker } = handWorkers<number>();
    const pool = runPool(listSource([1, 2, 3]).source, { concurrency: 3 }, worker);
    const first = pool.next();
    await until(() => started.size === 3, 'three workers');
    started.get(1)!.done.resolve('one');
    expect(await first).toEqual({ value: 'one', done: false });
    // The consumer is busy with 'one' and does not ask for more; worker 2 fails meanwhile.
    const failure = new Error('worker 2 failed');
    started.get(2)!.done.reject(failure);
    await tick();
    expect(started.get(3)!.signal.aborted).toBe(true);
    started.get(3)!.done.reject(new Error('aborted'));
    await expect(pool.next()).rejects.toBe(failure);
  });

  it('ends with the first failure, not the error a sibling answers its abort with', async () => {
    const first = new Error('first');
    const pool = runPool(listSource([1, 2]).source, { concurrency: 2 }, (item: number, signal) => {
      if (item === 1) return tick().then(() => Promise.reject(first));
      // A sibling that fails at once when aborted, with an error of its own.
      return new Promise<number>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('sibling')), { once: true }),
      );
    });
    const outcome = await drain(pool);
    expect(outcome.error).toBe(first);
  });

  it('a source that throws lets the running workers finish, yields them in order, then throws', async () => {
    const bad = new Error('bad input');
    const list = listSource([1, 2, 3], { failAt: 3, failure: bad });
    const { started, worker } = handWorkers<number>();
    const outcome = drain(runPool(list.source, { concurrency: 3 }, worker));
    await until(() => started.size === 2 && list.reads === 3, 'two workers and the failed read');
    expect(started.get(1)!.signal.aborted).toBe(false);
    started.get(2)!.done.resolve('two');
    started.get(1)!.done.resolve('one');
    expect(await outcome).toEqual({ values: ['one', 'two'], error: bad });
    expect(list.reads).toBe(3);
    expect(list.closed).toBe(1);
  });

  it('a read that completes after the consumer broke off starts nothing', async () => {
    const read = deferred<number | undefined>();
    let reads = 0;
    const source: PoolSource<number> = {
      next: () => (++reads === 1 ? 1 : read.promise),
      close() {},
    };
    const calls: number[] = [];
    const pool = runPool(source, { concurrency: 2 }, async (item: number) => {
      calls.push(item);
      return item;
    });
    expect(await pool.next()).toEqual({ value: 1, done: false });
    await until(() => reads === 2, 'the second read');
    await pool.return(undefined);
    read.resolve(2);
    await tick();
    expect(calls).toEqual([1]);
  });

  it('a read that completes in the moment a worker fails starts nothing', async () => {
    const read = deferred<number | undefined>();
    let reads = 0;
    const source: PoolSource<number> = {
      next: () => (++reads === 1 ? 1 : read.promise),
      close() {},
    };
    const { started, worker } = handWorkers<number>();
    const outcome = drain(runPool(source, { concurrency: 2 }, worker));
    await until(() => started.size === 1 && reads === 2, 'one worker and a pending read');
    const failure = new Error('failed');
    started.get(1)!.done.reject(failure);
    read.resolve(2);
    expect((await outcome).error).toBe(failure);
    expect([...started.keys()]).toEqual([1]);
  });

  it('a read that fails ends the pool only once the source is closed', async () => {
    const bad = new Error('bad read');
    let closed = false;
    const source: PoolSource<number> = {
      next: () => Promise.reject(bad),
      async close() {
        await tick();
        closed = true;
      },
    };
    const outcome = await drain(runPool(source, { concurrency: 2 }, async (item: number) => item));
    expect(outcome).toEqual({ values: [], error: bad });
    expect(closed).toBe(true);
  });

  it('starts no more than `window` items ahead of the consumer, counting finished ones not yet yielded', async () => {
    const { started, worker } = handWorkers<number>();
    const pool = runPool(listSource([1, 2, 3, 4, 5, 6]).source, { concurrency: 5, window: 2 }, worker);
    const first = pool.next();
    await until(() => started.size === 2, 'two workers');
    // Item 2 finishes first: it waits for item 1, and still counts against the window.
    started.get(2)!.done.resolve('two');
    for (let turn = 0; turn < 5; turn++) await tick();
    expect([...started.keys()]).toEqual([1, 2]);
    started.get(1)!.done.resolve('one');
    expect(await first).toEqual({ value: 'one', done: false });
    expect(await pool.next()).toEqual({ value: 'two', done: false });
    const third = pool.next();
    await until(() => started.size === 4, 'two more workers');
    for (let turn = 0; turn < 5; turn++) await tick();
    expect([...started.keys()]).toEqual([1, 2, 3, 4]);
    started.get(3)!.done.resolve('three');
    expect(await third).toEqual({ value: 'three', done: false });
    started.get(4)!.done.resolve('four');
    await pool.return(undefined);
  });

  it('a consumer that breaks off aborts the running workers, waits for them and for the source to close', async () => {
    let closed = false;
    const source: PoolSource<number> = {
      next: (() => {
        let item = 0;
        return () => ++item;
      })(),
      async close() {
        await tick();
        closed = true;
      },
    };
    const ended: number[] = [];
    const signals: AbortSignal[] = [];
    const pool = runPool(source, { concurrency: 3 }, async (item: number, signal) => {
      signals.push(signal);
      if (item === 1) return item;
      await waitForAbort(signal).catch(() => undefined);
      // Its cleanup takes a turn after the abort.
      await tick();
      ended.push(item);
      return item;
    });
    expect(await pool.next()).toEqual({ value: 1, done: false });
    await until(() => signals.length >= 3, 'the workers after the first');
    await pool.return(undefined);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(ended.sort()).toEqual(
      signals
        .map((_, index) => index + 1)
        .filter((item) => item !== 1)
        .sort(),
    );
    expect(closed).toBe(true);
  });

  it('does not wait for a close that waits for a read still pending', async () => {
    const read = deferred<number | undefined>();
    let reads = 0;
    const source: PoolSource<number> = {
      next: () => (++reads === 1 ? 1 : read.promise),
      // Closing this source ends only once its pending read is over.
      close: () => read.promise.then(() => undefined),
    };
    const pool = runPool(source, { concurrency: 2 }, async (item: number) => item);
    expect(await pool.next()).toEqual({ value: 1, done: false });
    await until(() => reads === 2, 'the second read');
    let returned = false;
    void pool.return(undefined).then(() => {
      returned = true;
    });
    await until(() => returned, 'the pool to end');
    read.resolve(undefined);
  });
});

describe('Tally', () => {
  it('keeps warnings that differ only in their setting, and drops exact repeats', () => {
    const seen: Warning[] = [];
    const tally = new Tally((warning) => seen.push(warning), undefined, undefined);
    const dimensions: Warning = { type: 'unsupported-setting', setting: 'dimensions', message: 'ignored' };
    const outputType: Warning = { type: 'unsupported-setting', setting: 'outputType', message: 'ignored' };
    tally.answered({ inputTokens: 1 }, [dimensions, outputType, { ...dimensions }]);
    expect(tally.warnings).toEqual([dimensions, outputType]);
    expect(seen).toEqual([dimensions, outputType]);
  });

  it('reports progress without a total when none is known, with the tokens so far', () => {
    const progress: Progress[] = [];
    const tally = new Tally(undefined, (each) => progress.push(each), undefined);
    tally.answered({ inputTokens: 5 }, []);
    tally.finished(2);
    tally.answered({ inputTokens: 7 }, []);
    tally.finished(3);
    expect(progress).toStrictEqual([
      { completedInputs: 2, inputTokens: 5 },
      { completedInputs: 5, inputTokens: 12 },
    ]);
  });
});

describe('runJob', () => {
  it('charges each call the tokens of all its items, halves included', async () => {
    const { limiter, events } = recordingLimiter();
    const tally = new Tally(undefined, undefined, 3);
    const batches: Batch<string>[] = [{ offset: 0, items: ['a', 'b', 'c'], tokens: [3, 4, 5] }];
    const source: PoolSource<Batch<string>> = { next: () => batches.shift(), close() {} };
    const calls: string[][] = [];
    const results: string[][] = [];
    for await (const done of runJob<string, string[]>({
      basics: {
        policy: attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
        concurrency: 1,
        counter: { exact: false, count: () => 1 },
      },
      adapter: {
        async call(batch) {
          calls.push(batch.items);
          if (batch.items.length === 3) throw new InvalidRequestError('too large', { batchTooLarge: true });
          return { value: batch.items, answer: { response: { status: 200, headers: {} } } };
        },
        join: (first, second) => [...first, ...second],
      },
      source,
      tally,
    }))
      results.push(done.value);
    expect(calls).toEqual([['a', 'b', 'c'], ['a', 'b'], ['c']]);
    expect(results).toEqual([['a', 'b', 'c']]);
    const charged = events.flatMap((event) => (event.kind === 'acquire' ? [event.request.tokens] : []));
    expect(charged).toEqual([12, 7, 5]);
  });

  /** Runs one job over `batches` with `adapter`, on a recording limiter; the values and what went wrong. */
  async function runBatches(batches: Batch<string>[], adapter: JobAdapter<string, string[]>) {
    const recording = recordingLimiter();
    const source: PoolSource<Batch<string>> = { next: () => batches.shift(), close() {} };
    const values: string[][] = [];
    let error: unknown;
    try {
      for await (const done of runJob<string, string[]>({
        basics: {
          policy: attemptPolicy({ limiter: recording.limiter, clock: new VirtualClock({ random: [0] }) }),
          concurrency: 1,
          counter: { exact: false, count: () => 1 },
        },
        adapter,
        source,
        tally: new Tally(undefined, undefined, undefined),
      }))
        values.push(done.value);
    } catch (caught) {
      error = caught;
    }
    return { values, error, events: recording.events };
  }

  it('tells the limiter the tokens the API reported and its response headers', async () => {
    const { events } = await runBatches([{ offset: 0, items: ['a'], tokens: [1] }], {
      call: async (batch) => ({
        value: batch.items,
        answer: {
          usage: { inputTokens: 9 },
          response: { status: 200, headers: { 'x-ratelimit-remaining': '4' } },
        },
      }),
      join: (first, second) => [...first, ...second],
    });
    expect(events.at(-1)).toEqual({
      kind: 'answered',
      outcome: { reportedTokens: 9, headers: { 'x-ratelimit-remaining': '4' } },
    });
  });

  it('an adapter that admits late and never sends is not admitted at all', async () => {
    const { values, events } = await runBatches([{ offset: 0, items: ['a'], tokens: [1] }], {
      admitsLate: true,
      call: async (batch) => ({ value: batch.items, answer: { response: { status: 200, headers: {} } } }),
      join: (first, second) => [...first, ...second],
    });
    expect(values).toEqual([['a']]);
    expect(events).toEqual([]);
  });

  it('a single item refused as too large is not split: one call, the API’s error', async () => {
    const tooLarge = new InvalidRequestError('too large', { batchTooLarge: true });
    let calls = 0;
    const { error } = await runBatches([{ offset: 0, items: ['a'], tokens: [1] }], {
      call: async () => {
        calls++;
        if (calls > 3) throw new AuthenticationError('stop');
        throw tooLarge;
      },
      join: (first, second) => [...first, ...second],
    });
    expect(error).toBe(tooLarge);
    expect(calls).toBe(1);
  });

  it('keeps one response per call unless its tally keeps no lists, and starts no batch beyond its window', async () => {
    for (const keeps of [undefined, false]) {
      const { limiter } = recordingLimiter();
      const tally = new Tally(undefined, undefined, undefined, keeps);
      const batches: Batch<string>[] = [
        { offset: 0, items: ['a'], tokens: [1] },
        { offset: 1, items: ['b'], tokens: [1] },
      ];
      const called: string[] = [];
      const job = runJob<string, string[]>({
        basics: {
          policy: attemptPolicy({ limiter, clock: new VirtualClock({ random: [0] }) }),
          concurrency: 2,
          counter: { exact: false, count: () => 1 },
        },
        adapter: {
          async call(batch) {
            called.push(batch.items[0]!);
            return {
              value: batch.items,
              answer: { response: { status: 200, headers: {}, requestId: batch.items[0]! } },
            };
          },
          join: (first, second) => [...first, ...second],
        },
        source: { next: () => batches.shift(), close() {} },
        tally,
        window: 1,
      });
      expect((await job.next()).value?.value).toEqual(['a']);
      for (let turn = 0; turn < 5; turn++) await tick();
      // The consumer holds batch 0: with a window of 1, batch 1 has not started.
      expect(called).toEqual(['a']);
      expect((await job.next()).value?.value).toEqual(['b']);
      expect((await job.next()).done).toBe(true);
      expect(tally.responses.map((response) => response.requestId)).toEqual(
        keeps === false ? [] : ['a', 'b'],
      );
    }
  });
});
