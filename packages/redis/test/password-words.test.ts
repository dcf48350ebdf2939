/**
 * Passwords that are common words or shorter than 4 characters, on a Redis that requires them
 * (`requirepass`). A password is redacted from what Redis and the socket say, and only there: the store's
 * own words around it ("the cache skips writes", "cannot connect to Redis") are never cut, since a
 * password such as "cache" or "Redis" redacted there showed itself ("the [REDACTED] skips writes").
 */
import { ConnectionError } from '@embedkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { failure, redisForTests, requirePassword, respServer, warningLog } from './helpers.js';

const env = redisForTests();

/** What to undo after each test: the password Redis requires, its memory limit. */
const undo: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step();
});

/** Makes the test's Redis refuse writes (out of memory with `noeviction`) until the test ends. */
async function refuseWrites(): Promise<void> {
  await env.look.send(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
  await env.look.send(['CONFIG', 'SET', 'maxmemory', '1']);
  undo.push(async () => {
    await env.look.send(['CONFIG', 'SET', 'maxmemory', '0']);
    await env.look.send(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
  });
}

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

describe('a Redis that requires a password', () => {
  it.each(['cache', 'ab'])(
    'the cache store with the password %j says its own words whole when Redis refuses its writes',
    async (password) => {
      await requirePassword(env, password, undo);
      const log = warningLog();
      const store = env.track(
        await createRedisCacheStore({
          url: `redis://:${password}@127.0.0.1:${env.redis.port}`,
          namespace: `words-${password}`,
          onWarning: log.onWarning,
        }),
      );
      await store.set('k', Float32Array.of(1, 2));
      expect(await store.get('k')).toEqual(Float32Array.of(1, 2));
      await refuseWrites();
      await store.set('other', Float32Array.of(3));
      expect(log.warnings).toEqual([
        {
          code: 'redis-unavailable',
          message: `Redis refuses writes (${OOM}); the cache skips writes until Redis accepts them again.`,
        },
      ]);
    },
  );

  it('the limiter store with the password "process" says its own words whole when Redis refuses its writes', async () => {
    await requirePassword(env, 'process', undo);
    const log = warningLog();
    const store = env.track(
      await createRedisLimiterStore({
        url: `redis://:process@127.0.0.1:${env.redis.port}`,
        namespace: 'words-process',
        onWarning: log.onWarning,
      }),
    );
    await refuseWrites();
    await store.take('account', { capacity: 10, perMinute: 60 }, 1, 0);
    // Redis names the script that failed by its SHA-1 and line.
    expect(log.warnings).toEqual([
      {
        code: 'redis-unavailable',
        message: expect.stringMatching(
          /^Redis refuses writes \(OOM command not allowed when used memory > 'maxmemory'\. script: [0-9a-f]{40}, on @user_script:\d+\.\); the rate limiter uses this process's own memory until Redis accepts them again\.$/,
        ),
      },
    ]);
  });

  it('a wrong password "Redis" fails to connect with a ConnectionError that names Redis and hides only the password', async () => {
    await requirePassword(env, 'cache', undo);
    const error = await failure(createRedisCacheStore({ url: `redis://:Redis@127.0.0.1:${env.redis.port}` }));
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${env.redis.port}: WRONGPASS invalid username-password pair or user is disabled. Redis refused the user name or password in the URL: check them, and percent-encode any @, :, /, #, ? or % in a user name or password (encodeURIComponent).`,
    );
    expect((error as ConnectionError).url).toBe(`redis://[REDACTED]@127.0.0.1:${env.redis.port}`);
  });
});

describe('a password under 4 characters that a proxy echoes', () => {
  it('is redacted from the ConnectionError of a refused AUTH where it stands as a word, and left inside longer words', async () => {
    const server = await respServer((args) =>
      args.includes('AUTH') ? `-ERR password ${args.at(-1)} refused (see table abc)\r\n` : '+OK\r\n',
    );
    try {
      const error = await failure(createRedisCacheStore({ url: `redis://:ab@127.0.0.1:${server.port}` }));
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.message).toBe(
        `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${server.port}: ERR password [REDACTED] refused (see table abc). Check that Redis runs there and that the URL is right.`,
      );
    } finally {
      await server.close();
    }
  });

  it('is redacted from the warning of a refused command, however it is set off', async () => {
    const server = await respServer((args) =>
      args[0] === 'MGET' ? '-ERR client "a.b" (a.b=1, ab) refused\r\n' : '+OK\r\n',
    );
    const log = warningLog();
    const store = await createRedisCacheStore({
      url: `redis://:a.b@127.0.0.1:${server.port}`,
      onWarning: log.onWarning,
    });
    try {
      expect(await store.get('k')).toBeUndefined();
      expect(log.warnings).toEqual([
        {
          code: 'redis-unavailable',
          message:
            'Redis refuses reads (ERR client "[REDACTED]" ([REDACTED]=1, ab) refused); the cache misses until Redis accepts them again.',
        },
      ]);
    } finally {
      await store.close();
      await server.close();
    }
  });
});
