/**
 * What a LangChain caller meets at the edges: no documents at all, an empty text, a list longer than one
 * API call takes (split once, by the engine), and warnings printed when `onWarning` is passed along unset.
 */
import { MockEmbeddingModel } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbedkitEmbeddings } from '../src/index.js';
import { refusal } from './refusal.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the documents LangChain hands over', () => {
  it('answers an empty list with an empty list, making no call', async () => {
    const model = new MockEmbeddingModel({ dimensions: 2 });
    const embeddings = new EmbedkitEmbeddings({ model });
    expect(await embeddings.embedDocuments([])).toEqual([]);
    expect(await embeddings.embedDocumentsFloat32([])).toEqual([]);
    expect(model.calls).toEqual([]);
  });

  it('refuses an empty text before any call, naming its place', async () => {
    const model = new MockEmbeddingModel({ dimensions: 2 });
    const embeddings = new EmbedkitEmbeddings({ model });
    const document = await refusal(embeddings.embedDocuments(['a', '']));
    expect(document.code).toBe('invalid_argument');
    expect(document.message).toBe('Input 1 is an empty string; embedding APIs reject empty inputs.');
    const query = await refusal(embeddings.embedQuery(''));
    expect(query.message).toBe('Input 0 is an empty string; embedding APIs reject empty inputs.');
    expect(model.calls).toEqual([]);
  });

  it("splits a list longer than one call takes once, by the model's limit, into number[] vectors", async () => {
    const model = new MockEmbeddingModel({ dimensions: 2, capabilities: { maxInputsPerCall: 100 } });
    const texts = Array.from({ length: 250 }, (_, index) => `text ${index}`);
    const vectors = await new EmbedkitEmbeddings({ model }).embedDocuments(texts);
    expect(model.calls.map((call) => [call.inputs.length, call.inputType])).toEqual([
      [100, 'document'],
      [100, 'document'],
      [50, 'document'],
    ]);
    expect(vectors).toHaveLength(250);
    expect(vectors.every((vector) => Array.isArray(vector) && vector.length === 2)).toBe(true);
  });
});

describe('warnings when onWarning is passed along unset', () => {
  it('prints them on the console, as when onWarning is left out', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    const embeddings = new EmbedkitEmbeddings({
      model,
      documentInputType: 'document',
      queryInputType: 'query',
      onWarning: undefined,
    });
    await embeddings.embedDocuments(['a']);
    await embeddings.embedQuery('q');
    expect(warn.mock.calls).toEqual([
      ['embedkit: mock model mock-embedding has no "document" input type; the inputs were sent without one.'],
      ['embedkit: mock model mock-embedding has no "query" input type; the inputs were sent without one.'],
    ]);
  });

  it('still refuses an onWarning that is not a function, such as null', async () => {
    const model = new MockEmbeddingModel();
    const error = await refusal(
      new EmbedkitEmbeddings({ model, onWarning: null as never }).embedDocuments(['a']),
    );
    expect(error.argument).toBe('onWarning');
    expect(error.message).toBe('onWarning must be a function, got null.');
    expect(model.calls).toEqual([]);
  });
});
