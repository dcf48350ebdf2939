/**
 * Faults injected into `embedStream`, `embedMany` and the runner under them: sources that fail, stall or
 * never end, consumers that stop, aborts at every stage, 429s shared by the workers, refused calls among
 * calls in flight, bad inputs, and a stream long enough that anything kept per call would show. An unhandled
 * rejection raised while a test runs fails it (the shared setup, vitest.unhandled-errors.ts, sees to that).
 */
import { describe, expect, it, vi } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { Tally } from '../src/engine/runner.js';
import { watchCount } from '../src/engine/signal.js';
import {
  AuthenticationError,
  InvalidArgumentError,
  InvalidResponseError,
  RateLimitError,
  ServerError,
} from '../src/errors.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import type { EmbedInput, Warning } from '../src/types.js';
import {
  deferred,
  errorOf,
  exactCharacters,
  indices,
  numberedInputs,
  ScriptedModel,
  settle,
  streamEnd,
  tick,
  until,
  VirtualClock,
  vectorFor,
  waitForAbort,
} from './helpers.js';

/** Every job's tally, as the engine made it: what a stream keeps is read from its own structures. */
const tallies = vi.hoisted(() => [] as unknown[]);
vi.mock('../src/engine/runner.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/engine/runner.js')>();
  class RecordedTally extends original.Tally {
    constructor(...args: ConstructorParameters<typeof original.Tally>) {
      super(...args);
      tallies.push(this);
    }
  }
  return { ...original, Tally: RecordedTally };
});

/** An async source that records its reads and whether it was returned. */
function recordedSource(
  produce: (index: number) => Promise<string | undefined> | string | undefined,
): AsyncIterable<string> & { reads: number; returned: number } {
  const source = {
    reads: 0,
    returned: 0,
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<string>> => {
        const index = source.reads++;
        const value = await produce(index);
        return value === undefined ? { value: undefined, done: true } : { value, done: false };
      },
      return: async (): Promise<IteratorResult<string>> => {
        source.returned++;
        return { value: undefined, done: true };
      },
    }),
  };
  return source;
}

describe('embedStream over a slow source while calls fail and are retried', () => {
  it('yields 0..9 in order, each call retried once after its 503, and ends with the source’s error', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const failure = new Error('the socket closed');
    const source = recordedSource(async (index) => {
      await tick();
      if (index === 10) throw failure;
      return String(index);
    });
    const failedOnce = new Set<string>();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 3 },
      respond: (call) => {
        const key = call.inputs.join(',');
        if (failedOnce.has(key)) return undefined;
        failedOnce.add(key);
        throw new ServerError('busy', { statusCode: 503 });
      },
    });
    const seen: number[] = [];
    const end = await streamEnd(
      embedStream({ model, inputs: source, concurrency: 2, clock, flushAfterMs: 60_000 }),
      seen,
    );
    expect(end).toBe(failure);
    expect(seen).toEqual(indices(10));
    // Every call twice: its 503, then its retry; the last input alone, sent once the source failed.
    expect(model.callInputs).toEqual(
      [['0', '1', '2'], ['3', '4', '5'], ['6', '7', '8'], ['9']].flatMap((inputs) => [inputs, inputs]),
    );
    // The source ended by itself: it is not returned.
    expect(source.returned).toBe(0);
    expect(source.reads).toBe(11);
  });
});

describe('embedStream over a source that never ends, left by its consumer', () => {
  it('break aborts the calls in flight, returns the source once and reads nothing more', async () => {
    let returned = 0;
    let read = 0;
    async function* endless(): AsyncGenerator<string> {
      try {
        for (;;) {
          await tick();
          yield String(read++);
        }
      } finally {
        returned++;
      }
    }
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => (call.inputs[0] === '0' ? undefined : waitForAbort(call.request.signal)),
    });
    const seen: number[] = [];
    for await (const item of embedStream({ model, inputs: endless(), concurrency: 3 })) {
      seen.push(item.index);
      await until(() => model.inFlight === 3, 'three calls in flight');
      break;
    }
    expect(seen).toEqual([0]);
    expect(model.inFlight).toBe(0);
    expect(model.calls.slice(1).map((call) => call.request.signal?.aborted)).toEqual([true, true, true]);
    expect(returned).toBe(1);
    const readAtBreak = read;
    await settle();
    expect(read).toBe(readAtBreak);
    expect(model.calls).toHaveLength(4);
  });
});

describe('embedStream’s concurrency while calls fail and are retried', () => {
  it('30 calls, each refused once by a 503 then answered: exactly 3 in flight at most, and 3 reached', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const refused = new Set<string>();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        // Each call takes a few turns, so that calls overlap.
        for (let turn = 0; turn < 1 + (call.number % 3); turn++) await tick();
        if (refused.has(call.inputs[0]!)) return undefined;
        refused.add(call.inputs[0]!);
        throw new ServerError('busy', { statusCode: 503 });
      },
    });
    const seen: number[] = [];
    expect(
      await streamEnd(embedStream({ model, inputs: numberedInputs(30), concurrency: 3, clock }), seen),
    ).toBe('ended without error');
    expect(seen).toEqual(indices(30));
    expect(model.calls).toHaveLength(60);
    expect(model.maxInFlight).toBe(3);
  });
});

describe('embedStream left by a consumer that throws', () => {
  it('the consumer’s own error comes out of its loop, the calls in flight are aborted and the source returned', async () => {
    const mine = new Error('the consumer’s disk is full');
    const source = recordedSource((index) => String(index));
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => (call.inputs[0] === '0' ? undefined : waitForAbort(call.request.signal)),
    });
    let caught: unknown;
    try {
      for await (const item of embedStream({ model, inputs: source, concurrency: 2 })) {
        expect(item.index).toBe(0);
        await until(() => model.inFlight === 2, 'two calls in flight');
        throw mine;
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(mine);
    expect(model.inFlight).toBe(0);
    expect(model.calls.slice(1).map((call) => call.request.signal?.aborted)).toEqual([true, true]);
    expect(source.returned).toBe(1);
    const reads = source.reads;
    await settle();
    expect(source.reads).toBe(reads);
  });
});

describe('embedStream and the caller’s abort', () => {
  it('fired between calls, while the consumer holds a result: the next step throws it, nothing more is sent', async () => {
    const controller = new AbortController();
    const source = recordedSource((index) => (index < 6 ? String(index) : undefined));
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const iterator = embedStream({ model, inputs: source, concurrency: 1, signal: controller.signal })[
      Symbol.asyncIterator
    ]();
    expect((await iterator.next()).value).toEqual({ index: 0, embedding: vectorFor('0') });
    await settle();
    const calls = model.calls.length;
    controller.abort();
    const error = await iterator.next().then(
      () => 'no error',
      (caught: unknown) => caught,
    );
    expect((error as Error).name).toBe('AbortError');
    await settle();
    expect(model.calls).toHaveLength(calls);
    expect(source.returned).toBe(1);
    expect(watchCount(controller.signal)).toBe(0);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('fired after the last result, once the stream is done: nothing happens and nothing watches the signal', async () => {
    const controller = new AbortController();
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const seen: number[] = [];
    expect(
      await streamEnd(embedStream({ model, inputs: numberedInputs(5), signal: controller.signal }), seen),
    ).toBe('ended without error');
    expect(watchCount(controller.signal)).toBe(0);
    controller.abort();
    expect(seen).toEqual(indices(5));
  });

  it('fired once the last result is out, before the stream said it was done: the next step throws it', async () => {
    const controller = new AbortController();
    const source = recordedSource((index) => (index < 5 ? String(index) : undefined));
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const seen: number[] = [];
    let error: unknown = 'ended without error';
    try {
      for await (const item of embedStream({ model, inputs: source, signal: controller.signal })) {
        seen.push(item.index);
        if (item.index === 4) controller.abort();
      }
    } catch (caught) {
      error = caught;
    }
    expect(seen).toEqual(indices(5));
    expect((error as Error).name).toBe('AbortError');
    expect(model.callInputs).toEqual([['0', '1'], ['2', '3'], ['4']]);
    // The source had ended by itself: nothing to return.
    expect(source.returned).toBe(0);
    expect(watchCount(controller.signal)).toBe(0);
  });

  it('fired mid-call with a call waiting to retry: the native AbortError at once, no retry sent', async () => {
    const controller = new AbortController();
    const clock = new VirtualClock({ random: [0.5], autoAdvance: false });
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => {
        if (call.inputs[0] === '0') throw new ServerError('busy', { statusCode: 503 });
        return waitForAbort(call.request.signal);
      },
    });
    const seen: number[] = [];
    const end = streamEnd(
      embedStream({ model, inputs: numberedInputs(4), concurrency: 2, clock, signal: controller.signal }),
      seen,
    );
    await until(
      () => clock.sleeps.length === 1 && model.calls.length === 2,
      'a retry waiting, a call in flight',
    );
    controller.abort();
    const error = await end;
    expect((error as Error).name).toBe('AbortError');
    expect(seen).toEqual([]);
    expect(model.calls.map((call) => call.inputs[0])).toEqual(['0', '1']);
    expect(model.inFlight).toBe(0);
    expect(watchCount(controller.signal)).toBe(0);
  });
});

describe('embedStream and a 429 that asks every worker to wait', () => {
  it('four calls refused at once with Retry-After 2 s are retried once the one pause is over, not one pause each', async () => {
    const clock = new VirtualClock();
    const refused = new Set<string>();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        const input = call.inputs[0]!;
        if (Number(input) < 4 && !refused.has(input)) {
          refused.add(input);
          // Every one of the four is in flight before any is refused.
          await until(() => model.calls.length >= 4, 'four calls in flight');
          throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 2_000 });
        }
        return undefined;
      },
    });
    const seen: number[] = [];
    const end = await streamEnd(
      embedStream({
        model,
        inputs: numberedInputs(8),
        concurrency: 4,
        clock,
        rateLimit: createRateLimiter({ learnFromHeaders: false }),
      }),
      seen,
    );
    expect(end).toBe('ended without error');
    expect(seen).toEqual(indices(8));
    const starts = model.calls.map((call) => [call.inputs[0], call.startedAt] as const);
    expect(starts.slice(0, 4)).toEqual([
      ['0', 0],
      ['1', 0],
      ['2', 0],
      ['3', 0],
    ]);
    // One pause of 2 s for the four, not one each: every refused call waits it out from 0 (a wait of
    // 2 s at 0, four times), then the four are released one after another, 2 s apart, as documented.
    expect(clock.sleeps.filter((sleep) => sleep.at === 0)).toEqual(Array(4).fill({ at: 0, ms: 2_000 }));
    const retried = starts.slice(4).filter(([input]) => Number(input) < 4);
    expect(retried.map(([, at]) => at).sort((a, b) => a - b)).toEqual([2_000, 4_000, 6_000, 8_000]);
    // Nothing went out during the pause.
    expect(starts.slice(4).every(([, at]) => at >= 2_000)).toBe(true);
    expect(model.calls).toHaveLength(12);
  });
});

describe('embedStream with a call refused for good while others are in flight', () => {
  it('the calls after it are aborted, the error is its own, and nothing after it is yielded', async () => {
    const failure = new AuthenticationError('the key was revoked', { statusCode: 401 });
    const release = deferred();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        const input = Number(call.inputs[0]);
        if (input === 0) {
          await release.promise;
          return undefined;
        }
        // '2' is answered once the calls after it are sent, before '1' fails.
        if (input === 2) {
          await until(() => model.calls.length >= 4, 'the calls after it sent');
          return undefined;
        }
        if (input === 1) {
          await until(() => model.completed >= 1, 'the call after it answered');
          throw failure;
        }
        return waitForAbort(call.request.signal);
      },
    });
    const seen: number[] = [];
    const end = streamEnd(
      embedStream({ model, inputs: numberedInputs(20), concurrency: 4, maxRetries: 0 }),
      seen,
    );
    await until(() => model.completed === 4, 'the failure, and the calls after it ended');
    // '3' and '4' (sent once '2' was answered) were aborted; '0', before the failure, runs on.
    expect(model.calls.map((call) => [call.inputs[0], call.request.signal?.aborted])).toEqual([
      ['0', false],
      ['1', false],
      ['2', false],
      ['3', true],
      ['4', true],
    ]);
    release.resolve();
    expect(await end).toBe(failure);
    // '0' came first; '2', answered before the failure but after it in order, is never yielded.
    expect(seen).toEqual([0]);
    expect(model.calls).toHaveLength(5);
  });
});

describe('embedStream over a source with bad inputs', () => {
  const bad: [string, unknown][] = [
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
  ];
  for (const [what, value] of bad) {
    it(`${what} at index 5: every result before it, then an InvalidArgumentError naming inputs[5], never sent`, async () => {
      const source = recordedSource((index) => (index === 5 ? (value as string) : String(index)));
      // `undefined` ends a recorded source: a plain async generator yields it as a value.
      async function* withBad(): AsyncGenerator<unknown> {
        for (let index = 0; index < 10; index++) yield index === 5 ? value : String(index);
      }
      const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
      const seen: number[] = [];
      const end = await streamEnd(
        embedStream({
          model,
          inputs: (value === undefined ? withBad() : source) as AsyncIterable<EmbedInput>,
        }),
        seen,
      );
      const error = errorOf(InvalidArgumentError, end);
      expect(error.argument).toBe('inputs[5]');
      expect(error.message).toMatch(/^Input 5 /);
      expect(seen).toEqual(indices(5));
      expect(model.callInputs).toEqual([['0', '1'], ['2', '3'], ['4']]);
    });
  }
});

describe('embedStream with a huge single input', () => {
  it('counted exactly, over the model’s limit: refused by index after the inputs before it', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10, maxTokensPerInput: 100 } });
    const inputs = ['a', 'b', 'x'.repeat(101), 'c'];
    const seen: number[] = [];
    const error = errorOf(
      InvalidArgumentError,
      await streamEnd(embedStream({ model, inputs, tokenCounter: exactCharacters }), seen),
    );
    expect(error.argument).toBe('inputs[2]');
    expect(error.message).toBe(
      'Input 2 has 101 tokens; scripted model scripted-1 accepts at most 100. Shorten it, split it, or pass truncate: true.',
    );
    expect(seen).toEqual([0, 1]);
    expect(model.callInputs).toEqual([['a', 'b']]);
  });

  it('estimated, over a call’s token limit: sent in a call of its own, between the calls around it', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10, maxTokensPerCall: 100 } });
    const inputs = ['a', 'b', 'x'.repeat(1_000), 'c'];
    const seen: number[] = [];
    expect(
      await streamEnd(embedStream({ model, inputs, tokenCounter: exactCharacters, truncate: true }), seen),
    ).toBe('ended without error');
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(model.callInputs.map((call) => call.map((input) => input.slice(0, 3)))).toEqual([
      ['a', 'b'],
      ['xxx'],
      ['c'],
    ]);
  });
});

describe('embedStream over no inputs', () => {
  it('an empty array, sync and async generators: no call, ends at once, nothing left watching; embedMany of none', async () => {
    const controller = new AbortController();
    async function* none(): AsyncGenerator<string> {}
    function* noneSync(): Generator<string> {}
    for (const inputs of [[], noneSync(), none()] as Iterable<string>[]) {
      const model = new ScriptedModel();
      const seen: number[] = [];
      expect(await streamEnd(embedStream({ model, inputs, signal: controller.signal }), seen)).toBe(
        'ended without error',
      );
      expect(seen).toEqual([]);
      expect(model.calls).toHaveLength(0);
    }
    expect(watchCount(controller.signal)).toBe(0);
    const model = new ScriptedModel();
    expect(await embedMany({ model, inputs: [] })).toEqual({ embeddings: [], warnings: [], responses: [] });
    expect(model.calls).toHaveLength(0);
  });
});

describe('embedMany under faults', () => {
  it('maxRetries 0: a 503 is thrown as itself after one call, its hint not claiming a retry', async () => {
    const model = new ScriptedModel({
      respond: () => {
        throw new ServerError('busy', { statusCode: 503 });
      },
    });
    const error = errorOf(
      ServerError,
      await embedMany({ model, inputs: ['a'], maxRetries: 0 }).catch((e) => e),
    );
    expect(error.statusCode).toBe(503);
    expect(model.calls).toHaveLength(1);
  });

  it('a provider that answers its second call with one vector fewer: InvalidResponseError naming the call, not retried', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 3 },
      respond: (call) =>
        call.number === 2
          ? {
              embeddings: call.inputs.slice(1).map((input) => vectorFor(input)),
              warnings: [],
              response: { status: 200, headers: {} },
            }
          : undefined,
    });
    const error = errorOf(
      InvalidResponseError,
      await embedMany({ model, inputs: numberedInputs(7), concurrency: 1 }).catch((e) => e),
    );
    expect(error.code).toBe('invalid_response');
    expect(error.isRetryable).toBe(false);
    // The call's inputs are named by their place in the job (the vectors of the call are named so too).
    expect(error.message).toBe('scripted returned 2 vectors for 3 inputs (inputs 3 to 5 of the whole job).');
    expect(model.calls).toHaveLength(2);
  });

  it('a later call of one input answered with no vector names that input of the job; the first call names none', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) =>
        call.number === 3
          ? { embeddings: [], warnings: [], response: { status: 200, headers: {} } }
          : undefined,
    });
    const error = errorOf(
      InvalidResponseError,
      await embedMany({ model, inputs: numberedInputs(4), concurrency: 1 }).catch((e) => e),
    );
    expect(error.message).toBe('scripted returned 0 vectors for 1 input (input 2 of the whole job).');
    const first = new ScriptedModel({
      respond: () => ({ embeddings: [], warnings: [], response: { status: 200, headers: {} } }),
    });
    const firstError = errorOf(
      InvalidResponseError,
      await embedMany({ model: first, inputs: numberedInputs(2) }).catch((e) => e),
    );
    expect(firstError.message).toBe('scripted returned 0 vectors for 2 inputs.');
  });

  it('a model that takes one input per call: a call each, answered in order', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        for (let turn = 0; turn < (7 - Number(call.inputs[0])) % 4; turn++) await tick();
        return undefined;
      },
    });
    const result = await embedMany({ model, inputs: numberedInputs(7), concurrency: 3 });
    expect(result.embeddings).toEqual(numberedInputs(7).map((input) => vectorFor(input)));
    expect(model.callInputs).toEqual(numberedInputs(7).map((input) => [input]));
    expect(model.maxInFlight).toBe(3);
    expect(result.responses.map((response) => response.requestId)).toEqual(
      indices(7).map((index) => `req-${index + 1}`),
    );
  });
});

describe('a 429 raised before the request is admitted', () => {
  it('a middleware’s own 429 is waited out by its call (3 s), not retried at once', async () => {
    const clock = new VirtualClock();
    let refusals = 0;
    const inner = new ScriptedModel({ clock });
    const model = wrapEmbeddingModel(inner, {
      wrapEmbed: async ({ doEmbed, request }) => {
        if (refusals++ === 0) throw new RateLimitError('the gateway says slow down', { retryAfterMs: 3_000 });
        return doEmbed(request);
      },
    });
    const retries: number[] = [];
    const result = await embedMany({
      model,
      inputs: ['a'],
      clock,
      maxRetries: 1,
      onRetry: (event) => retries.push(event.delayMs),
    });
    expect(result.embeddings).toEqual([vectorFor('a')]);
    expect(retries).toEqual([3_000]);
    // No permit held the pause, so the call slept it out itself: at 0, for 3 s. (It was sent at 0.)
    expect(clock.sleeps).toEqual([{ at: 0, ms: 3_000 }]);
    expect(inner.calls.map((call) => call.startedAt)).toEqual([3_000]);
  });
});

describe('a stream of 100,000 inputs keeps nothing per call', () => {
  it('a model that warns with a different message on every call: each warning heard once, at most 1,000 kept', async () => {
    const heard: Warning[] = [];
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 50 },
      respond: (call) => ({
        embeddings: call.inputs.map((input) => vectorFor(input)),
        // The same warning on every call, and one of its own.
        warnings: [
          { type: 'other', message: 'the model is deprecated' },
          { type: 'other', message: `call ${call.number} was slow` },
        ],
        response: { status: 200, headers: {} },
      }),
    });
    tallies.length = 0;
    let count = 0;
    let outOfOrder = 0;
    let mostHeld = 0;
    for await (const item of embedStream({
      model,
      inputs: numberedInputs(100_000),
      onWarning: (warning) => heard.push(warning),
    })) {
      // At each call's first result, long enough for the stream to start all it may.
      if (item.index % 50 === 0) await settle();
      if (item.index !== count) outOfOrder++;
      count++;
      mostHeld = Math.max(mostHeld, model.completed * 50 - count);
    }
    expect(count).toBe(100_000);
    expect(outOfOrder).toBe(0);
    expect(model.calls).toHaveLength(2_000);
    // Results: at most 2 x concurrency (4) calls of 50 held at once, less the one just taken.
    expect(mostHeld).toBe(399);
    // Warnings: each heard once (the shared one first); the stream lists none of them and remembers at
    // most 1,000 of them, where it kept all 2,001 twice over.
    expect(heard).toHaveLength(2_001);
    expect(heard.slice(0, 2).map((warning) => warning.message)).toEqual([
      'the model is deprecated',
      'call 1 was slow',
    ]);
    expect(tallies).toHaveLength(1);
    const tally = tallies[0] as { warnings: Warning[]; responses: unknown[]; seen: Set<string> };
    expect(tally.warnings).toEqual([]);
    expect(tally.responses).toEqual([]);
    expect(tally.seen.size).toBe(1_000);
  });
});

describe('a tally that keeps no lists', () => {
  it('forgets the warning heard least recently past 1,000, and says it again when it comes again', () => {
    const heard: string[] = [];
    const tally = new Tally((warning) => heard.push(warning.message), undefined, undefined, false);
    const warn = (message: string) => tally.warn({ type: 'other', message });
    warn('first');
    warn('kept fresh');
    for (let index = 0; index < 998; index++) {
      warn(`other ${index}`);
      // Heard again, it is remembered anew each time.
      warn('kept fresh');
    }
    // 1,000 remembered, 'first' heard least recently: one more forgets it, and it is said again.
    warn('kept fresh');
    expect(heard).toEqual(['first', 'kept fresh', ...indices(998).map((index) => `other ${index}`)]);
    warn('one more');
    warn('first');
    warn('kept fresh');
    expect(heard.slice(1_000)).toEqual(['one more', 'first']);
    expect(tally.warnings).toEqual([]);
  });
});
