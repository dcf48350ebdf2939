/**
 * The settings of every package as a demanding application passes them: compiled against the packages as
 * built, with `strict` and `exactOptionalPropertyTypes`. Under that flag an optional setting declared
 * `name?: T` refuses an explicit `undefined`, so `apiKey: process.env.OPENAI_API_KEY` would not compile,
 * although every factory reads an `undefined` setting as an absent one. Each case is one module; its
 * diagnostics must be none.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, expect, it } from 'vitest';
import { diagnosticsOf, readerProgram } from './reader-program.js';

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
};

const PROBLEMS = new Map<string, string[]>();

beforeAll(() => {
  rmSync(GENERATED, { recursive: true, force: true });
  mkdirSync(GENERATED, { recursive: true });
  const files = Object.entries(CASES).map(([name, code], index) => {
    const file = join(GENERATED, `case-${index}.ts`);
    writeFileSync(file, `${code}\nexport {};\n`);
    return { name, file };
  });
  const program = readerProgram(
    files.map(({ file }) => file),
    { exactOptionalPropertyTypes: true },
  );
  for (const { name, file } of files) {
    const found = diagnosticsOf(program, file);
    PROBLEMS.set(
      name,
      found.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')),
    );
  }
  rmSync(GENERATED, { recursive: true, force: true });
}, 120_000);

for (const name of Object.keys(CASES)) {
  it(`${name} (exactOptionalPropertyTypes)`, () => {
    expect(PROBLEMS.get(name)).toEqual([]);
  });
}
