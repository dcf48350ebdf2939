import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedMany } from '@embedkit/core';
import {
  createTransport,
  float32ToBase64,
  InvalidArgumentError,
  InvalidRequestError,
} from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import {
  type Cassette,
  checkCassette,
  createReplayFetch,
  createReplayMatcher,
  recordedInputs,
  scrubCassette,
} from '../src/index.js';
import { createReplayDispatcher, readCassetteDirectory } from '../src/node.js';
import { acmeModel } from './helpers.js';

const BASE_URL = 'https://api.acme.test/v1';

function cassette(name: string, inputs: string[], vectors: number[][]): Cassette {
  return {
    version: 1,
    name,
    source: 'constructed',
    call: { modelId: 'acme-1', inputs },
    interactions: [
      {
        request: { method: 'POST', path: '/v1/embeddings', body: { model: 'acme-1', input: inputs } },
        response: {
          status: 200,
          headers: { 'x-request-id': `req-${name}` },
          body: {
            data: vectors.map((vector, index) => ({
              index,
              embedding: float32ToBase64(new Float32Array(vector)),
            })),
          },
        },
      },
    ],
    expect: { embeddings: { count: vectors.length, dimensions: 2 }, usage: null },
  };
}

const CASSETTES = [
  cassette(
    'pets',
    ['cat', 'dog'],
    [
      [0.5, -0.25],
      [1, 2],
    ],
  ),
  cassette('fish', ['carp'], [[0.125, 3]]),
];

describe('createReplayFetch', () => {
  it('refuses baseUrl for baseURL (the origin of requests went unchecked)', () => {
    let error: unknown;
    try {
      createReplayFetch(CASSETTES, { baseUrl: 'https://api.acme.test/v1' } as never);
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).message).toBe(
      'createReplayFetch has no option baseUrl; did you mean baseURL?',
    );
  });

  it('createReplayMatcher names itself when refusing an option (it said createReplayFetch)', () => {
    expect(() => createReplayMatcher(CASSETTES, { baseUrl: 'https://api.acme.test/v1' } as never)).toThrow(
      'createReplayMatcher has no option baseUrl; did you mean baseURL?',
    );
  });

  it('answers a call from the recording whose method, path and body match, whatever the key order', async () => {
    const replay = createReplayFetch(CASSETTES);
    const { embeddings } = await embedMany({
      model: acmeModel(createTransport({ fetch: replay.fetch })),
      inputs: ['carp'],
      maxRetries: 0,
    });
    expect(Array.from(embeddings[0]!)).toEqual([0.125, 3]);
    expect(replay.mismatches).toEqual([]);
    expect(replay.pending()).toEqual(['POST /v1/embeddings (cassette "pets")']);
  });

  it('refuses a request no recording matches with a 418 that is not retried, and remembers it', async () => {
    const replay = createReplayFetch(CASSETTES);
    const error = await embedMany({
      model: acmeModel(createTransport({ fetch: replay.fetch })),
      inputs: ['cow'],
      maxRetries: 3,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).statusCode).toBe(418);
    expect((error as Error).message).toContain('no recording matches POST /v1/embeddings');
    expect(replay.mismatches).toEqual([
      {
        method: 'POST',
        path: '/v1/embeddings',
        body: { input: ['cow'], model: 'acme-1' },
        closest: { cassette: 'fish', differences: ['body.input[0]: recorded "carp", sent "cow"'] },
      },
    ]);
  });

  it('says a request to a path no recording has is refused for its path, and lists the recorded ones (bug: "with this body")', async () => {
    // A gateway's root as the base URL (OPENAI_BASE_URL=https://…/gateway/v1): the body is one "fish"
    // recorded, the path is not.
    const replay = createReplayFetch(CASSETTES);
    const error = await embedMany({
      model: acmeModel(createTransport({ fetch: replay.fetch }), 'https://api.acme.test/gateway/v1'),
      inputs: ['carp'],
      maxRetries: 0,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toContain(
      'no recording matches POST /gateway/v1/embeddings: no recording is of this method and path, so the body was not compared; the recordings are of POST /v1/embeddings — check the base URL the requests go to, or record this path.',
    );
    expect((error as Error).message).not.toContain('with this body');
    expect(replay.mismatches).toEqual([
      {
        method: 'POST',
        path: '/gateway/v1/embeddings',
        body: { input: ['carp'], model: 'acme-1' },
        pathDiffers: { recorded: ['POST /v1/embeddings'] },
      },
    ]);
    expect(replay.pending()).toEqual([
      'POST /v1/embeddings (cassette "pets")',
      'POST /v1/embeddings (cassette "fish")',
    ]);
  });

  it('names the recording a refused request came closest to: one whose query differs, or others of its path', async () => {
    const replay = createReplayFetch(CASSETTES);
    const ask = (path: string, input: string[]) =>
      replay
        .fetch(`${BASE_URL.replace('/v1', '')}${path}`, {
          method: 'POST',
          headers: {},
          body: JSON.stringify({ model: 'acme-1', input }),
        })
        .then(async (response) => ({
          status: response.status,
          body: (await response.json()) as { error: { message: string } },
        }));
    // The path of "pets" with a query its recording lacks, with its body.
    expect(await ask('/v1/embeddings?compact=true', ['cat', 'dog'])).toEqual({
      status: 418,
      body: {
        error: {
          message:
            'no recording matches POST /v1/embeddings?compact=true with this body; cassette "pets" has it with the path /v1/embeddings: the query differs — record it again, or write the path as it is sent now.',
        },
      },
    });
    // Its path, another body: the closest of the two unused recordings of the path, field by field.
    expect((await ask('/v1/embeddings', ['cow'])).body.error.message).toBe(
      'no recording matches POST /v1/embeddings with this body; the closest of the 2 unused recordings of this path (cassette "fish") differs in body.input[0]: recorded "carp", sent "cow" — record the cassette again if the request is meant to differ, or fix the request.',
    );
    expect((await ask('/v1/embeddings', ['cat', 'cow'])).body.error.message).toBe(
      'no recording matches POST /v1/embeddings with this body; the closest of the 2 unused recordings of this path (cassette "pets") differs in body.input[1]: recorded "dog", sent "cow" — record the cassette again if the request is meant to differ, or fix the request.',
    );
    // Another path: it is the path that no recording has.
    expect((await ask('/v1/other', ['cow'])).body.error.message).toBe(
      'no recording matches POST /v1/other: no recording is of this method and path, so the body was not compared; the recordings are of POST /v1/embeddings — check the base URL the requests go to, or record this path.',
    );
    expect(replay.mismatches.map((mismatch) => mismatch.queryDiffers)).toEqual([
      { cassette: 'pets', path: '/v1/embeddings' },
      undefined,
      undefined,
      undefined,
    ]);
    // A used recording is no near miss.
    expect((await ask('/v1/embeddings', ['carp'])).status).toBe(200);
    expect((await ask('/v1/embeddings?compact=true', ['carp'])).body.error.message).toBe(
      'no recording matches POST /v1/embeddings?compact=true with this body — record the cassette again if the request is meant to differ, or fix the request.',
    );
    expect((await ask('/v1/embeddings', ['cow'])).body.error.message).toBe(
      'no recording matches POST /v1/embeddings with this body; the unused recording of this path (cassette "pets") differs in body.input: 2 items recorded, 1 sent; body.input[0]: recorded "cat", sent "cow" — record the cassette again if the request is meant to differ, or fix the request.',
    );
  });

  it('serves each recording once', async () => {
    const replay = createReplayFetch(CASSETTES);
    const model = acmeModel(createTransport({ fetch: replay.fetch }));
    await embedMany({ model, inputs: ['carp'], maxRetries: 0 });
    await expect(embedMany({ model, inputs: ['carp'], maxRetries: 0 })).rejects.toMatchObject({
      statusCode: 418,
    });
    expect(replay.mismatches).toHaveLength(1);
  });

  it('lists what the recordings hold, for a message about a mismatch', () => {
    expect(recordedInputs(CASSETTES)).toEqual([
      { cassette: 'pets', modelId: 'acme-1', inputs: ['cat', 'dog'] },
      { cassette: 'fish', modelId: 'acme-1', inputs: ['carp'] },
    ]);
  });
});

describe('createReplayDispatcher (undici transport)', () => {
  it('answers through the same matching and refuses the rest', async () => {
    const replay = createReplayDispatcher(BASE_URL, CASSETTES);
    try {
      const model = acmeModel(createTransport({ dispatcher: replay.dispatcher }));
      const { embeddings } = await embedMany({ model, inputs: ['cat', 'dog'], maxRetries: 0 });
      expect(embeddings.map((vector) => Array.from(vector))).toEqual([
        [0.5, -0.25],
        [1, 2],
      ]);
      await expect(embedMany({ model, inputs: ['cow'], maxRetries: 0 })).rejects.toMatchObject({
        statusCode: 418,
      });
      expect(replay.mismatches.map((mismatch) => mismatch.body)).toEqual([
        { model: 'acme-1', input: ['cow'] },
      ]);
      expect(replay.pending()).toEqual(['POST /v1/embeddings (cassette "fish")']);
    } finally {
      await replay.close();
    }
  });
});

describe('matching edges, the same for both adapters', () => {
  const single = (
    path: string,
    body: unknown,
    response: Cassette['interactions'][number]['response'] = { status: 200, body: { ok: true } },
  ): Cassette => ({
    ...cassette('edge', ['x'], [[1, 2]]),
    interactions: [{ request: { method: 'POST', path, body }, response }],
  });

  it('reads a body of bytes, a Request and a URL as fetch does', async () => {
    const bytes = createReplayFetch([single('/v1/e', { a: 1 })]);
    const answered = await bytes.fetch('https://x.test/v1/e', {
      method: 'POST',
      body: new TextEncoder().encode('{"a":1}'),
    });
    expect([answered.status, bytes.mismatches]).toEqual([200, []]);
    const request = createReplayFetch([single('/v1/e', { a: 1 })]);
    const fromRequest = await request.fetch(
      new Request('https://x.test/v1/e', { method: 'POST', body: '{"a":1}' }),
    );
    expect([fromRequest.status, request.mismatches]).toEqual([200, []]);
    const url = createReplayFetch([single('/v1/e', { a: 1 })]);
    const fromURL = await url.fetch(new URL('https://x.test/v1/e'), { method: 'POST', body: '{"a":1}' });
    expect([fromURL.status, url.mismatches]).toEqual([200, []]);
  });

  it('does not count the order of query parameters, as it does not count the order of body keys', async () => {
    const replay = createReplayFetch([single('/v1/e?a=1&b=2', { a: 1, b: 2 })]);
    const answered = await replay.fetch('https://x.test/v1/e?b=2&a=1', {
      method: 'POST',
      body: '{"b":2,"a":1}',
    });
    expect([answered.status, replay.mismatches]).toEqual([200, []]);
  });

  it('answers with the recorded content type whatever its case, never merged with the default', async () => {
    const replay = createReplayFetch([
      single('/v1/e', { a: 1 }, { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'hello' }),
    ]);
    const answered = await replay.fetch('https://x.test/v1/e', { method: 'POST', body: '{"a":1}' });
    expect(answered.headers.get('content-type')).toBe('text/plain');
    expect(await answered.text()).toBe('hello');
  });

  it('refuses a request to another origin as a mismatch, through both adapters, never retried', async () => {
    const expected = {
      method: 'POST',
      path: '/v1/embeddings',
      body: { input: ['carp'], model: 'acme-1' },
      origin: 'https://elsewhere.test',
    };
    const fetchReplay = createReplayFetch(CASSETTES, { baseURL: BASE_URL });
    const dispatcherReplay = createReplayDispatcher(BASE_URL, CASSETTES);
    try {
      for (const [replay, transport] of [
        [fetchReplay, createTransport({ fetch: fetchReplay.fetch })],
        [dispatcherReplay, createTransport({ dispatcher: dispatcherReplay.dispatcher })],
      ] as const) {
        const model = acmeModel(transport, 'https://elsewhere.test/v1');
        const error = await embedMany({ model, inputs: ['carp'], maxRetries: 2 }).catch(
          (caught: unknown) => caught,
        );
        expect(error).toMatchObject({ statusCode: 418 });
        expect((error as Error).message).toContain(
          'no recording matches POST https://elsewhere.test/v1/embeddings: the recordings answer https://api.acme.test',
        );
        expect(replay.mismatches).toEqual([expected]);
        // The right origin is still answered.
        await embedMany({ model: acmeModel(transport), inputs: ['carp'], maxRetries: 0 });
      }
    } finally {
      await dispatcherReplay.close();
    }
  });
});

describe('the cassette format', () => {
  it.each([
    [
      'a version this package does not know',
      { ...CASSETTES[0], version: 2 },
      'x.json: unknown cassette version 2.',
    ],
    [
      'an unknown source',
      { ...CASSETTES[0], source: 'guessed' },
      'x.json: source must be "recorded" or "constructed".',
    ],
    [
      'no call',
      { ...CASSETTES[0], call: { inputs: ['a'] } },
      'x.json: no call (its modelId, and its inputs or documents).',
    ],
    [
      'a call with neither inputs nor documents',
      { ...CASSETTES[0], call: { modelId: 'm' } },
      'x.json: no call (its modelId, and its inputs or documents).',
    ],
    ['no interactions', { ...CASSETTES[0], interactions: [] }, 'x.json: no interactions.'],
    [
      'no expectation',
      { ...CASSETTES[0], expect: undefined },
      'x.json: no expect object (what the call must produce: its embeddings, documents, results or error).',
    ],
    ['not an object', [1, 2], 'x.json: unknown cassette version undefined.'],
  ])('refuses %s', (_name, value, message) => {
    expect(() => checkCassette(value, 'x.json')).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', argument: 'cassette', message }),
    );
  });

  it('accepts a call of documents with no inputs (contextualized and rerank cassettes)', () => {
    const contextualized = { ...CASSETTES[0], call: { modelId: 'm', documents: [['a', 'b'], ['c']] } };
    const rerank = { ...CASSETTES[0], call: { modelId: 'm', query: 'q', documents: ['a', 'b'] } };
    expect(checkCassette(contextualized, 'x.json')).toBe(contextualized);
    expect(checkCassette(rerank, 'x.json')).toBe(rerank);
  });

  it('reads a directory of cassettes in file-name order and checks each', () => {
    const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-'));
    try {
      writeFileSync(join(directory, 'b.json'), JSON.stringify(CASSETTES[1]));
      writeFileSync(join(directory, 'a.json'), JSON.stringify(CASSETTES[0]));
      writeFileSync(join(directory, 'notes.txt'), 'not a cassette');
      expect(readCassetteDirectory(directory).map((item) => item.name)).toEqual(['pets', 'fish']);
      writeFileSync(join(directory, 'c.json'), '{"version": 1');
      expect(() => readCassetteDirectory(directory)).toThrow(/c\.json: .*JSON/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('scrubs the key from bodies and drops credential headers', () => {
    const key = 'fake-key-not-real-7f3a9c2e';
    const recorded: Cassette = {
      ...CASSETTES[1]!,
      interactions: [
        {
          request: { method: 'POST', path: '/v1/embeddings', body: { input: [`my key is ${key}`] } },
          response: {
            status: 200,
            headers: { 'set-cookie': 'session=1', 'OpenAI-Organization': 'org-1', 'x-request-id': 'req-1' },
            body: { echo: key },
          },
        },
      ],
    };
    const scrubbed = scrubCassette(recorded, [key]);
    expect(JSON.stringify(scrubbed)).not.toContain(key);
    expect(scrubbed.interactions[0]!.response.headers).toEqual({ 'x-request-id': 'req-1' });
  });
});
