import { describe, expect, it } from 'vitest';
import { runLimiterProcesses } from '../../../bench/src/limiter-run.mjs';
import { redisForTests } from './helpers.js';

const env = redisForTests();

describe('four processes, one account', () => {
  // Four real child processes (bench/src/limiter-worker.mjs), each with its own connection to Redis,
  // embed 1:2:3:4 shares of 70,000 tokens' worth of inputs through the bench's loopback server, which
  // enforces 60,000 tokens a minute on their shared key: about 10 s of work after the first minute's
  // bucket. Fails if the budget is not shared (a process alone would finish at its own pace and the
  // others would over-draw: 429s) or if it is shared too cautiously (share under 90 %).
  it('sharing one limiter on Redis, they reach >= 90 % of the allowed tokens/min with <= 1 % of requests answered 429', async () => {
    // Header learning off: the server's x-ratelimit-* headers would let each process pace itself even
    // with a budget that is not shared, and hide a store that shares nothing.
    const run = await runLimiterProcesses({
      limiter: 'redis',
      redisUrl: env.redis.url,
      learnFromHeaders: false,
    });
    for (const worker of run.workers) {
      expect(worker.error).toBeUndefined();
      expect(worker.wrong).toBe(0);
      expect(worker.vectors).toBe(worker.inputs);
      expect(worker.warnings).toEqual([]);
    }
    expect(run.acceptedTokens).toBe(run.workTokens);
    expect(run.share).toBeGreaterThanOrEqual(0.9);
    expect(run.rateLimited / run.requests).toBeLessThanOrEqual(0.01);
  }, 120_000);
});
