import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BIN,
  bulkArgs,
  FAKE_KEY,
  itemLines,
  PACKAGE_ROOT,
  readCheckpointFile,
  runCli,
  serverAndFiles,
  startFakeOpenAI,
  waitFor,
} from './helpers.js';

/**
 * The command run from outside as users run it: an option whose value was left out before another
 * option, a switch given a value, an empty text among several, a directory given as an index, a
 * standard output that cannot be written, and a standard error whose reader has gone.
 */

const MODEL = ['--model', 'openai:text-embedding-3-small'];

const suite = serverAndFiles();
const { file } = suite;

/** The usage error of `command` for `message`, as the command prints it. */
const usage = (command: string, message: string) =>
  `embedkit: error: ${message}\nRun "embedkit ${command} --help" for usage.\n`;

describe('an option whose value is left out before another option', () => {
  it('says in one line that the option needs a value (bug: parseArgs’ three lines about an "ambiguous" argument)', async () => {
    const cases: [string, string[], string][] = [
      ['embed', ['hello', '--dimensions', '--json', ...MODEL], 'dimensions'],
      ['embed', ['hello', '-m', '--json'], 'model'],
      ['bulk', ['docs.txt', ...MODEL, '--out', '--overwrite'], 'out'],
      ['search', ['docs.ekx', 'a query', '-k', '--json'], 'top'],
      ['models', ['--provider', '--json'], 'provider'],
    ];
    const requests = suite.server.requests;
    for (const [command, args, name] of cases) {
      const result = await runCli([command, ...args, '--base-url', suite.server.baseURL]);
      expect(result.stderr).toBe(
        usage(
          command,
          `--${name} needs a value, but the argument after it starts with -. A value that starts with - is written --${name}=<value>.`,
        ),
      );
      expect(result.stdout).toBe('');
      expect(result.code).toBe(2);
    }
    expect(suite.server.requests).toBe(requests);
  });

  it('a switch given a value says it takes none, in the command’s words (bug: parseArgs’ "does not take an argument")', async () => {
    for (const [command, args, name] of [
      ['embed', ['hello', ...MODEL, '--json=true'], 'json'],
      ['bulk', ['docs.txt', ...MODEL, '--out', 'x.jsonl', '--no-cache=1'], 'no-cache'],
      ['models', ['--json=yes'], 'json'],
    ] as const) {
      const result = await runCli([command, ...args]);
      expect(result.stderr).toBe(usage(command, `--${name} takes no value; give it alone.`));
      expect(result.code).toBe(2);
    }
  });
});

describe('a short option joined to its value with =', () => {
  it('says how to write it (bug: -m=openai:… read the value "=openai:…", refused as the provider "=openai")', async () => {
    const cases: [string, string[], string, string][] = [
      ['embed', ['hello', '-m=openai:text-embedding-3-small'], '-m', 'model'],
      ['search', ['docs.ekx', 'a query', '-k=3'], '-k', 'top'],
      ['bulk', ['docs.txt', ...MODEL, '-o=x.jsonl'], '-o', 'out'],
      ['models', ['-p=openai'], '-p', 'provider'],
    ];
    const requests = suite.server.requests;
    for (const [command, args, short, name] of cases) {
      const server = command === 'models' ? [] : ['--base-url', suite.server.baseURL];
      const result = await runCli([command, ...args, ...server]);
      expect(result.stderr).toBe(
        usage(
          command,
          `${short}=… gives ${short} a value that starts with "="; write ${short} <value> or --${name}=<value>.`,
        ),
      );
      expect(result.code).toBe(2);
    }
    expect(suite.server.requests).toBe(requests);
  });
});

describe('embed with an empty text among several', () => {
  it('names the text that is empty (bug: "a text is empty" said not which of three)', async () => {
    const requests = suite.server.requests;
    const result = await runCli([
      'embed',
      'item 1',
      ' ',
      'item 3',
      ...MODEL,
      '--base-url',
      suite.server.baseURL,
    ]);
    expect(result.stderr).toBe(
      'embedkit: error: text 2 (of 3) is empty; embedding APIs reject empty inputs.\n',
    );
    expect(result.stdout).toBe('');
    expect(result.code).toBe(1);
    expect(suite.server.requests).toBe(requests);
  });

  it('a single empty text is "the text"', async () => {
    const result = await runCli(['embed', '', ...MODEL, '--base-url', suite.server.baseURL]);
    expect(result.stderr).toBe('embedkit: error: the text is empty; embedding APIs reject empty inputs.\n');
    expect(result.code).toBe(1);
  });
});

describe('search given something that is not an index file', () => {
  // Skipped only where mkfifo makes no named pipe (Windows); CI runs it.
  it.skipIf(process.platform === 'win32')(
    'a named pipe (<(zcat docs.ekx.gz)) is refused at once, saying to save it to a file (bug: "ESPIPE: invalid seek, read"; with no writer, it waited forever)',
    async () => {
      const pipe = file('an-index-pipe');
      execFileSync('mkfifo', [pipe]);
      const requests = suite.server.requests;
      const result = await runCli(['search', pipe, 'a query', '--base-url', suite.server.baseURL]);
      expect(result.stderr).toBe(
        `embedkit: error: cannot read ${pipe}: it is not a regular file (a pipe or a device), and search reads an index at positions: save it to a file first.\n`,
      );
      expect(result.code).toBe(1);
      expect(suite.server.requests).toBe(requests);
    },
  );

  it('a directory is named as one (bug: "EISDIR: illegal operation on a directory, read")', async () => {
    const directory = file('an-index-directory');
    mkdirSync(directory);
    const requests = suite.server.requests;
    const result = await runCli(['search', directory, 'a query', '--base-url', suite.server.baseURL]);
    expect(result.stderr).toBe(`embedkit: error: cannot read ${directory}: it is a directory.\n`);
    expect(result.code).toBe(1);
    expect(suite.server.requests).toBe(requests);
  });
});

/** Runs `embedkit <args>` with `stdout` and `stderr` as given (a file descriptor, or a pipe to read). */
function spawnCli(args: string[], stdout: number | 'pipe', stderr: number | 'pipe') {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, OPENAI_API_KEY: FAKE_KEY, EMBEDKIT_NO_CACHE: '1', NO_COLOR: '1' },
    stdio: ['ignore', stdout, stderr],
  });
}

describe.runIf(existsSync('/dev/full'))('a standard output that cannot be written (a full disk)', () => {
  it('is one line naming stdout and what the system said, exit 1 (bug: a stack trace of ENOSPC)', async () => {
    const cases: string[][] = [
      ['models', '--provider', 'openai'],
      ['embed', 'item 1', ...MODEL, '--dimensions', '4', '--base-url', suite.server.baseURL],
    ];
    for (const args of cases) {
      const full = openSync('/dev/full', 'w');
      const child = spawnCli(args, full, 'pipe');
      closeSync(full);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toBe('embedkit: error: cannot write to stdout: no space left on the device (ENOSPC).\n');
      expect(code).toBe(1);
    }
  });
});

describe('a standard output closed early by its reader (| head -1)', () => {
  it('ends embed quietly with exit 0 (a guard: without its handler, EPIPE is a stack trace and exit 1)', async () => {
    const texts = Array.from({ length: 300 }, (_, index) => `item ${index + 1}`);
    const child = spawnCli(
      ['embed', ...texts, ...MODEL, '--dimensions', '1536', '--base-url', suite.server.baseURL],
      'pipe',
      'pipe',
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Megabytes of vectors: the reader goes after the first chunk, long before the last line.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy();
    expect(await closed).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('bulk whose standard error is closed by its reader (2>&1 | head -1)', () => {
  it('finishes the job and exits 0, its messages dropped (bug: the next progress line threw EPIPE and killed the run, lock left behind)', async () => {
    const input = file('stderr-closed.txt', itemLines(1500));
    const out = file('stderr-closed.jsonl');
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? undefined : released) });
    try {
      const args = bulkArgs(server, input, out, [
        '--batch-size',
        '100',
        '--concurrency',
        '1',
        '--progress',
        'plain',
        '--progress-interval',
        '0.05',
      ]);
      const child = spawnCli(args, 'pipe', 'pipe');
      child.stdout!.resume();
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      // The reader goes after the first line, as head -1 does.
      await new Promise<void>((resolve) => child.stderr!.once('data', () => resolve()));
      child.stderr!.destroy();
      await Promise.race([
        waitFor(() => (readCheckpointFile(out)?.inputsDone ?? 0) > 0, 'the first saved batch'),
        closed.then((code) => {
          throw new Error(`the run ended (exit ${code}) before its first batch was saved`);
        }),
      ]);
      release();
      expect(await closed).toBe(0);
      expect(readFileSync(out, 'utf8').split('\n').length - 1).toBe(1500);
      expect(readCheckpointFile(out)?.inputsDone).toBe(1500);
      expect(existsSync(`${out}.lock`)).toBe(false);
    } finally {
      release();
      await server.close();
    }
  });
});

describe('--field or --id-field given for an input read as plain text', () => {
  it('is a usage error before anything is read, written or sent (bug: ignored, so JSON lines in a .txt or on stdin were embedded whole, ids their line numbers)', async () => {
    const records = '{"key":"a","body":"item 1"}\n{"key":"b","body":"item 2"}\n';
    const input = file('records.txt', records);
    const cases: [string[], string, string, { stdin?: string }][] = [
      [['--field', 'body'], '--field', input, {}],
      [['--id-field', 'key'], '--id-field', input, {}],
      [['--field', 'body', '--id-field', 'key'], '--field and --id-field', input, {}],
      [['--id-field', 'key', '--format', 'txt'], '--id-field', input, {}],
      [['--field', 'body'], '--field', '-', { stdin: records }],
    ];
    const requests = suite.server.requests;
    for (const command of ['bulk', 'index'] as const) {
      for (const [extra, named, source, options] of cases) {
        const out = file(`plain-text-fields.${command === 'bulk' ? 'jsonl' : 'ekx'}`);
        const args = [
          command,
          source,
          ...MODEL,
          '--dimensions',
          '4',
          '--base-url',
          suite.server.baseURL,
          '--out',
          out,
          ...extra,
        ];
        const result = await runCli(args, options);
        const shown = source === '-' ? 'stdin' : source;
        expect(result.stderr).toBe(
          usage(
            command,
            `${named} ${named.includes(' and ') ? 'name fields' : 'names a field'} of .jsonl and .csv records, but ${shown} is read as plain text, one input a line; pass --format jsonl or --format csv if it holds records.`,
          ),
        );
        expect(result.code).toBe(2);
        expect([existsSync(out), existsSync(`${out}.checkpoint`), existsSync(`${out}.lock`)]).toStrictEqual([
          false,
          false,
          false,
        ]);
      }
    }
    expect(suite.server.requests).toBe(requests);
  });

  it('with --format jsonl the same file is read as records', async () => {
    const input = file('records-as-jsonl.txt', '{"key":"a","body":"item 1"}\n');
    const out = file('records-as-jsonl.jsonl');
    const result = await runCli(
      bulkArgs(suite.server, input, out, ['--format', 'jsonl', '--field', 'body', '--id-field', 'key']),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^\{"id":"a","line":1,"embedding":\[/);
  });
});

describe('stdin redirected from a directory (< dir)', () => {
  it('is said to be a directory by embed, bulk and index, before anything is made or sent (bug: "stdin is empty", "no inputs (every line is blank)")', async () => {
    const directory = file('a-stdin-directory');
    mkdirSync(directory);
    const requests = suite.server.requests;
    const message =
      'cannot read stdin: it is a directory; redirect a file with <, or pass its path instead of -.';
    for (const command of ['embed', 'bulk', 'index'] as const) {
      const out = file(`stdin-directory.${command === 'bulk' ? 'jsonl' : 'ekx'}`);
      const args = [command, '-', ...MODEL, '--dimensions', '4', '--base-url', suite.server.baseURL];
      const result = await runCli(command === 'embed' ? args : [...args, '--out', out], {
        stdinFile: directory,
      });
      expect(result.stderr).toBe(`embedkit: error: ${message}\n`);
      expect(result.stdout).toBe('');
      expect(result.code).toBe(1);
      expect([existsSync(out), existsSync(`${out}.checkpoint`), existsSync(`${out}.lock`)]).toStrictEqual([
        false,
        false,
        false,
      ]);
    }
    expect(suite.server.requests).toBe(requests);
  });
});

describe('each command’s help names the short forms it accepts', () => {
  it('models --help names -p beside --provider (bug: -p was accepted but never shown)', async () => {
    const help = await runCli(['models', '--help']);
    expect(help.stdout).toContain('\n  -p, --provider <name>  only this provider');
    const short = await runCli(['models', '-p', 'openai']);
    expect(short.code).toBe(0);
    expect(short.stdout).toBe((await runCli(['models', '--provider', 'openai'])).stdout);
  });
});
