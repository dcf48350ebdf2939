import { inspect } from 'node:util';
import { createCohere } from '@ai-sdk/cohere';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import {
  type EmbeddingModelV3,
  type EmbeddingModelV4Result,
  LoadAPIKeyError,
  TooManyEmbeddingValuesForCallError,
} from '@ai-sdk/provider';
import { createFakeClock } from '@embedkit/conformance';
import {
  cacheMiddleware,
  createRegistry,
  embedMany,
  InvalidArgumentError,
  InvalidResponseError,
  isAbortError,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromAISDK } from '../src/index.js';
import { handMade } from './hand-made-model.js';
import { apiCallError } from './rejection.js';

const KEY = 'test-key-fromaisdk-4b8e2c6a0d1f';

const answer = (values: string[], length = 4): EmbeddingModelV4Result => ({
  embeddings: values.map((_, index) => Array.from({ length }, (__, position) => index + position / 10)),
  usage: { tokens: values.length },
  warnings: [],
  response: { headers: { 'x-request-id': 'req-acme-1' } },
});

function failing(error: unknown) {
  return handMade(async () => {
    throw error;
  });
}

describe('fromAISDK: vectors, usage and the request', () => {
  it('copies the number[] vectors once, each into a Float32Array of its own, with exact values', async () => {
    const vectors = [
      [0.1, -0.2, 0.3],
      [0.4, 0.5, -0.6],
    ];
    const server = fakeFetch([
      {
        body: {
          object: 'list',
          data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
          usage: { prompt_tokens: 7, total_tokens: 7 },
        },
        headers: { 'x-request-id': 'req-openai-9' },
      },
    ]);
    const model = fromAISDK(
      createOpenAI({ apiKey: KEY, fetch: server.fetch as typeof fetch }).embedding('text-embedding-3-small'),
      { dimensions: { min: 1, max: 1536 }, defaultDimensions: 1536 },
    );
    const result = await embedMany({ model, inputs: ['a', 'b'], dimensions: 3 });
    expect(server.requests[0]!.body).toEqual({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      encoding_format: 'float',
      dimensions: 3,
    });
    expect(result.embeddings.map((vector) => Array.from(vector))).toEqual(
      vectors.map((vector) => vector.map(Math.fround)),
    );
    expect(result.embeddings[0]).toBeInstanceOf(Float32Array);
    expect(result.embeddings[0]!.buffer).not.toBe(result.embeddings[1]!.buffer);
    expect(result.embeddings[0]!.buffer.byteLength).toBe(12);
    expect(result.usage).toEqual({ inputTokens: 7 });
    expect(result.responses[0]).toMatchObject({ status: 200, requestId: 'req-openai-9' });
    // The provider's own user-agent gives way to embedkit's; the AI SDK's request helper appends its own.
    expect(server.requests[0]!.headers['user-agent']).toMatch(/^embedkit\/\S+ ai-sdk-provider-utils\//);
  });

  it('leaves usage out when the AI SDK reports none or NaN, and maps warnings', async () => {
    const model = fromAISDK(
      handMade(async ({ values }) => ({
        ...answer(values),
        usage: { tokens: Number.NaN },
        warnings: [
          { type: 'unsupported', feature: 'truncate', details: 'acme cannot truncate' },
          { type: 'other', message: 'something else' },
        ],
      })),
    );
    const result = await embedMany({ model, inputs: ['x'] });
    expect('usage' in result).toBe(false);
    expect(result.warnings).toEqual([
      { type: 'unsupported-setting', setting: 'truncate', message: 'acme cannot truncate' },
      { type: 'other', message: 'something else' },
    ]);
  });

  it('says that truncate and per-input titles were left out, which the specification cannot carry', async () => {
    const aiModel = handMade(async ({ values }) => answer(values));
    const model = fromAISDK(aiModel);
    const plain = await embedMany({ model, inputs: ['x', { text: 'y' }] });
    expect(plain.warnings).toEqual([]);
    const result = await embedMany({ model, inputs: ['x', { text: 'y', title: 'Why' }], truncate: true });
    expect(aiModel.calls[1]!.values).toEqual(['x', 'y']);
    expect(result.warnings.map((warning) => [warning.type, warning.setting])).toEqual([
      ['unsupported-setting', 'truncate'],
      ['unsupported-setting', 'title'],
    ]);
    expect(result.warnings[1]!.message).toBe(
      "The AI SDK's specification has no per-input title, so the titles were not sent to acme.embedding acme-embed-1.",
    );
  });

  it('refuses a capability or an option it does not know (maxInputPerCall was dropped, and calls packed by the default)', () => {
    const aiModel = handMade(async ({ values }) => answer(values));
    const message = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        return (error as InvalidArgumentError).message;
      }
      return expect.fail('fromAISDK took it');
    };
    expect(message(() => fromAISDK(aiModel, { maxInputPerCall: 16 } as never))).toBe(
      'fromAISDK capabilities has no capability maxInputPerCall; did you mean maxInputsPerCall?',
    );
    expect(message(() => fromAISDK(aiModel, {}, { secret: ['k'] } as never))).toBe(
      'fromAISDK has no option secret; did you mean secrets?',
    );
  });

  it("names the provider by the first word of the AI SDK's provider, the key of its options", async () => {
    const aiModel = handMade(async ({ values }) => answer(values));
    const model = fromAISDK(aiModel);
    expect(model.provider).toBe('acme');
    expect(model.modelId).toBe('acme-embed-1');
    await embedMany({ model, inputs: ['x'], providerOptions: { acme: { flavour: 'dry' } } });
    expect(aiModel.calls[0]!.providerOptions).toEqual({ acme: { flavour: 'dry' } });
  });

  it('refuses inputs that are not text before calling the model', async () => {
    const aiModel = handMade(async ({ values }) => answer(values));
    const error = await rejectionOf(
      embedMany({
        model: fromAISDK(aiModel, { modalities: ['text', 'image'] }),
        inputs: [{ image: 'https://x/y.png' }],
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(aiModel.calls).toHaveLength(0);
  });
});

describe('fromAISDK: capabilities', () => {
  it("reads the call limit and parallel calls from the model, overridable, with v4's dimensions option open", () => {
    const cohere = fromAISDK(createCohere({ apiKey: KEY }).embedding('embed-v4.0'));
    expect(cohere.capabilities).toMatchObject({
      maxInputsPerCall: 96,
      supportsParallelCalls: true,
      inputTypes: ['query', 'document', 'classification', 'clustering'],
      outputTypes: ['float'],
      dimensions: { min: 1, max: 65_536 },
    });
    const declared = fromAISDK(
      handMade(async ({ values }) => answer(values)),
      {
        maxInputsPerCall: 8,
        maxTokensPerCall: 1000,
        dimensions: undefined,
      },
    );
    expect(declared.capabilities).toMatchObject({ maxInputsPerCall: 8, maxTokensPerCall: 1000 });
    expect(declared.capabilities.dimensions).toBeUndefined();
    const promised = fromAISDK(
      handMade(async ({ values }) => answer(values), {
        maxEmbeddingsPerCall: Promise.resolve(10),
        supportsParallelCalls: Promise.resolve(true),
      }),
    );
    // A promise cannot be read before the first call: the default limit and one call at a time.
    expect(promised.capabilities).toMatchObject({ maxInputsPerCall: 2048, supportsParallelCalls: false });
  });

  it('refuses dimensions for a specification v3 model, which has no such option', async () => {
    const v3: EmbeddingModelV3 = {
      specificationVersion: 'v3',
      provider: 'old.embedding',
      modelId: 'old-1',
      maxEmbeddingsPerCall: 10,
      supportsParallelCalls: true,
      doEmbed: async ({ values }) => ({ ...answer(values), warnings: [] }),
    };
    const model = fromAISDK(v3);
    expect(model.capabilities.dimensions).toBeUndefined();
    await expect(embedMany({ model, inputs: ['x'] })).resolves.toMatchObject({ usage: { inputTokens: 1 } });
    const error = await rejectionOf(embedMany({ model, inputs: ['x'], dimensions: 4 }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
  });

  it('refuses something that is not an AI SDK embedding model', () => {
    expect(() => fromAISDK({ specificationVersion: 'v1' } as never)).toThrow(InvalidArgumentError);
  });
});

describe('fromAISDK: input types', () => {
  it("maps unified input types to @ai-sdk/google's taskType; the caller's own option wins", async () => {
    const server = fakeFetch([
      { body: { embedding: { values: [1, 0, 0, 0] } } },
      { body: { embedding: { values: [1, 0, 0, 0] } } },
    ]);
    const model = fromAISDK(
      createGoogleGenerativeAI({ apiKey: KEY, fetch: server.fetch as typeof fetch }).embedding(
        'gemini-embedding-001',
      ),
    );
    await embedMany({ model, inputs: ['x'], inputType: 'document', dimensions: 4 });
    await embedMany({
      model,
      inputs: ['x'],
      inputType: 'document',
      dimensions: 4,
      providerOptions: { google: { taskType: 'CLUSTERING' } },
    });
    expect(server.requests.map((request) => request.body)).toEqual([
      {
        model: 'models/gemini-embedding-001',
        content: { parts: [{ text: 'x' }] },
        outputDimensionality: 4,
        taskType: 'RETRIEVAL_DOCUMENT',
      },
      {
        model: 'models/gemini-embedding-001',
        content: { parts: [{ text: 'x' }] },
        outputDimensionality: 4,
        taskType: 'CLUSTERING',
      },
    ]);
  });

  it('takes a mapping for other providers and declares exactly its input types', async () => {
    const aiModel = handMade(async ({ values }) => answer(values));
    const model = fromAISDK(aiModel, {}, { inputTypes: { query: { acme: { mode: 'q' } } } });
    expect(model.capabilities.inputTypes).toEqual(['query']);
    await embedMany({ model, inputs: ['x'], inputType: 'query', providerOptions: { acme: { other: 1 } } });
    expect(aiModel.calls[0]!.providerOptions).toEqual({ acme: { mode: 'q', other: 1 } });
    const unmapped = await embedMany({ model, inputs: ['x'], inputType: 'document' });
    expect(unmapped.warnings.map((warning) => warning.setting)).toEqual(['inputType']);
  });
});

describe('fromAISDK: errors', () => {
  const statuses: [number, string, string, boolean][] = [
    [400, 'InvalidRequestError', 'invalid_request', false],
    [401, 'AuthenticationError', 'authentication', false],
    [403, 'PermissionDeniedError', 'permission_denied', false],
    [404, 'NotFoundError', 'not_found', false],
    [408, 'TimeoutError', 'timeout', true],
    [409, 'InvalidRequestError', 'invalid_request', true],
    [429, 'RateLimitError', 'rate_limited', true],
    [500, 'ServerError', 'server_error', true],
  ];
  for (const [status, name, code, retryable] of statuses) {
    it(`maps an APICallError ${status} to ${name}, keeping the provider's message and verdict`, async () => {
      const error = await rejectionOf(
        embedMany({
          model: fromAISDK(
            failing(
              apiCallError({
                message: `acme error ${status}`,
                statusCode: status,
                responseHeaders: { 'content-type': 'application/json', 'x-request-id': 'req-acme-7' },
                responseBody: JSON.stringify({ message: `acme error ${status}` }),
                isRetryable: retryable,
              }),
            ),
          ),
          inputs: ['x'],
          maxRetries: 0,
        }),
      );
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.statusCode).toBe(status);
      expect(error.isRetryable).toBe(retryable);
      expect(error.provider).toBe('acme');
      expect(error.requestId).toBe('req-acme-7');
      expect(error.url).toBe('https://api.acme.example/v1/embed');
      expect(error.message).toContain(`acme error ${status}`);
    });
  }

  it('reads Retry-After from the response headers and waits that long before the retry', async () => {
    let calls = 0;
    const aiModel = handMade(async ({ values }) => {
      calls++;
      if (calls === 1)
        throw apiCallError({
          statusCode: 429,
          responseHeaders: { 'retry-after-ms': '1250' },
          responseBody: '{"message":"slow down"}',
          isRetryable: true,
        });
      return answer(values);
    });
    const clock = createFakeClock();
    const result = await embedMany({ model: fromAISDK(aiModel), inputs: ['x'], clock });
    expect(clock.sleeps).toEqual([1250]);
    expect(result.embeddings).toHaveLength(1);
    const error = await rejectionOf(
      embedMany({
        model: fromAISDK(
          failing(
            apiCallError({ statusCode: 429, responseHeaders: { 'retry-after': '3' }, isRetryable: true }),
          ),
        ),
        inputs: ['x'],
        maxRetries: 0,
      }),
    );
    expect(error.retryAfterMs).toBe(3000);
  });

  it("follows the provider's isRetryable: a 503 it calls final is not retried", async () => {
    const aiModel = failing(apiCallError({ statusCode: 503, responseBody: '{}', isRetryable: false }));
    const error = await rejectionOf(embedMany({ model: fromAISDK(aiModel), inputs: ['x'], maxRetries: 3 }));
    expect(error.name).toBe('ServerError');
    expect(error.isRetryable).toBe(false);
    expect(aiModel.calls).toHaveLength(1);
  });

  it('reduces an HTML error page to its text', async () => {
    const page =
      '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
    const error = await rejectionOf(
      embedMany({
        model: fromAISDK(
          failing(
            apiCallError({
              message: 'Bad Gateway',
              statusCode: 502,
              responseHeaders: { 'content-type': 'text/html' },
              responseBody: page,
              isRetryable: true,
            }),
          ),
        ),
        inputs: ['x'],
        maxRetries: 0,
      }),
    );
    expect(error.name).toBe('ServerError');
    expect(error.message).toMatch(/non-JSON text\/html: 502 Bad Gateway 502 Bad Gateway/);
    expect(error.message).not.toContain('<h1>');
  });

  it('words an error status whose body the AI SDK could not read as core does, not as an empty body', async () => {
    // What the AI SDK throws when reading an error answer's body fails: the status and headers, no body.
    const unread = (cause: unknown) =>
      failing(
        apiCallError({
          message: 'Failed to process error response',
          statusCode: 503,
          responseHeaders: { 'content-type': 'application/json', 'retry-after': '2' },
          cause,
          isRetryable: true,
        }),
      );
    /** The error of one call through `aiModel`, retries off. */
    const failureOf = (aiModel: ReturnType<typeof failing>, secrets: string[] = []) =>
      rejectionOf(embedMany({ model: fromAISDK(aiModel, {}, { secrets }), inputs: ['x'], maxRetries: 0 }));
    const cut = new TypeError('terminated', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const cutShort = await failureOf(unread(cut));
    expect(cutShort.name).toBe('ServerError');
    expect(cutShort.code).toBe('server_error');
    expect(cutShort.statusCode).toBe(503);
    expect(cutShort.retryAfterMs).toBe(2000);
    expect(cutShort.message).toBe(
      'acme API error 503: its body could not be read whole (terminated: UND_ERR_SOCKET other side closed) — The API failed on its side; retries are turned off (maxRetries 0), so none was made.',
    );
    const gzip = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' });
    const notDecompressed = await failureOf(unread(gzip));
    expect(notDecompressed.name).toBe('ServerError');
    expect(notDecompressed.message).toContain(
      'acme API error 503: its compressed body does not decompress (Z_DATA_ERROR incorrect header check)',
    );
    const quoting = new Error(`the body of the call with key ${KEY} failed`);
    const redacted = await failureOf(unread(quoting), [KEY]);
    expect(redacted.message).toContain(
      'its body could not be read whole (the body of the call with key [REDACTED] failed)',
    );
    // A body too slow keeps its status and its wait, as it does for embedkit's own providers.
    const slow = Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' });
    const timedOut = await failureOf(unread(slow));
    expect(timedOut.name).toBe('ServerError');
    expect(timedOut.retryAfterMs).toBe(2000);
    expect(timedOut.message).toContain(
      'acme API error 503: its body did not arrive within the timeout (UND_ERR_BODY_TIMEOUT Body Timeout Error)',
    );
    // A 2xx body cut short holds no answer at all: the connection failed, as for embedkit's providers.
    const cutAnswer = failing(
      apiCallError({ message: 'Failed to process successful response', statusCode: 200, cause: cut }),
    );
    const failed = await failureOf(cutAnswer);
    expect(failed.name).toBe('ConnectionError');
    expect(failed.isRetryable).toBe(true);
    expect(failed.message).toBe(
      'acme: could not complete the request to https://api.acme.example/v1/embed (terminated: UND_ERR_SOCKET other side closed). Check the network, proxy settings and base URL; retries are turned off (maxRetries 0), so none was made.',
    );
  });

  // The AI SDK's own cap on a body (2 GiB) became a retried ConnectionError, where core's transports
  // report a body over maxResponseBytes as a final InvalidResponseError; and maxResponseBytes, which core
  // tells its own callers to raise, does not reach the AI SDK.
  it('reports a 2xx body over the AI SDK download cap as core does a body over maxResponseBytes: final, and no setting to raise', async () => {
    const requests: string[] = [];
    const tooLong: typeof fetch = async (url) => {
      requests.push(String(url));
      // The AI SDK reads Content-Length first and refuses the body unread.
      return new Response('{"data":[]}', {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': '3000000000' },
      });
    };
    const model = fromAISDK(
      createOpenAI({ apiKey: KEY, fetch: tooLong }).embedding('text-embedding-3-small'),
    );
    const error = await rejectionOf(embedMany({ model, inputs: ['x'], maxRetries: 3 }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe(
      'openai sent a response larger than 2147483648 bytes, a limit no setting raises; send fewer inputs per call.',
    );
    expect(requests).toHaveLength(1);
    // An error status whose body is over the cap keeps its status, as core's transports keep it.
    const overloaded: typeof fetch = async () =>
      new Response('{}', { status: 503, headers: { 'content-length': '3000000000' } });
    const unread = await rejectionOf(
      embedMany({
        model: fromAISDK(
          createOpenAI({ apiKey: KEY, fetch: overloaded }).embedding('text-embedding-3-small'),
        ),
        inputs: ['x'],
        maxRetries: 0,
      }),
    );
    expect(unread.name).toBe('ServerError');
    expect(unread.message).toContain(
      'openai API error 503: its body was larger than 2147483648 bytes, and was not read',
    );
  });

  it('reports a 2xx the AI SDK provider could not read as an InvalidResponseError, not retried', async () => {
    const broken = failing(
      apiCallError({ message: 'Invalid JSON response', statusCode: 200, responseBody: '{"data": [' }),
    );
    const notJson = await rejectionOf(embedMany({ model: fromAISDK(broken), inputs: ['x'], maxRetries: 3 }));
    expect(notJson.name).toBe('InvalidResponseError');
    expect(notJson.message).toMatch(/not valid JSON/);
    expect(broken.calls).toHaveLength(1);
    const wrongShape = await rejectionOf(
      embedMany({
        model: fromAISDK(
          failing(
            apiCallError({
              message: 'Invalid JSON response',
              statusCode: 200,
              responseBody: '{"data":[{"embedding":[null]}]}',
              cause: new Error('Type validation failed: data.0.embedding.0 expected number'),
            }),
          ),
        ),
        inputs: ['x'],
      }),
    );
    expect(wrongShape.name).toBe('InvalidResponseError');
    expect(wrongShape.message).toContain(
      'acme returned an embeddings body of the wrong shape: (root): Invalid JSON response (Type validation failed',
    );
    // A gateway's error answered with a success status: its own message, as for embedkit's providers.
    const gatewayError = await rejectionOf(
      embedMany({
        model: fromAISDK(
          failing(
            apiCallError({
              message: 'Invalid JSON response',
              statusCode: 200,
              responseBody: '{"error":{"message":"upstream quota exceeded"}}',
            }),
          ),
        ),
        inputs: ['x'],
      }),
    );
    expect(gatewayError.name).toBe('InvalidResponseError');
    expect(gatewayError.message).toContain(
      'answered status 200 with an error instead of embeddings: upstream quota exceeded',
    );
  });

  it('reports a request that got no answer as a ConnectionError, or a TimeoutError for timeout codes', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const viaAISDK = await rejectionOf(
      embedMany({
        model: fromAISDK(
          failing(apiCallError({ message: 'Cannot connect to API', cause: reset, isRetryable: true })),
        ),
        inputs: ['x'],
        maxRetries: 0,
      }),
    );
    expect(viaAISDK.name).toBe('ConnectionError');
    expect(viaAISDK.isRetryable).toBe(true);
    expect(viaAISDK.message).toContain('ECONNRESET socket hang up');
    // A fetch failure the AI SDK passed through untyped: its code still says what happened.
    const raw = await rejectionOf(
      embedMany({
        model: fromAISDK(failing({ code: 'UND_ERR_HEADERS_TIMEOUT', message: 'Headers Timeout Error' })),
        inputs: ['x'],
        maxRetries: 0,
      }),
    );
    expect(raw.name).toBe('TimeoutError');
    // A plain bug in a provider stays what it is, and is not retried.
    const bug = failing(new TypeError('values.map is not a function'));
    const error = await rejectionOf(embedMany({ model: fromAISDK(bug), inputs: ['x'], maxRetries: 3 }));
    expect(error).toBeInstanceOf(TypeError);
    expect(bug.calls).toHaveLength(1);
  });

  it('refuses before any request what the AI SDK refuses before any request', async () => {
    const noKey = await rejectionOf(
      embedMany({
        model: fromAISDK(failing(new LoadAPIKeyError({ message: 'ACME_API_KEY is missing' }))),
        inputs: ['x'],
      }),
    );
    expect(InvalidArgumentError.isInstance(noKey)).toBe(true);
    expect(noKey.message).toBe('acme: ACME_API_KEY is missing');
    const tooMany = await rejectionOf(
      embedMany({
        model: fromAISDK(
          failing(
            new TooManyEmbeddingValuesForCallError({
              provider: 'acme',
              modelId: 'acme-embed-1',
              maxEmbeddingsPerCall: 1,
              values: ['x', 'y'],
            }),
          ),
        ),
        inputs: ['x', 'y'],
      }),
    );
    expect(InvalidArgumentError.isInstance(tooMany)).toBe(true);
  });

  describe('secrets', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('redacts the given secrets and the keys in the environment from every field, and keeps no raw cause', async () => {
      const fromEnvironment = 'env-key-acme-0f9e8d7c6b5a';
      vi.stubEnv('ACME_API_KEY', fromEnvironment);
      const echo = `invalid key ${KEY}; the environment has ${fromEnvironment}`;
      const error = await rejectionOf(
        embedMany({
          model: fromAISDK(
            failing(
              apiCallError({
                message: echo,
                url: `https://api.acme.example/v1/embed?key=${KEY}`,
                statusCode: 401,
                responseBody: JSON.stringify({ message: echo }),
              }),
            ),
            {},
            { secrets: [KEY] },
          ),
          inputs: ['x'],
        }),
      );
      expect(error.name).toBe('AuthenticationError');
      for (const text of [
        error.message,
        String(error.responseBody),
        String(error.url),
        String(error.stack),
        inspect(error, { depth: 8 }),
        JSON.stringify(error),
      ]) {
        expect(text).not.toContain(KEY);
        expect(text).not.toContain(fromEnvironment);
      }
      expect(error.message).toContain('invalid key [REDACTED]');
      expect(error.cause).toBeUndefined();
    });
  });
});

describe('fromAISDK in the rest of embedkit', () => {
  it('aborts the AI SDK call in flight with the native AbortError', async () => {
    const aiModel = handMade(
      ({ abortSignal }) =>
        new Promise((_, reject) => {
          abortSignal?.addEventListener('abort', () => reject(abortSignal.reason), { once: true });
        }),
    );
    const controller = new AbortController();
    const pending = rejectionOf(
      embedMany({ model: fromAISDK(aiModel), inputs: ['x'], signal: controller.signal }),
    );
    await vi.waitFor(() => expect(aiModel.calls).toHaveLength(1));
    controller.abort();
    const error = await pending;
    expect(isAbortError(error)).toBe(true);
    expect(aiModel.calls[0]!.abortSignal?.aborted).toBe(true);
  });

  it("serves repeated inputs from embedkit's cache and resolves through a registry", async () => {
    const aiModel = handMade(async ({ values }) => answer(values));
    const acme = { embedding: (modelId: string) => fromAISDK({ ...aiModel, modelId }) };
    const model = wrapEmbeddingModel(
      createRegistry({ acme }).embeddingModel('acme:acme-embed-1'),
      cacheMiddleware(),
    );
    const first = await embedMany({ model, inputs: ['a', 'b'] });
    const second = await embedMany({ model, inputs: ['b', 'a'] });
    expect(aiModel.calls.map((call) => call.values)).toEqual([['a', 'b']]);
    expect(Array.from(second.embeddings[0]!)).toEqual(Array.from(first.embeddings[1]!));
  });
});
