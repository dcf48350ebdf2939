/**
 * A warning that does not fail the call, through every kind of job: embed, embedMany, embedStream,
 * embedContextualized, rerank (each from an answer that carries one, twice) and a Gemini batch job's
 * `results` (results without metadata.key, placed in the order received). Each kind tells `onWarning`
 * of it once, as it comes, and lists it once in the result's `warnings` (a stream has no such list).
 */
import {
  type ContextualizedEmbeddingModel,
  type EmbeddingModel,
  embed,
  embedContextualized,
  embedMany,
  embedStream,
  type RerankingModel,
  rerank,
  type Warning,
} from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';
import { batchOperation, FAKE_KEY, fakeFetch, values } from './fake-fetch.js';

const WARNING: Warning = { type: 'other', message: 'acme answered from a fallback model.' };
const answered = { warnings: [WARNING], response: { status: 200, headers: {} } };
const capabilities = {
  maxInputsPerCall: 1,
  defaultDimensions: 2,
  inputTypes: [],
  outputTypes: ['float' as const],
  modalities: ['text' as const],
  normalized: false,
  supportsParallelCalls: false,
};
const model: EmbeddingModel & ContextualizedEmbeddingModel = {
  specificationVersion: 'v1',
  provider: 'acme',
  modelId: 'acme-1',
  capabilities,
  contextualizedCapabilities: { maxDocumentsPerCall: 1 },
  doEmbed: async ({ inputs }) => ({ ...answered, embeddings: inputs.map(() => Float32Array.of(1, 2)) }),
  doEmbedContextualized: async ({ documents }) => ({
    ...answered,
    embeddings: documents.map(() => [Float32Array.of(1, 2)]),
  }),
};
const reranker: RerankingModel = {
  specificationVersion: 'v1',
  provider: 'acme',
  modelId: 'acme-1',
  capabilities: { maxDocumentsPerCall: 1, supportsParallelCalls: false },
  doRerank: async () => ({ ...answered, results: [{ index: 0, relevanceScore: 1 }] }),
};

/** Results of a finished Gemini batch job of two inputs, neither carrying a metadata.key. */
async function batchResults(onWarning: (warning: Warning) => void) {
  const embedded = (head: number[]) => ({ response: { embedding: { values: values(128, head) } } });
  const { fetch } = fakeFetch([
    batchOperation('BATCH_STATE_SUCCEEDED', {
      batchStats: { requestCount: '2', successfulRequestCount: '2' },
      output: { inlinedResponses: { inlinedResponses: [embedded([1]), embedded([2])] } },
    }),
  ]);
  const jobs = createGemini({ apiKey: FAKE_KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
  const results = await jobs.results('batches/job-42', { onWarning });
  return {
    listed: results.warnings,
    expected: {
      type: 'other',
      message:
        'gemini returned results of batch job batches/job-42 without metadata.key; they were placed in the order received.',
    } satisfies Warning,
  };
}

interface Kind {
  name: string;
  run(onWarning: (warning: Warning) => void): Promise<{ listed?: Warning[]; expected: Warning }>;
}

const KINDS: Kind[] = [
  {
    name: 'embed',
    run: async (onWarning) => ({
      listed: (await embed({ model, input: 'a', onWarning })).warnings,
      expected: WARNING,
    }),
  },
  {
    name: 'embedMany',
    run: async (onWarning) => ({
      listed: (await embedMany({ model, inputs: ['a', 'b'], onWarning })).warnings,
      expected: WARNING,
    }),
  },
  {
    name: 'embedStream',
    async run(onWarning) {
      for await (const _ of embedStream({ model, inputs: ['a', 'b'], onWarning })) {
        // Each vector is read; the stream lists no warnings.
      }
      return { expected: WARNING };
    },
  },
  {
    name: 'embedContextualized',
    run: async (onWarning) => ({
      listed: (await embedContextualized({ model, documents: [['a'], ['b']], onWarning })).warnings,
      expected: WARNING,
    }),
  },
  {
    name: 'rerank',
    run: async (onWarning) => ({
      listed: (await rerank({ model: reranker, query: 'q', documents: ['a', 'b'], onWarning })).warnings,
      expected: WARNING,
    }),
  },
  { name: 'batch job results', run: batchResults },
];

describe('a warning that does not fail the call', () => {
  it.each(KINDS)('is told to onWarning once and listed once: $name', async (kind) => {
    const told: Warning[] = [];
    const { listed, expected } = await kind.run((warning) => told.push(warning));
    expect(told).toEqual([expected]);
    if (listed !== undefined) expect(listed).toEqual([expected]);
  });
});
