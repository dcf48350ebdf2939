import { type BucketSpec, createMemoryLimiterStore, type LimiterStore } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createRedisLimiterStore, type RedisLimiterStore } from '../src/index.js';
import { redisForTests, until, warningLog } from './helpers.js';

const env = redisForTests();
let namespaces = 0;

/** A store on the test's Redis, in a namespace of its own unless one is given. */
async function store(
  options: Parameters<typeof createRedisLimiterStore>[0] = {},
): Promise<RedisLimiterStore> {
  return env.track(
    await createRedisLimiterStore({
      url: env.redis.url,
      namespace: `limiter-test-${++namespaces}`,
      onWarning: () => {},
      ...options,
    }),
  );
}

// A bucket of 10 that refills one a second.
const SMALL: BucketSpec = { capacity: 10, perMinute: 600 };
const SLOW: BucketSpec = { capacity: 10, perMinute: 60 };

type Step =
  | { take: [key: string, bucket: BucketSpec, amount: number, now: number]; answer: number }
  | { adjust: [key: string, bucket: BucketSpec, amount: number, now: number] }
  | { lower: [key: string, bucket: BucketSpec, level: number, now: number] }
  | { pause: [key: string, until: number] }
  | { pausedUntil: string; answer: number };

/**
 * The memory store's semantics, step by step, with the caller's clock. The Redis store in `caller` time
 * must give the same answers: each case names the bug that makes it differ.
 */
const SCENARIOS: { name: string; steps: Step[] }[] = [
  {
    name: 'a new bucket starts full; once empty, the wait is the time to refill what is missing',
    steps: [
      { take: ['a', SLOW, 10, 0], answer: 0 },
      { take: ['a', SLOW, 1, 0], answer: 1_000 },
      { take: ['a', SLOW, 1, 500], answer: 500 },
      { take: ['a', SLOW, 1, 1_000], answer: 0 },
      { take: ['a', SLOW, 3, 1_000], answer: 3_000 },
    ],
  },
  {
    name: 'refill stops at capacity however long the bucket sat',
    steps: [
      { take: ['b', SLOW, 10, 0], answer: 0 },
      { take: ['b', SLOW, 10, 3_600_000], answer: 0 },
      { take: ['b', SLOW, 1, 3_600_000], answer: 1_000 },
    ],
  },
  {
    name: 'a take larger than capacity waits for a full bucket, then drives it negative',
    steps: [
      { take: ['c', SLOW, 4, 0], answer: 0 },
      { take: ['c', SLOW, 25, 0], answer: 4_000 },
      { take: ['c', SLOW, 25, 4_000], answer: 0 },
      { take: ['c', SLOW, 1, 4_000], answer: 16_000 },
    ],
  },
  {
    name: 'adjust gives back (never above capacity) and charges (below zero)',
    steps: [
      { take: ['d', SLOW, 8, 0], answer: 0 },
      { adjust: ['d', SLOW, 100, 0] },
      { take: ['d', SLOW, 10, 0], answer: 0 },
      { adjust: ['d', SLOW, -5, 0] },
      { take: ['d', SLOW, 1, 0], answer: 6_000 },
      { adjust: ['d', SLOW, 3, 0] },
      { take: ['d', SLOW, 1, 0], answer: 3_000 },
    ],
  },
  {
    name: 'adjust on a bucket never used starts from full',
    steps: [{ adjust: ['e', SMALL, -12, 0] }, { take: ['e', SMALL, 1, 0], answer: 300 }],
  },
  {
    name: 'lower refills to now first, lowers, and never raises',
    steps: [
      { take: ['l', SLOW, 8, 0], answer: 0 },
      { lower: ['l', SLOW, 5, 0] },
      { take: ['l', SLOW, 3, 0], answer: 1_000 },
      { lower: ['l', SLOW, 1, 1_000] },
      { take: ['l', SLOW, 1, 1_000], answer: 0 },
      { take: ['l', SLOW, 1, 1_000], answer: 1_000 },
      { lower: ['l', SLOW, -3, 1_000] },
      { take: ['l', SLOW, 1, 1_000], answer: 4_000 },
    ],
  },
  {
    name: 'lower on a bucket never used starts from full',
    steps: [{ lower: ['m', SLOW, 4, 0] }, { take: ['m', SLOW, 5, 0], answer: 1_000 }],
  },
  {
    name: 'fractional levels are kept exactly between calls',
    steps: [
      { take: ['f', SLOW, 10, 0], answer: 0 },
      { take: ['f', SLOW, 1, 333], answer: 667 },
      { take: ['f', SLOW, 1, 666], answer: 334 },
      { take: ['f', SLOW, 1, 999.5], answer: 1 },
      { take: ['f', SLOW, 1, 1_000], answer: 0 },
    ],
  },
  {
    name: 'a clock that goes backwards refills nothing',
    steps: [
      { take: ['g', SLOW, 10, 5_000], answer: 0 },
      { take: ['g', SLOW, 1, 4_000], answer: 1_000 },
      // Nor is the time it went back counted again later: callers' clocks differ by their skew.
      { take: ['g', SLOW, 1, 5_000], answer: 1_000 },
    ],
  },
  {
    name: 'keys are independent',
    steps: [
      { take: ['h1', SLOW, 10, 0], answer: 0 },
      { take: ['h2', SLOW, 10, 0], answer: 0 },
      { take: ['h1', SLOW, 1, 0], answer: 1_000 },
    ],
  },
  {
    name: 'a pause is raised, never lowered; an unknown key is not paused',
    steps: [
      { pausedUntil: 'p', answer: 0 },
      { pause: ['p', 5_000] },
      { pausedUntil: 'p', answer: 5_000 },
      { pause: ['p', 3_000] },
      { pausedUntil: 'p', answer: 5_000 },
      { pause: ['p', 8_000] },
      { pausedUntil: 'p', answer: 8_000 },
    ],
  },
];

async function play(target: LimiterStore, steps: Step[]): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const step of steps) {
    if ('take' in step) answers.push(await target.take(...step.take));
    else if ('adjust' in step) answers.push(await target.adjust(...step.adjust));
    else if ('lower' in step) answers.push(await target.lower(...step.lower));
    // The steps keep time from 0, as the store under test does (`now: () => 0`).
    else if ('pause' in step) answers.push(await target.pause(...step.pause, 0));
    else answers.push(await target.pausedUntil(step.pausedUntil, 0));
  }
  return answers;
}

function expectedAnswers(steps: Step[]): unknown[] {
  return steps.map((step) => ('answer' in step ? step.answer : undefined));
}

describe('the Redis limiter store has the memory store’s semantics', () => {
  it.each(SCENARIOS)('memory store: $name', async ({ steps }) => {
    expect(await play(createMemoryLimiterStore(), steps)).toEqual(expectedAnswers(steps));
  });

  it.each(SCENARIOS)('Redis store, caller time: $name', async ({ steps }) => {
    // The pause steps' clock is the scenario's: time 0.
    const target = await store({ time: 'caller', now: () => 0 });
    expect(await play(target, steps)).toEqual(expectedAnswers(steps));
  });

  // A limit learned higher (a new tier's x-ratelimit-limit, or another process's larger setting on the
  // key): the memory store keeps a bucket a minute after it refilled, so the larger budget fills from
  // what was left; Redis dropped the key 1 s after the old, smaller budget was full, and the next take
  // found a new bucket full at the larger size, letting 10,000 tokens through at once where the memory
  // store spaced them over 8.1 s.
  it('a bucket full again for a second, then used at a larger limit, answers as the memory store does', async () => {
    const steps: Step[] = [
      { take: ['r', { capacity: 600, perMinute: 600 }, 1, 0], answer: 0 },
      { take: ['r', { capacity: 60_000, perMinute: 60_000 }, 10_000, 1_300], answer: 8_101 },
    ];
    expect(await play(createMemoryLimiterStore(), steps)).toEqual(expectedAnswers(steps));
    const target = await store({ namespace: 'larger-limit', time: 'caller', now: () => 0 });
    await play(target, steps.slice(0, 1));
    // The key's expiry runs on Redis's clock, which no test can move: instead of waiting it out, its time
    // to live says it outlives the second step. The old budget is full 100 ms after the take, and the key
    // is kept a minute after that, as the memory store keeps the bucket (the real milliseconds since the
    // take are all it may have lost).
    const ttl = Number(await env.look.send(['PTTL', 'larger-limit:limiter:r']));
    expect(ttl).toBeGreaterThan(60_100 - 1_000);
    expect(ttl).toBeLessThanOrEqual(60_100);
    // The second step comes 1.3 s after the first, by then within the key's life: it finds the bucket.
    expect(await play(target, steps.slice(1))).toEqual([8_101]);
  });
});

describe('Redis time', () => {
  it('refills by Redis’s clock whatever `now` the caller passes', async () => {
    const target = await store();
    expect(await target.take('bucket', SLOW, 10, 0)).toBe(0);
    // A caller clock an hour ahead must not refill the bucket: only Redis's clock counts.
    const wait = await target.take('bucket', SLOW, 1, 3_600_000);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
  });

  it('a pause crosses machines as a duration: a replica whose clock is a minute ahead pauses the others for the same 5 s', async () => {
    const namespace = 'skewed-clocks';
    const ahead = await store({ namespace, now: () => Date.now() + 60_000 });
    const onTime = await store({ namespace });
    await ahead.pause('account:pause', Date.now() + 60_000 + 5_000);
    const left = (await onTime.pausedUntil('account:pause')) - Date.now();
    expect(left).toBeGreaterThan(4_000);
    expect(left).toBeLessThanOrEqual(5_000);
    // The replica ahead sees the same pause in its own time.
    const leftAhead = (await ahead.pausedUntil('account:pause')) - (Date.now() + 60_000);
    expect(leftAhead).toBeGreaterThan(4_000);
    expect(leftAhead).toBeLessThanOrEqual(5_000);
  });

  it('caller time keeps the caller’s numbers: the same skew then lengthens the pause (why Redis time is the default)', async () => {
    const namespace = 'skewed-caller-clocks';
    const ahead = await store({ namespace, time: 'caller', now: () => Date.now() + 60_000 });
    const onTime = await store({ namespace, time: 'caller' });
    await ahead.pause('account:pause', Date.now() + 60_000 + 5_000);
    const left = (await onTime.pausedUntil('account:pause')) - Date.now();
    expect(left).toBeGreaterThan(60_000);
  });
});

/** Redis's own clock, ms. */
async function redisNow(): Promise<number> {
  const [seconds, micros] = (await env.look.send(['TIME'])) as [string, string];
  return Number(seconds) * 1_000 + Number(micros) / 1_000;
}

describe('Redis’s clock steps back (its host’s wall clock corrected)', () => {
  it('a bucket saved “in the future” refills from now on, not once the clock is back where it was', async () => {
    const target = await store({ namespace: 'stepped-bucket' });
    expect(await target.take('k:tokens', SMALL, 10, 0)).toBe(0);
    // What an hour's step back leaves: the bucket last updated an hour from now.
    await env.look.send([
      'HSET',
      'stepped-bucket:limiter:k:tokens',
      'updatedAt',
      String((await redisNow()) + 3_600_000),
    ]);
    const wait = await target.take('k:tokens', SMALL, 1, 0);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(100);
    await new Promise((resolve) => setTimeout(resolve, wait + 20));
    // Kept until Redis's clock passes the saved time, the bucket would wait an hour.
    expect(await target.take('k:tokens', SMALL, 1, 0)).toBe(0);
  });

  it('a pause cannot last longer than it was set for: it ends one length from now', async () => {
    const target = await store({ namespace: 'stepped-pause' });
    // The same `now` for the end and the store's reading of it: a millisecond ticking between two
    // `Date.now()` calls would make the length 1,999.
    const now = Date.now();
    await target.pause('k:pause', now + 2_000, now);
    const [ends, length] = String(await env.look.send(['GET', 'stepped-pause:limiter:k:pause']))
      .split(' ')
      .map(Number);
    expect(length).toBe(2_000);
    expect(Math.abs(ends! - (await redisNow()) - 2_000)).toBeLessThan(50);
    // The same pause after an hour's step back: its end an hour further away than its length.
    await env.look.send(['SET', 'stepped-pause:limiter:k:pause', `${ends! + 3_600_000} 2000`]);
    const left = (await target.pausedUntil('k:pause')) - Date.now();
    expect(left).toBeGreaterThan(1_900);
    expect(left).toBeLessThanOrEqual(2_000);
    // And that end is saved, so the pause runs out.
    const saved = Number(String(await env.look.send(['GET', 'stepped-pause:limiter:k:pause'])).split(' ')[0]);
    expect(Math.abs(saved - (await redisNow()) - 2_000)).toBeLessThan(50);
  });

  it('a pause written by an earlier version (its end alone) is still honoured', async () => {
    const target = await store({ namespace: 'older-pause' });
    await env.look.send(['SET', 'older-pause:limiter:k:pause', String((await redisNow()) + 3_000)]);
    const left = (await target.pausedUntil('k:pause')) - Date.now();
    expect(left).toBeGreaterThan(2_900);
    expect(left).toBeLessThanOrEqual(3_000);
  });
});

describe('sharing', () => {
  it('two stores (two processes) on one namespace share one bucket and one pause', async () => {
    const first = await store({ namespace: 'shared' });
    const second = await store({ namespace: 'shared' });
    expect(await first.take('openai:tokens', SLOW, 6, 0)).toBe(0);
    expect(await second.take('openai:tokens', SLOW, 4, 0)).toBe(0);
    expect(await first.take('openai:tokens', SLOW, 1, 0)).toBeGreaterThan(0);
    const until = Date.now() + 30_000;
    await first.pause('openai:pause', until);
    expect(Math.abs((await second.pausedUntil('openai:pause')) - until)).toBeLessThan(50);
  });

  it('a shorter pause from another process never lowers the shared one', async () => {
    const long = await store({ namespace: 'pauses' });
    const short = await store({ namespace: 'pauses' });
    const fresh = await store({ namespace: 'pauses' });
    const until = Date.now() + 30_000;
    await long.pause('k:pause', until);
    await short.pause('k:pause', Date.now() + 10_000);
    expect(Math.abs((await fresh.pausedUntil('k:pause')) - until)).toBeLessThan(50);
  });

  it('namespaces keep budgets apart, and every key lives under the namespace', async () => {
    const one = await store({ namespace: 'team-one' });
    const two = await store({ namespace: 'team-two' });
    expect(await one.take('k:tokens', SLOW, 10, 0)).toBe(0);
    expect(await two.take('k:tokens', SLOW, 10, 0)).toBe(0);
    await one.pause('k:pause', Date.now() + 10_000);
    expect(await two.pausedUntil('k:pause')).toBe(0);
    expect(((await env.look.send(['KEYS', 'team-one:*'])) as string[]).sort()).toEqual([
      'team-one:limiter:k:pause',
      'team-one:limiter:k:tokens',
    ]);
  });

  it('a bucket expires once it would be full again, and a pause once it is over', async () => {
    const target = await store({ namespace: 'expiry' });
    await target.take('k:tokens', SMALL, 4, 0);
    // 4 of 10 tokens at 10 a second are back after 400 ms; the key goes a minute after that, as the memory
    // store drops a bucket.
    const ttl = Number(await env.look.send(['PTTL', 'expiry:limiter:k:tokens']));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(60_400);
    await target.pause('k:pause', Date.now() + 3_000);
    const pauseTtl = Number(await env.look.send(['PTTL', 'expiry:limiter:k:pause']));
    expect(pauseTtl).toBeGreaterThan(3_000);
    expect(pauseTtl).toBeLessThanOrEqual(4_000);
  });

  it('each operation is one script run (EVALSHA), and the script is sent in full only once', async () => {
    const target = await store({ namespace: 'one-round-trip' });
    await env.look.send(['SCRIPT', 'FLUSH']);
    await env.look.send(['CONFIG', 'RESETSTAT']);
    await target.take('k:tokens', SLOW, 1, 0);
    await target.take('k:tokens', SLOW, 1, 0);
    await target.adjust('k:tokens', SLOW, 1, 0);
    const stats = String(await env.look.send(['INFO', 'commandstats']));
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // The first take finds no script (EVALSHA fails, then EVAL), the second runs it by hash; adjust is a
    // script of its own, so it too is sent once.
    expect(calls('evalsha')).toBe(3);
    expect(calls('eval')).toBe(2);
  });
});

describe('without Redis', () => {
  it('falls back to local state with one warning, and re-attaches when Redis is back', async () => {
    const log = warningLog();
    const target = await store({ namespace: 'outage', onWarning: log.onWarning });
    expect(await target.take('k:tokens', SLOW, 10, 0)).toBe(0);
    await env.redis.kill();
    try {
      // The local bucket is new (full): the process keeps going on its own budget.
      expect(await target.take('k:tokens', SLOW, 10, 0)).toBe(0);
      expect(await target.take('k:tokens', SLOW, 1, 0)).toBe(1_000);
      await target.pause('k:pause', Date.now() + 5_000);
      expect(await target.pausedUntil('k:pause')).toBeGreaterThan(Date.now());
      expect(target.usingFallback).toBe(true);
      expect(log.codes()).toEqual(['redis-unavailable']);
      expect(log.warnings[0]!.message).toMatch(
        /^Redis is unavailable \(.+\); the rate limiter uses this process's own memory until it is back\.$/,
      );
    } finally {
      await env.redis.start();
    }
    await until(async () => {
      await target.take('probe', SLOW, 1, 0);
      return !target.usingFallback;
    }, 'the store to reconnect');
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    // Back on Redis (restarted empty): the bucket is shared again.
    expect(await env.look.send(['EXISTS', 'outage:limiter:probe'])).toBe(1);
    // This process still honours the pause it was told of while Redis was away.
    expect(await target.pausedUntil('k:pause')).toBeGreaterThan(Date.now());
  });

  it('a Redis that stops answering is left after the timeout, and used again once it answers', async () => {
    const log = warningLog();
    const target = await store({ namespace: 'frozen', timeoutMs: 200, onWarning: log.onWarning });
    expect(await target.take('k:tokens', SLOW, 5, 0)).toBe(0);
    env.redis.freeze();
    try {
      const started = Date.now();
      expect(await target.take('k:tokens', SLOW, 10, 0)).toBe(0);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(log.codes()).toEqual(['redis-unavailable']);
      expect(log.warnings[0]!.message).toContain('no answer within 200 ms');
    } finally {
      env.redis.thaw();
    }
    await until(async () => {
      await target.take('probe', SLOW, 1, 0);
      return !target.usingFallback;
    }, 'Redis to answer again');
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
  });

  it('a client that is not connected is never waited on: the store uses local state from the first call', async () => {
    const log = warningLog();
    const target = await createRedisLimiterStore({
      client: { isReady: false, sendCommand: () => new Promise(() => {}) },
      onWarning: log.onWarning,
    });
    expect(await target.take('k', SLOW, 10, 0)).toBe(0);
    expect(await target.take('k', SLOW, 1, 0)).toBe(1_000);
    expect(log.codes()).toEqual(['redis-unavailable']);
    expect(log.warnings[0]!.message).toContain('the client is not connected');
  });
});
