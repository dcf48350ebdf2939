import {
  type ContextualizedCapabilities,
  type EmbeddingCapabilities,
  type InputType,
  type OutputType,
  ownEntry,
  type RerankingCapabilities,
  schema,
} from '@embedkit/core/provider';

/** Jina embedding models; any other id is accepted with conservative capabilities. */
export type JinaEmbeddingModelId =
  | 'jina-embeddings-v5-text-small'
  | 'jina-embeddings-v5-text-nano'
  | 'jina-embeddings-v4'
  | 'jina-embeddings-v3'
  | 'jina-clip-v2'
  | 'jina-code-embeddings-1.5b'
  | 'jina-code-embeddings-0.5b'
  | 'jina-embeddings-v2-base-en'
  | 'jina-embeddings-v2-base-zh'
  | 'jina-embeddings-v2-base-de'
  | 'jina-embeddings-v2-base-es'
  | 'jina-embeddings-v2-base-code'
  | 'jina-clip-v1'
  | (string & {});

/** Jina models with late chunking (`late_chunking`), for `embedContextualized`. */
export type JinaContextualizedModelId = 'jina-embeddings-v3' | 'jina-embeddings-v4' | (string & {});

/** Jina rerankers. */
export type JinaRerankingModelId =
  | 'jina-reranker-v3'
  | 'jina-reranker-m0'
  | 'jina-reranker-v2-base-multilingual'
  | 'jina-reranker-v1-tiny-en'
  | 'jina-reranker-v1-turbo-en'
  | 'jina-reranker-v1-base-en'
  | 'jina-colbert-v1-en'
  | 'jina-colbert-v2'
  | (string & {});

/** What the provider needs to know about one embedding model beyond its public capabilities. */
export interface JinaModelProfile {
  capabilities: EmbeddingCapabilities;
  /** The `task` word for each unified input type the model has; `null`: the type is sent with no `task`. */
  tasks: Partial<Record<InputType, string | null>>;
  /** Every `task` word the request schema accepts; `undefined` for an id the table does not know. */
  taskWords: readonly string[] | undefined;
  /** Whether the request schema has `normalized` (v3, v5, clip-v2); v4 and the code models do not. */
  normalizedField: boolean | undefined;
  /** Whether the request schema has `late_chunking` (v3, v4). */
  lateChunking: boolean;
}

/** The API encodes every model's vectors as float, base64 float32, or bit-packed `binary` / `ubinary`. */
const OUTPUT_TYPES: readonly OutputType[] = ['float', 'binary', 'ubinary'];

/**
 * Jina documents no limit on inputs per request; it answered "Each input list can contain at most 512
 * items" in 2025 (observed), so 512 is the safe limit for every model.
 */
export const JINA_MAX_INPUTS_PER_CALL = 512;

function profile(options: {
  context: number;
  defaultDimensions: number;
  maxDimensions: number;
  tasks: Partial<Record<InputType, string | null>>;
  taskWords: readonly string[];
  normalizedField: boolean;
  lateChunking?: boolean;
  image?: boolean;
}): JinaModelProfile {
  return {
    capabilities: {
      maxInputsPerCall: JINA_MAX_INPUTS_PER_CALL,
      maxTokensPerInput: options.context,
      defaultDimensions: options.defaultDimensions,
      // Every model's schema takes `dimensions` from 1 up to its full length.
      dimensions: { min: 1, max: options.maxDimensions },
      inputTypes: Object.keys(options.tasks) as InputType[],
      outputTypes: OUTPUT_TYPES,
      modalities: options.image === true ? ['text', 'image'] : ['text'],
      // Sent as `normalized: true` where the schema has it; the others do not promise unit length.
      normalized: options.normalizedField,
      supportsParallelCalls: true,
    },
    tasks: options.tasks,
    taskWords: options.taskWords,
    normalizedField: options.normalizedField,
    lateChunking: options.lateChunking ?? false,
  };
}

const V3_TASKS = ['retrieval.query', 'retrieval.passage', 'text-matching', 'classification', 'separation'];
const V4_TASKS = ['text-matching', 'retrieval.query', 'retrieval.passage', 'code.query', 'code.passage'];
const V5_TASKS = ['retrieval.query', 'retrieval.passage', 'text-matching', 'clustering', 'classification'];
const CODE_TASKS = ['nl2code', 'qa', 'code2code', 'code2nl', 'code2completion'].flatMap((family) => [
  `${family}.query`,
  `${family}.passage`,
]);

// The two v5 models share one request schema (`dimensions` up to 1024), but nano's vectors have 768
// values: a Matryoshka model can shorten its vectors, never lengthen them.
const v5 = (context: number, defaultDimensions: number) =>
  profile({
    context,
    defaultDimensions,
    maxDimensions: defaultDimensions,
    tasks: {
      query: 'retrieval.query',
      document: 'retrieval.passage',
      similarity: 'text-matching',
      classification: 'classification',
      clustering: 'clustering',
    },
    taskWords: V5_TASKS,
    normalizedField: true,
  });

const code = (dimensions: number) =>
  profile({
    // Not in the spec; the model cards give 32K (unverified).
    context: 32_768,
    defaultDimensions: dimensions,
    maxDimensions: dimensions,
    // The `nl2code` pair is the code-search task; `qa.query` asks a technical question. The other
    // families (`code2code`, `code2nl`, `code2completion`, `qa.passage`) go through `providerOptions.jina.task`.
    tasks: {
      'code-query': 'nl2code.query',
      'code-document': 'nl2code.passage',
      'question-answering': 'qa.query',
    },
    taskWords: CODE_TASKS,
    normalizedField: false,
  });

/**
 * An older model `/v1/embeddings` still takes (the spec's `EmbeddingsV2Request` and `ClipV1Request`). From
 * the spec: no `dimensions` and no `task` in their schemas (a fixed length, no input types), `normalized`
 * (default true), every `embedding_type`; clip-v1 also takes images. Not in the spec: the vector length,
 * so none is promised, and the context, taken as the family's smallest, 8,192, as for an unknown id.
 */
const older = (image: boolean): JinaModelProfile => ({
  capabilities: {
    maxInputsPerCall: JINA_MAX_INPUTS_PER_CALL,
    maxTokensPerInput: 8_192,
    inputTypes: [],
    outputTypes: OUTPUT_TYPES,
    modalities: image ? ['text', 'image'] : ['text'],
    normalized: true,
    supportsParallelCalls: true,
  },
  tasks: {},
  taskWords: [],
  normalizedField: true,
  lateChunking: false,
});

/**
 * The known models (Jina OpenAPI 2026-04 request schemas; context lengths from the spec's model notes
 * and model pages): task words, `dimensions` ranges and default lengths, modalities.
 */
export const JINA_EMBEDDING_MODELS: Record<string, JinaModelProfile> = {
  'jina-embeddings-v5-text-small': v5(32_768, 1024),
  'jina-embeddings-v5-text-nano': v5(8_192, 768),
  'jina-embeddings-v4': profile({
    context: 32_768,
    defaultDimensions: 2048,
    maxDimensions: 2048,
    tasks: {
      query: 'retrieval.query',
      document: 'retrieval.passage',
      similarity: 'text-matching',
      'code-query': 'code.query',
      'code-document': 'code.passage',
    },
    taskWords: V4_TASKS,
    normalizedField: false,
    lateChunking: true,
    image: true,
  }),
  'jina-embeddings-v3': profile({
    context: 8_192,
    defaultDimensions: 1024,
    maxDimensions: 1024,
    tasks: {
      query: 'retrieval.query',
      document: 'retrieval.passage',
      similarity: 'text-matching',
      classification: 'classification',
      // v3 calls its clustering adapter `separation`.
      clustering: 'separation',
    },
    taskWords: V3_TASKS,
    normalizedField: true,
    lateChunking: true,
  }),
  'jina-clip-v2': profile({
    context: 8_192,
    defaultDimensions: 1024,
    maxDimensions: 1024,
    // clip-v2 takes only `retrieval.query`; documents (and images) go with no task.
    tasks: { query: 'retrieval.query', document: null },
    taskWords: ['retrieval.query'],
    normalizedField: true,
    image: true,
  }),
  'jina-code-embeddings-1.5b': code(1536),
  'jina-code-embeddings-0.5b': code(896),
  'jina-embeddings-v2-base-en': older(false),
  'jina-embeddings-v2-base-zh': older(false),
  'jina-embeddings-v2-base-de': older(false),
  'jina-embeddings-v2-base-es': older(false),
  'jina-embeddings-v2-base-code': older(false),
  'jina-clip-v1': older(true),
};

/**
 * ColBERT models, which `/v1/embeddings` takes (the spec's `ColbertV1Request` and `ColbertV2Request`)
 * but answers with one vector per token of each input (`MultiEmbeddingData`, `embeddings: [[…], …]`):
 * an embedding model gives one vector per input, so `embedding()` refuses them. They rerank as they are.
 */
export const JINA_MULTI_VECTOR_MODELS: readonly string[] = ['jina-colbert-v1-en', 'jina-colbert-v2'];

/**
 * `elser-v2`, which `/v1/embeddings` takes (the spec's `ELSERV2Request`) but answers with sparse vectors,
 * one `{token: weight}` map per input: an embedding model gives dense vectors, so `embedding()` refuses it.
 */
export const JINA_SPARSE_MODELS: readonly string[] = ['elser-v2'];

/**
 * What to do instead with a multi-vector model. Said when a known ColBERT id is made and when an unknown
 * id answers several vectors per input, so both refusals give the same advice.
 */
export function multiVectorAdvice(modelId: string): string {
  return `which embedkit's embeddings, one vector per input, do not carry; use it with reranking('${modelId}'), or embed with a single-vector model such as jina-embeddings-v3.`;
}

/** Why `embedding()` refuses a known id whose answers are not one dense vector per input, or undefined. */
export function jinaEmbeddingRefusal(modelId: string): string | undefined {
  if (JINA_MULTI_VECTOR_MODELS.includes(modelId)) {
    return `jina model ${modelId} answers one vector per token (multi-vector output), ${multiVectorAdvice(modelId)}`;
  }
  if (JINA_SPARSE_MODELS.includes(modelId)) {
    return `jina model ${modelId} answers sparse vectors (a weight for each vocabulary token), which embedkit's embeddings, dense vectors of one length, do not carry; embed with a dense model such as jina-embeddings-v3.`;
  }
  return undefined;
}

/**
 * For an id the table does not know: text only, no input types (its task words are unknown, so none is
 * guessed), the smallest context of the family, any `dimensions` the API accepts, no length promise,
 * `normalized` sent only when asked, and no late chunking, which only v3 and v4 take: a
 * `contextualizedEmbedding` of such an id is refused when it is made, not by the API on every call.
 */
export function jinaEmbeddingProfile(modelId: string): JinaModelProfile {
  return (
    ownEntry(JINA_EMBEDDING_MODELS, modelId) ?? {
      capabilities: {
        maxInputsPerCall: JINA_MAX_INPUTS_PER_CALL,
        maxTokensPerInput: 8_192,
        dimensions: { min: 1, max: 2048 },
        inputTypes: [],
        outputTypes: OUTPUT_TYPES,
        modalities: ['text'],
        normalized: false,
        supportsParallelCalls: true,
      },
      tasks: {},
      taskWords: undefined,
      normalizedField: undefined,
      lateChunking: false,
    }
  );
}

/**
 * Late chunking embeds one document per call: the API joins the call's inputs into one sequence, so the
 * whole document must fit the model's context, and a call holds at most 512 chunks.
 */
export function jinaContextualizedLimits(capabilities: EmbeddingCapabilities): ContextualizedCapabilities {
  const context = capabilities.maxTokensPerInput ?? 8_192;
  return {
    maxDocumentsPerCall: 1,
    maxChunksPerCall: JINA_MAX_INPUTS_PER_CALL,
    maxTokensPerCall: context,
    maxTokensPerDocument: context,
  };
}

/** Jina documents no document limit for `/rerank`; 1,000 per call is a conservative guess (unverified). */
const RERANK_CAPABILITIES: RerankingCapabilities = {
  maxDocumentsPerCall: 1000,
  supportsParallelCalls: true,
};

/** Capabilities of the known rerankers; an unknown id gets the same. */
export const JINA_RERANKING_MODELS: Record<string, RerankingCapabilities> = {
  // The spec's `RerankerV3Request`: "Reranker v3 listwise model". It scores the documents of one call
  // against each other, so its scores do not compare across calls: `rerank` does not split its jobs.
  'jina-reranker-v3': { ...RERANK_CAPABILITIES, scoresCompareAcrossCalls: false },
  'jina-reranker-m0': RERANK_CAPABILITIES,
  'jina-reranker-v2-base-multilingual': RERANK_CAPABILITIES,
  // The other ids the spec's `TextRerankerRequest` takes (the request v2-base-multilingual sends). The
  // spec states no limit of theirs, so they get the same conservative one.
  'jina-reranker-v1-tiny-en': RERANK_CAPABILITIES,
  'jina-reranker-v1-turbo-en': RERANK_CAPABILITIES,
  'jina-reranker-v1-base-en': RERANK_CAPABILITIES,
  'jina-colbert-v1-en': RERANK_CAPABILITIES,
  'jina-colbert-v2': RERANK_CAPABILITIES,
};

/** The reranker's capabilities: the table's, or the same conservative limits for an unknown id. */
export function jinaRerankingCapabilities(modelId: string): RerankingCapabilities {
  return ownEntry(JINA_RERANKING_MODELS, modelId) ?? RERANK_CAPABILITIES;
}

/** Options under `providerOptions.jina` for embeddings and late chunking. */
export const jinaEmbeddingOptionsSchema = schema.strictObject({
  /**
   * A `task` word to send as is, e.g. `code2code.query`, for tasks no unified input type names.
   * Not together with `inputType`. Default: the word for `inputType`, or none.
   */
  task: schema.optional(schema.string({ minLength: 1 })),
  /** `normalized`: unit-length vectors. Default true, sent to the models whose schema has it. */
  normalized: schema.optional(schema.boolean()),
});

export type JinaEmbeddingOptions = schema.Infer<typeof jinaEmbeddingOptionsSchema>;

/** Options under `providerOptions.jina` for reranking. */
export const jinaRerankingOptionsSchema = schema.strictObject({
  /** `max_doc_length` (jina-reranker-v3 only): tokens of each document the model reads, 1–8192. Default: the server's, 2048. */
  maxDocumentLength: schema.optional(schema.integer({ minimum: 1, maximum: 8192 })),
});

export type JinaRerankingOptions = schema.Infer<typeof jinaRerankingOptionsSchema>;
