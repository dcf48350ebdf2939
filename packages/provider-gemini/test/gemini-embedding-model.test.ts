import { createFakeClock } from '@embedkit/conformance';
import { embedMany, type InputType, type RetryEvent } from '@embedkit/core';
import { checkEmbedRequest } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGemini, GEMINI_MODELS, parseGeminiError } from '../src/index.js';
import { FAKE_KEY, type FakeReply, failure, fakeFetch, values } from './fake-fetch.js';

const BASE = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001';
const MODEL = 'models/gemini-embedding-001';

function setup(
  reply: Parameters<typeof fakeFetch>[0],
  settings: { apiKey?: string; baseURL?: string; headers?: Record<string, string> } = {},
) {
  const { fetch, sent } = fakeFetch(reply);
  const model = createGemini({ apiKey: FAKE_KEY, ...settings, fetch }).embedding('gemini-embedding-001');
  return { model, sent };
}

/** Answers every embedding request with `vector(text)` for each of its inputs. */
function echo(vector: (text: string) => number[]) {
  return (request: { body: unknown }): FakeReply => {
    const body = request.body as {
      requests?: { content: { parts: { text: string }[] } }[];
      content?: { parts: { text: string }[] };
    };
    if (body.requests !== undefined)
      return {
        body: { embeddings: body.requests.map((item) => ({ values: vector(item.content.parts[0]!.text) })) },
      };
    return { body: { embedding: { values: vector(body.content!.parts[0]!.text) } } };
  };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('request bodies', () => {
  it('sends one input to :embedContent with model, content, taskType and outputDimensionality, the key in x-goog-api-key', async () => {
    const { model, sent } = setup([{ body: { embedding: { values: values(256, [3, 4]) } } }]);
    const result = await embedMany({
      model,
      inputs: ['pets and animals'],
      inputType: 'query',
      dimensions: 256,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('POST');
    expect(sent[0]!.url).toBe(`${BASE}:embedContent?prettyPrint=false`);
    expect(sent[0]!.body).toEqual({
      model: MODEL,
      content: { parts: [{ text: 'pets and animals' }] },
      taskType: 'RETRIEVAL_QUERY',
      outputDimensionality: 256,
    });
    expect(sent[0]!.headers['x-goog-api-key']).toBe(FAKE_KEY);
    expect(sent[0]!.headers['content-type']).toBe('application/json');
    expect(sent[0]!.url).not.toContain(FAKE_KEY);
    expect(sent[0]!.url).not.toContain('key=');
    expect(result.usage).toBeUndefined();
    expect('usage' in result).toBe(false);
    expect(result.warnings).toEqual([]);
  });

  it('sends several inputs to :batchEmbedContents, one request each, with the titles of documents', async () => {
    const { model, sent } = setup([
      { body: { embeddings: [1, 2, 3].map(() => ({ values: values(768, [1]) })) } },
    ]);
    await embedMany({
      model,
      inputs: [
        { text: 'Doc one', title: 'Title one' },
        { text: 'Doc two', title: '' },
        { text: 'Doc three', title: 'Title three' },
      ],
      inputType: 'document',
      dimensions: 768,
    });
    expect(sent[0]!.url).toBe(`${BASE}:batchEmbedContents?prettyPrint=false`);
    expect(sent[0]!.body).toEqual({
      requests: [
        {
          model: MODEL,
          content: { parts: [{ text: 'Doc one' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
          title: 'Title one',
          outputDimensionality: 768,
        },
        {
          model: MODEL,
          content: { parts: [{ text: 'Doc two' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
          outputDimensionality: 768,
        },
        {
          model: MODEL,
          content: { parts: [{ text: 'Doc three' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
          title: 'Title three',
          outputDimensionality: 768,
        },
      ],
    });
  });

  it('sends neither taskType nor outputDimensionality when none is asked', async () => {
    const { model, sent } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const result = await embedMany({ model, inputs: ['plain'] });
    expect(sent[0]!.body).toEqual({ model: MODEL, content: { parts: [{ text: 'plain' }] } });
    expect(result.embeddings[0]).toHaveLength(3072);
  });

  const taskTypes: [InputType, string][] = [
    ['query', 'RETRIEVAL_QUERY'],
    ['document', 'RETRIEVAL_DOCUMENT'],
    ['similarity', 'SEMANTIC_SIMILARITY'],
    ['classification', 'CLASSIFICATION'],
    ['clustering', 'CLUSTERING'],
    ['question-answering', 'QUESTION_ANSWERING'],
    ['fact-verification', 'FACT_VERIFICATION'],
    ['code-query', 'CODE_RETRIEVAL_QUERY'],
  ];
  it.each(taskTypes)('maps inputType %s to taskType %s', async (inputType, taskType) => {
    const { model, sent } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    await embedMany({ model, inputs: ['x'], inputType });
    expect((sent[0]!.body as { taskType?: string }).taskType).toBe(taskType);
  });

  it('declares exactly the eight mapped input types; code-document is sent without a task type and warned about', async () => {
    expect([...GEMINI_MODELS['gemini-embedding-001']!.inputTypes].sort()).toEqual(
      taskTypes.map(([type]) => type).sort(),
    );
    const { model, sent } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const direct = await model.doEmbed({ inputs: ['x'], inputType: 'code-document' });
    expect(sent[0]!.body).toEqual({ model: MODEL, content: { parts: [{ text: 'x' }] } });
    expect(direct.warnings).toHaveLength(1);
    expect(direct.warnings[0]).toMatchObject({ type: 'unsupported-setting', setting: 'inputType' });
  });

  it('sends the settings headers and the per-call headers, and a custom base URL', async () => {
    const { model, sent } = setup([{ body: { embedding: { values: values(3072, [1]) } } }], {
      baseURL: 'https://gateway.example.test/gemini/v1beta/',
      headers: { 'x-team': 'search' },
    });
    await embedMany({ model, inputs: ['x'], headers: { 'x-call': 'one' } });
    expect(sent[0]!.url).toBe(
      'https://gateway.example.test/gemini/v1beta/models/gemini-embedding-001:embedContent?prettyPrint=false',
    );
    expect(sent[0]!.headers['x-team']).toBe('search');
    expect(sent[0]!.headers['x-call']).toBe('one');
  });

  it('accepts a models/ prefix and refuses an id that could change the path', () => {
    expect(createGemini({ apiKey: FAKE_KEY }).embedding('models/gemini-embedding-001').modelId).toBe(
      'gemini-embedding-001',
    );
    for (const bad of ['../files/x', 'a:b', 'models/', '']) {
      expect(() => createGemini({ apiKey: FAKE_KEY }).embedding(bad)).toThrowError(
        expect.objectContaining({ name: 'InvalidArgumentError', argument: 'modelId' }),
      );
    }
  });
});

describe('invalid arguments are refused before any request', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a job-wide titles list (titles travel on their inputs as { text, title })',
      { inputType: 'document', providerOptions: { gemini: { titles: ['a', 'b'] } } },
      'providerOptions.gemini',
    ],
    [
      'a title without inputType document',
      { inputType: 'query', inputs: ['a', { text: 'b', title: 'B' }] },
      'inputs[1]',
    ],
    ['a title with no inputType', { inputs: [{ text: 'a', title: 'A' }, 'b'] }, 'inputs[0]'],
    [
      'an unknown provider option',
      { providerOptions: { gemini: { taskType: 'CLUSTERING' } } },
      'providerOptions.gemini',
    ],
    [
      'a non-boolean normalize',
      { providerOptions: { gemini: { normalize: 'no' } } },
      'providerOptions.gemini',
    ],
    ['dimensions below 128', { dimensions: 64 }, 'dimensions'],
    ['dimensions above 3072', { dimensions: 4096 }, 'dimensions'],
  ];
  it.each(cases)('%s', async (_name, extra, argument) => {
    const { model, sent } = setup([]);
    const error = await failure(embedMany({ model, inputs: ['a', 'b'], ...extra }));
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe(argument);
    expect(sent).toHaveLength(0);
  });

  it('a title in a later call of a job is refused before the first call, named by its place in the job', async () => {
    // Checked call by call, the first call went out and the title was named as input 0 (of its call).
    const { model, sent } = setup([]);
    const error = await failure(
      embedMany({
        model,
        inputs: ['a', 'b', { text: 'c', title: 'T' }],
        inputType: 'query',
        maxInputsPerCall: 2,
      }),
    );
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.argument).toBe('inputs[2]');
    expect(error.message).toBe(
      'Input 2 has a title, which needs inputType "document": Gemini applies a title only to RETRIEVAL_DOCUMENT.',
    );
    expect(sent).toHaveLength(0);
  });

  // The engine's checks live once, in core (issue 10): a direct doEmbed caller runs them with checkEmbedRequest.
  it('checkEmbedRequest refuses for a direct doEmbed caller what the engine refuses: >100 inputs, none, bad dimensions, non-float', () => {
    const { model } = setup([]);
    const requests = [
      { inputs: Array.from({ length: 101 }, (_, index) => `t${index}`) },
      { inputs: [] },
      { inputs: ['x'], dimensions: 100 },
      { inputs: ['x'], outputType: 'int8' as const },
      { inputs: [''] },
    ];
    for (const request of requests) {
      expect(() => checkEmbedRequest(model, request)).toThrowError(
        expect.objectContaining({ name: 'InvalidArgumentError' }),
      );
    }
    expect(() => checkEmbedRequest(model, { inputs: ['x'], dimensions: 128 })).not.toThrow();
  });

  it('warns that the Gemini API cannot truncate', async () => {
    const { model } = setup([{ body: { embedding: { values: values(3072, [1]) } } }]);
    const response = await model.doEmbed({ inputs: ['x'], truncate: true });
    expect(response.warnings).toEqual([
      expect.objectContaining({ type: 'unsupported-setting', setting: 'truncate' }),
    ]);
  });
});

describe('API key', () => {
  it('reads GEMINI_API_KEY first, then GOOGLE_API_KEY, when the call is made', async () => {
    const { fetch, sent } = fakeFetch(() => ({ body: { embedding: { values: values(3072, [1]) } } }));
    vi.stubEnv('GEMINI_API_KEY', '');
    vi.stubEnv('GOOGLE_API_KEY', '');
    const model = createGemini({ fetch }).embedding('gemini-embedding-001');
    vi.stubEnv('GOOGLE_API_KEY', 'AIza-google-fake-111111111111111111');
    await embedMany({ model, inputs: ['x'] });
    vi.stubEnv('GEMINI_API_KEY', 'AIza-gemini-fake-222222222222222222');
    await embedMany({ model, inputs: ['x'] });
    expect(sent.map((request) => request.headers['x-goog-api-key'])).toEqual([
      'AIza-google-fake-111111111111111111',
      'AIza-gemini-fake-222222222222222222',
    ]);
  });

  it('without any key fails with an InvalidArgumentError naming both variables, before any request', async () => {
    const { fetch, sent } = fakeFetch([]);
    vi.stubEnv('GEMINI_API_KEY', '');
    vi.stubEnv('GOOGLE_API_KEY', '');
    const error = await failure(
      embedMany({ model: createGemini({ fetch }).embedding('gemini-embedding-001'), inputs: ['x'] }),
    );
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.message).toContain('GEMINI_API_KEY or GOOGLE_API_KEY');
    expect(sent).toHaveLength(0);
  });
});

describe('splitting', () => {
  it('250 inputs through embedMany make three :batchEmbedContents calls of 100, 100 and 50, vectors in input order', async () => {
    const inputs = Array.from({ length: 250 }, (_, index) => `input ${index}`);
    const { model, sent } = setup(echo((text) => values(128, [Number(text.split(' ')[1]) + 1])));
    const result = await embedMany({
      model,
      inputs,
      dimensions: 128,
      providerOptions: { gemini: { normalize: false } },
    });
    expect(sent.map((request) => request.url)).toEqual(
      new Array(3).fill(`${BASE}:batchEmbedContents?prettyPrint=false`),
    );
    const sizes = sent.map((request) => (request.body as { requests: unknown[] }).requests.length);
    expect([...sizes].sort((a, b) => b - a)).toEqual([100, 100, 50]);
    const texts = sent.flatMap((request) =>
      (request.body as { requests: { content: { parts: { text: string }[] } }[] }).requests.map(
        (item) => item.content.parts[0]!.text,
      ),
    );
    expect([...texts].sort()).toEqual([...inputs].sort());
    expect(result.embeddings).toHaveLength(250);
    result.embeddings.forEach((vector, index) => {
      expect(vector[0]).toBe(index + 1);
    });
    expect(result.usage).toBeUndefined();
    expect(result.responses).toHaveLength(3);
  });

  // Defect 5 of issue 10: positions are out of the contract; a title travels on its input, so every call of
  // a split job carries the right titles without knowing where it stands.
  it('titles on the inputs of a 250-input job reach the right request items across calls', async () => {
    const inputs = Array.from({ length: 250 }, (_, index) =>
      index % 50 === 0 ? `doc ${index}` : { text: `doc ${index}`, title: `title ${index}` },
    );
    const { model, sent } = setup(echo(() => values(128, [1])));
    await embedMany({ model, inputs, dimensions: 128, inputType: 'document' });
    const pairs = sent.flatMap((request) =>
      (
        request.body as { requests: { title?: string; content: { parts: { text: string }[] } }[] }
      ).requests.map((item) => [item.content.parts[0]!.text, item.title] as const),
    );
    expect(pairs).toHaveLength(250);
    for (const [text, title] of pairs) {
      const index = Number(text.split(' ')[1]);
      expect(title).toBe(index % 50 === 0 ? undefined : `title ${index}`);
    }
  });

  it('takes a title from each { text, title } input, and refuses titles outside inputType "document"', async () => {
    const { model, sent } = setup(echo(() => values(128, [1])));
    await embedMany({
      model,
      inputs: [{ text: 'first', title: 'Intro' }, 'second', { text: 'third' }],
      dimensions: 128,
      inputType: 'document',
    });
    const items = (sent[0]!.body as { requests: { title?: string }[] }).requests;
    expect(items.map((item) => item.title)).toEqual(['Intro', undefined, undefined]);
    const error = await failure(
      embedMany({ model, inputs: [{ text: 'q', title: 'T' }], inputType: 'query' }),
    );
    expect(error.name).toBe('InvalidArgumentError');
    expect(sent).toHaveLength(1);
  });

  it('101 inputs make one batch call of 100 and one :embedContent call', async () => {
    const { model, sent } = setup(echo(() => values(3072, [1])));
    await embedMany({
      model,
      inputs: Array.from({ length: 101 }, (_, index) => `t${index}`),
      concurrency: 1,
    });
    expect(sent.map((request) => request.url)).toEqual([
      `${BASE}:batchEmbedContents?prettyPrint=false`,
      `${BASE}:embedContent?prettyPrint=false`,
    ]);
  });
});

describe('re-normalization', () => {
  it('L2-normalizes vectors shorter than 3,072 values in place, exactly', async () => {
    const { model } = setup([
      { body: { embeddings: [{ values: values(128, [3, 4]) }, { values: values(128, [1, 2, 2]) }] } },
    ]);
    const { embeddings } = await embedMany({ model, inputs: ['a', 'b'], dimensions: 128 });
    expect(embeddings[0]).toEqual(Float32Array.from(values(128, [0.6, 0.8])));
    expect(embeddings[1]).toEqual(Float32Array.from(values(128, [1 / 3, 2 / 3, 2 / 3])));
    // Each vector owns an exactly sized buffer: keeping one keeps no other.
    expect(embeddings[0]!.buffer).not.toBe(embeddings[1]!.buffer);
    expect(embeddings[0]!.buffer.byteLength).toBe(128 * 4);
  });

  it('normalizes a realistic 768-value vector to unit length', async () => {
    const raw = Array.from({ length: 768 }, (_, index) => Math.sin(index * 12.9898) * 0.03);
    const { model } = setup([{ body: { embedding: { values: raw } } }]);
    const [vector] = (await embedMany({ model, inputs: ['a'], dimensions: 768 })).embeddings;
    const length = Math.hypot(...Float32Array.from(raw));
    vector!.forEach((value, index) => {
      expect(value).toBe(Math.fround(Math.fround(raw[index]!) / length));
    });
  });

  it('leaves 3,072-value vectors as the API sent them', async () => {
    const { model } = setup([{ body: { embedding: { values: values(3072, [3, 4]) } } }]);
    const [vector] = (await embedMany({ model, inputs: ['a'] })).embeddings;
    expect(Array.from(vector!.subarray(0, 3))).toEqual([3, 4, 0]);
  });

  it('providerOptions.gemini.normalize: false turns it off', async () => {
    const { model } = setup([{ body: { embedding: { values: values(128, [3, 4]) } } }]);
    const [vector] = (
      await embedMany({
        model,
        inputs: ['a'],
        dimensions: 128,
        providerOptions: { gemini: { normalize: false } },
      })
    ).embeddings;
    expect(Array.from(vector!.subarray(0, 3))).toEqual([3, 4, 0]);
  });

  it('rejects a response with a non-number value or the wrong vector count as InvalidResponseError', async () => {
    const broken = [
      { body: { embeddings: [{ values: values(128, [1]) }] } },
      { body: { embeddings: [{ values: [1, 'x'] }, { values: values(128, [1]) }] } },
      { body: { embedding: { values: values(128, [1]) } } },
    ];
    for (const reply of broken) {
      const { model } = setup([reply]);
      const error = await failure(model.doEmbed({ inputs: ['a', 'b'] }));
      expect(error.name).toBe('InvalidResponseError');
    }
  });
});

describe('float vectors read from the body bytes', () => {
  it('normalizes the values of a pretty-printed answer exactly as from JSON.parse (17-digit doubles included)', async () => {
    const texts = Array.from({ length: 256 }, (_, index) =>
      (Math.sin(index * 12.9898) * 0.05).toPrecision(index % 2 === 0 ? 17 : 9),
    );
    // The Gemini API indents its JSON; numbers sit on their own lines.
    const vector = `[\n        ${texts.join(',\n        ')}\n      ]`;
    const body = `{\n  "embeddings": [\n    {\n      "values": ${vector}\n    },\n    {\n      "values": ${vector}\n    }\n  ]\n}\n`;
    const { model } = setup([{ body }]);
    const { embeddings } = await embedMany({ model, inputs: ['a', 'b'], dimensions: 256 });
    const { numberArraysToVectors } = await import('@embedkit/core/provider');
    const parsed = JSON.parse(body).embeddings.map((item: { values: number[] }) => item.values);
    expect(embeddings).toEqual(numberArraysToVectors(parsed, 'float', { normalize: true }));
    // Each vector owns its bytes: keeping one keeps nothing else of the answer.
    expect(embeddings[0]!.buffer).not.toBe(embeddings[1]!.buffer);
    expect(embeddings[0]!.buffer.byteLength).toBe(256 * 4);
  });

  it('a value that overflows float32, or a malformed number, is an InvalidResponseError', async () => {
    // Each with the one message it must give: the overflow reads as Infinity, which the engine's one check
    // of every float refuses naming the vector, its position and the number as sent; a malformed number is refused by
    // JSON.parse, to which the fast path steps aside.
    const overflow = `{"embeddings":[{"values":[${values(3072, [0.5]).join(',')}]},{"values":[0.5,3.5e38${',0.5'.repeat(3070)}]}]}`;
    const { model: direct } = setup([{ body: overflow }]);
    expect(Array.from((await direct.doEmbed({ inputs: ['a', 'b'] })).embeddings[1]!.subarray(0, 3))).toEqual([
      0.5,
      Number.POSITIVE_INFINITY,
      0.5,
    ]);
    const { model: engine } = setup([{ body: overflow }]);
    const refused = await failure(embedMany({ model: engine, inputs: ['a', 'b'], maxRetries: 0 }));
    expect(refused.name).toBe('InvalidResponseError');
    expect(refused.message).toBe(
      'gemini returned vector 1 holding 3.5e+38 at position 1, not a finite number.',
    );
    const replies: [string, RegExp][] = [
      ['{"embeddings":[{"values":[0.5,0.25]},{"values":[0.5,-]}]}', /not valid JSON/],
      ['{"embedding":{"values":[0.5,00.25]}}', /not valid JSON/],
    ];
    for (const [body, message] of replies) {
      const { model } = setup([{ body }]);
      const inputs = body.startsWith('{"embedding"') ? ['a'] : ['a', 'b'];
      const error = await failure(model.doEmbed({ inputs }));
      expect(error.name, body).toBe('InvalidResponseError');
      expect(error.message, body).toMatch(message);
    }
  });
});

function status(code: number, state: string, message: string, details?: unknown[]) {
  return { error: { code, message, status: state, ...(details === undefined ? {} : { details }) } };
}

const RETRY_INFO = (delay: string) => ({
  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
  retryDelay: delay,
});
const QUOTA = (quotaId: string) => ({
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
  violations: [
    { quotaMetric: 'generativelanguage.googleapis.com/embed_content_free_tier_requests', quotaId },
  ],
});
const OK = { body: { embedding: { values: values(3072, [1]) } } };

describe('errors', () => {
  async function run(replies: FakeReply[], maxRetries = 3) {
    const { model, sent } = setup(replies);
    const clock = createFakeClock();
    const retries: RetryEvent[] = [];
    const outcome = await embedMany({
      model,
      inputs: ['x'],
      clock,
      maxRetries,
      onRetry: (event) => retries.push(event),
    }).then(
      (result) => ({ result, error: undefined }),
      (error: Error & Record<string, unknown>) => ({ result: undefined, error }),
    );
    return { ...outcome, sent, clock, retries };
  }

  it('a 200 carrying a google.rpc.Status is an InvalidResponseError with its message, on both endpoints', async () => {
    const status = {
      error: { code: 400, message: `API key not valid (${FAKE_KEY}).`, status: 'INVALID_ARGUMENT' },
    };
    for (const inputs of [['x'], ['x', 'y']]) {
      const { model } = setup([{ status: 200, body: status }]);
      const error = await failure(model.doEmbed({ inputs }));
      expect(error.name).toBe('InvalidResponseError');
      expect(error.statusCode).toBe(200);
      expect(error.providerCode).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('with an error instead of embeddings: API key not valid ([REDACTED]).');
      expect(JSON.stringify(error)).not.toContain(FAKE_KEY);
    }
  });

  it('400 API_KEY_INVALID is an AuthenticationError, not retried, without the key anywhere', async () => {
    const message = `API key not valid. Please pass a valid API key. (${FAKE_KEY})`;
    const { error, sent } = await run([
      {
        status: 400,
        body: status(400, 'INVALID_ARGUMENT', message, [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ]),
      },
    ]);
    expect(error?.name).toBe('AuthenticationError');
    expect(error?.code).toBe('authentication');
    expect(error?.statusCode).toBe(400);
    expect(error?.providerCode).toBe('API_KEY_INVALID');
    expect(error?.isRetryable).toBe(false);
    expect(sent).toHaveLength(1);
    for (const text of [error?.message, error?.responseBody, error?.url, JSON.stringify(error)])
      expect(String(text)).not.toContain(FAKE_KEY);
  });

  it('a plain 400 INVALID_ARGUMENT is an InvalidRequestError', async () => {
    const { error } = await run([
      { status: 400, body: status(400, 'INVALID_ARGUMENT', 'Invalid value at content') },
    ]);
    expect(error?.name).toBe('InvalidRequestError');
    expect(error?.providerCode).toBe('INVALID_ARGUMENT');
    expect(error?.message).toContain('Invalid value at content');
  });

  it('403 PERMISSION_DENIED is a PermissionDeniedError', async () => {
    const { error, sent } = await run([
      { status: 403, body: status(403, 'PERMISSION_DENIED', 'Method not allowed for this key.') },
    ]);
    expect(error?.name).toBe('PermissionDeniedError');
    expect(error?.code).toBe('permission_denied');
    expect(sent).toHaveLength(1);
  });

  it('404 for text-embedding-004 is a NotFoundError whose message says the model was retired', async () => {
    const { error } = await run([
      {
        status: 404,
        body: status(
          404,
          'NOT_FOUND',
          'models/text-embedding-004 is not found for API version v1beta, or is not supported for embedContent.',
        ),
      },
    ]);
    expect(error?.name).toBe('NotFoundError');
    expect(error?.statusCode).toBe(404);
    expect(error?.message).toMatch(/text-embedding-004 was retired on the Gemini API/);
    expect(error?.message).toMatch(/use gemini-embedding-001/);
  });

  it('404 for another model says it may be retired', async () => {
    const { error } = await run([
      {
        status: 404,
        body: status(404, 'NOT_FOUND', 'models/embedding-gecko-001 is not found for API version v1beta.'),
      },
    ]);
    expect(error?.name).toBe('NotFoundError');
    expect(error?.message).toMatch(/models\/embedding-gecko-001 is not served by this API version/);
  });

  it.each([
    ['11s', 11_000],
    ['0.5s', 500],
    ['1.250s', 1_250],
  ])('429 waits RetryInfo.retryDelay %s (%i ms) and retries', async (delay, milliseconds) => {
    const { result, sent, clock, retries } = await run([
      {
        status: 429,
        body: status(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', [
          QUOTA('EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier'),
          RETRY_INFO(delay),
        ]),
      },
      OK,
    ]);
    expect(result?.embeddings).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(clock.sleeps).toEqual([milliseconds]);
    expect((retries[0]!.error as { retryAfterMs?: number }).retryAfterMs).toBe(milliseconds);
  });

  it('429 without RetryInfo takes the wait from "Please retry in …s." in the message', async () => {
    const { clock } = await run([
      {
        status: 429,
        body: status(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota. Please retry in 2.5s.'),
      },
      OK,
    ]);
    expect(clock.sleeps).toEqual([2_500]);
  });

  it('a Retry-After header wins over RetryInfo', async () => {
    const { clock } = await run([
      {
        status: 429,
        headers: { 'retry-after': '3' },
        body: status(429, 'RESOURCE_EXHAUSTED', 'Slow down.', [RETRY_INFO('11s')]),
      },
      OK,
    ]);
    expect(clock.sleeps).toEqual([3_000]);
  });

  it('429 whose QuotaFailure names a per-day quota is quotaExhausted and not retried', async () => {
    const { error, sent } = await run([
      {
        status: 429,
        body: status(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', [
          QUOTA('EmbedContentRequestsPerDayPerProjectPerModel-FreeTier'),
          RETRY_INFO('35s'),
        ]),
      },
    ]);
    expect(error?.name).toBe('RateLimitError');
    expect(error?.quotaExhausted).toBe(true);
    expect(error?.isRetryable).toBe(false);
    expect(error?.retryAfterMs).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('500, 503 and 504 are retried', async () => {
    const { result, sent } = await run([
      { status: 500, body: status(500, 'INTERNAL', 'An internal error has occurred.') },
      { status: 503, body: status(503, 'UNAVAILABLE', 'The model is overloaded.') },
      { status: 504, body: status(504, 'DEADLINE_EXCEEDED', 'Deadline exceeded.') },
      OK,
    ]);
    expect(result?.embeddings).toHaveLength(1);
    expect(sent).toHaveLength(4);
  });

  it('"at most 100 requests can be in one batch" makes the engine bisect', async () => {
    const { model, sent } = setup((request, index) =>
      index === 0
        ? {
            status: 400,
            body: status(
              400,
              'INVALID_ARGUMENT',
              '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch',
            ),
          }
        : echo(() => values(3072, [1]))(request),
    );
    const result = await embedMany({ model, inputs: ['a', 'b', 'c', 'd'], concurrency: 1 });
    expect(result.embeddings).toHaveLength(4);
    expect(sent.map((request) => (request.body as { requests: unknown[] }).requests.length)).toEqual([
      4, 2, 2,
    ]);
  });
});

describe('parseGeminiError', () => {
  it('reads reason, wait, quota and the request index', () => {
    expect(
      parseGeminiError(
        status(400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests[3].content: must not be empty'),
        400,
      ),
    ).toEqual({
      message: '* BatchEmbedContentsRequest.requests[3].content: must not be empty',
      providerCode: 'INVALID_ARGUMENT',
      inputIndex: 3,
    });
    expect(
      parseGeminiError(
        status(429, 'RESOURCE_EXHAUSTED', 'Quota.', [
          QUOTA('GenerateRequestsPerDayPerProjectPerModel'),
          RETRY_INFO('0.5s'),
        ]),
        429,
      ),
    ).toEqual({
      message: 'Quota.',
      providerCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 500,
      quotaExhausted: true,
      hint: 'A per-day quota of the project is used up; the Gemini API resets per-day quotas at midnight Pacific time: wait for the reset, or raise the project’s usage tier in Google AI Studio; retrying sooner will not help.',
    });
  });

  it('accepts the array-wrapped form and ignores bodies that are not a Status', () => {
    expect(parseGeminiError([status(503, 'UNAVAILABLE', 'Overloaded.')], 503)).toEqual({
      message: 'Overloaded.',
      providerCode: 'UNAVAILABLE',
    });
    expect(parseGeminiError({ detail: 'nope' }, 400)).toEqual({});
    expect(parseGeminiError('text', 400)).toEqual({});
  });
});
