/**
 * An answer of the wrong shape, or an empty one, names where the base URL came from: the baseURL setting,
 * OPENAI_BASE_URL, or the default (no base URL set), never a `baseURL` the caller never set.
 */
import { InvalidResponseError } from '@embedkit/core';
import { fakeFetch } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOpenAI, createOpenAICompatible } from '../src/index.js';

const KEY = 'sk-test-fake-openai-hint-0a1b2c';
const WRONG_SHAPE = { body: { result: [] }, headers: { 'x-request-id': 'req_hint_1' } };
const EMPTY = { body: '', headers: { 'x-request-id': 'req_hint_1' } };

async function failure(run: Promise<unknown>): Promise<InvalidResponseError> {
  try {
    await run;
  } catch (error) {
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as InvalidResponseError).statusCode).toBe(200);
    expect((error as InvalidResponseError).requestId).toBe('req_hint_1');
    return error as InvalidResponseError;
  }
  throw new Error('expected the call to fail');
}

const embed = (
  settings: Parameters<typeof createOpenAI>[0],
  reply: { body: unknown; headers: Record<string, string> },
) => {
  const server = fakeFetch([reply]);
  return failure(
    createOpenAI({ apiKey: KEY, fetch: server.fetch, ...settings })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] }),
  );
};

const SHAPE = 'openai returned an embeddings body of the wrong shape: data: expected array, got undefined';

describe('the hint of an answer of the wrong shape names where the base URL came from', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('the default: no base URL was set, so the address is not what to check', async () => {
    vi.stubEnv('OPENAI_BASE_URL', '');
    expect((await embed({}, WRONG_SHAPE)).message).toBe(
      `${SHAPE}; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.`,
    );
  });

  it('OPENAI_BASE_URL, by name, for a caller who never set baseURL', async () => {
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/v1');
    expect((await embed({}, WRONG_SHAPE)).message).toBe(
      `${SHAPE}; check that OPENAI_BASE_URL points at the openai API.`,
    );
    expect((await embed({}, EMPTY)).message).toBe(
      'openai returned status 200 with an empty body; check that OPENAI_BASE_URL points at the openai API.',
    );
  });

  it('the baseURL setting, which wins over the variable', async () => {
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/v1');
    expect((await embed({ baseURL: 'https://gateway.example/v1' }, WRONG_SHAPE)).message).toBe(
      `${SHAPE}; check that the baseURL setting points at the openai API.`,
    );
  });

  it('an OpenAI-compatible provider: its required baseURL setting, under its own name', async () => {
    const server = fakeFetch([WRONG_SHAPE]);
    const error = await failure(
      createOpenAICompatible({ name: 'tei', baseURL: 'http://127.0.0.1:8080/v1', fetch: server.fetch })
        .embedding('bge')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error.message).toBe(
      'tei returned an embeddings body of the wrong shape: data: expected array, got undefined; check that the baseURL setting points at the tei API.',
    );
  });

  it('an error sent with status 200 names it too', async () => {
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/v1');
    const reply = {
      body: { error: { message: 'upstream failed', type: 'server_error' } },
      headers: WRONG_SHAPE.headers,
    };
    expect((await embed({}, reply)).message).toBe(
      'openai answered status 200 with an error instead of embeddings: upstream failed — the API or a gateway in front of it reported a failure with a success status; check the message, and that OPENAI_BASE_URL points at the API.',
    );
    vi.stubEnv('OPENAI_BASE_URL', '');
    expect((await embed({}, reply)).message).toBe(
      'openai answered status 200 with an error instead of embeddings: upstream failed — the API or a gateway in front of it reported a failure with a success status; check the message.',
    );
  });
});
