/**
 * The replay package's edges that the rest of the suite left loose, pinned exactly: which JSON fields a
 * scrub treats as server messages or credentials (any case, whole names, inside lists), the length from
 * which a given secret is removed inside a text, every written form of a secret, which answers count as
 * errors (3xx included), which given secrets count, and a scrubbed cassette keeping its shape; the format
 * check of a cassette that is not an object or lacks a part; how body differences are listed (absent
 * fields, values of another kind, at most 10); the matcher's canonical forms (lists versus objects, nulls,
 * an empty query, an empty or non-JSON body, method case), which recording it names as a near miss, the
 * answer it gives (status, content type) and what a fetch takes from a `Request`, its `init` and its
 * signal; the undici dispatcher's bodies, headers and close; and reading cassette files and directories.
 * Every key here is an obviously fake test value.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '@embedkit/core/provider';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bodyDifferences,
  type Cassette,
  type CassetteInteraction,
  checkCassette,
  createReplayFetch,
  createReplayMatcher,
  scrubCassette,
} from '../src/index.js';
import { cassetteFiles, createReplayDispatcher, readCassette } from '../src/node.js';
import { exchange, OK, R, recording, thrown } from './helpers.js';

/** The scrubbed response body of a cassette of one exchange answered with `response`. */
const scrubbedAnswer = (response: CassetteInteraction['response'], secrets: string[]) =>
  scrubCassette(recording([exchange({ texts: ['x'] }, response)]), secrets).interactions[0]!.response;

describe('scrubCassette: message and credential fields', () => {
  it('redacts credential patterns in the fields message, error, detail and error_description, in any case, and in no field that only contains such a name', () => {
    const body = {
      message: 'token=t1-abcdef refused',
      error: 'Bearer abc.def.ghi',
      detail: 'see ?key=k-123456',
      error_description: 'client_secret=cs-xyz failed',
      Message: 'token=t2-abcdef',
      messages: 'token=kept-1',
      last_error: 'token=kept-2',
    };
    expect(scrubbedAnswer({ status: 200, body }, []).body).toEqual({
      message: `token=${R} refused`,
      error: `Bearer ${R}`,
      detail: `see ?key=${R}`,
      error_description: `client_secret=${R} failed`,
      Message: `token=${R}`,
      messages: 'token=kept-1',
      last_error: 'token=kept-2',
    });
  });

  it('redacts message fields inside lists of objects (a batch of results, each with its error)', () => {
    const body = { data: [{ error: { message: 'token=t3-abcdef refused' } }, { text: 'token=kept' }] };
    expect(scrubbedAnswer({ status: 200, body }, []).body).toEqual({
      data: [{ error: { message: `token=${R} refused` } }, { text: 'token=kept' }],
    });
  });

  it('blanks every string of a credential field holding a list, and scrubs a message field holding a list', () => {
    const body = {
      access_token: ['tok-live-1', 'tok-live-2'],
      message: ['Bearer abc.def.ghi', 'fine'],
      metadata: { key: ['batch-0'] },
    };
    expect(scrubbedAnswer({ status: 200, body }, []).body).toEqual({
      access_token: [R, R],
      message: [`Bearer ${R}`, 'fine'],
      metadata: { key: ['batch-0'] },
    });
  });

  it("blanks a credential header written as a field and a service account's private key", () => {
    const body = {
      request: { Authorization: 'Basic dXNlcjpwYXNz', 'proxy-authorization': 'Bearer p-1' },
      credentials: { private_key: '-----BEGIN PRIVATE KEY-----\nMIIE', client_email: 'svc@example.com' },
    };
    expect(scrubbedAnswer({ status: 200, body }, []).body).toEqual({
      request: { Authorization: R, 'proxy-authorization': R },
      credentials: { private_key: R, client_email: 'svc@example.com' },
    });
  });

  it('keeps data fields named key and code whatever their case', () => {
    const body = { metadata: { Key: 'batch-0' }, error: { Code: 'invalid_api_key' } };
    expect(scrubbedAnswer({ status: 200, body }, []).body).toEqual(body);
  });

  it('leaves a successful answer whose whole body is a text as it is, credential-looking words included', () => {
    expect(scrubbedAnswer({ status: 200, body: 'token=kept Bearer words' }, []).body).toBe(
      'token=kept Bearer words',
    );
  });

  it('treats every answer from status 300 up as an error answer: credential patterns go from all its text', () => {
    const cassette = recording([
      exchange({ texts: ['x'] }, { status: 300, body: { note: 'choose /v1?token=t4-abcdef' } }),
      exchange({ texts: ['x'] }, { status: 302, body: { note: 'moved to /v1?token=t5-abcdef' } }),
      exchange({ texts: ['x'] }, { status: 200, body: { note: 'see /v1?token=kept' } }),
    ]);
    expect(scrubCassette(cassette, []).interactions.map((interaction) => interaction.response.body)).toEqual([
      { note: `choose /v1?token=${R}` },
      { note: `moved to /v1?token=${R}` },
      { note: 'see /v1?token=kept' },
    ]);
  });
});

describe('scrubCassette: given secrets', () => {
  it('removes a secret inside a text from 8 characters up; a 7-character one only where it is the whole value', () => {
    const body = { a: 'use sk-test1 here', b: 'use sk-tst7 here', c: 'sk-tst7' };
    expect(scrubbedAnswer({ status: 200, body }, ['sk-test1', 'sk-tst7']).body).toEqual({
      a: `use ${R} here`,
      b: 'use sk-tst7 here',
      c: R,
    });
  });

  it('removes a secret percent-encoded, JSON-escaped and JSON-escaped with \\/ from a successful answer', () => {
    const secret = 'sk-test-a/b+c"d';
    const body = {
      next: 'https://x.test/?page=sk-test-a%2Fb%2Bc%22d',
      quoted: '{"k":"sk-test-a/b+c\\"d"}',
      slashed: '{"k":"sk-test-a\\/b+c\\"d"}',
    };
    expect(scrubbedAnswer({ status: 200, body }, [secret]).body).toEqual({
      next: `https://x.test/?page=${R}`,
      quoted: `{"k":"${R}"}`,
      slashed: `{"k":"${R}"}`,
    });
  });

  it("removes a secret encoded twice or wrapped at 76 columns from a successful answer, by core's redaction", () => {
    // Bug: a successful answer lost the forms the scrubber listed itself, not core's: a URL nested in a
    // URL's query (`%252F`) and base64 wrapped by a MIME encoder kept the key.
    const secret = 'sk-test-not+a/real-key-0123456789';
    const token = btoa(`gateway:${secret}-abcdefghijklmnopqrstuvwxyz-0123456789`);
    const twice = encodeURIComponent(encodeURIComponent(`https://x.test/?page=${secret}`));
    const body = {
      next: `https://gw.test/?return_to=${twice}`,
      echo: token.replace(/.{76}(?=.)/g, '$&\r\n'),
      // A secret holding a tab, which JSON writes `\t`: found before, and still found.
      quoted: JSON.stringify({ k: 'sk-test-tab\there-0123' }),
    };
    expect(scrubbedAnswer({ status: 200, body }, [secret, token, 'sk-test-tab\there-0123']).body).toEqual({
      next: `https://gw.test/?return_to=https%253A%252F%252Fx.test%252F%253Fpage%253D${R}`,
      echo: R,
      quoted: `{"k":"${R}"}`,
    });
  });

  it('removes the given secrets in every form core knows (lowercase percent-encoding) from error answers', () => {
    const body = 'upstream said: sk-test-a%2fb%2bc%3d9 is revoked';
    expect(scrubbedAnswer({ status: 400, body }, ['sk-test-a/b+c=9']).body).toBe(
      `upstream said: ${R} is revoked`,
    );
  });

  it('removes a longer secret whole when a shorter one given first is its prefix', () => {
    const inputs = ['key sk-test-abcdefgh-ijkl end'];
    const scrubbed = scrubCassette(
      { ...recording([exchange({ texts: inputs }, OK)]), call: { modelId: 'm', inputs } },
      ['sk-test-abcdefgh', 'sk-test-abcdefgh-ijkl'],
    );
    expect(scrubbed.call.inputs).toEqual([`key ${R} end`]);
    expect(scrubbed.interactions[0]!.request.body).toEqual({ texts: [`key ${R} end`] });
  });

  it('replaces each occurrence of a secret once, even a secret the placeholder itself contains', () => {
    const cassette = recording([exchange({ input: ['x REDACTED y'] }, OK)]);
    expect(scrubCassette(cassette, ['REDACTED']).interactions[0]!.request.body).toEqual({
      input: [`x ${R} y`],
    });
  });

  it('ignores an empty or missing secret, and removes a one-character secret where it is the whole value', () => {
    const cassette = recording([exchange({ input: ['', 'a 7 day trip'], user: '7', n: 7 }, OK)]);
    const secrets = ['', undefined as unknown as string, '7'];
    expect(scrubCassette(cassette, secrets).interactions[0]!.request.body).toEqual({
      input: ['', 'a 7 day trip'],
      user: R,
      n: 7,
    });
  });

  it('removes a short secret from a header or the path where it is the whole value, never from inside one', () => {
    const [interaction] = scrubCassette(
      recording([
        exchange(
          { texts: ['x'] },
          { status: 200, headers: { 'x-echo': '1234', 'x-ratelimit-remaining-requests': '12345' }, body: {} },
          '/v1/items/12345?user=1234',
        ),
      ]),
      ['1234'],
    ).interactions;
    expect(interaction!.response.headers).toEqual({ 'x-echo': R, 'x-ratelimit-remaining-requests': '12345' });
    expect(interaction!.request.path).toBe('/v1/items/12345?user=1234');
  });

  it('keeps the shape of an exchange: its method and status, and no body or headers it did not have', () => {
    const cassette = recording([
      { request: { method: 'GET', path: '/v1/models' }, response: { status: 200, body: { data: [] } } },
    ]);
    expect(scrubCassette(cassette, ['sk-test-unused-1'])).toStrictEqual(cassette);
  });
});

describe('checkCassette: what is no cassette', () => {
  it.each([
    ['null', null],
    ['a text', 'cassette'],
    ['a number', 42],
  ])('refuses %s as not a JSON object', (_name, value) => {
    const error = thrown(() => checkCassette(value, 'x.json'));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_argument',
      argument: 'cassette',
      message: 'x.json: not a JSON object.',
    });
  });

  it.each([
    ['no call at all', 'call', 'x.json: no call (its modelId, and its inputs or documents).'],
    ['no interactions at all', 'interactions', 'x.json: no interactions.'],
  ])('refuses a cassette with %s', (_name, part, message) => {
    const value: Record<string, unknown> = { ...recording([exchange({}, OK)]) };
    delete value[part];
    expect(thrown(() => checkCassette(value, 'x.json'))).toMatchObject({
      code: 'invalid_argument',
      message,
    });
  });

  it('accepts a recorded cassette', () => {
    const cassette = recording([exchange({}, OK)]);
    expect(checkCassette(cassette, 'x.json')).toBe(cassette);
  });
});

describe('bodyDifferences', () => {
  it('names a field only one side has, the other side as (absent)', () => {
    expect(bodyDifferences({ model: 'm' }, { model: 'm', dimensions: 256 })).toEqual([
      'body.dimensions: recorded (absent), sent 256',
    ]);
    expect(bodyDifferences({ model: 'm', dimensions: 256 }, { model: 'm' })).toEqual([
      'body.dimensions: recorded 256, sent (absent)',
    ]);
  });

  it('names a value of another kind whole: a list or an object against a text, null against an object, a list against an object', () => {
    expect(
      bodyDifferences(
        { input: ['a'], options: { a: 1 }, user: null, list: ['a'] },
        { input: 'a', options: 'x', user: { a: 1 }, list: { 0: 'a' } },
      ),
    ).toEqual([
      'body.input: recorded ["a"], sent "a"',
      'body.options: recorded {"a":1}, sent "x"',
      'body.user: recorded null, sent {"a":1}',
      'body.list: recorded ["a"], sent {"0":"a"}',
    ]);
  });

  it('counts 0 and -0 (which JSON can carry) as the same value, as the matching does', () => {
    expect(bodyDifferences({ x: 0 }, JSON.parse('{"x":-0}'))).toEqual([]);
  });

  it('lists at most 10 differences', () => {
    const recorded = Array.from({ length: 12 }, (_, index) => `a${index}`);
    const sent = Array.from({ length: 12 }, (_, index) => `b${index}`);
    expect(bodyDifferences({ input: recorded }, { input: sent })).toEqual(
      recorded
        .slice(0, 10)
        .map((item, index) => `body.input[${index}]: recorded "${item}", sent "b${index}"`),
    );
  });

  it('lists up to a limit given, so that a caller can count every difference', () => {
    const recorded = Array.from({ length: 12 }, (_, index) => `a${index}`);
    const sent = Array.from({ length: 12 }, (_, index) => `b${index}`);
    expect(bodyDifferences({ input: recorded }, { input: sent }, 'body', [], Infinity)).toHaveLength(12);
  });
});

describe('createReplayMatcher: what matches', () => {
  const post = (path: string, body: string | undefined, method = 'POST') => ({ method, path, body });

  it('never matches a list with an object of numbered keys', () => {
    const matcher = createReplayMatcher([recording([exchange({ input: ['cat', 'dog'] }, OK)])]);
    expect(matcher.answer(post('/v1/embeddings', '{"input":{"0":"cat","1":"dog"}}')).status).toBe(418);
    expect(matcher.answer(post('/v1/embeddings', '{"input":["cat","dog"]}')).status).toBe(200);
  });

  it('matches a body with a null field', () => {
    const matcher = createReplayMatcher([recording([exchange({ user: null, input: ['a'] }, OK)])]);
    expect(matcher.answer(post('/v1/embeddings', '{"input":["a"],"user":null}')).status).toBe(200);
  });

  it('counts an empty query as none, and an empty body as none', () => {
    const matcher = createReplayMatcher([
      recording([exchange(undefined, OK, '/v1/jobs/1/cancel'), exchange(undefined, OK, '/v1/jobs/2/cancel')]),
    ]);
    expect(matcher.answer(post('/v1/jobs/1/cancel?', undefined)).status).toBe(200);
    expect(matcher.answer(post('/v1/jobs/2/cancel', '')).status).toBe(200);
    expect(matcher.mismatches).toEqual([]);
  });

  it('matches a body that is no JSON by its text', () => {
    const matcher = createReplayMatcher([
      recording([exchange('grant_type=client_credentials', OK, '/oauth/token')]),
    ]);
    expect(matcher.answer(post('/oauth/token', 'grant_type=other')).status).toBe(418);
    expect(matcher.answer(post('/oauth/token', 'grant_type=client_credentials')).status).toBe(200);
  });

  it('compares methods whatever their case on either side, and lists pending recordings as they are written', () => {
    const matcher = createReplayMatcher([
      recording([exchange({ a: 1 }, OK, '/v1/e', 'post'), exchange({ a: 2 }, OK, '/v1/e?b=2&a=1', 'post')]),
    ]);
    expect(matcher.answer(post('/v1/e', '{"a":1}', 'POST')).status).toBe(200);
    expect(matcher.pending()).toEqual(['post /v1/e?b=2&a=1 (cassette "recorded")']);
    const upper = createReplayMatcher([recording([exchange({ a: 1 }, OK, '/v1/e', 'POST')])]);
    expect(upper.answer(post('/v1/e', '{"a":1}', 'post')).status).toBe(200);
  });

  it('never answers a request with a recording of another method, nor names one as its near miss', () => {
    const matcher = createReplayMatcher([recording([exchange(undefined, OK, '/v1/models', 'GET')])]);
    const answer = matcher.answer(post('/v1/models', undefined));
    expect(answer).toEqual({
      status: 418,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        error: {
          message:
            'no recording matches POST /v1/models: no recording is of this method and path, so the body was not compared; the recordings are of GET /v1/models — check the base URL the requests go to, or record this path.',
        },
      }),
    });
    expect(matcher.mismatches).toStrictEqual([
      { method: 'POST', path: '/v1/models', body: undefined, pathDiffers: { recorded: ['GET /v1/models'] } },
    ]);
  });

  it('with a baseURL, answers a request that names no origin', () => {
    const matcher = createReplayMatcher([recording([exchange({ a: 1 }, OK, '/v1/e')])], {
      baseURL: 'https://api.acme.test/v1',
    });
    expect(matcher.answer(post('/v1/e', '{"a":1}')).status).toBe(200);
  });

  it('answers with the recorded status, and a JSON content type when the recording names none', () => {
    const matcher = createReplayMatcher([
      recording([
        exchange({ a: 1 }, { status: 429, headers: { 'Retry-After': '2' }, body: { error: 'slow down' } }),
        exchange({ a: 2 }, OK),
      ]),
    ]);
    expect(matcher.answer(post('/v1/embeddings', '{"a":1}'))).toEqual({
      status: 429,
      headers: { 'retry-after': '2', 'content-type': 'application/json' },
      body: '{"error":"slow down"}',
    });
    expect(matcher.answer(post('/v1/embeddings', '{"a":2}'))).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
    });
  });
});

describe('createReplayMatcher: the near miss it names', () => {
  const ask = (cassettes: Cassette[], path: string, body: unknown) => {
    const matcher = createReplayMatcher(cassettes);
    const answer = matcher.answer({ method: 'POST', path, body: JSON.stringify(body) });
    return {
      message: (JSON.parse(answer.body) as { error: { message: string } }).error.message,
      mismatches: matcher.mismatches,
    };
  };

  it('says the query differs only for a recording of the same path, and then names its path as written, with no closest', () => {
    const cassettes = [
      recording([exchange({ a: 1 }, OK, '/v1/e?b=2&a=1')], 'first'),
      recording([exchange({ a: 2 }, OK, '/v1/e?a=1')], 'second'),
    ];
    expect(ask(cassettes, '/v1/e?a=1', { a: 1 })).toStrictEqual({
      message:
        'no recording matches POST /v1/e?a=1 with this body; cassette "first" has it with the path /v1/e?b=2&a=1: the query differs — record it again, or write the path as it is sent now.',
      mismatches: [
        {
          method: 'POST',
          path: '/v1/e?a=1',
          body: { a: 1 },
          queryDiffers: { cassette: 'first', path: '/v1/e?b=2&a=1' },
        },
      ],
    });
    expect(ask(cassettes, '/v1/other', { a: 1 })).toStrictEqual({
      message:
        'no recording matches POST /v1/other: no recording is of this method and path, so the body was not compared; the recordings are of POST /v1/e?b=2&a=1, POST /v1/e?a=1 — check the base URL the requests go to, or record this path.',
      mismatches: [
        {
          method: 'POST',
          path: '/v1/other',
          body: { a: 1 },
          pathDiffers: { recorded: ['POST /v1/e?b=2&a=1', 'POST /v1/e?a=1'] },
        },
      ],
    });
    // No recording at all: said so.
    expect(ask([recording([])], '/v1/e', { a: 1 }).message).toBe(
      'no recording matches POST /v1/e: no recording is of this method and path, so the body was not compared; there are no recordings — record a cassette first.',
    );
  });

  it('names the first of two recordings that come equally close', () => {
    const cassettes = [
      recording([exchange({ input: ['cat'] }, OK)], 'one'),
      recording([exchange({ input: ['dog'] }, OK)], 'two'),
    ];
    expect(ask(cassettes, '/v1/embeddings', { input: ['cow'] }).message).toBe(
      'no recording matches POST /v1/embeddings with this body; the closest of the 2 unused recordings of this path (cassette "one") differs in body.input[0]: recorded "cat", sent "cow" — record the cassette again if the request is meant to differ, or fix the request.',
    );
  });

  it('counts only the unused recordings of the same path', () => {
    const cassettes = [
      recording([exchange({ input: ['cat'] }, OK)], 'one'),
      recording([exchange({ input: ['dog'] }, OK, '/v1/other')], 'two'),
    ];
    expect(ask(cassettes, '/v1/embeddings', { input: ['cow'] }).message).toBe(
      'no recording matches POST /v1/embeddings with this body; the unused recording of this path (cassette "one") differs in body.input[0]: recorded "cat", sent "cow" — record the cassette again if the request is meant to differ, or fix the request.',
    );
  });
});

describe('createReplayFetch: what it takes from its arguments', () => {
  const URL_E = 'https://x.test/v1/e';
  const replay = (method = 'POST', body: unknown = { a: 1 }) =>
    createReplayFetch([recording([exchange(body, OK, '/v1/e', method)])]);
  const bodiless = (method: string) =>
    createReplayFetch([recording([exchange(undefined, OK, '/v1/e', method)])]);

  it('rejects at once with an aborted signal, of its init or of its Request, using no recording', async () => {
    for (const make of [
      (signal: AbortSignal) => [URL_E, { method: 'POST', body: '{"a":1}', signal }] as const,
      (signal: AbortSignal) => [new Request(URL_E, { method: 'POST', body: '{"a":1}', signal })] as const,
    ]) {
      const served = replay();
      const controller = new AbortController();
      controller.abort();
      const [input, init] = make(controller.signal);
      await expect(served.fetch(input, init)).rejects.toMatchObject({ name: 'AbortError' });
      expect([served.pending(), served.mismatches]).toEqual([['POST /v1/e (cassette "recorded")'], []]);
    }
  });

  it('reads the body of a Request when init.body is null, and leaves the Request unread', async () => {
    const served = replay();
    const sent = new Request(URL_E, { method: 'POST', body: '{"a":1}' });
    expect((await served.fetch(sent, { body: null })).status).toBe(200);
    expect(sent.bodyUsed).toBe(false);
    expect(await sent.text()).toBe('{"a":1}');
  });

  it('sends GET when nothing names a method, and the method of init over that of the Request', async () => {
    const get = bodiless('GET');
    expect((await get.fetch(URL_E)).status).toBe(200);
    const remove = bodiless('DELETE');
    expect((await remove.fetch(new Request(URL_E), { method: 'DELETE' })).status).toBe(200);
  });
});

describe('createReplayDispatcher: what it takes and gives', () => {
  const BASE = 'https://api.acme.test/v1';

  it('reads a body of bytes and a null body, and answers with the recorded headers', async () => {
    const served = createReplayDispatcher(BASE, [
      recording([
        exchange(
          { a: 1 },
          { status: 200, headers: { 'X-Request-Id': 'req-1' }, body: { ok: true } },
          '/v1/e',
        ),
        exchange(undefined, OK, '/v1/models', 'GET'),
      ]),
    ]);
    try {
      const bytes = await request(`${BASE}/e`, {
        method: 'POST',
        body: new TextEncoder().encode('{"a":1}'),
        dispatcher: served.dispatcher,
      });
      expect([bytes.statusCode, bytes.headers['x-request-id'], await bytes.body.text()]).toEqual([
        200,
        'req-1',
        '{"ok":true}',
      ]);
      const none = await request(`${BASE}/models`, {
        method: 'GET',
        body: null,
        dispatcher: served.dispatcher,
      });
      expect([none.statusCode, await none.body.text()]).toEqual([200, '{"ok":true}']);
      expect(served.mismatches).toEqual([]);
    } finally {
      await served.close();
    }
  });

  it('closes its agent: no request goes through it afterwards', async () => {
    const served = createReplayDispatcher(BASE, [recording([exchange(undefined, OK, '/v1/models', 'GET')])]);
    await served.close();
    await expect(request(`${BASE}/models`, { dispatcher: served.dispatcher })).rejects.toMatchObject({
      code: 'UND_ERR_DESTROYED',
    });
    expect(served.pending()).toEqual(['GET /v1/models (cassette "recorded")']);
  });
});

describe('reading cassette files', () => {
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-mutants-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('names the file of a text that is no JSON, with the parse error as its cause', () => {
    const file = join(directory, 'broken.json');
    writeFileSync(file, '{"version": 1');
    const error = thrown(() => readCassette(file)) as Error;
    expect(error.message.startsWith(`${file}: `)).toBe(true);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('checks the format of a file that is JSON', () => {
    const file = join(directory, 'future.json');
    writeFileSync(file, JSON.stringify({ ...recording([exchange({}, OK)]), version: 2 }));
    const error = thrown(() => readCassette(file));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_argument',
      message: `${file}: unknown cassette version 2.`,
    });
  });

  it('says there is no cassette directory at a missing path or a file, resolving a relative path', () => {
    const missing = join(directory, 'missing');
    const file = join(directory, 'a-file');
    writeFileSync(file, '');
    const relative = 'no-such-cassette-directory';
    const cases = [
      [missing, `no cassette directory at ${missing}`, 'ENOENT'],
      [file, `no cassette directory at ${file}`, 'ENOTDIR'],
      [
        relative,
        `no cassette directory at ${resolve(relative)} (${relative}, resolved from the working directory ${process.cwd()})`,
        'ENOENT',
      ],
    ] as const;
    for (const [path, message, code] of cases) {
      const error = thrown(() => cassetteFiles(path)) as Error;
      expect([error.message, (error.cause as { code?: string }).code]).toEqual([message, code]);
    }
  });

  it('lists the .json files of a directory in JavaScript string order, which is not the byte order the file system lists', () => {
    const shelf = join(directory, 'shelf');
    mkdirSync(shelf);
    // U+1F600 sorts before U+FF5E by UTF-16 code units, after it by UTF-8 bytes.
    for (const name of ['m.json', '\uFF5E.json', 'notes.txt', 'a.json', '\u{1F600}.json', 'B.json'])
      writeFileSync(join(shelf, name), '{}');
    expect(cassetteFiles(shelf)).toEqual(
      ['B.json', 'a.json', 'm.json', '\u{1F600}.json', '\uFF5E.json'].map((name) => join(shelf, name)),
    );
  });
});
