/**
 * The last edges of an attempt and its admission: a limiter whose store fails while it settles a failed
 * call leaves the call's own error to decide (retried or thrown) and is told once per job, and a
 * middleware that calls `doEmbed` twice in one call has its second request admitted by the limiter on
 * its own.
 */
import { describe, expect, it } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import { createMemoryLimiterStore, createRateLimiter, type LimiterStore } from '../src/engine/limiter.js';
import type { WaitEvent } from '../src/engine/settings.js';
import { ConnectionError, RateLimitError } from '../src/errors.js';
import { type EmbeddingModelMiddleware, wrapEmbeddingModel } from '../src/middleware.js';
import type { EmbeddingModel, Warning } from '../src/types.js';
import { rejectionOf, ScriptedModel, VirtualClock } from './helpers.js';

/** A limiter on a store that fails `method` (a shared store out of reach at that moment). */
function failingLimiter(method: 'pause' | 'adjust') {
  const store: LimiterStore = {
    ...createMemoryLimiterStore(),
    [method]: () => {
      throw new Error('store unreachable');
    },
  };
  return createRateLimiter({ requestsPerMinute: 1_000, store });
}

const failedCallWarning: Warning = {
  type: 'other',
  message:
    "The rate limiter could not record a failed call (store unreachable); the call's own error is retried or thrown as usual, and the limiter's budgets and 429 pause may not count it.",
};

describe('a failed call whose limiter cannot settle it', () => {
  it('a 429 is still retried after its own wait, and the store failure is said once per job', async () => {
    const clock = new VirtualClock();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => {
        // The first attempt of each input is refused.
        if (call.number === 1 || call.number === 3)
          throw new RateLimitError('slow down', { retryAfterMs: 2_000 });
        return undefined;
      },
    });
    const heard: Warning[] = [];
    const result = await embedMany({
      model,
      inputs: ['1', '2'],
      concurrency: 1,
      clock,
      rateLimit: failingLimiter('pause'),
      onWarning: (warning) => heard.push(warning),
    });
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([
      [1, 1],
      [2, 1],
    ]);
    // Each retry waited the 429's two seconds, though the limiter could not record the pause.
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 2_000, 2_000, 4_000]);
    expect(result.warnings).toEqual([failedCallWarning]);
    expect(heard).toEqual([failedCallWarning]);
  });

  it('an error that is not retried reaches the caller as itself, not as the store failure', async () => {
    const refused = new ConnectionError('connection refused', { neverSent: true, provider: 'scripted' });
    const model = new ScriptedModel({
      respond: () => {
        throw refused;
      },
    });
    const heard: Warning[] = [];
    const error = await rejectionOf(
      ConnectionError,
      embedMany({
        model,
        inputs: ['1'],
        maxRetries: 0,
        rateLimit: failingLimiter('adjust'),
        onWarning: (warning) => heard.push(warning),
      }),
    );
    expect(error).toBe(refused);
    expect(error.code).toBe('connection');
    expect(error.message).toBe('connection refused');
    expect(model.calls).toHaveLength(1);
    expect(heard).toEqual([failedCallWarning]);
  });
});

describe('a middleware that calls doEmbed twice in one call', () => {
  /** Sends the request, then sends it again (a hand-made retry). */
  const twice: EmbeddingModelMiddleware = {
    wrapEmbed: async ({ doEmbed, request }) => {
      await doEmbed(request);
      return doEmbed(request);
    },
  };

  const shapes = [
    ['the model', (inner: EmbeddingModel) => wrapEmbeddingModel(inner, twice)],
    ['a wrapped model', (inner: EmbeddingModel) => wrapEmbeddingModel(wrapEmbeddingModel(inner, {}), twice)],
  ] as const;

  it.each(shapes)('around %s, its second request is admitted by the limiter on its own', async (_, wrap) => {
    const clock = new VirtualClock();
    const inner = new ScriptedModel({ clock });
    const waits: WaitEvent[] = [];
    const result = await embedMany({
      model: wrap(inner),
      inputs: ['1'],
      clock,
      // One request a minute: the second request of the call waits for the next.
      rateLimit: createRateLimiter({ requestsPerMinute: 1 }),
      onWait: (event) => waits.push(event),
    });
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([[1, 1]]);
    expect(inner.calls.map((call) => call.startedAt)).toEqual([0, 60_000]);
    expect(waits).toEqual([{ reason: 'rate-limit', delayMs: 60_000 }]);
  });
});
