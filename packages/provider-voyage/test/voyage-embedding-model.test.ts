import { type EmbeddingModel, embedMany } from '@embedkit/core';
import { checkEmbedRequest, float32ToBase64 } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVoyage, VOYAGE_EMBEDDING_MODELS } from '../src/index.js';
import { ATLAS_TEST_KEY, embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

// Exact known vectors in base64, one per output_dtype.
/** float32 little-endian [0.5, -0.25, 1, -2]. */
const FLOAT_B64 = 'AAAAPwAAgL4AAIA/AAAAwA==';
/** The bytes 0x0c 0xf9 0x64 0x80: int8 [12, -7, 100, -128], uint8 [12, 249, 100, 128]. */
const BYTES_B64 = 'DPlkgA==';
/** 32 bytes (256 dimensions bit-packed) repeating 0x80 0x7f 0x00 0xff. */
const PACKED_B64 = 'gH8A/4B/AP+AfwD/gH8A/4B/AP+AfwD/gH8A/4B/AP8=';
/** A whole default-length (1,024) vector, for calls that go through the engine's length check. */
const FULL_B64 = float32ToBase64(new Float32Array(1024).fill(0.03125));
const PACKED_SIGNED = Array.from({ length: 32 }, (_, index) => [-128, 127, 0, -1][index % 4]);
const PACKED_UNSIGNED = Array.from({ length: 32 }, (_, index) => [128, 127, 0, 255][index % 4]);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('request mapping', () => {
  it('sends the documented defaults: base64, no silent truncation, the key as Bearer', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [FULL_B64, FULL_B64], 7) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const result = await embedMany({ model, inputs: ['first', 'second'] });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.url).toBe('https://api.voyageai.com/v1/embeddings');
    expect(request!.method).toBe('POST');
    expect(request!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.body).toEqual({
      input: ['first', 'second'],
      model: 'voyage-3.5',
      truncation: false,
      encoding_format: 'base64',
    });
    expect(result.usage).toEqual({ inputTokens: 7 });
    expect(result.embeddings.map((vector) => [vector.constructor.name, vector.length, vector[1023]])).toEqual(
      [
        ['Float32Array', 1024, 0.03125],
        ['Float32Array', 1024, 0.03125],
      ],
    );
    expect(result.responses[0]!.modelId).toBe('voyage-3.5');
  });

  it('maps inputType, truncate, dimensions and outputType to input_type, truncation, output_dimension, output_dtype', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-4', [PACKED_B64]) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-4');
    const result = await embedMany({
      model,
      inputs: ['pets and animals'],
      inputType: 'query',
      truncate: true,
      dimensions: 256,
      outputType: 'ubinary',
    });
    expect(server.requests[0]!.body).toEqual({
      input: ['pets and animals'],
      model: 'voyage-4',
      input_type: 'query',
      truncation: true,
      output_dimension: 256,
      output_dtype: 'ubinary',
      encoding_format: 'base64',
    });
    // Bit-packed: 256 dimensions come back as 32 bytes, which core accepts for ubinary.
    expect(result.embeddings[0]).toBeInstanceOf(Uint8Array);
    expect(Array.from(result.embeddings[0]!)).toEqual(PACKED_UNSIGNED);
  });

  it('sends document as input_type "document"', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [FLOAT_B64]) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await model.doEmbed({ inputs: ['a'], inputType: 'document' });
    expect((server.requests[0]!.body as { input_type: string }).input_type).toBe('document');
  });

  it('warns about an input type Voyage lacks and sends none; strict makes it an error before sending', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [FULL_B64]) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const result = await embedMany({ model, inputs: ['a'], inputType: 'classification' });
    expect(server.requests[0]!.body).not.toHaveProperty('input_type');
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: 'unsupported-setting', setting: 'inputType' }),
    ]);
    await expect(
      embedMany({ model, inputs: ['a'], inputType: 'clustering', strict: true }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      code: 'invalid_argument',
      argument: 'inputType',
    });
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['a dimension the model does not list', 'voyage-3.5', { dimensions: 300 }, 'dimensions'],
    ['dimensions on a fixed-length model', 'voyage-law-2', { dimensions: 512 }, 'dimensions'],
    [
      'a quantized type on a float-only model',
      'voyage-finance-2',
      { outputType: 'int8' as const },
      'outputType',
    ],
  ])('rejects %s before any request', async (_label, modelId, options, argument) => {
    const server = fakeFetch([]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(modelId);
    await expect(embedMany({ model, inputs: ['a'], ...options })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument,
    });
    // A direct doEmbed caller runs the engine's one check (the provider no longer repeats it).
    expect(() => checkEmbedRequest(model, { inputs: ['a'], ...options })).toThrowError(
      expect.objectContaining({ name: 'InvalidArgumentError', argument }),
    );
    expect(server.requests).toEqual([]);
  });

  it('rejects images and unknown provider options before any request', async () => {
    const server = fakeFetch([]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await expect(
      embedMany({ model, inputs: [{ image: 'https://example.com/cat.png' }] }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'inputs[0]' });
    await expect(
      model.doEmbed({ inputs: [{ content: [{ type: 'text', text: 'a' }] }] }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'inputs[0]' });
    // Typed as the bare contract: the compiler refuses any option for this model, and this is the check a
    // caller without types meets.
    const loose: EmbeddingModel = model;
    await expect(
      embedMany({ model: loose, inputs: ['a'], providerOptions: { voyage: { outputDtype: 'int8' } } }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.voyage' });
    expect(server.requests).toEqual([]);
  });
});

describe('decoding every output_dtype from base64', () => {
  it.each([
    ['float', FLOAT_B64, Float32Array, [0.5, -0.25, 1, -2]],
    ['int8', BYTES_B64, Int8Array, [12, -7, 100, -128]],
    ['uint8', BYTES_B64, Uint8Array, [12, 249, 100, 128]],
    ['binary', PACKED_B64, Int8Array, PACKED_SIGNED],
    ['ubinary', PACKED_B64, Uint8Array, PACKED_UNSIGNED],
  ] as const)('%s', async (outputType, base64, type, values) => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3-large', [base64]) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3-large');
    const response = await model.doEmbed({
      inputs: ['x'],
      ...(outputType === 'float' ? {} : { outputType }),
    });
    expect(response.embeddings[0]).toBeInstanceOf(type);
    expect(Array.from(response.embeddings[0]!)).toEqual(values);
    expect((server.requests[0]!.body as Record<string, unknown>).output_dtype).toBe(
      outputType === 'float' ? undefined : outputType,
    );
  });

  it('binary through embedMany: 256 dimensions are 32 signed bytes', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-code-3', [PACKED_B64, PACKED_B64]) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-code-3');
    const result = await embedMany({ model, inputs: ['a', 'b'], dimensions: 256, outputType: 'binary' });
    expect(result.embeddings.map((vector) => [vector.constructor.name, Array.from(vector)])).toEqual([
      ['Int8Array', PACKED_SIGNED],
      ['Int8Array', PACKED_SIGNED],
    ]);
  });

  it('places vectors by index and accepts JSON numbers when the API ignores encoding_format', async () => {
    const body = {
      object: 'list',
      data: [
        { object: 'embedding', embedding: [0.125, -0.75], index: 1 },
        { object: 'embedding', embedding: 'AAAAPwAAgL4=', index: 0 },
      ],
      model: 'voyage-3.5',
      usage: { total_tokens: 4 },
    };
    const server = fakeFetch([{ body }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const response = await model.doEmbed({ inputs: ['zero', 'one'] });
    expect(response.embeddings.map((vector) => Array.from(vector))).toEqual([
      [0.5, -0.25],
      [0.125, -0.75],
    ]);
  });

  it.each([
    ['a missing index', { data: [{ index: 0, embedding: FLOAT_B64 }], usage: { total_tokens: 1 } }],
    [
      'an index twice',
      { data: [0, 0].map((index) => ({ index, embedding: FLOAT_B64 })), usage: { total_tokens: 1 } },
    ],
    [
      'bad base64',
      { data: [0, 1].map((index) => ({ index, embedding: 'AAA' })), usage: { total_tokens: 1 } },
    ],
    ['no data', { detail: 'ok' }],
  ])('answers with %s are an InvalidResponseError', async (_label, body) => {
    const server = fakeFetch([{ body }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await expect(model.doEmbed({ inputs: ['a', 'b'] })).rejects.toMatchObject({
      name: 'InvalidResponseError',
      code: 'invalid_response',
    });
  });
});

describe('errors: {"detail": ...} mapped by status', () => {
  it('a 200 carrying {"detail": ...} is an InvalidResponseError with the detail, not "wrong shape"', async () => {
    const server = fakeFetch([{ status: 200, body: { detail: `Provided API key ${TEST_KEY} is invalid.` } }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    const error = await model.doEmbed({ inputs: ['x'] }).then(
      () => expect.fail('the call had to fail'),
      (caught: unknown) => caught as Error & Record<string, unknown>,
    );
    expect(error.name).toBe('InvalidResponseError');
    expect(error.statusCode).toBe(200);
    expect(error.message).toContain(
      'with an error instead of embeddings: Provided API key [REDACTED] is invalid.',
    );
    expect(JSON.stringify(error)).not.toContain(TEST_KEY);
  });

  const batchDetail =
    "Request to model 'voyage-code-3' failed. The max allowed tokens per submitted batch is 120000. Your batch has 124417 tokens after truncation. Please lower the number of tokens in the batch.";
  it.each([
    [
      400,
      { detail: 'Invalid model.' },
      {},
      { name: 'InvalidRequestError', code: 'invalid_request', batchTooLarge: false, isRetryable: false },
    ],
    [
      400,
      { detail: batchDetail },
      {},
      { name: 'InvalidRequestError', code: 'invalid_request', batchTooLarge: true, isRetryable: false },
    ],
    [400, { detail: 'Batch size is too large.' }, {}, { name: 'InvalidRequestError', batchTooLarge: true }],
    [
      401,
      { detail: 'Provided API key is invalid.' },
      {},
      { name: 'AuthenticationError', code: 'authentication', isRetryable: false },
    ],
    [
      403,
      { detail: 'Forbidden' },
      {},
      { name: 'PermissionDeniedError', code: 'permission_denied', isRetryable: false },
    ],
    [
      422,
      { detail: [{ loc: ['body', 'input', 3], msg: 'String should have at least 1 character' }] },
      {},
      { name: 'InvalidRequestError', inputIndex: 3, batchTooLarge: false },
    ],
    [
      429,
      { detail: 'Rate limit exceeded.' },
      { 'retry-after': '7' },
      {
        name: 'RateLimitError',
        code: 'rate_limited',
        retryAfterMs: 7000,
        isRetryable: true,
        quotaExhausted: false,
      },
    ],
    [
      500,
      { detail: 'Internal Server Error' },
      {},
      { name: 'ServerError', code: 'server_error', isRetryable: true },
    ],
    [502, { detail: 'Bad Gateway' }, {}, { name: 'ServerError', isRetryable: true }],
    [503, { detail: 'Service Unavailable' }, {}, { name: 'ServerError', isRetryable: true }],
    [504, { detail: 'Gateway Timeout' }, {}, { name: 'ServerError', isRetryable: true }],
  ])('%i %j', async (status, body, headers, expected) => {
    const server = fakeFetch([{ status, body, headers }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-code-3');
    const error = await model.doEmbed({ inputs: ['a', 'b', 'c', 'd'] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ ...expected, statusCode: status, provider: 'voyage' });
    const message = (error as Error).message;
    expect(message).toContain(
      typeof body.detail === 'string' ? body.detail : 'body.input.3: String should have at least 1 character',
    );
    expect(message).not.toContain(TEST_KEY);
  });

  it('explains that keys work on one host only (401) and the IP allow-list (403)', async () => {
    const server = fakeFetch([
      { status: 401, body: { detail: 'Provided API key is invalid.' } },
      { status: 403, body: { detail: 'Forbidden' } },
    ]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await expect(model.doEmbed({ inputs: ['a'] })).rejects.toMatchObject({
      name: 'AuthenticationError',
      message: expect.stringMatching(/one host only.*ai\.mongodb\.com/),
    });
    await expect(model.doEmbed({ inputs: ['a'] })).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      message: expect.stringMatching(/IP address/),
    });
  });

  it('a 400 batch-too-large makes the engine bisect the call', async () => {
    const server = fakeFetch([
      { status: 400, body: { detail: batchDetail } },
      { body: embeddingsBody('voyage-code-3', [FULL_B64], 3) },
      { body: embeddingsBody('voyage-code-3', [FULL_B64], 4) },
    ]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-code-3');
    const result = await embedMany({ model, inputs: ['a', 'b'], concurrency: 1 });
    expect(server.requests.map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['a', 'b'],
      ['a'],
      ['b'],
    ]);
    expect(result.usage).toEqual({ inputTokens: 7 });
  });
});

describe('hosts and keys', () => {
  it('routes an Atlas model API key (al-…) to ai.mongodb.com', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [FLOAT_B64]) }]);
    await createVoyage({ apiKey: ATLAS_TEST_KEY, fetch: server.fetch })
      .embedding('voyage-3.5')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.url).toBe('https://ai.mongodb.com/v1/embeddings');
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${ATLAS_TEST_KEY}`);
  });

  it('keeps an explicit baseURL whatever the key', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [FLOAT_B64]) }]);
    await createVoyage({
      apiKey: ATLAS_TEST_KEY,
      baseURL: 'https://proxy.example.com/voyage/v1/',
      fetch: server.fetch,
    })
      .embedding('voyage-3.5')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.url).toBe('https://proxy.example.com/voyage/v1/embeddings');
  });

  it('reads VOYAGE_API_KEY when a call is made, not when the provider is created', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [FLOAT_B64]) }]);
    vi.stubEnv('VOYAGE_API_KEY', '');
    const model = createVoyage({ fetch: server.fetch, headers: { 'x-team': 'search' } }).embedding(
      'voyage-3.5',
    );
    await expect(model.doEmbed({ inputs: ['a'] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'apiKey',
      message: expect.stringContaining('VOYAGE_API_KEY'),
    });
    expect(server.requests).toEqual([]);
    vi.stubEnv('VOYAGE_API_KEY', ATLAS_TEST_KEY);
    await model.doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.url).toBe('https://ai.mongodb.com/v1/embeddings');
    expect(server.requests[0]!.headers['x-team']).toBe('search');
  });
});

describe('capabilities', () => {
  it('follow the model table: tokens per call, context, dimensions, output types', () => {
    const voyage = createVoyage({ apiKey: TEST_KEY });
    const pick = (id: string) => {
      const { maxInputsPerCall, maxTokensPerCall, maxTokensPerInput, dimensions, outputTypes, inputTypes } =
        voyage.embedding(id).capabilities;
      return { maxInputsPerCall, maxTokensPerCall, maxTokensPerInput, dimensions, outputTypes, inputTypes };
    };
    const flexible = {
      dimensions: [256, 512, 1024, 2048],
      outputTypes: ['float', 'int8', 'uint8', 'binary', 'ubinary'],
    };
    const text = { maxInputsPerCall: 1000, inputTypes: ['query', 'document'] };
    expect(pick('voyage-4-lite')).toEqual({
      ...text,
      ...flexible,
      maxTokensPerCall: 1_000_000,
      maxTokensPerInput: 32_000,
    });
    expect(pick('voyage-3.5')).toEqual({
      ...text,
      ...flexible,
      maxTokensPerCall: 320_000,
      maxTokensPerInput: 32_000,
    });
    expect(pick('voyage-code-3')).toEqual({
      ...text,
      ...flexible,
      maxTokensPerCall: 120_000,
      maxTokensPerInput: 32_000,
    });
    expect(pick('voyage-law-2')).toEqual({
      ...text,
      dimensions: undefined,
      outputTypes: ['float'],
      maxTokensPerCall: 120_000,
      maxTokensPerInput: 16_000,
    });
    // An unknown id gets the smallest documented budget.
    expect(pick('voyage-9-preview').maxTokensPerCall).toBe(120_000);
    expect(Object.keys(VOYAGE_EMBEDDING_MODELS)).toHaveLength(16);
  });
});
