import { afterAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  bulkStoppedAfterFirstBatch,
  filesIn,
  readJsonLines,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

// bulk warns of an id given to two records. A run stopped midway (Ctrl-C, or a call that failed) and
// continued from its checkpoint must warn as one run over the whole input would: the continued run reads
// the part already saved through the same check, so a repeat whose first record was saved before the
// stop, and whose second comes after it, is still named. Each case names the bug it catches.

/** 1,500 records, doc-1 to doc-1500, except that line 1,400 has the id of line 50 (saved before any stop). */
function records(): string {
  const lines = Array.from({ length: 1500 }, (_, n) =>
    JSON.stringify({ id: `doc-${n + 1 === 1400 ? 50 : n + 1}`, text: `item ${n + 1}` }),
  );
  return `${lines.join('\n')}\n`;
}

describe('bulk: a repeated id across a stop and the run that continues it', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  afterAll(() => directory.remove());

  const warning = (input: string, out: string) =>
    `warning: ${input}:1400: the id "doc-50" is already the id of line 50; ${out} holds records that share an id (only the first repeated id is named).\n`;

  it('stopped by Ctrl-C after the first 100 records were saved: the continued run names line 1,400 as a repeat of line 50 (bug: no warning, as the ids saved before the stop were not checked again)', async () => {
    const input = file('stopped.jsonl', records());
    const out = file('stopped.out.jsonl');
    const { server, args } = await bulkStoppedAfterFirstBatch(input, out);
    try {
      const resumed = await runCli(args);
      expect(resumed.stderr).toBe(warning(input, out));
      expect(resumed.code).toBe(0);
    } finally {
      await server.close();
    }
    const ids = readJsonLines<{ id: string }>(out).map((record) => record.id);
    expect(ids.length).toBe(1500);
    expect(ids.filter((id) => id === 'doc-50').length).toBe(2);
  });

  it('stopped by a call the API refused after the first 100 records were saved: the continued run names the repeat (bug: no warning)', async () => {
    const input = file('failed.jsonl', records());
    const out = file('failed.out.jsonl');
    let failing = true;
    const server = await startFakeOpenAI({
      intercept: ({ number }) =>
        failing && number === 2
          ? {
              status: 401,
              body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error' } },
            }
          : undefined,
    });
    const args = bulkArgs(server, input, out, ['--batch-size', '100', '--concurrency', '1']);
    try {
      const failed = await runCli(args);
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain(
        `100 inputs are done and saved in ${out}; run the same command again to continue.\n`,
      );
      expect(failed.stderr).not.toContain('warning:');
      failing = false;
      const resumed = await runCli(args);
      expect(resumed.stderr).toBe(warning(input, out));
      expect(resumed.code).toBe(0);
    } finally {
      await server.close();
    }
    expect(readJsonLines(out).length).toBe(1500);
  });
});
