import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyDifferences as replayBodyDifferences } from '@embedkit/replay';
import { afterEach, describe, expect, it } from 'vitest';
import { ACME_VECTORS, acmeCassettes } from '../mutants/cassettes.js';
import { createAcmeFetchModel } from '../mutants/fetch-reference-provider.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import {
  bodyDifferences,
  loadCassettes,
  recordCassette,
  replayCassette,
  scrubCassette,
} from '../src/cassettes.js';
import { expectFailure, recordMode, recordModePlan } from '../src/describe.js';
import { TRANSPORT_KINDS } from '../src/interceptor.js';
import type { Cassette, DescribeEmbeddingProviderOptions } from '../src/types.js';
import { type LiveServerOptions, startLiveServer } from './acme-live-server.js';

const options: DescribeEmbeddingProviderOptions = {
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
};

const vectors = ACME_VECTORS;

/** The temporary directories of this file's tests: each is removed after its test, whether it passed or not. */
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A new, empty directory in the system's temporary directory, named from `prefix`. */
function temporaryDirectory(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

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

  it('uses the one field-by-field differ of @embedkit/replay', () => {
    expect(bodyDifferences).toBe(replayBodyDifferences);
  });

  it('says where it looked for a cassette directory that is not there', () => {
    expect(() => loadCassettes('no/such/cassettes')).toThrow(
      new RegExp(
        `^cassettes: no cassette directory at ${join(process.cwd(), 'no/such/cassettes')} \\(no/such/cassettes, resolved from the working directory ${process.cwd()}\\)\\. Give the directory as an absolute path`,
      ),
    );
  });

  it('loads a directory of cassettes and rejects an unknown format version', () => {
    const directory = temporaryDirectory('embedkit-cassettes-');
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
    const directory = temporaryDirectory('embedkit-record-');
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

describe('recording from a live API (a loopback server)', () => {
  const key = 'fake-recording-key-not-real-0123456789';
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function liveOptions(serverOptions: Partial<LiveServerOptions> = {}) {
    const server = await startLiveServer({ key, ...serverOptions });
    servers.push(server);
    return { server, options: { ...options, baseURL: server.baseURL } };
  }

  function cassetteFile(
    call: Cassette['call'],
    name = 'live',
  ): { file: string; cassette: Cassette & { file: string } } {
    const file = join(temporaryDirectory('embedkit-record-'), `${name}.json`);
    const written = { ...cassette(), name, call };
    writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
    return { file, cassette: { ...written, file } };
  }

  const call = { modelId: 'acme-embed-1', inputs: ['pets', 'animals'], dimensions: 8 };

  for (const [failure, serverOptions, apiKey] of [
    ['a 500', { failOnCall: { call: 1, with: 500 } }, key],
    ['a reset connection', { failOnCall: { call: 1, with: 'reset' } }, key],
    ['a 401 (a wrong key)', {}, 'fake-wrong-key-not-real-0123456789'],
  ] as const) {
    it(`fails on ${failure} and leaves the cassette file as it was`, async () => {
      const { options: live } = await liveOptions(serverOptions);
      const { file, cassette: original } = cassetteFile(call);
      const before = readFileSync(file, 'utf8');
      await expect(recordCassette(live, original, apiKey)).rejects.toThrow(
        new RegExp(`recording cassette "live" failed: .*; ${file} was left as it was`),
      );
      expect(readFileSync(file, 'utf8')).toBe(before);
    });
  }

  it('records concurrent calls in the order they were sent, so the recording replays', async () => {
    // 18 inputs make two calls (16 and 2) sent together; the first answers last.
    const { options: live } = await liveOptions({ delayPerInputMs: 5 });
    const inputs = Array.from({ length: 18 }, (_, index) => `text ${index}`);
    const { cassette: original } = cassetteFile({ modelId: 'acme-embed-1', inputs, dimensions: 8 });
    const recorded = await recordCassette(live, original, key);
    expect(
      recorded.interactions.map(
        (interaction) => (interaction.request.body as { input: string[] }).input.length,
      ),
    ).toEqual([16, 2]);
    for (const kind of TRANSPORT_KINDS) await replayCassette(options, recorded, kind);
  });

  it('records the call as its replay runs it: truncate, input type, length, output type, options', async () => {
    const { options: live } = await liveOptions();
    const { cassette: original } = cassetteFile({
      modelId: 'acme-embed-1',
      inputs: ['pets'],
      inputType: 'document',
      dimensions: 8,
      outputType: 'int8',
      truncate: true,
      providerOptions: { acme: { user: 'user-1234' } },
    });
    const recorded = await recordCassette(live, original, key);
    expect(recorded.interactions[0]!.request.body).toEqual({
      dimensions: 8,
      encoding_format: 'base64',
      input: ['pets'],
      input_type: 'passage',
      model: 'acme-embed-1',
      output_dtype: 'int8',
      truncate: true,
      user: 'user-1234',
    });
    for (const kind of TRANSPORT_KINDS) await replayCassette(options, recorded, kind);
  });

  it('records the request headers a replay compares, the key by its header and scheme only', async () => {
    const { options: live } = await liveOptions();
    const { cassette: original } = cassetteFile(call);
    const recorded = await recordCassette(live, original, key);
    expect(recorded.interactions.map(({ request: { headers, auth } }) => ({ headers, auth }))).toEqual([
      {
        headers: {
          accept: 'application/json',
          'acme-version': '2024-06-01',
          'content-type': 'application/json',
        },
        auth: { header: 'authorization', scheme: 'Bearer' },
      },
    ]);
    expect(JSON.stringify(recorded)).not.toContain(key);
    for (const kind of TRANSPORT_KINDS) await replayCassette(options, recorded, kind);
  });

  it('records no header that holds the key in another form or a credential another header name hides', async () => {
    const { options: live } = await liveOptions();
    const { cassette: original } = cassetteFile(call);
    const basic = (apiKey: string) => Buffer.from(`user:${apiKey}`).toString('base64');
    const otherToken = 'fake-upstream-token-not-real-0123456789';
    const withHeaders: DescribeEmbeddingProviderOptions = {
      ...live,
      createModel: (settings) =>
        createAcmeModel({
          ...settings,
          headers: {
            'x-upstream': `Basic ${basic(settings.apiKey)}`,
            'x-gateway': `Bearer ${otherToken}`,
            'x-team': 'search',
          },
        }),
    };
    const recorded = await recordCassette(withHeaders, original, key);
    expect(recorded.interactions[0]!.request.headers).toEqual({
      accept: 'application/json',
      'acme-version': '2024-06-01',
      'content-type': 'application/json',
      'x-team': 'search',
    });
    expect(JSON.stringify(recorded)).not.toContain(basic(key).slice(8, -4));
    expect(JSON.stringify(recorded)).not.toContain(otherToken);
  });

  it('records no request id, trace context or date, which change with every request', async () => {
    const { options: live } = await liveOptions();
    const { cassette: original } = cassetteFile(call);
    let sent = 0;
    const withHeaders: DescribeEmbeddingProviderOptions = {
      ...live,
      createModel: (settings) => {
        sent += 1;
        return createAcmeModel({
          ...settings,
          headers: {
            'x-request-id': `req-client-${sent}`,
            'x-client-request-id': `client-${sent}`,
            traceparent: `00-0af7651916cd43dd8448eb211c80319${sent}-b7ad6b7169203331-01`,
            date: `Mon, 07 Dec 2026 09:0${sent}:00 GMT`,
          },
        });
      },
    };
    const recorded = await recordCassette(withHeaders, original, key);
    expect(recorded.interactions[0]!.request.headers).toEqual({
      accept: 'application/json',
      'acme-version': '2024-06-01',
      'content-type': 'application/json',
    });
    for (const kind of TRANSPORT_KINDS) await replayCassette(withHeaders, recorded, kind);
  });

  it('keeps the request id and rate limits, sorts request keys, and changes nothing when nothing changed', async () => {
    const record = async () => {
      const { options: live } = await liveOptions({ headers: { 'x-ratelimit-remaining-tokens': '9990' } });
      return recordCassette(live, { ...loadCassettes(directory)[0]! }, key);
    };
    const { file } = cassetteFile(call);
    const directory = join(file, '..');
    const first = await record();
    const written = readFileSync(file, 'utf8');
    expect(first.interactions[0]!.response.headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-live-1',
      'x-ratelimit-remaining-requests': '99',
      'x-ratelimit-remaining-tokens': '9990',
    });
    const body = first.interactions[0]!.request.body as object;
    expect(Object.keys(body)).toEqual([...Object.keys(body)].sort());
    expect(first.recordedAt).toEqual(expect.any(String));
    await record();
    expect(readFileSync(file, 'utf8')).toBe(written);
  });
});

describe('record mode in a suite', () => {
  const withEnvironment = <T>(values: Record<string, string | undefined>, run: () => T): T => {
    const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
    const apply = (entries: Record<string, string | undefined>) => {
      for (const [name, value] of Object.entries(entries)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
    apply(values);
    try {
      return run();
    } finally {
      apply(saved);
    }
  };
  const recording = {
    ...options,
    cassettes: acmeCassettes,
    recordApiKeyEnvironmentVariable: 'ACME_UNSET_TEST_KEY',
  };

  it('fails and names the key variable when it is not set, rather than replaying', async () => {
    const mode = withEnvironment({ EMBEDKIT_RECORD: '1', ACME_UNSET_TEST_KEY: undefined }, () =>
      recordMode(recording),
    );
    expect(mode).toEqual({
      problem:
        'EMBEDKIT_RECORD=1 asks to record cassettes with a real key, but ACME_UNSET_TEST_KEY is not set.',
    });
    const { recordApiKeyEnvironmentVariable: _none, ...unnamed } = recording;
    expect(withEnvironment({ EMBEDKIT_RECORD: '1' }, () => recordMode(unnamed))).toEqual({
      problem: expect.stringContaining('names no recordApiKeyEnvironmentVariable'),
    });
    const plan = recordModePlan(recording, mode!);
    expect(plan.records.map((item) => item.name)).toEqual(['record mode']);
    await expect(plan.records[0]!.run()).rejects.toThrow(/ACME_UNSET_TEST_KEY is not set/);
  });

  it('refuses to record cassettes given as objects, and replays those of errors and waits', async () => {
    const plan = recordModePlan(recording, { key: 'fake-recording-key-not-real-0123456789' });
    expect(plan.records.map((item) => item.name)).toEqual(['two inputs as queries [record]']);
    await expect(plan.records[0]!.run()).rejects.toThrow(
      'cassette "two inputs as queries" was given as an object, so its recording would have nowhere to go',
    );
    expect(plan.list.scenarios.map((scenario) => scenario.id)).toContain(
      'cassette/rate limited then answered',
    );
    expect(plan.list.scenarios.map((scenario) => scenario.id)).not.toContain(
      'cassette/two inputs as queries',
    );
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
