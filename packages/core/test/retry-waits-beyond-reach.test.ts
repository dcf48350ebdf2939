/**
 * A wait the API asks for that the retries left cannot reach: each retry waits at most `maxRetryDelayMs`,
 * so a retry made before the moment the API named is bound to be refused again. The call then fails at
 * once, its hint saying how long the API asked for and how to wait it out; a wait past the cap that the
 * retries can still reach is retried a capped wait at a time, as before.
 */
import { describe, expect, it } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import { InvalidArgumentError, RateLimitError, RetryError, ServerError } from '../src/errors.js';
import { rejection, ScriptedModel, VirtualClock, vectorFor } from './helpers.js';

const LIMITED =
  'acme API error 429: Rate limit reached on requests per day (RPD): Limit 200, Used 200. Please try again in 7m12s.';
const CLAIM = ' — Lower concurrency or set rateLimit; the engine retries these.';

/** A model refused once per wait in `waits` (a 429 asking for it), then answering. */
function refusing(waits: number[], clock: VirtualClock) {
  return new ScriptedModel({
    clock,
    respond: (call) => {
      const wait = waits[call.number - 1];
      if (wait !== undefined)
        throw new RateLimitError(`${LIMITED}${CLAIM}`, { statusCode: 429, retryAfterMs: wait });
      return undefined;
    },
  });
}

describe('a wait the retries left cannot reach', () => {
  it('fails the call at once with the 429, saying how long to wait and how to wait it out', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = refusing([432_000, 432_000, 432_000, 432_000], clock);
    const error = await rejection(embedMany({ model, inputs: ['1'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      retryAfterMs: 432_000,
      isRetryable: true,
    });
    expect((error as Error).message).toBe(
      `${LIMITED} — Lower concurrency or set rateLimit; the API asked to wait 432 s, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after 432 s, or set maxRetryDelayMs to 432000 for the engine to wait it out.`,
    );
    expect(model.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('is waited out when maxRetryDelayMs covers it', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = refusing([432_000], clock);
    const result = await embedMany({ model, inputs: ['1'], clock, maxRetryDelayMs: 432_000 });
    expect(result.embeddings).toEqual([vectorFor('1')]);
    expect(clock.sleeps.map((sleep) => sleep.ms)).toEqual([432_000]);
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 432_000]);
  });

  it('a wait past the cap that the retries can reach is still retried, a capped wait at a time', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    // 120 s under the 60 s default: three retries reach 180 s; the second refusal asks for the 60 s left.
    const model = refusing([120_000, 60_000], clock);
    const result = await embedMany({ model, inputs: ['1'], clock });
    expect(result.embeddings).toEqual([vectorFor('1')]);
    expect(clock.sleeps.map((sleep) => sleep.ms)).toEqual([60_000, 60_000]);
    expect(model.calls).toHaveLength(3);
  });

  it('once the retries left no longer reach it, a RetryError holds every refusal', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    // 90 s each time: 3 retries reach 180 s, 2 reach 120 s, 1 reaches 60 s only.
    const model = refusing([90_000, 90_000, 90_000, 90_000], clock);
    const error = await rejection(embedMany({ model, inputs: ['1'], clock }));
    expect(RetryError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'retries_exhausted', attempts: 3, retryAfterMs: 90_000 });
    expect((error as Error).message).toBe(
      `scripted model scripted-1 failed 3 times; the last error: ${LIMITED} — Lower concurrency or set rateLimit; the API asked to wait 90 s, longer than the engine's retries can wait (1 left, at most maxRetryDelayMs 60000 ms each), so no further retry was made: try again after 90 s, or set maxRetryDelayMs to 90000 for the engine to wait it out.`,
    );
    expect(clock.sleeps.map((sleep) => sleep.ms)).toEqual([60_000, 60_000]);
    expect(model.calls).toHaveLength(3);
  });

  it('an error that makes no retry claim gets the hint after its message; a 503 too', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = new ScriptedModel({
      clock,
      respond: () => {
        throw new ServerError('down for maintenance', { statusCode: 503, retryAfterMs: 3_600_000 });
      },
    });
    const error = await rejection(
      embedMany({ model, inputs: ['1'], clock, maxRetries: 2, maxRetryDelayMs: 5_000 }),
    );
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'server_error', statusCode: 503 });
    expect((error as Error).message).toBe(
      "down for maintenance — the API asked to wait 3600 s, longer than the engine's retries can wait (2 left, at most maxRetryDelayMs 5000 ms each), so no retry was made: try again after 3600 s, or set maxRetryDelayMs to 3600000 for the engine to wait it out.",
    );
    expect((error as Error).stack).toContain('down for maintenance — the API asked to wait 3600 s');
    expect(model.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a wait longer than any maxRetryDelayMs (30 days) advises no setting that would be refused', async () => {
    const days30 = 30 * 86_400_000;
    const clock = new VirtualClock({ random: [0.5] });
    const model = refusing([days30], clock);
    const error = await rejection(embedMany({ model, inputs: ['1'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: days30 });
    expect((error as Error).message).toBe(
      `${LIMITED} — Lower concurrency or set rateLimit; the API asked to wait 30 days, longer than the engine's retries can wait (3 left, at most maxRetryDelayMs 60000 ms each), so no retry was made: try again after 30 days, longer than the engine can wait out (maxRetryDelayMs is at most 2147483647).`,
    );
    // The advice a shorter wait gets would be refused here.
    const refused = await rejection(embedMany({ model, inputs: ['1'], clock, maxRetryDelayMs: days30 }));
    expect(InvalidArgumentError.isInstance(refused)).toBe(true);
    expect(model.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('with retries turned off the hint still says so', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = refusing([432_000], clock);
    const error = await rejection(embedMany({ model, inputs: ['1'], clock, maxRetries: 0 }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `${LIMITED} — Lower concurrency or set rateLimit; retries are turned off (maxRetries 0), so none was made.`,
    );
  });
});
