/**
 * How `embedStream` ends while its source is idle: a read of the source is still pending (a person has
 * not typed the next line yet) when the consumer breaks, a call fails or the caller aborts. The stream must
 * end at once, leave no timer behind, and keep no list that grows with every call it makes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { Tally } from '../src/engine/runner.js';
import { AuthenticationError } from '../src/errors.js';
import {
  type Deferred,
  deferred,
  numberedInputs,
  ScriptedModel,
  tick,
  until,
  waitForAbort,
} from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const TIMED_OUT = Symbol('timed out');

/**
 * The promise's outcome, or TIMED_OUT when it has not settled after `ms` of real time. A stream that hangs
 * thus fails its test with a clear message instead of reaching the runner's own timeout.
 */
async function within<T>(promise: Promise<T>, ms = 2_000): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a stream that yields nothing ends: its error, or 'ended without error'. */
async function endOf(stream: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of stream) {
      // Only the end matters.
    }
    return 'ended without error';
  } catch (error) {
    return error;
  }
}

/**
 * Waits in real time until `predicate` holds, for at most 2 s: the idle flush runs on a real timer, which
 * `until` (a count of event-loop turns) may not outlast.
 */
async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * An async source that gives `inputs`, then waits for `gate` (a next line that has not come yet) and gives
 * one more input. `state.closed` tells whether it ran its cleanup.
 */
function idleSource(inputs: string[], gate: Deferred<void>, cleanup?: () => void) {
  const state = { closed: false };
  async function* source(): AsyncGenerator<string> {
    try {
      yield* inputs;
      await gate.promise;
      yield 'late';
    } finally {
      state.closed = true;
      cleanup?.();
    }
  }
  return { inputs: source(), state };
}

/** Lets the event loop turn a few times, so late settlements and unhandled rejections show. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await tick();
}

describe('embedStream ends while a read of an idle source is pending', () => {
  it.each([
    ['concurrency 1', { concurrency: 1 }, {}],
    ['a model without parallel calls', {}, { supportsParallelCalls: false }],
  ])(
    'when the consumer breaks (%s), and the source finishes once its read settles',
    async (_name, settings, capabilities) => {
      const gate = deferred();
      const source = idleSource(['0'], gate);
      const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10, ...capabilities } });
      const seen: number[] = [];
      const run = (async () => {
        for await (const item of embedStream({
          model,
          inputs: source.inputs,
          flushAfterMs: 0,
          ...settings,
        })) {
          seen.push(item.index);
          break;
        }
        return 'ended';
      })();
      const outcome = await within(run);
      gate.resolve();
      expect(outcome).toBe('ended');
      expect(seen).toEqual([0]);
      // The input the pending read brings after the end is not embedded, and the source still runs its cleanup.
      await until(() => source.state.closed, 'the source to be closed');
      await run;
      expect(model.callInputs).toEqual([['0']]);
      expect(model.inFlight).toBe(0);
    },
  );

  it('when a call fails, with that error', async () => {
    const gate = deferred();
    const source = idleSource(['0'], gate);
    const failure = new AuthenticationError('revoked');
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 10 },
      respond: () => {
        throw failure;
      },
    });
    // Nothing is yielded: the only call fails.
    const run = endOf(
      embedStream({ model, inputs: source.inputs, flushAfterMs: 0, concurrency: 1, maxRetries: 0 }),
    );
    const outcome = await within(run);
    gate.resolve();
    expect(outcome).toBe(failure);
    await until(() => source.state.closed, 'the source to be closed');
    await run;
  });

  it('when the caller aborts, with the native AbortError', async () => {
    const gate = deferred();
    const source = idleSource(['0'], gate);
    const controller = new AbortController();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 10 },
      respond: (call) => waitForAbort(call.request.signal),
    });
    // Nothing is yielded: the only call waits for the abort.
    const run = endOf(
      embedStream({
        model,
        inputs: source.inputs,
        flushAfterMs: 0,
        concurrency: 1,
        signal: controller.signal,
      }),
    );
    await eventually(() => model.calls.length === 1, 'the idle flush to send the call');
    controller.abort();
    const outcome = await within(run);
    gate.resolve();
    expect(outcome).not.toBe(TIMED_OUT);
    expect((outcome as Error).name).toBe('AbortError');
    await until(() => source.state.closed, 'the source to be closed');
    await run;
    expect(model.inFlight).toBe(0);
  });

  // An unhandled rejection fails the test (the shared setup, vitest.unhandled-errors.ts).
  it('and a read or a cleanup that fails after the end raises no unhandled rejection', async () => {
    // The pending read fails after the consumer broke.
    const failingRead = deferred();
    const first = idleSource(['0'], failingRead);
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const firstRun = (async () => {
      for await (const _ of embedStream({ model, inputs: first.inputs, flushAfterMs: 0, concurrency: 1 })) {
        break;
      }
      return 'ended';
    })();
    const firstOutcome = await within(firstRun);
    failingRead.reject(new Error('the source failed after the end'));
    expect(firstOutcome).toBe('ended');
    await until(() => first.state.closed, 'the first source to be closed');

    // The read succeeds after the consumer broke, and the source's cleanup then fails.
    const gate = deferred();
    const second = idleSource(['0'], gate, () => {
      throw new Error('the cleanup failed');
    });
    const secondRun = (async () => {
      for await (const _ of embedStream({
        model,
        inputs: second.inputs,
        flushAfterMs: 0,
        concurrency: 1,
      })) {
        break;
      }
      return 'ended';
    })();
    const secondOutcome = await within(secondRun);
    gate.resolve();
    expect(secondOutcome).toBe('ended');
    await until(() => second.state.closed, 'the second source to be closed');
    await settle();
  });
});

describe('embedStream leaves nothing behind', () => {
  it('clears the idle-flush timer when the consumer breaks while the source is idle', async () => {
    // A distinctive delay, to tell the idle-flush timer from every other timer.
    const flushAfterMs = 54_321;
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    const idleTimers = () =>
      setSpy.mock.calls.flatMap((call, index) =>
        call[1] === flushAfterMs ? [setSpy.mock.results[index]!.value as unknown] : [],
      );
    const running = () => {
      const cleared = new Set(clearSpy.mock.calls.map((call) => call[0] as unknown));
      return idleTimers().filter((timer) => !cleared.has(timer));
    };
    const gate = deferred();
    // [0, 1] fills a call; '2' opens the next, whose wait for more arms the timer.
    const source = idleSource(['0', '1', '2'], gate);
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: async () => {
        await until(() => running().length === 1, 'the idle-flush timer');
        return undefined;
      },
    });
    const seen: number[] = [];
    const run = (async () => {
      for await (const item of embedStream({ model, inputs: source.inputs, flushAfterMs, concurrency: 2 })) {
        seen.push(item.index);
        break;
      }
      return 'ended';
    })();
    const outcome = await within(run);
    const left = running();
    gate.resolve();
    expect(outcome).toBe('ended');
    expect(seen).toEqual([0]);
    expect(idleTimers().length).toBeGreaterThan(0);
    // Left running, a timer would keep the process alive for flushAfterMs after the stream ended.
    expect(left).toEqual([]);
    await until(() => source.state.closed, 'the source to be closed');
    await run;
  });

  it('keeps no response per call for a stream, while embedMany still returns one per call', async () => {
    // The tally of each job, caught as it counts a finished call.
    const finished = vi.spyOn(Tally.prototype, 'finished');
    const tallies = () => [...new Set(finished.mock.contexts)] as Tally[];

    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    let count = 0;
    for await (const _ of embedStream({ model, inputs: numberedInputs(50), concurrency: 3 })) count++;
    expect(count).toBe(50);
    expect(model.calls).toHaveLength(50);
    expect(tallies()).toHaveLength(1);
    // A list that grew by one entry per call would grow without bound over an endless stream.
    expect(tallies()[0]!.responses).toHaveLength(0);

    const many = await embedMany({ model, inputs: numberedInputs(5), concurrency: 1 });
    expect(many.responses.map((response) => response.requestId)).toEqual([
      'req-51',
      'req-52',
      'req-53',
      'req-54',
      'req-55',
    ]);
    expect(tallies()).toHaveLength(2);
  });
});

describe('embedStream left while a read that finished after an idle flush waits to be picked up', () => {
  it('a consumer that breaks gets the source’s return() error, as when no read is outstanding', async () => {
    // '0' at once; '1' and '2' each once their gate opens (lines typed later). return() fails.
    const gates = [deferred(), deferred()];
    let reads = 0;
    let returned = 0;
    const inputs: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<string>> => {
          const index = reads++;
          if (index > 0) await gates[index - 1]!.promise;
          return { value: String(index), done: false };
        },
        return: async (): Promise<IteratorResult<string>> => {
          returned++;
          throw new Error('the file could not be closed');
        },
      }),
    };
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const seen: number[] = [];
    const run = (async () => {
      try {
        for await (const item of embedStream({ model, inputs, flushAfterMs: 0, concurrency: 1 })) {
          seen.push(item.index);
          // '1' arrives and is flushed alone once the read of '2' waits; with [0] held and [1] sent, the
          // window of two results is full, so the read of '2', finished below, is not picked up.
          gates[0]!.resolve();
          await eventually(() => model.calls.length === 2, 'the idle flush of [1]');
          gates[1]!.resolve();
          await settle();
          break;
        }
        return 'ended without error';
      } catch (error) {
        return error;
      }
    })();
    const outcome = await within(run);
    expect((outcome as Error).message).toBe('the file could not be closed');
    expect(seen).toEqual([0]);
    expect(model.callInputs).toEqual([['0'], ['1']]);
    expect(reads).toBe(3);
    expect(returned).toBe(1);
  });
});
