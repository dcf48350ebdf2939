import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { loadApiKey } from '../src/provider-utils.js';
import { createRegistry } from '../src/registry.js';
import type { EmbeddingProvider } from '../src/types.js';
import { ScriptedModel } from './helpers.js';

function provider(name: string) {
  const requested: string[] = [];
  const value: EmbeddingProvider = {
    embedding(modelId: string) {
      requested.push(modelId);
      return new ScriptedModel({ provider: name, modelId });
    },
  };
  return { value, requested };
}

function invalidArgument(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (error) {
    expect(
      InvalidArgumentError.isInstance(error),
      `expected InvalidArgumentError, got ${String(error)}`,
    ).toBe(true);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('createRegistry', () => {
  it('resolves provider:model through that provider', () => {
    const openai = provider('openai');
    const voyage = provider('voyage');
    const registry = createRegistry({ openai: openai.value, voyage: voyage.value });
    const model = registry.embeddingModel('openai:text-embedding-3-small');
    expect(model.provider).toBe('openai');
    expect(model.modelId).toBe('text-embedding-3-small');
    expect(openai.requested).toEqual(['text-embedding-3-small']);
    expect(voyage.requested).toEqual([]);
    expect(registry.embeddingModel('voyage:voyage-3.5').provider).toBe('voyage');
    expect(registry.providers.openai).toBe(openai.value);
  });

  it('splits at the first colon only: model ids may contain colons', () => {
    const ollama = provider('ollama');
    const registry = createRegistry({ ollama: ollama.value });
    registry.embeddingModel('ollama:nomic-embed-text:v1.5');
    expect(ollama.requested).toEqual(['nomic-embed-text:v1.5']);
  });

  it('an unknown provider is an InvalidArgumentError naming it and the known ones', () => {
    const registry = createRegistry({ openai: provider('openai').value, jina: provider('jina').value });
    const error = invalidArgument(() => registry.embeddingModel('cohere:embed-v4' as never));
    expect(error.argument).toBe('id');
    expect(error.message).toContain('"cohere"');
    expect(error.message).toContain('openai, jina');
  });

  it('does not resolve names inherited from Object.prototype', () => {
    const registry = createRegistry({ openai: provider('openai').value });
    invalidArgument(() => registry.embeddingModel('toString:x' as never));
    invalidArgument(() => registry.embeddingModel('__proto__:x' as never));
    invalidArgument(() => registry.embeddingModel('constructor:x' as never));
  });

  it.each(['openai', ':text-embedding-3-small', 'openai:', '', ':'])(
    'a malformed id %j is an InvalidArgumentError',
    (id) => {
      const openai = provider('openai');
      const registry = createRegistry({ openai: openai.value });
      const error = invalidArgument(() => registry.embeddingModel(id as never));
      expect(error.message).toContain('provider:model');
      expect(openai.requested).toEqual([]);
    },
  );

  it('an empty registry says it has none', () => {
    const error = invalidArgument(() => createRegistry({}).embeddingModel('openai:x' as never));
    expect(error.message).toContain('none');
  });
});

describe('loadApiKey', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const settings = {
    environmentVariables: ['EMBEDKIT_TEST_KEY', 'EMBEDKIT_TEST_FALLBACK'],
    provider: 'acme',
  };

  it('reads the environment at call time, not once', () => {
    vi.stubEnv('EMBEDKIT_TEST_KEY', 'first-key');
    vi.stubEnv('EMBEDKIT_TEST_FALLBACK', '');
    expect(loadApiKey({ apiKey: undefined, ...settings })).toBe('first-key');
    vi.stubEnv('EMBEDKIT_TEST_KEY', 'rotated-key');
    expect(loadApiKey({ apiKey: undefined, ...settings })).toBe('rotated-key');
  });

  it('takes the first variable that is set and not blank, trimmed', () => {
    vi.stubEnv('EMBEDKIT_TEST_KEY', '   ');
    vi.stubEnv('EMBEDKIT_TEST_FALLBACK', '  fallback-key\n');
    expect(loadApiKey({ apiKey: undefined, ...settings })).toBe('fallback-key');
  });

  it('an explicit apiKey wins over the environment', () => {
    vi.stubEnv('EMBEDKIT_TEST_KEY', 'env-key');
    expect(loadApiKey({ apiKey: 'explicit-key', ...settings })).toBe('explicit-key');
  });

  it('a missing key is an InvalidArgumentError naming every variable to set', () => {
    vi.stubEnv('EMBEDKIT_TEST_KEY', '');
    vi.stubEnv('EMBEDKIT_TEST_FALLBACK', '');
    const error = invalidArgument(() => loadApiKey({ apiKey: undefined, ...settings }));
    expect(error.argument).toBe('apiKey');
    expect(error.message).toContain('acme');
    expect(error.message).toContain('EMBEDKIT_TEST_KEY or EMBEDKIT_TEST_FALLBACK');
    expect(error.message).toContain('apiKey');
  });

  it('an explicitly empty apiKey is an InvalidArgumentError, not a silent fallback', () => {
    vi.stubEnv('EMBEDKIT_TEST_KEY', 'env-key');
    const error = invalidArgument(() => loadApiKey({ apiKey: '  ', ...settings }));
    expect(error.argument).toBe('apiKey');
  });
});
