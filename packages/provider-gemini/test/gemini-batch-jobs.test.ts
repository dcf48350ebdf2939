import { createFakeClock, type FakeClock } from '@embedkit/conformance';
import { type BatchJob, waitForBatchJob } from '@embedkit/core';
import { InvalidResponseError } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeGeminiVectors } from '../src/gemini-embedding-model.js';
import { createGemini } from '../src/index.js';
import { FAKE_KEY, type FakeReply, failure, fakeFetch, values } from './fake-fetch.js';

/** When set, the decoder the batch jobs use fails with this message (the real one runs otherwise). */
const decoder = vi.hoisted(() => ({ failure: undefined as string | undefined }));

vi.mock('../src/gemini-embedding-model.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/gemini-embedding-model.js')>();
  return {
    ...original,
    decodeGeminiVectors: (...args: Parameters<typeof original.decodeGeminiVectors>) => {
      if (decoder.failure !== undefined) throw new InvalidResponseError(decoder.failure);
      return original.decodeGeminiVectors(...args);
    },
  };
});

afterEach(() => {
  decoder.failure = undefined;
});

const ROOT = 'https://generativelanguage.googleapis.com/v1beta';
const MODEL = 'models/gemini-embedding-001';

function setup(reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent, signals } = fakeFetch(reply);
  const provider = createGemini({ apiKey: FAKE_KEY, fetch });
  const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
  return { jobs, sent, signals, provider };
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
  ])('maps %s %j to %s, kept as providerState', async (state, top, expected) => {
    const { jobs } = setup([operation(state, {}, top)]);
    const job = await jobs.get('batches/job-42');
    expect([job.state, job.providerState]).toEqual([expected, state]);
  });

  it.each([
    ['BATCH_STATE_PAUSED', { done: true }, 'succeeded'],
    ['batch_state_running', {}, 'pending'],
  ])(
    'a state the API does not define (%s %j) is kept as providerState: done decides (%s)',
    async (state, top, expected) => {
      // A state a later version of the API adds is kept as sent, not lost.
      const { jobs } = setup([operation(state, {}, top)]);
      const job = await jobs.get('batches/job-42');
      expect([job.state, job.providerState]).toEqual([expected, state]);
    },
  );

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

  it('falls back to the order received, with a warning, when metadata.key is missing and there is one result per input', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_SUCCEEDED', {
        batchStats: { requestCount: '2', successfulRequestCount: '2' },
        output: { inlinedResponses: { inlinedResponses: [embedded([1]), embedded([2])] } },
      }),
    ]);
    const results = await jobs.results('batches/job-42', {
      providerOptions: { gemini: { normalize: false } },
    });
    expect(results.embeddings.map((vector) => vector?.[0] ?? null)).toEqual([1, 2]);
    expect(results.errors).toEqual([]);
    expect(results.warnings).toEqual([
      {
        type: 'other',
        message:
          'gemini returned results of batch job batches/job-42 without metadata.key; they were placed in the order received.',
      },
    ]);
  });

  it('without metadata.key and with a result missing, refuses to guess which result is whose (it shifted vectors silently)', async () => {
    const { jobs } = setup([
      operation('BATCH_STATE_SUCCEEDED', {
        batchStats: { requestCount: '3', successfulRequestCount: '2' },
        output: { inlinedResponses: { inlinedResponses: [embedded([1]), embedded([2])] } },
      }),
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini returned 2 results for the 3 inputs of batch job batches/job-42, without metadata.key: which result belongs to which input cannot be known.',
    );
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

  it('the key echoed in an input’s error, the job’s error or a results-file name is redacted (it was passed through)', async () => {
    const echoed = {
      error: { code: 3, message: `bad request from key ${FAKE_KEY}`, status: 'INVALID_ARGUMENT' },
    };
    const { jobs } = setup([
      operation(
        'BATCH_STATE_SUCCEEDED',
        { output: { inlinedResponses: { inlinedResponses: [{ ...echoed, metadata: { key: '0' } }] } } },
        { error: echoed.error },
      ),
      operation('BATCH_STATE_SUCCEEDED', { output: { responsesFile: `files/x?key=${FAKE_KEY}` } }),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.errors).toEqual([
      { index: 0, message: 'bad request from key [REDACTED]', code: 'INVALID_ARGUMENT' },
    ]);
    expect(results.job.error).toEqual({
      message: 'bad request from key [REDACTED]',
      code: 'INVALID_ARGUMENT',
    });
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.message).toBe(
      'gemini named a results file "files/x?key=[REDACTED]" that is not files/<id>.',
    );
  });

  it('a gateway token in the headers, echoed in an input’s error, and a job name carrying the key, are not shown', async () => {
    const { fetch } = fakeFetch([
      operation('BATCH_STATE_SUCCEEDED', {
        output: {
          inlinedResponses: {
            inlinedResponses: [
              {
                error: { code: 3, message: 'gateway rejected token gw-token-SECRET-7f3a9c' },
                metadata: { key: '0' },
              },
            ],
          },
        },
      }),
      { body: { name: `batches/job-42?key=${FAKE_KEY}`, metadata: { state: 'BATCH_STATE_RUNNING' } } },
    ]);
    const jobs = createGemini({
      apiKey: FAKE_KEY,
      fetch,
      headers: { authorization: 'Bearer gw-token-SECRET-7f3a9c' },
    }).batchEmbeddingJobs('gemini-embedding-001');
    const results = await jobs.results('batches/job-42');
    expect(results.errors).toEqual([{ index: 0, message: 'gateway rejected token [REDACTED]', code: '3' }]);
    const error = await failure(jobs.get('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini returned a batch whose name is not batches/<id> ("batches/job-42?key=[REDACTED]").',
    );
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

describe('results: every input accounted for', () => {
  /** A finished job whose inline results are `items`; `stats` is its batchStats, when the API sends one. */
  const finished = (items: unknown[], stats?: Record<string, string>) =>
    operation('BATCH_STATE_SUCCEEDED', {
      ...(stats === undefined ? {} : { batchStats: stats }),
      output: { inlinedResponses: { inlinedResponses: items } },
    });
  const embedded = (head: number[], key?: string, length = 128) => ({
    response: { embedding: { values: values(length, head) } },
    ...(key === undefined ? {} : { metadata: { key } }),
  });
  const first = (vector: Float32Array | Int8Array | Uint8Array | null) =>
    vector === null ? null : vector[0];
  const unnormalized = { providerOptions: { gemini: { normalize: false } } };

  it('a job with a count and no results at all gives each input its error (it was an InvalidResponseError about keys)', async () => {
    const { jobs } = setup([finished([], { requestCount: '3' })]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings).toEqual([null, null, null]);
    expect(results.errors).toEqual(
      [0, 1, 2].map((index) => ({ index, message: 'no result for this input (job succeeded)' })),
    );
    expect(results.warnings).toEqual([]);
  });

  it('places results by metadata.key when the API sends no count; the missing inputs become errors (it dropped them and warned falsely)', async () => {
    // Read by a client that did not create the job: only the keys say how many inputs there were.
    const { jobs } = setup([finished([embedded([10], '0'), embedded([11], '1'), embedded([14], '4')])]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([10, 11, null, null, 14]);
    expect(results.errors).toEqual([
      { index: 2, message: 'no result for this input (job succeeded)' },
      { index: 3, message: 'no result for this input (job succeeded)' },
    ]);
    expect(results.warnings).toEqual([]);
  });

  it('knows the input count of a job created by this provider, so missing last results become errors too', async () => {
    const { provider, sent } = setup([
      operation('BATCH_STATE_PENDING'),
      finished([embedded([10], '0'), embedded([11], '1'), embedded([12], '2')]),
    ]);
    const job = await provider
      .batchEmbeddingJobs('gemini-embedding-001')
      .create({ inputs: ['a', 'b', 'c', 'd', 'e'] });
    // Another client of the same provider reads the results.
    const results = await provider.batchEmbeddingJobs('gemini-embedding-001').results(job.id, unnormalized);
    expect(sent).toHaveLength(2);
    expect(results.embeddings.map(first)).toEqual([10, 11, 12, null, null]);
    expect(results.errors).toEqual([
      { index: 3, message: 'no result for this input (job succeeded)' },
      { index: 4, message: 'no result for this input (job succeeded)' },
    ]);
  });

  it('a malformed vector is an error of its own input; every other vector is returned (it failed the whole batch, naming "Vector 2")', async () => {
    const broken = values(128, [1]);
    (broken as unknown[])[5] = null;
    const { jobs } = setup([
      finished(
        [
          embedded([10], '0'),
          {
            error: { code: 3, message: 'Invalid content.', status: 'INVALID_ARGUMENT' },
            metadata: { key: '1' },
          },
          embedded([12], '2'),
          { response: { embedding: { values: broken } }, metadata: { key: '3' } },
          embedded([14], '4'),
        ],
        { requestCount: '5' },
      ),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([10, null, 12, null, 14]);
    expect(results.errors).toEqual([
      { index: 1, message: 'Invalid content.', code: 'INVALID_ARGUMENT' },
      { index: 3, message: 'the vector holds null at position 5, not a finite number.' },
    ]);
  });

  it('a vector that is not a list is an error of its own input', async () => {
    const { jobs } = setup([
      finished([embedded([10], '0'), { response: { embedding: { values: [] } }, metadata: { key: '1' } }], {
        requestCount: '2',
      }),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([10, null]);
    expect(results.errors).toEqual([
      { index: 1, message: 'the vector is not a non-empty array of numbers.' },
    ]);
  });

  it('checks every vector against the dimensions the job asked for (a 10-value vector was accepted and re-normalized)', async () => {
    const { provider } = setup([
      operation('BATCH_STATE_PENDING'),
      finished([embedded([3, 4], '0'), embedded([3, 4], '1', 10), embedded([0, 2], '2')]),
    ]);
    const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
    const job = await jobs.create({ inputs: ['a', 'b', 'c'], dimensions: 128 });
    const results = await jobs.results(job.id);
    expect(results.embeddings[0]).toEqual(Float32Array.from(values(128, [0.6, 0.8])));
    expect(results.embeddings[1]).toBeNull();
    expect(results.embeddings[2]).toEqual(Float32Array.from(values(128, [0, 1])));
    expect(results.errors).toEqual([
      { index: 1, message: 'the vector has 10 values, not 128 (the job’s dimensions)' },
    ]);
  });

  it('vectors that all miss the job’s dimensions are all errors', async () => {
    const { provider } = setup([
      operation('BATCH_STATE_PENDING'),
      finished([embedded([1], '0', 256), embedded([1], '1', 256)]),
    ]);
    const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
    const job = await jobs.create({ inputs: ['a', 'b'], dimensions: 128 });
    const results = await jobs.results(job.id);
    expect(results.embeddings).toEqual([null, null]);
    expect(results.errors).toEqual([
      { index: 0, message: 'the vector has 256 values, not 128 (the job’s dimensions)' },
      { index: 1, message: 'the vector has 256 values, not 128 (the job’s dimensions)' },
    ]);
  });

  it('without the job’s dimensions, a vector whose length differs from the others is an error', async () => {
    const { jobs } = setup([
      finished([embedded([3, 4], '0', 10), embedded([3, 4], '1'), embedded([0, 2], '2')], {
        requestCount: '3',
      }),
    ]);
    const results = await jobs.results('batches/job-42');
    expect(results.embeddings[0]).toBeNull();
    expect(results.embeddings[1]).toEqual(Float32Array.from(values(128, [0.6, 0.8])));
    expect(results.errors).toEqual([
      { index: 0, message: 'the vector has 10 values, not 128 (the length of the other vectors)' },
    ]);
  });

  it('a metadata.key two results carry is an error of that input, and the input no result names is one too (input 2 got the vector labelled 0)', async () => {
    const { provider } = setup([
      operation('BATCH_STATE_PENDING'),
      finished([embedded([100], '0'), embedded([101], '1'), embedded([999], '0'), embedded([103], '3')], {
        requestCount: '4',
      }),
    ]);
    const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
    const job = await jobs.create({ inputs: ['a', 'b', 'c', 'd'], dimensions: 128 });
    const results = await jobs.results(job.id, unnormalized);
    expect(results.embeddings.map(first)).toEqual([null, 101, null, 103]);
    expect(results.errors).toEqual([
      {
        index: 0,
        message: '2 results carry this input’s metadata.key ("0", "0"); which one is its own cannot be known',
      },
      { index: 2, message: 'no result for this input (job succeeded)' },
    ]);
    expect(results.warnings).toEqual([]);
  });

  it('a result whose metadata.key is no input of the job is left out, named in a warning and in the error of the input without a result (input 2 got the vector labelled 7)', async () => {
    const { jobs } = setup([
      finished([embedded([100], '0'), embedded([101], '1'), embedded([999], '7'), embedded([103], '3')], {
        requestCount: '4',
      }),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100, 101, null, 103]);
    expect(results.errors).toEqual([
      {
        index: 2,
        message:
          'no result for this input (job succeeded); a result whose metadata.key ("7") names no input was left out',
      },
    ]);
    expect(results.warnings).toEqual([
      {
        type: 'other',
        message:
          'gemini left out 1 result of batch job batches/job-42 whose metadata.key ("7") names no input of the job; no input was given its vector.',
      },
    ]);
  });

  it('among results with keys, one without a key and ones whose key is not a whole number are left out too, their keys redacted; a key that is a JSON number names its input', async () => {
    const { jobs } = setup([
      finished(
        [
          embedded([100], '0'),
          embedded([101]),
          embedded([102], `x-goog-api-key: ${FAKE_KEY}`),
          { ...embedded([103]), metadata: { key: 3 } },
          { ...embedded([104]), metadata: { key: 1.5 } },
        ],
        { requestCount: '4' },
      ),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100, null, null, 103]);
    const missing =
      'no result for this input (job succeeded); 3 results whose metadata.key (none, "x-goog-api-key: [REDACTED]", 1.5) name no input were left out';
    expect(results.errors).toEqual([
      { index: 1, message: missing },
      { index: 2, message: missing },
    ]);
    expect(results.warnings).toEqual([
      {
        type: 'other',
        message:
          'gemini left out 3 results of batch job batches/job-42 whose metadata.key (none, "x-goog-api-key: [REDACTED]", 1.5) name no input of the job; no input was given their vector.',
      },
    ]);
  });

  it('results whose metadata.key are JSON numbers (a job made by another client) are placed by them', async () => {
    const { jobs } = setup([
      finished(
        [
          { ...embedded([102]), metadata: { key: 2 } },
          { ...embedded([100]), metadata: { key: 0 } },
          { ...embedded([101]), metadata: { key: 1 } },
        ],
        { requestCount: '3' },
      ),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100, 101, 102]);
    expect(results.errors).toEqual([]);
    expect(results.warnings).toEqual([]);
  });

  it('results with keys, none usable, and no count of the inputs is an InvalidResponseError naming the keys', async () => {
    const { jobs } = setup([finished([embedded([100], 'a'), embedded([101], 'b')])]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini returned 2 results of batch job batches/job-42, none with a usable metadata.key ("a", "b"), and no count of its inputs: which result belongs to which input cannot be known.',
    );
  });

  it('a key a malformed vector echoes is redacted in its input’s error, whatever the decoder quotes (it was passed on as is)', async () => {
    decoder.failure = `Vector 0 holds "x-goog-api-key: ${FAKE_KEY}" at position 5, not a finite number.`;
    const { jobs } = setup([finished([embedded([100], '0')], { requestCount: '1' })]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings).toEqual([null]);
    expect(results.errors).toEqual([
      {
        index: 0,
        message: 'the vector holds "x-goog-api-key: [REDACTED]" at position 5, not a finite number.',
      },
    ]);
    expect(JSON.stringify(results)).not.toContain(FAKE_KEY);
  });

  it('a vector holding the key as a string does not show it in its input’s error', async () => {
    const echoed: unknown[] = values(128, [1]);
    echoed[5] = `x-goog-api-key: ${FAKE_KEY}`;
    const { jobs } = setup([
      finished(
        [embedded([100], '0'), { response: { embedding: { values: echoed } }, metadata: { key: '1' } }],
        {
          requestCount: '2',
        },
      ),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100, null]);
    expect(results.errors).toHaveLength(1);
    expect(results.errors[0]!.index).toBe(1);
    expect(results.errors[0]!.message).toMatch(/^the vector holds .* at position 5, not a finite number\.$/);
    expect(JSON.stringify(results)).not.toContain(FAKE_KEY);
  });

  it('decides re-normalization per vector, not from the first (a short vector after a full one was left unnormalized)', () => {
    const [full, short] = decodeGeminiVectors([values(3072, [3, 4]), values(128, [3, 4])], true);
    expect(Array.from(full!.subarray(0, 2))).toEqual([3, 4]);
    expect(short).toEqual(Float32Array.from(values(128, [0.6, 0.8])));
  });
});

describe('request timeouts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const operations: [string, (jobs: ReturnType<typeof setup>['jobs']) => Promise<unknown>][] = [
    ['create', (jobs) => jobs.create({ inputs: ['x'] })],
    ['get', (jobs) => jobs.get('batches/job-42', { maxRetries: 0 })],
    ['results', (jobs) => jobs.results('batches/job-42', { maxRetries: 0 })],
    ['cancel', (jobs) => jobs.cancel('batches/job-42', { maxRetries: 0 })],
    ['delete', (jobs) => jobs.delete('batches/job-42', { maxRetries: 0 })],
  ];
  it.each(operations)(
    '%s aborts a request that never answers after 120,000 ms (it had no timeout)',
    async (_name, run) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { jobs, sent, signals } = setup(() => ({ hang: true }));
      const failing = failure(run(jobs));
      await vi.advanceTimersByTimeAsync(119_999);
      expect(signals[0]!.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const error = await failing;
      expect(error.name).toBe('TimeoutError');
      expect(error.message).toBe(
        'gemini model gemini-embedding-001 did not answer within 120000 ms (timeoutMs).',
      );
      expect(signals[0]!.aborted).toBe(true);
      expect(sent).toHaveLength(1);
    },
  );

  it('timeoutMs sets the limit of each request, the results download included', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { jobs, sent, signals } = setup([
      operation('BATCH_STATE_SUCCEEDED', { output: { responsesFile: 'files/batch-out-1' } }),
      { hang: true },
    ]);
    const failing = failure(jobs.results('batches/job-42', { timeoutMs: 2_000, maxRetries: 0 }));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(signals[1]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await failing).name).toBe('TimeoutError');
    expect(sent.map((request) => request.url)).toEqual([
      `${ROOT}/batches/job-42?prettyPrint=false`,
      'https://generativelanguage.googleapis.com/download/v1beta/files/batch-out-1:download?alt=media',
    ]);
  });

  it('wait’s timeoutMs ends a poll that never answers (it waited past the timeout for as long as the transport allowed)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { jobs, sent, signals } = setup(() => ({ hang: true }));
    const failing = failure(
      jobs.wait('batches/job-42', { timeoutMs: 1_000, pollIntervalMs: 100, clock: createFakeClock() }),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    const error = await failing;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe(
      'Batch job batches/job-42 did not finish within 1000 ms (timeoutMs); it keeps running, so wait again or cancel it.',
    );
    expect(signals[0]!.aborted).toBe(true);
    expect(sent).toHaveLength(1);
  });
});

describe('retries', () => {
  const unavailable = {
    status: 503,
    body: { error: { code: 503, message: 'Unavailable.', status: 'UNAVAILABLE' } },
  } satisfies FakeReply;

  const repeatable: [
    string,
    (jobs: ReturnType<typeof setup>['jobs'], clock: FakeClock) => Promise<unknown>,
  ][] = [
    ['get', (jobs, clock) => jobs.get('job-42', { clock })],
    ['cancel', (jobs, clock) => jobs.cancel('job-42', { clock })],
    ['delete', (jobs, clock) => jobs.delete('job-42', { clock })],
  ];
  it.each(repeatable)(
    '%s retries a 503 with the engine’s backoff, as its message says (it failed at once)',
    async (_name, run) => {
      const clock = createFakeClock();
      const { jobs, sent } = setup([unavailable, unavailable, operation('BATCH_STATE_RUNNING')]);
      await run(jobs, clock);
      expect(sent).toHaveLength(3);
      expect(new Set(sent.map((request) => `${request.method} ${request.url}`)).size).toBe(1);
      // Full jitter (random 0.5) over 500 ms, then 1,000 ms.
      expect(clock.sleeps).toEqual([250, 500]);
    },
  );

  it('results retries the job and the download each on their own', async () => {
    const clock = createFakeClock();
    const file = `${JSON.stringify({ key: '0', response: { embedding: { values: values(128, [1]) } } })}\n`;
    const { jobs, sent } = setup([
      unavailable,
      operation('BATCH_STATE_SUCCEEDED', {
        batchStats: { requestCount: '1' },
        output: { responsesFile: 'files/batch-out-1' },
      }),
      unavailable,
      { body: file },
    ]);
    const results = await jobs.results('batches/job-42', { clock });
    expect(sent).toHaveLength(4);
    expect(results.errors).toEqual([]);
    expect(Array.from(results.embeddings[0]!.subarray(0, 1))).toEqual([1]);
  });

  it('create is never retried: a retry could submit the job twice', async () => {
    const clock = createFakeClock();
    const { jobs, sent } = setup([unavailable, operation('BATCH_STATE_PENDING')]);
    const error = await failure(jobs.create({ inputs: ['x'], clock }));
    expect(error.name).toBe('ServerError');
    expect(sent).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('call options', () => {
  const calls: [string, (jobs: ReturnType<typeof setup>['jobs'], options: object) => Promise<unknown>][] = [
    ['create', (jobs, options) => jobs.create({ inputs: ['x'], ...options })],
    ['get', (jobs, options) => jobs.get('batches/job-42', options)],
    ['wait', (jobs, options) => jobs.wait('batches/job-42', { pollIntervalMs: 1, ...options })],
    ['results', (jobs, options) => jobs.results('batches/job-42', options)],
    ['cancel', (jobs, options) => jobs.cancel('batches/job-42', options)],
    ['delete', (jobs, options) => jobs.delete('batches/job-42', options)],
  ];
  const bad: [string, Record<string, unknown>, string, string][] = [
    ['signal: {}', { signal: {} }, 'signal', 'signal must be an AbortSignal, got an empty object.'],
    ['signal: "x"', { signal: 'x' }, 'signal', 'signal must be an AbortSignal, got "x".'],
    [
      'providerOptions: "x"',
      { providerOptions: 'x' },
      'providerOptions',
      'providerOptions must be an object of provider names to options, like { gemini: { normalize: false } }; got "x".',
    ],
    [
      'clock: {}',
      { clock: {} },
      'clock',
      'clock must be a Clock with now() and sleep(ms, signal) functions, got an empty object.',
    ],
  ];
  for (const [name, run] of calls) {
    it.each(bad)(
      `${name}: %s is an InvalidArgumentError before any request (it failed as a ConnectionError or a TypeError)`,
      async (_label, options, argument, message) => {
        const { jobs, sent } = setup(() => operation('BATCH_STATE_RUNNING'));
        const error = await failure(run(jobs, options));
        expect(error.name).toBe('InvalidArgumentError');
        expect(error.argument).toBe(argument);
        expect(error.message).toBe(message);
        expect(sent).toHaveLength(0);
      },
    );
  }

  it('wait: onProgress that is not a function is refused before the first poll (it threw a TypeError after it)', async () => {
    const { jobs, sent } = setup(() => operation('BATCH_STATE_RUNNING'));
    const error = await failure(jobs.wait('batches/job-42', { onProgress: 5 as never }));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe('onProgress');
    expect(sent).toHaveLength(0);
  });
});
