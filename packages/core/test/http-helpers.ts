/**
 * Shared by the HTTP tests: a recording `fetch`, a loopback HTTP server that records what it was sent, a
 * helper that expects `requestJson` to fail, the list of credential query names, a small response schema,
 * and the secret-leak walk.
 *
 * The walk finds a secret anywhere in an error: every own property (string or symbol keyed, enumerable or not),
 * `String(error)`, the stack, `util.inspect` (what `console.error` prints), recursively through `cause`
 * chains and `errors` arrays; each text also after undoing JSON escapes, percent-encoding and HTML
 * character references up to three levels deep, so an escaped copy of a key counts as a leak.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { MockAgent } from 'undici';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { EmbedKitError } from '../src/errors.js';
import { type RequestJsonOptions, requestJson } from '../src/http/client.js';
import { createFetchTransport, type FetchFunction } from '../src/http/fetch-transport.js';
import type { Transport } from '../src/http/transport.js';
import { createUndiciTransport } from '../src/http/undici-transport.js';
import { parseResponse, type SafeParser } from '../src/provider-utils.js';
import type { EmbeddingModel } from '../src/types.js';
import { BASE_CAPABILITIES } from './helpers.js';

export const URL_BASE = 'https://api.acme.test/v1/embeddings';

export interface Sent {
  url: string;
  init: RequestInit;
}

/** An injected fetch that records what it was given and answers with `answer()`. */
export function recordingFetch(answer: (sent: Sent) => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fetch: FetchFunction = async (url, init) => {
    const entry = { url, init };
    sent.push(entry);
    return answer(entry);
  };
  return { fetch, sent };
}

/** One request a loopback server received, read whole. */
export interface LoopbackRequest {
  /** The path with its query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type LoopbackHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/**
 * An HTTP server on 127.0.0.1 that records each request (once its body has arrived) and each connection,
 * then hands the request to `answer`. `reset()` forgets what was recorded; `close()` ends it.
 */
export async function startLoopback(answer: LoopbackHandler) {
  const requests: LoopbackRequest[] = [];
  const connections: Socket[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ url: request.url ?? '', headers: request.headers, body });
      answer(request, response, body);
    });
  });
  server.on('connection', (socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connections,
    reset() {
      requests.length = 0;
      connections.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A raw TCP server on 127.0.0.1: each request is answered by `answer` with whatever bytes it writes, so
 * that bodies can be cut, lie about their length or never end. The requests must carry a short JSON body
 * (the request is taken as whole once a `}` ends what arrived). It records each connection, which have
 * closed, and how many requests it answered; `reset()` destroys the connections and zeroes the count.
 */
export async function startRawLoopback(answer: (socket: Socket) => void) {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  let requests = 0;
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('close', () => closed.add(socket));
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n') && received.endsWith('}')) {
        received = '';
        requests++;
        answer(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    closed,
    get requests() {
      return requests;
    },
    reset() {
      for (const socket of sockets.splice(0)) socket.destroy();
      requests = 0;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type RawLoopback = Awaited<ReturnType<typeof startRawLoopback>>;

/**
 * The heads of answers a client received while it is on, as undici reports them on its
 * `undici:request:headers` channel (the npm package and Node's fetch, built on its own copy, alike):
 * each one's origin and status.
 */
export function watchHeads(): { heads: { origin: string; statusCode: number }[]; stop(): void } {
  const heads: { origin: string; statusCode: number }[] = [];
  const onHead = (message: unknown) => {
    const { request, response } = message as {
      request: { origin: unknown };
      response: { statusCode: number };
    };
    heads.push({ origin: String(request.origin), statusCode: response.statusCode });
  };
  subscribe('undici:request:headers', onHead);
  return { heads, stop: () => unsubscribe('undici:request:headers', onHead) };
}

/** Calls `requestJson` for provider `acme` at `URL_BASE` through the fetch transport and returns its error. */
export async function failure(
  options: Partial<RequestJsonOptions> & { fetch: FetchFunction },
): Promise<EmbedKitError> {
  const { fetch, ...rest } = options;
  try {
    await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      body: { input: ['a'] },
      ...rest,
    });
  } catch (error) {
    expect(EmbedKitError.isInstance(error), `expected an embedkit error, got ${String(error)}`).toBe(true);
    return error as EmbedKitError;
  }
  throw new Error('expected requestJson to fail');
}

/** Both transports, each made afresh: the Node default (undici) and `fetch`. */
export const TRANSPORTS: Record<string, () => Transport> = {
  undici: () => createUndiciTransport(),
  fetch: () => createFetchTransport(),
};

/** `requestJson` for provider `acme` at `url`, with a fake bearer key and a body of one input unless given. */
export function acmeRequest(transport: Transport, url: string, options: Partial<RequestJsonOptions> = {}) {
  return requestJson({
    transport,
    provider: 'acme',
    url,
    body: { input: ['a'] },
    headers: { authorization: 'Bearer sk-fake-not-a-real-key-abc' },
    ...options,
  });
}

/**
 * A model `acme`/`m` that sends each call to `url` through `requestJson` (a fake bearer key, the call's
 * signal and timeout) and reads it as an embeddings answer: one vector of [0.5, 0.5] per item.
 */
export function requestJsonModel(transport: Transport, url: string): EmbeddingModel {
  return {
    specificationVersion: 'v1',
    provider: 'acme',
    modelId: 'm',
    capabilities: BASE_CAPABILITIES,
    async doEmbed(request) {
      const response = await acmeRequest(transport, url, {
        body: { input: request.inputs },
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      });
      const { data } = parseResponse(dataArraySchema, response, 'acme', 'embedding');
      return {
        embeddings: data.map(() => Float32Array.of(0.5, 0.5)),
        warnings: [],
        response: { status: response.status, headers: response.headers },
      };
    },
  };
}

/** Query parameter names that carry a credential in some API; each must be redacted, in any case. */
export const SECRET_QUERY_NAMES = [
  'key',
  'api_key',
  'apikey',
  'api-key',
  'subscription-key',
  'code',
  'sig',
  'signature',
  'x-goog-api-key',
  'access_token',
  'token',
  'client_secret',
  'password',
];

/** A response schema in the style of the embeddings endpoints: a `data` array. */
export const dataArraySchema: SafeParser<{ data: unknown[] }> = {
  safeParse(value) {
    const data = (value as { data?: unknown } | undefined)?.data;
    return Array.isArray(data)
      ? { success: true, data: { data } }
      : { success: false, error: { issues: [{ path: ['data'], message: 'expected an array' }] } };
  },
};

/**
 * The fields an embedkit error may carry, reviewed for secrets. A field that is not listed fails
 * `expectNoSecret`: a new field has to be added here (and so is known to be walked) before it ships.
 */
export const REVIEWED_ERROR_FIELDS: ReadonlySet<string> = new Set([
  'message',
  'stack',
  'name',
  'code',
  'isRetryable',
  'provider',
  'url',
  'statusCode',
  'requestId',
  'retryAfterMs',
  'responseBody',
  'providerCode',
  'cause',
  // RetryError
  'errors',
  'lastError',
  'attempts',
  // InvalidRequestError, RateLimitError, InvalidArgumentError
  'batchTooLarge',
  'inputIndex',
  'quotaExhausted',
  'argument',
  // InvalidArgumentError: names of environment variables, never their values
  'environmentVariables',
  // ConnectionError: a boolean
  'neverSent',
]);

/** One level of JSON, percent and HTML-reference unescaping. */
function unescapeOnce(text: string): string {
  return text
    .replace(/\\(u[0-9a-fA-F]{4}|["\\/bfnrt])/g, (_match, sequence: string) =>
      sequence.startsWith('u')
        ? String.fromCharCode(Number.parseInt(sequence.slice(1), 16))
        : (({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[sequence] ?? sequence),
    )
    .replace(/&#[xX]([0-9a-fA-F]+);/g, (_match, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16)),
    )
    .replace(/&#(\d+);/g, (_match, decimal: string) => String.fromCodePoint(Number(decimal)))
    .replace(
      /&(quot|amp|apos|lt|gt);/g,
      (_match, name: string) => ({ quot: '"', amp: '&', apos: "'", lt: '<', gt: '>' })[name as 'quot'],
    )
    .replace(/(?:%[0-9a-fA-F]{2})+/g, (encoded) => {
      try {
        return decodeURIComponent(encoded);
      } catch {
        return encoded;
      }
    });
}

/** The secret found in `text` in any of its encodings, or undefined. */
export function secretIn(text: string, secrets: readonly string[]): string | undefined {
  let view = text;
  for (let level = 0; level < 4; level++) {
    for (const secret of secrets) if (view.includes(secret)) return secret;
    view = unescapeOnce(view);
  }
  return undefined;
}

export interface Walk {
  /** `path: secret` for every leak found. */
  leaks: string[];
  /** Every own property path visited, e.g. `cause.cause.message`. */
  visited: string[];
  /** Own property names of embedkit errors that are not in `REVIEWED_ERROR_FIELDS`. */
  unreviewed: string[];
}

/** Walks an error (or any value) and reports every leak of `secrets`. */
export function walkForSecrets(value: unknown, secrets: readonly string[]): Walk {
  const walk: Walk = { leaks: [], visited: [], unreviewed: [] };
  const seen = new Set<unknown>();
  const check = (path: string, text: string) => {
    const secret = secretIn(text, secrets);
    if (secret !== undefined) walk.leaks.push(`${path}: ${JSON.stringify(secret)} in ${text.slice(0, 300)}`);
  };
  const visit = (current: unknown, path: string, depth: number) => {
    if (typeof current === 'string') return check(path, current);
    if (typeof current !== 'object' || current === null || depth > 12 || seen.has(current)) return;
    seen.add(current);
    if (current instanceof Error) {
      check(`${path}<String>`, String(current));
      check(`${path}<stack>`, String(current.stack));
      check(`${path}<inspect>`, inspect(current, { depth: 12 }));
    }
    const isEmbedKitError = Symbol.for('embedkit.error') in current;
    const keys = Reflect.ownKeys(current);
    // The walk must cover at least every own enumerable key; Reflect.ownKeys adds the rest.
    for (const key of Object.keys(current)) {
      if (!keys.includes(key)) throw new Error(`walk skipped the enumerable key ${path}.${key}`);
    }
    for (const key of keys) {
      const name = String(key);
      walk.visited.push(path === '' ? name : `${path}.${name}`);
      if (isEmbedKitError && typeof key === 'string' && !REVIEWED_ERROR_FIELDS.has(key))
        walk.unreviewed.push(`${path}.${key}`);
      const descriptor = Object.getOwnPropertyDescriptor(current, key);
      const field = descriptor?.get === undefined ? descriptor?.value : descriptor.get.call(current);
      visit(field, path === '' ? name : `${path}.${name}`, depth + 1);
    }
  };
  visit(value, '', 0);
  if (typeof value === 'object' && value !== null) check('<JSON>', safeJson(value));
  return walk;
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/**
 * A MockAgent for the tests of the `describe` it is called in: it refuses the network, every interceptor
 * must have been used by the end of each test, and it is closed after the last.
 */
export function describeMockAgent(): { readonly agent: MockAgent } {
  const holder = {} as { agent: MockAgent };
  beforeAll(() => {
    holder.agent = new MockAgent();
    holder.agent.disableNetConnect();
  });
  afterEach(() => holder.agent.assertNoPendingInterceptors());
  afterAll(() => holder.agent.close());
  return holder;
}
