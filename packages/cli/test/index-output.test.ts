import { chmodSync, existsSync, linkSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeServer,
  filesIn,
  indexArgs,
  readIndexFile,
  runCli,
  SHARED_FINGERPRINT,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
  waitFor,
} from './helpers.js';

// What `embedkit index` writes, and when it refuses to: its own input, an existing index, a second run
// on the same output, and ids that are not unique. Each case names the bug it catches.

const DIMENSIONS = 4;

describe('index: what it writes, and what it refuses to write', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  const file = filesIn(directory.path);
  const jsonl = (records: object[]) => `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  const index = (
    input: string,
    out: string,
    extra: string[] = [],
    options: Parameters<typeof runCli>[1] = {},
  ) => runCli(indexArgs(server, input, out, extra, DIMENSIONS), options);

  describe('an --out that is the input is refused before anything is opened, even with --overwrite (bug: index replaced its input with the index)', () => {
    it.each([
      ['the same path', 'same', (input: string) => input, ''],
      [
        'a symbolic link to the input',
        'symlink',
        (input: string) => {
          const link = file('index-link.jsonl');
          symlinkSync(input, link);
          return link;
        },
        '',
      ],
      [
        'a hard link to the input',
        'hardlink',
        (input: string) => {
          const link = file('index-hard.jsonl');
          linkSync(input, link);
          return link;
        },
        ' (hard links to one inode)',
      ],
    ])('%s', async (_name, key, outFor, how) => {
      const content = jsonl([{ text: 'item 1' }, { text: 'item 2' }]);
      const input = file(`${key}-index-input.jsonl`, content);
      const out = outFor(input);
      const requests = server.requests;
      for (const extra of [[], ['--overwrite']]) {
        const result = await index(input, out, extra);
        expect(result.stderr).toBe(
          `embedkit: error: --out ${out} would overwrite the input ${input}: they are the same file${how}. Choose another --out.\nRun "embedkit index --help" for usage.\n`,
        );
        expect(result.code).toBe(2);
        expect(readFileSync(input, 'utf8')).toBe(content);
      }
      expect(server.requests).toBe(requests);
    });

    it('stdin read from the output file', async () => {
      const content = jsonl([{ text: 'item 1' }]);
      const out = file('piped.ekx', content);
      const result = await index('-', out, ['--format', 'jsonl'], { stdinFile: out });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--out ${out} would overwrite the input stdin: they are the same file (stdin is read from it). Choose another --out.`,
      );
      expect(readFileSync(out, 'utf8')).toBe(content);
    });
  });

  it('an existing --out is replaced only with --overwrite, as bulk does (bug: any file at --out was replaced without a word)', async () => {
    const input = file('keep.jsonl', jsonl([{ text: 'item 1' }, { text: 'item 2' }]));
    const out = file('notes.ekx', 'my notes\n');
    const requests = server.requests;
    const refused = await index(input, out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `embedkit: error: ${out} already exists; pass --overwrite to replace it, or choose another --out.\n`,
    );
    expect(readFileSync(out, 'utf8')).toBe('my notes\n');
    expect(server.requests).toBe(requests);
    expect(existsSync(`${out}.lock`)).toBe(false);
    const replaced = await index(input, out, ['--overwrite', '--quiet']);
    expect(replaced.stderr).toBe('');
    expect(replaced.code).toBe(0);
    expect(readIndexFile(out).docs.map((doc) => doc.text)).toEqual(['item 1', 'item 2']);
    // An index is no exception: building it again takes --overwrite too.
    expect((await index(input, out)).code).toBe(1);
  });

  it('an index replaced with --overwrite keeps the permissions of the file it replaces (bug: a private index became readable by others)', async () => {
    const input = file('private.jsonl', jsonl([{ text: 'salary 1' }, { text: 'salary 2' }]));
    const out = join(directory.path, 'private.ekx');
    expect((await index(input, out, ['--quiet'])).code).toBe(0);
    for (const mode of [0o600, 0o640]) {
      chmodSync(out, mode);
      const replaced = await index(input, out, ['--overwrite', '--quiet']);
      expect(replaced.stderr).toBe('');
      expect(replaced.code).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(mode);
      expect(readIndexFile(out).docs.map((doc) => doc.text)).toEqual(['salary 1', 'salary 2']);
    }
  });

  it('a second run on the same --out is refused with exit 75 while the first runs; the first writes a whole index (bug: shared temp names, a corrupt index and an unhandled ERR_STREAM_DESTROYED)', async () => {
    const first = file('first.jsonl', jsonl(Array.from({ length: 300 }, (_, n) => ({ text: `item ${n}` }))));
    const second = file(
      'second.jsonl',
      jsonl(Array.from({ length: 300 }, (_, n) => ({ text: `item ${n + 1000}` }))),
    );
    const out = join(directory.path, 'shared.ekx');
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? undefined : released) });
    try {
      let pid = 0;
      const run = runCli(indexArgs(held, first, out, ['--batch-size', '100', '--concurrency', '1']), {
        onSpawn: (child) => {
          pid = child.pid!;
        },
      });
      await waitFor(() => held.requests >= 2, 'the first run to be between two calls');
      const refused = await runCli(indexArgs(server, second, out, ['--batch-size', '100']));
      expect(refused.code).toBe(75);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^embedkit: error: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is being written by another embedkit run: process ${pid} on ${hostname()}, started \\S+ \\(lock file ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.lock\\)\\. Two runs on one output would corrupt it: wait for that run to finish, or stop it, then run again\\.\\n$`,
        ),
      );
      release();
      const done = await run;
      expect(done.stderr).toBe(
        `embedkit: indexed 300 inputs (${DIMENSIONS} dimensions, openai:text-embedding-3-small) into ${out}\n`,
      );
      expect(done.code).toBe(0);
    } finally {
      release();
      await held.close();
    }
    const { header, vectors, docs } = readIndexFile(out);
    expect(header.count).toBe(300);
    expect(header.source).toBe(first);
    expect(docs.map((doc) => doc.text)).toEqual(Array.from({ length: 300 }, (_, n) => `item ${n}`));
    expect(vectors).toEqual(docs.map((doc) => Array.from(vectorFor(doc.text, DIMENSIONS))));
    // Nothing is left beside it: no lock, no temporary file.
    expect(readdirSync(directory.path).filter((name) => name.startsWith('shared.ekx'))).toEqual([
      'shared.ekx',
    ]);
  });

  it('temporary files have names of their own: files planted at the old fixed names are never written through, and a killed run’s leftovers are cleared', async () => {
    const input = file('planted.jsonl', jsonl([{ text: 'item 1' }]));
    const out = join(directory.path, 'planted.ekx');
    const victim = file('victim.txt', 'precious\n');
    for (const suffix of ['.vectors.tmp', '.docs.tmp', '.tmp']) symlinkSync(victim, `${out}${suffix}`);
    const leftover = file('planted.ekx.999999-0123456789ab.vectors.tmp', 'left by a killed run');
    const result = await index(input, out, ['--quiet']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(leftover)).toBe(false);
    expect(readIndexFile(out).docs.map((doc) => doc.text)).toEqual(['item 1']);
  });

  describe('ids must be unique in an index (bug: two records with one id, and search answered with both)', () => {
    it('a file: refused with exit 2, naming both lines, before anything is sent', async () => {
      const input = file(
        'repeated.jsonl',
        jsonl([
          { id: 'a', text: 'item 1' },
          { id: 'b', text: 'item 2' },
          { id: 7, text: 'item 3' },
          { id: 'b', text: 'item 4' },
          { id: 'c', text: 'item 5' },
        ]),
      );
      const out = join(directory.path, 'repeated.ekx');
      const requests = server.requests;
      const result = await index(input, out);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:4: the id "b" is already the id of line 2; ids in an index must be unique, or search answers with two documents under one id. Give each record its own id, or choose another field with --id-field.\nNo index was written.\n`,
      );
      expect(server.requests).toBe(requests);
      expect(readdirSync(directory.path).filter((name) => name.startsWith('repeated.ekx'))).toEqual([]);
    });

    it('two ids with one 64-bit fingerprint are not a repeat (bug: refused, naming the line of the other id); a repeat of either names its own first line', async () => {
      const [first, second] = SHARED_FINGERPRINT;
      const records = [
        { id: first, text: 'item 1' },
        { id: second, text: 'item 2' },
      ];
      const input = file('fingerprint.jsonl', jsonl(records));
      const out = join(directory.path, 'fingerprint.ekx');
      const result = await index(input, out, ['--quiet']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(readIndexFile(out).docs.map((doc) => doc.id)).toEqual([first, second]);
      const repeated = file(
        'fingerprint-repeated.jsonl',
        jsonl([...records, { id: second, text: 'item 3' }]),
      );
      const requests = server.requests;
      const refused = await index(repeated, join(directory.path, 'fingerprint-repeated.ekx'));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${repeated}:3: the id "${second}" is already the id of line 2;`);
      expect(server.requests).toBe(requests);
    });

    it('a bad line of a file is found before anything is sent too', async () => {
      const input = file('late-bad.jsonl', `${jsonl([{ text: 'item 1' }, { text: 'item 2' }])}{"text":\n`);
      const requests = server.requests;
      const result = await index(input, join(directory.path, 'late-bad.ekx'));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`embedkit: error: ${input}:3: not valid JSON (`);
      expect(server.requests).toBe(requests);
    });

    it('stdin: refused with exit 2 as soon as the id repeats', async () => {
      const out = join(directory.path, 'stdin.ekx');
      const result = await index('-', out, ['--format', 'jsonl'], {
        stdin: jsonl([
          { id: 1, text: 'item 1' },
          { id: '1', text: 'item 2' },
          { id: 1, text: 'item 3' },
        ]),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'embedkit: error: stdin:3: the id 1 is already the id of line 1; ids in an index must be unique, or search answers with two documents under one id. Give each record its own id, or choose another field with --id-field.\nNo index was written.\n',
      );
      expect(existsSync(out)).toBe(false);
    });

    it('a record without an id has its line number as id: another record may not take it; distinct ids of other types are fine', async () => {
      const input = file(
        'distinct.jsonl',
        jsonl([
          { text: 'item 1' },
          { id: '1', text: 'item 2' },
          { id: 'x', text: 'item 3' },
          { text: 'item 4' },
        ]),
      );
      const out = join(directory.path, 'distinct.ekx');
      const result = await index(input, out, ['--quiet']);
      expect(result.stderr).toBe('');
      expect(readIndexFile(out).docs.map((doc) => doc.id)).toEqual([1, '1', 'x', 4]);
      const taken = file('taken.jsonl', jsonl([{ text: 'item 1' }, { id: 1, text: 'item 2' }]));
      const refused = await index(taken, join(directory.path, 'taken.ekx'));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${taken}:2: the id 1 is already the id of line 1;`);
    });
  });

  it('an option the model cannot honour is a usage error before anything is read, written or sent (bug: found at the first call)', async () => {
    const input = file('capable.jsonl', jsonl([{ text: 'item 1' }]));
    const out = join(directory.path, 'capable.ekx');
    const requests = server.requests;
    const result = await runCli(indexArgs(server, input, out, [], 4096));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'embedkit: error: --dimensions 4096 is not allowed for openai model text-embedding-3-small; use 1 to 1536.\nRun "embedkit models --provider openai" for what each model supports.\n',
    );
    expect(server.requests).toBe(requests);
    expect(readdirSync(directory.path).filter((name) => name.startsWith('capable.ekx'))).toEqual([]);
  });
});
