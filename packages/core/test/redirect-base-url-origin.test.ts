/**
 * A redirect's message names where the base URL came from, as the hint of an answer of the wrong shape
 * does (`baseURLOrigin`): the setting, the environment variable, or, for the provider's own root, that no
 * base URL was set. On both transports: undici through a MockAgent, fetch against a loopback server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidResponseError } from '../src/errors.js';
import { type BaseURLOrigin, createTransport } from '../src/http/client.js';
import type { Transport } from '../src/http/transport.js';
import { acmeRequest, describeMockAgent, startLoopback } from './http-helpers.js';

const ORIGIN = 'http://acme.test';
const PATH = '/v1/embeddings';
const NOT_FOLLOWED = 'Redirects are not followed, so that the API key is never sent to another address';

/** Each origin of the base URL, and how the redirect's message ends for it. */
const CASES: { origin: BaseURLOrigin | undefined; ending: string }[] = [
  {
    origin: 'OPENAI_BASE_URL',
    ending: 'check that OPENAI_BASE_URL points at the address the API answers at.',
  },
  {
    origin: 'the baseURL setting',
    ending: 'check that the baseURL setting points at the address the API answers at.',
  },
  {
    origin: 'default',
    ending:
      'no base URL was set, so a proxy or gateway between you and the API may be answering instead of it.',
  },
  { origin: undefined, ending: 'check that the base URL points at the address the API answers at.' },
];

async function redirectError(transport: Transport, url: string, origin: BaseURLOrigin | undefined) {
  const error = await acmeRequest(transport, url, { baseURLOrigin: origin }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(InvalidResponseError.isInstance(error)).toBe(true);
  const typed = error as InvalidResponseError;
  expect(typed.code).toBe('invalid_response');
  expect(typed.statusCode).toBe(301);
  return typed.message;
}

describe('undici (MockAgent): a redirect names where the base URL came from', () => {
  const mock = describeMockAgent();

  for (const { origin, ending } of CASES)
    it(`from ${origin ?? 'an unknown origin'}`, async () => {
      mock.agent
        .get(ORIGIN)
        .intercept({ path: PATH, method: 'POST' })
        .reply(301, '', { headers: { location: 'https://acme.test/v1/embeddings' } });
      const transport = createTransport({ dispatcher: mock.agent });
      expect(transport.kind).toBe('undici');
      expect(await redirectError(transport, `${ORIGIN}${PATH}`, origin)).toBe(
        `acme answered ${ORIGIN}${PATH} with status 301, a redirect to https://acme.test/v1/embeddings. ${NOT_FOLLOWED}: ${ending}`,
      );
    });
});

describe('fetch (loopback server): a redirect names where the base URL came from', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  beforeAll(async () => {
    loopback = await startLoopback((_request, response) => {
      response.writeHead(301, { location: '/v2/embeddings' });
      response.end();
    });
  });
  afterAll(() => loopback.close());

  for (const { origin, ending } of CASES)
    it(`from ${origin ?? 'an unknown origin'}`, async () => {
      const transport = createTransport({ fetch: globalThis.fetch });
      expect(transport.kind).toBe('fetch');
      expect(await redirectError(transport, `${loopback.origin}${PATH}`, origin)).toBe(
        `acme answered ${loopback.origin}${PATH} with status 301, a redirect to ${loopback.origin}/v2/embeddings. ${NOT_FOLLOWED}: ${ending}`,
      );
      // Only the call itself reached the server: the redirect was not followed.
      expect(loopback.requests.at(-1)?.url).toBe(PATH);
    });
});
