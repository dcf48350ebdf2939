import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeServer,
  filesIn,
  indexArgs,
  readJsonLines,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

/**
 * What the CLI says and refuses at a few more edges: the warning for an input type the model lacks,
 * said only by a run that sends inputs; a bulk job keyed by the input type it sends (so that one the
 * model lacks is no other job), earlier checkpoints included; an --out that is a symbolic link to a
 * directory; the lines named when a rejected call's halves go through; the command line without a
 * command; and a negative number given as an option's next argument.
 */

const MODEL = ['--model', 'openai:text-embedding-3-small'];
/** What a run that sends inputs says of `--input-type query` for an OpenAI model, which has no input types. */
const QUERY_IGNORED =
  'warning: openai model text-embedding-3-small has no "query" input type; the inputs were sent without one.\n';

const directory = temporaryDirectory();
const file = filesIn(directory.path);
let server: FakeServer;
beforeAll(async () => {
  server = await startFakeOpenAI();
  mkdirSync(file('vectors'));
});
afterAll(async () => {
  await server.close();
  directory.remove();
});

/** The first value of each record's vector (n for "item n") and its line, in the order written. */
const written = (out: string) =>
  readJsonLines<{ line: number; embedding: number[] }>(out).map((record) => [
    record.line,
    record.embedding[0],
  ]);
/** What {@link written} gives for "item 1" … "item <count>" on lines 1 … count. */
const itemsOnTheirLines = (count: number) => Array.from({ length: count }, (_, n) => [n + 1, n + 1]);

describe('an input type the model lacks, in bulk', () => {
  it('is said once by a run that sends its inputs', async () => {
    const input = file('sent.txt', 'item 1\nitem 2\n');
    const out = file('sent.jsonl');
    const result = await runCli(bulkArgs(server, input, out, ['--input-type', 'query']));
    expect(result.stderr).toBe(QUERY_IGNORED);
    expect(result.code).toBe(0);
    expect(written(out)).toStrictEqual(itemsOnTheirLines(2));
  });

  it('is not said by a run refused as another job, which sends nothing (bug: the warning said the inputs were sent)', async () => {
    const input = file('other-job.txt', 'item 1\nitem 2\n');
    const out = file('other-job.jsonl');
    expect((await runCli(bulkArgs(server, input, out))).code).toBe(0);
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, out, ['--input-type', 'query'], 8));
    expect(result.stderr).toBe(
      `embedkit: error: ${out} is the output of a different job (dimensions 4 → 8). Pass --restart to replace it, or choose another --out.\n`,
    );
    expect(result.code).toBe(1);
    expect(server.requests).toBe(requests);
  });

  it('is not said by a run whose first line is bad, or by a finished job run again (bug: both said the inputs were sent)', async () => {
    const bad = file('bad-first.jsonl', '{"text": ""}\n{"text": "item 2"}\n');
    const requests = server.requests;
    const refused = await runCli(
      bulkArgs(server, bad, file('bad-first-out.jsonl'), ['--input-type', 'query']),
    );
    expect(refused.stderr).toBe(
      `embedkit: error: ${bad}:1: the "text" field is empty; embedding APIs reject empty inputs.\n`,
    );
    expect(refused.code).toBe(1);
    const input = file('finished.txt', 'item 1\n');
    const out = file('finished.jsonl');
    expect((await runCli(bulkArgs(server, input, out))).code).toBe(0);
    const again = await runCli(bulkArgs(server, input, out, ['--input-type', 'query']));
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(server.requests).toBe(requests + 1);
  });

  it('is no other job: a run with it continues one without it (bug: refused, inputType null → "query", though the vectors are the same)', async () => {
    const input = file('continued.txt', 'item 1\nitem 2\n');
    const out = file('continued.jsonl');
    expect((await runCli(bulkArgs(server, input, out))).code).toBe(0);
    writeFileSync(input, 'item 1\nitem 2\nitem 3\n');
    const result = await runCli(bulkArgs(server, input, out, ['--input-type', 'query']));
    expect(result.stderr).toBe(QUERY_IGNORED);
    expect(result.code).toBe(0);
    expect(written(out)).toStrictEqual(itemsOnTheirLines(3));
  });

  it('a checkpoint that records it (as earlier versions wrote it) is continued by a run without it', async () => {
    const input = file('recorded.txt', 'item 1\nitem 2\n');
    const out = file('recorded.jsonl');
    expect((await runCli(bulkArgs(server, input, out, ['--input-type', 'query']))).code).toBe(0);
    const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'));
    expect(checkpoint.job.inputType).toBe(null);
    checkpoint.job.inputType = 'query';
    // Earlier versions did not mark the input type as the one sent.
    delete checkpoint.inputTypeSent;
    writeFileSync(`${out}.checkpoint`, JSON.stringify(checkpoint));
    writeFileSync(input, 'item 1\nitem 2\nitem 3\n');
    const result = await runCli(bulkArgs(server, input, out));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(written(out)).toStrictEqual(itemsOnTheirLines(3));
  });
});

describe('a checkpoint of another format', () => {
  /**
   * A job of two inputs, its first one done, whose checkpoint is rewritten as `rewrite` makes it: the
   * output then holds the record of line 1 only.
   */
  const halfDone = async (name: string, rewrite: (checkpoint: Record<string, unknown>) => void) => {
    const input = file(`${name}.txt`, 'item 1\n');
    const out = file(`${name}.jsonl`);
    expect((await runCli(bulkArgs(server, input, out))).code).toBe(0);
    const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'));
    checkpoint.complete = false;
    rewrite(checkpoint);
    writeFileSync(`${out}.checkpoint`, JSON.stringify(checkpoint));
    writeFileSync(input, 'item 1\nitem 2\n');
    return { input, out };
  };
  /** A version 1 checkpoint, as the first bulk wrote it: no server, no fingerprint of the input read. */
  const versionOne = (checkpoint: Record<string, unknown>) => {
    checkpoint.version = 1;
    delete (checkpoint.job as Record<string, unknown>).server;
    delete checkpoint.input;
    delete checkpoint.inputTypeSent;
  };

  it.each([
    [
      'version 1',
      versionOne,
      'was written by an earlier embedkit (checkpoint version 1; this one resumes version 2)',
    ],
    [
      'version 2 from before the server was recorded',
      (checkpoint: Record<string, unknown>) => {
        delete (checkpoint.job as Record<string, unknown>).server;
        delete checkpoint.inputTypeSent;
      },
      'was written by an earlier embedkit (a version 2 checkpoint that records no server)',
    ],
  ])(
    '%s: refused before any request, saying so and how to go on (bug: "the output of a different job (server (not recorded) → null)")',
    async (name, rewrite, said) => {
      const { input, out } = await halfDone(name.replaceAll(/[^a-z0-9]+/g, '-'), rewrite);
      const requests = server.requests;
      const result = await runCli(bulkArgs(server, input, out));
      expect(result.stderr).toBe(
        `embedkit: error: ${out}.checkpoint ${said}, which this embedkit cannot resume. Pass --restart to embed the input again from its first line, or finish the job with the embedkit that started it.\n`,
      );
      expect(result.code).toBe(1);
      expect(server.requests).toBe(requests);
      expect(written(out)).toStrictEqual(itemsOnTheirLines(1));
    },
  );

  it('of a later version: refused before any request, saying so (bug: "the output of a different job (another checkpoint version)")', async () => {
    const { input, out } = await halfDone('version-3', (checkpoint) => {
      checkpoint.version = 3;
    });
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.checkpoint was written by a later embedkit (checkpoint version 3; this one resumes version 2), which this embedkit cannot resume. Pass --restart to embed the input again from its first line, or finish the job with the embedkit that started it.\n`,
    );
    expect(result.code).toBe(1);
    expect(server.requests).toBe(requests);
  });

  it('without a version number: refused as damaged before any request (bug: "the output of a different job (another checkpoint version)")', async () => {
    const { input, out } = await halfDone('no-version', (checkpoint) => {
      delete checkpoint.version;
    });
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.checkpoint is damaged (version is not a checkpoint version); it was changed outside embedkit. Pass --restart to start again.\n`,
    );
    expect(result.code).toBe(1);
    expect(server.requests).toBe(requests);
  });

  it('--restart after the refusal writes every input once, in order', async () => {
    const { input, out } = await halfDone('version-1-restarted', versionOne);
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, out, ['--restart']));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(server.requests).toBe(requests + 1);
    expect(written(out)).toStrictEqual(itemsOnTheirLines(2));
    expect(JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'))).toMatchObject({
      version: 2,
      inputsDone: 2,
      complete: true,
    });
  });
});

describe('an --out that is a symbolic link to a directory', () => {
  it('is refused by index (exit 2) before any request, with --overwrite or without (bug: refused at the final rename, after every input was embedded)', async () => {
    const input = file('docs.txt', 'item 1\nitem 2\n');
    const link = file('index-link.ekx');
    symlinkSync('vectors', link);
    const requests = server.requests;
    for (const extra of [['--overwrite'], []]) {
      const result = await runCli(indexArgs(server, input, link, extra));
      expect(result.stderr).toBe(
        `embedkit: error: ${link} is a directory; --out names the index file to write, e.g. --out ${join(link, 'index.ekx')}.\nRun "embedkit index --help" for usage.\n`,
      );
      expect(result.code).toBe(2);
    }
    expect(server.requests).toBe(requests);
  });

  it('is refused by bulk (exit 2) before any request', async () => {
    const input = file('lines.txt', 'item 1\nitem 2\n');
    const link = file('bulk-link.jsonl');
    symlinkSync('vectors', link);
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, link));
    expect(result.stderr).toBe(
      `embedkit: error: ${link} is a directory; bulk writes a file it can resume, so --out must name a regular file or a path that does not exist yet.\nRun "embedkit bulk --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(requests);
  });
});

describe('a directory where bulk keeps its checkpoint or its lock', () => {
  it.each(['checkpoint', 'lock'])(
    'at <out>.%s is refused (exit 2) before any request, naming it (bug: exit 1 later, with "run the same command again")',
    async (suffix) => {
      const input = file(`lines-${suffix}.txt`, 'item 1\nitem 2\n');
      const out = file(`taken-${suffix}.jsonl`);
      mkdirSync(`${out}.${suffix}`);
      const requests = server.requests;
      const result = await runCli(bulkArgs(server, input, out));
      expect(result.stderr).toBe(
        `embedkit: error: ${out}.${suffix} is a directory; bulk keeps its own file there beside --out: remove it, or choose another --out.\nRun "embedkit bulk --help" for usage.\n`,
      );
      expect(result.code).toBe(2);
      expect(server.requests).toBe(requests);
      expect(existsSync(out)).toBe(false);
    },
  );
});

describe('a rejected call whose halves go through', () => {
  const refusal = {
    status: 400,
    body: { error: { message: 'Refused.', type: 'invalid_request_error' } },
  };
  const reason =
    'openai API error 400: Refused. — Check the inputs and options against the model’s capabilities. (HTTP 400)';

  /** Bulk over "item 0" … "item 299" in calls of 200, one at a time, against a server that refuses as `refuses` says. */
  async function run(name: string, refuses: (inputs: string[]) => boolean) {
    const refusing = await startFakeOpenAI({
      intercept: ({ inputs }) => (refuses(inputs) ? refusal : undefined),
    });
    try {
      const input = file(`${name}.txt`, `${Array.from({ length: 300 }, (_, n) => `item ${n}`).join('\n')}\n`);
      const out = file(`${name}.jsonl`);
      const result = await runCli(
        bulkArgs(refusing, input, out, ['--batch-size', '200', '--concurrency', '1']),
      );
      return { input, out, result, requests: refusing.requests };
    } finally {
      await refusing.close();
    }
  }

  it('names the lines of the narrowest call rejected: the first half, whose own halves go through (bug: lines 1–200, the whole call)', async () => {
    // A gateway that refuses calls of more than 50 inputs.
    const { input, out, result, requests } = await run('first-half', (inputs) => inputs.length > 50);
    expect(result.stderr).toBe(
      `embedkit: error: ${input}:1: the API rejected the call holding the inputs on lines 1–100 (100 inputs), but not its halves when they were sent again, so no one input is at fault: ${reason}\n` +
        `0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(result.code).toBe(1);
    // The call, its first half, then that half's two halves.
    expect(requests).toBe(4);
  });

  it('names the lines of the narrowest call rejected: a second half of a second half (bug: lines 1–200, the whole call)', async () => {
    // Two inputs that are refused together, never alone: lines 151 and 181.
    const { input, out, result, requests } = await run(
      'pair',
      (inputs) => inputs.includes('item 150') && inputs.includes('item 180'),
    );
    expect(result.stderr).toBe(
      `embedkit: error: ${input}:151: the API rejected the call holding the inputs on lines 151–200 (50 inputs), but not its halves when they were sent again, so no one input is at fault: ${reason}\n` +
        `0 inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(result.code).toBe(1);
    // The call, then two halves at each of three levels.
    expect(requests).toBe(7);
  });
});

describe('the command line', () => {
  it('no command is a usage error on stderr, with nothing on stdout (bug: the help on stdout, with exit 2)', async () => {
    const result = await runCli([]);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'embedkit: error: no command given: embedkit <command> [options], where <command> is embed, bulk, index, search or models.\nRun "embedkit --help" for usage.\n',
    );
    expect(result.code).toBe(2);
  });

  it('a negative number after an option gets the option’s own message, as it does after = (bug: parseArgs’ "argument is ambiguous")', async () => {
    for (const [command, spaced, joined, message] of [
      [
        'embed',
        ['--dimensions', '-1'],
        ['--dimensions=-1'],
        '--dimensions must be a whole number ≥ 1, got "-1".',
      ],
      [
        'embed',
        ['--timeout', '-.5'],
        ['--timeout=-.5'],
        '--timeout must be a decimal number > 0 (e.g. 30 or 0.5), got "-.5".',
      ],
      ['search', ['-k', '-3'], ['--top=-3'], '--top must be a whole number ≥ 1, got "-3".'],
    ] as const) {
      const positionals = command === 'search' ? ['docs.ekx', 'a query'] : ['a text'];
      const expected = `embedkit: error: ${message}\nRun "embedkit ${command} --help" for usage.\n`;
      for (const option of [spaced, joined]) {
        const result = await runCli([command, ...positionals, ...MODEL, ...option]);
        expect(result.stderr).toBe(expected);
        expect(result.code).toBe(2);
      }
    }
  });

  it('after --, an option’s name and a negative number are two texts, not an option and its value', async () => {
    const sent: string[][] = [];
    const recording = await startFakeOpenAI({
      intercept: ({ inputs }) => {
        sent.push(inputs);
        return undefined;
      },
    });
    try {
      const result = await runCli([
        'embed',
        ...MODEL,
        '--base-url',
        recording.baseURL,
        '--dimensions',
        '2',
        '--summary',
        '--',
        '--dimensions',
        '-1',
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(sent).toStrictEqual([['--dimensions', '-1']]);
    } finally {
      await recording.close();
    }
  });
});
