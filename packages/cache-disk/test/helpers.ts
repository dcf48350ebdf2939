import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, vi } from 'vitest';
import { type DiskCacheStore, openDiskCacheStore } from '../src/index.js';

/**
 * Temporary directories and opened stores for the tests of one file: after each test the stores are
 * closed, the directories removed and real timers restored. Call once, at the top of the file.
 */
export function temporaryStores(prefix: string): {
  directory(): string;
  store(options: Parameters<typeof openDiskCacheStore>[0]): DiskCacheStore;
  /** Closes `opened` (a store opened another way) after the test too. */
  keep(opened: DiskCacheStore): DiskCacheStore;
} {
  const directories: string[] = [];
  const stores: DiskCacheStore[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    // A store a failed test left broken may refuse to close: its directory is removed all the same.
    try {
      for (const opened of stores.splice(0)) await opened.close();
    } finally {
      for (const path of directories.splice(0)) {
        // A test may take away its directory's write permission (a cache this user may not write): for
        // any user but root, nothing in it could be removed until it is given back.
        chmodSync(path, 0o700);
        rmSync(path, { recursive: true, force: true });
      }
    }
  });
  return {
    directory() {
      const path = mkdtempSync(join(tmpdir(), prefix));
      directories.push(path);
      return path;
    },
    store(options) {
      const opened = openDiskCacheStore(options);
      stores.push(opened);
      return opened;
    },
    keep(opened) {
      stores.push(opened);
      return opened;
    },
  };
}

/**
 * The number of batches a `holder.mjs` process has written since this was called, as it says them on its
 * standard output ("batch" lines): tests wait for its writes, not for time.
 */
export function batchesWritten(holder: { stdout: NodeJS.ReadableStream | null }): () => number {
  let batches = 0;
  holder.stdout?.on('data', (chunk: Buffer | string) => {
    batches += String(chunk)
      .split('\n')
      .filter((line) => line === 'batch').length;
  });
  return () => batches;
}
