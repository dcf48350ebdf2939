import type { Cassette, CassetteInteraction } from '../src/index.js';

/** What a scrub writes in place of a secret or a credential. */
export const R = '[REDACTED]';

/** A recorded cassette of `interactions` for one input (`inputs`), named `name`. */
export function recording(interactions: CassetteInteraction[], name = 'recorded', inputs = ['x']): Cassette {
  return {
    version: 1,
    name,
    source: 'recorded',
    call: { modelId: 'm', inputs },
    interactions,
    expect: { embeddings: { count: 1, dimensions: 2 }, usage: null },
  };
}

/** One exchange: a request of `method` to `path` with `body`, answered with `response`. */
export const exchange = (
  body: unknown,
  response: CassetteInteraction['response'],
  path = '/v1/embeddings',
  method = 'POST',
): CassetteInteraction => ({ request: { method, path, body }, response });

export const OK = { status: 200, body: { ok: true } };

/**
 * A cassette of two interactions whose second request records `headers`, as they are (the format's
 * object, or a recorder's list).
 */
export const recordingHeaders = (headers: unknown): Cassette =>
  recording([
    { request: { method: 'POST', path: '/v1/e', body: { input: 'a' } }, response: OK },
    {
      request: {
        method: 'POST',
        path: '/v1/e',
        body: { input: 'b' },
        headers,
      } as CassetteInteraction['request'],
      response: OK,
    },
  ]);

/** What `run` throws; the test fails when it throws nothing. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('it did not throw');
}
