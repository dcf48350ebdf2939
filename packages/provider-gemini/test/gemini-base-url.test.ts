import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGemini } from '../src/index.js';
import { FAKE_KEY, fakeFetch } from './fake-fetch.js';

const ANSWER = { body: { embedding: { values: [0.6, 0.8] } } };

describe('the API root from GEMINI_BASE_URL or GOOGLE_GEMINI_BASE_URL', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('an answer of the wrong shape names the variable the root came from, the setting, or none set', async () => {
    const { fetch } = fakeFetch(() => ({ body: { result: [] } }));
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const hint = async () => {
      const error = await model.doEmbed({ inputs: ['a'] }).catch((caught: Error) => caught);
      return (error as Error).message.replace(/^.*; /, '');
    };
    vi.stubEnv('GEMINI_BASE_URL', '');
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', '');
    expect(await hint()).toBe(
      'no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    );
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'http://127.0.0.1:4300/');
    expect(await hint()).toBe('check that GOOGLE_GEMINI_BASE_URL points at the gemini API.');
    const pinned = createGemini({ apiKey: FAKE_KEY, fetch, baseURL: 'https://proxy.example/v1beta' });
    const error = await pinned
      .embedding('gemini-embedding-001')
      .doEmbed({ inputs: ['a'] })
      .catch((caught: Error) => caught);
    expect((error as Error).message).toMatch(/; check that the baseURL setting points at the gemini API\.$/);
  });

  it("customBaseURL: the root calls go to (a GOOGLE_GEMINI_BASE_URL host with its version), undefined for the API's own", () => {
    const model = createGemini({ apiKey: FAKE_KEY }).embedding('gemini-embedding-001');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'https://generativelanguage.googleapis.com');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'http://127.0.0.1:4300/');
    expect(model.customBaseURL()).toBe('http://127.0.0.1:4300/v1beta');
  });

  it('reads GEMINI_BASE_URL as the API root and GOOGLE_GEMINI_BASE_URL as a host, as Google’s SDKs do', async () => {
    const { fetch, sent } = fakeFetch(() => ANSWER);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    await model.doEmbed({ inputs: ['a'] });
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'http://127.0.0.1:4300/');
    await model.doEmbed({ inputs: ['a'] });
    vi.stubEnv('GEMINI_BASE_URL', 'http://127.0.0.1:4400/v1beta');
    await model.doEmbed({ inputs: ['a'] });
    const pinned = createGemini({ apiKey: FAKE_KEY, fetch, baseURL: 'https://proxy.example/v1beta' });
    await pinned.embedding('gemini-embedding-001').doEmbed({ inputs: ['a'] });
    expect(sent.map((request) => request.url)).toEqual([
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
      'http://127.0.0.1:4300/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
      'http://127.0.0.1:4400/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
      'https://proxy.example/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
    ]);
  });

  it('batch jobs read it at each call too', async () => {
    const { fetch, sent } = fakeFetch(() => ({
      body: { name: 'batches/b1', metadata: { state: 'BATCH_STATE_RUNNING' } },
    }));
    const jobs = createGemini({ apiKey: FAKE_KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
    vi.stubEnv('GEMINI_BASE_URL', 'http://127.0.0.1:4400/v1beta');
    await jobs.get('batches/b1');
    expect(sent[0]!.url).toBe('http://127.0.0.1:4400/v1beta/batches/b1?prettyPrint=false');
  });

  it('is refused before any request when it is not an http(s) URL', async () => {
    vi.stubEnv('GEMINI_BASE_URL', 'generativelanguage.googleapis.com');
    const { fetch, sent } = fakeFetch([]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const error = await embedMany({ model, inputs: ['a'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain(
      'the base URL from GEMINI_BASE_URL is not an absolute http(s) URL',
    );
    expect(sent).toHaveLength(0);
  });
});

describe('createGemini refuses settings it does not read', () => {
  it.each([
    [{ baseUrl: 'http://127.0.0.1:9/v1' }, 'createGemini has no setting baseUrl: pass baseURL.'],
    [{ apikey: 'k' }, 'createGemini has no setting apikey; did you mean apiKey?'],
    [{ headres: { 'x-a': '1' } }, 'createGemini has no setting headres; did you mean headers?'],
  ])(
    '%j (it was dropped: every call went to the default server, or without the setting)',
    (settings, message) => {
      let error: unknown;
      try {
        createGemini(settings as never);
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).message).toBe(message);
    },
  );
});
