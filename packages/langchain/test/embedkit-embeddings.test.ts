import { fileURLToPath } from 'node:url';
import { createFakeClock } from '@embedkit/conformance';
import { createReplayDispatcher, readCassette } from '@embedkit/conformance/replay';
import { RetryError, ServerError, type Warning } from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { Document } from '@langchain/core/documents';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbedkitEmbeddings } from '../src/index.js';

// The semantic-search demo's exchange: five documents, then the query "pets and animals", at 256 dimensions.
const DEMO_CASSETTE = fileURLToPath(
  new URL('../../../examples/semantic-search/cassettes/semantic-search.json', import.meta.url),
);
const demoDocuments = [
  'The cat sat on the mat',
  'Dogs are loyal companions',
  'Python is a programming language',
  'Machine learning models require training data',
  'The weather is sunny today',
];

describe("EmbedkitEmbeddings in LangChain's in-memory vector store", () => {
  it('adds the demo documents and finds the pet documents for "pets and animals", from the cassette', async () => {
    const replay = createReplayDispatcher('https://api.openai.com/v1', [readCassette(DEMO_CASSETTE)]);
    try {
      const model = createOpenAI({ apiKey: 'replay-without-a-key', dispatcher: replay.dispatcher }).embedding(
        'text-embedding-3-small',
      );
      const onWarning = vi.fn();
      const store = new MemoryVectorStore(new EmbedkitEmbeddings({ model, dimensions: 256, onWarning }));
      await store.addDocuments(
        demoDocuments.map(
          (text, index) => new Document({ pageContent: text, metadata: { line: index + 1 } }),
        ),
      );
      const found = await store.similaritySearchWithScore('pets and animals', 2);
      expect(found.map(([document]) => document.pageContent)).toEqual([
        'Dogs are loyal companions',
        'The cat sat on the mat',
      ]);
      expect(found.map(([document]) => document.metadata)).toEqual([{ line: 2 }, { line: 1 }]);
      // The demo's own ranking scores (examples/semantic-search/test/demo.test.ts).
      expect(found.map(([, score]) => Number(score.toFixed(4)))).toEqual([0.6577, 0.5486]);
      // OpenAI has no input types: none was sent, so nothing to warn about.
      expect(onWarning).not.toHaveBeenCalled();
      expect(replay.pending()).toEqual([]);
    } finally {
      await replay.close();
    }
  });
});

describe('EmbedkitEmbeddings', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('embeds documents as "document" and queries as "query" when the model has them', async () => {
    const model = new MockEmbeddingModel({ dimensions: 8 });
    const embeddings = new EmbedkitEmbeddings({ model });
    const documents = await embeddings.embedDocuments(['a', 'b']);
    const query = await embeddings.embedQuery('q');
    expect(model.calls.map((call) => [call.inputs, call.inputType])).toEqual([
      [['a', 'b'], 'document'],
      [['q'], 'query'],
    ]);
    expect(documents).toEqual([Array.from(hashVector('a', 8)), Array.from(hashVector('b', 8))]);
    expect(Array.isArray(documents[0])).toBe(true);
    expect(query).toEqual(Array.from(hashVector('q', 8)));
  });

  it('sends no input type to a model without them, and the chosen one (warning when unsupported) otherwise', async () => {
    const plain = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    await new EmbedkitEmbeddings({ model: plain }).embedDocuments(['a']);
    expect(plain.calls[0]!.inputType).toBeUndefined();

    const warnings: Warning[] = [];
    const chosen = new EmbedkitEmbeddings({
      model: plain,
      documentInputType: 'clustering',
      onWarning: (warning) => warnings.push(warning),
    });
    await chosen.embedDocuments(['a']);
    expect(warnings.map((warning) => warning.setting)).toEqual(['inputType']);
  });

  it('prints each distinct warning when no onWarning is given, never dropping it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    await new EmbedkitEmbeddings({ model, queryInputType: 'query' }).embedQuery('q');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/^embedkit: mock model mock-embedding has no "query" input type/);
  });

  it('returns Float32Arrays on the Float32 path, the same values as the number[] path', async () => {
    const model = new MockEmbeddingModel({ dimensions: 4 });
    const embeddings = new EmbedkitEmbeddings({ model, maxInputsPerCall: 3 });
    const texts = ['a', 'b', 'c', 'd'];
    const vectors = await embeddings.embedDocumentsFloat32(texts);
    expect(vectors.every((vector) => vector instanceof Float32Array)).toBe(true);
    expect(vectors.map((vector) => Array.from(vector))).toEqual(await embeddings.embedDocuments(texts));
    expect(model.calls.slice(0, 2).map((call) => call.inputs)).toEqual([['a', 'b', 'c'], ['d']]);
    const query = await embeddings.embedQueryFloat32('q');
    expect(query).toBeInstanceOf(Float32Array);
    expect(Array.from(query)).toEqual(Array.from(hashVector('q', 4)));
  });

  it("retries in embedkit alone: LangChain's caller adds no second layer", async () => {
    const model = new MockEmbeddingModel({
      beforeCall: () => {
        throw new ServerError('mock API error 503: unavailable', { statusCode: 503 });
      },
    });
    const embeddings = new EmbedkitEmbeddings({ model, maxRetries: 2, clock: createFakeClock() });
    const error = await embeddings.embedDocuments(['a']).then(
      () => expect.unreachable('embedDocuments resolved; it had to fail'),
      (caught: unknown) => caught,
    );
    expect(RetryError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(3);
  });
});
