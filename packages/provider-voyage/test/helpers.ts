/** A fake key in the Voyage dashboard form; never a real secret. */
export const TEST_KEY = 'pa-test-not-a-real-key';
/** A fake Atlas model API key (they begin `al-`). */
export const ATLAS_TEST_KEY = 'al-test-not-a-real-key';

export { fakeFetch } from '@embedkit/core/testing';

/** An `/embeddings`-shaped success body holding the given base64 vectors in order. */
export function embeddingsBody(model: string, vectors: (string | number[])[], totalTokens = 10) {
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', embedding, index })),
    model,
    usage: { total_tokens: totalTokens },
  };
}
