import { type EmbeddingModel, embedMany, type InputType } from '@embedkit/core';
import { checkEmbedRequest, float32ToBase64 } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJina, JINA_EMBEDDING_MODELS } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

/** float32 little-endian [0.5, -0.25, 1, -2]. */
const FLOAT_B64 = 'AAAAPwAAgL4AAIA/AAAAwA==';
/** 8 bit-packed bytes (64 dimensions) as Jina returns them for `binary` and `ubinary`: JSON integers. */
const PACKED_SIGNED = [-128, 127, 0, -1, 12, -7, 100, -128];
const PACKED_UNSIGNED = [128, 127, 0, 255, 12, 249, 100, 128];
/** The same bytes, base64-encoded, in case the API answers bits as base64. */
const PACKED_B64 = 'gH8A/wz5ZIA=';

const full = (length: number, value = 0.03125) => float32ToBase64(new Float32Array(length).fill(value));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('request mapping', () => {
  it('sends base64, normalized, truncate false, the key as Bearer to https://api.jina.ai/v1/embeddings', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [full(1024), full(1024)], 7) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const result = await embedMany({ model, inputs: ['first', 'second'] });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.url).toBe('https://api.jina.ai/v1/embeddings');
    expect(request!.method).toBe('POST');
    expect(request!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.accept).toBe('application/json');
    expect(request!.body).toEqual({
      model: 'jina-embeddings-v3',
      input: ['first', 'second'],
      embedding_type: 'base64',
      normalized: true,
      truncate: false,
    });
    expect(result.usage).toEqual({ inputTokens: 7 });
    expect(result.embeddings.map((vector) => [vector.constructor.name, vector.length, vector[1023]])).toEqual(
      [
        ['Float32Array', 1024, 0.03125],
        ['Float32Array', 1024, 0.03125],
      ],
    );
    expect(result.responses[0]!.modelId).toBe('jina-embeddings-v3');
  });

  it('maps inputType, dimensions and truncate to task, dimensions and truncate', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const result = await embedMany({
      model,
      inputs: ['pets'],
      inputType: 'query',
      dimensions: 4,
      truncate: true,
    });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v3',
      input: ['pets'],
      task: 'retrieval.query',
      dimensions: 4,
      embedding_type: 'base64',
      normalized: true,
      truncate: true,
    });
    expect(Array.from(result.embeddings[0]!)).toEqual([0.5, -0.25, 1, -2]);
  });

  it.each([
    ['jina-embeddings-v3', 'query', 'retrieval.query'],
    ['jina-embeddings-v3', 'document', 'retrieval.passage'],
    ['jina-embeddings-v3', 'similarity', 'text-matching'],
    ['jina-embeddings-v3', 'classification', 'classification'],
    ['jina-embeddings-v3', 'clustering', 'separation'],
    ['jina-embeddings-v4', 'query', 'retrieval.query'],
    ['jina-embeddings-v4', 'document', 'retrieval.passage'],
    ['jina-embeddings-v4', 'similarity', 'text-matching'],
    ['jina-embeddings-v4', 'code-query', 'code.query'],
    ['jina-embeddings-v4', 'code-document', 'code.passage'],
    ['jina-embeddings-v5-text-small', 'clustering', 'clustering'],
    ['jina-embeddings-v5-text-small', 'classification', 'classification'],
    ['jina-embeddings-v5-text-nano', 'document', 'retrieval.passage'],
    ['jina-embeddings-v5-text-nano', 'similarity', 'text-matching'],
    ['jina-clip-v2', 'query', 'retrieval.query'],
    ['jina-clip-v2', 'document', undefined],
    ['jina-code-embeddings-0.5b', 'code-query', 'nl2code.query'],
    ['jina-code-embeddings-1.5b', 'code-document', 'nl2code.passage'],
    ['jina-code-embeddings-1.5b', 'question-answering', 'qa.query'],
  ] as const)('%s sends inputType %s as task %s', async (modelId, inputType, task) => {
    const server = fakeFetch([{ body: embeddingsBody(modelId, [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(modelId);
    const response = await model.doEmbed({ inputs: ['x'], inputType: inputType as InputType });
    expect((server.requests[0]!.body as { task?: string }).task).toBe(task);
    expect(response.warnings).toEqual([]);
  });

  it('sends normalized only to the models whose schema has it', async () => {
    const ids = Object.keys(JINA_EMBEDDING_MODELS);
    const server = fakeFetch(ids.map((id) => ({ body: embeddingsBody(id, [FLOAT_B64]) })));
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    for (const id of ids) await jina.embedding(id).doEmbed({ inputs: ['x'] });
    expect(
      Object.fromEntries(
        server.requests.map((request) => {
          const body = request.body as { model: string; normalized?: boolean };
          return [body.model, body.normalized];
        }),
      ),
    ).toEqual({
      'jina-embeddings-v5-text-small': true,
      'jina-embeddings-v5-text-nano': true,
      'jina-embeddings-v4': undefined,
      'jina-embeddings-v3': true,
      'jina-clip-v2': true,
      'jina-code-embeddings-1.5b': undefined,
      'jina-code-embeddings-0.5b': undefined,
      'jina-embeddings-v2-base-en': true,
      'jina-embeddings-v2-base-zh': true,
      'jina-embeddings-v2-base-de': true,
      'jina-embeddings-v2-base-es': true,
      'jina-embeddings-v2-base-code': true,
      'jina-clip-v1': true,
    });
  });

  it('providerOptions.jina.normalized false is sent; on a model without the field it is an error before sending', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v5-text-small', [FLOAT_B64]) }]);
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    await jina
      .embedding('jina-embeddings-v5-text-small')
      .doEmbed({ inputs: ['x'], providerOptions: { jina: { normalized: false } } });
    expect((server.requests[0]!.body as { normalized: boolean }).normalized).toBe(false);
    await expect(
      embedMany({
        model: jina.embedding('jina-embeddings-v4'),
        inputs: ['x'],
        providerOptions: { jina: { normalized: false } },
      }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina.normalized' });
    expect(server.requests).toHaveLength(1);
  });

  it('providerOptions.jina.task sends any task word the model has, and rejects others before sending', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('jina-code-embeddings-1.5b', [FLOAT_B64]) },
      { body: embeddingsBody('jina-embeddings-v9', [FLOAT_B64]) },
    ]);
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    const code = jina.embedding('jina-code-embeddings-1.5b');
    await code.doEmbed({ inputs: ['x'], providerOptions: { jina: { task: 'code2completion.passage' } } });
    expect((server.requests[0]!.body as { task: string }).task).toBe('code2completion.passage');
    await expect(
      code.doEmbed({ inputs: ['x'], providerOptions: { jina: { task: 'retrieval.query' } } }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina.task' });
    await expect(
      embedMany({
        model: code,
        inputs: ['x'],
        inputType: 'code-query',
        providerOptions: { jina: { task: 'qa.query' } },
      }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina.task' });
    // Typed as the bare contract: the compiler refuses the option, and this is the check a caller without
    // types meets.
    const loose: EmbeddingModel = code;
    await expect(
      loose.doEmbed({ inputs: ['x'], providerOptions: { jina: { lateChunking: true } } }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina' });
    // An unknown model's task words are unknown: the word goes as given and the API decides.
    await jina
      .embedding('jina-embeddings-v9')
      .doEmbed({ inputs: ['x'], providerOptions: { jina: { task: 'new.task' } } });
    expect((server.requests[1]!.body as { task: string }).task).toBe('new.task');
    expect(server.requests).toHaveLength(2);
  });

  it('warns about an input type the model lacks and sends no task; strict makes it an error before sending', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [full(1024)]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const result = await embedMany({ model, inputs: ['a'], inputType: 'code-query' });
    expect(server.requests[0]!.body).not.toHaveProperty('task');
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: 'unsupported-setting', setting: 'inputType' }),
    ]);
    await expect(
      embedMany({ model, inputs: ['a'], inputType: 'code-query', strict: true }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'inputType',
    });
    // Called directly, the model warns itself.
    const direct = fakeFetch([{ body: embeddingsBody('jina-clip-v2', [FLOAT_B64]) }]);
    const clip = createJina({ apiKey: TEST_KEY, fetch: direct.fetch }).embedding('jina-clip-v2');
    const response = await clip.doEmbed({ inputs: ['a'], inputType: 'clustering' });
    expect(direct.requests[0]!.body).not.toHaveProperty('task');
    expect(response.warnings).toEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message:
          'jina model jina-clip-v2 has no "clustering" input type (it supports query, document); the inputs were sent without a task.',
      },
    ]);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['jina-embeddings-v3', { dimensions: 1025 }, 'dimensions'],
    ['jina-embeddings-v3', { dimensions: 0 }, 'dimensions'],
    ['jina-embeddings-v4', { dimensions: 2049 }, 'dimensions'],
    ['jina-embeddings-v5-text-nano', { dimensions: 1025 }, 'dimensions'],
    ['jina-clip-v2', { dimensions: 1025 }, 'dimensions'],
    ['jina-code-embeddings-0.5b', { dimensions: 897 }, 'dimensions'],
    ['jina-code-embeddings-1.5b', { dimensions: 1537 }, 'dimensions'],
    ['jina-embeddings-v3', { outputType: 'int8' as const }, 'outputType'],
    ['jina-embeddings-v4', { outputType: 'uint8' as const }, 'outputType'],
  ])('%s rejects %o before any request', async (modelId, options, argument) => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(modelId);
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

  it('accepts the largest dimension of each family', async () => {
    const cases = [
      ['jina-embeddings-v3', 1024],
      ['jina-embeddings-v4', 2048],
      ['jina-embeddings-v5-text-nano', 768],
      ['jina-code-embeddings-0.5b', 896],
      ['jina-code-embeddings-1.5b', 1536],
    ] as const;
    const server = fakeFetch(cases.map(([id, size]) => ({ body: embeddingsBody(id, [full(size)]) })));
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    for (const [id, size] of cases) {
      const result = await embedMany({ model: jina.embedding(id), inputs: ['a'], dimensions: size });
      expect(result.embeddings[0]).toHaveLength(size);
    }
    expect(server.requests.map((request) => (request.body as { dimensions: number }).dimensions)).toEqual(
      cases.map(([, size]) => size),
    );
  });

  it('takes at most 512 inputs a call: the engine splits 513 into 512 + 1, checkEmbedRequest refuses a direct call', async () => {
    const inputs = Array.from({ length: 513 }, (_, index) => `input ${index}`);
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v3', new Array(512).fill(FLOAT_B64)) },
      { body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const result = await embedMany({ model, inputs, dimensions: 4, concurrency: 1 });
    expect(result.embeddings).toHaveLength(513);
    expect(server.requests.map((request) => (request.body as { input: string[] }).input.length)).toEqual([
      512, 1,
    ]);
    expect(() => checkEmbedRequest(model, { inputs })).toThrowError(
      expect.objectContaining({ name: 'InvalidArgumentError', argument: 'inputs' }),
    );
    expect(server.requests).toHaveLength(2);
  });

  it('an unknown model id works with conservative capabilities', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v9', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v9');
    expect(model.capabilities).toEqual({
      maxInputsPerCall: 512,
      maxTokensPerInput: 8192,
      dimensions: { min: 1, max: 2048 },
      inputTypes: [],
      outputTypes: ['float', 'binary', 'ubinary'],
      modalities: ['text'],
      normalized: false,
      supportsParallelCalls: true,
    });
    const result = await embedMany({ model, inputs: ['a'], inputType: 'query', dimensions: 4 });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v9',
      input: ['a'],
      dimensions: 4,
      embedding_type: 'base64',
      truncate: false,
    });
    expect(result.warnings.map((warning) => warning.setting)).toEqual(['inputType']);
    expect(Array.from(result.embeddings[0]!)).toEqual([0.5, -0.25, 1, -2]);
  });
});

describe('capabilities', () => {
  it('declares each family: context, dimensions, default length, input types, modalities', () => {
    const summary = Object.fromEntries(
      Object.entries(JINA_EMBEDDING_MODELS).map(([id, { capabilities }]) => [
        id,
        [
          capabilities.maxTokensPerInput,
          capabilities.dimensions,
          capabilities.defaultDimensions,
          capabilities.inputTypes.join(' '),
          capabilities.modalities.join(' '),
          capabilities.normalized,
        ],
      ]),
    );
    expect(summary).toEqual({
      'jina-embeddings-v5-text-small': [
        32768,
        { min: 1, max: 1024 },
        1024,
        'query document similarity classification clustering',
        'text',
        true,
      ],
      'jina-embeddings-v5-text-nano': [
        8192,
        { min: 1, max: 768 },
        768,
        'query document similarity classification clustering',
        'text',
        true,
      ],
      'jina-embeddings-v4': [
        32768,
        { min: 1, max: 2048 },
        2048,
        'query document similarity code-query code-document',
        'text image',
        false,
      ],
      'jina-embeddings-v3': [
        8192,
        { min: 1, max: 1024 },
        1024,
        'query document similarity classification clustering',
        'text',
        true,
      ],
      'jina-clip-v2': [8192, { min: 1, max: 1024 }, 1024, 'query document', 'text image', true],
      'jina-code-embeddings-1.5b': [
        32768,
        { min: 1, max: 1536 },
        1536,
        'code-query code-document question-answering',
        'text',
        false,
      ],
      'jina-code-embeddings-0.5b': [
        32768,
        { min: 1, max: 896 },
        896,
        'code-query code-document question-answering',
        'text',
        false,
      ],
      'jina-embeddings-v2-base-en': [8192, undefined, undefined, '', 'text', true],
      'jina-embeddings-v2-base-zh': [8192, undefined, undefined, '', 'text', true],
      'jina-embeddings-v2-base-de': [8192, undefined, undefined, '', 'text', true],
      'jina-embeddings-v2-base-es': [8192, undefined, undefined, '', 'text', true],
      'jina-embeddings-v2-base-code': [8192, undefined, undefined, '', 'text', true],
      'jina-clip-v1': [8192, undefined, undefined, '', 'text image', true],
    });
    for (const { capabilities } of Object.values(JINA_EMBEDDING_MODELS)) {
      expect(capabilities.maxInputsPerCall).toBe(512);
      expect(capabilities.outputTypes).toEqual(['float', 'binary', 'ubinary']);
      expect(capabilities.maxTokensPerCall).toBeUndefined();
    }
  });
});

describe('decoding every embedding_type', () => {
  it.each([
    ['float', 'base64', { embedding: FLOAT_B64 }, Float32Array, [0.5, -0.25, 1, -2]],
    ['binary', 'binary', { embedding: PACKED_SIGNED }, Int8Array, PACKED_SIGNED],
    ['ubinary', 'ubinary', { embedding: PACKED_UNSIGNED }, Uint8Array, PACKED_UNSIGNED],
    ['binary (as base64)', 'binary', { embedding: PACKED_B64 }, Int8Array, PACKED_SIGNED],
    ['ubinary (as base64)', 'ubinary', { embedding: PACKED_B64 }, Uint8Array, PACKED_UNSIGNED],
  ] as const)('%s', async (label, embeddingType, item, type, values) => {
    const outputType = label.split(' ')[0] as 'float' | 'binary' | 'ubinary';
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v3', [item.embedding as string | number[]]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const response = await model.doEmbed({
      inputs: ['x'],
      ...(outputType === 'float' ? {} : { outputType }),
    });
    expect((server.requests[0]!.body as { embedding_type: string }).embedding_type).toBe(embeddingType);
    expect(response.embeddings[0]).toBeInstanceOf(type);
    expect(Array.from(response.embeddings[0]!)).toEqual(values);
  });

  it('binary through embedMany: 64 dimensions are 8 signed bytes per vector', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v4', [PACKED_SIGNED, PACKED_SIGNED]) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v4');
    const result = await embedMany({ model, inputs: ['a', 'b'], dimensions: 64, outputType: 'binary' });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v4',
      input: ['a', 'b'],
      dimensions: 64,
      embedding_type: 'binary',
      truncate: false,
    });
    expect(result.embeddings.map((vector) => [vector.constructor.name, Array.from(vector)])).toEqual([
      ['Int8Array', PACKED_SIGNED],
      ['Int8Array', PACKED_SIGNED],
    ]);
  });

  it('places vectors by index and accepts JSON floats when the API ignores embedding_type', async () => {
    const body = {
      model: 'jina-embeddings-v3',
      object: 'list',
      usage: { total_tokens: 4, prompt_tokens: 4 },
      data: [
        { object: 'embedding', index: 1, embedding: [0.125, -0.75] },
        { object: 'embedding', index: 0, embedding: 'AAAAPwAAgL4=' },
      ],
    };
    const server = fakeFetch([{ body }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const response = await model.doEmbed({ inputs: ['zero', 'one'] });
    expect(response.embeddings.map((vector) => Array.from(vector))).toEqual([
      [0.5, -0.25],
      [0.125, -0.75],
    ]);
    expect(response.usage).toEqual({ inputTokens: 4 });
  });

  it.each([
    [
      'a missing index',
      { model: 'm', usage: { total_tokens: 1 }, data: [{ index: 0, embedding: FLOAT_B64 }] },
    ],
    [
      'an index twice',
      {
        model: 'm',
        usage: { total_tokens: 1 },
        data: [0, 0].map((index) => ({ index, embedding: FLOAT_B64 })),
      },
    ],
    [
      'bad base64',
      { model: 'm', usage: { total_tokens: 1 }, data: [0, 1].map((index) => ({ index, embedding: 'AAA' })) },
    ],
    [
      'a binary value out of range',
      { model: 'm', usage: { total_tokens: 1 }, data: [0, 1].map((index) => ({ index, embedding: [300] })) },
    ],
    ['no data', { detail: 'ok' }],
  ])('answers with %s are an InvalidResponseError', async (label, body) => {
    const server = fakeFetch([{ body }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    const outputType = label.startsWith('a binary') ? ('binary' as const) : undefined;
    await expect(
      model.doEmbed({ inputs: ['zero', 'one'], ...(outputType === undefined ? {} : { outputType }) }),
    ).rejects.toMatchObject({ name: 'InvalidResponseError' });
  });
});

describe('settings', () => {
  it('reads JINA_API_KEY when a call is made, not when the provider is created', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) }]);
    const model = createJina({ fetch: server.fetch }).embedding('jina-embeddings-v3');
    vi.stubEnv('JINA_API_KEY', 'jina_fakekeyfromenvironment000000');
    await model.doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer jina_fakekeyfromenvironment000000');
  });

  it('a missing key is an InvalidArgumentError naming JINA_API_KEY, before any request', async () => {
    vi.stubEnv('JINA_API_KEY', '');
    const server = fakeFetch([]);
    const model = createJina({ fetch: server.fetch }).embedding('jina-embeddings-v3');
    await expect(model.doEmbed({ inputs: ['a'] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'apiKey',
      message: expect.stringContaining('JINA_API_KEY'),
    });
    expect(server.requests).toEqual([]);
  });

  it('honours baseURL (trailing slash or not) and extra headers', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) },
      { body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) },
    ]);
    const jina = createJina({
      apiKey: TEST_KEY,
      baseURL: 'https://gateway.example.com/jina/v1/',
      headers: { 'x-team': 'search' },
      fetch: server.fetch,
    });
    await jina.embedding('jina-embeddings-v3').doEmbed({ inputs: ['a'], headers: { 'x-call': 'one' } });
    expect(server.requests[0]!.url).toBe('https://gateway.example.com/jina/v1/embeddings');
    expect(server.requests[0]!.headers['x-team']).toBe('search');
    expect(server.requests[0]!.headers['x-call']).toBe('one');
    await createJina({ apiKey: TEST_KEY, baseURL: 'http://localhost:8080/v1', fetch: server.fetch })
      .embedding('jina-embeddings-v3')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[1]!.url).toBe('http://localhost:8080/v1/embeddings');
  });
});
