/**
 * A server that lives for weeks passes signals to every call: one long-lived signal (its shutdown), or a
 * fresh `AbortSignal.any` / `AbortSignal.timeout` per request. Once a call has ended, the signal must hold
 * no listener of the engine's: Node keeps a timeout or composite signal alive for as long as it has an
 * abort listener, so a listener left behind keeps every such signal until it aborts.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { embed, embedMany } from '../src/engine/embed.js';
import { RateLimitError } from '../src/errors.js';
import { numberedInputs, ScriptedModel, until, VirtualClock, vectorFor } from './helpers.js';

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('a signal shared by many calls holds no listener once they end', () => {
  it('1,000 sequential calls on one signal leave none', async () => {
    const controller = new AbortController();
    const model = new ScriptedModel();
    for (let index = 0; index < 1_000; index++)
      await embed({ model, input: String(index), signal: controller.signal });
    expect(model.calls).toHaveLength(1_000);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a call that retried after a 429 leaves none on its signal', async () => {
    const controller = new AbortController();
    let calls = 0;
    const model = new ScriptedModel({
      respond: () => {
        if (++calls === 1) throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 5 });
        return undefined;
      },
    });
    const clock = new VirtualClock();
    const result = await embed({ model, input: 'a', signal: controller.signal, clock });
    expect(result.embedding).toEqual(vectorFor('a'));
    expect(calls).toBe(2);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('per-request AbortSignal.any and AbortSignal.timeout signals keep no listener after their call', async () => {
    const model = new ScriptedModel();
    const composite = AbortSignal.any([new AbortController().signal]);
    const timeout = AbortSignal.timeout(3_600_000);
    await embed({ model, input: 'a', signal: composite });
    await embedMany({
      model,
      inputs: numberedInputs(6),
      signal: timeout,
      maxInputsPerCall: 2,
      concurrency: 3,
    });
    expect(model.calls).toHaveLength(4);
    expect(abortListeners(composite)).toBe(0);
    expect(abortListeners(timeout)).toBe(0);
  });

  it('a signal whose calls all ended still aborts the next call made with it', async () => {
    const controller = new AbortController();
    const model = new ScriptedModel({
      respond: async (call) => {
        if (call.number === 2) await new Promise((resolve) => setTimeout(resolve, 60_000).unref());
        return undefined;
      },
    });
    await embed({ model, input: 'first', signal: controller.signal });
    expect(abortListeners(controller.signal)).toBe(0);
    const second = embed({ model, input: 'second', signal: controller.signal });
    await until(() => model.calls.length === 2, 'the second call in flight');
    expect(abortListeners(controller.signal)).toBe(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(second).rejects.toBe(reason);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a signal that already aborted rejects the call with its reason, sends nothing and adds no listener', async () => {
    const controller = new AbortController();
    const reason = new Error('already gone');
    controller.abort(reason);
    const model = new ScriptedModel();
    await expect(embed({ model, input: 'a', signal: controller.signal })).rejects.toBe(reason);
    expect(model.calls).toEqual([]);
    expect(abortListeners(controller.signal)).toBe(0);
  });
});
