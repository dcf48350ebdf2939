import { describe, expect, it } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
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
      rateLimit: { requestsPerMinute: 2 },
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
      onWait: (event) => waits.push(event),
    });
    expect(result.embeddings).toHaveLength(3);
    expect(waits).toEqual([{ reason: 'paused', delayMs: 4_000 }]);
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
