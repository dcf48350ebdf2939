import { describe, expect, it } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import { AuthenticationError, InvalidRequestError, NotFoundError } from '../src/errors.js';
import {
  type Deferred,
  deferred,
  numberedInputs,
  ScriptedModel,
  tick,
  until,
  vectorFor,
  waitForAbort,
} from './helpers.js';

/** A model whose call for input `n` (one input per call) waits until the test releases it. */
function gatedModel(count: number, capabilities = {}) {
  const gates = new Map<string, Deferred<void>>(numberedInputs(count).map((input) => [input, deferred()]));
  const model = new ScriptedModel({
    capabilities: { maxInputsPerCall: 1, ...capabilities },
    respond: async (call) => {
      await gates.get(call.inputs[0]!)!.promise;
      return undefined;
    },
  });
  const release = (input: number) => gates.get(String(input))!.resolve();
  return { model, release };
}

describe('order', () => {
  it('returns vectors and responses in input order when calls finish out of order', async () => {
    const { model, release } = gatedModel(4);
    const pending = embedMany({ model, inputs: numberedInputs(4), concurrency: 4 });
    await until(() => model.calls.length === 4, 'four calls in flight');
    for (const input of [3, 1, 0, 2]) {
      release(input);
      await tick();
    }
    const result = await pending;
    expect(model.calls.map((call) => call.inputs[0])).toEqual(['0', '1', '2', '3']);
    expect(result.embeddings).toEqual(numberedInputs(4).map(vectorFor));
    expect(result.responses.map((response) => response.requestId)).toEqual([
      'req-1',
      'req-2',
      'req-3',
      'req-4',
    ]);
  });

  it('keeps order across many batches of different sizes with random completion order', async () => {
    let turn = 0;
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 7 },
      respond: async () => {
        const waits = (turn++ * 7919) % 5;
        for (let index = 0; index < waits; index++) await tick();
        return undefined;
      },
    });
    const inputs = numberedInputs(250);
    const result = await embedMany({ model, inputs, concurrency: 5 });
    expect(result.embeddings).toEqual(inputs.map(vectorFor));
    expect(model.calls).toHaveLength(36);
  });
});

describe('concurrency', () => {
  it('never runs more than `concurrency` calls, and starts the next one as soon as one finishes', async () => {
    const { model, release } = gatedModel(6);
    const pending = embedMany({ model, inputs: numberedInputs(6), concurrency: 3 });
    await until(() => model.calls.length === 3, 'three calls');
    await tick();
    await tick();
    expect(model.calls).toHaveLength(3);
    expect(model.inFlight).toBe(3);
    release(1);
    await until(() => model.calls.length === 4, 'a fourth call after one finished');
    expect(model.calls[3]!.inputs).toEqual(['3']);
    for (const input of [0, 2, 3, 4, 5]) release(input);
    await pending;
    expect(model.maxInFlight).toBe(3);
  });

  it('defaults to 4 calls in flight', async () => {
    const { model, release } = gatedModel(8);
    const pending = embedMany({ model, inputs: numberedInputs(8) });
    await until(() => model.calls.length === 4, 'four calls');
    await tick();
    await tick();
    expect(model.calls).toHaveLength(4);
    for (let input = 0; input < 8; input++) release(input);
    await pending;
    expect(model.maxInFlight).toBe(4);
  });

  it('runs one call at a time when the model does not support parallel calls, whatever concurrency says', async () => {
    let turn = 0;
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1, supportsParallelCalls: false },
      respond: async () => {
        for (let index = 0; index < (turn++ % 3) + 1; index++) await tick();
        return undefined;
      },
    });
    const result = await embedMany({ model, inputs: numberedInputs(6), concurrency: 4 });
    expect(model.maxInFlight).toBe(1);
    expect(model.calls).toHaveLength(6);
    expect(result.embeddings).toEqual(numberedInputs(6).map(vectorFor));
  });

  it('is a sliding pool, not waves: a slow first call does not hold back the later ones', async () => {
    const { model, release } = gatedModel(5);
    for (const input of [1, 2, 3, 4]) release(input);
    const pending = embedMany({ model, inputs: numberedInputs(5), concurrency: 2 });
    await until(() => model.completed === 4, 'every call but the first finished');
    expect(model.calls.map((call) => call.inputs[0])).toEqual(['0', '1', '2', '3', '4']);
    expect(model.inFlight).toBe(1);
    release(0);
    const result = await pending;
    expect(result.embeddings).toEqual(numberedInputs(5).map(vectorFor));
  });
});

describe('bisection when the provider says the batch is too large', () => {
  function pickyModel(maxAccepted: number) {
    return new ScriptedModel({
      respond: (call) => {
        if (call.inputs.length > maxAccepted) {
          throw new InvalidRequestError('too many tokens in this request', {
            batchTooLarge: true,
            statusCode: 400,
          });
        }
        return undefined;
      },
    });
  }

  it('splits the failing call in halves until each part is accepted, keeping order and summing usage', async () => {
    const model = pickyModel(2);
    const result = await embedMany({ model, inputs: numberedInputs(5) });
    expect(model.callInputs).toEqual([
      ['0', '1', '2', '3', '4'],
      ['0', '1', '2'],
      ['0', '1'],
      ['2'],
      ['3', '4'],
    ]);
    expect(result.embeddings).toEqual(numberedInputs(5).map(vectorFor));
    expect(result.usage).toEqual({ inputTokens: 50 });
    expect(result.responses).toHaveLength(3);
  });

  it('a single input that is still too large fails with the provider’s error', async () => {
    const model = pickyModel(0);
    await expect(embedMany({ model, inputs: ['0', '1'] })).rejects.toSatisfy(
      (error) => InvalidRequestError.isInstance(error) && error.batchTooLarge,
    );
    expect(model.callInputs).toEqual([['0', '1'], ['0']]);
  });
});

describe('inputIndex is remapped to the whole job', () => {
  function rejecting(badInput: string, capabilities = {}, maxAccepted = Number.POSITIVE_INFINITY) {
    return new ScriptedModel({
      capabilities,
      respond: (call) => {
        if (call.inputs.length > maxAccepted)
          throw new InvalidRequestError('too large', { batchTooLarge: true });
        const position = call.inputs.indexOf(badInput);
        if (position >= 0)
          throw new InvalidRequestError(`input ${position} is too long`, {
            inputIndex: position,
            statusCode: 400,
          });
        return undefined;
      },
    });
  }

  it('an index within a later call becomes the index within the inputs', async () => {
    const model = rejecting('3', { maxInputsPerCall: 2 });
    const error = await embedMany({ model, inputs: numberedInputs(6), concurrency: 1 }).catch(
      (caught: unknown) => caught,
    );
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as InvalidRequestError).inputIndex).toBe(3);
    expect((error as InvalidRequestError).statusCode).toBe(400);
    expect((error as InvalidRequestError).message).toContain('input 3 of the whole job');
  });

  it('an index within the first call is already global', async () => {
    const model = rejecting('1', { maxInputsPerCall: 2 });
    const error = await embedMany({ model, inputs: numberedInputs(6), concurrency: 1 }).catch(
      (caught: unknown) => caught,
    );
    expect((error as InvalidRequestError).inputIndex).toBe(1);
  });

  it('an index within a bisected half of a later call is remapped exactly once', async () => {
    const model = rejecting('7', { maxInputsPerCall: 4 }, 2);
    const error = await embedMany({ model, inputs: numberedInputs(8), concurrency: 1 }).catch(
      (caught: unknown) => caught,
    );
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as InvalidRequestError).inputIndex).toBe(7);
  });
});

describe('one failure fails the job', () => {
  it('aborts the signals of its siblings, starts nothing new, and rejects with that error', async () => {
    const failure = new AuthenticationError('bad key', { statusCode: 401 });
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        if (call.inputs[0] === '1') {
          await until(() => model.calls.length === 3, 'three calls');
          throw failure;
        }
        return waitForAbort(call.request.signal);
      },
    });
    await expect(embedMany({ model, inputs: numberedInputs(5), concurrency: 3, maxRetries: 0 })).rejects.toBe(
      failure,
    );
    expect(model.calls).toHaveLength(3);
    expect(model.calls[0]!.request.signal?.aborted).toBe(true);
    expect(model.calls[2]!.request.signal?.aborted).toBe(true);
    expect(model.inFlight).toBe(0);
    await tick();
    expect(model.calls).toHaveLength(3);
  });

  it('rejects with the first error when several calls fail', async () => {
    const first = new NotFoundError('no such model');
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        if (call.inputs[0] === '2') throw first;
        if (call.inputs[0] === '0') {
          await until(() => model.completed >= 1, 'the first failure');
          throw new AuthenticationError('later failure');
        }
        return waitForAbort(call.request.signal);
      },
    });
    await expect(embedMany({ model, inputs: numberedInputs(3), concurrency: 3 })).rejects.toBe(first);
  });
});
