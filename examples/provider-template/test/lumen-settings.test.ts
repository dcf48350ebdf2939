import { InvalidResponseError } from '@embedkit/core';
import { fakeFetch, rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createLumen } from '../src/index.js';

const KEY = 'lumen-test-not-a-real-key';

// Settings the conformance suite does not exercise: each accepted setting must reach the request.
describe('createLumen settings', () => {
  it('holds an answer to maxResponseBytes', async () => {
    const { fetch } = fakeFetch([{ body: { vectors: [Array(64).fill(0.125)], tokens: 1 } }]);
    const model = createLumen({ apiKey: KEY, fetch, maxResponseBytes: 100 }).embedding('lumen-embed-1');
    const error = await rejectionOf(model.doEmbed({ inputs: ['a'] }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'lumen sent a response larger than 100 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });
});
