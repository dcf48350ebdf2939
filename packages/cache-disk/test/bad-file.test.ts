import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@embedkit/core';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCacheFile } from '../src/cache-file.js';
import { DISK_CACHE_FILE, openDiskCacheStore } from '../src/index.js';
import { batchesWritten } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const directories: string[] = [];

function directory(): string {
  const path = mkdtempSync(join(tmpdir(), 'embedkit-cache-disk-bad-'));
  directories.push(path);
  return path;
}

afterEach(() => {
  for (const path of directories.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** The bytes of a cache the store wrote: `count` entries `key-<n>` of `dimensions` floats, then closed. */
async function realCache(count: number, dimensions = 4): Promise<Buffer> {
  const path = directory();
  const store = openDiskCacheStore({ directory: path });
  for (let first = 0; first < count; first += 500) {
    const entries = Array.from({ length: Math.min(500, count - first) }, (_, offset) => {
      const index = first + offset;
      return [`key-${index}`, Float32Array.from({ length: dimensions }, (_, at) => index + at)] as const;
    });
    await store.setMany(entries);
  }
  await store.close();
  return readFileSync(join(path, DISK_CACHE_FILE));
}

/** A directory whose cache file holds `bytes`. */
function cacheDirectory(bytes: Uint8Array): { path: string; file: string } {
  const path = directory();
  writeFileSync(join(path, DISK_CACHE_FILE), bytes);
  return { path, file: join(path, DISK_CACHE_FILE) };
}

interface Opened {
  exit: { code: number | null; signal: string | null };
  report?: { invalidArgument?: boolean; argument?: string; message?: string; values?: unknown[] };
}

/**
 * Opens the store in a process of its own (test/fixtures/open-store.mjs), reading `keys`; as user
 * `nobody` when asked and this runs as root (root may write anywhere).
 */
function openInChild(
  path: string,
  keys: string[] = [],
  env: NodeJS.ProcessEnv = {},
  asNobody = false,
): Promise<Opened> {
  const user = asNobody && process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : {};
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(fixtures, 'open-store.mjs'), path, ...keys],
      { env: { ...process.env, ...env }, ...user },
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

/** The refusal `open` reports for the cache file `file`: the problem, the path and the fix. */
function expectRefused(opened: Opened, file: string, problem: string) {
  // A crash (SIGSEGV, SIGBUS) shows here, not as a dead test run.
  expect(opened.exit).toEqual({ code: 0, signal: null });
  expect(opened.report).toMatchObject({ invalidArgument: true, argument: 'directory' });
  expect(opened.report?.message).toContain(`${file} ${problem}`);
  expect(opened.report?.message).toContain(
    `Delete it and ${file}-lock beside it, or choose another directory.`,
  );
}

describe('a cache file that is not a cache', () => {
  it.each([
    ['random bytes', () => Uint8Array.from({ length: 65_536 }, () => Math.floor(Math.random() * 256))],
    ['a text file', () => Buffer.from('not a cache\n'.repeat(1_000))],
    ['8 KiB of zeros', () => new Uint8Array(8_192)],
    ['1 MiB of zeros', () => new Uint8Array(1_048_576)],
  ])('%s is refused, naming the file and the fix', async (_name, bytes) => {
    const { path, file } = cacheDirectory(bytes());
    expectRefused(
      await openInChild(path),
      file,
      'is not an LMDB cache file (its first page is no LMDB header)',
    );
  });

  it('a file shorter than a header page is refused', async () => {
    const { path, file } = cacheDirectory(Buffer.from('cache = yes\n'));
    expectRefused(
      await openInChild(path),
      file,
      'is not an LMDB cache file (it ends within its first header page)',
    );
  });

  it('a cache whose first page was overwritten is refused (LMDB does not fall back on the second)', async () => {
    const bytes = await realCache(3);
    bytes.fill(0, 0, 4_096);
    const { path, file } = cacheDirectory(bytes);
    expectRefused(
      await openInChild(path),
      file,
      'is not an LMDB cache file (its first page is no LMDB header)',
    );
  });

  it('a cache whose second header page was overwritten is refused', async () => {
    const bytes = await realCache(3);
    bytes.writeUInt32LE(0x12345678, 4_096 + 24);
    const { path, file } = cacheDirectory(bytes);
    expectRefused(await openInChild(path), file, 'is damaged (its second header page is no LMDB header)');
  });

  it.each([
    [
      'with format 1 in its headers',
      (bytes: Buffer) => {
        bytes.writeUInt32LE(1, 28);
        bytes.writeUInt32LE(1, 4_096 + 28);
      },
    ],
    [
      'laid out as plain LMDB 0.9 (16-byte page headers)',
      (bytes: Buffer) => {
        for (const page of [0, 4_096]) {
          bytes.fill(0, page + 16, page + 32);
          bytes.writeUInt32LE(0xbeefc0de, page + 16);
          bytes.writeUInt32LE(1, page + 20);
        }
      },
    ],
  ])('an LMDB file %s is refused as another format', async (_name, change) => {
    const bytes = await realCache(3);
    change(bytes);
    const { path, file } = cacheDirectory(bytes);
    expectRefused(
      await openInChild(path),
      file,
      'is an LMDB file of data format 1, not the format 2 this cache reads',
    );
  });

  it('an LMDB file written with an encryption key is refused (LMDB ended the process on it)', async () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    const written = open({ path: file, encryptionKey: 'a key of thirty-two bytes, 32 b.' });
    written.putSync('k', 'v');
    await written.close();
    expectRefused(
      await openInChild(path),
      file,
      'is an encrypted LMDB file (another program wrote it with a key), not a cache this store reads',
    );
  });

  it('a cache cut to half its length is refused as truncated, with both lengths', async () => {
    const bytes = await realCache(2_000, 256);
    const half = Math.floor(bytes.length / 2 / 4_096) * 4_096;
    const { path, file } = cacheDirectory(bytes.subarray(0, half));
    const opened = await openInChild(path, ['key-1999']);
    expectRefused(opened, file, `is truncated: ${half} bytes, its header says at least `);
    // The pages its trees hold: more than half, and no more than the whole file.
    const inUse = Number(/at least (\d+) are in use/.exec(opened.report?.message ?? '')?.[1]);
    expect(inUse).toBeGreaterThan(half);
    expect(inUse).toBeLessThanOrEqual(bytes.length);
  });

  it('a cache cut within its second header page is refused as truncated', async () => {
    const { path, file } = cacheDirectory((await realCache(3)).subarray(0, 4_100));
    expectRefused(
      await openInChild(path),
      file,
      'is truncated: 4100 bytes, its header says at least 8192 are in use',
    );
  });

  it('a directory in the place of the cache file is refused', async () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    mkdirSync(file);
    expectRefused(await openInChild(path), file, 'is a directory, not an LMDB cache file');
  });
});

describe('a cache directory this user may not write', () => {
  it('is refused, naming the file and the fix', async () => {
    const path = directory();
    chmodSync(path, 0o555);
    const opened = await openInChild(path, [], {}, true);
    expect(opened.exit).toEqual({ code: 0, signal: null });
    expect(opened.report).toMatchObject({ invalidArgument: true, argument: 'directory' });
    expect(opened.report?.message).toMatch(
      new RegExp(
        `^cannot open the embedding cache in ${path}: Permission denied: .+ \\(${join(path, DISK_CACHE_FILE)}\\)\\. ` +
          `Give this user read and write access to ${path} and the files in it, or choose another directory\\.$`,
      ),
    );
  });
});

describe('a cache directory that is a file', () => {
  it('is refused, saying so', () => {
    const file = join(directory(), 'cache');
    writeFileSync(file, 'a file');
    let error: unknown;
    try {
      openDiskCacheStore({ directory: file });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `cannot open the embedding cache in ${file}: ${file} is a file, not a directory. Choose another directory.`,
    );
    expect((error as Error).cause).toMatchObject({ code: 'EEXIST' });
  });
});

describe('cache files LMDB wrote', () => {
  it('an empty file is a new cache', async () => {
    const { path } = cacheDirectory(new Uint8Array(0));
    const opened = await openInChild(path, ['k']);
    expect(opened).toEqual({ exit: { code: 0, signal: null }, report: { values: [null] } });
  });

  it('a cache whose last pages are free, and not in the file (LMDB does not write a page freed in the transaction that took it), opens with its vectors', async () => {
    const bytes = await realCache(3);
    // The newer header names 5 pages past the end of the file, as a transaction that freed the pages
    // it had taken last leaves it.
    const newer = bytes.readBigUInt64LE(152) > bytes.readBigUInt64LE(4_096 + 152) ? 0 : 4_096;
    bytes.writeBigUInt64LE(bytes.readBigUInt64LE(newer + 144) + 5n, newer + 144);
    const { path, file } = cacheDirectory(bytes);
    expect(checkCacheFile(file)).toBeUndefined();
    const opened = await openInChild(path, ['key-2']);
    expect(opened).toEqual({ exit: { code: 0, signal: null }, report: { values: [[2, 3, 4, 5]] } });
  });

  it('a cache after many writes (its file grown many times) opens again with its vectors', async () => {
    const { path, file } = cacheDirectory(await realCache(6_000, 1_024));
    expect(checkCacheFile(file)).toBeUndefined();
    const opened = await openInChild(path, ['key-0', 'key-5999']);
    expect(opened.exit).toEqual({ code: 0, signal: null });
    expect(opened.report?.values).toEqual([
      Array.from({ length: 1_024 }, (_, at) => at),
      Array.from({ length: 1_024 }, (_, at) => 5_999 + at),
    ]);
  }, 60_000);

  it('a cache another process holds open and keeps writing to opens, and its check never refuses it', async () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    const holder = spawn(process.execPath, [join(fixtures, 'holder.mjs'), path], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await once(holder.stdout, 'data');
      // Checked while the holder writes three more batches, however long that takes.
      const problems = new Set<string | undefined>();
      const batches = batchesWritten(holder);
      while (batches() < 3) {
        problems.add(checkCacheFile(file)?.reason);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect([...problems]).toEqual([undefined]);
      const opened = await openInChild(path, ['held-0']);
      expect(opened).toEqual({
        exit: { code: 0, signal: null },
        report: { values: [Array.from({ length: 256 }, (_, at) => at)] },
      });
    } finally {
      holder.stdin.end();
      await once(holder, 'exit');
    }
  });

  it('a file another process is still creating (one header page so far) is looked at again, then opened', async () => {
    const complete = await realCache(3);
    const { path } = cacheDirectory(complete.subarray(0, 4_096));
    const source = join(directory(), 'complete.mdb');
    writeFileSync(source, complete);
    const opened = await openInChild(path, ['key-2'], { EMBEDKIT_COMPLETE_FROM: source });
    expect(opened).toEqual({ exit: { code: 0, signal: null }, report: { values: [[2, 3, 4, 5]] } });
  });
});
