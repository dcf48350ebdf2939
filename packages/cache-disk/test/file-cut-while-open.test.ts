import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { checkCacheFile } from '../src/cache-file.js';
import { DISK_CACHE_FILE, type DiskCacheStoreWarning, openDiskCacheStore } from '../src/index.js';
import { batchesWritten, temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-cut-');

const fixtures = join(import.meta.dirname, 'fixtures');

interface Outcome {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  report?: { get: number[] | null; getMany: (number[] | null)[]; warnings: DiskCacheStoreWarning[] };
}

/**
 * Runs test/fixtures/cut-while-open.mjs on `path` with `count` entries of its own; once it holds the
 * file open, `cut` is called with the file's length as that process last saw it, then the process reads,
 * writes and closes.
 */
async function cutWhileOpen(
  path: string,
  count: number,
  cut: (seen: number) => void | Promise<void>,
): Promise<Outcome> {
  const child = spawn(process.execPath, [join(fixtures, 'cut-while-open.mjs'), path, String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ready = await lines.next();
  try {
    await cut((JSON.parse(ready.value as string) as { size: number }).size);
  } finally {
    child.stdin.end('go\n');
  }
  const last = await lines.next();
  const [code, signal] = await exited;
  return {
    exit: { code, signal },
    ...(last.done === true ? {} : { report: JSON.parse(last.value as string) }),
  };
}

/** The two warnings of a store whose file `file` can no longer be read, for `reason`. */
function cutWarnings(path: string, reason: string): DiskCacheStoreWarning[] {
  const file = join(path, DISK_CACHE_FILE);
  const problem = `${file} ${reason}. Delete it and ${file}-lock beside it, or choose another directory.`;
  return [
    {
      code: 'cache-read-failed',
      message: `The embedding cache in ${path} could not be read (${problem}); its entries count as misses until it can.`,
    },
    {
      code: 'cache-write-failed',
      message: `The embedding cache in ${path} could not be written (${problem}); vectors are not cached until it can.`,
    },
  ];
}

describe('a cache file cut short by another program while the store holds it open', () => {
  it('cut to nothing: reads miss and the write is skipped, each with one warning, and the process exits cleanly', async () => {
    const path = directory();
    let seen = 0;
    const outcome = await cutWhileOpen(path, 2_000, (size) => {
      seen = size;
      truncateSync(join(path, DISK_CACHE_FILE), 0);
    });
    expect(seen).toBeGreaterThan(8_192);
    expect(outcome).toEqual({
      exit: { code: 0, signal: null },
      report: {
        get: null,
        getMany: [null, null],
        warnings: cutWarnings(path, `was cut short by another program: 0 bytes, it had ${seen}`),
      },
    });
  });

  it('cut to its two header pages after another process grew it: the pages its header names are missed, not read', async () => {
    const path = directory();
    const file = join(path, DISK_CACHE_FILE);
    let reason: string | undefined;
    let seen = 0;
    const outcome = await cutWhileOpen(path, 0, async (size) => {
      // The other process made the cache (its two header pages) and has seen no more of it: this one
      // writes the rest, then cuts the file back to the length the other saw.
      seen = size;
      const writer = openDiskCacheStore({ directory: path });
      await writer.setMany(
        Array.from({ length: 2_000 }, (_, index) => [`key-${index}`, Float32Array.of(index)] as const),
      );
      await writer.close();
      truncateSync(file, 8_192);
      reason = checkCacheFile(file)?.reason;
    });
    expect(seen).toBe(8_192);
    expect(reason).toMatch(/^is truncated: 8192 bytes, its header says at least \d+ are in use$/);
    expect(outcome).toEqual({
      exit: { code: 0, signal: null },
      report: { get: null, getMany: [null, null], warnings: cutWarnings(path, reason!) },
    });
  });

  it('cut by one page at its end: the store misses rather than read a page that is gone', async () => {
    const path = directory();
    let seen = 0;
    const outcome = await cutWhileOpen(path, 2_000, (size) => {
      seen = size;
      truncateSync(join(path, DISK_CACHE_FILE), size - 4_096);
    });
    expect(outcome).toEqual({
      exit: { code: 0, signal: null },
      report: {
        get: null,
        getMany: [null, null],
        warnings: cutWarnings(
          path,
          `was cut short by another program: ${seen - 4_096} bytes, it had ${seen}`,
        ),
      },
    });
  });

  it('a file another process keeps growing is never taken for a cut one: every read is served', async () => {
    const path = directory();
    const holder = spawn(process.execPath, [join(fixtures, 'holder.mjs'), path], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await once(holder.stdout, 'data');
      const warnings: DiskCacheStoreWarning[] = [];
      const reader = store({ directory: path, onWarning: (warning) => warnings.push(warning) });
      const first = Float32Array.from({ length: 256 }, (_, at) => at);
      // Reads go on until the holder has written three more batches under them, however long that takes
      // (a count of reads in a time window would measure the machine's load, not the store).
      const batches = batchesWritten(holder);
      let reads = 0;
      while (batches() < 3 || reads < 10) {
        expect(reader.get('held-0')).toEqual(first);
        expect(await reader.getMany(['held-0'])).toEqual([first]);
        await reader.set(`reader-${reads}`, Float32Array.of(reads));
        reads++;
      }
      expect(holder.exitCode).toBeNull();
      expect(warnings).toEqual([]);
    } finally {
      holder.stdin.end();
      await once(holder, 'exit');
    }
  });
});
