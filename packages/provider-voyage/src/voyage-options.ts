import {
  type ContextualizedCapabilities,
  type EmbeddingCapabilities,
  type OutputType,
  ownEntry,
  type RerankingCapabilities,
  schema,
} from '@embedkit/core/provider';

/** Voyage text embedding models; any other id is accepted with conservative limits. */
export type VoyageEmbeddingModelId =
  | 'voyage-4-large'
  | 'voyage-4'
  | 'voyage-4-lite'
  | 'voyage-3.5'
  | 'voyage-3.5-lite'
  | 'voyage-3-large'
  | 'voyage-code-3'
  | 'voyage-finance-2'
  | 'voyage-law-2'
  | 'voyage-code-2'
  | 'voyage-2'
  | 'voyage-3'
  | 'voyage-3-lite'
  | 'voyage-large-2'
  | 'voyage-multilingual-2'
  | 'voyage-large-2-instruct'
  | (string & {});

/** Voyage contextualized chunk embedding models. */
export type VoyageContextualizedModelId = 'voyage-context-3' | 'voyage-context-4' | (string & {});

/** Voyage multimodal (text + image) embedding models. */
export type VoyageMultimodalModelId = 'voyage-multimodal-3' | 'voyage-multimodal-3.5' | (string & {});

/** Voyage rerankers. */
export type VoyageRerankingModelId =
  | 'rerank-2.5'
  | 'rerank-2.5-lite'
  | 'rerank-2'
  | 'rerank-2-lite'
  | 'rerank-1'
  | 'rerank-lite-1'
  | (string & {});

/** `output_dimension` accepts 256, 512, 1024 and 2048 on the models that have it (Atlas spec enum). */
const FLEXIBLE_DIMENSIONS = [256, 512, 1024, 2048] as const;
const ALL_OUTPUT_TYPES: readonly OutputType[] = ['float', 'int8', 'uint8', 'binary', 'ubinary'];
const FLOAT_ONLY: readonly OutputType[] = ['float'];

const common = {
  // The API takes at most 1,000 inputs per request on every embedding endpoint.
  maxInputsPerCall: 1000,
  // Voyage prepends a retrieval prompt for `query` and `document`; it has no other input types.
  inputTypes: ['query', 'document'],
  modalities: ['text'],
  // Voyage FAQ: every Voyage vector has length 1.
  normalized: true,
  supportsParallelCalls: true,
} as const satisfies Partial<EmbeddingCapabilities>;

/** A model with `output_dimension` and quantized `output_dtype`s (Atlas spec `x-supported-models`). */
function flexible(maxTokensPerCall: number, maxTokensPerInput = 32_000): EmbeddingCapabilities {
  return {
    ...common,
    maxTokensPerCall,
    maxTokensPerInput,
    defaultDimensions: 1024,
    dimensions: FLEXIBLE_DIMENSIONS,
    outputTypes: ALL_OUTPUT_TYPES,
  };
}

/** A model with a fixed 1,024-value float vector. */
function fixed(maxTokensPerCall: number, maxTokensPerInput: number): EmbeddingCapabilities {
  return { ...common, maxTokensPerCall, maxTokensPerInput, defaultDimensions: 1024, outputTypes: FLOAT_ONLY };
}

/**
 * The table with each model that lacks a quantized type naming the models of the table that return it,
 * so that voyage-finance-2's refusal of `int8` says where to go instead.
 */
function withAlternatives(
  models: Record<string, EmbeddingCapabilities>,
): Record<string, EmbeddingCapabilities> {
  const returning = (type: OutputType) =>
    Object.keys(models).filter((modelId) => models[modelId]!.outputTypes.includes(type));
  return Object.fromEntries(
    Object.entries(models).map(([modelId, capabilities]) => {
      const lacking = ALL_OUTPUT_TYPES.filter((type) => !capabilities.outputTypes.includes(type));
      if (lacking.length === 0) return [modelId, capabilities];
      const outputTypeAlternatives = Object.fromEntries(lacking.map((type) => [type, returning(type)]));
      return [modelId, { ...capabilities, outputTypeAlternatives }];
    }),
  );
}

/**
 * Capabilities of the known text models. Tokens per request: 1M for the lite models, 320K for voyage-4
 * and voyage-3.5, 120K for the large, code, finance and law models (Voyage API reference).
 */
export const VOYAGE_EMBEDDING_MODELS: Record<string, EmbeddingCapabilities> = withAlternatives({
  'voyage-4-large': flexible(120_000),
  'voyage-4': flexible(320_000),
  'voyage-4-lite': flexible(1_000_000),
  'voyage-3.5': flexible(320_000),
  'voyage-3.5-lite': flexible(1_000_000),
  'voyage-3-large': flexible(120_000),
  'voyage-code-3': flexible(120_000),
  'voyage-finance-2': fixed(120_000, 32_000),
  'voyage-law-2': fixed(120_000, 16_000),
  // An older id the Atlas spec's model enum still lists. Float only and a fixed length: the Atlas spec
  // names it among neither the models with `output_dimension` nor those with a quantized `output_dtype`.
  // 120K tokens per request: the TS SDK spec. No source here gives its vector length or its context, so
  // neither is promised (as for an unknown id).
  'voyage-code-2': { ...common, maxTokensPerCall: 120_000, outputTypes: FLOAT_ONLY },
  // An older id the specs still name: 320K tokens per request (Voyage's and the Atlas specs). Float only
  // and a fixed length: the specs list it among neither the models with `output_dimension` nor those
  // with a quantized `output_dtype`. No source here gives its vector length or its context.
  'voyage-2': { ...common, maxTokensPerCall: 320_000, outputTypes: FLOAT_ONLY },
  // Older ids only Voyage's own spec and the TS SDK's still name (the Atlas enum lists none of them), which
  // agree where both name one: 320K tokens per request for voyage-3, 1M for voyage-3-lite, 120K for
  // voyage-large-2, voyage-multilingual-2 and voyage-large-2-instruct. Float only and a fixed length:
  // neither spec lists them among the models with `output_dimension` or a quantized `output_dtype`. No
  // source here gives their vector length or their context. Those two specs also state at most 128 inputs
  // per request, for every model they name (voyage-3-large and voyage-code-3 included); the API-wide 1,000
  // of the Atlas spec and the API reference stands, as for every other id here.
  'voyage-3': { ...common, maxTokensPerCall: 320_000, outputTypes: FLOAT_ONLY },
  'voyage-3-lite': { ...common, maxTokensPerCall: 1_000_000, outputTypes: FLOAT_ONLY },
  'voyage-large-2': { ...common, maxTokensPerCall: 120_000, outputTypes: FLOAT_ONLY },
  'voyage-multilingual-2': { ...common, maxTokensPerCall: 120_000, outputTypes: FLOAT_ONLY },
  'voyage-large-2-instruct': { ...common, maxTokensPerCall: 120_000, outputTypes: FLOAT_ONLY },
});

/**
 * For an id the table does not know: the smallest documented token budget (so calls are never too large),
 * and every dimension and output type the API has (the API rejects what the model lacks).
 */
export function voyageEmbeddingCapabilities(modelId: string): EmbeddingCapabilities {
  return (
    ownEntry(VOYAGE_EMBEDDING_MODELS, modelId) ?? {
      ...common,
      maxTokensPerCall: 120_000,
      dimensions: FLEXIBLE_DIMENSIONS,
      outputTypes: ALL_OUTPUT_TYPES,
    }
  );
}

/**
 * voyage-context-3 / -4: 1,000 documents, 16,000 chunks and 32,000 tokens per request; 32,000 tokens of
 * context per document; `output_dimension` 256–2048 (default 1024) and every `output_dtype`. The Atlas
 * spec, the newest source, allows 120,000 tokens per request only with `enable_auto_chunking` and 32,000
 * otherwise (the TS SDK spec's 120,000 carries no such condition): these are the limits without it, and
 * `VOYAGE_AUTO_CHUNKING_LIMITS` those with it.
 */
export const VOYAGE_CONTEXTUALIZED_LIMITS: ContextualizedCapabilities = {
  maxDocumentsPerCall: 1000,
  maxChunksPerCall: 16_000,
  maxTokensPerCall: 32_000,
  maxTokensPerDocument: 32_000,
};

/**
 * With `autoChunking` (`enable_auto_chunking`): 120,000 tokens per request (Atlas spec). The spec's
 * 32,000 per document is stated for an inner list of chunks, which auto-chunking does not send (`inputs`
 * is then a flat list of whole documents); it states no limit of its own for such a document, so the
 * request's 120,000 is the one held to, and the API has the last word on a longer one.
 */
export const VOYAGE_AUTO_CHUNKING_LIMITS: ContextualizedCapabilities = {
  ...VOYAGE_CONTEXTUALIZED_LIMITS,
  maxTokensPerCall: 120_000,
  maxTokensPerDocument: 120_000,
};

/**
 * As an `EmbeddingModel` (each input its own one-chunk document, never auto-chunked), a contextualized
 * model has these: 32,000 tokens per request, as above.
 */
export const VOYAGE_CONTEXTUALIZED_CAPABILITIES: EmbeddingCapabilities = flexible(32_000);

/**
 * Multimodal models: 1,000 inputs and 320,000 tokens per request, 32,000 tokens per input, an image
 * counting one token per 560 pixels (API reference). voyage-multimodal-3 has a fixed 1,024-value vector;
 * voyage-multimodal-3.5 also takes `output_dimension` 256–2048.
 */
export const VOYAGE_MULTIMODAL_MODELS: Record<string, EmbeddingCapabilities> = {
  'voyage-multimodal-3': { ...fixed(320_000, 32_000), modalities: ['text', 'image'] },
  'voyage-multimodal-3.5': {
    ...fixed(320_000, 32_000),
    modalities: ['text', 'image'],
    dimensions: FLEXIBLE_DIMENSIONS,
  },
};

export function voyageMultimodalCapabilities(modelId: string): EmbeddingCapabilities {
  return (
    ownEntry(VOYAGE_MULTIMODAL_MODELS, modelId) ?? {
      ...fixed(320_000, 32_000),
      modalities: ['text', 'image'],
    }
  );
}

/**
 * Rerankers: at most 1,000 documents per request. Query limit 8,000 / 4,000 / 2,000 / 1,000 tokens and
 * query + one document 32,000 / 16,000 / 8,000 / 4,000 tokens; query tokens × documents + document
 * tokens at most 600K (2.5, 2.5-lite, 2, 2-lite) or 300K (1, lite-1).
 */
export const VOYAGE_RERANKING_MODELS: Record<string, RerankingCapabilities> = {
  'rerank-2.5': rerankLimits(8_000, 32_000, 600_000),
  'rerank-2.5-lite': rerankLimits(8_000, 32_000, 600_000),
  'rerank-2': rerankLimits(4_000, 16_000, 600_000),
  'rerank-2-lite': rerankLimits(2_000, 8_000, 600_000),
  'rerank-1': rerankLimits(2_000, 8_000, 300_000),
  'rerank-lite-1': rerankLimits(1_000, 4_000, 300_000),
};

function rerankLimits(query: number, queryAndDocument: number, total: number): RerankingCapabilities {
  return {
    maxDocumentsPerCall: 1000,
    maxTokensPerQuery: query,
    maxTokensPerDocument: queryAndDocument,
    maxTokensPerCall: total,
    supportsParallelCalls: true,
  };
}

export function voyageRerankingCapabilities(modelId: string): RerankingCapabilities {
  return ownEntry(VOYAGE_RERANKING_MODELS, modelId) ?? rerankLimits(1_000, 4_000, 300_000);
}

/** Options under `providerOptions.voyage` for text and multimodal embeddings: none yet. */
export const voyageEmbeddingOptionsSchema = schema.strictObject({});

export type VoyageEmbeddingOptions = schema.Infer<typeof voyageEmbeddingOptionsSchema>;

/** Options under `providerOptions.voyage` for contextualized embeddings. */
export const voyageContextualizedOptionsSchema = schema.strictObject({
  /**
   * Let Voyage chunk each document (`enable_auto_chunking`): every document must then be one string,
   * `inputType` must be `document`, and the result carries the chunk texts. Default false.
   */
  autoChunking: schema.optional(schema.boolean()),
  /** Target chunk size in tokens with auto-chunking (`chunk_size`, at most 32,000). Default: the server's, 512. */
  chunkSize: schema.optional(schema.integer({ minimum: 1, maximum: 32_000 })),
  /** Overlap between chunks in tokens with auto-chunking (`chunk_overlap`, less than `chunkSize`). Default 0. */
  chunkOverlap: schema.optional(schema.integer({ minimum: 0 })),
});

export type VoyageContextualizedOptions = schema.Infer<typeof voyageContextualizedOptionsSchema>;

/** Options under `providerOptions.voyage` for reranking: none yet. */
export const voyageRerankingOptionsSchema = schema.strictObject({});

export type VoyageRerankingOptions = schema.Infer<typeof voyageRerankingOptionsSchema>;
