import { type EmbeddingCapabilities, ownEntry, schema } from '@embedkit/core/provider';

/** Known OpenAI embedding models; any other id is accepted with conservative capabilities. */
export type OpenAIEmbeddingModelId =
  | 'text-embedding-3-small'
  | 'text-embedding-3-large'
  | 'text-embedding-ada-002'
  | (string & {});

/** OpenAI accepts at most 2,048 inputs and 300,000 summed tokens per request, and 8,192 tokens per input. */
const OPENAI_LIMITS = { maxInputsPerCall: 2048, maxTokensPerCall: 300_000, maxTokensPerInput: 8192 } as const;

const textOnly = {
  inputTypes: [],
  outputTypes: ['float'],
  modalities: ['text'],
  normalized: true,
  supportsParallelCalls: true,
} as const satisfies Partial<EmbeddingCapabilities>;

/** Capabilities of the known models; `dimensions` only exists on the v3 models. */
export const OPENAI_MODELS: Record<string, EmbeddingCapabilities> = {
  'text-embedding-3-small': {
    ...OPENAI_LIMITS,
    ...textOnly,
    defaultDimensions: 1536,
    dimensions: { min: 1, max: 1536 },
  },
  'text-embedding-3-large': {
    ...OPENAI_LIMITS,
    ...textOnly,
    defaultDimensions: 3072,
    dimensions: { min: 1, max: 3072 },
  },
  'text-embedding-ada-002': { ...OPENAI_LIMITS, ...textOnly, defaultDimensions: 1536 },
};

/** For an id the table does not know: OpenAI's request limits, any dimensions the API may accept, no default length. */
export function openAICapabilities(modelId: string): EmbeddingCapabilities {
  return (
    ownEntry(OPENAI_MODELS, modelId) ?? { ...OPENAI_LIMITS, ...textOnly, dimensions: { min: 1, max: 3072 } }
  );
}

/** Capabilities assumed for an OpenAI-compatible server unless you give your own. */
export const COMPATIBLE_DEFAULT_CAPABILITIES: EmbeddingCapabilities = {
  // Servers differ (TEI defaults to 32 per request); a 413 or "batch too large" answer makes the engine bisect.
  maxInputsPerCall: 128,
  inputTypes: [],
  outputTypes: ['float'],
  modalities: ['text'],
  normalized: false,
  supportsParallelCalls: true,
};

/** Options under `providerOptions.openai` (or under the compatible provider's name). */
export const openAIProviderOptionsSchema = schema.strictObject({
  /** End-user id OpenAI uses for abuse monitoring. */
  user: schema.optional(schema.string({ minLength: 1 })),
});

export type OpenAIProviderOptions = schema.Infer<typeof openAIProviderOptionsSchema>;
