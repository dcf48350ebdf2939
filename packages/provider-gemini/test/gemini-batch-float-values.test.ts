/**
 * The vectors of a batch job's results reach no engine: the batch reader runs core's one check of float
 * values on each (`nonFiniteValue`), once per vector, and a value that is not a finite number is an error
 * of its own input that quotes the number as sent (1e+39, not the Infinity it reads as in float32).
 */
import { describe, expect, it, vi } from 'vitest';
import { createGemini } from '../src/index.js';
import { FAKE_KEY, fakeFetch, values } from './fake-fetch.js';

/** Calls of core's check of float values, by the vector's first value. */
const checked = vi.hoisted(() => [] as number[]);

vi.mock('@embedkit/core/provider', async (importOriginal) => {
  const original = await importOriginal<typeof import('@embedkit/core/provider')>();
  return {
    ...original,
    nonFiniteValue: (...args: Parameters<typeof original.nonFiniteValue>) => {
      checked.push(args[0][0]!);
      return original.nonFiniteValue(...args);
    },
  };
});

const embedded = (head: number[], key: string) => ({
  response: { embedding: { values: values(128, head) } },
  metadata: { key },
});

function finished(items: unknown[]) {
  return {
    body: {
      name: 'batches/job-42',
      metadata: {
        model: 'models/gemini-embedding-001',
        name: 'batches/job-42',
        state: 'BATCH_STATE_SUCCEEDED',
        batchStats: { requestCount: String(items.length) },
        output: { inlinedResponses: { inlinedResponses: items } },
      },
    },
  };
}

describe('batch results: float values checked once, as the engine checks them', () => {
  it.each([
    ['normalized (the default)', {}],
    ['not normalized', { providerOptions: { gemini: { normalize: false } } }],
  ])(
    '%s: a number beyond float32 is its input’s error, quoted as sent; every vector read once',
    async (_, options) => {
      checked.length = 0;
      const { fetch } = fakeFetch([
        finished([
          embedded([10], '0'),
          embedded([11, 1e39], '1'),
          embedded([12], '2'),
          embedded([13, 2, -1e39], '3'),
        ]),
      ]);
      const jobs = createGemini({ apiKey: FAKE_KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
      const results = await jobs.results('batches/job-42', options);
      expect(results.embeddings.map((vector) => (vector === null ? null : vector.length))).toEqual([
        128,
        null,
        128,
        null,
      ]);
      expect(results.errors).toEqual([
        { index: 1, message: 'the vector holds 1e+39 at position 1, not a finite number.' },
        { index: 3, message: 'the vector holds -1e+39 at position 2, not a finite number.' },
      ]);
      // One check per vector, in input order; the bad ones left unscaled (11 and 13 as sent).
      expect(checked).toHaveLength(4);
      expect([checked[1], checked[3]]).toEqual([11, 13]);
    },
  );
});
