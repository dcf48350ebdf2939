/**
 * `embedStream` as its consumer sees it: a consumer slow with each result, one that stops early, a source
 * that fails part-way, a call refused for good part-way, and a token budget a minute.
 */
import { describe, expect, it } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { InvalidArgumentError, InvalidRequestError } from '../src/errors.js';
import { recordingClock } from '../src/testing.js';
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

describe('embedStream with a consumer slow with each result', () => {
  it('keeps its calls going meanwhile: 40 inputs in calls of 1 s, 100 ms a result, concurrency 4, end at 10.4 s', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: async () => {
        await clock.sleep(1_000);
        return undefined;
      },
    });
    const seen: number[] = [];
    for await (const item of embedStream({ model, inputs: numberedInputs(40), concurrency: 4, clock })) {
      await clock.sleep(100);
      seen.push(item.index);
    }
    expect(seen).toEqual(indices(40));
    // A call starts the moment one ends, four a second, not once the consumer has caught up with them.
    expect(model.calls.map((call) => call.startedAt)).toEqual(
      indices(40).map((index) => Math.floor(index / 4) * 1_000),
    );
    expect(model.maxInFlight).toBe(4);
    expect(clock.now()).toBe(10_400);
  });

  it('starts calls while it holds the first result, up to 2 x concurrency results, the one held included', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    const iterator = embedStream({ model, inputs: numberedInputs(10), concurrency: 2 })[
      Symbol.asyncIterator
    ]();
    expect((await iterator.next()).value).toEqual({ index: 0, embedding: vectorFor('0') });
    await settle();
    expect(model.callInputs).toEqual([['0'], ['1'], ['2'], ['3']]);
    await iterator.return(undefined);
  });

  it('over 100,000 inputs reads at most 599 ahead and holds at most 599 results: 2 x concurrency calls of 100', async () => {
    let read = 0;
    const inputs: Iterable<string> = {
      *[Symbol.iterator]() {
        for (let index = 0; index < 100_000; index++) {
          read++;
          yield String(index);
        }
      },
    };
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 100 },
      respond: async () => {
        await tick();
        return undefined;
      },
    });
    let consumed = 0;
    let mostAhead = 0;
    let mostHeld = 0;
    for await (const item of embedStream({ model, inputs, concurrency: 3 })) {
      // At each call's first result, long enough for the stream to start all it may.
      if (item.index % 100 === 0) await settle();
      consumed++;
      mostAhead = Math.max(mostAhead, read - consumed);
      mostHeld = Math.max(mostHeld, model.completed * 100 - consumed);
    }
    expect(consumed).toBe(100_000);
    expect(model.calls).toHaveLength(1_000);
    expect(model.maxInFlight).toBe(3);
    // Six calls of 100 (the one the consumer is in included), less the result it has just taken.
    expect(mostAhead).toBe(599);
    expect(mostHeld).toBe(599);
  });
});

describe('embedStream ended by its consumer while calls are in flight', () => {
  // An unhandled rejection fails the test (the shared setup, vitest.unhandled-errors.ts).
  it('return() aborts them, sends nothing more, returns the source once, and leaves no rejection unhandled', async () => {
    let reads = 0;
    let returned = 0;
    const inputs: Iterable<string> = {
      [Symbol.iterator]: () => ({
        next: () => ({ value: String(reads++), done: false }),
        return: () => {
          returned++;
          return { value: undefined, done: true };
        },
      }),
    };
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: (call) => (call.inputs[0] === '0' ? undefined : waitForAbort(call.request.signal)),
    });
    const iterator = embedStream({ model, inputs, concurrency: 3 })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ index: 0, embedding: vectorFor('0') });
    await settle();
    // The first call answered; three wait, as many as the concurrency.
    expect(model.callInputs).toEqual([
      ['0', '1'],
      ['2', '3'],
      ['4', '5'],
      ['6', '7'],
    ]);
    expect(model.inFlight).toBe(3);
    expect(await iterator.return(undefined)).toEqual({ value: undefined, done: true });
    expect(model.calls.slice(1).map((call) => call.request.signal?.aborted)).toEqual([true, true, true]);
    expect(model.inFlight).toBe(0);
    expect(returned).toBe(1);
    await settle();
    expect(model.calls).toHaveLength(4);
    expect(reads).toBe(8);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});

describe('embedStream over a source that fails part-way', () => {
  it('an async source that rejects: the call in flight finishes, every result is yielded, then its very error', async () => {
    const failure = new Error('the disk went away');
    let reads = 0;
    let returned = 0;
    const inputs: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          reads++;
          if (reads > 5) throw failure;
          return { value: String(reads - 1), done: false };
        },
        return: async () => {
          returned++;
          return { value: undefined, done: true };
        },
      }),
    };
    const answer = deferred();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: async (call) => {
        if (call.inputs[0] === '2') await answer.promise;
        return undefined;
      },
    });
    const seen: number[] = [];
    const end = streamEnd(embedStream({ model, inputs, concurrency: 3 }), seen);
    // [4] is sent alone: the source failed before a second input joined it.
    await until(() => model.calls.length === 3, 'the calls of [0, 1], [2, 3] and [4]');
    await settle();
    expect(model.calls[1]!.request.signal?.aborted).toBe(false);
    answer.resolve();
    expect(await end).toBe(failure);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(model.callInputs).toEqual([['0', '1'], ['2', '3'], ['4']]);
    expect(reads).toBe(6);
    // It ended by itself: there is nothing to return.
    expect(returned).toBe(0);
  });
});

describe('embedStream with a call refused for good part-way', () => {
  it('yields every result before the call, then its InvalidRequestError naming the input in the whole stream', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 4 },
      respond: async (call) => {
        const first = Number(call.inputs[0]);
        if (first === 8) {
          await until(
            () => model.completed === 2 && model.calls.length === 5,
            'the two calls before it answered and two after it sent',
          );
          throw new InvalidRequestError('input 2 is empty', { statusCode: 400, inputIndex: 2 });
        }
        return first < 8 ? undefined : waitForAbort(call.request.signal);
      },
    });
    const seen: number[] = [];
    const end = await streamEnd(
      embedStream({ model, inputs: numberedInputs(40), concurrency: 3, maxRetries: 0 }),
      seen,
    );
    const error = errorOf(InvalidRequestError, end);
    expect(error.code).toBe('invalid_request');
    expect(error.statusCode).toBe(400);
    expect(error.inputIndex).toBe(10);
    expect(error.message).toBe('input 2 is empty (input 10 of the whole job)');
    expect(seen).toEqual(indices(8));
    expect(model.calls.map((call) => call.inputs[0])).toEqual(['0', '4', '8', '12', '16']);
    // The calls after it were aborted.
    expect(model.calls.slice(3).map((call) => call.request.signal?.aborted)).toEqual([true, true]);
    expect(model.inFlight).toBe(0);
  });
});

describe('embedStream under a tokensPerMinute budget', () => {
  it('paces calls larger than the budget allows at once as embedMany does', async () => {
    // Twelve inputs of 400 tokens under 1,000 a minute: calls of two (800 tokens), one every 48 s once
    // the first minute's budget is spent.
    const inputs = indices(12).map((index) => String(index).padEnd(400, 'x'));
    const run = async (stream: boolean) => {
      const clock = new VirtualClock();
      const model = new ScriptedModel({
        clock,
        capabilities: { maxInputsPerCall: 100 },
        usage: (texts) => texts.reduce((sum, text) => sum + text.length, 0),
      });
      const settings = {
        model,
        clock,
        concurrency: 2,
        tokenCounter: exactCharacters,
        rateLimit: createRateLimiter({ tokensPerMinute: 1_000 }),
      };
      if (stream) {
        const seen: number[] = [];
        for await (const item of embedStream({ ...settings, inputs })) seen.push(item.index);
        expect(seen).toEqual(indices(12));
      } else {
        expect((await embedMany({ ...settings, inputs })).embeddings).toHaveLength(12);
      }
      return model.calls.map((call) => [call.inputs.length, call.startedAt]);
    };
    const paced = [
      [2, 0],
      [2, 36_000],
      [2, 84_000],
      [2, 132_000],
      [2, 180_000],
      [2, 228_000],
    ];
    expect(await run(false)).toEqual(paced);
    expect(await run(true)).toEqual(paced);
  });

  it('an input whose exact count is over the budget stops the stream there, after every result before it', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 100 } });
    const inputs = [...indices(5).map((index) => String(index).padEnd(400, 'x')), 'y'.repeat(1_001), 'z'];
    const seen: number[] = [];
    const end = await streamEnd(
      embedStream({
        model,
        inputs,
        tokenCounter: exactCharacters,
        clock: recordingClock(),
        rateLimit: createRateLimiter({ tokensPerMinute: 1_000 }),
      }),
      seen,
    );
    const error = errorOf(InvalidArgumentError, end);
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('inputs[5]');
    expect(error.message).toBe(
      "Input 5 has 1001 tokens, more than the rate limit's budget of 1000 tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.",
    );
    expect(seen).toEqual(indices(5));
    expect(
      model.callInputs
        .flat()
        .map((input) => input[0])
        .sort(),
    ).toEqual(['0', '1', '2', '3', '4']);
  });
});

describe('embedStream over a source that fails to close', () => {
  /** A source of numbered inputs, `bad` at index `badAt`, whose `return()` throws. */
  function unclosable(badAt?: number): Iterable<string> {
    let position = 0;
    return {
      [Symbol.iterator]: () => ({
        next: () => {
          const index = position++;
          return { value: index === badAt ? '' : String(index), done: false };
        },
        return: (): IteratorResult<string> => {
          throw new Error('the file could not be closed');
        },
      }),
    };
  }

  it('ends with the refused call’s error, not the source’s', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: (call) => {
        if (call.inputs[0] === '2')
          throw new InvalidRequestError('input 1 is empty', { statusCode: 400, inputIndex: 1 });
        return undefined;
      },
    });
    const seen: number[] = [];
    const end = await streamEnd(
      embedStream({ model, inputs: unclosable(), concurrency: 1, maxRetries: 0 }),
      seen,
    );
    const error = errorOf(InvalidRequestError, end);
    expect(error.code).toBe('invalid_request');
    expect(error.inputIndex).toBe(3);
    expect(seen).toEqual([0, 1]);
  });

  it('ends with a bad input’s error, not the source’s', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const seen: number[] = [];
    const end = await streamEnd(embedStream({ model, inputs: unclosable(3), concurrency: 1 }), seen);
    const error = errorOf(InvalidArgumentError, end);
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('inputs[3]');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('ends with the caller’s abort when its signal was aborted before the stream began', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const controller = new AbortController();
    const reason = new Error('stopped by the caller');
    controller.abort(reason);
    const seen: number[] = [];
    const end = await streamEnd(
      embedStream({ model, inputs: unclosable(), signal: controller.signal }),
      seen,
    );
    expect(end).toBe(reason);
    expect(seen).toEqual([]);
    expect(model.calls).toEqual([]);
  });

  it('a consumer that breaks off gets the source’s error, as a for...of over the source would', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    let caught: unknown;
    try {
      for await (const _ of embedStream({ model, inputs: unclosable(), concurrency: 1 })) break;
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toBe('the file could not be closed');
  });
});
