import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  FAKE_KEY,
  type FakeServer,
  filesIn,
  indexArgs,
  openAIAnswer,
  readCheckpointFile,
  readIndexFile,
  readJsonLines,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
  within,
} from './helpers.js';

// Findings of an outside review run against a misbehaving loopback server: each case names the bug it
// catches, and fails without its fix.

function records(path: string): { id: unknown; line: number; text?: string; embedding: number[] }[] {
  return readJsonLines(path);
}

describe('review findings', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  /** Inputs the server received, in order. */
  const received: string[] = [];
  const file = filesIn(directory.path);

  beforeAll(async () => {
    server = await startFakeOpenAI({
      intercept: ({ inputs }) => {
        received.push(...inputs);
        // "short ..." inputs come back one value short: a server whose vector length changes.
        if (inputs[0]?.startsWith('short')) return openAIAnswer(inputs, 3);
        if (inputs[0]?.startsWith('fail')) {
          return { status: 500, body: { error: { message: 'boom', type: 'server_error' } } };
        }
        return undefined;
      },
    });
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it.each(['npy', 'jsonl'] as const)(
    'a vector length that changes between calls, .%s: the real error and what is saved (bug: "Cannot read properties of undefined (reading \'line\')"; .jsonl took ragged rows silently)',
    async (kind) => {
      const input = file(`ragged-${kind}.txt`, 'item 1\nitem 2\nshort 3\nitem 4\n');
      const out = file(`ragged.${kind}`);
      // openai-compatible with no --dimensions: no length is expected, so the engine passes any on.
      const args = [
        'bulk',
        input,
        '--out',
        out,
        '--model',
        'openai-compatible:m',
        '--base-url',
        server.baseURL,
      ];
      const command = [...args, '-q', '--batch-size', '1', '--concurrency', '1'];
      const result = await runCli(command);
      // Within one run, the engine holds every answer to the length of the first.
      expect(result.stderr).toBe(
        `embedkit: error: openai-compatible returned vector 0 (input 2 of the whole job) with 3 values; expected 8, the length of the vectors it returned earlier in this job. (HTTP 200)\n2 inputs are done and saved in ${out}; run the same command again to continue.\n`,
      );
      expect(result.code).toBe(1);
      // Run again, the first answer is the short one: the rows already saved are what it is held to.
      const again = await runCli(command);
      expect(again.stderr).toBe(
        `embedkit: error: the vector of line 3 has 3 values, but the rows before it in ${out} have 8: the API answered with vectors of different lengths.\n2 inputs are done and saved in ${out}; run the same command again to continue.\n`,
      );
      expect(again.code).toBe(1);
    },
  );

  describe('input bytes are sent as they are', () => {
    it('a line that is not UTF-8 is a file:line error naming the byte, column and a conversion; the lines before it are saved (bug: replaced by U+FFFD and sent)', async () => {
      const input = file('latin1.txt', Buffer.from('item 1\ncaf\xe9 cr\xe8me\nitem 3\n', 'latin1'));
      const out = file('latin1.jsonl');
      const before = received.length;
      const result = await runCli(bulkArgs(server, input, out));
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:2: the byte 0xE9 at column 4 is not valid UTF-8; texts are sent byte for byte, so none is replaced. Convert the input to UTF-8 first, e.g. (for Latin-1) iconv -f latin1 -t utf-8 ${input} > ${input.replace(/\.txt$/, '.utf8.txt')}.\n1 input is done and saved in ${out}; fix that line and run the same command again to continue.\n`,
      );
      expect(result.code).toBe(1);
      expect(received.slice(before)).toEqual(['item 1']);
    });

    it('a U+FEFF that starts a line other than the first is text, sent and stored; the file’s own byte-order mark is not (bug: dropped from every line)', async () => {
      const input = file('bom.txt', '\ufeffitem 1\n\ufeffitem 2\n');
      const out = file('bom.jsonl');
      const before = received.length;
      const result = await runCli(bulkArgs(server, input, out, ['--include-text']));
      expect(result.code).toBe(0);
      expect(received.slice(before)).toEqual(['item 1', '\ufeffitem 2']);
      expect(records(out).map((record) => record.text)).toEqual(['item 1', '\ufeffitem 2']);
    });
  });

  describe('a pipe given as a path (<(zcat docs.gz), a FIFO) is read as stdin is (bug: refused as "the file is empty")', () => {
    it('bulk', async () => {
      const fifo = join(directory.path, 'bulk.fifo');
      execFileSync('mkfifo', [fifo]);
      const out = file('fifo.jsonl');
      const [result] = await Promise.all([
        runCli(bulkArgs(server, fifo, out, ['--format', 'txt'])),
        writeFile(fifo, 'item 1\nitem 2\n'),
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(records(out).map((record) => [record.line, record.embedding[0]])).toEqual([
        [1, 1],
        [2, 2],
      ]);
    });

    it('index reads it once, checking ids as they come', async () => {
      const fifo = join(directory.path, 'index.fifo');
      execFileSync('mkfifo', [fifo]);
      const out = file('fifo.ekx');
      const [result] = await Promise.all([
        runCli(indexArgs(server, fifo, out, ['--format', 'txt']), {
          // Opening the pipe a second time would wait for a writer forever.
          onSpawn: (child) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.on('exit', () => clearTimeout(timer));
          },
        }),
        writeFile(fifo, 'item 1\nitem 2\n'),
      ]);
      expect(result.stderr).toBe(
        `embedkit: indexed 2 inputs (4 dimensions, openai:text-embedding-3-small) into ${out}\n`,
      );
      expect(result.code).toBe(0);
      // Read once, as it came: the index records it as it records stdin (bug: the pipe's path, which
      // names nothing to read again once the command ends).
      expect(readIndexFile(out).header.source).toBe('stdin');
    }, 20_000);
  });

  describe('ids', () => {
    it('an integer id past 2^53 is refused as file:line, asking to quote it; the lines before it are saved (bug: two ids merged into one number)', async () => {
      const input = file(
        'big.jsonl',
        '{"id":"a","text":"item 1"}\n{"id":1234567890123456789,"text":"item 2"}\n{"id":1234567890123456790,"text":"item 3"}\n',
      );
      const out = file('big.jsonl.out.jsonl');
      const result = await runCli(bulkArgs(server, input, out));
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:2: the "id" field is an integer too large to keep exactly (past 9007199254740991, it reads as 1234567890123456800); quote it as a string ("id":"<digits>"), or its last digits are lost and distinct ids merge.\n1 input is done and saved in ${out}; fix that line and run the same command again to continue.\n`,
      );
      expect(result.code).toBe(1);
      expect(records(out).map((record) => record.id)).toEqual(['a']);
      // A quoted one is kept digit for digit; the largest exact integer is fine unquoted.
      writeFileSync(
        input,
        '{"id":"1234567890123456789","text":"item 1"}\n{"id":9007199254740991,"text":"item 2"}\n',
      );
      const again = await runCli(bulkArgs(server, input, out, ['--restart']));
      expect(again.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(/^\{"id":"1234567890123456789",.*\n\{"id":9007199254740991,/);
    });

    it('index refuses it too, before anything is sent', async () => {
      const input = file('big-index.jsonl', '{"id":1234567890123456789,"text":"item 1"}\n');
      const before = server.requests;
      const result = await runCli(indexArgs(server, input, file('big.ekx')));
      expect(result.stderr).toContain(`${input}:1: the "id" field is an integer too large to keep exactly`);
      expect(result.code).toBe(1);
      expect(server.requests).toBe(before);
    });

    it('a null id is refused as file:line (bug: it became the line number, which another record may hold)', async () => {
      const input = file('null.jsonl', '{"id":2,"text":"item 1"}\n{"id":null,"text":"item 2"}\n');
      const out = file('null.out.jsonl');
      const result = await runCli(bulkArgs(server, input, out));
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:2: the "id" field is null; give the record an id, or remove the field to use the line number.\n1 input is done and saved in ${out}; fix that line and run the same command again to continue.\n`,
      );
      expect(result.code).toBe(1);
    });

    it('an --id-field that a record lacks is refused at that record (bug: a misspelt field silently gave line numbers)', async () => {
      const input = file('docid.jsonl', '{"doc_id":"A","text":"item 1"}\n{"doc_id":"B","text":"item 2"}\n');
      const out = file('docid.out.jsonl');
      const first = await runCli(bulkArgs(server, input, out, ['--id-field', 'docid']));
      expect(first.stderr).toBe(
        `embedkit: error: ${input}:1: no "docid" field, which --id-field names (fields: doc_id, text); every record needs one. Without --id-field, a record with no "id" field is identified by its line number.\n`,
      );
      expect(first.code).toBe(1);
      expect(existsSync(out)).toBe(false);
      // Present in the first record only: the first record without it is the bad line.
      writeFileSync(input, '{"docid":"A","text":"item 1"}\n{"doc_id":"B","text":"item 2"}\n');
      const second = await runCli(bulkArgs(server, input, out, ['--id-field', 'docid']));
      expect(second.stderr).toContain(`${input}:2: no "docid" field, which --id-field names`);
      expect(second.stderr).toContain(`1 input is done and saved in ${out}`);
      expect(records(out).map((record) => record.id)).toEqual(['A']);
      // Without --id-field a record without "id" still takes its line number.
      const third = await runCli(bulkArgs(server, input, out, ['--restart']));
      expect(third.code).toBe(0);
      expect(records(out).map((record) => record.id)).toEqual([1, 2]);
    });
  });

  it.runIf(existsSync('/dev/full'))(
    'a write error creating a .npy output, or reopening a checkpoint’s, says what is saved (bug: only "cannot write")',
    async () => {
      const input = file('full.txt', 'item 1\nitem 2\n');
      const out = join(directory.path, 'full.npy');
      symlinkSync('/dev/full', out);
      const said = `embedkit: error: cannot write ${out}: no space left on the device (ENOSPC).\n0 inputs are done and saved in ${out}; free some space, then run the same command again to continue.\n`;
      // New: the checkpoint is written, then the .npy header is not.
      const first = await runCli(bulkArgs(server, input, out, ['--overwrite']));
      expect(first.stderr).toBe(said);
      expect(first.code).toBe(1);
      // Resumed from that checkpoint: rewriting the header fails the same way.
      const second = await runCli(bulkArgs(server, input, out));
      expect(second.stderr).toBe(said);
      expect(second.code).toBe(1);
    },
  );

  describe('help and messages', () => {
    it('index accepts --max-line-bytes, as its help says input options work as for bulk, and documents -q (bug: refused; -q undocumented)', async () => {
      const help = await runCli(['index', '--help']);
      expect(help.stdout).toContain(
        '--format, --field, --id-field, --max-line-bytes   how to read the input',
      );
      expect(help.stdout).toContain('-q, --quiet');
      const input = file('long.txt', `item 1\n${'x'.repeat(100)}\n`);
      const result = await runCli(indexArgs(server, input, file('long.ekx'), ['--max-line-bytes', '50']));
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:2: the line is longer than --max-line-bytes (50 bytes); pass a larger --max-line-bytes if it is meant to be one input.\nNo index was written.\n`,
      );
      expect(result.code).toBe(1);
    });

    it('models --provider openai-compatible calls its models of kind embedding (bug: "openai_models")', async () => {
      const result = await runCli(['models', '--provider', 'openai-compatible', '--json']);
      expect(result.code).toBe(0);
      const kinds = new Set((JSON.parse(result.stdout) as { kind: string }[]).map((model) => model.kind));
      expect([...kinds]).toEqual(['embedding']);
    });

    it('--max-retries 0 does not say the engine retries (bug: "the engine retries these" after no retry)', async () => {
      const input = file('fail.txt', 'fail 1\n');
      const out = file('fail.jsonl');
      const result = await runCli(bulkArgs(server, input, out, ['--max-retries', '0']));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('; retries are turned off (--max-retries 0), so none was made.');
      expect(result.stderr).not.toContain('the engine retries');
      expect(result.stderr).not.toContain(FAKE_KEY);
    });
  });
});

describe('signals', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  let server: FakeServer;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  beforeAll(async () => {
    // Answers only once the test ends: a run is caught with its calls in flight.
    server = await startFakeOpenAI({ hold: () => held });
  });
  afterAll(async () => {
    release();
    await server.close();
    directory.remove();
  });

  it('SIGTERM stops bulk with exit 143, 128 + 15 (bug: 130, the code of SIGINT)', async () => {
    const input = file('in.txt', 'item 1\nitem 2\n');
    const out = file('out.jsonl');
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, out), {
      onSpawn: (child) => {
        waitFor(() => server.requests > requests, 'a request').then(() => child.kill('SIGTERM'));
      },
    });
    expect(result.stderr).toBe(
      `embedkit: interrupted. 0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(result.code).toBe(143);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s during index: says so, exits %d, leaves no lock and no temporary file (bug: both left behind, nothing said)',
    async (signal, code) => {
      const input = file(`index-${signal}.txt`, 'item 1\nitem 2\n');
      const out = file(`index-${signal}.ekx`);
      const requests = server.requests;
      const result = await runCli(indexArgs(server, input, out), {
        onSpawn: (child) => {
          waitFor(() => server.requests > requests, 'a request').then(() => child.kill(signal));
        },
      });
      expect(result.stderr).toBe('embedkit: interrupted; no index was written.\n');
      expect(result.code).toBe(code);
      expect(readdirSync(directory.path).filter((name) => name.startsWith(`index-${signal}.ekx`))).toEqual(
        [],
      );
    },
  );

  it('a signal during index --overwrite leaves the index already at --out as it was, and says so (bug: nothing covered the existing file)', async () => {
    const input = file('as-it-was.txt', 'item 1\nitem 2\n');
    const out = file('as-it-was.ekx', 'the earlier index\n');
    const requests = server.requests;
    const result = await runCli(indexArgs(server, input, out, ['--overwrite']), {
      onSpawn: (child) => {
        waitFor(() => server.requests > requests, 'a request').then(() => child.kill('SIGTERM'));
      },
    });
    expect(result.stderr).toBe(`embedkit: interrupted; no index was written (${out} is as it was).\n`);
    expect(result.code).toBe(143);
    expect(readFileSync(out, 'utf8')).toBe('the earlier index\n');
    expect(readdirSync(directory.path).filter((name) => name.startsWith('as-it-was.ekx'))).toEqual([
      'as-it-was.ekx',
    ]);
  });

  it('a signal while bulk waits for more of a stalled input ends the process (bug: it said "interrupted" and stayed alive until the pipe closed)', async () => {
    const answering = await startFakeOpenAI();
    let child: ChildProcess | undefined;
    try {
      const out = file('waits.jsonl');
      const running = runCli(bulkArgs(answering, '-', out, ['--format', 'txt', '--batch-size', '1']), {
        holdStdin: true,
        onSpawn: (spawned) => {
          child = spawned;
          spawned.stdin!.write('item 1\nitem 2\n');
        },
      });
      // Both lines written and saved: the run now waits for a third that does not come.
      await waitFor(
        () => existsSync(`${out}.checkpoint`) && readCheckpointFile(out)?.inputsDone === 2,
        'the lines',
      );
      child!.kill('SIGINT');
      const exited = await within(running, 5_000);
      expect(exited, 'the process ended within 5 s of the signal').toBeDefined();
      expect(exited!.code).toBe(130);
      expect(exited!.stderr).toContain('interrupted');
      expect(existsSync(`${out}.lock`)).toBe(false);
    } finally {
      child?.stdin?.end();
      await answering.close();
    }
  });

  it('a signal while a resumed bulk reads its stalled input again ends the run at once, with its code, releasing the lock (bug: it was seen only once another line came)', async () => {
    const answering = await startFakeOpenAI();
    let child: ChildProcess | undefined;
    try {
      const out = file('stalled.jsonl');
      const args = bulkArgs(answering, '-', out, ['--format', 'txt']);
      expect((await runCli(args, { stdin: 'item 1\nitem 2\n' })).code).toBe(0);
      // Resumed, the run reads the 2 lines already embedded again to check them; only 1 comes, so it
      // waits for the other, holding the lock. (It checks for a signal before each line: the signal is
      // sent once the lock is taken and the few file reads after it are surely over, so that it comes
      // while the read waits.)
      const running = runCli(args, {
        holdStdin: true,
        onSpawn: (spawned) => {
          child = spawned;
          spawned.stdin!.write('item 1\n');
        },
      });
      await waitFor(() => existsSync(`${out}.lock`), 'the lock');
      await new Promise((resolve) => setTimeout(resolve, 500));
      child!.kill('SIGTERM');
      const exited = await within(running, 5_000);
      expect(exited, 'the process ended within 5 s of the signal').toBeDefined();
      expect(exited).toMatchObject({ code: 143, signal: null });
      expect(exited!.stderr).toContain('interrupted');
      expect(existsSync(`${out}.lock`)).toBe(false);
      expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 2, complete: true });
    } finally {
      child?.stdin?.end();
      await answering.close();
    }
  });
});
