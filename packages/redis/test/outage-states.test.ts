/**
 * What a store says of Redis follows what Redis does, through every state of one outage: reachable,
 * refusing writes (out of memory), not answering at all (the test's redis-server under SIGSTOP), answering
 * reads while it still refuses writes, accepting writes. Each change is told once: `redis-unavailable`
 * while the store falls back for anything (saying what, and why), `redis-restored` when it falls back for
 * nothing. Review finding: once Redis had been unreachable after refusing writes, the outage stayed
 * "unreachable" after Redis answered reads again (nothing was said), and the write that ended it said
 * "Redis answers again" rather than that Redis accepted writes again.
 */
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore } from '../src/index.js';
import { redisForTests, until, warningLog } from './helpers.js';

const env = redisForTests();

/** A command that gets no answer from the frozen Redis counts as unavailable after this long. */
const TIMEOUT_MS = 300;

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** Makes the test's Redis refuse writes, out of memory with `noeviction`; the function returned undoes it. */
async function refuseWrites(): Promise<() => Promise<void>> {
  await env.look.send(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
  await env.look.send(['CONFIG', 'SET', 'maxmemory', '1']);
  return async () => {
    await env.look.send(['CONFIG', 'SET', 'maxmemory', '0']);
  };
}

const refusing = {
  code: 'redis-unavailable',
  message: `Redis refuses writes (${OOM}); the cache skips writes until Redis accepts them again.`,
};
const unreachable = {
  code: 'redis-unavailable',
  message: `Redis is unavailable (no answer within ${TIMEOUT_MS} ms); the cache misses and skips writes until it is back.`,
};
const backRefusingWrites = {
  code: 'redis-unavailable',
  message: `Redis answers again, but refused writes when last asked (${OOM}); the cache skips writes until Redis accepts them again.`,
};
const writesAccepted = {
  code: 'redis-restored',
  message: 'Redis accepts writes again; the cache reads and writes Redis again.',
};

async function openStore(namespace: string) {
  const log = warningLog();
  const store = env.track(
    await createRedisCacheStore({
      url: env.redis.url,
      namespace,
      timeoutMs: TIMEOUT_MS,
      onWarning: log.onWarning,
    }),
  );
  await store.set('a', Float32Array.of(1, 2));
  return { store, log };
}

/** Freezes the test's Redis until `store` gives up on it (one read unanswered), then thaws it. */
async function hang(store: Awaited<ReturnType<typeof openStore>>['store']): Promise<void> {
  env.redis.freeze();
  try {
    expect(await store.get('a')).toBeUndefined();
    // Skipped until it answers a PING: reads miss at once, writes are dropped, nothing more is said.
    expect(await store.get('a')).toBeUndefined();
    await store.set('x', Float32Array.of(9));
    expect([store.degraded('read'), store.degraded('write'), store.usingFallback]).toEqual([
      true,
      true,
      true,
    ]);
  } finally {
    env.redis.thaw();
  }
}

describe('an outage through every state: refusing writes, unreachable, reads back, writes back', () => {
  it('tells each change once, and the store reads Redis as soon as it answers reads', async () => {
    const { store, log } = await openStore('states');
    const undo = await refuseWrites();
    try {
      await store.set('b', Float32Array.of(3));
      expect(await store.get('a')).toEqual(Float32Array.of(1, 2));
      expect(log.warnings).toEqual([refusing]);
      expect([store.degraded('read'), store.degraded('write'), store.usingFallback]).toEqual([
        false,
        true,
        true,
      ]);

      await hang(store);
      expect(log.warnings).toEqual([refusing, unreachable]);

      // Thawed, Redis answers the store's PING: reads are served again, and writes are still refused.
      await until(() => !store.degraded('read'), 'the store to hear Redis answer its PING');
      expect(log.warnings).toEqual([refusing, unreachable, backRefusingWrites]);
      expect(await store.get('a')).toEqual(Float32Array.of(1, 2));
      await store.set('c', Float32Array.of(4));
      expect([store.degraded('read'), store.degraded('write'), store.usingFallback]).toEqual([
        false,
        true,
        true,
      ]);
      expect(await env.look.send(['EXISTS', 'states:cache:c'])).toBe(0);
      expect(log.warnings).toEqual([refusing, unreachable, backRefusingWrites]);
    } finally {
      await undo();
    }

    await store.set('d', Float32Array.of(5));
    expect(await store.get('d')).toEqual(Float32Array.of(5));
    expect([store.degraded('read'), store.degraded('write'), store.usingFallback]).toEqual([
      false,
      false,
      false,
    ]);
    expect(log.warnings).toEqual([refusing, unreachable, backRefusingWrites, writesAccepted]);
  });

  // Last in this file: it stops the test's Redis (and starts it again, empty, refusing writes once more).
  it('Redis that comes back and refuses the first command it answers (a write) says so with that refusal, once', async () => {
    const { store, log } = await openStore('write-first');
    let undo = await refuseWrites();
    await store.set('b', Float32Array.of(3));
    expect(log.warnings).toEqual([refusing]);
    await env.redis.kill();
    try {
      expect(await store.get('a')).toBeUndefined();
      await store.set('c', Float32Array.of(4));
      expect(log.codes()).toEqual(['redis-unavailable', 'redis-unavailable']);
      expect(log.warnings[1]!.message).toMatch(
        /^Redis is unavailable \(.+\); the cache misses and skips writes until it is back\.$/,
      );
    } finally {
      await env.redis.start();
    }
    // Started again out of memory before the store's next command, which is a write: refused, it is the
    // first answer the store hears.
    undo = await refuseWrites();
    try {
      await until(async () => {
        await store.set('c', Float32Array.of(4));
        return !store.degraded('read');
      }, 'the store to reconnect');
      expect(log.warnings.slice(2)).toEqual([backRefusingWrites]);
      expect(store.degraded('write')).toBe(true);
      await store.set('c', Float32Array.of(4));
      expect(await store.get('c')).toBeUndefined();
      expect(log.warnings).toHaveLength(3);
    } finally {
      await undo();
    }
    await store.set('d', Float32Array.of(5));
    expect(await store.get('d')).toEqual(Float32Array.of(5));
    expect(store.usingFallback).toBe(false);
    expect(log.warnings.slice(2)).toEqual([backRefusingWrites, writesAccepted]);
  });
});
