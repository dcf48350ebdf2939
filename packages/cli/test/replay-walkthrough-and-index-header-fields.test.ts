import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectSearchRefusesHeader,
  OPENAI_CASSETTES,
  PACKAGE_ROOT,
  readJsonLines,
  runCli,
  serverAndFiles,
  temporaryDirectory,
} from './helpers.js';

/**
 * The README's walk-through of every command over the repository's own OpenAI recordings, with no key,
 * and the index header fields a search takes its model and the query's options from.
 */

describe("the README's --replay walk-through runs every command without a key", () => {
  /** The commands as the README writes them, `$cassettes` standing for the recordings' directory. */
  const commands = [
    'embedkit embed "The food was delicious and the waiter was friendly." \\\n  --model openai:text-embedding-3-small --replay $cassettes --summary',
    'embedkit bulk docs.txt --model openai:text-embedding-3-small --dimensions 4 --out docs.jsonl --replay $cassettes',
    'embedkit index docs.txt --model openai:text-embedding-3-small --dimensions 4 --out docs.ekx --replay $cassettes',
    'embedkit search docs.ekx "The weather is sunny today" --replay $cassettes',
  ];

  it('embed, bulk, index and search each find their recording, and answer as the README shows', async () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    for (const command of commands) expect(readme).toContain(command);
    expect(readme).toContain(
      "printf 'Machine learning models require training data\\nThe weather is sunny today\\n' > docs.txt",
    );
    expect(readme).toContain(
      '# 1\t1.0000\t2\tThe weather is sunny today\n# 2\t-0.0964\t1\tMachine learning models require training data\n',
    );

    const directory = temporaryDirectory();
    try {
      writeFileSync(
        join(directory.path, 'docs.txt'),
        'Machine learning models require training data\nThe weather is sunny today\n',
      );
      const options = { cwd: directory.path, env: { OPENAI_API_KEY: undefined } };
      const model = ['--model', 'openai:text-embedding-3-small'];
      const replay = ['--replay', OPENAI_CASSETTES];

      const embedded = await runCli(
        ['embed', 'The food was delicious and the waiter was friendly.', ...model, ...replay, '--summary'],
        options,
      );
      expect(embedded).toMatchObject({
        code: 0,
        stderr: '',
        stdout:
          'openai:text-embedding-3-small 1536 values (float), norm 1.0000: [0.0023, -0.0093, 0.0158, -0.0029, …]\n11 tokens\n',
      });

      const bulk = await runCli(
        ['bulk', 'docs.txt', ...model, '--dimensions', '4', '--out', 'docs.jsonl', ...replay],
        options,
      );
      expect(bulk.stderr.replace(/ in \d+\.\ds,/, ' in 0.0s,')).toBe(
        'embedkit: done: 2 inputs in docs.jsonl (2 this run) in 0.0s, 0 retries, 0 rate-limit waits.\n',
      );
      expect(bulk.code).toBe(0);
      expect(readJsonLines(join(directory.path, 'docs.jsonl'))).toEqual([
        { id: 1, line: 1, embedding: [-0.264609575, -0.891452909, -0.276024669, 0.243112952] },
        { id: 2, line: 2, embedding: [0.671815097, 0.194768056, -0.634738803, 0.328384668] },
      ]);

      const indexed = await runCli(
        ['index', 'docs.txt', ...model, '--dimensions', '4', '--out', 'docs.ekx', ...replay],
        options,
      );
      expect(indexed).toMatchObject({
        code: 0,
        stdout: '',
        stderr: 'embedkit: indexed 2 inputs (4 dimensions, openai:text-embedding-3-small) into docs.ekx\n',
      });

      const searched = await runCli(['search', 'docs.ekx', 'The weather is sunny today', ...replay], options);
      expect(searched).toMatchObject({
        code: 0,
        stderr: '',
        stdout:
          '1\t1.0000\t2\tThe weather is sunny today\n2\t-0.0964\t1\tMachine learning models require training data\n',
      });
    } finally {
      directory.remove();
    }
  });
});

describe('an index header whose query options or provider are not what index writes is damaged (exit 1)', () => {
  const suite = serverAndFiles();
  const { file } = suite;

  const inputTypes =
    'query, document, similarity, classification, clustering, code-query, code-document, question-answering, fact-verification';

  it.each([
    [
      'a requestedDimensions that is a string',
      'string-dimensions',
      { requestedDimensions: '256' },
      `its header's requestedDimensions is "256", not null or a whole number ≥ 1`,
    ],
    [
      'a requestedDimensions of 0',
      'zero-dimensions',
      { requestedDimensions: 0 },
      `its header's requestedDimensions is 0, not null or a whole number ≥ 1`,
    ],
    [
      'no requestedDimensions',
      'no-dimensions',
      { requestedDimensions: undefined },
      'its header has no requestedDimensions',
    ],
    [
      'a queryInputType that is a number',
      'number-query-type',
      { queryInputType: 7 },
      `its header's queryInputType is 7, not null or one of ${inputTypes}`,
    ],
    [
      'a queryInputType that is no input type',
      'unknown-query-type',
      { queryInputType: 'questions' },
      `its header's queryInputType is "questions", not null or one of ${inputTypes}`,
    ],
    [
      'a provider holding a colon',
      'colon-provider',
      { provider: 'openai:text-embedding-3-large' },
      `its header's provider is "openai:text-embedding-3-large", not a name`,
    ],
    [
      'a provider in capitals',
      'capital-provider',
      { provider: 'OpenAI' },
      `its header's provider is "OpenAI", not a name`,
    ],
  ])(
    '%s is refused naming the field, before the query is sent, with or without --model',
    (_, name, fields, why) => expectSearchRefusesHeader(suite.server, file, name, fields, why),
  );
});
