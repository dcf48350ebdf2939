import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  cacheMiddleware,
  type Embedding,
  embedMany,
  encodeEmbedding,
  InvalidArgumentError,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { open } from 'lmdb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DISK_CACHE_FILE, type DiskCacheStore, openDiskCacheStore } from '../src/index.js';

const run = promisify(execFile);
const directories: string[] = [];
const stores: DiskCacheStore[] = [];

function directory(): string {
  const path = mkdtempSync(join(tmpdir(), 'embedkit-cache-disk-'));
  directories.push(path);
  return path;
}

function store(options: Parameters<typeof openDiskCacheStore>[0]): DiskCacheStore {
  const opened = openDiskCacheStore(options);
  stores.push(opened);
  return opened;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const opened of stores.splice(0)) await opened.close();
  for (const path of directories.splice(0)) rmSync(path, { recursive: true, force: true });
});

describe('the disk cache store', () => {
  it('writes each vector as core’s binary encoding under its key', async () => {
    const path = directory();
    const target = store({ directory: path });
    const vector = Float32Array.of(0.25, -8);
    await target.set('k', vector);
    await target.close();
    const raw = open<Uint8Array, string>({ path: join(path, DISK_CACHE_FILE), encoding: 'binary' });
    expect(new Uint8Array(raw.get('k')!)).toEqual(encodeEmbedding(vector));
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
