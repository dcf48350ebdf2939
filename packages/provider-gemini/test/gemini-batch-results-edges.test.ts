/**
 * Gemini batch-job results at their edges: keys read alike inline and in the results file (a JSON number
 * as well as a string of digits), a job cancelled or expired with no output, and the input types a job
 * can be created with.
 */
import { InvalidRequestError } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { GEMINI_MODELS, GEMINI_TASK_TYPES, geminiCapabilities } from '../src/gemini-options.js';
import { createGemini } from '../src/index.js';
import { batchOperation, failure, fakeFetch, values } from './fake-fetch.js';

const KEY = 'fake-not-a-real-key-0001';
const unnormalized = { providerOptions: { gemini: { normalize: false } } };

function setup(reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent } = fakeFetch(reply);
  const jobs = createGemini({ apiKey: KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
  return { jobs, sent };
}

const first = (vector: Float32Array | Int8Array | Uint8Array | null) => (vector === null ? null : vector[0]);
const vector = (head: number) => ({ embedding: { values: values(128, [head]) } });

describe('a result’s key, inline or in the results file', () => {
  /** The same results, as the inline list of a finished job and as the lines of its results file. */
  function bothWays(items: Record<string, unknown>[], stats: Record<string, unknown>) {
    const inline = setup([
      batchOperation('BATCH_STATE_SUCCEEDED', {
        batchStats: stats,
        output: { inlinedResponses: { inlinedResponses: items } },
      }),
    ]);
    const file = setup([
      batchOperation('BATCH_STATE_SUCCEEDED', {
        batchStats: stats,
        output: { responsesFile: 'files/out-1' },
      }),
      {
        headers: { 'content-type': 'application/octet-stream' },
        body: `${items.map((item) => JSON.stringify(item)).join('\n')}\n`,
      },
    ]);
    return { inline: inline.jobs, file: file.jobs };
  }

  it('a JSON number in metadata.key names its input in the results file as it does inline', async () => {
    const items = [
      { metadata: { key: 1 }, response: vector(8) },
      { metadata: { key: 0 }, response: vector(7) },
    ];
    const { inline, file } = bothWays(items, { requestCount: '2' });
    const fromFile = await file.results('batches/job-42', unnormalized);
    expect(fromFile.embeddings.map(first)).toEqual([7, 8]);
    expect(fromFile.errors).toEqual([]);
    expect(fromFile.warnings).toEqual([]);
    const fromInline = await inline.results('batches/job-42', unnormalized);
    expect(fromInline.embeddings).toEqual(fromFile.embeddings);
  });

  it('a line whose own key is a JSON number is placed by it, the key winning over its metadata.key', async () => {
    const { file } = bothWays(
      [
        { key: 1, metadata: { key: '0' }, response: vector(8) },
        { key: 0, response: vector(7) },
      ],
      { requestCount: '2' },
    );
    const results = await file.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([7, 8]);
    expect(results.errors).toEqual([]);
  });

  it('a key that names no input is left out with the same warning and errors either way', async () => {
    const items = [
      { metadata: { key: 0 }, response: vector(7) },
      { metadata: { key: 1.5 }, response: vector(8) },
    ];
    const { inline, file } = bothWays(items, { requestCount: '2' });
    const fromFile = await file.results('batches/job-42', unnormalized);
    const fromInline = await inline.results('batches/job-42', unnormalized);
    expect(fromFile.embeddings.map(first)).toEqual([7, null]);
    expect(fromFile.errors).toEqual([
      {
        index: 1,
        message:
          'no result for this input (job succeeded); a result whose metadata.key (1.5) names no input was left out',
      },
    ]);
    expect(fromFile.warnings).toEqual([
      {
        type: 'other',
        message:
          'gemini left out 1 result of batch job batches/job-42 whose metadata.key (1.5) names no input of the job; no input was given its vector.',
      },
    ]);
    expect(fromInline.errors).toEqual(fromFile.errors);
    expect(fromInline.warnings).toEqual(fromFile.warnings);
    expect(fromInline.embeddings).toEqual(fromFile.embeddings);
  });
});

describe('a job that ended without output', () => {
  it('cancelled, with a count of its inputs: each input gets its error', async () => {
    const { jobs } = setup([
      batchOperation('BATCH_STATE_CANCELLED', { batchStats: { requestCount: '2' } }, { done: true }),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.job.state).toBe('cancelled');
    expect(results.embeddings).toEqual([null, null]);
    expect(results.errors).toEqual([
      { index: 0, message: 'no result for this input (job cancelled)' },
      { index: 1, message: 'no result for this input (job cancelled)' },
    ]);
    expect(results.warnings).toEqual([]);
  });

  it('expired, made by this provider: each input it was given gets its error', async () => {
    const { jobs, sent } = setup([
      batchOperation('BATCH_STATE_PENDING'),
      batchOperation('BATCH_STATE_EXPIRED', {}, { done: true }),
    ]);
    const job = await jobs.create({ inputs: ['a', 'b', 'c'] });
    const results = await jobs.results(job.id);
    expect(results.embeddings).toEqual([null, null, null]);
    expect(results.errors).toEqual(
      [0, 1, 2].map((index) => ({ index, message: 'no result for this input (job expired)' })),
    );
    expect(sent).toHaveLength(2);
  });

  it('failed, with a count: still an InvalidRequestError carrying the job’s error', async () => {
    const { jobs } = setup([
      batchOperation(
        'BATCH_STATE_FAILED',
        { batchStats: { requestCount: '2' } },
        { done: true, error: { code: 3, message: 'Bad input file.' } },
      ),
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toBe('Batch job batches/job-42 ended failed without results: Bad input file.');
    expect(error.providerCode).toBe('BATCH_STATE_FAILED');
  });

  it('expired, with no count of its inputs anywhere: an InvalidRequestError, not an empty result', async () => {
    const { jobs } = setup([batchOperation('BATCH_STATE_EXPIRED', {}, { done: true })]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toBe('Batch job batches/job-42 ended expired without results.');
    expect(error.providerCode).toBe('BATCH_STATE_EXPIRED');
  });
});

describe('the input types a job is created with', () => {
  it('every input type a model takes has its task type, so create has nothing to warn of', () => {
    for (const capabilities of [...Object.values(GEMINI_MODELS), geminiCapabilities('a-future-model')]) {
      expect(
        capabilities.inputTypes.filter((inputType) => !Object.hasOwn(GEMINI_TASK_TYPES, inputType)),
      ).toEqual([]);
    }
  });

  it('one it lacks is refused before any request', async () => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.create({ inputs: ['a'], inputType: 'code-document' }));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(
      'gemini model gemini-embedding-001 has no "code-document" input type (it supports query, document, similarity, classification, clustering, question-answering, fact-verification, code-query).',
    );
    expect(sent).toHaveLength(0);
  });
});
