/**
 * Conformance scenarios for reranking (`RerankingModel.doRerank` + `rerank`), usable by any provider with
 * a reranker (Voyage, Jina). Every scenario runs through both transports against a fresh interceptor and
 * fails on an unused expectation.
 */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import {
  EmbedKitError,
  type RerankingModel,
  type RerankResult,
  type RerankSettings,
  rerank,
} from '@embedkit/core';
import { describe } from 'vitest';
import { registerScenarios } from '../describe.js';
import { createFakeClock, type FakeClock, fakeApiKey } from '../harness.js';
import {
  createInterceptor,
  type ExpectOptions,
  type Interceptor,
  type ReplyHandler,
  type TransportKind,
  type WireReply,
} from '../interceptor.js';
import type { CreateModelOptions, WireRequest } from '../types.js';

/** How a provider's rerank endpoint looks on the wire. */
export interface RerankingWireProfile {
  endpoint(call: { modelId: string }): { method: 'POST'; path: string };
  queryOf(body: unknown): string;
  documentsOf(body: unknown): string[];
  /** The number of results the request asked for, if any. */
  topNOf(body: unknown): number | undefined;
  /** A success body listing `results` in the given wire order (`index` is the position in the request). */
  successBody(request: {
    body: unknown;
    results: { index: number; relevanceScore: number }[];
    usageTokens?: number;
  }): unknown;
  /** An error body in the provider's format; `batch-too-large` must make the engine bisect. */
  errorBody(error: { status: number; message: string; kind?: 'batch-too-large' }): unknown;
  reportsUsage: boolean;
  /** The API's documented limit on documents per request; the fake server answers 400 above it. */
  maxDocumentsPerRequest?: number;
  authHeader(apiKey: string): { name: string; value: string };
}

export interface DescribeRerankingProviderOptions {
  /** Shown in test names. */
  name: string;
  createModel(options: CreateModelOptions): RerankingModel;
  baseURL: string;
  modelId: string;
  wire: RerankingWireProfile;
  /** Scenario ids known to fail, each with its reason; one that passes fails the run. */
  expectedFailures?: Record<string, string>;
}

export interface RerankingScenario {
  id: string;
  run(kind: TransportKind): Promise<void>;
}

interface World {
  interceptor: Interceptor;
  model: RerankingModel;
  apiKey: string;
  clock: FakeClock;
  respond(handler: ReplyHandler, options?: ExpectOptions): void;
}

/** The fake API's score for a document: deterministic in [0, 1), different for every text. */
export function relevanceFor(query: string, document: string): number {
  let seed = 0x811c9dc5;
  const text = `${query}\u0000${document}`;
  for (let index = 0; index < text.length; index++) {
    seed ^= text.charCodeAt(index);
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
  return seed / 0x100000000;
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  return assert.fail('the call succeeded, but it had to fail');
}

function makeDocuments(count: number, prefix = 'document'): string[] {
  return Array.from(
    { length: count },
    (_, index) => `${prefix} ${index}: notes on pets and animals ${index % 7}`,
  );
}

const QUERY = 'which animals make good pets?';

/** The ranking the engine must return: every document scored, highest first, ties in document order. */
function expectedRanking(
  query: string,
  documents: readonly string[],
  topN?: number,
): RerankResult['results'] {
  const all = documents
    .map((document, index) => ({ index, relevanceScore: relevanceFor(query, document), document }))
    .sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
  return topN === undefined ? all : all.slice(0, topN);
}

function usageTokens(query: string, documents: readonly string[]): number {
  return documents.reduce((sum, document) => sum + query.length + document.length, 0);
}

/** Generates the rerank scenarios the model's capabilities call for. */
export function listRerankingScenarios(options: DescribeRerankingProviderOptions): RerankingScenario[] {
  const { wire } = options;
  const probe = options.createModel({
    modelId: options.modelId,
    apiKey: 'probe',
    baseURL: options.baseURL,
    fetch: () => Promise.reject(new Error('the probe never calls')),
  });
  const cap = probe.capabilities.maxDocumentsPerCall;

  /** Answers like the API: scores every document, orders them (sorted unless told), keeps `top_k`. */
  const success =
    (
      overrides: {
        unsorted?: boolean;
        mutate?: (results: { index: number; relevanceScore: number }[]) => void;
      } = {},
    ) =>
    (request: WireRequest): WireReply => {
      const query = wire.queryOf(request.body);
      const documents = wire.documentsOf(request.body);
      if (wire.maxDocumentsPerRequest !== undefined && documents.length > wire.maxDocumentsPerRequest) {
        const message = `${documents.length} documents exceed the API's limit of ${wire.maxDocumentsPerRequest}`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      let results = documents.map((document, index) => ({
        index,
        relevanceScore: relevanceFor(query, document),
      }));
      if (!overrides.unsorted) results.sort((a, b) => b.relevanceScore - a.relevanceScore);
      const topN = wire.topNOf(request.body);
      if (topN !== undefined) {
        results = [...results].sort((a, b) => b.relevanceScore - a.relevanceScore).slice(0, topN);
        if (overrides.unsorted) results.reverse();
      }
      overrides.mutate?.(results);
      const body = wire.successBody({
        body: request.body,
        results,
        ...(wire.reportsUsage ? { usageTokens: usageTokens(query, documents) } : {}),
      });
      return { status: 200, headers: { 'x-request-id': 'req-conformance-rerank' }, body };
    };

  const errorReply =
    (status: number, message: string, kind?: 'batch-too-large', headers?: Record<string, string>) =>
    (): WireReply => ({
      status,
      body: wire.errorBody({ status, message, ...(kind === undefined ? {} : { kind }) }),
      ...(headers === undefined ? {} : { headers }),
    });

  const settings = (world: World, extra: Partial<RerankSettings> = {}): RerankSettings => ({
    model: world.model,
    query: QUERY,
    documents: [],
    clock: world.clock,
    maxRetries: 3,
    ...extra,
  });

  const scenario = (id: string, body: (world: World) => Promise<void>): RerankingScenario => ({
    id,
    async run(kind) {
      const interceptor = createInterceptor(kind, new URL(options.baseURL).origin);
      const apiKey = fakeApiKey(options.name);
      const world: World = {
        interceptor,
        apiKey,
        clock: createFakeClock(),
        model: options.createModel({
          modelId: options.modelId,
          apiKey,
          baseURL: options.baseURL,
          ...interceptor.transport,
        }),
        respond(handler, expectOptions) {
          const { method, path } = wire.endpoint({ modelId: options.modelId });
          interceptor.expect(method, path, handler, expectOptions);
        },
      };
      try {
        const outcome = await body(world).then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        if (interceptor.handlerErrors.length > 0) throw interceptor.handlerErrors[0];
        if (outcome !== undefined) throw outcome.error;
        assert.deepEqual(interceptor.pending(), [], 'every expected request was made');
      } finally {
        await interceptor.close();
      }
    },
  });

  const nothingSent = async (world: World, extra: Partial<RerankSettings>, argument: string) => {
    const error = await rejection(rerank(settings(world, extra)));
    assert.equal(error.name, 'InvalidArgumentError', String(error.message));
    assert.equal(error.code, 'invalid_argument');
    assert.equal(error.argument, argument);
    assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
  };

  const list: RerankingScenario[] = [
    scenario('rerank-declared-limits', async () => {
      if (wire.maxDocumentsPerRequest !== undefined)
        assert.ok(
          cap <= wire.maxDocumentsPerRequest,
          `maxDocumentsPerCall ${cap} is within the API's ${wire.maxDocumentsPerRequest}`,
        );
    }),
    scenario('rerank-sorted', async (world) => {
      const documents = makeDocuments(5);
      world.respond(success());
      const result = await rerank(settings(world, { documents }));
      assert.deepEqual(result.results, expectedRanking(QUERY, documents));
      const request = world.interceptor.requests[0]!;
      const auth = wire.authHeader(world.apiKey);
      assert.equal(
        request.headers[auth.name.toLowerCase()],
        auth.value,
        'the key is sent in the auth header',
      );
      assert.match(request.headers['user-agent'] ?? '', /^embedkit\//, 'user-agent names embedkit');
      assert.equal(wire.queryOf(request.body), QUERY);
      assert.deepEqual(wire.documentsOf(request.body), documents);
      assert.equal(wire.topNOf(request.body), undefined, 'no topN sent when none was asked');
      if (wire.reportsUsage) assert.deepEqual(result.usage, { inputTokens: usageTokens(QUERY, documents) });
      else assert.equal(result.usage, undefined);
      assert.equal(result.responses.length, 1);
    }),
    scenario('rerank-unsorted-answer', async (world) => {
      const documents = makeDocuments(6, 'unsorted');
      world.respond(success({ unsorted: true }));
      const result = await rerank(settings(world, { documents }));
      assert.deepEqual(result.results, expectedRanking(QUERY, documents), 'the engine sorts by score');
    }),
    scenario('rerank-top-n', async (world) => {
      const documents = makeDocuments(6, 'top');
      world.respond(success());
      const result = await rerank(settings(world, { documents, topN: 2 }));
      assert.equal(wire.topNOf(world.interceptor.requests[0]!.body), 2, 'topN is sent');
      assert.deepEqual(result.results, expectedRanking(QUERY, documents, 2));
    }),
    scenario('rerank-split-above-max-documents', async (world) => {
      const documents = makeDocuments(cap + 1, 'above');
      world.respond(success());
      world.respond(success());
      const result = await rerank(settings(world, { documents, topN: 3 }));
      const sizes = world.interceptor.requests
        .map((request) => wire.documentsOf(request.body).length)
        .sort((a, b) => b - a);
      assert.deepEqual(sizes, [cap, 1]);
      assert.deepEqual(
        world.interceptor.requests.map((request) => wire.topNOf(request.body)).sort(),
        [1, Math.min(3, cap)].sort(),
        'each call asks for its own best topN',
      );
      assert.deepEqual(result.results, expectedRanking(QUERY, documents, 3), 'the best 3 over every call');
      assert.equal(result.responses.length, 2);
    }),
    scenario('rerank-no-documents', async (world) => {
      const result = await rerank(settings(world, { documents: [] }));
      assert.deepEqual(result.results, []);
      assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
    }),
    scenario('rerank-empty-query', (world) => nothingSent(world, { query: '', documents: ['a'] }, 'query')),
    scenario('rerank-empty-document', (world) =>
      nothingSent(world, { documents: ['a', ''] }, 'documents[1]'),
    ),
    scenario('rerank-top-n-invalid', async (world) => {
      await nothingSent(world, { documents: ['a'], topN: 0 }, 'topN');
      await nothingSent(world, { documents: ['a'], topN: 1.5 }, 'topN');
    }),
    scenario('rerank-error-401', async (world) => {
      world.respond(errorReply(401, 'conformance error 401'));
      const error = await rejection(rerank(settings(world, { documents: ['a'] })));
      assert.equal(error.name, 'AuthenticationError');
      assert.equal(error.code, 'authentication');
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /conformance error 401/);
      assert.equal(world.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('rerank-error-400', async (world) => {
      world.respond(errorReply(400, 'conformance error 400'));
      const error = await rejection(rerank(settings(world, { documents: ['a'] })));
      assert.equal(error.name, 'InvalidRequestError');
      assert.equal(error.code, 'invalid_request');
      assert.equal(world.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('rerank-error-429-retry-after', async (world) => {
      world.respond(errorReply(429, 'rate limited', undefined, { 'retry-after': '3' }));
      world.respond(success());
      const documents = makeDocuments(2, 'limited');
      const result = await rerank(settings(world, { documents }));
      assert.deepEqual(result.results, expectedRanking(QUERY, documents));
      assert.deepEqual(world.clock.sleeps, [3_000], 'waited as Retry-After said');
    }),
    scenario('rerank-error-5xx-retried', async (world) => {
      world.respond(errorReply(502, 'bad gateway'));
      world.respond(errorReply(504, 'gateway timeout'));
      world.respond(success());
      const result = await rerank(settings(world, { documents: ['a', 'b'] }));
      assert.equal(result.results.length, 2);
      assert.equal(world.interceptor.requests.length, 3);
    }),
    scenario('rerank-error-5xx-exhausted', async (world) => {
      world.respond(errorReply(500, 'internal'), { times: 2 });
      const error = await rejection(rerank(settings(world, { documents: ['a'], maxRetries: 1 })));
      assert.equal(error.name, 'RetryError');
      assert.equal(error.code, 'retries_exhausted');
      assert.equal(error.attempts, 2);
      assert.equal((error.lastError as Error).name, 'ServerError');
    }),
    scenario('rerank-out-of-range-index', async (world) => {
      world.respond(
        success({
          mutate: (results) => {
            results[0]!.index = 99;
          },
        }),
      );
      const error = await rejection(rerank(settings(world, { documents: ['a', 'b'] })));
      assert.equal(error.name, 'InvalidResponseError', String(error.message));
      assert.equal(world.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('rerank-missing-score', async (world) => {
      world.respond(success({ mutate: (results) => void results.pop() }));
      const error = await rejection(rerank(settings(world, { documents: ['a', 'b', 'c'] })));
      assert.equal(error.name, 'InvalidResponseError', String(error.message));
    }),
    scenario('rerank-abort-during-request', async (world) => {
      world.respond(success(), { delayMs: 400 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const error = await rejection(rerank(settings(world, { documents: ['a'], signal: controller.signal })));
      assert.equal(error.name, 'AbortError', 'the native AbortError');
      assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped');
    }),
    scenario('rerank-timeout', async (world) => {
      world.respond(success(), { delayMs: 400 });
      const error = await rejection(
        rerank(settings(world, { documents: ['a'], maxRetries: 0, timeoutMs: 40 })),
      );
      assert.equal(error.name, 'TimeoutError');
      assert.equal(error.code, 'timeout');
    }),
    scenario('rerank-secret-redaction', async (world) => {
      world.respond(errorReply(401, `invalid key ${world.apiKey}`));
      const error = await rejection(rerank(settings(world, { documents: ['a'] })));
      for (const text of [
        error.message,
        String(error.responseBody),
        String(error.stack),
        inspect(error, { depth: 5 }),
        JSON.stringify(error),
      ]) {
        assert.ok(
          !text.includes(world.apiKey),
          `the API key leaked into ${error.name}: ${text.slice(0, 200)}`,
        );
      }
    }),
  ];

  if (cap >= 2) {
    list.push(
      scenario('rerank-batch-too-large-bisects', async (world) => {
        const documents = makeDocuments(Math.min(4, cap), 'bisect');
        const half = Math.ceil(documents.length / 2);
        world.respond(errorReply(400, 'too many tokens in this request', 'batch-too-large'));
        world.respond(success());
        world.respond(success());
        const result = await rerank(settings(world, { documents, concurrency: 1 }));
        assert.deepEqual(
          world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
          [documents, documents.slice(0, half), documents.slice(half)],
        );
        assert.deepEqual(result.results, expectedRanking(QUERY, documents));
      }),
    );
    if (wire.reportsUsage) {
      list.push(
        scenario('rerank-usage-summed', async (world) => {
          const documents = makeDocuments(3, 'usage');
          world.respond(success());
          world.respond(success());
          const result = await rerank(settings(world, { documents, maxDocumentsPerCall: 2, concurrency: 1 }));
          assert.deepEqual(result.usage, { inputTokens: usageTokens(QUERY, documents) });
          assert.deepEqual(result.results, expectedRanking(QUERY, documents));
        }),
      );
    }
  }
  return list;
}

/**
 * Registers the rerank scenarios for one provider through both transports. An id listed in
 * `expectedFailures` shows as skipped while it fails and fails the run once it passes.
 */
export function describeRerankingProvider(options: DescribeRerankingProviderOptions): void {
  const expected = options.expectedFailures ?? {};
  const scenarios = listRerankingScenarios(options);
  describe(`${options.name} reranking conformance`, () => registerScenarios(scenarios, expected));
}
