import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsumedInputHash } from '../src/input-fingerprint.js';
import { type InputRecord, lines, openInput } from '../src/inputs.js';
import { ProgressReporter } from '../src/progress.js';
import {
  bulkArgs,
  chunks,
  collect,
  filesIn,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

/**
 * How bulk reads its input and reports its progress at the edges: CSV headers that name a column twice,
 * or no records under them, fields named `__proto__`, a JSONL line that is a long string or a text that is
 * an array, an id JSON reads as Infinity, a byte-order mark before a line of exactly the cap, a progress
 * bar on a narrow terminal, the ETA before any time has passed, a progress interval longer than a timer
 * counts, and the search for the input an API rejected when its calls fail or Ctrl-C stops it.
 */

/** A terminal of `columns` columns, keeping what is written to it. */
function terminal(columns: number): { stream: NodeJS.WriteStream; writes: string[] } {
  const writes: string[] = [];
  const stream = {
    columns,
    isTTY: true,
    write(text: string) {
      writes.push(text);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

/** A progress bar of a 100-byte input on a terminal of `columns` columns, and what is written to it. */
function bar(columns: number, now: () => number): { progress: ProgressReporter; writes: string[] } {
  const { stream, writes } = terminal(columns);
  const progress = new ProgressReporter({
    mode: 'bar',
    intervalSeconds: 10,
    resumedInputs: 0,
    totalBytes: 100,
    stream,
    now,
  });
  return { progress, writes };
}

describe('bulk input files at their edges', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  afterAll(() => directory.remove());

  /** The records of `content` read as the file `name`. */
  const read = async (name: string, content: string): Promise<InputRecord[]> =>
    await collect((await openInput({ path: file(name, content) })).records);

  it('a CSV header that names a column twice is a bad line, as no value of a record is dropped', async () => {
    const path = file('twice.csv', 'id,text,text\n1,first,second\n');
    const source = await openInput({ path });
    await expect(collect(source.records)).rejects.toThrow(
      `${path}:1: the CSV header names the column "text" more than once (columns: id, text, text); give each column a name of its own.`,
    );
  });

  it('a CSV file with a header row and no records says so, before any request', async () => {
    const server = await startFakeOpenAI();
    try {
      const input = file('header-only.csv', 'id,text\r\n');
      const result = await runCli(bulkArgs(server, input, file('header-only.jsonl')));
      expect(result.stderr).toBe(
        `embedkit: error: ${input}: the CSV header row is followed by no records; there is nothing to embed.\n`,
      );
      expect(result.code).toBe(1);
      expect(server.requests).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('a JSONL line that is a long string, not an object, is named by its start, not repeated whole', async () => {
    const path = file('strings.jsonl', `"short"\n`);
    await expect(collect((await openInput({ path })).records)).rejects.toThrow(
      `${path}:1: expected a JSON object with a "text" field, got "short".`,
    );
    const long = file('long-string.jsonl', `${JSON.stringify('a'.repeat(1_000_000))}\n`);
    const error = await collect((await openInput({ path: long })).records).catch((caught: Error) => caught);
    expect((error as Error).message).toBe(
      `${long}:1: expected a JSON object with a "text" field, got "${'a'.repeat(39)}….`,
    );
  });

  it('a JSONL text that is an array is named an array, not an object', async () => {
    const path = file('chunks.jsonl', '{"text":["a","b"]}\n');
    const source = await openInput({ path });
    await expect(collect(source.records)).rejects.toThrow(
      `${path}:1: the "text" field is an array, not a string.`,
    );
  });

  it('a JSONL field named __proto__ is kept in the metadata like any other, and written', async () => {
    const server = await startFakeOpenAI();
    try {
      const input = file('proto.jsonl', '{"text":"item 1","__proto__":{"x":1},"lang":"en"}\n');
      const out = file('proto-out.jsonl');
      const result = await runCli(bulkArgs(server, input, out, ['--quiet']));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(
        /^\{"id":1,"line":1,"metadata":\{"__proto__":\{"x":1\},"lang":"en"\},"embedding":\[1,[^\n]*\]\}\n$/,
      );
    } finally {
      await server.close();
    }
  });

  it('a CSV column named __proto__ is kept in the metadata like any other', async () => {
    const records = await read('proto.csv', 'id,text,__proto__,lang\n7,a,kept,en\n');
    expect(records.map((record) => [record.id, record.text, JSON.stringify(record.metadata)])).toEqual([
      ['7', 'a', '{"__proto__":"kept","lang":"en"}'],
    ]);
  });

  it('an id JSON reads as Infinity is a bad line, like any integer past 2^53 (it would be written as null)', async () => {
    const path = file('infinite.jsonl', '{"text":"a","id":1}\n{"text":"b","id":1e400}\n');
    const source = await openInput({ path });
    await expect(collect(source.records)).rejects.toThrow(
      `${path}:2: the "id" field is an integer too large to keep exactly (past 9007199254740991, it reads as Infinity); quote it as a string ("id":"<digits>"), or its last digits are lost and distinct ids merge.`,
    );
  });

  it('a first line of exactly the cap is accepted after the byte-order mark, which is no part of it', async () => {
    const reading = { maxLineBytes: 4, consumed: new ConsumedInputHash() };
    const bom = [0xef, 0xbb, 0xbf];
    expect(await collect(lines(chunks([...bom, 0x61, 0x62], 'cd\r', '\nefgh'), 'x', reading))).toEqual([
      { number: 1, text: 'abcd', end: 7, crlf: true },
      { number: 2, text: 'efgh', end: 13 },
    ]);
    await expect(collect(lines(chunks([...bom], 'abcde\n'), 'x.txt', reading))).rejects.toThrow(
      'x.txt:1: the line is longer than 4 bytes, the most one input may have.',
    );
  });
});

describe('bulk progress at its edges', () => {
  it('the bar fits a terminal narrower than 21 columns, so each redraw stays on its row', () => {
    let now = 1_000_000;
    const { progress, writes } = bar(10, () => now);
    now += 1_000;
    progress.done(3, 50);
    progress.stop();
    expect(writes).toEqual(['\r[########', '\r[########', '\n']);
  });

  it('no ETA before any time has passed, rather than "ETA 0s" with the input half done', () => {
    const { progress, writes } = bar(200, () => 1_000_000);
    progress.done(1, 50);
    expect(progress.snapshot().etaSeconds).toBeUndefined();
    expect(writes[0]).toContain(' · ETA ? · ');
    progress.stop();
  });

  it('a --progress-interval past the longest a timer counts (24.8 days) prints no early line and no warning', async () => {
    const { stream, writes } = terminal(80);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const progress = new ProgressReporter({
        mode: 'plain',
        intervalSeconds: 3_000_000,
        resumedInputs: 0,
        totalBytes: 100,
        stream,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      progress.stop();
    } finally {
      process.off('warning', onWarning);
    }
    expect(writes).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe('looking for the input an API rejected without naming it', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  afterAll(() => directory.remove());

  /** Every call holding "POISON" is refused with a 400 that names no input. */
  const poisoned = ({ inputs }: { inputs: string[] }) =>
    inputs.some((input) => input.includes('POISON'))
      ? { status: 400, body: { error: { message: "'$.input' is invalid.", type: 'invalid_request_error' } } }
      : undefined;

  /** `embedkit bulk` of `input` into `out` in calls of four inputs, then `extra`. */
  const poisonArgs = (server: { baseURL: string }, input: string, out: string, extra: string[] = []) =>
    bulkArgs(server, input, out, [
      '--batch-size',
      '4',
      '--progress',
      'plain',
      '--progress-interval',
      '600',
      ...extra,
    ]);

  /** The line bulk prints before it sends the four inputs again in halves. */
  const searching =
    'embedkit: the API rejected the call holding the inputs on lines 1–4 without naming the input at fault; sending them again in halves to find it (at most 4 calls).\n';

  it('a search whose calls fail for another reason (HTTP 500) does not say that no one input is at fault', async () => {
    const server = await startFakeOpenAI({
      intercept: (request) =>
        request.number === 1
          ? poisoned(request)
          : { status: 500, body: { error: { message: 'The server had an error.', type: 'server_error' } } },
    });
    try {
      const input = file('unsearched.txt', 'item 0\nitem 1\nitem 2 POISON\nitem 3\n');
      const out = file('unsearched.jsonl');
      const result = await runCli(poisonArgs(server, input, out, ['--max-retries', '0']));
      expect(result.stderr).toBe(
        searching +
          `embedkit: error: at the call holding the inputs on lines 1–4: openai API error 400: '$.input' is invalid. — Check the inputs and options against the model’s capabilities. (HTTP 400)\n` +
          `0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
      );
      expect(result.code).toBe(1);
      expect(server.requests).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('Ctrl-C during the search says the run was interrupted (exit 130), not that no one input is at fault', async () => {
    let child: ChildProcess | undefined;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The calls of the search are held until the run is interrupted.
    const server = await startFakeOpenAI({
      intercept: poisoned,
      hold: ({ number }) => {
        if (number === 1) return undefined;
        child?.kill('SIGINT');
        return held;
      },
    });
    try {
      const input = file('poison.txt', 'item 0\nitem 1\nitem 2 POISON\nitem 3\n');
      const out = file('poison.jsonl');
      const result = await runCli(poisonArgs(server, input, out), {
        onSpawn: (spawned) => {
          child = spawned;
        },
      });
      expect(result.stderr).toBe(
        `${searching}embedkit: interrupted. 0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
      );
      expect(result.code).toBe(130);
      expect(server.requests).toBe(2);
    } finally {
      release();
      await server.close();
    }
  });
});
