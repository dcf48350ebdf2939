/**
 * A Redis that hangs (the socket stays open and nothing answers: here the test's own redis-server under
 * SIGSTOP) costs one timeout, not one per operation. Review finding: every store operation waited the
 * whole `timeoutMs` before falling back, so with ~5 operations a call each call took 5 x timeoutMs for as
 * long as the hang lasted.
 */
import { cacheKey, cacheMiddleware, createRateLimiter, embedMany, wrapEmbeddingModel } from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { countingClient, heldCacheStore, redisForTests, until, warningLog } from './helpers.js';

const env = redisForTests();

const TIMEOUT_MS = 1_000;

/** How long each of `count` calls of `call` takes, in ms. */
async function durations(count: number, call: (index: number) => Promise<void>): Promise<number[]> {
  const taken: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await call(index);
    taken.push(performance.now() - started);
  }
  return taken;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a Redis that stops answering', () => {
  it('the cache waits for one timeout, then falls back at once with one PING out, and is used again once Redis answers', async () => {
    const client = createClient({ url: env.redis.url, disableOfflineQueue: true });
    client.on('error', () => {});
    await client.connect();
    const counted = countingClient(client as never);
    const log = warningLog();
    const target = await createRedisCacheStore({
      client: counted,
      namespace: 'hung-cache',
      timeoutMs: TIMEOUT_MS,
      onWarning: log.onWarning,
    });
    try {
      const inner = new MockEmbeddingModel({ dimensions: 8 });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: target }));
      await embedMany({ model, inputs: ['a'] });
      counted.commands.length = 0;
      env.redis.freeze();
      let taken: number[];
      try {
        taken = await durations(10, async (index) => {
          const result = await embedMany({ model, inputs: ['a', `b${index}`] });
          expect(result.embeddings).toEqual([hashVector('a', 8), hashVector(`b${index}`, 8)]);
        });
        expect(target.usingFallback).toBe(true);
        // Sent to the frozen Redis: the first call's read, which timed out, then one PING; nothing else.
        expect(counted.commands).toEqual(['MGET 2', 'PING 0']);
      } finally {
        env.redis.thaw();
      }
      // The first call waited out its read; each one after it skipped Redis (before: 2 x timeoutMs each).
      expect(taken[0]).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(taken[0]).toBeLessThan(2 * TIMEOUT_MS);
      for (const duration of taken.slice(1)) expect(duration).toBeLessThan(TIMEOUT_MS / 4);
      expect(log.codes()).toEqual(['redis-unavailable']);
      expect(log.warnings[0]!.message).toBe(
        `Redis is unavailable (no answer within ${TIMEOUT_MS} ms); the cache misses and skips writes until it is back.`,
      );

      // The PING's answer (after those of the commands queued before it) ends the outage by itself.
      await until(() => !target.usingFallback, 'the probe to hear Redis');
      expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
      counted.commands.length = 0;
      await embedMany({ model, inputs: ['c'] });
      expect(counted.commands).toEqual(['MGET 1', 'SET 4']);
      expect(await env.look.bytes(`hung-cache:cache:${await cacheKey(inner, {}, 'c')}`)).not.toBeNull();
      await embedMany({ model, inputs: ['c'] });
      expect(inner.calls.filter((call) => call.inputs.includes('c'))).toHaveLength(1);
    } finally {
      await target.close();
      await client.close();
    }
  });

  it('the limiter waits for one timeout, then limits from local memory at once, and shares its budget again once Redis answers', async () => {
    const log = warningLog();
    const target = env.track(
      await createRedisLimiterStore({
        url: env.redis.url,
        namespace: 'hung-limiter',
        timeoutMs: TIMEOUT_MS,
        onWarning: log.onWarning,
      }),
    );
    const rateLimit = createRateLimiter({
      requestsPerMinute: 60_000,
      tokensPerMinute: 10_000_000,
      store: target,
      key: 'account',
    });
    const model = new MockEmbeddingModel({ dimensions: 4 });
    await embedMany({ model, inputs: ['warm'], rateLimit });
    env.redis.freeze();
    let taken: number[];
    try {
      taken = await durations(6, async (index) => {
        const result = await embedMany({ model, inputs: [`x${index}`], rateLimit });
        expect(result.embeddings).toEqual([hashVector(`x${index}`, 4)]);
      });
      expect(target.usingFallback).toBe(true);
    } finally {
      env.redis.thaw();
    }
    expect(taken[0]).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(taken[0]).toBeLessThan(2 * TIMEOUT_MS);
    for (const duration of taken.slice(1)) expect(duration).toBeLessThan(TIMEOUT_MS / 4);
    expect(log.codes()).toEqual(['redis-unavailable']);
    expect(log.warnings[0]!.message).toBe(
      `Redis is unavailable (no answer within ${TIMEOUT_MS} ms); the rate limiter uses this process's own memory until it is back.`,
    );

    await until(() => !target.usingFallback, 'the probe to hear Redis');
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    // Back on Redis: the buckets are written there again.
    const keys = (await env.look.send(['KEYS', 'hung-limiter:*'])) as string[];
    if (keys.length > 0) await env.look.send(['DEL', ...keys]);
    await embedMany({ model, inputs: ['after'], rateLimit });
    expect(((await env.look.send(['KEYS', 'hung-limiter:*'])) as string[]).sort()).toEqual([
      'hung-limiter:limiter:account:requests',
      'hung-limiter:limiter:account:tokens',
    ]);
  });

  it('closing a store while Redis hangs returns within timeoutMs (close() would wait for the answers)', async () => {
    const target = await createRedisCacheStore({ url: env.redis.url, timeoutMs: 300, onWarning: () => {} });
    await target.get('k');
    env.redis.freeze();
    try {
      expect(await target.get('k')).toBeUndefined();
      const started = performance.now();
      await target.close();
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      env.redis.thaw();
    }
  });
});

describe('the probe of a Redis that stopped answering', () => {
  it('is one PING however many calls fall back; a PING the connection drops is sent again after a wait, while disconnected not at all', async () => {
    vi.useFakeTimers();
    const { held, log, store: target } = await heldCacheStore();
    const first = target.get('k');
    await vi.advanceTimersByTimeAsync(100);
    expect(await first).toBeUndefined();
    for (let index = 0; index < 50; index++) expect(await target.get(`k${index}`)).toBeUndefined();
    await target.set('k', Float32Array.of(1));
    expect(held.commands()).toEqual(['MGET', 'PING']);

    // The connection breaks: the PING fails, and is sent again once the client is connected.
    held.client.isReady = false;
    held.sent[1]!.fail(new Error('Socket closed unexpectedly'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(held.commands()).toEqual(['MGET', 'PING']);
    held.client.isReady = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(held.commands()).toEqual(['MGET', 'PING', 'PING']);
    expect(log.codes()).toEqual(['redis-unavailable']);

    held.sent[2]!.answer('PONG');
    await vi.advanceTimersByTimeAsync(0);
    expect(target.usingFallback).toBe(false);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    const read = target.getMany(['k']);
    expect(held.commands()).toEqual(['MGET', 'PING', 'PING', 'MGET']);
    held.sent[3]!.answer([null]);
    expect(await read).toEqual([undefined]);
  });

  it('stops when the store is closed', async () => {
    vi.useFakeTimers();
    const { held, store: target } = await heldCacheStore();
    const first = target.get('k');
    await vi.advanceTimersByTimeAsync(100);
    await first;
    held.client.isReady = false;
    held.sent[1]!.fail(new Error('Socket closed unexpectedly'));
    await target.close();
    held.client.isReady = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(held.commands()).toEqual(['MGET', 'PING']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
