/**
 * OpenAI provider behaviour the rest of the suite left unpinned: what `parseOpenAIError` reads from error
 * bodies that lack a message, a code or a type, whose code and type disagree, or that carry a `param` it
 * never uses; which input index and wait it reads from a message; the exact warnings and errors for
 * settings and inputs OpenAI has no field for; usage, index and vector-length problems in an answer; the
 * provider settings that reach each model (the shared rate limiter, the response size limit); which
 * response header names the request; the missing-key errors word for word; and, for an OpenAI-compatible
 * server, its name and key-header checks, that its own headers win over the key header, and that the key
 * and query-parameter values are redacted from errors.
 */
import { createRateLimiter, InvalidArgumentError, InvalidResponseError } from '@embedkit/core';
import { fakeFetch } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOpenAI, createOpenAICompatible, parseOpenAIError } from '../src/index.js';

// Fake key material only.
const KEY = 'test-key-openai-edge-5a6b7c';
/** A one-input answer in OpenAI's shape. */
const ANSWER = {
  body: {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }],
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 1, total_tokens: 1 },
  },
};

/** The error a call that must fail was refused with. */
async function failure(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return call.then(
    () => expect.unreachable('the call had to fail'),
    (error: unknown) => error as Error & Record<string, unknown>,
  );
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('parseOpenAIError on partial error objects', () => {
  it('reads nothing from an error object with no message, code or type', () => {
    expect(parseOpenAIError({ error: {} })).toStrictEqual({});
    expect(parseOpenAIError({ error: { message: null, type: null, param: null, code: null } })).toStrictEqual(
      {},
    );
  });

  it('keeps the type as the code of an error with no message, and sets no message for an empty one', () => {
    expect(parseOpenAIError({ error: { type: 'server_error', code: null } })).toStrictEqual({
      providerCode: 'server_error',
    });
    expect(parseOpenAIError({ error: { message: '', type: 'server_error', code: null } })).toStrictEqual({
      providerCode: 'server_error',
    });
  });

  it('a message alone is read without a code', () => {
    expect(parseOpenAIError({ error: { message: 'Something went wrong' } })).toStrictEqual({
      message: 'Something went wrong',
    });
  });

  it('insufficient_quota as the code alone, or as the type alone, is a used-up quota', () => {
    expect(
      parseOpenAIError({
        error: { message: 'Quota used up.', type: 'requests', code: 'insufficient_quota' },
      }),
    ).toStrictEqual({ message: 'Quota used up.', providerCode: 'insufficient_quota', quotaExhausted: true });
    expect(
      parseOpenAIError({ error: { message: 'Quota used up.', type: 'insufficient_quota', code: null } }),
    ).toStrictEqual({ message: 'Quota used up.', providerCode: 'insufficient_quota', quotaExhausted: true });
  });

  it('max_tokens_per_request as the code alone, or as the type alone, marks the batch as too large', () => {
    const message = 'Requested 453357 tokens, max 300000 tokens per request';
    expect(
      parseOpenAIError({ error: { message, type: 'invalid_request_error', code: 'max_tokens_per_request' } }),
    ).toStrictEqual({ message, providerCode: 'max_tokens_per_request', batchTooLarge: true });
    expect(
      parseOpenAIError({ error: { message, type: 'max_tokens_per_request', code: null } }),
    ).toStrictEqual({ message, providerCode: 'max_tokens_per_request', batchTooLarge: true });
  });

  it('a param that is not a string (it is never read) does not hide the message, code or input index', () => {
    expect(
      parseOpenAIError({
        error: {
          message: "Invalid 'input[2]': maximum input length is 8192 tokens.",
          type: 'invalid_request_error',
          param: ['input', 2],
          code: 'context_length_exceeded',
        },
      }),
    ).toStrictEqual({
      message: "Invalid 'input[2]': maximum input length is 8192 tokens.",
      providerCode: 'context_length_exceeded',
      inputIndex: 2,
    });
  });
});

describe('parseOpenAIError on the hints inside a message', () => {
  it('reads a many-digit input index from the quoted parameter name', () => {
    expect(
      parseOpenAIError({
        error: {
          message: "Invalid 'input[12]': maximum input length is 8192 tokens.",
          type: 'x',
          code: null,
        },
      }).inputIndex,
    ).toBe(12);
  });

  it('takes the index only from the quoted input parameter, not from another parameter that ends in input', () => {
    expect(
      parseOpenAIError({
        error: { message: "Invalid 'extra_input[1]': unknown field.", type: 'x', code: null },
      }),
    ).toStrictEqual({ message: "Invalid 'extra_input[1]': unknown field.", providerCode: 'x' });
  });

  it.each([
    ['Try again in 3s.', 3000, {}],
    [
      'Rate limit reached for requests per day. Please try again in 1h2m3s.',
      3_723_000,
      {
        hint: "A per-day limit of the organization (requests or tokens per day) is used up, which lowering concurrency or a rateLimit cannot help: wait until the time the API names, or raise the organization's usage tier; the engine retries these.",
      },
    ],
  ])('"%s" is a wait of %i ms', (message, retryAfterMs, extra) => {
    expect(
      parseOpenAIError({ error: { message, type: 'requests', code: 'rate_limit_exceeded' } }),
    ).toStrictEqual({
      message,
      providerCode: 'rate_limit_exceeded',
      retryAfterMs,
      ...extra,
    });
  });
});

describe('warnings for settings OpenAI has no field for', () => {
  it('says word for word that the input type was not sent and that inputs cannot be truncated', async () => {
    const server = fakeFetch([ANSWER]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const result = await model.doEmbed({ inputs: ['a'], inputType: 'document', truncate: true });
    expect(result.warnings).toStrictEqual([
      {
        type: 'unsupported-setting',
        setting: 'inputType',
        message: 'openai embeddings have no input type; "document" was not sent.',
      },
      {
        type: 'unsupported-setting',
        setting: 'truncate',
        message: 'openai cannot truncate inputs; an input over the context length fails instead.',
      },
    ]);
  });

  it('truncate: false raises no warning', async () => {
    const server = fakeFetch([ANSWER]);
    const model = createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
    const result = await model.doEmbed({ inputs: ['a'], truncate: false });
    expect(result.warnings).toStrictEqual([]);
  });
});

describe('provider settings that reach each model', () => {
  it('every model of createOpenAI and of createOpenAICompatible draws on the rateLimit given', () => {
    const limiter = createRateLimiter({ requestsPerMinute: 60 });
    expect(
      createOpenAI({ apiKey: KEY, rateLimit: limiter }).embedding('text-embedding-3-small').rateLimiter,
    ).toBe(limiter);
    expect(
      createOpenAICompatible({
        name: 'tei',
        baseURL: 'http://127.0.0.1:8080/v1',
        rateLimit: limiter,
      }).embedding('bge-small').rateLimiter,
    ).toBe(limiter);
    expect(createOpenAI({ apiKey: KEY }).embedding('text-embedding-3-small').rateLimiter).toBeUndefined();
  });

  it('an answer over maxResponseBytes is an InvalidResponseError naming the limit', async () => {
    const providers = [
      ['openai', createOpenAI({ apiKey: KEY, fetch: fakeFetch([ANSWER]).fetch, maxResponseBytes: 64 })],
      [
        'tei',
        createOpenAICompatible({
          name: 'tei',
          baseURL: 'http://127.0.0.1:8080/v1',
          fetch: fakeFetch([ANSWER]).fetch,
          maxResponseBytes: 64,
        }),
      ],
    ] as const;
    for (const [name, provider] of providers) {
      const error = await failure(provider.embedding('text-embedding-3-small').doEmbed({ inputs: ['a'] }));
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect(error.message).toBe(
        `${name} sent a response larger than 64 bytes; raise maxResponseBytes or send fewer inputs per call.`,
      );
    }
  });

  it('an answer within maxResponseBytes is read', async () => {
    const server = fakeFetch([ANSWER]);
    const result = await createOpenAI({ apiKey: KEY, fetch: server.fetch, maxResponseBytes: 4096 })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(Array.from(result.embeddings[0]!)).toEqual([0.5, 0.25]);
  });
});

describe('reading the answer', () => {
  it('counts usage from prompt_tokens when total_tokens says otherwise', async () => {
    const server = fakeFetch([{ body: { ...ANSWER.body, usage: { prompt_tokens: 5, total_tokens: 9 } } }]);
    const result = await createOpenAI({ apiKey: KEY, fetch: server.fetch })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(result.usage).toStrictEqual({ inputTokens: 5 });
  });

  it('base64 vectors of different lengths are refused by their decoded lengths, not as a wrong shape', async () => {
    const server = fakeFetch([
      {
        body: {
          object: 'list',
          data: [
            { object: 'embedding', index: 0, embedding: 'AAAAPwAAgL4=' },
            { object: 'embedding', index: 1, embedding: 'ZicXO4DRGLxwaYE8OAU9uw==' },
          ],
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 2, total_tokens: 2 },
        },
      },
    ]);
    const error = await failure(
      createOpenAI({ apiKey: KEY, fetch: server.fetch })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a', 'b'] }),
    );
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(
      'openai returned an answer whose vector 1 decodes to 16 bytes; vector 0 to 8. Every vector of a response has one length.',
    );
  });

  it('a negative index is refused as a malformed answer, naming the field', async () => {
    const server = fakeFetch([
      { body: { ...ANSWER.body, data: [{ object: 'embedding', index: -1, embedding: [1] }] } },
    ]);
    const error = await failure(
      createOpenAI({ apiKey: KEY, fetch: server.fetch })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(
      'openai returned an embeddings body of the wrong shape: data.0.index: must be at least 0; no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
    );
  });
});

describe('inputs OpenAI cannot take', () => {
  it('an image input is refused naming the provider and the model', async () => {
    const server = fakeFetch([]);
    const error = await failure(
      createOpenAI({ apiKey: KEY, fetch: server.fetch })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a', { image: 'https://example.com/cat.png' }] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      argument: 'inputs[1]',
      message: 'Input 1 is not text; openai model text-embedding-3-small takes text only.',
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe('the response header that names the request', () => {
  it('is x-request-id: a bare request-id header is not taken for it', async () => {
    const server = fakeFetch([{ ...ANSWER, headers: { 'request-id': 'req-other' } }]);
    const result = await createOpenAI({ apiKey: KEY, fetch: server.fetch })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect('requestId' in result.response).toBe(false);
  });
});

describe('the missing-key error', () => {
  it('names the provider and OPENAI_API_KEY, word for word', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const server = fakeFetch([]);
    const error = await failure(
      createOpenAI({ fetch: server.fetch })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      message:
        'openai: no API key. Set the OPENAI_API_KEY environment variable, or pass apiKey to the provider settings.',
      argument: 'apiKey',
      provider: 'openai',
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe('createOpenAICompatible settings', () => {
  it('a name of white space only is refused', () => {
    expect(() => createOpenAICompatible({ name: '   ', baseURL: 'http://127.0.0.1:8080/v1' })).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        argument: 'name',
        message:
          "createOpenAICompatible needs a name, the provider's name in errors, results and providerOptions, e.g. name: 'vllm'.",
      }),
    );
  });

  it('apiKeyHeader "Authorization", in any case, sends the key as Bearer', async () => {
    const server = fakeFetch([ANSWER]);
    await createOpenAICompatible({
      name: 'gateway',
      baseURL: 'https://gw.example.test/v1',
      apiKey: KEY,
      apiKeyHeader: 'Authorization',
      fetch: server.fetch,
    })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('sends its headers when no key is configured', async () => {
    const server = fakeFetch([ANSWER]);
    await createOpenAICompatible({
      name: 'tei',
      baseURL: 'http://127.0.0.1:8080/v1',
      headers: { 'x-team': 'search' },
      fetch: server.fetch,
    })
      .embedding('bge-small')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers['x-team']).toBe('search');
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('a declared but unset key variable is refused naming the provider and the variable, word for word', async () => {
    vi.stubEnv('ONEROUTER_API_KEY', '');
    const error = await failure(
      createOpenAICompatible({
        name: 'onerouter',
        baseURL: 'https://llm.onerouter.pro/v1',
        apiKeyEnvironmentVariable: 'ONEROUTER_API_KEY',
        fetch: fakeFetch([]).fetch,
      })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      message:
        'onerouter: no API key. Set the ONEROUTER_API_KEY environment variable, or pass apiKey to the provider settings.',
      provider: 'onerouter',
    });
  });
});

describe('an OpenAI-compatible server with a key', () => {
  it('redacts the key from errors whatever the header that carries it is called', async () => {
    const server = fakeFetch([
      {
        status: 401,
        body: { error: { message: `unknown client ${KEY}`, type: 'auth', param: null, code: null } },
      },
    ]);
    const error = await failure(
      createOpenAICompatible({
        name: 'gateway',
        baseURL: 'https://gw.example.test/v1',
        apiKey: KEY,
        apiKeyHeader: 'x-client-pass',
        fetch: server.fetch,
      })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(server.requests[0]!.headers['x-client-pass']).toBe(KEY);
    expect(error.message).toContain('unknown client [REDACTED]');
    expect(JSON.stringify(error)).not.toContain(KEY);
  });

  it('its own headers win over the key header of the same name', async () => {
    const server = fakeFetch([ANSWER]);
    await createOpenAICompatible({
      name: 'gateway',
      baseURL: 'https://gw.example.test/v1',
      apiKey: KEY,
      apiKeyHeader: 'x-api-key',
      headers: { 'x-api-key': 'gateway-key-override' },
      fetch: server.fetch,
    })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers['x-api-key']).toBe('gateway-key-override');
  });

  it('the createOpenAI headers setting wins over the Bearer header too', async () => {
    const server = fakeFetch([ANSWER]);
    await createOpenAI({
      apiKey: KEY,
      headers: { authorization: 'Bearer proxy-token-1' },
      fetch: server.fetch,
    })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer proxy-token-1');
  });

  it('redacts query-parameter values from errors when a key is configured as well', async () => {
    const querySecret = 'qp-secret-with-key-4d2e';
    const server = fakeFetch([
      {
        status: 400,
        body: {
          error: {
            message: `bad signature ${querySecret}`,
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
        },
      },
    ]);
    const error = await failure(
      createOpenAICompatible({
        name: 'gateway',
        baseURL: 'https://gw.example.test/v1',
        apiKey: KEY,
        queryParams: { tenant: querySecret, 'API-Version': '2024-10-21' },
        fetch: server.fetch,
      })
        .embedding('text-embedding-3-small')
        .doEmbed({ inputs: ['a'] }),
    );
    expect(error.url).toBe('https://gw.example.test/v1/embeddings?tenant=[REDACTED]&API-Version=2024-10-21');
    expect(error.message).toContain('bad signature [REDACTED]');
    expect(JSON.stringify(error)).not.toContain(querySecret);
  });
});

describe('a model id that is also an Object.prototype name', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    '"%s" gets the capabilities of any unknown id (bug: a function off Object.prototype taken for them)',
    (modelId) => {
      const provider = createOpenAI({ apiKey: 'sk-test-key-0000' });
      expect(provider.embedding(modelId).capabilities).toStrictEqual(
        provider.embedding('text-embedding-4-unknown').capabilities,
      );
    },
  );
});
