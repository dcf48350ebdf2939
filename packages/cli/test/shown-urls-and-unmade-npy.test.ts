import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bulkArgs,
  contextLengthError,
  indexArgs,
  indexBytesWithHeader,
  npyHeaderBytes,
  readCheckpointFile,
  readIndexFile,
  runCli,
  serverAndFiles,
  vectorFor,
} from './helpers.js';

/**
 * What the command shows of a base URL (query parameters' names, never their values), what a run stopped
 * before the first row of a `.npy` of unknown width says it left, a `(0, 0)` `.npy` an earlier version
 * made before that row, and an index header whose model fields are not names.
 */

let rejecting = false;
const suite = serverAndFiles({ intercept: () => (rejecting ? contextLengthError(0) : undefined) });
const { file } = suite;

const MODEL = ['--model', 'openai:text-embedding-3-small'];

/** The usage error of `command` for `message`, as the command prints it. */
const usage = (command: string, message: string) =>
  `embedkit: error: ${message}\nRun "embedkit ${command} --help" for usage.\n`;

/** An index of two documents at 4 dimensions, rewritten with its header changed by `change`. */
async function indexWithHeader(name: string, change: (header: Record<string, unknown>) => void) {
  const input = file(`${name}.txt`, 'item 1\nitem 2\n');
  const out = file(`${name}.ekx`);
  const built = await runCli(indexArgs(suite.server, input, out, ['-q']));
  expect(built.code).toBe(0);
  const { header } = readIndexFile(out);
  change(header);
  writeFileSync(out, indexBytesWithHeader(out, header));
  return out;
}

describe('a base URL in a message shows its query parameters’ names, never their values', () => {
  it('a refused --base-url whose parameters no list names as credentials (?k=, ?sig=, a bare value)', async () => {
    const query = `the paths are added to its end, so it cannot hold a query or a fragment (? or #)`;
    const cases: [string, string][] = [
      [
        'https://gateway.example/v1?k=abc123&sig=Zq8v3kP0',
        `--base-url must end with the API's path, e.g. http://localhost:8000/v1: ${query}; got "https://gateway.example/v1?k=…&sig=…".`,
      ],
      [
        'https://gateway.example/v1?abc123#frag',
        `--base-url must end with the API's path, e.g. http://localhost:8000/v1: ${query}; got "https://gateway.example/v1?…#…".`,
      ],
      [
        'gateway.example/v1?tenant=acme&k=abc123',
        '--base-url must be an absolute http(s) URL, e.g. http://localhost:8000/v1; got "gateway.example/v1?tenant=…&k=…".',
      ],
    ];
    for (const [baseURL, message] of cases) {
      const result = await runCli(['embed', 'hello', ...MODEL, '--base-url', baseURL]);
      expect(result.stderr).toBe(usage('embed', message));
      expect(result.code).toBe(2);
    }
  });

  it('search names the API root an earlier version recorded with a query, without its values', async () => {
    const out = await indexWithHeader('signed', (header) => {
      header.baseURL = 'https://gateway.example/v1?k=abc123';
    });
    const requests = suite.server.requests;
    const result = await runCli(['search', out, 'item 1', '--base-url', suite.server.baseURL]);
    const stored = 'https://gateway.example/v1?k=…';
    expect(result.stderr).toBe(
      `embedkit: error: ${out} was built through the API root ${stored}, and this run would send the query, with your API key, to ${suite.server.baseURL}. embedkit never sends a query to a server named in an index file on its own. If you trust ${stored} with your key, pass --base-url ${stored}; otherwise rebuild the index through your own API root.\n`,
    );
    expect(result.code).toBe(2);
    expect(suite.server.requests).toBe(requests);
  });

  it('bulk names the server an earlier checkpoint recorded with a query, without its values', async () => {
    const input = file('signed.txt', 'item 1\n');
    const out = file('signed.jsonl');
    expect((await runCli(bulkArgs(suite.server, input, out))).code).toBe(0);
    const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'));
    checkpoint.job.server = `${suite.server.baseURL}?k=abc123`;
    writeFileSync(`${out}.checkpoint`, JSON.stringify(checkpoint));
    const result = await runCli(bulkArgs(suite.server, input, out));
    expect(result.stderr).toBe(
      `embedkit: error: ${out} is the output of a different job (server "${suite.server.baseURL}?k=…" → "${suite.server.baseURL}"). Pass --restart to replace it, or choose another --out.\n`,
    );
    expect(result.code).toBe(1);
  });
});

describe('a .npy of a model of unknown length, stopped before its first row', () => {
  const args = (input: string, out: string) => [
    'bulk',
    input,
    '--out',
    out,
    '--model',
    'openai:text-embedding-9',
    '--base-url',
    suite.server.baseURL,
    '-q',
  ];
  const rejected = (input: string, out: string) =>
    `embedkit: error: ${input}:1: the API rejected this input: openai API error 400: Invalid 'input[0]': maximum input length is 8192 tokens. — Check the inputs and options against the model’s capabilities. (HTTP 400)\nno input is done yet, and ${out} is made with the first one: only its checkpoint ${out}.checkpoint is saved; fix or remove that input, then run the same command again to continue.\n`;

  it('a (0, 0) file an earlier version made is removed on resume, said to be unmade if stopped again, and made with the first row', async () => {
    const input = file('zero-width.txt', 'item 1\n');
    const out = file('zero-width.npy');
    const meta = file('zero-width.meta.jsonl');
    rejecting = true;
    try {
      const first = await runCli(args(input, out));
      expect(first.stderr).toBe(rejected(input, out));
      expect(first.code).toBe(1);
      expect(existsSync(out)).toBe(false);
      // What an earlier version left: the files made before the first row, of a width of 0.
      writeFileSync(out, npyHeaderBytes(0, 0));
      writeFileSync(meta, '');
      const again = await runCli(args(input, out));
      expect(again.stderr).toBe(rejected(input, out));
      expect(again.code).toBe(1);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(meta)).toBe(false);
      expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 0, complete: false });
    } finally {
      rejecting = false;
    }
    const resumed = await runCli(args(input, out));
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(readFileSync(out)).toEqual(
      Buffer.concat([npyHeaderBytes(1, 8), Buffer.from(vectorFor('item 1', 8).buffer)]),
    );
    expect(readFileSync(meta, 'utf8')).toBe('{"id":1,"line":1}\n');
  });
});

describe('an index header whose model fields are not names is damaged (exit 1)', () => {
  const damaged = (path: string, why: string) =>
    `embedkit: error: ${path} is damaged or not an embedkit index: ${why}. Rebuild it with "embedkit index".\n`;

  it.each([
    ['a model that is a number', 'number-model', { model: 5 }, `its header's model is 5, not a name`],
    ['no provider', 'no-provider', { provider: undefined }, 'its header has no provider'],
    ['an empty provider', 'empty-provider', { provider: '' }, `its header's provider is "", not a name`],
  ])(
    '%s is refused naming the field, before the query is sent, with or without --model',
    async (_, name, fields, why) => {
      const out = await indexWithHeader(name, (header) => Object.assign(header, fields));
      const requests = suite.server.requests;
      for (const extra of [[], ['--model', 'openai:text-embedding-3-small']]) {
        const result = await runCli(['search', out, 'item 1', '--base-url', suite.server.baseURL, ...extra]);
        expect(result.stderr).toBe(damaged(out, why));
        expect(result.code).toBe(1);
      }
      expect(suite.server.requests).toBe(requests);
    },
  );
});
