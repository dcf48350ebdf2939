/**
 * The cache file check, field by field, on header pages written here in the layout of the LMDB inside
 * the lmdb package (page header of 24 bytes, flags at 18; then magic, format, map address and size, the
 * free and main trees, the last page in use and the transaction): which page size, which header of
 * the two, and how many pages the check requires before LMDB may map the file; and the store's own
 * handling of namespaces, expiry and failures.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEmbedding, InvalidArgumentError } from '@embedkit/core';
import { open } from 'lmdb';
import { describe, expect, it, vi } from 'vitest';
import { checkCacheFile } from '../src/cache-file.js';
import { DISK_CACHE_FILE, openDiskCacheStore } from '../src/index.js';
import { temporaryStores } from './helpers.js';

const { directory, store, keep } = temporaryStores('embedkit-cache-disk-check-');

const NO_PAGE = 0xffff_ffff_ffff_ffffn;

interface Tree {
  branch?: bigint;
  leaf?: bigint;
  overflow?: bigint;
  root?: bigint;
}

interface HeaderFields {
  pageSize?: number;
  flags?: number;
  magic?: number;
  format?: number;
  environmentFlags?: number;
  free?: Tree;
  main?: Tree;
  last?: bigint;
  transaction?: bigint;
}

/** One header page of `size` bytes (the page size unless given), laid out as the lmdb package writes it. */
function headerPage(fields: HeaderFields, size = fields.pageSize ?? 4_096): Buffer {
  const page = Buffer.alloc(size);
  page.writeUInt16LE(fields.flags ?? 0x08, 18);
  page.writeUInt32LE(fields.magic ?? 0xbeefc0de, 24);
  page.writeUInt32LE(fields.format ?? 2, 28);
  page.writeUInt32LE(fields.pageSize ?? 4_096, 48);
  page.writeUInt16LE(fields.environmentFlags ?? 0, 52);
  for (const [at, tree] of [
    [48, fields.free ?? {}],
    [96, fields.main ?? {}],
  ] as const) {
    page.writeBigUInt64LE(tree.branch ?? 0n, at + 8);
    page.writeBigUInt64LE(tree.leaf ?? 0n, at + 16);
    page.writeBigUInt64LE(tree.overflow ?? 0n, at + 24);
    page.writeBigUInt64LE(tree.root ?? NO_PAGE, at + 40);
  }
  page.writeBigUInt64LE(fields.last ?? 1n, 144);
  page.writeBigUInt64LE(fields.transaction ?? 0n, 152);
  return page;
}

/** A cache file of the two header pages, cut or padded with zeros to `length` bytes. */
function cacheFile(first: HeaderFields, second: HeaderFields, length?: number): string {
  const pages = Buffer.concat([headerPage(first), headerPage(second, first.pageSize ?? 4_096)]);
  const bytes = Buffer.alloc(length ?? pages.length);
  pages.copy(bytes, 0, 0, Math.min(pages.length, bytes.length));
  const file = join(directory(), 'embeddings.mdb');
  writeFileSync(file, bytes);
  return file;
}

const truncated = (size: number, needed: number) => ({
  file: 'cache',
  reason: `is truncated: ${size} bytes, its header says at least ${needed} are in use`,
});

/** Free tree 1 + 2 + 3 pages, root 10; main tree 4 + 5 + 6 pages, root 40; 100 pages in use. */
const BUSY: HeaderFields = {
  free: { branch: 1n, leaf: 2n, overflow: 3n, root: 10n },
  main: { branch: 4n, leaf: 5n, overflow: 6n, root: 40n },
  last: 100n,
  transaction: 7n,
};

describe('the pages a cache file must hold', () => {
  it('past the highest tree root: 41 pages, not the 23 its trees hold nor the 101 of its last page', () => {
    const older = { ...BUSY, transaction: 6n };
    expect(checkCacheFile(cacheFile(BUSY, older, 41 * 4_096))).toBeUndefined();
    expect(checkCacheFile(cacheFile(BUSY, older, 41 * 4_096 - 1))).toStrictEqual(
      truncated(41 * 4_096 - 1, 41 * 4_096),
    );
  });

  it('at least as many as its trees hold, both header pages counted: 2 + 21 + 42 = 65 pages', () => {
    const header: HeaderFields = {
      free: { branch: 1n, leaf: 2n, overflow: 3n },
      main: { branch: 4n, leaf: 5n, overflow: 48n, root: 3n },
      last: 1_000n,
      transaction: 3n,
    };
    expect(checkCacheFile(cacheFile(header, { ...header, transaction: 2n }, 65 * 4_096))).toBeUndefined();
    expect(checkCacheFile(cacheFile(header, { ...header, transaction: 2n }, 65 * 4_096 - 1))).toStrictEqual(
      truncated(65 * 4_096 - 1, 65 * 4_096),
    );
  });

  it('each tree count and root is read: a change to any one changes the pages required', () => {
    const cases: [Tree, Tree, number][] = [
      [{ branch: 30n }, {}, 32],
      [{ leaf: 30n }, {}, 32],
      [{ overflow: 30n }, {}, 32],
      [{ root: 30n }, {}, 31],
      [{}, { branch: 30n }, 32],
      [{}, { leaf: 30n }, 32],
      [{}, { overflow: 30n }, 32],
      [{}, { root: 30n }, 31],
    ];
    for (const [free, main, pages] of cases) {
      const header = { free, main, last: 1_000n, transaction: 1n };
      const file = cacheFile(header, { transaction: 0n }, 8_192);
      expect([free, main, checkCacheFile(file)]).toStrictEqual([free, main, truncated(8_192, pages * 4_096)]);
    }
  });

  it('no more than the last page in use names, even when the counts say more', () => {
    const header = { ...BUSY, last: 9n };
    expect(checkCacheFile(cacheFile(header, { transaction: 0n }, 10 * 4_096))).toBeUndefined();
    expect(checkCacheFile(cacheFile(header, { transaction: 0n }, 10 * 4_096 - 1))).toStrictEqual(
      truncated(10 * 4_096 - 1, 10 * 4_096),
    );
  });

  it('an empty tree (its root all ones) adds no page: two header pages are a whole new cache', () => {
    expect(checkCacheFile(cacheFile({ last: 1n, transaction: 1n }, { last: 1n }))).toBeUndefined();
    expect(checkCacheFile(cacheFile({ last: 5n, transaction: 1n }, { last: 5n }))).toBeUndefined();
  });

  it('reads the header of the later transaction, whichever page holds it', () => {
    const small: HeaderFields = { free: { leaf: 1n }, last: 1_000n };
    const large: HeaderFields = { free: { leaf: 10n }, last: 1_000n };
    const size = 5 * 4_096;
    // 3 pages or 12 pages.
    expect(
      checkCacheFile(cacheFile({ ...small, transaction: 4n }, { ...large, transaction: 5n }, size)),
    ).toStrictEqual(truncated(size, 12 * 4_096));
    expect(
      checkCacheFile(cacheFile({ ...large, transaction: 5n }, { ...small, transaction: 4n }, size)),
    ).toStrictEqual(truncated(size, 12 * 4_096));
    expect(
      checkCacheFile(cacheFile({ ...small, transaction: 5n }, { ...large, transaction: 4n }, size)),
    ).toBeUndefined();
    expect(
      checkCacheFile(cacheFile({ ...large, transaction: 4n }, { ...small, transaction: 5n }, size)),
    ).toBeUndefined();
  });

  it('finds the second header one page in, at the page size the first names, and counts in that size', () => {
    const header: HeaderFields = { pageSize: 8_192, free: { leaf: 2n }, last: 100n, transaction: 1n };
    const file = cacheFile(header, { pageSize: 8_192, transaction: 0n }, 4 * 8_192 - 1);
    expect(checkCacheFile(file)).toStrictEqual(truncated(4 * 8_192 - 1, 4 * 8_192));
    expect(checkCacheFile(cacheFile(header, { pageSize: 8_192 }, 4 * 8_192))).toBeUndefined();
  });
});

describe('a header page cut short', () => {
  it('a file of 159 bytes ends within its first header; one of 160 bytes lacks its second page', () => {
    expect(checkCacheFile(cacheFile(BUSY, BUSY, 159))).toStrictEqual({
      file: 'cache',
      reason: 'is not an LMDB cache file (it ends within its first header page)',
    });
    expect(checkCacheFile(cacheFile(BUSY, BUSY, 160))).toStrictEqual(truncated(160, 8_192));
  });

  it('a second header page of 159 bytes is truncated; of 160 bytes, it is read', () => {
    expect(checkCacheFile(cacheFile(BUSY, BUSY, 4_096 + 159))).toStrictEqual(truncated(4_096 + 159, 8_192));
    expect(checkCacheFile(cacheFile(BUSY, { magic: 1 }, 4_096 + 160))).toStrictEqual({
      file: 'cache',
      reason: 'is damaged (its second header page is no LMDB header)',
    });
  });
});

describe('what a header page must say', () => {
  it.each([
    [128, 'is not an LMDB cache file (its header gives a page size of 128 bytes)'],
    [256, undefined],
    [4_095, 'is not an LMDB cache file (its header gives a page size of 4095 bytes)'],
    [4_097, 'is not an LMDB cache file (its header gives a page size of 4097 bytes)'],
    [6_144, 'is not an LMDB cache file (its header gives a page size of 6144 bytes)'],
    [65_536, undefined],
    [131_072, 'is not an LMDB cache file (its header gives a page size of 131072 bytes)'],
    [0, 'is not an LMDB cache file (its header gives a page size of 0 bytes)'],
  ])('a page size of %i bytes: %s', (pageSize, problem) => {
    const header = { pageSize, last: 1n };
    const first = headerPage(header, Math.max(pageSize, 160));
    const second = headerPage({ ...header, transaction: 0n }, Math.max(pageSize, 160));
    const file = join(directory(), 'embeddings.mdb');
    writeFileSync(file, Buffer.concat([first, second]));
    expect(checkCacheFile(file)).toStrictEqual(
      problem === undefined ? undefined : { file: 'cache', reason: problem },
    );
  });

  it('the meta flag is one bit of the page flags: other bits beside it are fine, other bits alone are not', () => {
    expect(checkCacheFile(cacheFile({ flags: 0x08 | 0x01 }, {}))).toBeUndefined();
    expect(checkCacheFile(cacheFile({ flags: 0x01 }, {}))).toStrictEqual({
      file: 'cache',
      reason: 'is not an LMDB cache file (its first page is no LMDB header)',
    });
    expect(checkCacheFile(cacheFile({}, { flags: 0x01 }))).toStrictEqual({
      file: 'cache',
      reason: 'is damaged (its second header page is no LMDB header)',
    });
  });

  it('a magic number one off is no LMDB header', () => {
    expect(checkCacheFile(cacheFile({ magic: 0xbeefc0df }, {}))).toStrictEqual({
      file: 'cache',
      reason: 'is not an LMDB cache file (its first page is no LMDB header)',
    });
    expect(checkCacheFile(cacheFile({ magic: 0xbeefc0dd }, {}))).toStrictEqual({
      file: 'cache',
      reason: 'is not an LMDB cache file (its first page is no LMDB header)',
    });
  });

  it('the format is the low 16 bits of its field: 2 is read, 1 and 3 are other formats', () => {
    expect(checkCacheFile(cacheFile({ format: 0x0001_0002 }, { format: 0x0001_0002 }))).toBeUndefined();
    for (const format of [1, 3]) {
      expect(checkCacheFile(cacheFile({ format }, { format }))).toStrictEqual({
        file: 'cache',
        reason: `is an LMDB file of data format ${format}, not the format 2 this cache reads (another program or LMDB version wrote it)`,
      });
    }
  });

  it('only the encryption bit of the environment flags refuses the file', () => {
    expect(checkCacheFile(cacheFile({ environmentFlags: 0x0001 | 0x1000 | 0x4000 }, {}))).toBeUndefined();
    expect(checkCacheFile(cacheFile({ environmentFlags: 0x2000 }, {}))).toStrictEqual({
      file: 'cache',
      reason: 'is an encrypted LMDB file (another program wrote it with a key), not a cache this store reads',
    });
  });

  it('a plain LMDB 0.9 header (magic at 16, format at 20) names its own format', () => {
    const bytes = Buffer.alloc(8_192);
    for (const page of [0, 4_096]) {
      bytes.writeUInt32LE(0xbeefc0de, page + 16);
      bytes.writeUInt32LE(7, page + 20);
    }
    const file = join(directory(), 'embeddings.mdb');
    writeFileSync(file, bytes);
    expect(checkCacheFile(file)).toStrictEqual({
      file: 'cache',
      reason:
        'is an LMDB file of data format 7, not the format 2 this cache reads (another program or LMDB version wrote it)',
    });
  });
});

describe('what is in the place of the cache file', () => {
  it('none, or an empty file, is a new cache; a directory is refused', () => {
    const path = directory();
    expect(checkCacheFile(join(path, 'embeddings.mdb'))).toBeUndefined();
    writeFileSync(join(path, 'embeddings.mdb'), '');
    expect(checkCacheFile(join(path, 'embeddings.mdb'))).toBeUndefined();
    mkdirSync(join(path, 'other.mdb'));
    expect(checkCacheFile(join(path, 'other.mdb'))).toStrictEqual({
      file: 'cache',
      reason: 'is a directory, not an LMDB cache file',
    });
  });

  it('a named pipe is refused without opening it (that would wait for a writer)', () => {
    const pipe = join(directory(), 'embeddings.mdb');
    execFileSync('mkfifo', [pipe]);
    expect(checkCacheFile(pipe)).toStrictEqual({
      file: 'cache',
      reason: 'is not a regular file, so not an LMDB cache file',
    });
  });

  it('a path under a file is an error of the file system, not a new cache', () => {
    const path = directory();
    writeFileSync(join(path, 'a-file'), 'x');
    expect(() => checkCacheFile(join(path, 'a-file', 'embeddings.mdb'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
  });
});

/** The raw entries of the cache file in `path`, by key, read with LMDB directly. */
function rawEntries(path: string): Map<string, Uint8Array> {
  const raw = open<Uint8Array, string>({ path: join(path, DISK_CACHE_FILE), encoding: 'binary' });
  try {
    const entries = new Map<string, Uint8Array>();
    for (const { key, value } of raw.getRange()) entries.set(key, new Uint8Array(value));
    return entries;
  } finally {
    void raw.close();
  }
}

/** Writes `bytes` under `key` with LMDB directly, as another program sharing the directory would. */
async function putRaw(path: string, key: string, bytes: Uint8Array): Promise<void> {
  const raw = open<Uint8Array, string>({ path: join(path, DISK_CACHE_FILE), encoding: 'binary' });
  raw.putSync(key, bytes);
  await raw.close();
}

describe('namespaces in one file', () => {
  it('an entry is stored under its namespace, a NUL, then its key, and read back by get and getMany', async () => {
    const path = directory();
    const target = store({ directory: path, namespace: 'https://api.jina.ai/v1' });
    await target.set('k', Float32Array.of(1.5));
    expect(target.get('k')).toEqual(Float32Array.of(1.5));
    expect(await target.getMany(['k', 'j'])).toEqual([Float32Array.of(1.5), undefined]);
    await target.close();
    expect([...rawEntries(path).keys()]).toEqual(['https://api.jina.ai/v1\u0000k']);
  });

  it('namespace and key never run together: "a" + "b:c" and "ab" + "c" are apart from "a:b" + "c" and "a" + "bc"', async () => {
    const path = directory();
    const [a, aColonB, ab] = ['a', 'a:b', 'ab'].map((namespace) => store({ directory: path, namespace }));
    await a!.setMany([
      ['b:c', Float32Array.of(1)],
      ['bc', Float32Array.of(2)],
    ]);
    expect(aColonB!.get('c')).toBeUndefined();
    expect(ab!.get('c')).toBeUndefined();
    expect(await aColonB!.getMany(['c'])).toEqual([undefined]);
    expect(await ab!.getMany(['c'])).toEqual([undefined]);
  });

  it('an expired entry found in a namespace is deleted under its own key; the same key outside it stays', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const path = directory();
    const outside = store({ directory: path, ttlSeconds: 10 });
    const inside = store({ directory: path, namespace: 'n', ttlSeconds: 10 });
    await outside.set('k', Float32Array.of(1));
    await inside.set('k', Float32Array.of(2));
    vi.setSystemTime(1_000_000 + 10_000);
    expect(inside.get('k')).toBeUndefined();
    await inside.close();
    await outside.close();
    expect([...rawEntries(path).keys()]).toEqual(['k']);
  });
});

describe('a read answered after close() began', () => {
  it('leaves the expired entries it found for a later read, and says nothing', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const path = directory();
    const warnings: unknown[] = [];
    const target = openDiskCacheStore({
      directory: path,
      ttlSeconds: 1,
      onWarning: (warning) => warnings.push(warning),
    });
    await target.set('k', Float32Array.of(1));
    vi.setSystemTime(1_000_000 + 1_000);
    const reading = target.getMany(['k']);
    const closing = target.close();
    expect(await reading).toEqual([undefined]);
    await closing;
    expect(warnings).toEqual([]);
    expect([...rawEntries(path).keys()]).toEqual(['k']);
  });
});

describe('entries this version did not write', () => {
  const PAST = 1_000;

  /** Bytes of the cache encoding's layout: format byte, then the expiry (float64 LE at 8), then the body. */
  function entry(format: number, length: number, expiresAt: number): Uint8Array {
    const bytes = new Uint8Array(length);
    bytes[0] = format;
    if (length >= 16) new DataView(bytes.buffer).setFloat64(8, expiresAt, true);
    return bytes;
  }

  it('an entry of another format or shorter than a header is a miss and is never deleted', async () => {
    const path = directory();
    const later = entry(2, 24, PAST);
    const short = entry(1, 15, 0);
    await putRaw(path, 'later', later);
    await putRaw(path, 'short', short);
    const target = store({ directory: path });
    expect(target.get('later')).toBeUndefined();
    expect(await target.getMany(['later', 'short'])).toEqual([undefined, undefined]);
    await target.close();
    expect(rawEntries(path)).toEqual(
      new Map([
        ['later', later],
        ['short', short],
      ]),
    );
  });

  it('an expired entry of exactly a header, or with a body, is deleted when read', async () => {
    const path = directory();
    await putRaw(path, 'header', entry(1, 16, PAST));
    await putRaw(path, 'whole', encodeEmbedding(Float32Array.of(1), { expiresAt: PAST }));
    await putRaw(path, 'fresh', encodeEmbedding(Float32Array.of(2)));
    const target = store({ directory: path });
    expect(await target.getMany(['header', 'whole', 'fresh'])).toEqual([
      undefined,
      undefined,
      Float32Array.of(2),
    ]);
    await target.close();
    expect([...rawEntries(path).keys()]).toEqual(['fresh']);
  });
});

describe('calls with nothing to do', () => {
  it('setMany([]) and getMany([]) on a closed store say nothing; close() twice closes once', async () => {
    const warnings: unknown[] = [];
    const target = openDiskCacheStore({
      directory: directory(),
      onWarning: (warning) => warnings.push(warning),
    });
    await Promise.all([target.close(), target.close()]);
    await target.close();
    await target.setMany([]);
    expect(await target.getMany([])).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe('closing', () => {
  it('close() lets go of the cache file: no descriptor of this process is left on it', async () => {
    const descriptorsOn = (file: string) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      });
    const path = directory();
    const target = openDiskCacheStore({ directory: path });
    await target.set('k', Float32Array.of(1));
    expect(descriptorsOn(join(path, DISK_CACHE_FILE)).length).toBeGreaterThan(0);
    await target.close();
    expect(descriptorsOn(join(path, DISK_CACHE_FILE))).toEqual([]);
  });
});

describe('the options', () => {
  function refusal(options: unknown): { message: string; argument: unknown } {
    try {
      openDiskCacheStore(options as never);
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      return { message: (error as Error).message, argument: (error as InvalidArgumentError).argument };
    }
    throw new Error('the options were accepted');
  }

  it('a namespace of up to 1,024 bytes, counted in UTF-8', async () => {
    const path = directory();
    store({ directory: path, namespace: 'a'.repeat(1_024) });
    store({ directory: path, namespace: 'é'.repeat(512) });
    for (const namespace of ['a'.repeat(1_025), 'é'.repeat(513)]) {
      expect(refusal({ directory: path, namespace })).toEqual({
        message: 'openDiskCacheStore options are invalid: namespace: must be at most 1024 bytes.',
        argument: 'namespace',
      });
    }
  });

  it('a directory name of one character or more, a positive TTL or null, and onWarning a function', () => {
    const cwd = process.cwd();
    const path = directory();
    process.chdir(path);
    try {
      store({ directory: 'c', ttlSeconds: null });
    } finally {
      process.chdir(cwd);
    }
    expect(refusal({ directory: '' })).toEqual({
      message: expect.stringMatching(/^openDiskCacheStore options are invalid: directory: .*1 character/),
      argument: 'directory',
    });
    expect(refusal({ directory: path, ttlSeconds: 0 }).argument).toBe('ttlSeconds');
    expect(refusal({ directory: path, onWarning: 'log' })).toEqual({
      message: 'openDiskCacheStore options are invalid: onWarning: must be a function.',
      argument: 'onWarning',
    });
    expect(refusal(undefined).argument).toBe('options');
  });
});

describe('a cache file that fails', () => {
  /**
   * A store whose LMDB commits fail while `control.fail` is set, as on a full disk: LMDB rejects with
   * "Commit failed" and keeps the cause in `commitError`. `control.commits` counts the transactions tried.
   */
  async function storeOnFullDisk(
    path: string,
    onWarning: (warning: { code: string; message: string }) => void,
    ttlSeconds: number | null = null,
  ) {
    const control = {
      fail: false,
      plain: false,
      pendingCause: false,
      readFail: false,
      readFailInWrite: false,
      commits: 0,
    };
    let inWrite = false;
    vi.resetModules();
    vi.doMock('lmdb', async (importOriginal) => {
      const actual = await importOriginal<typeof import('lmdb')>();
      return {
        ...actual,
        open: (...args: Parameters<typeof actual.open>) => {
          const database = actual.open(...args);
          const transaction = database.transaction.bind(database);
          database.transaction = ((body: () => unknown) => {
            control.commits += 1;
            if (!control.fail) {
              return transaction(() => {
                inWrite = true;
                try {
                  return body();
                } finally {
                  inWrite = false;
                }
              });
            }
            if (control.plain) return Promise.reject(new Error('EIO: i/o error'));
            const commitError = control.pendingCause
              ? new Promise(() => {})
              : Promise.reject(new Error('ENOSPC: no space left on device'));
            return Promise.reject(
              Object.assign(new Error('Commit failed (see commitError for details)'), { commitError }),
            );
          }) as typeof database.transaction;
          const get = database.get.bind(database);
          const getMany = database.getMany.bind(database);
          database.get = ((key: string) => {
            if (control.readFail || (control.readFailInWrite && inWrite))
              throw new Error('MDB_BAD_TXN: transaction must abort');
            return get(key);
          }) as typeof database.get;
          // The store's get reads through LMDB's reused buffer.
          const getBinaryFast = database.getBinaryFast.bind(database);
          database.getBinaryFast = ((key: string) => {
            if (control.readFail) throw new Error('MDB_BAD_TXN: transaction must abort');
            return getBinaryFast(key);
          }) as typeof database.getBinaryFast;
          database.getMany = ((keys: string[]) => {
            if (control.readFail) return Promise.reject(new Error('MDB_BAD_TXN: transaction must abort'));
            return getMany(keys);
          }) as typeof database.getMany;
          return database;
        },
      };
    });
    try {
      const fresh = await import('../src/disk-cache-store.js');
      const opened = keep(fresh.openDiskCacheStore({ directory: path, onWarning, ttlSeconds }));
      return { store: opened, control };
    } finally {
      vi.doUnmock('lmdb');
      vi.resetModules();
    }
  }

  it('are skipped for 1 s, then 2 s, 4 s … up to a minute while commits keep failing, and again at once after one works', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const path = directory();
    const warnings: { code: string; message: string }[] = [];
    const { store: target, control } = await storeOnFullDisk(path, (warning) => warnings.push(warning));
    const at = async (elapsed: number) => {
      vi.setSystemTime(1_000_000 + elapsed);
      const before = control.commits;
      await target.set('k', Float32Array.of(elapsed));
      return control.commits - before;
    };
    control.fail = true;
    // Each entry: the time of a write and whether it tried a commit.
    const tried: [number, number][] = [];
    for (const elapsed of [0, 999, 1_000, 2_999, 3_000, 6_999, 7_000])
      tried.push([elapsed, await at(elapsed)]);
    expect(tried).toEqual([
      [0, 1],
      [999, 0],
      [1_000, 1],
      [2_999, 0],
      [3_000, 1],
      [6_999, 0],
      [7_000, 1],
    ]);
    // 8 s, 16 s, 32 s, then never more than 60 s.
    let now = 7_000;
    for (const wait of [8_000, 16_000, 32_000, 60_000, 60_000]) {
      expect([wait, await at(now + wait - 1)]).toEqual([wait, 0]);
      now += wait;
      expect([wait, await at(now)]).toEqual([wait, 1]);
    }
    expect(warnings).toEqual([
      {
        code: 'cache-write-failed',
        message: `The embedding cache in ${path} could not be written (ENOSPC: no space left on device); vectors are not cached until it can.`,
      },
    ]);
    // A commit that works ends the wait: the next failure skips for 1 s again, and is said again.
    control.fail = false;
    now += 60_000;
    expect(await at(now)).toBe(1);
    control.fail = true;
    expect(await at(now + 1)).toBe(1);
    expect(await at(now + 1_000)).toBe(0);
    expect(await at(now + 1_001)).toBe(1);
    expect(warnings).toHaveLength(2);
    // Reading a fresh entry writes nothing.
    control.fail = false;
    now += 10_000;
    expect(await at(now)).toBe(1);
    const commits = control.commits;
    expect(target.get('k')).toEqual(Float32Array.of(now));
    expect(await target.getMany(['k'])).toEqual([Float32Array.of(now)]);
    expect(control.commits).toBe(commits);
  });

  it('a read that fails is a miss, said once until a read works again, by get and getMany alike', async () => {
    const path = directory();
    const warnings: { code: string; message: string }[] = [];
    const { store: target, control } = await storeOnFullDisk(path, (warning) => warnings.push(warning));
    await target.set('k', Float32Array.of(1));
    const said = `The embedding cache in ${path} could not be read (MDB_BAD_TXN: transaction must abort); its entries count as misses until it can.`;
    control.readFail = true;
    expect(await target.getMany(['k'])).toEqual([undefined]);
    expect(warnings).toEqual([{ code: 'cache-read-failed', message: said }]);
    expect(target.get('k')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    control.readFail = false;
    expect(await target.getMany(['k'])).toEqual([Float32Array.of(1)]);
    control.readFail = true;
    expect(target.get('k')).toBeUndefined();
    control.readFail = false;
    expect(target.get('k')).toEqual(Float32Array.of(1));
    control.readFail = true;
    expect(await target.getMany(['k'])).toEqual([undefined]);
    expect(warnings).toEqual([
      { code: 'cache-read-failed', message: said },
      { code: 'cache-read-failed', message: said },
      { code: 'cache-read-failed', message: said },
    ]);
  });

  // Seen with a cache file made immutable while a job ran (EPERM): LMDB printed the cause to standard error
  // and never settled `commitError`, and the warning read "(Commit failed (see commitError for details))",
  // a property no user of the store can see.
  it('a failed commit whose cause is not known by the next turn says where LMDB put it and what it usually is', async () => {
    const path = directory();
    const warnings: { code: string; message: string }[] = [];
    const { store: target, control } = await storeOnFullDisk(path, (warning) => warnings.push(warning));
    control.fail = true;
    control.pendingCause = true;
    await expect(target.set('k', Float32Array.of(1))).resolves.toBeUndefined();
    expect(warnings).toEqual([
      {
        code: 'cache-write-failed',
        message: `The embedding cache in ${path} could not be written (LMDB's commit failed for a reason it printed to standard error, most often a full disk or a file this user may no longer write); vectors are not cached until it can.`,
      },
    ]);
  });

  it('a delete of expired entries that fails is said as a failed write, and fails nothing', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const path = directory();
    const warnings: { code: string; message: string }[] = [];
    const { store: target, control } = await storeOnFullDisk(path, (warning) => warnings.push(warning), 1);
    await target.set('old', Float32Array.of(1));
    vi.setSystemTime(1_000_000 + 1_000);
    control.readFailInWrite = true;
    expect(await target.getMany(['old'])).toEqual([undefined]);
    await target.close();
    expect(warnings).toEqual([
      {
        code: 'cache-write-failed',
        message: `The embedding cache in ${path} could not be written (MDB_BAD_TXN: transaction must abort); vectors are not cached until it can.`,
      },
    ]);
  });

  it('a failed commit without a commitError is said with its own message, and the write resolves', async () => {
    const path = directory();
    const warnings: { code: string; message: string }[] = [];
    const { store: target, control } = await storeOnFullDisk(path, (warning) => warnings.push(warning));
    control.fail = true;
    control.plain = true;
    await expect(target.set('k', Float32Array.of(1))).resolves.toBeUndefined();
    expect(warnings).toEqual([
      {
        code: 'cache-write-failed',
        message: `The embedding cache in ${path} could not be written (EIO: i/o error); vectors are not cached until it can.`,
      },
    ]);
  });
});
