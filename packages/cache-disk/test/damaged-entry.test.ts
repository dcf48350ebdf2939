import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheMiddleware, embedMany, wrapEmbeddingModel } from '@embedkit/core';
import { encodeCheckedEmbedding } from '@embedkit/core/cache-check';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { DISK_CACHE_FILE } from '../src/index.js';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-damaged-');

// Found by flipping bytes inside the stored values of a real cache file: LMDB reads such a file without
// complaint (its pages are sound), and each value kept its header and length, so every damaged entry was
// served as the model's vector, with no request and no warning.
describe('an entry damaged in the file', () => {
  it('is a miss: the model is asked again, and its own vector is returned and stored over it', async () => {
    const path = directory();
    const inner = new MockEmbeddingModel({ dimensions: 64 });
    const first = store({ directory: path });
    const inputs = ['alpha', 'beta', 'gamma'];
    await embedMany({ model: wrapEmbeddingModel(inner, cacheMiddleware({ store: first })), inputs });
    await first.close();
    // One bit of the 10th element of "beta"'s value, found by its bytes (no expiry: the value is known).
    const file = join(path, DISK_CACHE_FILE);
    const bytes = readFileSync(file);
    const beta = Buffer.from(encodeCheckedEmbedding(hashVector('beta', 64)));
    const at = bytes.indexOf(beta);
    expect(at).toBeGreaterThan(0);
    bytes[at + 16 + 40]! ^= 0x04;
    writeFileSync(file, bytes);

    const warnings: unknown[] = [];
    const again = store({ directory: path, onWarning: (warning) => warnings.push(warning) });
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({ store: again, onWarning: (w) => warnings.push(w) }),
    );
    const answer = await embedMany({ model, inputs });
    expect(inner.calls.map((call) => call.inputs)).toEqual([inputs, ['beta']]);
    expect(answer.embeddings).toEqual(inputs.map((input) => hashVector(input, 64)));
    // Written again: the next call is served from the file.
    await embedMany({ model, inputs });
    expect(inner.calls).toHaveLength(2);
    expect(warnings).toEqual([]);
  });
});
