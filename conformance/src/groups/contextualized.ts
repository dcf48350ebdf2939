/**
 * Conformance scenarios for contextualized chunk embeddings (`doEmbedContextualized` + `embedContextualized`),
 * usable by any provider that implements them (Voyage `voyage-context-3`, Jina late chunking). Every
 * scenario runs through both transports against a fresh interceptor and fails on an unused expectation.
 */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import {
  type ContextualizedEmbeddingModel,
  type EmbedContextualizedResult,
  type EmbedContextualizedSettings,
  EmbedKitError,
  embedContextualized,
  type InputType,
  type TokenCounter,
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
import { vectorFor } from '../scenarios.js';
import type { CreateModelOptions, WireRequest } from '../types.js';

/** How a provider's contextualized endpoint looks on the wire. */
export interface ContextualizedWireProfile {
  /** Method and path (with query) of a call carrying `documentCount` documents. */
  endpoint(call: { documentCount: number; modelId: string }): { method: 'POST'; path: string };
  /** The documents of a request body, each as its list of chunks, in order. */
  documentsOf(body: unknown): string[][];
  /** The vector length the request asked for, if any. */
  dimensionsOf(body: unknown): number | undefined;
  /** The unified input type the request carries, read back from the provider's word. */
  inputTypeOf(body: unknown): InputType | undefined;
  /**
   * A success body holding `vectors[d][c]` for chunk `c` of document `d`. `order` lists the document
   * positions in the order they should appear on the wire (wires that cannot reorder ignore it).
   */
  successBody(request: {
    body: unknown;
    vectors: number[][][];
    order: number[];
    usageTokens?: number;
  }): unknown;
  /** An error body in the provider's format; `batch-too-large` must make the engine bisect. */
  errorBody(error: { status: number; message: string; kind?: 'batch-too-large' }): unknown;
  reportsUsage: boolean;
  /** The API's documented limits; the fake server answers 400 above them. */
  maxDocumentsPerRequest?: number;
  maxChunksPerRequest?: number;
  /** The header that carries the key, and its value for `apiKey`. */
  authHeader(apiKey: string): { name: string; value: string };
}

export interface DescribeContextualizedProviderOptions {
  /** Shown in test names. */
  name: string;
  createModel(options: CreateModelOptions): ContextualizedEmbeddingModel;
  /** The API root the provider calls. */
  baseURL: string;
  modelId: string;
  wire: ContextualizedWireProfile;
  /** Scenario ids known to fail, each with its reason; one that passes fails the run. */
  expectedFailures?: Record<string, string>;
}

export interface ContextualizedScenario {
  id: string;
  run(kind: TransportKind): Promise<void>;
}

interface World {
  interceptor: Interceptor;
  model: ContextualizedEmbeddingModel;
  apiKey: string;
  clock: FakeClock;
  respond(documentCount: number, handler: ReplyHandler, options?: ExpectOptions): void;
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  return assert.fail('the call succeeded, but it had to fail');
}

/** `count` documents with the given chunk counts; every chunk text is unique across the whole job. */
function makeDocuments(chunkCounts: readonly number[], prefix = 'doc'): string[][] {
  return chunkCounts.map((chunks, document) =>
    Array.from(
      { length: chunks },
      (_, chunk) => `${prefix} ${document} chunk ${chunk}: the quick brown fox ${chunk % 5}`,
    ),
  );
}

function usageTokens(documents: readonly (readonly string[])[]): number {
  return documents.flat().reduce((sum, text) => sum + text.length, 0);
}

/** Generates the contextualized scenarios the model's capabilities call for. */
export function listContextualizedScenarios(
  options: DescribeContextualizedProviderOptions,
): ContextualizedScenario[] {
  const { wire } = options;
  const probe = options.createModel({
    modelId: options.modelId,
    apiKey: 'probe',
    baseURL: options.baseURL,
    fetch: () => Promise.reject(new Error('the probe never calls')),
  });
  const capabilities = probe.capabilities;
  const limits = probe.contextualizedCapabilities;
  const cap = limits.maxDocumentsPerCall;
  const allowed = capabilities.dimensions;
  const chosenDimensions =
    allowed === undefined
      ? undefined
      : 'min' in allowed
        ? Math.max(allowed.min, Math.min(allowed.max, 16))
        : [...allowed].sort((a, b) => a - b)[0];
  const dims = chosenDimensions ?? capabilities.defaultDimensions ?? 8;
  const dimensionsFor = (body: unknown) => wire.dimensionsOf(body) ?? capabilities.defaultDimensions ?? 8;

  const success =
    (overrides: { order?: (count: number) => number[]; mutate?: (vectors: number[][][]) => void } = {}) =>
    (request: WireRequest): WireReply => {
      const documents = wire.documentsOf(request.body);
      const chunkCount = documents.reduce((sum, document) => sum + document.length, 0);
      if (
        (wire.maxDocumentsPerRequest !== undefined && documents.length > wire.maxDocumentsPerRequest) ||
        (wire.maxChunksPerRequest !== undefined && chunkCount > wire.maxChunksPerRequest)
      ) {
        const message = `${documents.length} documents / ${chunkCount} chunks exceed the API's limits`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      const dimensions = dimensionsFor(request.body);
      const vectors = documents.map((document) => document.map((chunk) => vectorFor(chunk, dimensions)));
      overrides.mutate?.(vectors);
      const order = overrides.order?.(documents.length) ?? documents.map((_, index) => index);
      const body = wire.successBody({
        body: request.body,
        vectors,
        order,
        ...(wire.reportsUsage ? { usageTokens: usageTokens(documents) } : {}),
      });
      return { status: 200, headers: { 'x-request-id': 'req-conformance-ctx' }, body };
    };

  const errorReply =
    (status: number, message: string, kind?: 'batch-too-large', headers?: Record<string, string>) =>
    (): WireReply => ({
      status,
      body: wire.errorBody({ status, message, ...(kind === undefined ? {} : { kind }) }),
      ...(headers === undefined ? {} : { headers }),
    });

  const settings = (
    world: World,
    extra: Partial<EmbedContextualizedSettings> = {},
  ): EmbedContextualizedSettings => ({
    model: world.model,
    documents: [],
    clock: world.clock,
    maxRetries: 3,
    ...(chosenDimensions === undefined ? {} : { dimensions: chosenDimensions }),
    ...extra,
  });

  const expectVectors = (
    result: EmbedContextualizedResult,
    documents: readonly (readonly string[])[],
    dimensions: number,
  ) => {
    assert.equal(result.embeddings.length, documents.length, 'one entry per document');
    documents.forEach((document, index) => {
      const vectors = result.embeddings[index]!;
      assert.equal(vectors.length, document.length, `document ${index}: one vector per chunk`);
      document.forEach((chunk, position) => {
        const vector = vectors[position]!;
        assert.ok(vector instanceof Float32Array, `document ${index} chunk ${position} is a Float32Array`);
        const expected = vectorFor(chunk, dimensions);
        assert.equal(vector.length, expected.length, `document ${index} chunk ${position} length`);
        expected.forEach((value, at) => {
          if (!(Math.abs(vector[at]! - value) <= 1e-6))
            assert.fail(
              `document ${index} chunk ${position}: value ${at} is ${vector[at]}, expected ${value}`,
            );
        });
      });
    });
  };

  const scenario = (id: string, body: (world: World) => Promise<void>): ContextualizedScenario => ({
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
        respond(documentCount, handler, expectOptions) {
          const { method, path } = wire.endpoint({ documentCount, modelId: options.modelId });
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

  const nothingSent = async (world: World, extra: Partial<EmbedContextualizedSettings>, argument: string) => {
    const error = await rejection(embedContextualized(settings(world, extra)));
    assert.equal(error.name, 'InvalidArgumentError', String(error.message));
    assert.equal(error.code, 'invalid_argument');
    assert.equal(error.argument, argument);
    assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
  };

  const list: ContextualizedScenario[] = [];

  list.push(
    scenario('ctx-declared-limits', async () => {
      if (wire.maxDocumentsPerRequest !== undefined)
        assert.ok(
          cap <= wire.maxDocumentsPerRequest,
          `maxDocumentsPerCall ${cap} is within the API's ${wire.maxDocumentsPerRequest}`,
        );
      if (wire.maxChunksPerRequest !== undefined)
        assert.ok(
          (limits.maxChunksPerCall ?? Number.POSITIVE_INFINITY) <= wire.maxChunksPerRequest,
          `maxChunksPerCall ${limits.maxChunksPerCall} is within the API's ${wire.maxChunksPerRequest}`,
        );
    }),
    scenario('ctx-single-document', async (world) => {
      const documents = makeDocuments([3], 'single');
      world.respond(1, success());
      const result = await embedContextualized(settings(world, { documents }));
      expectVectors(result, documents, dims);
      const request = world.interceptor.requests[0]!;
      const auth = wire.authHeader(world.apiKey);
      assert.equal(
        request.headers[auth.name.toLowerCase()],
        auth.value,
        'the key is sent in the auth header',
      );
      assert.match(request.headers['user-agent'] ?? '', /^embedkit\//, 'user-agent names embedkit');
      assert.deepEqual(wire.documentsOf(request.body), documents, 'the chunks are sent as given');
      if (wire.reportsUsage) assert.deepEqual(result.usage, { inputTokens: usageTokens(documents) });
      else assert.equal(result.usage, undefined, 'usage is absent when the API reports none');
      assert.equal(result.responses.length, 1);
    }),
  );

  if (cap >= 2) {
    list.push(
      scenario('ctx-documents-in-order', async (world) => {
        const documents = makeDocuments([2, 1, 4, 3].slice(0, Math.min(4, cap)), 'order');
        world.respond(
          documents.length,
          success({ order: (count) => Array.from({ length: count }, (_, index) => count - 1 - index) }),
        );
        const result = await embedContextualized(settings(world, { documents }));
        expectVectors(result, documents, dims);
      }),
      scenario('ctx-split-by-chunks', async (world) => {
        // A limit of 4 chunks: [3] and [2, 2] — a document is never split across calls.
        const documents = makeDocuments([3, 2, 2], 'chunks');
        world.respond(1, success());
        world.respond(2, success());
        const result = await embedContextualized(
          settings(world, { documents, maxChunksPerCall: 4, concurrency: 1 }),
        );
        expectVectors(result, documents, dims);
        assert.deepEqual(
          world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
          [documents.slice(0, 1), documents.slice(1)],
        );
      }),
      scenario('ctx-batch-too-large-bisects', async (world) => {
        const documents = makeDocuments([1, 2, 1, 2].slice(0, Math.min(4, cap)), 'bisect');
        const half = Math.ceil(documents.length / 2);
        world.respond(
          documents.length,
          errorReply(400, 'too many tokens in this request', 'batch-too-large'),
        );
        world.respond(half, success());
        world.respond(documents.length - half, success());
        const result = await embedContextualized(settings(world, { documents, concurrency: 1 }));
        expectVectors(result, documents, dims);
        assert.deepEqual(
          world.interceptor.requests.map((request) => wire.documentsOf(request.body).length),
          [documents.length, half, documents.length - half],
        );
      }),
    );
  }

  list.push(
    scenario('ctx-split-above-max-documents', async (world) => {
      const documents = makeDocuments(new Array<number>(cap + 1).fill(1), 'above');
      world.respond(cap, success());
      world.respond(1, success());
      const result = await embedContextualized(settings(world, { documents }));
      expectVectors(result, documents, dims);
      assert.deepEqual(
        world.interceptor.requests
          .map((request) => wire.documentsOf(request.body).length)
          .sort((a, b) => b - a),
        [cap, 1],
      );
    }),
  );

  const budget = limits.maxTokensPerCall;
  if (budget !== undefined && cap >= 2) {
    list.push(
      scenario('ctx-token-budget-split', async (world) => {
        // Each chunk counts as 40% of the budget: two one-chunk documents fit a call, three do not.
        const counter: TokenCounter = { exact: false, count: () => Math.floor(budget * 0.4) };
        const documents = makeDocuments([1, 1, 1], 'budget');
        world.respond(2, success());
        world.respond(1, success());
        const result = await embedContextualized(
          settings(world, { documents, tokenCounter: counter, concurrency: 1 }),
        );
        expectVectors(result, documents, dims);
        assert.deepEqual(
          world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
          [documents.slice(0, 2), documents.slice(2)],
        );
      }),
    );
  }

  list.push(
    scenario('ctx-no-documents', async (world) => {
      const result = await embedContextualized(settings(world, { documents: [] }));
      assert.deepEqual(result.embeddings, []);
      assert.equal(result.usage, undefined);
      assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
    }),
    scenario('ctx-empty-document', (world) => nothingSent(world, { documents: [['a'], []] }, 'documents[1]')),
    scenario('ctx-empty-chunk', (world) => nothingSent(world, { documents: [['a', '']] }, 'documents[0][1]')),
    scenario('ctx-document-over-chunk-limit', (world) =>
      nothingSent(world, { documents: makeDocuments([1, 3]), maxChunksPerCall: 2 }, 'documents[1]'),
    ),
  );

  if (allowed !== undefined) {
    const values = 'min' in allowed ? [allowed.min, allowed.max] : [...allowed];
    const pick =
      values.find((value) => value !== capabilities.defaultDimensions && value <= 4096) ?? values[0]!;
    const invalid = 'min' in allowed ? allowed.max + 1 : Math.max(...allowed) + 1;
    list.push(
      scenario('ctx-dimensions-honoured', async (world) => {
        const documents = makeDocuments([2], 'dims');
        world.respond(1, success());
        const result = await embedContextualized(settings(world, { documents, dimensions: pick }));
        assert.equal(wire.dimensionsOf(world.interceptor.requests[0]!.body), pick, 'dimensions sent');
        expectVectors(result, documents, pick);
      }),
      scenario('ctx-dimensions-invalid', (world) =>
        nothingSent(world, { documents: [['x']], dimensions: invalid }, 'dimensions'),
      ),
    );
  }

  for (const inputType of capabilities.inputTypes) {
    list.push(
      scenario(`ctx-input-type-${inputType}`, async (world) => {
        world.respond(1, success());
        const result = await embedContextualized(
          settings(world, { documents: [['pets and animals']], inputType }),
        );
        assert.equal(
          wire.inputTypeOf(world.interceptor.requests[0]!.body),
          inputType,
          `"${inputType}" is sent`,
        );
        assert.deepEqual(result.warnings, [], 'no warning for a supported input type');
      }),
    );
  }

  list.push(
    scenario('ctx-error-401', async (world) => {
      world.respond(1, errorReply(401, 'conformance error 401'));
      const error = await rejection(embedContextualized(settings(world, { documents: [['x']] })));
      assert.equal(error.name, 'AuthenticationError');
      assert.equal(error.code, 'authentication');
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /conformance error 401/, 'the API message is kept');
      assert.equal(world.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('ctx-error-400', async (world) => {
      world.respond(1, errorReply(400, 'conformance error 400'));
      const error = await rejection(embedContextualized(settings(world, { documents: [['x']] })));
      assert.equal(error.name, 'InvalidRequestError');
      assert.equal(error.batchTooLarge, false);
      assert.equal(world.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('ctx-error-429-retry-after', async (world) => {
      world.respond(1, errorReply(429, 'rate limited', undefined, { 'retry-after': '2' }));
      world.respond(1, success());
      const result = await embedContextualized(settings(world, { documents: [['x']] }));
      assert.equal(result.embeddings.length, 1);
      assert.equal(world.interceptor.requests.length, 2, 'retried once');
      assert.deepEqual(world.clock.sleeps, [2_000], 'waited as Retry-After said');
    }),
    scenario('ctx-error-5xx-retried', async (world) => {
      world.respond(1, errorReply(500, 'internal'));
      world.respond(1, errorReply(503, 'unavailable'));
      world.respond(1, success());
      const result = await embedContextualized(settings(world, { documents: [['x', 'y']] }));
      expectVectors(result, [['x', 'y']], dims);
      assert.equal(world.interceptor.requests.length, 3);
    }),
    scenario('ctx-error-5xx-exhausted', async (world) => {
      world.respond(1, errorReply(503, 'unavailable'), { times: 3 });
      const error = await rejection(
        embedContextualized(settings(world, { documents: [['x']], maxRetries: 2 })),
      );
      assert.equal(error.name, 'RetryError');
      assert.equal(error.attempts, 3);
      assert.equal((error.lastError as Error).name, 'ServerError');
    }),
    scenario('ctx-wrong-chunk-count', async (world) => {
      world.respond(1, success({ mutate: (vectors) => vectors[0]!.pop() }));
      const error = await rejection(embedContextualized(settings(world, { documents: [['a', 'b', 'c']] })));
      assert.equal(error.name, 'InvalidResponseError', String(error.message));
      assert.equal(world.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('ctx-wrong-dimension', async (world) => {
      world.respond(1, success({ mutate: (vectors) => vectors[0]![1]!.pop() }));
      const error = await rejection(embedContextualized(settings(world, { documents: [['a', 'b']] })));
      assert.equal(error.name, 'InvalidResponseError', String(error.message));
    }),
    scenario('ctx-abort-during-backoff', async (world) => {
      world.respond(1, errorReply(503, 'unavailable'));
      const controller = new AbortController();
      world.clock.onSleep = () => controller.abort();
      const error = await rejection(
        embedContextualized(settings(world, { documents: [['x']], signal: controller.signal })),
      );
      assert.equal(error.name, 'AbortError', 'the native AbortError');
      assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped');
      assert.equal(world.interceptor.requests.length, 1, 'no attempt after the abort');
    }),
    scenario('ctx-secret-redaction', async (world) => {
      world.respond(1, errorReply(401, `invalid key ${world.apiKey}`));
      const error = await rejection(embedContextualized(settings(world, { documents: [['x']] })));
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
  );

  if (wire.reportsUsage && cap >= 2) {
    list.push(
      scenario('ctx-usage-summed', async (world) => {
        const documents = makeDocuments([2, 1, 3], 'usage');
        world.respond(2, success());
        world.respond(1, success());
        const result = await embedContextualized(
          settings(world, { documents, maxDocumentsPerCall: 2, concurrency: 1 }),
        );
        assert.deepEqual(result.usage, { inputTokens: usageTokens(documents) });
        assert.equal(result.responses.length, 2);
      }),
    );
  }
  return list;
}

/**
 * Registers the contextualized scenarios for one provider through both transports. An id listed in
 * `expectedFailures` shows as skipped while it fails and fails the run once it passes.
 */
export function describeContextualizedProvider(options: DescribeContextualizedProviderOptions): void {
  const expected = options.expectedFailures ?? {};
  const scenarios = listContextualizedScenarios(options);
  describe(`${options.name} contextualized conformance`, () => registerScenarios(scenarios, expected));
}
