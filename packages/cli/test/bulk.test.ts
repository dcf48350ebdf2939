import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  contextLengthError,
  FAKE_KEY,
  type FakeServer,
  filesIn,
  OPENAI_CASSETTES,
  readJsonLines,
  runCli,
  SHARED_FINGERPRINT,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
} from './helpers.js';

const MODEL = ['--model', 'openai:text-embedding-3-small', '--dimensions', '4'];

interface JsonRecord {
  id: unknown;
  line: number;
  metadata?: Record<string, unknown>;
  text?: string;
  embedding: number[];
}

function readRecords(path: string): JsonRecord[] {
  return readJsonLines<JsonRecord>(path);
}

function vector(text: string): number[] {
  return Array.from(vectorFor(text, 4));
}

describe('bulk', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  const file = filesIn(directory.path);

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

  const printed: string[] = [];
  const bulk = async (args: string[], options: { stdin?: string } = {}) => {
    const result = await runCli(
      // Quiet (no progress and no summary), unless the case names a --progress.
      [
        'bulk',
        ...args,
        ...MODEL,
        '--base-url',
        server.baseURL,
        ...(args.includes('--progress') ? [] : ['-q']),
      ],
      options,
    );
    printed.push(result.stdout, result.stderr);
    return result;
  };

  it('--tpm throttles on the client and the summary counts those waits apart from 429s', async () => {
    // 252 inputs of 1,000 characters: the fake API reports 250 tokens each (63,000 in all), and the bucket
    // is settled with what it reports, so a 60,000 tokens/min limit lets 60,000 through, then about 3 s of waiting.
    const input = file(
      'throttle.txt',
      `${Array.from({ length: 252 }, (_, index) => `${index}`.padEnd(1000, 'a')).join('\n')}\n`,
    );
    const out = file('throttle.jsonl');
    const result = await runCli([
      'bulk',
      input,
      '--out',
      out,
      ...MODEL,
      '--base-url',
      server.baseURL,
      '--progress',
      'plain',
      '--progress-interval',
      '600',
      '--tpm',
      '60000',
      '--batch-size',
      '10',
    ]);
    expect(result.code).toBe(0);
    expect(readRecords(out)).toHaveLength(252);
    const summary = /(\d+) retries, (\d+) rate-limit waits, (\d+) --rpm\/--tpm waits \(([\d.]+)s\)/.exec(
      result.stderr,
    );
    if (summary === null) throw new Error(`no throttle summary in: ${result.stderr}`);
    expect(Number(summary![1])).toBe(0);
    expect(Number(summary![2])).toBe(0);
    expect(Number(summary![3])).toBeGreaterThanOrEqual(1);
    expect(Number(summary![4])).toBeGreaterThanOrEqual(2);
  }, 30_000);

  describe('input formats', () => {
    it('.txt: one input a line, blank lines skipped, the id is the line number', async () => {
      const input = file('lines.txt', 'item 1\r\n\nitem 2\n   \nitem 3');
      const out = file('lines.jsonl');
      const result = await bulk([input, '--out', out]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(readRecords(out)).toEqual([
        { id: 1, line: 1, embedding: vector('item 1') },
        { id: 3, line: 3, embedding: vector('item 2') },
        { id: 5, line: 5, embedding: vector('item 3') },
      ]);
    });

    it('.jsonl: --field names the text, --id-field the id, other fields are metadata; --include-text keeps the text', async () => {
      const input = file(
        'docs.jsonl',
        [
          JSON.stringify({ key: 'a', body: 'item 7', tags: ['x'], score: 1.5 }),
          '',
          JSON.stringify({ key: 'b', body: 'item 8', tags: [] }),
        ].join('\n'),
      );
      const out = file('docs.jsonl.out.jsonl');
      const result = await bulk([
        input,
        '--out',
        out,
        '--field',
        'body',
        '--id-field',
        'key',
        '--include-text',
      ]);
      expect(result.code).toBe(0);
      expect(readRecords(out)).toEqual([
        {
          id: 'a',
          line: 1,
          metadata: { tags: ['x'], score: 1.5 },
          text: 'item 7',
          embedding: vector('item 7'),
        },
        { id: 'b', line: 3, metadata: { tags: [] }, text: 'item 8', embedding: vector('item 8') },
      ]);
    });

    it('.csv: a header row, quoted fields with commas, quotes and line breaks; the line is where a record starts', async () => {
      const input = file(
        'rows.csv',
        'id,text,lang\nr1,"item 4, with a comma",en\nr2,"item 5 says ""hi""\nacross lines",fr\nr3,item 6,de\n',
      );
      const out = file('rows.jsonl');
      const result = await bulk([input, '--out', out]);
      expect(result.code).toBe(0);
      expect(readRecords(out)).toEqual([
        { id: 'r1', line: 2, metadata: { lang: 'en' }, embedding: vector('item 4, with a comma') },
        { id: 'r2', line: 3, metadata: { lang: 'fr' }, embedding: vector('item 5 says "hi"\nacross lines') },
        { id: 'r3', line: 5, metadata: { lang: 'de' }, embedding: vector('item 6') },
      ]);
    });

    it('.csv: a line break inside quotes is sent as it is in the file, CRLF included; a CRLF between records ends the record (bug: CRLF in a field became LF)', async () => {
      const texts: string[] = [];
      const recorder = await startFakeOpenAI({
        intercept: ({ inputs }) => {
          texts.push(...inputs);
          return undefined;
        },
      });
      try {
        const input = file('crlf.csv', 'id,text\r\nr1,"item 7\r\nsecond line\nthird"\r\nr2,item 8\r\n');
        const out = file('crlf.jsonl');
        const result = await runCli([
          'bulk',
          input,
          '--out',
          out,
          ...MODEL,
          '--base-url',
          recorder.baseURL,
          '--progress',
          'none',
        ]);
        expect(result.code).toBe(0);
        expect(texts).toEqual(['item 7\r\nsecond line\nthird', 'item 8']);
        expect(readRecords(out).map((record) => [record.id, record.line])).toEqual([
          ['r1', 2],
          ['r2', 5],
        ]);
      } finally {
        await recorder.close();
      }
    });

    it('- reads stdin (txt unless --format says otherwise)', async () => {
      const out = file('stdin.jsonl');
      const result = await bulk(['-', '--out', out, '--format', 'jsonl'], {
        stdin: '{"text":"item 11"}\n{"text":"item 12"}\n',
      });
      expect(result.code).toBe(0);
      expect(readRecords(out).map((record) => [record.id, record.embedding])).toEqual([
        [1, vector('item 11')],
        [2, vector('item 12')],
      ]);
    });
  });

  describe('bad input files: a clear message with the line number, a non-zero exit', () => {
    it('a broken JSONL line: the inputs before it are embedded and saved, nothing after', async () => {
      const input = file(
        'broken.jsonl',
        '{"text":"item 1"}\n{"text":"item 2"}\n{"text": "item 3"\n{"text":"item 4"}\n',
      );
      const out = file('broken.out.jsonl');
      const result = await bulk([input, '--out', out]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`embedkit: error: ${input}:3: not valid JSON (`);
      expect(result.stderr).toContain(
        `2 inputs are done and saved in ${out}; fix that line and run the same command again to continue.`,
      );
      expect(readRecords(out).map((record) => record.line)).toEqual([1, 2]);

      // Fixed, the same command continues after line 2 and never repeats an input.
      writeFileSync(input, '{"text":"item 1"}\n{"text":"item 2"}\n{"text": "item 3"}\n{"text":"item 4"}\n');
      const again = await bulk([input, '--out', out]);
      expect(again.code).toBe(0);
      expect(readRecords(out).map((record) => [record.line, record.embedding[0]])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ]);
    });

    it('a JSONL line without the field', async () => {
      const input = file('missing.jsonl', '{"text":"item 1"}\n{"title":"item 2","id":"x"}\n');
      const result = await bulk([input, '--out', file('missing.out.jsonl')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `${input}:2: no "text" field (fields: title, id); choose one with --field.`,
      );
    });

    it('a JSONL line whose text is empty or not a string, and a line that is not an object', async () => {
      const empty = await bulk([file('empty-text.jsonl', '{"text":"  "}\n'), '--out', file('e1.jsonl')]);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toContain(
        'empty-text.jsonl:1: the "text" field is empty; embedding APIs reject empty inputs.',
      );
      const number = await bulk([
        file('number.jsonl', '{"text":"item 1"}\n\n{"text":42}\n'),
        '--out',
        file('e2.jsonl'),
      ]);
      expect(number.stderr).toContain('number.jsonl:3: the "text" field is number, not a string.');
      const array = await bulk([file('array.jsonl', '[1,2]\n'), '--out', file('e3.jsonl')]);
      expect(array.stderr).toContain(
        'array.jsonl:1: expected a JSON object with a "text" field, got an array.',
      );
    });

    it('an empty file, a file of blank lines: refused before any output exists', async () => {
      const out = file('empty.out.jsonl');
      const empty = await bulk([file('empty.txt', ''), '--out', out]);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toBe(
        `embedkit: error: ${join(directory.path, 'empty.txt')}: the file is empty; there is nothing to embed.\n`,
      );
      const blank = await bulk([file('blank.txt', '\n  \n\n'), '--out', out]);
      expect(blank.code).toBe(1);
      expect(blank.stderr).toContain('blank.txt: no inputs (every line is blank).');
      expect(existsSync(out)).toBe(false);
      expect(existsSync(`${out}.checkpoint`)).toBe(false);
    });

    it('an unreadable path: missing, or a directory', async () => {
      const missing = join(directory.path, 'nope.txt');
      const result = await bulk([missing, '--out', file('nope.jsonl')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`embedkit: error: cannot read ${missing}: no such file.\n`);
      const folder = join(directory.path, 'folder');
      mkdirSync(folder);
      const directoryResult = await bulk([folder, '--out', file('folder.jsonl')]);
      expect(directoryResult.code).toBe(1);
      expect(directoryResult.stderr).toContain(`cannot read ${folder}: it is a directory.`);
    });

    it('CSV: a missing column, a wrong field count, an unclosed quote', async () => {
      const noColumn = await bulk([file('nocol.csv', 'id,body\n1,x\n'), '--out', file('c1.jsonl')]);
      expect(noColumn.code).toBe(1);
      expect(noColumn.stderr).toContain(
        'nocol.csv:1: the CSV header has no "text" column (columns: id, body); choose one with --field.',
      );
      const count = await bulk([
        file('count.csv', 'id,text\n1,item 1\n2,item 2,extra\n'),
        '--out',
        file('c2.jsonl'),
      ]);
      expect(count.stderr).toContain('count.csv:3: expected 2 CSV fields (id, text), found 3.');
      const quote = await bulk([
        file('quote.csv', 'id,text\n1,item 1\n2,"item 2\n3,item 3\n'),
        '--out',
        file('c3.jsonl'),
      ]);
      expect(quote.code).toBe(1);
      expect(quote.stderr).toContain('quote.csv:3: a quoted CSV field is never closed.');
    });
  });

  it('an input the provider rejects is reported with its line number, never dropped; the job then resumes', async () => {
    const lines = Array.from({ length: 100 }, (_, n) => (n === 36 ? `item ${n} TOO-LONG` : `item ${n}`));
    const input = file('reject.txt', `${lines.join('\n')}\n`);
    const out = file('reject.jsonl');
    const args = [input, '--out', out, '--batch-size', '10', '--concurrency', '1'];
    const result = await bulk(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `embedkit: error: ${input}:37: the API rejected this input: openai API error 400: Invalid 'input[6]': maximum input length is 8192 tokens. — Check the inputs and options against the model’s capabilities. (input 36 of the whole job) (HTTP 400)\n30 inputs are done and saved in ${out}; fix or remove that input, then run the same command again to continue.\n`,
    );
    expect(readRecords(out).map((record) => record.line)).toEqual(
      Array.from({ length: 30 }, (_, n) => n + 1),
    );

    lines[36] = 'item 36';
    writeFileSync(input, `${lines.join('\n')}\n`);
    const again = await bulk(args);
    expect(again.code).toBe(0);
    const records = readRecords(out);
    expect(records.map((record) => record.line)).toEqual(Array.from({ length: 100 }, (_, n) => n + 1));
    expect(records.map((record) => record.embedding[0])).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });

  describe('an input the API rejects without naming it (bug: "at the input on line 1001", the first line of the call, and "run the same command again", which fails the same way)', () => {
    /** A server that rejects, with a 400 naming no input, every call holding an input with "POISON". */
    const poisoned = () =>
      startFakeOpenAI({
        intercept: ({ inputs }) =>
          inputs.some((input) => input.includes('POISON'))
            ? {
                status: 400,
                body: {
                  error: {
                    message: "'$.input' is invalid.",
                    type: 'invalid_request_error',
                    param: null,
                    code: null,
                  },
                },
              }
            : undefined,
      });

    it('is found by sending the call again in halves, and reported as file:line', async () => {
      const server = await poisoned();
      try {
        const lines = Array.from({ length: 3000 }, (_, n) => `item ${n}${n === 1499 ? ' POISON' : ''}`);
        const input = file('poison.txt', `${lines.join('\n')}\n`);
        const out = file('poison.jsonl');
        const args = [
          'bulk',
          input,
          '--out',
          out,
          ...MODEL,
          '--base-url',
          server.baseURL,
          '--batch-size',
          '500',
          '--concurrency',
          '1',
        ];
        const result = await runCli([...args, '--progress-interval', '600']);
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `embedkit: the API rejected the call holding the inputs on lines 1001–1500 without naming the input at fault; sending them again in halves to find it (at most 18 calls).\n` +
            `embedkit: error: ${input}:1500: the API rejected this input: openai API error 400: '$.input' is invalid. — Check the inputs and options against the model’s capabilities. (HTTP 400)\n` +
            `1000 inputs are done and saved in ${out}; fix or remove that input, then run the same command again to continue.\n`,
        );
        // Three calls of the job, then at most 2·log2(500) to find the input.
        expect(server.requests).toBeGreaterThan(3);
        expect(server.requests).toBeLessThanOrEqual(3 + 18);
        expect(readRecords(out).map((record) => record.line)).toEqual(
          Array.from({ length: 1000 }, (_, n) => n + 1),
        );
        // As the message says: once the line is fixed, the same command finishes the job.
        lines[1499] = 'item 1499';
        writeFileSync(input, `${lines.join('\n')}\n`);
        const again = await runCli([...args, '--progress', 'none']);
        expect(again.code).toBe(0);
        expect(readRecords(out).map((record) => record.embedding[0])).toEqual(
          Array.from({ length: 3000 }, (_, n) => n),
        );
      } finally {
        await server.close();
      }
    });

    it('a call rejected as a whole, whose halves go through, is reported by its line range', async () => {
      // A gateway that refuses calls of more than 100 inputs with a plain 400.
      const server = await startFakeOpenAI({
        intercept: ({ inputs }) =>
          inputs.length > 100
            ? { status: 400, body: { error: { message: 'Too many inputs.', type: 'invalid_request_error' } } }
            : undefined,
      });
      try {
        const input = file('whole.txt', `${Array.from({ length: 300 }, (_, n) => `item ${n}`).join('\n')}\n`);
        const out = file('whole.jsonl');
        const result = await runCli([
          'bulk',
          input,
          '--out',
          out,
          ...MODEL,
          '--base-url',
          server.baseURL,
          '--batch-size',
          '200',
          '--concurrency',
          '1',
          '-q',
        ]);
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `embedkit: error: ${input}:1: the API rejected the call holding the inputs on lines 1–200 (200 inputs), but not its halves when they were sent again, so no one input is at fault: openai API error 400: Too many inputs. — Check the inputs and options against the model’s capabilities. (HTTP 400)\n` +
            `0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
        );
        // The call, then its two halves.
        expect(server.requests).toBe(3);
      } finally {
        await server.close();
      }
    });
  });

  describe('outputs that are not this job', () => {
    it('refuses to resume a checkpoint of another model, and an output with no checkpoint; --overwrite replaces', async () => {
      const input = file('job.txt', 'item 1\nitem 2\n');
      const out = file('job.jsonl');
      expect((await bulk([input, '--out', out])).code).toBe(0);
      const other = await runCli([
        'bulk',
        input,
        '--out',
        out,
        '--model',
        'openai:text-embedding-3-large',
        '--dimensions',
        '4',
        '--base-url',
        server.baseURL,
      ]);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain(
        `${out} is the output of a different job (model "text-embedding-3-small" → "text-embedding-3-large"). Pass --restart to replace it, or choose another --out.`,
      );

      const stray = file('stray.jsonl', 'not ours\n');
      const refused = await bulk([input, '--out', stray]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `${stray} already exists and has no checkpoint, so embedkit bulk did not write it; pass --overwrite to replace it.`,
      );
      expect(readFileSync(stray, 'utf8')).toBe('not ours\n');
      const replaced = await bulk([input, '--out', stray, '--overwrite']);
      expect(replaced.code).toBe(0);
      expect(readRecords(stray).map((record) => record.id)).toEqual([1, 2]);
    });

    it("refuses to resume against another server, whether --base-url or the provider variable names it (bug: two servers' vectors mixed in one output)", async () => {
      const other = await startFakeOpenAI();
      try {
        const lines = Array.from({ length: 100 }, (_, n) => (n === 36 ? `item ${n} TOO-LONG` : `item ${n}`));
        const input = file('servers.txt', `${lines.join('\n')}\n`);
        const out = file('servers.jsonl');
        const extra = ['--batch-size', '10', '--concurrency', '1', '--progress', 'none'];
        const partial = await bulk([input, '--out', out, ...extra]);
        expect(partial.code).toBe(1);
        lines[36] = 'item 36';
        writeFileSync(input, `${lines.join('\n')}\n`);
        const before = other.requests;
        const elsewhere = [
          ['bulk', input, '--out', out, ...MODEL, '--base-url', other.baseURL, ...extra],
          ['bulk', input, '--out', out, ...MODEL, ...extra],
        ];
        for (const [args, env] of [
          [elsewhere[0]!, {}],
          [elsewhere[1]!, { OPENAI_BASE_URL: other.baseURL }],
        ] as const) {
          const refused = await runCli(args, { env });
          expect(refused.code).toBe(1);
          expect(refused.stderr).toBe(
            `embedkit: error: ${out} is the output of a different job (server "${server.baseURL}" → "${other.baseURL}"). Pass --restart to replace it, or choose another --out.\n`,
          );
        }
        expect(other.requests).toBe(before);
        // The same server reached through the provider's variable is the same job: it resumes.
        const same = await runCli(elsewhere[1]!, { env: { OPENAI_BASE_URL: server.baseURL } });
        expect(same.code).toBe(0);
        expect(readRecords(out).map((record) => record.embedding[0])).toEqual(
          Array.from({ length: 100 }, (_, n) => n),
        );
      } finally {
        await other.close();
      }
    });

    it('an option the model cannot honour is a usage error before anything is read or created (bug: exit 1 after the output existed, "run the same command again")', async () => {
      const input = file('capable.txt', 'item 1\n');
      const out = file('capable.npy');
      const before = server.requests;
      const result = await bulk([input, '--out', out, '--output-type', 'int8']);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'embedkit: error: openai model text-embedding-3-small cannot return int8 vectors; it supports float.\nRun "embedkit models --provider openai" for what each model supports.\n',
      );
      for (const name of ['capable.npy', 'capable.meta.jsonl', 'capable.npy.checkpoint', 'capable.npy.lock'])
        expect(existsSync(file(name))).toBe(false);
      const length = await runCli(bulkArgs(server, input, out, [], 2000));
      expect(length.code).toBe(2);
      expect(length.stderr).toBe(
        'embedkit: error: --dimensions 2000 is not allowed for openai model text-embedding-3-small; use 1 to 1536.\nRun "embedkit models --provider openai" for what each model supports.\n',
      );
      expect(existsSync(out)).toBe(false);
      expect(server.requests).toBe(before);
    });

    it('an id given to two records is a warning naming both lines; the records are kept (bug: accepted without a word)', async () => {
      const input = file(
        'ids.jsonl',
        [
          '{"id":"a","text":"item 1"}',
          '{"id":"b","text":"item 2"}',
          '{"text":"item 3"}',
          '{"id":"b","text":"item 4"}',
          '{"id":"a","text":"item 5"}',
        ].join('\n'),
      );
      const out = file('ids.jsonl.out.jsonl');
      const result = await bulk([input, '--out', out]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe(
        `warning: ${input}:4: the id "b" is already the id of line 2; ${out} holds records that share an id (only the first repeated id is named).\n`,
      );
      expect(readRecords(out).map((record) => record.id)).toEqual(['a', 'b', 3, 'b', 'a']);
    });

    it('two ids with one 64-bit fingerprint are no repeat (bug: a warning naming the line of the other id)', async () => {
      const [first, second] = SHARED_FINGERPRINT;
      const input = file(
        'fingerprint.jsonl',
        [`{"id":"${first}","text":"item 1"}`, `{"id":"${second}","text":"item 2"}`].join('\n'),
      );
      const out = file('fingerprint.jsonl.out.jsonl');
      const result = await bulk([input, '--out', out]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(readRecords(out).map((record) => record.id)).toEqual([first, second]);
    });

    it('refuses to resume into an output cut shorter than its checkpoint', async () => {
      const input = file('cut.txt', 'item 1\nitem 2\n');
      const out = file('cut.jsonl');
      const first = await runCli([
        'bulk',
        input,
        '--out',
        out,
        ...MODEL,
        '--base-url',
        server.baseURL,
        '--batch-size',
        '1',
        '--concurrency',
        '1',
        '--max-retries',
        '0',
        '--progress',
        'none',
      ]);
      expect(first.code).toBe(0);
      const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'));
      writeFileSync(`${out}.checkpoint`, JSON.stringify({ ...checkpoint, complete: false }));
      writeFileSync(out, 'short');
      const again = await bulk([input, '--out', out]);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(
        `embedkit: error: ${out} holds 5 bytes but its checkpoint records ${checkpoint.bytes['cut.jsonl']}; it was changed outside embedkit. Pass --restart to start again.\n`,
      );
    });

    it('refuses a damaged checkpoint, naming the field, instead of failing inside the resume', async () => {
      // Review finding: a checkpoint with no "bytes" (edited by hand, or cut short and rewritten) made
      // bulk print "Cannot read properties of undefined".
      const input = file('damaged.txt', 'item 1\nitem 2\n');
      const out = file('damaged.jsonl');
      expect((await bulk([input, '--out', out])).code).toBe(0);
      const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'));
      for (const [change, damage] of [
        [{ bytes: undefined }, 'bytes is not the length of each output file'],
        [{ inputsDone: -1 }, 'inputsDone is not a count'],
        [{ input: { bytes: 3 } }, 'input is not the fingerprint of the input read'],
        [{ complete: 'no' }, 'complete is not true or false'],
      ] as const) {
        writeFileSync(`${out}.checkpoint`, JSON.stringify({ ...checkpoint, complete: false, ...change }));
        const again = await bulk([input, '--out', out]);
        expect(again.code, damage).toBe(1);
        expect(again.stderr).toBe(
          `embedkit: error: ${out}.checkpoint is damaged (${damage}); it was changed outside embedkit. Pass --restart to start again.\n`,
        );
      }
      writeFileSync(`${out}.checkpoint`, '[1]');
      expect((await bulk([input, '--out', out])).stderr).toBe(
        `embedkit: error: ${out}.checkpoint is not a checkpoint (not a JSON object); pass --restart to start again.\n`,
      );
    });

    it('a finished job run again does nothing and says so', async () => {
      const input = file('done.txt', 'item 1\n');
      const out = file('done.jsonl');
      expect((await bulk([input, '--out', out])).code).toBe(0);
      const before = server.requests;
      const again = await runCli(['bulk', input, '--out', out, ...MODEL, '--base-url', server.baseURL]);
      expect(again.code).toBe(0);
      expect(again.stderr).toBe(`embedkit: ${out} is already complete (1 input); nothing to do.\n`);
      expect(server.requests).toBe(before);
    });
  });

  describe('usage errors exit 2', () => {
    it.each([
      [['bulk', 'x.txt', '--model', 'openai:m'], '--out is required'],
      [
        ['bulk', 'x.txt', '--out', 'x.csv', '--model', 'openai:m'],
        '--out must end in .jsonl, .ndjson or .npy; got "x.csv".',
      ],
      [['bulk', 'x.txt', '--out', 'x.jsonl'], '--model is required'],
      [['bulk', 'x.txt', '--out', 'x.jsonl', '--model', 'openai'], '--model must look like "provider:model"'],
      [
        ['bulk', 'x.txt', '--out', 'x.jsonl', '--model', 'openai:m', '--concurrency', '0'],
        '--concurrency must be a whole number from 1 to 10000, got "0".',
      ],
      [
        ['bulk', 'x.txt', '--out', 'x.jsonl', '--model', 'openai:m', '--input-type', 'questions'],
        '--input-type must be one of query, document,',
      ],
      [
        ['bulk', 'x.txt', '--out', 'x.jsonl', '--model', 'openai:m', '--output-type', 'bits'],
        '--output-type must be one of float, int8, uint8, binary, ubinary; got "bits".',
      ],
      [['bulk', 'x.txt', '--out', 'x.jsonl', '--model', 'openai:m', '--bogus'], "Unknown option '--bogus'"],
    ])('%j', async (args, message) => {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('Run "embedkit bulk --help" for usage.');
    });
  });

  it('never prints the key', () => {
    // Every run above sent FAKE_KEY (the server saw it); nothing any run printed holds it.
    expect([...server.authorizations]).toEqual([`Bearer ${FAKE_KEY}`]);
    expect(printed.length).toBeGreaterThan(20);
    expect(printed.filter((text) => text.includes(FAKE_KEY))).toEqual([]);
  });
});

describe('bulk: --replay', () => {
  const directory = temporaryDirectory();
  const FOOD = 'The food was delicious and the waiter was friendly.';
  const cassettes = join(directory.path, 'cassettes');
  beforeAll(() => {
    mkdirSync(cassettes);
    copyFileSync(join(OPENAI_CASSETTES, 'base64-single.json'), join(cassettes, 'base64-single.json'));
  });
  afterAll(() => directory.remove());

  /** `embedkit bulk <input> --out <out> --replay <cassettes>`, one input per call, with no key set. */
  const replayBulk = (input: string, out: string) =>
    runCli(
      [
        'bulk',
        input,
        '--out',
        out,
        '--model',
        'openai:text-embedding-3-small',
        '--replay',
        cassettes,
        '--progress',
        'none',
        '--batch-size',
        '1',
        '--concurrency',
        '1',
      ],
      { env: { OPENAI_API_KEY: undefined } },
    );

  /** What embed, index and search say for a call no recording matches (bulk knows no inputs up front). */
  const mismatch =
    `no recording matches POST /v1/embeddings in ${cassettes} (openai:text-embedding-3-small).\n` +
    'The recordings hold these inputs:\n' +
    `  "${FOOD}"  (cassette "base64-single", text-embedding-3-small)\n` +
    'Embed one of them, with the same options, or record a cassette for this call.\n';

  it('an input no recording matches is reported as a replay mismatch, with the line and what is saved (bug: an API error 418)', async () => {
    const input = join(directory.path, 'unrecorded.txt');
    writeFileSync(input, 'something never recorded\n');
    const out = join(directory.path, 'unrecorded.jsonl');
    const result = await replayBulk(input, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `embedkit: error: at the input on line 1: ${mismatch}0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(result.stderr).not.toContain('418');
  });

  it('after a recorded input, the mismatch says 1 input (singular) is done and saved', async () => {
    const input = join(directory.path, 'one-recorded.txt');
    writeFileSync(input, `${FOOD}\nsomething never recorded\n`);
    const out = join(directory.path, 'one-recorded.jsonl');
    const result = await replayBulk(input, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `embedkit: error: at the input on line 2: ${mismatch}1 input is done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(readRecords(out).map((record) => record.line)).toEqual([1]);
  });
});

describe('bulk: Ctrl-C', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeOpenAI({ delayMs: 40 });
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it('stops after saving what is finished (exit 130); the same command then finishes the job; a bar on request', async () => {
    const input = join(directory.path, 'in.txt');
    writeFileSync(input, `${Array.from({ length: 2000 }, (_, n) => `item ${n}`).join('\n')}\n`);
    const out = join(directory.path, 'out.jsonl');
    const args = [
      'bulk',
      input,
      '--out',
      out,
      ...MODEL,
      '--base-url',
      server.baseURL,
      '--batch-size',
      '100',
      '--concurrency',
      '1',
    ];
    const first = await runCli([...args, '--progress', 'none'], {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 300) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 10);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(first.code).toBe(130);
    const done = readRecords(out).length;
    expect(done).toBeGreaterThanOrEqual(300);
    expect(done).toBeLessThan(2000);
    expect(first.stderr).toBe(
      `embedkit: interrupted. ${done} inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );

    const second = await runCli([...args, '--progress', 'bar']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`embedkit: resuming ${out}: ${done} inputs already done.\n`);
    // The bar is redrawn in place with a carriage return, and ends with a newline before the summary.
    expect(second.stderr).toMatch(
      /\r\[#*\.*\] \d+ inputs done \([\d.]+%\) · \d+ tokens\/s · ETA \S+ · 0 retries · 0 rate-limit waits \(0\.0s\)/,
    );
    expect(second.stderr).toMatch(
      /\[#{24}\] 2000 inputs done \(100\.0%\)[^\n]*\n+embedkit: done: 2000 inputs/,
    );
    expect(readRecords(out).map((record) => record.embedding[0])).toEqual(
      Array.from({ length: 2000 }, (_, n) => n),
    );
  }, 60_000);
});
