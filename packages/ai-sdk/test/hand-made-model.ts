import type { EmbeddingModelV4, EmbeddingModelV4CallOptions, EmbeddingModelV4Result } from '@ai-sdk/provider';

/** An AI SDK model (specification v4) whose `doEmbed` is the given function; it records every call. */
export function handMade(
  doEmbed: (options: EmbeddingModelV4CallOptions) => Promise<EmbeddingModelV4Result>,
  overrides: Partial<EmbeddingModelV4> = {},
): EmbeddingModelV4 & { calls: EmbeddingModelV4CallOptions[] } {
  const calls: EmbeddingModelV4CallOptions[] = [];
  return {
    specificationVersion: 'v4',
    provider: 'acme.embedding',
    modelId: 'acme-embed-1',
    maxEmbeddingsPerCall: 64,
    supportsParallelCalls: true,
    calls,
    doEmbed(options) {
      calls.push(options);
      return doEmbed(options);
    },
    ...overrides,
  };
}
