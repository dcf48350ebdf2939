import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bulkArgs,
  bulkStoppedAfterFirstBatch,
  expectSearchRefusesHeader,
  indexWithHeader,
  itemLines,
  parseNpy,
  range,
  readJsonLines,
  runCli,
  serverAndFiles,
} from './helpers.js';

/**
 * Flags of bulk that contradict each other or name its formats, an index header whose fields disagree,
 * and a .npy output stopped by Ctrl-C between two batches, then continued.
 */

const suite = serverAndFiles();
const { file } = suite;

const usage = (message: string) => `embedkit: error: ${message}\nRun "embedkit bulk --help" for usage.\n`;

describe('bulk: -q with --progress', () => {
  it.each(['plain', 'bar', 'auto'])(
    '-q with --progress %s is refused (exit 2) naming both, before any request',
    async (mode) => {
      const input = file(`quiet-${mode}.txt`, 'item 1\nitem 2\n');
      const out = file(`quiet-${mode}.jsonl`);
      const requests = suite.server.requests;
      for (const order of [
        ['-q', '--progress', mode],
        ['--progress', mode, '--quiet'],
      ]) {
        const result = await runCli(bulkArgs(suite.server, input, out, order));
        expect(result.stderr).toBe(
          usage(
            `-q (--quiet) and --progress ${mode} cannot be combined: -q shows no progress; give one of them.`,
          ),
        );
        expect(result.code).toBe(2);
      }
      expect(suite.server.requests).toBe(requests);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('-q with --progress none agrees with it: the run writes every input and prints nothing', async () => {
    const input = file('quiet-none.txt', 'item 1\nitem 2\n');
    const out = file('quiet-none.jsonl');
    const result = await runCli(bulkArgs(suite.server, input, out, ['-q', '--progress', 'none']));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readJsonLines<{ id: number }>(out).map((record) => record.id)).toStrictEqual([1, 2]);
  });
});

describe('bulk: .ndjson named where the formats are listed', () => {
  it('an --out of another extension is refused with the three it takes', async () => {
    const result = await runCli(['bulk', 'x.txt', '--out', 'x.csv', '--model', 'openai:m']);
    expect(result.stderr).toBe(usage('--out must end in .jsonl, .ndjson or .npy; got "x.csv".'));
    expect(result.code).toBe(2);
  });

  it('the help lists .ndjson input beside .jsonl', async () => {
    const result = await runCli(['bulk', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '\n  .jsonl, .ndjson      one JSON object a line; --field names the text, other fields are kept as metadata\n',
    );
  });

  it("index's help lists .ndjson input too", async () => {
    const result = await runCli(['index', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Embeds every input of a file (.txt, .jsonl, .ndjson or .csv, as for bulk;',
    );
  });
});

describe('an index header whose fields disagree or whose model is no model id is damaged (exit 1)', () => {
  it.each([
    [
      'a requestedDimensions other than its dimensions',
      'other-length',
      { requestedDimensions: 256 },
      `its header's requestedDimensions is 256 but its dimensions is 4, though the vectors have the length asked for`,
    ],
    [
      'a model holding a space',
      'spaced-model',
      { model: 'text embedding-3-small' },
      `its header's model is "text embedding-3-small", not a model id (one holds no white space or control characters)`,
    ],
    [
      'a model starting with a space',
      'leading-space-model',
      { model: ' text-embedding-3-small' },
      `its header's model is " text-embedding-3-small", not a model id (one holds no white space or control characters)`,
    ],
    [
      'a model holding a control character',
      'bell-model',
      { model: 'text-embedding-3-small\u0007' },
      `its header's model is "text-embedding-3-small\\u0007", not a model id (one holds no white space or control characters)`,
    ],
  ])(
    '%s is refused naming the field, before the query is sent, with or without --model',
    (_, name, fields, why) => expectSearchRefusesHeader(suite.server, file, name, fields, why),
  );

  it('a requestedDimensions equal to its dimensions is searched', async () => {
    const out = await indexWithHeader(suite.server, file, 'same-length', { requestedDimensions: 4 });
    const result = await runCli(['search', out, 'item 1', '--base-url', suite.server.baseURL, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).map((hit: { id: number }) => hit.id)).toStrictEqual([1, 2]);
  });
});

describe('bulk: a .npy output stopped by Ctrl-C between two batches, then continued', () => {
  it('holds every input once, in order, and its header counts exactly the rows it holds, at the stop and at the end', async () => {
    const input = file('stopped.txt', itemLines(1500));
    const out = file('stopped.npy');
    // The first run's second call is held until it is stopped; the server then answers every call at once.
    const { server, args } = await bulkStoppedAfterFirstBatch(input, out);
    try {
      const atStop = readFileSync(out);
      const stopFacts = parseNpy(atStop);
      expect(stopFacts.shape).toStrictEqual([100, 4]);
      expect(atStop.length).toBe(stopFacts.dataOffset + 100 * 4 * 4);

      const requests = server.requests;
      const resumed = await runCli(args);
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      expect(server.requests - requests).toBe(14);
    } finally {
      await server.close();
    }
    const bytes = readFileSync(out);
    const facts = parseNpy(bytes);
    expect(facts.shape).toStrictEqual([1500, 4]);
    expect(bytes.length).toBe(facts.dataOffset + 1500 * 4 * 4);
    const rows = new Float32Array(bytes.buffer, bytes.byteOffset + facts.dataOffset, 1500 * 4);
    expect(Array.from({ length: 1500 }, (_, row) => rows[row * 4])).toStrictEqual(range(1500));
    const meta = readJsonLines<{ id: number; line: number }>(out.replace(/\.npy$/, '.meta.jsonl'));
    expect(meta.map((record) => record.line)).toStrictEqual(range(1500).map((n) => n + 1));
  }, 60_000);
});
