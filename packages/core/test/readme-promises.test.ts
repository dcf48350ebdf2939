/**
 * What the READMEs promise of core that no other file pins: the constants adapters reuse, the cache
 * failure reporter stores share, the lookups and credential names of `@embedkit/core/provider`, the
 * engine's defaults for rerank and contextualized jobs, and that a refused value is shown the same way
 * wherever it was given (a number as itself, a string quoted, a long string by its length alone, an object
 * by its kind).
 */
import { describe, expect, it } from 'vitest';
import { type CacheStoreWarning, cacheFailureReporter } from '../src/cache.js';
import { embedContextualized } from '../src/contextualized.js';
import { embed, embedMany } from '../src/engine/embed.js';
import {
  checkEmbeddingModel,
  DEFAULT_CONCURRENCY,
  MAX_CONCURRENCY,
  MAX_RETRIES,
} from '../src/engine/settings.js';
import { RetryError, ServerError } from '../src/errors.js';
import { isSecretFieldName, ownEntry } from '../src/provider.js';
import { createRegistry } from '../src/registry.js';
import { rerank } from '../src/rerank.js';
import { MockEmbeddingModel } from '../src/testing.js';
import type { EmbeddingProvider } from '../src/types.js';
import {
  contextualizedModel,
  deferred,
  refusedBeforeAnyCall,
  rejectionOf,
  ScriptedModel,
  ScriptedReranker,
  thrownInvalidArgument,
  until,
  VirtualClock,
} from './helpers.js';

describe('the concurrency constants adapters reuse', () => {
  it('DEFAULT_CONCURRENCY is 4 and MAX_CONCURRENCY 10,000; one more than the most is refused', async () => {
    expect(DEFAULT_CONCURRENCY).toBe(4);
    expect(MAX_CONCURRENCY).toBe(10_000);
    await embedMany({ model: new ScriptedModel(), inputs: ['1'], concurrency: MAX_CONCURRENCY });
    const error = await refusedBeforeAnyCall((model) =>
      embedMany({ model, inputs: ['1'], concurrency: MAX_CONCURRENCY + 1 }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('concurrency');
    expect(error.message).toBe('concurrency must be a whole number from 1 to 10,000, got 10001.');
  });

  it('MAX_RETRIES is 100, the most a job may set; one more is refused', async () => {
    expect(MAX_RETRIES).toBe(100);
    await embedMany({ model: new ScriptedModel(), inputs: ['1'], maxRetries: MAX_RETRIES });
    const error = await refusedBeforeAnyCall((model) =>
      embedMany({ model, inputs: ['1'], maxRetries: MAX_RETRIES + 1 }),
    );
    expect(error.argument).toBe('maxRetries');
    expect(error.message).toBe('maxRetries must be a whole number from 0 to 100, got 101.');
  });
});

describe('a setting another library names', () => {
  it('embed: values (the AI SDK’s embedMany inputs) says to pass one input, as input', async () => {
    const error = await refusedBeforeAnyCall((model) =>
      embed({ model, input: 'a', values: ['a'] } as Parameters<typeof embed>[0]),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('values');
    expect(error.message).toBe(
      'embed has no setting values: it takes one input, as input; for an array of inputs, call embedMany({ model, inputs }).',
    );
  });
});

describe('cacheFailureReporter', () => {
  const messages = {
    read: (reason: string) => `read: ${reason}`,
    write: (reason: string) => `write: ${reason}`,
  };

  it('tells each kind of failure once, and again only after that kind has worked in between', () => {
    const warnings: CacheStoreWarning[] = [];
    const reporter = cacheFailureReporter((warning) => warnings.push(warning), messages);
    reporter.failed('read', new Error('disk gone'));
    reporter.failed('read', new Error('still gone'));
    reporter.failed('write', 'full');
    reporter.worked('write');
    reporter.failed('read', new Error('gone again'));
    reporter.worked('read');
    reporter.failed('read', new Error('back and gone'));
    reporter.failed('write', new Error('full again'));
    expect(warnings).toEqual([
      { code: 'cache-read-failed', message: 'read: disk gone' },
      { code: 'cache-write-failed', message: 'write: full' },
      { code: 'cache-read-failed', message: 'read: back and gone' },
      { code: 'cache-write-failed', message: 'write: full again' },
    ]);
  });
});

describe('ownEntry', () => {
  it('finds a table’s own keys, never the names Object.prototype holds', () => {
    const table: Record<string, number> = { 'embed-1': 1024 };
    expect(ownEntry(table, 'embed-1')).toBe(1024);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(ownEntry(table, name)).toBeUndefined();
    }
  });
});

describe('isSecretFieldName', () => {
  it.each(['api_key', 'apiKey', 'ACCESS_TOKEN', 'client_secret', 'password', 'authorization', 'private_key'])(
    'a field %s holds a credential',
    (name) => {
      expect(isSecretFieldName(name)).toBe(true);
    },
  );

  it.each(['key', 'code', 'model', 'input', 'x-ratelimit-remaining-tokens'])(
    'a field %s is ordinary data',
    (name) => {
      expect(isSecretFieldName(name)).toBe(false);
    },
  );
});

describe('checkEmbeddingModel', () => {
  it('takes an embedkit model, and refuses anything else with the hint after the refusal', () => {
    expect(() => checkEmbeddingModel(new MockEmbeddingModel())).not.toThrow();
    const error = thrownInvalidArgument(() =>
      checkEmbeddingModel(
        { modelId: 'text-embedding-3-small' },
        'Pass an embedkit model, not an AI SDK one.',
      ),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('model');
    expect(error.message).toBe(
      'model must be an embedkit EmbeddingModel (specificationVersion "v1"). Pass an embedkit model, not an AI SDK one.',
    );
  });
});

describe('rerank and embedContextualized run with the engine’s defaults', () => {
  it('rerank: 4 calls in flight, 120,000 ms an attempt, 3 retries', async () => {
    const gate = deferred();
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1 }, async () => {
      await gate.promise;
      return undefined;
    });
    const pending = rerank({ model, query: 'q', documents: ['1', '2', '3', '4', '5', '6'] });
    await until(() => model.calls.length === 4, 'four calls in flight');
    gate.resolve();
    await pending;
    expect(model.maxInFlight).toBe(4);
    expect(model.requests.map((request) => request.timeoutMs)).toEqual(Array(6).fill(120_000));

    const failing = new ScriptedReranker({}, () => {
      throw new ServerError('busy', { statusCode: 503 });
    });
    const clock = new VirtualClock({ random: [0] });
    const error = await rejectionOf(
      RetryError,
      rerank({ model: failing, query: 'q', documents: ['1'], clock }),
    );
    expect(error.code).toBe('retries_exhausted');
    expect(error.attempts).toBe(4);
  });

  it('embedContextualized: 120,000 ms an attempt', async () => {
    const { model } = contextualizedModel();
    const timeouts: (number | undefined)[] = [];
    const answer = model.doEmbedContextualized.bind(model);
    model.doEmbedContextualized = (request) => {
      timeouts.push(request.timeoutMs);
      return answer(request);
    };
    await embedContextualized({ model, documents: [['1', '2'], ['3']] });
    expect(timeouts).toEqual([120_000]);
  });
});

describe('a refused value is shown the same way everywhere', () => {
  const openai: EmbeddingProvider = {
    embedding: (modelId) => new ScriptedModel({ provider: 'openai', modelId }),
  };

  it.each([
    [42, '42'],
    [{ provider: 'openai' }, 'an object with provider'],
    [Object.create(null), 'an empty object'],
  ])('a registry id %o that is no string is shown as %s', (id, shown) => {
    const error = thrownInvalidArgument(() => createRegistry({ openai }).embeddingModel(id as never));
    expect(error.argument).toBe('id');
    expect(error.message).toBe(
      `Model id ${shown} must look like "provider:model", e.g. "openai:text-embedding-3-small".`,
    );
  });

  it('a limit of a model given as text is shown quoted, not as the number it reads as', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: '8000' as unknown as number } });
    const error = await refusedBeforeAnyCall(
      (scripted) => embedMany({ model: scripted, inputs: ['a'] }),
      model,
    );
    expect(error.argument).toBe('model.capabilities.maxTokensPerCall');
    expect(error.message).toBe(
      `The scripted model scripted-1's capabilities.maxTokensPerCall is "8000"; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
    );
  });

  it('an input type longer than 24 characters is shown by its length alone', async () => {
    const key = 'sk-fake-not-a-real-key-xxxxxxxxxxxxxxxxxxxxx';
    const error = await refusedBeforeAnyCall((model) =>
      embedMany({ model, inputs: ['a'], inputType: key as never }),
    );
    expect(error.argument).toBe('inputType');
    expect(error.message).toMatch(/; got a string of 44 characters\.$/);
    expect(error.message).not.toContain('sk-fake');
  });
});
