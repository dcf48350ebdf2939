/**
 * A `www-authenticate` (or `proxy-authenticate`) challenge carries no client secret when it is only
 * schemes and auth-params of the names that hold none (`realm`, `scope`, `error`, `charset`, `algorithm`,
 * `qop`, `stale`) whose values redaction leaves as they are: `scrubCassette` keeps it and `checkCassette`
 * accepts it, by one test. Anything else under those names (a token68, an `error_description` that may
 * echo what the request sent, a value redaction changes) is still dropped and refused.
 */
import { InvalidArgumentError } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { type Cassette, type CassetteInteraction, checkCassette, scrubCassette } from '../src/index.js';
import { OK, recording, thrown } from './helpers.js';

const KEY = 'sk-test-fake-challenge-0000000000';

/** A cassette whose second response (a 401) records `headers`, as they are. */
const answering = (headers: unknown): Cassette =>
  recording([
    { request: { method: 'POST', path: '/v1/e', body: { input: 'a' } }, response: OK },
    {
      request: { method: 'POST', path: '/v1/e', body: { input: 'b' } },
      response: { status: 401, headers, body: { error: 'bad key' } } as CassetteInteraction['response'],
    },
  ]);

const scrubbedHeaders = (headers: unknown, secrets: string[] = [KEY]) =>
  scrubCassette(answering(headers), secrets).interactions[1]!.response.headers as unknown;

const HARMLESS = [
  'Bearer realm="api"',
  'Bearer realm=api',
  'Bearer realm="api", error="invalid_token", scope="embeddings"',
  'Basic realm="gateway", charset="UTF-8"',
  'Basic realm="a", Bearer realm="b"',
  'Bearer',
];

const NOT_HARMLESS: [string, string][] = [
  [
    'an error_description, free text that may echo the request',
    `Bearer realm="api", error_description="token ${KEY} is invalid"`,
  ],
  [
    'an error_description with no credential in sight',
    'Bearer error="invalid_token", error_description="expired"',
  ],
  ['a token68 after the scheme', 'Negotiate oRswGaADCgEAoxIEEAEAAABD'],
  ['a padded token68', 'Basic dXNlcjpwYXNz'],
  ['a realm that redaction changes', 'Bearer realm="https://api.test/v1?key=abcdef123456"'],
  [
    'a parameter of another name (a Digest nonce)',
    'Digest realm="api", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"',
  ],
  ['text that is no challenge', 'please log in'],
];

describe('a www-authenticate challenge that holds no credential', () => {
  for (const value of HARMLESS)
    it(`is kept by scrubCassette and accepted by checkCassette: ${value}`, () => {
      const headers = { 'www-authenticate': value, 'x-request-id': 'req-1' };
      expect(scrubbedHeaders(headers)).toEqual(headers);
      const cassette = answering(headers);
      expect(checkCassette(cassette, 'c.json')).toBe(cassette);
    });

  it('in any letter case of its name, as proxy-authenticate, and in a recorder’s lists', () => {
    const object = { 'WWW-Authenticate': 'Bearer realm="api"', 'Proxy-Authenticate': 'Basic realm="proxy"' };
    expect(scrubbedHeaders(object)).toEqual(object);
    expect(checkCassette(answering(object), 'c.json')).toBeDefined();
    const flat = ['x-request-id', 'req-1', 'www-authenticate', 'Bearer realm="api"'];
    expect(scrubbedHeaders(flat)).toEqual(flat);
    expect(checkCassette(answering(flat), 'c.json')).toBeDefined();
    const pairs = [['www-authenticate', 'Bearer realm="api", error="invalid_token"']];
    expect(scrubbedHeaders(pairs)).toEqual(pairs);
    expect(checkCassette(answering(pairs), 'c.json')).toBeDefined();
    const records = [{ name: 'www-authenticate', value: 'Bearer realm="api"' }];
    expect(scrubbedHeaders(records)).toEqual(records);
    expect(checkCassette(answering(records), 'c.json')).toBeDefined();
  });
});

describe('a www-authenticate value that may hold one', () => {
  for (const [name, value] of NOT_HARMLESS)
    it(`${name}: dropped by scrubCassette and refused by checkCassette`, () => {
      expect(scrubbedHeaders({ 'www-authenticate': value, 'x-request-id': 'req-1' })).toEqual({
        'x-request-id': 'req-1',
      });
      const error = thrown(() => checkCassette(answering({ 'www-authenticate': value }), 'c.json'));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe(
        'c.json: interactions[1].response.headers records www-authenticate, which carries a credential: a cassette never holds its value (record mode and scrubCassette drop it). Remove it from interactions[1].response.headers.',
      );
      expect((error as Error).message).not.toContain(KEY);
    });

  it('a realm holding a secret the scrub is given is dropped, and what is kept always passes the check', () => {
    const headers = { 'www-authenticate': 'Bearer realm="tenant-0123456789abcdef"' };
    expect(scrubbedHeaders(headers, ['tenant-0123456789abcdef'])).toEqual({});
    expect(scrubbedHeaders(headers, [])).toEqual(headers);
    for (const value of [...HARMLESS, ...NOT_HARMLESS.map(([, text]) => text)]) {
      const scrubbed = scrubCassette(answering({ 'www-authenticate': value }), [KEY]);
      expect(() => checkCassette(scrubbed, 'c.json')).not.toThrow();
    }
  });

  it('a value of several lines, or a list of values under one name, is not read as one challenge', () => {
    expect(scrubbedHeaders({ 'www-authenticate': ['Bearer realm="a"', 'Basic realm="b"'] })).toEqual({});
    const error = thrown(() =>
      checkCassette(answering({ 'www-authenticate': 'Bearer realm="a"\r\nx' }), 'c.json'),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
  });

  it('a request header of that name is still refused: the key goes in auth', () => {
    const cassette = recording([
      {
        request: {
          method: 'POST',
          path: '/v1/e',
          body: {},
          headers: { 'www-authenticate': 'Bearer realm="api"' },
        },
        response: OK,
      },
    ]);
    expect((thrown(() => checkCassette(cassette, 'c.json')) as Error).message).toMatch(
      /^c\.json: interactions\[0\]\.request\.headers records www-authenticate, which carries a credential/,
    );
  });
});
