/**
 * The Jina provider's edges, each pinned exactly: how error bodies are read (a code inside `detail`, a
 * 422 with only `errors`, the input a problem points at, the status a too-large batch may come with),
 * which settings reach the body for models the table does not know, the limits of images given as
 * bytes, base64 or URLs, the bounds of the provider options, and the capabilities every model declares.
 */

import { embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createJina, JINA_EMBEDDING_MODELS, parseJinaError } from '../src/index.js';
import { jinaContextualizedLimits, jinaEmbeddingProfile } from '../src/jina-options.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const FLOAT_B64 = 'AAAAPwAAgL4AAIA/AAAAwA==';
const KEY_HINT =
  'Check JINA_API_KEY or the apiKey setting: Jina keys begin "jina_" and are managed at https://jina.ai/api-dashboard/key-manager.';
const BALANCE_HINT =
  'The Jina account has no tokens left: top up its balance at https://jina.ai/api-dashboard before retrying; retrying alone will not help.';

describe('reading Jina error bodies', () => {
  it('takes the code from inside detail when the body has none of its own', () => {
    expect(parseJinaError({ detail: { message: 'Bad key.', code: 'AUTH_INVALID_API_KEY' } }, 200)).toEqual({
      message: 'Bad key.',
      providerCode: 'AUTH_INVALID_API_KEY',
      kind: 'authentication',
      hint: KEY_HINT,
    });
    // The body's own code wins over the one in detail.
    expect(
      parseJinaError(
        { detail: { message: 'm', code: 'AUTH_INVALID_API_KEY' }, code: 'RATE_IP_LIMIT_EXCEEDED' },
        429,
      ),
    ).toEqual({ message: 'm', providerCode: 'RATE_IP_LIMIT_EXCEEDED', kind: 'rate_limited' });
  });

  it('sets no field the body does not give (no request id, no code, no kind)', () => {
    expect(parseJinaError({ detail: 'Bad input.' }, 400)).toStrictEqual({ message: 'Bad input.' });
  });

  it('a 422 with only errors lists them as the message; a part missing its field or message is left out', () => {
    expect(
      parseJinaError(
        {
          errors: [{ field: 'dimensions', message: 'too large' }, { message: 'no field' }, { field: 'task' }],
        },
        422,
      ),
    ).toEqual({ message: 'dimensions: too large; no field; task' });
  });

  it('names the first input a problem points at, in each of the forms Jina writes it', () => {
    const indexOf = (field: string) =>
      parseJinaError({ errors: [{ field, message: 'bad' }] }, 422).inputIndex;
    expect(indexOf('input.3')).toBe(3);
    expect(indexOf('input[12]')).toBe(12);
    expect(indexOf('body -> input -> 7')).toBe(7);
    expect(indexOf('body.input.4')).toBe(4);
    expect(indexOf('documents.2')).toBe(2);
    expect(indexOf('input->5')).toBe(5);
    expect(indexOf('input ->6')).toBe(6);
    expect(indexOf('previnput.3')).toBeUndefined();
    expect(indexOf('input.x')).toBeUndefined();
    expect(indexOf('dimensions')).toBeUndefined();
    expect(
      parseJinaError(
        {
          errors: [
            { field: 'task', message: 'a' },
            { field: 'input.1', message: 'b' },
            { field: 'input.4', message: 'c' },
          ],
        },
        422,
      ).inputIndex,
    ).toBe(1);
    expect(
      parseJinaError({ detail: [{ loc: ['body', 'input', 9], msg: 'x' }, { msg: 'no place' }] }, 422),
    ).toEqual({
      message: 'body.input.9: x; no place',
      inputIndex: 9,
    });
  });

  it('a 413 over the item limit is a batch too large; the same words at 403 or 429 are not', () => {
    const detail = 'Each input list can contain at most 512 items';
    expect(parseJinaError({ detail }, 413)).toEqual({ message: detail, batchTooLarge: true });
    expect(
      parseJinaError({ detail: 'EACH INPUT LIST CAN CONTAIN AT MOST 2048 ITEMS' }, 400).batchTooLarge,
    ).toBe(true);
    expect(parseJinaError({ detail }, 403).batchTooLarge).toBeUndefined();
    expect(parseJinaError({ detail }, 429).batchTooLarge).toBeUndefined();
    expect(parseJinaError({ detail: 'at most many items' }, 400).batchTooLarge).toBeUndefined();
  });

  it('the balance message without a code stops retries at 403 only, with or without "account"', () => {
    expect(parseJinaError({ detail: 'Insufficient account balance.' }, 403)).toEqual({
      message: 'Insufficient account balance.',
      kind: 'permission_denied',
      isRetryable: false,
      hint: BALANCE_HINT,
    });
    expect(parseJinaError({ detail: 'INSUFFICIENT BALANCE' }, 403).kind).toBe('permission_denied');
    expect(parseJinaError({ detail: 'Insufficient account balance.' }, 402)).toEqual({
      message: 'Insufficient account balance.',
    });
  });

  it('gives each code with a hint its own words', () => {
    expect(parseJinaError({ detail: 'x', code: 'AUTHZ_RESOURCE_LIMIT_EXCEEDED' }, 403)).toEqual({
      message: 'x',
      providerCode: 'AUTHZ_RESOURCE_LIMIT_EXCEEDED',
      kind: 'permission_denied',
      isRetryable: false,
      hint: 'The key is valid, but its account has reached a limit of its plan: raise the plan at https://jina.ai/api-dashboard; retrying will not help.',
    });
    expect(parseJinaError({ detail: 'x', code: 'INPUT_MODEL_NOT_FOUND' }, 400)).toEqual({
      message: 'x',
      providerCode: 'INPUT_MODEL_NOT_FOUND',
      kind: 'not_found',
      hint: 'Check the model id; the message lists the models the API knows.',
    });
    expect(parseJinaError({ detail: 'x', code: 'AUTHZ_INSUFFICIENT_BALANCE' }, 403).hint).toBe(BALANCE_HINT);
    // An unknown code is kept, with no kind; a 401 keeps the key hint.
    expect(parseJinaError({ detail: 'x', code: 'AUTHX_SOMETHING', request_id: 'r' }, 401)).toEqual({
      message: 'x',
      providerCode: 'AUTHX_SOMETHING',
      requestId: 'r',
      hint: KEY_HINT,
    });
  });
});

describe('settings for a model the table does not know', () => {
  it('sends normalized when asked, and the inputType warning lists no types', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v9', [FLOAT_B64]) }]);
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    const response = await jina
      .embedding('jina-embeddings-v9')
      .doEmbed({ inputs: ['a'], inputType: 'query', providerOptions: { jina: { normalized: true } } });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v9',
      input: ['a'],
      embedding_type: 'base64',
      normalized: true,
      truncate: false,
    });
    expect(response.warnings).toEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message:
          'jina model jina-embeddings-v9 has no "query" input type; the inputs were sent without a task.',
      },
    ]);
  });

  it('late chunking without a known context assumes 8,192 tokens', () => {
    const { capabilities } = jinaEmbeddingProfile('jina-embeddings-v3');
    const { maxTokensPerInput: _, ...withoutContext } = capabilities;
    expect(jinaContextualizedLimits(withoutContext)).toEqual({
      maxDocumentsPerCall: 1,
      maxChunksPerCall: 512,
      maxTokensPerCall: 8192,
      maxTokensPerDocument: 8192,
    });
  });

  it('an output type the API has no embedding_type for is refused by the model itself, before sending', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    await expect(model.doEmbed({ inputs: ['a'], outputType: 'int8' })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'outputType',
      message: 'jina model jina-embeddings-v3 cannot return int8 vectors.',
    });
    expect(server.requests).toEqual([]);
  });

  it('an answer without usage reports none', async () => {
    const body = { model: 'jina-embeddings-v3', data: [{ index: 0, embedding: FLOAT_B64 }] };
    const server = fakeFetch([{ body }, { body: { model: 'jina-reranker-v3', results: [] } }]);
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    const response = await jina.embedding('jina-embeddings-v3').doEmbed({ inputs: ['a'] });
    expect(response).not.toHaveProperty('usage');
    const reranked = await jina.reranking('jina-reranker-v3').doRerank({ query: 'q', documents: ['d'] });
    expect(reranked).not.toHaveProperty('usage');
    // The model the API names is reported with the answer.
    expect(reranked.response.modelId).toBe('jina-reranker-v3');
    expect(server.requests[1]!.body).toEqual({
      model: 'jina-reranker-v3',
      query: 'q',
      documents: ['d'],
      return_documents: false,
      truncation: false,
    });
  });
});

describe('the bounds of the provider options', () => {
  it('max_doc_length takes 1 to 8192; 0 and 8193 are refused before sending', async () => {
    const answer = { body: { model: 'jina-reranker-v3', usage: { total_tokens: 1 }, results: [] } };
    const server = fakeFetch([answer, answer]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    for (const maxDocumentLength of [1, 8192]) {
      await model.doRerank({
        query: 'q',
        documents: ['d'],
        providerOptions: { jina: { maxDocumentLength } },
      });
    }
    expect(
      server.requests.map((request) => (request.body as { max_doc_length: number }).max_doc_length),
    ).toEqual([1, 8192]);
    for (const maxDocumentLength of [0, 8193]) {
      await expect(
        model.doRerank({ query: 'q', documents: ['d'], providerOptions: { jina: { maxDocumentLength } } }),
      ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina' });
    }
    expect(server.requests).toHaveLength(2);
  });

  it('a task word must not be empty; a one-letter word goes as given to an unknown model', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v9', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v9');
    await expect(
      model.doEmbed({ inputs: ['a'], providerOptions: { jina: { task: '' } } }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'providerOptions.jina' });
    await model.doEmbed({ inputs: ['a'], providerOptions: { jina: { task: 'x' } } });
    expect((server.requests[0]!.body as { task: string }).task).toBe('x');
  });

  it.each([
    [
      'jina-embeddings-v3',
      ['retrieval.query', 'retrieval.passage', 'text-matching', 'classification', 'separation'],
    ],
    [
      'jina-embeddings-v4',
      ['text-matching', 'retrieval.query', 'retrieval.passage', 'code.query', 'code.passage'],
    ],
    [
      'jina-embeddings-v5-text-nano',
      ['retrieval.query', 'retrieval.passage', 'text-matching', 'clustering', 'classification'],
    ],
    ['jina-clip-v2', ['retrieval.query']],
    [
      'jina-code-embeddings-0.5b',
      ['nl2code', 'qa', 'code2code', 'code2nl', 'code2completion'].flatMap((family) => [
        `${family}.query`,
        `${family}.passage`,
      ]),
    ],
  ])('%s takes exactly the task words of its schema', async (modelId, words) => {
    const server = fakeFetch(words.map(() => ({ body: embeddingsBody(modelId, [FLOAT_B64]) })));
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(modelId);
    for (const task of words) await model.doEmbed({ inputs: ['a'], providerOptions: { jina: { task } } });
    expect(server.requests.map((request) => (request.body as { task: string }).task)).toEqual(words);
    await expect(
      model.doEmbed({ inputs: ['a'], providerOptions: { jina: { task: 'retrieval.document' } } }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina.task',
      message: `jina model ${modelId} has no task "retrieval.document"; it takes ${words.join(', ')}.`,
    });
  });
});

describe('images', () => {
  const MAX = 8_000_000;
  const setup = () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-clip-v2', [float32ToBase64([0.5])]) }]);
    return { server, model: createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-clip-v2') };
  };

  it('takes bytes and base64 up to exactly 8 MB (8,000,000 bytes), and refuses one byte more', async () => {
    const { model } = setup();
    expect(() => model.checkInput({ image: new Uint8Array(MAX) }, 0)).not.toThrow();
    const atLimit = Buffer.alloc(MAX).toString('base64');
    expect(() => model.checkInput({ image: atLimit }, 0)).not.toThrow();
    expect(() => model.checkInput({ image: `data:image/png;base64,${atLimit}` }, 0)).not.toThrow();
    const over = Buffer.alloc(MAX + 1).toString('base64');
    expect(() => model.checkInput({ image: over }, 3)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'inputs[3]',
        message: 'inputs[3] is larger than the 8 MB Jina takes for an image.',
      }),
    );
    const overByTwo = Buffer.alloc(MAX + 2).toString('base64');
    expect(() => model.checkInput({ image: overByTwo }, 0)).toThrow(
      expect.objectContaining({ message: 'inputs[0] is larger than the 8 MB Jina takes for an image.' }),
    );
  });

  it.each([
    ['AAAA', true],
    ['AAA=', true],
    ['AA==', true],
    ['a+/9', true],
    ['A===', false],
    ['AAA', false],
    ['AAAAA', false],
    ['AA-_', false],
    ['AA==AAAA', false],
    ['=AAA', false],
    ['', false],
  ])('the base64 string %j is taken: %s', (image, taken) => {
    const { model } = setup();
    const check = () => model.checkInput({ image }, 0);
    if (taken) expect(check).not.toThrow();
    else
      expect(check).toThrow(
        expect.objectContaining({
          message: 'inputs[0] must be an http(s) URL, a base64 string or data URL, or bytes.',
        }),
      );
  });

  it('a URL is any http or https address in either case, sent as is; the scheme alone is no URL', async () => {
    const { server, model } = setup();
    await model.doEmbed({ inputs: [{ image: 'HTTP://EXAMPLE.COM/A.PNG' }] });
    expect((server.requests[0]!.body as { input: unknown }).input).toEqual([
      { image: 'HTTP://EXAMPLE.COM/A.PNG' },
    ]);
    expect(() => model.checkInput({ image: 'http://x' }, 0)).not.toThrow();
    for (const image of ['https://', 'ftp://example.com/a.png', ' https://example.com/a.png']) {
      expect(() => model.checkInput({ image }, 0)).toThrow(
        expect.objectContaining({
          message: 'inputs[0] must be an http(s) URL, a base64 string or data URL, or bytes.',
        }),
      );
    }
  });

  it('a media type is an image one in any case, and must begin with image/', () => {
    const { model } = setup();
    expect(() => model.checkInput({ image: new Uint8Array(4), mediaType: 'IMAGE/PNG' }, 0)).not.toThrow();
    expect(() => model.checkInput({ image: new Uint8Array(4), mediaType: 'x-image/png' }, 0)).toThrow(
      expect.objectContaining({
        message: 'inputs[0] has media type x-image/png; Jina embeds image/* inputs.',
      }),
    );
    expect(() => model.checkInput({ image: 'data:imagex/png;base64,AAAA' }, 0)).toThrow(
      expect.objectContaining({ message: 'inputs[0] is a imagex/png data URL, not an image.' }),
    );
  });

  it('an image that is neither text, bytes nor a string, or a part of no known type, is refused by name', () => {
    const { model } = setup();
    expect(() => model.checkInput({ image: 42 } as never, 1)).toThrow(
      expect.objectContaining({
        message: 'inputs[1] must be a URL, a base64 string or bytes.',
        argument: 'inputs[1]',
      }),
    );
    expect(() => model.checkInput({ content: [{ type: 'audio', data: 'x' }] } as never, 0)).toThrow(
      expect.objectContaining({
        message: 'inputs[0].content[0] has an unknown part type.',
        argument: 'inputs[0].content[0]',
      }),
    );
    expect(() => model.checkInput(42 as never, 2)).toThrow(
      expect.objectContaining({
        message: 'inputs[2] must be a string or an object with text or image.',
        argument: 'inputs[2]',
      }),
    );
    expect(() => model.checkInput({ text: 7 } as never, 0)).toThrow(
      expect.objectContaining({ message: 'inputs[0] has an empty or non-string text.' }),
    );
    expect(() => model.checkInput({ content: [] } as never, 0)).toThrow(
      expect.objectContaining({
        message:
          'inputs[0] has interleaved content; Jina embeds one text or one image per input, so send each part as its own input.',
      }),
    );
  });

  it('a one-part content with an image URL is sent as that URL', async () => {
    const { server, model } = setup();
    await model.doEmbed({ inputs: [{ content: [{ type: 'image', url: 'https://example.com/a.png' }] }] });
    expect((server.requests[0]!.body as { input: unknown }).input).toEqual([
      { image: 'https://example.com/a.png' },
    ]);
  });
});

describe('what every model declares', () => {
  it('every known model takes parallel calls, and late chunking only where its schema has it', () => {
    expect(
      Object.fromEntries(
        Object.entries(JINA_EMBEDDING_MODELS).map(([id, profile]) => [
          id,
          [profile.capabilities.supportsParallelCalls, profile.lateChunking, profile.normalizedField],
        ]),
      ),
    ).toEqual({
      'jina-embeddings-v5-text-small': [true, false, true],
      'jina-embeddings-v5-text-nano': [true, false, true],
      'jina-embeddings-v4': [true, true, false],
      'jina-embeddings-v3': [true, true, true],
      'jina-clip-v2': [true, false, true],
      'jina-code-embeddings-1.5b': [true, false, false],
      'jina-code-embeddings-0.5b': [true, false, false],
      'jina-embeddings-v2-base-en': [true, false, true],
      'jina-embeddings-v2-base-zh': [true, false, true],
      'jina-embeddings-v2-base-de': [true, false, true],
      'jina-embeddings-v2-base-es': [true, false, true],
      'jina-embeddings-v2-base-code': [true, false, true],
      'jina-clip-v1': [true, false, true],
    });
  });
});

describe('provider settings that reach every call', () => {
  it('the rate limiter given to the provider is the one each model draws on', () => {
    const rateLimit = { acquire: async () => {} } as never;
    const jina = createJina({ apiKey: TEST_KEY, rateLimit });
    expect(jina.embedding('jina-embeddings-v3').rateLimiter).toBe(rateLimit);
    expect(jina.contextualizedEmbedding('jina-embeddings-v3').rateLimiter).toBe(rateLimit);
    expect(jina.reranking('jina-reranker-v3').rateLimiter).toBe(rateLimit);
  });

  it('an answer over maxResponseBytes is refused', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch, maxResponseBytes: 64 }).embedding(
      'jina-embeddings-v3',
    );
    await expect(embedMany({ model, inputs: ['a'], maxRetries: 0 })).rejects.toMatchObject({
      name: 'InvalidResponseError',
    });
  });
});

it.each(['constructor', 'toString', '__proto__'])(
  'an error code "%s" gets no hint (bug: Object.prototype read as the table of hints)',
  (code) => {
    expect(parseJinaError({ detail: { message: 'm', code } }, 400)).toStrictEqual({
      message: 'm',
      providerCode: code,
    });
  },
);

describe('a model id that is also an Object.prototype name', () => {
  it.each(['constructor', 'toString', '__proto__'])(
    '"%s" gets the capabilities of any unknown id, for embedding and reranking models (bug: a function off Object.prototype taken for them)',
    (modelId) => {
      const provider = createJina({ apiKey: TEST_KEY });
      expect(provider.embedding(modelId).capabilities).toStrictEqual(
        provider.embedding('jina-embeddings-9-unknown').capabilities,
      );
      expect(jinaEmbeddingProfile(modelId)).toStrictEqual(jinaEmbeddingProfile('jina-embeddings-9-unknown'));
      expect(provider.reranking(modelId).capabilities).toStrictEqual(
        provider.reranking('jina-reranker-9-unknown').capabilities,
      );
    },
  );
});
