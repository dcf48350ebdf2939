import type { FetchFunction } from '@embedkit/core/provider';
import nock from 'nock';
import { type Dispatcher, MockAgent } from 'undici';
import type { WireRequest } from './types.js';

export type TransportKind = 'fetch' | 'undici';

/** Both transports, in the order the suite runs them. */
export const TRANSPORT_KINDS: readonly TransportKind[] = ['undici', 'fetch'];

/** A reply to one intercepted request. An object body is sent as JSON; a string body as is. */
export interface WireReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ExpectOptions {
  /** How many requests this expectation answers. Default 1. */
  times?: number;
  /** Delay before the response headers, in real milliseconds (for timeouts). */
  delayMs?: number;
  /** Fail the connection instead of answering. */
  connectionError?: 'reset';
}

export type ReplyHandler = (request: WireRequest) => WireReply;

/**
 * Intercepts one origin for one transport, with no request reaching the network: nock in lockdown
 * for the fetch transport (it patches the global `fetch`), undici's `MockAgent` for the undici one.
 */
export interface Interceptor {
  readonly kind: TransportKind;
  /** Pass these to the provider: a `fetch` for the fetch transport, a `dispatcher` for the undici one. */
  readonly transport: { fetch?: FetchFunction; dispatcher?: Dispatcher };
  /** Every request that reached the interceptor, in order. */
  readonly requests: WireRequest[];
  /** Errors thrown by reply handlers (answered with a 599 so the call fails fast). */
  readonly handlerErrors: unknown[];
  /** Answers the next request(s) to `method path` with `handler`. */
  expect(method: string, path: string, handler: ReplyHandler, options?: ExpectOptions): void;
  /** Descriptions of expectations no request used. */
  pending(): string[];
  close(): Promise<void>;
}

function parseBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function lowerHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2)
      out[String(headers[index]).toLowerCase()] = String(headers[index + 1]);
    return out;
  }
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value !== undefined)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** Runs a reply handler; a throwing handler is a bug in the test, recorded and answered with a 599. */
function safeReply(handler: ReplyHandler, request: WireRequest, errors: unknown[]): WireReply {
  try {
    return handler(request);
  } catch (error) {
    errors.push(error);
    return { status: 599, body: { error: { message: `reply handler failed: ${String(error)}` } } };
  }
}

function encodeBody(body: unknown): string {
  return typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
}

function replyHeaders(reply: WireReply): Record<string, string> {
  const headers = { ...reply.headers };
  if (
    reply.body !== undefined &&
    typeof reply.body !== 'string' &&
    !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
  ) {
    headers['content-type'] = 'application/json';
  }
  return headers;
}

/** The system error a reset connection raises in Node, as both transports see it underneath. */
function resetError(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
}

/**
 * The `fetch` a provider gets: the global one (nock patches it) with its failures shaped the way Node's
 * fetch reports a network failure, `TypeError('fetch failed')` with the system error as `cause`.
 */
const runtimeFetch: FetchFunction = async (input, init) => {
  try {
    return await globalThis.fetch(input, init);
  } catch (error) {
    const name = (error as { name?: unknown })?.name;
    if (error instanceof TypeError || name === 'AbortError' || name === 'TimeoutError') throw error;
    throw new TypeError('fetch failed', { cause: error });
  }
};

/** Creates an interceptor for `origin` (e.g. `https://api.openai.com`) and the given transport. */
export function createInterceptor(kind: TransportKind, origin: string): Interceptor {
  return kind === 'fetch' ? createNockInterceptor(origin) : createMockAgentInterceptor(origin);
}

function createNockInterceptor(origin: string): Interceptor {
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
  const requests: WireRequest[] = [];
  const handlerErrors: unknown[] = [];
  const scopes: nock.Scope[] = [];
  return {
    kind: 'fetch',
    handlerErrors,
    // A wrapper, so the provider selects its fetch transport; nock patches the global fetch underneath.
    transport: { fetch: runtimeFetch },
    requests,
    expect(method, path, handler, options = {}) {
      const scope = nock(origin);
      let interceptor = scope.intercept(path, method).times(options.times ?? 1);
      if (options.delayMs !== undefined) interceptor = interceptor.delay(options.delayMs);
      if (options.connectionError === 'reset') {
        interceptor.replyWithError(resetError());
      } else {
        interceptor.reply(function (this: { req: { headers: Record<string, unknown> } }, uri, body) {
          const request: WireRequest = {
            method,
            path: uri,
            headers: lowerHeaders(this.req.headers),
            body: parseBody(body),
          };
          requests.push(request);
          const reply = safeReply(handler, request, handlerErrors);
          return [reply.status, encodeBody(reply.body), replyHeaders(reply)];
        });
      }
      scopes.push(scope);
    },
    pending() {
      return scopes.flatMap((scope) => scope.pendingMocks());
    },
    async close() {
      for (const scope of scopes) scope.persist(false);
      nock.cleanAll();
    },
  };
}

function createMockAgentInterceptor(origin: string): Interceptor {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(origin);
  const requests: WireRequest[] = [];
  const handlerErrors: unknown[] = [];
  return {
    kind: 'undici',
    handlerErrors,
    transport: { dispatcher: agent },
    requests,
    expect(method, path, handler, options = {}) {
      const intercepted = pool.intercept({ path, method });
      if (options.connectionError === 'reset') {
        const scope = intercepted.replyWithError(resetError());
        scope.times(options.times ?? 1);
        return;
      }
      const scope = intercepted.reply((call) => {
        const request: WireRequest = {
          method,
          path: call.path,
          headers: lowerHeaders(call.headers),
          body: parseBody(call.body),
        };
        requests.push(request);
        const reply = safeReply(handler, request, handlerErrors);
        return {
          statusCode: reply.status,
          data: encodeBody(reply.body),
          responseOptions: { headers: replyHeaders(reply) },
        };
      });
      scope.times(options.times ?? 1);
      if (options.delayMs !== undefined) scope.delay(options.delayMs);
    },
    pending() {
      return agent
        .pendingInterceptors()
        .map((pending) => `${pending.method} ${pending.origin}${pending.path}`);
    },
    async close() {
      await agent.close();
    },
  };
}
