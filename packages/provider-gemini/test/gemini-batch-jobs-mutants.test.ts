/**
 * Gemini batch-job behaviour the rest of the suite left unpinned: how the job's counts are read (JSON
 * numbers, and values that are no count), the exact refusal of a bad id, which `metadata.key` names an
 * input (digit strings of one to nine characters, whole JSON numbers, nothing else) and the limit on
 * keys when the job's size is unknown, which vector length wins a tie, how many created jobs are
 * remembered, and the job error's fields.
 */
import { createTransport } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GeminiCreatedBatchJob, GeminiModelConfig } from '../src/gemini-embedding-model.js';
import { geminiCapabilities } from '../src/gemini-options.js';
import { createGemini, GeminiBatchEmbeddingJobs } from '../src/index.js';
import { batchOperation, FAKE_KEY, failure, fakeFetch, values } from './fake-fetch.js';

/** When set, the decoder the batch jobs use throws it (the real one runs otherwise). */
const decoder = vi.hoisted(() => ({ failure: undefined as Error | undefined }));

vi.mock('../src/gemini-embedding-model.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/gemini-embedding-model.js')>();
  return {
    ...original,
    decodeGeminiVectors: (...args: Parameters<typeof original.decodeGeminiVectors>) => {
      if (decoder.failure !== undefined) throw decoder.failure;
      return original.decodeGeminiVectors(...args);
    },
  };
});

afterEach(() => {
  decoder.failure = undefined;
});

const ROOT = 'https://generativelanguage.googleapis.com/v1beta';

function setup(reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent } = fakeFetch(reply);
  const provider = createGemini({ apiKey: FAKE_KEY, fetch });
  const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
  return { jobs, sent, provider };
}

/** A finished job whose inline results are `items`; `stats` is its batchStats, when the API sends one. */
const finished = (items: unknown[], stats?: Record<string, unknown>) =>
  batchOperation('BATCH_STATE_SUCCEEDED', {
    ...(stats === undefined ? {} : { batchStats: stats }),
    output: { inlinedResponses: { inlinedResponses: items } },
  });

/** One result: a vector of `length` values starting with `head`, under `metadata.key` when one is given. */
const embedded = (head: number[], key?: unknown, length = 128) => ({
  response: { embedding: { values: values(length, head) } },
  ...(key === undefined ? {} : { metadata: { key } }),
});

const first = (vector: Float32Array | Int8Array | Uint8Array | null) => (vector === null ? null : vector[0]);
const unnormalized = { providerOptions: { gemini: { normalize: false } } };

/** A batch-job client over `created` (what its provider remembers), answering every request with `reply`. */
function clientOver(created: Map<string, GeminiCreatedBatchJob>, reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent } = fakeFetch(reply);
  const config: GeminiModelConfig = {
    provider: 'gemini',
    baseURL: () => ROOT,
    customBaseURL: () => undefined,
    headers: () => ({ headers: { 'x-goog-api-key': FAKE_KEY }, secrets: [FAKE_KEY] }),
    transport: createTransport({ fetch }),
    capabilities: geminiCapabilities('gemini-embedding-001'),
    createdBatchJobs: created,
  };
  return { jobs: new GeminiBatchEmbeddingJobs('gemini-embedding-001', config), sent };
}

describe('job counts', () => {
  it('takes counts sent as JSON numbers, and reads a count that is negative, fractional or not a number as 0', async () => {
    const { jobs } = setup([
      batchOperation('BATCH_STATE_RUNNING', {
        batchStats: {
          requestCount: 5,
          successfulRequestCount: '-3',
          failedRequestCount: 1.5,
          pendingRequestCount: 'many',
        },
      }),
    ]);
    expect((await jobs.get('batches/job-42')).requestCounts).toEqual({
      total: 5,
      succeeded: 0,
      failed: 0,
      pending: 0,
    });
  });
});

describe('ids and options', () => {
  it('a bad id is refused with a message showing it and an example', async () => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.get('../x'));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe('id');
    expect(error.message).toBe(
      '"../x" is not a Gemini batch id; use the id from create(), e.g. batches/123456.',
    );
    expect(sent).toHaveLength(0);
  });

  it('an id that is no string at all is refused, shown as text', async () => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.get(Symbol('x') as never));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.message).toBe(
      '"Symbol(x)" is not a Gemini batch id; use the id from create(), e.g. batches/123456.',
    );
    expect(sent).toHaveLength(0);
  });

  it('an id may hold dots and dashes; only a batches/ prefix is taken off', async () => {
    const { jobs, sent } = setup(() => batchOperation('BATCH_STATE_RUNNING'));
    await jobs.get('batches/job.4-2');
    await jobs.get('batches-7');
    expect(sent.map((request) => request.url)).toEqual([
      `${ROOT}/batches/job.4-2?prettyPrint=false`,
      `${ROOT}/batches/batches-7?prettyPrint=false`,
    ]);
  });

  it('wait checks the id before its options', async () => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.wait('../x', { pollIntervalMs: 0 }));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe('id');
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['no options', undefined],
    ['inputs that are a string', { inputs: 'abc' }],
  ])('create with %s is refused as having no inputs', async (_label, options) => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.create(options as never));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe('inputs');
    expect(error.message).toBe('create() needs a non-empty inputs array.');
    expect(sent).toHaveLength(0);
  });

  it('results with options that are not an object is refused before any request', async () => {
    const { jobs, sent } = setup([]);
    const error = await failure(jobs.results('batches/job-42', null as never));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.message).toBe(
      'Call it with one settings object, results(id, { signal, timeoutMs }); got null.',
    );
    expect(sent).toHaveLength(0);
  });
});

describe('the jobs a provider remembers', () => {
  const pending = () => ({ body: { name: 'batches/new', metadata: { state: 'BATCH_STATE_PENDING' } } });
  const remembered = (count: number) =>
    new Map<string, GeminiCreatedBatchJob>(
      Array.from({ length: count }, (_, index) => [
        `batches/old-${index}`,
        { inputs: 1, dimensions: undefined },
      ]),
    );

  it('up to 10,000: the 10,000th is kept with every earlier one', async () => {
    const created = remembered(9_999);
    const { jobs } = clientOver(created, pending);
    await jobs.create({ inputs: ['a', 'b'], dimensions: 256 });
    expect(created.size).toBe(10_000);
    expect(created.has('batches/old-0')).toBe(true);
    expect(created.get('batches/new')).toEqual({ inputs: 2, dimensions: 256 });
  });

  it('beyond 10,000 the oldest is forgotten', async () => {
    const created = remembered(10_000);
    const { jobs } = clientOver(created, pending);
    await jobs.create({ inputs: ['a'] });
    expect(created.size).toBe(10_000);
    expect(created.has('batches/old-0')).toBe(false);
    expect(created.has('batches/old-1')).toBe(true);
    expect(created.get('batches/new')).toEqual({ inputs: 1, dimensions: undefined });
  });

  it('the number of inputs create sent outweighs the count the API reports', async () => {
    const { provider } = setup([
      batchOperation('BATCH_STATE_PENDING'),
      finished([embedded([10], '0'), embedded([11], '1')], { requestCount: '2' }),
    ]);
    const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
    const job = await jobs.create({ inputs: ['a', 'b', 'c'] });
    const results = await jobs.results(job.id, unnormalized);
    expect(results.embeddings.map(first)).toEqual([10, 11, null]);
    expect(results.errors).toEqual([{ index: 2, message: 'no result for this input (job succeeded)' }]);
  });

  it('delete forgets the job', async () => {
    const created = remembered(2);
    const { jobs, sent } = clientOver(created, () => ({ body: {} }));
    await jobs.delete('old-1');
    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([
      `DELETE ${ROOT}/batches/old-1?prettyPrint=false`,
    ]);
    expect([...created.keys()]).toEqual(['batches/old-0']);
  });
});

describe('the job', () => {
  it('an operation without metadata is read from its name, done and response', async () => {
    const { jobs } = setup([
      {
        body: {
          name: 'batches/job-42',
          done: true,
          response: { output: { inlinedResponses: { inlinedResponses: [embedded([7], '0')] } } },
        },
      },
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.job).toStrictEqual({
      id: 'batches/job-42',
      provider: 'gemini',
      modelId: 'gemini-embedding-001',
      state: 'succeeded',
      requestCounts: { total: 0, succeeded: 0, failed: 0, pending: 0 },
    });
    expect(results.embeddings.map(first)).toEqual([7]);
  });

  it('the API’s state word wins over done', async () => {
    const { jobs } = setup([batchOperation('BATCH_STATE_PENDING', {}, { done: true })]);
    expect((await jobs.get('batches/job-42')).state).toBe('pending');
  });

  it('a cancelled job without output is an InvalidRequestError saying so', async () => {
    const { jobs } = setup([batchOperation('BATCH_STATE_CANCELLED', {}, { done: true })]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toBe('Batch job batches/job-42 ended cancelled without results.');
    expect(error.providerCode).toBe('BATCH_STATE_CANCELLED');
  });

  it('the output in the job’s metadata is read before the one in the operation’s response', async () => {
    const inline = (head: number) => ({ inlinedResponses: { inlinedResponses: [embedded([head], '0')] } });
    const { jobs } = setup([
      batchOperation(
        'BATCH_STATE_SUCCEEDED',
        { output: inline(1) },
        { done: true, response: { output: inline(2) } },
      ),
    ]);
    expect((await jobs.results('batches/job-42', unnormalized)).embeddings.map(first)).toEqual([1]);
  });

  it('without a state word, a job done with an error has failed', async () => {
    const { jobs } = setup([
      { body: { name: 'batches/job-42', done: true, error: { code: 13, message: 'x' } } },
    ]);
    expect((await jobs.get('batches/job-42')).state).toBe('failed');
  });

  it('a state named like a member of every object is no state of its own: done without an error is succeeded', async () => {
    const { jobs } = setup([batchOperation('constructor', {}, { done: true })]);
    expect((await jobs.get('batches/job-42')).state).toBe('succeeded');
  });

  it("a job error's message that ends in a full stop is not given a second one", async () => {
    const { jobs } = setup([
      batchOperation(
        'BATCH_STATE_FAILED',
        {},
        { done: true, error: { code: 3, message: 'Bad input file.' } },
      ),
    ]);
    const failed = await failure(jobs.results('batches/job-42'));
    expect(failed.message).toBe('Batch job batches/job-42 ended failed without results: Bad input file.');
  });

  it('a job error with neither status nor code has only its message', async () => {
    const { jobs } = setup([
      batchOperation('BATCH_STATE_FAILED', {}, { done: true, error: { message: 'Batch expired.' } }),
    ]);
    expect((await jobs.get('batches/job-42')).error).toStrictEqual({ message: 'Batch expired.' });
  });

  it('a failed job without output is an InvalidRequestError carrying the provider’s state as its code', async () => {
    const { jobs } = setup([
      batchOperation('BATCH_STATE_FAILED', {}, { done: true, error: { code: 3, message: 'Bad input file' } }),
      { body: { name: 'batches/job-42', done: true, error: { code: 3, message: 'Bad input file' } } },
    ]);
    const failed = await failure(jobs.results('batches/job-42'));
    expect(failed.name).toBe('InvalidRequestError');
    expect(failed.message).toBe('Batch job batches/job-42 ended failed without results: Bad input file.');
    expect(failed.providerCode).toBe('BATCH_STATE_FAILED');
    const stateless = await failure(jobs.results('batches/job-42'));
    expect(stateless.providerCode).toBeUndefined();
  });
});

describe('which result belongs to which input', () => {
  it('a key names an input only as one to nine digits or a whole JSON number; others are left out, shown as sent', async () => {
    const { jobs } = setup([
      finished(
        [
          embedded([100], '0'),
          embedded([101], '000000001'),
          embedded([102], '0000000002'),
          embedded([103], ''),
          embedded([104], [2]),
          embedded([105], { input: 2 }),
        ],
        { requestCount: '3' },
      ),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100, 101, null]);
    const keys = '"0000000002", "", [2], {"input":2}';
    expect(results.errors).toEqual([
      {
        index: 2,
        message: `no result for this input (job succeeded); 4 results whose metadata.key (${keys}) name no input were left out`,
      },
    ]);
    expect(results.warnings).toEqual([
      {
        type: 'other',
        message: `gemini left out 4 results of batch job batches/job-42 whose metadata.key (${keys}) name no input of the job; no input was given their vector.`,
      },
    ]);
  });

  it('a key equal to the job’s count of inputs names none of them', async () => {
    const { jobs } = setup([finished([embedded([100], '0'), embedded([101], '1')], { requestCount: '1' })]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100]);
    expect(results.errors).toEqual([]);
    expect(results.warnings).toEqual([
      {
        type: 'other',
        message:
          'gemini left out 1 result of batch job batches/job-42 whose metadata.key ("1") names no input of the job; no input was given its vector.',
      },
    ]);
  });

  it('without a count of the inputs, a key of 1,000,000 or more names no input', async () => {
    const { jobs } = setup([finished([embedded([100], '0'), embedded([101], '1000000')])]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100]);
    expect(results.warnings.map((warning) => warning.message)).toEqual([
      'gemini left out 1 result of batch job batches/job-42 whose metadata.key ("1000000") names no input of the job; no input was given its vector.',
    ]);
  });

  it('without a count of the inputs, a key of 999,999 makes the job 1,000,000 inputs long', async () => {
    const { jobs } = setup([finished([embedded([100], '999999')])]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings).toHaveLength(1_000_000);
    expect(first(results.embeddings[999_999]!)).toBe(100);
    expect(results.errors).toHaveLength(999_999);
    expect(results.warnings).toEqual([]);
  });

  it('a count of more than 10,000,000 inputs is refused before an entry is made for each', async () => {
    const { jobs } = setup([finished([embedded([100], '0')], { requestCount: '10000001' })]);
    const error = await failure(jobs.results('batches/job-42', unnormalized));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini reported 10,000,001 inputs for batch job batches/job-42, more than the 10,000,000 results() places in memory; its one result was not placed.',
    );
    expect((error as { provider?: string }).provider).toBe('gemini');
  });

  it('without keys or a count, results are placed in the order received', async () => {
    const { jobs } = setup([finished([embedded([100]), embedded([101])])]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([100, 101]);
    expect(results.errors).toEqual([]);
    expect(results.warnings).toHaveLength(1);
  });

  it('without keys, two results for a job of one input are refused', async () => {
    const { jobs } = setup([finished([embedded([100]), embedded([101])], { requestCount: '1' })]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini returned 2 results for the 1 input of batch job batches/job-42, without metadata.key: which result belongs to which input cannot be known.',
    );
  });
});

describe('how left-out keys are shown', () => {
  const leftOut = async (keys: string[]) => {
    const { jobs } = setup([
      finished([embedded([100], '0'), ...keys.map((key) => embedded([1], key))], { requestCount: '1' }),
    ]);
    return (await jobs.results('batches/job-42', unnormalized)).warnings[0]!.message;
  };

  it('five keys are all shown; of six, the first five and an ellipsis', async () => {
    expect(await leftOut(['a', 'b', 'c', 'd', 'e'])).toContain('metadata.key ("a", "b", "c", "d", "e") name');
    expect(await leftOut(['a', 'b', 'c', 'd', 'e', 'f'])).toContain(
      'metadata.key ("a", "b", "c", "d", "e", …) name',
    );
  });

  it('a key of 40 characters is shown whole; a longer one, its first 40 and an ellipsis', async () => {
    const forty = 'abcdefghij'.repeat(4);
    expect(await leftOut([forty])).toContain(`metadata.key ("${forty}") names`);
    expect(await leftOut([`${forty}X`])).toContain(`metadata.key ("${forty}…") names`);
  });
});

describe('vector lengths', () => {
  it('without the job’s dimensions, of two lengths equally common the first input’s wins; errors come by input', async () => {
    const { jobs } = setup([
      finished([embedded([3, 4], '0', 128), embedded([3, 4], '1', 10)], { requestCount: '3' }),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([3, null, null]);
    expect(results.errors).toEqual([
      { index: 1, message: 'the vector has 10 values, not 128 (the length of the other vectors)' },
      { index: 2, message: 'no result for this input (job succeeded)' },
    ]);
  });
  it('a result with neither a vector nor an error is an error of its input saying so', async () => {
    const { jobs } = setup([
      finished([embedded([1], '0'), { metadata: { key: '1' } }], { requestCount: '2' }),
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([1, null]);
    expect(results.errors).toEqual([
      { index: 1, message: 'the result holds neither an embedding nor an error' },
    ]);
  });

  it('a decoder failure that is not an embedkit error is thrown, not made an input’s error', async () => {
    decoder.failure = new TypeError('a bug');
    const { jobs } = setup([finished([embedded([1], '0')], { requestCount: '1' })]);
    expect(await failure(jobs.results('batches/job-42'))).toBe(decoder.failure);
  });
});

describe('the results file', () => {
  const inFile = (file = 'files/batch-out-1') =>
    batchOperation('BATCH_STATE_SUCCEEDED', {
      batchStats: { requestCount: '2' },
      output: { responsesFile: file },
    });
  const line = (value: unknown) => JSON.stringify(value);

  it('is downloaded beside the API version under a base URL with a path of its own, its name dots and all', async () => {
    const { fetch, sent } = fakeFetch([inFile('files/batch.out-1'), { body: '' }]);
    const jobs = createGemini({
      apiKey: FAKE_KEY,
      fetch,
      baseURL: 'https://gateway.example.test/google/v1alpha2/',
    }).batchEmbeddingJobs('gemini-embedding-001');
    await jobs.results('batches/job-42');
    expect(sent.map((request) => request.url)).toEqual([
      'https://gateway.example.test/google/v1alpha2/batches/job-42?prettyPrint=false',
      'https://gateway.example.test/google/download/v1alpha2/files/batch.out-1:download?alt=media',
    ]);
  });

  it('under a base URL that does not end in an API version, is downloaded from under the base URL', async () => {
    const { fetch, sent } = fakeFetch([inFile(), { body: '' }]);
    const jobs = createGemini({
      apiKey: FAKE_KEY,
      fetch,
      baseURL: 'https://gateway.example.test/v1beta/vault',
    }).batchEmbeddingJobs('gemini-embedding-001');
    await jobs.results('batches/job-42');
    expect(sent[1]!.url).toBe(
      'https://gateway.example.test/v1beta/vault/files/batch-out-1:download?alt=media',
    );
  });

  it('a name that does not start with files/ is refused before any download', async () => {
    const { jobs, sent } = setup([inFile('other/files/x')]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe('gemini named a results file "other/files/x" that is not files/<id>.');
    expect(sent).toHaveLength(1);
  });

  it('reads lines ended by CRLF, skips blank ones, reads a last line without a line break, and places lines without keys in order', async () => {
    const { jobs } = setup([
      inFile(),
      {
        body: `${line({ response: { embedding: { values: values(128, [5]) } } })}\r\n \r\n${line({
          response: { embedding: { values: values(128, [6]) } },
        })}`,
      },
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([5, 6]);
    expect(results.errors).toEqual([]);
  });

  it('a line’s own key wins over its metadata.key, which is read when it has no key', async () => {
    const vector = (head: number) => ({ embedding: { values: values(128, [head]) } });
    const { jobs } = setup([
      inFile(),
      {
        body: `${line({ key: '1', metadata: { key: '0' }, response: vector(8) })}\n${line({
          metadata: { key: '0' },
          response: vector(7),
        })}\n`,
      },
    ]);
    const results = await jobs.results('batches/job-42', unnormalized);
    expect(results.embeddings.map(first)).toEqual([7, 8]);
    expect(results.errors).toEqual([]);
  });

  it('a line of the wrong shape is an InvalidResponseError naming its line, empty lines counted', async () => {
    const { jobs } = setup([
      inFile(),
      {
        body: `${line({ key: '0', response: { embedding: { values: [1] } } })}\n\n${line({ key: '1', error: 'refused' })}\n`,
      },
    ]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe('gemini results file files/batch-out-1: line 3 has the wrong shape.');
  });
});

describe('the size of the results file', () => {
  const file = `${JSON.stringify({ key: '0', response: { embedding: { values: values(128, [1]) } } })}\n`;
  const declaring = (length: number) => ({
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
    body: file,
  });
  const inFile = batchOperation('BATCH_STATE_SUCCEEDED', {
    batchStats: { requestCount: '1' },
    output: { responsesFile: 'files/batch-out-1' },
  });

  it('may be 1 GiB by default; a byte more is an InvalidResponseError naming the limit', async () => {
    const { jobs } = setup([
      inFile,
      declaring(1024 * 1024 * 1024),
      inFile,
      declaring(1024 * 1024 * 1024 + 1),
    ]);
    expect((await jobs.results('batches/job-42')).errors).toEqual([]);
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini sent a response larger than 1073741824 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });

  it('is held to the provider’s maxResponseBytes when one is set', async () => {
    const { fetch } = fakeFetch([inFile, declaring(1_001)]);
    const jobs = createGemini({ apiKey: FAKE_KEY, fetch, maxResponseBytes: 1_000 }).batchEmbeddingJobs(
      'gemini-embedding-001',
    );
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.message).toBe(
      'gemini sent a response larger than 1000 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });
});

describe('batch bodies the API sends', () => {
  it('a body of the wrong shape is an InvalidResponseError naming the field, with the status and request id', async () => {
    const { jobs } = setup([
      {
        headers: { 'x-request-id': 'req-7' },
        body: { name: 'batches/job-42', metadata: { state: 7 } },
      },
    ]);
    const error = await failure(jobs.get('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      `gemini returned a batch body of the wrong shape: metadata.state: expected string, got number; ${NO_BASE_URL}`,
    );
    expect(error.statusCode).toBe(200);
    expect(error.requestId).toBe('req-7');
  });

  // The hint core gives every answer of the wrong shape: no base URL was set, so a proxy may be answering.
  const NO_BASE_URL =
    'no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.';

  it.each([
    ['an empty body', undefined, 'an empty body'],
    ['a JSON null', 'null', 'a JSON null'],
  ])('%s is called so, with the status and request id, as an embedding call’s', async (_name, body, what) => {
    const { jobs } = setup([{ headers: { 'x-request-id': 'req-8' }, body }]);
    const error = await failure(jobs.get('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(`gemini returned status 200 with ${what}; ${NO_BASE_URL}`);
    expect(error.statusCode).toBe(200);
    expect(error.requestId).toBe('req-8');
  });

  it('a body of the wrong shape names the setting the base URL came from', async () => {
    const { fetch } = fakeFetch([{ body: { name: 'batches/job-42', metadata: { state: 7 } } }]);
    const jobs = createGemini({
      apiKey: FAKE_KEY,
      fetch,
      baseURL: 'https://proxy.example/v1beta',
    }).batchEmbeddingJobs('gemini-embedding-001');
    const error = await failure(jobs.get('batches/job-42'));
    expect(error.message).toBe(
      'gemini returned a batch body of the wrong shape: metadata.state: expected string, got number; check that the baseURL setting points at the gemini API.',
    );
  });

  it('cancel and delete answer no body at all, which is no fault', async () => {
    const { jobs, sent } = setup([{}, {}]);
    await jobs.cancel('batches/job-42');
    await jobs.delete('batches/job-42');
    expect(sent.map((request) => request.method)).toEqual(['POST', 'DELETE']);
  });

  it.each(['batches/.', 'batches/..', 'operations/batches/x'])(
    'a batch named %s is refused',
    async (name) => {
      const { jobs } = setup([{ body: { name, metadata: { state: 'BATCH_STATE_RUNNING' } } }]);
      const error = await failure(jobs.get('batches/job-42'));
      expect(error.name).toBe('InvalidResponseError');
      expect(error.message).toBe(`gemini returned a batch whose name is not batches/<id> ("${name}").`);
    },
  );

  it('a batch named batches/... is a batch like any other', async () => {
    const { jobs } = setup([{ body: { name: 'batches/...', metadata: { state: 'BATCH_STATE_RUNNING' } } }]);
    expect((await jobs.get('batches/job-42')).id).toBe('batches/...');
  });

  it('the job’s id is the name in its metadata, before the operation’s own', async () => {
    const { jobs } = setup([
      {
        body: {
          name: 'batches/operation-1',
          metadata: { name: 'batches/job-42', state: 'BATCH_STATE_RUNNING' },
        },
      },
    ]);
    expect((await jobs.get('batches/job-42')).id).toBe('batches/job-42');
  });

  it('the job’s model is the one the API names, without models/', async () => {
    const { jobs } = setup([batchOperation('BATCH_STATE_RUNNING', { model: 'models/text-embedding-004' })]);
    expect((await jobs.get('batches/job-42')).modelId).toBe('text-embedding-004');
  });
});

describe('request headers and limits', () => {
  const inFile = batchOperation('BATCH_STATE_SUCCEEDED', {
    batchStats: { requestCount: '1' },
    output: { responsesFile: 'files/batch-out-1' },
  });

  it('a call’s headers override the provider’s, on the job and on the download, which accepts any type', async () => {
    const { fetch, sent } = fakeFetch([inFile, { body: '' }]);
    const jobs = createGemini({
      apiKey: FAKE_KEY,
      fetch,
      headers: { 'x-team': 'search' },
    }).batchEmbeddingJobs('gemini-embedding-001');
    await jobs.results('batches/job-42', { headers: { 'x-team': 'ranking', 'x-trace': 't-1' } });
    expect(sent.map((request) => [request.headers['x-team'], request.headers['x-trace']])).toEqual([
      ['ranking', 't-1'],
      ['ranking', 't-1'],
    ]);
    expect(sent[1]!.headers.accept).toBe('*/*');
    expect(sent.map((request) => request.headers['x-goog-api-key'])).toEqual([FAKE_KEY, FAKE_KEY]);
  });

  it('a JSON call is held to the provider’s maxResponseBytes', async () => {
    const { fetch } = fakeFetch([
      { ...batchOperation('BATCH_STATE_RUNNING'), headers: { 'content-length': '101' } },
    ]);
    const jobs = createGemini({ apiKey: FAKE_KEY, fetch, maxResponseBytes: 100 }).batchEmbeddingJobs(
      'gemini-embedding-001',
    );
    const error = await failure(jobs.get('batches/job-42', { maxRetries: 0 }));
    expect(error.message).toBe(
      'gemini sent a response larger than 100 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });
});
