import {
  AuthenticationError,
  type EmbeddingModel,
  type EmbedRequest,
  embedMany,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  RateLimitError,
} from '@embedkit/core';
import { checkEmbedRequest, type FetchFunction, VERSION } from '@embedkit/core/provider';
import { recordingClock } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createOpenAI,
  createOpenAICompatible,
  OPENAI_MODELS,
  type OpenAIProviderSettings,
  openai,
  parseOpenAIError,
} from '../src/index.js';

// Fake key material only: nothing here is shaped like a real OpenAI key.
const KEY = 'test-key-openai-0a1b2c3d4e5f';

// The documented example: these four float32 values, little-endian, are this base64 string.
const EXAMPLE_BASE64 = 'ZicXO4DRGLxwaYE8OAU9uw==';
const EXAMPLE_VALUES = [0.0023064255, -0.009327292, 0.015797347, -0.0028842222];

interface SentRequest {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  /** The raw JSON text, to check the exact bytes once. */
  text: string;
  body: unknown;
}

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** A `fetch` that records every request and answers from `replies` in order (the last one repeats). */
function recordingFetch(...replies: Reply[]): { fetch: FetchFunction; requests: SentRequest[] } {
  const requests: SentRequest[] = [];
  const fetch: FetchFunction = async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const text = String(init.body);
    requests.push({ url, method: init.method, headers, text, body: JSON.parse(text) });
    const reply = replies[Math.min(requests.length - 1, replies.length - 1)]!;
    return new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  return { fetch, requests };
}

/** A success body in OpenAI's shape: each `[index, embedding]` pair in the order given. */
function success(
  items: [number, string | number[]][],
  options: { model?: string; usage?: unknown } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    object: 'list',
    data: items.map(([index, embedding]) => ({ object: 'embedding', index, embedding })),
    model: options.model ?? 'text-embedding-3-small',
  };
  if (options.usage !== null) body.usage = options.usage ?? { prompt_tokens: 8, total_tokens: 8 };
  return body;
}

/** A success body of `count` float vectors `[i, i + 0.5]`, in input order. */
function floats(count: number): Record<string, unknown> {
  return success(
    Array.from({ length: count }, (_, index) => [index, [index, index + 0.5]] as [number, number[]]),
  );
}

function openAIError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function model(settings: OpenAIProviderSettings, modelId = 'text-embedding-3-small') {
  return createOpenAI({ apiKey: KEY, ...settings }).embedding(modelId);
}

function request(inputs: string[], extra: Partial<EmbedRequest> = {}): EmbedRequest {
  return { inputs, ...extra };
}

/** Awaits a promise that must reject and returns the reason. */
async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return promise.then(
    () => expect.unreachable('the call had to fail'),
    (error: unknown) => error as Error & Record<string, unknown>,
  );
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('request', () => {
  it('sends model, the input array and encoding_format "base64" by default, as exact JSON', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(2) });
    await model({ fetch }).doEmbed(request(['The cat sat on the mat', 'Dogs are loyal companions']));
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('https://api.openai.com/v1/embeddings');
    expect(requests[0]!.method).toBe('POST');
    expect(requests[0]!.text).toBe(
      '{"model":"text-embedding-3-small","input":["The cat sat on the mat","Dogs are loyal companions"],"encoding_format":"base64"}',
    );
  });

  it('sends a single input as a one-element array, and { text } inputs as their text', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(2) });
    await model({ fetch }).doEmbed({ inputs: ['one', { text: 'two' }] });
    expect(requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-small',
      input: ['one', 'two'],
      encoding_format: 'base64',
    });
  });

  it('rejects an image input before sending: OpenAI embeddings are text only', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const error = await rejection(
      model({ fetch }).doEmbed({ inputs: [{ image: 'https://example.com/cat.png' }] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe('inputs[0]');
    expect(requests).toHaveLength(0);
  });

  it('sends encoding_format "float" when the provider is created with encodingFormat: "float"', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({ fetch, encodingFormat: 'float' }).doEmbed(request(['pets and animals']));
    expect(requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-small',
      input: ['pets and animals'],
      encoding_format: 'float',
    });
  });

  it('maps dimensions to the API field and providerOptions.openai.user to user', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({ fetch }, 'text-embedding-3-large').doEmbed(
      request(['pets and animals'], { dimensions: 2, providerOptions: { openai: { user: 'user-1234' } } }),
    );
    expect(requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-large',
      input: ['pets and animals'],
      encoding_format: 'base64',
      dimensions: 2,
      user: 'user-1234',
    });
  });

  it('sends dimensions and user through embedMany too', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await embedMany({
      model: model({ fetch }),
      inputs: ['pets and animals'],
      dimensions: 2,
      providerOptions: { openai: { user: 'user-42' } },
    });
    expect(requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-small',
      input: ['pets and animals'],
      encoding_format: 'base64',
      dimensions: 2,
      user: 'user-42',
    });
  });

  it('sends the Bearer key, organization, project, custom and per-call headers, and the embedkit user agent', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({
      fetch,
      organization: 'org-test-000',
      project: 'proj_test_000',
      headers: { 'x-team': 'search' },
    }).doEmbed(request(['hello'], { headers: { 'x-trace-id': 'trace-1' } }));
    expect(requests[0]!.headers).toStrictEqual({
      accept: 'application/json',
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'openai-organization': 'org-test-000',
      'openai-project': 'proj_test_000',
      'user-agent': `embedkit/${VERSION}`,
      'x-team': 'search',
      'x-trace-id': 'trace-1',
    });
    expect(requests[0]!.headers['user-agent']).toMatch(/^embedkit\/\S+$/);
  });

  it('sends no organization or project header unless they are set', async () => {
    // Neither is set: not by the settings, nor by the variables a developer's shell may hold.
    vi.stubEnv('OPENAI_ORG_ID', '');
    vi.stubEnv('OPENAI_PROJECT_ID', '');
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({ fetch }).doEmbed(request(['hello']));
    expect(Object.keys(requests[0]!.headers).sort()).toEqual([
      'accept',
      'authorization',
      'content-type',
      'user-agent',
    ]);
  });

  it.each([
    ['http://localhost:8080/v1', 'http://localhost:8080/v1/embeddings'],
    ['http://localhost:8080/v1/', 'http://localhost:8080/v1/embeddings'],
    ['https://gateway.example.com/openai/v1//', 'https://gateway.example.com/openai/v1/embeddings'],
  ])('baseURL %s posts to %s', async (baseURL, url) => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({ fetch, baseURL }).doEmbed(request(['hello']));
    expect(requests[0]!.url).toBe(url);
  });
});

describe('API key', () => {
  it('reads OPENAI_API_KEY when a call is made, not when the provider is created', async () => {
    vi.stubEnv('OPENAI_API_KEY', undefined);
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const embedding = createOpenAI({ fetch }).embedding('text-embedding-3-small');
    vi.stubEnv('OPENAI_API_KEY', 'test-key-from-env-1');
    await embedding.doEmbed(request(['hello']));
    vi.stubEnv('OPENAI_API_KEY', 'test-key-from-env-2');
    await embedding.doEmbed(request(['hello']));
    expect(requests.map((sent) => sent.headers.authorization)).toEqual([
      'Bearer test-key-from-env-1',
      'Bearer test-key-from-env-2',
    ]);
  });

  it('an explicit apiKey wins over OPENAI_API_KEY', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'test-key-from-env');
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({ fetch }).doEmbed(request(['hello']));
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('a missing key is an InvalidArgumentError naming OPENAI_API_KEY, and nothing is sent', async () => {
    vi.stubEnv('OPENAI_API_KEY', undefined);
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const error = await rejection(
      embedMany({ model: createOpenAI({ fetch }).embedding('text-embedding-3-small'), inputs: ['hello'] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('OPENAI_API_KEY');
    expect(requests).toHaveLength(0);
  });

  it('the key never appears in an error message or body excerpt', async () => {
    const { fetch } = recordingFetch({
      status: 401,
      body: openAIError(`Incorrect API key provided: ${KEY}.`, 'invalid_request_error', 'invalid_api_key'),
    });
    const error = await rejection(model({ fetch }).doEmbed(request(['hello'])));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).not.toContain(KEY);
    expect(String(error.responseBody)).not.toContain(KEY);
  });
});

describe('capabilities', () => {
  const limits = { maxInputsPerCall: 2048, maxTokensPerCall: 300_000, maxTokensPerInput: 8192 };
  const textOnly = {
    inputTypes: [],
    outputTypes: ['float'],
    modalities: ['text'],
    normalized: true,
    supportsParallelCalls: true,
  };

  it('text-embedding-3-small: 1536 by default, any length from 1 to 1536', () => {
    expect(openai.embedding('text-embedding-3-small').capabilities).toStrictEqual({
      ...limits,
      ...textOnly,
      defaultDimensions: 1536,
      dimensions: { min: 1, max: 1536 },
    });
  });

  it('text-embedding-3-large: 3072 by default, any length from 1 to 3072', () => {
    expect(openai.embedding('text-embedding-3-large').capabilities).toStrictEqual({
      ...limits,
      ...textOnly,
      defaultDimensions: 3072,
      dimensions: { min: 1, max: 3072 },
    });
  });

  it('text-embedding-ada-002: fixed at 1536, no dimensions option', () => {
    expect(openai.embedding('text-embedding-ada-002').capabilities).toStrictEqual({
      ...limits,
      ...textOnly,
      defaultDimensions: 1536,
    });
  });

  it('an unknown id keeps the request limits, allows dimensions, and promises no default length', () => {
    expect(openai.embedding('text-embedding-4-preview').capabilities).toStrictEqual({
      ...limits,
      ...textOnly,
      dimensions: { min: 1, max: 3072 },
    });
  });

  it('OPENAI_MODELS lists exactly the three known models', () => {
    expect(Object.keys(OPENAI_MODELS).sort()).toEqual([
      'text-embedding-3-large',
      'text-embedding-3-small',
      'text-embedding-ada-002',
    ]);
  });

  it('the default provider is named openai and keeps the model id', () => {
    const embedding = openai.embedding('text-embedding-3-small');
    expect(embedding.provider).toBe('openai');
    expect(embedding.modelId).toBe('text-embedding-3-small');
    expect(embedding.specificationVersion).toBe('v1');
  });

  it('ada-002 with dimensions is an InvalidArgumentError before anything is sent (embedMany)', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const error = await rejection(
      embedMany({ model: model({ fetch }, 'text-embedding-ada-002'), inputs: ['hello'], dimensions: 512 }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe('dimensions');
    expect(requests).toHaveLength(0);
  });

  it('ada-002 with dimensions is refused by the engine, and by checkEmbedRequest for a direct doEmbed caller', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const ada = model({ fetch }, 'text-embedding-ada-002');
    const error = await rejection(embedMany({ model: ada, inputs: ['hello'], dimensions: 512 }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe('dimensions');
    expect(() => checkEmbedRequest(ada, request(['hello'], { dimensions: 512 }))).toThrowError(
      expect.objectContaining({ name: 'InvalidArgumentError', argument: 'dimensions' }),
    );
    expect(requests).toHaveLength(0);
  });

  it('3-small with dimensions 1537 is an InvalidArgumentError before sending', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const error = await rejection(
      embedMany({ model: model({ fetch }), inputs: ['hello'], dimensions: 1537 }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(requests).toHaveLength(0);
  });

  it('a non-float output type is refused before sending', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const error = await rejection(
      embedMany({ model: model({ fetch }), inputs: ['hello'], outputType: 'int8' }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe('outputType');
    expect(requests).toHaveLength(0);
  });
});

describe('response', () => {
  it('decodes the documented base64 example into exactly those float32 values', async () => {
    const { fetch } = recordingFetch({ body: success([[0, EXAMPLE_BASE64]]) });
    const result = await model({ fetch }).doEmbed(request(['hello'], { dimensions: 4 }));
    const vector = result.embeddings[0]!;
    expect(vector).toBeInstanceOf(Float32Array);
    expect(Array.from(vector)).toEqual(EXAMPLE_VALUES.map(Math.fround));
  });

  it('takes float arrays as float32 values', async () => {
    const { fetch } = recordingFetch({ body: success([[0, [0.1, -0.25, 1e-7]]]) });
    const result = await model({ fetch, encodingFormat: 'float' }).doEmbed(request(['hello']));
    expect(result.embeddings[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(result.embeddings[0]!)).toEqual([Math.fround(0.1), -0.25, Math.fround(1e-7)]);
  });

  it('takes a float array answering a base64 request as floats, not as base64', async () => {
    const { fetch, requests } = recordingFetch({ body: success([[0, EXAMPLE_VALUES]]) });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect((requests[0]!.body as { encoding_format: string }).encoding_format).toBe('base64');
    expect(Array.from(result.embeddings[0]!)).toEqual(EXAMPLE_VALUES.map(Math.fround));
  });

  it('places each vector by its index, whatever order data arrives in', async () => {
    const { fetch } = recordingFetch({
      body: success([
        [2, [2, 2.5]],
        [0, [0, 0.5]],
        [1, [1, 1.5]],
      ]),
    });
    const result = await model({ fetch }).doEmbed(request(['a', 'b', 'c']));
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([
      [0, 0.5],
      [1, 1.5],
      [2, 2.5],
    ]);
  });

  it('decodes a response that mixes base64 and float items, each by its own kind', async () => {
    const { fetch } = recordingFetch({
      body: success([
        [1, EXAMPLE_VALUES],
        [0, EXAMPLE_BASE64],
      ]),
    });
    const result = await model({ fetch }).doEmbed(request(['a', 'b']));
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([
      EXAMPLE_VALUES.map(Math.fround),
      EXAMPLE_VALUES.map(Math.fround),
    ]);
    expect(result.embeddings.every((vector) => vector instanceof Float32Array)).toBe(true);
  });

  it.each<[string, unknown, number]>([
    [
      'a duplicate index',
      success([
        [0, [1]],
        [0, [2]],
      ]),
      2,
    ],
    [
      'an index out of range',
      success([
        [0, [1]],
        [2, [2]],
      ]),
      2,
    ],
    ['a negative index', success([[-1, [1]]]), 1],
    ['one vector for two inputs', success([[0, [1]]]), 2],
    [
      'no data',
      { object: 'list', model: 'text-embedding-3-small', usage: { prompt_tokens: 1, total_tokens: 1 } },
      1,
    ],
    [
      'a vector that is neither a string nor an array',
      success([[0, { values: [1] } as unknown as number[]]]),
      1,
    ],
    ['a non-number in a float vector', success([[0, [0.5, 'x'] as unknown as number[]]]), 1],
    ['base64 that is not whole float32 values', success([[0, 'AAAA']]), 1],
  ])('%s is an InvalidResponseError', async (_name, body, inputCount) => {
    const { fetch } = recordingFetch({ body });
    const inputs = ['a', 'b'].slice(0, inputCount);
    const error = await rejection(model({ fetch }).doEmbed(request(inputs)));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.code).toBe('invalid_response');
  });

  it('maps usage.prompt_tokens to usage.inputTokens', async () => {
    const { fetch } = recordingFetch({
      body: success([[0, [1]]], { usage: { prompt_tokens: 11, total_tokens: 11 } }),
    });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect(result.usage).toStrictEqual({ inputTokens: 11 });
  });

  it('leaves usage out when the server sends none', async () => {
    const { fetch } = recordingFetch({ body: success([[0, [1]]], { usage: null }) });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect('usage' in result).toBe(false);
  });

  it('leaves usage out when the server sends usage: null', async () => {
    const body = success([[0, [1]]]);
    body.usage = null;
    const { fetch } = recordingFetch({ body });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect('usage' in result).toBe(false);
  });

  it.each([
    ['total_tokens only', { total_tokens: 6 }, { inputTokens: 6 }],
    ['a prompt_tokens that is no count', { prompt_tokens: null, total_tokens: 6 }, { inputTokens: 6 }],
    ['an empty object', {}, undefined],
    ['a string', 'n/a', undefined],
  ])('usage with %s keeps the vectors (it used to fail the whole answer)', async (_what, usage, expected) => {
    const { fetch } = recordingFetch({ body: success([[0, [1, 2]]], { usage }) });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect(result.embeddings).toEqual([new Float32Array([1, 2])]);
    expect(result.usage).toStrictEqual(expected);
  });

  it('embedMany reports no usage (never 0 or NaN) when a server sends none', async () => {
    const { fetch } = recordingFetch({ body: success([[0, [1, 2]]], { usage: null }) });
    const result = await embedMany({ model: model({ fetch }), inputs: ['hello'], dimensions: 2 });
    expect(result.embeddings).toHaveLength(1);
    expect(result.usage).toBeUndefined();
  });

  it('reports the served model, the x-request-id, the status and the headers', async () => {
    const { fetch } = recordingFetch({
      headers: { 'x-request-id': 'req_0123456789abcdef', 'openai-processing-ms': '41' },
      body: success([[0, [1]]], { model: 'text-embedding-3-small-v2' }),
    });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect(result.response.modelId).toBe('text-embedding-3-small-v2');
    expect(result.response.requestId).toBe('req_0123456789abcdef');
    expect(result.response.status).toBe(200);
    expect(result.response.headers['openai-processing-ms']).toBe('41');
    expect(result.warnings).toEqual([]);
  });

  it('leaves modelId and requestId out when the server sends neither', async () => {
    const { fetch } = recordingFetch({ body: { data: [{ index: 0, embedding: [1] }] } });
    const result = await model({ fetch }).doEmbed(request(['hello']));
    expect('modelId' in result.response).toBe(false);
    expect('requestId' in result.response).toBe(false);
  });
});

describe('float vectors read from the body bytes', () => {
  // Written as servers write them: shortest float32 text, 17-digit doubles (Python servers), exponents, -0.
  const TEXTS = [
    '-0.012345678',
    '0.012345678918063641',
    '1.5e-7',
    '-2E+2',
    '-0',
    '0.1000000000000000055511151231257827',
  ];

  it('reads a float answer, each value Math.fround of what JSON.parse reads, by index, each vector in its own buffer', async () => {
    const body = `{"object":"list","data":[${[2, 0, 1]
      .map((index) => `{"object":"embedding","index":${index},"embedding":[${TEXTS.join(', ')}, ${index}]}`)
      .join(',')}],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}`;
    const { fetch } = recordingFetch({ body });
    // JSON.parse reads only the envelope: the digits are read from the bytes (bug: the whole body parsed).
    const parse = vi.spyOn(JSON, 'parse');
    let result: Awaited<ReturnType<ReturnType<typeof model>['doEmbed']>>;
    try {
      result = await model({ fetch, encodingFormat: 'float' }).doEmbed(request(['a', 'b', 'c']));
      const parsedTexts = parse.mock.calls.map(([text]) => String(text));
      expect(parsedTexts.some((text) => text.includes('"usage"'))).toBe(true);
      expect(parsedTexts.filter((text) => text.includes('0.012345678'))).toEqual([]);
    } finally {
      parse.mockRestore();
    }
    const expected = (index: number) => [...TEXTS.map((text) => Math.fround(JSON.parse(text))), index];
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([
      expected(0),
      expected(1),
      expected(2),
    ]);
    expect(Object.is(result.embeddings[0]![4], -0)).toBe(true);
    expect(result.embeddings[0]!.buffer).not.toBe(result.embeddings[2]!.buffer);
    expect(result.embeddings[0]!.buffer.byteLength).toBe((TEXTS.length + 1) * 4);
    expect(result.usage).toEqual({ inputTokens: 3 });
  });

  it('a value that overflows float32 is an InvalidResponseError naming the vector and the answer', async () => {
    const { fetch } = recordingFetch({
      body: success([
        [0, [0.5, 0.25]],
        [1, [0.5, 1e39]],
      ]),
      headers: { 'x-request-id': 'req-overflow' },
    });
    // The decode hands the value on; the engine's one check of every float refuses it, quoting it as sent.
    const inputs = ['a', 'b'];
    expect((await model({ fetch, encodingFormat: 'float' }).doEmbed(request(inputs))).embeddings[1]).toEqual(
      Float32Array.of(0.5, Number.POSITIVE_INFINITY),
    );
    const error = await rejection(
      embedMany({ model: model({ fetch, encodingFormat: 'float' }), inputs, dimensions: 2, maxRetries: 0 }),
    );
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe('openai returned vector 1 holding 1e+39 at position 1, not a finite number.');
    // Which answer was bad: what a support request needs (before, neither was set).
    expect([error.provider, error.statusCode, error.requestId]).toEqual(['openai', 200, 'req-overflow']);
  });

  it('a malformed number is an InvalidResponseError, never a value', async () => {
    for (const bad of ['01', '1.', '.5', 'NaN', '1e']) {
      const { fetch } = recordingFetch({
        body: `{"data":[{"index":0,"embedding":[0.5,${bad}]}],"model":"m"}`,
      });
      const error = await rejection(model({ fetch, encodingFormat: 'float' }).doEmbed(request(['a'])));
      expect(error, bad).toBeInstanceOf(InvalidResponseError);
      expect(error.message).toMatch(/not valid JSON/);
    }
  });
});

describe('parseOpenAIError', () => {
  it('invalid_api_key: the message and the code', () => {
    const message =
      'Incorrect API key provided: test-key****cdef. You can find your API key at https://platform.openai.com/account/api-keys.';
    expect(parseOpenAIError(openAIError(message, 'invalid_request_error', 'invalid_api_key'))).toStrictEqual({
      message,
      providerCode: 'invalid_api_key',
    });
  });

  it('insufficient_quota is a used-up quota', () => {
    const message = 'You exceeded your current quota, please check your plan and billing details.';
    expect(parseOpenAIError(openAIError(message, 'insufficient_quota', 'insufficient_quota'))).toStrictEqual({
      message,
      providerCode: 'insufficient_quota',
      quotaExhausted: true,
    });
  });

  it('max_tokens_per_request marks the batch as too large', () => {
    const message = 'Requested 453357 tokens, max 300000 tokens per request';
    expect(
      parseOpenAIError(openAIError(message, 'max_tokens_per_request', 'max_tokens_per_request')),
    ).toStrictEqual({ message, providerCode: 'max_tokens_per_request', batchTooLarge: true });
  });

  it('"Invalid \'input[3]\'" names input 3', () => {
    const message = "Invalid 'input[3]': maximum input length is 8192 tokens.";
    expect(parseOpenAIError(openAIError(message, 'invalid_request_error', null, 'input'))).toStrictEqual({
      message,
      providerCode: 'invalid_request_error',
      inputIndex: 3,
    });
  });

  it('"Please try again in 2.812s" is a 2,812 ms wait; "in 20ms" is 20 ms', () => {
    const message =
      'Rate limit reached for text-embedding-3-small in organization org-test on tokens per min (TPM): Limit 1000000, Used 976163, Requested 70716. Please try again in 2.812s. Visit https://platform.openai.com/account/rate-limits to learn more.';
    expect(parseOpenAIError(openAIError(message, 'tokens', 'rate_limit_exceeded'))).toStrictEqual({
      message,
      providerCode: 'rate_limit_exceeded',
      retryAfterMs: 2812,
    });
    expect(
      parseOpenAIError(openAIError('Please try again in 20ms.', 'requests', 'rate_limit_exceeded'))
        .retryAfterMs,
    ).toBe(20);
  });

  it('"Please try again in 7m12s" (a per-day limit) is a 432,000 ms wait', () => {
    // OpenAI writes longer waits as Go durations; this exact message is quoted from live 429s in
    // openai/codex#797. Without the hint the engine backs off for about a second and spends its retries.
    const message =
      'Rate limit reached for text-embedding-3-small in organization org-test on requests per day (RPD): Limit 200, Used 200, Requested 1. Please try again in 7m12s. Visit https://platform.openai.com/account/rate-limits to learn more.';
    expect(parseOpenAIError(openAIError(message, 'requests', 'rate_limit_exceeded')).retryAfterMs).toBe(
      432_000,
    );
    expect(
      parseOpenAIError(openAIError('Please try again in 1m30.5s.', 'tokens', 'rate_limit_exceeded'))
        .retryAfterMs,
    ).toBe(90_500);
  });

  it('falls back to the type when code is null, and stringifies a numeric code', () => {
    expect(parseOpenAIError(openAIError('The server had an error', 'server_error', null))).toStrictEqual({
      message: 'The server had an error',
      providerCode: 'server_error',
    });
    expect(parseOpenAIError({ error: { message: 'Bad request', code: 400 } })).toStrictEqual({
      message: 'Bad request',
      providerCode: '400',
    });
  });

  it('reads a string error body (TEI, Ollama)', () => {
    expect(
      parseOpenAIError({ error: 'model "nomic-embed-text" not found, try pulling it first' }),
    ).toStrictEqual({
      message: 'model "nomic-embed-text" not found, try pulling it first',
    });
  });

  it.each([
    [
      'a top-level message (older vLLM)',
      { object: 'error', message: 'Model too busy', code: 503 },
      { message: 'Model too busy' },
    ],
    ['a detail field', { detail: 'Not authenticated' }, { message: 'Not authenticated' }],
    ['an unrelated object', { status: 'failed' }, {}],
    ['null', null, {}],
    ['a number', 42, {}],
    ['an array', [1, 2], {}],
  ])('reads what it can from %s, and nothing more', (_name, body, expected) => {
    expect(parseOpenAIError(body)).toStrictEqual(expected);
  });
});

describe('errors through HTTP', () => {
  it('a 200 carrying an OpenAI error body is an InvalidResponseError with the server message and code', async () => {
    const { fetch } = recordingFetch({
      status: 200,
      body: openAIError(`Incorrect API key provided: ${KEY}.`, 'invalid_request_error', 'invalid_api_key'),
    });
    const error = await rejection(model({ fetch }).doEmbed(request(['hello'])));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.statusCode).toBe(200);
    expect(error.providerCode).toBe('invalid_api_key');
    expect(error.message).toContain(
      'with an error instead of embeddings: Incorrect API key provided: [REDACTED].',
    );
    expect(JSON.stringify(error)).not.toContain(KEY);
  });

  it('401 invalid_api_key is an AuthenticationError carrying the code and request id, not retried', async () => {
    const { fetch, requests } = recordingFetch({
      status: 401,
      headers: { 'x-request-id': 'req_401' },
      body: openAIError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
    });
    const error = await rejection(
      embedMany({ model: model({ fetch }), inputs: ['hello'], maxRetries: 3, clock: recordingClock() }),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.code).toBe('authentication');
    expect(error.statusCode).toBe(401);
    expect(error.providerCode).toBe('invalid_api_key');
    expect(error.requestId).toBe('req_401');
    expect(error.provider).toBe('openai');
    expect(requests).toHaveLength(1);
  });

  it('429 insufficient_quota is a RateLimitError with quotaExhausted, not retried', async () => {
    const clock = recordingClock();
    const { fetch, requests } = recordingFetch({
      status: 429,
      body: openAIError('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota'),
    });
    const error = await rejection(
      embedMany({ model: model({ fetch }), inputs: ['hello'], maxRetries: 3, clock }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.quotaExhausted).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('429 rate_limit_exceeded without a header waits the time the message names, then succeeds', async () => {
    const clock = recordingClock();
    const { fetch, requests } = recordingFetch(
      {
        status: 429,
        body: openAIError('Rate limit reached. Please try again in 2.812s.', 'tokens', 'rate_limit_exceeded'),
      },
      { body: floats(1) },
    );
    const result = await embedMany({
      model: model({ fetch }),
      inputs: ['hello'],
      dimensions: 2,
      maxRetries: 1,
      clock,
    });
    expect(requests).toHaveLength(2);
    expect(clock.sleeps).toContain(2812);
    expect(Array.from(result.embeddings[0]!)).toEqual([0, 0.5]);
  });

  it('a retry-after header wins over the wait in the message', async () => {
    const clock = recordingClock();
    const { fetch } = recordingFetch(
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: openAIError('Rate limit reached. Please try again in 2.812s.', 'tokens', 'rate_limit_exceeded'),
      },
      { body: floats(1) },
    );
    await embedMany({ model: model({ fetch }), inputs: ['hello'], dimensions: 2, maxRetries: 1, clock });
    expect(clock.sleeps).toContain(1000);
    expect(clock.sleeps).not.toContain(2812);
  });

  it('400 max_tokens_per_request is an InvalidRequestError marked batchTooLarge', async () => {
    const { fetch } = recordingFetch({
      status: 400,
      body: openAIError(
        'Requested 453357 tokens, max 300000 tokens per request',
        'max_tokens_per_request',
        'max_tokens_per_request',
      ),
    });
    const error = await rejection(model({ fetch }).doEmbed(request(['a', 'b'])));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.batchTooLarge).toBe(true);
  });

  it('embedMany bisects a call the API calls too large and keeps input order', async () => {
    const { fetch, requests } = recordingFetch(
      {
        status: 400,
        body: openAIError(
          'Requested 301000 tokens, max 300000 tokens per request',
          'max_tokens_per_request',
          'max_tokens_per_request',
        ),
      },
      { body: success([[0, [1]]], { usage: { prompt_tokens: 3, total_tokens: 3 } }) },
      { body: success([[0, [2]]], { usage: { prompt_tokens: 4, total_tokens: 4 } }) },
    );
    const result = await embedMany({
      model: model({ fetch }),
      inputs: ['first', 'second'],
      dimensions: 1,
      clock: recordingClock(),
    });
    expect(requests.map((sent) => (sent.body as { input: string[] }).input)).toEqual([
      ['first', 'second'],
      ['first'],
      ['second'],
    ]);
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual([[1], [2]]);
    expect(result.usage).toStrictEqual({ inputTokens: 7 });
  });

  it("400 naming 'input[1]' in the second call of a job points at input 3 of the whole job", async () => {
    const { fetch } = recordingFetch(
      { body: floats(2) },
      {
        status: 400,
        body: openAIError(
          "Invalid 'input[1]': maximum input length is 8192 tokens.",
          'invalid_request_error',
          null,
          'input',
        ),
      },
    );
    const error = await rejection(
      embedMany({
        model: model({ fetch }),
        inputs: ['a', 'b', 'c', 'd'],
        dimensions: 2,
        maxInputsPerCall: 2,
        concurrency: 1,
        clock: recordingClock(),
      }),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.inputIndex).toBe(3);
    expect(error.statusCode).toBe(400);
  });
});

describe('providerOptions and unsupported settings', () => {
  it.each([
    ['a non-string user', { user: 42 }],
    ['an empty user', { user: '' }],
    ['an unknown option', { encoding_format: 'float' }],
  ])('%s is an InvalidArgumentError before sending', async (_name, options) => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    // Typed as the bare contract: the compiler refuses these options for an OpenAI model, and this is the
    // check a caller without types (or with options typed loosely) meets.
    const loose: EmbeddingModel = model({ fetch });
    const error = await rejection(
      embedMany({ model: loose, inputs: ['hello'], providerOptions: { openai: options } }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe('providerOptions.openai');
    expect(requests).toHaveLength(0);
  });

  it('says what is wrong with an option in words', async () => {
    const { fetch } = recordingFetch({ body: floats(1) });
    const messages: string[] = [];
    // Typed as the bare contract: the compiler refuses these options for an OpenAI model, and this is the
    // check a caller without types (or with options typed loosely) meets.
    const loose: EmbeddingModel = model({ fetch });
    for (const options of [{ user: 42 }, { user: '' }, { encoding_format: 'float' }]) {
      const error = await rejection(
        embedMany({ model: loose, inputs: ['hello'], providerOptions: { openai: options } }),
      );
      messages.push(error.message);
    }
    expect(messages).toEqual([
      'providerOptions.openai is invalid: user: expected string, got number.',
      'providerOptions.openai is invalid: user: must not be empty.',
      'providerOptions.openai is invalid: (root): unknown key "encoding_format".',
    ]);
  });

  it('options for another provider are ignored', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    await model({ fetch }).doEmbed(
      request(['hello'], { providerOptions: { voyage: { input_type: 'query' } } }),
    );
    expect(requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-small',
      input: ['hello'],
      encoding_format: 'base64',
    });
  });

  it('truncate and inputType are not sent and each produces a warning', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const result = await model({ fetch }).doEmbed(request(['hello'], { truncate: true, inputType: 'query' }));
    expect(requests[0]!.body).toStrictEqual({
      model: 'text-embedding-3-small',
      input: ['hello'],
      encoding_format: 'base64',
    });
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'unsupported-setting', setting: 'truncate' }),
        expect.objectContaining({ type: 'unsupported-setting', setting: 'inputType' }),
      ]),
    );
  });

  it('embedMany passes the truncate warning on, once, and sends no input type', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(1) });
    const result = await embedMany({
      model: model({ fetch }),
      inputs: ['a', 'b'],
      dimensions: 2,
      maxInputsPerCall: 1,
      truncate: true,
      inputType: 'query',
    });
    expect(requests).toHaveLength(2);
    for (const sent of requests)
      expect(Object.keys(sent.body as object).sort()).toEqual([
        'dimensions',
        'encoding_format',
        'input',
        'model',
      ]);
    expect(result.warnings.filter((warning) => warning.setting === 'truncate')).toHaveLength(1);
    expect(result.warnings.filter((warning) => warning.setting === 'inputType')).toHaveLength(1);
  });
});

describe('createOpenAICompatible', () => {
  const body = floats(1);

  it('sends no auth header when no key is configured (local vLLM, TEI, Ollama)', async () => {
    const { fetch, requests } = recordingFetch({ body });
    const embedding = createOpenAICompatible({
      name: 'ollama',
      baseURL: 'http://localhost:11434/v1',
      fetch,
    }).embedding('nomic-embed-text');
    await embedding.doEmbed(request(['hello']));
    expect(requests[0]!.url).toBe('http://localhost:11434/v1/embeddings');
    expect(Object.keys(requests[0]!.headers).sort()).toEqual(['accept', 'content-type', 'user-agent']);
    expect(requests[0]!.body).toStrictEqual({
      model: 'nomic-embed-text',
      input: ['hello'],
      encoding_format: 'base64',
    });
  });

  it('sends the key as Bearer by default', async () => {
    const { fetch, requests } = recordingFetch({ body });
    await createOpenAICompatible({
      name: 'onerouter',
      baseURL: 'https://llm.onerouter.pro/v1',
      apiKey: KEY,
      fetch,
    })
      .embedding('text-embedding-3-small')
      .doEmbed(request(['hello']));
    expect(requests[0]!.url).toBe('https://llm.onerouter.pro/v1/embeddings');
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("Azure: apiKeyHeader 'api-key' sends the raw key, and queryParams put api-version in the URL", async () => {
    const { fetch, requests } = recordingFetch({ body });
    await createOpenAICompatible({
      name: 'azure',
      baseURL: 'https://my-resource.openai.azure.com/openai/deployments/my-embeddings/',
      apiKey: KEY,
      apiKeyHeader: 'api-key',
      queryParams: { 'api-version': '2024-10-21' },
      fetch,
    })
      .embedding('text-embedding-3-small')
      .doEmbed(request(['hello']));
    expect(requests[0]!.url).toBe(
      'https://my-resource.openai.azure.com/openai/deployments/my-embeddings/embeddings?api-version=2024-10-21',
    );
    expect(requests[0]!.headers['api-key']).toBe(KEY);
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('queryParams values are secrets: a key under any parameter name is redacted from errors; api-version stays readable', async () => {
    const querySecret = 'qp-secret-7f3a9c';
    const { fetch } = recordingFetch({
      status: 400,
      body: openAIError(`bad auth ${querySecret} for api-version 2024-10-21`, 'invalid_request_error', null),
    });
    const error = await rejection(
      createOpenAICompatible({
        name: 'gateway',
        baseURL: 'https://gw.example.test/v1',
        queryParams: { 'api-version': '2024-10-21', auth: querySecret },
        fetch,
      })
        .embedding('text-embedding-3-small')
        .doEmbed(request(['hello'])),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.url).toBe('https://gw.example.test/v1/embeddings?api-version=2024-10-21&auth=[REDACTED]');
    expect(error.message).toContain('bad auth [REDACTED] for api-version 2024-10-21');
    expect(JSON.stringify(error)).not.toContain(querySecret);
    expect(String(error.stack)).not.toContain(querySecret);
  });

  it('userinfo in baseURL is refused when the provider is created, without showing it, and nothing is sent', () => {
    const { fetch, requests } = recordingFetch({ body });
    let error: unknown;
    try {
      createOpenAICompatible({
        name: 'gateway',
        baseURL: 'https://gw-user:pa55-w0rd-9@gw.example.test/v1',
        fetch,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('baseURL');
    expect((error as Error).message).toBe(
      "gateway: the base URL from the baseURL setting holds a user name or password (user:password@); credentials in the URL are not sent. Remove them and pass the API key as the apiKey setting (a gateway's own credentials go in the headers setting).",
    );
    expect(JSON.stringify(error)).not.toContain('pa55-w0rd-9');
    expect(String((error as Error).stack)).not.toContain('pa55-w0rd-9');
    expect(requests).toHaveLength(0);
  });

  it('reads apiKeyEnvironmentVariable when a call is made', async () => {
    vi.stubEnv('ONEROUTER_API_KEY', undefined);
    const { fetch, requests } = recordingFetch({ body });
    const embedding = createOpenAICompatible({
      name: 'onerouter',
      baseURL: 'https://llm.onerouter.pro/v1',
      apiKeyEnvironmentVariable: 'ONEROUTER_API_KEY',
      fetch,
    }).embedding('text-embedding-3-small');
    vi.stubEnv('ONEROUTER_API_KEY', 'test-key-onerouter-env');
    await embedding.doEmbed(request(['hello']));
    expect(requests[0]!.headers.authorization).toBe('Bearer test-key-onerouter-env');
  });

  it('a declared but unset apiKeyEnvironmentVariable is an InvalidArgumentError naming it, and nothing is sent', async () => {
    vi.stubEnv('ONEROUTER_API_KEY', undefined);
    const { fetch, requests } = recordingFetch({ body });
    const embedding = createOpenAICompatible({
      name: 'onerouter',
      baseURL: 'https://llm.onerouter.pro/v1',
      apiKeyEnvironmentVariable: 'ONEROUTER_API_KEY',
      fetch,
    }).embedding('text-embedding-3-small');
    const error = await rejection(embedMany({ model: embedding, inputs: ['hello'] }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain('ONEROUTER_API_KEY');
    expect(requests).toHaveLength(0);
  });

  it('uses its name as the provider and as the providerOptions key', async () => {
    const { fetch, requests } = recordingFetch({ body });
    const embedding = createOpenAICompatible({
      name: 'vllm',
      baseURL: 'http://localhost:8000/v1',
      fetch,
    }).embedding('BAAI/bge-m3');
    expect(embedding.provider).toBe('vllm');
    await embedding.doEmbed(
      request(['hello'], { providerOptions: { vllm: { user: 'user-7' }, openai: { user: 'not-this-one' } } }),
    );
    expect(requests[0]!.body).toStrictEqual({
      model: 'BAAI/bge-m3',
      input: ['hello'],
      encoding_format: 'base64',
      user: 'user-7',
    });
  });

  it('names itself in errors, and checks its own providerOptions key', async () => {
    const { fetch, requests } = recordingFetch({ body });
    // Typed as the bare contract: the compiler refuses a numeric user under `tei`, and this is the check a
    // caller without types meets.
    const embedding: EmbeddingModel = createOpenAICompatible({
      name: 'tei',
      baseURL: 'http://localhost:8080/v1',
      fetch,
    }).embedding('bge-small');
    const invalid = await rejection(
      embedMany({ model: embedding, inputs: ['hello'], providerOptions: { tei: { user: 5 } } }),
    );
    expect(invalid).toBeInstanceOf(InvalidArgumentError);
    expect(invalid.argument).toBe('providerOptions.tei');
    expect(requests).toHaveLength(0);

    const failing = recordingFetch({
      status: 422,
      body: { error: 'Input validation error: inputs cannot be empty', error_type: 'Validation' },
    });
    const error = await rejection(
      createOpenAICompatible({ name: 'tei', baseURL: 'http://localhost:8080/v1', fetch: failing.fetch })
        .embedding('bge-small')
        .doEmbed(request(['hello'])),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.provider).toBe('tei');
    expect(error.message).toContain('Input validation error: inputs cannot be empty');
  });

  it('sends encoding_format "float" when asked', async () => {
    const { fetch, requests } = recordingFetch({ body });
    await createOpenAICompatible({
      name: 'tei',
      baseURL: 'http://localhost:8080/v1',
      encodingFormat: 'float',
      fetch,
    })
      .embedding('bge-small')
      .doEmbed(request(['hello']));
    expect((requests[0]!.body as { encoding_format: string }).encoding_format).toBe('float');
  });

  it('has conservative default capabilities', () => {
    const embedding = createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' }).embedding(
      'any',
    );
    expect(embedding.capabilities).toStrictEqual({
      maxInputsPerCall: 128,
      inputTypes: [],
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: false,
      supportsParallelCalls: true,
    });
  });

  it('merges a capabilities object over the defaults', () => {
    const embedding = createOpenAICompatible({
      name: 'onerouter',
      baseURL: 'https://llm.onerouter.pro/v1',
      capabilities: { maxInputsPerCall: 64, defaultDimensions: 1536, dimensions: { min: 1, max: 1536 } },
    }).embedding('text-embedding-3-small');
    expect(embedding.capabilities).toStrictEqual({
      maxInputsPerCall: 64,
      defaultDimensions: 1536,
      dimensions: { min: 1, max: 1536 },
      inputTypes: [],
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: false,
      supportsParallelCalls: true,
    });
  });

  it('calls a capabilities function with each model id', () => {
    const seen: string[] = [];
    const provider = createOpenAICompatible({
      name: 'tei',
      baseURL: 'http://localhost:8080/v1',
      capabilities: (modelId) => {
        seen.push(modelId);
        return modelId === 'bge-small' ? { maxInputsPerCall: 32, defaultDimensions: 384 } : {};
      },
    });
    expect(provider.embedding('bge-small').capabilities).toMatchObject({
      maxInputsPerCall: 32,
      defaultDimensions: 384,
    });
    expect(provider.embedding('other').capabilities.maxInputsPerCall).toBe(128);
    expect(provider.embedding('other').capabilities.defaultDimensions).toBeUndefined();
    expect(seen).toEqual(['bge-small', 'other', 'other']);
  });

  it('the engine splits by the overridden maxInputsPerCall', async () => {
    const { fetch, requests } = recordingFetch({ body: floats(2) }, { body: floats(1) });
    const embedding = createOpenAICompatible({
      name: 'tei',
      baseURL: 'http://localhost:8080/v1',
      fetch,
      capabilities: { maxInputsPerCall: 2 },
    }).embedding('bge-small');
    await embedMany({ model: embedding, inputs: ['a', 'b', 'c'], concurrency: 1 });
    expect(requests.map((sent) => (sent.body as { input: string[] }).input)).toEqual([['a', 'b'], ['c']]);
  });
});
