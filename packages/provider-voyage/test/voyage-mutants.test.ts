/**
 * Voyage provider behaviour the rest of the suite left unpinned: every model's capabilities, field by
 * field (and those an unknown id gets); what `parseVoyageError` reads (hints by status, validation lists,
 * which location names an input, which words at which status mark a batch as too large); the served
 * model, usage and chunk texts each endpoint reports, and their absence when an answer has none; the
 * warnings for an input type Voyage lacks and for truncation a model cannot do; which images, URLs and
 * media types a multimodal model takes or refuses, word for word; the auto-chunking checks at their edge;
 * the provider settings every model draws on; the settings errors word for word; and the message that
 * names an answer of the wrong shape by endpoint and field.
 */
import {
  createRateLimiter,
  type EmbedInput,
  InvalidArgumentError,
  InvalidResponseError,
  type ProviderOptions,
} from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createVoyage,
  parseVoyageError,
  VOYAGE_CONTEXTUALIZED_LIMITS,
  VOYAGE_EMBEDDING_MODELS,
  VOYAGE_MULTIMODAL_MODELS,
  VOYAGE_RERANKING_MODELS,
} from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const COMMON = {
  maxInputsPerCall: 1000,
  inputTypes: ['query', 'document'],
  modalities: ['text'],
  normalized: true,
  supportsParallelCalls: true,
};
const ALL_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary'];
const LENGTHS = [256, 512, 1024, 2048];
/** A model with `output_dimension` and every `output_dtype`. */
const flexible = (maxTokensPerCall: number) => ({
  ...COMMON,
  maxTokensPerCall,
  maxTokensPerInput: 32_000,
  defaultDimensions: 1024,
  dimensions: LENGTHS,
  outputTypes: ALL_TYPES,
});
/** A model with a fixed 1,024-value float vector. */
const fixed = (maxTokensPerCall: number, maxTokensPerInput: number) => ({
  ...COMMON,
  maxTokensPerCall,
  maxTokensPerInput,
  defaultDimensions: 1024,
  outputTypes: ['float'],
});
/** What a float-only text model names for each quantized type: the text models that return it. */
const FLEXIBLE_TEXT_MODELS = [
  'voyage-4-large',
  'voyage-4',
  'voyage-4-lite',
  'voyage-3.5',
  'voyage-3.5-lite',
  'voyage-3-large',
  'voyage-code-3',
];
const ALTERNATIVES = {
  int8: FLEXIBLE_TEXT_MODELS,
  uint8: FLEXIBLE_TEXT_MODELS,
  binary: FLEXIBLE_TEXT_MODELS,
  ubinary: FLEXIBLE_TEXT_MODELS,
};
/** An older id the specs still name: float only, a fixed length, no default length or context. */
const floatOnly = (maxTokensPerCall: number) => ({
  ...COMMON,
  maxTokensPerCall,
  outputTypes: ['float'],
  outputTypeAlternatives: ALTERNATIVES,
});
const rerankLimits = (query: number, queryAndDocument: number, total: number) => ({
  maxDocumentsPerCall: 1000,
  maxTokensPerQuery: query,
  maxTokensPerDocument: queryAndDocument,
  maxTokensPerCall: total,
  supportsParallelCalls: true,
});

const voyage = createVoyage({ apiKey: TEST_KEY });

/** The error a call that must fail was refused with. */
async function failure(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return call.then(
    () => expect.unreachable('the call had to fail'),
    (error: unknown) => error as Error & Record<string, unknown>,
  );
}

describe('capabilities, field by field', () => {
  it.each([
    ['voyage-4-large', flexible(120_000)],
    ['voyage-4', flexible(320_000)],
    ['voyage-4-lite', flexible(1_000_000)],
    ['voyage-3.5', flexible(320_000)],
    ['voyage-3.5-lite', flexible(1_000_000)],
    ['voyage-3-large', flexible(120_000)],
    ['voyage-code-3', flexible(120_000)],
    ['voyage-finance-2', { ...fixed(120_000, 32_000), outputTypeAlternatives: ALTERNATIVES }],
    ['voyage-law-2', { ...fixed(120_000, 16_000), outputTypeAlternatives: ALTERNATIVES }],
    ['voyage-code-2', floatOnly(120_000)],
    ['voyage-2', floatOnly(320_000)],
    ['voyage-3', floatOnly(320_000)],
    ['voyage-3-lite', floatOnly(1_000_000)],
    ['voyage-large-2', floatOnly(120_000)],
    ['voyage-multilingual-2', floatOnly(120_000)],
    ['voyage-large-2-instruct', floatOnly(120_000)],
  ])('text model %s', (modelId, expected) => {
    expect(VOYAGE_EMBEDDING_MODELS[modelId]).toStrictEqual(expected);
    expect(voyage.embedding(modelId).capabilities).toStrictEqual(expected);
  });

  it('an unknown text model: the smallest token budget, every length and type, no default length or context', () => {
    expect(voyage.embedding('voyage-9-preview').capabilities).toStrictEqual({
      ...COMMON,
      maxTokensPerCall: 120_000,
      dimensions: LENGTHS,
      outputTypes: ALL_TYPES,
    });
  });

  it('contextualized models: as embedding models, and per call', () => {
    for (const modelId of ['voyage-context-3', 'voyage-context-4', 'voyage-context-9-preview']) {
      const model = voyage.contextualizedEmbedding(modelId);
      expect(model.capabilities).toStrictEqual(flexible(32_000));
      expect(model.contextualizedCapabilities).toStrictEqual({
        maxDocumentsPerCall: 1000,
        maxChunksPerCall: 16_000,
        maxTokensPerCall: 32_000,
        maxTokensPerDocument: 32_000,
      });
    }
    expect(VOYAGE_CONTEXTUALIZED_LIMITS).toStrictEqual(
      voyage.contextualizedEmbedding('voyage-context-3').contextualizedCapabilities,
    );
  });

  it('multimodal models: text and images; only voyage-multimodal-3.5 takes other lengths', () => {
    const mm3 = { ...fixed(320_000, 32_000), modalities: ['text', 'image'] };
    expect(VOYAGE_MULTIMODAL_MODELS['voyage-multimodal-3']).toStrictEqual(mm3);
    expect(voyage.multimodalEmbedding('voyage-multimodal-3').capabilities).toStrictEqual(mm3);
    expect(voyage.multimodalEmbedding('voyage-multimodal-3.5').capabilities).toStrictEqual({
      ...mm3,
      dimensions: LENGTHS,
    });
    expect(voyage.multimodalEmbedding('voyage-multimodal-9-preview').capabilities).toStrictEqual(mm3);
  });

  it.each([
    ['rerank-2.5', rerankLimits(8_000, 32_000, 600_000)],
    ['rerank-2.5-lite', rerankLimits(8_000, 32_000, 600_000)],
    ['rerank-2', rerankLimits(4_000, 16_000, 600_000)],
    ['rerank-2-lite', rerankLimits(2_000, 8_000, 600_000)],
    ['rerank-1', rerankLimits(2_000, 8_000, 300_000)],
    ['rerank-lite-1', rerankLimits(1_000, 4_000, 300_000)],
    ['rerank-9-preview', rerankLimits(1_000, 4_000, 300_000)],
  ])('reranker %s', (modelId, expected) => {
    expect(voyage.reranking(modelId).capabilities).toStrictEqual(expected);
    if (modelId !== 'rerank-9-preview') expect(VOYAGE_RERANKING_MODELS[modelId]).toStrictEqual(expected);
  });
});

const HINT_401 =
  'Voyage keys work on one host only: a key from the Voyage dashboard at api.voyageai.com, an Atlas model API key (al-…) at ai.mongodb.com. Check VOYAGE_API_KEY and baseURL.';
const HINT_403 =
  'Voyage answers 403 when the request comes from an IP address it does not allow; call from an allowed address or network.';

describe('parseVoyageError', () => {
  it('gives the key-host hint on a 401 and the IP hint on a 403, and no hint key at any other status', () => {
    expect(parseVoyageError({ detail: 'Provided API key is invalid.' }, 401)).toStrictEqual({
      hint: HINT_401,
      message: 'Provided API key is invalid.',
    });
    expect(parseVoyageError({ detail: 'Forbidden' }, 403)).toStrictEqual({
      hint: HINT_403,
      message: 'Forbidden',
    });
    for (const status of [400, 402, 404, 429, 500]) {
      expect(parseVoyageError({ detail: 'Nope' }, status)).toStrictEqual({ message: 'Nope' });
    }
  });

  it('reads nothing but the hint from a body that is not {"detail": ...}', () => {
    expect(parseVoyageError('Bad Gateway', 502)).toStrictEqual({});
    expect(parseVoyageError({ message: 'Internal error' }, 500)).toStrictEqual({});
    expect(parseVoyageError(null, 401)).toStrictEqual({ hint: HINT_401 });
    expect(parseVoyageError({ detail: 42 }, 403)).toStrictEqual({ hint: HINT_403 });
  });

  it('joins a validation list as "loc: msg" parts separated by "; ", a part without loc or msg as the other alone', () => {
    expect(
      parseVoyageError(
        {
          detail: [
            { loc: ['body', 'inputs', 4, 'content'], msg: 'Field required' },
            { msg: 'Extra inputs are not permitted' },
            { loc: ['body', 'model'] },
          ],
        },
        422,
      ),
    ).toStrictEqual({
      message: 'body.inputs.4.content: Field required; Extra inputs are not permitted; body.model',
      inputIndex: 4,
    });
    expect(parseVoyageError({ detail: [] }, 422)).toStrictEqual({ message: '' });
  });

  it.each([
    [['body', 'input', 3], 3],
    [['body', 'inputs', 2], 2],
    [['body', 'documents', 7], 7],
  ])('a first problem at %j names input %i', (loc, inputIndex) => {
    expect(parseVoyageError({ detail: [{ loc, msg: 'bad' }] }, 422)).toStrictEqual({
      message: `${loc.join('.')}: bad`,
      inputIndex,
    });
  });

  it.each([
    [['body', 'output_dimension', 0]],
    [['body', 'query', 1]],
    [['body', 'my_inputs', 1]],
    [['body', 'inputs_extra', 1]],
    [['body', 'my_documents', 1]],
    [['body', 'input', '3']],
    [['body', 'input']],
  ])('a first problem at %j names no input', (loc) => {
    expect(parseVoyageError({ detail: [{ loc, msg: 'bad' }] }, 422)).toStrictEqual({
      message: `${loc.join('.')}: bad`,
    });
  });

  it('only the first problem of the list can name the input', () => {
    expect(
      parseVoyageError(
        {
          detail: [
            { loc: ['body', 'model'], msg: 'unknown model' },
            { loc: ['body', 'input', 1], msg: 'too short' },
          ],
        },
        422,
      ),
    ).toStrictEqual({ message: 'body.model: unknown model; body.input.1: too short' });
  });

  it.each([
    ['The max allowed tokens per submitted batch is 120000.', 400],
    ['Please lower the number of tokens in the batch.', 413],
    ['BATCH SIZE IS TOO LARGE', 400],
  ])('"%s" at %i marks the batch as too large', (detail, status) => {
    expect(parseVoyageError({ detail }, status)).toStrictEqual({ message: detail, batchTooLarge: true });
  });

  it('the same words at another status, or other words at 400, do not', () => {
    for (const status of [401, 412, 414, 422, 429, 500]) {
      expect(parseVoyageError({ detail: 'Batch size is too large' }, status).batchTooLarge).toBeUndefined();
    }
    expect(parseVoyageError({ detail: 'Invalid model.' }, 400)).toStrictEqual({ message: 'Invalid model.' });
  });
});

/** float32 [0.5, -0.25] in base64. */
const PAIR = float32ToBase64([0.5, -0.25]);
const withoutUsage = (body: Record<string, unknown>) => {
  const { usage: _usage, ...rest } = body;
  return rest;
};
/** A `/contextualizedembeddings` answer: one document of one chunk. */
const contextAnswer = (extra: Record<string, unknown> = {}) => ({
  object: 'list',
  data: [{ object: 'list', index: 0, data: [{ object: 'embedding', index: 0, embedding: PAIR, ...extra }] }],
  model: 'voyage-context-3',
  usage: { total_tokens: 6 },
});
const rerankAnswer = {
  object: 'list',
  data: [{ index: 1, relevance_score: 0.75 }],
  model: 'rerank-2.5-2025',
  usage: { total_tokens: 12 },
};

describe('what an answer reports besides the vectors', () => {
  it('the served model of every endpoint', async () => {
    const server = fakeFetch([
      { body: { ...contextAnswer(), model: 'voyage-context-3-2025' } },
      { body: { ...contextAnswer(), model: 'voyage-context-3-2025' } },
      { body: embeddingsBody('voyage-multimodal-3-2025', [PAIR]) },
      { body: rerankAnswer },
    ]);
    const provider = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch });
    const context = provider.contextualizedEmbedding('voyage-context-3');
    const plain = await context.doEmbed({ inputs: ['a'] });
    expect(plain.response.modelId).toBe('voyage-context-3-2025');
    expect(plain.usage).toStrictEqual({ inputTokens: 6 });
    expect((await context.doEmbedContextualized({ documents: [['a']] })).response.modelId).toBe(
      'voyage-context-3-2025',
    );
    expect(
      (await provider.multimodalEmbedding('voyage-multimodal-3').doEmbed({ inputs: ['a'] })).response.modelId,
    ).toBe('voyage-multimodal-3-2025');
    const reranked = await provider.reranking('rerank-2.5').doRerank({ query: 'q', documents: ['x', 'y'] });
    expect(reranked).toStrictEqual({
      results: [{ index: 1, relevanceScore: 0.75 }],
      warnings: [],
      response: { status: 200, headers: { 'content-type': 'application/json' }, modelId: 'rerank-2.5-2025' },
      usage: { inputTokens: 12 },
    });
  });

  it('no usage at all when an answer carries none, on every endpoint', async () => {
    const server = fakeFetch([
      { body: withoutUsage(embeddingsBody('voyage-3.5', [PAIR])) },
      { body: withoutUsage(embeddingsBody('voyage-multimodal-3', [PAIR])) },
      { body: withoutUsage(contextAnswer()) },
      { body: withoutUsage(contextAnswer()) },
      { body: withoutUsage(rerankAnswer) },
    ]);
    const provider = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch });
    const results: object[] = [
      await provider.embedding('voyage-3.5').doEmbed({ inputs: ['a'] }),
      await provider.multimodalEmbedding('voyage-multimodal-3').doEmbed({ inputs: ['a'] }),
      await provider.contextualizedEmbedding('voyage-context-3').doEmbed({ inputs: ['a'] }),
      await provider
        .contextualizedEmbedding('voyage-context-3')
        .doEmbedContextualized({ documents: [['a']] }),
      await provider.reranking('rerank-2.5').doRerank({ query: 'q', documents: ['x', 'y'] }),
    ];
    expect(results.map((result) => 'usage' in result)).toEqual([false, false, false, false, false]);
  });

  it('a contextualized answer without auto-chunking has no chunks field, and its usage is read', async () => {
    const server = fakeFetch([{ body: contextAnswer({ text: 'ignored without auto-chunking' }) }]);
    const result = await createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
      .contextualizedEmbedding('voyage-context-3')
      .doEmbedContextualized({ documents: [['a']] });
    expect('chunks' in result).toBe(false);
    expect(result.usage).toStrictEqual({ inputTokens: 6 });
    expect(result.embeddings.map((document) => document.map((chunk) => Array.from(chunk)))).toEqual([
      [[0.5, -0.25]],
    ]);
  });
});

describe('an input type Voyage lacks, given to a model directly', () => {
  const warning = (label: string) => ({
    type: 'unsupported-setting',
    setting: 'inputType',
    message: `${label} has no "classification" input type (it supports query, document); the inputs were sent without one.`,
  });

  it('is not sent, and a warning names the model and the input types it has', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('voyage-3.5', [PAIR]) },
      { body: embeddingsBody('voyage-multimodal-3', [PAIR]) },
      { body: contextAnswer() },
    ]);
    const provider = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch });
    const text = await provider
      .embedding('voyage-3.5')
      .doEmbed({ inputs: ['a'], inputType: 'classification' });
    const multimodal = await provider
      .multimodalEmbedding('voyage-multimodal-3')
      .doEmbed({ inputs: ['a'], inputType: 'classification' });
    const context = await provider
      .contextualizedEmbedding('voyage-context-3')
      .doEmbedContextualized({ documents: [['a']], inputType: 'classification' });
    expect(text.warnings).toStrictEqual([warning('voyage model voyage-3.5')]);
    expect(multimodal.warnings).toStrictEqual([warning('voyage model voyage-multimodal-3')]);
    expect(context.warnings).toStrictEqual([warning('voyage model voyage-context-3')]);
    expect(server.requests.map((request) => request.body)).toEqual([
      { input: ['a'], model: 'voyage-3.5', truncation: false, encoding_format: 'base64' },
      {
        inputs: [{ content: [{ type: 'text', text: 'a' }] }],
        model: 'voyage-multimodal-3',
        truncation: false,
        output_encoding: 'base64',
      },
      { inputs: [['a']], model: 'voyage-context-3', encoding_format: 'base64' },
    ]);
  });

  it('query and document are sent as they are, with no warning', async () => {
    const server = fakeFetch([{ body: contextAnswer() }, { body: contextAnswer() }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'voyage-context-3',
    );
    for (const inputType of ['query', 'document'] as const) {
      expect((await model.doEmbedContextualized({ documents: [['a']], inputType })).warnings).toStrictEqual(
        [],
      );
    }
    expect(server.requests.map((request) => (request.body as { input_type: string }).input_type)).toEqual([
      'query',
      'document',
    ]);
  });
});

describe('provider settings that reach every model', () => {
  it('each kind of model draws on the rateLimit given', () => {
    const limiter = createRateLimiter({ requestsPerMinute: 60 });
    const provider = createVoyage({ apiKey: TEST_KEY, rateLimit: limiter });
    expect([
      provider.embedding('voyage-3.5').rateLimiter,
      provider.contextualizedEmbedding('voyage-context-3').rateLimiter,
      provider.multimodalEmbedding('voyage-multimodal-3').rateLimiter,
      provider.reranking('rerank-2.5').rateLimiter,
    ]).toEqual([limiter, limiter, limiter, limiter]);
    expect(voyage.embedding('voyage-3.5').rateLimiter).toBeUndefined();
  });

  it('an answer over maxResponseBytes is an InvalidResponseError naming the limit', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [PAIR]) }]);
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: server.fetch, maxResponseBytes: 32 })
        .embedding('voyage-3.5')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(
      'voyage sent a response larger than 32 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });
});

describe('image media types', () => {
  it('are taken in any case: bytes go as a lower-case data URL, a data URL goes as it is', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-multimodal-3', [PAIR, PAIR]) }]);
    await createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
      .multimodalEmbedding('voyage-multimodal-3')
      .doEmbed({
        inputs: [
          { image: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), mediaType: 'IMAGE/PNG' },
          { image: 'DATA:Image/Jpeg;base64,/9j/4A==' },
        ],
      });
    expect((server.requests[0]!.body as { inputs: unknown }).inputs).toEqual([
      { content: [{ type: 'image_base64', image_base64: 'data:image/png;base64,iVBORw==' }] },
      { content: [{ type: 'image_base64', image_base64: 'DATA:Image/Jpeg;base64,/9j/4A==' }] },
    ]);
  });
});

describe('an image given to a text model', () => {
  it('is refused naming the model and pointing to the multimodal models', async () => {
    const server = fakeFetch([]);
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
        .embedding('voyage-3.5')
        .doEmbed({ inputs: ['a', { image: 'https://example.com/cat.png' }] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      argument: 'inputs[1]',
      message:
        "Input 1 is not text; voyage model voyage-3.5 takes text only. Use voyage.multimodalEmbedding('voyage-multimodal-3.5') for images and interleaved content.",
    });
    expect(server.requests).toEqual([]);
  });
});

describe('multimodal inputs', () => {
  it('a { text } input is sent as one text part, its white space kept', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-multimodal-3', [PAIR]) }]);
    await createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
      .multimodalEmbedding('voyage-multimodal-3')
      .doEmbed({ inputs: [{ text: '  a caption  ' }] });
    expect((server.requests[0]!.body as { inputs: unknown }).inputs).toEqual([
      { content: [{ type: 'text', text: '  a caption  ' }] },
    ]);
  });
});

describe('a direct call mixing the two image forms', () => {
  it('is refused before any request, saying how the engine sends them', async () => {
    const server = fakeFetch([]);
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
        .multimodalEmbedding('voyage-multimodal-3')
        .doEmbed({
          inputs: ['text', { image: 'https://example.com/a.png' }, { image: 'data:image/gif;base64,R0lG' }],
        }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      argument: 'inputs',
      message:
        'voyage model voyage-multimodal-3 cannot mix image URLs and image bytes or data URLs in one call; use one form for every image (embedMany and embedStream send each form in calls of its own).',
    });
    expect(server.requests).toEqual([]);
  });
});

describe('image URLs', () => {
  it('http and https, in any case, go as image_url exactly as given', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-multimodal-3', [PAIR, PAIR]) }]);
    await createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
      .multimodalEmbedding('voyage-multimodal-3')
      .doEmbed({ inputs: [{ image: 'http://example.com/a.png' }, { image: 'HTTPS://Example.com/B.png' }] });
    expect((server.requests[0]!.body as { inputs: unknown }).inputs).toEqual([
      { content: [{ type: 'image_url', image_url: 'http://example.com/a.png' }] },
      { content: [{ type: 'image_url', image_url: 'HTTPS://Example.com/B.png' }] },
    ]);
  });
});

describe('images refused before any request, word for word', () => {
  it.each<[string, EmbedInput, string, string]>([
    [
      'empty bytes',
      { image: new Uint8Array(0), mediaType: 'image/png' },
      'inputs[0]',
      'inputs[0] is an empty image.',
    ],
    [
      'an image that is neither text nor bytes',
      { image: new ArrayBuffer(4) as never, mediaType: 'image/png' },
      'inputs[0]',
      'inputs[0] must be a URL or bytes.',
    ],
    [
      'bytes without a media type',
      { content: [{ type: 'text', text: 'a' }, { type: 'image', data: new Uint8Array([1]) } as never] },
      'inputs[0].content[1]',
      'inputs[0].content[1] holds image bytes without a mediaType; give image/png, image/jpeg, image/webp or image/gif.',
    ],
    [
      'a media type Voyage does not take',
      { image: 'data:image/bmp;base64,Qk0=' },
      'inputs[0]',
      'inputs[0] is image/bmp; Voyage takes image/png, image/jpeg, image/webp and image/gif.',
    ],
    [
      'a URL that is not http(s)',
      { content: [{ type: 'image', url: 'ftp://example.com/a.png' }] },
      'inputs[0].content[0]',
      'inputs[0].content[0] must be an http(s) URL, a base64 data URL or bytes with a mediaType.',
    ],
    [
      'an input holding an image URL and a data URL',
      {
        content: [
          { type: 'image', url: 'https://example.com/a.png' },
          { type: 'image', url: 'data:image/png;base64,iVBORw==' },
        ],
      },
      'inputs[0]',
      'inputs[0] holds both image URLs and image bytes or data URLs; voyage model voyage-multimodal-3 takes one form per request, so give every image of an input in one form.',
    ],
    [
      'a URL somewhere inside the text',
      { image: 'see https://example.com/a.png' },
      'inputs[0]',
      'inputs[0] must be an http(s) URL, a base64 data URL or bytes with a mediaType.',
    ],
    [
      'a scheme with nothing after it',
      { image: 'https://' },
      'inputs[0]',
      'inputs[0] must be an http(s) URL, a base64 data URL or bytes with a mediaType.',
    ],
    ['an input with no content parts', { content: [] }, 'inputs[0]', 'inputs[0] has no content parts.'],
    ['an object that is no kind of input', {} as never, 'inputs[0]', 'inputs[0] has no content parts.'],
    [
      'a part of an unknown type',
      { content: [{ type: 'video', url: 'https://example.com/a.mp4' } as never] },
      'inputs[0].content[0]',
      'inputs[0].content[0] has an unknown part type.',
    ],
  ])('%s', async (_label, input, argument, message) => {
    const server = fakeFetch([]);
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
        .multimodalEmbedding('voyage-multimodal-3')
        .doEmbed({ inputs: [input] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ argument, message });
    expect(server.requests).toEqual([]);
  });

  it('one byte is an image; each of the four media types is taken', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-multimodal-3', [PAIR, PAIR, PAIR, PAIR]) }]);
    await createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
      .multimodalEmbedding('voyage-multimodal-3')
      .doEmbed({
        inputs: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'].map((mediaType) => ({
          image: new Uint8Array([255]),
          mediaType,
        })),
      });
    expect((server.requests[0]!.body as { inputs: unknown }).inputs).toEqual(
      ['png', 'jpeg', 'webp', 'gif'].map((type) => ({
        content: [{ type: 'image_base64', image_base64: `data:image/${type};base64,/w==` }],
      })),
    );
  });
});

describe('truncation', () => {
  it('a multimodal model asks the API to truncate only when truncate is true', async () => {
    const server = fakeFetch([1, 2, 3].map(() => ({ body: embeddingsBody('voyage-multimodal-3', [PAIR]) })));
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).multimodalEmbedding(
      'voyage-multimodal-3',
    );
    await model.doEmbed({ inputs: ['a'], truncate: true });
    await model.doEmbed({ inputs: ['a'], truncate: false });
    await model.doEmbed({ inputs: ['a'] });
    expect(server.requests.map((request) => (request.body as { truncation: boolean }).truncation)).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('a contextualized model, which cannot truncate, warns only when truncate is true and sends no truncation field', async () => {
    const server = fakeFetch([{ body: contextAnswer() }, { body: contextAnswer() }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'voyage-context-3',
    );
    expect((await model.doEmbed({ inputs: ['a'], truncate: true })).warnings).toStrictEqual([
      {
        type: 'unsupported-setting',
        setting: 'truncate',
        message:
          'voyage contextualized embeddings cannot truncate; an input over the context length fails instead.',
      },
    ]);
    expect((await model.doEmbed({ inputs: ['a'], truncate: false })).warnings).toStrictEqual([]);
    expect(server.requests.map((request) => 'truncation' in (request.body as object))).toEqual([
      false,
      false,
    ]);
  });
});

describe('providerOptions.voyage', () => {
  it('multimodal and rerank calls refuse an option they do not have, before any request', async () => {
    const server = fakeFetch([]);
    const provider = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch });
    // Typed loosely: the compiler refuses these options for a Voyage model, and this is the check a caller
    // without types meets.
    const providerOptions: ProviderOptions = { voyage: { returnDocuments: true } };
    for (const call of [
      provider.multimodalEmbedding('voyage-multimodal-3').doEmbed({ inputs: ['a'], providerOptions }),
      provider.reranking('rerank-2.5').doRerank({ query: 'q', documents: ['x'], providerOptions }),
    ]) {
      const error = await failure(call);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({
        argument: 'providerOptions.voyage',
        message: 'providerOptions.voyage is invalid: (root): unknown key "returnDocuments".',
      });
    }
    expect(server.requests).toEqual([]);
  });
});

describe('auto-chunking checks', () => {
  const autoChunked = { inputType: 'document' as const, providerOptions: { voyage: { autoChunking: true } } };

  it('a plain embedding call refuses auto-chunking, saying where its vectors fit', async () => {
    const server = fakeFetch([]);
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: server.fetch })
        .contextualizedEmbedding('voyage-context-3')
        .doEmbed({ inputs: ['a'], ...autoChunked }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      argument: 'providerOptions.voyage.autoChunking',
      message:
        'autoChunking returns one vector per chunk Voyage makes, several per input; use embedContextualized, whose result has room for them (and their chunk texts).',
    });
    expect(server.requests).toEqual([]);
  });

  it('a document given as a bare string, not a list of one, is refused as having no chunks', () => {
    const model = createVoyage({ apiKey: TEST_KEY }).contextualizedEmbedding('voyage-context-3');
    expect(() =>
      model.checkContextualizedRequest({ documents: [['one'], 'a whole document' as never], ...autoChunked }),
    ).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'documents[1]',
        message:
          'With autoChunking each document is one string for Voyage to chunk; document 1 has 0 chunks.',
      }),
    );
  });

  it('without a chunkSize, the overlap must be under the server default of 512', () => {
    const model = createVoyage({ apiKey: TEST_KEY }).contextualizedEmbedding('voyage-context-3');
    const check = (chunkOverlap: number) => () =>
      model.checkContextualizedRequest({
        documents: [['a']],
        inputType: 'document',
        providerOptions: { voyage: { autoChunking: true, chunkOverlap } },
      });
    expect(check(511)).not.toThrow();
    expect(check(512)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'providerOptions.voyage.chunkOverlap',
        message: 'chunkOverlap 512 must be smaller than chunkSize (server default 512).',
      }),
    );
  });
});

describe('models and their errors', () => {
  it('every kind of model is named voyage and keeps its id', () => {
    const models = [
      voyage.embedding('voyage-3.5'),
      voyage.contextualizedEmbedding('voyage-context-3'),
      voyage.multimodalEmbedding('voyage-multimodal-3'),
      voyage.reranking('rerank-2.5'),
    ];
    expect(models.map((model) => [model.provider, model.modelId, model.specificationVersion])).toEqual([
      ['voyage', 'voyage-3.5', 'v1'],
      ['voyage', 'voyage-context-3', 'v1'],
      ['voyage', 'voyage-multimodal-3', 'v1'],
      ['voyage', 'rerank-2.5', 'v1'],
    ]);
  });

  it('a chunk vector that cannot be decoded keeps the decoder error as the cause of its cause', async () => {
    const body = contextAnswer();
    body.data[0]!.data[0]!.embedding = 'AAA';
    const failing = fakeFetch([{ body }]);
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: failing.fetch })
        .contextualizedEmbedding('voyage-context-3')
        .doEmbedContextualized({ documents: [['a']] }),
    );
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(
      'voyage returned chunk 0 of document 0 of this call, which is not valid base64 of float values (3 characters decode to 2 bytes).',
    );
    const inner = (error.cause as Error).cause as Error;
    expect(inner).toBeInstanceOf(InvalidResponseError);
    expect(inner.message).toBe(
      'Vector 0 is not valid base64 of float values (3 characters decode to 2 bytes).',
    );
  });
});

describe('settings errors, word for word', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('a missing key names the provider and VOYAGE_API_KEY', async () => {
    vi.stubEnv('VOYAGE_API_KEY', '');
    const server = fakeFetch([]);
    const error = await failure(
      createVoyage({ fetch: server.fetch })
        .reranking('rerank-2.5')
        .doRerank({ query: 'q', documents: ['x'] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      argument: 'apiKey',
      provider: 'voyage',
      message:
        'voyage: no API key. Set the VOYAGE_API_KEY environment variable, or pass apiKey to the provider settings.',
    });
    expect(server.requests).toEqual([]);
  });

  it('a VOYAGE_BASE_URL that is no http(s) URL names the provider and the variable', async () => {
    vi.stubEnv('VOYAGE_BASE_URL', 'ai.mongodb.com/v1');
    const error = await failure(
      createVoyage({ apiKey: TEST_KEY, fetch: fakeFetch([]).fetch })
        .embedding('voyage-3.5')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error).toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'baseURL',
      message:
        'voyage: the base URL from VOYAGE_BASE_URL is not an absolute http(s) URL; it should look like https://api.example.com/v1.',
    });
  });
});

describe('answers of the wrong shape, named by endpoint and field', () => {
  // The empty ways: each said as OpenAI's provider says it (the same words, from the same checks).
  const embed = (provider: ReturnType<typeof createVoyage>) =>
    provider.embedding('voyage-3.5').doEmbed({ inputs: ['a', 'b'] });
  it.each([
    [
      'an empty object',
      embed,
      {},
      'voyage returned an embeddings body of the wrong shape: data: expected array, got undefined; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    ],
    [
      'data null',
      embed,
      { data: null },
      'voyage returned an embeddings body of the wrong shape: data: expected array, got null; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    ],
    [
      'an empty data list',
      embed,
      { data: [], usage: { total_tokens: 0 } },
      'voyage returned 0 vectors for 2 inputs.',
    ],
    [
      'a multimodal answer without data',
      (provider: ReturnType<typeof createVoyage>) =>
        provider.multimodalEmbedding('voyage-multimodal-3').doEmbed({ inputs: ['a'] }),
      { model: 'voyage-multimodal-3', usage: { total_tokens: 1 } },
      'voyage returned a multimodal embeddings body of the wrong shape: data: expected array, got undefined; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    ],
    [
      'a rerank result with a negative index',
      (provider: ReturnType<typeof createVoyage>) =>
        provider.reranking('rerank-2.5').doRerank({ query: 'q', documents: ['x', 'y'] }),
      { ...rerankAnswer, data: [{ index: -1, relevance_score: 0.5 }] },
      'voyage returned a rerank body of the wrong shape: data.0.index: must be at least 0; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    ],
    [
      'a contextualized document with a negative index',
      (provider: ReturnType<typeof createVoyage>) =>
        provider.contextualizedEmbedding('voyage-context-3').doEmbedContextualized({ documents: [['a']] }),
      { ...contextAnswer(), data: [{ ...contextAnswer().data[0]!, index: -1 }] },
      'voyage returned a contextualized embeddings body of the wrong shape: data.0.index: must be at least 0; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    ],
    [
      'a chunk text that is not a string',
      (provider: ReturnType<typeof createVoyage>) =>
        provider.contextualizedEmbedding('voyage-context-3').doEmbedContextualized({
          documents: [['a']],
          inputType: 'document',
          providerOptions: { voyage: { autoChunking: true } },
        }),
      contextAnswer({ text: 5 }),
      'voyage returned a contextualized embeddings body of the wrong shape: data.0.data.0.text: expected string, got number; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    ],
  ])('%s', async (_label, call, body, message) => {
    const provider = createVoyage({ apiKey: TEST_KEY, fetch: fakeFetch([{ body }]).fetch });
    const error = await failure(call(provider));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(message);
  });
});

describe('a model id that is also an Object.prototype name', () => {
  it.each(['constructor', 'toString', '__proto__'])(
    '"%s" gets the capabilities of any unknown id, for embedding, multimodal and reranking models (bug: a function off Object.prototype taken for them)',
    (modelId) => {
      const provider = createVoyage({ apiKey: TEST_KEY });
      expect(provider.embedding(modelId).capabilities).toStrictEqual(
        provider.embedding('voyage-9-unknown').capabilities,
      );
      expect(provider.multimodalEmbedding(modelId).capabilities).toStrictEqual(
        provider.multimodalEmbedding('voyage-multimodal-9-unknown').capabilities,
      );
      expect(provider.reranking(modelId).capabilities).toStrictEqual(
        provider.reranking('rerank-9-unknown').capabilities,
      );
    },
  );
});
