/**
 * Failures named by what went wrong: a contextualized answer whose chunk vectors come back in another
 * order names the chunk each place holds, as the documents' check names documents; a cassette replay
 * names a request the cassette does not hold, as every other scenario does.
 */
import { describe, expect, it } from 'vitest';
import { acmeCassettes } from '../mutants/cassettes.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { replayCassette } from '../src/cassettes.js';
import { TRANSPORT_KINDS } from '../src/interceptor.js';
import type { Cassette, DescribeEmbeddingProviderOptions } from '../src/types.js';
import { failureMessages } from './mutant-suites.js';

describe("a contextualized answer listing a document's chunks out of order", () => {
  it('names the chunk whose vector a place holds when the provider ignores each chunk index', async () => {
    const messages = await failureMessages('ignores-chunk-index', [
      'ctx-chunks-shuffled',
      'tiny-batches/ctx-chunks-shuffled',
    ]);
    expect(messages.map((text) => text.replace(/ \(this scenario catches: .+\)$/, ''))).toEqual([
      "ctx-chunks-shuffled [undici]: chunks out of order: document 0 chunk 0 holds chunk 3's vector",
      "ctx-chunks-shuffled [fetch]: chunks out of order: document 0 chunk 0 holds chunk 3's vector",
      "tiny-batches/ctx-chunks-shuffled [undici]: chunks out of order: document 0 chunk 0 holds chunk 3's vector",
      "tiny-batches/ctx-chunks-shuffled [fetch]: chunks out of order: document 0 chunk 0 holds chunk 3's vector",
    ]);
  });
});

const acme: DescribeEmbeddingProviderOptions = {
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
};

/** The message replaying `cassette` through `kind` fails with. */
async function replayFailure(cassette: Cassette, kind: (typeof TRANSPORT_KINDS)[number]): Promise<string> {
  try {
    await replayCassette(acme, cassette, kind);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the replay passed');
}

describe('a cassette replay given a request the cassette does not hold', () => {
  for (const kind of TRANSPORT_KINDS) {
    it(`names a request sent to a path the cassette does not hold [${kind}]`, async () => {
      const moved = structuredClone(acmeCassettes[0]!);
      moved.interactions[0]!.request.path = '/v1/embed';
      expect(await replayFailure(moved, kind)).toBe(
        `request 1 of 1 (POST /v1/embeddings) differs from the cassette's interactions[0] (POST /v1/embed): path: recorded "/v1/embed", sent "/v1/embeddings"`,
      );
    });

    it(`names the requests beyond the recorded ones [${kind}]`, async () => {
      const failed: Cassette = {
        ...structuredClone(acmeCassettes[0]!),
        expect: { error: { name: 'ServerError', code: 'server_error', statusCode: 500 } },
      };
      failed.call.maxRetries = 2;
      failed.interactions[0]!.response = {
        status: 500,
        headers: { 'content-type': 'application/json', 'retry-after': '0' },
        body: { error: { message: 'the server failed' } },
      };
      expect(await replayFailure(failed, kind)).toBe(
        'request 2 of 3 (POST /v1/embeddings) was not expected: the scenario answers 1 (POST /v1/embeddings at https://api.acme.test); nor were request 3 of 3 (POST /v1/embeddings)',
      );
    });
  }
});

describe('a cassette replay whose recorded header differs from the one sent only in its secret part', () => {
  for (const kind of TRANSPORT_KINDS)
    it(`says the values differ there rather than showing two identical redacted texts [${kind}]`, async () => {
      const cassette = structuredClone(acmeCassettes[0]!);
      // A hand-written recording of the whole header, with another key than the scenario's.
      cassette.interactions[0]!.request.headers = { authorization: 'Bearer sk-fake-not-real-recorded-0000' };
      expect(await replayFailure(cassette, kind)).toBe(
        `request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): header authorization differs only in its secret part: recorded and sent both read "Bearer [REDACTED]" redacted`,
      );
    });
});
