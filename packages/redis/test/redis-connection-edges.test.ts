/**
 * How a store's connection behaves at its edges: a password that could be a word is redacted from what
 * Redis and a proxy say only where it stands whole, a longer one wherever it appears; and a Redis that
 * dies while a call's read is on its way leaves the call to finish without the cache.
 */
import {
  type CacheStore,
  ConnectionError,
  cacheMiddleware,
  embedMany,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisCacheStore } from '../src/index.js';
import {
  closedPort,
  failure,
  redisForTests,
  requirePassword,
  respServer,
  until,
  warningLog,
} from './helpers.js';

const env = redisForTests();

/** What to undo after each test: the password Redis requires. */
const undo: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step();
});

/** The ConnectionError of a store that connects with `password` to a proxy that answers AUTH `reply`. */
async function refusedByProxy(password: string, reply: string): Promise<Error> {
  const server = await respServer((args) => (args.includes('AUTH') ? reply : '+OK\r\n'));
  try {
    const error = await failure(
      createRedisCacheStore({ url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}` }),
    );
    expect(ConnectionError.isInstance(error)).toBe(true);
    return new Error(error.message.replace(`127.0.0.1:${server.port}`, 'proxy'));
  } finally {
    await server.close();
  }
}

describe('a password that could be a word', () => {
  // "password" was cut out of "username-password"; a word of the reply's own ("invalid", "pair") left a
  // gap that named it: "WRONGPASS [REDACTED] username-password pair".
  it.each(['password', 'invalid', 'pair', 'user', 'disabled'])(
    "%j, wrong, leaves Redis's WRONGPASS reply whole",
    async (password) => {
      await requirePassword(env, 'cache', undo);
      const error = await failure(
        createRedisCacheStore({ url: `redis://:${password}@127.0.0.1:${env.redis.port}` }),
      );
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.message).toBe(
        `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${env.redis.port}: WRONGPASS invalid username-password pair or user is disabled. Check that Redis runs there and that the URL is right.`,
      );
    },
  );

  // Node's socket error was cut too: "[REDACTED] ECONNREFUSED 127.0.0.1:…" for "connect", and
  // "127.[REDACTED].[REDACTED].1" for "0".
  it.each(['connect', 'ECONNREFUSED', '127', '0'])(
    '%j, to a port nothing listens on, leaves the socket\'s "connect ECONNREFUSED" and its address whole',
    async (password) => {
      const port = await closedPort();
      const error = await failure(createRedisCacheStore({ url: `redis://:${password}@127.0.0.1:${port}` }));
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.message).toBe(
        `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}. Check that Redis runs there and that the URL is right.`,
      );
    },
  );

  it('"answer" is left in the store\'s own "no answer within" when Redis stops answering', async () => {
    await requirePassword(env, 'answer', undo);
    const log = warningLog();
    const store = env.track(
      await createRedisCacheStore({
        url: `redis://:answer@127.0.0.1:${env.redis.port}`,
        namespace: 'frozen-answer',
        timeoutMs: 200,
        onWarning: log.onWarning,
      }),
    );
    env.redis.freeze();
    try {
      expect(await store.get('k')).toBeUndefined();
    } finally {
      env.redis.thaw();
    }
    expect(log.warnings).toEqual([
      {
        code: 'redis-unavailable',
        message:
          'Redis is unavailable (no answer within 200 ms); the cache misses and skips writes until it is back.',
      },
    ]);
  });

  it('"password" is still redacted from a URL a proxy echoes after a WRONGPASS reply, and "username-password" left whole', async () => {
    const error = await refusedByProxy(
      'password',
      '-WRONGPASS invalid username-password pair for redis://default:password@cache\r\n',
    );
    expect(error.message).toBe(
      'cannot connect to Redis at redis://[REDACTED]@proxy: WRONGPASS invalid username-password pair for redis://[REDACTED]@cache. Check that Redis runs there and that the URL is right.',
    );
  });

  it('"secret" is redacted where a proxy echoes it whole, and left inside "secrets" and "secret-key"', async () => {
    const error = await refusedByProxy(
      'secret',
      '-ERR secrets are not accepted (secret-key), got "secret" and secret.\r\n',
    );
    expect(error.message).toBe(
      'cannot connect to Redis at redis://[REDACTED]@proxy: ERR secrets are not accepted (secret-key), got "[REDACTED]" and [REDACTED]. Check that Redis runs there and that the URL is right.',
    );
  });

  it('"password" is left whole inside an escaped "username%2Dpassword", as inside "username-password"', async () => {
    const error = await refusedByProxy('password', '-ERR invalid username%2Dpassword pair\r\n');
    expect(error.message).toBe(
      'cannot connect to Redis at redis://[REDACTED]@proxy: ERR invalid username%2Dpassword pair. Check that Redis runs there and that the URL is right.',
    );
  });

  it('"hunter2x" is redacted where a proxy echoes it inside a percent-encoded URL', async () => {
    const error = await refusedByProxy(
      'hunter2x',
      '-ERR upstream redis%3A%2F%2Fdefault%3Ahunter2x%40cache refused\r\n',
    );
    expect(error.message).toBe(
      'cannot connect to Redis at redis://[REDACTED]@proxy: ERR upstream redis%3A%2F%2Fdefault%3A[REDACTED]%40cache refused. Check that Redis runs there and that the URL is right.',
    );
  });

  it.each([
    ['sk-fake-not-a-real-key-abc', 'sk-fake-not-a-real-key-abc'],
    ['letters only, 12 of them', 'fakepassword'],
  ])('a longer password (%s) is redacted even inside a longer word', async (_, password) => {
    const error = await refusedByProxy(password, `-ERR user x${password}s refused\r\n`);
    expect(error.message).toBe(
      'cannot connect to Redis at redis://[REDACTED]@proxy: ERR user x[REDACTED]s refused. Check that Redis runs there and that the URL is right.',
    );
  });
});

describe('Redis killed while a call reads the cache', () => {
  it('the read in flight fails over at once: the call gets every vector from the model, one warning, and Redis is used again once back', async () => {
    const log = warningLog();
    // Long enough that a read left waiting for it would show: the call must not take it.
    const timeoutMs = 20_000;
    const store = env.track(
      await createRedisCacheStore({
        url: env.redis.url,
        namespace: 'killed',
        timeoutMs,
        onWarning: log.onWarning,
      }),
    );
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    // Told when the call's read has been handed to the client (its MGET is sent from there): Redis is
    // killed then, not after a guessed wait that a loaded machine could outlast.
    let reading: (() => void) | undefined;
    const watched: CacheStore = {
      get: (key) => store.get(key),
      set: (key, value) => store.set(key, value),
      getMany: (keys) => {
        const read = store.getMany(keys);
        reading?.();
        return read;
      },
      setMany: (entries) => store.setMany(entries),
    };
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: watched }));
    await embedMany({ model, inputs: ['a', 'b'] });
    // Redis holds every command from now on, so the call's MGET is sent and waits for its answer.
    await env.look.send(['CLIENT', 'PAUSE', String(timeoutMs), 'ALL']);
    const started = Date.now();
    let killed: Promise<void> | undefined;
    try {
      const readStarted = new Promise<void>((resolve) => {
        reading = resolve;
      });
      const call = embedMany({ model, inputs: ['a', 'b', 'c'] });
      await readStarted;
      killed = env.redis.kill();
      const result = await call;
      expect(Date.now() - started).toBeLessThan(timeoutMs / 2);
      expect(result.embeddings).toEqual(['a', 'b', 'c'].map((text) => hashVector(text, 8)));
      expect(inner.calls.map((call) => call.inputs)).toEqual([
        ['a', 'b'],
        ['a', 'b', 'c'],
      ]);
      // How the socket breaks is the kernel's: a Redis killed before it read the MGET off its socket
      // resets the connection; one killed after closes it.
      expect(log.warnings).toHaveLength(1);
      expect(log.warnings[0]!.code).toBe('redis-unavailable');
      expect([
        'Redis is unavailable (Socket closed unexpectedly); the cache misses and skips writes until it is back.',
        'Redis is unavailable (read ECONNRESET); the cache misses and skips writes until it is back.',
      ]).toContain(log.warnings[0]!.message);
    } finally {
      await killed;
      await env.redis.start();
    }
    await until(async () => {
      await store.get('probe');
      return !store.usingFallback;
    }, 'the store to reconnect');
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    // Redis came back empty: the next call fills it, and the one after is served from it.
    await embedMany({ model, inputs: ['c'] });
    await embedMany({ model, inputs: ['c'] });
    expect(inner.calls).toHaveLength(3);
  });
});
