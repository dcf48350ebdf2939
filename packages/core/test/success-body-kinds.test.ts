/**
 * A 2xx answer whose body is no answer at all reads as what it is, on both transports and on the float
 * fast path (`floatVectors`) alike: an empty body (no bytes, or white space only) and a JSON `null` are
 * called so, where they read as a schema problem (`(root): expected object, got undefined`) with a hint
 * to check a `baseURL` the caller may never have set; a text that is not JSON, or JSON cut short, is
 * called invalid JSON and quoted, on every path alike. Each keeps the status and the request id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidResponseError } from '../src/errors.js';
import { createTransport, type RequestJsonOptions } from '../src/http/client.js';
import type { Transport } from '../src/http/transport.js';
import { parseResponse } from '../src/provider-utils.js';
import { acmeRequest, dataArraySchema, describeMockAgent, startLoopback } from './http-helpers.js';

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
    // Not called cut short (telling it apart would cost the browser bundle more than its budget holds):
    // called invalid JSON, quoted from its start, as any text that is not JSON.
    name: 'a JSON body cut short inside a vector',
    body: '{"data":[{"embedding":[0.5,0.25',
    contentType: 'application/json',
    message: `acme returned status 200 with a body that is not valid JSON (application/json): {"data":[{"embedding":[0.5,0.25. ${PROXY_HINT}`,
  },
  {
    name: 'a JSON body cut short inside a string',
    body: '{"object":"list","data":[{"embedding":"AACAPwAA',
    contentType: 'application/json',
    message: `acme returned status 200 with a body that is not valid JSON (application/json): {"object":"list","data":[{"embedding":"AACAPwAA. ${PROXY_HINT}`,
  },
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
    for (const { name, body, contentType, message } of CASES)
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
      response.writeHead(200, { 'content-type': contentType, 'x-request-id': 'req-empty-1' });
      response.end(answer);
    });
  });
  afterAll(() => loopback.close());

  for (const [readName, read] of Object.entries(READS))
    for (const { name, body, contentType: type, message } of CASES)
      it(`${name}, read by ${readName}`, async () => {
        answer = body;
        contentType = type;
        const transport = createTransport({ fetch: globalThis.fetch });
        expect(transport.kind).toBe('fetch');
        expectReadAs(await embeddingsError(transport, `${loopback.origin}${PATH}`, read), message);
      });
});
