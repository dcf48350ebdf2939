import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJina } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const ANSWER = { body: embeddingsBody('jina-embeddings-v3', [[0.5, 0.25]]) };

describe('the API root from JINA_BASE_URL', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('an answer of the wrong shape names JINA_BASE_URL when the root came from it', async () => {
    const server = fakeFetch([{ body: {} }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    vi.stubEnv('JINA_BASE_URL', 'http://127.0.0.1:4200/v1');
    const error = await model.doEmbed({ inputs: ['a'] }).catch((caught: Error) => caught);
    expect((error as Error).message).toMatch(/; check that JINA_BASE_URL points at the jina API\.$/);
  });

  it("customBaseURL: the chosen root, undefined for the API's own", () => {
    const model = createJina({ apiKey: TEST_KEY }).embedding('jina-embeddings-v3');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('JINA_BASE_URL', 'https://api.jina.ai/v1/');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('JINA_BASE_URL', 'http://127.0.0.1:4200/v1');
    expect(model.customBaseURL()).toBe('http://127.0.0.1:4200/v1');
  });

  it('is read at each call; the setting wins over it', async () => {
    const server = fakeFetch([ANSWER, ANSWER, ANSWER]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    await model.doEmbed({ inputs: ['a'] });
    vi.stubEnv('JINA_BASE_URL', 'http://127.0.0.1:4200/v1');
    await model.doEmbed({ inputs: ['a'] });
    const pinned = createJina({ apiKey: TEST_KEY, fetch: server.fetch, baseURL: 'https://proxy.example/v1' });
    await pinned.embedding('jina-embeddings-v3').doEmbed({ inputs: ['a'] });
    expect(server.requests.map((request) => request.url)).toEqual([
      'https://api.jina.ai/v1/embeddings',
      'http://127.0.0.1:4200/v1/embeddings',
      'https://proxy.example/v1/embeddings',
    ]);
  });

  it('is refused before any request when it is not an http(s) URL', async () => {
    vi.stubEnv('JINA_BASE_URL', 'ftp://files.example/v1');
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const error = await embedMany({ model, inputs: ['a'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain(
      'the base URL from JINA_BASE_URL is not an absolute http(s) URL',
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe('createJina refuses settings it does not read', () => {
  it.each([
    [{ baseUrl: 'http://127.0.0.1:9/v1' }, 'createJina has no setting baseUrl: pass baseURL.'],
    [{ apikey: 'k' }, 'createJina has no setting apikey; did you mean apiKey?'],
    [{ headres: { 'x-a': '1' } }, 'createJina has no setting headres; did you mean headers?'],
  ])(
    '%j (it was dropped: every call went to the default server, or without the setting)',
    (settings, message) => {
      let error: unknown;
      try {
        createJina(settings as never);
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).message).toBe(message);
    },
  );
});
