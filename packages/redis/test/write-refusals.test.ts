/**
 * A Redis that answers reads but refuses writes: out of memory (`maxmemory` reached with the `noeviction`
 * policy: "OOM command not allowed…") or a read-only replica ("READONLY…", as after a failover). Review
 * finding: every error reply counted as a lost connection and every successful read as the end of the
 * outage, so each call warned `redis-unavailable` then `redis-restored` (4 warnings a call for both
 * stores), and the limiter said it "shares its budget through Redis again" while its take script kept
 * failing.
 */
import {
  type BucketSpec,
  cacheMiddleware,
  createRateLimiter,
  embedMany,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { closedPort, redisForTests, until, warningLog } from './helpers.js';

const env = redisForTests();

const SLOW: BucketSpec = { capacity: 10, perMinute: 60 };

/** A setting of the test's Redis (CONFIG GET answers a map or, in RESP2, a flat array). */
async function configGet(name: string): Promise<string> {
  const reply = await env.look.send(['CONFIG', 'GET', name]);
  if (Array.isArray(reply)) return String(reply[1]);
  if (reply instanceof Map) return String(reply.get(name));
  return String((reply as Record<string, unknown>)[name]);
}

/** Makes the test's Redis refuse writes (reads still answered); the function returned undoes it. */
const REFUSALS = {
  'out of memory (maxmemory 1, noeviction)': {
    reply: 'OOM',
    async refuse(): Promise<() => Promise<void>> {
      const maxmemory = await configGet('maxmemory');
      const policy = await configGet('maxmemory-policy');
      await env.look.send(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      await env.look.send(['CONFIG', 'SET', 'maxmemory', '1']);
      return async () => {
        await env.look.send(['CONFIG', 'SET', 'maxmemory', maxmemory]);
        await env.look.send(['CONFIG', 'SET', 'maxmemory-policy', policy]);
      };
    },
  },
  'a read-only replica (of a master it cannot reach)': {
    reply: 'READONLY',
    async refuse(): Promise<() => Promise<void>> {
      await env.look.send(['REPLICAOF', '127.0.0.1', String(await closedPort())]);
      return async () => {
        await env.look.send(['REPLICAOF', 'NO', 'ONE']);
      };
    },
  },
} as const;

let namespaces = 0;

describe.each(Object.entries(REFUSALS))('a Redis that refuses writes: %s', (_, refusal) => {
  it('is one outage for each store, not one per call; the limiter never claims to share its budget while its scripts fail; both are back once writes succeed', async () => {
    const namespace = `refusing-${++namespaces}`;
    const limiterLog = warningLog();
    const cacheLog = warningLog();
    const limiterStore = env.track(
      await createRedisLimiterStore({ url: env.redis.url, namespace, onWarning: limiterLog.onWarning }),
    );
    const cacheStore = env.track(
      await createRedisCacheStore({ url: env.redis.url, namespace, onWarning: cacheLog.onWarning }),
    );
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: cacheStore }));
    const rateLimit = createRateLimiter({ requestsPerMinute: 6_000, store: limiterStore, key: 'account' });
    await embedMany({ model, inputs: ['warm'], rateLimit });
    expect(limiterLog.codes()).toEqual([]);
    expect(cacheLog.codes()).toEqual([]);

    const undo = await refusal.refuse();
    try {
      for (let index = 0; index < 5; index++) {
        const result = await embedMany({ model, inputs: ['warm', `new ${index}`], rateLimit });
        expect(result.embeddings).toEqual([hashVector('warm', 8), hashVector(`new ${index}`, 8)]);
        // The limiter's take script fails: this process limits itself, and says so, after every call.
        expect(limiterStore.usingFallback).toBe(true);
        expect(cacheStore.usingFallback).toBe(true);
      }
      // A pause read from Redis (a read, which Redis still serves) does not end the outage either.
      expect(await limiterStore.pausedUntil('account', Date.now())).toBe(0);
      expect(await limiterStore.take('direct', SLOW, 10, 0)).toBe(0);
      expect(await limiterStore.take('direct', SLOW, 1, 0)).toBe(1_000);
      expect(limiterStore.usingFallback).toBe(true);

      expect(limiterLog.codes()).toEqual(['redis-unavailable']);
      expect(limiterLog.warnings[0]!.message).toMatch(
        new RegExp(
          `^Redis refuses writes \\(${refusal.reply} .+\\); the rate limiter uses this process's own memory until Redis accepts them again\\.$`,
        ),
      );
      expect(cacheLog.codes()).toEqual(['redis-unavailable']);
      expect(cacheLog.warnings[0]!.message).toMatch(
        new RegExp(
          `^Redis refuses writes \\(${refusal.reply} .+\\); the cache skips writes until Redis accepts them again\\.$`,
        ),
      );
      // Reads are still served: "warm" came from Redis every time, only the new inputs went to the model.
      expect(inner.calls.map((call) => call.inputs)).toEqual([
        ['warm'],
        ...[0, 1, 2, 3, 4].map((index) => [`new ${index}`]),
      ]);
      expect(await env.look.send(['EXISTS', `${namespace}:limiter:direct`])).toBe(0);
    } finally {
      await undo();
    }

    // Writes succeed again: the first call that writes ends each store's outage, said once.
    await embedMany({ model, inputs: ['warm', 'after'], rateLimit });
    expect(limiterStore.usingFallback).toBe(false);
    expect(cacheStore.usingFallback).toBe(false);
    expect(limiterLog.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    expect(limiterLog.warnings[1]!.message).toBe(
      'Redis accepts writes again; the rate limiter shares its budget through Redis again.',
    );
    expect(cacheLog.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    expect(cacheLog.warnings[1]!.message).toBe(
      'Redis accepts writes again; the cache reads and writes Redis again.',
    );
    await limiterStore.take('direct', SLOW, 1, 0);
    expect(await env.look.send(['EXISTS', `${namespace}:limiter:direct`])).toBe(1);
    await embedMany({ model, inputs: ['after'], rateLimit });
    expect(inner.calls).toHaveLength(7);
  });
});

describe('an error reply that is not about availability', () => {
  it('is still reported (with what Redis said), and the outage ends once a script of the same kind succeeds', async () => {
    const log = warningLog();
    const limiterStore = env.track(
      await createRedisLimiterStore({ url: env.redis.url, namespace: 'broken', onWarning: log.onWarning }),
    );
    // A key of the wrong type where a bucket belongs: the take script fails with WRONGTYPE.
    await env.look.send(['SET', 'broken:limiter:k', 'not a bucket']);
    expect(await limiterStore.take('k', SLOW, 10, 0)).toBe(0);
    expect(await limiterStore.take('k', SLOW, 1, 0)).toBe(1_000);
    expect(limiterStore.usingFallback).toBe(true);
    expect(log.codes()).toEqual(['redis-unavailable']);
    expect(log.warnings[0]!.message).toMatch(
      /^Redis refuses writes \(WRONGTYPE .+\); the rate limiter uses this process's own memory until Redis accepts them again\.$/,
    );
    // A read that succeeds does not end it; a take on a sound bucket does.
    await limiterStore.pausedUntil('k', Date.now());
    expect(limiterStore.usingFallback).toBe(true);
    expect(await limiterStore.take('other', SLOW, 1, 0)).toBe(0);
    expect(limiterStore.usingFallback).toBe(false);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
  });
});

describe('an outage that widens', () => {
  // Review finding: once an outage was warned as refused writes, Redis refusing reads too, or going down
  // altogether, was never reported: the only warning said reads were still served while every read missed.
  it('Redis refusing reads as well as writes is warned once more, narrows when writes succeed, and ends once both do', async () => {
    const log = warningLog();
    const limiterStore = env.track(
      await createRedisLimiterStore({ url: env.redis.url, namespace: 'widening', onWarning: log.onWarning }),
    );
    // A list where a bucket and a pause belong: the take script (a write) and the pause read both fail.
    await env.look.send(['RPUSH', 'widening:limiter:k', 'not a bucket']);
    expect(await limiterStore.take('k', SLOW, 10, 0)).toBe(0);
    expect(log.codes()).toEqual(['redis-unavailable']);
    expect(await limiterStore.pausedUntil('k', 0)).toBe(0);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-unavailable']);
    expect(log.warnings[1]!.message).toMatch(
      /^Redis refuses reads \(WRONGTYPE .+\); the rate limiter honours only the pauses this process was told of until Redis accepts them again\.$/,
    );
    // The same state again is not warned again.
    expect(await limiterStore.take('k', SLOW, 1, 0)).toBe(1_000);
    await limiterStore.pausedUntil('k', 0);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-unavailable']);

    await env.look.send(['DEL', 'widening:limiter:k']);
    expect(await limiterStore.take('k', SLOW, 1, 0)).toBe(0);
    // Writes succeed again, but reads were refused too: the outage narrows (told), and goes on until one
    // succeeds.
    expect(limiterStore.usingFallback).toBe(true);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-unavailable', 'redis-unavailable']);
    expect(log.warnings[2]!.message).toMatch(
      /^Redis accepts writes again, but refused reads when last asked \(WRONGTYPE .+\); the rate limiter honours only the pauses this process was told of until Redis accepts them again\.$/,
    );
    // (Key "k" now holds a bucket, which the pause read refuses: it reads another key.)
    await limiterStore.pausedUntil('other', 0);
    expect(limiterStore.usingFallback).toBe(false);
    expect(log.codes()).toEqual([
      'redis-unavailable',
      'redis-unavailable',
      'redis-unavailable',
      'redis-restored',
    ]);
    expect(log.warnings[3]!.message).toBe(
      'Redis accepts reads again; the rate limiter shares its budget through Redis again.',
    );
  });

  // Last in this file: it stops the test's Redis (and starts it again, empty, with its default settings).
  it('Redis refusing writes and then going down is warned once more, with the wider fallback, and ends with "Redis answers again"', async () => {
    const cacheLog = warningLog();
    const limiterLog = warningLog();
    const cacheStore = env.track(
      await createRedisCacheStore({ url: env.redis.url, namespace: 'down', onWarning: cacheLog.onWarning }),
    );
    const limiterStore = env.track(
      await createRedisLimiterStore({
        url: env.redis.url,
        namespace: 'down',
        onWarning: limiterLog.onWarning,
      }),
    );
    await cacheStore.set('a', Float32Array.of(1, 2));
    const undo = await REFUSALS['out of memory (maxmemory 1, noeviction)'].refuse();
    let killed = false;
    try {
      await cacheStore.set('b', Float32Array.of(3));
      expect(await limiterStore.take('k', SLOW, 1, 0)).toBe(0);
      expect(await cacheStore.get('a')).toEqual(Float32Array.of(1, 2));
      expect(cacheLog.codes()).toEqual(['redis-unavailable']);
      expect(cacheLog.warnings[0]!.message).toMatch(
        /^Redis refuses writes \(OOM .+\); the cache skips writes until Redis accepts them again\.$/,
      );
      expect(limiterLog.codes()).toEqual(['redis-unavailable']);

      await env.redis.kill();
      killed = true;
      for (let index = 0; index < 3; index++) {
        expect(await cacheStore.get('a')).toBeUndefined();
        await cacheStore.set('c', Float32Array.of(4));
        await limiterStore.take('k', SLOW, 1, 0);
        await limiterStore.pausedUntil('k', 0);
      }
      expect(cacheStore.usingFallback).toBe(true);
      expect(cacheLog.codes()).toEqual(['redis-unavailable', 'redis-unavailable']);
      expect(cacheLog.warnings[1]!.message).toMatch(
        /^Redis is unavailable \(.+\); the cache misses and skips writes until it is back\.$/,
      );
      expect(limiterLog.codes()).toEqual(['redis-unavailable', 'redis-unavailable']);
      expect(limiterLog.warnings[1]!.message).toMatch(
        /^Redis is unavailable \(.+\); the rate limiter uses this process's own memory until it is back\.$/,
      );
    } finally {
      if (killed) await env.redis.start();
      else await undo();
    }

    // Back (restarted empty, accepting writes): the first write that succeeds ends each outage, said once.
    await until(async () => {
      await cacheStore.set('after', Float32Array.of(5));
      return !cacheStore.usingFallback;
    }, 'the cache store to write to Redis again');
    await until(async () => {
      await limiterStore.take('k', SLOW, 1, 0);
      return !limiterStore.usingFallback;
    }, 'the limiter store to take from Redis again');
    expect(cacheLog.codes()).toEqual(['redis-unavailable', 'redis-unavailable', 'redis-restored']);
    expect(cacheLog.warnings[2]!.message).toBe(
      'Redis answers again; the cache reads and writes Redis again.',
    );
    expect(limiterLog.codes()).toEqual(['redis-unavailable', 'redis-unavailable', 'redis-restored']);
    expect(limiterLog.warnings[2]!.message).toBe(
      'Redis answers again; the rate limiter shares its budget through Redis again.',
    );
    expect(await cacheStore.get('after')).toEqual(Float32Array.of(5));
  });
});
