import { describe, expect, it } from 'vitest';
import { type FakeAnswer, rateLimited, runCli, startFakeOpenAI } from './helpers.js';

// What an error after the retries tells a shell user to do: one piece of advice, in the command's words.
// Core's own advice names its settings (`maxRetries`, `maxRetryDelayMs`, `rateLimit`, `timeoutMs`), which a
// shell user has no way to pass; the command says those it has a flag for as the flag and leaves out the
// others (library-words.test.ts checks each setting in each command).

const MODEL = ['--model', 'openai:text-embedding-3-small'];

/** `embedkit embed hi` against a fake server answering each request as `intercept` says. */
async function embedAgainst(
  intercept: (number: number) => FakeAnswer | undefined,
  args: string[],
  hold?: () => Promise<void>,
) {
  const server = await startFakeOpenAI({
    intercept: ({ number }) => intercept(number),
    ...(hold === undefined ? {} : { hold }),
  });
  try {
    const result = await runCli(['embed', 'hi', ...MODEL, '--base-url', server.baseURL, ...args]);
    return { ...result, requests: server.requests };
  } finally {
    await server.close();
  }
}

describe('the advice after the retries', () => {
  it('a wait the retries left cannot reach, after a retry: only how long to wait, not --max-retries after it (bug: two pieces of advice)', async () => {
    const result = await embedAgainst(
      (number) => rateLimited(number === 1 ? 0 : 3600, number),
      ['--max-retries', '2'],
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "embedkit: error: openai model text-embedding-3-small failed 2 times; the last error: openai API error 429: Rate limit reached. — the API asked to wait 3600 s, longer than the engine's retries can wait (1 left, at most 60 s each), so no further retry was made: try again after 3600 s. (HTTP 429, request id req-429-2)\n",
    );
    expect(result.requests).toBe(2);
  });

  it('a wait no retry can reach, on the first answer: how long to wait, without a setting the command has no flag for', async () => {
    const result = await embedAgainst((number) => rateLimited(3600, number), ['--max-retries', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "embedkit: error: openai API error 429: Rate limit reached. — the API asked to wait 3600 s, longer than the engine's retries can wait (1 left, at most 60 s each), so no retry was made: try again after 3600 s. (HTTP 429, request id req-429-1)\n",
    );
    expect(result.requests).toBe(1);
  });

  it('a wait longer than any timer: how long, without the engine’s cap (bug: "(maxRetryDelayMs is at most 2147483647)")', async () => {
    const result = await embedAgainst((number) => rateLimited(40 * 86_400, number), ['--max-retries', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "embedkit: error: openai API error 429: Rate limit reached. — the API asked to wait 40 days, longer than the engine's retries can wait (1 left, at most 60 s each), so no retry was made: try again after 40 days, longer than the engine can wait out. (HTTP 429, request id req-429-1)\n",
    );
  });

  it('a last error whose words give no advice (a timeout) gets the command’s, once, naming the flags that help', async () => {
    // Each request is held unanswered until the run is over: every attempt ends at --timeout.
    const result = await embedAgainst(
      () => undefined,
      ['--max-retries', '1', '--timeout', '0.05'],
      () => new Promise<void>(() => {}),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'embedkit: error: openai model text-embedding-3-small failed 2 times; the last error: openai model text-embedding-3-small did not answer within 0.05 s (--timeout). — try again later, or raise --timeout or --max-retries.\n',
    );
    // The attempts are counted by the message: an attempt may end before its body reaches the server.
  });
});
