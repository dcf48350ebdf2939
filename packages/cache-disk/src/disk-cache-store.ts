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
  type CacheStoreWarning,
  cacheFailureReporter,
  checkCacheStoreArguments,
  type Embedding,
  emitCacheWarning,
  InvalidArgumentError,
} from '@embedkit/core';
import { decodeCheckedEmbedding, encodeCheckedEmbedding } from '@embedkit/core/cache-check';
import { open } from 'lmdb';
import { z } from 'zod';
import { type CacheFileProblem, checkCacheFile, type OpenCacheFile, watchCacheFile } from './cache-file.js';

/** The file inside the cache directory (LMDB keeps its lock file beside it, `<name>-lock`). */
export const DISK_CACHE_FILE = 'embeddings.mdb';

/** How long writes are skipped after the first failed commit, doubling while they keep failing, up to the most. */
const MIN_WRITE_BACKOFF_MS = 1_000;
const MAX_WRITE_BACKOFF_MS = 60_000;

/**
 * The permissions of what the store creates: its vectors stand for the texts embedded, so a new cache is
 * this user's alone. 0700 is what the XDG Base Directory specification asks of a directory made under
 * `~/.cache`; LMDB's own default for its files is 0664, less the umask.
 */
const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600;

/** LMDB refuses keys over 1,978 bytes (the namespace and its separator included). */
const MAX_KEY_BYTES = 1_978;
/** A cache key is 64 bytes, so the namespace gets the rest of a key's bytes with room to spare. */
const MAX_NAMESPACE_BYTES = 1_024;

/**
 * The longest TTL: the furthest time a Date holds, 8.64e15 ms from the epoch. A TTL near the largest
 * number gave an expiry of Infinity, which core's encoding refuses, so every write rejected.
 */
const MAX_TTL_SECONDS = 8_640_000_000_000;

const optionsSchema = z.strictObject({
  directory: z.string().min(1),
  namespace: z
    .string()
    .refine((value) => Buffer.byteLength(value) <= MAX_NAMESPACE_BYTES, {
      message: `must be at most ${MAX_NAMESPACE_BYTES} bytes`,
    })
    .optional(),
  ttlSeconds: z
    .number()
    .positive()
    .max(MAX_TTL_SECONDS, {
      message: `must be at most ${MAX_TTL_SECONDS} seconds (null keeps entries forever)`,
    })
    .nullable()
    .optional(),
  onWarning: z
    .custom<(warning: DiskCacheStoreWarning) => void>((value) => typeof value === 'function', {
      message: 'must be a function',
    })
    .optional(),
});

/**
 * Trouble with the cache file, after which the store went on without it: `cache-read-failed` (the keys
 * asked for were misses) or `cache-write-failed` (a full disk, say; the entries were not stored).
 */
export type DiskCacheStoreWarning = CacheStoreWarning;

export interface DiskCacheStoreOptions {
  /** The directory that holds the cache; created when missing (mode 0700). Processes that name the same one share it. */
  directory: string;
  /** Keeps this store's entries apart from others in the same directory (e.g. an API's base URL). Default: none. */
  namespace?: string | undefined;
  /** How long an entry is served after it is written, in seconds; `null` forever. Default `null`. */
  ttlSeconds?: number | null | undefined;
  /**
   * Told when the file cannot be read or written, once until that works again. Default:
   * `process.emitWarning` with type `EmbedkitCacheWarning` and the warning's code.
   */
  onWarning?: ((warning: DiskCacheStoreWarning) => void) | undefined;
}

/** A cache store on disk. */
export interface DiskCacheStore extends CacheStore {
  get(key: string): Embedding | undefined;
  getMany(keys: readonly string[]): Promise<(Embedding | undefined)[]>;
  set(key: string, value: Embedding): Promise<void>;
  setMany(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void>;
  /**
   * Whether reads miss and writes are skipped without the file: true for both once `close()` has begun.
   * `cacheMiddleware` asks it of a store it skipped and tries again, so that a closed store is not said
   * to answer again (`cache-resumed`).
   */
  degraded(kind: 'read' | 'write'): boolean;
  /**
   * Waits for the reads, writes and deletes already started, then closes the file. Calls made once
   * `close()` has begun find the store closed: reads are misses and writes are skipped, said once
   * through `onWarning`.
   */
  close(): Promise<void>;
}

/**
 * What made a write fail. LMDB rejects every write of a failed commit with "Commit failed (see
 * commitError for details)" and puts the cause (ENOSPC, EIO, MDB_MAP_FULL) in a second promise,
 * `commitError`, that nothing else handles: unhandled, its rejection ends the process. This handles it,
 * and names the cause when it is known by the next turn of the event loop. Some causes never reach it
 * (a write the file system refused with EPERM, for a file made immutable): LMDB prints those to standard
 * error, and the failure says so, not the `commitError` no user of the store can see.
 */
async function causeOf(error: unknown): Promise<unknown> {
  const commitError = (error as { commitError?: unknown } | null)?.commitError;
  if (typeof (commitError as PromiseLike<unknown> | undefined)?.then !== 'function') return error;
  let cause: unknown = new Error(
    "LMDB's commit failed for a reason it printed to standard error, most often a full disk or a file this user may no longer write",
  );
  const settled = Promise.resolve(commitError).then(
    () => undefined,
    (reason: unknown) => {
      cause = reason;
    },
  );
  await Promise.race([settled, new Promise((resolve) => setImmediate(resolve))]);
  return cause;
}

/**
 * Whether `bytes`, an entry in core's cache encoding, expired at `now`: byte 0 is the format version (1),
 * bytes 8-15 the expiry (float64 little-endian, epoch ms; 0 never). An entry in another format is never
 * called expired: a newer embedkit sharing the directory may have written it.
 */
function expired(bytes: Uint8Array, now: number): boolean {
  if (bytes.length < 16 || bytes[0] !== 1) return false;
  const expiresAt = new DataView(bytes.buffer, bytes.byteOffset, 16).getFloat64(8, true);
  return expiresAt !== 0 && !(expiresAt > now);
}

type Database = ReturnType<typeof open<Uint8Array, string>>;

/**
 * LMDB's options, with `permissionsMode`: the mode LMDB creates its files with, which the lmdb package's
 * native open reads (its `env.cpp`) but its types leave out.
 */
type OpenOptions = Parameters<typeof open>[0] & { permissionsMode: number };

/** How long a cache file that fails its check is looked at again before it is refused, and how often. */
const RECHECK_FOR_MS = 200;
const RECHECK_EVERY_MS = 10;

/**
 * LMDB's codes for a file that is no LMDB file of its format, or a damaged one: MDB_INVALID,
 * MDB_VERSION_MISMATCH, MDB_PANIC, MDB_CORRUPTED. The lmdb package crashes instead of throwing the first
 * two today (the check before it is what refuses such files); should it throw them, they say the same.
 */
const MDB_FILE_ERRORS = new Set([-30793, -30794, -30795, -30796]);
/** Errors that mean this user may not write there (LMDB gives the errno as a number). */
const ACCESS_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 13, 1, 30]);

function refusal(directory: string, reason: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`cannot open the embedding cache in ${directory}: ${reason}`, {
    argument: 'directory',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The fix for a cache file that cannot be used: it only holds vectors that can be embedded again. */
function fileFix(path: string): string {
  return `Delete it and ${path}-lock beside it, or choose another directory.`;
}

/**
 * Why opening failed and how to fix it, from what the file system or LMDB threw (LMDB names the step
 * it was at, not the file).
 */
function explain(directory: string, path: string, error: unknown): InvalidArgumentError {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const what = String(message ?? error);
  if (MDB_FILE_ERRORS.has(code as number)) {
    return refusal(directory, `${path} is not a usable LMDB cache file (${what}). ${fileFix(path)}`, error);
  }
  if (code === 'EEXIST') {
    return refusal(directory, `${directory} is a file, not a directory. Choose another directory.`, error);
  }
  if (code === 'ENOTDIR') {
    return refusal(
      directory,
      `a directory above ${directory} is a file, not a directory. Choose another directory.`,
      error,
    );
  }
  if (ACCESS_ERRORS.has(code as string | number)) {
    // The file system's message names the file; LMDB's does not.
    const named = what.includes(path) ? what : `${what} (${path})`;
    const fix = `Give this user read and write access to ${directory} and the files in it, or choose another directory.`;
    return refusal(directory, `${named}. ${fix}`, error);
  }
  return refusal(directory, what, error);
}

/**
 * Checks the cache file, looking at it again for a moment before refusing it: a process that creates
 * the cache writes its two header pages just after it creates the file, so another one starting at
 * the same time can see a part of them. A file that is no cache stays so.
 */
function checkCacheFileSettled(path: string): CacheFileProblem | undefined {
  const never = new Int32Array(new SharedArrayBuffer(4));
  let problem = checkCacheFile(path);
  // Counted in waits, not read from the clock: a clock that stands still (a test's fake timers) made
  // this loop forever on a file that is no cache.
  for (let wait = 0; problem !== undefined && wait < RECHECK_FOR_MS / RECHECK_EVERY_MS; wait++) {
    // Opening is synchronous, so the wait is too; it only happens on the way to refusing the file.
    Atomics.wait(never, 0, 0, RECHECK_EVERY_MS);
    problem = checkCacheFile(path);
  }
  return problem;
}

/**
 * Creates the directory, checks the file in it and opens it with LMDB, and watches the file from then
 * on. Every failure is an `InvalidArgumentError` that names what is wrong and its fix; the check comes
 * first because LMDB ends the process on a file that is not its own instead of throwing.
 */
function openCache(directory: string): { database: Database; file: OpenCacheFile } {
  const path = join(directory, DISK_CACHE_FILE);
  let problem: CacheFileProblem | undefined;
  try {
    // The mode is given to each directory this creates; one that exists keeps what its owner gave it.
    mkdirSync(directory, { recursive: true, mode: DIRECTORY_MODE });
    problem = checkCacheFileSettled(path);
  } catch (error) {
    throw explain(directory, path, error);
  }
  if (problem !== undefined) {
    // A lock file that is no file is LMDB's to make again; the cache file beside it may be sound.
    const fix =
      problem.file === 'lock'
        ? `Delete ${path}-lock (LMDB makes it again), or choose another directory.`
        : fileFix(path);
    throw refusal(directory, `${path} ${problem.reason}. ${fix}`);
  }
  const options: OpenOptions = {
    path,
    encoding: 'binary',
    cache: false,
    // The mode of the cache file and its lock file when LMDB creates them; a file that exists keeps its own.
    permissionsMode: FILE_MODE,
    // Every write below is one explicit transaction. LMDB's batching of the writes of one event turn
    // adds a write of its own whose promise no caller can reach: when its commit failed (a full disk),
    // that rejection went unhandled and Node exited.
    eventTurnBatching: false,
    // With overlapping sync, a failed commit leaves a flush that never settles, and close() never
    // returned. Without it, each commit is flushed before it resolves (on LMDB's writer thread).
    overlappingSync: false,
  };
  let database: Database;
  try {
    database = open<Uint8Array, string>(options);
  } catch (error) {
    throw explain(directory, path, error);
  }
  try {
    // LMDB keeps the snapshot of its first read until a timer of its own ends it, so a read called
    // after another process's write had resolved could still see the entry from before that write.
    // Each run of reads starts on a fresh snapshot; the reads within one run share it.
    return { database, file: watchCacheFile(path, () => database.resetReadTxn()) };
  } catch (error) {
    void database.close();
    throw explain(directory, path, error);
  }
}

/**
 * Opens (or creates) the cache in `directory`, for `cacheMiddleware({ store })`. Safe to open from many
 * processes at once. An unusable directory, or a file in it that is not a cache (a truncated copy, a
 * file of another program), is an `InvalidArgumentError` naming it and its fix. Once open, the store
 * never fails for the disk's sake: a read that fails is a miss and a write that fails (a full disk) is
 * skipped, each said once through `onWarning`.
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
  const { directory, namespace = '', ttlSeconds = null, onWarning = emitCacheWarning } = parsed.data;
  const { database, file } = openCache(directory);
  const path = join(directory, DISK_CACHE_FILE);
  /** Why LMDB must not read the file (another program cut it short), as an error naming it and its fix. */
  const cut = (): Error | undefined => {
    const problem = file.problem();
    return problem === undefined ? undefined : new Error(`${path} ${problem}. ${fileFix(path)}`);
  };
  // A separator no key holds (checkKey refuses it) keeps "a" + "b:c" apart from "a:b" + "c", and a key
  // of no namespace apart from every namespace's: a file's key ends its namespace at its last U+0000.
  const prefix = namespace === '' ? '' : `${namespace}\u0000`;
  const prefixBytes = Buffer.byteLength(prefix);
  /**
   * Refuses a key LMDB would refuse, as the caller's error: read, it was reported as the file failing to
   * be read; written, as LMDB's bare Error. Refuses a key holding the separator too: without a namespace,
   * "a\u0000b" was namespace "a"'s "b". The cache middleware's keys (64 hex digits) never are refused.
   */
  const checkKey = (key: string) => {
    if (key.includes('\u0000'))
      throw new InvalidArgumentError(
        "A disk cache key must not hold the character U+0000: it ends the namespace in the file, so such a key could read another namespace's entries.",
        { argument: 'key' },
      );
    // No UTF-16 unit of a key takes more than 3 bytes in UTF-8: a key short enough is not measured.
    if (prefixBytes + key.length * 3 <= MAX_KEY_BYTES) return;
    const bytes = prefixBytes + Buffer.byteLength(key);
    if (bytes > MAX_KEY_BYTES)
      throw new InvalidArgumentError(
        `A disk cache key is at most ${MAX_KEY_BYTES} bytes in UTF-8, the namespace and one byte after it included; this one is ${bytes}.`,
        { argument: 'key' },
      );
  };
  const encode = (value: Embedding) =>
    encodeCheckedEmbedding(value, ttlSeconds === null ? {} : { expiresAt: Date.now() + ttlSeconds * 1000 });

  // A file that keeps failing is reported once, and again only after it has worked in between.
  const { worked, failed } = cacheFailureReporter(onWarning, {
    read: (reason) =>
      `The embedding cache in ${directory} could not be read (${reason}); its entries count as misses until it can.`,
    write: (reason) =>
      `The embedding cache in ${directory} could not be written (${reason}); vectors are not cached until it can.`,
  });

  // Set as soon as close() begins: from then on no call starts an LMDB operation, so the ones in flight
  // are all that close() waits for.
  let closed = false;
  let toldClosed = false;
  /**
   * Says once, with the code of the first call that found the store closed, what every call does from
   * then on: a closed store never opens again, so no "until" is promised, and reads and writes share it.
   */
  function tellClosed(kind: 'read' | 'write'): void {
    if (toldClosed) return;
    toldClosed = true;
    onWarning({
      code: kind === 'read' ? 'cache-read-failed' : 'cache-write-failed',
      message: `The embedding cache in ${directory} is closed; reads are misses and writes are skipped.`,
    });
  }
  // One close for every call of close(), so that each waits for the same operations.
  let closing: Promise<void> | undefined;
  // Every asynchronous LMDB operation, until it and the store's handling of its outcome are done. The
  // file must stay open for them: a read answered after database.close() throws in LMDB's own callback,
  // where no caller can catch it and the process ends, and a write started before it is refused ("Database
  // is closed") and its entries lost.
  const inFlight = new Set<Promise<unknown>>();
  function track<T>(operation: Promise<T>): Promise<T> {
    inFlight.add(operation);
    const settled = () => {
      inFlight.delete(operation);
    };
    // Both callbacks given, so a rejection is left to the caller and not reported unhandled here.
    operation.then(settled, settled);
    return operation;
  }
  // After a failed commit, writes are skipped for a while: a full disk stays full for more than a call,
  // and LMDB prints every failed commit to stderr.
  let writeBackoffMs = 0;
  let writesSkippedUntil = 0;
  /**
   * Runs `body` as one write transaction. A failed commit is a warning, never a rejection; an error
   * `body` throws (LMDB refusing what it is given) is the caller's, and rejects.
   */
  function write(body: () => void): Promise<void> {
    return track(writeNow(body));
  }

  async function writeNow(body: () => void): Promise<void> {
    if (closed) {
      tellClosed('write');
      return;
    }
    if (Date.now() < writesSkippedUntil) return;
    // A write reads the file's pages too (the trees it adds to): a cut file ends the process there.
    const problem = cut();
    if (problem !== undefined) {
      failed('write', problem);
      return;
    }
    let thrown: { error: unknown } | undefined;
    try {
      await database.transaction(() => {
        try {
          body();
        } catch (error) {
          thrown = { error };
        }
      });
      writeBackoffMs = 0;
      worked('write');
    } catch (error) {
      writeBackoffMs = Math.min(Math.max(writeBackoffMs * 2, MIN_WRITE_BACKOFF_MS), MAX_WRITE_BACKOFF_MS);
      writesSkippedUntil = Date.now() + writeBackoffMs;
      failed('write', await causeOf(error));
    }
    if (thrown !== undefined) throw thrown.error;
  }

  /**
   * Deletes the entries at `keys` that are still expired, in one transaction: LMDB has one writer at a
   * time, so an entry another process wrote again meanwhile is seen fresh here and kept. Not awaited by
   * the read that found them; `close()` waits for it. Skipped once the store is closing: they are found
   * again by a later read.
   */
  function forget(keys: string[]): void {
    if (closed) return;
    // No caller awaits the delete, so an error in it is the disk's, said like a failed commit.
    write(() => {
      const now = Date.now();
      for (const key of keys) {
        const bytes = database.get(key);
        if (bytes !== undefined && expired(bytes, now)) database.remove(key);
      }
    }).catch((error: unknown) => failed('write', error));
  }

  /** Misses for every key of `keys`, with `error` said once as a failed read. */
  function missed(keys: readonly string[], error: unknown): undefined[] {
    failed('read', error);
    return keys.map(() => undefined);
  }

  /**
   * The entries at `keys`, read now, one at a time, from LMDB's own buffer: it is reused by the next read,
   * so each entry is decoded (its vector copied out) before the next is read. A copy of each entry
   * before decoding it cost as much as the decoding. The file must be open: not closed, or closed only
   * once this read is done.
   */
  function readNow(keys: readonly string[]): (Embedding | undefined)[] {
    const problem = cut();
    if (problem !== undefined) return missed(keys, problem);
    const now = Date.now();
    const stale: string[] = [];
    let vectors: (Embedding | undefined)[];
    try {
      vectors = keys.map((key) => {
        const shared = database.getBinaryFast(prefix + key);
        if (shared === undefined) return undefined;
        // Its `length` is the entry's, the buffer behind it longer: the view keeps the entry's bytes only.
        const bytes = shared.subarray(0, shared.length);
        if (expired(bytes, now)) {
          stale.push(prefix + key);
          return undefined;
        }
        return decodeCheckedEmbedding(bytes, now);
      });
    } catch (error) {
      return missed(keys, error);
    }
    worked('read');
    // The file would otherwise only grow: an expired entry found is deleted.
    if (stale.length > 0) forget(stale);
    return vectors;
  }

  async function setMany(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void> {
    checkCacheStoreArguments('setMany', entries);
    return writeEntries(entries);
  }

  /** Writes `entries` (arguments of the right kinds, checked by the caller) in one transaction. */
  async function writeEntries(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void> {
    if (entries.length === 0) return;
    // Checked and encoded first: a key too long or a value that is no vector is the caller's error, not
    // the disk's.
    const encoded = entries.map(([key, value]) => {
      checkKey(key);
      return [prefix + key, encode(value)] as const;
    });
    await write(() => {
      for (const [key, bytes] of encoded) database.put(key, bytes);
    });
  }

  async function readMany(keys: readonly string[]): Promise<(Embedding | undefined)[]> {
    if (closed) {
      tellClosed('read');
      return keys.map(() => undefined);
    }
    // LMDB's prefetch reads the file's pages too (on a thread of its own): a cut file ends the process there.
    const problem = cut();
    if (problem !== undefined) return missed(keys, problem);
    try {
      // Brings the entries' pages into memory off the main thread (a cold page is a wait on the disk),
      // as LMDB's own getMany does before it reads them one by one, each into a copy. Once started it
      // always calls back: its worker ignores what its reads return (an error would only be logged, and
      // this wait never end), and it starts only on an open file that is not cut (checked above).
      await database.prefetch(keys.map((key) => prefix + key));
    } catch (error) {
      return missed(keys, error);
    }
    // Tracked: close() waits for this read, so the file is still open here even once close() has begun.
    return readNow(keys);
  }

  return {
    get(key) {
      checkCacheStoreArguments('get', key);
      checkKey(key);
      // LMDB reads from a closed file crash the process (a segmentation fault), never throw.
      if (closed) {
        tellClosed('read');
        return undefined;
      }
      return readNow([key])[0];
    },
    async getMany(keys) {
      checkCacheStoreArguments('getMany', keys);
      if (keys.length === 0) return [];
      for (const key of keys) checkKey(key);
      return track(readMany(keys));
    },
    async set(key, value) {
      checkCacheStoreArguments('set', key, value);
      return writeEntries([[key, value]]);
    },
    setMany,
    degraded: () => closed,
    close() {
      closed = true;
      closing ??= (async () => {
        // A write that rejects (LMDB refusing what it is given) is its caller's error, not close()'s. No call
        // starts an operation once `closed` is set, so the set only empties; the loop makes sure of it.
        while (inFlight.size > 0) await Promise.allSettled(inFlight);
        await database.close();
        file.close();
      })();
      return closing;
    },
  };
}
