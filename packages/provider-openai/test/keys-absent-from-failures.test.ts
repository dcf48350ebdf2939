/**
 * No credential in anything a failure shows: for every provider (its key from its setting; OpenAI's
 * organization and project ids too), over both transports (undici dispatch to a loopback server, and an
 * injected `fetch`), each failure is driven and everything the user can see is searched for the
 * credentials, URL-encoded and base64-encoded as well: the thrown error through every `cause` (message,
 * stack, `util.inspect` with hidden fields, JSON), each `onRetry` / `onWait` / `onWarning` / `onProgress`
 * payload, each `process.emitWarning` and each console line.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';
import { type Clock, EmbedKitError, embedContextualized, embedMany, rerank } from '@embedkit/core';
import { createGemini } from '@embedkit/provider-gemini';
import { createJina } from '@embedkit/provider-jina';
import { createVoyage } from '@embedkit/provider-voyage';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOpenAI } from '../src/index.js';

const KEY = 'sk-fake-not-a-real-key-echoed';
const ORGANIZATION = 'fake-organization-not-a-real-one';
const PROJECT = 'fake-project-not-a-real-one';
const CREDENTIALS = [KEY, ORGANIZATION, PROJECT];

/** Each credential as it may be echoed: itself, percent-encoded, and base64 (both alphabets) at each alignment. */
function forms(credential: string): string[] {
  const out = [credential, encodeURIComponent(credential)];
  for (const prefix of ['', 'x', 'xx']) {
    const encoded = Buffer.from(`${prefix}${credential}`).toString('base64');
    // The characters that depend on the credential alone, its first and last groups aside.
    const inner = encoded.slice(4, encoded.length - 4);
    out.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(out)];
}
const NEEDLES = CREDENTIALS.flatMap((credential) => forms(credential).map((form) => ({ credential, form })));

/** The forms of a credential found in `texts`, each named by where it was found. */
function credentialsIn(texts: readonly (readonly [string, string])[]): string[] {
  const found: string[] = [];
  for (const [where, text] of texts) {
    for (const { credential, form } of NEEDLES) {
      if (text.includes(form)) found.push(`${where}: ${credential} as ${form}`);
    }
  }
  return found;
}

/** What the loopback server answers; `sent` is the request line and headers it was sent, as JSON. */
type Answer = (request: IncomingMessage, response: ServerResponse, sent: string) => void;

const keyOf = (request: IncomingMessage) =>
  String(request.headers['x-goog-api-key'] ?? request.headers.authorization ?? '').replace(/^Bearer /, '');

const json = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

/** Answers that quote what the request carried, each as a server or a gateway may. */
const ANSWERS: Record<string, Answer> = {
  'a 400 whose JSON error echoes the request headers': (_, response, sent) =>
    json(response, 400, { error: { message: `bad request: ${sent}`, type: 'invalid_request_error' } }),
  'a 401 whose JSON error echoes the request headers': (_, response, sent) =>
    json(response, 401, { error: { message: `unauthorized: ${sent}` }, detail: sent }),
  'a 500 whose JSON error echoes the request headers, retried': (_, response, sent) =>
    json(response, 500, { error: { message: `failed: ${sent}` } }),
  'a 429 whose JSON error echoes the request headers, waited on': (_, response, sent) =>
    json(response, 429, { error: { message: `slow down: ${sent}` } }, { 'retry-after': '1' }),
  'a 400 HTML page that prints the request headers': (request, response) => {
    response.writeHead(400, { 'content-type': 'text/html' });
    const lines = Object.entries(request.headers).map(([name, value]) => `${name}: ${String(value)}`);
    response.end(`<html><body><h1>Bad Request</h1><pre>${lines.join('\n')}</pre></body></html>`);
  },
  'a 500 HTML page that prints the request headers, retried': (request, response) => {
    response.writeHead(500, { 'content-type': 'text/html' });
    response.end(`<html><body><p>${Object.values(request.headers).join('<br>')}</p></body></html>`);
  },
  'a 400 text body that echoes the request headers base64-encoded': (request, response, sent) => {
    response.writeHead(400, { 'content-type': 'text/plain' });
    response.end(`request dump: ${Buffer.from(sent).toString('base64')} key ${btoa(keyOf(request))}`);
  },
  'a 200 with an error-shaped body that echoes the request headers': (_, response, sent) =>
    json(response, 200, { error: { message: sent } }),
  'a 200 whose cut JSON echoes the request headers': (_, response, sent) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`{"data": [${sent}`);
  },
  'a 401 that echoes the key in www-authenticate, x-debug and the request id': (request, response) =>
    json(
      response,
      401,
      { error: { message: 'invalid key' } },
      {
        'www-authenticate': `Bearer realm="api", error="invalid_token", token="${keyOf(request)}"`,
        'x-debug': keyOf(request),
        'x-request-id': `req-${keyOf(request)}`,
      },
    ),
  'a 429 that echoes the key in its headers, waited on': (request, response) =>
    json(
      response,
      429,
      { error: { message: 'slow down' } },
      { 'retry-after': '1', 'x-debug': keyOf(request), 'x-request-id': `req-${keyOf(request)}` },
    ),
  'a redirect to a URL whose query holds the key': (request, response) => {
    response.writeHead(302, { location: `https://elsewhere.invalid/v1?api_key=${keyOf(request)}` });
    response.end();
  },
  'a redirect to a URL whose password is the key': (request, response) => {
    response.writeHead(307, { location: `https://user:${keyOf(request)}@elsewhere.invalid/v1` });
    response.end();
  },
  'a redirect to a path that holds the key': (request, response) => {
    response.writeHead(301, { location: `/v1/${keyOf(request)}/embeddings`, 'x-debug': keyOf(request) });
    response.end(`Moved to /v1/${keyOf(request)}/embeddings`);
  },
  'a connection reset in the middle of a body that echoes the request': (_, response, sent) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
    response.write(`{"data": [${sent}`);
    setTimeout(() => response.socket?.destroy(), 10);
  },
};

/** A Gemini batch job that failed, its error's text and code echoing the key. */
const FAILED_JOB: Answer = (request, response, sent) =>
  json(response, 200, {
    name: 'batches/job-42',
    metadata: {
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatch',
      model: 'models/gemini-embedding-001',
      name: 'batches/job-42',
      state: 'BATCH_STATE_FAILED',
    },
    done: true,
    error: { code: 13, message: `Batch failed for ${sent}`, status: `INTERNAL ${keyOf(request)}` },
  });

let answer: Answer = ANSWERS['a 400 whose JSON error echoes the request headers']!;
const requests: IncomingMessage[] = [];
const sockets = new Set<Socket>();
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    requests.push(request);
    answer(request, response, JSON.stringify({ url: request.url, headers: request.headers }));
  });
});
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
let origin = '';
/** A loopback port nothing listens on. */
let closedOrigin = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedOrigin = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** What reached the user outside the thrown error: warnings and console lines. */
let printed: [string, string][] = [];

beforeEach(() => {
  requests.length = 0;
  printed = [];
  vi.spyOn(process, 'emitWarning').mockImplementation((...values: unknown[]) => {
    printed.push(['process.emitWarning', inspect(values, { depth: Number.POSITIVE_INFINITY })]);
  });
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...values: unknown[]) => {
      printed.push([`console.${method}`, inspect(values, { depth: Number.POSITIVE_INFINITY })]);
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A clock whose sleeps end at once, so that retries and waits on a 429 take no time. */
function instantClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

type Provider = 'openai' | 'voyage' | 'gemini' | 'jina';
type Transport = 'undici' | 'fetch';
type Operation =
  | 'embedMany'
  | 'rerank'
  | 'embedContextualized'
  | 'batch get'
  | 'batch wait'
  | 'batch results';

const OPERATIONS: Record<Provider, Operation[]> = {
  openai: ['embedMany'],
  voyage: ['embedMany', 'rerank', 'embedContextualized'],
  gemini: ['embedMany', 'batch get', 'batch wait', 'batch results'],
  jina: ['embedMany', 'rerank', 'embedContextualized'],
};

interface Settings {
  apiKey?: string;
  baseURL?: string;
  headers?: Record<string, string>;
}

function provider(name: Provider, transport: Transport, settings: Settings) {
  const all = {
    apiKey: KEY,
    ...settings,
    ...(transport === 'fetch' ? { fetch: (url: string, init?: RequestInit) => fetch(url, init) } : {}),
  };
  switch (name) {
    case 'openai':
      return { openai: createOpenAI({ organization: ORGANIZATION, project: PROJECT, ...all }) };
    case 'voyage':
      return { voyage: createVoyage(all) };
    case 'gemini':
      return { gemini: createGemini(all) };
    case 'jina':
      return { jina: createJina(all) };
  }
}

/** The API root of a provider on the loopback server. */
const rootOf = (name: Provider) => `${origin}${name === 'gemini' ? '/v1beta' : '/v1'}`;

/**
 * Runs `operation` against `settings` and returns what failed (undefined when nothing did) and every text
 * the user could see.
 */
async function drive(
  name: Provider,
  transport: Transport,
  operation: Operation,
  settings: Settings,
  timeoutMs = 2_000,
) {
  const payloads: [string, unknown][] = [];
  const on = (kind: string) => (payload: unknown) => payloads.push([kind, payload]);
  const call = {
    maxRetries: 1,
    timeoutMs,
    clock: instantClock(),
    onRetry: on('onRetry'),
    onWait: on('onWait'),
    onWarning: on('onWarning'),
  };
  let error: unknown;
  try {
    const made = provider(name, transport, settings);
    if (made.gemini !== undefined && operation.startsWith('batch')) {
      const jobs = made.gemini.batchEmbeddingJobs('gemini-embedding-001');
      const options = { clock: call.clock, onWarning: call.onWarning };
      if (operation === 'batch get')
        on('job')(await jobs.get('batches/job-42', { ...options, maxRetries: 1 }));
      else if (operation === 'batch results')
        await jobs.results('batches/job-42', { ...options, maxRetries: 1 });
      else
        on('job')(
          await jobs.wait('batches/job-42', {
            ...options,
            pollIntervalMs: 1,
            maxConsecutiveErrors: 2,
            onProgress: on('onProgress'),
          }),
        );
    } else if (operation === 'rerank' && (made.voyage ?? made.jina) !== undefined) {
      const model = made.voyage?.reranking('rerank-2.5') ?? made.jina!.reranking('jina-reranker-v3');
      await rerank({ model, query: 'q', documents: ['a', 'b'], ...call });
    } else if (operation === 'embedContextualized' && (made.voyage ?? made.jina) !== undefined) {
      const model =
        made.voyage?.contextualizedEmbedding('voyage-context-3') ??
        made.jina!.contextualizedEmbedding('jina-embeddings-v3');
      await embedContextualized({ model, documents: [['a', 'b']], ...call });
    } else {
      const model =
        made.openai?.embedding('text-embedding-3-small') ??
        made.voyage?.embedding('voyage-3.5') ??
        made.gemini?.embedding('gemini-embedding-001') ??
        made.jina!.embedding('jina-embeddings-v3');
      await embedMany({ model, inputs: ['a', 'b'], onProgress: on('onProgress'), ...call });
    }
  } catch (thrown) {
    error = thrown;
  }
  const texts: [string, string][] = [...printed];
  const deep = { depth: Number.POSITIVE_INFINITY, showHidden: true };
  if (error !== undefined) {
    texts.push(['inspect(error)', inspect(error, deep)], ['JSON.stringify(error)', JSON.stringify(error)]);
    let link: unknown = error;
    for (let depth = 0; typeof link === 'object' && link !== null; depth++) {
      const own = link as Error & Record<string, unknown>;
      texts.push([
        `cause ${depth}`,
        `${String(own)}\n${own.stack}\n${JSON.stringify(own, Object.getOwnPropertyNames(own))}`,
      ]);
      link = own.cause;
    }
  }
  for (const [kind, payload] of payloads)
    texts.push([kind, `${inspect(payload, deep)}\n${JSON.stringify(payload)}`]);
  return { error, texts, payloads: payloads.map(([kind]) => kind) };
}

const PROVIDERS: Provider[] = ['openai', 'voyage', 'gemini', 'jina'];
const TRANSPORTS: Transport[] = ['undici', 'fetch'];
const MATRIX = PROVIDERS.flatMap((name) => TRANSPORTS.map((transport) => [name, transport] as const));

describe('the search for credentials', () => {
  it('finds each credential raw, percent-encoded and base64-encoded at each of its three alignments', () => {
    for (const credential of CREDENTIALS) {
      for (const prefix of ['', 'a', 'ab', 'Bearer ']) {
        const encoded = Buffer.from(`${prefix}${credential}!`).toString('base64');
        expect(credentialsIn([['text', encoded]]).length).toBeGreaterThan(0);
        expect(
          credentialsIn([['text', encoded.replace(/\+/g, '-').replace(/\//g, '_')]]).length,
        ).toBeGreaterThan(0);
      }
      expect(credentialsIn([['text', `?k=${encodeURIComponent(credential)}`]])).toEqual([
        `text: ${credential} as ${credential}`,
      ]);
    }
    expect(credentialsIn([['text', 'sk-fake-not-a-real-key-echoe [REDACTED]']])).toEqual([]);
  });
});

describe.each(MATRIX)('no credential shows in a failure of %s over %s', (name, transport) => {
  const cases = Object.keys(ANSWERS).flatMap((kind) =>
    OPERATIONS[name].map((operation) => [kind, operation] as const),
  );

  it.each(cases)('%s (%s)', async (kind, operation) => {
    answer = ANSWERS[kind]!;
    const { error, texts } = await drive(name, transport, operation, { baseURL: rootOf(name) });
    expect(EmbedKitError.isInstance(error)).toBe(true);
    // The server was sent the key, so what it echoed held it.
    expect(requests.length).toBeGreaterThan(0);
    expect(keyOf(requests[0]!)).toBe(KEY);
    expect(credentialsIn(texts)).toEqual([]);
  });

  it.each([
    ['connection refused', () => `${closedOrigin}/v1`, 'RetryError'],
    [
      'an https:// base URL to a plain HTTP port',
      () => rootOf(name).replace('http:', 'https:'),
      'RetryError',
    ],
    ['a host name that cannot resolve', () => 'https://api.embedkit-unresolvable.invalid/v1', 'RetryError'],
    ['an invalid base URL that holds the key', () => `ht!tp://${KEY}/v1`, 'InvalidArgumentError'],
    [
      'a base URL whose user is the key',
      () => `https://${KEY}@api.embedkit-unresolvable.invalid/v1`,
      'InvalidArgumentError',
    ],
    [
      'a base URL whose password is the key',
      () => `https://user:${KEY}@api.embedkit-unresolvable.invalid/v1`,
      'InvalidArgumentError',
    ],
    [
      'a base URL whose api_key parameter is the key',
      () => `${closedOrigin}/v1?api_key=${KEY}`,
      'InvalidArgumentError',
    ],
    [
      'a base URL whose key parameter is the key',
      () => `${closedOrigin}/v1?key=${KEY}`,
      'InvalidArgumentError',
    ],
  ])('%s', async (_, baseURL, errorName) => {
    const { error, texts } = await drive(name, transport, 'embedMany', { baseURL: baseURL() });
    expect((error as Error).name).toBe(errorName);
    expect(credentialsIn(texts)).toEqual([]);
  });

  it('no answer in time', async () => {
    answer = () => {};
    const { error, texts } = await drive(name, transport, 'embedMany', { baseURL: rootOf(name) }, 200);
    expect((error as Error).name).toBe('RetryError');
    expect(((error as Error).cause as Error).name).toBe('TimeoutError');
    expect(credentialsIn(texts)).toEqual([]);
  });

  it.each([
    ['a line break', `${KEY}\nX`],
    ['a non-ASCII character', `${KEY}é`],
  ])('a key holding %s, refused before sending', async (_, apiKey) => {
    const { error, texts } = await drive(name, transport, 'embedMany', { apiKey, baseURL: rootOf(name) });
    expect((error as Error).name).toBe('InvalidArgumentError');
    expect(requests).toEqual([]);
    expect(credentialsIn(texts)).toEqual([]);
  });
});

describe.each(TRANSPORTS)('gemini over %s', (transport) => {
  it.each([
    [
      'x-goog-api-key in the headers setting',
      () => ({ headers: { 'x-goog-api-key': KEY } }),
      'InvalidRequestError',
    ],
    ['?key= in the base URL', () => ({ baseURL: `${rootOf('gemini')}?key=${KEY}` }), 'InvalidArgumentError'],
  ])('a key given as %s fails without showing it', async (_, settings, errorName) => {
    answer = ANSWERS['a 400 whose JSON error echoes the request headers']!;
    const { error, texts } = await drive('gemini', transport, 'embedMany', {
      baseURL: rootOf('gemini'),
      ...settings(),
    });
    expect((error as Error).name).toBe(errorName);
    expect(credentialsIn(texts)).toEqual([]);
  });

  it.each(['batch get', 'batch wait', 'batch results'] as const)(
    'a failed batch job whose error text and code echo the key (%s)',
    async (operation) => {
      answer = FAILED_JOB;
      const { texts, payloads } = await drive('gemini', transport, operation, { baseURL: rootOf('gemini') });
      expect(payloads.length + texts.length).toBeGreaterThan(0);
      expect(keyOf(requests[0]!)).toBe(KEY);
      expect(credentialsIn(texts)).toEqual([]);
    },
  );
});
