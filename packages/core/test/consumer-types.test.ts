/**
 * The public types as a demanding application meets them: its code compiled with `strict` and
 * `exactOptionalPropertyTypes` (which this repository's own settings leave off, so the package's
 * typecheck alone cannot see it). Under that flag an optional setting declared `name?: T` refuses an
 * explicit `undefined`, so `dimensions: options.dimensions` fails to compile although the engine reads an
 * `undefined` setting as an absent one. Each case is one consumer module; its diagnostics must be none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';

const INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url));

const CASES: Record<string, string> = {
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
};

let directory: string;
const PROBLEMS = new Map<string, string[]>();

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'embedkit-consumer-types-'));
  const files = Object.entries(CASES).map(([name, code], index) => {
    const file = join(directory, `case-${index}.mts`);
    writeFileSync(file, `${code}\nexport {};\n`);
    return { name, file };
  });
  const program = ts.createProgram(
    files.map(({ file }) => file),
    {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      // The consumer imports the sources as it would the package: only its own file is checked.
      paths: { core: [INDEX] },
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    },
  );
  for (const { name, file } of files) {
    const source = program.getSourceFile(file)!;
    const found = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    PROBLEMS.set(
      name,
      found.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')),
    );
  }
}, 120_000);

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

for (const name of Object.keys(CASES)) {
  it(`${name} (exactOptionalPropertyTypes)`, () => {
    expect(PROBLEMS.get(name)).toEqual([]);
  });
}
