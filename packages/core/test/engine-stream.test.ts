import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedStream, type StreamedEmbedding } from '../src/engine/embed.js';
import type { Progress } from '../src/engine/settings.js';
import { AuthenticationError, InvalidArgumentError, RetryError, ServerError } from '../src/errors.js';
import type { EmbedInput } from '../src/types.js';
import type { CallRecord } from './helpers.js';
import { numberedInputs, ScriptedModel, tick, until, vectorFor, waitForAbort } from './helpers.js';

async function collect(stream: AsyncIterable<StreamedEmbedding>): Promise<StreamedEmbedding[]> {
  const out: StreamedEmbedding[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

/** A model whose calls take a varying number of event-loop turns, so they finish out of order. */
function unevenModel(capabilities = {}) {
  let turn = 0;
  return new ScriptedModel({
    capabilities: { maxInputsPerCall: 7, ...capabilities },
    respond: async () => {
      const waits = (turn++ * 7919) % 4;
      for (let index = 0; index < waits; index++) await tick();
      return undefined;
    },
  });
}

function* syncSource(count: number): Generator<string> {
  for (let index = 0; index < count; index++) yield String(index);
}

async function* asyncSource(count: number): AsyncGenerator<string> {
  for (let index = 0; index < count; index++) {
    if (index % 10 === 0) await tick();
    yield String(index);
  }
}

describe('embedStream', () => {
  it('over a sync generator of 1,000 inputs yields indices 0..999 in order with their vectors', async () => {
    const model = unevenModel();
    const items = await collect(embedStream({ model, inputs: syncSource(1_000), concurrency: 3 }));
    expect(items.map((item) => item.index)).toEqual(Array.from({ length: 1_000 }, (_, index) => index));
    for (const item of items) expect(item.embedding).toEqual(vectorFor(String(item.index)));
    expect(model.calls).toHaveLength(143);
  });

  it('over an async generator of 1,000 inputs yields indices 0..999 in order', async () => {
    const model = unevenModel();
    const items = await collect(embedStream({ model, inputs: asyncSource(1_000), concurrency: 4 }));
    expect(items.map((item) => item.index)).toEqual(Array.from({ length: 1_000 }, (_, index) => index));
    for (const item of items) expect(item.embedding).toEqual(vectorFor(String(item.index)));
  });

  it('accepts a plain array', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const items = await collect(embedStream({ model, inputs: numberedInputs(5) }));
    expect(items.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('never has more than `concurrency` calls in flight', async () => {
    const model = unevenModel({ maxInputsPerCall: 5 });
    await collect(embedStream({ model, inputs: syncSource(500), concurrency: 3 }));
    expect(model.maxInFlight).toBeLessThanOrEqual(3);
    expect(model.maxInFlight).toBeGreaterThan(1);
  });

  it('runs one call at a time for a model without parallel calls', async () => {
    const model = unevenModel({ maxInputsPerCall: 5, supportsParallelCalls: false });
    await collect(embedStream({ model, inputs: syncSource(100), concurrency: 4 }));
    expect(model.maxInFlight).toBe(1);
  });

  it('stops pulling an endless source when the consumer breaks, and closes the source', async () => {
    let pulled = 0;
    let closed = false;
    function* endless(): Generator<string> {
      try {
        for (;;) yield String(pulled++);
      } finally {
        closed = true;
      }
    }
    const model = unevenModel({ maxInputsPerCall: 10 });
    const seen: number[] = [];
    for await (const item of embedStream({ model, inputs: endless(), concurrency: 2 })) {
      seen.push(item.index);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(closed).toBe(true);
    const callsAtBreak = model.calls.length;
    const pulledAtBreak = pulled;
    // At most 2 x concurrency batches of 10 can be started ahead of the consumer, plus the batch being filled.
    expect(pulledAtBreak).toBeLessThanOrEqual(51);
    expect(callsAtBreak).toBeLessThanOrEqual(5);
    for (let index = 0; index < 10; index++) await tick();
    expect(model.calls.length).toBe(callsAtBreak);
    expect(pulled).toBe(pulledAtBreak);
    expect(model.inFlight).toBe(0);
  });

  it('keeps memory bounded while the consumer is slow: the source is read only a window ahead', async () => {
    let pulled = 0;
    function* counted(): Generator<string> {
      for (let index = 0; index < 10_000; index++) {
        pulled++;
        yield String(index);
      }
    }
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const iterator = embedStream({ model, inputs: counted(), concurrency: 2 })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ index: 0 });
    for (let index = 0; index < 20; index++) await tick();
    expect(pulled).toBeLessThanOrEqual(51);
    await iterator.return(undefined);
  });

  it('a bad input stops the stream with InvalidArgumentError naming its index', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const inputs: EmbedInput[] = ['0', '1', '2', '3', '', '5'];
    const seen: number[] = [];
    let caught: unknown;
    try {
      for await (const item of embedStream({ model, inputs, concurrency: 1 })) seen.push(item.index);
    } catch (error) {
      caught = error;
    }
    expect(InvalidArgumentError.isInstance(caught)).toBe(true);
    expect((caught as InvalidArgumentError).argument).toBe('inputs[4]');
    expect(seen.every((index) => index < 4)).toBe(true);
    expect(model.calls.flatMap((call) => call.inputs)).not.toContain('5');
  });

  it('a failed call ends the stream with that error and aborts the calls in flight', async () => {
    const failure = new AuthenticationError('revoked');
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        if (call.inputs[0] === '1') {
          await until(() => model.calls.length >= 2, 'a sibling call');
          throw failure;
        }
        if (call.inputs[0] === '0') return undefined;
        return waitForAbort(call.request.signal);
      },
    });
    await expect(
      collect(embedStream({ model, inputs: syncSource(10), concurrency: 2, maxRetries: 0 })),
    ).rejects.toBe(failure);
    expect(model.inFlight).toBe(0);
  });

  it('a failed call ends the stream only after every result before it, answered while the consumer was busy', async () => {
    // Calls '1' and '2' are answered, then '3' fails, while the consumer still holds '0'. Those answered
    // calls were paid for and come before the failure: they are yielded, then the error. (The stream
    // threw as soon as it saw the failure, and only '0' came out.)
    const failure = new AuthenticationError('revoked');
    let answered = 0;
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        const input = call.inputs[0];
        if (input === '3') {
          await until(() => answered === 3, 'the three calls before it');
          throw failure;
        }
        if (input === '0' || input === '1' || input === '2') {
          answered++;
          return undefined;
        }
        return waitForAbort(call.request.signal);
      },
    });
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const item of embedStream({ model, inputs: syncSource(8), concurrency: 4, maxRetries: 0 })) {
        seen.push(item.index);
        expect(item.embedding).toEqual(vectorFor(String(item.index)));
        if (item.index === 0) await until(() => model.calls.length >= 4 && answered === 3, 'the failure');
        if (item.index === 0) for (let turn = 0; turn < 5; turn++) await tick();
      }
    } catch (caught) {
      error = caught;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(error).toBe(failure);
    expect(model.inFlight).toBe(0);
  });

  /**
   * A model of one input per call whose call '1' fails with `failure` once `started` calls are out, while
   * call '0' is still being answered: `zero` then answers it; later calls wait for their abort.
   */
  function failsAfterCallZeroStarted(
    failure: Error,
    started: number,
    zero: (call: CallRecord) => Promise<undefined>,
  ): { model: ScriptedModel; failed: () => boolean } {
    let failed = false;
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        if (call.inputs[0] === '1') {
          await until(() => model.calls.length >= started, 'the calls around it');
          failed = true;
          throw failure;
        }
        return call.inputs[0] === '0' ? zero(call) : waitForAbort(call.request.signal);
      },
    });
    return { model, failed: () => failed };
  }

  it('a failed call lets the calls before it finish: their results are yielded, then the error', async () => {
    // Call '1' fails while call '0' is still being answered. '0' comes before the failure in the stream
    // and was sent (and is paid for): it is yielded, then the error. Calls after '1' are aborted. (Call
    // '0' was aborted with them and its result lost.)
    const failure = new AuthenticationError('revoked');
    const { model, failed } = failsAfterCallZeroStarted(failure, 3, async (call) => {
      await until(failed, 'the failure');
      for (let turn = 0; turn < 5; turn++) await tick();
      if (call.request.signal?.aborted) throw call.request.signal.reason;
      return undefined;
    });
    const stream = embedStream({ model, inputs: syncSource(8), concurrency: 3, maxRetries: 0 });
    expect((await stream.next()).value).toEqual({ index: 0, embedding: vectorFor('0') });
    expect(await stream.next().catch((caught: unknown) => caught)).toBe(failure);
    expect(model.callInputs).toEqual([['0'], ['1'], ['2']]);
    expect(model.inFlight).toBe(0);
  });

  it('a call before the failed one that fails too ends the stream with its own error, the earlier', async () => {
    const earlier = new AuthenticationError('revoked first');
    const { model, failed } = failsAfterCallZeroStarted(
      new AuthenticationError('revoked later'),
      2,
      async () => {
        await until(failed, 'the later failure');
        await tick();
        throw earlier;
      },
    );
    await expect(
      collect(embedStream({ model, inputs: syncSource(4), concurrency: 2, maxRetries: 0 })),
    ).rejects.toBe(earlier);
    expect(model.inFlight).toBe(0);
  });

  it('an abort ends the stream at once, not after the rest of the call it came in (999 more were yielded)', async () => {
    const controller = new AbortController();
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1000 } });
    const seen: number[] = [];
    let caught: unknown;
    try {
      for await (const item of embedStream({ model, inputs: syncSource(1000), signal: controller.signal })) {
        seen.push(item.index);
        controller.abort();
      }
    } catch (error) {
      caught = error;
    }
    expect(model.calls).toHaveLength(1);
    expect(seen).toEqual([0]);
    expect((caught as Error).name).toBe('AbortError');
  });

  it('an abort ends the stream with the native AbortError', async () => {
    const controller = new AbortController();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => (call.inputs[0] === '0' ? undefined : waitForAbort(call.request.signal)),
    });
    const seen: number[] = [];
    let caught: unknown;
    try {
      for await (const item of embedStream({
        model,
        inputs: syncSource(100),
        concurrency: 2,
        signal: controller.signal,
      })) {
        seen.push(item.index);
        controller.abort();
      }
    } catch (error) {
      caught = error;
    }
    expect(seen).toEqual([0]);
    expect((caught as Error).name).toBe('AbortError');
  });

  it('reports progress without a total', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      usage: (inputs) => inputs.length,
    });
    const progress: Progress[] = [];
    await collect(
      embedStream({
        model,
        inputs: syncSource(3),
        concurrency: 1,
        onProgress: (value) => progress.push(value),
      }),
    );
    expect(progress).toEqual([
      { completedInputs: 2, inputTokens: 2 },
      { completedInputs: 3, inputTokens: 3 },
    ]);
  });

  it('rejects inputs that are not iterable', async () => {
    const model = new ScriptedModel();
    await expect(collect(embedStream({ model, inputs: 42 as unknown as string[] }))).rejects.toSatisfy(
      (error) => InvalidArgumentError.isInstance(error),
    );
  });
});

/**
 * When the error of a failed call comes. The stream ends with the earliest failure in input order, after
 * every result before it: a call before the failed one that is still being retried is waited for, as it
 * would have been had nothing failed (its results are the caller's, and paid for), so the error comes as
 * late as that call's own retries allow, never later. Nothing after the failed call is sent. The caller's
 * signal ends the stream at once, whatever is being waited for.
 */
describe('embedStream: when a failed call ends the stream (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Advances the fake clock by `ms`, then lets the event loop settle. */
  async function advance(ms: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms);
    for (let turn = 0; turn < 5; turn++) await tick();
  }

  /**
   * One input a call: call '0' is refused with a 503 asking for 5 s, then answered (or, given `again`,
   * refused with it); call '1' is refused for good at once.
   */
  function retriedBeforeRefused(refused: Error, again?: Error): ScriptedModel {
    return new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => {
        if (call.inputs[0] === '1') throw refused;
        if (call.inputs[0] !== '0') return undefined;
        const attempts = call.number === 1 ? 1 : 2;
        if (attempts === 1)
          throw new ServerError('scripted API error 503', { statusCode: 503, retryAfterMs: 5_000 });
        if (again !== undefined) throw again;
        return undefined;
      },
    });
  }

  /** The stream's next step, and whether it has settled yet. */
  function step<T>(stream: AsyncGenerator<T>) {
    const state = { settled: false };
    const next = stream.next().finally(() => {
      state.settled = true;
    });
    next.catch(() => {});
    return { next, state };
  }

  it('comes once the call before it has been retried and answered (5 s), after its result, not at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const refused = new AuthenticationError('revoked');
    const model = retriedBeforeRefused(refused);
    const stream = embedStream({ model, inputs: syncSource(4), concurrency: 2 });
    const first = step(stream);
    await advance(4_999);
    expect(first.state.settled).toBe(false);
    expect(model.callInputs).toEqual([['0'], ['1']]);
    await advance(1);
    expect(first.state.settled).toBe(true);
    expect((await first.next).value).toEqual({ index: 0, embedding: vectorFor('0') });
    // The error is already there: no more time passes before it.
    const second = step(stream);
    await tick();
    expect(second.state.settled).toBe(true);
    await expect(second.next).rejects.toBe(refused);
    expect(model.callInputs).toEqual([['0'], ['1'], ['0']]);
  });

  it('is the earlier call’s own when its retry fails too, at the moment it fails (5 s)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const model = retriedBeforeRefused(
      new AuthenticationError('revoked'),
      new ServerError('scripted API error 503 again', { statusCode: 503 }),
    );
    const stream = embedStream({ model, inputs: syncSource(4), concurrency: 2, maxRetries: 1 });
    const first = step(stream);
    await advance(4_999);
    expect(first.state.settled).toBe(false);
    await advance(1);
    expect(first.state.settled).toBe(true);
    const error = await first.next.catch((caught: unknown) => caught);
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).message).toBe(
      'scripted model scripted-1 failed 2 times; the last error: scripted API error 503 again — every retry failed: try again later, or raise maxRetries.',
    );
    expect(model.callInputs).toEqual([['0'], ['1'], ['0']]);
  });

  it('gives way to the caller’s abort at once, while the call before it waits to retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const model = retriedBeforeRefused(new AuthenticationError('revoked'));
    const controller = new AbortController();
    const stream = embedStream({ model, inputs: syncSource(4), concurrency: 2, signal: controller.signal });
    const first = step(stream);
    await advance(2_000);
    const reason = new Error('the caller gave up');
    controller.abort(reason);
    await tick();
    expect(first.state.settled).toBe(true);
    await expect(first.next).rejects.toBe(reason);
    await advance(10_000);
    expect(model.callInputs).toEqual([['0'], ['1']]);
  });
});
