/**
 * Behaviour of the Gemini provider that the rest of the suite left unpinned: how a `google.rpc.Status`
 * body is read (no message or an empty one, a reason that is not a string, the first of several reasons,
 * a `retryDelay` that is not a duration, the wait in "retry in …" in milliseconds, in capitals or with many
 * digits, a per-day quota named by its metric, its subject or a later violation, and only on a 429, the
 * request index of a 4xx but not a 5xx, the model hint only for a 404 that names a `models/` id, dots and
 * Object.prototype names included); the exact capabilities of known and unknown ids and the token limit
 * at its edge; model ids with dots or starting with "models"; the base URL, key, headers, rate limiter and
 * maxResponseBytes settings as a call sees them; what a direct doEmbed call says of a bad input or answer;
 * the answer's request id and headers; and a results-file line whose values are not a list.
 */
import { createRateLimiter, embedMany } from '@embedkit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGemini, GEMINI_MODELS, parseGeminiError } from '../src/index.js';
import { FAKE_KEY, failure, fakeFetch, values } from './fake-fetch.js';
import { geminiErrorBody } from './gemini-wire.js';

const BASE = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001';

function setup(reply: Parameters<typeof fakeFetch>[0]) {
  const { fetch, sent } = fakeFetch(reply);
  const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('gemini-embedding-001');
  return { model, sent };
}

const QUOTA_FAILURE = (violation: Record<string, string | undefined>) => ({
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
  violations: [violation],
});

describe('reading a google.rpc.Status', () => {
  it('a Status without a message gives its status as providerCode and no other field, on every status', () => {
    for (const [status, state] of [
      [400, 'INVALID_ARGUMENT'],
      [404, 'NOT_FOUND'],
      [429, 'RESOURCE_EXHAUSTED'],
      [503, 'UNAVAILABLE'],
    ] as const) {
      expect(parseGeminiError({ error: { code: status, status: state } }, status)).toStrictEqual({
        providerCode: state,
      });
    }
  });

  it('an empty message is left out, as is a providerCode when the body has neither reason nor status', () => {
    expect(parseGeminiError({ error: { code: 500, message: '', status: 'INTERNAL' } }, 500)).toStrictEqual({
      providerCode: 'INTERNAL',
    });
    expect(parseGeminiError({ error: { code: 500, message: 'Oops.' } }, 500)).toStrictEqual({
      message: 'Oops.',
    });
  });

  it('a Status without a message still gives a typed error with its providerCode through the model', async () => {
    const { model } = setup([{ status: 503, body: { error: { code: 503, status: 'UNAVAILABLE' } } }]);
    const error = await failure(model.doEmbed({ inputs: ['x'] }));
    expect(error.name).toBe('ServerError');
    expect(error.statusCode).toBe(503);
    expect(error.providerCode).toBe('UNAVAILABLE');
  });

  it('an ErrorInfo reason that is not a string is skipped for the next reason, or the status', () => {
    const errorInfo = (reason: unknown) => ({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason,
      domain: 'googleapis.com',
    });
    expect(parseGeminiError(geminiErrorBody(400, 'Bad.', [errorInfo(7)]), 400)).toStrictEqual({
      message: 'Bad.',
      providerCode: 'INVALID_ARGUMENT',
    });
    expect(
      parseGeminiError(geminiErrorBody(400, 'Bad.', [errorInfo(7), errorInfo('API_KEY_INVALID')]), 400),
    ).toMatchObject({ providerCode: 'API_KEY_INVALID', kind: 'authentication' });
  });

  it('the first ErrorInfo reason is the providerCode; API_KEY_INVALID adds its hint and keeps the API’s message', () => {
    const errorInfo = (reason: string) => ({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason,
      domain: 'googleapis.com',
    });
    const message = 'API key not valid. Please pass a valid API key.';
    expect(
      parseGeminiError(
        geminiErrorBody(400, message, [errorInfo('API_KEY_INVALID'), errorInfo('SERVICE_DISABLED')]),
        400,
      ),
    ).toStrictEqual({
      message,
      providerCode: 'API_KEY_INVALID',
      kind: 'authentication',
      hint: 'The Gemini API rejected the key; check GEMINI_API_KEY / GOOGLE_API_KEY or the apiKey setting.',
    });
  });

  it('a RetryInfo whose retryDelay is not a duration string gives way to the wait in the message', () => {
    for (const retryDelay of [{ seconds: 11 }, 'soon']) {
      const body = geminiErrorBody(429, 'Please retry in 3s.', [
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
      ]);
      expect(parseGeminiError(body, 429), JSON.stringify(retryDelay)).toStrictEqual({
        message: 'Please retry in 3s.',
        providerCode: 'RESOURCE_EXHAUSTED',
        retryAfterMs: 3_000,
      });
    }
  });

  it.each([
    ['You exceeded your current quota. Please retry in 500ms.', 500],
    ['Retry in 4s.', 4_000],
    ['Please RETRY IN 2S.', 2_000],
    ['You exceeded your current quota. Please retry in 11.665902715s.', 11_665.902715],
    ['Please retry in 25s.', 25_000],
  ])('reads the wait of "%s" as %d ms', (message, milliseconds) => {
    expect(parseGeminiError(geminiErrorBody(429, message), 429)).toStrictEqual({
      message,
      providerCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: milliseconds,
    });
  });

  it('names the failing request of a 4xx (any number of digits), never of a 5xx', () => {
    const message = '* BatchEmbedContentsRequest.requests[12].content: must not be empty';
    expect(parseGeminiError(geminiErrorBody(400, message), 400)).toStrictEqual({
      message,
      providerCode: 'INVALID_ARGUMENT',
      inputIndex: 12,
    });
    expect(parseGeminiError(geminiErrorBody(499, message), 499).inputIndex).toBe(12);
    expect(parseGeminiError(geminiErrorBody(500, message), 500)).toStrictEqual({
      message,
      providerCode: 'INTERNAL',
    });
  });

  it('a per-day quota is recognised when only its metric or only its subject says so', () => {
    for (const violation of [
      { quotaMetric: 'generativelanguage.googleapis.com/embed_content_requests_per_day' },
      { subject: 'requests per day for project 1234' },
    ]) {
      expect(parseGeminiError(geminiErrorBody(429, 'Quota.', [QUOTA_FAILURE(violation)]), 429)).toStrictEqual(
        {
          message: 'Quota.',
          providerCode: 'RESOURCE_EXHAUSTED',
          quotaExhausted: true,
          hint: 'A per-day quota of the project is used up; the Gemini API resets per-day quotas at midnight Pacific time: wait for the reset, or raise the project’s usage tier in Google AI Studio; retrying sooner will not help.',
        },
      );
    }
  });

  it('a per-day quota is found after per-minute ones, in a later violation or a later QuotaFailure', () => {
    const perMinute = { quotaId: 'EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier' };
    const perDay = { quotaId: 'EmbedContentRequestsPerDayPerProjectPerModel-FreeTier' };
    const bodies = [
      geminiErrorBody(429, 'Quota.', [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [perMinute, perDay] },
      ]),
      geminiErrorBody(429, 'Quota.', [QUOTA_FAILURE(perMinute), QUOTA_FAILURE(perDay)]),
    ];
    for (const body of bodies) expect(parseGeminiError(body, 429).quotaExhausted).toBe(true);
    expect(parseGeminiError(geminiErrorBody(429, 'Quota.', [QUOTA_FAILURE(perMinute)]), 429)).toStrictEqual({
      message: 'Quota.',
      providerCode: 'RESOURCE_EXHAUSTED',
    });
  });

  it('a per-day QuotaFailure marks the quota used up on a 429 only', () => {
    const body = geminiErrorBody(403, 'Quota.', [
      QUOTA_FAILURE({ quotaId: 'EmbedContentRequestsPerDayPerProjectPerModel-FreeTier' }),
    ]);
    expect(parseGeminiError(body, 403)).toStrictEqual({
      message: 'Quota.',
      providerCode: 'PERMISSION_DENIED',
    });
  });
});

describe('the model hint of a 404', () => {
  it('names a model id with dots in it whole', () => {
    const message = 'models/gemini-embedding-exp-03.07 is not found for API version v1beta.';
    expect(parseGeminiError(geminiErrorBody(404, message), 404)).toStrictEqual({
      message,
      providerCode: 'NOT_FOUND',
      hint: 'models/gemini-embedding-exp-03.07 is not served by this API version: check the id, or whether the model was retired; gemini-embedding-001 is current.',
    });
  });

  it('for a model id that is also an Object.prototype name, says the model is not served', () => {
    const message = 'models/toString is not found for API version v1beta.';
    expect(parseGeminiError(geminiErrorBody(404, message), 404)).toStrictEqual({
      message,
      providerCode: 'NOT_FOUND',
      hint: 'models/toString is not served by this API version: check the id, or whether the model was retired; gemini-embedding-001 is current.',
    });
  });

  it('is given for a 404 only, and only when the message names a models/ resource', () => {
    const cases: [number, string][] = [
      [404, 'Requested entity was not found.'],
      [404, 'batches/abc123 is not found.'],
      [400, 'models/text-embedding-004 is not found for API version v1beta.'],
    ];
    for (const [status, message] of cases) {
      expect(parseGeminiError(geminiErrorBody(status, message), status), message).toStrictEqual({
        message,
        providerCode: status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
      });
    }
  });
});

describe('capabilities', () => {
  const inputTypes = [
    'query',
    'document',
    'similarity',
    'classification',
    'clustering',
    'question-answering',
    'fact-verification',
    'code-query',
  ];

  it('gemini-embedding-001 declares exactly its limits, lengths and types', () => {
    const capabilities = createGemini({ apiKey: FAKE_KEY }).embedding(
      'models/gemini-embedding-001',
    ).capabilities;
    expect(capabilities).toBe(GEMINI_MODELS['gemini-embedding-001']);
    expect(capabilities).toStrictEqual({
      maxInputsPerCall: 100,
      maxTokensPerInput: 2048,
      defaultDimensions: 3072,
      dimensions: { min: 128, max: 3072 },
      inputTypes,
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: true,
      supportsParallelCalls: true,
    });
  });

  it('an id the table does not know gets the API’s request limits and any length from 1 to 3,072', () => {
    expect(createGemini({ apiKey: FAKE_KEY }).embedding('gemini-embedding-2').capabilities).toStrictEqual({
      maxInputsPerCall: 100,
      dimensions: { min: 1, max: 3072 },
      inputTypes,
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: true,
      supportsParallelCalls: true,
    });
  });

  it('an id that is also an Object.prototype name gets the unknown-id capabilities and reaches the API', async () => {
    const { fetch, sent } = fakeFetch([
      { status: 404, body: geminiErrorBody(404, 'models/constructor is not found for API version v1beta.') },
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('constructor');
    expect(model.capabilities).toStrictEqual(
      createGemini({ apiKey: FAKE_KEY }).embedding('gemini-embedding-2').capabilities,
    );
    const error = await failure(embedMany({ model, inputs: ['a'], maxRetries: 0 }));
    expect(error.name).toBe('NotFoundError');
    expect(sent.map((request) => request.url)).toEqual([
      'https://generativelanguage.googleapis.com/v1beta/models/constructor:embedContent?prettyPrint=false',
    ]);
  });

  it('with an exact token counter, an input of 2,048 tokens is sent and one of 2,049 is refused before any request', async () => {
    const counter = { exact: true, count: (input: unknown) => (input as string).split(' ').length };
    const text = (count: number) => new Array<string>(count).fill('w').join(' ');
    const { model, sent } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    await embedMany({ model, inputs: [text(2048)], tokenCounter: counter });
    expect(sent).toHaveLength(1);
    const error = await failure(embedMany({ model, inputs: [text(2049)], tokenCounter: counter }));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe('inputs[0]');
    expect(error.message).toBe(
      'Input 0 has 2049 tokens; gemini model gemini-embedding-001 accepts at most 2048. Shorten it, split it, or pass truncate: true.',
    );
    expect(sent).toHaveLength(1);
  });
});

describe('provider settings reaching the model', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('a GOOGLE_GEMINI_BASE_URL host loses every trailing slash before /v1beta is added', async () => {
    vi.stubEnv('GEMINI_BASE_URL', '');
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'http://127.0.0.1:4300//');
    const { model, sent } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    expect(model.customBaseURL()).toBe('http://127.0.0.1:4300/v1beta');
    await model.doEmbed({ inputs: ['x'] });
    expect(sent[0]!.url).toBe(
      'http://127.0.0.1:4300/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
    );
  });

  it('a bad GEMINI_BASE_URL and a missing key are refused naming the gemini provider', async () => {
    vi.stubEnv('GEMINI_BASE_URL', 'generativelanguage.googleapis.com');
    const { model, sent } = setup([]);
    const badRoot = await failure(model.doEmbed({ inputs: ['x'] }));
    expect(badRoot.name).toBe('InvalidArgumentError');
    expect(badRoot.message).toBe(
      'gemini: the base URL from GEMINI_BASE_URL is not an absolute http(s) URL; it should look like https://api.example.com/v1.',
    );
    vi.stubEnv('GEMINI_BASE_URL', '');
    vi.stubEnv('GEMINI_API_KEY', '');
    vi.stubEnv('GOOGLE_API_KEY', '');
    const { fetch } = fakeFetch([]);
    const keyless = createGemini({ fetch }).embedding('gemini-embedding-001');
    const noKey = await failure(keyless.doEmbed({ inputs: ['x'] }));
    expect(noKey.name).toBe('InvalidArgumentError');
    expect(noKey.message).toBe(
      'gemini: no API key. Set the GEMINI_API_KEY or GOOGLE_API_KEY environment variable, or pass apiKey to the provider settings.',
    );
    expect(sent).toHaveLength(0);
  });

  it('an x-goog-api-key in the headers setting replaces the key header (a gateway’s own key)', async () => {
    const { fetch, sent } = fakeFetch([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const model = createGemini({
      apiKey: FAKE_KEY,
      fetch,
      headers: { 'x-goog-api-key': 'gateway-key-0001' },
    }).embedding('gemini-embedding-001');
    await model.doEmbed({ inputs: ['x'] });
    expect(sent[0]!.headers['x-goog-api-key']).toBe('gateway-key-0001');
  });

  it('the rateLimit setting is the rate limiter of every model of the provider', () => {
    const limiter = createRateLimiter({ requestsPerMinute: 60 });
    const provider = createGemini({ apiKey: FAKE_KEY, rateLimit: limiter });
    expect(provider.embedding('gemini-embedding-001').rateLimiter).toBe(limiter);
    expect(createGemini({ apiKey: FAKE_KEY }).embedding('gemini-embedding-001').rateLimiter).toBeUndefined();
  });
});

describe('the answer’s request id', () => {
  it('is the x-goog-request-id header when the answer has one, and absent otherwise', async () => {
    const answer = { body: { embedding: { values: values(3072, [1]) } } };
    const { model, sent } = setup([{ ...answer, headers: { 'x-goog-request-id': 'req-7' } }, answer]);
    const first = await model.doEmbed({ inputs: ['x'] });
    expect(first.response?.requestId).toBe('req-7');
    expect(first.response?.status).toBe(200);
    expect(first.response?.headers['x-goog-request-id']).toBe('req-7');
    expect(first.response?.headers['content-type']).toBe('application/json; charset=UTF-8');
    const second = await model.doEmbed({ inputs: ['x'] });
    expect(second.response).toBeDefined();
    expect('requestId' in second.response!).toBe(false);
    expect(sent.map((request) => request.url)).toEqual([
      `${BASE}:embedContent?prettyPrint=false`,
      `${BASE}:embedContent?prettyPrint=false`,
    ]);
  });
});

describe('model ids', () => {
  it('keeps an id that merely starts with "models" whole, and accepts an id with dots in it', async () => {
    const { fetch, sent } = fakeFetch(() => ({ body: { embedding: { values: values(3072, [1]) } } }));
    const provider = createGemini({ apiKey: FAKE_KEY, fetch });
    expect(provider.embedding('modelsmith-embed').modelId).toBe('modelsmith-embed');
    const dotted = provider.embedding('gemini-embedding-exp-03.07');
    expect(dotted.modelId).toBe('gemini-embedding-exp-03.07');
    await dotted.doEmbed({ inputs: ['x'] });
    expect(sent[0]!.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-exp-03.07:embedContent?prettyPrint=false',
    );
    expect((sent[0]!.body as { model: string }).model).toBe('models/gemini-embedding-exp-03.07');
  });
});

describe('a direct doEmbed call', () => {
  it('warns, in so many words, of an input type Gemini has no task type for', async () => {
    const { model } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const { warnings } = await model.doEmbed({ inputs: ['x'], inputType: 'code-document' });
    expect(warnings).toStrictEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message:
          'gemini has no task type for "code-document"; the inputs were sent without one (Google suggests RETRIEVAL_DOCUMENT, inputType "document", for the code side of code retrieval).',
      },
    ]);
  });

  it('names a later input that is not text, or has a title without inputType "document", by its place', async () => {
    const { model, sent } = setup([]);
    const image = await failure(
      model.doEmbed({ inputs: ['a', { image: 'https://example.test/cat.png' }] as never }),
    );
    expect(image.name).toBe('InvalidArgumentError');
    expect(image.argument).toBe('inputs[1]');
    expect(image.message).toBe('Input 1 is not text; gemini model gemini-embedding-001 takes text only.');
    const titled = await failure(
      model.doEmbed({ inputs: ['a', { text: 'b', title: 'B' }], inputType: 'query' }),
    );
    expect(titled.name).toBe('InvalidArgumentError');
    expect(titled.argument).toBe('inputs[1]');
    expect(titled.message).toBe(
      'Input 1 has a title, which needs inputType "document": Gemini applies a title only to RETRIEVAL_DOCUMENT.',
    );
    expect(sent).toHaveLength(0);
  });

  it('sends exactly the JSON content type and the key, plus the headers asked for', async () => {
    const { fetch, sent } = fakeFetch([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch, headers: { 'x-team': 'search' } }).embedding(
      'gemini-embedding-001',
    );
    await model.doEmbed({ inputs: ['x'], headers: { 'x-call': 'one' } });
    expect(sent[0]!.headers).toStrictEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': expect.stringMatching(/^embedkit\//),
      'x-goog-api-key': FAKE_KEY,
      'x-team': 'search',
      'x-call': 'one',
    });
  });

  it('reads a single answer’s values from the body bytes: a float32 overflow is quoted as sent', async () => {
    const { model } = setup([{ body: `{"embedding":{"values":[0.5,3.5e38${',0.5'.repeat(3070)}]}}` }]);
    const error = await failure(embedMany({ model, inputs: ['a'], maxRetries: 0 }));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini returned vector 0 holding 3.5e+38 at position 1, not a finite number.',
    );
  });

  it('an answer with the wrong number of vectors is refused naming both counts, the status and the request id', async () => {
    const { model } = setup([
      {
        headers: { 'x-goog-request-id': 'req-9' },
        body: { embeddings: [{ values: values(3072, [1]) }] },
      },
    ]);
    const error = await failure(model.doEmbed({ inputs: ['a', 'b'] }));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe('gemini returned 1 vector for 2 inputs.');
    expect(error.provider).toBe('gemini');
    expect(error.statusCode).toBe(200);
    expect(error.requestId).toBe('req-9');
  });

  it('holds an answer to the provider’s maxResponseBytes', async () => {
    const { fetch } = fakeFetch([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch, maxResponseBytes: 1_000 }).embedding(
      'gemini-embedding-001',
    );
    const error = await failure(model.doEmbed({ inputs: ['a'] }));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe(
      'gemini sent a response larger than 1000 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });
});

describe('batch results', () => {
  it('a results-file line whose values are not a list is an InvalidResponseError for the whole file', async () => {
    const { fetch } = fakeFetch([
      {
        body: {
          name: 'batches/job-42',
          metadata: { state: 'BATCH_STATE_SUCCEEDED', output: { responsesFile: 'files/batch-out-1' } },
        },
      },
      {
        headers: { 'content-type': 'application/octet-stream' },
        body: `${JSON.stringify({ key: '0', response: { embedding: { values: 'abc' } } })}\n`,
      },
    ]);
    const jobs = createGemini({ apiKey: FAKE_KEY, fetch }).batchEmbeddingJobs('gemini-embedding-001');
    const error = await failure(jobs.results('batches/job-42'));
    expect(error.name).toBe('InvalidResponseError');
    expect(error.message).toBe('gemini results file files/batch-out-1: line 1 has the wrong shape.');
  });
});
