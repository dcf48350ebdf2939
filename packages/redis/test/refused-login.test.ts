/**
 * A Redis that requires a password (`requirepass`) and refuses the URL's: the `ConnectionError` says the
 * URL's user name or password was refused and to check them, percent-encoded, where it said to check that
 * Redis runs there, which it does. Neither the user name nor the password is ever shown. A URL that gives
 * none is told that Redis wants one.
 */
import { ConnectionError } from '@embedkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { failure, redisForTests, requirePassword } from './helpers.js';

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
