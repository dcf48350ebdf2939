/**
 * What the README promises for an id the capabilities table does not list, and for a key header given
 * in the `headers` setting: the lengths such a model may ask for, and which header carries the key.
 */
import { embedMany, InvalidArgumentError } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

describe('a model id the table does not list', () => {
  it('takes 256, 512, 1024 and 2048 as dimensions, and refuses a length between them before sending', async () => {
    const server = fakeFetch([]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-9-preview');
    const error = await embedMany({ model, inputs: ['a'], dimensions: 768 }).then(
      () => expect.unreachable('embedMany resolved; it had to be refused'),
      (caught: unknown) => caught,
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_argument', argument: 'dimensions' });
    expect((error as Error).message).toBe(
      'dimensions 768 is not allowed for voyage model voyage-9-preview; use 256, 512, 1024, 2048.',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('sends one of those lengths as output_dimension', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-9-preview', [[0.6, 0.8]]) }]);
    const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-9-preview');
    await model.doEmbed({ inputs: ['a'], dimensions: 2048 });
    expect(server.requests[0]!.body).toMatchObject({ model: 'voyage-9-preview', output_dimension: 2048 });
  });
});

describe('the headers setting', () => {
  it('replaces the Bearer key header when it names Authorization in capitals', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-3.5', [[0.6, 0.8]]) }]);
    await createVoyage({
      apiKey: TEST_KEY,
      headers: { Authorization: 'Bearer gateway-token-7' },
      fetch: server.fetch,
    })
      .embedding('voyage-3.5')
      .doEmbed({ inputs: ['a'] });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer gateway-token-7');
  });
});
