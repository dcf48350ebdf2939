import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeAnswer,
  type FakeServerOptions,
  indexArgs,
  rateLimited,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

// The library's messages name its settings (`maxRetries`, `rateLimit`, `concurrency`, `timeoutMs`,
// `maxRetryDelayMs`, `dimensions`), which mean nothing on a command line. What a command prints says each
// as the flag that command has for it, and where it has none, leaves the part that names it out. Each
// line is checked whole: a library word left anywhere in it fails the test.

const MODEL = ['--model', 'openai:text-embedding-3-small'];

/** OpenAI's 429 for a per-day limit: its own words name the wait (7m12s). */
function perDayLimit(number: number): FakeAnswer {
  return {
    status: 429,
    headers: { 'x-request-id': `req-429-${number}` },
    body: {
      error: {
        message:
          'Rate limit reached on requests per day (RPD): Limit 200, Used 200. Please try again in 7m12s.',
        type: 'requests',
      },
    },
  };
}

const PER_DAY =
  'openai API error 429: Rate limit reached on requests per day (RPD): Limit 200, Used 200. Please try again in 7m12s. — A per-day limit of the organization (requests or tokens per day) is used up';
const PER_DAY_WAIT =
  "wait until the time the API names, or raise the organization's usage tier; the API asked to wait 432 s, longer than the engine's retries can wait (1 left, at most 60 s each), so no retry was made: try again after 432 s. (HTTP 429, request id req-429-1)";

/** A loopback server that answers every request with `status` and the JSON `body`. */
async function answeringAlways(status: number, body: unknown) {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const directory = temporaryDirectory();
afterAll(() => directory.remove());
const input = join(directory.path, 'two.txt');
writeFileSync(input, 'a\nb\n');

/**
 * Runs the arguments `args(baseURL, out)` makes (`out` a fresh path without an extension) against a fake
 * server answering each request as `answer` says: a function of the request's number, or the server's
 * options.
 */
async function runAgainst(
  answer: ((number: number) => FakeAnswer | undefined) | FakeServerOptions,
  args: (baseURL: string, out: string) => string[] | Promise<string[]>,
) {
  const server = await startFakeOpenAI(
    typeof answer === 'function' ? { intercept: ({ number }) => answer(number) } : answer,
  );
  const out = join(directory.path, `out-${Math.random().toString(36).slice(2)}`);
  try {
    const result = await runCli(await args(server.baseURL, out));
    return { ...result, requests: server.requests };
  } finally {
    await server.close();
  }
}

const embed =
  (...extra: string[]) =>
  (baseURL: string) => ['embed', 'hi', ...MODEL, '--base-url', baseURL, ...extra];

describe('errors after a call, in each command’s flags', () => {
  it('embed, no retries: "--max-retries 0", not "maxRetries 0" (bug: the setting’s name)', async () => {
    const result = await runAgainst(
      (number) => ({
        status: 500,
        headers: { 'x-request-id': `req-500-${number}` },
        body: { error: { message: 'Internal error.' } },
      }),
      embed('--max-retries', '0'),
    );
    expect(result.stderr).toBe(
      'embedkit: error: openai API error 500: Internal error. — The API failed on its side; retries are turned off (--max-retries 0), so none was made. (HTTP 500, request id req-500-1)\n',
    );
    expect(result.code).toBe(1);
  });

  // The 429's own advice names `concurrency` and `rateLimit`: bulk has --concurrency and --rpm/--tpm,
  // index --concurrency only, embed neither (bug: "Lower concurrency or set rateLimit" in each).
  it.each([
    ['embed', embed('--max-retries', '1'), '', ''],
    [
      'bulk',
      (baseURL: string, out: string) => bulkArgs({ baseURL }, input, `${out}.jsonl`, ['--max-retries', '1']),
      'at the call holding the inputs on lines 1–2: ',
      'Lower --concurrency or set --rpm/--tpm; ',
    ],
    [
      'index',
      (baseURL: string, out: string) => indexArgs({ baseURL }, input, `${out}.ekx`, ['--max-retries', '1']),
      '',
      'Lower --concurrency; ',
    ],
  ])(
    '%s, retries spent on 429s: the flags it has for them, and no others',
    async (_, args, place, advice) => {
      const result = await runAgainst((number) => rateLimited(0, number), args);
      expect(result.stderr.split('\n')[0]).toBe(
        `embedkit: error: ${place}openai model text-embedding-3-small failed 2 times; the last error: openai API error 429: Rate limit reached. — ${advice}try again later, or raise --max-retries. (HTTP 429, request id req-429-2)`,
      );
      expect(result.code).toBe(1);
      expect(result.requests).toBe(2);
    },
  );

  it('search, a 429 with no retries: only what the query’s command can do (bug: "rateLimit", "maxRetries 0")', async () => {
    const result = await runAgainst(
      (number) => (number === 1 ? undefined : rateLimited(0, number)),
      async (baseURL, out) => {
        const built = await runCli(indexArgs({ baseURL }, input, `${out}.ekx`, ['-q']));
        expect(built.stderr).toBe('');
        return ['search', `${out}.ekx`, 'a query', '--base-url', baseURL, '--max-retries', '0'];
      },
    );
    expect(result.stderr).toBe(
      'embedkit: error: openai API error 429: Rate limit reached. — retries are turned off (--max-retries 0), so none was made. (HTTP 429, request id req-429-2)\n',
    );
    expect(result.code).toBe(1);
  });

  it('embed, a per-day limit: its advice without the settings it has no flag for (bug: "lowering concurrency or a rateLimit", "maxRetryDelayMs")', async () => {
    const result = await runAgainst(perDayLimit, embed('--max-retries', '1'));
    expect(result.stderr).toBe(`embedkit: error: ${PER_DAY}: ${PER_DAY_WAIT}\n`);
    expect(result.requests).toBe(1);
  });

  it('index, a per-day limit: the flag it has, and the words after the one it has not (bug: "lowering concurrency or a rateLimit")', async () => {
    const result = await runAgainst(perDayLimit, (baseURL, out) =>
      indexArgs({ baseURL }, input, `${out}.ekx`, ['--max-retries', '1']),
    );
    expect(result.stderr).toBe(
      `embedkit: error: ${PER_DAY}, which lowering --concurrency cannot help: ${PER_DAY_WAIT}\n`,
    );
  });

  it('embed, no answer in time and no retries: the wait in --timeout’s seconds (bug: "50 ms (timeoutMs)")', async () => {
    const result = await runAgainst(
      { hold: () => new Promise<void>(() => {}) },
      embed('--max-retries', '0', '--timeout', '0.05'),
    );
    expect(result.stderr).toBe(
      'embedkit: error: openai model text-embedding-3-small did not answer within 0.05 s (--timeout).\n',
    );
    expect(result.code).toBe(1);
  });

  it('embed, vectors of another length than --dimensions asked for: the flag (bug: "for dimensions 16")', async () => {
    const result = await runAgainst(
      () => ({
        status: 200,
        body: {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 1, total_tokens: 1 },
        },
      }),
      embed('--dimensions', '16'),
    );
    expect(result.stderr).toBe(
      'embedkit: error: openai returned vector 0 with 2 values; expected 16 for --dimensions 16. (HTTP 200)\n',
    );
  });
});

describe('refusals before any request, in the command’s flags', () => {
  it.each([
    [
      'a length the model does not offer (bug: "dimensions 5000 is not allowed")',
      'text-embedding-3-small',
      '5000',
      '--dimensions 5000 is not allowed for openai model text-embedding-3-small; use 1 to 1536.',
    ],
    [
      'a model of one length (bug: "remove the dimensions option")',
      'text-embedding-ada-002',
      '256',
      'openai model text-embedding-ada-002 has a fixed vector length of 1536; remove the --dimensions option.',
    ],
  ])('%s: --dimensions', async (_, model, dimensions, message) => {
    const result = await runCli(['embed', 'hi', '--model', `openai:${model}`, '--dimensions', dimensions]);
    expect(result.stderr).toBe(
      `embedkit: error: ${message}\nRun "embedkit models --provider openai" for what each model supports.\n`,
    );
    expect(result.code).toBe(2);
  });

  // The engine's ranges, checked by the command with its flags before anything is read, made or sent
  // (bug: the engine found them once the run had started, after bulk made its output, exit 1, in its
  // setting's name: "concurrency must be a whole number …").
  it('bulk, a --concurrency past the engine’s most: a usage error naming the flag, before the output is made', async () => {
    const out = `${join(directory.path, 'too-concurrent')}.jsonl`;
    const result = await runAgainst(
      () => undefined,
      (baseURL) => bulkArgs({ baseURL }, input, out, ['--concurrency', '20000']),
    );
    expect(result.stderr.split('\n')[0]).toBe(
      'embedkit: error: --concurrency must be a whole number from 1 to 10000, got "20000".',
    );
    expect(result.code).toBe(2);
    expect(result.requests).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.checkpoint`)).toBe(false);
  });

  it('embed, a --max-retries past the engine’s most: a usage error naming the flag', async () => {
    const result = await runAgainst(() => undefined, embed('--max-retries', '500'));
    expect(result.stderr.split('\n')[0]).toBe(
      'embedkit: error: --max-retries must be a whole number from 0 to 100, got "500".',
    );
    expect(result.code).toBe(2);
    expect(result.requests).toBe(0);
  });

  const voyage = ['--model', 'voyage:voyage-3.5', '--max-retries', '0', '--base-url'];
  it.each([
    ['embed', (baseURL: string) => ['embed', 'hi', ...voyage, baseURL], '; '],
    [
      'bulk',
      (baseURL: string) => [
        'bulk',
        input,
        '--out',
        join(directory.path, 'voyage.jsonl'),
        '-q',
        ...voyage,
        baseURL,
      ],
      ', or pace the calls with --rpm/--tpm; ',
    ],
  ])(
    '%s, Voyage’s reduced rate: no program code, and --rpm/--tpm where the command has them (bug: "rateLimit: createRateLimiter({ requestsPerMinute: 3 })")',
    async (command, args, pacing) => {
      // An account without a payment method: Voyage's own 429, which its provider reads for the limit.
      const { port, close } = await answeringAlways(429, {
        detail:
          'You have not yet added your payment method in the billing page and will have reduced rate limits of 3 RPM and 10K TPM.',
      });
      try {
        const result = await runCli(args(`http://127.0.0.1:${port}/v1`), {
          env: { VOYAGE_API_KEY: 'sk-test-fake-voyage', VOYAGE_BASE_URL: undefined },
        });
        expect(result.stderr.split('\n')[0]).toBe(
          `embedkit: error: ${command === 'bulk' ? 'at the call holding the inputs on lines 1–2: ' : ''}voyage API error 429: You have not yet added your payment method in the billing page and will have reduced rate limits of 3 RPM and 10K TPM. — Voyage holds an account without a payment method to 3 requests a minute, so each retry waits 20 s: add a payment method on the billing page of the Voyage dashboard to lift the limit${pacing}retries are turned off (--max-retries 0), so none was made. (HTTP 429)`,
        );
        expect(result.code).toBe(1);
      } finally {
        await close();
      }
    },
  );

  it.each([
    [
      401,
      { detail: 'Invalid API key.' },
      'jina API error 401: Invalid API key. — Check JINA_API_KEY: Jina keys begin "jina_" and are managed at https://jina.ai/api-dashboard/key-manager. (HTTP 401)',
    ],
    [
      429,
      { detail: 'Too many concurrent requests.', code: 'RATE_CONCURRENCY_LIMIT_EXCEEDED' },
      'jina API error 429: Too many concurrent requests. — Too many requests at once for this key: retries are turned off (--max-retries 0), so none was made. (HTTP 429)',
    ],
  ])(
    'embed, Jina’s %s: its advice without settings embed has no flag for (bug: "the apiKey setting", "lower concurrency")',
    async (status, body, message) => {
      const { port, close } = await answeringAlways(status, body);
      try {
        const result = await runCli(
          [
            'embed',
            'hi',
            '--model',
            'jina:jina-embeddings-v3',
            '--max-retries',
            '0',
            '--base-url',
            `http://127.0.0.1:${port}/v1`,
          ],
          { env: { JINA_API_KEY: 'jina_test_fake_key', JINA_BASE_URL: undefined } },
        );
        expect(result.stderr).toBe(`embedkit: error: ${message}\n`);
        expect(result.code).toBe(1);
      } finally {
        await close();
      }
    },
  );
});
