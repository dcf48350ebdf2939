import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConnectionError, InvalidResponseError, ServerError } from '../src/errors.js';
import { type JsonResponse, type RequestJsonOptions, requestJson } from '../src/http/client.js';
import { createFetchTransport, type FetchFunction } from '../src/http/fetch-transport.js';
import {
  builtWholePatterns,
  compileRedaction,
  keptSecretPatterns,
  redact,
  redactCause,
  redactGivenUrl,
  secretsOfCall,
} from '../src/http/redact.js';
import { parseResponse } from '../src/provider-utils.js';
import {
  dataArraySchema,
  failure,
  recordingFetch,
  SECRET_QUERY_NAMES,
  URL_BASE,
  walkForSecrets,
} from './http-helpers.js';

const SECRET = 'sk-Ab/Cd+Ef"Gh\\Ij9';

const json = (text: string) => JSON.stringify(text).slice(1, -1);
const unicode = (text: string) =>
  [...text].map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

describe('redact: every form of a given secret', () => {
  const forms: [string, string][] = [
    ['raw', SECRET],
    ['as a JSON string spells it (\\" and \\\\)', json(SECRET)],
    ['with \\/ for /', json(SECRET).replace('/', '\\/')],
    ['every character \\uXXXX', unicode(SECRET)],
    ['\\uXXXX in upper-case hex', unicode(SECRET).toUpperCase().replaceAll('\\U', '\\u')],
    [
      'mixed \\uXXXX and plain escapes',
      [...SECRET]
        .map((character, index) =>
          index % 3 === 0 ? unicode(character) : json(character).replace('/', '\\/'),
        )
        .join(''),
    ],
    ['escaped twice (JSON quoted in a JSON string)', json(json(SECRET))],
    ['\\uXXXX escaped twice', json(unicode(SECRET))],
    ['percent-encoded', encodeURIComponent(SECRET)],
    [
      'percent-encoded in lower-case hex',
      encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (encoded) => encoded.toLowerCase()),
    ],
    ['HTML references', [...SECRET].map((character) => `&#${character.charCodeAt(0)};`).join('')],
    ['HTML named and hex references', SECRET.replace('"', '&quot;').replace('/', '&#x2F;')],
  ];
  it.each(forms)('%s', (_name, form) => {
    expect(redact(`before ${form} after`, [SECRET])).toBe('before [REDACTED] after');
  });

  it('a redacted JSON text still parses, whatever form the secret took inside it', () => {
    const body = JSON.stringify({
      a: SECRET,
      b: `url ${encodeURIComponent(SECRET)}`,
      c: JSON.stringify({ nested: SECRET }),
      d: `https://x.test/?key=${SECRET}&alt=json`,
    });
    const parsed = JSON.parse(redact(body, [SECRET])) as Record<string, string>;
    expect(parsed.a).toBe('[REDACTED]');
    expect(parsed.b).toBe('url [REDACTED]');
    expect(JSON.parse(parsed.c!)).toEqual({ nested: '[REDACTED]' });
    expect(parsed.d).toBe('https://x.test/?key=[REDACTED]&alt=json');
  });

  it('a secret full of pattern metacharacters is matched literally', () => {
    const secret = 'a.b*c(d)[e]$^|?';
    expect(redact(`x ${secret} y aXb*c(d)[e]$^|?`, [secret])).toBe('x [REDACTED] y aXb*c(d)[e]$^|?');
  });

  it('ignores undefined and very short secrets (they would redact ordinary words)', () => {
    expect(redact('the cat sat', [undefined, 'at', ''])).toBe('the cat sat');
  });
});

describe('redact: secrets it finds without being told', () => {
  it.each(SECRET_QUERY_NAMES)('the value of %s in a URL and in free text, in any case', (name) => {
    expect(redact(`https://x.test/v1?alt=json&${name}=s3cr3t-v4lue&b=1#top`)).toBe(
      `https://x.test/v1?alt=json&${name}=[REDACTED]&b=1#top`,
    );
    expect(redact(`https://x.test/v1?${name.toUpperCase()}=s3cr3t-v4lue`)).toBe(
      `https://x.test/v1?${name.toUpperCase()}=[REDACTED]`,
    );
    expect(redact(`rejected ${name}=s3cr3t-v4lue (try again)`)).toBe(
      `rejected ${name}=[REDACTED] (try again)`,
    );
    // A URL quoted in a JSON body (Go escapes & as \u0026) and a URL nested in another URL's query.
    expect(redact(`"https://x.test/v1?alt=json\\u0026${name}=s3cr3t\\/v4lue\\u0026b=1"`)).toBe(
      `"https://x.test/v1?alt=json\\u0026${name}=[REDACTED]\\u0026b=1"`,
    );
    expect(redact(`next=https%3A%2F%2Fx.test%2F%3F${name}%3Ds3cr3t%26b%3D1`)).toBe(
      `next=https%3A%2F%2Fx.test%2F%3F${name}%3D[REDACTED]`,
    );
  });

  it('leaves parameters whose name only ends like a secret one', () => {
    const text = 'https://x.test/?monkey=1&hotkey=2&encode=3&design=4&tokens=5';
    expect(redact(text)).toBe(text);
  });

  it('URL userinfo anywhere, also with JSON-escaped slashes; not an @ in a path or an e-mail address', () => {
    expect(redact('proxy http://bob:hunter2@proxy.test:8080/ refused')).toBe(
      'proxy http://[REDACTED]@proxy.test:8080/ refused',
    );
    expect(redact('{"url":"https:\\/\\/bob:p%40ss@h.test\\/v1"}')).toBe(
      '{"url":"https:\\/\\/[REDACTED]@h.test\\/v1"}',
    );
    expect(redact('https://h.test/users/@bob and bob@example.test')).toBe(
      'https://h.test/users/@bob and bob@example.test',
    );
  });

  it('a password holding an unencoded @ is redacted whole (the userinfo runs to the last @ of the authority)', () => {
    // Bug: the match stopped at the first @, and "ss" of the password "p@ss" was shown.
    expect(redact('proxy http://bob:p@ss@proxy.test:8080/x@y refused')).toBe(
      'proxy http://[REDACTED]@proxy.test:8080/x@y refused',
    );
    expect(redact('{"url":"https:\\/\\/bob:p@ss@h.test\\/v1"}')).toBe(
      '{"url":"https:\\/\\/[REDACTED]@h.test\\/v1"}',
    );
  });

  it('bearer tokens and key headers quoted as text', () => {
    expect(redact('sent Authorization: Bearer eyJhbGciOi.J9x/y+z= to')).toBe(
      'sent Authorization: Bearer [REDACTED] to',
    );
    expect(redact('headers: {"x-goog-api-key":"AIzaSyXyz","api-key": "abc123"}')).toBe(
      'headers: {"x-goog-api-key":"[REDACTED]","api-key": "[REDACTED]"}',
    );
  });

  it('the credentials of an authorization header quoted as text, whatever the scheme, the scheme kept', () => {
    // Bug: only a Bearer token was found; Basic credentials (a base64 of user:password) were shown.
    expect(redact('proxy said: Authorization: Basic dXNlcjpwYXNzd29yZA== was refused')).toBe(
      'proxy said: Authorization: Basic [REDACTED] was refused',
    );
    expect(redact('Proxy-Authorization: basic YWxhZGRpbjpvcGVu; retry')).toBe(
      'Proxy-Authorization: basic [REDACTED]; retry',
    );
    expect(redact("sent {'authorization': 'Token abc123xyz'} and authorization=ApiKey k-987")).toBe(
      "sent {'authorization': 'Token [REDACTED]'} and authorization=ApiKey [REDACTED]",
    );
    // No scheme: the whole value is the credential.
    expect(redact('authorization: sk-plain-key-42\nnext line')).toBe('authorization: [REDACTED]\nnext line');
    // The words around it are not credentials: no header name, or no value after it.
    expect(redact('Basic usage: see the authorization guide. x-authorization: kept')).toBe(
      'Basic usage: see the authorization guide. x-authorization: kept',
    );
    expect(redact('authorization:\nnext line')).toBe('authorization:\nnext line');
    expect(redact('authorization\n: next')).toBe('authorization\n: next');
  });
});

describe('redact: quoted fields that hold a credential', () => {
  it('blanks the value of a credential field of a JSON body, whatever it holds, and keeps the body JSON', () => {
    const body = JSON.stringify({
      password: 'hunter2, with spaces',
      client_secret: 'ends in a backslash \\',
      access_token: 'has "quotes" inside',
      Refresh_Token: 'any case',
      model: 'kept',
    });
    const clean = redact(body);
    expect(JSON.parse(clean)).toEqual({
      password: '[REDACTED]',
      client_secret: '[REDACTED]',
      access_token: '[REDACTED]',
      Refresh_Token: '[REDACTED]',
      model: 'kept',
    });
  });

  it("also a printed dict's single-quoted fields, and the names spelled with - or _ or neither", () => {
    expect(redact("{'api_key': 'sk-1 2', 'apikey':'x9', 'API-KEY' : 'y9', 'n': 1}")).toBe(
      "{'api_key': '[REDACTED]', 'apikey':'[REDACTED]', 'API-KEY' : '[REDACTED]', 'n': 1}",
    );
  });

  it('a request quoted inside an error message (one level of escaping) loses its credentials, and the message still parses', () => {
    const request = JSON.stringify({
      client_secret: 'a "b" \\c\\',
      authorization: 'Basic dXNlcjpwYXNz',
      n: 1,
    });
    const body = JSON.stringify({
      error: { message: `bad request body ${request}`, code: 'invalid_request' },
    });
    const clean = redact(body);
    expect(JSON.parse(JSON.parse(clean).error.message.slice('bad request body '.length))).toEqual({
      client_secret: '[REDACTED]',
      authorization: 'Basic [REDACTED]',
      n: 1,
    });
    expect(JSON.parse(clean).error.code).toBe('invalid_request');
  });

  it('a value cut by the end of the text is blanked to the end', () => {
    expect(redact('{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIB')).toBe(
      '{"private_key": "[REDACTED]',
    );
    expect(redact('{\\"password\\": \\"abc\\\\')).toBe('{\\"password\\": \\"[REDACTED]');
  });

  it('leaves fields whose names bodies use for ordinary data (key, code), other values, and unquoted values', () => {
    const body =
      '{"key": "batch-1", "code": "invalid_api_key", "password": null, "tokens": "12", "my_password_hint": "x"}';
    expect(redact(body)).toBe(body);
  });
});

describe('redact: secrets encoded twice, wrapped at 76 columns, or behind an encoded name', () => {
  // A key with characters a URL encodes (a gateway's base64 token): encoded once, it is `%2B`; a URL
  // embedded in another URL's query (a login redirect's `return_to`) encodes it again, to `%252B`.
  const KEY = 'sk-test-not+a/real%key-0123456789';
  const twice = (text: string) => encodeURIComponent(encodeURIComponent(text));

  it('a given secret percent-encoded twice or three times', () => {
    // Bug: only the once-encoded form was matched; `%252B` and `%2525` went through.
    expect(redact(`sent to https://gw.test/?return_to=${twice(`/v1?k=${KEY}`)} ok`, [KEY])).toBe(
      'sent to https://gw.test/?return_to=%252Fv1%253Fk%253D[REDACTED] ok',
    );
    expect(redact(`x ${encodeURIComponent(twice(KEY))} y`, [KEY])).toBe('x [REDACTED] y');
  });

  it('a credential parameter whose ? & and = were encoded twice, without the secret given', () => {
    // Bug: `%3F`, `%26` and `%3D` were read as a boundary, `%253F`, `%2526` and `%253D` were not.
    const inner = 'https://api.test/v1?alt=json&key=AIzaSyNotARealKey0123';
    expect(redact(`Location: https://login.test/?next=${twice(inner)}`)).toBe(
      'Location: https://login.test/?next=https%253A%252F%252Fapi.test%252Fv1%253Falt%253Djson%2526key%253D[REDACTED]',
    );
    expect(redact(`next=${twice('https://api.test/?key=AIzaSyNotARealKey0123')}`)).toBe(
      'next=https%253A%252F%252Fapi.test%252F%253Fkey%253D[REDACTED]',
    );
  });

  it.each([
    ['%6Bey'],
    ['%6bey'],
    ['%4Bey'],
    ['%6B%65%79'],
    ['k%65y'],
    ['%256Bey'],
    ['api%5Fkey'],
    ['api%5fkey'],
    ['%61pi-key'],
    ['api%2Dkey'],
    ['access%5Ftoken'],
    ['%73ig'],
  ])('a parameter named %s (a percent-encoded credential name, read as such by a server)', (name) => {
    // Bug: the names were matched as written only, and the value after an encoded one was shown.
    expect(redact(`echo https://x.test/v1?${name}=s3cr3t-v4lue&alt=json`)).toBe(
      `echo https://x.test/v1?${name}=[REDACTED]&alt=json`,
    );
  });

  it('an encoded code keeps an ordinary code readable and a random one redacted; encoded names that only end like one are left', () => {
    expect(redact('?%63ode=400 and ?%63%6Fde=Ab12Cd34Ef')).toBe('?%63ode=400 and ?%63%6Fde=[REDACTED]');
    const text = 'https://x.test/?mon%6Bey=1&hot%6Bey=2&%6Donkey=3&en%63ode=4';
    expect(redact(text)).toBe(text);
  });

  it('Basic credentials wrapped at 76 columns, with \\r\\n or \\n, raw or inside a JSON text', () => {
    // Bug: the token was matched unbroken only; the first line went (the header's name was before it),
    // the lines after it were shown.
    const token = btoa('someuser:fake-password-not-real-padding-to-wrap-past-seventy-six-cols');
    const secrets = secretsOfCall(URL_BASE, { 'proxy-authorization': `Basic ${token}` });
    const wrapped = (lineBreak: string) => token.replace(/.{76}(?=.)/g, `$&${lineBreak}`);
    expect(token.length).toBeGreaterThan(76);
    expect(redact(`Proxy-Authorization: Basic ${wrapped('\r\n')}\r\nVia: gw`, secrets)).toBe(
      'Proxy-Authorization: Basic [REDACTED]\r\nVia: gw',
    );
    expect(redact(`echo ${wrapped('\n')} end`, secrets)).toBe('echo [REDACTED] end');
    expect(redact(JSON.stringify({ echo: `Basic ${wrapped('\r\n')}` }), secrets)).toBe(
      '{"echo":"Basic [REDACTED]"}',
    );
    expect(redact(JSON.stringify(JSON.stringify({ echo: wrapped('\n') })), secrets)).toBe(
      '"{\\"echo\\":\\"[REDACTED]\\"}"',
    );
  });

  // .NET's JSON writer escapes + as \u002B: the value stopped at the backslash, and the rest was shown.
  it.each([
    ['x-goog-api-key: AIzaSyNot\\u002BReal0123', 'x-goog-api-key: [REDACTED]'],
    ['Authorization: Bearer abc\\u002Bdef\\/0123', 'Authorization: Bearer [REDACTED]'],
    ['authorization: Token abc\\u002Bdef0123', 'authorization: Token [REDACTED]'],
    // An escaped quote still ends the value: the text stays JSON.
    ['x-api-key: abc\\u0022', 'x-api-key: [REDACTED]\\u0022'],
  ])(
    'a key holding a JSON \\uXXXX escape after a header name or a scheme, not given: %s',
    (quoted, shown) => {
      expect(redact(`{"error":"${quoted} refused"}`)).toBe(`{"error":"${shown} refused"}`);
    },
  );

  // A .NET body quoted in another JSON text (a gateway's log record): its `\u002B` and PHP's `\/` carry two
  // backslashes there. Bug: the escape of one level only was part of a value, and the value stopped at the
  // first backslash of two, the rest of the key shown.
  it.each([
    ['x-goog-api-key: AIzaSyNot+Real0123 refused', 'x-goog-api-key: [REDACTED] refused'],
    ['Authorization: Bearer abc+def/0123 refused', 'Authorization: Bearer [REDACTED] refused'],
    ['authorization: Token abc+def0123 refused', 'authorization: Token [REDACTED] refused'],
    ['GET /v1?key=AIza+Not/Real0123&alt=json&k=1', 'GET /v1?key=[REDACTED]&alt=json&k=1'],
    // An escaped quote still ends the value, however deep: the text stays JSON.
    ['x-api-key: abc+0123" then', 'x-api-key: [REDACTED]" then'],
  ])('a key holding a JSON escape two levels of quoting deep, not given: %s', (said, shown) => {
    // As .NET writes + and Go writes & (an escaped & ends a parameter's value), and PHP writes /.
    const escaped = (text: string) =>
      JSON.stringify({ error: text })
        .replace(/[+&]/g, (character) => (character === '+' ? '\\u002B' : '\\u0026'))
        .replace(/\//g, '\\/');
    const nested = (text: string) => JSON.stringify({ log: escaped(text) });
    const out = redact(nested(said));
    expect(out).toBe(nested(shown));
    expect(JSON.parse(JSON.parse(out).log).error).toBe(shown);
  });
});

describe('redactGivenUrl: a URL from a setting or a flag, for a message', () => {
  const SECRET = 'hunter2-secret';
  it.each([
    // The userinfo runs from scheme:// to the last @, whatever the password holds.
    [`redis://:sk/${SECRET}@127.0.0.1:6391`, 'redis://[REDACTED]@127.0.0.1:6391'],
    [`https://user:a@b/c#d?${SECRET}@h.test/v1`, 'https://[REDACTED]@h.test/v1'],
    [
      `https://user:${SECRET}@h.test/v1?api_key=abc123&x=1`,
      'https://[REDACTED]@h.test/v1?api_key=[REDACTED]&x=1',
    ],
    // An @ without scheme://: nothing is shown, since nothing says where the password starts or ends.
    [`redis:/:${SECRET}@127.0.0.1`, '[REDACTED]'],
    [`user:${SECRET}@h.test`, '[REDACTED]'],
    [`redis//:${SECRET}@localhost`, '[REDACTED]'],
    // No @: shown as given, less credential query parameters.
    ['redis://127.0.0.1:99999', 'redis://127.0.0.1:99999'],
    [`not a url?key=${SECRET}`, 'not a url?key=[REDACTED]'],
  ])('%s', (given, shown) => {
    expect(redactGivenUrl(given)).toBe(shown);
  });
});

describe('redact: in one pass over any text', () => {
  // A run of letters was tried as a URL scheme from each letter to its end, in time that grew with the
  // square of its length: 200 KB took about half a minute. A complexity guard, not a benchmark: the
  // limit is a hundred times what one pass takes, and a tenth of what the old pattern needed.
  it.each([
    ['letters', 'x'.repeat(200_000)],
    ['letters, digits and dots', 'ab1.'.repeat(50_000)],
    ['backslashes', '\\'.repeat(200_000)],
    ['backslashes before a quote', `${'\\'.repeat(199_999)}"`],
  ])('200 KB of %s in well under 3 s', { timeout: 120_000 }, (_name, text) => {
    const started = performance.now();
    expect(redact(text, ['sk-test-secret-123456'])).toBe(text);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('userinfo behind a scheme of 32 characters is still found', () => {
    const scheme = `a${'b'.repeat(31)}`;
    expect(redact(`${scheme}://user:pw@host`)).toBe(`${scheme}://[REDACTED]@host`);
  });
});

describe('secretsOfCall', () => {
  it('collects the given secrets, credential and account header values, the token after a scheme, URL userinfo and credential query values', () => {
    const basic = btoa('alice:open-sesame');
    const secrets = secretsOfCall(
      'https://alice:pa%24%24word@h.test/v1?api-version=2024-10-21&sig=c2lnbmF0dXJl',
      {
        authorization: 'Bearer sk-bearer-token-1',
        'proxy-authorization': `Basic ${basic}`,
        'x-custom-token': 'tok-2',
        'api-key': 'azure-3',
        'content-type': 'application/json',
        'openai-project': 'project-four',
      },
      ['given-5', undefined],
    );
    expect(secrets).toEqual(
      expect.arrayContaining([
        'given-5',
        'sk-bearer-token-1',
        basic,
        'alice:open-sesame',
        'open-sesame',
        'tok-2',
        'azure-3',
        'project-four',
        'alice',
        'pa%24%24word',
        'pa$$word',
        'c2lnbmF0dXJl',
      ]),
    );
    expect(secrets).not.toContain('application/json');
    expect(secrets).not.toContain('2024-10-21');
    // An authorization header's scheme is no secret: an echo of the header keeps it readable.
    expect(secrets).not.toContain('Bearer sk-bearer-token-1');
    expect(secrets).not.toContain(`Basic ${basic}`);
    // Unless the token is too short to have base64 forms of its own: then the whole value stays a secret.
    expect(secretsOfCall(URL_BASE, { authorization: 'Bearer sk-short' })).toContain('Bearer sk-short');
  });

  it("adds each proxy's password, as written and decoded, and the Basic token of its user and password", () => {
    // Bug: only the call's URL and headers were read, so a proxy's error page that echoed its password
    // (undici adds Proxy-Authorization itself, past the headers given here) showed it.
    const secrets = secretsOfCall(
      URL_BASE,
      {},
      [],
      [
        'http://fake-proxy-user:fake%40proxy%2Fpass@proxy.internal:3128',
        'https://proxy.internal:3129',
        'notaurl',
      ],
    );
    // The user name alone is not one: a word such as `user` would be cut from every message.
    expect(secrets).toEqual([
      'fake%40proxy%2Fpass',
      'fake@proxy/pass',
      'fake-proxy-user:fake@proxy/pass',
      btoa('fake-proxy-user:fake@proxy/pass'),
    ]);
  });
});

describe('redactCause', () => {
  it('copies the whole chain with messages, stacks and string fields redacted and codes kept', () => {
    const root = Object.assign(new Error(`connect to ${URL_BASE}?key=${SECRET}`), {
      code: 'ECONNREFUSED',
      errno: -111,
      address: SECRET,
      socket: { secret: SECRET },
    });
    root.stack = `Error: connect\n    at connect (${URL_BASE}?key=${encodeURIComponent(SECRET)})`;
    const aggregate = new AggregateError([root, new Error(`other ${json(SECRET)}`)], 'all failed');
    const top = new TypeError('fetch failed', { cause: aggregate });
    const copy = redactCause(top, compileRedaction([SECRET])) as Error & { cause: AggregateError };
    expect(copy).not.toBe(top);
    expect(copy.name).toBe('TypeError');
    expect(copy.message).toBe('fetch failed');
    expect(copy.cause.name).toBe('AggregateError');
    const [first, second] = copy.cause.errors as (Error & Record<string, unknown>)[];
    expect(first!.message).toBe(`connect to ${URL_BASE}?key=[REDACTED]`);
    expect(first!.stack).toBe(`Error: connect\n    at connect (${URL_BASE}?key=[REDACTED])`);
    expect(first!.code).toBe('ECONNREFUSED');
    expect(first!.errno).toBe(-111);
    expect(first!.address).toBe('[REDACTED]');
    expect(first!.socket).toBeUndefined();
    expect(second!.message).toBe('other [REDACTED]');
    expect(walkForSecrets(copy, [SECRET]).leaks).toEqual([]);
    expect(inspect(copy, { depth: 10 })).not.toContain('Ab/Cd');
  });
});

describe('requestJson redacts what the call itself carries', () => {
  it('a key sent only in a header (settings.headers, never listed in secrets) is redacted from every field', async () => {
    const headerSets: Record<string, string>[] = [
      { 'api-key': SECRET },
      { 'x-goog-api-key': SECRET },
      { authorization: `Bearer ${SECRET}` },
      { 'x-gateway-token': SECRET },
    ];
    for (const headers of headerSets) {
      const { fetch } = recordingFetch(
        () =>
          new Response(JSON.stringify({ error: { message: `denied for ${SECRET}` } }), {
            status: 500,
            headers: { 'content-type': 'application/json', 'x-request-id': SECRET },
          }),
      );
      const error = await failure({ fetch, headers });
      expect(ServerError.isInstance(error)).toBe(true);
      expect(error.requestId).toBe('[REDACTED]');
      expect(error.message).toContain('denied for [REDACTED]');
      expect(walkForSecrets(error, [SECRET]).leaks).toEqual([]);
    }
  });

  it('the cause chain keeps its codes and loses the key from every message and stack', async () => {
    const fetch: FetchFunction = async () => {
      const socket = Object.assign(new Error(`read ECONNRESET while sending api-key ${SECRET}`), {
        code: 'ECONNRESET',
      });
      socket.stack = `Error: read ECONNRESET\n    at onRead (${URL_BASE}?code=${SECRET})`;
      throw new TypeError('fetch failed', { cause: socket });
    };
    const error = await failure({ fetch, headers: { 'api-key': SECRET } });
    expect(ConnectionError.isInstance(error)).toBe(true);
    const cause = error.cause as Error & { cause: Error & { code?: string } };
    expect(cause.message).toBe('fetch failed');
    expect(cause.cause.code).toBe('ECONNRESET');
    expect(cause.cause.stack).toContain('?code=[REDACTED]');
    expect(walkForSecrets(error, [SECRET]).leaks).toEqual([]);
  });

  it("a proxy's error page that echoes the request's Basic credentials wrapped at 76 columns shows none of them", async () => {
    // Bug: the first line went (it follows the header's name), the second was shown.
    const token = btoa('proxy-user:fake-password-not-real-padding-to-wrap-past-seventy-six-cols');
    const wrapped = token.replace(/.{76}(?=.)/g, '$&\r\n');
    const { fetch } = recordingFetch(
      () => new Response(`<pre>Proxy-Authorization: Basic ${wrapped}\r\n</pre>`, { status: 502 }),
    );
    const error = await failure({ fetch, headers: { 'proxy-authorization': `Basic ${token}` } });
    expect(error.responseBody).toBe('<pre>Proxy-Authorization: Basic [REDACTED]\r\n</pre>');
    expect(walkForSecrets(error, [token.slice(76)]).leaks).toEqual([]);
  });

  it("an echoed Authorization or Proxy-Authorization header the call sent keeps its scheme's name and loses its credentials", async () => {
    // Bug: the whole value of the header was a secret of the call, so its scheme went with the token
    // (`Authorization: [REDACTED]`), and the message no longer said whether a Bearer or a Basic was sent.
    const key = 'sk-test-fake-echoed-key-0123';
    const basic = btoa('proxy-user:fake-proxy-pass-echoed');
    const { fetch } = recordingFetch(
      () =>
        new Response(`sent Authorization: Bearer ${key}, Proxy-Authorization: Basic ${basic}`, {
          status: 401,
          headers: { 'content-type': 'text/plain' },
        }),
    );
    const error = await failure({
      fetch,
      headers: { authorization: `Bearer ${key}`, 'proxy-authorization': `Basic ${basic}` },
    });
    expect(error.responseBody).toBe(
      'sent Authorization: Bearer [REDACTED], Proxy-Authorization: Basic [REDACTED]',
    );
    expect(walkForSecrets(error, [key, basic, 'fake-proxy-pass-echoed']).leaks).toEqual([]);
  });

  it('a short token after its scheme is still hidden as the whole header value, in every form', async () => {
    // Bug: with the scheme kept readable, a token under 4 characters was no secret at all (redaction
    // drops such short secrets), so an echo of `Bearer abc` percent-encoded showed it; the whole value
    // stays a secret for a token too short to stand alone (and for its base64 forms, under 12 bytes).
    for (const [token, echo, shown] of [
      ['abc', 'sent=Bearer%20abc', 'sent=[REDACTED]'],
      ['abcdefgh', `sent in base64 ${btoa('Bearer abcdefgh')}`, 'sent in base64 [REDACTED]'],
    ] as const) {
      const { fetch } = recordingFetch(
        () => new Response(echo, { status: 401, headers: { 'content-type': 'text/plain' } }),
      );
      const error = await failure({ fetch, headers: { authorization: `Bearer ${token}` } });
      expect(error.responseBody).toBe(shown);
    }
  });

  it('an excerpt of a long body redacts a secret that straddles the cut', async () => {
    const body = `${'x'.repeat(995)}${SECRET}${'y'.repeat(5_000)}`;
    const { fetch } = recordingFetch(() => new Response(body, { status: 502 }));
    const error = await failure({ fetch, secrets: [SECRET] });
    expect(error.responseBody).toMatch(/^x{995}\[REDA… \(\d+ more characters\)$/);
    expect(walkForSecrets(error, [SECRET]).leaks).toEqual([]);
  });

  it('a successful call never touches the secrets (redaction runs only when an error is built)', async () => {
    const untouchable = new Proxy([] as string[], {
      get() {
        throw new Error('secrets read on the success path');
      },
    });
    const { fetch } = recordingFetch(
      () => new Response('{"data":[]}', { status: 200, headers: { 'content-type': 'application/json' } }),
    );
    const response = await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: `${URL_BASE}?key=${SECRET}`,
      body: { input: ['a'] },
      secrets: untouchable,
    });
    expect(response.body).toEqual({ data: [] });
  });
});

describe('redirects are reported, never followed', () => {
  it('the fetch transport asks fetch not to follow (redirect: manual)', async () => {
    const { fetch, sent } = recordingFetch(() => new Response('{}', { status: 200 }));
    await requestJson({ transport: createFetchTransport(fetch), provider: 'acme', url: URL_BASE });
    expect(sent[0]!.init.redirect).toBe('manual');
  });

  it("a browser's opaque manual redirect (status 0) is an InvalidResponseError asking to fix the base URL", async () => {
    const opaque = {
      type: 'opaqueredirect',
      status: 0,
      headers: new Headers(),
      body: null,
    } as unknown as Response;
    const error = await failure({ fetch: async () => opaque });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(0);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe(
      `acme answered ${URL_BASE} with a redirect (the browser hides its status and Location). Redirects are not followed, so that the API key is never sent to another address: check that the base URL points at the address the API answers at.`,
    );
  });

  it("a Location that carries the call's URL encoded twice (a login gateway's return_to) names it without the key", async () => {
    // Bug: the key, a gateway's token with + and /, was shown as `%252B` and `%252F`.
    const key = 'gw-test-not+a/real-token-0123456789';
    const twice = encodeURIComponent(encodeURIComponent(`${URL_BASE}?token2=${key}`));
    const { fetch } = recordingFetch(
      () =>
        new Response(null, {
          status: 302,
          headers: { location: `https://login.gw.test/?return_to=${twice}` },
        }),
    );
    const error = await failure({ fetch, headers: { authorization: `Bearer ${key}` } });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toContain(
      'a redirect to https://login.gw.test/?return_to=https%253A%252F%252Fapi.acme.test%252Fv1%252Fembeddings%253Ftoken2%253D[REDACTED].',
    );
    expect(walkForSecrets(error, [key]).leaks).toEqual([]);
  });

  it('a 3xx without a Location still says it was a redirect, with the redacted URL asked', async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 300 }));
    const error = await failure({ fetch, url: `${URL_BASE}?key=${SECRET}`, secrets: [SECRET] });
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(300);
    expect(error.message).toContain(
      `acme answered ${URL_BASE}?key=[REDACTED] with status 300 (a redirect) without a Location.`,
    );
  });
});

describe('responseType bytes', () => {
  it('returns the 2xx body as bytes, unparsed', async () => {
    const { fetch } = recordingFetch(() => new Response('{"a":1}\n{"a":2}\n', { status: 200 }));
    const response = await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      responseType: 'bytes',
    });
    expect(new TextDecoder().decode(response.body as Uint8Array)).toBe('{"a":1}\n{"a":2}\n');
  });
});

describe('errors inside a 2xx', () => {
  async function answer(body: unknown, options: Partial<RequestJsonOptions> = {}): Promise<JsonResponse> {
    const { fetch } = recordingFetch(
      () =>
        new Response(JSON.stringify(body), {
          status: 200,
          headers: { 'content-type': 'application/json', 'x-request-id': 'req-7' },
        }),
    );
    return requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      ...options,
    });
  }

  function parseFailure(response: JsonResponse): InvalidResponseError {
    try {
      parseResponse(dataArraySchema, response, 'acme', 'embeddings');
    } catch (error) {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      return error as InvalidResponseError;
    }
    throw new Error('expected parseResponse to fail');
  }

  it('cuts a message of 100,000 characters to 2,000 (it was kept whole)', async () => {
    const error = parseFailure(await answer({ error: { message: 'y'.repeat(100_000) } }));
    expect(error.message).toContain(`${'y'.repeat(2_000)}… (98000 more characters) — the API`);
  });

  it("reads the message with the provider's own parseError, redacted, with the provider code and request id", async () => {
    const response = await answer(
      { error: { msg_text: `key ${SECRET} suspended`, reason: 'KEY_SUSPENDED' } },
      {
        secrets: [SECRET],
        parseError: (body) => {
          const error = (body as { error: { msg_text: string; reason: string } }).error;
          return { message: `[${error.reason}] ${error.msg_text}`, providerCode: error.reason };
        },
      },
    );
    const error = parseFailure(response);
    expect(error.message).toBe(
      'acme answered status 200 with an error instead of embeddings: [KEY_SUSPENDED] key [REDACTED] suspended — the API or a gateway in front of it reported a failure with a success status; check the message, and that the base URL points at the API.',
    );
    expect(error.statusCode).toBe(200);
    expect(error.providerCode).toBe('KEY_SUSPENDED');
    expect(error.requestId).toBe('req-7');
    expect(error.url).toBe(URL_BASE);
    expect(error.responseBody).toContain('[REDACTED]');
    expect(walkForSecrets(error, [SECRET]).leaks).toEqual([]);
  });

  it('without a parseError, reads the common shapes: error string or message, detail string or list, errors list', async () => {
    const cases: [unknown, string][] = [
      [{ error: 'gateway down' }, 'gateway down'],
      [{ error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } }, 'overloaded'],
      [[{ error: { message: 'array-wrapped' } }], 'array-wrapped'],
      [{ detail: 'Invalid API key' }, 'Invalid API key'],
      [{ detail: [{ loc: ['body'], msg: 'a' }, { msg: 'b' }] }, 'a; b'],
      [{ errors: [{ message: 'first' }] }, 'first'],
    ];
    for (const [body, message] of cases) {
      const error = parseFailure(await answer(body));
      expect(error.message).toContain(`with an error instead of embeddings: ${message} —`);
    }
  });

  it('a body that is simply the wrong shape still says so (error: null is not an error)', async () => {
    const error = parseFailure(await answer({ result: [], error: null }));
    expect(error.message).toBe(
      'acme returned an embeddings body of the wrong shape: data: expected an array; check that the base URL points at the acme API.',
    );
    expect(error.url).toBe(URL_BASE);
  });

  it('a body that fits the schema is returned even if it has an error field', async () => {
    const response = await answer({ data: [1], error: { message: 'partial' } });
    expect(parseResponse(dataArraySchema, response, 'acme', 'embeddings')).toEqual({ data: [1] });
  });
});

describe('compiled patterns of secrets', () => {
  it('compiles each secret once for the errors of many calls, the most recent kept, at most 256', () => {
    const key = `sk-proj-${'T3stN0tARealK3y'.repeat(11)}`;
    // A text with a `%`, a `\\` or a `&` may hold an encoded form: the patterns are needed.
    const text = `{"error":"Incorrect API key: ${key}","hint":"Bearer ${key}","docs":"https:\\/\\/example.test"}`;
    expect(compileRedaction([key])(text)).toBe(
      '{"error":"Incorrect API key: [REDACTED]","hint":"Bearer [REDACTED]","docs":"https:\\/\\/example.test"}',
    );
    compileRedaction([key, `Bearer ${key}`])(text);
    const kept = keptSecretPatterns();
    // The key, its bearer form and their base64 forms, each once, however many errors redact them.
    for (let call = 0; call < 5; call++) compileRedaction([key, `Bearer ${key}`])(text);
    expect(keptSecretPatterns().filter((secret) => secret === key)).toEqual([key]);
    expect(keptSecretPatterns().includes(`Bearer ${key}`)).toBe(true);
    expect(keptSecretPatterns().length).toBe(kept.length);
    // Secrets of fewer than 12 bytes have no base64 forms: 258 of them leave 256, the newest.
    const short = (index: number) => `s-${String(index).padStart(6, '0')}`;
    for (let other = 0; other < 258; other++) redact('100%', [short(other)]);
    expect(keptSecretPatterns()).toEqual(Array.from({ length: 256 }, (_, index) => short(index + 2)));
    // One used again is kept ahead of the others: the oldest unused goes.
    redact('100%', [short(2)]);
    redact('100%', ['s-new-01']);
    const now = keptSecretPatterns();
    expect([now.length, now[0], ...now.slice(-2)]).toEqual([256, short(4), short(2), 's-new-01']);
    // One redaction of more secrets than are kept finds every one of them.
    const many = Array.from({ length: 300 }, (_, index) => `m-${String(index).padStart(6, '0')}`);
    expect(redact(`100%: ${many[0]} ${many[299]}`, many)).toBe('100%: [REDACTED] [REDACTED]');
    expect(compileRedaction([key])(text)).toBe(
      '{"error":"Incorrect API key: [REDACTED]","hint":"Bearer [REDACTED]","docs":"https:\\/\\/example.test"}',
    );
  });

  it('a redaction of more secrets than are kept compiles each once, however many texts it redacts', () => {
    // Each redaction holds the patterns it used. Without that, its second text compiled again the 44 the
    // cache had let go, and pushed out of the cache the patterns other calls had made since.
    const many = Array.from({ length: 300 }, (_, index) => `h-${String(index).padStart(6, '0')}`);
    const redaction = compileRedaction(many);
    expect(redaction(`100%: ${many[0]} ${many[299]}`)).toBe('100%: [REDACTED] [REDACTED]');
    expect(keptSecretPatterns()).toEqual(many.slice(44));
    redact('100%', ['s-probe-01']);
    const before = keptSecretPatterns();
    expect(before.at(-1)).toBe('s-probe-01');
    expect(redaction(`100%: ${many[0]} ${many[150]}`)).toBe('100%: [REDACTED] [REDACTED]');
    expect(keptSecretPatterns()).toEqual(before);
  });

  it('finds a secret in a text that can hold no encoded form without building its pattern', () => {
    const before = keptSecretPatterns();
    const key = 'gw-test-not-a-real-token-0123456789';
    expect(redact(`{"error":"bad token ${key}"} (${key})`, [key])).toBe(
      '{"error":"bad token [REDACTED]"} ([REDACTED])',
    );
    expect(keptSecretPatterns()).toEqual(before);
    // One mark is enough for the patterns to run: the encoded form is found.
    expect(redact('bad token gw-test-not-a-real-token-012345678%39, more', [key])).toBe(
      'bad token [REDACTED], more',
    );
    expect(keptSecretPatterns().includes(key)).toBe(true);
  });

  it("builds a secret's whole pattern only for a text where its first characters are found", () => {
    const key = `gw-test-${'NotARealToken'.repeat(8)}`;
    expect(redact('Quota 100% used, see https://example.test/?a=1&b=2', [key])).toBe(
      'Quota 100% used, see https://example.test/?a=1&b=2',
    );
    expect(keptSecretPatterns().includes(key)).toBe(true);
    expect(builtWholePatterns().includes(key)).toBe(false);
    // Its start alone, then the whole key with one character encoded.
    expect(redact(`100%: ${key.slice(0, 20)}`, [key])).toBe(`100%: ${key.slice(0, 20)}`);
    expect(builtWholePatterns().includes(key)).toBe(true);
    expect(
      redact(`100%: ${key.slice(0, 30)}%${key.charCodeAt(30).toString(16)}${key.slice(31)}.`, [key]),
    ).toBe('100%: [REDACTED].');
  });

  it('takes the first characters of a secret by code point: one of two code units is never cut in half', () => {
    const key = 'sk-test-abc\u{1F600}-0123456789';
    expect(redact(`100%: ${encodeURIComponent(key)}`, [key])).toBe('100%: [REDACTED]');
    expect(redact(`100%: ${JSON.stringify(key).replace('\u{1F600}', '\\ud83d\\ude00')}`, [key])).toBe(
      '100%: "[REDACTED]"',
    );
  });
});

describe('base64 wrapped into lines', () => {
  const token = btoa(`fake-user:${'not-a-real-password-'.repeat(4)}+?>`);
  const wrapped = (text: string, at = 76) => text.match(new RegExp(`.{1,${at}}`, 'g'))!.join('\r\n');
  const secrets = secretsOfCall(URL_BASE, { 'proxy-authorization': `Basic ${token}` });

  it('finds a token wrapped at 76 columns whose +, / and = a JSON writer or a query encoded', () => {
    expect(token).toContain('+');
    const forms = [
      JSON.stringify(wrapped(token)).replace(/\+/g, '\\u002B'),
      JSON.stringify(wrapped(token)).replace(/\//g, '\\/'),
      encodeURIComponent(wrapped(token)),
    ];
    for (const form of forms) {
      const out = compileRedaction(secrets)(`echo: ${form}`);
      expect(out).toContain('[REDACTED]');
      expect(out).not.toContain(token.slice(20, 40));
      expect(out).not.toContain(token.slice(-30, -10));
    }
  });

  it('finds a wrapped run that starts right after an escaped or percent-encoded line break', () => {
    // Bug: the run could start only after a character base64 does not hold, and the `n` of `\n` or the
    // `A` of `%0A` is one it holds: the run was never found, and the token crossed its break unredacted.
    const key = 'fake-token-not-real-just-padding-for-a-test';
    const echoed = btoa(`Authorization: Bearer ${key}; x-request-id: 0123456789abcdef0123456789`);
    const lines = wrapped(echoed).replace(/\r\n/g, '\n');
    const keys = secretsOfCall(URL_BASE, { authorization: `Bearer ${key}` });
    for (const text of [JSON.stringify({ body: `echo\n${lines}` }), `echo%0A${encodeURIComponent(lines)}`]) {
      const out = compileRedaction(keys)(text);
      expect(out).toContain('[REDACTED]');
      expect(out).not.toContain(echoed.slice(40, 70));
    }
  });

  it('finds a Proxy-Authorization token whose first line, after the header name, holds fewer than 60 characters', () => {
    // Bug: a wrapped run had to start with a line of 60 characters. A header echoed at 76 columns keeps
    // 49 of the token on its own line, so the run was not found: the header's pattern took that line, and
    // the rest of the token, on the next, was shown.
    const header = `Proxy-Authorization: Basic ${token}`;
    const expected = '<pre>Proxy-Authorization: Basic [REDACTED]\r\nVia: 1.1 gw</pre>';
    expect(header.indexOf(token.slice(48, 52))).toBeLessThan(76);
    // Folded as HTTP/1.1 once allowed (obs-fold: a line break and a space), and wrapped without a fold.
    for (const lineBreak of ['\r\n ', '\r\n\t', '\n']) {
      const echoed = `<pre>${wrapped(header).replaceAll('\r\n', lineBreak)}\r\nVia: 1.1 gw</pre>`;
      expect(compileRedaction(secrets)(echoed)).toBe(expected);
      // A cassette's scrubbing, which finds the given secrets only.
      expect(compileRedaction(secrets, { patterns: false })(echoed)).toBe(expected);
    }
  });

  it('keeps the line of prose after a wrapped token whose last line is 60 characters or more', () => {
    // The token has no padding and its last line holds 75 characters, so the word that starts the next
    // line is base64 to the run's pattern. Bug: it was joined to the token and redacted with it
    // ("Basic [REDACTED] by the proxy"), or glued to it when only the given secrets are removed.
    const header = `Proxy-Authorization: Basic ${token}`;
    expect(token.endsWith('=')).toBe(false);
    expect(wrapped(header).split('\r\n').at(-1)).toHaveLength(75);
    for (const lineBreak of ['\r\n ', '\n']) {
      const echoed = `<pre>${wrapped(header).replaceAll('\r\n', lineBreak)}\r\nrefused by the proxy</pre>`;
      const expected = '<pre>Proxy-Authorization: Basic [REDACTED]\r\nrefused by the proxy</pre>';
      expect(compileRedaction(secrets)(echoed)).toBe(expected);
      expect(compileRedaction(secrets, { patterns: false })(echoed)).toBe(expected);
    }
    // A last line that padding ends is the token's, though no secret reaches it: redacted with the token.
    const padded = btoa(`fake-user:${'not-a-real-password-'.repeat(4)}+?>x`);
    const split = `<pre>Proxy-Authorization: Basic ${padded.slice(0, 40)}\r\n${padded.slice(40, -4)}\r\n${padded.slice(-4)}\r\nrefused by the proxy</pre>`;
    expect(padded.slice(-4)).toBe('eA==');
    expect(compileRedaction(secrets)(split)).toBe(
      '<pre>Proxy-Authorization: Basic [REDACTED]\r\nrefused by the proxy</pre>',
    );
    // The same after base64 wrapped without a header's name: two lines of 76, the password across them.
    const longer = btoa(`fake-user:${'not-a-real-password-'.repeat(4)}+?>${'x'.repeat(21)}`);
    const scrub = compileRedaction(secrets, { patterns: false });
    expect(
      wrapped(longer)
        .split('\r\n')
        .map((line) => line.length),
    ).toEqual([76, 76]);
    expect(scrub(longer)).toContain('[REDACTED]');
    expect(scrub(`${wrapped(longer)}\nrefused by the proxy`)).toBe(`${scrub(longer)}\nrefused by the proxy`);
  });

  it.each([
    ['a scheme alone, then prose', 'Proxy-Authorization: Basic\r\n realm="gateway" asks to sign in'],
    ['another short token, folded', 'Authorization: Basic dXNlcjpvdGhlcg==\r\n Via: 1.1 gw\r\nretry later'],
    [
      'a word after the header, then words',
      'authorization: required\nplease sign in again with your password',
    ],
    [
      "the token's first characters, then other lines",
      `Authorization: Basic ${token.slice(0, 12)}\nlater on\n${'QUJD'.repeat(16)}\nQUJD`,
    ],
  ])(
    'keeps the lines after an authorization header readable when no secret runs across them: %s',
    (_name, text) => {
      expect(compileRedaction(secrets, { patterns: false })(text)).toBe(text);
    },
  );

  it('keeps the lines of wrapped base64 whose secret lies within one line', () => {
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3';
    const text = `${line}\r\n${line.replace('ZWZnaGlq', 'c2VjcmV0')}\r\nQUJD`;
    expect(compileRedaction(['c2VjcmV0'])(text)).toBe(
      `${line}\r\n${line.replace('ZWZnaGlq', '[REDACTED]')}\r\nQUJD`,
    );
  });
});
