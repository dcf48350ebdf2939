/**
 * Who else on the machine may read the cache. Its vectors stand for the texts embedded (a vector can be
 * turned back into much of its text), so a cache the store creates is this user's alone: its directories
 * 0700, as the XDG Base Directory specification asks of a directory made under `~/.cache`, and its files
 * 0600. A directory that already exists keeps the permissions its owner gave it.
 */

import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISK_CACHE_FILE } from '../src/index.js';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-permissions-');

/** The permission bits of `path`, in octal as `ls -l` and `chmod` write them. */
const permissions = (path: string) => (statSync(path).mode & 0o7777).toString(8);

describe('the permissions of a cache the store creates', () => {
  // Catches: the directory made with mkdir's default mode (0777 less the umask: 0755 under the usual
  // umask 022), and LMDB's files with its default 0664 less the umask (0644), which every user may read.
  it('are 0700 for each directory it makes and 0600 for the cache file and its lock file', async () => {
    const root = directory();
    const path = join(root, 'home', 'embedkit');
    const target = store({ directory: path });
    await target.set('k', Float32Array.of(1, 2));
    expect(target.get('k')).toEqual(Float32Array.of(1, 2));
    expect({
      home: permissions(join(root, 'home')),
      cache: permissions(path),
      file: permissions(join(path, DISK_CACHE_FILE)),
      lock: permissions(join(path, `${DISK_CACHE_FILE}-lock`)),
    }).toEqual({ home: '700', cache: '700', file: '600', lock: '600' });
  });

  // Catches: a chmod of the directory given, which would take away what its owner granted (a cache
  // shared by a group) or open up one they had closed.
  it('leave a directory that exists as its owner made it', async () => {
    const shared = join(directory(), 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o2770);
    await store({ directory: shared }).set('k', Float32Array.of(1));
    expect(permissions(shared)).toBe('2770');
  });
});
