import { describe, expect, it } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import type { WaitEvent } from '../src/engine/settings.js';
import { RateLimitError } from '../src/errors.js';
import { MockEmbeddingModel } from '../src/testing.js';
import type { Warning } from '../src/types.js';
import { VirtualClock } from './helpers.js';

describe('onWait', () => {
  it('reports each rate-limit bucket wait with its length', async () => {
    const clock = new VirtualClock();
    const model = new MockEmbeddingModel({ capabilities: { maxInputsPerCall: 1 } });
    const waits: WaitEvent[] = [];
    // Two requests a minute: the first two calls pass, the third waits 30 s for a refill.
    await embedMany({
      model,
      inputs: ['a', 'b', 'c'],
      concurrency: 1,
      clock,
      rateLimit: createRateLimiter({ requestsPerMinute: 2 }),
      onWait: (event) => waits.push(event),
    });
    expect(waits).toEqual([{ reason: 'rate-limit', delayMs: 30_000 }]);
    expect(clock.sleeps.map((sleep) => sleep.ms)).toEqual([30_000]);
  });

  it('reports the pause a 429 puts on a call that starts while the model is paused', async () => {
    const clock = new VirtualClock();
    const model = new MockEmbeddingModel({
      capabilities: { maxInputsPerCall: 1 },
      beforeCall: async (_request, callNumber) => {
        // Call 1 gets a 429 asking for 4 s; call 2 finishes a moment later, so call 3 starts inside the pause.
        if (callNumber === 1) throw new RateLimitError('slow down', { retryAfterMs: 4_000 });
        if (callNumber === 2) await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const waits: WaitEvent[] = [];
    const result = await embedMany({
      model,
      inputs: ['a', 'b', 'c'],
      concurrency: 2,
      clock,
      // Pacing off: this is about the pause alone.
      rateLimit: createRateLimiter({ adaptive: false }),
      onWait: (event) => waits.push(event),
    });
    expect(result.embeddings).toHaveLength(3);
    // The refused call waits out the pause, so does call 3; released one after another, call 3 waits its
    // turn, one spacing (the server's wait, capped at 2 s) after the refused call's retry.
    expect(waits).toEqual([
      { reason: 'paused', delayMs: 4_000 },
      { reason: 'paused', delayMs: 4_000 },
      { reason: 'paused', delayMs: 2_000 },
    ]);
  });
});

describe('onWarning', () => {
  it('reports each distinct warning of a stream once, as it happens', async () => {
    const model = new MockEmbeddingModel({ capabilities: { maxInputsPerCall: 2, inputTypes: ['query'] } });
    const warnings: Warning[] = [];
    const seen: number[] = [];
    for await (const item of embedStream({
      model,
      inputs: ['a', 'b', 'c', 'd', 'e'],
      inputType: 'clustering',
      onWarning: (warning) => warnings.push(warning),
    })) {
      seen.push(item.index);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ type: 'unsupported-setting', setting: 'inputType' });
    expect(model.calls.every((call) => call.inputType === undefined)).toBe(true);
  });

  it('reports provider warnings from every call once', async () => {
    const model = new MockEmbeddingModel({ capabilities: { maxInputsPerCall: 1 } });
    const original = model.doEmbed.bind(model);
    model.doEmbed = async (request) => ({
      ...(await original(request)),
      warnings: [{ type: 'other', message: 'served by a fallback replica' }],
    });
    const warnings: Warning[] = [];
    const result = await embedMany({
      model,
      inputs: ['a', 'b', 'c'],
      onWarning: (warning) => warnings.push(warning),
    });
    expect(warnings).toEqual([{ type: 'other', message: 'served by a fallback replica' }]);
    expect(result.warnings).toEqual(warnings);
  });
});

describe('bisection and input indices', () => {
  it('names an over-long input by its place in the whole job, once, even after a bisection', async () => {
    const { InvalidRequestError } = await import('../src/errors.js');
    const model = new MockEmbeddingModel({
      capabilities: { maxInputsPerCall: 4 },
      beforeCall: (request) => {
        const texts = request.inputs as string[];
        // The second call of four is "too large"; of its halves, the second names its input 1 as too long.
        if (texts.length === 4 && texts[0] === 'e')
          throw new InvalidRequestError('too many tokens', { batchTooLarge: true });
        if (texts[0] === 'g')
          throw new InvalidRequestError("Invalid 'input[1]': maximum input length", { inputIndex: 1 });
      },
    });
    const error = await embedMany({
      model,
      inputs: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      concurrency: 1,
    }).then(
      () => expect.fail('the job had to fail'),
      (caught: unknown) => caught,
    );
    if (!InvalidRequestError.isInstance(error)) throw error;
    expect(error.inputIndex).toBe(7);
    expect(error.message).toContain('(input 7 of the whole job)');
    expect(model.calls.map((call) => call.inputs)).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f', 'g', 'h'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
  });
});

describe('numberArraysToVectors with normalize', () => {
  it('scales each vector to unit length while copying and leaves unit vectors bit-for-bit alone', async () => {
    const { numberArraysToVectors } = await import('../src/vectors.js');
    const unit = [Math.fround(0.6), Math.fround(0.8)];
    const [scaled, already, plain] = [
      ...numberArraysToVectors(
        [
          [3, 4],
          [1, 0],
        ],
        'float',
        { normalize: true },
      ),
      ...numberArraysToVectors([[3, 4]], 'float'),
    ];
    expect(Array.from(scaled!)).toEqual(unit);
    expect(Array.from(already!)).toEqual([1, 0]);
    expect(Array.from(plain!)).toEqual([3, 4]);
    // A vector holding NaN or a number beyond float32 is left as sent, not scaled, for the check of float
    // values to name the value.
    expect(Array.from(numberArraysToVectors([[1, Number.NaN]], 'float', { normalize: true })[0]!)).toEqual([
      1,
      Number.NaN,
    ]);
    expect(Array.from(numberArraysToVectors([[3, 1e40]], 'float', { normalize: true })[0]!)).toEqual([
      3,
      Number.POSITIVE_INFINITY,
    ]);
  });
});
