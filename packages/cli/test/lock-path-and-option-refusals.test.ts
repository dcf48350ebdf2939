import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeServer,
  filesIn,
  firstValues,
  indexArgs,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

/**
 * What `index` refuses up front at its lock file's place, as `bulk` does; the exit code of a `search`
 * whose --model or --dimensions is not the index's; and `bulk --restart --overwrite`.
 */

const directory = temporaryDirectory();
const file = filesIn(directory.path);
let server: FakeServer;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(async () => {
  await server.close();
  directory.remove();
});

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
    const requests = server.requests;
    const result = await runCli(indexArgs(server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock is a directory; index keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit index --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(requests);
    expect(namesStartingWith('taken.ekx')).toStrictEqual(['taken.ekx.lock']);
  });

  it('a loop of symbolic links there is refused with exit 2 before anything is read or sent', async () => {
    const input = file('looped.txt', 'item 1\nitem 2\n');
    const out = file('looped.ekx');
    symlinkSync('looped.ekx.lock', `${out}.lock`);
    const requests = server.requests;
    const result = await runCli(indexArgs(server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock is a loop of symbolic links; index keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit index --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(requests);
    expect(namesStartingWith('looped.ekx')).toStrictEqual(['looped.ekx.lock']);
  });

  it('bulk refuses the same with the same words', async () => {
    const input = file('bulk-taken.txt', 'item 1\n');
    const out = file('bulk-taken.jsonl');
    mkdirSync(`${out}.lock`);
    const result = await runCli(bulkArgs(server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock is a directory; bulk keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit bulk --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
  });
});

describe('search with an option the index contradicts', () => {
  let index: string;
  beforeAll(async () => {
    const input = file('docs.txt', 'cats purr\ndogs bark\n');
    index = file('docs.ekx');
    const built = await runCli(indexArgs(server, input, index));
    expect(built.code).toBe(0);
  });

  it('another --model is a usage error (exit 2), before the query is sent', async () => {
    const requests = server.requests;
    const result = await runCli([
      'search',
      index,
      'cats',
      '--model',
      'openai:text-embedding-3-large',
      '--base-url',
      server.baseURL,
    ]);
    expect(result.stderr).toBe(
      `embedkit: error: ${index} was built with openai:text-embedding-3-small; refusing to search it with openai:text-embedding-3-large: vectors of different models are not comparable. Rebuild the index with that model, or drop --model.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(requests);
  });

  it('another --dimensions is a usage error (exit 2), before the query is sent', async () => {
    const requests = server.requests;
    const result = await runCli(['search', index, 'cats', '--dimensions', '8', '--base-url', server.baseURL]);
    expect(result.stderr).toBe(
      `embedkit: error: ${index} holds 4-dimension vectors; refusing to search it with --dimensions 8.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(requests);
  });
});

describe('bulk --restart --overwrite', () => {
  it('replaces a file bulk did not write, as --overwrite alone does (--overwrite includes --restart)', async () => {
    const input = file('both.txt', 'item 1\nitem 2\n');
    const out = file('both.jsonl');
    writeFileSync(out, 'not written by bulk\n');
    const result = await runCli(bulkArgs(server, input, out, ['--restart', '--overwrite']));
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
