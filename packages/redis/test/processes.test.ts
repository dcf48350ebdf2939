import { describe, expect, it } from 'vitest';
import { runLimiterProcesses } from '../../../bench/src/limiter-run.mjs';
import { redisForTests } from './helpers.js';

const env = redisForTests();

/**
 * Redis's clock (`TIME`, which the limiter store refills buckets by, and which follows the machine's wall
 * clock) less this process's monotonic clock, in ms. The bench's server keeps its budget by the monotonic
 * clock, as a remote API keeps its own: a change of this offset during a run is a step of the wall clock,
 * and a step forward hands the shared budget tokens the server never grants.
 */
async function redisClockOffset(): Promise<number> {
  const sent = performance.now();
  const [seconds, micros] = (await env.look.send(['TIME'])) as [string, string];
  const answered = performance.now();
  return Number(seconds) * 1_000 + Number(micros) / 1_000 - (performance.timeOrigin + (sent + answered) / 2);
}

/** A step smaller than this (ms, so tokens at 60,000 a minute) is well under one call's 320 tokens. */
const STEP_TOLERANCE_MS = 100;

describe('four processes, one account', () => {
  // Four real child processes (bench/src/limiter-worker.mjs), each with its own connection to Redis,
  // embed 1:2:3:4 shares of 70,000 tokens' worth of inputs through the bench's loopback server, which
  // enforces 60,000 tokens a minute on their shared key: about 10 s of work after the first minute's
  // bucket. Fails if the budget is not shared (a process alone would finish at its own pace and the
  // others would over-draw: 429s) or if it is shared too cautiously (share under 90 %).
  it('sharing one limiter on Redis, they reach >= 90 % of the allowed tokens/min with <= 1 % of requests answered 429', async () => {
    // A run during which the wall clock stepped measures the machine, not the limiter: it is run again,
    // and says so. Three runs in a row with a step fail.
    const steps: number[] = [];
    let run: Awaited<ReturnType<typeof runLimiterProcesses>> | undefined;
    while (steps.length < 3) {
      const before = await redisClockOffset();
      // Header learning off: the server's x-ratelimit-* headers would let each process pace itself even
      // with a budget that is not shared, and hide a store that shares nothing.
      run = await runLimiterProcesses({
        limiter: 'redis',
        redisUrl: env.redis.url,
        learnFromHeaders: false,
      });
      const step = (await redisClockOffset()) - before;
      if (Math.abs(step) <= STEP_TOLERANCE_MS) break;
      steps.push(step);
      console.log(
        `the wall clock stepped ${step.toFixed(0)} ms against the monotonic clock during the run: run again`,
      );
    }
    expect(steps.length, `the wall clock stepped in every run: ${steps.join(', ')} ms`).toBeLessThan(3);
    const measured = run!;
    for (const worker of measured.workers) {
      expect(worker.error).toBeUndefined();
      expect(worker.wrong).toBe(0);
      expect(worker.vectors).toBe(worker.inputs);
      expect(worker.warnings).toEqual([]);
    }
    // What the run did, printed with a failure: when the 429s came, the window, each process's retries.
    const figures = JSON.stringify({
      requests: measured.requests,
      rateLimited: measured.rateLimited,
      rateLimitedAtMs: measured.rateLimitedAtMs,
      windowMs: Math.round(measured.windowMs),
      share: measured.share,
      retries: measured.workers.map((worker) => worker.retries),
      wallMs: measured.workers.map((worker) => Math.round(worker.wallMs ?? Number.NaN)),
    });
    expect(measured.acceptedTokens, figures).toBe(measured.workTokens);
    expect(measured.share, figures).toBeGreaterThanOrEqual(0.9);
    expect(measured.rateLimited / measured.requests, figures).toBeLessThanOrEqual(0.01);
  }, 240_000);
});
