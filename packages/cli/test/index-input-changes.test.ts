import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeServer,
  filesIn,
  indexArgs,
  readIndexFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
} from './helpers.js';

// `embedkit index` reads a file once to check it (bad lines, repeated ids) before anything is sent, then
// again to embed it. A file changed between the two readings, or during the second, must stop the run:
// the index would hold records no check has seen. The fixture loaded with `node --import` changes the
// file between two readings. Each case names the bug it catches.

const EDIT = join(import.meta.dirname, 'fixtures', 'edit-input-between-reads.mjs');
const DIMENSIONS = 4;
/** Ids doc-10 to doc-29 (all of one length, so an id can be edited without changing the file's size). */
const RECORDS = Array.from({ length: 20 }, (_, n) => ({ id: `doc-${n + 10}`, text: `item ${n}` }));
const jsonl = (records: object[]) => `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;
/** The same-length edit that gives line 15 the id of line 3. */
const REPEATED = RECORDS.map((record, n) => (n === 14 ? { ...record, id: 'doc-12' } : record));

describe('index: an input changed after it was checked', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  let server: FakeServer;
  let cases = 0;

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  /**
   * Indexes a fresh copy of `initial` (RECORDS) whose file becomes `changed` `at` a moment (by default
   * once its check read it to its end), `how` (rewritten in place, or another file renamed over it),
   * with its former modification time when `keepTime`, embedded in calls of `batchSize`. With `linkTo`,
   * the file put in its place is a symbolic link to that path. Returns the run, the input, the --out and the requests sent.
   */
  async function indexChanged(
    changed: string,
    {
      how = 'write',
      keepTime = false,
      extra = [] as string[],
      out = '',
      initial = jsonl(RECORDS),
      at = 'after reading 1',
      linkTo = '',
      batchSize = 5,
    } = {},
  ) {
    cases++;
    const input = file(`docs-${cases}.jsonl`, initial);
    // Whole seconds in the past: the time set back after the edit is then exactly the same.
    utimesSync(input, 1_700_000_000, 1_700_000_000);
    const replacement = join(directory.path, `replacement-${cases}.jsonl`);
    if (linkTo === '') writeFileSync(replacement, changed);
    else symlinkSync(linkTo, replacement);
    const target = out === '' ? join(directory.path, `docs-${cases}.ekx`) : out;
    const requests = server.requests;
    const result = await runCli(
      indexArgs(server, input, target, ['--batch-size', String(batchSize), ...extra], DIMENSIONS),
      {
        env: {
          NODE_OPTIONS: `--import=${EDIT}`,
          EDIT_INPUT: input,
          EDIT_INPUT_AT: at,
          EDIT_INPUT_FROM: replacement,
          EDIT_INPUT_HOW: how,
          ...(keepTime ? { EDIT_INPUT_KEEP_TIME: '1' } : {}),
        },
      },
    );
    // The fixture did change the file, as asked.
    expect(readFileSync(input, 'utf8')).toBe(changed);
    if (keepTime) expect(statSync(input).mtimeMs).toBe(1_700_000_000_000);
    return { result, input, out: target, sent: server.requests - requests };
  }

  /** The run stopped with exit 1 and `what`, and left no index and no temporary file. */
  function expectRefused(
    result: Awaited<ReturnType<typeof runCli>>,
    input: string,
    out: string,
    what: string,
  ) {
    expect(result.stderr).toBe(
      `embedkit: error: ${input} changed after it was checked: ${what}; the index would hold records no check has seen.\nNo index was written; run again once nothing writes to ${input}.\n`,
    );
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(directory.path).filter((name) => name.startsWith(`${out.split('/').pop()}.`))).toEqual(
      [],
    );
  }

  it('an id edited in place to repeat another, keeping the size: refused before anything is sent (bug: indexed with exit 0, two documents with the id "doc-12")', async () => {
    const { result, input, out, sent } = await indexChanged(jsonl(REPEATED));
    const modified = new Date(statSync(input).mtimeMs).toISOString();
    expectRefused(result, input, out, `it was modified at ${modified}, after its records were checked`);
    expect(sent).toBe(0);
  });

  // Lines appended after the check are refused too: they were never checked, and a file still growing
  // is not finished.
  it.each([
    [
      'a line inserted, with a repeated id (bug: indexed with exit 0, 21 documents, 20 of them checked)',
      jsonl([...RECORDS.slice(0, 5), { id: 'doc-11', text: 'item 99' }, ...RECORDS.slice(5)]),
    ],
    [
      'a line removed (bug: an index of 19 documents, exit 0)',
      jsonl([...RECORDS.slice(0, 3), ...RECORDS.slice(4)]),
    ],
    ['the file truncated (bug: an index of 7 documents, exit 0)', jsonl(RECORDS.slice(0, 7))],
    [
      'a line appended, repeating "doc-10" (bug: indexed unchecked, exit 0)',
      jsonl([...RECORDS, { id: 'doc-10', text: 'item 20' }]),
    ],
  ])('%s: refused before anything is sent', async (_, changed) => {
    const { result, input, out, sent } = await indexChanged(changed);
    expectRefused(
      result,
      input,
      out,
      `it is ${Buffer.byteLength(changed)} bytes long now, and was ${Buffer.byteLength(jsonl(RECORDS))} when its records were checked`,
    );
    expect(sent).toBe(0);
  });

  it('replaced by another file of the same size and time, with a repeated id: refused once its bytes are read, and an index already at --out stays as it was (bug: replaced with an index holding "doc-12" twice, exit 0)', async () => {
    const out = join(directory.path, 'kept.ekx');
    writeFileSync(out, 'the earlier index\n');
    const { result, input, sent } = await indexChanged(jsonl(REPEATED), {
      how: 'rename',
      keepTime: true,
      extra: ['--overwrite'],
      out,
    });
    expect(result.stderr).toBe(
      `embedkit: error: ${input} changed after it was checked: the bytes read to embed it are not the ones checked (bytes 1-${Buffer.byteLength(jsonl(RECORDS))} differ); the index would hold records no check has seen.\nNo index was written; run again once nothing writes to ${input}.\n`,
    );
    expect(result.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('the earlier index\n');
    expect(readdirSync(directory.path).filter((name) => name.startsWith('kept.ekx.'))).toEqual([]);
    // Its one block is compared as it is read, before any record is handed on (it was: all 4 calls sent).
    expect(sent).toBe(0);
  });

  it('edited in place in its first megabyte, keeping the size and time: refused as that block is read to embed it, before any call (bug: every call of the 1.4 MB file sent, 20 of them, then refused at its end)', async () => {
    // 40,000 records over two blocks of 1 MiB; the edit gives line 15 the id of line 3, at the same length.
    const records = Array.from({ length: 40_000 }, (_, n) => ({
      id: `doc-${n + 100_000}`,
      text: `item ${n}`,
    }));
    const initial = jsonl(records);
    const changed = initial.replace('"doc-100014"', '"doc-100002"');
    expect(changed.length).toBe(initial.length);
    const { result, input, out, sent } = await indexChanged(changed, {
      initial,
      keepTime: true,
      batchSize: 2048,
      extra: ['--concurrency', '1'],
    });
    expectRefused(
      result,
      input,
      out,
      'the bytes read to embed it are not the ones checked (bytes 1-1048576 differ)',
    );
    // The block is compared before any of its lines is handed on: no call is sent, let alone a second.
    expect(sent).toBe(0);
  });

  it('a line that no longer parses, in place, keeping the size and time: said to be a change, not a line to fix, found by its block before the line is parsed (bug: "docs:4: not valid JSON", as if the checked file held a bad line)', async () => {
    const changed = jsonl(RECORDS).replace('"doc-13",', '"doc-13";');
    let parseError = '';
    try {
      JSON.parse(changed.split('\n')[3]!);
    } catch (error) {
      parseError = (error as Error).message;
    }
    expect(parseError).not.toBe('');
    const { result, input, out } = await indexChanged(changed, { keepTime: true });
    expectRefused(
      result,
      input,
      out,
      `the bytes read to embed it are not the ones checked (bytes 1-${changed.length} differ)`,
    );
  });

  it('changed while the check read it again to name the first line of a repeat: no index, and no word of anything embedded (bug: "cannot be checked for repeats against what was embedded", when nothing was)', async () => {
    const edited = REPEATED.map((record, n) => (n === 0 ? { ...record, id: 'doc-99' } : record));
    const { result, input, out, sent } = await indexChanged(jsonl(edited), {
      initial: jsonl(REPEATED),
      at: 'before reading 2',
    });
    expect(result.stderr).toBe(
      `embedkit: error: ${input} changed while it was read: the records before line 15 are not the ones read first, so its ids cannot be checked for repeats.\nNo index was written; run again once nothing writes to ${input}.\n`,
    );
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(sent).toBe(0);
  });

  /**
   * Indexes 24,000 records (4.5 MB, read a MiB at a time: the reading that embeds it is still far from
   * its end when the first call is held), applying `change` to the file while that call is held. Returns
   * the run, the input, the --out, the checked size and the calls sent.
   */
  async function indexChangedWhileRead(name: string, change: (input: string) => void) {
    const records = Array.from({ length: 24_000 }, (_, n) => ({
      id: `doc-${n + 10}`,
      text: `item ${n} ${'text '.repeat(30)}`,
    }));
    const input = file(`${name}.jsonl`, jsonl(records));
    const checkedBytes = statSync(input).size;
    const out = join(directory.path, `${name}.ekx`);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? released : undefined) });
    try {
      const run = runCli(
        indexArgs(held, input, out, ['--batch-size', '2048', '--concurrency', '1'], DIMENSIONS),
      );
      await waitFor(() => held.requests > 0, 'the first call');
      change(input);
      release();
      return { result: await run, input, out, checkedBytes, sent: held.requests };
    } finally {
      await held.close();
    }
  }

  it('a record appended while the file is read to embed it: refused as its first byte past the checked ones is read, before the calls of the last block and before the index is written (bug: the unchecked repeat of "doc-10" was indexed, exit 0)', async () => {
    const appended = `${JSON.stringify({ id: 'doc-10', text: 'item 24000' })}\n`;
    const { result, input, out, checkedBytes, sent } = await indexChangedWhileRead('growing', (input) =>
      appendFileSync(input, appended),
    );
    expectRefused(
      result,
      input,
      out,
      `the bytes read to embed it are not the ones checked (${checkedBytes} bytes checked, ${checkedBytes + appended.length} read now)`,
    );
    // The calls of the 22,192 records wholly in the first four blocks (of 2,048 records, the last of
    // 1,712, sent as the reader waits for the next block), not the 12 of every record: nothing of the
    // last block was sent.
    expect(sent).toBe(11);
  });

  // What the blocks cannot find, the end of the reading does: a file cut short has no block that differs.
  it('cut short at the end of a line while it is read to embed it: refused at the end of the reading, before the index is written (bug: an index of the records left, exit 0)', async () => {
    const { result, input, out, checkedBytes } = await indexChangedWhileRead('shrinking', (input) =>
      truncateSync(input, readFileSync(input).lastIndexOf(0x0a, 4_500_000) + 1),
    );
    expectRefused(
      result,
      input,
      out,
      `the bytes read to embed it are not the ones checked (${checkedBytes} bytes checked, ${statSync(input).size} read now)`,
    );
  });

  it('cut short within a line while it is read to embed it: the line cut is said to be a change, not a line to fix (bug: "cut.jsonl:23801: not valid JSON", as if the checked file held a bad line)', async () => {
    const { result, input, out } = await indexChangedWhileRead('cut', (input) =>
      truncateSync(input, 4_500_000),
    );
    const lines = readFileSync(input, 'utf8').split('\n');
    let parseError = '';
    try {
      JSON.parse(lines[lines.length - 1]!);
    } catch (error) {
      parseError = (error as Error).message;
    }
    expect(parseError).not.toBe('');
    expectRefused(
      result,
      input,
      out,
      `line ${lines.length} no longer reads as it did: not valid JSON (${parseError})`,
    );
  });

  it('touched between the readings (a new modification time, the same bytes): indexed, every record once (bug: refused as "modified at …, after its records were checked", exit 1)', async () => {
    const { result, input, out, sent } = await indexChanged(jsonl(RECORDS), { how: 'touch' });
    expect(statSync(input).mtimeMs).toBe(1_700_000_060_000);
    expect(result.stderr).toBe(
      `embedkit: indexed 20 inputs (4 dimensions, openai:text-embedding-3-small) into ${out}\n`,
    );
    expect(result.code).toBe(0);
    expect(readIndexFile(out).docs.map((doc) => doc.id)).toEqual(RECORDS.map((record) => record.id));
    expect(sent).toBe(4);
  });

  it('emptied between the readings: said to be a change, with both sizes (bug: "the file is empty; there is nothing to embed", as if the checked file had been)', async () => {
    const { result, input, out, sent } = await indexChanged('');
    expectRefused(
      result,
      input,
      out,
      `it is 0 bytes long now, and was ${Buffer.byteLength(jsonl(RECORDS))} when its records were checked`,
    );
    expect(sent).toBe(0);
  });

  it('replaced by a symbolic link to a device between the readings: refused before anything is sent (bug: "it is undefined bytes long now")', async () => {
    const { result, input, out, sent } = await indexChanged('', { how: 'rename', linkTo: '/dev/null' });
    expectRefused(result, input, out, 'it is no regular file now, and was one when its records were checked');
    expect(sent).toBe(0);
  });

  it('a file left as it was is indexed, with every record once (the fixture itself changes nothing else)', async () => {
    const { result, out } = await indexChanged(jsonl(RECORDS), { keepTime: true });
    expect(result.stderr).toBe(
      `embedkit: indexed 20 inputs (4 dimensions, openai:text-embedding-3-small) into ${out}\n`,
    );
    expect(result.code).toBe(0);
    expect(readIndexFile(out).docs.map((doc) => doc.id)).toEqual(RECORDS.map((record) => record.id));
  });
});
