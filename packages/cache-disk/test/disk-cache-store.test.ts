import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  cacheMiddleware,
  type Embedding,
  embedMany,
  InvalidArgumentError,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { encodeCheckedEmbedding } from '@embedkit/core/cache-check';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { open } from 'lmdb';
import { describe, expect, it, vi } from 'vitest';
import { DISK_CACHE_FILE, openDiskCacheStore } from '../src/index.js';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-');

const run = promisify(execFile);

describe('the disk cache store', () => {
  it('writes each vector as core’s binary encoding under its key', async () => {
    const path = directory();
    const target = store({ directory: path });
    const vector = Float32Array.of(0.25, -8);
    await target.set('k', vector);
    await target.close();
    const raw = open<Uint8Array, string>({ path: join(path, DISK_CACHE_FILE), encoding: 'binary' });
    expect(new Uint8Array(raw.get('k')!)).toEqual(encodeCheckedEmbedding(vector));
    await raw.close();
  });

  it.each([
    ['float32', Float32Array.of(0.1, -0.2, 1e-30)],
    ['int8', Int8Array.of(-128, 0, 127)],
    ['uint8', Uint8Array.of(0, 10, 255)],
  ])(
    'reads back %s vectors with their type, after the store is closed and opened again',
    async (_name, vector) => {
      const path = directory();
      const first = store({ directory: path });
      await first.set('k', vector);
      await first.close();
      const again = store({ directory: path });
      const read = again.get('k');
      expect(read?.constructor).toBe(vector.constructor);
      expect(read).toEqual(vector);
    },
  );

  it('answers getMany in key order with misses as undefined', async () => {
    const target = store({ directory: directory() });
    await target.setMany([
      ['a', Float32Array.of(1)],
      ['c', Float32Array.of(3)],
    ]);
    expect(await target.getMany(['c', 'b', 'a'])).toEqual([
      Float32Array.of(3),
      undefined,
      Float32Array.of(1),
    ]);
    expect(await target.getMany([])).toEqual([]);
  });

  // LMDB answers every read in one buffer of its own, which the next read overwrites: an entry decoded
  // after the next read would hold that one's bytes, and a vector left as a view of it would change later.
  it('gives each entry of a getMany its own vector, unchanged by the reads after it', async () => {
    const target = store({ directory: directory() });
    const vector = (seed: number) => Float32Array.from({ length: 1024 }, (_, index) => seed + index / 1024);
    await target.setMany([
      ['first', vector(1)],
      ['second', vector(2)],
      ['short', Int8Array.of(-5, 6)],
      ['third', vector(3)],
    ]);
    const read = await target.getMany(['first', 'second', 'missing', 'short', 'third', 'first']);
    expect(read).toEqual([vector(1), vector(2), undefined, Int8Array.of(-5, 6), vector(3), vector(1)]);
    expect(target.get('second')).toEqual(vector(2));
    await target.getMany(['third', 'short']);
    expect(read).toEqual([vector(1), vector(2), undefined, Int8Array.of(-5, 6), vector(3), vector(1)]);
    expect(new Set(read.map((entry) => entry?.buffer)).size).toBe(6);
  });

  it('keeps namespaces apart in one directory', async () => {
    const path = directory();
    const one = store({ directory: path, namespace: 'http://one' });
    const two = store({ directory: path, namespace: 'http://two' });
    await one.set('k', Float32Array.of(1));
    expect(two.get('k')).toBeUndefined();
    expect(one.get('k')).toEqual(Float32Array.of(1));
  });

  it('serves an entry until its TTL runs out, then misses', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const target = store({ directory: directory(), ttlSeconds: 60 });
    await target.set('k', Float32Array.of(1));
    vi.setSystemTime(1_000_000 + 59_999);
    expect(target.get('k')).toEqual(Float32Array.of(1));
    vi.setSystemTime(1_000_000 + 60_000);
    expect(target.get('k')).toBeUndefined();
    expect(await target.getMany(['k'])).toEqual([undefined]);
  });

  it('serves a 1,000-input call with one getMany and stores its misses with one setMany', async () => {
    const target = store({ directory: directory() });
    const calls: string[] = [];
    const counted = {
      get: (key: string) => target.get(key),
      set: (key: string, value: Embedding) => target.set(key, value),
      getMany: (keys: readonly string[]) => {
        calls.push(`getMany ${keys.length}`);
        return target.getMany(keys);
      },
      setMany: (entries: readonly (readonly [string, Embedding])[]) => {
        calls.push(`setMany ${entries.length}`);
        return target.setMany(entries);
      },
    };
    const inner = new MockEmbeddingModel({ dimensions: 32 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: counted }));
    const inputs = Array.from({ length: 1_000 }, (_, index) => `text ${index}`);
    await embedMany({ model, inputs });
    const hit = await embedMany({ model, inputs });
    expect(calls).toEqual(['getMany 1000', 'setMany 1000', 'getMany 1000']);
    expect(inner.calls).toHaveLength(1);
    expect(hit.embeddings[500]).toEqual(hashVector('text 500', 32));
  });

  it('refuses a directory it cannot create, naming it', () => {
    const file = join(directory(), 'a-file');
    writeFileSync(file, 'not a directory');
    let error: unknown;
    try {
      openDiskCacheStore({ directory: join(file, 'cache') });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).message).toMatch(
      new RegExp(`^cannot open the embedding cache in ${join(file, 'cache')}: `),
    );
  });

  it('refuses unknown options', () => {
    expect(() => openDiskCacheStore({ directory: directory(), ttl: 5 } as never)).toThrow(
      /openDiskCacheStore options are invalid: \(options\): Unrecognized key: "ttl"/,
    );
  });
});

describe('a disk that fills up', () => {
  // Review finding: with the disk full, embedMany threw LMDB's "Commit failed" although the API had
  // answered, and LMDB's own `commitError` promise (and a write it queues itself) then rejected with
  // nobody listening, so Node exited. Here the file may not grow past 1 MiB (`ulimit -f`): LMDB's commits
  // fail for real, as on a full disk.
  it('fails no call: every vector is returned, the write is skipped with one warning, close() returns', async () => {
    const path = directory();
    const fixture = join(import.meta.dirname, 'fixtures', 'full-disk.mjs');
    // 2,048 blocks of 512 bytes: dash, the usual /bin/sh, counts in those (bash counts 1 KiB blocks).
    const { stdout } = await run('/bin/sh', [
      '-c',
      'ulimit -f 2048 && exec "$0" "$@"',
      process.execPath,
      fixture,
      path,
    ]);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ answered: 3_000, wrong: 0, firstRoundFromCache: true });
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0].code).toBe('cache-write-failed');
    // The cause LMDB keeps in `commitError`, not its "Commit failed" wrapper.
    expect(report.warnings[0].message).toMatch(
      new RegExp(
        `^The embedding cache in ${path} could not be written \\((?!Commit failed).+\\); vectors are not cached until it can\\.$`,
      ),
    );
    // After a failed commit the store skips writes for a second rather than failing 28 more commits.
    expect(report.failedCommits).toBeGreaterThanOrEqual(1);
    expect(report.failedCommits).toBeLessThan(5);
  }, 60_000);
});

describe('the disk cache store once closed', () => {
  // Reading a closed LMDB file crashed the process with a segmentation fault.
  // It was said twice, "… could not be read (the store is closed); its entries count as misses until it
  // can", and the same of writes: a closed store never can.
  it('reads miss and writes are skipped, said in one warning that promises no recovery, and nothing crashes', async () => {
    const warnings: { code: string; message: string }[] = [];
    const path = directory();
    const target = openDiskCacheStore({ directory: path, onWarning: (warning) => warnings.push(warning) });
    await target.set('k', Float32Array.of(1));
    await target.close();
    expect(target.get('k')).toBeUndefined();
    expect(await target.getMany(['k'])).toEqual([undefined]);
    await target.setMany([['j', Float32Array.of(2)]]);
    await target.set('j', Float32Array.of(2));
    expect(warnings).toEqual([
      {
        code: 'cache-read-failed',
        message: `The embedding cache in ${path} is closed; reads are misses and writes are skipped.`,
      },
    ]);
  });
});

describe('closing the disk cache store while it is in use', () => {
  // A getMany that LMDB answered after close() had closed the file threw inside LMDB's callback, where
  // nothing can catch it: the process ended with "No transaction to renew". Run in a child process so
  // that such an end fails this test, not the test run.
  it('a read in flight is answered before the file closes; calls made after close() began miss or are skipped', async () => {
    const path = directory();
    const child = join(import.meta.dirname, 'fixtures', 'close-race.mjs');
    const { stdout, stderr } = await run(process.execPath, [child, path]);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({
      values: [[0, 0.5], [1, 0.5], [2, 0.5], null],
      late: { get: null, getMany: [null] },
      reopened: [[0, 0.5], [1, 0.5], [2, 0.5], null],
      warnings: [
        {
          code: 'cache-read-failed',
          message: `The embedding cache in ${path} is closed; reads are misses and writes are skipped.`,
        },
      ],
    });
  });

  // close() closed the file under a setMany that had already started: the write rejected with
  // "Database is closed" and its entries were lost.
  it('close() waits for a write already started, which is stored', async () => {
    const warnings: { code: string; message: string }[] = [];
    const path = directory();
    const target = openDiskCacheStore({ directory: path, onWarning: (warning) => warnings.push(warning) });
    const settled: string[] = [];
    const writing = target
      .setMany([
        ['a', Float32Array.of(1, 2)],
        ['b', Int8Array.of(-3, 4)],
      ])
      .then(() => settled.push('write'));
    const closing = target.close().then(() => settled.push('close'));
    await Promise.all([writing, closing]);
    expect(settled).toEqual(['write', 'close']);
    expect(warnings).toEqual([]);
    const again = store({ directory: path });
    expect(await again.getMany(['a', 'b'])).toEqual([Float32Array.of(1, 2), Int8Array.of(-3, 4)]);
  });

  it('a write that rejects for the caller’s sake (a key longer than LMDB takes) does not fail close()', async () => {
    const path = directory();
    const target = openDiskCacheStore({ directory: path });
    const refused = target.set('k'.repeat(4_000), Float32Array.of(1));
    const stored = target.set('k', Float32Array.of(2));
    const closing = target.close();
    await expect(refused).rejects.toThrow(
      'A disk cache key is at most 1978 bytes in UTF-8, the namespace and one byte after it included; this one is 4000.',
    );
    await stored;
    await closing;
    expect(store({ directory: path }).get('k')).toEqual(Float32Array.of(2));
  });
});

describe('expired entries', () => {
  function rawEntry(path: string, key: string): Uint8Array | undefined {
    const raw = open<Uint8Array, string>({ path: join(path, DISK_CACHE_FILE), encoding: 'binary' });
    try {
      const value = raw.get(key);
      return value === undefined ? undefined : new Uint8Array(value);
    } finally {
      void raw.close();
    }
  }

  // Review finding: nothing ever deleted an expired entry, so the file only grew.
  it('an expired entry that a read finds is deleted from the file; fresh ones stay', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const path = directory();
    const target = openDiskCacheStore({ directory: path, ttlSeconds: 60 });
    await target.setMany([
      ['old', Float32Array.of(1)],
      ['other', Float32Array.of(2)],
    ]);
    vi.setSystemTime(1_000_000 + 30_000);
    await target.set('new', Float32Array.of(3));
    vi.setSystemTime(1_000_000 + 60_000);
    expect(await target.getMany(['old', 'new'])).toEqual([undefined, Float32Array.of(3)]);
    await target.close();
    expect(rawEntry(path, 'old')).toBeUndefined();
    expect(rawEntry(path, 'new')).toEqual(
      encodeCheckedEmbedding(Float32Array.of(3), { expiresAt: 1_090_000 }),
    );
    // Expired but never read: still there (nothing sweeps the file).
    expect(rawEntry(path, 'other')).toBeDefined();
  });

  it('an entry written again between the read and the delete (by another process) is kept', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const path = directory();
    const target = openDiskCacheStore({ directory: path, ttlSeconds: 60 });
    await target.set('k', Float32Array.of(1));
    vi.setSystemTime(1_000_000 + 60_000);
    const fresh = encodeCheckedEmbedding(Float32Array.of(7));
    // The read queues the delete; another writer gets the file first and writes the entry again.
    expect(target.get('k')).toBeUndefined();
    const other = open<Uint8Array, string>({ path: join(path, DISK_CACHE_FILE), encoding: 'binary' });
    other.putSync('k', fresh);
    await target.close();
    await other.close();
    expect(rawEntry(path, 'k')).toEqual(fresh);
  });
});

describe('several processes on one directory', () => {
  it('three writers (overlapping keys, 9,000 writes of 4 KiB vectors) reading as they go lose nothing', async () => {
    const path = directory();
    const writer = join(import.meta.dirname, 'fixtures', 'writer.mjs');
    const reports = await Promise.all(
      [0, 1_500, 3_000].map((first) =>
        run(process.execPath, [writer, path, String(first), '3000', '1024', '0,1500,3000']),
      ),
    );
    for (const report of reports) expect(JSON.parse(report.stdout).seen).toBeGreaterThan(0);
    const target = store({ directory: path });
    const keys = Array.from({ length: 6_000 }, (_, index) => `key-${index}`);
    const values = await target.getMany(keys);
    values.forEach((value, index) => {
      expect(value?.length).toBe(1024);
      expect([value![0], value![1023]]).toEqual([index, index + 1023 / 1024]);
    });
  }, 60_000);
});
