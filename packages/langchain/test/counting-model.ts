import { MockEmbeddingModel } from '@embedkit/core/testing';

/** A model that records the most calls it had in flight; each call stays open for a few event-loop turns. */
export function countingModel(): { model: MockEmbeddingModel; maxInFlight: () => number } {
  let inFlight = 0;
  let most = 0;
  const model = new MockEmbeddingModel({
    dimensions: 2,
    beforeCall: async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    },
  });
  return { model, maxInFlight: () => most };
}
