/**
 * Edges of core that the rest of the suite left open: a cache key that counts an own `__proto__` key of
 * the provider options, a base URL that carries a user name or password, server text (a request id, a
 * content type, a provider's hint) that reaches an error only after redaction, a `transformRequest` that
 * returns no request, and a corpus vector that holds Infinity or NaN.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheKey, cacheMiddleware } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { InvalidArgumentError, InvalidResponseError, NotFoundError, RETRIED_CLAUSE } from '../src/errors.js';
import { type RequestJsonOptions, requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { decodeAnswer, loadBaseURL, parseResponse } from '../src/provider-utils.js';
import { topK } from '../src/search/top-k.js';
import type { EmbedRequest } from '../src/types.js';
import { errorOf, javascriptOnly, ScriptedModel, thrownError } from './helpers.js';
import { dataArraySchema, failure, recordingFetch, URL_BASE, walkForSecrets } from './http-helpers.js';

const KEY = 'sk-live-Zq81mWc0pL2v';

afterEach(() => {
  vi.unstubAllEnvs();
});

/** The SHA-256 hex digest of the JSON of `material`: the form every cache key has. */
function digest(material: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

describe('cache keys: every key of the provider options counts', () => {
  const model = new ScriptedModel({ provider: 'p', modelId: 'm' });
  const head = ['embedkit-cache-v2', 'p', 'm', null, null, 'float', false];

  it('an own __proto__ key, as JSON.parse makes one, is part of the key at any depth', async () => {
    const top = JSON.parse('{"__proto__":{"x":1}}') as Record<string, Record<string, unknown>>;
    const nested = JSON.parse('{"p":{"__proto__":{"x":1},"a":2}}') as Record<string, Record<string, unknown>>;
    expect(await cacheKey(model, { providerOptions: top }, 'hello')).toBe(
      digest([...head, JSON.parse('{"__proto__":{"x":1}}'), ['text', 'hello', null]]),
    );
    expect(await cacheKey(model, { providerOptions: nested }, 'hello')).toBe(
      digest([...head, JSON.parse('{"p":{"__proto__":{"x":1},"a":2}}'), ['text', 'hello', null]]),
    );
    expect(await cacheKey(model, { providerOptions: top }, 'hello')).not.toBe(
      await cacheKey(model, { providerOptions: {} }, 'hello'),
    );
    // Options without such a key keep the key they had.
    expect(await cacheKey(model, { providerOptions: { p: { a: 2 } } }, 'hello')).toBe(
      digest([...head, { p: { a: 2 } }, ['text', 'hello', null]]),
    );
  });

  it('a request whose options differ only by a __proto__ key is not served the other’s vectors', async () => {
    const inner = new ScriptedModel();
    const cached = wrapEmbeddingModel(inner, cacheMiddleware());
    const options = JSON.parse('{"p":{"__proto__":{"x":1}}}') as Record<string, Record<string, unknown>>;
    await cached.doEmbed({ inputs: ['3'], providerOptions: options });
    await cached.doEmbed({ inputs: ['3'], providerOptions: { p: {} } });
    expect(inner.callInputs).toEqual([['3'], ['3']]);
  });
});

describe('a base URL with a user name or password', () => {
  const settings = {
    environmentVariables: ['ACME_BASE_URL'],
    defaultURL: 'https://api.acme.test/v1',
    provider: 'acme',
  };

  it.each([
    ['a user and a password', 'https://gw-user:pa55-w0rd-9@gw.acme.test/v1'],
    ['a user alone', 'https://pa55-w0rd-9@gw.acme.test/v1'],
    ['a password alone', 'http://:pa55-w0rd-9@127.0.0.1:8000/v1'],
  ])('from the setting (%s) is refused before anything is sent, without the URL', (_name, baseURL) => {
    const error = thrownError(InvalidArgumentError, () => loadBaseURL({ ...settings, baseURL }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('baseURL');
    expect(error.message).toBe(
      "acme: the base URL from the baseURL setting holds a user name or password (user:password@); credentials in the URL are not sent. Remove them and pass the API key as the apiKey setting (a gateway's own credentials go in the headers setting).",
    );
    expect(error.isRetryable).toBe(false);
    expect(walkForSecrets(error, ['pa55-w0rd-9']).leaks).toEqual([]);
  });

  it('from an environment variable is refused naming the variable', () => {
    vi.stubEnv('ACME_BASE_URL', 'https://bob:hunter2-pw@gw.acme.test/v1');
    const error = thrownError(InvalidArgumentError, () => loadBaseURL({ ...settings, baseURL: undefined }));
    expect(error.argument).toBe('baseURL');
    expect(error.message).toMatch(/^acme: the base URL from ACME_BASE_URL holds a user name or password/);
    expect(error.message).not.toContain('hunter2');
  });

  it('an @ in the path is no user name: the URL is taken as it is', () => {
    expect(loadBaseURL({ ...settings, baseURL: 'https://gw.acme.test/@team/v1' })).toEqual({
      url: 'https://gw.acme.test/@team/v1',
      source: undefined,
      origin: 'the baseURL setting',
    });
  });
});

describe('server text in errors passes the call’s redaction', () => {
  /** The successful answer `requestJson` makes of `reply` to a call whose key is `KEY`. */
  function answerOf(reply: Response, options: Partial<RequestJsonOptions> = {}) {
    const { fetch } = recordingFetch(() => reply);
    return requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      body: { input: ['a'] },
      secrets: [KEY],
      ...options,
    });
  }

  it('decodeAnswer redacts the request id of an answer from requestJson with the call’s secrets', async () => {
    const response = await answerOf(
      new Response('{"data":[]}', {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-request-id': `req-${KEY}` },
      }),
    );
    const error = thrownError(InvalidResponseError, () =>
      decodeAnswer({ provider: 'acme', response }, () => {
        throw new InvalidResponseError('Vector 0 holds NaN at position 3, not a finite number.');
      }),
    );
    expect(error.requestId).toBe('req-[REDACTED]');
    expect(error.statusCode).toBe(200);
    expect(error.message).toBe(
      'acme returned an answer whose vector 0 holds NaN at position 3, not a finite number.',
    );
  });

  it('decodeAnswer redacts a request id of any other answer with the credential patterns', () => {
    const error = thrownError(InvalidResponseError, () =>
      decodeAnswer({ provider: 'acme', response: { status: 200, requestId: `echo Bearer ${KEY}` } }, () => {
        throw new InvalidResponseError('Vector 1 is not a non-empty array of numbers.');
      }),
    );
    expect(error.requestId).toBe('echo Bearer [REDACTED]');
  });

  it('the content type of a 2xx body that is not JSON is quoted redacted', async () => {
    const error = await failure({
      secrets: [KEY],
      fetch: async () =>
        new Response('<p>maintenance</p>', {
          status: 200,
          headers: { 'content-type': `text/html; echo=${KEY}` },
        }),
    });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'acme returned status 200 with a body that is not valid JSON (text/html): maintenance. A proxy or gateway between you and the API may be answering instead of it.',
    );
  });

  it('the content type of a failed status that is not JSON is quoted redacted', async () => {
    const error = await failure({
      secrets: [KEY],
      fetch: async () => new Response('down', { status: 502, headers: { 'content-type': `${KEY}/plain` } }),
    });
    expect(error.message).toBe(
      `acme API error 502: a non-JSON [REDACTED]/plain: down — The API failed on its side; ${RETRIED_CLAUSE}.`,
    );
  });

  it('a provider’s hint and code, read from the body, are redacted before they reach the message', async () => {
    const error = await failure({
      secrets: [KEY],
      parseError: () => ({
        message: `models/${KEY} is not found`,
        providerCode: `NOT_FOUND ${KEY}`,
        hint: `models/${KEY} is not served by this API version.`,
      }),
      fetch: async () => new Response('{"error":{}}', { status: 404 }),
    });
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'acme API error 404: models/[REDACTED] is not found — models/[REDACTED] is not served by this API version.',
    );
    expect(error.providerCode).toBe('NOT_FOUND [REDACTED]');
    expect(walkForSecrets(error, [KEY]).leaks).toEqual([]);
  });

  it('a provider’s code and request id read from an error-shaped 2xx body are redacted', async () => {
    const response = await answerOf(new Response('{"error":{"message":"no quota"}}', { status: 200 }), {
      parseError: () => ({ providerCode: `code-${KEY}`, requestId: `id-${KEY}` }),
    });
    const error = thrownError(InvalidResponseError, () =>
      parseResponse(dataArraySchema, response, 'acme', 'embeddings'),
    );
    expect(error.providerCode).toBe('code-[REDACTED]');
    expect(error.requestId).toBe('id-[REDACTED]');
    expect(walkForSecrets(error, [KEY]).leaks).toEqual([]);
  });
});

describe('wrapEmbeddingModel: a transformRequest that returns no request', () => {
  it.each([
    ['undefined', () => undefined, 'undefined'],
    ['null', () => null, 'null'],
    ['the inputs alone', ({ request }: { request: EmbedRequest }) => request.inputs, 'an array'],
  ])(
    'returning %s is refused naming the hook, and the model is not called',
    async (_name, transform, shown) => {
      const inner = new ScriptedModel();
      const model = wrapEmbeddingModel(inner, { transformRequest: transform as never });
      const error = errorOf(
        InvalidArgumentError,
        await model.doEmbed({ inputs: ['a'] }).then(
          () => undefined,
          (reason: unknown) => reason,
        ),
      );
      expect(error.message).toBe(
        `middleware.transformRequest must return the request (an object with inputs), got ${shown}.`,
      );
      expect(error.argument).toBe('middleware');
      expect(inner.calls).toHaveLength(0);
    },
  );

  it('names the layer of a list, and reaches embedMany as the same error, not retried', async () => {
    const inner = new ScriptedModel();
    const model = wrapEmbeddingModel(inner, [
      { transformRequest: ({ request }) => request },
      { transformRequest: async () => undefined as never },
    ]);
    const error = errorOf(
      InvalidArgumentError,
      await embedMany({ model, inputs: ['a'] }).then(
        () => undefined,
        (reason: unknown) => reason,
      ),
    );
    expect(error.message).toBe(
      'middleware[1].transformRequest must return the request (an object with inputs), got undefined.',
    );
    expect(inner.calls).toHaveLength(0);
  });
});

describe('topK: a corpus vector holding Infinity or NaN', () => {
  /** Eight values: the WebAssembly kernels take Float32Array corpora of a multiple of 8 dimensions. */
  const eight = (...values: number[]) => Float32Array.from({ length: 8 }, (_, index) => values[index] ?? 0);
  const query = [1, 0.5, 0, 0, 0, 0, 0, 0];

  for (const [path, run] of [
    ['WebAssembly', <T>(search: () => T) => search()],
    ['JavaScript', javascriptOnly],
  ] as const) {
    it.each([
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['NaN', Number.NaN],
    ])(`is refused naming the vector and the position, under both metrics (${path}; %s)`, (name, bad) => {
      const corpus = [eight(1), eight(0, 1), eight(0, 0, 0, 0, 0, bad), eight(1, 1)];
      for (const metric of ['dot', 'cosine'] as const) {
        const error = thrownError(InvalidArgumentError, () => run(() => topK(query, corpus, 2, { metric })));
        expect(error.message, metric).toBe(
          `Vector 2 holds ${name} at position 5; a corpus holds finite numbers.`,
        );
        expect(error.argument).toBe('vectors');
      }
    });
  }

  it('is refused in a number array corpus, and where the query is 0 at its position', () => {
    const error = thrownError(InvalidArgumentError, () =>
      topK(
        [0, 1],
        [
          [1, 1],
          [Number.POSITIVE_INFINITY, 1],
        ],
        1,
        { metric: 'dot' },
      ),
    );
    expect(error.message).toBe('Vector 1 holds Infinity at position 0; a corpus holds finite numbers.');
  });

  it('is refused on every query over a corpus kept in WebAssembly memory, the copy’s queries included', () => {
    const corpus = Array.from({ length: 80 }, (_, index) =>
      Float32Array.from({ length: 1_024 }, (_, position) => Math.sin(index + position)),
    );
    corpus[57]![1_000] = Number.NEGATIVE_INFINITY;
    const long = Array.from({ length: 1_024 }, (_, position) => Math.cos(position));
    for (let round = 0; round < 3; round++) {
      const error = thrownError(InvalidArgumentError, () => topK(long, corpus, 3, { metric: 'dot' }));
      expect(error.message, `query ${round + 1}`).toBe(
        'Vector 57 holds -Infinity at position 1000; a corpus holds finite numbers.',
      );
    }
  });

  it('finite values whose product overflows are no refusal: their score is Infinity', () => {
    expect(
      topK(
        [1e300, 0],
        [
          [1, 0],
          [1e300, 0],
        ],
        2,
        { metric: 'dot' },
      ),
    ).toEqual([
      { index: 1, score: Number.POSITIVE_INFINITY },
      { index: 0, score: 1e300 },
    ]);
  });
});
