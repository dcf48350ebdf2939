/**
 * Edges of a request and its answer: an error status whose body is cut short by a closed connection keeps
 * its status and its wait through both transports, a 2xx body that is not JSON says so once, account
 * headers are redacted however they were set, and a middleware's further request has its usage checked
 * before it settles the rate limiter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import {
  ConnectionError,
  type EmbedKitError,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  RateLimitError,
  RetryError,
  ServerError,
} from '../src/errors.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import type { Transport } from '../src/http/transport.js';
import { type EmbeddingModelMiddleware, wrapEmbeddingModel } from '../src/middleware.js';
import { loadApiKey, loadHeaderSetting, postJson } from '../src/provider-utils.js';
import { rejectionOf, ScriptedModel, timersAtEach, tokenRecordingStore, VirtualClock } from './helpers.js';
import {
  acmeRequest,
  failure,
  requestJsonModel,
  startLoopback,
  TRANSPORTS,
  walkForSecrets,
  watchHeads,
} from './http-helpers.js';

const KEY = 'sk-fake-not-a-real-key-abc';

/** The part of a JSON error body the server writes before it closes the connection. */
const PART = '{"error":{"message":"slow down, you have sent';

describe('an answer whose body is cut short by a closed connection', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  /** The status of each answer in turn, the last one repeated; a 200 after the first is sent whole. */
  let statuses: number[] = [];

  beforeAll(async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    loopback = await startLoopback((request: IncomingMessage, response: ServerResponse) => {
      const status = statuses[Math.min(loopback.requests.length - 1, statuses.length - 1)]!;
      const whole = JSON.stringify({ data: [{ index: 0, embedding: [0.5] }] });
      if (status === 200 && loopback.requests.length > 1) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(whole);
        return;
      }
      // The head declares 500 bytes; the server sends a few, then destroys the socket.
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': 500,
        'retry-after': '7',
        'x-request-id': 'req-fake-cut',
      });
      response.write(PART, () => request.socket.destroy());
    });
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  const call = (transport: Transport) => acmeRequest(transport, `${loopback.origin}/v1/embeddings`);

  /** A model that sends each call to the loopback through `requestJson`. */
  const model = (transport: Transport) => requestJsonModel(transport, `${loopback.origin}/v1/embeddings`);

  describe.each(Object.keys(TRANSPORTS))('%s', (name) => {
    const transport = TRANSPORTS[name]!;
    /** The fetch transport's errors quote Node's fetch, which puts `terminated: ` before the cause. */
    const reason = `${name === 'fetch' ? 'terminated: ' : ''}UND_ERR_SOCKET other side closed`;

    it.each([
      [
        429,
        RateLimitError,
        'rate_limited',
        true,
        'Lower concurrency or set rateLimit; the engine retries these.',
      ],
      [503, ServerError, 'server_error', true, 'The API failed on its side; the engine retries these.'],
      [
        400,
        InvalidRequestError,
        'invalid_request',
        false,
        'Check the inputs and options against the model’s capabilities.',
      ],
    ] as const)(
      'a %i is still the typed error of its status, with its Retry-After and request id, and says the body was cut',
      async (status, kind, code, retryable, hint) => {
        loopback.reset();
        statuses = [status];
        const error = await rejectionOf<EmbedKitError>(kind, call(transport()));
        expect(error).toMatchObject({
          code,
          isRetryable: retryable,
          statusCode: status,
          retryAfterMs: 7_000,
          requestId: 'req-fake-cut',
          message: `acme API error ${status}: its body could not be read whole (${reason}) — ${hint}`,
        });
        expect(walkForSecrets(error, [KEY]).leaks).toEqual([]);
      },
    );

    it('a 200 stays a retryable ConnectionError: its vectors are lost', async () => {
      loopback.reset();
      statuses = [200];
      const error = await rejectionOf(ConnectionError, call(transport()));
      expect(error.code).toBe('connection');
      expect(error.isRetryable).toBe(true);
      expect(error.neverSent).toBe(false);
      expect(error.statusCode).toBeUndefined();
      expect(error.message).toBe(
        `acme: could not complete the request to ${loopback.origin}/v1/embeddings (${reason}). Check the network, proxy settings and base URL; the engine retries these.`,
      );
    });

    it('embedMany waits out the Retry-After of a cut 429 and then retries', async () => {
      loopback.reset();
      statuses = [429, 200];
      const clock = new VirtualClock({ random: [0] });
      const result = await embedMany({ model: model(transport()), inputs: ['a'], clock, maxRetries: 2 });
      expect(result.embeddings).toEqual([Float32Array.of(0.5, 0.5)]);
      expect(loopback.requests).toHaveLength(2);
      expect(clock.sleepDurations).toEqual([7_000]);
    });
  });
});

describe('an answer whose body stalls after its head', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  let status = 429;

  beforeAll(async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    // The head declares 500 bytes; the server sends a few and then nothing more, keeping the connection.
    loopback = await startLoopback((_request, response) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': 500,
        'retry-after': '7',
        'x-request-id': 'req-fake-stalled',
      });
      response.write(PART);
    });
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  const model = (transport: Transport) => requestJsonModel(transport, `${loopback.origin}/v1/embeddings`);

  /**
   * `call`'s outcome, each attempt's whole `timeoutMs` let pass once the head of its answer (of status
   * `status`) has reached the client, never before: every timeout lands while the body stalls, after the
   * head, however slowly a loaded machine brings it in.
   */
  async function afterEachHead<T>(status: number, timeoutMs: number, call: () => Promise<T>): Promise<T> {
    const { heads, stop } = watchHeads();
    try {
      const reached = () => heads.filter((head) => head.statusCode === status).length;
      return await timersAtEach(timeoutMs, reached, `the head of the answer to attempt`, call);
    } finally {
      stop();
    }
  }

  describe.each(Object.keys(TRANSPORTS))('%s', (name) => {
    const transport = TRANSPORTS[name]!;

    it.each([
      [
        429,
        RateLimitError,
        'rate_limited',
        'Lower concurrency or set rateLimit; every retry failed: try again later, or raise maxRetries.',
      ],
      [
        503,
        ServerError,
        'server_error',
        'The API failed on its side; every retry failed: try again later, or raise maxRetries.',
      ],
    ] as const)(
      'a %i past timeoutMs is still the typed error of its status, and the retry waits out its Retry-After',
      async (answered, kind, code, hint) => {
        loopback.reset();
        status = answered;
        const clock = new VirtualClock({ random: [0] });
        const error = await afterEachHead(answered, 400, () =>
          rejectionOf(
            RetryError,
            embedMany({ model: model(transport()), inputs: ['a'], clock, maxRetries: 1, timeoutMs: 400 }),
          ),
        );
        expect(error.attempts).toBe(2);
        expect(loopback.requests).toHaveLength(2);
        expect(clock.sleepDurations).toEqual([7_000]);
        const last = error.lastError as EmbedKitError;
        expect(kind.isInstance(last)).toBe(true);
        expect(last).toMatchObject({
          code,
          isRetryable: true,
          statusCode: answered,
          retryAfterMs: 7_000,
          requestId: 'req-fake-stalled',
          message: `acme API error ${answered}: its body did not arrive within the timeout (timeoutMs 400 ms) — ${hint}`,
        });
        expect(walkForSecrets(error, [KEY]).leaks).toEqual([]);
      },
    );
  });

  it("a socket's body timeout on an error status keeps the status too", async () => {
    const stalled = Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' });
    const error = await failure({
      fetch: async () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.error(stalled);
            },
          }),
          { status: 429, headers: { 'retry-after': '7', 'x-request-id': 'req-fake-stalled' } },
        ),
    });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(429);
    expect(error.retryAfterMs).toBe(7_000);
    expect(error.requestId).toBe('req-fake-stalled');
    expect(error.message).toBe(
      'acme API error 429: its body did not arrive within the timeout (UND_ERR_BODY_TIMEOUT Body Timeout Error) — Lower concurrency or set rateLimit; the engine retries these.',
    );
  });
});

describe('a 2xx body that is not JSON', () => {
  it('is called not valid JSON once, naming its media type', async () => {
    const error = await failure({
      fetch: async () =>
        new Response('<p>Bad gateway</p>', { status: 200, headers: { 'content-type': 'text/html' } }),
    });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'acme returned status 200 with a body that is not valid JSON (text/html): Bad gateway. A proxy or gateway between you and the API may be answering instead of it.',
    );
  });

  it('with no content type, is quoted right after the phrase', async () => {
    // Bytes, not a string: a string body would be given a text/plain type.
    const body = new TextEncoder().encode('maintenance');
    const error = await failure({ fetch: async () => new Response(body, { status: 200 }) });
    expect(error.message).toBe(
      'acme returned status 200 with a body that is not valid JSON: maintenance. A proxy or gateway between you and the API may be answering instead of it.',
    );
  });
});

describe('a header setting read from its setting or the environment', () => {
  const read = (value: unknown) =>
    loadHeaderSetting({
      value,
      setting: 'project',
      environmentVariables: ['ACME_PROJECT'],
      provider: 'acme',
    });

  it('takes the setting as given, else the first variable set, trimmed, else nothing', () => {
    vi.stubEnv('ACME_PROJECT', '  project-from-environment  ');
    try {
      expect(read('project-from-setting')).toBe('project-from-setting');
      expect(read(undefined)).toBe('project-from-environment');
      vi.stubEnv('ACME_PROJECT', ' ');
      expect(read(undefined)).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('refuses a setting that is no non-empty string, naming the variable it could have used', async () => {
    const error = await rejectionOf(InvalidArgumentError, () => read(' '));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('project');
    expect(error.message).toBe(
      'acme: project must be a non-empty string, or left out to use ACME_PROJECT; got " ".',
    );
  });

  it('refuses a variable that cannot travel in a header, naming the variable, as an API key is', async () => {
    vi.stubEnv('ACME_PROJECT', 'proj ect');
    vi.stubEnv('ACME_KEY', 'sk-fake not-a-real-key-abc');
    try {
      expect((await rejectionOf(InvalidArgumentError, () => read(undefined))).message).toBe(
        'acme: the project from ACME_PROJECT holds white space at position 4, which cannot be sent in an HTTP header; copy the project again without it.',
      );
      const keyError = await rejectionOf(InvalidArgumentError, () =>
        loadApiKey({ apiKey: undefined, environmentVariables: ['ACME_KEY'], provider: 'acme' }),
      );
      expect(keyError.argument).toBe('apiKey');
      expect(keyError.message).toBe(
        'acme: the API key from ACME_KEY holds white space at position 7, which cannot be sent in an HTTP header; copy the key again without it.',
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('account headers passed through the headers setting', () => {
  const ORGANIZATION = 'not-a-real-organization-abc';
  const PROJECT = 'not-a-real-project-abc';

  /** A provider's call built on core's helpers, with the user's headers setting as given. */
  async function acmeFailure(headers: Record<string, string>) {
    const echoed = JSON.stringify({
      error: { message: `organization ${ORGANIZATION} and project ${PROJECT} may not use this model` },
    });
    const error = await rejectionOf(
      InvalidRequestError,
      postJson(
        {
          provider: 'acme',
          transport: createFetchTransport(
            async () =>
              new Response(echoed, { status: 400, headers: { 'content-type': 'application/json' } }),
          ),
          resolve: () => ({
            baseURL: 'https://api.acme.test/v1',
            headers: { authorization: `Bearer ${KEY}`, ...headers },
            secrets: [KEY],
          }),
          parseError: (body) => ({ message: (body as { error: { message: string } }).error.message }),
        },
        '/embeddings',
        { input: ['a'] },
        {},
      ),
    );
    expect(error.statusCode).toBe(400);
    return error;
  }

  it.each([
    ['as OpenAI spells them', { 'OpenAI-Organization': ORGANIZATION, 'OpenAI-Project': PROJECT }],
    ['in lower case', { 'openai-organization': ORGANIZATION, 'openai-project': PROJECT }],
    ['in upper case', { 'OPENAI-ORGANIZATION': ORGANIZATION, 'OPENAI-PROJECT': PROJECT }],
  ])('are redacted from the error when written %s', async (_, headers) => {
    const error = await acmeFailure(headers);
    expect(error.message).toBe(
      'acme API error 400: organization [REDACTED] and project [REDACTED] may not use this model — Check the inputs and options against the model’s capabilities.',
    );
    expect(walkForSecrets(error, [ORGANIZATION, PROJECT, KEY]).leaks).toEqual([]);
  });

  it('a header of another name is left as it is', async () => {
    const error = await acmeFailure({ 'x-organization': ORGANIZATION });
    expect(error.message).toBe(
      `acme API error 400: organization ${ORGANIZATION} and project ${PROJECT} may not use this model — Check the inputs and options against the model’s capabilities.`,
    );
  });
});

describe('a middleware that sends a further request in one call', () => {
  /** Sends the request, then a further one whose answer it drops, and answers with the first. */
  const probing: EmbeddingModelMiddleware = {
    wrapEmbed: async ({ doEmbed, request }) => {
      const first = await doEmbed(request);
      await doEmbed(request);
      return first;
    },
  };

  it.each([
    ['NaN', Number.NaN, 'NaN'],
    ['negative', -50, '-50'],
    ['fractional', 2.5, '2.5'],
  ])(
    'whose answer reports a %s token count fails the call, and the count never reaches the limiter',
    async (_, tokens, shown) => {
      const clock = new VirtualClock();
      // The call's own request reports 10 tokens; the further one, the count under test.
      let requests = 0;
      const inner = new ScriptedModel({ clock, usage: () => (++requests === 2 ? tokens : 10) });
      const { store, taken, adjusted } = tokenRecordingStore();
      const error = await rejectionOf(
        InvalidResponseError,
        embedMany({
          model: wrapEmbeddingModel(inner, probing),
          inputs: ['1'],
          clock,
          rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store }),
        }),
      );
      expect(error.code).toBe('invalid_response');
      expect(error.isRetryable).toBe(false);
      expect(error.message).toBe(`scripted reported usage of ${shown} tokens, which is not a count.`);
      expect(inner.calls).toHaveLength(2);
      // Each request took its estimate; neither was settled with a count, so nothing was given back.
      expect(taken).toEqual([1, 1]);
      expect(adjusted).toEqual([]);
    },
  );

  /** One input's job through the probing middleware, under a budget of 1,000 tokens a minute. */
  const probed = (inner: ScriptedModel, clock: VirtualClock) =>
    embedMany({
      model: wrapEmbeddingModel(inner, probing),
      inputs: ['1'],
      clock,
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000 }),
    });

  it('whose answer holds warnings that are not a list fails the call before they are merged', async () => {
    const clock = new VirtualClock();
    let requests = 0;
    const inner = new ScriptedModel({
      clock,
      respond: ({ request }) => ({
        embeddings: request.inputs.map(() => Float32Array.of(1, 0)),
        warnings: (++requests === 2 ? 'not a list' : []) as never,
        response: { status: 200, headers: {} },
      }),
    });
    const error = await rejectionOf(InvalidResponseError, probed(inner, clock));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe('scripted returned warnings that are not a list.');
    expect(inner.calls).toHaveLength(2);
  });

  it('whose answer is nothing at all fails the call with an InvalidResponseError, not a TypeError', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedModel({ clock });
    const answer = inner.doEmbed.bind(inner);
    let requests = 0;
    inner.doEmbed = async (request) => (++requests === 2 ? (undefined as never) : answer(request));
    const error = await rejectionOf(InvalidResponseError, probed(inner, clock));
    expect(error.message).toBe('scripted returned no response information (status and headers).');
  });

  it('whose answer reports a sound count settles the limiter with it', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedModel({ clock, usage: () => 10 });
    const { store, taken, adjusted } = tokenRecordingStore();
    const result = await embedMany({
      model: wrapEmbeddingModel(inner, probing),
      inputs: ['1'],
      clock,
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000, store }),
    });
    expect(result.usage).toEqual({ inputTokens: 10 });
    expect(taken).toEqual([1, 1]);
    expect(adjusted).toEqual([-9, -9]);
  });
});
