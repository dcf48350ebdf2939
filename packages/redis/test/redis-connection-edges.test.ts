/**
 * How a store's connection behaves at its edges: a password that could be a word is redacted from what
 * Redis and a proxy say only where it stands whole, a longer one wherever it appears; and a Redis that
 * dies while a call's read is on its way leaves the call to finish without the cache; a closed store says
 * it is closed, and never reaches Redis again; Redis's fixed refusals of an ACL user stay whole.
 */
import {
  type CacheStore,
  ConnectionError,
  cacheMiddleware,
  embedMany,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import {
  closedPort,
  countingClient,
  failure,
  redisForTests,
  requirePassword,
  respServer,
  untilReconnected,
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
        `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${env.redis.port}: WRONGPASS invalid username-password pair or user is disabled. Redis refused the user name or password in the URL: check them, and percent-encode any @, :, /, #, ? or % in a user name or password (encodeURIComponent).`,
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
      'cannot connect to Redis at redis://[REDACTED]@proxy: WRONGPASS invalid username-password pair for redis://[REDACTED]@cache. Redis refused the user name or password in the URL: check them, and percent-encode any @, :, /, #, ? or % in a user name or password (encodeURIComponent).',
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
    await untilReconnected(store);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
    // Redis came back empty: the next call fills it, and the one after is served from it.
    await embedMany({ model, inputs: ['c'] });
    await embedMany({ model, inputs: ['c'] });
    expect(inner.calls).toHaveLength(3);
  });
});

describe('a store used after close()', () => {
  const BUCKET = { capacity: 10, perMinute: 60 };
  const connections = async () =>
    Number(/total_connections_received:(\d+)/.exec(String(await env.look.send(['INFO', 'stats'])))?.[1]);

  it('from a URL: every operation falls back at once, says "the store is closed" once, and opens no connection', async () => {
    const cacheLog = warningLog();
    const limiterLog = warningLog();
    const cache = await createRedisCacheStore({ url: env.redis.url, onWarning: cacheLog.onWarning });
    const limiter = await createRedisLimiterStore({ url: env.redis.url, onWarning: limiterLog.onWarning });
    await cache.close();
    await limiter.close();
    const before = await connections();
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    await cache.set('k', Float32Array.of(1));
    await cache.setMany([['k', Float32Array.of(1)]]);
    // The limiter draws on this process's memory: a new bucket of 10 emptied, 5 given back, lowered to 2,
    // so that 3 more wait 1 s.
    expect(await limiter.take('k', BUCKET, 10, 0)).toBe(0);
    await limiter.adjust('k', BUCKET, 5, 0);
    await limiter.lower('k', BUCKET, 2, 0);
    await limiter.pause('k', 7_000, 0);
    expect(await limiter.pausedUntil('k', 0)).toBe(7_000);
    expect(await limiter.take('k', BUCKET, 3, 0)).toBe(1_000);
    expect(cacheLog.warnings).toEqual([
      { code: 'redis-unavailable', message: 'The store is closed; the cache misses and skips writes.' },
    ]);
    expect(limiterLog.warnings).toEqual([
      {
        code: 'redis-unavailable',
        message: "The store is closed; the rate limiter uses this process's own memory.",
      },
    ]);
    expect(cache.usingFallback).toBe(true);
    expect(limiter.usingFallback).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await connections()).toBe(before);
  });

  it('on your client: nothing more is sent through it, though it stays open', async () => {
    const client = createClient({ url: env.redis.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const counted = countingClient(client as never);
      const log = warningLog();
      const cache = await createRedisCacheStore({
        client: counted,
        namespace: 'closed',
        onWarning: log.onWarning,
      });
      const limiter = await createRedisLimiterStore({
        client: counted,
        namespace: 'closed',
        onWarning: log.onWarning,
      });
      await cache.set('k', Float32Array.of(2));
      const sent = counted.commands.length;
      await cache.close();
      await limiter.close();
      expect(await cache.get('k')).toBeUndefined();
      await cache.set('other', Float32Array.of(3));
      expect(await limiter.take('k', BUCKET, 1, 0)).toBe(0);
      expect(await limiter.pausedUntil('k', 0)).toBe(0);
      expect(counted.commands.length).toBe(sent);
      expect(client.isReady).toBe(true);
      expect(log.codes()).toEqual(['redis-unavailable', 'redis-unavailable']);
      expect(await env.look.send(['EXISTS', 'closed:cache:other'])).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('an ACL user that lacks a permission', () => {
  /** Adds user `name` (password `name`) with every command and key but `rules`, removed after the test. */
  async function aclUser(name: string, ...rules: string[]): Promise<string> {
    await env.look.send(['ACL', 'SETUSER', name, 'reset', 'on', `>${name}`, '~*', '+@all', ...rules]);
    undo.push(() => env.look.send(['ACL', 'DELUSER', name]));
    return `redis://${name}:${name}@127.0.0.1:${env.redis.port}`;
  }

  // Each password is a word of Redis's reply: cut out, it showed itself in a known sentence ("this user
  // has no [REDACTED] to run the 'set' command").
  it.each([
    ['permissions', ['-set'], 'write', "NOPERM this user has no permissions to run the 'set' command"],
    ['run', ['-mget'], 'read', "NOPERM this user has no permissions to run the 'mget' command"],
    [
      'keys',
      ['resetkeys', '~other:*'],
      'read',
      'NOPERM this user has no permissions to access one of the keys used as arguments',
    ],
  ] as const)(
    "password %j: the cache store says Redis's refusal whole (%j)",
    async (password, rules, kind, reply) => {
      const url = await aclUser(password, ...rules);
      const log = warningLog();
      const store = env.track(
        await createRedisCacheStore({ url, namespace: `acl-${password}`, onWarning: log.onWarning }),
      );
      if (kind === 'write') await store.set('k', Float32Array.of(1));
      else expect(await store.get('k')).toBeUndefined();
      expect(log.warnings).toEqual([
        {
          code: 'redis-unavailable',
          message: `Redis refuses ${kind}s (${reply}); ${kind === 'write' ? 'the cache skips writes' : 'the cache misses'} until Redis accepts them again.`,
        },
      ]);
    },
  );

  it.each([
    ['evalsha', ['-evalsha'], "NOPERM this user has no permissions to run the 'evalsha' command"],
  ] as const)("password %j: the limiter store says Redis's refusal whole", async (password, rules, reply) => {
    const log = warningLog();
    const store = env.track(
      await createRedisLimiterStore({
        url: await aclUser(password, ...rules),
        namespace: `acl-${password}`,
        onWarning: log.onWarning,
      }),
    );
    expect(await store.take('k', { capacity: 10, perMinute: 60 }, 1, 0)).toBe(0);
    expect(log.warnings).toEqual([
      {
        code: 'redis-unavailable',
        message: `Redis refuses writes (${reply}); the rate limiter uses this process's own memory until Redis accepts them again.`,
      },
    ]);
  });

  it('password "user": a script that may not run a command is refused whole, with the script\'s SHA-1 and line', async () => {
    const log = warningLog();
    const store = env.track(
      await createRedisLimiterStore({
        url: await aclUser('user', '-hset'),
        namespace: 'acl-user',
        onWarning: log.onWarning,
      }),
    );
    expect(await store.take('k', { capacity: 10, perMinute: 60 }, 1, 0)).toBe(0);
    expect(log.warnings).toEqual([
      {
        code: 'redis-unavailable',
        message: expect.stringMatching(
          /^Redis refuses writes \(ERR The user executing the script can't run this command or subcommand script: [0-9a-f]{40}, on @user_script:\d+\.\); the rate limiter uses this process's own memory until Redis accepts them again\.$/,
        ),
      },
    ]);
  });
});
