/**
 * Request headers a cassette records (`request.headers`, `request.auth`): compared on replay through
 * `fetch` and undici alike, each difference naming its header, the key never shown; a cassette without
 * them compares none.
 */
import { InvalidArgumentError } from '@embedkit/core/provider';
import { Headers as UndiciHeaders, request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  type Cassette,
  type CassetteInteraction,
  checkCassette,
  createReplayFetch,
  headerDifferences,
  lowerCaseHeaders,
  scrubCassette,
} from '../src/index.js';
import { createReplayDispatcher } from '../src/node.js';
import { OK, recording, thrown } from './helpers.js';

const KEY = 'sk-fake-not-real-0000000000000000';
const BODY = { model: 'm', input: ['x'] };

/** One interaction of `BODY` that records the headers Acme sends and its key as a Bearer credential. */
const withHeaders = (request: Partial<CassetteInteraction['request']> = {}): CassetteInteraction => ({
  request: {
    method: 'POST',
    path: '/v1/embeddings',
    body: BODY,
    headers: { 'content-type': 'application/json', 'acme-version': '2024-06-01' },
    auth: { header: 'authorization', scheme: 'Bearer' },
    ...request,
  },
  response: OK,
});

const RIGHT = {
  'content-type': 'application/json',
  'acme-version': '2024-06-01',
  authorization: `Bearer ${KEY}`,
};

/** The wrong headers a provider may send, and the difference each is named by. */
const WRONG: [string, Record<string, string>, string][] = [
  [
    'a wrong content type',
    { ...RIGHT, 'content-type': 'text/plain' },
    'header content-type: recorded "application/json", sent "text/plain"',
  ],
  [
    'a version header dropped',
    { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    'header acme-version: recorded "2024-06-01", sent (absent)',
  ],
  [
    'the key in another header',
    { 'content-type': 'application/json', 'acme-version': '2024-06-01', 'x-api-key': KEY },
    `header authorization (the key's): recorded "Bearer …", sent (absent)`,
  ],
  [
    'the key under another scheme',
    { ...RIGHT, authorization: `Token ${KEY}` },
    `header authorization (the key's): recorded "Bearer …", sent "Token …"`,
  ],
  [
    'the key sent twice',
    { ...RIGHT, authorization: `Bearer ${KEY}, Bearer ${KEY}` },
    `header authorization (the key's): recorded once as "Bearer …", sent 2 values`,
  ],
];

describe('headerDifferences', () => {
  it('finds none in the headers recorded, whatever else is sent', () => {
    expect(
      headerDifferences(withHeaders().request, { ...RIGHT, 'user-agent': 'embedkit/9.9.9', accept: '*/*' }),
    ).toEqual([]);
  });

  for (const [label, sent, difference] of WRONG)
    it(`names ${label}`, () => {
      expect(headerDifferences(withHeaders().request, sent)).toEqual([difference]);
    });

  it('reads a key sent alone, with no scheme, as the form recorded without one', () => {
    const request = withHeaders({ headers: {}, auth: { header: 'x-goog-api-key' } }).request;
    expect(headerDifferences(request, { 'x-goog-api-key': KEY })).toEqual([]);
    expect(headerDifferences(request, { 'x-goog-api-key': `Bearer ${KEY}` })).toEqual([
      `header x-goog-api-key (the key's): recorded "…", sent "Bearer …"`,
    ]);
  });

  it('compares nothing for an interaction that records no headers', () => {
    expect(headerDifferences({}, {})).toEqual([]);
  });

  it('compares nothing for headers a recorder kept as a list, its own form, which stays valid', () => {
    const request = {
      method: 'POST',
      path: '/v1/e',
      headers: ['content-type', 'text/plain'],
    } as unknown as CassetteInteraction['request'];
    expect(headerDifferences(request, { 'content-type': 'application/json' })).toEqual([]);
    expect(() => checkCassette(recording([{ request, response: OK }]), 'c.json')).not.toThrow();
  });
});

describe('a replay of a cassette that records request headers', () => {
  const served = () => createReplayFetch([recording([withHeaders()], 'headers')]);

  it('answers a request that sends them, through fetch', async () => {
    const replay = served();
    const answer = await replay.fetch('https://api.acme.test/v1/embeddings', {
      method: 'POST',
      headers: RIGHT,
      body: JSON.stringify(BODY),
    });
    expect([answer.status, await answer.json()]).toEqual([200, { ok: true }]);
    expect(replay.mismatches).toEqual([]);
  });

  // undici's own `Headers` is another class than the runtime's, and a `Map` is not `Headers` at all: read
  // as a plain object, either held no header, and every recorded one was refused as not sent.
  for (const [label, headers] of [
    ["undici's own Headers", new UndiciHeaders(RIGHT)],
    ['a Map', new Map(Object.entries(RIGHT))],
  ] as const)
    it(`answers a request whose headers are ${label}, through fetch`, async () => {
      const replay = served();
      const answer = await replay.fetch('https://api.acme.test/v1/embeddings', {
        method: 'POST',
        headers: headers as unknown as RequestInit['headers'],
        body: JSON.stringify(BODY),
      });
      expect([answer.status, replay.mismatches]).toEqual([200, []]);
      expect(lowerCaseHeaders(headers)).toEqual(RIGHT);
    });

  for (const [label, sent, difference] of WRONG)
    it(`refuses ${label}, naming the header and never the key, through fetch`, async () => {
      const replay = served();
      const answer = await replay.fetch('https://api.acme.test/v1/embeddings', {
        method: 'POST',
        headers: sent,
        body: JSON.stringify(BODY),
      });
      const text = await answer.text();
      expect(answer.status).toBe(418);
      expect(JSON.parse(text)).toEqual({
        error: {
          message: `no recording matches POST /v1/embeddings with these headers; cassette "headers" has it with other headers: ${difference} — record the cassette again if the request is meant to differ, or fix the request.`,
        },
      });
      expect(text).not.toContain(KEY);
      expect(replay.mismatches.map((mismatch) => mismatch.headersDiffer)).toEqual([
        { cassette: 'headers', differences: [difference] },
      ]);
      expect(replay.pending()).toEqual(['POST /v1/embeddings (cassette "headers")']);
    });

  it('refuses a wrong content type the same way through undici', async () => {
    const replay = createReplayDispatcher('https://api.acme.test/v1', [
      recording([withHeaders()], 'headers'),
    ]);
    try {
      const answer = await undiciRequest('https://api.acme.test/v1/embeddings', {
        method: 'POST',
        headers: { ...RIGHT, 'content-type': 'text/plain' },
        body: JSON.stringify(BODY),
        dispatcher: replay.dispatcher,
      });
      expect([answer.statusCode, await answer.body.json()]).toEqual([
        418,
        {
          error: {
            message:
              'no recording matches POST /v1/embeddings with these headers; cassette "headers" has it with other headers: header content-type: recorded "application/json", sent "text/plain" — record the cassette again if the request is meant to differ, or fix the request.',
          },
        },
      ]);
      const right = await undiciRequest('https://api.acme.test/v1/embeddings', {
        method: 'POST',
        headers: RIGHT,
        body: JSON.stringify(BODY),
        dispatcher: replay.dispatcher,
      });
      expect([right.statusCode, await right.body.json()]).toEqual([200, { ok: true }]);
    } finally {
      await replay.close();
    }
  });
});

describe('scrubbing a cassette that records request headers', () => {
  it('keeps the headers and the auth form, which hold no key', () => {
    const scrubbed = scrubCassette(recording([withHeaders()]), [KEY]);
    expect(scrubbed.interactions[0]!.request).toStrictEqual(withHeaders().request);
  });
});

describe('checkCassette and request headers', () => {
  const withRequest = (request: Record<string, unknown>): Cassette =>
    recording([
      {
        request: { method: 'POST', path: '/v1/e', ...request } as CassetteInteraction['request'],
        response: OK,
      },
    ]);

  it('refuses headers that are not an object of text values', () => {
    const error = thrown(() => checkCassette(withRequest({ headers: { 'content-type': 1 } }), 'c.json'));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'c.json: interactions[0].request.headers must be an object of header names and text values, and its auth a header name with an optional scheme.',
    );
  });

  it('refuses an auth without its header name', () => {
    const error = thrown(() => checkCassette(withRequest({ auth: { scheme: 'Bearer' } }), 'c.json'));
    expect((error as Error).message).toBe(
      'c.json: interactions[0].request.headers must be an object of header names and text values, and its auth a header name with an optional scheme.',
    );
  });
});
