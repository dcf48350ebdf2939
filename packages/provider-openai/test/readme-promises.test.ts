/**
 * What the README promises for a key header given in the `headers` setting: in any letter case it
 * replaces the provider's own, so the request carries one value, never the key and the override joined.
 */
import { fakeFetch } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

// Fake key material only.
const KEY = 'test-key-openai-readme-8e2d';

describe('the headers setting', () => {
  it('replaces the Bearer key header when it names Authorization in capitals', async () => {
    const server = fakeFetch([
      {
        body: {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 1, total_tokens: 1 },
        },
      },
    ]);
    await createOpenAI({
      apiKey: KEY,
      headers: { Authorization: 'Bearer proxy-token-2' },
      fetch: server.fetch,
    })
      .embedding('text-embedding-3-small')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer proxy-token-2');
  });
});
