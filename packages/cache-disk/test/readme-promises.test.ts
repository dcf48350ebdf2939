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
  it('emits one EmbedkitCacheWarning process warning per kind of failure, with its code', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const path = directory();
    const target = store({ directory: path });
    await target.close();
    await target.set('k', Float32Array.of(1));
    await target.setMany([['j', Float32Array.of(2)]]);
    expect(target.get('k')).toBeUndefined();
    expect(emitted.mock.calls).toEqual([
      [
        `The embedding cache in ${path} could not be written (the store is closed); vectors are not cached until it can.`,
        { type: 'EmbedkitCacheWarning', code: 'cache-write-failed' },
      ],
      [
        `The embedding cache in ${path} could not be read (the store is closed); its entries count as misses until it can.`,
        { type: 'EmbedkitCacheWarning', code: 'cache-read-failed' },
      ],
    ]);
  });
});
