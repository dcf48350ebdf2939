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

/**
 * Runs `run` until one run sees `offset` (a wall clock less the monotonic one) move by at most
 * `STEP_TOLERANCE_MS`, at most three times: a run during which the wall clock stepped measures the
 * machine, not the limiter. Returns the last run and the step of every run set aside.
 */
async function runWithoutClockStep<T>(
  run: () => Promise<T>,
  offset: () => Promise<number>,
  log: (line: string) => void,
): Promise<{ result: T; steps: number[] }> {
  const steps: number[] = [];
  for (;;) {
    const before = await offset();
    const result = await run();
    const step = (await offset()) - before;
    if (Math.abs(step) <= STEP_TOLERANCE_MS) return { result, steps };
    steps.push(step);
    if (steps.length === 3) return { result, steps };
    log(`the wall clock stepped ${step.toFixed(0)} ms against the monotonic clock during the run: run again`);
  }
}

describe('the step check of the four-process run', () => {
  /** Offsets read in turn (two per run), and what the check did with them. */
  async function check(offsets: number[]) {
    const lines: string[] = [];
    let runs = 0;
    const { result, steps } = await runWithoutClockStep(
      async () => ++runs,
      async () => offsets.shift()!,
      (line) => lines.push(line),
    );
    return { runs, result, steps, lines, unread: offsets.length };
  }

  it('a run with no step is taken as it is', async () => {
    // Drift within the tolerance, either way, is no step.
    expect(await check([5_000, 5_100])).toEqual({ runs: 1, result: 1, steps: [], lines: [], unread: 0 });
    expect(await check([5_000, 4_900])).toEqual({ runs: 1, result: 1, steps: [], lines: [], unread: 0 });
  });

  it('a run during which the clock stepped, forward or back, is run again, and says so', async () => {
    expect(await check([0, 1_496, 1_496, 1_500])).toEqual({
      runs: 2,
      result: 2,
      steps: [1_496],
      lines: ['the wall clock stepped 1496 ms against the monotonic clock during the run: run again'],
      unread: 0,
    });
    const back = await check([0, -3_600_000, -3_600_000, -3_600_000]);
    expect([back.runs, back.steps]).toEqual([2, [-3_600_000]]);
  });

  it('three stepped runs in a row end the tries, with every step', async () => {
    const stepped = await check([0, 200, 200, 400, 400, 600, 600, 600]);
    expect([stepped.runs, stepped.steps, stepped.lines.length, stepped.unread]).toEqual([
      3,
      [200, 200, 200],
      2,
      2,
    ]);
  });

  it("Redis's clock less the monotonic clock is read in ms, Redis and this process on one machine", async () => {
    // On one machine, Redis's TIME and performance.timeOrigin + performance.now() agree within a few ms
    // (seen here: 1-3 ms, Date.now()'s resolution), reading after reading. A reading off by the time
    // origin is off by decades; one with the microseconds in other units is off by up to a second,
    // differently each time (five readings 20 ms apart all within 50 ms by chance: about 1 in 3 million).
    const offsets: number[] = [];
    for (let reading = 0; reading < 5; reading++) {
      offsets.push(await redisClockOffset());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const offset of offsets) expect(Math.abs(offset), offsets.join(', ')).toBeLessThan(50);
  });
});

describe('four processes, one account', () => {
  // Four real child processes (bench/src/limiter-worker.mjs), each with its own connection to Redis,
  // embed 1:2:3:4 shares of 70,000 tokens' worth of inputs through the bench's loopback server, which
  // enforces 60,000 tokens a minute on their shared key: about 10 s of work after the first minute's
  // bucket. Fails if the budget is not shared (a process alone would finish at its own pace and the
  // others would over-draw: 429s) or if it is shared too cautiously (share under 90 %).
  it('sharing one limiter on Redis, they reach >= 90 % of the allowed tokens/min with <= 1 % of requests answered 429', async () => {
    // Header learning off: the server's x-ratelimit-* headers would let each process pace itself even
    // with a budget that is not shared, and hide a store that shares nothing.
    const { result: measured, steps } = await runWithoutClockStep(
      () => runLimiterProcesses({ limiter: 'redis', redisUrl: env.redis.url, learnFromHeaders: false }),
      redisClockOffset,
      console.log,
    );
    expect(steps.length, `the wall clock stepped in every run: ${steps.join(', ')} ms`).toBeLessThan(3);
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
