import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeServer,
  filesIn,
  OPENAI_CASSETTES,
  readJsonLines,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
} from './helpers.js';

const MODEL = ['--model', 'openai:text-embedding-3-small', '--dimensions', '4'];

function lines(from: number, to: number): string {
  return `${Array.from({ length: to - from + 1 }, (_, index) => `item ${from + index} text`).join('\n')}\n`;
}

function embeddings(path: string): number[][] {
  return readJsonLines<{ embedding: number[] }>(path).map((record) => record.embedding);
}

describe('the disk cache', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  const path = filesIn(directory.path);

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it('bulk over overlapping inputs pays only for the new ones', async () => {
    const cache = path('bulk-cache');
    writeFileSync(path('first.txt'), lines(1, 100));
    writeFileSync(path('second.txt'), lines(51, 150));
    const bulk = (input: string, out: string) =>
      runCli([
        'bulk',
        path(input),
        '--out',
        path(out),
        ...MODEL,
        '--base-url',
        server.baseURL,
        '--batch-size',
        '10',
        '--progress',
        'none',
        '--cache',
        cache,
      ]);
    const before = server.inputsAnswered;
    expect((await bulk('first.txt', 'first.jsonl')).code).toBe(0);
    expect(server.inputsAnswered - before).toBe(100);
    const requests = server.requests;
    const second = await bulk('second.txt', 'second.jsonl');
    expect(second.code).toBe(0);
    // 51-100 come from the cache: only 101-150 are sent, in 5 calls of 10.
    expect(server.inputsAnswered - before).toBe(150);
    expect(server.requests - requests).toBe(5);
    expect(embeddings(path('second.jsonl'))).toEqual(
      Array.from({ length: 100 }, (_, index) => Array.from(vectorFor(`item ${51 + index} text`, 4))),
    );
    expect(existsSync(join(cache, 'embeddings.mdb'))).toBe(true);
  });

  it("keeps apart vectors from two servers reached through the provider's variable (OPENAI_BASE_URL)", async () => {
    const other = await startFakeOpenAI();
    try {
      const cache = path('variable-cache');
      const embed = (baseURL: string) =>
        runCli(['embed', 'one text, two servers', ...MODEL, '--cache', cache], {
          env: { OPENAI_BASE_URL: baseURL },
        });
      const before = { first: server.requests, other: other.requests };
      expect((await embed(server.baseURL)).code).toBe(0);
      // Before, this was answered from the cache with the first server's vector: the variable was not the key.
      expect((await embed(other.baseURL)).code).toBe(0);
      expect([server.requests - before.first, other.requests - before.other]).toEqual([1, 1]);
      // Each server's own entry serves it again.
      expect((await embed(server.baseURL)).code).toBe(0);
      expect((await embed(other.baseURL)).code).toBe(0);
      expect([server.requests - before.first, other.requests - before.other]).toEqual([1, 1]);
    } finally {
      await other.close();
    }
  });

  it('is on by default in $XDG_CACHE_HOME/embedkit; --no-cache and EMBEDKIT_NO_CACHE turn it off', async () => {
    const home = path('xdg');
    const env = { XDG_CACHE_HOME: home, EMBEDKIT_NO_CACHE: undefined };
    const embed = (...extra: string[]) =>
      runCli(['embed', 'item 7 default', ...MODEL, '--base-url', server.baseURL, ...extra], { env });
    const requests = server.requests;
    const first = await embed();
    expect(first.code).toBe(0);
    expect(server.requests - requests).toBe(1);
    expect(existsSync(join(home, 'embedkit', 'embeddings.mdb'))).toBe(true);
    const cached = await embed();
    expect(cached.stdout).toBe(first.stdout);
    expect(server.requests - requests).toBe(1);
    await embed('--no-cache');
    expect(server.requests - requests).toBe(2);
    await runCli(['embed', 'item 7 default', ...MODEL, '--base-url', server.baseURL], {
      env: { ...env, EMBEDKIT_NO_CACHE: '1' },
    });
    expect(server.requests - requests).toBe(3);
    // A switch written off is off: the cache answers (bug: any value, "0" included, turned the cache off).
    for (const off of ['0', 'false', ' Off ']) {
      await runCli(['embed', 'item 7 default', ...MODEL, '--base-url', server.baseURL], {
        env: { ...env, EMBEDKIT_NO_CACHE: off },
      });
    }
    expect(server.requests - requests).toBe(3);
  });

  it('keeps servers apart: the same model name behind another base URL is not served from the cache', async () => {
    const other = await startFakeOpenAI({ defaultDimensions: 4 });
    try {
      const cache = path('two-servers');
      const embed = (baseURL: string) =>
        runCli(['embed', 'item 9 apart', ...MODEL, '--base-url', baseURL, '--cache', cache]);
      await embed(server.baseURL);
      await embed(other.baseURL);
      expect(other.requests).toBe(1);
      await embed(other.baseURL);
      expect(other.requests).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('a password in --base-url is refused before anything is sent or written, and is not printed', async () => {
    const cache = path('userinfo');
    const withPassword = server.baseURL.replace('://', '://proxyuser:PwSecret9x7Q@');
    const requests = server.requests;
    const first = await runCli([
      'embed',
      'item 10 proxy',
      ...MODEL,
      '--base-url',
      withPassword,
      '--cache',
      cache,
    ]);
    // Credentials in the URL are never sent (fetch refuses such a URL, undici drops them): a usage error.
    expect(first.code).toBe(2);
    expect(first.stderr).toBe(
      `embedkit: error: --base-url holds a user name or password (user:password@), and credentials in the URL are not sent: remove them, and give the API key in the provider's key variable (or the one --api-key-env names).\nRun "embedkit embed --help" for usage.\n`,
    );
    expect(first.stdout).toBe('');
    expect(server.requests - requests).toBe(0);
    for (const file of existsSync(cache) ? readdirSync(cache) : []) {
      expect(readFileSync(join(cache, file)).includes('PwSecret9x7Q'), file).toBe(false);
    }
  });

  it('without @embedkit/cache-disk installed, the default cache is simply off and --cache names the package to install', async () => {
    const hide = `--import=${join(import.meta.dirname, 'fixtures', 'without-cache-disk.mjs')}`;
    const home = path('no-package-xdg');
    const env = { XDG_CACHE_HOME: home, EMBEDKIT_NO_CACHE: undefined, NODE_OPTIONS: hide };
    const requests = server.requests;
    const plain = await runCli(['embed', 'item 8 no package', ...MODEL, '--base-url', server.baseURL], {
      env,
    });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    expect(server.requests - requests).toBe(1);
    expect(existsSync(join(home, 'embedkit'))).toBe(false);
    const explicit = await runCli(
      ['embed', 'item 8 no package', ...MODEL, '--base-url', server.baseURL, '--cache', path('never')],
      { env },
    );
    expect(explicit.code).not.toBe(0);
    expect(explicit.stderr).toContain('--cache needs the disk cache package, which is not installed');
    expect(explicit.stderr).toContain('npm install --global @embedkit/cache-disk');
    expect(server.requests - requests).toBe(1);
  });

  it('index reads and writes it too', async () => {
    const cache = path('index-cache');
    writeFileSync(path('docs.txt'), lines(200, 229));
    const index = (out: string) =>
      runCli([
        'index',
        path('docs.txt'),
        '--out',
        path(out),
        ...MODEL,
        '--base-url',
        server.baseURL,
        '--cache',
        cache,
      ]);
    const requests = server.requests;
    expect((await index('a.ekx')).code).toBe(0);
    const sent = server.requests - requests;
    expect(sent).toBeGreaterThan(0);
    expect((await index('b.ekx')).code).toBe(0);
    expect(server.requests - requests).toBe(sent);
  });

  it('answers from cassettes (--replay) never enter the default cache', async () => {
    const home = path('replay-xdg');
    const result = await runCli(
      [
        'embed',
        'The food was delicious and the waiter was friendly.',
        '--model',
        'openai:text-embedding-3-small',
        '--replay',
        OPENAI_CASSETTES,
      ],
      { env: { XDG_CACHE_HOME: home, EMBEDKIT_NO_CACHE: undefined, OPENAI_API_KEY: undefined } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(existsSync(join(home, 'embedkit'))).toBe(false);
  });

  it('keeps replayed answers apart, one part per cassette directory: another recording of the same call is not served from the first (bug: one namespace for all)', async () => {
    const text = 'The food was delicious and the waiter was friendly.';
    // A second recording of the same call, its vector negated.
    const recorded = JSON.parse(readFileSync(join(OPENAI_CASSETTES, 'base64-single.json'), 'utf8'));
    const answer = recorded.interactions[0].response.body.data[0];
    const bytes = Buffer.from(answer.embedding, 'base64');
    const negated = Float32Array.from(
      { length: bytes.length / 4 },
      (_, index) => -bytes.readFloatLE(index * 4),
    );
    answer.embedding = Buffer.from(negated.buffer).toString('base64');
    delete recorded.expect.embeddings.prefixes;
    const other = path('other-recordings');
    mkdirSync(other);
    writeFileSync(join(other, 'base64-single.json'), JSON.stringify(recorded));
    const cache = path('replay-cache');
    const replay = (cassettes: string, ...extra: string[]) =>
      runCli(['embed', text, '--model', 'openai:text-embedding-3-small', '--replay', cassettes, ...extra], {
        env: { OPENAI_API_KEY: undefined },
      });
    const first = await replay(OPENAI_CASSETTES, '--cache', cache);
    const second = await replay(other, '--cache', cache);
    const uncached = await replay(other, '--no-cache');
    expect([first.code, second.code, uncached.code]).toEqual([0, 0, 0]);
    expect(second.stdout).toBe(uncached.stdout);
    expect(second.stdout).not.toBe(first.stdout);
    expect(existsSync(join(cache, 'embeddings.mdb'))).toBe(true);
  });

  it('refuses --cache with --no-cache, and a --cache it cannot use, naming it', async () => {
    const both = await runCli(['embed', 'x', ...MODEL, '--cache', path('c'), '--no-cache']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--cache and --no-cache cannot be combined.');
    writeFileSync(path('a-file'), '');
    const unusable = await runCli([
      'embed',
      'x',
      ...MODEL,
      '--base-url',
      server.baseURL,
      '--cache',
      join(path('a-file'), 'sub'),
    ]);
    expect(unusable.code).toBe(1);
    expect(unusable.stderr).toContain(
      `embedkit: error: --cache: cannot open the embedding cache in ${join(path('a-file'), 'sub')}: `,
    );
  });

  it('an unusable default cache is a warning, and the command still runs', async () => {
    writeFileSync(path('not-a-dir'), '');
    const requests = server.requests;
    const result = await runCli(['embed', 'item 3 warn', ...MODEL, '--base-url', server.baseURL], {
      env: { XDG_CACHE_HOME: path('not-a-dir'), EMBEDKIT_NO_CACHE: undefined },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^warning: the embedding cache is off: cannot open the embedding cache in .*not-a-dir\/embedkit: .*\(--cache <dir> picks another directory, --no-cache turns it off\)\.\n$/,
    );
    expect(server.requests - requests).toBe(1);
  });
});
