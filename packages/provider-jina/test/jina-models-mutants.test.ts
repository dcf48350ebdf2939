/**
 * What each Jina model says and sends at its edges, pinned exactly: the words of every refusal the models
 * and the provider make before sending (with the argument they name), the checks a direct caller of
 * `checkInput`, `doEmbed`, `doEmbedContextualized` or `doRerank` gets without the engine, the key kept out
 * of errors when a gateway's own authorization header replaces it, the limits of the answer, and the
 * exact shape of each model's answer.
 */

import { embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJina, JINA_RERANKING_MODELS } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

/** float32 little-endian [0.5, -0.25, 1, -2]. */
const FLOAT_B64 = 'AAAAPwAAgL4AAIA/AAAAwA==';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('refusals before sending, word for word', () => {
  it('a task word and an input type together', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    await expect(
      model.doEmbed({ inputs: ['a'], inputType: 'query', providerOptions: { jina: { task: 'separation' } } }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina.task',
      message:
        'Give inputType or providerOptions.jina.task, not both; task "separation" would replace inputType "query".',
    });
    expect(server.requests).toEqual([]);
  });

  it('a task word in another case is not the schema word: refused, not sent', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-clip-v2');
    await expect(
      model.doEmbed({ inputs: ['a'], providerOptions: { jina: { task: 'Retrieval.Query' } } }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina.task',
      message: 'jina model jina-clip-v2 has no task "Retrieval.Query"; it takes retrieval.query.',
    });
    expect(server.requests).toEqual([]);
  });

  it('normalized for a model whose schema lacks it', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding(
      'jina-code-embeddings-0.5b',
    );
    await expect(
      model.doEmbed({ inputs: ['a'], providerOptions: { jina: { normalized: true } } }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina.normalized',
      message:
        'jina model jina-code-embeddings-0.5b has no normalized setting; remove providerOptions.jina.normalized.',
    });
    expect(server.requests).toEqual([]);
  });

  it('late chunking for a model without it, when the model is asked for', () => {
    const jina = createJina({ apiKey: TEST_KEY });
    expect(() => jina.contextualizedEmbedding('jina-embeddings-v5-text-nano')).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'modelId',
        message:
          'jina model jina-embeddings-v5-text-nano has no late chunking; use jina-embeddings-v3 or jina-embeddings-v4.',
      }),
    );
  });

  it('max_doc_length for a reranker other than v3', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-m0');
    await expect(
      model.doRerank({ query: 'q', documents: ['d'], providerOptions: { jina: { maxDocumentLength: 512 } } }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina.maxDocumentLength',
      message: 'maxDocumentLength (max_doc_length) applies to jina-reranker-v3 only, not jina-reranker-m0.',
    });
    expect(server.requests).toEqual([]);
  });

  it('max_doc_length must be a whole number of tokens', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    await expect(
      model.doRerank({
        query: 'q',
        documents: ['d'],
        providerOptions: { jina: { maxDocumentLength: 512.5 } },
      }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.jina',
      message: 'providerOptions.jina is invalid: maxDocumentLength: expected a whole number, got number.',
    });
    expect(server.requests).toEqual([]);
  });

  it('several documents in one direct late-chunking call', async () => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v4',
    );
    await expect(model.doEmbedContextualized({ documents: [['a'], ['b'], ['c']] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'documents',
      message:
        'jina model jina-embeddings-v4 late-chunks one document per call; got 3. Use embedContextualized, which sends each document on its own.',
    });
    expect(server.requests).toEqual([]);
  });

  it('no key: names JINA_API_KEY and the setting', async () => {
    vi.stubEnv('JINA_API_KEY', '');
    const server = fakeFetch([]);
    const model = createJina({ fetch: server.fetch }).reranking('jina-reranker-v3');
    await expect(model.doRerank({ query: 'q', documents: ['d'] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'apiKey',
      message:
        'jina: no API key. Set the JINA_API_KEY environment variable, or pass apiKey to the provider settings.',
    });
    expect(server.requests).toEqual([]);
  });

  it('a JINA_BASE_URL that is no http(s) URL: the message names jina and the variable', async () => {
    vi.stubEnv('JINA_BASE_URL', 'files.example/v1');
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    await expect(model.doEmbed({ inputs: ['a'] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      message:
        'jina: the base URL from JINA_BASE_URL is not an absolute http(s) URL; it should look like https://api.example.com/v1.',
    });
    expect(server.requests).toEqual([]);
  });
});

describe('inputs a model checks itself', () => {
  const clip = () => createJina({ apiKey: TEST_KEY }).embedding('jina-clip-v2');

  it('a text-only model refuses an image in checkInput, naming the model', () => {
    const model = createJina({ apiKey: TEST_KEY }).embedding('jina-embeddings-v5-text-small');
    expect(() => model.checkInput({ image: 'https://example.com/a.png' }, 4)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'inputs[4]',
        message:
          'inputs[4] is not plain text; jina model jina-embeddings-v5-text-small takes text only. Use jina-embeddings-v4 or jina-clip-v2 for images.',
      }),
    );
  });

  it('empty image bytes', () => {
    expect(() => clip().checkInput({ image: new Uint8Array(0) }, 2)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'inputs[2]',
        message: 'inputs[2] is an empty image.',
      }),
    );
  });

  it('a media type must be image/ exactly up to its slash', () => {
    expect(() => clip().checkInput({ image: new Uint8Array(4), mediaType: 'imagex/png' }, 0)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'inputs[0]',
        message: 'inputs[0] has media type imagex/png; Jina embeds image/* inputs.',
      }),
    );
  });

  it("a one-part content's image bytes are checked against their media type, named by the part", () => {
    const input = {
      content: [{ type: 'image' as const, data: new Uint8Array(4), mediaType: 'application/pdf' }],
    };
    expect(() => clip().checkInput(input, 1)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'inputs[1].content[0]',
        message: 'inputs[1].content[0] has media type application/pdf; Jina embeds image/* inputs.',
      }),
    );
  });

  it('content that is not an array is refused, even one that looks like a one-part list', () => {
    const input = { content: { length: 1, 0: { type: 'text', text: 'a' } } } as never;
    expect(() => clip().checkInput(input, 0)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'inputs[0]',
        message:
          'inputs[0] has interleaved content; Jina embeds one text or one image per input, so send each part as its own input.',
      }),
    );
  });
});

describe('task words for a model the table does not know', () => {
  it('go exactly as given, case and spaces kept', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v9', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v9');
    await model.doEmbed({ inputs: ['a'], providerOptions: { jina: { task: ' Retrieval.Query ' } } });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v9',
      input: ['a'],
      task: ' Retrieval.Query ',
      embedding_type: 'base64',
      truncate: false,
    });
  });
});

describe('answers', () => {
  it('too few vectors: the count in the message', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v3');
    await expect(model.doEmbed({ inputs: ['a', 'b'] })).rejects.toMatchObject({
      name: 'InvalidResponseError',
      message: 'jina returned 1 vector for 2 inputs.',
    });
  });

  it('a rerank answer without results names the rerank answer', async () => {
    const server = fakeFetch([{ body: { model: 'jina-reranker-v3', usage: { total_tokens: 1 } } }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    await expect(model.doRerank({ query: 'q', documents: ['d'] })).rejects.toMatchObject({
      name: 'InvalidResponseError',
      message:
        'jina returned a rerank body of the wrong shape: results: expected array, got undefined; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    });
  });

  it('an answer over maxResponseBytes is refused for its size, before it is read', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-embeddings-v3', [FLOAT_B64]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch, maxResponseBytes: 64 }).embedding(
      'jina-embeddings-v3',
    );
    await expect(model.doEmbed({ inputs: ['a'], dimensions: 4 })).rejects.toMatchObject({
      name: 'InvalidResponseError',
      message:
        'jina sent a response larger than 64 bytes; raise maxResponseBytes or send fewer inputs per call.',
    });
  });

  it('a direct rerank answers with no warnings, the model the API names, and its usage', async () => {
    const server = fakeFetch([
      {
        body: {
          model: 'jina-reranker-v3',
          usage: { total_tokens: 9 },
          results: [
            { index: 1, relevance_score: 0.75 },
            { index: 0, relevance_score: 0.25 },
          ],
        },
      },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).reranking('jina-reranker-v3');
    const response = await model.doRerank({ query: 'q', documents: ['a', 'b'] });
    expect(response.warnings).toEqual([]);
    expect(response.results).toEqual([
      { index: 1, relevanceScore: 0.75 },
      { index: 0, relevanceScore: 0.25 },
    ]);
    expect(response.usage).toEqual({ inputTokens: 9 });
    expect(response.response.modelId).toBe('jina-reranker-v3');
  });

  it('a direct late-chunking call answers with no warnings, the model the API names, and no usage when none came', async () => {
    const body = {
      model: 'jina-embeddings-v3',
      data: [
        { index: 1, embedding: float32ToBase64([0.25]) },
        { index: 0, embedding: float32ToBase64([0.5]) },
      ],
    };
    const server = fakeFetch([{ body }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).contextualizedEmbedding(
      'jina-embeddings-v3',
    );
    const response = await model.doEmbedContextualized({ documents: [['one', 'two']], dimensions: 1 });
    expect(response.warnings).toEqual([]);
    expect(response.embeddings.map((document) => document.map((vector) => Array.from(vector)))).toEqual([
      [[0.5], [0.25]],
    ]);
    expect(response.response.modelId).toBe('jina-embeddings-v3');
    expect(response).not.toHaveProperty('usage');
  });
});

describe('the provider table and settings', () => {
  it('lists exactly the rerankers the spec names, each with the same conservative limits, v3 as listwise', () => {
    const limits = { maxDocumentsPerCall: 1000, supportsParallelCalls: true };
    const listwise = { ...limits, scoresCompareAcrossCalls: false };
    expect(JINA_RERANKING_MODELS).toStrictEqual({
      'jina-reranker-v3': listwise,
      'jina-reranker-m0': limits,
      'jina-reranker-v2-base-multilingual': limits,
      // The other ids of the spec's `TextRerankerRequest` enum, which states no limit of theirs.
      'jina-reranker-v1-tiny-en': limits,
      'jina-reranker-v1-turbo-en': limits,
      'jina-reranker-v1-base-en': limits,
      'jina-colbert-v1-en': limits,
      'jina-colbert-v2': limits,
    });
    const jina = createJina({ apiKey: TEST_KEY });
    for (const modelId of Object.keys(JINA_RERANKING_MODELS)) {
      expect(jina.reranking(modelId).capabilities, modelId).toStrictEqual(
        modelId === 'jina-reranker-v3' ? listwise : limits,
      );
    }
  });

  it.each(['authorization', 'Authorization'])(
    "a gateway's own %s header replaces the key's, and the key is still kept out of errors",
    async (name) => {
      const server = fakeFetch([
        { status: 400, body: { detail: `Key ${TEST_KEY} is not valid for this gateway.` } },
      ]);
      const jina = createJina({
        apiKey: TEST_KEY,
        headers: { [name]: 'Bearer gateway-token' },
        fetch: server.fetch,
      });
      const error = await embedMany({
        model: jina.embedding('jina-embeddings-v3'),
        inputs: ['a'],
        maxRetries: 0,
      }).catch((caught: unknown) => caught);
      expect(server.requests[0]!.headers.authorization).toBe('Bearer gateway-token');
      expect(error).toMatchObject({ name: 'InvalidRequestError' });
      expect(JSON.stringify(error)).not.toContain(TEST_KEY);
      expect((error as Error).message).not.toContain(TEST_KEY);
      expect((error as Error).message).toContain('[REDACTED]');
    },
  );
});
