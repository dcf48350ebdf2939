/**
 * Edges of the check made before LMDB opens the cache file, on files the lmdb package wrote and then
 * changed a field of: the lock file beside the cache file, the header LMDB reads when both say the
 * same transaction, the format's low 16 bits, a tree's root page on its own; and the refusals of the
 * options and of what LMDB and the file system throw.
 */

import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '@embedkit/core';
import { describe, expect, it, vi } from 'vitest';
import { checkCacheFile } from '../src/cache-file.js';
import { DISK_CACHE_FILE, openDiskCacheStore } from '../src/index.js';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-edges-');

const fixtures = join(import.meta.dirname, 'fixtures');

/** A directory holding a cache the store wrote: `key-0` … `key-<count - 1>`, then closed. */
async function realCacheDirectory(count: number): Promise<{ path: string; file: string }> {
  const path = directory();
  const written = openDiskCacheStore({ directory: path });
  await written.setMany(
    Array.from({ length: count }, (_, index) => [`key-${index}`, Float32Array.of(index, index + 1)] as const),
  );
  await written.close();
  return { path, file: join(path, DISK_CACHE_FILE) };
}

/** The bytes of a cache the store wrote with `count` entries. */
async function realCache(count: number): Promise<Buffer> {
  const { file } = await realCacheDirectory(count);
  return readFileSync(file);
}

/** A cache file holding `bytes`, in a directory of its own. */
function cacheFile(bytes: Uint8Array): string {
  const file = join(directory(), DISK_CACHE_FILE);
  writeFileSync(file, bytes);
  return file;
}

interface Opened {
  exit: { code: number | null; signal: string | null };
  report?: { invalidArgument?: boolean; argument?: string; message?: string; values?: unknown[] };
}

/**
 * Opens the store in a process of its own (test/fixtures/open-store.mjs), reading `keys`; as user
 * `nobody` when asked and this runs as root (root may write anywhere).
 */
function openInChild(path: string, keys: string[] = [], asNobody = false): Promise<Opened> {
  const user = asNobody && process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : {};
  // A process that waits (on a named pipe) is ended, and shows as a signal.
  const options = { ...user, timeout: 10_000 };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(fixtures, 'open-store.mjs'), path, ...keys],
      options,
      (error, stdout) => {
        const failed = error as (Error & { code?: number; signal?: string }) | null;
        resolve({
          exit: { code: failed === null ? 0 : (failed.code ?? null), signal: failed?.signal ?? null },
          ...(stdout === '' ? {} : { report: JSON.parse(stdout) }),
        });
      },
    );
  });
}

/** What `open` threw, from a process that did not crash. */
function refusedWith(opened: Opened, message: string) {
  // A crash (SIGSEGV, SIGBUS) shows here, not as a dead test run.
  expect(opened.exit).toEqual({ code: 0, signal: null });
  expect(opened.report).toEqual({ invalidArgument: true, argument: 'directory', message });
}

const accessFix = (path: string) =>
  `Give this user read and write access to ${path} and the files in it, or choose another directory.`;

describe('the lock file beside the cache file', () => {
  it('a directory in its place is refused, naming it (LMDB ended the process on it)', async () => {
    const { path, file } = await realCacheDirectory(1);
    rmSync(`${file}-lock`);
    mkdirSync(`${file}-lock`);
    refusedWith(
      await openInChild(path, ['key-0']),
      `cannot open the embedding cache in ${path}: ${file} cannot be locked (${file}-lock is not a regular file). ` +
        `Delete ${file}-lock (LMDB makes it again), or choose another directory.`,
    );
  });

  it('a directory in its place is refused before the cache file is created', async () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    mkdirSync(`${file}-lock`);
    expect(checkCacheFile(file)).toStrictEqual({
      file: 'lock',
      reason: `cannot be locked (${file}-lock is not a regular file)`,
    });
  });

  it('a lock file this user may not write is refused, naming it and the fix (LMDB ended the process on it)', async () => {
    const { path, file } = await realCacheDirectory(1);
    chmodSync(path, 0o777);
    chmodSync(file, 0o666);
    chmodSync(`${file}-lock`, 0o444);
    refusedWith(
      await openInChild(path, ['key-0'], true),
      `cannot open the embedding cache in ${path}: EACCES: permission denied, access '${file}-lock'. ${accessFix(path)}`,
    );
  });

  it('none, with the cache file there, in a directory this user may not write is refused (LMDB ended the process on it)', async () => {
    const { path, file } = await realCacheDirectory(1);
    rmSync(`${file}-lock`);
    chmodSync(file, 0o666);
    chmodSync(path, 0o555);
    refusedWith(
      await openInChild(path, ['key-0'], true),
      `cannot open the embedding cache in ${path}: EACCES: permission denied, access '${path}' (${file}). ${accessFix(path)}`,
    );
  });

  it('one the store may read and write opens with its vectors', async () => {
    const { path, file } = await realCacheDirectory(2);
    chmodSync(path, 0o777);
    chmodSync(file, 0o666);
    chmodSync(`${file}-lock`, 0o666);
    expect(await openInChild(path, ['key-1'], true)).toEqual({
      exit: { code: 0, signal: null },
      report: { values: [[1, 2]] },
    });
  });
});

describe('what is in the place of the cache file', () => {
  it('a named pipe is refused at once, without waiting for a writer', async () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    execFileSync('mkfifo', [file]);
    refusedWith(
      await openInChild(path),
      `cannot open the embedding cache in ${path}: ${file} is not a regular file, so not an LMDB cache file. ` +
        `Delete it and ${file}-lock beside it, or choose another directory.`,
    );
  });

  it('a cache file this user may not read is refused, naming it and the fix', async () => {
    const { path, file } = await realCacheDirectory(1);
    chmodSync(path, 0o777);
    chmodSync(`${file}-lock`, 0o666);
    chmodSync(file, 0o000);
    refusedWith(
      await openInChild(path, ['key-0'], true),
      `cannot open the embedding cache in ${path}: EACCES: permission denied, open '${file}'. ${accessFix(path)}`,
    );
  });
});

describe('the header pages of a cache the store wrote', () => {
  it('the format is the low 16 bits of its field: 0x0102 is format 258, not 2', async () => {
    const bytes = await realCache(1);
    bytes.writeUInt32LE(0x0102, 28);
    bytes.writeUInt32LE(0x0102, 4_096 + 28);
    expect(checkCacheFile(cacheFile(bytes))).toStrictEqual({
      file: 'cache',
      reason:
        'is an LMDB file of data format 258, not the format 2 this cache reads (another program or LMDB version wrote it)',
    });
  });

  it('a tree root is a page that must be there even when the tree counts no page: root 2 needs 3 pages', async () => {
    const bytes = await realCache(1);
    // The header of transaction 1, on page 1: its main tree has one leaf, the root at page 2.
    expect([bytes.readBigUInt64LE(4_096 + 152), bytes.readBigUInt64LE(4_096 + 136)]).toEqual([1n, 2n]);
    bytes.writeBigUInt64LE(0n, 4_096 + 96 + 16);
    expect(checkCacheFile(cacheFile(bytes.subarray(0, 3 * 4_096)))).toBeUndefined();
    expect(checkCacheFile(cacheFile(bytes.subarray(0, 3 * 4_096 - 1)))).toStrictEqual({
      file: 'cache',
      reason: 'is truncated: 12287 bytes, its header says at least 12288 are in use',
    });
  });

  it('of two headers of the same transaction, the first is read, as LMDB reads it', async () => {
    const bytes = await realCache(1);
    // Page 0 holds transaction 0 (no pages past the headers), page 1 transaction 1 (3 pages).
    bytes.writeBigUInt64LE(1n, 152);
    expect(checkCacheFile(cacheFile(bytes.subarray(0, 2 * 4_096)))).toBeUndefined();
    bytes.writeBigUInt64LE(0n, 152);
    expect(checkCacheFile(cacheFile(bytes.subarray(0, 2 * 4_096)))).toStrictEqual({
      file: 'cache',
      reason: 'is truncated: 8192 bytes, its header says at least 12288 are in use',
    });
  });
});

describe('the TTL option', () => {
  it('up to 8,640,000,000,000 seconds, the furthest a Date holds; one past any expiry is refused, not every write', async () => {
    const path = directory();
    const longest = store({ directory: path, ttlSeconds: 8_640_000_000_000 });
    await longest.set('k', Float32Array.of(1));
    expect(longest.get('k')).toEqual(Float32Array.of(1));
    let error: unknown;
    try {
      openDiskCacheStore({ directory: path, ttlSeconds: Number.MAX_VALUE });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      message:
        'openDiskCacheStore options are invalid: ttlSeconds: must be at most 8640000000000 seconds (null keeps entries forever).',
      argument: 'ttlSeconds',
    });
  });
});

describe('what LMDB throws when it opens the file', () => {
  /** What opening a store in `path` throws when LMDB's `open` throws `error`. */
  async function thrownWhenLmdbThrows(path: string, error: Error): Promise<unknown> {
    vi.resetModules();
    vi.doMock('lmdb', async (importOriginal) => ({
      ...(await importOriginal<typeof import('lmdb')>()),
      open: () => {
        throw error;
      },
    }));
    try {
      const fresh = await import('../src/disk-cache-store.js');
      fresh.openDiskCacheStore({ directory: path });
    } catch (caught) {
      return caught;
    } finally {
      vi.doUnmock('lmdb');
      vi.resetModules();
    }
    throw new Error('the store opened');
  }

  it.each([
    [-30_793, 'MDB_INVALID: File is not an LMDB file'],
    [-30_794, 'MDB_VERSION_MISMATCH: Database environment version mismatch'],
    [-30_795, 'MDB_PANIC: Update of meta page failed or environment had fatal error'],
    [-30_796, 'MDB_CORRUPTED: Located page was wrong type'],
  ])('code %i, a file that is not its own or is damaged, names the file and the fix', async (code, said) => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    const error = Object.assign(new Error(said), { code });
    const thrown = await thrownWhenLmdbThrows(path, error);
    expect(InvalidArgumentError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      message: `cannot open the embedding cache in ${path}: ${file} is not a usable LMDB cache file (${said}). Delete it and ${file}-lock beside it, or choose another directory.`,
      argument: 'directory',
      cause: error,
    });
  });

  it.each([
    [13, 'Permission denied'],
    [1, 'Operation not permitted'],
    [30, 'Read-only file system'],
  ])('errno %i, no access, names the file LMDB does not name, and the fix', async (code, said) => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    const error = Object.assign(new Error(`${said}: Attempting to open main database file`), { code });
    expect(await thrownWhenLmdbThrows(path, error)).toMatchObject({
      message: `cannot open the embedding cache in ${path}: ${said}: Attempting to open main database file (${file}). ${accessFix(path)}`,
      argument: 'directory',
      cause: error,
    });
  });

  it.each([
    ['EACCES', 'permission denied'],
    ['EPERM', 'operation not permitted'],
    ['EROFS', 'read-only file system'],
  ])('%s from the file system, which names the file, is said as it is, with the fix', async (code, said) => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    const error = Object.assign(new Error(`${code}: ${said}, open '${file}'`), { code });
    expect(await thrownWhenLmdbThrows(path, error)).toMatchObject({
      message: `cannot open the embedding cache in ${path}: ${code}: ${said}, open '${file}'. ${accessFix(path)}`,
      argument: 'directory',
      cause: error,
    });
  });

  it('any other error is said as LMDB said it, with it as the cause', async () => {
    const path = directory();
    const error = Object.assign(new Error('MDB_MAP_FULL: Environment mapsize limit reached'), {
      code: -30_792,
    });
    const thrown = await thrownWhenLmdbThrows(path, error);
    expect(InvalidArgumentError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      message: `cannot open the embedding cache in ${path}: MDB_MAP_FULL: Environment mapsize limit reached`,
      argument: 'directory',
      cause: error,
    });
  });
});

describe('a cache file that stays no cache', () => {
  it('is looked at again every 10 ms for 200 ms, then refused', () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    writeFileSync(file, 'not a cache\n'.repeat(1_000));
    const wait = vi.spyOn(Atomics, 'wait');
    const started = Date.now();
    let error: unknown;
    let timeouts: unknown[] = [];
    try {
      openDiskCacheStore({ directory: path });
    } catch (caught) {
      error = caught;
    } finally {
      timeouts = wait.mock.calls.map((call) => call[3]);
      wait.mockRestore();
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `cannot open the embedding cache in ${path}: ${file} is not an LMDB cache file (its first page is no LMDB header). ` +
        `Delete it and ${file}-lock beside it, or choose another directory.`,
    );
    // The 200 ms are slept through in steps of 10 ms, not spun through.
    expect(timeouts.length).toBeGreaterThan(0);
    expect(timeouts.length).toBeLessThanOrEqual(20);
    expect(new Set(timeouts)).toEqual(new Set([10]));
  });
});

describe('a cache file that stays no cache, under a clock that stands still', () => {
  it('is refused after its 20 waits all the same (a test with fake timers looped forever)', () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    writeFileSync(file, 'not a cache\n'.repeat(1_000));
    vi.spyOn(Date, 'now').mockReturnValue(1_000_000);
    let waits = 0;
    // A loop that never ends is broken here, so that it fails the test instead of hanging the run.
    const wait = vi.spyOn(Atomics, 'wait').mockImplementation(() => {
      if (++waits > 100) throw new Error('the check kept waiting');
      return 'timed-out';
    });
    let error: unknown;
    try {
      openDiskCacheStore({ directory: path });
    } catch (caught) {
      error = caught;
    } finally {
      wait.mockRestore();
      vi.restoreAllMocks();
    }
    expect(waits).toBe(20);
    expect((error as Error).message).toBe(
      `cannot open the embedding cache in ${path}: ${file} is not an LMDB cache file (its first page is no LMDB header). ` +
        `Delete it and ${file}-lock beside it, or choose another directory.`,
    );
  });
});

describe('a cache directory under a file', () => {
  it('is refused, saying that a directory above it is a file', () => {
    const file = join(directory(), 'a-file');
    writeFileSync(file, 'not a directory');
    const path = join(file, 'cache');
    let error: unknown;
    try {
      openDiskCacheStore({ directory: path });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      message: `cannot open the embedding cache in ${path}: a directory above ${path} is a file, not a directory. Choose another directory.`,
      argument: 'directory',
      cause: expect.objectContaining({ code: 'ENOTDIR' }),
    });
  });
});
