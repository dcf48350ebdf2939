import { describe, expect, it } from 'vitest';
import { OPENAI_CASSETTES, runCli } from './helpers.js';

/**
 * `--replay` under an API root of the user's own (`OPENAI_BASE_URL` for a gateway, `EMBEDKIT_BASE_URL`,
 * `--base-url`): the provider puts the root's path in front of every request, so a recording made at
 * `/v1/embeddings` matches none, whatever the input. The message says that the path is what differs and
 * what to do, rather than that the input was not recorded (while listing that very input as recorded).
 */
describe('--replay with an API root whose path differs from the recordings', () => {
  const recorded = 'The food was delicious and the waiter was friendly.';
  const model = ['--model', 'openai:text-embedding-3-small'];
  const replay = ['--replay', OPENAI_CASSETTES];

  it.each([
    ['OPENAI_BASE_URL', { OPENAI_BASE_URL: 'http://127.0.0.1:9/gateway/v1' }, []],
    ['EMBEDKIT_BASE_URL', { EMBEDKIT_BASE_URL: 'http://127.0.0.1:9/gateway/v1' }, []],
    ['--base-url', {}, ['--base-url', 'http://127.0.0.1:9/gateway/v1']],
  ])('names the path sent and the path recorded (%s)', async (_, env, flag) => {
    const result = await runCli(['embed', recorded, ...model, ...replay, ...flag], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const [first, ...rest] = result.stderr.trimEnd().split('\n');
    expect(first).toBe(
      `embedkit: error: no recording matches POST /gateway/v1/embeddings in ${OPENAI_CASSETTES} (openai:text-embedding-3-small): the recordings were made at POST /v1/embeddings.`,
    );
    expect(rest).toEqual([
      'This run sends to the API root http://127.0.0.1:9/gateway/v1 (from --base-url, EMBEDKIT_BASE_URL or OPENAI_BASE_URL), whose path comes before every request. With --replay, unset that variable, or pass --base-url with the root the cassettes were recorded at.',
    ]);
  });

  it('without one, the recorded input is answered', async () => {
    const result = await runCli(['embed', recorded, ...model, ...replay, '--summary']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});
