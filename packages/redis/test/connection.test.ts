import { ConnectionError, InvalidArgumentError } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { closedPort, failure, warningLog } from './helpers.js';

const SECRET = 'hunter2-redis-Pw9x';

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
      // Not of the form scheme://…@: nothing is shown.
      [`redis:/:${SECRET}@127.0.0.1`, '[REDACTED]'],
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

  it('refuses a URL whose password holds an unencoded "@" before a "#", "?" or "/", never showing a fragment of it', async () => {
    // Review finding: "redis://default:P@ssw0rd#1@host" parsed with "ssw0rd" as the host, and the
    // ConnectionError said "cannot connect to Redis at redis://[REDACTED]@ssw0rd: getaddrinfo ENOTFOUND
    // ssw0rd"; with "/" instead, node-redis threw a plain TypeError (Invalid pathname).
    const encode =
      "percent-encode '@', '/', '#', '?' and '%' in the password (encodeURIComponent(password) does)";
    for (const url of [
      'redis://default:P@ssw0rd#1@127.0.0.1:6399',
      'redis://default:P@ssw0rd?1@127.0.0.1:6399',
      'redis://default:P@ss/w0rd@127.0.0.1:6399',
      'redis://default:Tr0ub4dor@x/y@127.0.0.1:6399',
    ]) {
      const error = await failure(create({ url }));
      expect(InvalidArgumentError.isInstance(error), url).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('url');
      expect(error.message, url).toBe(
        `url has an "@" after its host, so its password holds a character that ends the host part; ${encode}; got "redis://[REDACTED]@127.0.0.1:6399".`,
      );
      const shown = `${error.message} ${JSON.stringify(error)} ${error.stack}`;
      for (const fragment of ['ssw0rd', 'w0rd', 'P@ss', 'Tr0ub4dor', 'x/y']) {
        expect(shown, url).not.toContain(fragment);
      }
    }
    // A query or a fragment without an "@" after it is refused too.
    const query = await failure(create({ url: 'redis://127.0.0.1:6399/0?db=1' }));
    expect(InvalidArgumentError.isInstance(query)).toBe(true);
    expect(query.message).toBe(
      `url must not have a query ("?…") or a fragment ("#…"); if the password holds "?" or "#", ${encode}; got "redis://127.0.0.1:6399/0?db=1".`,
    );
  });

  it('refuses a path that is not the database number, and a malformed percent-escape, as InvalidArgumentError', async () => {
    // Review finding: these were a plain TypeError of node-redis ("Invalid pathname") and a URIError.
    const encode =
      "percent-encode '@', '/', '#', '?' and '%' in the password (encodeURIComponent(password) does)";
    for (const [url, message] of [
      [
        'redis://127.0.0.1:6399/cache',
        `url's path must be empty or the database number (redis://host:6379/0), not "/cache"; if it is part of the password, ${encode}; got "redis://127.0.0.1:6399/cache".`,
      ],
      [
        'redis://:pw@127.0.0.1:6399/1/2',
        `url's path must be empty or the database number (redis://host:6379/0), not "/1/2"; if it is part of the password, ${encode}; got "redis://[REDACTED]@127.0.0.1:6399/1/2".`,
      ],
      [
        'redis://:pa%zz@127.0.0.1:6399',
        `url's password has a "%" not followed by two hex digits; percent-encode it as "%25" (encodeURIComponent(password) does); got "redis://[REDACTED]@127.0.0.1:6399".`,
      ],
      [
        'redis://us%4@127.0.0.1:6399',
        `url's user has a "%" not followed by two hex digits; percent-encode it as "%25" (encodeURIComponent(user) does); got "redis://[REDACTED]@127.0.0.1:6399".`,
      ],
      [
        'redis://:pa%ffzz@127.0.0.1:6399',
        `url's password has percent-escapes that are not UTF-8 text; percent-encode it with encodeURIComponent(password); got "redis://[REDACTED]@127.0.0.1:6399".`,
      ],
    ]) {
      const error = await failure(create({ url }));
      expect(InvalidArgumentError.isInstance(error), `${url}: ${error}`).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('url');
      expect(error.message, url).toBe(message);
      expect(`${error.message} ${JSON.stringify(error)}`, url).not.toContain('zz');
    }
  });

  it('takes a password percent-encoded as the message says, and no path, "/" or a database number', async () => {
    const port = await closedPort();
    const password = encodeURIComponent(`P@ss/w0rd#1?%${SECRET}`);
    for (const path of ['', '/', '/3']) {
      const url = `redis://default:${password}@127.0.0.1:${port}${path}`;
      const error = await failure(create({ url }));
      expect(ConnectionError.isInstance(error), url).toBe(true);
      expect(error.message).toBe(
        `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${port}${path === '/' ? '' : path}: connect ECONNREFUSED 127.0.0.1:${port}. Check that Redis runs there and that the URL is right.`,
      );
      expect(JSON.stringify(error)).not.toContain('w0rd');
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

describe('an error reply from another copy of node-redis (its own ErrorReply class)', () => {
  // The class that node-redis gives an error reply, as a second copy of the package defines it: known by
  // its name only, since `instanceof` sees another class.
  class ErrorReply extends Error {}
  class SimpleError extends ErrorReply {}

  async function firstWarning(error: Error) {
    const log = warningLog();
    const client = { isReady: true, sendCommand: async () => Promise.reject(error) };
    const store = await createRedisCacheStore({ client, onWarning: log.onWarning });
    // Falls back to no cache: a miss.
    expect(await store.get('k')).toBeUndefined();
    return log.warnings[0];
  }

  it('is Redis refusing the operation, not Redis out of reach (bug: a class-name check no test proved)', async () => {
    const refused = await firstWarning(
      new SimpleError('OOM command not allowed when used memory > maxmemory'),
    );
    expect(refused?.code).toBe('redis-unavailable');
    expect(refused?.message).toMatch(/^Redis refuses reads \(.*OOM command not allowed/);
    // Any other error is Redis out of reach.
    const lost = await firstWarning(new Error('Socket closed unexpectedly'));
    expect(lost?.code).toBe('redis-unavailable');
    expect(lost?.message).not.toMatch(/refuses/);
  });
});
