/**
 * Cached vectors on disk in LMDB: one memory-mapped file, no server. LMDB readers never block and never
 * see a half-written entry (copy-on-write pages), and writers in several processes take turns through
 * its lock file, so every process on the machine can share one cache directory. Values are core's cache
 * encoding: raw bytes with their element type and expiry, never JSON.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CacheStore,
  decodeEmbedding,
  type Embedding,
  encodeEmbedding,
  InvalidArgumentError,
} from '@embedkit/core';
import { open } from 'lmdb';
import { z } from 'zod';

/** The file inside the cache directory (LMDB keeps its lock file beside it, `<name>-lock`). */
export const DISK_CACHE_FILE = 'embeddings.mdb';

/** LMDB refuses keys over 1,978 bytes; a cache key is 64, so the namespace gets the rest with room to spare. */
const MAX_NAMESPACE_BYTES = 1_024;

const optionsSchema = z.strictObject({
  directory: z.string().min(1),
  namespace: z
    .string()
    .refine((value) => Buffer.byteLength(value) <= MAX_NAMESPACE_BYTES, {
      message: `must be at most ${MAX_NAMESPACE_BYTES} bytes`,
    })
    .optional(),
  ttlSeconds: z.number().positive().nullable().optional(),
});

export interface DiskCacheStoreOptions {
  /** The directory that holds the cache; created when missing. Processes that name the same one share it. */
  directory: string;
  /** Keeps this store's entries apart from others in the same directory (e.g. an API's base URL). Default: none. */
  namespace?: string;
  /** How long an entry is served after it is written, in seconds; `null` forever. Default `null`. */
  ttlSeconds?: number | null;
}

/** A cache store on disk. */
export interface DiskCacheStore extends CacheStore {
  get(key: string): Embedding | undefined;
  getMany(keys: readonly string[]): Promise<(Embedding | undefined)[]>;
  set(key: string, value: Embedding): Promise<void>;
  setMany(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void>;
  /** Waits for pending writes and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens (or creates) the cache in `directory`, for `cacheMiddleware({ store })`. Safe to open from many
 * processes at once. An unusable directory is an `InvalidArgumentError` naming it.
 */
export function openDiskCacheStore(options: DiskCacheStoreOptions): DiskCacheStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidArgumentError(
      `openDiskCacheStore options are invalid: ${issue.path.map(String).join('.') || '(options)'}: ${issue.message}.`,
      { argument: String(issue.path[0] ?? 'options') },
    );
  }
  const { directory, namespace = '', ttlSeconds = null } = parsed.data;
  let database: ReturnType<typeof open<Uint8Array, string>>;
  try {
    mkdirSync(directory, { recursive: true });
    database = open<Uint8Array, string>({
      path: join(directory, DISK_CACHE_FILE),
      encoding: 'binary',
      cache: false,
    });
  } catch (error) {
    throw new InvalidArgumentError(
      `cannot open the embedding cache in ${directory}: ${(error as Error).message}`,
      { argument: 'directory', cause: error },
    );
  }
  // A separator that never occurs in a namespace written as text keeps "a" + "b:c" apart from "a:b" + "c".
  const prefix = namespace === '' ? '' : `${namespace}\u0000`;
  const read = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : decodeEmbedding(bytes));
  const encode = (value: Embedding) =>
    encodeEmbedding(value, ttlSeconds === null ? {} : { expiresAt: Date.now() + ttlSeconds * 1000 });
  return {
    get(key) {
      return read(database.get(prefix + key));
    },
    async getMany(keys) {
      if (keys.length === 0) return [];
      const values = await database.getMany(keys.map((key) => prefix + key));
      return values.map(read);
    },
    async set(key, value) {
      await database.put(prefix + key, encode(value));
    },
    async setMany(entries) {
      // Puts made in one turn of the event loop commit as one LMDB transaction.
      await Promise.all(entries.map(([key, value]) => database.put(prefix + key, encode(value))));
    },
    close() {
      return database.close();
    },
  };
}
