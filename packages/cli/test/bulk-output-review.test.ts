import { mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeAnswer,
  type FakeServer,
  filesIn,
  firstValues,
  itemLines,
  range,
  readCheckpointFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
} from './helpers.js';

/**
 * What bulk's output keeps and refuses at its edges: a resume of an output renamed with its checkpoint
 * (refused, the records kept), a negative zero written to .jsonl (read back bit for bit), an --out whose
 * directory is missing or that is a directory, the lock of an output reached through a symbolic link,
 * and the refusal of a .npy pair embedkit did not write. Each case names the bug it catches.
 */

describe('bulk: the output at its edges', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  /** Answers requests instead of the server while set. */
  let override: ((inputs: string[]) => FakeAnswer | undefined) | undefined;
  const file = filesIn(directory.path);

  beforeAll(async () => {
    server = await startFakeOpenAI({ intercept: ({ inputs }) => override?.(inputs) });
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  const bulk = (input: string, out: string, extra: string[] = []) =>
    runCli(bulkArgs(server, input, out, extra));

  it('an output renamed with its checkpoint is refused, its records kept (bug: cut to nothing, then "done" with exit 0 and the first 25 records lost)', async () => {
    const lines = range(40).map((n) => JSON.stringify({ text: `item ${n}` }));
    lines[25] = '{"text": broken';
    const input = file('renamed.jsonl', `${lines.join('\n')}\n`);
    const out = file('first.jsonl');
    const extra = ['--batch-size', '5', '--concurrency', '1'];
    expect((await bulk(input, out, extra)).code).toBe(1);
    expect(readCheckpointFile(out)!.inputsDone).toBe(25);
    const renamed = file('second.jsonl');
    renameSync(out, renamed);
    renameSync(`${out}.checkpoint`, `${renamed}.checkpoint`);
    const before = readFileSync(renamed);
    lines[25] = JSON.stringify({ text: 'item 25' });
    writeFileSync(input, `${lines.join('\n')}\n`);

    const resumed = await bulk(input, renamed, extra);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toBe(
      `embedkit: error: ${renamed}.checkpoint records the length of first.jsonl, not of second.jsonl: the output was renamed since. Give its files back their names, or pass --restart to start again.\n`,
    );
    expect(readFileSync(renamed).equals(before)).toBe(true);
    expect(firstValues(renamed)).toEqual(range(25));
    // Named back, it resumes and ends with every input once.
    renameSync(renamed, out);
    renameSync(`${renamed}.checkpoint`, `${out}.checkpoint`);
    expect((await bulk(input, out, extra)).code).toBe(0);
    expect(firstValues(out)).toEqual(range(40));
  });

  it('a negative zero in a float vector is written as -0.0 and reads back bit for bit (bug: written as 0, the sign bit lost)', async () => {
    const input = file('zero.txt', 'item 1\n');
    const out = file('zero.jsonl');
    const vector = new Float32Array([-0, 0, 1e-45, -1.1754942e-38]);
    override = (inputs) => ({
      status: 200,
      body: {
        object: 'list',
        data: inputs.map((_, index) => ({
          object: 'embedding',
          index,
          embedding: Buffer.from(vector.buffer).toString('base64'),
        })),
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 1, total_tokens: 1 },
      },
    });
    const result = await bulk(input, out).finally(() => {
      override = undefined;
    });
    expect(result.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(
      '{"id":1,"line":1,"embedding":[-0.0,0,1.40129846e-45,-1.17549421e-38]}\n',
    );
    const [record] = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { embedding: number[] });
    expect(Buffer.from(new Float32Array(record!.embedding).buffer)).toEqual(Buffer.from(vector.buffer));
  });

  it('an --out in a directory that does not exist is refused naming the directory, and nothing is sent (bug: "cannot create the lock file …: no such file")', async () => {
    const input = file('nowhere.txt', 'item 1\n');
    const missing = join(directory.path, 'missing');
    const requests = server.requests;
    const result = await bulk(input, join(missing, 'out.jsonl'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `embedkit: error: cannot create the lock file ${missing}/out.jsonl.lock: the directory ${missing} does not exist.\n`,
    );
    expect(server.requests).toBe(requests);
  });

  it('a second run on a busy output reached through a symbolic link is refused with exit 75; the first finishes intact (bug: each name had its own lock, and --overwrite truncated the output under the first run)', async () => {
    const input = file('linked.txt', itemLines(1500));
    const out = file('linked.jsonl');
    const link = join(directory.path, 'latest.jsonl');
    symlinkSync(out, link);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Answers the first call, holds the others: the first run is caught between two saved batches.
    const held = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? undefined : released) });
    const extra = ['--batch-size', '100', '--concurrency', '1'];
    const first = runCli(bulkArgs(held, input, out, extra)).finally(() => held.close());
    try {
      await waitFor(() => (readCheckpointFile(out)?.inputsDone ?? 0) > 0, 'the first saved batch');
      const second = await bulk(input, link, [...extra, '--overwrite']);
      expect(second.code).toBe(75);
      expect(second.stderr).toContain(
        `embedkit: error: ${link} is being written by another embedkit run: process `,
      );
      expect(second.stderr).toContain(`(lock file ${out}.lock).`);
    } finally {
      release();
    }
    const done = await first;
    expect(done.code).toBe(0);
    expect(firstValues(out)).toEqual(range(1500));
    expect(readdirSync(directory.path).filter((name) => name.startsWith('linked.jsonl.lock'))).toEqual([]);
  }, 60_000);

  it('a directory at --out is refused with exit 2 before anything is written (bug: a checkpoint was left beside it, and every run said "0 inputs are done and saved …; run the same command again")', async () => {
    const input = file('folder.txt', 'item 1\n');
    const out = file('folder.jsonl');
    mkdirSync(out);
    const requests = server.requests;
    const result = await bulk(input, out, ['--overwrite']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `embedkit: error: ${out} is a directory; bulk writes a file it can resume, so --out must name a regular file or a path that does not exist yet.\nRun "embedkit bulk --help" for usage.\n`,
    );
    expect(readdirSync(directory.path).filter((name) => name.startsWith('folder.jsonl'))).toEqual([
      'folder.jsonl',
    ]);
    expect(server.requests).toBe(requests);
  });

  it('a .npy and its .meta.jsonl that embedkit did not write are refused in the plural (bug: "… and … already exists and has no checkpoint, so embedkit bulk did not write it")', async () => {
    const input = file('strays.txt', 'item 1\n');
    const out = file('strays.npy', 'not ours');
    const meta = file('strays.meta.jsonl', 'not ours either');
    const result = await bulk(input, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `embedkit: error: ${out} and ${meta} already exist and have no checkpoint, so embedkit bulk did not write them; pass --overwrite to replace them.\n`,
    );
    expect(readFileSync(out, 'utf8')).toBe('not ours');
  });
});
