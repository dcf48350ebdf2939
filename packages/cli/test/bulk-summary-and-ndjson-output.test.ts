import { describe, expect, it } from 'vitest';
import { bulkArgs, readJsonLines, runCli, serverAndFiles } from './helpers.js';

/**
 * What bulk says on stderr besides its progress: `--progress none` drops the progress lines only, so the
 * summary (`done:`, `resuming`, `already complete`) is still printed; `-q` drops it too. And an --out
 * ending in `.ndjson` is a `.jsonl` output, as the help says.
 */

const suite = serverAndFiles();
const { file } = suite;

/** The summary line of a run that wrote `written` inputs of `total` to `out` with no retry or wait. */
function doneLine(out: string, total: number, written: number): RegExp {
  const path = out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^embedkit: done: ${total} inputs in ${path} \\(${written} this run\\) in \\d+\\.\\ds, 0 retries, 0 rate-limit waits\\.\\n$`,
  );
}

describe('bulk --progress none', () => {
  it('still prints the summary of a finished run, and says a finished job is already complete', async () => {
    const input = file('none.txt', 'item 1\nitem 2\nitem 3\n');
    const out = file('none.jsonl');
    const first = await runCli(bulkArgs(suite.server, input, out, ['--progress', 'none']));
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(doneLine(out, 3, 3));
    const again = await runCli(bulkArgs(suite.server, input, out, ['--progress', 'none']));
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`embedkit: ${out} is already complete (3 inputs); nothing to do.\n`);
  });

  it('says what it resumes from when the input grew', async () => {
    const input = file('grown.txt', 'item 1\nitem 2\n');
    const out = file('grown.jsonl');
    expect((await runCli(bulkArgs(suite.server, input, out, ['-q']))).code).toBe(0);
    file('grown.txt', 'item 1\nitem 2\nitem 3\n');
    const resumed = await runCli(bulkArgs(suite.server, input, out, ['--progress', 'none']));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr.split('\n')[0]).toBe(`embedkit: resuming ${out}: 2 inputs already done.`);
    expect(resumed.stderr.slice(resumed.stderr.indexOf('\n') + 1)).toMatch(doneLine(out, 3, 1));
  });
});

describe('bulk -q', () => {
  it('prints neither progress nor summary, for a run, a resume or a finished job', async () => {
    const input = file('quiet.txt', 'item 1\n');
    const out = file('quiet.jsonl');
    for (const content of ['item 1\n', 'item 1\nitem 2\n', 'item 1\nitem 2\n']) {
      file('quiet.txt', content);
      // Not a terminal: without -q, progress would be plain lines.
      const result = await runCli(bulkArgs(suite.server, input, out, ['-q']));
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
    }
    expect(readJsonLines<{ id: number }>(out).map((record) => record.id)).toEqual([1, 2]);
  });
});

describe('bulk --out <file>.ndjson', () => {
  it('is a .jsonl output, resumed as one, and the help names it', async () => {
    const input = file('records.txt', 'item 1\nitem 2\n');
    const out = file('records.ndjson');
    expect((await runCli(bulkArgs(suite.server, input, out, ['-q']))).code).toBe(0);
    expect(readJsonLines<{ id: number; line: number }>(out).map(({ id, line }) => [id, line])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const again = await runCli(bulkArgs(suite.server, input, out, ['--progress', 'none']));
    expect(again.stderr).toBe(`embedkit: ${out} is already complete (2 inputs); nothing to do.\n`);
    const help = await runCli(['bulk', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      '  <file>.jsonl         one record a line: {"id", "line", "metadata", "embedding"} (.ndjson: the same)\n',
    );
    expect(help.stdout).toContain(
      '  -q, --quiet          no progress and no summary (--progress none keeps the summary: "done:",\n',
    );
  });
});
