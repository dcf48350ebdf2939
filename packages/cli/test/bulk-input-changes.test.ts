import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  contextLengthError,
  type FakeServer,
  firstValues,
  range,
  readCheckpointFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
} from './helpers.js';

// A resumed run re-reads the part of the input already embedded and refuses one that changed. Every
// case starts from the same partial run: 100 lines "item n", line 37 rejected by the API, so the
// inputs of lines 1-30 are saved (batches of 10). Each case names the bug it catches.

const LINES = Array.from({ length: 100 }, (_, n) => (n === 36 ? `item ${n} TOO-LONG` : `item ${n}`));
const FIXED = LINES.map((line) => line.replace(' TOO-LONG', ''));
const text = (lines: string[]) => `${lines.join('\n')}\n`;
/** JSONL records without a final line break. */
const jsonl = (records: string[]) => records.join('\n');

describe('bulk: an input changed between runs', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  let cases = 0;

  beforeAll(async () => {
    server = await startFakeOpenAI({
      intercept: ({ inputs }) => {
        const bad = inputs.findIndex((input) => input.includes('TOO-LONG'));
        return bad === -1 ? undefined : contextLengthError(bad);
      },
    });
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  const bulk = (input: string, out: string, extra: string[] = [], stdin?: string) =>
    runCli(
      bulkArgs(server, input, out, ['--batch-size', '10', '--concurrency', '1', ...extra]),
      stdin === undefined ? {} : { stdin },
    );

  /** The partial run every case starts from: lines 1-30 saved. */
  async function partial(format: 'txt' | 'jsonl' = 'txt'): Promise<{ input: string; out: string }> {
    cases++;
    const input = join(directory.path, `in-${cases}.${format}`);
    const out = join(directory.path, `out-${cases}.jsonl`);
    writeFileSync(
      input,
      format === 'txt' ? text(LINES) : jsonl(LINES.map((line) => JSON.stringify({ text: line }))),
    );
    const first = await bulk(input, out);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`30 inputs are done and saved in ${out}`);
    return { input, out };
  }

  /** Runs the resume on a changed input and checks it refuses without touching the output. */
  async function refused(input: string, out: string): Promise<string> {
    const before = [readFileSync(out), readFileSync(`${out}.checkpoint`)];
    const requests = server.requests;
    const result = await bulk(input, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^embedkit: error: ${input} changed since the checkpoint: `));
    expect(result.stderr).toContain(
      'Resuming would mix vectors of the old text with the new. Run with --restart to embed the input again from the start, or restore the input as it was.\n',
    );
    expect(server.requests).toBe(requests);
    expect(readFileSync(out).equals(before[0]!)).toBe(true);
    expect(readFileSync(`${out}.checkpoint`).equals(before[1]!)).toBe(true);
    return result.stderr;
  }

  it('a line replaced by one of the same length (bug: resumed with exit 0, old vectors for the new text)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text(FIXED.map((line, n) => (n === 4 ? 'item 9' : line))));
    const stderr = await refused(input, out);
    expect(stderr).toContain(
      `lines 1-30 are not the ones already embedded (same length, other bytes): a line was replaced, inserted or deleted (size ${text(LINES).length} → ${text(FIXED).length} bytes, modified `,
    );
  });

  it('a line replaced by a longer one (bug: resumed with exit 0)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text(FIXED.map((line, n) => (n === 4 ? 'item 4 and more' : line))));
    const stderr = await refused(input, out);
    // Line 5 grew by 9 bytes (and line 37 lost its 9-byte mark: the file's size is the same).
    const saved = text(FIXED.slice(0, 30)).length - 1;
    expect(stderr).toContain(
      `lines 1-30 are not the ones already embedded (${saved} bytes then, ${saved + 9} now): a line was replaced, inserted or deleted (modified `,
    );
    expect(readCheckpointFile(out)!.inputsDone).toBe(30);
  });

  it('a line inserted and a line deleted before the checkpoint (bug: rows shifted by one, exit 0)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text([...FIXED.slice(0, 9), 'item 1000', ...FIXED.slice(9)]));
    await refused(input, out);
    writeFileSync(input, text([...FIXED.slice(0, 2), ...FIXED.slice(3)]));
    await refused(input, out);
  });

  it('a blank line inserted: the stored line numbers would be wrong (refused before too; now the message points to --restart)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text([...FIXED.slice(0, 9), '', ...FIXED.slice(9)]));
    const stderr = await refused(input, out);
    expect(stderr).toContain(
      'input 30, the last one embedded, was on line 30 and is now on line 31: lines were inserted or deleted before it',
    );
  });

  it('the file truncated inside the embedded part (refused before too; now the message says it was truncated)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text(FIXED.slice(0, 20)));
    const stderr = await refused(input, out);
    const saved = text(FIXED.slice(0, 30)).length - 1;
    expect(stderr).toContain(
      `it is ${text(FIXED.slice(0, 20)).length} bytes long, but its first ${saved} bytes (30 inputs, through line 30) were already embedded: it was truncated`,
    );
  });

  it('a line of the embedded part that no longer parses is a change, not a bad line to fix (bug: it was reported as a line to fix, with the output kept)', async () => {
    const { input, out } = await partial('jsonl');
    writeFileSync(
      input,
      jsonl(FIXED.map((line, n) => (n === 2 ? '{"text": broken' : JSON.stringify({ text: line })))),
    );
    const stderr = await refused(input, out);
    expect(stderr).toContain(`${input}:3: not valid JSON (`);
    expect(stderr).toContain('within the 30 inputs already embedded');
  });

  it('lines appended after the embedded part are fine: the run continues, even after a finished run, and embeds only what is new (bug: a finished job ignored lines added later)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text([...FIXED, 'item 100', 'item 101']));
    const answered = server.inputsAnswered;
    const result = await bulk(input, out);
    expect(result.code).toBe(0);
    expect(server.inputsAnswered - answered).toBe(72);
    expect(firstValues(out)).toEqual(range(102));

    // A finished job whose input grows: the new lines are embedded, the rest is kept.
    writeFileSync(input, text([...FIXED, 'item 100', 'item 101', 'item 102']));
    const more = await bulk(input, out, ['--progress', 'plain']);
    expect(more.code).toBe(0);
    expect(more.stderr).toContain(`resuming ${out}: 102 inputs already done.`);
    expect(firstValues(out)).toEqual(range(103));
    // A finished job whose input changed is refused like any other.
    writeFileSync(input, text([...FIXED.map((line, n) => (n === 0 ? 'item 7' : line)), 'item 100']));
    await refused(input, out);
  });

  it('a finished job whose input was edited in place, keeping its size and modification time, is refused (bug: "already complete; nothing to do", exit 0, stale vectors)', async () => {
    cases++;
    const input = join(directory.path, `in-${cases}.txt`);
    const out = join(directory.path, `out-${cases}.jsonl`);
    // Whole seconds, so that the time set again after the edit is exactly the same.
    const time = 1_700_000_000;
    writeFileSync(input, text(FIXED));
    utimesSync(input, time, time);
    const done = await bulk(input, out);
    expect(done.code).toBe(0);
    expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 100, complete: true });
    writeFileSync(input, text(FIXED.map((line, n) => (n === 4 ? 'item 9' : line))));
    utimesSync(input, time, time);
    expect(statSync(input)).toMatchObject({ mtimeMs: time * 1000, size: text(FIXED).length });
    const stderr = await refused(input, out);
    expect(stderr).toBe(
      `embedkit: error: ${input} changed since the checkpoint: lines 1-100 are not the ones already embedded (same length, other bytes): a line was replaced, inserted or deleted. Resuming would mix vectors of the old text with the new. Run with --restart to embed the input again from the start, or restore the input as it was.\n`,
    );
    // Restored, it is complete again, with nothing sent.
    writeFileSync(input, text(FIXED));
    utimesSync(input, time, time);
    const requests = server.requests;
    const again = await bulk(input, out, ['--progress', 'plain']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`embedkit: ${out} is already complete (100 inputs); nothing to do.\n`);
    expect(server.requests).toBe(requests);
  });

  it('--restart after a refusal embeds the changed input from the start (bug: --overwrite was the only way out)', async () => {
    const { input, out } = await partial();
    writeFileSync(input, text(FIXED.map((line, n) => (n === 4 ? 'item 9' : line))));
    await refused(input, out);
    const answered = server.inputsAnswered;
    const restarted = await bulk(input, out, ['--restart']);
    expect(restarted.code).toBe(0);
    expect(server.inputsAnswered - answered).toBe(100);
    expect(firstValues(out)).toEqual(Array.from({ length: 100 }, (_, n) => (n === 4 ? 9 : n)));
    expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 100, complete: true });
    // --restart never replaces a file bulk did not write: that takes --overwrite.
    const foreign = join(directory.path, 'foreign.jsonl');
    writeFileSync(foreign, 'mine\n');
    const refusedForeign = await bulk(input, foreign, ['--restart']);
    expect(refusedForeign.code).toBe(1);
    expect(refusedForeign.stderr).toContain(`${foreign} already exists and has no checkpoint`);
    expect(readFileSync(foreign, 'utf8')).toBe('mine\n');
  });

  it('stdin: the same input piped again resumes; a changed one is refused (bug: a changed stdin resumed with exit 0)', async () => {
    cases++;
    const out = join(directory.path, `stdin-${cases}.jsonl`);
    expect((await bulk('-', out, [], text(LINES))).code).toBe(1);
    const changed = await bulk('-', out, [], text(FIXED.map((line, n) => (n === 10 ? 'item 99' : line))));
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(
      'embedkit: error: stdin changed since the checkpoint: lines 1-30 are not the ones already embedded (same length, other bytes)',
    );
    const shorter = await bulk('-', out, [], text(FIXED.slice(0, 12)));
    expect(shorter.stderr).toContain(
      'stdin changed since the checkpoint: it now holds 12 inputs, but 30 (through line 30) were already embedded: it was truncated or lines were deleted',
    );
    const same = await bulk('-', out, [], text(FIXED));
    expect(same.code).toBe(0);
    expect(firstValues(out)).toEqual(range(100));
  });
});

describe('bulk: an input changed while the run reads it', () => {
  const directory = temporaryDirectory();
  afterAll(() => directory.remove());

  it('the earlier line of a repeated id edited before the repeat is read: a clear error, no warning at a wrong line, every input read first still written (bug: the repeat went unsaid, exit 0)', async () => {
    const input = join(directory.path, 'docs.jsonl');
    const out = join(directory.path, 'docs.out.jsonl');
    const records = (second: string) =>
      range(1500).map((n) =>
        JSON.stringify({ id: n === 1499 ? 'doc-1' : n === 1 ? second : `doc-${n}`, text: `item ${n}` }),
      );
    writeFileSync(input, jsonl(records('doc-1')));
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first call is answered, the others held until the file is edited: the whole file (90 kB) was
    // read in its first chunk, and the repeat on line 1500 is read long after.
    const server = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? undefined : released) });
    try {
      const run = runCli(bulkArgs(server, input, out, ['--batch-size', '100', '--concurrency', '1']));
      await waitFor(() => (readCheckpointFile(out)?.inputsDone ?? 0) > 0, 'the first saved batch');
      writeFileSync(input, jsonl(records('doc-1-edited')));
      release();
      const result = await run;
      expect(result.stderr).toBe(
        `embedkit: error: ${input} changed while it was read: the records before line 1500 are not the ones read first, so its ids cannot be checked for repeats.\n1499 inputs are done and saved in ${out}. Once nothing writes to ${input}, run the same command again to continue: it checks the part saved against ${input} as it is then, and if that part changed too, it refuses to resume and asks for --restart, which embeds ${input} again from the start.\n`,
      );
      expect(result.code).toBe(1);
      expect(firstValues(out)).toEqual(range(1499));
      // The part saved did change (line 2): the next run refuses to resume, as the first message said it
      // would, and --restart embeds the input again.
      const again = await runCli(bulkArgs(server, input, out, ['--batch-size', '100', '--concurrency', '1']));
      expect(again.stderr).toMatch(new RegExp(`^embedkit: error: ${input} changed since the checkpoint: `));
      expect(again.stderr).toContain('Run with --restart to embed the input again from the start');
      expect(again.code).toBe(1);
      const restarted = await runCli(
        bulkArgs(server, input, out, ['--batch-size', '100', '--concurrency', '1', '--restart']),
      );
      expect(restarted.stderr).toBe('');
      expect(restarted.code).toBe(0);
      expect(firstValues(out)).toEqual(range(1500));
    } finally {
      await server.close();
    }
  });
});
