import { embedMany, InvalidArgumentError, PermissionDeniedError } from '@embedkit/core';
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOpenAI, createOpenAICompatible } from '../src/index.js';

const KEY = 'sk-fake-not-a-real-key-abc';
const ANSWER = { body: { data: [{ index: 0, embedding: [0.5, 0.25] }], usage: { prompt_tokens: 1 } } };

/** The account headers of each request a fake server received. */
function accountHeaders(requests: { headers: Record<string, string> }[]) {
  return requests.map(({ headers }) => ({
    organization: headers['openai-organization'],
    project: headers['openai-project'],
  }));
}

describe('organization and project, as OpenAI-Organization and OpenAI-Project', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('are read from OPENAI_ORG_ID and OPENAI_PROJECT_ID at each call when no setting is given', async () => {
    vi.stubEnv('OPENAI_ORG_ID', '');
    vi.stubEnv('OPENAI_PROJECT_ID', '');
    const server = fakeFetch([ANSWER, ANSWER]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    await model.doEmbed({ inputs: ['a'] });
    vi.stubEnv('OPENAI_ORG_ID', ' org-fake-from-env ');
    vi.stubEnv('OPENAI_PROJECT_ID', 'proj_fake_from_env');
    await model.doEmbed({ inputs: ['a'] });
    expect(accountHeaders(server.requests)).toStrictEqual([
      { organization: undefined, project: undefined },
      { organization: 'org-fake-from-env', project: 'proj_fake_from_env' },
    ]);
  });

  it('give way to the organization and project settings', async () => {
    vi.stubEnv('OPENAI_ORG_ID', 'org-fake-from-env');
    vi.stubEnv('OPENAI_PROJECT_ID', 'proj_fake_from_env');
    const server = fakeFetch([ANSWER]);
    await createOpenAI({
      apiKey: KEY,
      fetch: server.fetch,
      organization: 'org-fake-setting',
      project: 'proj_fake_setting',
    })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(accountHeaders(server.requests)).toStrictEqual([
      { organization: 'org-fake-setting', project: 'proj_fake_setting' },
    ]);
  });

  it('are not sent by an OpenAI-compatible provider, whatever the environment holds', async () => {
    vi.stubEnv('OPENAI_ORG_ID', 'org-fake-from-env');
    vi.stubEnv('OPENAI_PROJECT_ID', 'proj_fake_from_env');
    const server = fakeFetch([ANSWER]);
    await createOpenAICompatible({ name: 'tei', baseURL: 'http://127.0.0.1:8080/v1', fetch: server.fetch })
      .embedding('bge')
      .doEmbed({ inputs: ['a'] });
    expect(Object.keys(server.requests[0]!.headers).sort()).toStrictEqual([
      'accept',
      'content-type',
      'user-agent',
    ]);
  });

  it.each([
    [
      'a line break in the setting',
      { organization: 'org-fake\r\nx-injected: 1' },
      {},
      'openai: the organization from the organization setting holds a line break at position 8, which cannot be sent in an HTTP header; copy the organization again without it.',
      'organization',
    ],
    [
      'a line break in the variable',
      {},
      { OPENAI_PROJECT_ID: 'proj_fake\nsecond' },
      'openai: the project from OPENAI_PROJECT_ID holds a line break at position 9, which cannot be sent in an HTTP header; copy the project again without it.',
      'project',
    ],
    [
      'a non-ASCII character',
      { project: 'proj_fakeé' },
      {},
      'openai: the project from the project setting holds the non-ASCII character U+00E9 at position 9, which cannot be sent in an HTTP header; copy the project again without it.',
      'project',
    ],
    [
      'an empty setting',
      { organization: '' },
      {},
      'openai: organization must be a non-empty string, or left out to use OPENAI_ORG_ID; got an empty string.',
      'organization',
    ],
    [
      'a number',
      { project: 42 },
      {},
      'openai: project must be a non-empty string, or left out to use OPENAI_PROJECT_ID; got 42.',
      'project',
    ],
  ])(
    'refuse %s before anything is sent, without showing the value',
    async (_, settings, environment, message, argument) => {
      for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
      const server = fakeFetch([]);
      const model = createOpenAI({ apiKey: KEY, fetch: server.fetch, ...(settings as object) }).embedding(
        'text-embedding-3-small',
      );
      const error = await rejectionOf(embedMany({ model, inputs: ['a'], maxRetries: 2 }));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toBe(message);
      expect(error.argument).toBe(argument);
      expect(server.requests).toHaveLength(0);
    },
  );

  it('are kept out of the error when the API quotes them', async () => {
    const server = fakeFetch([
      {
        status: 403,
        body: {
          error: {
            message:
              'The organization org-fake-quoted-by-api may not use project proj_fake_quoted_by_api with this key.',
            type: 'invalid_request_error',
            code: null,
          },
        },
      },
    ]);
    const model = createOpenAI({
      apiKey: KEY,
      fetch: server.fetch,
      organization: 'org-fake-quoted-by-api',
      project: 'proj_fake_quoted_by_api',
    }).embedding('text-embedding-3-small');
    const error = await rejectionOf(embedMany({ model, inputs: ['a'], maxRetries: 0 }));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.message).toBe(
      'openai API error 403: The organization [REDACTED] may not use project [REDACTED] with this key. — The key is valid but may not use this model or endpoint; check the project, region or account.',
    );
  });
});

describe('the encodingFormat setting', () => {
  it.each([['Float'], ['base64 '], ['float16'], [''], [1]])(
    'refuses %j when the provider is made, naming the values the API takes',
    (value) => {
      const make = () => createOpenAI({ apiKey: KEY, encodingFormat: value as 'float' });
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(
        expect.objectContaining({
          argument: 'encodingFormat',
          message: `openai: encodingFormat must be one of 'base64', 'float'; got ${
            value === '' ? 'an empty string' : JSON.stringify(value)
          }.`,
        }),
      );
    },
  );

  it('refuses a value the API does not take for an OpenAI-compatible provider too, under its name', () => {
    expect(() =>
      createOpenAICompatible({
        name: 'vllm',
        baseURL: 'http://127.0.0.1:8000/v1',
        encodingFormat: 'FLOAT' as 'float',
      }),
    ).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'encodingFormat',
        message: "vllm: encodingFormat must be one of 'base64', 'float'; got \"FLOAT\".",
      }),
    );
  });

  it.each([
    [undefined, 'base64'],
    ['float', 'float'],
    ['base64', 'base64'],
  ] as const)('sends %s as encoding_format %s', async (value, sent) => {
    const server = fakeFetch([ANSWER]);
    await createOpenAI({
      apiKey: KEY,
      fetch: server.fetch,
      ...(value === undefined ? {} : { encodingFormat: value }),
    })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-small',
      input: ['a'],
      encoding_format: sent,
    });
  });
});
