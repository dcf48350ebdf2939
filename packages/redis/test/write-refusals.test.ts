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
import { closedPort, redisForTests, warningLog } from './helpers.js';

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
