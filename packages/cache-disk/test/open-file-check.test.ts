/**
 * The look at the open cache file before each read and write, on files no LMDB maps here (so a cut
 * one is read safely): a file cut short or written over after it was found sound, whether its last
 * change is long past (its length and timestamps tell) or came just before the look (its timestamps
 * may not have moved), and within and after a run of synchronous calls.
 */

import { type BigIntStats, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type OpenCacheFile, watchCacheFile } from '../src/cache-file.js';
import { DISK_CACHE_FILE, openDiskCacheStore } from '../src/index.js';
import { temporaryStores } from './helpers.js';

// What the file system reports for the cache file, when a test sets it: a change made within one tick of
// the file system's clock leaves the file's timestamps as they were.
const reported = vi.hoisted(() => ({ stats: undefined as BigIntStats | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fstatSync = ((descriptor: number, options?: { bigint?: boolean }) =>
    options?.bigint === true && reported.stats !== undefined
      ? reported.stats
      : fs.fstatSync(descriptor, options)) as typeof fs.fstatSync;
  return { ...fs, fstatSync };
});

const { directory } = temporaryStores('embedkit-cache-disk-open-check-');

const watched: OpenCacheFile[] = [];
afterEach(() => {
  reported.stats = undefined;
  for (const file of watched.splice(0)) file.close();
});

/** The bytes of a cache the store wrote with `count` entries of 64 floats, then closed. */
async function realCache(count: number): Promise<Buffer> {
  const path = directory();
  const written = openDiskCacheStore({ directory: path });
  await written.setMany(
    Array.from(
      { length: count },
      (_, index) => [`key-${index}`, Float32Array.from({ length: 64 }, (_, at) => index + at)] as const,
    ),
  );
  await written.close();
  return readFileSync(join(path, DISK_CACHE_FILE));
}

/** A cache file holding `bytes`, watched as the store watches the file LMDB opened. */
function watchedFile(bytes: Uint8Array): { file: string; watcher: OpenCacheFile } {
  const file = join(directory(), DISK_CACHE_FILE);
  writeFileSync(file, bytes);
  const watcher = watchCacheFile(file);
  watched.push(watcher);
  return { file, watcher };
}

/** Lets the running synchronous code end, as a caller's next turn of the event loop does. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Dates a minute on: the file's last change is long past when it is looked at. */
function changedLongAgo() {
  vi.useFakeTimers({ now: Date.now() + 60_000, toFake: ['Date'] });
}

describe('a cache file found sound, then cut short while it is watched', () => {
  it.each([
    ['to nothing', () => 0],
    ['to its two header pages', () => 8_192],
    ['to 65,536 bytes', () => 65_536],
    ['by one page at its end', (size: number) => size - 4_096],
  ])(
    'cut %s after its last change was long past: the next look says it was cut, with both lengths',
    async (_, length) => {
      const bytes = await realCache(300);
      expect(bytes.length).toBeGreaterThan(65_536 + 4_096);
      const { file, watcher } = watchedFile(bytes);
      changedLongAgo();
      expect(watcher.problem()).toBeUndefined();
      await nextTurn();
      expect(watcher.problem()).toBeUndefined();
      truncateSync(file, length(bytes.length));
      await nextTurn();
      expect(watcher.problem()).toBe(
        `was cut short by another program: ${length(bytes.length)} bytes, it had ${bytes.length}`,
      );
    },
  );

  it('written over by a cut copy of the same length after its last change was long past: a change time one nanosecond on sends the look to its header', async () => {
    const empty = await realCache(0);
    const grown = await realCache(300);
    expect(empty.length).toBe(8_192);
    const { file, watcher } = watchedFile(empty);
    const before = statSync(file, { bigint: true });
    reported.stats = before;
    changedLongAgo();
    expect(watcher.problem()).toBeUndefined();
    await nextTurn();
    expect(watcher.problem()).toBeUndefined();
    writeFileSync(file, grown.subarray(0, 8_192));
    reported.stats = Object.assign(Object.create(before) as BigIntStats, { ctimeNs: before.ctimeNs + 1n });
    await nextTurn();
    expect(watcher.problem()).toMatch(/^is truncated: 8192 bytes, its header says at least \d+ are in use$/);
  });

  it('written over by a cut copy of the same length just after it changed, its timestamps unmoved: its header is read again', async () => {
    const empty = await realCache(0);
    const grown = await realCache(300);
    const { file, watcher } = watchedFile(empty);
    const before = statSync(file, { bigint: true });
    // The look comes within the same millisecond as the file's last change.
    vi.useFakeTimers({ now: Number(before.ctimeNs / 1_000_000n), toFake: ['Date'] });
    reported.stats = before;
    expect(watcher.problem()).toBeUndefined();
    await nextTurn();
    writeFileSync(file, grown.subarray(0, 8_192));
    await nextTurn();
    expect(watcher.problem()).toMatch(/^is truncated: 8192 bytes, its header says at least \d+ are in use$/);
  });

  it('cut during a run of synchronous calls: the first call after the run says so, every call after it too', async () => {
    const bytes = await realCache(300);
    const { file, watcher } = watchedFile(bytes);
    expect(watcher.problem()).toBeUndefined();
    truncateSync(file, 0);
    expect(watcher.problem()).toBeUndefined();
    await nextTurn();
    const cut = `was cut short by another program: 0 bytes, it had ${bytes.length}`;
    expect([watcher.problem(), watcher.problem()]).toEqual([cut, cut]);
  });
});
