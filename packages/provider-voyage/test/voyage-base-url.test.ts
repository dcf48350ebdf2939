import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVoyage } from '../src/index.js';
import { ATLAS_TEST_KEY, embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const ANSWER = { body: embeddingsBody('voyage-3.5', [[0.5, 0.25]]) };

describe('the API root from VOYAGE_BASE_URL', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('an answer of the wrong shape names VOYAGE_BASE_URL when the root came from it, and none set otherwise', async () => {
    const server = fakeFetch([{ body: {} }, { body: {} }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const message = () =>
      model.doEmbed({ inputs: ['a'] }).then(
        () => '',
        (error: Error) => error.message,
      );
    vi.stubEnv('VOYAGE_BASE_URL', 'http://127.0.0.1:4100/v1');
    expect(await message()).toBe(
      'voyage returned an embeddings body of the wrong shape: data: expected array, got undefined; check that VOYAGE_BASE_URL points at the voyage API.',
    );
    vi.stubEnv('VOYAGE_BASE_URL', '');
    expect(await message()).toBe(
      'voyage returned an embeddings body of the wrong shape: data: expected array, got undefined; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    );
  });

  it('is read at each call and wins over the host the key implies; the setting wins over it', async () => {
    const server = fakeFetch([ANSWER, ANSWER, ANSWER]);
    const atlas = createVoyage({ apiKey: ATLAS_TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await atlas.doEmbed({ inputs: ['a'] });
    vi.stubEnv('VOYAGE_BASE_URL', 'http://127.0.0.1:4100/v1');
    await atlas.doEmbed({ inputs: ['a'] });
    const pinned = createVoyage({
      apiKey: TEST_KEY,
      fetch: server.fetch,
      baseURL: 'https://proxy.example/v1',
    });
    await pinned.embedding('voyage-3.5').doEmbed({ inputs: ['a'] });
    expect(server.requests.map((request) => request.url)).toEqual([
      'https://ai.mongodb.com/v1/embeddings',
      'http://127.0.0.1:4100/v1/embeddings',
      'https://proxy.example/v1/embeddings',
    ]);
  });

  it('only a key that begins "al-" goes to Atlas; a key that merely starts "al" or holds "al-" does not', async () => {
    const server = fakeFetch([ANSWER, ANSWER, ANSWER, ANSWER]);
    for (const apiKey of [
      'al-0123456789abcdef',
      'alpha0123456789abcdef',
      'pa-al-0123456789abcdef',
      'AL-0123456789abcdef',
    ])
      await createVoyage({ apiKey, fetch: server.fetch })
        .embedding('voyage-3.5')
        .doEmbed({ inputs: ['a'] });
    expect(server.requests.map((request) => request.url)).toEqual([
      'https://ai.mongodb.com/v1/embeddings',
      'https://api.voyageai.com/v1/embeddings',
      'https://api.voyageai.com/v1/embeddings',
      'https://api.voyageai.com/v1/embeddings',
    ]);
  });

  it('customBaseURL: the chosen root, undefined for either default host, and no key read to say so', () => {
    vi.stubEnv('VOYAGE_API_KEY', '');
    const model = createVoyage().embedding('voyage-3.5');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('VOYAGE_BASE_URL', 'https://ai.mongodb.com/v1/');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('VOYAGE_BASE_URL', 'http://127.0.0.1:4100/v1');
    expect(model.customBaseURL()).toBe('http://127.0.0.1:4100/v1');
    expect(
      createVoyage({ baseURL: 'https://proxy.example/v1' }).embedding('voyage-3.5').customBaseURL(),
    ).toBe('https://proxy.example/v1');
  });

  it('is refused before any request when it is not an http(s) URL', async () => {
    vi.stubEnv('VOYAGE_BASE_URL', 'api.voyageai.com/v1');
    const server = fakeFetch([]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const error = await embedMany({ model, inputs: ['a'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain(
      'the base URL from VOYAGE_BASE_URL is not an absolute http(s) URL',
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe('createVoyage refuses settings it does not read', () => {
  it.each([
    [{ baseUrl: 'http://127.0.0.1:9/v1' }, 'createVoyage has no setting baseUrl: pass baseURL.'],
    [{ apikey: 'k' }, 'createVoyage has no setting apikey; did you mean apiKey?'],
    [{ headres: { 'x-a': '1' } }, 'createVoyage has no setting headres; did you mean headers?'],
  ])(
    '%j (it was dropped: every call went to the default server, or without the setting)',
    (settings, message) => {
      let error: unknown;
      try {
        createVoyage(settings as never);
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).message).toBe(message);
    },
  );
});
