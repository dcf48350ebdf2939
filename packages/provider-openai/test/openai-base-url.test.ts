import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { fakeFetch } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOpenAI, createOpenAICompatible } from '../src/index.js';

const KEY = 'test-key-openai-base-url-9f8e7d';
const ANSWER = { body: { data: [{ index: 0, embedding: [0.5, 0.25] }], usage: { prompt_tokens: 1 } } };

describe('the API root from OPENAI_BASE_URL, as the official client reads it', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("customBaseURL: the chosen root, undefined for the API's own; a compatible server always has one", () => {
    const model = createOpenAI({ apiKey: KEY }).embedding('text-embedding-3-small');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('OPENAI_BASE_URL', 'https://api.openai.com/v1/');
    expect(model.customBaseURL()).toBeUndefined();
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/gateway/v1');
    expect(model.customBaseURL()).toBe('http://127.0.0.1:4000/gateway/v1');
    const compatible = createOpenAICompatible({ name: 'tei', baseURL: 'http://127.0.0.1:8080/v1' });
    expect(compatible.embedding('bge').customBaseURL()).toBe('http://127.0.0.1:8080/v1');
  });

  it('is read at each call, not when the provider is created', async () => {
    const server = fakeFetch([ANSWER, ANSWER]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    await model.doEmbed({ inputs: ['a'] });
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/gateway/v1/');
    await model.doEmbed({ inputs: ['a'] });
    expect(server.requests.map((request) => request.url)).toEqual([
      'https://api.openai.com/v1/embeddings',
      'http://127.0.0.1:4000/gateway/v1/embeddings',
    ]);
  });

  it('gives way to the baseURL setting', async () => {
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/v1');
    const server = fakeFetch([ANSWER]);
    const model = createOpenAI({
      apiKey: KEY,
      fetch: server.fetch,
      baseURL: 'https://proxy.example/v1',
    }).embedding('text-embedding-3-small');
    await model.doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.url).toBe('https://proxy.example/v1/embeddings');
  });

  it('is refused before any request when it is not an http(s) URL, naming the variable but not its value', async () => {
    vi.stubEnv('OPENAI_BASE_URL', 'sk-fake-test-key-pasted-into-the-wrong-variable');
    const server = fakeFetch([]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const error = await embedMany({ model, inputs: ['a'], maxRetries: 3 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('baseURL');
    expect((error as Error).message).toBe(
      'openai: the base URL from OPENAI_BASE_URL is not an absolute http(s) URL; it should look like https://api.example.com/v1.',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('is not read by an OpenAI-compatible provider, whose baseURL is required and checked at creation', () => {
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:4000/v1');
    expect(() => createOpenAICompatible({ name: 'local', baseURL: 'localhost:8000' })).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        message:
          'local: the base URL from the baseURL setting is not an absolute http(s) URL; it should look like https://api.example.com/v1.',
      }),
    );
    expect(() => createOpenAICompatible({ name: 'local' } as never)).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', argument: 'baseURL' }),
    );
  });
});

describe('createOpenAI refuses settings it does not read', () => {
  it.each([
    [{ baseUrl: 'http://127.0.0.1:9/v1' }, 'createOpenAI has no setting baseUrl: pass baseURL.'],
    [{ apikey: 'k' }, 'createOpenAI has no setting apikey; did you mean apiKey?'],
    [{ headres: { 'x-a': '1' } }, 'createOpenAI has no setting headres; did you mean headers?'],
  ])(
    '%j (it was dropped: every call went to the default server, or without the setting)',
    (settings, message) => {
      let error: unknown;
      try {
        createOpenAI(settings as never);
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).message).toBe(message);
    },
  );
});

describe('createOpenAICompatible checks its settings', () => {
  const message = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      return (error as InvalidArgumentError).message;
    }
    return expect.fail('the settings were taken');
  };

  it('refuses a misspelt setting, a missing name and no settings at all (they were TypeErrors or ignored)', () => {
    const baseURL = 'http://127.0.0.1:9/v1';
    expect(
      message(() => createOpenAICompatible({ name: 'vllm', baseURL, apiKeyHeadr: 'api-key' } as never)),
    ).toBe('createOpenAICompatible has no setting apiKeyHeadr; did you mean apiKeyHeader?');
    expect(message(() => createOpenAICompatible({ baseURL } as never))).toBe(
      "createOpenAICompatible needs a name, the provider's name in errors, results and providerOptions, e.g. name: 'vllm'.",
    );
    expect(
      message(() =>
        createOpenAICompatible({ name: 'vllm', baseURL, capabilities: { maxInputPerCall: 64 } as never }),
      ),
    ).toBe(
      'createOpenAICompatible capabilities has no capability maxInputPerCall; did you mean maxInputsPerCall?',
    );
    const perModel = createOpenAICompatible({
      name: 'vllm',
      baseURL,
      capabilities: () => ({ defaultDimension: 8 }) as never,
    });
    expect(message(() => perModel.embedding('e5'))).toBe(
      'createOpenAICompatible capabilities("e5") has no capability defaultDimension; did you mean defaultDimensions?',
    );
    expect(message(() => createOpenAICompatible(undefined as never))).toBe(
      "createOpenAICompatible takes its settings, e.g. createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' }).",
    );
  });
});
