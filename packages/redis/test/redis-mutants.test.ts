/**
 * Behaviour of the Redis stores that the rest of the suite left unpinned: the options refused and the
 * argument each refusal names, the URLs taken (rediss://, a user or a password alone) and the message of
 * each malformed escape, a password never shown even when Redis (or a proxy in front of it) echoes it,
 * how a failure that is not an Error is described, the options given to node-redis (reconnection delays,
 * connect timeout, no offline queue), the default warning through `process.emitWarning`, the probe of a
 * silent Redis (one PING for concurrent timeouts, its exact back-off, no timer left behind, nothing after
 * `close()`), `close()` waiting for the answers already due, the script sent in full only after NOSCRIPT,
 * no command for an empty read or write, and the limiter's arithmetic where it was not yet exact: a
 * bucket above a lowered capacity, a half-written bucket, Redis's clock read to the microsecond, a pause's
 * remaining time in both clocks, and the store's own `now` standing in for a missing one.
 */
import {
  type BucketSpec,
  ConnectionError,
  createMemoryLimiterStore,
  InvalidArgumentError,
} from '@embedkit/core';
import { ErrorReply } from '@redis/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore, type RedisClientLike } from '../src/index.js';
import {
  closedPort,
  countingClient,
  failure,
  heldCacheStore,
  redisForTests,
  respServer,
  until,
  warningLog,
} from './helpers.js';

/** Every node-redis client created in this file (the stores' own, from a URL), with its options. */
const created = vi.hoisted(
  () => [] as { options: { url?: string; [option: string]: unknown }; client: { isOpen: boolean } }[],
);
vi.mock('@redis/client', async (importOriginal) => {
  const original = await importOriginal<typeof import('@redis/client')>();
  return {
    ...original,
    createClient: (options: (typeof created)[number]['options']) => {
      const client = original.createClient(options as never);
      created.push({ options, client });
      return client;
    },
  };
});

/** The last client created for `url`. */
const createdFor = (url: string) => created.findLast((entry) => entry.options.url === url)!;

const env = redisForTests();

afterEach(() => {
  // Spies first: one on a faked timer function would otherwise put the fake back.
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const SECRET = 'hunter2-redis-Pw9x';
const SLOW: BucketSpec = { capacity: 10, perMinute: 60 };

/** A client that settles every command with `reply(args)` (a value, or a rejected promise). */
function scriptedClient(reply: (args: unknown[]) => Promise<unknown>): RedisClientLike {
  return { isReady: true, sendCommand: (args) => reply(args) };
}

/** The first warning a cache store on `client` gives for one read. */
async function firstReadWarning(client: RedisClientLike) {
  const log = warningLog();
  const store = await createRedisCacheStore({ client, onWarning: log.onWarning });
  expect(await store.get('k')).toBeUndefined();
  return log.warnings;
}

describe('options', () => {
  it('names the missing or doubled connection as the argument: url when neither is given, client when both are', async () => {
    const neither = await failure(createRedisLimiterStore({}));
    expect((neither as InvalidArgumentError).argument).toBe('url');
    const client = { isReady: true, sendCommand: async () => null };
    const both = await failure(createRedisCacheStore({ client, url: 'redis://localhost' }));
    expect(InvalidArgumentError.isInstance(both)).toBe(true);
    expect((both as InvalidArgumentError).argument).toBe('client');
    expect(both.message).toBe(
      "createRedisCacheStore takes either a node-redis client ({ client }) or a URL ({ url: 'redis://localhost:6379' }), not both.",
    );
  });

  it('takes no options at all as none given: asks for a client or a URL', async () => {
    const error = await failure(createRedisCacheStore(undefined as never));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      "createRedisCacheStore takes either a node-redis client ({ client }) or a URL ({ url: 'redis://localhost:6379' }), not neither.",
    );
  });

  it('refuses options that are not an object, naming the options as the argument', async () => {
    const error = await failure(createRedisCacheStore(false as never));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('options');
    expect(error.message).toMatch(/^createRedisCacheStore options are invalid: \(options\): .+\.$/);
  });

  it('takes a timeoutMs up to 2,147,483,647 ms (the longest timer Node.js keeps), and refuses one longer', async () => {
    const client = { isReady: true, sendCommand: async () => [null] };
    const store = await createRedisCacheStore({ client, timeoutMs: 2_147_483_647 });
    expect(await store.get('k')).toBeUndefined();
    const error = await failure(createRedisCacheStore({ client, timeoutMs: 2_147_483_648 }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('timeoutMs');
  });

  it('refuses as client anything but an object with sendCommand and isReady', async () => {
    const sendCommand = async () => null;
    for (const client of [
      null,
      'redis://localhost',
      { sendCommand },
      Object.assign(() => {}, { sendCommand, isReady: true }),
    ]) {
      const error = await failure(createRedisCacheStore({ client } as never));
      expect(InvalidArgumentError.isInstance(error), String(client)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('client');
      expect(error.message).toBe(
        'createRedisCacheStore options are invalid: client: must be a node-redis client (createClient() of redis or @redis/client).',
      );
    }
  });

  it('takes a one-character namespace and refuses an empty one', async () => {
    const client = countingClient(scriptedClient(async () => [null]));
    const store = await createRedisCacheStore({ client, namespace: 'a' });
    await store.get('k');
    expect(client.commands).toEqual(['MGET 1']);
    const empty = await failure(createRedisCacheStore({ client, namespace: '' }));
    expect(InvalidArgumentError.isInstance(empty)).toBe(true);
    expect((empty as InvalidArgumentError).argument).toBe('namespace');
    expect(empty.message).toMatch(/^createRedisCacheStore options are invalid: namespace: /);
  });
});

describe('URLs', () => {
  it('takes rediss:// (TLS) and a URL with a user or a password alone, never showing either', async () => {
    const port = await closedPort();
    for (const [url, shown] of [
      [`rediss://127.0.0.1:${port}`, `rediss://127.0.0.1:${port}`],
      [`redis://:${SECRET}@127.0.0.1:${port}`, `redis://[REDACTED]@127.0.0.1:${port}`],
      [`redis://${SECRET}@127.0.0.1:${port}`, `redis://[REDACTED]@127.0.0.1:${port}`],
    ] as const) {
      const error = await failure(createRedisCacheStore({ url }));
      expect(ConnectionError.isInstance(error), `${url}: ${error}`).toBe(true);
      expect(error.message).toBe(
        `cannot connect to Redis at ${shown}: connect ECONNREFUSED 127.0.0.1:${port}. Check that Redis runs there and that the URL is right.`,
      );
      expect((error as ConnectionError).url).toBe(shown);
    }
  });

  it('tells a "%" without two hex digits (either case) from escapes that are not UTF-8', async () => {
    const notUtf8 =
      "url's password has percent-escapes that are not UTF-8 text; percent-encode it with encodeURIComponent(password)";
    for (const [password, message] of [
      ['pa%FFzz', notUtf8],
      ['%C3%28ab', notUtf8],
      ['%C0%80ab', notUtf8],
      [
        'ab%e',
        `url's password has a "%" not followed by two hex digits; percent-encode it as "%25" (encodeURIComponent(password) does)`,
      ],
    ]) {
      const error = await failure(createRedisCacheStore({ url: `redis://:${password}@127.0.0.1:6399` }));
      expect(InvalidArgumentError.isInstance(error), password).toBe(true);
      expect(error.message, password).toBe(`${message}; got "redis://[REDACTED]@127.0.0.1:6399".`);
    }
  });
});

describe('a password that Redis echoes', () => {
  // The password holds "@", so the URL carries it percent-encoded and Redis receives (and echoes) it decoded.
  const password = `p@ss-${SECRET}`;
  const url = (port: number) => `redis://default:${encodeURIComponent(password)}@127.0.0.1:${port}`;

  it('is redacted from the ConnectionError of a refused AUTH', async () => {
    // node-redis authenticates with HELLO 3 AUTH <user> <password> (or AUTH <user> <password>).
    const server = await respServer((args) => {
      const auth = args.indexOf('AUTH');
      return auth === -1 ? '+OK\r\n' : `-ERR no user ${args[auth + 1]} with password ${args[auth + 2]}\r\n`;
    });
    try {
      const error = await failure(createRedisCacheStore({ url: url(server.port) }));
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.message).toBe(
        `cannot connect to Redis at redis://[REDACTED]@127.0.0.1:${server.port}: ERR no user default with password [REDACTED]. Check that Redis runs there and that the URL is right.`,
      );
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(SECRET);
    } finally {
      await server.close();
    }
  });

  it('is redacted from the warning of a refused command', async () => {
    const server = await respServer((args) =>
      args[0] === 'MGET' ? `-ERR proxy refused the client of password ${password}\r\n` : '+OK\r\n',
    );
    const log = warningLog();
    const store = await createRedisCacheStore({ url: url(server.port), onWarning: log.onWarning });
    try {
      expect(await store.get('k')).toBeUndefined();
      expect(log.warnings).toEqual([
        {
          code: 'redis-unavailable',
          message:
            'Redis refuses reads (ERR proxy refused the client of password [REDACTED]); the cache misses until Redis accepts them again.',
        },
      ]);
    } finally {
      await store.close();
      await server.close();
    }
  });
});

describe('how a failure is described', () => {
  it('a rejection that is not an Error is Redis out of reach, said as it is', async () => {
    for (const [reason, shown] of [
      ['boom', 'boom'],
      [undefined, 'undefined'],
      [null, 'null'],
    ] as const) {
      const warnings = await firstReadWarning(scriptedClient(() => Promise.reject(reason)));
      expect(warnings).toEqual([
        {
          code: 'redis-unavailable',
          message: `Redis is unavailable (${shown}); the cache misses and skips writes until it is back.`,
        },
      ]);
    }
  });

  it("an error's code is named before its message unless the message already holds it", async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect((await firstReadWarning(scriptedClient(() => Promise.reject(reset))))[0]?.message).toBe(
      'Redis is unavailable (ECONNRESET: socket hang up); the cache misses and skips writes until it is back.',
    );
    const named = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect((await firstReadWarning(scriptedClient(() => Promise.reject(named))))[0]?.message).toBe(
      'Redis is unavailable (read ECONNRESET); the cache misses and skips writes until it is back.',
    );
  });

  it('an error whose prototype chain has no constructor is Redis out of reach, not a crash', async () => {
    const error = new Error('odd');
    const proto = Object.create(Error.prototype);
    Object.defineProperty(proto, 'constructor', { value: undefined });
    Object.setPrototypeOf(error, proto);
    expect((await firstReadWarning(scriptedClient(() => Promise.reject(error))))[0]?.message).toBe(
      'Redis is unavailable (odd); the cache misses and skips writes until it is back.',
    );
  });
});

describe('Redis out of reach', () => {
  it('a client that is not connected is sent no command', async () => {
    const client = countingClient({ isReady: false, sendCommand: async () => [null] });
    const store = await createRedisCacheStore({ client, onWarning: () => {} });
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', Float32Array.of(1));
    expect(client.commands).toEqual([]);
  });

  it('after a failure that is not a timeout, the next call tries Redis again (no PING first)', async () => {
    let calls = 0;
    const client = countingClient(
      scriptedClient(async () => {
        if (++calls === 1) throw new Error('Socket closed unexpectedly');
        return [null];
      }),
    );
    const log = warningLog();
    const store = await createRedisCacheStore({ client, onWarning: log.onWarning });
    expect(await store.get('k')).toBeUndefined();
    expect(await store.get('k')).toBeUndefined();
    expect(client.commands).toEqual(['MGET 1', 'MGET 1']);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-restored']);
  });
});

describe('an outage that began with refused reads and then went silent', () => {
  it('ends when a read succeeds again, not when Redis answers the PING', async () => {
    vi.useFakeTimers();
    const { held, log, store } = await heldCacheStore();
    const refused = store.get('a');
    held.sent[0]!.fail(new ErrorReply('ERR reads refused'));
    expect(await refused).toBeUndefined();
    const silent = store.get('b');
    await vi.advanceTimersByTimeAsync(100);
    expect(await silent).toBeUndefined();
    expect(held.commands()).toEqual(['MGET', 'MGET', 'PING']);
    held.sent[2]!.answer('PONG');
    await vi.advanceTimersByTimeAsync(0);
    // Answering again narrows the outage to what Redis refused when last asked: told, and not ended.
    expect(store.usingFallback).toBe(true);
    expect(log.codes()).toEqual(['redis-unavailable', 'redis-unavailable', 'redis-unavailable']);
    const read = store.get('c');
    held.sent[3]!.answer([null]);
    expect(await read).toBeUndefined();
    expect(store.usingFallback).toBe(false);
    expect(log.warnings.map((warning) => warning.message)).toEqual([
      'Redis refuses reads (ERR reads refused); the cache misses until Redis accepts them again.',
      'Redis is unavailable (no answer within 100 ms); the cache misses and skips writes until it is back.',
      'Redis answers again, but refused reads when last asked (ERR reads refused); the cache misses until Redis accepts them again.',
      'Redis accepts reads again; the cache reads and writes Redis again.',
    ]);
  });
});

describe('without onWarning', () => {
  it('warns through process.emitWarning, typed EmbedkitRedisWarning with the code', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const store = await createRedisCacheStore({ client: { isReady: false, sendCommand: async () => null } });
    expect(await store.get('k')).toBeUndefined();
    expect(emitted.mock.calls).toEqual([
      [
        'Redis is unavailable (the client is not connected); the cache misses and skips writes until it is back.',
        { type: 'EmbedkitRedisWarning', code: 'redis-unavailable' },
      ],
    ]);
  });
});

describe('the connection a store opens from a URL', () => {
  it('fails commands at once while disconnected, connects within timeoutMs, and reconnects 50 ms, 100 ms, … up to 2 s apart', async () => {
    const store = env.track(await createRedisCacheStore({ url: env.redis.url, timeoutMs: 750 }));
    const options = createdFor(env.redis.url).options as {
      disableOfflineQueue: boolean;
      socket: { connectTimeout: number; reconnectStrategy: (retries: number, cause: Error) => unknown };
    };
    expect(options.disableOfflineQueue).toBe(true);
    expect(options.socket.connectTimeout).toBe(750);
    const delays = Array.from({ length: 13 }, (_, retries) =>
      options.socket.reconnectStrategy(retries, new Error('lost')),
    );
    expect(delays).toEqual([50, 100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000]);
    expect(options.socket.reconnectStrategy(1_000, new Error('lost'))).toBe(2_000);
    expect(store.usingFallback).toBe(false);
  });

  it('waits 2 s by default, and never retries a first connection that failed', async () => {
    const port = await closedPort();
    const url = `redis://127.0.0.1:${port}`;
    expect(ConnectionError.isInstance(await failure(createRedisCacheStore({ url })))).toBe(true);
    const options = createdFor(url).options as {
      socket: { connectTimeout: number; reconnectStrategy: (retries: number, cause: Error) => unknown };
    };
    expect(options.socket.connectTimeout).toBe(2_000);
    expect(createdFor(url).client.isOpen).toBe(false);
    const cause = new Error('refused');
    expect(options.socket.reconnectStrategy(0, cause)).toBe(cause);
  });

  it('close() clears the timer it waits with, so the process can exit at once', async () => {
    const store = await createRedisCacheStore({ url: env.redis.url, timeoutMs: 4_321 });
    await store.get('k');
    const scheduled = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    await store.close();
    const waits = scheduled.mock.calls.flatMap((call, index) =>
      call[1] === 4_321 ? [scheduled.mock.results[index]!.value] : [],
    );
    expect(waits).toHaveLength(1);
    expect(cleared.mock.calls.map((call) => call[0])).toContain(waits[0]);
  });

  it('close() while Redis hangs drops the connection after timeoutMs', async () => {
    const store = await createRedisCacheStore({ url: env.redis.url, timeoutMs: 100, onWarning: () => {} });
    const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    env.redis.freeze();
    try {
      expect(await store.get('k')).toBeUndefined();
      const open = sockets();
      await store.close();
      // Dropped: its socket closes at once, though Redis has not answered.
      await until(() => sockets() === open - 1, 'the socket to close', 1_000);
    } finally {
      env.redis.thaw();
    }
  });

  it('close() waits for the answers already due, and a second close() is harmless', async () => {
    const writer = await createRedisCacheStore({ url: env.redis.url, namespace: 'closing' });
    await writer.set('k', Float32Array.of(7));
    const log = warningLog();
    const store = await createRedisCacheStore({
      url: env.redis.url,
      namespace: 'closing',
      onWarning: log.onWarning,
    });
    const read = store.get('k');
    await store.close();
    expect(await read).toEqual(Float32Array.of(7));
    expect(log.warnings).toEqual([]);
    await store.close();
    await writer.close();
  });
});

describe('the probe of a Redis that stopped answering', () => {
  it('is one PING when several commands time out together', async () => {
    vi.useFakeTimers();
    const { held, log, store } = await heldCacheStore();
    const reads = [store.get('a'), store.get('b'), store.get('c')];
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(reads)).toEqual([undefined, undefined, undefined]);
    expect(held.commands()).toEqual(['MGET', 'MGET', 'MGET', 'PING']);
    expect(log.codes()).toEqual(['redis-unavailable']);
  });

  it('while disconnected checks again 50 ms after a failed PING, doubling the wait up to 2 s', async () => {
    vi.useFakeTimers();
    const { held, store } = await heldCacheStore();
    const first = store.get('k');
    await vi.advanceTimersByTimeAsync(100);
    await first;
    expect(held.commands()).toEqual(['MGET', 'PING']);
    held.client.isReady = false;
    held.sent[1]!.fail(new Error('Socket closed unexpectedly'));
    // Checks at +50, +150, +350, +750, +1,550, +3,150 (waits 50, 100, … 1,600), then every 2,000.
    await vi.advanceTimersByTimeAsync(5_000);
    held.client.isReady = true;
    await vi.advanceTimersByTimeAsync(149);
    expect(held.commands()).toEqual(['MGET', 'PING']);
    await vi.advanceTimersByTimeAsync(1);
    expect(held.commands()).toEqual(['MGET', 'PING', 'PING']);
  });

  it('leaves no timer behind a command that was answered', async () => {
    vi.useFakeTimers();
    const store = await createRedisCacheStore({
      client: scriptedClient(async () => [null]),
      timeoutMs: 60_000,
    });
    expect(await store.get('k')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after close(), a PING that fails schedules nothing and one that is answered reports nothing', async () => {
    vi.useFakeTimers();
    for (const settle of ['fail', 'answer'] as const) {
      const { held, log, store } = await heldCacheStore();
      const first = store.get('k');
      await vi.advanceTimersByTimeAsync(100);
      await first;
      expect(held.commands()).toEqual(['MGET', 'PING']);
      await store.close();
      if (settle === 'fail') held.sent[1]!.fail(new Error('Socket closed unexpectedly'));
      else held.sent[1]!.answer('PONG');
      await vi.advanceTimersByTimeAsync(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(log.codes()).toEqual(['redis-unavailable']);
      expect(store.usingFallback).toBe(true);
    }
  });

  it('waits for the client to reconnect on a timer that never keeps the process alive, and close() stops it', async () => {
    vi.useFakeTimers();
    const { held, store } = await heldCacheStore();
    const first = store.get('k');
    await vi.advanceTimersByTimeAsync(100);
    await first;
    held.client.isReady = false;
    const scheduled = vi.spyOn(globalThis, 'setTimeout');
    held.sent[1]!.fail(new Error('Socket closed unexpectedly'));
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    expect(scheduled.mock.results.map((result) => (result.value as NodeJS.Timeout).hasRef())).toEqual([
      false,
    ]);
    scheduled.mockRestore();
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the cache store', () => {
  it('sends no command for an empty read or write, and an empty write does not end a refusal of writes', async () => {
    const log = warningLog();
    let refuse = true;
    const client = countingClient(
      scriptedClient(async (args) => {
        if (args[0] === 'SET' && refuse)
          throw new ErrorReply("READONLY You can't write against a read only replica.");
        return args[0] === 'MGET' ? args.slice(1).map(() => null) : 'OK';
      }),
    );
    const store = await createRedisCacheStore({ client, onWarning: log.onWarning });
    await store.set('k', Float32Array.of(1));
    expect(log.codes()).toEqual(['redis-unavailable']);
    refuse = false;
    client.commands.length = 0;
    expect(await store.getMany([])).toEqual([]);
    await store.setMany([]);
    expect(client.commands).toEqual([]);
    expect(store.usingFallback).toBe(true);
    expect(log.codes()).toEqual(['redis-unavailable']);
  });
});

describe('the limiter’s scripts', () => {
  it('are sent in full only when Redis answers NOSCRIPT; any other refusal is not retried', async () => {
    const sent: unknown[][] = [];
    let refusal = 'NOSCRIPT No matching script. Please use EVAL.';
    const client = scriptedClient(async (args) => {
      sent.push(args);
      if (args[0] === 'EVALSHA') throw new ErrorReply(refusal);
      return 0;
    });
    const log = warningLog();
    const store = await createRedisLimiterStore({ client, namespace: 'ns', onWarning: log.onWarning });
    expect(await store.take('k', SLOW, 3, 0)).toBe(0);
    expect(sent.map((args) => args[0])).toEqual(['EVALSHA', 'EVAL']);
    expect(sent[0]!.slice(2)).toEqual(['1', 'ns:limiter:k', '10', '60', '3', '']);
    expect(sent[1]!.slice(2)).toEqual(['1', 'ns:limiter:k', '10', '60', '3', '']);
    expect(String(sent[1]![1])).toContain("redis.call('HMGET', KEYS[1], 'level', 'updatedAt')");

    sent.length = 0;
    refusal = 'WRONGTYPE Operation against a key holding the wrong kind of value';
    expect(await store.take('k', SLOW, 3, 0)).toBe(0);
    expect(sent.map((args) => args[0])).toEqual(['EVALSHA']);
    expect(log.warnings[0]?.message).toBe(
      "Redis refuses writes (WRONGTYPE Operation against a key holding the wrong kind of value); the rate limiter uses this process's own memory until Redis accepts them again.",
    );
  });
});

describe('a pause Redis refuses to write', () => {
  it('is a refused write, not a refused read', async () => {
    const log = warningLog();
    const client = scriptedClient(async () => {
      throw new ErrorReply("OOM command not allowed when used memory > 'maxmemory'.");
    });
    const store = await createRedisLimiterStore({ client, onWarning: log.onWarning });
    await store.pause('p', 5_000, 0);
    expect(log.warnings).toEqual([
      {
        code: 'redis-unavailable',
        message:
          "Redis refuses writes (OOM command not allowed when used memory > 'maxmemory'.); the rate limiter uses this process's own memory until Redis accepts them again.",
      },
    ]);
    // This process still honours it.
    expect(await store.pausedUntil('p', 0)).toBe(5_000);
  });
});

let namespaces = 0;

/** A limiter store on the test's Redis, in a namespace of its own. */
async function limiter(
  options: Parameters<typeof createRedisLimiterStore>[0] = {},
  namespace = `exact-${++namespaces}`,
) {
  const store = env.track(
    await createRedisLimiterStore({ url: env.redis.url, namespace, onWarning: () => {}, ...options }),
  );
  return { store, namespace, key: (key: string) => `${namespace}:limiter:${key}` };
}

/** Redis's own clock, ms (to the microsecond). */
async function redisNow(): Promise<number> {
  const [seconds, micros] = (await env.look.send(['TIME'])) as [string, string];
  return Number(seconds) * 1_000 + Number(micros) / 1_000;
}

describe('the limiter store', () => {
  it('keeps a bucket above a capacity lowered at the same instant, as the memory store does', async () => {
    const { store } = await limiter({ time: 'caller', now: () => 0 });
    const memory = createMemoryLimiterStore();
    const large: BucketSpec = { capacity: 20, perMinute: 60 };
    const small: BucketSpec = { capacity: 10, perMinute: 60 };
    for (const target of [memory, store]) {
      const answers = [
        await target.take('k', large, 1, 0),
        await target.take('k', small, 1, 0),
        await target.take('k', small, 10, 0),
        await target.take('k', small, 10, 0),
      ];
      // 19, then 18 (above the new capacity, kept), then 8, then a wait for 2 more at one a second.
      expect(answers).toEqual([0, 0, 0, 2_000]);
    }
  });

  it('refills at perMinute / 60,000 a millisecond and rounds a wait up to the next millisecond, as the memory store does', async () => {
    const { store } = await limiter({ time: 'caller' });
    for (const target of [createMemoryLimiterStore(), store]) {
      expect(await target.take('r', SLOW, 10, 0)).toBe(0);
      // 599.995 ms refill 0.599995 tokens: the 0.400005 missing take 400.005 ms, so 401.
      expect(await target.take('r', SLOW, 1, 599.995)).toBe(401);
    }
  });

  it('saves a bucket’s level and time to the last bit', async () => {
    const { store, key } = await limiter({ time: 'caller' });
    await store.take('k', SLOW, 10, 0);
    await store.adjust('k', SLOW, 0.123456789, 1_234.567891);
    const [level, updatedAt] = (await env.look.send(['HMGET', key('k'), 'level', 'updatedAt'])) as string[];
    // The refill of 1,234.567891 ms at 60 a minute, then the 0.123456789 given back, in doubles.
    expect(Number(level)).toBe((1_234.567891 * 60) / 60_000 + 0.123456789);
    expect(Number(updatedAt)).toBe(1_234.567891);
  });

  it('takes a pause that is already over without a refusal', async () => {
    const log = warningLog();
    const { store } = await limiter({ time: 'caller', onWarning: log.onWarning });
    await store.pause('p', 0, 5_000);
    expect(await store.pausedUntil('p', 5_000)).toBe(0);
    expect(log.warnings).toEqual([]);
  });

  it('close() ends the connection it opened', async () => {
    const clients = async () =>
      Number(/connected_clients:(\d+)/.exec(String(await env.look.send(['INFO', 'clients'])))?.[1]);
    const before = await clients();
    const store = await createRedisLimiterStore({ url: env.redis.url });
    expect(await clients()).toBe(before + 1);
    await store.close();
    await until(async () => (await clients()) === before, 'the connection to close');
  });

  it('takes a bucket that lacks its time (half written) as new, full', async () => {
    const { store, key } = await limiter({ time: 'caller' });
    await env.look.send(['HSET', key('k'), 'level', '2']);
    expect(await store.take('k', SLOW, 10, 0)).toBe(0);
    expect(await env.look.send(['HMGET', key('k'), 'level', 'updatedAt'])).toEqual(['0', '0']);
    expect(await store.take('k', SLOW, 1, 0)).toBe(1_000);
    expect(store.usingFallback).toBe(false);
  });

  it('saves the time of Redis’s clock to the microsecond', async () => {
    const { store, key } = await limiter();
    for (let index = 0; index < 5; index++) {
      const before = await redisNow();
      await store.take(`k${index}`, SLOW, 1, 0);
      const after = await redisNow();
      const updatedAt = Number(await env.look.send(['HGET', key(`k${index}`), 'updatedAt']));
      expect(updatedAt).toBeGreaterThanOrEqual(before);
      expect(updatedAt).toBeLessThanOrEqual(after);
    }
  });

  it('a pause read by Redis’s clock is what is left of it, not its whole length again', async () => {
    const { store, key } = await limiter();
    // A 3 s pause set 1 s ago.
    const now = await redisNow();
    await env.look.send(['SET', key('p'), `${now + 2_000} 3000`]);
    const left = await store.pausedUntil('p', 0);
    expect(left).toBeGreaterThan(1_900);
    expect(left).toBeLessThanOrEqual(2_000);
  });

  it('in caller time, another process reads a pause’s end exactly, to the fraction of a millisecond', async () => {
    const { store, namespace } = await limiter({ time: 'caller' });
    const { store: other } = await limiter({ time: 'caller' }, namespace);
    await store.pause('p', 5_000.25, 0.5);
    expect(await other.pausedUntil('p', 1_000.75)).toBe(5_000.25);
    expect(await other.pausedUntil('p', 5_000)).toBe(5_000.25);
    // Over: not paused.
    expect(await other.pausedUntil('p', 5_000.25)).toBe(0);
  });

  it('a longer pause from another process raises the shared one, whose end Redis holds as a number', async () => {
    const { store: first, namespace } = await limiter({ time: 'caller' });
    const { store: second } = await limiter({ time: 'caller' }, namespace);
    const { store: reader } = await limiter({ time: 'caller' }, namespace);
    await first.pause('p', 5_000, 0);
    await second.pause('p', 8_000, 0);
    expect(second.usingFallback).toBe(false);
    expect(await reader.pausedUntil('p', 0)).toBe(8_000);
  });

  it('uses the store’s now option when a call gives none', async () => {
    const { store, key, namespace } = await limiter({ time: 'caller', now: () => 1_000 });
    await store.pause('p', 4_000);
    expect(String(await env.look.send(['GET', key('p')]))).toBe('4000 3000');
    const { store: other } = await limiter({ time: 'caller', now: () => 3_500 }, namespace);
    expect(await other.pausedUntil('p')).toBe(4_000);
  });
});
