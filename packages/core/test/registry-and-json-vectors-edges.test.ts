/**
 * A registry refuses what is not a set of providers when it is made, and shows a long provider name by
 * its length alone; the JSON vector reader steps aside for a body whose number arrays and base64
 * strings are of two lengths, as its contract says it does for vectors of different lengths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { parseJsonWithVectors } from '../src/json-vectors.js';
import { createRegistry } from '../src/registry.js';
import type { EmbeddingProvider } from '../src/types.js';
import { setWebAssemblyEnabled, wasmKernels } from '../src/wasm/kernels.js';
import { ScriptedModel, thrownError } from './helpers.js';

const openai: EmbeddingProvider = {
  embedding: (modelId) => new ScriptedModel({ provider: 'openai', modelId }),
};

describe('createRegistry checks its providers when it is made', () => {
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['openai', '"openai"'],
    [[openai], 'an array'],
  ])('refuses %j as the providers, naming what it got', (providers, shown) => {
    const error = thrownError(InvalidArgumentError, () => createRegistry(providers as never));
    expect(error).toMatchObject({
      code: 'invalid_argument',
      argument: 'providers',
      message: `createRegistry takes an object of provider names to providers, like { openai, voyage }; got ${shown}.`,
    });
  });

  it('refuses an entry that is not a provider, naming its key', () => {
    for (const [entry, shown] of [
      [{ embeddings: openai.embedding }, 'an object with embeddings'],
      [null, 'null'],
      [openai.embedding, 'a function'],
    ] as const) {
      const error = thrownError(InvalidArgumentError, () =>
        createRegistry({ openai, voyage: entry } as never),
      );
      expect(error).toMatchObject({
        code: 'invalid_argument',
        argument: 'providers.voyage',
        message: `createRegistry: providers.voyage must be a provider, an object with an embedding function; got ${shown}.`,
      });
    }
  });

  it('takes a provider made by a class, whose embedding function is inherited', () => {
    class Provider implements EmbeddingProvider {
      embedding(modelId: string) {
        return new ScriptedModel({ provider: 'acme', modelId });
      }
    }
    const registry = createRegistry({ acme: new Provider() });
    expect(registry.embeddingModel('acme:small').modelId).toBe('small');
  });
});

describe('an unknown provider name is shown as every refusal shows a string', () => {
  it('a name longer than 24 characters by its length alone, since it may be a key', () => {
    const registry = createRegistry({ openai });
    const key = 'sk-fake-not-a-real-key-xxxxx';
    const error = thrownError(InvalidArgumentError, () =>
      registry.embeddingModel(`${key}:text-embedding-3-small` as never),
    );
    expect(error).toMatchObject({
      code: 'invalid_argument',
      argument: 'id',
      message: 'No provider a string of 28 characters in this registry; it has openai.',
    });
  });

  it('a short name quoted, as before', () => {
    const registry = createRegistry({ openai });
    const error = thrownError(InvalidArgumentError, () =>
      registry.embeddingModel('cohere:embed-v4' as never),
    );
    expect(error).toMatchObject({
      code: 'invalid_argument',
      message: 'No provider "cohere" in this registry; it has openai.',
    });
  });
});

const utf8 = (text: string) => new TextEncoder().encode(text);
const base64 = (...values: number[]) => Buffer.from(Float32Array.of(...values).buffer).toString('base64');

function parse(text: string, paths: readonly string[]) {
  return parseJsonWithVectors(utf8(text), paths, (bytes) => new TextDecoder().decode(bytes));
}

for (const backend of ['webassembly', 'javascript'] as const) {
  describe(`number arrays and base64 strings in one body (${backend} parser)`, () => {
    beforeAll(() => setWebAssemblyEnabled(backend === 'webassembly'));
    afterAll(() => setWebAssemblyEnabled(true));

    it('uses the backend it names', () => {
      expect(wasmKernels() !== undefined).toBe(backend === 'webassembly');
    });

    it('steps aside when an array and a string at two paths are of two lengths', () => {
      expect(parse(`{"v":[1,2,3],"w":"${base64(5, 6)}"}`, ['v', 'w'])).toBeUndefined();
      expect(parse(`{"w":"${base64(5, 6)}","v":[1,2,3]}`, ['v', 'w'])).toBeUndefined();
      expect(parse(`{"v":[1],"w":"${base64(5, 6)}"}`, ['v', 'w'])).toBeUndefined();
    });

    it('steps aside when one path holds an array and a string of two lengths', () => {
      const text = `{"data":[{"embedding":[0.5,0.25]},{"embedding":"${base64(1, 2, 3)}"}]}`;
      expect(parse(text, ['data[*].embedding'])).toBeUndefined();
    });

    it('reads arrays and strings of one length, each where it was', () => {
      expect(parse(`{"v":[1,2],"w":"${base64(5, 6)}"}`, ['v', 'w'])).toEqual({
        value: { v: Float32Array.of(1, 2), w: Float32Array.of(5, 6) },
      });
      const text = `{"data":[{"embedding":"${base64(0.5, 4)}"},{"embedding":[-1,0.75]}]}`;
      expect(parse(text, ['data[*].embedding'])).toEqual({
        value: { data: [{ embedding: Float32Array.of(0.5, 4) }, { embedding: Float32Array.of(-1, 0.75) }] },
      });
    });
  });
}
