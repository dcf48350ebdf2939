/**
 * A cassette whose request headers hold a credential (written by hand, or by another recorder) is refused
 * when it is read, naming the interaction and the header and never the value: the key belongs in `auth`,
 * by name and scheme only. Record mode, scrubbing and this check decide what is a credential by one test.
 */
import { InvalidArgumentError } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { checkCassette, scrubCassette, unrecordedRequestHeader } from '../src/index.js';
import { OK, recording, recordingHeaders, thrown } from './helpers.js';

const KEY = 'sk-test-fake-0000000000000000';

/** Credential headers by name: the known ones, and one whose name says it carries a credential. */
const CREDENTIALS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'ocp-apim-subscription-key',
  'x-auth-token',
];

const refusal = (header: string) =>
  `c.json: interactions[1].request.headers records ${header}, which carries a credential: a cassette never holds its value. Record the header by name and scheme in interactions[1].request.auth instead ({ "header": "${header}", "scheme": "Bearer" } for a Bearer key, no scheme for a key sent alone; the replay compares the key's header by presence and scheme) and remove it from interactions[1].request.headers.`;

describe('checkCassette and a credential in the recorded request headers', () => {
  for (const header of CREDENTIALS)
    it(`refuses a recorded ${header}, naming the interaction and the header, never the value`, () => {
      const error = thrown(() =>
        checkCassette(
          recordingHeaders({ 'content-type': 'application/json', [header]: `Bearer ${KEY}` }),
          'c.json',
        ),
      );
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).code).toBe('invalid_argument');
      expect((error as Error).message).toBe(refusal(header));
      expect((error as Error).message).not.toContain(KEY);
    });

  it('reads the name in any letter case', () => {
    const error = thrown(() => checkCassette(recordingHeaders({ 'X-Goog-Api-Key': KEY }), 'c.json'));
    expect((error as Error).message).toBe(refusal('X-Goog-Api-Key'));
  });

  it('refuses a header that names the account, which no recording keeps either', () => {
    const error = thrown(() =>
      checkCassette(recordingHeaders({ 'openai-organization': 'org-fake-1' }), 'c.json'),
    );
    expect((error as Error).message).toBe(
      'c.json: interactions[1].request.headers records openai-organization, which names the account: a cassette never holds its value. Remove it from interactions[1].request.headers: the other headers are still compared (record mode never writes it).',
    );
  });

  it('refuses one a recorder kept as a list of names and values, or of pairs, or of records', () => {
    for (const headers of [
      ['content-type', 'application/json', 'x-api-key', KEY],
      [
        ['content-type', 'application/json'],
        ['Authorization', `Bearer ${KEY}`],
      ],
      [{ name: 'cookie', value: 'session=fake' }],
    ]) {
      const error = thrown(() => checkCassette(recordingHeaders(headers), 'c.json'));
      expect((error as Error).message).toMatch(
        /^c\.json: interactions\[1\]\.request\.headers records (x-api-key|Authorization|cookie), which carries a credential: /,
      );
      expect((error as Error).message).not.toContain(KEY);
    }
  });

  it('keeps a list that holds no credential, uncompared as before', () => {
    const cassette = recordingHeaders(['content-type', 'application/json', 'acme-version', '1']);
    expect(checkCassette(cassette, 'c.json')).toBe(cassette);
  });

  it('keeps the key recorded by name and scheme in auth', () => {
    const cassette = recording([
      {
        request: {
          method: 'POST',
          path: '/v1/e',
          headers: { 'content-type': 'application/json' },
          auth: { header: 'authorization', scheme: 'Bearer' },
        },
        response: OK,
      },
    ]);
    expect(checkCassette(cassette, 'c.json')).toBe(cassette);
  });
});

describe('one test of what a recording never holds, for record mode, scrubbing and the check', () => {
  it('unrecordedRequestHeader gives the reason for a credential or account header, as record mode reads it', () => {
    for (const header of CREDENTIALS) expect(unrecordedRequestHeader(header)).toBe('it carries a credential');
    expect(unrecordedRequestHeader('OpenAI-Project')).toBe('it names the account');
    expect(unrecordedRequestHeader('x-ratelimit-remaining-tokens')).toBeUndefined();
  });

  it('a scrubbed recording of every credential header passes the check', () => {
    const headers = Object.fromEntries(CREDENTIALS.map((header) => [header, `Bearer ${KEY}`]));
    const scrubbed = scrubCassette(
      recordingHeaders({
        ...headers,
        'openai-organization': 'org-fake-1',
        'content-type': 'application/json',
      }),
      [KEY],
    );
    expect(scrubbed.interactions[1]!.request.headers).toEqual({ 'content-type': 'application/json' });
    expect(() => checkCassette(scrubbed, 'c.json')).not.toThrow();
  });
});
