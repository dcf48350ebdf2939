/**
 * Cached vectors in Redis, shared by every process: raw bytes (core's cache encoding, never JSON), one
 * key per input under a namespace, a TTL, and a whole call read with one MGET.
 */

import { type CacheStore, checkCacheStoreArguments, type Embedding } from '@embedkit/core';
import { decodeCheckedEmbedding, encodeCheckedEmbedding } from '@embedkit/core/cache-check';
import { describeValue } from '@embedkit/core/provider';
import { RESP_TYPES } from '@redis/client';
import { z } from 'zod';
import {
  connectionFields,
  openLink,
  type RedisConnectionOptions,
  type RedisLink,
  readOptions,
} from './redis-connection.js';

/** Replies as bytes: a vector is binary, and decoding it as UTF-8 would corrupt it. */
const BINARY_REPLIES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

const DEFAULT_TTL_SECONDS = 30 * 24 * 60 * 60;

/**
 * Redis takes `EX` as a whole number of seconds up to (2^63 - 1 - now in ms) / 1000, past the largest
 * whole number a JavaScript number holds exactly: that one is the limit here. (The disk store's limit is
 * another: a Date's range, in seconds that may have a fraction.)
 */
const ttlSecondsSchema = z.custom<number>((value) => Number.isSafeInteger(value) && (value as number) > 0, {
  error: (issue) =>
    `got ${describeValue(issue.input)}; it takes a whole number of seconds from 1 to ${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER, the largest a number holds exactly), or null to keep entries until Redis evicts them`,
});

const optionsSchema = z.strictObject({
  ...connectionFields,
  ttlSeconds: ttlSecondsSchema.nullable().optional(),
});

export interface RedisCacheStoreOptions extends RedisConnectionOptions {
  /** How long an entry lives after it is written, in seconds; `null` keeps entries until Redis evicts them. Default 30 days. */
  ttlSeconds?: number | null;
}

/** A cache store in Redis. */
export interface RedisCacheStore extends CacheStore {
  getMany(keys: readonly string[]): Promise<(Embedding | undefined)[]>;
  setMany(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void>;
  get(key: string): Promise<Embedding | undefined>;
  set(key: string, value: Embedding): Promise<void>;
  /**
   * True during an outage: while Redis cannot be reached reads miss and writes are skipped; while it
   * refuses writes (out of memory, a read-only replica) reads are served and writes skipped.
   */
  readonly usingFallback: boolean;
  /**
   * Whether reads (`'read'`) or writes (`'write'`) now go to the fallback (misses, skipped writes) rather
   * than Redis: while Redis cannot be reached, is skipped after a command it did not answer, or refuses
   * that kind, and after `close()`. `cacheMiddleware` asks it after a skip of the store, so that it says
   * `cache-resumed` only once Redis itself answers.
   */
  degraded(kind: 'read' | 'write'): boolean;
  /** Ends the connection the store opened from `url` (a client you passed stays open). */
  close(): Promise<void>;
}

class RedisCacheStoreImpl implements RedisCacheStore {
  private readonly link: RedisLink;
  private readonly namespace: string;
  private readonly ttlSeconds: number | null;

  constructor(link: RedisLink, options: RedisCacheStoreOptions) {
    this.link = link;
    this.namespace = options.namespace ?? 'embedkit';
    this.ttlSeconds = options.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : options.ttlSeconds;
  }

  get usingFallback(): boolean {
    return this.link.usingFallback;
  }

  degraded(kind: 'read' | 'write'): boolean {
    return this.link.fallsBack(kind);
  }

  private redisKey(key: string): string {
    return `${this.namespace}:cache:${key}`;
  }

  async getMany(keys: readonly string[]): Promise<(Embedding | undefined)[]> {
    checkCacheStoreArguments('getMany', keys);
    return this.readMany(keys);
  }

  /** The entries at `keys` (a list of strings), in one MGET. */
  private readMany(keys: readonly string[]): Promise<(Embedding | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.link.run(
      'read',
      async () => {
        const replies = (await this.link.client.sendCommand(
          ['MGET', ...keys.map((key) => this.redisKey(key))],
          BINARY_REPLIES,
        )) as (Buffer | null)[];
        return replies.map((reply) => (reply === null ? undefined : decodeCheckedEmbedding(reply)));
      },
      () => keys.map(() => undefined),
    );
  }

  async setMany(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void> {
    checkCacheStoreArguments('setMany', entries);
    return this.writeMany(entries);
  }

  /** Writes `entries` (checked pairs of a key and a vector), each SET sent in the same tick. */
  private async writeMany(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void> {
    if (entries.length === 0) return;
    const expiry = this.ttlSeconds === null ? [] : ['EX', String(this.ttlSeconds)];
    // Encoded first: a value that is no vector is the caller's error, not a Redis outage.
    const encoded = entries.map(([key, value]) => [key, encodeCheckedEmbedding(value)] as const);
    await this.link.run(
      'write',
      async () => {
        // Sent in the same tick, the SETs leave in one write and their replies come back together.
        await Promise.all(
          encoded.map(([key, bytes]) =>
            this.link.client.sendCommand([
              'SET',
              this.redisKey(key),
              Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
              ...expiry,
            ]),
          ),
        );
      },
      () => undefined,
    );
  }

  async get(key: string): Promise<Embedding | undefined> {
    checkCacheStoreArguments('get', key);
    return (await this.readMany([key]))[0];
  }

  async set(key: string, value: Embedding): Promise<void> {
    checkCacheStoreArguments('set', key, value);
    return this.writeMany([[key, value]]);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/**
 * A `CacheStore` in Redis, for `cacheMiddleware({ store })`. While Redis is unreachable every read is a
 * miss and writes are skipped (said once through `onWarning`): calls go to the provider and nothing
 * fails. While Redis refuses writes (out of memory, a read-only replica) reads are still served and
 * writes skipped, said once too. Connects at once when given a `url` (a `ConnectionError` if Redis cannot be reached).
 */
export async function createRedisCacheStore(options: RedisCacheStoreOptions): Promise<RedisCacheStore> {
  const checked = readOptions(optionsSchema, options, 'createRedisCacheStore');
  const link = await openLink(checked, {
    fallback: 'the cache misses and skips writes',
    refused: { read: 'the cache misses', write: 'the cache skips writes' },
    restored: 'the cache reads and writes Redis again',
  });
  return new RedisCacheStoreImpl(link, checked);
}
