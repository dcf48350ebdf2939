/**
 * How secrets are kept out of error text (redact.ts) and how the fetch transport reads an answer
 * (fetch-transport.ts, transport.ts), pinned where the rest of the suite left them loose: which header and
 * query parameter names carry a credential (rate-limit counters aside), where a credential parameter, a key
 * header quoted as text, a bearer token and URL userinfo start and stop, every encoding of a given secret
 * (mixed forms, HTML references with leading zeros, characters outside the BMP), which secrets a call
 * carries, the copy of a cause chain, the cut of a body excerpt, and the fetch transport's handling of a
 * redirect, a declared length and a pending read. Each case fails on at least one mutant of those files
 * that the rest of the suite let through. Every key here is an obviously fake test value.
 */
import { describe, expect, it } from 'vitest';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import {
  bodyExcerpt,
  compileRedaction,
  isSecretHeaderName,
  isSecretParameterName,
  redact,
  redactCause,
  redactGivenUrl,
  secretsOfCall,
} from '../src/http/redact.js';
import { concatChunks, ResponseTooLargeError, type TransportRequest } from '../src/http/transport.js';
import { rejection, tick } from './helpers.js';
import { recordingFetch, URL_BASE } from './http-helpers.js';

const R = '[REDACTED]';

describe('isSecretHeaderName: the headers whose value is a credential', () => {
  it.each([
    'set-cookie',
    'x-license-key',
    'x-gateway-token',
    'x-client-secret',
    'x-db-password',
    'x-amz-signature',
    'x-amz-credential',
    'x-auth',
    'x-auth-user',
    'x-ratelimited-token',
    'my-ratelimit-token',
  ])('%s is one', (name) => {
    expect(isSecretHeaderName(name)).toBe(true);
  });

  it.each([
    'x-ratelimit-remaining-tokens',
    'ratelimit-remaining-tokens',
    'X-RateLimit-Limit-Tokens',
    'content-type',
    'openai-project',
    'x-request-id',
  ])('%s is not (a rate-limit counter counts tokens, it carries none)', (name) => {
    expect(isSecretHeaderName(name)).toBe(false);
  });
});

describe('isSecretParameterName: the query parameters whose value is a credential', () => {
  const names = [
    'key',
    'api_key',
    'apikey',
    'api-key',
    'x-api-key',
    'x-goog-api-key',
    'subscription-key',
    'code',
    'sig',
    'signature',
    'access_token',
    'refresh_token',
    'id_token',
    'token',
    'client_secret',
    'password',
  ];
  it.each(names)('%s is one, in any case, and its value is redacted in a URL', (name) => {
    expect(isSecretParameterName(name)).toBe(true);
    expect(isSecretParameterName(name.toUpperCase())).toBe(true);
    expect(redact(`https://x.test/v1?${name}=s3cr3t-v4lue&b=1`)).toBe(`https://x.test/v1?${name}=${R}&b=1`);
  });

  it('a spelling with - and _ swapped or left out is one in text, not as a name', () => {
    const text =
      'a?x_api_key=v1&accesstoken=v2&client-secret=v3&subscription_key=v4&x_goog_api_key=v5&refresh-token=v6';
    expect(redact(text)).toBe(
      `a?x_api_key=${R}&accesstoken=${R}&client-secret=${R}&subscription_key=${R}&x_goog_api_key=${R}&refresh-token=${R}`,
    );
    expect(isSecretParameterName('accesstoken')).toBe(false);
    expect(isSecretParameterName('x-api')).toBe(false);
  });
});

describe('redact: where a credential parameter starts', () => {
  it('at the very start of the text (a form body)', () => {
    expect(redact('api_key=s3cr3t&input=a')).toBe(`api_key=${R}&input=a`);
  });

  it('not after -, . or % (the name only ends a longer one)', () => {
    const text = 'https://x.test/?sort-key=created&error.code=E42&x=50%code=1';
    expect(redact(text)).toBe(text);
  });

  it('after a %3f or %3F and up to a %3d or %3D, in a URL nested in a query', () => {
    expect(redact('next=https%3a%2f%2fx.test%2f%3fkey%3ds3cr3t%26b%3d1')).toBe(
      `next=https%3a%2f%2fx.test%2f%3fkey%3d${R}`,
    );
    expect(redact('next=https%3A%2F%2Fx.test%2F%3Fsig%3Ds3cr3t')).toBe(
      `next=https%3A%2F%2Fx.test%2F%3Fsig%3D${R}`,
    );
  });
});

describe('redact: where the value of a credential parameter stops', () => {
  it.each([
    ["<a href='https://x.test/?key=s3cr3t'>", `<a href='https://x.test/?key=${R}'>`],
    ['<https://x.test/?key=s3cr3t>', `<https://x.test/?key=${R}>`],
    ['<p>key=s3cr3t</p>', `<p>key=${R}</p>`],
    ['run `curl https://x.test/?key=s3cr3t` again', `run \`curl https://x.test/?key=${R}\` again`],
    ['"key=s3cr3t\\nnext line"', `"key=${R}\\nnext line"`],
    ['key=s3cr3t\ttab', `key=${R}\ttab`],
    ['{"u":"https://x.test/?key=s3cr3t","v":1}', `{"u":"https://x.test/?key=${R}","v":1}`],
    ['key=s3cr3t(retry)', `key=${R}(retry)`],
  ])('%s', (text, redacted) => {
    expect(redact(text)).toBe(redacted);
  });

  it('at a JSON-escaped quote, apostrophe, < or > (in either case of hex), so the rest of the string is kept', () => {
    const html =
      '{"html":"\\u003ca href=\\u0022https://x.test/?key=s3cr3t\\u0022\\u003elink\\u003c/a\\u003e"}';
    expect(redact(html)).toBe(
      `{"html":"\\u003ca href=\\u0022https://x.test/?key=${R}\\u0022\\u003elink\\u003c/a\\u003e"}`,
    );
    expect(redact("{'u':'key=s3cr3t\\u0027,'v':1}")).toBe(`{'u':'key=${R}\\u0027,'v':1}`);
    expect(redact('"key=s3cr3t\\u003Cbr\\u003E"')).toBe(`"key=${R}\\u003Cbr\\u003E"`);
    expect(redact('"key=s3cr3t\\u003Ebr"')).toBe(`"key=${R}\\u003Ebr"`);
    expect(redact('"key=s3cr3t\\u003cbr"')).toBe(`"key=${R}\\u003cbr"`);
  });

  it('not at another JSON \\uXXXX escape inside the value, in either case of hex', () => {
    expect(redact('"https://x.test/?key=ab\\u002bcd\\u002Bef&x=1"')).toBe(`"https://x.test/?key=${R}&x=1"`);
  });
});

describe('redact: key headers quoted as text', () => {
  it.each([
    ['x-api-key: sk-test-1', `x-api-key: ${R}`],
    ['Ocp-Apim-Subscription-Key: sk-test-1', `Ocp-Apim-Subscription-Key: ${R}`],
    ['{"x-api-key" : "sk-test-1"}', `{"x-api-key" : "${R}"}`],
    ["{'api-key': 'sk-test-1'}", `{'api-key': '${R}'}`],
    ['<td>api-key=sk-test-1</td>', `<td>api-key=${R}</td>`],
    ['api-key:sk-test-1, api-version: 2024', `api-key:${R}, api-version: 2024`],
    ['api-key:sk-test-1; path=/', `api-key:${R}; path=/`],
    ['api-key:sk-test-1#frag', `api-key:${R}#frag`],
    ['"api-key:sk-test-1\\nnext"', `"api-key:${R}\\nnext"`],
    ['api-key:\tsk-test-1', `api-key:\t${R}`],
    ['api-key = sk-test-1', `api-key = ${R}`],
    ['<api-key:sk-test-1>', `<api-key:${R}>`],
  ])('%s', (text, redacted) => {
    expect(redact(text)).toBe(redacted);
  });
});

describe('redact: bearer tokens', () => {
  it.each([
    ['bearer sk-test_ab-cd~ef.gh', `bearer ${R}`],
    ['BEARER sk-test', `BEARER ${R}`],
    ['Authorization: Bearer  sk-test-two-spaces', `Authorization: Bearer  ${R}`],
    ['"Bearer ab\\/cd+ef=="', `"Bearer ${R}"`],
  ])('%s', (text, redacted) => {
    expect(redact(text)).toBe(redacted);
  });

  it('not a word that only ends in bearer', () => {
    expect(redact('the cupbearer of the king')).toBe('the cupbearer of the king');
  });
});

describe('redact: URL userinfo', () => {
  it('in an upper-case scheme', () => {
    expect(redact('HTTPS://bob:hunter2@h.test/')).toBe(`HTTPS://${R}@h.test/`);
  });

  it.each([
    'https://h.test?email=bob@example.test',
    'https://h.test#bob@example.test',
    'https://h.test and bob@example.test',
    '["https://h.test","bob@example.test"]',
    "['https://h.test','bob@example.test']",
    'https://h.test<bob@example.test>',
    '<https://h.test>bob@example.test',
    '"https:\\/\\/h.test\\u0026to=bob@example.test"',
    'file:/bob@example.test',
  ])('not an @ past the authority: %s', (text) => {
    expect(redact(text)).toBe(text);
  });
});

describe('redactGivenUrl: the edges of the userinfo', () => {
  it.each([
    // An empty userinfo still ends at the @ right after scheme://.
    ['https://@h.test/v1', `https://${R}@h.test/v1`],
    ['REDIS://:sk-test-pw@h.test:6379', `REDIS://${R}@h.test:6379`],
    ['a://u:sk-test-pw@h.test', `a://${R}@h.test`],
    // An @ first, or a scheme:// only after the @: nothing says where a password ends.
    ['@sk-test-pw', R],
    ['user:sk-test-pw@h.test/?next=https://x.test/@y', R],
  ])('%s', (given, shown) => {
    expect(redactGivenUrl(given)).toBe(shown);
  });
});

describe('compileRedaction: the given secrets', () => {
  it('a secret of four characters is redacted; one of three is not', () => {
    expect(redact('pin 4821 and abc', ['4821', 'abc'])).toBe(`pin ${R} and abc`);
  });

  it('a secret that holds a shorter one is redacted whole, whatever order they come in', () => {
    expect(redact('key sk-test-9f3e2d', ['9f3e2d', 'sk-test-9f3e2d'])).toBe(`key ${R}`);
    expect(compileRedaction(['9f3e2d', 'sk-test-9f3e2d']).longest).toBe(14);
  });

  it('the word undefined is left alone', () => {
    expect(redact('value undefined', ['sk-test-9f3e2d'])).toBe('value undefined');
  });

  it('every encoded occurrence is redacted, not only the first', () => {
    const encoded = encodeURIComponent('sk-test/9f3e');
    expect(redact(`a ${encoded} b ${encoded}`, ['sk-test/9f3e'])).toBe(`a ${R} b ${R}`);
  });

  it('a form with some characters encoded and a $, ^, |, brackets or parentheses left raw is found', () => {
    const secret = 'sk-te$t^p|w[1](x)';
    expect(redact('x sk%2Dte$t^p|w[1](x) y', [secret])).toBe(`x ${R} y`);
    expect(redact('x \\u0073k-te$t^p|w[1](x) y', [secret])).toBe(`x ${R} y`);
    // Only it: a b where the [ was is another text.
    expect(redact('x sk%2Dte$t^p|wb1](x) y', [secret])).toBe('x sk%2Dte$t^p|wb1](x) y');
  });

  it('an apostrophe escaped with a backslash (a JavaScript or Python literal) is found', () => {
    expect(redact("x = 'sk\\'test-9f3e'", ["sk'test-9f3e"])).toBe(`x = '${R}'`);
  });

  it("HTML references with leading zeros, an upper-case X, or a named & < > '", () => {
    const secret = "sk/t'e&s<t>9";
    expect(redact('a sk&#x02F;t&#039;e&amp;s&lt;t&gt;9 b', [secret])).toBe(`a ${R} b`);
    expect(redact('a sk&#X2f;t&apos;e&#38;s&#60;t&#x3E;9 b', [secret])).toBe(`a ${R} b`);
  });

  it('a character outside the BMP as a surrogate pair of \\u escapes, a decimal or a hex reference', () => {
    const secret = 'sk-test-😀-9f3e';
    expect(redact('a sk-test-\\ud83d\\ude00-9f3e b', [secret])).toBe(`a ${R} b`);
    expect(redact('a sk-test-\\uD83D\\uDE00-9f3e b', [secret])).toBe(`a ${R} b`);
    expect(redact('a sk-test-&#128512;-9f3e b', [secret])).toBe(`a ${R} b`);
    expect(redact('a sk-test-&#x1F600;-9f3e b', [secret])).toBe(`a ${R} b`);
    expect(redact('a sk-test-%F0%9F%98%80-9f3e b', [secret])).toBe(`a ${R} b`);
  });
});

describe('secretsOfCall: the secrets one call carries', () => {
  it('lists exactly the given values, credential header values (of an authorization header, only what follows its scheme) and the token after a scheme, the decoded Basic credentials, the userinfo and the non-empty credential query values', () => {
    const secrets = secretsOfCall(
      'https://:pw%E0%A4%A@h.test/v1?key=&sig=c2lnbmF0dXJl&x=1',
      {
        authorization: ' Bearer  c2stdGVzdC10b2tlbg ',
        'proxy-authorization': `basic ${btoa('sk-test-only')}`,
        'x-api-key': 'Basic !!not-base64',
        'x-auth': 'Digest username="bob", response="6b1f"',
        'content-type': 'application/json',
      },
      ['given-5', undefined],
    );
    expect(secrets).toEqual([
      'given-5',
      'c2stdGVzdC10b2tlbg',
      btoa('sk-test-only'),
      'sk-test-only',
      'Basic !!not-base64',
      '!!not-base64',
      'Digest username="bob", response="6b1f"',
      'username="bob", response="6b1f"',
      'pw%E0%A4%A',
      'pw%E0%A4%A',
      'c2lnbmF0dXJl',
    ]);
  });
});

describe('redactCause: the copy of a cause chain', () => {
  const redaction = compileRedaction(['sk-test-9f3e2d']);

  it('a cause that is a string is redacted', () => {
    const copy = redactCause(
      new Error('fetch failed', { cause: 'key sk-test-9f3e2d refused' }),
      redaction,
    ) as Error;
    expect(copy.cause).toBe(`key ${R} refused`);
  });

  it('keeps eight errors of a chain and drops the rest; the last kept has no cause at all', () => {
    let chain: Error | undefined;
    for (let level = 9; level >= 0; level--) {
      chain =
        chain === undefined ? new Error(`level ${level}`) : new Error(`level ${level}`, { cause: chain });
    }
    const messages: string[] = [];
    let current = redactCause(chain, redaction) as Error | undefined;
    let last: Error | undefined;
    while (current !== undefined) {
      messages.push(current.message);
      last = current;
      current = current.cause as Error | undefined;
    }
    expect(messages).toEqual([
      'level 0',
      'level 1',
      'level 2',
      'level 3',
      'level 4',
      'level 5',
      'level 6',
      'level 7',
    ]);
    expect(Object.hasOwn(last!, 'cause')).toBe(false);
  });

  it('a thrown object that is no Error becomes an Error named Error, its stack its name and message, its booleans kept', () => {
    const copy = redactCause(
      { message: 'boom sk-test-9f3e2d', code: 'E_BOOM', retry: false, attempt: 2, socket: {} },
      redaction,
    ) as Error & Record<string, unknown>;
    expect(copy).toBeInstanceOf(Error);
    expect(copy.name).toBe('Error');
    expect(copy.message).toBe(`boom ${R}`);
    expect(copy.stack).toBe(`Error: boom ${R}`);
    expect({ code: copy.code, retry: copy.retry, attempt: copy.attempt, socket: copy.socket }).toEqual({
      code: 'E_BOOM',
      retry: false,
      attempt: 2,
      socket: undefined,
    });
    expect((redactCause({ code: 'E_BOOM' }, redaction) as Error).message).toBe('[object Object]');
  });

  it('the name of an error is redacted too', () => {
    const error = Object.assign(new Error('denied'), { name: 'KeyError sk-test-9f3e2d' });
    const copy = redactCause(error, redaction) as Error;
    expect(copy.name).toBe(`KeyError ${R}`);
    expect(String(copy)).toBe(`KeyError ${R}: denied`);
  });
});

describe('bodyExcerpt: the cut', () => {
  const none = compileRedaction([]);

  it('a body of exactly the limit is shown whole; one character more is cut', () => {
    expect(bodyExcerpt('a'.repeat(1_000), none)).toBe('a'.repeat(1_000));
    expect(bodyExcerpt('a'.repeat(1_001), none)).toBe(`${'a'.repeat(1_000)}… (1 more characters)`);
  });

  it('userinfo whose @ lies past the limit is still redacted (the margin holds it)', () => {
    const text = `${'x'.repeat(985)}http://u:hunter2-long@h.test/${'y'.repeat(5_000)}`;
    expect(bodyExcerpt(text, none)).toBe(`${'x'.repeat(985)}http://[REDACTE… (5010 more characters)`);
  });

  it('a long secret in its \\u form that starts inside the limit is redacted whole, a shorter secret given too', () => {
    const secret = `sk-test-${'a1'.repeat(96)}`;
    const escaped = [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const text = `${'x'.repeat(900)}${escaped}${'y'.repeat(5_000)}`;
    expect(bodyExcerpt(text, compileRedaction(['sk-test-short', secret]))).toBe(
      `${'x'.repeat(900)}${R}${'y'.repeat(90)}… (4910 more characters)`,
    );
  });

  it('no part of a secret survives the cut when redaction made the head shorter than the limit', () => {
    const escaped = [...'sk-test-abcd']
      .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join('');
    const text = `${escaped.repeat(22)}${'y'.repeat(2_000)}`;
    expect(bodyExcerpt(text, compileRedaction(['sk-test-abcd']))).toBe(
      `${R.repeat(22)}${'y'.repeat(780)}… (1220 more characters)`,
    );
    // Cut inside the ninth copy: the head redacts to 1,048 characters, the last 60 of them part of a copy.
    const late = `${'y'.repeat(908)}${escaped.repeat(9)}${'z'.repeat(3_000)}`;
    expect(bodyExcerpt(late, compileRedaction(['sk-test-abcd']))).toBe(
      `${'y'.repeat(908)}${R.repeat(9)}zz… (2998 more characters)`,
    );
  });
});

/** A body stream of `chunks` that records whether it was cancelled, and with what reason. */
function recordedStream(chunks: Uint8Array[], options: { pending?: boolean } = {}) {
  const state = { cancelled: false, reason: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (options.pending !== true) controller.close();
    },
    cancel(reason) {
      state.cancelled = true;
      state.reason = reason;
    },
  });
  return { stream, state };
}

function transportRequest(overrides: Partial<TransportRequest> = {}): TransportRequest {
  return {
    url: URL_BASE,
    method: 'GET',
    headers: { accept: 'application/json' },
    maxResponseBytes: 1_000,
    ...overrides,
  };
}

describe('the fetch transport', () => {
  it('is of kind fetch, and hands fetch neither a body nor a signal it was not given', async () => {
    const { fetch, sent } = recordingFetch(() => new Response('{}', { status: 200 }));
    const transport = createFetchTransport(fetch);
    expect(transport.kind).toBe('fetch');
    await transport.request(transportRequest());
    expect(Object.keys(sent[0]!.init).sort()).toEqual(['headers', 'method', 'redirect']);
  });

  it("cancels the body of a browser's opaque redirect and answers status 0 with nothing", async () => {
    const { stream, state } = recordedStream([new Uint8Array([1, 2])]);
    const opaque = {
      type: 'opaqueredirect',
      status: 0,
      headers: new Headers(),
      body: stream,
    } as unknown as Response;
    const response = await createFetchTransport(async () => opaque).request(transportRequest());
    expect(response).toEqual({ status: 0, headers: {}, body: new Uint8Array(0) });
    expect(state.cancelled).toBe(true);
  });

  it('accepts a declared length of exactly the cap, refuses one byte more and cancels that body unread', async () => {
    const exact = recordedStream([new Uint8Array(1_000).fill(7)]);
    const fits = await createFetchTransport(
      async () => new Response(exact.stream, { status: 200, headers: { 'content-length': '1000' } }),
    ).request(transportRequest());
    expect(fits.body).toEqual(new Uint8Array(1_000).fill(7));

    const over = recordedStream([new Uint8Array(1_001)]);
    const error = await rejection(
      createFetchTransport(
        async () => new Response(over.stream, { status: 200, headers: { 'content-length': '1001' } }),
      ).request(transportRequest()),
    );
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as ResponseTooLargeError).limit).toBe(1_000);
    expect((error as Error).message).toBe('response body exceeds the 1000-byte limit');
    expect((error as Error).name).toBe('ResponseTooLargeError');
    expect(over.state.cancelled).toBe(true);
  });

  it('joins a body that arrives in several chunks; one that grows past the cap is refused with the cap as its limit', async () => {
    const chunked = recordedStream([new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5, 6])]);
    const response = await createFetchTransport(
      async () => new Response(chunked.stream, { status: 200 }),
    ).request(transportRequest());
    expect(response.body).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6]));

    const growing = recordedStream([new Uint8Array(600), new Uint8Array(600)], { pending: true });
    const error = await rejection(
      createFetchTransport(async () => new Response(growing.stream, { status: 200 })).request(
        transportRequest(),
      ),
    );
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as ResponseTooLargeError).limit).toBe(1_000);
    expect((error as Error).message).toBe('response body exceeds the 1000-byte limit');
    expect(growing.state.cancelled).toBe(true);
  });

  it('an abort while a read is pending cancels the body with the reason', async () => {
    const { stream, state } = recordedStream([new Uint8Array([1])], { pending: true });
    const controller = new AbortController();
    const reason = new Error('stopped by the caller');
    const pending = rejection(
      createFetchTransport(async () => new Response(stream, { status: 200 })).request(
        transportRequest({ signal: controller.signal }),
      ),
    );
    await tick();
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(state.cancelled).toBe(true);
    expect(state.reason).toBe(reason);
  });
});

describe('concatChunks', () => {
  it('returns a lone chunk that owns its whole buffer as it is', () => {
    const chunk = new Uint8Array([1, 2, 3]);
    expect(concatChunks([chunk], 3)).toBe(chunk);
  });

  it('copies a lone chunk that is a view into a larger buffer, at its start or further in', () => {
    const buffer = new ArrayBuffer(8);
    for (const chunk of [new Uint8Array(buffer, 0, 3), new Uint8Array(buffer, 4, 3)]) {
      chunk.set([1, 2, 3]);
      const joined = concatChunks([chunk], 3);
      expect(joined).not.toBe(chunk);
      expect(joined).toEqual(new Uint8Array([1, 2, 3]));
      expect(joined.buffer.byteLength).toBe(3);
    }
  });

  it('joins two chunks even when the first is a view at the start of a buffer of the total size', () => {
    const first = new Uint8Array(new ArrayBuffer(5), 0, 2);
    first.set([1, 2]);
    expect(concatChunks([first, new Uint8Array([3, 4, 5])], 5)).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  });
});
