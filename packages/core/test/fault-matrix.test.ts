/**
 * The transport fault matrix: every way a call can fail, on both transports, against two loopback
 * servers. Origin A is the API; origin B is another origin that a followed redirect would reach, and it
 * counts every request. For every failure the matrix checks that B saw nothing and that no secret (the
 * key in each auth header kind, a credential query value, a URL password) appears in any field of the
 * error, its string, its stack, what `console.error` prints, or anything down its cause chain.
 * Each row names the bug it catches.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  EmbedKitError,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  TimeoutError,
} from '../src/errors.js';
import { type ParsedError, requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import type { Transport } from '../src/http/transport.js';
import { createUndiciTransport } from '../src/http/undici-transport.js';
import { parseResponse } from '../src/provider-utils.js';
import {
  dataArraySchema,
  REVIEWED_ERROR_FIELDS,
  SECRET_QUERY_NAMES,
  walkForSecrets,
} from './http-helpers.js';

/** A slash, a quote and a backslash, so that every JSON escape of the key differs from the key. */
const KEY = 'sk-Fm/9Qx+Zp"7Wm\\3kTb';
const QUERY_SECRET = 'qs-Vn4/Rt+8Ly=Hc2';
const PASSWORD = 'pw-Jd6/Kq+3Ns';
const SECRETS = [KEY, QUERY_SECRET, PASSWORD];

const AUTH_HEADERS: Record<string, Record<string, string>> = {
  'Authorization: Bearer': { authorization: `Bearer ${KEY}` },
  'api-key (Azure)': { 'api-key': KEY },
  'x-goog-api-key (Gemini)': { 'x-goog-api-key': KEY },
};

const TRANSPORTS: Record<string, () => Transport> = {
  fetch: () => createFetchTransport(),
  undici: () => createUndiciTransport(),
};

type Handler = (request: IncomingMessage, response: ServerResponse, origins: Origins) => void;

interface Origin {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  host: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  handler: Handler;
}

interface Origins {
  a: Origin;
  b: Origin;
}

async function startOrigin(defaultHandler: Handler): Promise<Origin> {
  const origin = { requests: [], handler: defaultHandler } as unknown as Origin;
  origin.server = createServer((request, response) => {
    origin.requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
    });
    request.resume();
    request.on('end', () => origin.handler(request, response, origins));
  });
  await new Promise<void>((resolve) => origin.server.listen(0, '127.0.0.1', resolve));
  origin.host = `127.0.0.1:${(origin.server.address() as AddressInfo).port}`;
  origin.url = `http://${origin.host}`;
  return origin;
}

/** B answers like a working API, so that a followed redirect would look like a success. */
const SUCCESS_BODY = '{"data":[{"index":0,"embedding":[0.5]}]}';
function answerSuccess(_request: IncomingMessage, response: ServerResponse) {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(SUCCESS_BODY);
}

let origins: Origins;
const pending: ServerResponse[] = [];

/** Reads `{"error": {"message"}}`, `{"error": "…"}` and `{"detail": "…"}` as the providers do. */
function parseError(body: unknown): ParsedError {
  const { error, detail } = body as { error?: { message?: unknown } | string; detail?: unknown };
  if (typeof error === 'string') return { message: error };
  if (typeof error?.message === 'string') return { message: error.message };
  if (typeof detail === 'string') return { message: detail };
  return {};
}

/** How a JSON string literal spells the key, with only the escapes JSON requires. */
const jsonKey = JSON.stringify(KEY).slice(1, -1);
const unicodeEscaped = (text: string) =>
  [...text].map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
/** Every other character `\uXXXX`, the rest as JSON requires it; slashes as `\/`. */
const mixedEscaped = [...KEY]
  .map((character, index) =>
    index % 2 === 0 ? unicodeEscaped(character) : JSON.stringify(character).slice(1, -1).replace('/', '\\/'),
  )
  .join('');

function jsonAnswer(status: number, body: string, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
}

interface Row {
  name: string;
  /** The bug this row catches. */
  catches: string;
  handler: Handler;
  /** The URL called; default `${A}/v1/embeddings`. */
  url?: (origins: Origins) => string;
  /** Checks the class and what the message says. */
  expectError: (error: EmbedKitError, origins: Origins, transport: string) => void;
  /** Abort the call (as the engine's timeout does) once A has the request. */
  abortWith?: () => unknown;
  /** Run with each auth header kind, not only one. */
  everyAuthHeader?: boolean;
}

const rows: Row[] = [];

// --- Redirects: never followed, reported with the Location redacted, on every status and auth header.
for (const status of [301, 302, 303, 307, 308]) {
  rows.push({
    name: `${status} redirect to another origin`,
    everyAuthHeader: true,
    catches:
      'fetch following the redirect (the api-key / x-goog-api-key header reaches origin B), or undici reporting it as a 400-class "check the inputs"',
    handler: (_request, response, { b }) => {
      response.writeHead(status, {
        location: `${b.url}/v1/embeddings?key=${encodeURIComponent(QUERY_SECRET)}`,
      });
      response.end();
    },
    expectError: (error, { b }) => {
      expect(InvalidResponseError.isInstance(error), error.message).toBe(true);
      expect(error.code).toBe('invalid_response');
      expect(error.statusCode).toBe(status);
      expect(error.isRetryable).toBe(false);
      expect(error.message).toContain(
        `status ${status}, a redirect to ${b.url}/v1/embeddings?key=[REDACTED]`,
      );
      expect(error.message).toContain('check that the base URL points at the address the API answers at.');
      expect(error.message).not.toMatch(/check the inputs/i);
    },
  });
}
rows.push(
  {
    name: '302 redirect whose Location carries userinfo',
    catches: 'a Location quoted with its user:password',
    handler: (_request, response, { b }) => {
      response.writeHead(302, { location: `http://user:${encodeURIComponent(PASSWORD)}@${b.host}/v1` });
      response.end();
    },
    expectError: (error, { b }) => {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`a redirect to http://[REDACTED]@${b.host}/v1`);
    },
  },
  {
    name: '307 redirect to a relative Location',
    catches: 'a relative Location reported without the origin it resolves against',
    handler: (_request, response) => {
      response.writeHead(307, { location: '/v2/embeddings' });
      response.end();
    },
    expectError: (error, { a }) => {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`a redirect to ${a.url}/v2/embeddings`);
    },
  },
);

// --- Error statuses whose body echoes the key, in every form a body can spell it.
const echoForms: { name: string; contentType: string; body: string }[] = [
  { name: 'raw', contentType: 'application/json', body: `{"error":{"message":"invalid key ${jsonKey}"}}` },
  {
    name: 'slashes escaped as \\/',
    contentType: 'application/json',
    body: `{"error":{"message":"invalid key ${jsonKey.replaceAll('/', '\\/')}"}}`,
  },
  {
    name: 'every character \\uXXXX',
    contentType: 'application/json',
    body: `{"error":{"message":"invalid key ${unicodeEscaped(KEY)}"}}`,
  },
  {
    name: 'mixed \\uXXXX, \\/, \\" and \\\\',
    contentType: 'application/json',
    body: `{"error":{"message":"invalid key ${mixedEscaped}"}}`,
  },
  {
    name: 'escaped twice (a JSON body quoted inside a JSON string)',
    contentType: 'application/json',
    body: JSON.stringify({ error: { message: `upstream said ${JSON.stringify({ key: KEY })}` } }),
  },
  {
    name: 'percent-encoded in a quoted URL',
    contentType: 'application/json',
    body: `{"error":{"message":"GET /v1?x=${encodeURIComponent(KEY)} refused"}}`,
  },
  { name: 'plain text', contentType: 'text/plain', body: `upstream rejected ${KEY}` },
  {
    name: 'HTML page with character references',
    contentType: 'text/html',
    body: `<html><body><p>Denied: ${[...KEY].map((character, index) => (index % 2 === 0 ? `&#${character.charCodeAt(0)};` : character === '"' ? '&quot;' : character)).join('')}</p></body></html>`,
  },
];
for (const form of echoForms) {
  for (const status of [401, 503]) {
    rows.push({
      name: `${status} echoing the key (${form.name})`,
      catches: 'a key left in message or responseBody in one of its escaped forms',
      handler: (_request, response) => {
        response.writeHead(status, { 'content-type': form.contentType });
        response.end(form.body);
      },
      expectError: (error) => {
        expect(error.statusCode).toBe(status);
        expect(error.code).toBe(status === 401 ? 'authentication' : 'server_error');
        expect(error.responseBody).toContain('[REDACTED]');
      },
    });
  }
}
for (const status of [400, 403, 404, 409, 413, 422, 429, 500, 502]) {
  rows.push({
    name: `${status} echoing the key`,
    catches: 'an error status whose mapping skips redaction',
    handler: jsonAnswer(status, JSON.stringify({ error: { message: `bad request for key ${KEY}` } })),
    expectError: (error) => {
      expect(error.statusCode).toBe(status);
      expect(error.message).toContain('bad request for key [REDACTED]');
    },
  });
}

// --- The key in a header that becomes `requestId`.
for (const header of ['x-request-id', 'request-id', 'x-goog-request-id']) {
  rows.push({
    name: `500 with the key in ${header}`,
    catches: 'requestId copied unredacted from a response header',
    handler: jsonAnswer(500, '{"error":{"message":"boom"}}', { [header]: KEY }),
    expectError: (error) => {
      expect(error.requestId).toBe('[REDACTED]');
    },
  });
}

// --- A credential in the URL query, under every name APIs use for one (not passed as a secret).
for (const name of [...SECRET_QUERY_NAMES, 'KEY', 'Api-Key', 'SIG']) {
  rows.push({
    name: `400 for a URL with ?${name}=<secret>, echoing the URL`,
    catches: `the value of ${name} kept in url, message or responseBody`,
    url: ({ a }) => `${a.url}/v1/embeddings?alt=json&${name}=${encodeURIComponent(QUERY_SECRET)}`,
    handler: (request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: { message: `bad request ${request.url} (${name} is ${QUERY_SECRET})` },
        }),
      );
    },
    expectError: (error, { a }) => {
      expect(InvalidRequestError.isInstance(error)).toBe(true);
      expect(error.url).toBe(`${a.url}/v1/embeddings?alt=json&${name}=[REDACTED]`);
    },
  });
}

// --- Userinfo in the base URL.
rows.push({
  name: 'a base URL with user:password@',
  catches: 'the call sent without its credentials (undici) or refused as a retried network error (fetch)',
  url: ({ a }) => `http://user:${encodeURIComponent(PASSWORD)}@${a.host}/v1/embeddings`,
  handler: jsonAnswer(401, JSON.stringify({ error: { message: 'no credentials' } })),
  expectError: (error, { a }) => {
    // Refused before anything is sent, on both transports alike, without the URL.
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(
      "acme: the request URL holds a user name or password (user:password@); credentials in the URL are not sent. Remove them and pass the API key as the apiKey setting (a gateway's own credentials go in the headers setting).",
    );
    expect(a.requests).toEqual([]);
  },
});

// --- Transport failures.
rows.push(
  {
    name: 'connection reset',
    catches: 'the raw transport error (which may quote the URL) kept as the cause',
    url: ({ a }) => `${a.url}/v1/embeddings?key=${encodeURIComponent(QUERY_SECRET)}`,
    handler: (request) => request.socket.destroy(),
    expectError: (error) => {
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(true);
      expect(error.message).toContain('?key=[REDACTED]');
    },
  },
  {
    name: 'timeout (the engine aborts the attempt with a TimeoutError)',
    catches: 'a transport that wraps the abort reason in an error of its own',
    handler: (_request, response) => {
      pending.push(response);
    },
    abortWith: () => new TimeoutError('acme model m did not answer within 50 ms (timeoutMs).'),
    expectError: (error) => {
      expect(TimeoutError.isInstance(error)).toBe(true);
      expect(error.message).toBe('acme model m did not answer within 50 ms (timeoutMs).');
    },
  },
);

// --- 2xx answers that are not a result.
rows.push(
  {
    name: '200 with invalid JSON that quotes the key',
    catches: 'the JSON SyntaxError (which quotes the body) kept raw as the cause',
    handler: jsonAnswer(200, `{"data": [${KEY}`),
    expectError: (error) => {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.message).toContain('not valid JSON');
    },
  },
  {
    name: '200 HTML page that quotes the key',
    catches: 'a captive portal page echoed unredacted',
    handler: (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<html>sign in; key ${KEY}</html>`);
    },
    expectError: (error) => {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.message).toContain('text/html');
    },
  },
);
const errorBodiesInSuccess: { name: string; body: unknown; message: string }[] = [
  {
    name: 'OpenAI {"error": {message, type, code}}',
    body: {
      error: {
        message: `Incorrect API key provided: ${KEY}`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      },
    },
    message: 'Incorrect API key provided: [REDACTED]',
  },
  {
    name: 'Gemini {"error": {code, message, status}}',
    body: { error: { code: 400, message: `API key not valid: ${KEY}`, status: 'INVALID_ARGUMENT' } },
    message: 'API key not valid: [REDACTED]',
  },
  {
    name: 'Gemini array-wrapped [{"error": …}]',
    body: [{ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }],
    message: 'The model is overloaded.',
  },
  {
    name: 'Jina / Voyage {"detail": "…"}',
    body: { detail: `Invalid API key ${KEY}` },
    message: 'Invalid API key [REDACTED]',
  },
  {
    name: 'FastAPI validation {"detail": [{loc, msg}]}',
    body: { detail: [{ loc: ['body', 'input', 0], msg: 'field required' }] },
    message: 'field required',
  },
  {
    name: 'a gateway {"error": "…"}',
    body: { error: `quota exceeded for ${KEY}` },
    message: 'quota exceeded for [REDACTED]',
  },
];
for (const shape of errorBodiesInSuccess) {
  rows.push({
    name: `200 carrying an error: ${shape.name}`,
    catches: 'a success status with an error body reported as "wrong shape", losing the server message',
    handler: jsonAnswer(200, JSON.stringify(shape.body)),
    expectError: (error) => {
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(error.statusCode).toBe(200);
      expect(error.message).toContain(shape.message);
      expect(error.message).not.toContain('wrong shape');
    },
  });
}

/** One call as a provider makes it: requestJson with the auth header, then the schema check. */
async function call(row: Row, transport: Transport, headers: Record<string, string>): Promise<unknown> {
  const controller = new AbortController();
  const url = row.url?.(origins) ?? `${origins.a.url}/v1/embeddings`;
  if (row.abortWith !== undefined) {
    const handler = origins.a.handler;
    const reason = row.abortWith();
    origins.a.handler = (request, response, both) => {
      handler(request, response, both);
      controller.abort(reason);
    };
  }
  try {
    const response = await requestJson({
      transport,
      provider: 'acme',
      url,
      headers,
      body: { input: ['x'] },
      signal: controller.signal,
      // As every provider does; a key that is only in a header is redacted too (http-redaction.test.ts).
      secrets: [KEY],
      parseError,
    });
    parseResponse(dataArraySchema, response, 'acme', 'embeddings');
  } catch (error) {
    return error;
  }
  throw new Error(`${row.name}: expected the call to fail`);
}

describe('fault matrix: no request reaches a second origin and no secret reaches an error', () => {
  beforeAll(async () => {
    // The undici transport's default dispatcher reads proxy variables on first use; talk to loopback directly.
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    origins = { a: await startOrigin(answerSuccess), b: await startOrigin(answerSuccess) };
  });

  afterEach(() => {
    for (const response of pending.splice(0)) response.destroy();
    origins.a.requests.length = 0;
    origins.b.requests.length = 0;
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    for (const origin of [origins.a, origins.b]) {
      origin.server.closeAllConnections();
      await new Promise<void>((resolve) => origin.server.close(() => resolve()));
    }
  });

  // Redirects run with every auth header (which header a followed redirect would carry is the point);
  // the other rows take the auth headers in turn, so each kind meets every kind of failure somewhere.
  const authKinds = Object.keys(AUTH_HEADERS);
  const cases = rows.flatMap((row, index) =>
    Object.keys(TRANSPORTS).flatMap((transport) =>
      (row.everyAuthHeader ? authKinds : [authKinds[index % authKinds.length]!]).map((auth) => ({
        row,
        transport,
        auth,
      })),
    ),
  );

  it.each(cases)('$transport · $auth · $row.name', async ({ row, transport, auth }) => {
    origins.a.handler = row.handler;
    const error = await call(row, TRANSPORTS[transport]!(), AUTH_HEADERS[auth]!);
    expect(EmbedKitError.isInstance(error), `${row.catches}: got ${String(error)}`).toBe(true);
    row.expectError(error as EmbedKitError, origins, transport);

    expect(origins.b.requests, `${row.catches}: a request reached origin B`).toEqual([]);
    expect(origins.a.requests.length).toBeLessThanOrEqual(1);

    const walk = walkForSecrets(error, SECRETS);
    expect(walk.leaks, row.catches).toEqual([]);
    expect(
      walk.unreviewed,
      'a new error field: review it for secrets and add it to REVIEWED_ERROR_FIELDS',
    ).toEqual([]);
    // The walk reached every field the error has, down the cause chain.
    for (const key of Object.keys(error as object)) expect(walk.visited).toContain(key);
    expect(walk.visited).toEqual(expect.arrayContaining(['message', 'stack']));
  });

  it('the walk catches a planted leak in every field kind it claims to cover', () => {
    const planted = new InvalidResponseError('clean', { provider: 'acme', url: 'https://a.test/' });
    const cause = new Error('clean cause');
    cause.stack = `Error: clean cause\n    at fetch (https://a.test/?key=${encodeURIComponent(KEY)})`;
    const nested = Object.assign(new Error('outer'), {
      cause,
      errors: [new Error(`inner ${unicodeEscaped(KEY)}`)],
    });
    Object.assign(planted, { responseBody: `{"k":"${jsonKey.replaceAll('/', '\\/')}"}`, cause: nested });
    Object.defineProperty(planted, 'hidden', { value: PASSWORD, enumerable: false });
    const walk = walkForSecrets(planted, SECRETS);
    const paths = walk.leaks.map((leak) => leak.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining(['responseBody', 'cause.cause.stack', 'cause.errors.0.message', 'hidden']),
    );
    expect(walk.unreviewed).toEqual(['.hidden']);
    expect(REVIEWED_ERROR_FIELDS.has('hidden')).toBe(false);
  });
});
