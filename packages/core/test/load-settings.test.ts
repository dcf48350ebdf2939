import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { loadApiKey, loadBaseURL } from '../src/provider-utils.js';

function thrown(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('nothing was thrown');
}

describe('settings read from the environment at call time', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('a missing key names the variables it was looked for in, as a field a program can read', () => {
    vi.stubEnv('ACME_KEY', '');
    vi.stubEnv('ACME_OTHER_KEY', undefined);
    const error = thrown(() =>
      loadApiKey({
        apiKey: undefined,
        environmentVariables: ['ACME_KEY', 'ACME_OTHER_KEY'],
        provider: 'acme',
      }),
    );
    expect(error.argument).toBe('apiKey');
    expect(error.environmentVariables).toEqual(['ACME_KEY', 'ACME_OTHER_KEY']);
    expect(error.provider).toBe('acme');
  });

  it('the base URL: the setting, else the first variable set, else the default; says which variable it used', () => {
    const settings = {
      environmentVariables: ['ACME_BASE_URL', 'ACME_HOST'],
      defaultURL: 'https://api.acme.test/v1',
      provider: 'acme',
    };
    expect(loadBaseURL({ ...settings, baseURL: undefined })).toEqual({
      url: 'https://api.acme.test/v1',
      source: undefined,
      origin: 'default',
    });
    vi.stubEnv('ACME_HOST', ' http://127.0.0.1:9000 ');
    expect(loadBaseURL({ ...settings, baseURL: undefined })).toEqual({
      url: 'http://127.0.0.1:9000',
      source: 'ACME_HOST',
      origin: 'ACME_HOST',
    });
    vi.stubEnv('ACME_BASE_URL', 'http://127.0.0.1:9001/v1');
    expect(loadBaseURL({ ...settings, baseURL: undefined })).toEqual({
      url: 'http://127.0.0.1:9001/v1',
      source: 'ACME_BASE_URL',
      origin: 'ACME_BASE_URL',
    });
    expect(loadBaseURL({ ...settings, baseURL: 'https://proxy.test/v1' })).toEqual({
      url: 'https://proxy.test/v1',
      source: undefined,
      origin: 'the baseURL setting',
    });
  });

  it('a runtime that refuses to read the environment (Deno without --allow-env) counts as unset', () => {
    const denied = new Proxy({} as Record<string, string>, {
      get() {
        throw new Error('NotCapable: Requires env access');
      },
    });
    vi.stubGlobal('process', { ...process, env: denied });
    try {
      expect(
        loadBaseURL({
          baseURL: undefined,
          environmentVariables: ['ACME_BASE_URL'],
          defaultURL: 'https://api.acme.test/v1',
          provider: 'acme',
        }),
      ).toEqual({ url: 'https://api.acme.test/v1', source: undefined, origin: 'default' });
      expect(
        loadApiKey({ apiKey: 'key-given-explicitly', environmentVariables: ['ACME_KEY'], provider: 'acme' }),
      ).toBe('key-given-explicitly');
      expect(() =>
        loadApiKey({ apiKey: undefined, environmentVariables: ['ACME_KEY'], provider: 'acme' }),
      ).toThrow(expect.objectContaining({ argument: 'apiKey' }));
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('in a page, a path is read relative to the page, as fetch reads it', () => {
    vi.stubGlobal('location', { href: 'https://app.example/search' });
    try {
      expect(
        loadBaseURL({
          baseURL: '/api/embeddings/v1',
          environmentVariables: [],
          defaultURL: '',
          provider: 'acme',
        }),
      ).toEqual({ url: '/api/embeddings/v1', source: undefined, origin: 'the baseURL setting' });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it.each([
    ['a query', 'https://gateway.acme.test/v1?tenant=team-a'],
    ['an empty query', 'https://gateway.acme.test/v1?'],
    ['a fragment', 'https://gateway.acme.test/v1#embeddings'],
    ['a query on a relative path', '/api/v1?token=sk-page-secret'],
  ])(
    'a base URL with %s is refused, since the paths would land in it, without echoing it',
    (_name, value) => {
      vi.stubGlobal('location', { href: 'https://app.acme.test/search' });
      try {
        const error = thrown(() =>
          loadBaseURL({ baseURL: value, environmentVariables: [], defaultURL: '', provider: 'acme' }),
        );
        expect(error.argument).toBe('baseURL');
        expect(error.message).toBe(
          "acme: the base URL from the baseURL setting has a query or a fragment (? or #); the API paths are added to its end, so it must end with the path, like https://api.example.com/v1. Query parameters go in the provider's settings (createOpenAICompatible takes queryParams).",
        );
      } finally {
        vi.unstubAllGlobals();
      }
      // The same from a variable, which the message names.
      vi.stubEnv('ACME_BASE_URL', 'https://gateway.acme.test/v1?tenant=team-a');
      try {
        const error = thrown(() =>
          loadBaseURL({
            baseURL: undefined,
            environmentVariables: ['ACME_BASE_URL'],
            defaultURL: '',
            provider: 'acme',
          }),
        );
        expect(error.message).toContain('the base URL from ACME_BASE_URL has a query or a fragment');
      } finally {
        vi.unstubAllEnvs();
      }
    },
  );

  it('an explicit base URL is trimmed like a variable: the text sent is the text checked', () => {
    const settings = { environmentVariables: [], defaultURL: '', provider: 'acme' };
    // Before, `new URL` checked the trimmed form and the untrimmed text went out: `/v1%20/embeddings`.
    expect(loadBaseURL({ ...settings, baseURL: ' https://proxy.test/v1 \t' })).toEqual({
      url: 'https://proxy.test/v1',
      source: undefined,
      origin: 'the baseURL setting',
    });
  });

  it.each([
    ['a space inside', 'https://proxy.test/v 1'],
    ['a tab inside', 'https://proxy.test/\tv1'],
    ['a line break inside', 'https://proxy.test/v1\n/embed'],
  ])('a base URL with %s is refused (new URL would escape it, the text is sent raw)', (_name, value) => {
    const error = thrown(() =>
      loadBaseURL({ baseURL: value, environmentVariables: [], defaultURL: '', provider: 'acme' }),
    );
    expect(error.argument).toBe('baseURL');
    expect(error.message).toBe(
      'acme: the base URL from the baseURL setting holds white space or a control character; it should look like https://api.example.com/v1.',
    );
  });

  it.each([
    ['no scheme', 'api.acme.test/v1'],
    ['another scheme', 'ftp://api.acme.test/v1'],
    ['not a string', 42],
  ])('a base URL with %s is refused without echoing it', (_name, value) => {
    const error = thrown(() =>
      loadBaseURL({ baseURL: value as string, environmentVariables: [], defaultURL: '', provider: 'acme' }),
    );
    expect(error.argument).toBe('baseURL');
    expect(error.message).toBe(
      'acme: the base URL from the baseURL setting is not an absolute http(s) URL; it should look like https://api.example.com/v1.',
    );
  });
});
