/**
 * Record mode as a provider author runs it (`EMBEDKIT_RECORD=1 ACME_KEY=… npx vitest run`): the generated
 * scenarios first, each in a network lockdown, then the cassette recorded from a loopback server
 * standing in for the live API. The recording must reach it, after any number of scenarios.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acmeCassettes } from '../mutants/cassettes.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { describeEmbeddingProvider } from '../src/describe.js';
import type { Cassette } from '../src/types.js';
import { startLiveServer } from './acme-live-server.js';

const KEY = 'fake-recording-key-not-real-0123456789';
const live = await startLiveServer({ key: KEY });
const directory = mkdtempSync(join(tmpdir(), 'embedkit-record-mode-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const file = join(directory, 'two-inputs.json');
const constructed: Cassette = { ...structuredClone(acmeCassettes[0]!), name: 'two inputs' };
writeFileSync(file, `${JSON.stringify(constructed, null, 2)}\n`);

const environment = {
  EMBEDKIT_RECORD: process.env.EMBEDKIT_RECORD,
  ACME_LIVE_KEY: process.env.ACME_LIVE_KEY,
};
process.env.EMBEDKIT_RECORD = '1';
process.env.ACME_LIVE_KEY = KEY;
try {
  describeEmbeddingProvider({
    name: 'acme live',
    baseURL: live.baseURL,
    modelId: 'acme-embed-1',
    createModel: createAcmeModel,
    wire: acmeWire,
    cassettes: directory,
    recordApiKeyEnvironmentVariable: 'ACME_LIVE_KEY',
    rerunWithTinyBatches: false,
  });
} finally {
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

describe('after the scenarios and the recording', () => {
  afterAll(() => live.close());

  it('the live API got exactly the cassette’s call, with the real key, and nothing from the scenarios', () => {
    expect(
      live.requests.map((request) => [request.method, request.url, request.headers.authorization]),
    ).toEqual([['POST', '/v1/embeddings', `Bearer ${KEY}`]]);
  });

  it('the cassette holds the live exchange, scrubbed, and loads and replays as any other', () => {
    const written = readFileSync(file, 'utf8');
    expect(written).not.toContain(KEY);
    const cassette = JSON.parse(written) as Cassette;
    expect(cassette.source).toBe('recorded');
    expect(cassette.interactions).toHaveLength(1);
    expect(cassette.interactions[0]!.request.body).toEqual(constructed.interactions[0]!.request.body);
    expect(cassette.interactions[0]!.response.status).toBe(200);
  });
});
