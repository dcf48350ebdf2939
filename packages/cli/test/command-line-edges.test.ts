import { existsSync, lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bulkArgs, firstValues, indexArgs, readJsonLines, runCli, serverAndFiles } from './helpers.js';

/**
 * A few more edges of the command line: an option that takes a value given twice, the echo of a refused
 * --base-url whose query names a credential in a gateway's own words, a .json input, an index --out that
 * is a loop of symbolic links, and a checkpoint whose job was sent an input type the model has since lost.
 */

const MODEL = ['--model', 'openai:text-embedding-3-small'];

const suite = serverAndFiles();
const { file } = suite;

/** The usage error of `command` for `message`, as the command prints it. */
const usage = (command: string, message: string) =>
  `embedkit: error: ${message}\nRun "embedkit ${command} --help" for usage.\n`;

describe('an option that takes a value, given twice', () => {
  it('is a usage error naming it, before anything is sent, in every spelling (bug: the last value was used without a word)', async () => {
    const embed = (...options: string[]) => [
      'embed',
      'hello',
      '--base-url',
      suite.server.baseURL,
      ...options,
    ];
    const cases: [string[], string, string][] = [
      [embed(...MODEL, '--dimensions', '256', '--dimensions', '512'), 'embed', 'dimensions'],
      [embed(...MODEL, '--dimensions=4', '--dimensions', '4'), 'embed', 'dimensions'],
      [embed('-m', 'openai:a', '--model', 'openai:text-embedding-3-small'), 'embed', 'model'],
      [embed(...MODEL, '--input-type', 'query', '--input-type=document'), 'embed', 'input-type'],
      [
        [
          'embed',
          'hello',
          ...MODEL,
          '--base-url',
          suite.server.baseURL,
          '--base-url',
          'http://127.0.0.1:9/v1',
        ],
        'embed',
        'base-url',
      ],
      [['models', '--provider', 'openai', '-p', 'jina'], 'models', 'provider'],
      [['search', file('none.ekx'), 'a query', '-k', '1', '--top', '2'], 'search', 'top'],
    ];
    const requests = suite.server.requests;
    for (const [args, command, name] of cases) {
      const result = await runCli(args);
      expect(result.stderr).toBe(usage(command, `--${name} is given more than once; give it once.`));
      expect(result.stdout).toBe('');
      expect(result.code).toBe(2);
    }
    expect(suite.server.requests).toBe(requests);
  });

  it('bulk given two outputs writes neither (bug: it wrote the second)', async () => {
    const input = file('two-outs.txt', 'item 1\n');
    const first = file('first.jsonl');
    const second = file('second.jsonl');
    const requests = suite.server.requests;
    const result = await runCli(bulkArgs(suite.server, input, first, ['-o', second]));
    expect(result.stderr).toBe(usage('bulk', '--out is given more than once; give it once.'));
    expect(result.code).toBe(2);
    expect([existsSync(first), existsSync(second), existsSync(`${second}.checkpoint`)]).toStrictEqual([
      false,
      false,
      false,
    ]);
    expect(suite.server.requests).toBe(requests);
  });

  it('a switch given twice says it once: --summary --summary prints the summary', async () => {
    const result = await runCli([
      'embed',
      'item 3',
      ...MODEL,
      '--dimensions',
      '2',
      '--base-url',
      suite.server.baseURL,
      '--summary',
      '--summary',
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      'openai:text-embedding-3-small 2 values (float), norm 12.8550: [3.0000, 12.5000]\n2 tokens\n',
    );
    expect(result.code).toBe(0);
  });
});

describe('a refused --base-url, shown in its message', () => {
  it('shows the names of its query parameters, never their values, whatever a gateway names its credentials', async () => {
    const cases: [string, string][] = [
      [
        'https://gateway.example/v1?auth=GwSecret41',
        `--base-url must end with the API's path, e.g. http://localhost:8000/v1: the paths are added to its end, so it cannot hold a query or a fragment (? or #); got "https://gateway.example/v1?auth=…".`,
      ],
      [
        'https://gateway.example/v1?tenant=a&x-my-token=GwSecret42',
        `--base-url must end with the API's path, e.g. http://localhost:8000/v1: the paths are added to its end, so it cannot hold a query or a fragment (? or #); got "https://gateway.example/v1?tenant=…&x-my-token=…".`,
      ],
      [
        'gateway.example/v1?Authorization=GwSecret43',
        '--base-url must be an absolute http(s) URL, e.g. http://localhost:8000/v1; got "gateway.example/v1?Authorization=…".',
      ],
      [
        'localhost:8080',
        '--base-url must be an absolute http(s) URL, e.g. http://localhost:8000/v1; got "localhost:8080".',
      ],
      [
        'ftp://files.example/v1',
        '--base-url must be an absolute http(s) URL, e.g. http://localhost:8000/v1; got "ftp://files.example/v1".',
      ],
    ];
    for (const [url, message] of cases) {
      const result = await runCli(['embed', 'hello', ...MODEL, '--base-url', url]);
      expect(result.stderr).toBe(usage('embed', message));
      expect(result.code).toBe(2);
    }
  });
});

describe('a .json input', () => {
  const array = '[\n  {"text": "item 1"},\n  {"text": "item 2"}\n]\n';

  it('is refused by bulk (exit 2) before anything is sent, with how to write it one record a line (bug: each line of JSON syntax was embedded)', async () => {
    const input = file('docs.json', array);
    const out = file('docs-out.jsonl');
    const requests = suite.server.requests;
    const result = await runCli(bulkArgs(suite.server, input, out));
    expect(result.stderr).toBe(
      usage(
        'bulk',
        `${input} is a .json file, which bulk does not read: its input is .txt (one text a line), .jsonl (one JSON object a line) or .csv. Write the records one a line (for an array of objects: jq -c '.[]' ${input} > ${file('docs.jsonl')}), or pass --format to say how to read it.`,
      ),
    );
    expect(result.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(suite.server.requests).toBe(requests);
  });

  it('is refused by index whatever the case of its extension, the path quoted for the shell', async () => {
    const input = file('my docs.JSON', array);
    const out = file('docs.ekx');
    const requests = suite.server.requests;
    const result = await runCli(indexArgs(suite.server, input, out));
    expect(result.stderr).toBe(
      usage(
        'index',
        `${input} is a .json file, which index does not read: its input is .txt (one text a line), .jsonl (one JSON object a line) or .csv. Write the records one a line (for an array of objects: jq -c '.[]' '${input}' > '${file('my docs.jsonl')}'), or pass --format to say how to read it.`,
      ),
    );
    expect(result.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(suite.server.requests).toBe(requests);
  });

  it('is read as --format says: one JSON object a line with --format jsonl', async () => {
    const input = file('lines.json', '{"id": "a", "text": "item 1"}\n{"id": "b", "text": "item 2"}\n');
    const out = file('lines-out.jsonl');
    const result = await runCli(bulkArgs(suite.server, input, out, ['--format', 'jsonl']));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readJsonLines<{ id: string }>(out).map((record) => record.id)).toStrictEqual(['a', 'b']);
    expect(firstValues(out)).toStrictEqual([1, 2]);
  });
});

describe('an index --out that is a loop of symbolic links', () => {
  it('is refused (exit 2) before anything is sent, the links left as they were (bug: the index replaced the link, without --overwrite, once every input was paid for)', async () => {
    const input = file('loop-docs.txt', 'item 1\nitem 2\n');
    const out = file('loop-a.ekx');
    symlinkSync('loop-b.ekx', out);
    symlinkSync('loop-a.ekx', file('loop-b.ekx'));
    const requests = suite.server.requests;
    for (const extra of [[], ['--overwrite']]) {
      const result = await runCli(indexArgs(suite.server, input, out, extra));
      expect(result.stderr).toBe(
        usage(
          'index',
          `${out} is a loop of symbolic links, which names no file to write the index to; remove the link, or choose another --out.`,
        ),
      );
      expect(result.code).toBe(2);
    }
    expect(suite.server.requests).toBe(requests);
    expect([lstatSync(out).isSymbolicLink(), readlinkSync(out)]).toStrictEqual([true, 'loop-b.ekx']);
    expect(existsSync(file('loop-a.ekx.lock'))).toBe(false);
  });
});

describe('a checkpoint whose job was sent an input type', () => {
  it('is another job to a run that sends none, now that the model lacks that type (bug: resumed, mixing vectors made with it and without)', async () => {
    const input = file('typed.txt', 'item 1\nitem 2\n');
    const out = file('typed.jsonl');
    expect((await runCli(bulkArgs(suite.server, input, out))).code).toBe(0);
    // As a run writes it when the model had "query" and sent it: the model's capabilities have changed since.
    const checkpointFile = `${out}.checkpoint`;
    const checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    expect(checkpoint.job.inputType).toBe(null);
    checkpoint.job.inputType = 'query';
    writeFileSync(checkpointFile, JSON.stringify(checkpoint));
    writeFileSync(input, 'item 1\nitem 2\nitem 3\n');
    const requests = suite.server.requests;
    const before = readFileSync(out);
    for (const extra of [['--input-type', 'query'], []]) {
      const result = await runCli(bulkArgs(suite.server, input, out, extra));
      expect(result.stderr).toBe(
        `embedkit: error: ${out} is the output of a different job (inputType "query" → null). Pass --restart to replace it, or choose another --out.\n`,
      );
      expect(result.code).toBe(1);
    }
    expect(suite.server.requests).toBe(requests);
    expect(readFileSync(out).equals(before)).toBe(true);
  });
});
