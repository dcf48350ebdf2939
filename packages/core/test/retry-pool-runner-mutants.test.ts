/**
 * Behaviour of the engine's attempt loop, pool and job runner pinned to exact numbers: how much of an
 * attempt's timeout is left after a late admission (the time before it counts, the wait for a budget
 * does not), the fewest items the API refused as too large being kept across calls that were in flight
 * together, and how the default token estimate counts text without Node's Buffer. Real timers the
 * engine uses (the attempt timeout) are faked; backoff runs on the virtual clock.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, sleep, systemClock } from '../src/engine/clock.js';
import { embedMany } from '../src/engine/embed.js';
import type { LimiterPermit, LimiterRequest, RateLimiter } from '../src/engine/limiter.js';
import { runPool } from '../src/engine/pool.js';
import { withRetries } from '../src/engine/retry.js';
import type { Progress } from '../src/engine/settings.js';
import { untilAborted, watchCount, whenAborted } from '../src/engine/signal.js';
import { InvalidRequestError, TimeoutError } from '../src/errors.js';
import type { EmbedResponse, Warning } from '../src/types.js';
import {
  attemptPolicy,
  deferred,
  invalidResponseOf,
  noAnswer,
  numberedInputs,
  rejection,
  ScriptedModel,
  tick,
  until,
  VirtualClock,
  vectorFor,
  waitForAbort,
} from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** A limiter that admits every attempt after `gate` (at once without one) and records what it is asked. */
function gatedLimiter(gate?: () => Promise<void>) {
  const acquired: LimiterRequest[] = [];
  const limiter: RateLimiter = {
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    async acquire(request: LimiterRequest): Promise<LimiterPermit> {
      acquired.push(request);
      await gate?.();
      return { async answered() {}, async failed() {} };
    },
  };
  return { limiter, acquired };
}

/** Advances the faked timers by `ms` and lets what they woke settle. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await tick();
}

describe('an attempt admitted late keeps the time it used before admission, not the wait', () => {
  it('300 ms of middleware work, a 5 s wait for a budget, then the model: it times out 700 ms after admission', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // The process has run a while: the attempt starts at a clock reading far from zero.
    await advance(10_000);
    const { limiter } = gatedLimiter(() => new Promise((resolve) => setTimeout(resolve, 5_000)));
    let admittedAt: number | undefined;
    let settled = false;
    const pending = withRetries(
      attemptPolicy({ maxRetries: 0, limiter, clock: new VirtualClock({ random: [0] }), timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      async (_signal, _timeoutMs, admit) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await admit();
        admit.sending();
        admittedAt = performance.now();
        return new Promise<never>(() => {});
      },
      noAnswer,
      { admitsLate: true },
    ).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    await advance(5_300);
    expect(admittedAt).toBe(15_300);
    await advance(699);
    expect(settled).toBe(false);
    await advance(1);
    // Left 100 ms after the timeout: the model ignores its signal.
    await advance(100);
    expect(settled).toBe(true);
    const error = await rejection(pending);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).message).toBe('p model m did not answer within 1000 ms (timeoutMs).');
  });

  it('a model answering 900 ms after an immediate late admission, under a 1,000 ms timeout, is answered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    await advance(10_000);
    const { limiter } = gatedLimiter();
    const pending = withRetries(
      attemptPolicy({ maxRetries: 0, limiter, clock: new VirtualClock({ random: [0] }), timeoutMs: 1_000 }),
      1,
      new AbortController().signal,
      async (_signal, _timeoutMs, admit) => {
        await admit();
        admit.sending();
        await new Promise((resolve) => setTimeout(resolve, 900));
        return 'answer';
      },
      noAnswer,
      { admitsLate: true },
    );
    pending.catch(() => {});
    await advance(900);
    await expect(pending).resolves.toBe('answer');
  });
});

describe('the fewest items refused as too large holds for the rest of the job', () => {
  it('after a call of 2 was refused, later calls of 2 go out as single inputs', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: (call) => {
        if (call.inputs.length > 1) throw new InvalidRequestError('batch too large', { batchTooLarge: true });
        return undefined;
      },
    });
    const result = await embedMany({ model, inputs: numberedInputs(6), concurrency: 1 });
    expect(model.callInputs).toEqual([['0', '1'], ['0'], ['1'], ['2'], ['3'], ['4'], ['5']]);
    expect(result.embeddings).toEqual(numberedInputs(6).map((input) => vectorFor(input)));
  });

  it('a larger call refused after a smaller one, both in flight together, does not raise the size halved up front', async () => {
    // The server takes at most 3 inputs. Batches of 8 and 4 go out together; the 4 is refused first,
    // then the 8. The 8's first half of 4 is as large as the smallest refusal: it goes out as two 2s.
    const eightRefused = deferred();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 8 },
      respond: async (call) => {
        if (call.number === 1) {
          await eightRefused.promise;
          throw new InvalidRequestError('batch too large', { batchTooLarge: true });
        }
        if (call.inputs.length > 3) throw new InvalidRequestError('batch too large', { batchTooLarge: true });
        return undefined;
      },
    });
    const pending = embedMany({ model, inputs: numberedInputs(12), concurrency: 2 });
    // The 4's halves answered: only then is the 8 refused.
    await until(() => model.calls.length === 4, 'the second batch bisected and answered');
    eightRefused.resolve();
    const result = await pending;
    expect(model.callInputs).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7'],
      ['8', '9', '10', '11'],
      ['8', '9'],
      ['10', '11'],
      ['0', '1'],
      ['2', '3'],
      ['4', '5'],
      ['6', '7'],
    ]);
    expect(result.embeddings).toHaveLength(12);
    expect(result.responses).toHaveLength(6);
  });
});

describe('the clock', () => {
  it('reads the process start plus the monotonic time since, not the wall clock', () => {
    vi.spyOn(performance, 'now').mockReturnValue(1_000_000_000);
    expect(systemClock.now()).toBe(performance.timeOrigin + 1_000_000_000);
  });

  it('a sleep of 0 ms, a negative one or NaN resolves without a timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    for (const ms of [0, -5, Number.NaN]) {
      let done = false;
      const slept = sleep(ms, new AbortController().signal).then(() => {
        done = true;
      });
      expect(vi.getTimerCount()).toBe(0);
      await slept;
      expect(done).toBe(true);
    }
    const oneMs = sleep(1);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await oneMs;
  });

  it('a sleep on a signal that already aborted rejects at once with its reason, whatever its length', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const reason = new Error('stopped');
    const signal = AbortSignal.abort(reason);
    await expect(sleep(5, signal)).rejects.toBe(reason);
    await expect(sleep(0, signal)).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a sleep stops watching its signal when it ends or it aborts, and holds no timer after an abort', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const slept = sleep(5, controller.signal);
    expect(watchCount(controller.signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(5);
    await slept;
    expect(watchCount(controller.signal)).toBe(0);
    const aborted = sleep(5, controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
    expect(watchCount(controller.signal)).toBe(0);
  });

  it('a sleep longer than a timer can hold waits the longest one, 2^31 - 1 ms', async () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let done = false;
    const slept = sleep(Number.MAX_SAFE_INTEGER).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await slept;
    expect(done).toBe(true);
  });
});

describe('the default token estimate without Node’s Buffer', () => {
  it('counts UTF-8 bytes at every encoding edge as Buffer does, surrogate pairs as 4 and a lone surrogate as 3', async () => {
    const expected = (text: string) => Buffer.byteLength(text, 'utf8');
    const texts = [
      '',
      'a',
      '\u007f',
      '\u0080',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ud800\udc00',
      '\udbff\udfff',
      '\ue000',
      '\uffff',
      'aé€😀',
      '\ud800',
      '\udc00',
      'a\udbffb',
      '\udc00\ud800',
      '\udc00\udc00',
      '\ud800\ud800\udc00',
      '😀\ud83d',
    ];
    const lengths = texts.map(expected);
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    const fresh = await import('../src/engine/token-counter.js');
    expect(texts.map((text) => fresh.utf8Length(text))).toEqual(lengths);
    expect(lengths).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 10, 3, 3, 5, 6, 6, 7, 7]);
    expect(fresh.estimateTokenCounter.count('aé€😀')).toBe(5);
  });
});

describe('the pool', () => {
  it.each([false, true])(
    'starts no worker for an item read after the caller aborted (finishEarlier: %s)',
    async (finishEarlier) => {
      // Bug: with finishEarlier, an item whose read settled in the tick of the abort started a worker with
      // a signal of its own, not aborted: a request could leave after the caller had given up.
      const outer = new AbortController();
      let release: (item: number) => void = () => {};
      const reads = [1, () => new Promise<number>((resolve) => (release = resolve))];
      const started: string[] = [];
      const pool = runPool(
        {
          next: () => {
            const read = reads.shift();
            return typeof read === 'function' ? read() : read;
          },
          close: () => {},
        },
        { concurrency: 2, signal: outer.signal, finishEarlier },
        async (item, signal) => {
          started.push(`${item}: ${signal.aborted ? 'aborted' : 'live'}`);
          if (item === 1) {
            // Once item 2's read is pending: it settles, and the caller aborts in the same tick.
            await new Promise((resolve) => setTimeout(resolve, 0));
            release(2);
            outer.abort(new Error('caller gave up'));
          }
          await waitForAbort(signal).catch(() => {});
          return item;
        },
      );
      await expect(
        (async () => {
          for await (const _ of pool);
        })(),
      ).rejects.toThrow('caller gave up');
      expect(started).toEqual(['1: live']);
    },
  );

  it('a consumer that stops after one result aborts the one worker still running, and waits for it before closing the source', async () => {
    const events: string[] = [];
    const items = [1, 2];
    const pool = runPool(
      {
        next: () => items.shift(),
        close: () => {
          events.push('source closed');
        },
      },
      { concurrency: 2 },
      async (item, signal) => {
        if (item === 1) return item;
        events.push(`worker ${item} started`);
        await waitForAbort(signal).catch((reason: unknown) => {
          events.push(`worker ${item} aborted: ${String(reason)}`);
        });
        events.push(`worker ${item} ended`);
        return item;
      },
    );
    for await (const value of pool) {
      expect(value).toBe(1);
      expect(events).toEqual(['worker 2 started']);
      break;
    }
    expect(events).toEqual([
      'worker 2 started',
      'worker 2 aborted: Symbol(embedkit.sibling-failed)',
      'worker 2 ended',
      'source closed',
    ]);
  });

  it('keeps no result it has yielded: a long stream holds only what is not yet yielded', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const items = [1, 2, 3];
    const pool = runPool(
      { next: () => items.shift(), close: () => {} },
      { concurrency: 1 },
      async (item) => ({ item }),
    );
    let first: IteratorResult<{ item: number }> | undefined = await pool.next();
    const held = new WeakRef(first.value as object);
    expect(first.value).toEqual({ item: 1 });
    // The pool is mid-stream: two more results are still to come.
    await pool.next();
    first = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(held.deref()).toBeUndefined();
    expect(await pool.next()).toEqual({ done: false, value: { item: 3 } });
    expect(await pool.next()).toEqual({ done: true, value: undefined });
  });
});

describe('a job’s warnings', () => {
  it('are kept once each by type, setting and message: the same words about two settings are two warnings', async () => {
    const aboutDimensions = {
      type: 'unsupported-setting',
      setting: 'dimensions',
      message: 'ignored',
    } as const;
    const aboutOutputType = {
      type: 'unsupported-setting',
      setting: 'outputType',
      message: 'ignored',
    } as const;
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => ({
        embeddings: call.inputs.map((input) => vectorFor(input)),
        warnings: [aboutDimensions, aboutOutputType],
        response: { status: 200, headers: {} },
      }),
    });
    const seen: Warning[] = [];
    const result = await embedMany({
      model,
      inputs: ['1', '2'],
      concurrency: 1,
      onWarning: (warning) => seen.push(warning),
    });
    expect(result.warnings).toEqual([aboutDimensions, aboutOutputType]);
    expect(seen).toEqual([aboutDimensions, aboutOutputType]);
  });
});

describe('a job’s progress', () => {
  it('says no token count, not an undefined one, when the model reports no usage', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 }, usage: false });
    const progress: Progress[] = [];
    const result = await embedMany({
      model,
      inputs: numberedInputs(3),
      concurrency: 1,
      onProgress: (each) => progress.push(each),
    });
    expect(result.usage).toBeUndefined();
    expect(progress).toStrictEqual([
      { completedInputs: 2, totalInputs: 3 },
      { completedInputs: 3, totalInputs: 3 },
    ]);
    expect(progress.map((each) => Object.keys(each))).toEqual([
      ['completedInputs', 'totalInputs'],
      ['completedInputs', 'totalInputs'],
    ]);
  });
});

describe('a model’s answer without response details', () => {
  const respondWith = (response: unknown) =>
    new ScriptedModel({
      respond: (call) =>
        ({
          embeddings: call.inputs.map((input) => vectorFor(input)),
          warnings: [],
          ...(response === undefined ? {} : { response }),
        }) as unknown as EmbedResponse,
    });

  it.each([
    [undefined, 'no response information (status and headers)'],
    [null, 'no response information (status and headers)'],
    [{ headers: {} }, 'response information without an HTTP status (its status: nothing)'],
    [
      { status: '200', headers: {} },
      'response information without an HTTP status (its status: a string of 3 characters)',
    ],
    [{ status: 200 }, 'response information without headers'],
    [{ status: 200, headers: null }, 'response information without headers'],
  ])(
    '%j is refused, not handed to the caller as the call’s response (bug: undefined in responses)',
    async (response, problem) => {
      const model = respondWith(response);
      const error = await invalidResponseOf(embedMany({ model, inputs: ['1', '2'], concurrency: 1 }));
      expect(error.message).toBe(`scripted returned ${problem}.`);
      expect(error.provider).toBe('scripted');
      // Not retried: the same answer would come back.
      expect(model.calls).toHaveLength(1);
    },
  );

  it('a status and headers are all it takes', async () => {
    const model = respondWith({ status: 200, headers: {} });
    const result = await embedMany({ model, inputs: ['1', '2'], concurrency: 1 });
    expect(result.embeddings).toEqual([vectorFor('1'), vectorFor('2')]);
    expect(result.responses).toEqual([{ status: 200, headers: {} }]);
  });
});

describe('waits raced against an abort', () => {
  it('a wait on a signal that already aborted rejects at once with its reason, watching nothing', async () => {
    const reason = new Error('stopped');
    const signal = AbortSignal.abort(reason);
    await expect(untilAborted(new Promise<never>(() => {}), signal)).rejects.toBe(reason);
    expect(watchCount(signal)).toBe(0);
  });

  it('a wait that ends by itself stops watching the signal', async () => {
    const controller = new AbortController();
    await expect(untilAborted(Promise.resolve('stored'), controller.signal)).resolves.toBe('stored');
    expect(watchCount(controller.signal)).toBe(0);
  });

  // An unhandled rejection fails the test (the shared setup, vitest.unhandled-errors.ts).
  it('an abort of a watch whose promise nobody raced yet is no unhandled rejection', async () => {
    const controller = new AbortController();
    const watch = whenAborted(controller.signal);
    controller.abort(new Error('stopped'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    watch.stop();
  });
});
