import { ConnectionError, InvalidArgumentError } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { closedPort } from './helpers.js';

const SECRET = 'hunter2-redis-Pw9x';

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe.each([
  ['createRedisLimiterStore', createRedisLimiterStore],
  ['createRedisCacheStore', createRedisCacheStore],
] as const)('%s at start', (name, create) => {
  it('refuses a URL that is not a Redis URL, before connecting, without echoing its password', async () => {
    for (const url of [
      `http://user:${SECRET}@localhost:6379`,
      `redis//:${SECRET}@localhost`,
      'localhost:6379',
      '',
    ]) {
      const error = await failure(create({ url }));
      expect(InvalidArgumentError.isInstance(error), url).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('url');
      expect(error.message).toMatch(
        /^url must look like redis:\/\/\[\[user\]:password@\]host\[:port\]\[\/db\]/,
      );
      expect(error.message).not.toContain(SECRET);
    }
  });

  it('a password holding an unencoded "/" or "@" never shows in the error for a URL that cannot be parsed', async () => {
    // Review finding: everything up to the first "/" or "@" after "//" was redacted, so a password with
    // "/" was echoed whole and one with "@" showed the part after it.
    for (const [url, shown] of [
      [`redis://:sk-test/${SECRET}@127.0.0.1:6391`, 'redis://[REDACTED]@127.0.0.1:6391'],
      [`redis://user:sk-test@${SECRET}@127.0.0.1:99999`, 'redis://[REDACTED]@127.0.0.1:99999'],
      [`redis://user:a/b@c${SECRET}/@127.0.0.1:99999/0`, 'redis://[REDACTED]@127.0.0.1:99999/0'],
      [`redis://:${SECRET}@127.0.0.1:99999`, 'redis://[REDACTED]@127.0.0.1:99999'],
      // Not of the form scheme://…@: nothing after the scheme is shown.
      [`redis:/:${SECRET}@127.0.0.1`, 'redis:[REDACTED]'],
      [`redis//:${SECRET}@localhost`, '[REDACTED]'],
      // No "@", no password: shown as given.
      ['redis://127.0.0.1:99999', 'redis://127.0.0.1:99999'],
    ]) {
      const error = await failure(create({ url }));
      expect(InvalidArgumentError.isInstance(error), url).toBe(true);
      expect(error.message, url).toBe(
        `url must look like redis://[[user]:password@]host[:port][/db] (or rediss:// for TLS); got "${shown}".`,
      );
      expect(`${error.message} ${JSON.stringify(error)} ${error.stack}`, url).not.toContain(SECRET);
    }
  });

  it('a Redis that cannot be reached is a ConnectionError naming the host, never the password', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await failure(create({ url: `redis://default:${SECRET}@127.0.0.1:${port}/2` }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${port}/2: connect ECONNREFUSED 127.0.0.1:${port}. Check that Redis runs there and that the URL is right.`,
    );
    expect((error as ConnectionError).url).toBe(`redis://[REDACTED]@127.0.0.1:${port}/2`);
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });

  it('takes a client or a URL, exactly one', async () => {
    const neither = await failure(create({}));
    expect(InvalidArgumentError.isInstance(neither)).toBe(true);
    expect(neither.message).toBe(
      `${name} takes either a node-redis client ({ client }) or a URL ({ url: 'redis://localhost:6379' }), not neither.`,
    );
    const client = { isReady: true, sendCommand: async () => null };
    const both = await failure(create({ client, url: 'redis://localhost' }));
    expect(both.message).toMatch(/, not both\.$/);
  });

  it('refuses unknown and mistyped options, naming them', async () => {
    const unknown = await failure(create({ url: 'redis://localhost', nameSpace: 'x' } as never));
    expect(InvalidArgumentError.isInstance(unknown)).toBe(true);
    expect(unknown.message).toContain('nameSpace');
    const client = await failure(create({ client: { get: () => 1 } } as never));
    expect(client.message).toContain('client: must be a node-redis client');
    const timeout = await failure(create({ url: 'redis://localhost', timeoutMs: -1 }));
    expect((timeout as InvalidArgumentError).argument).toBe('timeoutMs');
  });
});
