/**
 * A cassette whose response headers hold a credential or name the account (written by hand, or by another
 * recorder) is refused when it is read, as one whose request headers hold one is: its value would sit in
 * the file, which no recording writes. The test is the one `scrubCassette` drops response headers
 * by (`withheldHeader`), so a scrubbed recording always passes and a hand-written one never keeps more.
 */
import { InvalidArgumentError } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { type Cassette, type CassetteInteraction, checkCassette, scrubCassette } from '../src/index.js';
import { OK, recording, recordingHeaders, thrown } from './helpers.js';

const KEY = 'sk-test-fake-0000000000000000';

/** A cassette of two interactions whose second response records `headers`, as they are. */
const answering = (headers: unknown): Cassette =>
  recording([
    { request: { method: 'POST', path: '/v1/e', body: { input: 'a' } }, response: OK },
    {
      request: { method: 'POST', path: '/v1/e', body: { input: 'b' } },
      response: { ...OK, headers } as CassetteInteraction['response'],
    },
  ]);

const refusal = (header: string, why = 'carries a credential') =>
  `c.json: interactions[1].response.headers records ${header}, which ${why}: a cassette never holds its value (record mode and scrubCassette drop it). Remove it from interactions[1].response.headers.`;

describe('checkCassette and a credential in the recorded response headers', () => {
  for (const [header, value] of [
    ['set-cookie', `session=${KEY}; Path=/; HttpOnly`],
    ['www-authenticate', `Bearer realm="api", error="invalid_token", token="${KEY}"`],
    ['authorization', `Bearer ${KEY}`],
    ['x-api-key', KEY],
    ['x-auth-token', KEY],
  ] as const)
    it(`refuses a recorded ${header}, naming the interaction and the header, never the value`, () => {
      const error = thrown(() =>
        checkCassette(answering({ 'content-type': 'application/json', [header]: value }), 'c.json'),
      );
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).code).toBe('invalid_argument');
      expect((error as Error).message).toBe(refusal(header));
      expect((error as Error).message).not.toContain(KEY);
    });

  it('reads the name in any letter case', () => {
    const error = thrown(() => checkCassette(answering({ 'Set-Cookie': 'session=fake' }), 'c.json'));
    expect((error as Error).message).toBe(refusal('Set-Cookie'));
  });

  it('refuses a header that names the account', () => {
    const error = thrown(() => checkCassette(answering({ 'OpenAI-Organization': 'org-fake-1' }), 'c.json'));
    expect((error as Error).message).toBe(refusal('OpenAI-Organization', 'names the account'));
  });

  it('refuses one a recorder kept as a list of names and values, or of pairs, or of records', () => {
    for (const [headers, name] of [
      [['content-type', 'application/json', 'set-cookie', `session=${KEY}`], 'set-cookie'],
      [
        [
          ['x-request-id', 'req-1'],
          ['WWW-Authenticate', `Bearer ${KEY}`],
        ],
        'WWW-Authenticate',
      ],
      [[{ name: 'cookie', value: `session=${KEY}` }], 'cookie'],
    ] as const) {
      const error = thrown(() => checkCassette(answering(headers), 'c.json'));
      expect((error as Error).message).toBe(refusal(name));
      expect((error as Error).message).not.toContain(KEY);
    }
  });

  it('never names an item of a flat list that cannot be paired, which may be a value', () => {
    // A name is missing its value, so the key may stand where a name should: named, it would be shown.
    const secret = 'sk-test-fake-secretkey-0000';
    const unpaired = (where: 'request' | 'response') =>
      `c.json: interactions[1].${where}.headers is a flat list of names and values with a value missing (item 2 has none after it), and one of its items names a header that carries a credential or names the account (or is a credential itself): a cassette never holds its value, and which item is a name cannot be known. Remove that header and its value from interactions[1].${where}.headers.`;
    const list = ['x-trace', secret, 'content-type'];
    const error = thrown(() => checkCassette(answering(list), 'c.json'));
    expect((error as Error).message).toBe(unpaired('response'));
    const request = thrown(() => checkCassette(recordingHeaders(list), 'c.json'));
    expect((request as Error).message).toBe(unpaired('request'));
    // One that names no such header is kept, uncompared, as before.
    const kept = answering(['x-request-id', 'req-1', 'retry-after']);
    expect(checkCassette(kept, 'c.json')).toBe(kept);
  });

  it('names the first interaction that holds one, its request before its response', () => {
    const cassette = recording([
      {
        request: { method: 'POST', path: '/v1/e', body: { input: 'a' } },
        response: { ...OK, headers: { 'set-cookie': 'session=fake' } },
      },
      {
        request: { method: 'POST', path: '/v1/e', body: { input: 'b' }, headers: { cookie: 'session=fake' } },
        response: OK,
      },
    ]);
    expect((thrown(() => checkCassette(cassette, 'c.json')) as Error).message).toMatch(
      /^c\.json: interactions\[0\]\.response\.headers records set-cookie, /,
    );
  });

  it('keeps response headers that carry none: rate-limit counters, request ids, retry-after', () => {
    const cassette = answering({
      'content-type': 'application/json',
      'x-ratelimit-remaining-tokens': '999',
      'x-request-id': 'req-1',
      'retry-after': '1',
    });
    expect(checkCassette(cassette, 'c.json')).toBe(cassette);
    const listed = answering(['x-request-id', 'req-1', 'retry-after-ms', '20']);
    expect(checkCassette(listed, 'c.json')).toBe(listed);
  });

  it('a scrubbed recording of the same headers passes the check', () => {
    const scrubbed = scrubCassette(
      answering({
        'set-cookie': `session=${KEY}`,
        'www-authenticate': `Bearer ${KEY}`,
        'openai-organization': 'org-fake-1',
        'x-request-id': 'req-1',
      }),
      [KEY],
    );
    expect(scrubbed.interactions[1]!.response.headers).toEqual({ 'x-request-id': 'req-1' });
    expect(() => checkCassette(scrubbed, 'c.json')).not.toThrow();
  });
});
