/**
 * A finished batch job whose answer holds no results: what `results` makes of it depends on whether the
 * number of the job's inputs is known, since the results hold an entry per input.
 */
import { InvalidRequestError, InvalidResponseError } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';
import { batchOperation, failure, fakeFetch } from './fake-fetch.js';

const KEY = 'fake-not-a-real-key-0002';

function setup(reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent } = fakeFetch(reply);
  const jobs = createGemini({ apiKey: KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
  return { jobs, sent };
}

const emptyInline = { output: { inlinedResponses: { inlinedResponses: [] } } };
const emptyFile = [
  batchOperation('BATCH_STATE_SUCCEEDED', { output: { responsesFile: 'files/out-1' } }, { done: true }),
  { headers: { 'content-type': 'application/octet-stream' }, body: '' },
];

describe('a finished job whose answer holds no results', () => {
  it('succeeded, with an empty inlinedResponses and no count of its inputs: an InvalidResponseError saying what came', async () => {
    const { jobs, sent } = setup([batchOperation('BATCH_STATE_SUCCEEDED', emptyInline, { done: true })]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(
      'gemini reported batch job batches/job-42 succeeded but sent an empty inlinedResponses and no count of its inputs.',
    );
    expect(sent).toHaveLength(1);
  });

  it('succeeded, with an empty results file and no count of its inputs: the same, naming the file', async () => {
    const { jobs, sent } = setup(emptyFile);
    const error = await failure(jobs.results('batches/job-42'));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'gemini reported batch job batches/job-42 succeeded but sent an empty results file and no count of its inputs.',
    );
    expect(sent).toHaveLength(2);
  });

  it('succeeded, with an empty inlinedResponses and a count of its inputs: each input gets its error', async () => {
    const { jobs } = setup([
      batchOperation(
        'BATCH_STATE_SUCCEEDED',
        { ...emptyInline, batchStats: { requestCount: '2' } },
        { done: true },
      ),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.embeddings).toEqual([null, null]);
    expect(results.errors).toEqual([
      { index: 0, message: 'no result for this input (job succeeded)' },
      { index: 1, message: 'no result for this input (job succeeded)' },
    ]);
  });

  it.each([
    ['BATCH_STATE_CANCELLED', 'Batch job batches/job-42 ended cancelled without results.'],
    ['BATCH_STATE_EXPIRED', 'Batch job batches/job-42 ended expired without results.'],
  ])(
    '%s, with an empty inlinedResponses and no count: an InvalidRequestError, as with no output',
    async (state, message) => {
      const { jobs } = setup([batchOperation(state, emptyInline, { done: true })]);
      const error = await failure(jobs.results('batches/job-42'));
      expect(InvalidRequestError.isInstance(error)).toBe(true);
      expect(error.code).toBe('invalid_request');
      expect(error.message).toBe(message);
      expect(error.providerCode).toBe(state);
    },
  );

  it('failed, with an empty inlinedResponses and no count: an InvalidRequestError carrying the job’s error', async () => {
    const { jobs } = setup([
      batchOperation('BATCH_STATE_FAILED', emptyInline, {
        done: true,
        error: { code: 3, message: 'Bad input file.' },
      }),
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.message).toBe('Batch job batches/job-42 ended failed without results: Bad input file.');
    expect(error.providerCode).toBe('BATCH_STATE_FAILED');
  });
});
