/**
 * The settings of every package as a demanding application passes them: compiled against the packages as
 * built, with `strict` and `exactOptionalPropertyTypes`. Under that flag an optional setting declared
 * `name?: T` refuses an explicit `undefined`, so `apiKey: process.env.OPENAI_API_KEY` would not compile,
 * although every factory reads an `undefined` setting as an absent one. Each case is one module; its
 * diagnostics must be none. Last, every type the published declarations use must be one the reader can
 * import by name.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import ts from 'typescript';
import { beforeAll, expect, it } from 'vitest';
import { compileConsumers, expectErrors, type Found, readerProgram } from './reader-program.js';

// Beside this file, so the packages resolve by their names through the workspace's node_modules.
const GENERATED = join(import.meta.dirname, '.generated-consumer');

const CASES: Record<string, string> = {
  'the providers take every optional setting as possibly undefined': `
    import { createOpenAI, createOpenAICompatible } from '@embedkit/provider-openai';
    import { createVoyage } from '@embedkit/provider-voyage';
    import { createGemini } from '@embedkit/provider-gemini';
    import { createJina } from '@embedkit/provider-jina';
    declare const maybe: string | undefined;
    declare const headers: Record<string, string> | undefined;
    const shared = { apiKey: maybe, baseURL: maybe, headers, fetch: undefined, dispatcher: undefined, rateLimit: undefined, maxResponseBytes: undefined };
    createOpenAI({ ...shared, organization: maybe, project: maybe, encodingFormat: undefined });
    createOpenAICompatible({ ...shared, name: 'gateway', baseURL: 'https://gateway.example/v1', apiKeyEnvironmentVariable: maybe, apiKeyHeader: maybe, queryParams: undefined, capabilities: undefined });
    createVoyage(shared);
    createGemini(shared);
    createJina(shared);
  `,
  'the adapters and the disk cache take possibly undefined settings': `
    import { fromAISDK, toAISDK } from '@embedkit/ai-sdk';
    import { openDiskCacheStore } from '@embedkit/cache-disk';
    import { EmbedkitEmbeddings } from '@embedkit/langchain';
    import type { EmbeddingModel, InputType } from '@embedkit/core';
    import type { EmbeddingModelV3 } from '@ai-sdk/provider';
    declare const model: EmbeddingModel;
    declare const aiModel: EmbeddingModelV3;
    declare const count: number | undefined;
    declare const inputType: InputType | undefined;
    toAISDK(model, { concurrency: count, maxEmbeddingsPerCall: count, timeoutMs: count });
    fromAISDK(aiModel, { dimensions: undefined, defaultDimensions: 1024 }, { inputTypes: undefined, secrets: undefined, rateLimit: undefined });
    new EmbedkitEmbeddings({ model, documentInputType: inputType, queryInputType: inputType, maxConcurrency: count, dimensions: count });
    openDiskCacheStore({ directory: '.cache', namespace: undefined, ttlSeconds: count, onWarning: undefined });
  `,
  'the types public signatures take can be named': `
    import { cosineSimilarity, systemClock, type AttemptAnswered, type EmbeddingCapabilities, type LimiterPermit, type NumericVector, type RateLimiter } from '@embedkit/core';
    import { errorForStatus, type StatusErrorInput } from '@embedkit/core/provider';
    import { OpenAIEmbeddingModel, type OpenAIEncodingFormat, type OpenAIModelConfig } from '@embedkit/provider-openai';
    import { VoyageEmbeddingModel, type VoyageModelConfig } from '@embedkit/provider-voyage';
    import { GeminiEmbeddingModel, type GeminiCreatedBatchJob, type GeminiModelConfig } from '@embedkit/provider-gemini';
    import { JinaEmbeddingModel, type JinaModelConfig, type JinaModelProfile } from '@embedkit/provider-jina';
    import { fromAISDK, type AISDKEmbeddingModel } from '@embedkit/ai-sdk';
    declare const limiter: RateLimiter;
    declare const answered: AttemptAnswered;
    const permit: LimiterPermit = await limiter.acquire({ tokens: 1, clock: systemClock });
    await permit.answered(answered);
    const similar = (a: NumericVector, b: NumericVector): number => cosineSimilarity(a, b);
    declare const input: StatusErrorInput;
    errorForStatus(429, input);
    const format: OpenAIEncodingFormat = 'float';
    declare const configs: [OpenAIModelConfig, VoyageModelConfig, GeminiModelConfig, JinaModelConfig];
    new OpenAIEmbeddingModel('text-embedding-3-small', configs[0]);
    declare const capabilities: EmbeddingCapabilities;
    declare const profile: JinaModelProfile;
    new VoyageEmbeddingModel('voyage-3.5', capabilities, configs[1]);
    new GeminiEmbeddingModel('gemini-embedding-001', configs[2]);
    new JinaEmbeddingModel('jina-embeddings-v3', profile, configs[3]);
    const created: GeminiCreatedBatchJob = { inputs: 1, dimensions: undefined };
    declare const aiModel: AISDKEmbeddingModel;
    fromAISDK(aiModel, { defaultDimensions: 1024 });
  `,
};

let PROBLEMS: Map<string, Found>;

beforeAll(() => {
  PROBLEMS = compileConsumers(GENERATED, Object.entries(CASES), { exactOptionalPropertyTypes: true });
}, 120_000);

for (const name of Object.keys(CASES)) {
  it(`${name} (exactOptionalPropertyTypes)`, () => {
    expectErrors(PROBLEMS.get(name));
  });
}

/**
 * The names public signatures use that stay unexported, each with why: the reader never writes them, only
 * the exported types computed from them. Any other such name could be reached only as
 * `Parameters<typeof cosineSimilarity>[0]`.
 */
const INTERNAL_NAMES: Record<string, string> = {
  // The schema kit's type-level steps from a shape to `schema.Schema<…>`; readers name `schema.Infer`.
  '@embedkit/core Shape': 'a step inside schema.object',
  '@embedkit/core OptionalKeys': 'a step inside schema.object',
  '@embedkit/core InferShape': 'a step inside schema.object',
  '@embedkit/core Flatten': 'a step inside schema.object',
};

/**
 * The packages walked: every one this folder checks, `@embedkit/conformance` included, whose exported
 * scenario families (`EMBEDDING_FAMILIES`, …) are typed with the suite's own machinery (`Family`,
 * `EmbeddingSuite`, worlds): a provider author who builds on them names those types too.
 */
const WALKED = Object.keys(
  (
    JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies,
).filter((name) => name.startsWith('@embedkit/'));

/**
 * Walks the declarations every entry point exports, as built, and through them every declaration they
 * reference by name (type references, `extends`, `typeof`), and returns `package name` for each named one
 * of an embedkit package that no entry point of its package exports. A `typeof` of a value (a schema
 * object, a list of names) is not counted: the reader names the type computed from it.
 */
function unexportedNames(): string[] {
  const require = createRequire(import.meta.url);
  const packages = WALKED.map((name) => {
    const manifestFile = realpathSync(require.resolve(`${name}/package.json`));
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      exports: Record<string, string | { types?: string }>;
    };
    const root = dirname(manifestFile);
    const entries = Object.values(manifest.exports).flatMap((target) =>
      typeof target === 'object' && target.types !== undefined ? [join(root, target.types)] : [],
    );
    return { name, dist: join(root, 'dist') + sep, entries };
  });
  const program = readerProgram(packages.flatMap(({ entries }) => entries));
  const checker = program.getTypeChecker();
  const target = (symbol: ts.Symbol) =>
    symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const ownerOf = (symbol: ts.Symbol) => {
    const file = symbol.declarations?.[0]?.getSourceFile().fileName;
    return file === undefined ? undefined : packages.find(({ dist }) => file.startsWith(dist));
  };
  const exportsOf = (file: string) =>
    checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);

  const exported = new Set<ts.Symbol>();
  const addExported = (symbol: ts.Symbol): void => {
    const resolved = target(symbol);
    if (exported.has(resolved)) return;
    exported.add(resolved);
    // `export * as schema from …`: the members are named `schema.Schema`.
    if (resolved.flags & ts.SymbolFlags.ValueModule)
      checker.getExportsOfModule(resolved).forEach(addExported);
  };
  for (const { entries } of packages) for (const entry of entries) exportsOf(entry).forEach(addExported);

  const found = new Set<string>();
  const seen = new Set<ts.Symbol>();
  const queue = packages.flatMap(({ entries }) => entries.flatMap((entry) => exportsOf(entry).map(target)));
  for (let symbol = queue.shift(); symbol !== undefined; symbol = queue.shift()) {
    if (seen.has(symbol) || ownerOf(symbol) === undefined) continue;
    seen.add(symbol);
    const visit = (node: ts.Node): void => {
      const name = ts.isTypeReferenceNode(node)
        ? node.typeName
        : ts.isExpressionWithTypeArguments(node)
          ? node.expression
          : ts.isTypeQueryNode(node)
            ? node.exprName
            : undefined;
      const referenced =
        name === undefined
          ? undefined
          : checker.getSymbolAtLocation(
              ts.isQualifiedName(name) ? name.right : ts.isPropertyAccessExpression(name) ? name.name : name,
            );
      if (referenced !== undefined && !(referenced.flags & ts.SymbolFlags.TypeParameter)) {
        const resolved = target(referenced);
        const owner = ownerOf(resolved);
        const value = ts.isTypeQueryNode(node) && !(resolved.flags & ts.SymbolFlags.Type);
        if (owner !== undefined && !exported.has(resolved) && !value)
          found.add(`${owner.name} ${resolved.name}`);
        queue.push(resolved);
      }
      ts.forEachChild(node, visit);
    };
    symbol.declarations?.forEach(visit);
  }
  return [...found].sort();
}

it('every type a public signature uses is exported where the reader meets it', () => {
  const found = unexportedNames();
  expect(found.filter((name) => INTERNAL_NAMES[name] === undefined)).toEqual([]);
  // A reason that no longer applies leaves the list, so that it says only what is true today.
  expect(Object.keys(INTERNAL_NAMES).filter((name) => !found.includes(name))).toEqual([]);
}, 120_000);
