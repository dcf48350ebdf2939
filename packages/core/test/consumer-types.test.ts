/**
 * The public types as a demanding application meets them: its code compiled with `strict` and
 * `exactOptionalPropertyTypes` (which this repository's own settings leave off, so the package's
 * typecheck alone cannot see it). Under that flag an optional setting declared `name?: T` refuses an
 * explicit `undefined`, so `dimensions: options.dimensions` fails to compile although the engine reads an
 * `undefined` setting as an absent one. Each case is one consumer module; its diagnostics must be none.
 * Each case of REFUSED is one module that must get exactly the errors it lists, so that a type meant to
 * refuse wrong code is shown to refuse it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, it } from 'vitest';
// The one compile of consumer modules the type tests of the built packages use too (a test-only file:
// core itself never depends on the compiler).
import { compileConsumers, expectErrors, type Found } from '../../../docs-check/test/reader-program.js';

const INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url));

const CASES: Record<string, string> = {
  "a RetryError's lastError and errors are embedkit errors, narrowed by their code without a cast": `
    import { EmbedKitError, type AnyEmbedKitError, type ErrorCode, type RateLimitError } from 'core';
    declare const error: unknown;
    if (EmbedKitError.isInstance(error)) {
      switch (error.code) {
        case 'retries_exhausted': {
          const code: ErrorCode = error.lastError.code;
          const status: number | undefined = error.lastError.statusCode;
          const every: readonly AnyEmbedKitError[] = error.errors;
          const first: ErrorCode | undefined = error.errors[0]?.code;
          if (error.lastError.code === 'rate_limited') {
            const limited: RateLimitError = error.lastError;
          }
          break;
        }
      }
    }
  `,
  'embed, embedMany and embedStream take every optional setting as possibly undefined': `
    import { embed, embedMany, embedStream, type EmbeddingModel, type InputType, type OutputType, type RateLimiter, type TokenCounter, type Clock } from 'core';
    declare const model: EmbeddingModel;
    declare const maybe: {
      dimensions?: number | undefined; inputType?: InputType | undefined; signal?: AbortSignal | undefined;
      truncate?: boolean | undefined; strict?: boolean | undefined; count?: number | undefined;
      headers?: Record<string, string> | undefined; rateLimit?: RateLimiter | undefined;
      tokenCounter?: TokenCounter | undefined; clock?: Clock | undefined; onWarning?: (() => void) | undefined;
      providerOptions?: Record<string, Record<string, unknown>> | undefined;
    };
    const settings = {
      model, dimensions: maybe.dimensions, inputType: maybe.inputType, signal: maybe.signal,
      truncate: maybe.truncate, strict: maybe.strict, maxInputsPerCall: maybe.count, concurrency: maybe.count,
      maxRetries: maybe.count, maxRetryDelayMs: maybe.count, timeoutMs: maybe.count, headers: maybe.headers,
      providerOptions: maybe.providerOptions, rateLimit: maybe.rateLimit, tokenCounter: maybe.tokenCounter,
      clock: maybe.clock, onWarning: maybe.onWarning, onRetry: undefined, onWait: undefined, onProgress: undefined,
    };
    const many: Float32Array[] = (await embedMany({ ...settings, inputs: ['a'] })).embeddings;
    const one: Float32Array = (await embed({ ...settings, input: 'a' })).embedding;
    for await (const item of embedStream({ ...settings, inputs: ['a'], flushAfterMs: maybe.count })) {
      const streamed: Float32Array = item.embedding;
    }
  `,
  'an outputType that may be undefined types its vectors as float among the others, as the engine reads it': `
    import { embed, embedMany, type EmbeddingModel, type OutputType } from 'core';
    declare const model: EmbeddingModel;
    declare const outputType: OutputType | undefined;
    const { embeddings } = await embedMany({ model, inputs: ['a'], outputType });
    const vectors: (Float32Array | Int8Array | Uint8Array)[] = embeddings;
    const absent: Float32Array[] = (await embedMany({ model, inputs: ['a'], outputType: undefined })).embeddings;
    // Undefined asks for float: a maybe-int8 setting gives Int8Array or Float32Array, never Int8Array alone.
    declare const maybeInt8: 'int8' | undefined;
    const { embedding } = await embed({ model, input: 'a', outputType: maybeInt8 });
    const either: Int8Array | Float32Array = embedding;
    // @ts-expect-error an undefined outputType gives Float32Array
    const int8Only: Int8Array = embedding;
  `,
  'inputs, documents and the parts of an input may be readonly, as const makes them': `
    import { embedContextualized, embedMany, embedStream, rerank, type ContextualizedEmbeddingModel, type EmbeddingModel, type RerankingModel } from 'core';
    declare const model: EmbeddingModel;
    const inputs = ['a', { text: 'b', title: 't' }, { content: [{ type: 'text', text: 'c' }, { type: 'image', url: 'https://example.com/cat.png' }] }] as const;
    await embedMany({ model, inputs });
    for await (const item of embedStream({ model, inputs })) {}
    declare const contextualized: ContextualizedEmbeddingModel;
    await embedContextualized({ model: contextualized, documents: [['a', 'b']] as const });
    declare const reranker: RerankingModel;
    await rerank({ model: reranker, query: 'q', documents: ['a'] as const });
  `,
  'embedContextualized and rerank take possibly undefined settings': `
    import { embedContextualized, rerank, type ContextualizedEmbeddingModel, type RerankingModel } from 'core';
    declare const contextualized: ContextualizedEmbeddingModel;
    declare const reranker: RerankingModel;
    declare const count: number | undefined;
    declare const signal: AbortSignal | undefined;
    await embedContextualized({ model: contextualized, documents: [['a']], dimensions: count, outputType: undefined, inputType: undefined, strict: undefined, maxDocumentsPerCall: count, maxChunksPerCall: count, signal });
    await rerank({ model: reranker, query: 'q', documents: ['a'], topN: count, truncate: undefined, maxDocumentsPerCall: count, signal });
  `,
  'the options of limiters and caches take possibly undefined values': `
    import { cacheMiddleware, createMemoryCacheStore, createRateLimiter, type LimiterStore } from 'core';
    declare const count: number | undefined;
    declare const store: LimiterStore | undefined;
    declare const key: string | undefined;
    createRateLimiter({ tokensPerMinute: count, requestsPerMinute: count, store, key, adaptive: undefined, learnFromHeaders: undefined });
    cacheMiddleware({ store: createMemoryCacheStore({ maxEntries: count }), onWarning: undefined });
  `,
  'after instanceof or isInstance, the code of an error is the one its class carries': `
    import { AuthenticationError, ConnectionError, EmbedKitError, type ErrorCode, InvalidArgumentError, InvalidRequestError, InvalidResponseError, NotFoundError, PermissionDeniedError, RateLimitError, RetryError, ServerError, TimeoutError } from 'core';
    declare const error: unknown;
    if (error instanceof InvalidArgumentError) {
      const code: 'invalid_argument' = error.code;
      // @ts-expect-error a InvalidArgumentError never carries 'invalid_request'
      if (error.code === 'invalid_request') throw error;
    }
    if (error instanceof AuthenticationError) {
      const code: 'authentication' = error.code;
      // @ts-expect-error a AuthenticationError never carries 'permission_denied'
      if (error.code === 'permission_denied') throw error;
    }
    if (error instanceof PermissionDeniedError) {
      const code: 'permission_denied' = error.code;
      // @ts-expect-error a PermissionDeniedError never carries 'authentication'
      if (error.code === 'authentication') throw error;
    }
    if (error instanceof NotFoundError) {
      const code: 'not_found' = error.code;
      // @ts-expect-error a NotFoundError never carries 'invalid_request'
      if (error.code === 'invalid_request') throw error;
    }
    if (error instanceof InvalidRequestError) {
      const code: 'invalid_request' = error.code;
      // @ts-expect-error a InvalidRequestError never carries 'invalid_argument'
      if (error.code === 'invalid_argument') throw error;
    }
    if (error instanceof RateLimitError) {
      const code: 'rate_limited' = error.code;
      // @ts-expect-error a RateLimitError never carries 'server_error'
      if (error.code === 'server_error') throw error;
    }
    if (error instanceof ServerError) {
      const code: 'server_error' = error.code;
      // @ts-expect-error a ServerError never carries 'timeout'
      if (error.code === 'timeout') throw error;
    }
    if (error instanceof TimeoutError) {
      const code: 'timeout' = error.code;
      // @ts-expect-error a TimeoutError never carries 'connection'
      if (error.code === 'connection') throw error;
    }
    if (error instanceof ConnectionError) {
      const code: 'connection' = error.code;
      // @ts-expect-error a ConnectionError never carries 'timeout'
      if (error.code === 'timeout') throw error;
    }
    if (error instanceof InvalidResponseError) {
      const code: 'invalid_response' = error.code;
      // @ts-expect-error a InvalidResponseError never carries 'invalid_request'
      if (error.code === 'invalid_request') throw error;
    }
    if (error instanceof RetryError) {
      const code: 'retries_exhausted' = error.code;
      // @ts-expect-error a RetryError never carries 'rate_limited'
      if (error.code === 'rate_limited') throw error;
    }
    if (RateLimitError.isInstance(error)) {
      const code: 'rate_limited' = error.code;
      // @ts-expect-error a RateLimitError never carries 'timeout'
      if (error.code === 'timeout') throw error;
    }
    // The base class carries any code.
    if (EmbedKitError.isInstance(error)) {
      const code: ErrorCode = error.code;
      if (error.code === 'retries_exhausted' || error.code === 'invalid_argument') throw error;
    }
  `,
};

/** Modules with the errors they must get, in source order: the code, and words its message holds. */
const REFUSED: Record<string, { code: string; errors: [number, string][] }> = {
  'after EmbedKitError.isInstance, a switch on the code narrows to the class that carries it': {
    code: `
      import { EmbedKitError, type AnyEmbedKitError, type ErrorCode, type RateLimitError } from 'core';
      declare const error: unknown;
      if (EmbedKitError.isInstance(error)) {
        switch (error.code) {
          case 'rate_limited': {
            const quota: boolean = error.quotaExhausted;
            const wrong: unknown = error.lastError;
            break;
          }
          case 'retries_exhausted': {
            const last: unknown = error.lastError;
            const attempts: number = error.attempts;
            break;
          }
          case 'invalid_request': {
            const index: number | undefined = error.inputIndex;
            const tooLarge: boolean = error.batchTooLarge;
            break;
          }
          case 'connection': {
            const neverSent: boolean = error.neverSent;
            break;
          }
          case 'rate_limted':
            break;
        }
        const code: ErrorCode = error.code;
      }
      declare const any: AnyEmbedKitError;
      if (any.code === 'rate_limited') {
        const limited: RateLimitError = any;
      }
      const base: EmbedKitError = any;
      // Every code has its class in the union.
      const covered: [Exclude<ErrorCode, AnyEmbedKitError['code']>] extends [never] ? true : false = true;
    `,
    errors: [
      [2339, "Property 'lastError' does not exist on type 'RateLimitError'"],
      [2678, `Type '"rate_limted"' is not comparable`],
    ],
  },
};

let PROBLEMS: Map<string, Found>;

beforeAll(() => {
  PROBLEMS = compileConsumers(
    mkdtempSync(join(tmpdir(), 'embedkit-consumer-types-')),
    [...Object.entries(CASES), ...Object.entries(REFUSED).map(([name, { code }]) => [name, code] as const)],
    {
      exactOptionalPropertyTypes: true,
      // The consumer imports the sources as it would the package: only its own file is checked.
      paths: { core: [INDEX] },
    },
    '.mts',
  );
}, 120_000);

for (const name of Object.keys(CASES)) {
  it(`${name} (exactOptionalPropertyTypes)`, () => {
    expectErrors(PROBLEMS.get(name));
  });
}

for (const [name, { errors }] of Object.entries(REFUSED)) {
  it(`${name} (exactOptionalPropertyTypes)`, () => {
    expectErrors(PROBLEMS.get(name), errors);
  });
}
