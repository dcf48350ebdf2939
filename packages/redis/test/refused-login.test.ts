/**
 * A Redis that requires a password (`requirepass`) and refuses the URL's: the `ConnectionError` says the
 * URL's user name or password was refused and to check them, percent-encoded, where it said to check that
 * Redis runs there, which it does. Neither the user name nor the password is ever shown. A URL that gives
 * none is told that Redis wants one.
 */
import { ConnectionError } from '@embedkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { failure, redisForTests, requirePassword, until } from './helpers.js';

const env = redisForTests();

const undo: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step();
});

const STORES = { 'limiter store': createRedisLimiterStore, 'cache store': createRedisCacheStore };

const REFUSED =
  'WRONGPASS invalid username-password pair or user is disabled. Redis refused the user name or password in the URL: check them, and percent-encode any @, :, /, #, ? or % in a user name or password (encodeURIComponent).';

describe.each(Object.entries(STORES))('the %s, on a Redis that requires a password', (_name, create) => {
  it.each([
    ['a user name and a wrong password', 'u-fake-user:sk-test-fake-wrong'],
    ['a wrong password alone', ':sk-test-fake-wrong'],
  ])('given %s, says they were refused and to check them, showing neither', async (_what, login) => {
    await requirePassword(env, 'sk-test-fake-right', undo);
    const error = await failure(create({ url: `redis://${login}@127.0.0.1:${env.redis.port}` }));
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${env.redis.port}: ${REFUSED}`,
    );
    for (const secret of ['u-fake-user', 'sk-test-fake-wrong', 'sk-test-fake-right'])
      expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(secret);
  });

  it('given no password, says Redis requires one and how to give it', async () => {
    await requirePassword(env, 'sk-test-fake-right', undo);
    const error = await failure(create({ url: `redis://127.0.0.1:${env.redis.port}` }));
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      new RegExp(
        `^cannot connect to Redis at redis://127\\.0\\.0\\.1:${env.redis.port}: NOAUTH .*\\. Redis requires a password, which the URL does not give: add it as redis://:password@host \\(or redis://user:password@host\\), and percent-encode any @, :, /, #, \\? or % in a user name or password \\(encodeURIComponent\\)\\.$`,
      ),
    );
    expect(error.message).not.toContain('Check that Redis runs there');
  });
});

// Found with a Redis restarted under a new password while a job ran: the store reconnected with the old
// one and Redis refused it, on every attempt, but the one warning said "Redis is unavailable (Socket
// closed unexpectedly)", as for a Redis that is merely restarting; nothing said that the login was now
// refused, which no wait mends.
describe.each(Object.entries(STORES))(
  'the %s, when Redis refuses its login on reconnecting',
  (_name, create) => {
    it('says the login was refused and to check it, once, showing no password, and is restored once Redis takes it', async () => {
      await requirePassword(env, 'sk-test-fake-first', undo);
      const warnings: { code: string; message: string }[] = [];
      const store = env.track(
        await create({
          url: `redis://:sk-test-fake-first@127.0.0.1:${env.redis.port}`,
          onWarning: (warning) => warnings.push(warning),
        }),
      );
      await env.look.send(['CONFIG', 'SET', 'requirepass', 'sk-test-fake-second']);
      await env.look.send(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      await until(
        () => warnings.some((warning) => warning.message.includes('WRONGPASS')),
        'the refused login',
      );
      const refused = warnings.filter((warning) => warning.message.includes('WRONGPASS'));
      expect(refused).toHaveLength(1);
      expect(refused[0]!.code).toBe('redis-unavailable');
      expect(refused[0]!.message).toMatch(
        /^Redis refused the store's login when it connected again \(WRONGPASS invalid username-password pair or user is disabled\.\): check the user name and password in the URL against what Redis expects now; (the cache misses and skips writes|the rate limiter uses this process's own memory) until Redis accepts them\.$/,
      );
      await env.look.send(['CONFIG', 'SET', 'requirepass', 'sk-test-fake-first']);
      // The store hears that Redis is back from an operation (a read of each store).
      await until(async () => {
        await ('get' in store ? store.get('probe') : store.pausedUntil('probe'));
        return warnings.at(-1)?.code === 'redis-restored';
      }, 'the login taken again');
      expect(warnings.filter((warning) => warning.message.includes('WRONGPASS'))).toHaveLength(1);
      expect(JSON.stringify(warnings)).not.toMatch(/sk-test-fake-(first|second)/);
    });
  },
);
