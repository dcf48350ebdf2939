import { type EmbeddingCapabilities, type InputType, ownEntry, schema } from '@embedkit/core/provider';

/** Known Gemini embedding models; any other id is accepted with the Gemini API's request limits. */
export type GeminiEmbeddingModelId = 'gemini-embedding-001' | (string & {});

/** Gemini's `taskType` for each unified input type it has a word for. */
export const GEMINI_TASK_TYPES = {
  query: 'RETRIEVAL_QUERY',
  document: 'RETRIEVAL_DOCUMENT',
  similarity: 'SEMANTIC_SIMILARITY',
  classification: 'CLASSIFICATION',
  clustering: 'CLUSTERING',
  'question-answering': 'QUESTION_ANSWERING',
  'fact-verification': 'FACT_VERIFICATION',
  'code-query': 'CODE_RETRIEVAL_QUERY',
} as const satisfies Partial<Record<InputType, string>>;

export type GeminiTaskType = (typeof GEMINI_TASK_TYPES)[keyof typeof GEMINI_TASK_TYPES];

/** `:batchEmbedContents` takes at most 100 requests ("at most 100 requests can be in one batch"). */
export const GEMINI_MAX_INPUTS_PER_CALL = 100;

/** gemini-embedding-001 returns 3,072 values, L2-normalized only at that length. */
export const GEMINI_FULL_DIMENSIONS = 3072;

const taskInputTypes = Object.keys(GEMINI_TASK_TYPES) as InputType[];

/** Capabilities of the known models. */
export const GEMINI_MODELS: Record<string, EmbeddingCapabilities> = {
  'gemini-embedding-001': {
    maxInputsPerCall: GEMINI_MAX_INPUTS_PER_CALL,
    maxTokensPerInput: 2048,
    defaultDimensions: GEMINI_FULL_DIMENSIONS,
    dimensions: { min: 128, max: GEMINI_FULL_DIMENSIONS },
    inputTypes: taskInputTypes,
    outputTypes: ['float'],
    modalities: ['text'],
    // Below 3,072 values the API's vectors are not unit length; the model re-normalizes them.
    normalized: true,
    supportsParallelCalls: true,
  },
};

/** For an id the table does not know: the Gemini API's request limits, the API decides the rest. */
export function geminiCapabilities(modelId: string): EmbeddingCapabilities {
  return (
    ownEntry(GEMINI_MODELS, modelId) ?? {
      maxInputsPerCall: GEMINI_MAX_INPUTS_PER_CALL,
      dimensions: { min: 1, max: GEMINI_FULL_DIMENSIONS },
      inputTypes: taskInputTypes,
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: true,
      supportsParallelCalls: true,
    }
  );
}

/** Options under `providerOptions.gemini`. */
export const geminiProviderOptionsSchema = schema.strictObject({
  /** L2-normalize vectors shorter than 3,072 values on the client. Default true. */
  normalize: schema.optional(schema.boolean()),
});

export type GeminiProviderOptions = schema.Infer<typeof geminiProviderOptionsSchema>;
