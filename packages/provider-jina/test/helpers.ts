/** A fake key in Jina's form (`jina_…`); never a real secret. */
export const TEST_KEY = 'jina_test_not_a_real_key';

export { fakeFetch } from '@embedkit/core/testing';

/** A `/v1/embeddings` success body holding the given vectors (base64 strings or number arrays) in order. */
export function embeddingsBody(model: string, vectors: (string | number[])[], totalTokens = 10) {
  return {
    model,
    object: 'list',
    usage: { total_tokens: totalTokens, prompt_tokens: totalTokens },
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
  };
}
