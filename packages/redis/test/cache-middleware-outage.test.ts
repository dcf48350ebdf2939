/**
 * core's cacheMiddleware over the real Redis cache store, with the test's own redis-server frozen
 * (SIGSTOP: the socket stays open and nothing answers) or killed (SIGKILL: the connection drops). What is
 * checked is what Redis was asked (INFO commandstats), what the model was sent and which warnings were
 * given; never how long a call took.
 *
 * Two setups, because the store and the middleware each bound their waits. As documented (the store's
 * `timeoutMs` below the middleware's `storeTimeoutMs`), the store gives up first and answers misses
 * itself: its own `redis-unavailable` says so, and the middleware's breaker is never engaged. With
 * `storeTimeoutMs` below the store's `timeoutMs`, the middleware gives up first: its breaker skips the
 * store for `storeCooldownMs`, then one call tries it again, and says `cache-resumed` only once the
 * store answers from Redis (not from its own fallback, `degraded`).
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import {
  type CacheStoreWarning,
  cacheKey,
  cacheMiddleware,
  embedMany,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisCacheStore } from '../src/index.js';
import { redisForTests, until, untilReconnected, warningLog } from './helpers.js';

const env = redisForTests();

// Registered after redisForTests's own hook, so run before it (vitest runs afterAll hooks last first): a
// test that failed while Redis was frozen leaves it answering again, so that closing the clients and
// stopping the server (SIGCONT, then SIGKILL) does not wait on it.
afterAll(() => {
  env.redis.thaw();
});

/** How many times Redis ran each of `names` since the last CONFIG RESETSTAT. */
async function ran(...names: string[]): Promise<Record<string, number>> {
  const info = String(await env.look.send(['INFO', 'commandstats']));
  const counts: Record<string, number> = {};
  for (const name of names) {
    counts[name] = Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  }
  return counts;
}

/** A cache store on the test's Redis, opened from its URL (reconnecting by itself), warning into `log`. */
function openStore(namespace: string, timeoutMs: number, log: ReturnType<typeof warningLog>) {
  return createRedisCacheStore({ url: env.redis.url, namespace, timeoutMs, onWarning: log.onWarning });
}

/** The middleware's warning that it skips the store for `ms` after a read that failed for `reason`. */
const readSkipped = (reason: string, ms: number) => ({
  code: 'cache-read-failed',
  message: `The embedding cache could not be read (${reason}); the cache store is skipped for ${ms} ms (inputs count as misses, answers are not cached), then one call tries it again.`,
});

/** A clock for the breaker's cooldown that moves only when the test moves it. */
function testClock() {
  let now = 0;
  return { now: () => now, sleep: async () => {}, advance: (ms: number) => (now += ms) };
}

/** A model over `MockEmbeddingModel` behind cacheMiddleware, with the middleware's warnings collected. */
function cachedModel(store: Parameters<typeof cacheMiddleware>[0]) {
  const inner = new MockEmbeddingModel({ dimensions: 8 });
  const warnings: CacheStoreWarning[] = [];
  const model = wrapEmbeddingModel(
    inner,
    cacheMiddleware({ ...store, onWarning: (warning) => warnings.push(warning) }),
  );
  const embed = async (...inputs: string[]) => {
    const result = await embedMany({ model, inputs });
    expect(result.embeddings).toEqual(inputs.map((input) => hashVector(input, 8)));
  };
  return { inner, model, warnings, embed, sent: () => inner.calls.map((call) => call.inputs) };
}

describe('cacheMiddleware over a frozen Redis', () => {
  it("with storeTimeoutMs below the store's timeoutMs, the store is skipped for storeCooldownMs without being asked, then read again (cache-resumed)", async () => {
    const COOLDOWN_MS = 1_500;
    const log = warningLog();
    // The store would wait 10 s: the middleware's 100 ms ends the wait first, and the store never warns.
    const store = env.track(await openStore('breaker', 10_000, log));
    // The breaker's cooldown runs on a clock of the test's: Redis, its client and the middleware's 100 ms
    // wait run on real sockets and timers, while the cooldown ends only when the test says so, so a
    // loaded machine cannot end it between the calls below.
    const clock = testClock();
    const { inner, warnings, embed, sent } = cachedModel({
      store,
      storeTimeoutMs: 100,
      storeCooldownMs: COOLDOWN_MS,
      clock,
    });
    await embed('a');
    await env.look.send(['CONFIG', 'RESETSTAT']);

    env.redis.freeze();
    try {
      await embed('a', 'b0');
      // Within the cooldown: the store is not asked, and the model is sent every input.
      for (const index of [1, 2, 3]) await embed('a', `b${index}`);
    } finally {
      env.redis.thaw();
    }
    expect(warnings).toEqual([readSkipped('the cache store did not answer within 100 ms', COOLDOWN_MS)]);
    clock.advance(COOLDOWN_MS);
    await embed('a', 'c');
    expect(warnings.map((warning) => warning.code)).toEqual(['cache-read-failed', 'cache-resumed']);
    // 'a' came from Redis again; each 'b' was sent to the model and never stored.
    expect(sent()).toEqual([['a'], ['a', 'b0'], ['a', 'b1'], ['a', 'b2'], ['a', 'b3'], ['c']]);
    // Redis ran the first call's MGET (once thawed) and the last call's MGET and SET; nothing between.
    expect(await ran('mget', 'set')).toEqual({ mget: 2, set: 1 });
    for (const input of ['b0', 'b1', 'b2', 'b3'])
      expect(await env.look.bytes(`breaker:cache:${await cacheKey(inner, {}, input)}`)).toBeNull();
    expect(log.codes()).toEqual([]);
  });

  // Before, the call that tried the store again took its own misses (Redis frozen, the store past its own
  // timeoutMs and skipping Redis) for the store being back, and said cache-resumed while Redis was away.
  it("with storeTimeoutMs below the store's timeoutMs, the store's own misses while Redis is still frozen are no resumption: it is skipped again, and cache-resumed comes once Redis answers", async () => {
    const COOLDOWN_MS = 600;
    const log = warningLog();
    const store = env.track(await openStore('resumed-frozen', 300, log));
    // Redis, its client, the store's 300 ms and the middleware's 100 ms run on real sockets and timers;
    // the cooldowns, on a clock of the test's, end when the test says so.
    const clock = testClock();
    const { warnings, embed, sent } = cachedModel({
      store,
      storeTimeoutMs: 100,
      storeCooldownMs: COOLDOWN_MS,
      clock,
    });
    await embed('a');
    env.redis.freeze();
    try {
      await embed('a');
      // Past the store's own timeoutMs: it skips Redis until a PING is answered, and misses at once.
      await until(() => log.warnings.length > 0, "the store's own timeout");
      expect(store.degraded('read')).toBe(true);
      clock.advance(COOLDOWN_MS);
      await embed('a');
    } finally {
      env.redis.thaw();
    }
    expect(warnings).toEqual([
      readSkipped('the cache store did not answer within 100 ms', COOLDOWN_MS),
      readSkipped('the cache store answers from its fallback', COOLDOWN_MS),
    ]);
    await until(() => !store.degraded('read'), 'the store to hear Redis answer its PING');
    clock.advance(COOLDOWN_MS);
    // 'a', stored by the first call, is read from Redis again.
    await embed('a');
    expect(warnings.map((warning) => warning.code)).toEqual([
      'cache-read-failed',
      'cache-read-failed',
      'cache-resumed',
    ]);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    expect(sent()).toEqual([['a'], ['a'], ['a']]);
  });

  it("as documented (the store's timeoutMs below storeTimeoutMs), the store answers misses itself after one wait and skips Redis until a PING is answered; the middleware never warns", async () => {
    const log = warningLog();
    const store = env.track(await openStore('documented', 200, log));
    const { warnings, embed, sent } = cachedModel({ store, storeCooldownMs: 600 });
    await embed('a');
    await env.look.send(['CONFIG', 'RESETSTAT']);

    env.redis.freeze();
    try {
      for (const index of [0, 1, 2, 3]) await embed('a', `b${index}`);
      expect(store.usingFallback).toBe(true);
    } finally {
      env.redis.thaw();
    }
    await until(() => !store.usingFallback, 'the store to hear Redis answer its PING');
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    expect(log.warnings[0]!.message).toBe(
      'Redis is unavailable (no answer within 200 ms); the cache misses and skips writes until it is back.',
    );

    await embed('a', 'c');
    expect(sent()).toEqual([['a'], ['a', 'b0'], ['a', 'b1'], ['a', 'b2'], ['a', 'b3'], ['c']]);
    // The frozen Redis got the first call's MGET and one PING; then the last call's MGET and SET.
    expect(await ran('mget', 'set', 'ping')).toEqual({ mget: 2, set: 1, ping: 1 });
    expect(warnings).toEqual([]);
  });
});

/** A listener on `port` that counts the connections it is asked for and drops each at once. */
async function droppingListener(port: number) {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    get count() {
      return count;
    },
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

describe('cacheMiddleware over a Redis that is killed', () => {
  it('answers from the model, warned once while the client reconnects, and reads Redis again once it is back', async () => {
    const log = warningLog();
    const store = await openStore('killed', 200, log);
    try {
      const { warnings, embed, sent } = cachedModel({ store, storeCooldownMs: 600 });
      await embed('a');
      await env.redis.kill();
      for (const index of [0, 1, 2]) await embed('a', `k${index}`);
      expect(store.usingFallback).toBe(true);
      // The client tries to reconnect, and each attempt fails (an 'error' of the client): here three are
      // let in on Redis's port and dropped at once. Still one warning.
      const attempts = await droppingListener(env.redis.port);
      try {
        await until(() => attempts.count >= 3, 'three reconnection attempts');
      } finally {
        await attempts.close();
      }
      expect(log.codes()).toEqual(['redis-unavailable']);

      // Started again on the same port, empty (no persistence): the client reconnects by itself.
      await env.redis.start();
      await untilReconnected(store);
      expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
      await embed('a');
      await embed('a');
      expect(sent()).toEqual([['a'], ['a', 'k0'], ['a', 'k1'], ['a', 'k2'], ['a']]);
      expect(warnings).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
