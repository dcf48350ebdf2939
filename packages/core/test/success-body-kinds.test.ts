/**
 * A 2xx answer whose body is no answer at all reads as what it is, on both transports and on the float
 * fast path (`floatVectors`) alike: an empty body (no bytes, or white space only) and a JSON `null` are
 * called so, where they read as a schema problem (`(root): expected object, got undefined`) with a hint
 * to check a `baseURL` the caller may never have set; a text that is not JSON is called invalid JSON and
 * quoted, and JSON cut short is called cut short, on every path alike. Each keeps the status and the
 * request id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidResponseError } from '../src/errors.js';
import { createTransport, type RequestJsonOptions } from '../src/http/client.js';
import type { Transport } from '../src/http/transport.js';
import { embedMany } from '../src/index.js';
import { parseResponse } from '../src/provider-utils.js';
import {
  acmeRequest,
  dataArraySchema,
  describeMockAgent,
  requestJsonModel,
  startLoopback,
} from './http-helpers.js';

const ORIGIN = 'http://acme.test';
const PATH = '/v1/embeddings';
const PROXY_HINT = 'A proxy or gateway between you and the API may be answering instead of it.';
const BASE_URL_HINT = 'check that the base URL points at the acme API.';

/** Bodies, the content type each is sent with, and the message each must read as. */
const CASES: { name: string; body: string; contentType: string; message: string }[] = [
  {
    name: 'an empty body',
    body: '',
    contentType: 'application/json',
    message: `acme returned status 200 with an empty body; ${BASE_URL_HINT}`,
  },
  {
    name: 'a body of white space only',
    body: ' \r\n\t ',
    contentType: 'application/json',
    message: `acme returned status 200 with an empty body; ${BASE_URL_HINT}`,
  },
  {
    name: 'a JSON null',
    body: 'null\n',
    contentType: 'application/json',
    message: `acme returned status 200 with a JSON null; ${BASE_URL_HINT}`,
  },
  {
    name: 'a text that is not JSON',
    body: 'upstream request timeout',
    contentType: 'text/plain',
    message: `acme returned status 200 with a body that is not valid JSON (text/plain): upstream request timeout. ${PROXY_HINT}`,
  },
  {
    // Not valid JSON, though it begins as JSON: a closing bracket no bracket opened is no cut.
    name: 'a JSON body with a bracket too many',
    body: '{"data":[{"embedding":[0.5,0.25]}]]}',
    contentType: 'application/json',
    message: `acme returned status 200 with a body that is not valid JSON (application/json): {"data":[{"embedding":[0.5,0.25]}]]}. ${PROXY_HINT}`,
  },
  {
    // A whole JSON value that something after it spoils: every bracket it opened is closed.
    name: 'a JSON body with a comment after it',
    body: '{"data":[{"embedding":[0.5]}]}<!-- served from cache [',
    contentType: 'application/json',
    message: `acme returned status 200 with a body that is not valid JSON (application/json): {"data":[{"embedding":[0.5]}]} served from cache [. ${PROXY_HINT}`,
  },
];

/**
 * JSON cut short: a connection or a proxy stopped mid-answer, under a Content-Length that matches what
 * was sent, so the transport read the body as whole. It read as any text that is not JSON, with the hint
 * that a proxy may be answering instead of the API; the hint now says what happened, and quotes it as
 * before. Each ends with a bracket or a string still open; the excerpt is quoted as every excerpt is (its
 * white space collapsed and trimmed).
 */
const CUT_CASES: { name: string; body: string; excerpt: string }[] = [
  {
    name: 'inside a vector',
    body: '{"data":[{"embedding":[0.5,0.25',
    excerpt: '{"data":[{"embedding":[0.5,0.25',
  },
  {
    name: 'inside a string (a base64 vector)',
    body: '{"object":"list","data":[{"embedding":"AACAPwAA',
    excerpt: '{"object":"list","data":[{"embedding":"AACAPwAA',
  },
  {
    // A string's brackets and escaped quote are no part of the structure.
    name: 'inside a string that holds brackets and an escaped quote',
    body: '{"data":[{"embedding":[0.5]}],"model":"a]}\\"}b',
    excerpt: '{"data":[{"embedding":[0.5]}],"model":"a]}\\"}b',
  },
  {
    name: 'after a key',
    body: '{"data":[{"embedding":[0.5,0.25]},{"index"',
    excerpt: '{"data":[{"embedding":[0.5,0.25]},{"index"',
  },
  {
    name: 'after a comma, white space after it',
    body: '{"data":[{"embedding":[0.5,0.25]}, \n',
    excerpt: '{"data":[{"embedding":[0.5,0.25]},',
  },
  {
    name: 'inside true',
    body: '[{"ok":tr',
    excerpt: '[{"ok":tr',
  },
  {
    // JSON may begin with white space (a server that writes a line break first).
    name: 'after white space before it',
    body: '\n  {"data":[{"embedding":[0.5',
    excerpt: '{"data":[{"embedding":[0.5',
  },
];

const CUT_HINT = 'The connection or a proxy cut it short; calling again may help.';

/** Every body, with the message it must read as. */
const ROWS: { name: string; body: string; contentType: string; message: string }[] = [
  ...CASES,
  ...CUT_CASES.map(({ name, body, excerpt }) => ({
    name: `a JSON body cut short ${name}`,
    body,
    contentType: 'application/json',
    message: `acme returned status 200 with a body that is not valid JSON (application/json): ${excerpt}. ${CUT_HINT}`,
  })),
];

/** One embeddings call through `transport` to `url`, read as an embeddings answer; returns its error. */
async function embeddingsError(transport: Transport, url: string, read: Partial<RequestJsonOptions>) {
  try {
    parseResponse(dataArraySchema, await acmeRequest(transport, url, read), 'acme', 'embeddings');
  } catch (error) {
    return error as InvalidResponseError;
  }
  throw new Error('expected the call to fail');
}

const READS: Record<string, Partial<RequestJsonOptions>> = {
  'JSON.parse': {},
  'the float fast path': { floatVectors: ['data[*].embedding'] },
};

function expectReadAs(error: InvalidResponseError, message: string) {
  expect(InvalidResponseError.isInstance(error)).toBe(true);
  expect(error.code).toBe('invalid_response');
  expect(error.isRetryable).toBe(false);
  expect(error.message).toBe(message);
  expect(error.statusCode).toBe(200);
  expect(error.requestId).toBe('req-empty-1');
}

describe('undici (MockAgent): a 2xx body that is no answer', () => {
  const mock = describeMockAgent();

  for (const [readName, read] of Object.entries(READS))
    for (const { name, body, contentType, message } of ROWS)
      it(`${name}, read by ${readName}`, async () => {
        mock.agent
          .get(ORIGIN)
          .intercept({ path: PATH, method: 'POST' })
          .reply(200, body, { headers: { 'content-type': contentType, 'x-request-id': 'req-empty-1' } });
        const transport = createTransport({ dispatcher: mock.agent });
        expect(transport.kind).toBe('undici');
        expectReadAs(await embeddingsError(transport, `${ORIGIN}${PATH}`, read), message);
      });
});

describe('fetch (loopback server): a 2xx body that is no answer', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  let answer = '';
  let contentType = '';
  beforeAll(async () => {
    loopback = await startLoopback((_request, response) => {
      // With a Content-Length that matches what is sent: to the transport, the body arrived whole.
      response.writeHead(200, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(answer),
        'x-request-id': 'req-empty-1',
      });
      response.end(answer);
    });
  });
  afterAll(() => loopback.close());

  for (const [readName, read] of Object.entries(READS))
    for (const { name, body, contentType: type, message } of ROWS)
      it(`${name}, read by ${readName}`, async () => {
        answer = body;
        contentType = type;
        const transport = createTransport({ fetch: globalThis.fetch });
        expect(transport.kind).toBe('fetch');
        expectReadAs(await embeddingsError(transport, `${loopback.origin}${PATH}`, read), message);
      });

  it('a body cut short is not retried by the engine: it came whole under its own Content-Length', async () => {
    // As the conformance check `malformed-json` holds every provider to: the cut was made before the
    // answer was framed, where a proxy's size limit makes it again; the hint leaves calling again to the user.
    answer = '{"data":[{"embedding":[0.5,0.';
    contentType = 'application/json';
    loopback.reset();
    const error = await embedMany({
      model: requestJsonModel(createTransport({ fetch: globalThis.fetch }), `${loopback.origin}${PATH}`),
      inputs: ['a'],
      maxRetries: 2,
    }).catch((caught: unknown) => caught);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `acme returned status 200 with a body that is not valid JSON (application/json): {"data":[{"embedding":[0.5,0.. ${CUT_HINT}`,
    );
    expect(loopback.requests).toHaveLength(1);
  });
});
