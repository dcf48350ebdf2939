/**
 * Three Gemini edges: an input type named like a property every object has (`toString`, `__proto__`) is
 * no task type for a direct `doEmbed` call; a 429 on a per-day quota, which is not retried, carries no
 * `retryAfterMs` (its `RetryInfo` is not when the quota comes back); and an expired or cancelled job's
 * own error text, redacted, is quoted in the error of each input it left without a result.
 */
import { embedMany, RateLimitError } from '@embedkit/core';
import type { InputType } from '@embedkit/core/provider';
import { recordingClock } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createGemini, parseGeminiError } from '../src/index.js';
import { batchOperation, FAKE_KEY, failure, fakeFetch, quotaExhausted, values } from './fake-fetch.js';

const MODEL = 'models/gemini-embedding-001';

describe('an input type that is an object property name, on a direct doEmbed call', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    '"%s" is sent without a task type and warned about',
    async (inputType) => {
      const { fetch, sent } = fakeFetch([{ body: { embedding: { values: values(3072, [1]) } } }]);
      const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
      const response = await model.doEmbed({ inputs: ['x'], inputType: inputType as InputType });
      expect(sent[0]!.body).toStrictEqual({ model: MODEL, content: { parts: [{ text: 'x' }] } });
      expect(response.warnings).toStrictEqual([
        {
          type: 'unsupported-setting',
          setting: 'inputType',
          message: `gemini has no task type for "${inputType}"; the inputs were sent without one (Google suggests RETRIEVAL_DOCUMENT, inputType "document", for the code side of code retrieval).`,
        },
      ]);
    },
  );
});

describe('a 429 on a per-day quota', () => {
  const EXCEEDED = 'You exceeded your current quota. Please retry in 41.5s.';

  it('is not retried and carries no retryAfterMs, from RetryInfo or from the message', async () => {
    const clock = recordingClock();
    const { fetch, sent } = fakeFetch([
      quotaExhausted('EmbedContentRequestsPerDayPerProjectPerModel', '41s', EXCEEDED),
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
    const error = await failure(embedMany({ model, inputs: ['a'], clock }));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.code).toBe('rate_limited');
    expect(error).toMatchObject({ quotaExhausted: true, isRetryable: false, statusCode: 429 });
    expect(error.retryAfterMs).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    const withoutRetryInfo = quotaExhausted(
      'EmbedContentRequestsPerDayPerProjectPerModel',
      '41s',
      EXCEEDED,
    ).body;
    withoutRetryInfo.error.details.pop();
    const fromMessage = await failure(
      embedMany({
        model: createGemini({
          apiKey: FAKE_KEY,
          fetch: fakeFetch([{ status: 429, body: withoutRetryInfo }]).fetch,
        }).embedding('gemini-embedding-001'),
        inputs: ['a'],
        clock,
      }),
    );
    expect(fromMessage).toMatchObject({ quotaExhausted: true, isRetryable: false });
    expect(fromMessage.retryAfterMs).toBeUndefined();
  });

  it('a per-minute quota keeps its RetryInfo wait', () => {
    const { body } = quotaExhausted('EmbedContentRequestsPerMinutePerProjectPerModel', '41s', EXCEEDED);
    expect(parseGeminiError(body, 429).retryAfterMs).toBe(41_000);
  });
});

describe('a batch job that ended without output, with an error of its own', () => {
  function setup(reply: Parameters<typeof fakeFetch>[0]) {
    const { fetch, sent } = fakeFetch(reply);
    const jobs = createGemini({ apiKey: FAKE_KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
    return { jobs, sent };
  }

  it('expired: each input’s error quotes the job’s error text', async () => {
    const { jobs } = setup([
      batchOperation(
        'BATCH_STATE_EXPIRED',
        { batchStats: { requestCount: '2' } },
        { done: true, error: { code: 4, message: 'The batch ran past its 48 hour deadline.' } },
      ),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.job.state).toBe('expired');
    expect(results.embeddings).toEqual([null, null]);
    expect(results.errors).toStrictEqual([
      {
        index: 0,
        message: 'no result for this input (job expired: The batch ran past its 48 hour deadline)',
      },
      {
        index: 1,
        message: 'no result for this input (job expired: The batch ran past its 48 hour deadline)',
      },
    ]);
  });

  it('the job’s error text is redacted of the key it echoes', async () => {
    const { jobs } = setup([
      batchOperation(
        'BATCH_STATE_CANCELLED',
        { batchStats: { requestCount: '1' } },
        { done: true, error: { message: `Cancelled by the holder of ${FAKE_KEY}.` } },
      ),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.errors).toStrictEqual([
      {
        index: 0,
        message: 'no result for this input (job cancelled: Cancelled by the holder of [REDACTED])',
      },
    ]);
  });

  it('without an error of its own, the error names the state alone', async () => {
    const { jobs } = setup([
      batchOperation('BATCH_STATE_EXPIRED', { batchStats: { requestCount: '1' } }, { done: true }),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.errors).toStrictEqual([{ index: 0, message: 'no result for this input (job expired)' }]);
  });
});
