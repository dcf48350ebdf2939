/**
 * What the README promises for a key header given in the `headers` setting: in any letter case it
 * replaces the provider's own, so the request carries one value, never the key and the override joined.
 */
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';
import { FAKE_KEY, fakeFetch, values } from './fake-fetch.js';

describe('the headers setting', () => {
  it('replaces the x-goog-api-key header when it names it in capitals', async () => {
    const { fetch, sent } = fakeFetch([{ body: { embedding: { values: values(3072, [1]) } } }]);
    await createGemini({ apiKey: FAKE_KEY, headers: { 'X-Goog-Api-Key': 'gateway-key-0002' }, fetch })
      .embedding('gemini-embedding-001')
      .doEmbed({ inputs: ['a'] });
    expect(sent[0]!.headers['x-goog-api-key']).toBe('gateway-key-0002');
  });
});
