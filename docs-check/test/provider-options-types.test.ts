/**
 * `providerOptions` as a reader's compiler sees it, against the packages as built: a model of a known
 * provider types the options under its own name, so a misspelled key is a compile error where the runtime
 * would refuse it anyway, whether the model is given as the provider made it, behind middleware or from a
 * registry, and so do its batch jobs (Gemini's typed as Gemini jobs: their state, their float results); a model typed only as `EmbeddingModel` (a third party's) still takes
 * any options. Each case is one module with the error codes it must get, in order; a case that must
 * compile expects none.
 */
import { join } from 'node:path';
import { beforeAll, it } from 'vitest';
import { compileConsumers, expectErrors, type Found } from './reader-program.js';

// Beside this file, so the packages resolve by their names through the workspace's node_modules.
const GENERATED = join(import.meta.dirname, '.generated-provider-options');

const IMPORTS = `
  import { cacheMiddleware, createRegistry, embed, embedMany, embedStream, embedContextualized, rerank, wrapEmbeddingModel, type EmbeddingModel, type EmbeddingModelMiddleware, type EmbeddingProvider } from '@embedkit/core';
  import { createOpenAICompatible, openai, type OpenAIEmbeddingModel, type OpenAIProvider } from '@embedkit/provider-openai';
  import { voyage } from '@embedkit/provider-voyage';
  import { gemini } from '@embedkit/provider-gemini';
  import { jina } from '@embedkit/provider-jina';
  declare const maybeUser: string | undefined;
`;

interface Case {
  code: string;
  /** The codes of the errors, in source order, each with a word its message must hold. */
  errors: [number, string][];
}

const CASES: Record<string, Case> = {
  'a misspelled OpenAI option is a compile error naming the key it meant': {
    code: `await embedMany({ model: openai.embedding('text-embedding-3-small'), inputs: ['a'], providerOptions: { openai: { usr: 'u' } } });`,
    errors: [[2561, "'usr' does not exist"]],
  },
  'the OpenAI options compile, a possibly undefined user too': {
    code: `
      await embedMany({ model: openai.embedding('text-embedding-3-small'), inputs: ['a'], providerOptions: { openai: { user: 'u' } } });
      await embed({ model: openai.embedding('text-embedding-3-small'), input: 'a', providerOptions: { openai: { user: maybeUser } } });
    `,
    errors: [],
  },
  'embed and embedStream type the options by the model as embedMany does': {
    code: `
      await embed({ model: openai.embedding('text-embedding-3-small'), input: 'a', providerOptions: { openai: { usr: 'u' } } });
      embedStream({ model: gemini.embedding('gemini-embedding-001'), inputs: ['a'], providerOptions: { gemini: { normalise: false } } });
    `,
    errors: [
      [2561, "'usr' does not exist"],
      [2561, "'normalise' does not exist"],
    ],
  },
  'options under another provider name than the model reads are a compile error': {
    code: `await embedMany({ model: openai.embedding('text-embedding-3-small'), inputs: ['a'], providerOptions: { voyage: {} } });`,
    errors: [[2353, "'voyage' does not exist"]],
  },
  'a compatible provider types the options under the name it was given': {
    code: `
      const vllm = createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' });
      await embedMany({ model: vllm.embedding('bge-m3'), inputs: ['a'], providerOptions: { vllm: { user: 'u' } } });
      await embedMany({ model: vllm.embedding('bge-m3'), inputs: ['a'], providerOptions: { vllm: { usr: 'u' } } });
      await embedMany({ model: vllm.embedding('bge-m3'), inputs: ['a'], providerOptions: { openai: { user: 'u' } } });
    `,
    errors: [
      [2561, "'usr' does not exist"],
      [2353, "'openai' does not exist"],
    ],
  },
  'a compatible provider whose name is only a string takes any options': {
    code: `
      declare const name: string;
      const gateway = createOpenAICompatible({ name, baseURL: 'http://localhost:8000/v1' });
      await embedMany({ model: gateway.embedding('bge-m3'), inputs: ['a'], providerOptions: { anything: { at: 'all' } } });
    `,
    errors: [],
  },
  'Voyage, Gemini and Jina take the options their schemas hold': {
    code: `
      await embedMany({ model: voyage.embedding('voyage-3.5'), inputs: ['a'], providerOptions: { voyage: {} } });
      await embedMany({ model: voyage.multimodalEmbedding('voyage-multimodal-3.5'), inputs: ['a'], providerOptions: { voyage: {} } });
      await embedMany({ model: gemini.embedding('gemini-embedding-001'), inputs: ['a'], providerOptions: { gemini: { normalize: false } } });
      await embedMany({ model: jina.embedding('jina-embeddings-v3'), inputs: ['a'], providerOptions: { jina: { task: 'text-matching', normalized: true } } });
      await embedContextualized({ model: voyage.contextualizedEmbedding('voyage-context-3'), documents: [['a']], providerOptions: { voyage: { autoChunking: false, chunkSize: 512, chunkOverlap: 0 } } });
      await embedContextualized({ model: jina.contextualizedEmbedding('jina-embeddings-v3'), documents: [['a']], providerOptions: { jina: { task: 'retrieval.passage' } } });
      await rerank({ model: jina.reranking('jina-reranker-v3'), query: 'q', documents: ['a'], providerOptions: { jina: { maxDocumentLength: 1024 } } });
      await rerank({ model: voyage.reranking('rerank-2.5'), query: 'q', documents: ['a'], providerOptions: { voyage: {} } });
    `,
    errors: [],
  },
  'Voyage, Gemini and Jina refuse an option their schemas lack': {
    code: `
      await embedMany({ model: voyage.embedding('voyage-3.5'), inputs: ['a'], providerOptions: { voyage: { inputType: 'query' } } });
      await embedMany({ model: jina.embedding('jina-embeddings-v3'), inputs: ['a'], providerOptions: { jina: { normalize: true } } });
      await embedContextualized({ model: voyage.contextualizedEmbedding('voyage-context-3'), documents: [['a']], providerOptions: { voyage: { autoChunk: true } } });
      await rerank({ model: jina.reranking('jina-reranker-v3'), query: 'q', documents: ['a'], providerOptions: { jina: { maxDocLength: 1024 } } });
    `,
    errors: [
      [2322, "'string' is not assignable to type 'never'"],
      [2561, "'normalize' does not exist"],
      [2561, "'autoChunk' does not exist"],
      [2353, "'maxDocLength' does not exist"],
    ],
  },
  'a provider and a model of a known name are still an OpenAIProvider and an OpenAIEmbeddingModel': {
    code: `
      const provider: OpenAIProvider = openai;
      const model: OpenAIEmbeddingModel = openai.embedding('text-embedding-3-small');
      const embedWith = (some: OpenAIProvider) => some.embedding('text-embedding-3-small');
      embedWith(createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' }));
      await embedMany({ model, inputs: ['a'], providerOptions: { anything: { at: 'all' } } });
    `,
    errors: [],
  },
  'a model typed only as EmbeddingModel, and a choice of two providers, take the options of any': {
    code: `
      declare const any: EmbeddingModel;
      await embedMany({ model: any, inputs: ['a'], providerOptions: { acme: { anything: 1 } } });
      declare const choice: boolean;
      const model = choice ? openai.embedding('text-embedding-3-small') : gemini.embedding('gemini-embedding-001');
      await embedMany({ model, inputs: ['a'], providerOptions: { openai: { user: 'u' }, gemini: { normalize: false } } });
      const models: EmbeddingModel[] = [openai.embedding('text-embedding-3-small'), voyage.embedding('voyage-3.5'), jina.contextualizedEmbedding('jina-embeddings-v3')];
      const vllm = createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' });
      declare const providers: Record<string, EmbeddingProvider>;
      const loose = createRegistry(providers);
      await embedMany({ model: loose.embeddingModel('acme:embed-1'), inputs: ['a'], providerOptions: { acme: { anything: 1 } } });
    `,
    errors: [],
  },
  'a model behind middleware keeps the options of the model it wraps': {
    code: `
      const cached = wrapEmbeddingModel(openai.embedding('text-embedding-3-small'), cacheMiddleware());
      await embedMany({ model: cached, inputs: ['a'], providerOptions: { openai: { usr: 'u' } } });
      await embed({ model: wrapEmbeddingModel(gemini.embedding('gemini-embedding-001'), [cacheMiddleware(), {}]), input: 'a', providerOptions: { voyage: {} } });
    `,
    errors: [
      [2561, "'usr' does not exist"],
      [2353, "'voyage' does not exist"],
    ],
  },
  'middleware written against EmbeddingModel fits a typed model, which keeps its own options': {
    code: `
      const logging: EmbeddingModelMiddleware = {
        wrapEmbed: async ({ doEmbed, request, model }) => {
          const seen: EmbeddingModel = model;
          return doEmbed({ ...request, providerOptions: { ...request.providerOptions, [seen.provider]: {} } });
        },
      };
      const cached = wrapEmbeddingModel(openai.embedding('text-embedding-3-small'), [logging, cacheMiddleware()]);
      await embedMany({ model: cached, inputs: ['a'], providerOptions: { openai: { user: 'u' } } });
      const wrapAny = (model: EmbeddingModel): EmbeddingModel => wrapEmbeddingModel(model, logging);
      await embedMany({ model: wrapAny(cached), inputs: ['a'], providerOptions: { acme: { anything: 1 } } });
      const models: EmbeddingModel[] = [cached, wrapEmbeddingModel(voyage.embedding('voyage-3.5'), logging)];
    `,
    errors: [],
  },
  "a registry's model takes the options of the provider its id names": {
    code: `
      const vllm = createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' });
      const registry = createRegistry({ openai, vllm, voyage, gemini, jina });
      await embedMany({ model: registry.embeddingModel('openai:text-embedding-3-small'), inputs: ['a'], providerOptions: { openai: { usr: 'u' } } });
      await embedMany({ model: registry.embeddingModel('vllm:bge-m3'), inputs: ['a'], providerOptions: { vllm: { anything: 1 } } });
      await embedMany({ model: registry.embeddingModel('gemini:gemini-embedding-001'), inputs: ['a'], providerOptions: { openai: { user: 'u' } } });
    `,
    errors: [
      [2561, "'usr' does not exist"],
      [2353, "'anything' does not exist"],
      [2353, "'openai' does not exist"],
    ],
  },
  "a registry's model is its provider's own type; an id of two names takes either's options": {
    code: `
      const vllm = createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' });
      const registry = createRegistry({ openai, vllm, voyage, gemini, jina });
      const model: OpenAIEmbeddingModel<'vllm'> = registry.embeddingModel('vllm:bge-m3');
      await embedMany({ model, inputs: ['a'], providerOptions: { vllm: { user: 'u' } } });
      await embedMany({ model: registry.embeddingModel('openai:ft:text-embedding-3-small:acme'), inputs: ['a'], providerOptions: { openai: { user: 'u' } } });
      declare const id: \`\${'openai' | 'gemini'}:\${string}\`;
      await embedMany({ model: registry.embeddingModel(id), inputs: ['a'], providerOptions: { openai: { user: 'u' }, gemini: { normalize: false } } });
    `,
    errors: [],
  },
  'a registry reads the prefix up to the first colon, of a hyphenated name, a const id or a template': {
    code: `
      const vllm = createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' });
      const registry = createRegistry({ 'my-vllm': vllm, openai, gemini });
      await embedMany({ model: registry.embeddingModel('my-vllm:bge-m3'), inputs: ['a'], providerOptions: { vllm: { user: 'u' } } });
      await embedMany({ model: registry.embeddingModel('my-vllm:bge-m3'), inputs: ['a'], providerOptions: { vllm: { usr: 'u' } } });
      const fineTuned = 'openai:ft:gpt:acme' as const;
      await embedMany({ model: registry.embeddingModel(fineTuned), inputs: ['a'], providerOptions: { openai: { usr: 'u' } } });
      declare const tuned: \`openai:ft:\${string}\`;
      const model: OpenAIEmbeddingModel<'openai'> = registry.embeddingModel(tuned);
      await embedMany({ model: registry.embeddingModel(tuned), inputs: ['a'], providerOptions: { gemini: { normalize: false } } });
    `,
    errors: [
      [2561, "'usr' does not exist"],
      [2561, "'usr' does not exist"],
      [2353, "'gemini' does not exist"],
    ],
  },
  "a registry's id typed only as string, or of an unknown prefix, does not compile, as before": {
    code: `
      const registry = createRegistry({ openai, gemini });
      declare const id: string;
      registry.embeddingModel(id);
      registry.embeddingModel('voyage:voyage-3.5');
    `,
    errors: [
      [2345, "'string' is not assignable"],
      [2345, '\'"voyage:voyage-3.5"\' is not assignable'],
    ],
  },
  'Gemini batch jobs take the Gemini options and refuse a misspelt one': {
    code: `
      const jobs = gemini.batchEmbeddingJobs('gemini-embedding-001');
      const job = await jobs.create({ inputs: ['a'], providerOptions: { gemini: { normalize: false } } });
      await jobs.wait(job.id, { providerOptions: { gemini: { normalize: false } } });
      await jobs.results(job.id, { providerOptions: { gemini: { normalize: false } } });
      await jobs.create({ inputs: ['a'], providerOptions: { gemini: { normalise: false } } });
      await jobs.results(job.id, { providerOptions: { gemini: { normalise: false } } });
      await jobs.wait(job.id, { providerOptions: { openai: { user: 'u' } } });
    `,
    errors: [
      [2561, "'normalise' does not exist"],
      [2561, "'normalise' does not exist"],
      [2353, "'openai' does not exist"],
    ],
  },
  'Gemini batch jobs are Gemini jobs: a BatchState as providerState, float results, with no cast': {
    code: `
      import type { GeminiBatchJob, GeminiBatchJobResults, GeminiBatchState } from '@embedkit/provider-gemini';
      const jobs = gemini.batchEmbeddingJobs('gemini-embedding-001');
      const job: GeminiBatchJob = await jobs.create({ inputs: ['a', 'b'], dimensions: 256 });
      const done: GeminiBatchJob = await jobs.wait(job.id, { onProgress: (seen: GeminiBatchJob) => {} });
      const results: GeminiBatchJobResults = await jobs.results((await jobs.get(done.id)).id);
      const vectors: (Float32Array | null)[] = results.embeddings;
      const first: Float32Array | null | undefined = results.embeddings[0];
      const state: GeminiBatchState | (string & {}) | undefined = results.job.providerState;
      if (state === 'BATCH_STATE_SUCCEEDED' || state === 'BATCH_STATE_UNSPECIFIED') {}
    `,
    errors: [],
  },
  'a Gemini result as int8 is a compile error': {
    code: `
      const results = await gemini.batchEmbeddingJobs('gemini-embedding-001').results('batches/123');
      const int8: (Int8Array | null)[] = results.embeddings;
    `,
    errors: [[2322, "is not assignable to type '(Int8Array<ArrayBufferLike> | null)[]'"]],
  },
};

let FOUND: Map<string, Found>;

beforeAll(() => {
  FOUND = compileConsumers(
    GENERATED,
    Object.entries(CASES).map(([name, { code }]) => [name, `${IMPORTS}\n${code}`] as const),
    { exactOptionalPropertyTypes: true },
  );
}, 120_000);

for (const [name, { errors }] of Object.entries(CASES)) {
  it(`${name} (exactOptionalPropertyTypes)`, () => {
    expectErrors(FOUND.get(name), errors);
  });
}
