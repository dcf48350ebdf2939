import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_OPTIONS } from '../src/input-options.js';
import {
  bulkArgs,
  type FakeServer,
  filesIn,
  type IndexFileDocument,
  indexArgs,
  readIndexFile,
  readJsonLines,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

// bulk and index read their input through the same options. Each one is run through both commands,
// with a value that works and values that do not: both must read the same records from the same input,
// and refuse with the same exit code and the same message naming the option. Bug caught: drift between
// the two (index once lacked --max-line-bytes, so it was refused as an unknown option).

const COMMANDS = ['bulk', 'index'] as const;
type Command = (typeof COMMANDS)[number];

/** A record as both commands keep it: bulk's vector set aside, index's as its documents hold it. */
type ReadRecord = IndexFileDocument;

interface OptionCase {
  option: string;
  /** How the input files of the case are named: the extension says the format unless --format does. */
  extension: '.txt' | '.jsonl';
  /** A value that changes how the input is read, the input, and what both must read from it. */
  good: { args: string[]; input: string; records: ReadRecord[] };
  /** Values refused before anything is read (a missing one among them): usage errors (exit 2). */
  refused: { args: string[]; message: string }[];
  /** A value the input's first line does not fit: a `file:line` error (exit 1) with this message. */
  unmet?: { args: string[]; input: string; message: string };
}

const CASES: OptionCase[] = [
  {
    option: '--format',
    extension: '.txt',
    // A .txt name holding a JSON line: only --format makes it a record rather than a text.
    good: {
      args: ['--format', 'jsonl'],
      input: '{"id":"a","text":"item 1","kind":"note"}\n',
      records: [{ id: 'a', line: 1, text: 'item 1', metadata: { kind: 'note' } }],
    },
    refused: [
      { args: ['--format', 'yaml'], message: '--format must be one of txt, jsonl, csv; got "yaml".' },
      { args: ['--format'], message: '--format needs a value.' },
    ],
  },
  {
    option: '--field',
    extension: '.jsonl',
    good: {
      args: ['--field', 'body'],
      input: '{"body":"item 1","text":"not this one"}\n',
      records: [{ id: 1, line: 1, text: 'item 1', metadata: { text: 'not this one' } }],
    },
    refused: [{ args: ['--field'], message: '--field needs a value.' }],
    unmet: {
      args: ['--field', 'body'],
      input: '{"text":"item 1"}\n',
      message: ':1: no "body" field (fields: text); choose one with --field.',
    },
  },
  {
    option: '--id-field',
    extension: '.jsonl',
    // The "id" field is then only metadata.
    good: {
      args: ['--id-field', 'key'],
      input: '{"id":"x1","key":"k1","text":"item 1"}\n',
      records: [{ id: 'k1', line: 1, text: 'item 1', metadata: { id: 'x1' } }],
    },
    refused: [{ args: ['--id-field'], message: '--id-field needs a value.' }],
    // Named, the field is required of every record: a misspelt one is not read as "no id".
    unmet: {
      args: ['--id-field', 'key'],
      input: '{"id":"x1","text":"item 1"}\n',
      message:
        ':1: no "key" field, which --id-field names (fields: id, text); every record needs one. Without --id-field, a record with no "id" field is identified by its line number.',
    },
  },
  {
    option: '--max-line-bytes',
    extension: '.txt',
    // A line of exactly the cap is read (its line break is not counted).
    good: {
      args: ['--max-line-bytes', '6'],
      input: 'item 1\n',
      records: [{ id: 1, line: 1, text: 'item 1' }],
    },
    refused: [
      { args: ['--max-line-bytes', '0'], message: '--max-line-bytes must be a whole number ≥ 1, got "0".' },
      {
        args: ['--max-line-bytes', '1.5'],
        message: '--max-line-bytes must be a whole number ≥ 1, got "1.5".',
      },
      { args: ['--max-line-bytes'], message: '--max-line-bytes needs a value.' },
    ],
    unmet: {
      args: ['--max-line-bytes', '5'],
      input: 'item 1\nitem 2\n',
      message:
        ':1: the line is longer than --max-line-bytes (5 bytes); pass a larger --max-line-bytes if it is meant to be one input.',
    },
  },
];

describe('the input options bulk and index share', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  let server: FakeServer;
  let runs = 0;

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  /** Runs `command` over `input` with `extra`, into an output of its own. */
  function run(command: Command, input: string, extra: string[]) {
    const out = file(`out-${++runs}.${command === 'bulk' ? 'jsonl' : 'ekx'}`);
    const args =
      command === 'bulk'
        ? bulkArgs(server, input, out, ['--include-text', ...extra])
        : indexArgs(server, input, out, ['--quiet', ...extra]);
    return { out, result: runCli(args) };
  }

  /** The records `command` wrote to `out`. */
  function recordsIn(command: Command, out: string): ReadRecord[] {
    if (command === 'index') return readIndexFile(out).docs;
    return readJsonLines<ReadRecord & { embedding: number[] }>(out).map(
      ({ embedding: _, ...record }) => record,
    );
  }

  it('every shared option is tested here, and both commands document it', async () => {
    expect(CASES.map((entry) => entry.option)).toEqual(Object.keys(INPUT_OPTIONS).map((name) => `--${name}`));
    for (const command of COMMANDS) {
      const help = (await runCli([command, '--help'])).stdout;
      for (const { option } of CASES)
        expect(help, `${command} --help`).toMatch(new RegExp(`[ ,]${option}[ ,]`));
    }
  });

  describe.each(CASES)('$option', ({ option, extension, good, refused, unmet }) => {
    const name = option.slice(2);

    it.each(COMMANDS)('%s reads the input as the value says', async (command) => {
      const input = file(`${name}-good${extension}`, good.input);
      const { out, result } = run(command, input, good.args);
      const { code, stderr } = await result;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(recordsIn(command, out)).toEqual(good.records);
    });

    it.each(COMMANDS)('%s refuses a bad value with exit 2, naming the option', async (command) => {
      const input = file(`${name}-refused${extension}`, '{"text":"item 1"}\n');
      const requests = server.requests;
      for (const { args, message } of refused) {
        const { code, stderr } = await run(command, input, args).result;
        expect(stderr).toBe(`embedkit: error: ${message}\nRun "embedkit ${command} --help" for usage.\n`);
        expect(code).toBe(2);
      }
      expect(server.requests).toBe(requests);
    });

    if (unmet === undefined) return;
    it.each(COMMANDS)(
      '%s refuses an input that does not fit the value with exit 1 at its line, naming the option',
      async (command) => {
        const input = file(`${name}-unmet${extension}`, unmet.input);
        const requests = server.requests;
        const { code, stderr } = await run(command, input, unmet.args).result;
        // The first line is the same; each command then says what became of its output.
        const after = command === 'index' ? 'No index was written.\n' : '';
        expect(stderr).toBe(`embedkit: error: ${input}${unmet.message}\n${after}`);
        expect(code).toBe(1);
        expect(server.requests).toBe(requests);
      },
    );
  });
});
