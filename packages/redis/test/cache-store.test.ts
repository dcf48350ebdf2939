import {
  cacheKey,
  cacheMiddleware,
  embedMany,
  InvalidArgumentError,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { encodeCheckedEmbedding } from '@embedkit/core/cache-check';
import {
  BAD_CACHE_STORE_CALLS,
  cacheStoreRefusal,
  hashVector,
  MockEmbeddingModel,
} from '@embedkit/core/testing';
import { createClient } from '@redis/client';
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore, type RedisCacheStore } from '../src/index.js';
import { countingClient, failure, redisForTests, untilReconnected, warningLog } from './helpers.js';

const env = redisForTests();

async function store(options: Parameters<typeof createRedisCacheStore>[0] = {}): Promise<RedisCacheStore> {
  return env.track(
    await createRedisCacheStore({
      ...(options.client === undefined ? { url: env.redis.url } : {}),
      onWarning: () => {},
      ...options,
    }),
  );
}

describe('the Redis cache store', () => {
  it('stores each vector as raw bytes with its element type and check (core’s encoding), not JSON', async () => {
    const target = await store({ namespace: 'bytes' });
    const vector = Float32Array.of(0.5, -1.25, 3);
    await target.set('k', vector);
    const stored = await env.look.bytes('bytes:cache:k');
    expect(stored).toEqual(Buffer.from(encodeCheckedEmbedding(vector)));
    expect(stored!.length).toBe(16 + 3 * 4);
  });

  it.each([
    ['float32', Float32Array.of(0.1, -0.2, 1e-30)],
    ['int8', Int8Array.of(-128, 0, 127)],
    ['uint8', Uint8Array.of(0, 10, 255)],
  ])(
    'reads back %s vectors with the same type and values (bytes that are not valid UTF-8 survive)',
    async (_name, vector) => {
      const target = await store({ namespace: 'round-trip' });
      await target.set('k', vector);
      const read = await target.get('k');
      expect(read?.constructor).toBe(vector.constructor);
      expect(read).toEqual(vector);
    },
  );

  it('a value that is no vector is refused as the caller’s error, not reported as Redis unavailable', async () => {
    const warnings: unknown[] = [];
    const target = await store({ namespace: 'bad-value', onWarning: (warning) => warnings.push(warning) });
    const error = await target.set('k', Float64Array.of(1) as never).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('InvalidArgumentError');
    expect((error as Error).message).toBe(
      "A cache store's set takes value as a Float32Array, an Int8Array or a Uint8Array, got a Float64Array.",
    );
    expect(warnings).toEqual([]);
    await target.set('k', Float32Array.of(1));
    expect(await target.get('k')).toEqual(Float32Array.of(1));
  });

  // Before, getMany(5) and setMany('abc') went to Redis and came back as an outage, or a TypeError.
  it.each(BAD_CACHE_STORE_CALLS.map((call) => [`${call.method}: ${call.message}`, call] as const))(
    'called with arguments the CacheStore interface does not take, %s: the caller’s InvalidArgumentError, no warning, nothing written',
    async (_name, call) => {
      const log = warningLog();
      const target = await store({ namespace: 'bad-arguments', onWarning: log.onWarning });
      const error = await cacheStoreRefusal(target, call);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'invalid_argument',
        argument: call.argument,
        message: call.message,
      });
      expect(log.warnings).toEqual([]);
      expect(target.usingFallback).toBe(false);
      expect(await target.getMany(['k', '5'])).toEqual([undefined, undefined]);
    },
  );

  it('answers getMany in key order, with misses as undefined', async () => {
    const target = await store({ namespace: 'many' });
    await target.setMany([
      ['a', Float32Array.of(1)],
      ['c', Float32Array.of(3)],
    ]);
    expect(await target.getMany(['c', 'b', 'a'])).toEqual([
      Float32Array.of(3),
      undefined,
      Float32Array.of(1),
    ]);
    expect(await target.getMany([])).toEqual([]);
  });

  it('gives entries a TTL: 30 days by default, as set, or none', async () => {
    const byDefault = await store({ namespace: 'ttl-default' });
    const short = await store({ namespace: 'ttl-short', ttlSeconds: 60 });
    const forever = await store({ namespace: 'ttl-none', ttlSeconds: null });
    await byDefault.set('k', Float32Array.of(1));
    await short.set('k', Float32Array.of(1));
    await forever.set('k', Float32Array.of(1));
    const ttl = async (key: string) => Number(await env.look.send(['TTL', key]));
    expect(await ttl('ttl-default:cache:k')).toBeGreaterThan(30 * 86_400 - 5);
    expect(await ttl('ttl-default:cache:k')).toBeLessThanOrEqual(30 * 86_400);
    expect(await ttl('ttl-short:cache:k')).toBeGreaterThan(55);
    expect(await ttl('ttl-short:cache:k')).toBeLessThanOrEqual(60);
    expect(await ttl('ttl-none:cache:k')).toBe(-1);
  });

  it('takes the largest whole TTL a number holds exactly, which Redis accepts (its EX goes to (2^63 - 1 - now ms) / 1000)', async () => {
    const log = warningLog();
    const longest = await store({
      namespace: 'ttl-longest',
      ttlSeconds: Number.MAX_SAFE_INTEGER,
      onWarning: log.onWarning,
    });
    await longest.set('k', Float32Array.of(1));
    expect(await longest.get('k')).toEqual(Float32Array.of(1));
    const ttl = Number(await env.look.send(['TTL', 'ttl-longest:cache:k']));
    expect(ttl).toBeGreaterThan(Number.MAX_SAFE_INTEGER - 5);
    expect(ttl).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(log.warnings).toEqual([]);
  });

  // A value too large was refused as "Too big: expected int to be <=9007199254740991", which names
  // neither the value given nor the way out (null); the others in zod's words too.
  it.each([
    [2 ** 53, '9007199254740992'],
    [1e21, '1e+21'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NaN, 'NaN'],
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['60', '"60"'],
  ])(
    'refuses a ttlSeconds of %s (shown as %s) before connecting, saying what it got and what it takes',
    async (ttlSeconds, shown) => {
      const error = await failure(
        createRedisCacheStore({ url: env.redis.url, ttlSeconds: ttlSeconds as number }),
      );
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        argument: 'ttlSeconds',
        message: `createRedisCacheStore options are invalid: ttlSeconds: got ${shown}; it takes a whole number of seconds from 1 to 9007199254740991 (Number.MAX_SAFE_INTEGER, the largest a number holds exactly), or null to keep entries until Redis evicts them.`,
      });
    },
  );

  it('keeps namespaces apart', async () => {
    const one = await store({ namespace: 'app-one' });
    const two = await store({ namespace: 'app-two' });
    await one.set('k', Float32Array.of(1));
    expect(await two.get('k')).toBeUndefined();
    expect(await env.look.send(['KEYS', 'app-one:*'])).toEqual(['app-one:cache:k']);
  });

  it('serves a 1,000-input call from the cache with one command, MGET of 1,000 keys', async () => {
    const client = createClient({ url: env.redis.url });
    await client.connect();
    try {
      const counted = countingClient(client as never);
      const target = await store({ client: counted, namespace: 'one-round-trip' });
      const inner = new MockEmbeddingModel({ dimensions: 256 });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: target }));
      const inputs = Array.from({ length: 1_000 }, (_, index) => `document ${index}`);
      await embedMany({ model, inputs });
      expect(inner.calls.map((call) => call.inputs.length)).toEqual([1_000]);
      // The misses' read, then 1,000 SETs sent together.
      expect(counted.commands[0]).toBe('MGET 1000');
      expect(counted.commands.slice(1)).toEqual(Array(1_000).fill('SET 4'));

      counted.commands.length = 0;
      const hit = await embedMany({ model, inputs });
      expect(counted.commands).toEqual(['MGET 1000']);
      expect(inner.calls).toHaveLength(1);
      expect(hit.embeddings[999]).toEqual(hashVector('document 999', 256));
      expect(hit.usage).toEqual({ inputTokens: 0 });
    } finally {
      await client.close();
    }
  });

  it('stores under the key cacheKey gives', async () => {
    const target = await store({ namespace: 'keys' });
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    await wrapEmbeddingModel(inner, cacheMiddleware({ store: target })).doEmbed({ inputs: ['x'] });
    const key = await cacheKey(inner, {}, 'x');
    expect(await env.look.bytes(`keys:cache:${key}`)).toEqual(
      Buffer.from(encodeCheckedEmbedding(hashVector('x', 4))),
    );
  });
});

describe('the Redis cache store without Redis', () => {
  it('misses and skips writes with one warning, the call still succeeds, and it is used again once Redis is back', async () => {
    const log = warningLog();
    const target = await store({ namespace: 'outage', onWarning: log.onWarning });
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: target }));
    await embedMany({ model, inputs: ['a', 'b'] });
    await env.redis.kill();
    try {
      const during = await embedMany({ model, inputs: ['a', 'b', 'c'] });
      expect(during.embeddings).toEqual(['a', 'b', 'c'].map((text) => hashVector(text, 8)));
      expect(inner.calls.map((call) => call.inputs)).toEqual([
        ['a', 'b'],
        ['a', 'b', 'c'],
      ]);
      await target.set('direct', Float32Array.of(1));
      expect(await target.get('direct')).toBeUndefined();
      expect(log.codes()).toEqual(['redis-unavailable']);
      expect(log.warnings[0]!.message).toMatch(/the cache misses and skips writes until it is back\.$/);
    } finally {
      await env.redis.start();
    }
    await untilReconnected(target);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    // Redis came back empty; the next call fills it again and the one after is served from it.
    await embedMany({ model, inputs: ['c'] });
    await embedMany({ model, inputs: ['c'] });
    expect(inner.calls).toHaveLength(3);
  });
});
