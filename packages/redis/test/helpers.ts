import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { createClient, RESP_TYPES } from '@redis/client';
import { afterAll, beforeAll } from 'vitest';
import { freePort, type RedisServer, startRedisServer } from '../../../bench/src/redis-server.mjs';
import { createRedisCacheStore, type RedisClientLike, type RedisStoreWarning } from '../src/index.js';

/** A loopback port with nothing listening on it. */
export const closedPort = freePort;

export { type RedisServer, startRedisServer };

/** A plain client for the test's own look at what the stores wrote (raw replies as bytes). */
export async function inspector(url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return {
    client,
    send: (args: string[]) => client.sendCommand(args) as Promise<unknown>,
    bytes: (key: string) =>
      client.sendCommand(['GET', key], {
        typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
      }) as Promise<Buffer | null>,
    close: () => client.close(),
  };
}

/** Wraps a client and records the name (and key count) of every command sent through it. */
export function countingClient(client: RedisClientLike): RedisClientLike & { commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    get isReady() {
      return client.isReady;
    },
    sendCommand(args, options) {
      commands.push(`${String(args[0])} ${args.length - 1}`);
      return client.sendCommand(args, options);
    },
  };
}

/** Collects warnings; `codes` lists their codes in order. */
export function warningLog() {
  const warnings: RedisStoreWarning[] = [];
  return {
    warnings,
    onWarning: (warning: RedisStoreWarning) => {
      warnings.push(warning);
    },
    codes: () => warnings.map((warning) => warning.code),
  };
}

/** Polls `condition` every 20 ms until it holds, failing after `timeoutMs` (waits on a real server, not on time). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads `store` until it uses Redis again: a read falls back at once while the client reconnects. */
export async function untilReconnected(store: {
  get(key: string): Promise<unknown>;
  readonly usingFallback: boolean;
}): Promise<void> {
  await until(async () => {
    await store.get('probe');
    return !store.usingFallback;
  }, 'the store to reconnect');
}

/**
 * A redis-server for one test file, started before its tests and stopped after them, with a plain client
 * (`look`) for checking what the stores wrote. Stores passed to `track` are closed first.
 */
export function redisForTests() {
  let server: RedisServer | undefined;
  let client: Awaited<ReturnType<typeof inspector>> | undefined;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    client = await inspector(server.url);
  });
  afterAll(async () => {
    for (const store of opened.splice(0)) await store.close();
    await client?.close();
    await server?.stop();
  });
  return {
    get redis(): RedisServer {
      return server!;
    },
    get look(): Awaited<ReturnType<typeof inspector>> {
      return client!;
    },
    track<T extends { close(): Promise<void> }>(store: T): T {
      opened.push(store);
      return store;
    },
  };
}

/**
 * Makes the test's Redis require `password` from new connections (the test's own client stays signed in),
 * and adds the step that ends it to `undo`.
 */
export async function requirePassword(
  env: ReturnType<typeof redisForTests>,
  password: string,
  undo: (() => Promise<unknown>)[],
): Promise<void> {
  await env.look.send(['CONFIG', 'SET', 'requirepass', password]);
  undo.push(() => env.look.send(['CONFIG', 'SET', 'requirepass', '']));
}

/** A client whose commands wait until the test answers them; `sent` lists what was sent. */
export function heldClient() {
  const sent: { args: unknown[]; answer: (value: unknown) => void; fail: (error: unknown) => void }[] = [];
  const client: RedisClientLike & { isReady: boolean } = {
    isReady: true,
    sendCommand: (args) =>
      new Promise((answer, fail) => {
        sent.push({ args, answer, fail });
      }),
  };
  return { client, sent, commands: () => sent.map((entry) => String(entry.args[0])) };
}

/** A cache store over a {@link heldClient} whose commands time out after 100 ms, with its warnings logged. */
export async function heldCacheStore() {
  const held = heldClient();
  const log = warningLog();
  const store = await createRedisCacheStore({
    client: held.client,
    timeoutMs: 100,
    onWarning: log.onWarning,
  });
  return { held, log, store };
}

/** What `promise` rejects with; a test failure if it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/**
 * A loopback server that speaks just enough RESP for node-redis, as a proxy in front of Redis might: each
 * command (an array of bulk strings) is answered with `answer(args)`, a raw RESP reply.
 */
export async function respServer(answer: (args: string[]) => string) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const lines = buffer.split('\r\n');
        const count = Number(lines[0]?.slice(1));
        if (!lines[0]?.startsWith('*') || lines.length < 2 * count + 2) return;
        const args = Array.from({ length: count }, (_, index) => lines[2 + 2 * index]!);
        buffer = lines.slice(2 * count + 1).join('\r\n');
        socket.write(answer(args.map((arg) => Buffer.from(arg, 'latin1').toString('utf8'))));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
