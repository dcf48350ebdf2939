/**
 * Where the disk cache's warnings go when no `onWarning` is given, as the README says: to
 * `process.emitWarning`, of type `EmbedkitCacheWarning` with the warning's code, once per failure.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-readme-');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the disk cache store without onWarning', () => {
  it('emits one EmbedkitCacheWarning process warning, with the code of the call that found the store closed', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const path = directory();
    const target = store({ directory: path });
    await target.close();
    await target.set('k', Float32Array.of(1));
    await target.setMany([['j', Float32Array.of(2)]]);
    expect(target.get('k')).toBeUndefined();
    expect(emitted.mock.calls).toEqual([
      [
        `The embedding cache in ${path} is closed; reads are misses and writes are skipped.`,
        { type: 'EmbedkitCacheWarning', code: 'cache-write-failed' },
      ],
    ]);
  });
});
