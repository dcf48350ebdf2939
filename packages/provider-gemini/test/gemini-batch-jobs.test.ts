import { createFakeClock } from '@embedkit/conformance';
import { type BatchJob, waitForBatchJob } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';
import { FAKE_KEY, type FakeReply, fakeFetch, values } from './fake-fetch.js';

const ROOT = 'https://generativelanguage.googleapis.com/v1beta';
const MODEL = 'models/gemini-embedding-001';

function setup(reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent } = fakeFetch(reply);
  const jobs = createGemini({ apiKey: FAKE_KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
  return { jobs, sent };
}

function operation(state: string, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    body: {
      name: 'batches/job-42',
      metadata: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatch',
        model: MODEL,
        name: 'batches/job-42',
        displayName: 'nightly docs',
        state,
        ...extra,
      },
      ...top,
    },
  } satisfies FakeReply;
}

async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  return expect.fail('the call had to fail');
}

describe('create', () => {
  it('posts inline requests, each with model, task type, title, dimensions and metadata.key, to :asyncBatchEmbedContent', async () => {
    const { jobs, sent } = setup([
      operation('BATCH_STATE_PENDING', {
        createTime: '2026-01-01T00:00:00Z',
        batchStats: { requestCount: '2', pendingRequestCount: '2' },
      }),
    ]);
    const job = await jobs.create({
      inputs: [
        { text: 'First document', title: 'First' },
        { text: 'Second document', title: 'Second' },
      ],
      inputType: 'document',
      dimensions: 768,
      displayName: 'nightly docs',
    });
    expect(sent[0]!.method).toBe('POST');
    expect(sent[0]!.url).toBe(`${ROOT}/models/gemini-embedding-001:asyncBatchEmbedContent?prettyPrint=false`);
    expect(sent[0]!.headers['x-goog-api-key']).toBe(FAKE_KEY);
    expect(sent[0]!.body).toEqual({
      batch: {
        model: MODEL,
        displayName: 'nightly docs',
        inputConfig: {
          requests: {
            requests: [
              {
                request: {
                  model: MODEL,
                  content: { parts: [{ text: 'First document' }] },
                  taskType: 'RETRIEVAL_DOCUMENT',
                  title: 'First',
                  outputDimensionality: 768,
                },
                metadata: { key: '0' },
              },
              {
                request: {
                  model: MODEL,
                  content: { parts: [{ text: 'Second document' }] },
                  taskType: 'RETRIEVAL_DOCUMENT',
                  title: 'Second',
                  outputDimensionality: 768,
                },
                metadata: { key: '1' },
              },
            ],
          },
        },
      },
    });
    expect(job).toEqual({
      id: 'batches/job-42',
      provider: 'gemini',
      modelId: 'gemini-embedding-001',
      state: 'pending',
      providerState: 'BATCH_STATE_PENDING',
      requestCounts: { total: 2, succeeded: 0, failed: 0, pending: 2 },
      displayName: 'nightly docs',
      createdAt: '2026-01-01T00:00:00Z',
    } satisfies BatchJob);
  });

  it('names the job after the model and the time when no displayName is given', async () => {
    const { jobs, sent } = setup([operation('BATCH_STATE_PENDING')]);
    await jobs.create({ inputs: ['x'] });
    const body = sent[0]!.body as { batch: { displayName: string } };
    expect(body.batch.displayName).toMatch(/^embedkit-gemini-embedding-001-\d{4}-\d\d-\d\dT/);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['no inputs', { inputs: [] }, 'inputs'],
    ['an input type Gemini lacks', { inputs: ['x'], inputType: 'code-document' }, 'inputType'],
    ['dimensions out of range', { inputs: ['x'], dimensions: 127 }, 'dimensions'],
    [
      'a job-wide titles list (titles travel on their inputs)',
      { inputs: ['x', 'y'], inputType: 'document', providerOptions: { gemini: { titles: ['t', 'u'] } } },
      'providerOptions.gemini',
    ],
    [
      'a title outside inputType document',
      { inputs: [{ text: 'x', title: 'T' }], inputType: 'query' },
      'inputs[0]',
    ],
    ['an empty input', { inputs: ['x', ''] }, 'inputs[1]'],
    ['an empty displayName', { inputs: ['x'], displayName: ' ' }, 'displayName'],
  ];
  it.each(invalid)('refuses %s before any request', async (_name, options, argument) => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.create(options as never));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe(argument);
    expect(sent).toHaveLength(0);
  });
});

describe('get', () => {
  it('reads state, counts (int64 strings, zeros omitted), times and the job error', async () => {
    const { jobs, sent } = setup([
      operation(
        'BATCH_STATE_FAILED',
        {
          batchStats: { requestCount: '5', successfulRequestCount: '3', failedRequestCount: '2' },
          createTime: '2026-01-01T00:00:00Z',
          updateTime: '2026-01-01T01:00:00Z',
          endTime: '2026-01-01T01:00:00Z',
        },
        { done: true, error: { code: 13, message: 'Batch failed: internal error.', status: 'INTERNAL' } },
      ),
    ]);
    const job = await jobs.get('job-42');
    expect(sent[0]!.method).toBe('GET');
    expect(sent[0]!.url).toBe(`${ROOT}/batches/job-42?prettyPrint=false`);
    expect(job).toMatchObject({
      id: 'batches/job-42',
      state: 'failed',
      requestCounts: { total: 5, succeeded: 3, failed: 2, pending: 0 },
      updatedAt: '2026-01-01T01:00:00Z',
      endedAt: '2026-01-01T01:00:00Z',
      error: { message: 'Batch failed: internal error.', code: 'INTERNAL' },
    });
  });

  it.each([
    ['BATCH_STATE_RUNNING', {}, 'running'],
    ['BATCH_STATE_SUCCEEDED', {}, 'succeeded'],
    ['BATCH_STATE_CANCELLED', {}, 'cancelled'],
    ['BATCH_STATE_EXPIRED', {}, 'expired'],
    ['BATCH_STATE_UNSPECIFIED', { done: true }, 'succeeded'],
    ['BATCH_STATE_UNSPECIFIED', {}, 'pending'],
  ])('maps %s %j to %s', async (state, top, expected) => {
    const { jobs } = setup([operation(state, {}, top)]);
    expect((await jobs.get('batches/job-42')).state).toBe(expected);
  });

  it('refuses an id that could leave the batches/ path, before any request', async () => {
    const { jobs, sent } = setup([]);
    for (const id of ['../files/x', 'batches/a/b', 'a?b', '', 'batches/..']) {
      const error = await failure(jobs.get(id));
      expect(error.name).toBe('InvalidArgumentError');
      expect(error.argument).toBe('id');
    }
    expect(sent).toHaveLength(0);
  });

  it('a body without a batches/ name is an InvalidResponseError', async () => {
    const { jobs } = setup([{ body: { done: false } }]);
    expect((await failure(jobs.get('job-42'))).name).toBe('InvalidResponseError');
  });
});

describe('cancel and delete', () => {
  it('cancel posts to :cancel; delete sends DELETE', async () => {
    const { jobs, sent } = setup([{ body: {} }, { body: {} }]);
    await jobs.cancel('batches/job-42');
    await jobs.delete('batches/job-42');
    expect(sent.map((request) => [request.method, request.url, request.body])).toEqual([
      ['POST', `${ROOT}/batches/job-42:cancel?prettyPrint=false`, undefined],
      ['DELETE', `${ROOT}/batches/job-42?prettyPrint=false`, undefined],
    ]);
  });
});

describe('wait', () => {
  it('backs off 10 s, 15 s, 22.5 s … up to 60 s by default', async () => {
    const replies = [
      ...new Array(7).fill(operation('BATCH_STATE_RUNNING')),
      operation('BATCH_STATE_SUCCEEDED'),
    ];
    const { jobs, sent } = setup(replies);
    const clock = createFakeClock();
    const job = await jobs.wait('batches/job-42', { clock });
    expect(job.state).toBe('succeeded');
    expect(sent).toHaveLength(8);
    expect(clock.sleeps).toEqual([10_000, 15_000, 22_500, 33_750, 50_625, 60_000, 60_000]);
  });

  it('gives up with a TimeoutError once the next wait would pass timeoutMs', async () => {
    const { jobs, sent } = setup(() => operation('BATCH_STATE_RUNNING'));
    const clock = createFakeClock();
    const error = await failure(
      jobs.wait('batches/job-42', { clock, pollIntervalMs: 1_000, timeoutMs: 3_000 }),
    );
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toContain('batches/job-42');
    expect(clock.sleeps).toEqual([1_000, 1_500]);
    expect(sent).toHaveLength(3);
  });

  it('waits at least a 429’s RetryInfo, and stops after maxConsecutiveErrors failed polls in a row', async () => {
    const limited = {
      status: 429,
      body: {
        error: {
          code: 429,
          message: 'Quota exceeded.',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' }],
        },
      },
    };
    const unavailable = {
      status: 503,
      body: { error: { code: 503, message: 'Unavailable.', status: 'UNAVAILABLE' } },
    };
    const { jobs, sent } = setup([limited, operation('BATCH_STATE_RUNNING'), unavailable, unavailable]);
    const clock = createFakeClock();
    const error = await failure(
      jobs.wait('batches/job-42', { clock, pollIntervalMs: 1_000, maxConsecutiveErrors: 2 }),
    );
    expect(error.name).toBe('ServerError');
    expect(sent).toHaveLength(4);
    expect(clock.sleeps).toEqual([30_000, 1_500, 2_250]);
  });

  it('refuses bad options before polling', async () => {
    const { jobs, sent } = setup([]);
    for (const options of [
      { pollIntervalMs: 0 },
      { maxPollIntervalMs: -1 },
      { timeoutMs: Number.NaN },
      { maxConsecutiveErrors: 0 },
    ]) {
      expect((await failure(jobs.wait('batches/job-42', options))).name).toBe('InvalidArgumentError');
    }
    expect((await failure(jobs.wait('../x'))).name).toBe('InvalidArgumentError');
    expect(sent).toHaveLength(0);
  });

  it('waitForBatchJob re-throws the native abort reason when aborted before the first poll', async () => {
    const controller = new AbortController();
    controller.abort();
    let polls = 0;
    const error = await failure(
      waitForBatchJob(
        async () => {
          polls++;
          return {} as BatchJob;
        },
        'batches/job-42',
        { signal: controller.signal, clock: createFakeClock() },
      ),
    );
    expect(error.name).toBe('AbortError');
    expect(polls).toBe(0);
  });
});

describe('results', () => {
  const embedded = (head: number[], key?: string) => ({
    response: { embedding: { values: values(128, head) } },
    ...(key === undefined ? {} : { metadata: { key } }),
  });

  it('places inline results by metadata.key and re-normalizes short vectors exactly', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_SUCCEEDED', {
        batchStats: { requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' },
        output: {
          inlinedResponses: {
            inlinedResponses: [
              embedded([0, 5], '2'),
              {
                error: { code: 3, message: 'Invalid content.', status: 'INVALID_ARGUMENT' },
                metadata: { key: '1' },
              },
              embedded([3, 4], '0'),
            ],
          },
        },
      }),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.embeddings[0]).toEqual(Float32Array.from(values(128, [0.6, 0.8])));
    expect(results.embeddings[1]).toBeNull();
    expect(results.embeddings[2]).toEqual(Float32Array.from(values(128, [0, 1])));
    expect(results.errors).toEqual([{ index: 1, message: 'Invalid content.', code: 'INVALID_ARGUMENT' }]);
    expect(results.warnings).toEqual([]);
  });

  it('falls back to the order received, with a warning, when metadata.key is missing; missing items become errors', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_SUCCEEDED', {
        batchStats: { requestCount: '3', successfulRequestCount: '2' },
        output: { inlinedResponses: { inlinedResponses: [embedded([1]), embedded([2])] } },
      }),
    ]);
    const results = await jobs.results('batches/job-42', {
      providerOptions: { gemini: { normalize: false } },
    });
    expect(results.embeddings.map((vector) => vector?.[0] ?? null)).toEqual([1, 2, null]);
    expect(results.errors).toEqual([{ index: 2, message: 'no result for this input (job succeeded)' }]);
    expect(results.warnings).toHaveLength(1);
    expect(results.warnings[0]!.message).toContain('metadata.key');
  });

  it('reads the output from the operation response too', async () => {
    const { jobs } = setup([
      operation(
        'BATCH_STATE_SUCCEEDED',
        { batchStats: { requestCount: '1', successfulRequestCount: '1' } },
        {
          done: true,
          response: { output: { inlinedResponses: { inlinedResponses: [embedded([2], '0')] } } },
        },
      ),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(Array.from(results.embeddings[0]!.subarray(0, 2))).toEqual([1, 0]);
  });

  it('downloads a responsesFile from /download/v1beta/… with the key in a header and parses it line by line', async () => {
    const file = [
      JSON.stringify({ key: '1', response: { embedding: { values: values(128, [0, 2]) } } }),
      '',
      JSON.stringify({ key: '0', error: { code: 8, message: 'Resource exhausted.' } }),
      '',
    ].join('\n');
    const { jobs, sent } = setup([
      operation('BATCH_STATE_SUCCEEDED', {
        batchStats: { requestCount: '2' },
        output: { responsesFile: 'files/batch-out-1' },
      }),
      { headers: { 'content-type': 'application/octet-stream' }, body: file },
    ]);
    const results = await jobs.results('batches/job-42');
    expect(sent[1]!.method).toBe('GET');
    expect(sent[1]!.url).toBe(
      'https://generativelanguage.googleapis.com/download/v1beta/files/batch-out-1:download?alt=media',
    );
    expect(sent[1]!.headers['x-goog-api-key']).toBe(FAKE_KEY);
    expect(results.embeddings[0]).toBeNull();
    expect(Array.from(results.embeddings[1]!.subarray(0, 2))).toEqual([0, 1]);
    expect(results.errors).toEqual([{ index: 0, message: 'Resource exhausted.', code: '8' }]);
  });

  it('a results-file line that is not JSON is an InvalidResponseError naming the line', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_SUCCEEDED', { output: { responsesFile: 'files/batch-out-1' } }),
      {
        body: `${JSON.stringify({ key: '0', response: { embedding: { values: [1] } } })}\n{"key": "1", "resp`,
      },
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toContain('line 2');
  });

  it('a failed download is the typed error of its status, without the key', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_SUCCEEDED', { output: { responsesFile: 'files/batch-out-1' } }),
      {
        status: 404,
        body: {
          error: {
            code: 404,
            message: `File files/batch-out-1 not found (${FAKE_KEY}).`,
            status: 'NOT_FOUND',
          },
        },
      },
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('NotFoundError');
    expect(error.statusCode).toBe(404);
    expect(JSON.stringify(error)).not.toContain(FAKE_KEY);
    expect(error.message).not.toContain(FAKE_KEY);
  });

  it('a redirected download is an InvalidResponseError naming the Location, and the redirect is not followed', async () => {
    const { jobs, sent } = setup([
      operation('BATCH_STATE_SUCCEEDED', { output: { responsesFile: 'files/batch-out-1' } }),
      { status: 302, headers: { location: `https://elsewhere.example.test/out?key=${FAKE_KEY}` } },
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.statusCode).toBe(302);
    expect(error.message).toContain('a redirect to https://elsewhere.example.test/out?key=[REDACTED]');
    expect(sent).toHaveLength(2);
    expect(JSON.stringify(error)).not.toContain(FAKE_KEY);
  });

  it('a job still running is an InvalidArgumentError; a failed job without output an InvalidRequestError', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_RUNNING'),
      operation('BATCH_STATE_FAILED', {}, { done: true, error: { code: 3, message: 'Bad input file.' } }),
      operation('BATCH_STATE_SUCCEEDED'),
    ]);
    const running = await failure(jobs.results('batches/job-42'));
    expect(running.name).toBe('InvalidArgumentError');
    const failed = await failure(jobs.results('batches/job-42'));
    expect(failed.name).toBe('InvalidRequestError');
    expect(failed.message).toContain('ended failed without results: Bad input file.');
    const empty = await failure(jobs.results('batches/job-42'));
    expect(empty.name).toBe('InvalidResponseError');
  });
});
