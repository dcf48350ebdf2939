/**
 * The same failure through every engine: embed, embedMany (of a bare model, one behind a middleware and
 * one behind the cache), embedStream, embedContextualized, rerank and a batch job's `get` each send their
 * requests through `requestJson` to one scripted API, and each must end the same way for the same answers:
 * the same error class and code, the same number of requests, the same waits on the injected clock, and
 * no secret anywhere in the error.
 */
import { describe, expect, it } from 'vitest';
import { sendBatchJobRequest, waitForBatchJob } from '../src/batch-jobs.js';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import type { ContextualizedEmbeddingModel } from '../src/contextualized.js';
import { embedContextualized } from '../src/contextualized.js';
import { embed, embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import type { RetryEvent, WaitEvent } from '../src/engine/settings.js';
import {
  AuthenticationError,
  type EmbedKitError,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  RateLimitError,
  RetryError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import { type ParsedError, requestJson } from '../src/http/client.js';
import { createFetchTransport, type FetchFunction } from '../src/http/fetch-transport.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { type RerankingModel, rerank } from '../src/rerank.js';
import type { EmbeddingModel } from '../src/types.js';
import {
  BASE_CAPABILITIES,
  rejection,
  rejectionOf,
  scriptedBatchGet,
  timersAtEach,
  until,
  VirtualClock,
} from './helpers.js';
import { walkForSecrets } from './http-helpers.js';

const KEY = 'sk-fake-not-a-real-key-abc';
const HEADER_SECRET = 'hs-fake-not-a-real-secret-xyz';
const SECRETS = [KEY, HEADER_SECRET];
const QUERY = 'q';

/** What one request carried: how many items, and the signal that ends it. */
interface Sent {
  items: number;
  signal: AbortSignal | undefined;
}

/** One scripted answer of the API to a request. */
type Reply = (sent: Sent) => Response | Promise<Response>;

/** A JSON answer; the API's error bodies echo both secrets, which no error may repeat. */
function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const failing =
  (status: number, headers: Record<string, string> = {}, code?: string): Reply =>
  () =>
    answer(
      status,
      {
        error: {
          message: `Refused for ${KEY} with ${HEADER_SECRET}.`,
          ...(code === undefined ? {} : { code }),
        },
      },
      headers,
    );

/** A success of one value per item and 10 tokens per item. */
const ok: Reply = ({ items }) => answer(200, { count: items, tokens: items * 10 });

/** An error status whose gzip body is cut short, so it does not decompress. */
const undecompressible =
  (status: number, headers: Record<string, string>): Reply =>
  () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' }));
      },
    });
    return new Response(body, {
      status,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...headers },
    });
  };

/** Never answers: ends only when its request is aborted. */
const silent: Reply = ({ signal }) =>
  new Promise<Response>((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** Reads `{ error: { message, code } }`; `insufficient_quota` is a used-up quota. */
function parseError(body: unknown): ParsedError {
  const error =
    (body as { error?: { message?: string; code?: string; index?: number } } | undefined)?.error ?? {};
  const out: ParsedError = {};
  if (error.index !== undefined) out.inputIndex = error.index;
  if (error.message !== undefined) out.message = error.message;
  if (error.code !== undefined) out.providerCode = error.code;
  if (error.code === 'insufficient_quota') out.quotaExhausted = true;
  return out;
}

/** The scripted API: answers each request with the next reply (the last one answers every later request). */
function scriptedApi(replies: Reply[]) {
  const sent: Sent[] = [];
  const fetch: FetchFunction = async (_url, init) => {
    const items = (JSON.parse(init.body as string) as { items: unknown[] }).items.length;
    const request = { items, signal: init.signal ?? undefined };
    sent.push(request);
    return replies[Math.min(sent.length - 1, replies.length - 1)]!(request);
  };
  return { fetch, sent };
}

/** One request to the scripted API, as a provider sends it: the key in a header, read by `parseError`. */
async function call(fetch: FetchFunction, items: unknown[], request: CallRequest) {
  const response = await requestJson({
    transport: createFetchTransport(fetch),
    provider: 'acme',
    url: 'https://api.acme.test/v1/run',
    headers: { authorization: `Bearer ${KEY}`, ...request.headers },
    body: { items },
    secrets: [KEY],
    parseError,
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  });
  const body = response.body as { count: number; tokens?: unknown; warning?: string };
  const answered = {
    count: body.count,
    response: { status: response.status, headers: response.headers },
    warnings: body.warning === undefined ? [] : [{ type: 'other' as const, message: body.warning }],
  };
  return body.tokens === undefined
    ? answered
    : { ...answered, usage: { inputTokens: body.tokens as number } };
}

interface CallRequest {
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
}

/** What every engine is given: the API, the clock, and the call's settings. */
interface Run {
  fetch: FetchFunction;
  clock: VirtualClock;
  items: string[];
  settings: {
    maxRetries?: number;
    maxRetryDelayMs?: number;
    timeoutMs?: number;
    signal?: AbortSignal;
    headers: Record<string, string>;
    onRetry?: (event: RetryEvent) => void;
    onProgress?: () => void;
    onWarning?: () => void;
    onWait?: (event: WaitEvent) => void;
    tokensPerMinute?: number;
    /** Calls in flight at once (default one). */
    concurrency?: number;
    /** Items a call carries at most: each engine's own setting for it. */
    perCall?: number;
    /** The AI SDK's name for `signal`, which no engine takes. */
    abortSignal?: AbortSignal;
  };
}

/** The settings every vector and rerank job takes, from a run. */
function jobSettings(run: Run) {
  const { tokensPerMinute, perCall: _perCall, concurrency = 1, ...rest } = run.settings;
  return {
    ...rest,
    clock: run.clock,
    concurrency,
    rateLimit: createRateLimiter(tokensPerMinute === undefined ? {} : { tokensPerMinute }),
    // Every item costs 10 tokens, and the query none, so that one budget packs every engine's calls alike;
    // exact, so that an item over the budget is refused rather than sent alone.
    tokenCounter: { exact: true, count: (input: unknown) => (input === QUERY ? 0 : 10) },
  };
}

function embeddingModel(fetch: FetchFunction): EmbeddingModel {
  return {
    specificationVersion: 'v1',
    provider: 'acme',
    modelId: 'acme-1',
    capabilities: BASE_CAPABILITIES,
    async doEmbed(request) {
      const { count, ...rest } = await call(fetch, request.inputs, request);
      return { ...rest, embeddings: Array.from({ length: count }, () => Float32Array.of(1, 2)) };
    },
  };
}

interface Engine {
  name: string;
  /** Takes more than one item in a call. */
  many: boolean;
  /** Reads an answer of values and usage (a batch job's `get` reads a job). */
  values: boolean;
  /** Behind middleware: admitted to the limiter as its request leaves. */
  admitsLate?: boolean;
  run(run: Run): Promise<unknown>;
}

const ENGINES: Engine[] = [
  {
    name: 'embed',
    many: false,
    values: true,
    run: (run) => embed({ model: embeddingModel(run.fetch), input: run.items[0]!, ...jobSettings(run) }),
  },
  {
    name: 'embedMany',
    many: true,
    values: true,
    run: (run) =>
      embedMany({
        model: embeddingModel(run.fetch),
        inputs: run.items,
        ...jobSettings(run),
        maxInputsPerCall: run.settings.perCall,
      }),
  },
  {
    name: 'embedStream',
    many: true,
    values: true,
    async run(run) {
      const out: unknown[] = [];
      for await (const item of embedStream({
        model: embeddingModel(run.fetch),
        inputs: run.items,
        ...jobSettings(run),
        maxInputsPerCall: run.settings.perCall,
      }))
        out.push(item);
      return out;
    },
  },
  {
    name: 'embedMany behind a middleware',
    many: true,
    values: true,
    admitsLate: true,
    run: (run) =>
      embedMany({
        model: wrapEmbeddingModel(embeddingModel(run.fetch), {
          wrapEmbed: ({ doEmbed, request }) => doEmbed(request),
        }),
        inputs: run.items,
        ...jobSettings(run),
        maxInputsPerCall: run.settings.perCall,
      }),
  },
  {
    name: 'embedMany behind the cache',
    many: true,
    values: true,
    admitsLate: true,
    run: (run) =>
      embedMany({
        model: wrapEmbeddingModel(
          embeddingModel(run.fetch),
          cacheMiddleware({ store: createMemoryCacheStore() }),
        ),
        inputs: run.items,
        ...jobSettings(run),
        maxInputsPerCall: run.settings.perCall,
      }),
  },
  {
    name: 'embedContextualized',
    many: true,
    values: true,
    run(run) {
      const model: ContextualizedEmbeddingModel = {
        ...embeddingModel(run.fetch),
        contextualizedCapabilities: { maxDocumentsPerCall: 100 },
        async doEmbedContextualized(request) {
          const { count, ...rest } = await call(run.fetch, request.documents, request);
          return { ...rest, embeddings: Array.from({ length: count }, () => [Float32Array.of(1, 2)]) };
        },
      };
      return embedContextualized({
        model,
        documents: run.items.map((item) => [item]),
        ...jobSettings(run),
        maxDocumentsPerCall: run.settings.perCall,
      });
    },
  },
  {
    name: 'rerank',
    many: true,
    values: true,
    run(run) {
      const model: RerankingModel = {
        specificationVersion: 'v1',
        provider: 'acme',
        modelId: 'acme-1',
        capabilities: { maxDocumentsPerCall: 100, supportsParallelCalls: true },
        async doRerank(request) {
          const { count, ...rest } = await call(run.fetch, request.documents, request);
          const results = Array.from({ length: count }, (_, index) => ({ index, relevanceScore: 1 }));
          return { ...rest, results };
        },
      };
      return rerank({
        model,
        query: QUERY,
        documents: run.items,
        ...jobSettings(run),
        maxDocumentsPerCall: run.settings.perCall,
      });
    },
  },
  {
    name: 'batch job get',
    many: false,
    values: false,
    run(run) {
      const {
        tokensPerMinute: _budget,
        perCall: _perCall,
        concurrency: _concurrency,
        ...options
      } = run.settings;
      return sendBatchJobRequest(
        { provider: 'acme', modelId: 'acme-1' },
        'get',
        { ...options, clock: run.clock },
        (signal) => call(run.fetch, ['batches/1'], { headers: run.settings.headers, signal }),
      );
    },
  },
];

/** How a situation must end, on every engine it applies to. */
interface Outcome {
  /** The error's class (absent: the call succeeds). */
  error?: { isInstance(value: unknown): boolean; name: string };
  code?: string;
  /** Fields the error must carry. */
  fields?: Record<string, unknown>;
  /** What the error's message must end with. */
  endsWith?: string;
  /** Requests the API received. */
  requests: number;
  /** How many items each request carried, when it matters. */
  sentItems?: number[];
  /** Every wait on the injected clock, in order. */
  sleeps: number[];
  /** The result's usage, when not 10 tokens an item (undefined: absent). */
  usage?: { inputTokens: number } | undefined;
  /** What `onRetry` and `onWait` were told, in order ("retry 1 after 2000", "wait paused 2000"). */
  events?: string[];
}

interface Situation {
  name: string;
  replies: Reply[];
  settings?: Omit<Run['settings'], 'headers' | 'signal'>;
  /** Items of the job (default one); an engine of one item per call runs only the jobs of one. */
  items?: number;
  /**
   * When the caller aborts: before the call, as its first request arrives, or once the call waits on the
   * clock (which then moves only by that abort). The call must end with the abort's reason.
   */
  abort?: 'before' | 'on request' | 'while waiting';
  /** A callback of the caller's that throws: the call must end with that very error. */
  throwing?: 'onRetry' | 'onProgress' | 'onWarning';
  /** Only for engines that read values and usage. */
  valuesOnly?: boolean;
  /**
   * Only for engines admitted to the limiter before the call: a model behind middleware is admitted as its
   * request leaves, after its middleware ran, so which of two calls in flight the limiter admits before a
   * 429 pauses it depends on how long the middleware takes.
   */
  admittedFirst?: boolean;
  outcome: Outcome;
}

const SERVER_DATE = 'Sat, 01 Mar 2025 12:00:00 GMT';
const SEVEN_SECONDS_LATER = 'Sat, 01 Mar 2025 12:00:07 GMT';

const SITUATIONS: Situation[] = [
  {
    name: 'a 500 with x-should-retry: false is not retried',
    replies: [failing(500, { 'x-should-retry': 'false' }), ok],
    outcome: {
      error: ServerError,
      code: 'server_error',
      fields: { isRetryable: false },
      requests: 1,
      sleeps: [],
    },
  },
  {
    name: 'a 400 with x-should-retry: true is retried after the backoff',
    replies: [failing(400, { 'x-should-retry': 'true' }), ok],
    outcome: { requests: 2, sleeps: [250] },
  },
  {
    name: 'a used-up quota is not retried and names no wait, whatever its Retry-After',
    replies: [failing(429, { 'retry-after': '30' }, 'insufficient_quota'), ok],
    outcome: {
      error: RateLimitError,
      code: 'rate_limited',
      fields: { quotaExhausted: true, isRetryable: false, retryAfterMs: undefined, statusCode: 429 },
      requests: 1,
      sleeps: [],
    },
  },
  {
    name: "a 429's Retry-After date is read against the response's Date",
    replies: [failing(429, { date: SERVER_DATE, 'retry-after': SEVEN_SECONDS_LATER }), ok],
    outcome: { requests: 2, sleeps: [7_000] },
  },
  {
    name: "a 429's x-ratelimit-reset is its wait",
    replies: [failing(429, { 'x-ratelimit-reset': '3' }), ok],
    outcome: { requests: 2, sleeps: [3_000] },
  },
  {
    name: 'a 503 whose compressed body does not decompress keeps its status and its wait',
    replies: [undecompressible(503, { 'retry-after': '2' })],
    settings: { maxRetries: 1 },
    outcome: {
      error: RetryError,
      code: 'retries_exhausted',
      fields: { statusCode: 503, retryAfterMs: 2_000, attempts: 2 },
      requests: 2,
      sleeps: [2_000],
    },
  },
  {
    name: 'a 429 asking for longer than maxRetryDelayMs waits the cap',
    replies: [failing(429, { 'retry-after': '90' }), ok],
    outcome: { requests: 2, sleeps: [60_000] },
  },
  {
    name: 'a 429 asking for longer than the retries can reach is not retried',
    replies: [failing(429, { 'retry-after': '600' }), ok],
    outcome: {
      error: RateLimitError,
      code: 'rate_limited',
      fields: { retryAfterMs: 600_000, isRetryable: true },
      endsWith: ' try again after 600 s, or set maxRetryDelayMs to 600000 for the engine to wait it out.',
      requests: 1,
      sleeps: [],
    },
  },
  {
    // What the row above advises: every engine whose error names the setting takes it.
    name: 'a 429 asking for longer than the default cap is waited out under a maxRetryDelayMs that covers it',
    replies: [failing(429, { 'retry-after': '600' }), ok],
    settings: { maxRetryDelayMs: 600_000 },
    outcome: { requests: 2, sleeps: [600_000] },
  },
  {
    name: 'a 429 is told to onRetry, then to onWait as the pause the retry waits out',
    replies: [failing(429, { 'retry-after': '2' }), ok],
    outcome: { requests: 2, sleeps: [2_000], events: ['retry 1 after 2000', 'wait paused 2000'] },
  },
  {
    name: 'a 503 is told to onRetry with its backoff, and no wait of the limiter',
    replies: [failing(503), ok],
    outcome: { requests: 2, sleeps: [250], events: ['retry 1 after 250'] },
  },
  {
    name: 'a call too large for the API is halved, even when it says x-should-retry: true',
    replies: [
      ({ items }) =>
        items > 1
          ? answer(413, { error: { message: 'Too many items.' } }, { 'x-should-retry': 'true' })
          : answer(200, { count: items, tokens: items * 10 }),
    ],
    items: 2,
    valuesOnly: true,
    outcome: { requests: 3, sentItems: [2, 1, 1], sleeps: [] },
  },
  {
    name: 'a 429 pauses the call in flight beside it and the one queued behind it',
    replies: [failing(429, { 'retry-after': '2' }), ok],
    items: 3,
    settings: { concurrency: 2, perCall: 1 },
    valuesOnly: true,
    admittedFirst: true,
    outcome: { requests: 4, sleeps: [2_000, 2_000, 2_000] },
  },
  {
    name: 'a refused call stops the calls not yet sent beside it',
    replies: [ok, failing(400), ok],
    items: 4,
    settings: { concurrency: 2, perCall: 1 },
    valuesOnly: true,
    outcome: { error: InvalidRequestError, code: 'invalid_request', requests: 2, sleeps: [] },
  },
  {
    name: 'a 401 that echoes the key and a header secret names neither',
    replies: [failing(401)],
    outcome: {
      error: AuthenticationError,
      code: 'authentication',
      fields: { statusCode: 401 },
      requests: 1,
      sleeps: [],
    },
  },
  {
    name: 'an attempt past timeoutMs is a TimeoutError, retried after the backoff',
    replies: [silent],
    settings: { timeoutMs: 20, maxRetries: 1 },
    outcome: {
      error: RetryError,
      code: 'retries_exhausted',
      fields: { attempts: 2 },
      requests: 2,
      sleeps: [250],
    },
  },
  {
    name: 'an attempt past timeoutMs with maxRetries 0 is the TimeoutError itself',
    replies: [silent],
    settings: { timeoutMs: 20, maxRetries: 0 },
    outcome: { error: TimeoutError, code: 'timeout', requests: 1, sleeps: [] },
  },
  {
    name: 'a 503 with maxRetries 0 is thrown as it is, after one request',
    replies: [failing(503), ok],
    settings: { maxRetries: 0 },
    outcome: {
      error: ServerError,
      code: 'server_error',
      fields: { statusCode: 503 },
      requests: 1,
      sleeps: [],
    },
  },
  {
    name: 'a 429 with maxRetries 0 waits nothing',
    replies: [failing(429, { 'retry-after': '5' }), ok],
    settings: { maxRetries: 0 },
    outcome: {
      error: RateLimitError,
      code: 'rate_limited',
      fields: { retryAfterMs: 5_000 },
      requests: 1,
      sleeps: [],
    },
  },
  {
    name: "the caller's abort ends the call with its reason, after one request",
    replies: [silent],
    abort: 'on request',
    outcome: { requests: 1, sleeps: [] },
  },
  {
    name: 'an onRetry that throws ends the call with its error, and nothing more is sent',
    replies: [failing(503), ok],
    throwing: 'onRetry',
    outcome: { requests: 1, sleeps: [] },
  },
  {
    name: 'an onProgress that throws ends the job with its error',
    replies: [ok],
    throwing: 'onProgress',
    valuesOnly: true,
    outcome: { requests: 1, sleeps: [] },
  },
  {
    name: 'an onProgress that throws ends the job with its error, and no later call is sent',
    replies: [ok],
    items: 2,
    settings: { perCall: 1 },
    throwing: 'onProgress',
    valuesOnly: true,
    outcome: { requests: 1, sleeps: [] },
  },
  {
    name: 'an onWarning that throws ends the job with its error, and no later call is sent',
    replies: [({ items }) => answer(200, { count: items, tokens: items * 10, warning: 'From a fallback.' })],
    items: 2,
    settings: { perCall: 1 },
    throwing: 'onWarning',
    valuesOnly: true,
    outcome: { requests: 1, sleeps: [] },
  },
  {
    name: 'usage absent from one answer leaves the job without usage, not a sum of the others',
    replies: [({ items }) => answer(200, { count: items }), ok],
    items: 2,
    settings: { perCall: 1 },
    valuesOnly: true,
    outcome: { requests: 2, sleeps: [], usage: undefined },
  },
  {
    name: 'a signal aborted before the call sends nothing',
    replies: [ok],
    abort: 'before',
    outcome: { requests: 0, sleeps: [] },
  },
  {
    name: "the caller's abort ends the wait after a 429",
    replies: [failing(429, { 'retry-after': '5' }), ok],
    abort: 'while waiting',
    outcome: { requests: 1, sleeps: [5_000] },
  },
  {
    name: "the caller's abort ends the backoff after a 503",
    replies: [failing(503), ok],
    abort: 'while waiting',
    outcome: { requests: 1, sleeps: [250] },
  },
  {
    name: "the caller's abort ends a wait for the tokensPerMinute budget",
    replies: [ok],
    items: 3,
    settings: { tokensPerMinute: 25 },
    valuesOnly: true,
    abort: 'while waiting',
    outcome: { requests: 1, sleeps: [12_000] },
  },
  {
    name: 'an attempt past timeoutMs ends even when the request ignores its signal',
    replies: [() => new Promise<Response>(() => {})],
    settings: { timeoutMs: 20, maxRetries: 0 },
    outcome: { error: TimeoutError, code: 'timeout', requests: 1, sleeps: [] },
  },
  {
    name: 'an answer with one value too few is an InvalidResponseError, not retried',
    replies: [({ items }) => answer(200, { count: items - 1, tokens: items * 10 })],
    valuesOnly: true,
    outcome: { error: InvalidResponseError, code: 'invalid_response', requests: 1, sleeps: [] },
  },
  {
    name: 'usage that is not a count is an InvalidResponseError, not retried',
    replies: [({ items }) => answer(200, { count: items, tokens: 2.5 })],
    valuesOnly: true,
    outcome: { error: InvalidResponseError, code: 'invalid_response', requests: 1, sleeps: [] },
  },
  {
    name: 'a tokensPerMinute budget smaller than the job caps each call at the budget',
    replies: [ok],
    items: 3,
    settings: { tokensPerMinute: 25 },
    valuesOnly: true,
    outcome: { requests: 2, sleeps: [12_000] },
  },
  {
    name: 'an input a later call names is named by its place in the whole job',
    replies: [ok, () => answer(400, { error: { message: 'Item 0 is malformed.', index: 0 } })],
    items: 3,
    settings: { tokensPerMinute: 25 },
    valuesOnly: true,
    outcome: {
      error: InvalidRequestError,
      code: 'invalid_request',
      fields: { inputIndex: 2, statusCode: 400 },
      requests: 2,
      sleeps: [12_000],
    },
  },
  {
    name: 'abortSignal in place of signal is refused before any request, naming signal',
    replies: [ok],
    settings: { abortSignal: new AbortController().signal },
    outcome: {
      error: InvalidArgumentError,
      code: 'invalid_argument',
      fields: { argument: 'abortSignal' },
      endsWith: ' abortSignal: pass the AbortSignal as signal.',
      requests: 0,
      sleeps: [],
    },
  },
  {
    name: 'an item larger than the tokensPerMinute budget is refused before any request',
    replies: [ok],
    settings: { tokensPerMinute: 5 },
    valuesOnly: true,
    outcome: { error: InvalidArgumentError, code: 'invalid_argument', requests: 0, sleeps: [] },
  },
];

const cases = SITUATIONS.flatMap((situation) =>
  ENGINES.filter((engine) => (situation.items ?? 1) === 1 || engine.many)
    .filter((engine) => !situation.valuesOnly || engine.values)
    .filter((engine) => !situation.admittedFirst || !engine.admitsLate)
    .map((engine) => ({ situation: situation.name, engine: engine.name, s: situation, e: engine })),
);

/**
 * How long the engine waits, after it aborted an attempt, for a request that ignores the abort before it
 * leaves that request behind (`ABANDON_AFTER_MS` in src/engine/retry.ts).
 */
const ABANDON_AFTER_MS = 100;

describe('the same failure ends the same way through every engine', () => {
  it.each(cases)('$situation: $engine', async ({ s, e }) => {
    const api = scriptedApi(s.replies);
    const clock = new VirtualClock({ random: [0.5], autoAdvance: s.abort !== 'while waiting' });
    const caller = new AbortController();
    const reason = new Error('stopped by the caller');
    if (s.abort === 'before') caller.abort(reason);
    const fetch: FetchFunction =
      s.abort === 'on request'
        ? (url, init) => {
            const reply = api.fetch(url, init);
            caller.abort(reason);
            return reply;
          }
        : api.fetch;
    const items = Array.from({ length: s.items ?? 1 }, (_, index) => `item ${index}`);
    const events: string[] = [];
    const hooks =
      s.outcome.events === undefined
        ? {}
        : {
            onRetry: (event: RetryEvent) => events.push(`retry ${event.attempt} after ${event.delayMs}`),
            onWait: (event: WaitEvent) => events.push(`wait ${event.reason} ${event.delayMs}`),
          };
    const thrown = new Error('thrown by the caller’s callback');
    const throwing =
      s.throwing === undefined
        ? {}
        : {
            [s.throwing]: () => {
              throw thrown;
            },
          };
    const settings = {
      maxRetries: 3,
      ...s.settings,
      ...hooks,
      ...throwing,
      headers: { 'x-api-key': HEADER_SECRET },
    };
    const run = () =>
      e.run({
        fetch,
        clock,
        items,
        settings: s.abort === undefined ? settings : { ...settings, signal: caller.signal },
      });
    // Each attempt's timeout, then the wait after which a request that ignores its abort is left, pass
    // once its request was sent: however long a loaded machine takes to send it.
    const timeoutMs = s.settings?.timeoutMs;
    const outcome =
      timeoutMs === undefined
        ? run()
        : timersAtEach(timeoutMs + ABANDON_AFTER_MS, () => api.sent.length, 'request', run);
    if (s.abort === 'while waiting') {
      outcome.catch(() => {});
      await until(() => clock.sleeps.length > 0, 'a wait on the clock');
      caller.abort(reason);
    }
    const { error, code, fields, endsWith, requests, sentItems, sleeps, events: told } = s.outcome;
    if (s.abort !== undefined) {
      expect(await rejection(outcome)).toBe(reason);
    } else if (s.throwing !== undefined) {
      expect(await rejection(outcome)).toBe(thrown);
    } else if (error === undefined) {
      const result = (await outcome) as { usage?: unknown; warnings?: unknown };
      // Every result that reports usage sums what each answered call reported: 10 tokens an item.
      if (e.values && 'warnings' in result)
        expect(result.usage).toEqual(
          'usage' in s.outcome ? s.outcome.usage : { inputTokens: items.length * 10 },
        );
    } else {
      const thrown = await rejection(outcome);
      expect(error.isInstance(thrown), `expected an ${error.name}, got ${String(thrown)}`).toBe(true);
      expect((thrown as EmbedKitError).code).toBe(code);
      if (fields !== undefined) expect(thrown).toMatchObject(fields);
      if (endsWith !== undefined)
        expect((thrown as Error).message.endsWith(endsWith), (thrown as Error).message).toBe(true);
      expect(walkForSecrets(thrown, SECRETS).leaks).toEqual([]);
    }
    expect(api.sent.length).toBe(requests);
    if (sentItems !== undefined) expect(api.sent.map((sent) => sent.items)).toEqual(sentItems);
    expect(clock.sleepDurations).toEqual(sleeps);
    if (told !== undefined) expect(events).toEqual(told);
  });

  it('every engine runs every situation that does not need more than it takes', () => {
    expect(cases.filter((entry) => entry.engine === 'embedMany')).toHaveLength(SITUATIONS.length);
    expect(cases.filter((entry) => entry.engine === 'batch job get')).toHaveLength(
      SITUATIONS.filter((situation) => !situation.valuesOnly).length,
    );
  });
});

describe('a batch job wait', () => {
  it('refuses abortSignal in place of signal as the engines do, before any poll', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['succeeded'], clock);
    const error = await rejectionOf(
      InvalidArgumentError,
      waitForBatchJob(get, 'batches/1', { clock, abortSignal: new AbortController().signal } as never),
    );
    expect(error).toMatchObject({ code: 'invalid_argument', argument: 'abortSignal' });
    expect(error.message).toBe('wait has no option abortSignal: pass the AbortSignal as signal.');
    expect(polls).toHaveLength(0);
  });
});
