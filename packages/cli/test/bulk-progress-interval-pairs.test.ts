import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bulkArgs, readJsonLines, runCli, serverAndFiles } from './helpers.js';

/** --progress-interval paces progress lines: beside a flag that shows none, it is refused, not dropped. */

const suite = serverAndFiles();
const { file } = suite;

const usage = (message: string) => `embedkit: error: ${message}\nRun "embedkit bulk --help" for usage.\n`;

describe('bulk: --progress-interval beside a flag that shows no progress', () => {
  it.each([
    [
      '-q',
      [
        ['-q', '--progress-interval', '5'],
        ['--progress-interval', '5', '--quiet'],
      ],
      '-q (--quiet) and --progress-interval cannot be combined: -q shows no progress; give one of them.',
    ],
    [
      '--progress none',
      [
        ['--progress', 'none', '--progress-interval', '5'],
        ['--progress-interval', '5', '--progress', 'none'],
      ],
      '--progress none and --progress-interval cannot be combined: --progress none shows no progress; give one of them.',
    ],
    [
      '-q with --progress none',
      [['-q', '--progress', 'none', '--progress-interval', '5']],
      '-q (--quiet) and --progress-interval cannot be combined: -q shows no progress; give one of them.',
    ],
  ])(
    '%s: refused (exit 2) naming both, in either order, before any request',
    async (name, orders, message) => {
      const slug = name.replaceAll(/[^a-z]+/g, '-');
      const input = file(`interval-${slug}.txt`, 'item 1\nitem 2\n');
      const out = file(`interval-${slug}.jsonl`);
      const requests = suite.server.requests;
      for (const order of orders) {
        const result = await runCli(bulkArgs(suite.server, input, out, order));
        expect(result.stderr).toBe(usage(message));
        expect(result.code).toBe(2);
      }
      expect(suite.server.requests).toBe(requests);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('--progress bar: refused (exit 2) in either order, before any request (bug: accepted, and the interval dropped without a word: a bar is redrawn as inputs finish)', async () => {
    const input = file('interval-bar.txt', 'item 1\nitem 2\n');
    const out = file('interval-bar.jsonl');
    const requests = suite.server.requests;
    for (const order of [
      ['--progress', 'bar', '--progress-interval', '500'],
      ['--progress-interval', '500', '--progress', 'bar'],
    ]) {
      const result = await runCli(bulkArgs(suite.server, input, out, order));
      expect(result.stderr).toBe(
        usage(
          '--progress bar and --progress-interval cannot be combined: the interval paces plain progress lines, and a bar is redrawn as inputs finish; give one of them.',
        ),
      );
      expect(result.code).toBe(2);
    }
    expect(suite.server.requests).toBe(requests);
    expect(existsSync(out)).toBe(false);
  });

  it('--progress plain with --progress-interval runs: the interval paces its lines', async () => {
    const input = file('interval-plain.txt', 'item 1\nitem 2\n');
    const out = file('interval-plain.jsonl');
    const result = await runCli(
      bulkArgs(suite.server, input, out, ['--progress', 'plain', '--progress-interval', '600']),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('done: 2 inputs');
    expect(readJsonLines<{ id: number }>(out).map((record) => record.id)).toStrictEqual([1, 2]);
  });
});
