/**
 * A refused request's error says what to do in the replay's own words, and only those: the refusal is a
 * 418, which the engine read as a bad request and ended with core's hint for one ("Check the inputs and
 * options against the model's capabilities."), advice about the model for a request that no recording
 * matched. Each refusal now ends with what fits its mismatch (record again, fix the request, the base URL),
 * through both adapters, read by a provider's error parser as every real provider's reads it.
 */
import { embedMany } from '@embedkit/core';
import { createTransport, InvalidRequestError, type Transport } from '@embedkit/core/provider';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cassette, createReplayFetch } from '../src/index.js';
import { createReplayDispatcher } from '../src/node.js';
import { acmeModel } from './helpers.js';

const BASE_URL = 'https://api.acme.test/v1';

const CASSETTES: Cassette[] = [
  {
    version: 1,
    name: 'fish',
    source: 'constructed',
    call: { modelId: 'acme-1', inputs: ['carp'] },
    interactions: [
      {
        request: {
          method: 'POST',
          path: '/v1/embeddings',
          headers: { 'x-team': 'blue' },
          body: { model: 'acme-1', input: ['carp'] },
        },
        response: { status: 200, body: { data: [{ embedding: [0.5, 0.25] }] } },
      },
    ],
    expect: { embeddings: { count: 1, dimensions: 2 }, usage: null },
  },
];

/** Each kind of mismatch: where the call goes, what it sends, and the whole message it must end with. */
const MISMATCHES: {
  name: string;
  /** The base URL and the path after it. */
  base: string;
  path: string;
  input: string;
  headers?: Record<string, string>;
  message: string;
}[] = [
  {
    name: 'another body',
    base: BASE_URL,
    path: '/embeddings',
    input: 'cow',
    message:
      'acme API error 418: no recording matches POST /v1/embeddings with this body; the unused recording of this path (cassette "fish") differs in body.input[0]: recorded "carp", sent "cow" — record the cassette again if the request is meant to differ, or fix the request.',
  },
  {
    name: 'another query',
    base: BASE_URL,
    path: '/embeddings?compact=true',
    input: 'carp',
    message:
      'acme API error 418: no recording matches POST /v1/embeddings?compact=true with this body; cassette "fish" has it with the path /v1/embeddings: the query differs — record it again, or write the path as it is sent now.',
  },
  {
    name: 'another path',
    base: 'https://api.acme.test/gateway/v1',
    path: '/embeddings',
    input: 'carp',
    message:
      'acme API error 418: no recording matches POST /gateway/v1/embeddings: no recording is of this method and path, so the body was not compared; the recordings are of POST /v1/embeddings — check the base URL the requests go to, or record this path.',
  },
  {
    name: 'another origin',
    base: 'https://elsewhere.test/v1',
    path: '/embeddings',
    input: 'carp',
    message:
      'acme API error 418: no recording matches POST https://elsewhere.test/v1/embeddings: the recordings answer https://api.acme.test — check the base URL the requests go to, or record them at this origin.',
  },
  {
    name: 'other headers',
    base: BASE_URL,
    path: '/embeddings',
    input: 'carp',
    headers: { 'x-team': 'red' },
    message:
      'acme API error 418: no recording matches POST /v1/embeddings with these headers; cassette "fish" has it with other headers: header x-team: recorded "blue", sent "red" — record the cassette again if the request is meant to differ, or fix the request.',
  },
];

const dispatcherReplays: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const replay of dispatcherReplays) await replay.close();
});

const ADAPTERS: Record<string, () => Transport> = {
  createReplayFetch: () =>
    createTransport({ fetch: createReplayFetch(CASSETTES, { baseURL: BASE_URL }).fetch }),
  createReplayDispatcher: () => {
    const replay = createReplayDispatcher(BASE_URL, CASSETTES);
    dispatcherReplays.push(replay);
    return createTransport({ dispatcher: replay.dispatcher });
  },
};

describe('a refused request says what to do in the replay’s words only (bug: core’s hint for a bad request after them)', () => {
  for (const [adapter, transport] of Object.entries(ADAPTERS))
    for (const { name, base, path, input, headers, message } of MISMATCHES)
      it(`${name}, through ${adapter}`, async () => {
        const error = await embedMany({
          model: acmeModel(transport(), base, {
            path,
            headers: headers ?? { 'x-team': 'blue' },
            readsErrors: true,
          }),
          inputs: [input],
          maxRetries: 2,
        }).catch((caught: unknown) => caught);
        expect(InvalidRequestError.isInstance(error)).toBe(true);
        expect((error as InvalidRequestError).statusCode).toBe(418);
        expect((error as InvalidRequestError).isRetryable).toBe(false);
        expect((error as Error).message).toBe(message);
      });
});
