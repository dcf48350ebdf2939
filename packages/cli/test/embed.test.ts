import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_KEY,
  type FakeServer,
  OPENAI_CASSETTES,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

const FOOD = 'The food was delicious and the waiter was friendly.';

/** `embedkit embed <text> --model openai:text-embedding-3-small --replay <directory> …`, with no key set. */
const replayEmbed = (text: string, directory: string, ...extra: string[]) =>
  runCli(['embed', text, '--model', 'openai:text-embedding-3-small', '--replay', directory, ...extra], {
    env: { OPENAI_API_KEY: undefined },
  });

describe('embed', () => {
  let server: FakeServer;
  const bodies: Record<string, unknown>[] = [];
  beforeAll(async () => {
    server = await startFakeOpenAI({
      intercept: ({ inputs, body }) => {
        bodies.push(body);
        // Some APIs echo the key they were given; the CLI must still never print it.
        if (inputs[0] === 'auth-fail') {
          return {
            status: 401,
            body: {
              error: {
                message: `Incorrect API key provided: ${FAKE_KEY}.`,
                type: 'invalid_request_error',
                code: 'invalid_api_key',
              },
            },
          };
        }
        return undefined;
      },
    });
  });
  afterAll(() => server.close());

  const embed = (args: string[], env?: Record<string, string | undefined>) =>
    runCli(
      ['embed', ...args, '--model', 'openai:text-embedding-3-small', '--base-url', server.baseURL],
      env === undefined ? {} : { env },
    );

  it('prints each vector as a JSON array, one a line, and sends the dimensions', async () => {
    bodies.length = 0;
    const result = await embed(['item 3', 'item 4', '--dimensions', '4']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    // vectorFor("item n", 4) = [n, ((31n + 7) % 101) / 8, ((31n + 14) % 101) / 8, ((31n + 21) % 101) / 8]
    expect(result.stdout).toBe('[3,12.5,0.75,1.625]\n[4,3.75,4.625,5.5]\n');
    expect(bodies).toEqual([
      {
        model: 'text-embedding-3-small',
        input: ['item 3', 'item 4'],
        encoding_format: 'base64',
        dimensions: 4,
      },
    ]);
  });

  it('--json prints one object with the model, dimensions, usage and vectors', async () => {
    const result = await embed(['item 3', '--dimensions', '4', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      model: 'openai:text-embedding-3-small',
      dimensions: 4,
      outputType: 'float',
      inputType: null,
      usage: { inputTokens: 2 },
      embeddings: [[3, 12.5, 0.75, 1.625]],
    });
  });

  it('--summary prints the length, norm and first values; an input type the model lacks is a warning', async () => {
    const result = await embed(['item 3', '--dimensions', '4', '--summary', '--input-type', 'query']);
    expect(result.code).toBe(0);
    const norm = Math.hypot(3, 12.5, 0.75, 1.625).toFixed(4);
    expect(result.stdout).toBe(
      `openai:text-embedding-3-small 4 values (float), norm ${norm}: [3.0000, 12.5000, 0.7500, 1.6250]\n2 tokens\n`,
    );
    expect(result.stderr).toBe(
      'warning: openai model text-embedding-3-small has no "query" input type; the inputs were sent without one.\n',
    );
  });

  it('- reads the text from stdin', async () => {
    const result = await runCli(
      [
        'embed',
        '-',
        '--model',
        'openai:text-embedding-3-small',
        '--dimensions',
        '2',
        '--base-url',
        server.baseURL,
      ],
      { stdin: 'item 9\n' },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('[9,10.5]\n');
  });

  it('--replay answers from cassettes, with no key at all', async () => {
    const result = await replayEmbed(FOOD, OPENAI_CASSETTES, '--summary');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The cassette's documented first values.
    expect(result.stdout).toBe(
      'openai:text-embedding-3-small 1536 values (float), norm 1.0000: [0.0023, -0.0093, 0.0158, -0.0029, …]\n11 tokens\n',
    );
  });

  it('--replay with a text no cassette holds fails clearly, still without the network', async () => {
    const directory = temporaryDirectory();
    try {
      const result = await replayEmbed('something never recorded', OPENAI_CASSETTES, '--max-retries', '0');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^embedkit: error: no recording matches the input "something never recorded" in ${OPENAI_CASSETTES.replaceAll('/', '\\/')} \\(openai:text-embedding-3-small\\)\\.\\nThe recordings hold these inputs:\\n`,
        ),
      );
      expect(result.stderr).toContain(`  "${FOOD}"  (cassette "`);
      expect(result.stderr).toMatch(
        /Embed one of them, with the same options, or record a cassette for this call\.\n$/,
      );
      expect(result.stderr).not.toContain('418');
      const empty = await runCli([
        'embed',
        'x',
        '--model',
        'openai:text-embedding-3-small',
        '--replay',
        directory.path,
      ]);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toBe(`embedkit: error: ${directory.path} holds no cassettes (*.json files).\n`);
    } finally {
      directory.remove();
    }
  });

  it('--replay with a recording of the call whose query differs says so before listing the inputs', async () => {
    // A cassette recorded when the provider sent a query it no longer sends (or the other way round).
    const directory = temporaryDirectory();
    try {
      const cassette = JSON.parse(readFileSync(join(OPENAI_CASSETTES, 'base64-single.json'), 'utf8'));
      cassette.interactions[0].request.path = '/v1/embeddings?api-version=2024-10-21';
      writeFileSync(join(directory.path, 'moved.json'), JSON.stringify(cassette));
      const result = await replayEmbed(FOOD, directory.path, '--max-retries', '0');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `embedkit: error: no recording matches the input "${FOOD}" in ${directory.path} (openai:text-embedding-3-small).\n` +
          `Cassette "${cassette.name}" has this call with the path /v1/embeddings?api-version=2024-10-21, but the query differs: record it again, or write the path as it is sent now (/v1/embeddings).\n` +
          'The recordings hold these inputs:\n' +
          `  "${FOOD}"  (cassette "${cassette.name}", text-embedding-3-small)\n` +
          'Embed one of them, with the same options, or record a cassette for this call.\n',
      );
    } finally {
      directory.remove();
    }
  });

  it('a provider that does not exist is not sent to npm: the real ones are named instead', async () => {
    const result = await runCli(['embed', 'hello', '--model', 'nosuchprovider:model-1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `embedkit: error: There is no "nosuchprovider" provider.\nembedkit's providers are openai, voyage, gemini, jina (npm install @embedkit/provider-<name>), and openai-compatible with --base-url for any server that speaks OpenAI's /embeddings (vLLM, TEI, Ollama, gateways).\n`,
    );
  });

  it('a missing key names the environment variable to set and the flag that names another', async () => {
    const result = await embed(['hello'], { OPENAI_API_KEY: undefined });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'embedkit: error: openai needs an API key: set OPENAI_API_KEY, or name the variable that holds it with --api-key-env <VAR>. To try a command without a key, add --replay <dir> with recorded cassettes.\n',
    );
  });

  it('an authentication failure is reported without the key, even when the API echoes it', async () => {
    const result = await embed(['auth-fail']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^embedkit: error: openai API error 401: Incorrect API key provided: .*\(HTTP 401\)\n$/,
    );
    expect(result.stdout + result.stderr).not.toContain(FAKE_KEY);
  });

  it('an option the model cannot honour is a usage error (exit 2) before any request; an input type it lacks is one warning', async () => {
    const before = server.requests;
    const result = await embed(['hello', '--output-type', 'int8']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'embedkit: error: openai model text-embedding-3-small cannot return int8 vectors; it supports float.\nRun "embedkit models --provider openai" for what each model supports.\n',
    );
    expect(server.requests).toBe(before);
    const inputType = await embed(['item 1', '--dimensions', '2', '--input-type', 'query']);
    expect(inputType.code).toBe(0);
    expect(inputType.stderr).toBe(
      'warning: openai model text-embedding-3-small has no "query" input type; the inputs were sent without one.\n',
    );
  });
});

describe('help', () => {
  it('embedkit --help lists every command; no command at all is a usage error', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['embed <text>', 'bulk <input>', 'index <input>', 'search <ekx>', 'models']) {
      expect(help.stdout).toContain(`  ${command}`);
    }
    expect(help.stdout).toContain('OPENAI_API_KEY, VOYAGE_API_KEY');
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Run "embedkit --help" for usage.');
  });

  it('embedkit help --help and help -h print the help (they said: unknown command "--help")', async () => {
    const help = await runCli(['--help']);
    for (const flag of ['--help', '-h']) {
      const result = await runCli(['help', flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(help.stdout);
    }
  });

  it.each(['embed', 'bulk', 'index', 'search', 'models'])(
    'embedkit %s --help, the same as embedkit help <command>',
    async (command) => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: embedkit ${command}`));
      expect(result.stdout).toContain('Example');
      const viaHelp = await runCli(['help', command]);
      expect(viaHelp.stdout).toBe(result.stdout);
    },
  );

  it.each(['embed', 'bulk', 'index', 'search'])(
    'embedkit %s --help says --api-key-env works for every provider (bug: bulk said openai-compatible only)',
    async (command) => {
      const { stdout } = await runCli([command, '--help']);
      const lines = stdout.split('\n').filter((line) => line.includes('--api-key-env'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((line) => /openai-compatible/.test(line))).toEqual([]);
      if (command === 'embed' || command === 'bulk')
        expect(lines).toEqual([
          "  --api-key-env <var>  the environment variable holding the key (default: the provider's usual one)",
        ]);
    },
  );

  it('an unknown command exits 2', async () => {
    const result = await runCli(['embedd', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'embedkit: error: unknown command "embedd"; did you mean "embed"?\nRun "embedkit --help" for usage.\n',
    );
  });

  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.stdout).toBe('0.1.0\n');
  });
});

describe('the replay path needs no network', () => {
  it('is served on the cassettes only (the recorded origin is never contacted)', async () => {
    // With every proxy variable pointing nowhere, a real request would fail; the replay still answers.
    const result = await runCli(
      [
        'embed',
        'The food was delicious and the waiter was friendly.',
        '--model',
        'openai:text-embedding-3-small',
        '--replay',
        OPENAI_CASSETTES,
      ],
      {
        env: {
          OPENAI_API_KEY: undefined,
          HTTPS_PROXY: 'http://127.0.0.1:9',
          HTTP_PROXY: 'http://127.0.0.1:9',
        },
      },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toHaveLength(1536);
  });
});
