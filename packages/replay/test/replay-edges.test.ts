/**
 * Edges of reading, matching and scrubbing cassettes: a file that is not UTF-8 text or starts with a byte
 * order mark, an interaction without the parts the replay reads, a directory that cannot be listed for
 * another reason than its absence; a recorded path whose query is written in another order or encoding
 * than the one sent, and the path a mismatch reports; recorded headers that are not an object of names,
 * credential patterns in the fields a recorder kept beyond the format, and where error answers start.
 * Every key here is an obviously fake test value.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@embedkit/core/provider';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CassetteInteraction,
  checkCassette,
  createReplayFetch,
  createReplayMatcher,
  scrubCassette,
} from '../src/index.js';
import { cassetteFiles, readCassette } from '../src/node.js';
import { exchange, OK, R, recording, thrown } from './helpers.js';

describe('reading cassette files: their encoding', () => {
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-edges-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('refuses a file that is not UTF-8 text, naming it, rather than reading its inputs changed', () => {
    const file = join(directory, 'latin1.json');
    const text = JSON.stringify(recording([exchange({ input: ['café'] }, OK)], 'recorded', ['café']));
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const error = thrown(() => readCassette(file)) as Error;
    expect(error.message).toBe(`${file}: The encoded data was not valid for encoding utf-8`);
    expect(error.cause).toMatchObject({ name: 'TypeError', code: 'ERR_ENCODING_INVALID_ENCODED_DATA' });
  });

  it('refuses a file saved as UTF-16, naming it', () => {
    const file = join(directory, 'utf16.json');
    const text = JSON.stringify(recording([exchange({ input: ['x'] }, OK)]));
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const error = thrown(() => readCassette(file)) as Error;
    expect(error.message).toBe(`${file}: The encoded data was not valid for encoding utf-8`);
  });

  it('reads a UTF-8 file that starts with a byte order mark, its text as written', () => {
    const file = join(directory, 'bom.json');
    const cassette = recording([exchange({ input: ['café 🐟'] }, OK)], 'recorded', ['café 🐟']);
    writeFileSync(file, `\uFEFF${JSON.stringify(cassette)}`);
    expect(readCassette(file)).toEqual(cassette);
  });
});

describe('checkCassette: interactions the replay cannot read', () => {
  const problem = (interaction: unknown) =>
    thrown(() =>
      checkCassette(
        recording([exchange({ input: ['x'] }, OK), interaction as CassetteInteraction]),
        'broken.json',
      ),
    );

  it('names the first interaction without a request method, a request path or a response status', () => {
    const cases: unknown[] = [
      null,
      {},
      { request: { path: '/v1/embeddings' }, response: OK },
      { request: { method: 'POST', url: 'https://api.acme.test/v1/embeddings' }, response: OK },
      { request: { method: 'POST', path: '/v1/embeddings' } },
      { request: { method: 'POST', path: '/v1/embeddings' }, response: { status: '200', body: {} } },
    ];
    for (const interaction of cases) {
      const error = problem(interaction);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'invalid_argument',
        argument: 'cassette',
        message: 'broken.json: interactions[1] has no request method and path, or no response status.',
      });
    }
    const first = recording([{} as CassetteInteraction, exchange({ input: ['x'] }, OK)]);
    expect(thrown(() => checkCassette(first, 'first.json'))).toMatchObject({
      message: 'first.json: interactions[0] has no request method and path, or no response status.',
    });
  });

  it.each([
    ['null', null],
    ['a text', 'embeddings'],
  ])('refuses an expectation that is %s, as it does a missing one', (_name, expectation) => {
    const cassette = { ...recording([exchange({ input: ['x'] }, OK)]), expect: expectation };
    expect(thrown(() => checkCassette(cassette, 'x.json'))).toMatchObject({
      code: 'invalid_argument',
      argument: 'cassette',
      message:
        'x.json: no expect object (what the call must produce: its embeddings, documents, results or error).',
    });
  });

  it('accepts an interaction without a request body or response headers', () => {
    const cassette = recording([
      { request: { method: 'GET', path: '/v1/batches/b1' }, response: { status: 200, body: {} } },
    ]);
    expect(checkCassette(cassette, 'get.json')).toBe(cassette);
  });
});

describe('cassetteFiles: a directory that cannot be listed', () => {
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-edges-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('passes on an error other than a missing directory as it is (a loop of symbolic links)', () => {
    const loop = join(directory, 'loop');
    symlinkSync(loop, loop);
    expect(thrown(() => cassetteFiles(loop))).toMatchObject({
      code: 'ELOOP',
      message: `ELOOP: too many symbolic links encountered, scandir '${loop}'`,
    });
  });
});

describe('scrubCassette: headers that are not an object of names', () => {
  const scrubbedHeaders = (headers: unknown) =>
    scrubCassette(
      recording([
        exchange({ input: ['x'] }, { status: 200, headers: headers as Record<string, string>, body: {} }),
      ]),
      [],
    ).interactions[0]!.response.headers as unknown;

  it('keeps headers written as a list of pairs a list, their credentials redacted', () => {
    expect(
      scrubbedHeaders([
        ['x-request-id', 'req-1'],
        ['www-authenticate', 'Bearer realm=api'],
        ['set-cookie', 'session=s-123456'],
        ['link', '</v1?token=t-123456>'],
      ]),
    ).toEqual([
      ['x-request-id', 'req-1'],
      // A challenge that holds no credential is kept as it is.
      ['www-authenticate', 'Bearer realm=api'],
      ['link', `</v1?token=${R}>`],
    ]);
  });

  it('keeps headers written as one text a text, and null headers null', () => {
    expect(scrubbedHeaders('x-request-id: req-1\nlink: </v1?token=t-123456>')).toBe(
      `x-request-id: req-1\nlink: </v1?token=${R}>`,
    );
    expect(scrubbedHeaders(null)).toBeNull();
  });
});

describe('createReplayMatcher: the query of a recorded path', () => {
  const post = (path: string, body: string) => ({ method: 'POST', path, body });

  it('matches a recorded path whose query parameters are in another order or encoding than the sent one', () => {
    const matcher = createReplayMatcher([
      recording([exchange({ a: 1 }, OK, '/v1/e?b=2&a=1'), exchange({ a: 2 }, OK, '/v1/e?q=cat%20food')]),
    ]);
    expect(matcher.answer(post('/v1/e?a=1&b=2', '{"a":1}')).status).toBe(200);
    expect(matcher.answer(post('/v1/e?q=cat+food', '{"a":2}')).status).toBe(200);
    expect([matcher.pending(), matcher.mismatches]).toEqual([[], []]);
  });

  it('reports the path of a refused request as it was sent, its query unsorted', () => {
    const matcher = createReplayMatcher([recording([exchange({ a: 1 }, OK, '/v1/e?a=1')])]);
    expect(matcher.answer(post('/v1/e?z=2&a=1', '{"a":1}')).status).toBe(418);
    expect(matcher.mismatches).toStrictEqual([
      {
        method: 'POST',
        path: '/v1/e?z=2&a=1',
        body: { a: 1 },
        queryDiffers: { cassette: 'recorded', path: '/v1/e?a=1' },
      },
    ]);
  });
});

describe('scrubCassette: fields beyond the format and error answers', () => {
  it('redacts credential patterns in a url and a status text a recorder kept, with no secret given', () => {
    const request = {
      method: 'POST',
      path: '/v1/embeddings',
      url: 'https://api.acme.test/v1/embeddings?key=k-not-given-123',
      body: { input: ['x'] },
    } as CassetteInteraction['request'];
    const response = { status: 200, statusText: 'OK for Bearer b-not-given-456', body: {} };
    const [interaction] = scrubCassette(recording([{ request, response }]), []).interactions;
    expect(interaction).toEqual({
      request: {
        method: 'POST',
        path: '/v1/embeddings',
        url: `https://api.acme.test/v1/embeddings?key=${R}`,
        body: { input: ['x'] },
      },
      response: { status: 200, statusText: `OK for Bearer ${R}`, body: {} },
    });
  });

  it('treats an answer of status 299 as successful: credential-looking words in its text are kept', () => {
    const [interaction] = scrubCassette(
      recording([exchange({ input: ['x'] }, { status: 299, body: { note: 'see /v1?token=kept' } })]),
      [],
    ).interactions;
    expect(interaction!.response.body).toEqual({ note: 'see /v1?token=kept' });
  });
});

describe('createReplayFetch: an answer of a status without a body', () => {
  it.each([204, 205, 304])('answers a recorded %i with no body', async (status) => {
    const served = createReplayFetch([recording([exchange({ a: 1 }, { status, body: '' }, '/v1/e')])]);
    const answer = await served.fetch('https://api.acme.test/v1/e', { method: 'POST', body: '{"a":1}' });
    expect([answer.status, answer.body, await answer.text()]).toStrictEqual([status, null, '']);
    expect(served.mismatches).toEqual([]);
  });
});

describe('scrubCassette: fields of an interaction beyond its request and response', () => {
  it('keeps them, credential patterns redacted, as it keeps the rest of a cassette', () => {
    const interaction = {
      ...exchange({ input: ['x'] }, OK),
      note: 'replayed with Authorization: Bearer sk-live-abcdef123456',
      elapsedMs: 12,
    };
    const [scrubbed] = scrubCassette(recording([interaction]), []).interactions;
    expect(scrubbed).toStrictEqual({
      ...exchange({ input: ['x'] }, OK),
      note: `replayed with Authorization: Bearer ${R}`,
      elapsedMs: 12,
    });
  });
});
