import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACME_VECTORS, acmeCassettes } from '../mutants/cassettes.js';
import { createAcmeFetchModel } from '../mutants/fetch-reference-provider.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { loadCassettes, recordCassette, replayCassette, scrubCassette } from '../src/cassettes.js';
import { expectFailure } from '../src/describe.js';
import { TRANSPORT_KINDS } from '../src/interceptor.js';
import type { Cassette, DescribeEmbeddingProviderOptions } from '../src/types.js';

const options: DescribeEmbeddingProviderOptions = {
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
};

const vectors = ACME_VECTORS;

function cassette(overrides: Partial<Cassette> = {}): Cassette {
  return { ...structuredClone(acmeCassettes[0]!), ...overrides };
}

describe('cassette replay', () => {
  for (const kind of TRANSPORT_KINDS) {
    it(`replays a cassette and checks its numbers [${kind}]`, async () => {
      await replayCassette(options, cassette(), kind);
    });

    it(`names each field and item that differs from the recording [${kind}]`, async () => {
      const changed = cassette();
      const body = changed.interactions[0]!.request.body as { input_type: string; input: string[] };
      body.input_type = 'passage';
      body.input[1] = 'cats';
      const failure = replayCassette(options, changed, kind);
      await expect(failure).rejects.toThrow(/body\.input\[1\]: recorded "cats", sent "animals"/);
      await expect(replayCassette(options, changed, kind)).rejects.toThrow(
        /body\.input_type: recorded "passage", sent "query"/,
      );
    });

    it(`replays a base64 recording in floats for a provider that asks for floats [${kind}]`, async () => {
      await replayCassette({ ...options, createModel: createAcmeFetchModel }, cassette(), kind);
    });

    it(`checks the waits between retried interactions [${kind}]`, async () => {
      const limited = structuredClone(acmeCassettes[1]!);
      await replayCassette(options, limited, kind);
      limited.expect.waitsMs = [2_000];
      await expect(replayCassette(options, limited, kind)).rejects.toThrow(/the waits between interactions/);
    });

    it(`fails when an interaction is never used [${kind}]`, async () => {
      const extra = cassette();
      extra.interactions.push(structuredClone(extra.interactions[0]!));
      await expect(replayCassette(options, extra, kind)).rejects.toThrow(
        /every interaction of the cassette was used/,
      );
    });

    it(`fails when the decoded numbers differ from the expectation [${kind}]`, async () => {
      const wrong = cassette({
        expect: {
          embeddings: { count: 2, dimensions: 8, prefixes: [[0.5, -0.5, 0.25, 0.5]] },
          usage: { inputTokens: 2 },
        },
      });
      await expect(replayCassette(options, wrong, kind)).rejects.toThrow(/vector 0 value 3/);
    });

    it(`checks an expected error's class and code [${kind}]`, async () => {
      const failing = cassette({
        expect: { error: { name: 'AuthenticationError', code: 'authentication', statusCode: 401 } },
        interactions: [
          {
            ...cassette().interactions[0]!,
            response: { status: 401, body: { error: { message: 'bad key', code: 'invalid_api_key' } } },
          },
        ],
      });
      await replayCassette(options, failing, kind);
      const mislabelled = { ...failing, expect: { error: { name: 'RateLimitError', code: 'rate_limited' } } };
      await expect(replayCassette(options, mislabelled, kind)).rejects.toThrow(/AuthenticationError/);
    });
  }

  it('loads a directory of cassettes and rejects an unknown format version', () => {
    const directory = mkdtempSync(join(tmpdir(), 'embedkit-cassettes-'));
    writeFileSync(join(directory, 'b.json'), JSON.stringify(cassette({ name: 'b' })));
    writeFileSync(join(directory, 'a.json'), JSON.stringify(cassette({ name: 'a' })));
    writeFileSync(join(directory, 'notes.txt'), 'not a cassette');
    expect(loadCassettes(directory).map((item) => item.name)).toEqual(['a', 'b']);
    writeFileSync(join(directory, 'c.json'), JSON.stringify({ ...cassette(), version: 2 }));
    expect(() => loadCassettes(directory)).toThrow(/unknown cassette version 2/);
  });
});

describe('record mode', () => {
  const key = 'sk-fake-recording-key-abcdefghijklmnopqr';

  it('scrubs the key from bodies and drops credential headers', () => {
    const dirty = cassette();
    dirty.interactions[0]!.response.headers = {
      'content-type': 'application/json',
      'set-cookie': 'session=1',
      'openai-organization': 'org-1',
    };
    dirty.interactions[0]!.response.body = { error: { message: `Incorrect API key provided: ${key}` } };
    const clean = scrubCassette(dirty, [key]);
    expect(JSON.stringify(clean)).not.toContain(key);
    expect(clean.interactions[0]!.response.headers).toEqual({ 'content-type': 'application/json' });
    expect(clean.interactions[0]!.response.body).toEqual({
      error: { message: 'Incorrect API key provided: [REDACTED]' },
    });
  });

  it('records the live exchange through the given fetch and writes a scrubbed, replayable cassette', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'embedkit-record-'));
    const file = join(directory, 'live.json');
    const original = cassette();
    const seenKeys: string[] = [];
    const liveFetch = async (_input: string, init: RequestInit) => {
      seenKeys.push(new Headers(init.headers).get('authorization') ?? '');
      return new Response(
        JSON.stringify({ ...(original.interactions[0]!.response.body as object), echo: key }),
        {
          status: 200,
          headers: { 'content-type': 'application/json', 'x-request-id': 'req_live' },
        },
      );
    };
    const recorded = await recordCassette(options, { ...original, file }, key, liveFetch);
    expect(seenKeys).toEqual([`Bearer ${key}`]);
    const written = readFileSync(file, 'utf8');
    expect(written).not.toContain(key);
    expect(recorded.source).toBe('recorded');
    expect(recorded.interactions[0]!.request.body).toEqual(original.interactions[0]!.request.body);
    expect(recorded.interactions[0]!.response.headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req_live',
    });
    expect(recorded.expect).toEqual({
      embeddings: {
        count: 2,
        dimensions: 8,
        prefixes: vectors.map((vector) => vector.slice(0, 4).map(Math.fround)),
      },
      usage: { inputTokens: 2 },
    });
    await replayCassette(options, JSON.parse(written) as Cassette, 'undici');
  });
});

describe('expected failures', () => {
  it('resolve while the scenario fails', async () => {
    await expectFailure('x', 'known bug', async () => {
      throw new Error('still broken');
    });
  });

  it('fail the run once the scenario passes', async () => {
    await expect(expectFailure('x', 'known bug', async () => {})).rejects.toThrow(
      /x is listed in expectedFailures \("known bug"\) but passes now/,
    );
  });
});
