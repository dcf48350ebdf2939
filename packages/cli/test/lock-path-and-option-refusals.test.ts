import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bulkArgs, firstValues, indexArgs, runCli, serverAndFiles } from './helpers.js';

/**
 * What `index` refuses up front at its lock file's place, as `bulk` does (the exit code of a `search`
 * whose --model or --dimensions is not the index's is pinned in search.test.ts); and `bulk --restart
 * --overwrite`.
 */

const suite = serverAndFiles();
const { directory, file } = suite;

/** The names in the test directory that start with `prefix`, sorted. */
function namesStartingWith(prefix: string): string[] {
  return readdirSync(directory.path)
    .filter((name) => name.startsWith(prefix))
    .sort();
}

describe('index: what is at <out>.lock', () => {
  it('a directory there is refused with exit 2 before anything is read or sent', async () => {
    const input = file('taken.txt', 'item 1\nitem 2\n');
    const out = file('taken.ekx');
    mkdirSync(`${out}.lock`);
    const requests = suite.server.requests;
    const result = await runCli(indexArgs(suite.server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock is a directory; index keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit index --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(suite.server.requests).toBe(requests);
    expect(namesStartingWith('taken.ekx')).toStrictEqual(['taken.ekx.lock']);
  });

  it('a loop of symbolic links there is refused with exit 2 before anything is read or sent', async () => {
    const input = file('looped.txt', 'item 1\nitem 2\n');
    const out = file('looped.ekx');
    symlinkSync('looped.ekx.lock', `${out}.lock`);
    const requests = suite.server.requests;
    const result = await runCli(indexArgs(suite.server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock is a loop of symbolic links; index keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit index --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(suite.server.requests).toBe(requests);
    expect(namesStartingWith('looped.ekx')).toStrictEqual(['looped.ekx.lock']);
  });

  it('bulk refuses the same with the same words', async () => {
    const input = file('bulk-taken.txt', 'item 1\n');
    const out = file('bulk-taken.jsonl');
    mkdirSync(`${out}.lock`);
    const result = await runCli(bulkArgs(suite.server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock is a directory; bulk keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit bulk --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
  });
});

describe('bulk --restart --overwrite', () => {
  it('replaces a file bulk did not write, as --overwrite alone does (--overwrite includes --restart)', async () => {
    const input = file('both.txt', 'item 1\nitem 2\n');
    const out = file('both.jsonl');
    writeFileSync(out, 'not written by bulk\n');
    const result = await runCli(bulkArgs(suite.server, input, out, ['--restart', '--overwrite']));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(firstValues(out)).toStrictEqual([1, 2]);
    expect(existsSync(`${out}.checkpoint`)).toBe(true);
  });

  it('says so in bulk --help', async () => {
    const result = await runCli(['bulk', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '  --overwrite          replace whatever is at --out, even files embedkit did not write (this\n                       includes what --restart does: given with it, --overwrite applies)\n',
    );
  });
});
