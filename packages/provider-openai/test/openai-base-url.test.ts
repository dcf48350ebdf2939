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
