import { spawnSync } from 'node:child_process';
import { linkSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeAnswer,
  type FakeServer,
  filesIn,
  firstValues,
  itemLines,
  parseNpy,
  range,
  readCheckpointFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
} from './helpers.js';

// What bulk writes, and when it refuses to: an output that is its own input, the .npy header after a
// crash, a failing disk, lines too long to hold, and progress. Each case names the bug it catches.

const DIMENSIONS = 4;

/** `prlimit` sets RLIMIT_FSIZE for the child: a write past it fails with EFBIG from the kernel. */
const HAS_PRLIMIT = spawnSync('prlimit', ['--version']).status === 0;

describe('bulk: what it writes, and what it refuses to write', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  /** Answers requests instead of the server while set (a resume must reach the same server). */
  let override: (() => FakeAnswer | undefined) | undefined;
  const file = filesIn(directory.path);

  beforeAll(async () => {
    server = await startFakeOpenAI({ intercept: () => override?.() });
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  const bulk = (
    input: string,
    out: string,
    extra: string[] = [],
    options: Parameters<typeof runCli>[1] = {},
  ) => runCli(bulkArgs(server, input, out, extra), options);

  describe('an output that is the input is refused before anything is opened, even with --overwrite', () => {
    it.each([
      [
        'the same path (bug: --overwrite truncated the input while reading it)',
        'same',
        (input: string) => input,
      ],
      [
        'a symbolic link to the input',
        'symlink',
        (input: string) => {
          const link = file('link.jsonl');
          symlinkSync(input, link);
          return link;
        },
      ],
      [
        'a hard link to the input',
        'hardlink',
        (input: string) => {
          const link = file('hard.jsonl');
          linkSync(input, link);
          return link;
        },
      ],
    ])('%s', async (_name, key, outFor) => {
      const content = itemLines(3).replace(/item (\d+)/g, '{"text":"item $1"}');
      const input = file(`${key}-input.jsonl`, content);
      const out = outFor(input);
      const result = await bulk(input, out, ['--overwrite']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `embedkit: error: --out ${out} would overwrite the input ${input}: they are the same file${key === 'hardlink' ? ' (hard links to one inode)' : ''}. Choose another --out.`,
      );
      expect(readFileSync(input, 'utf8')).toBe(content);
      expect(server.requests).toBe(0);
    });

    it('the .meta.jsonl beside a .npy output (bug: the metadata file replaced the input)', async () => {
      const content = '{"text":"item 1"}\n';
      const input = file('vectors.meta.jsonl', content);
      const out = file('vectors.npy');
      const result = await bulk(input, out, ['--overwrite']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--out ${out} would overwrite the input ${input}: they are the same file (bulk writes ${input} beside it). Choose another --out.`,
      );
      expect(readFileSync(input, 'utf8')).toBe(content);
    });

    it('stdin read from the output file', async () => {
      const out = file('piped.jsonl', '{"text":"item 1"}\n');
      const result = await bulk('-', out, ['--format', 'jsonl', '--overwrite'], { stdinFile: out });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--out ${out} would overwrite the input stdin: they are the same file (stdin is read from it).`,
      );
      expect(readFileSync(out, 'utf8')).toBe('{"text":"item 1"}\n');
    });
  });

  it('a resumed .npy run killed before its first flush leaves a loadable .npy: the header is cut back first (bug: it kept the uncheckpointed row count)', async () => {
    const lines = Array.from({ length: 40 }, (_, n) => JSON.stringify({ text: `item ${n}` }));
    lines[25] = '{"text": broken';
    const input = file('crash.jsonl', `${lines.join('\n')}\n`);
    const out = file('crash.npy');
    const extra = ['--batch-size', '5', '--concurrency', '1'];
    const first = await bulk(input, out, extra);
    expect(first.code).toBe(1);
    const saved = readCheckpointFile(out)!;
    expect(saved.inputsDone).toBe(25);
    // What a crash between appending rows and writing their checkpoint leaves: 3 more rows, and a
    // header that counts them.
    const rowBytes = DIMENSIONS * 4;
    const crashed = Buffer.concat([readFileSync(out), Buffer.alloc(3 * rowBytes, 0x11)]);
    const header = parseNpy(crashed);
    const rewritten = crashed.toString('latin1').replace(`(25, ${DIMENSIONS})`, `(28, ${DIMENSIONS})`);
    writeFileSync(out, Buffer.from(rewritten, 'latin1'));
    expect(parseNpy(readFileSync(out)).shape).toEqual([28, DIMENSIONS]);

    // The fixed input is resumed; the run is killed when its first request arrives, before any flush.
    lines[25] = JSON.stringify({ text: 'item 25' });
    writeFileSync(input, `${lines.join('\n')}\n`);
    let child: import('node:child_process').ChildProcess | undefined;
    override = () => {
      child?.kill('SIGKILL');
      return { status: 500, body: { error: { message: 'killed' } } };
    };
    const resumed = await runCli(bulkArgs(server, input, out, extra), {
      onSpawn: (spawned) => {
        child = spawned;
      },
    });
    override = undefined;
    expect(resumed.signal).toBe('SIGKILL');
    const bytes = readFileSync(out);
    const after = parseNpy(bytes);
    expect(after.shape).toEqual([25, DIMENSIONS]);
    expect(bytes.length).toBe(header.dataOffset + 25 * rowBytes);
    for (let row = 0; row < 25; row++) {
      expect(bytes.readFloatLE(header.dataOffset + row * rowBytes)).toBe(row);
    }
    const finished = await bulk(input, out, extra);
    expect(finished.code).toBe(0);
    const final = readFileSync(out);
    expect(parseNpy(final).shape).toEqual([40, DIMENSIONS]);
    expect(final.length).toBe(header.dataOffset + 40 * rowBytes);
    const expected = Buffer.alloc(40 * rowBytes);
    for (let n = 0; n < 40; n++) {
      const vector = vectorFor(`item ${n}`, DIMENSIONS);
      for (let index = 0; index < DIMENSIONS; index++)
        expected.writeFloatLE(vector[index]!, (n * DIMENSIONS + index) * 4);
    }
    expect(final.subarray(header.dataOffset).equals(expected)).toBe(true);
  });

  it('a write error names the file and says how many inputs are saved (bug: EFBIG/ENOSPC exited with neither)', async ({
    skip,
  }) => {
    skip(!HAS_PRLIMIT, 'needs prlimit (util-linux) to limit the file size');
    const input = file('limit.txt', itemLines(3000));
    const out = file('limit.jsonl');
    const extra = ['--batch-size', '100', '--concurrency', '1'];
    // No file may grow past 64 KiB: the output's appends fail with EFBIG partway.
    const limited = await bulk(input, out, extra, { wrapper: ['prlimit', '--fsize=65536', '--'] });
    const saved = readCheckpointFile(out)!;
    expect(limited.code).toBe(1);
    expect(limited.stderr).toBe(
      `embedkit: error: cannot write ${out}: the file is larger than this system allows (EFBIG).\n${saved.inputsDone} inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(saved.inputsDone).toBeGreaterThan(0);
    expect(saved.inputsDone).toBeLessThan(3000);
    expect(saved.complete).toBe(false);
    const again = await bulk(input, out, extra);
    expect(again.code).toBe(0);
    expect(firstValues(out)).toEqual(range(3000));
  });

  describe('--max-line-bytes', () => {
    it('a longer line is a file:line error naming the cap; the inputs before it are saved (bug: no cap, a huge line held whole)', async () => {
      const input = file('long.txt', `item 0\n${'x'.repeat(2000)}\nitem 2\n`);
      const out = file('long.jsonl');
      const result = await bulk(input, out, ['--max-line-bytes', '1000']);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:2: the line is longer than --max-line-bytes (1000 bytes); pass a larger --max-line-bytes if it is meant to be one input.\n1 input is done and saved in ${out}; fix that line and run the same command again to continue.\n`,
      );
      expect(firstValues(out)).toEqual([0]);
    });

    it('the default cap is 64 MiB', async () => {
      const input = file('huge.txt', `item 0\n${'y'.repeat(64 * 1024 * 1024 + 1)}\n`);
      const result = await bulk(input, file('huge.jsonl'));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `${input}:2: the line is longer than --max-line-bytes (67108864 bytes)`,
      );
    });

    it('a CSV quoted field that never closes stops at the cap too', async () => {
      const input = file('open.csv', `id,text\n1,"item 1\n${'z'.repeat(600)}\n${'z'.repeat(600)}\n`);
      const result = await bulk(input, file('open.jsonl'), ['--max-line-bytes', '1000']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `${input}:2: the quoted CSV field is longer than --max-line-bytes (1000); is its closing quote missing?`,
      );
    });

    it('must be a whole number of bytes', async () => {
      const result = await bulk(file('x.txt', 'item 1\n'), file('x.jsonl'), ['--max-line-bytes', '1.5']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--max-line-bytes must be a whole number ≥ 1, got "1.5".');
    });
  });

  it('progress counts the inputs written, not the bytes read ahead (bug: 24.5% shown when 10.2% was done)', async () => {
    const slow = await startFakeOpenAI({ delayMs: 25 });
    // 4,000 lines of 20 bytes: the share of the file done is the share of inputs done.
    const count = 4000;
    const input = file('progress.txt', itemLines(count, 19));
    const result = await runCli(
      bulkArgs(slow, input, file('progress.jsonl'), [
        '--batch-size',
        '100',
        '--concurrency',
        '1',
        '--progress',
        'plain',
        '--progress-interval',
        '0.05',
      ]),
    );
    await slow.close();
    expect(result.code).toBe(0);
    const shown = [...result.stderr.matchAll(/embedkit: (\d+) inputs done \(([\d.]+)%\)/g)].map((match) => [
      Number(match[1]),
      Number(match[2]),
    ]);
    expect(shown.length).toBeGreaterThan(3);
    for (const [inputs, percent] of shown) {
      // Each input ends 20 bytes further (its line break excluded): percent = (20 n - 1) / 80,000.
      const expected = inputs === 0 ? 0 : ((20 * inputs! - 1) / (20 * count)) * 100;
      expect(Math.abs(percent! - expected)).toBeLessThanOrEqual(0.05);
    }
    expect(shown.some(([inputs]) => inputs! > 0 && inputs! < count)).toBe(true);
  }, 60_000);
});
