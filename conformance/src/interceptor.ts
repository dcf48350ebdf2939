import { Readable } from 'node:stream';
import type { FetchFunction } from '@embedkit/core/provider';
import { lowerCaseHeaders } from '@embedkit/replay';
import nock from 'nock';
import { type Dispatcher, MockAgent } from 'undici';
import { type Escape, lockNetwork } from './lockdown.js';
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
  /**
   * Send the whole answer, headers included, only after this many real milliseconds (or once the
   * interceptor closes). With `holdUntil`, the answer waits for both; a `connectionError` fails at once.
   */
  delayMs?: number;
  /**
   * Send the headers and the first half of the body at once, then nothing for this many real
   * milliseconds (or until the interceptor closes) before the rest (for timeouts and aborts while the body
   * streams).
   */
  stallBodyMs?: number;
  /**
   * Send the headers and the first half of the body at once, and the rest only once this settles (or the
   * interceptor closes): a body held for as long as the scenario chooses, with no race against real time.
   */
  holdBodyUntil?: Promise<unknown>;
  /**
   * Send the whole answer, headers included, only once this settles (or the interceptor closes): a request
   * left without an answer for as long as the scenario chooses, with no race against real time.
   */
  holdUntil?: Promise<unknown>;
  /** Fail the connection instead of answering. */
  connectionError?: 'reset';
  /** A request the scenario hopes never comes: unused, it is not reported as pending. */
  optional?: boolean;
}

export type ReplyHandler = (request: WireRequest) => WireReply;

/**
 * Intercepts one origin for one transport, with no request reaching the network: nock in lockdown
 * for the fetch transport (it patches the global `fetch`), undici's `MockAgent` for the undici one.
 * While it is open every other way out is closed and watched (`lockNetwork`).
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
  /**
   * Why the scenario must fail because a request left by another way than the transport given to
   * `createModel` (see `lockdown.ts`), or undefined when none did.
   */
  escaped(): string | undefined;
  /**
   * Why the scenario must fail because the provider sent a request no expectation answers (one too
   * many, or to another place), or undefined when it sent none. The mocking libraries report such a
   * request to the provider as a network failure; this names it.
   */
  unexpected(): string | undefined;
  /** The requests `unexpected()` names, in the order sent: each one's number, method and target as shown. */
  strays(): { number: number; method: string; target: string }[];
  /** How many requests the provider sent through its transport so far. */
  sent(): number;
  /**
   * Resolves once every request sent so far has its answer or its failure, so that `unexpected()` holds
   * the mocks' verdict on each: nock refuses a request a few ticks after it left, which can be after the
   * call that sent it (without waiting for it) has ended.
   */
  settled(): Promise<void>;
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

/** The two halves of a body that stalls: the first sent at once, the second after the stall. */
function halves(body: string | Uint8Array): [Buffer, Buffer] {
  const bytes = Buffer.from(body);
  const middle = Math.floor(bytes.length / 2);
  return [bytes.subarray(0, middle), bytes.subarray(middle)];
}

/** Holds back what `send` sends (a whole answer, or the rest of a body) until its moment comes. */
type Hold = (send: () => void) => void;

/**
 * What is held back of each answer (the whole of it, or the rest of a body that stalls), sent after its
 * stall (a delay, or a promise the scenario settles), or at once when the interceptor closes; sent once
 * either way.
 */
interface Stalls {
  /** How the rest of a body is held back as `options` say, or undefined for a body sent whole. */
  of(options: ExpectOptions): Hold | undefined;
  /** How a whole answer is held back as `options` say, or undefined for one sent at once. */
  answer(options: ExpectOptions): Hold | undefined;
  flush(): void;
}

function stalls(): Stalls {
  const pending = new Set<() => void>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const held = (send: () => void) => {
    const once = () => {
      if (!pending.delete(once)) return;
      send();
    };
    pending.add(once);
    return once;
  };
  // One way to hold until a promise settles, and one to hold for a time, for a whole answer and for the
  // rest of a body alike.
  const until =
    (settles: Promise<unknown>): Hold =>
    (send) => {
      const once = held(send);
      void settles.then(once, once);
    };
  const elapsed = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  // Counted from when the request arrives: the mocks' own delays were not let go of on `close()`, so an
  // answer came after the interceptor had closed.
  const after =
    (ms: number): Hold =>
    (send) => {
      const once = held(send);
      void elapsed(ms).then(once);
    };
  return {
    answer({ holdUntil, delayMs }) {
      if (delayMs === undefined) return holdUntil === undefined ? undefined : until(holdUntil);
      if (holdUntil === undefined) return after(delayMs);
      return until(Promise.allSettled([holdUntil, elapsed(delayMs)]));
    },
    of({ stallBodyMs, holdBodyUntil }) {
      if (holdBodyUntil !== undefined) return until(holdBodyUntil);
      return stallBodyMs === undefined ? undefined : after(stallBodyMs);
    },
    flush() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const send of [...pending]) send();
    },
  };
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

/** A path with its query parameters sorted, as both mocking libraries compare them. */
function canonicalPath(path: string): string {
  const at = path.indexOf('?');
  if (at < 0) return path;
  const query = new URLSearchParams(path.slice(at + 1));
  query.sort();
  return `${path.slice(0, at)}?${query}`;
}

/**
 * Whether a request's path is `path`. A query parameter carrying `secret` is left out of the comparison,
 * so that a provider sending its key in the URL reaches the scenario that names that bug, rather than
 * failing every scenario as a request nobody expected.
 */
function pathMatcher(path: string, secret: string | undefined): (actual: string) => boolean {
  const wanted = canonicalPath(path);
  return (actual) => {
    if (secret === undefined || !actual.includes('?')) return canonicalPath(actual) === wanted;
    const at = actual.indexOf('?');
    const query = new URLSearchParams(actual.slice(at + 1));
    for (const [name, value] of [...query]) if (value.includes(secret)) query.delete(name, value);
    const rest = query.toString();
    return canonicalPath(rest === '' ? actual.slice(0, at) : `${actual.slice(0, at)}?${rest}`) === wanted;
  };
}

/**
 * The codes (and, for nock's `NetConnectNotAllowedError`, which has none of its own, the name) of the
 * errors the mocks refuse a request with when no expectation answers it: undici's `MockAgent`, and nock
 * for an origin it intercepts and for any other.
 */
const REFUSALS = new Set(['UND_MOCK_ERR_MOCK_NOT_MATCHED', 'ERR_NOCK_NO_MATCH', 'NetConnectNotAllowedError']);

/** Whether `error`, or an error it was caused by (`fetch` wraps it), is the mocks' refusal of a request. */
function isRefusal(error: unknown): boolean {
  for (let cause = error, depth = 0; typeof cause === 'object' && cause !== null && depth < 8; depth++) {
    const { code, name } = cause as { code?: unknown; name?: unknown };
    if (REFUSALS.has(String(code)) || REFUSALS.has(String(name))) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A method and the path (or URL) it goes to, as messages show them: `POST /v1/embeddings`; `POST with no
 * path` for an empty one; quoted where a space or a control character would hide where it ends.
 */
export function describeTarget(method: string, target: string): string {
  if (target === '') return `${method} with no path`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
  return `${method} ${/[\s\u0000-\u001f\u007f]/.test(target) ? JSON.stringify(target) : target}`;
}

/**
 * A request as every failure message names it: by its place among the `sent` ones (`request 3 of 5`),
 * with its method and target when given (`request 3 of 5 (POST /v1/embeddings)`, see `describeTarget`);
 * `a request` when the transport does not tell its place.
 */
export function nameRequest(
  request: { number?: number | undefined; method?: string; target?: string },
  sent: number,
): string {
  if (request.number === undefined) return 'a request';
  const { method, target } = request;
  const what =
    method === undefined ? '' : ` (${target === undefined ? method : describeTarget(method, target)})`;
  return `request ${request.number} of ${sent}${what}`;
}

/**
 * The suite's count of what the provider sent through its transport, so that a request no expectation
 * answers is named by the suite instead of surfacing as a network error. Which requests those are is the
 * mocks' own verdict, the error they refuse a request with: the ledger numbers requests as they leave and
 * words the refused ones, without matching them again.
 */
class Ledger {
  private readonly places: string[] = [];
  private answers = 0;
  private sent = 0;
  private readonly strays: { number: number; method: string; target: string }[] = [];

  constructor(private readonly origin: string) {}

  /** Notes an expectation: where it answers and how many requests. */
  expect(method: string, path: string, times: number): void {
    this.places.push(describeTarget(method, path));
    this.answers += times;
  }

  /**
   * Numbers one request as it leaves (`url` absolute), and returns its number, its target as shown, and
   * what to tell of each error the request then fails with: the mocks' refusal makes it a request not
   * expected.
   */
  note(method: string, url: string): { number: number; target: string; failed: (error: unknown) => void } {
    this.sent += 1;
    const stray = { number: this.sent, method: method.toUpperCase(), target: this.shown(url) };
    return {
      number: stray.number,
      target: stray.target,
      failed: (error) => {
        if (isRefusal(error) && !this.strays.includes(stray)) this.strays.push(stray);
      },
    };
  }

  /** `url` as a message shows it: its path (and query) at the intercepted origin, whole elsewhere. */
  private shown(url: string): string {
    try {
      const parsed = new URL(url);
      return parsed.origin === this.origin ? `${parsed.pathname}${parsed.search}` : url;
    } catch {
      return url;
    }
  }

  /** How many requests were sent. */
  count(): number {
    return this.sent;
  }

  /** The requests the mocks refused, in the order they were sent, whatever the order of the refusals. */
  refused(): { number: number; method: string; target: string }[] {
    return [...this.strays].sort((a, b) => a.number - b.number);
  }

  unexpected(): string | undefined {
    if (this.strays.length === 0) return undefined;
    const places = [...new Set(this.places)];
    const where = places.length === 0 ? '' : ` (${places.join(', ')} at ${this.origin})`;
    const [first, ...more] = this.refused().map((stray) => nameRequest(stray, this.sent));
    const after = more.length === 0 ? '' : `; nor were ${more.join(', ')}`;
    return `${first} was not expected: the scenario answers ${this.answers}${where}${after}`;
  }
}

/**
 * `handler` as it is, except that each error undici gives it is shown to `seen` first, in either of
 * undici's handler forms (`onError(error)`, `onResponseError(controller, error)`). Methods run on the
 * handler itself, so one holding private fields works as before.
 */
function watchingErrors(
  handler: Dispatcher.DispatchHandler,
  seen: (error: unknown) => void,
): Dispatcher.DispatchHandler {
  return new Proxy(handler, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'onError')
        return (error: unknown) => {
          seen(error);
          return value.call(target, error);
        };
      if (property === 'onResponseError')
        return (controller: unknown, error: unknown) => {
          seen(error);
          return value.call(target, controller, error);
        };
      return value.bind(target);
    },
  });
}

/** One dispatched request: its number, whether its body stalls, and how the rest of it is held back. */
interface StallState {
  number: number;
  stall?: Hold | undefined;
}

/**
 * `handler` as it is, except when `state` marks its body as one that stalls: the first half of the body
 * is passed on at once, the rest and its end after the stall, unless the request failed (was aborted)
 * meanwhile. undici's `MockAgent` sends a whole body at once; this stalls it after the headers, in either
 * of undici's handler forms (`onData` / `onComplete`, `onResponseData` / `onResponseEnd`).
 */
function stallingBody(handler: Dispatcher.DispatchHandler, state: StallState): Dispatcher.DispatchHandler {
  let failed = false;
  let rest: (() => void) | undefined;
  return new Proxy(handler, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const call = (args: unknown[]): unknown => value.apply(target, args);
      if (property === 'onError' || property === 'onResponseError')
        return (...args: unknown[]) => {
          failed = true;
          return call(args);
        };
      const { stall } = state;
      if (stall === undefined) return value.bind(target);
      // The chunk is the last argument of either form.
      if (property === 'onData' || property === 'onResponseData')
        return (...args: unknown[]) => {
          const [first, second] = halves(args.at(-1) as Uint8Array);
          rest = () => call([...args.slice(0, -1), second]);
          return call([...args.slice(0, -1), first]);
        };
      if (property === 'onComplete' || property === 'onResponseEnd')
        return (...args: unknown[]) => {
          stall(() => {
            if (failed) return;
            rest?.();
            call(args);
          });
        };
      return value.bind(target);
    },
  });
}

/** The `Request` a `fetch` call was given as its input, or undefined for a URL. */
function fetchRequestOf(input: Parameters<FetchFunction>[0]) {
  return typeof input === 'object' && input !== null && 'method' in input ? input : undefined;
}

/** The method and absolute URL of a `fetch` call. */
function fetchTarget(input: Parameters<FetchFunction>[0], init: Parameters<FetchFunction>[1]) {
  const request = fetchRequestOf(input);
  const url = request === undefined ? String(input) : (request as { url: string }).url;
  return { method: init?.method ?? (request as { method?: string } | undefined)?.method ?? 'GET', url };
}

/**
 * Creates an interceptor for `origin` (e.g. `https://api.openai.com`) and the given transport. `secret`,
 * the scenario's key, is let through in a query parameter (see `pathMatcher`).
 */
export function createInterceptor(kind: TransportKind, origin: string, secret?: string): Interceptor {
  // Locked first, so that a request sent while the model is built is caught too.
  const lockdown = lockNetwork({ watchGlobalFetch: kind === 'undici' });
  const ledger = new Ledger(origin);
  const inner =
    kind === 'fetch'
      ? createNockInterceptor(origin, secret, ledger)
      : createMockAgentInterceptor(origin, secret, ledger);
  return {
    ...inner,
    escaped: () => escapeMessage(kind, lockdown.escapes),
    unexpected: () => ledger.unexpected(),
    strays: () => ledger.refused(),
    sent: () => ledger.count(),
    async close() {
      try {
        await inner.close();
      } finally {
        await lockdown.release();
      }
    },
  };
}

/** The failure of a scenario whose provider sent a request by another way than the transport it was given. */
function escapeMessage(kind: TransportKind, escapes: readonly Escape[]): string | undefined {
  if (escapes.length === 0) return undefined;
  const given = kind === 'undici' ? 'dispatcher' : 'fetch';
  const seen = [...new Set(escapes.map((item) => `a request to ${item.target} went through ${item.route}`))];
  return (
    `createModel ignored the \`${given}\` it was given (the ${kind} transport): ${seen.join('; ')}. ` +
    `Every request must go through the \`fetch\` or \`dispatcher\` createModel receives; in a scenario nothing may reach the network.`
  );
}

type InnerInterceptor = Omit<Interceptor, 'escaped' | 'unexpected' | 'strays' | 'sent'>;

/** An answer as a nock reply function returns it, the rest of its body held back by `stall` if given. */
function nockAnswer(
  reply: WireReply,
  stall: Hold | undefined,
): [number, string | Readable, Record<string, string>] {
  const text = encodeBody(reply.body);
  if (stall === undefined) return [reply.status, text, replyHeaders(reply)];
  // nock sends the headers, then the body as the stream gives it.
  const [first, rest] = halves(text);
  const stream = new Readable({ read() {} });
  stream.push(first);
  stall(() => {
    stream.push(rest);
    stream.push(null);
  });
  return [reply.status, stream, replyHeaders(reply)];
}

function createNockInterceptor(origin: string, secret: string | undefined, ledger: Ledger): InnerInterceptor {
  const requests: WireRequest[] = [];
  const handlerErrors: unknown[] = [];
  // Each request sent and not yet answered or failed, settling either way.
  const inFlight = new Set<Promise<void>>();
  const track = (sent: Promise<unknown>) => {
    const settled = sent.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
  };
  // One scope per expectation, so that `isDone` tells whether it was used.
  const scopes: { scope: nock.Scope; description: string; optional: boolean }[] = [];
  // Each request sent and not yet met by a reply function, so that a reply can tell which request it has
  // (nock reaches its reply functions in the order bodies end, not the order sent). Bodies are compared as
  // parsed, since nock hands a reply function a JSON body parsed; a request with no body has the key ''
  // (nock hands its reply an empty text), one whose body the suite cannot read as text has none, and
  // matches any body. A request that ends unmet (the mocks refused it) leaves, so that one sent after it
  // with the same body does not take its number.
  type Unmet = { number: number; method: string; target: string; body: string | undefined };
  const unmet: Unmet[] = [];
  const bodyKey = (body: unknown): string | undefined => {
    if (body === undefined || body === null || body === '') return '';
    if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer)
      return bodyKey(new TextDecoder().decode(body as ArrayBuffer));
    if (body instanceof URLSearchParams) return body.toString();
    if (typeof body === 'object' && !Array.isArray(body) && Object.getPrototypeOf(body) !== Object.prototype)
      return undefined;
    const parsed = parseBody(body);
    return typeof parsed === 'string' ? parsed : JSON.stringify(parsed);
  };
  /** The number of the first unmet request sent as `method target` with `body`, or undefined. */
  const numberOf = (method: string, target: string, body: unknown): number | undefined => {
    const key = bodyKey(body);
    const at = unmet.findIndex(
      (item) =>
        item.method === method.toUpperCase() &&
        item.target === target &&
        (item.body === undefined || item.body === key),
    );
    return at < 0 ? undefined : unmet.splice(at, 1)[0]!.number;
  };
  const stalled = stalls();
  return {
    kind: 'fetch',
    handlerErrors,
    // A wrapper, so the provider selects its fetch transport; nock patches the global fetch underneath.
    transport: {
      fetch: (input, init) => {
        const target = fetchTarget(input, init);
        const { number, target: shown, failed } = ledger.note(target.method, target.url);
        const entry: Unmet = {
          number,
          method: target.method.toUpperCase(),
          target: shown,
          // A Request given whole carries its body where the suite does not read it.
          body:
            init?.body === undefined && fetchRequestOf(input) !== undefined ? undefined : bodyKey(init?.body),
        };
        unmet.push(entry);
        const leave = () => {
          const at = unmet.indexOf(entry);
          if (at >= 0) unmet.splice(at, 1);
        };
        const sent = runtimeFetch(input, init).catch((error: unknown) => {
          failed(error);
          throw error;
        });
        void sent.then(leave, leave);
        track(sent);
        return sent;
      },
    },
    requests,
    expect(method, path, handler, options = {}) {
      const scope = nock(origin);
      ledger.expect(method, path, options.times ?? 1);
      const interceptor = scope.intercept(pathMatcher(path, secret), method).times(options.times ?? 1);
      if (options.connectionError === 'reset') {
        interceptor.replyWithError(resetError());
        // The reset takes the number of the request it meets, as an answer does, so that one sent again
        // after it with the same body is not numbered as it.
        scope.on('request', (request: { path: string }, met: unknown, body: unknown) => {
          if (met === interceptor) numberOf(method, request.path, body);
        });
      } else {
        interceptor.reply(function (this: { req: { headers: Record<string, unknown> } }, uri, body) {
          const number = numberOf(method, uri, body);
          const request: WireRequest = {
            method,
            path: uri,
            headers: lowerCaseHeaders(this.req.headers),
            body: parseBody(body),
            ...(number === undefined ? {} : { number }),
          };
          requests.push(request);
          const reply = safeReply(handler, request, handlerErrors);
          const answer = nockAnswer(reply, stalled.of(options));
          const hold = stalled.answer(options);
          // nock sends an answer once the promise its reply function returns settles; one aborted
          // meanwhile gets nothing.
          if (hold === undefined) return answer;
          return new Promise<typeof answer>((resolve) => hold(() => resolve(answer)));
        });
      }
      scopes.push({ scope, description: `${method} ${origin}${path}`, optional: options.optional === true });
    },
    pending() {
      return scopes
        .filter((entry) => !entry.optional && !entry.scope.isDone())
        .map((entry) => entry.description);
    },
    async settled() {
      // A request refused may be sent again, so wait until none is left.
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
    async close() {
      stalled.flush();
      for (const { scope } of scopes) scope.persist(false);
      nock.cleanAll();
    },
  };
}

function createMockAgentInterceptor(
  origin: string,
  secret: string | undefined,
  ledger: Ledger,
): InnerInterceptor {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const stalled = stalls();
  // The body of the request being dispatched: the agent runs the reply callback that matched it during
  // the dispatch, which marks a body that stalls.
  let dispatching: StallState | undefined;
  // Every request the provider sends through this dispatcher is noted before the agent matches it; the
  // agent refuses one it cannot match through its handler's error, during the dispatch.
  const dispatch = agent.dispatch.bind(agent);
  agent.dispatch = (options, handler) => {
    // Joined as text: a path that starts with `//` must stay a path, not become a host.
    const { number, failed } = ledger.note(
      options.method,
      `${String(options.origin).replace(/\/+$/, '')}${options.path}`,
    );
    const state: StallState = { number };
    dispatching = state;
    // The headers as the provider sent them: the agent hands a reply those of a flat list as an object it
    // builds pair by pair, in which a header sent twice is left with its last value only.
    const sent = { ...options, headers: lowerCaseHeaders(options.headers) };
    try {
      return dispatch(sent, stallingBody(watchingErrors(handler, failed), state));
    } finally {
      dispatching = undefined;
    }
  };
  const pool = agent.get(origin);
  const requests: WireRequest[] = [];
  const handlerErrors: unknown[] = [];
  // What each expectation's matcher stands for in `pending()`; optional ones are left out.
  const described = new Map<unknown, string | undefined>();
  return {
    kind: 'undici',
    handlerErrors,
    transport: { dispatcher: agent },
    requests,
    expect(method, path, handler, options = {}) {
      const matcher = pathMatcher(path, secret);
      ledger.expect(method, path, options.times ?? 1);
      described.set(matcher, options.optional === true ? undefined : path);
      const intercepted = pool.intercept({ path: matcher, method });
      if (options.connectionError === 'reset') {
        const scope = intercepted.replyWithError(resetError());
        scope.times(options.times ?? 1);
        return;
      }
      const scope = intercepted.reply((call) => {
        const request: WireRequest = {
          method,
          path: call.path,
          headers: lowerCaseHeaders(call.headers),
          body: parseBody(call.body),
          ...(dispatching === undefined ? {} : { number: dispatching.number }),
        };
        requests.push(request);
        const reply = safeReply(handler, request, handlerErrors);
        if (dispatching !== undefined) dispatching.stall = stalled.of(options);
        const text = encodeBody(reply.body);
        const hold = stalled.answer(options);
        return {
          statusCode: reply.status,
          // The agent sends an answer whose data is a promise once it settles, and nothing to a request
          // aborted meanwhile.
          data: hold === undefined ? text : new Promise<string>((resolve) => hold(() => resolve(text))),
          responseOptions: { headers: replyHeaders(reply) },
        };
      });
      scope.times(options.times ?? 1);
    },
    // The agent matches a request, or refuses it, while it is dispatched.
    settled: () => Promise.resolve(),
    pending() {
      return agent.pendingInterceptors().flatMap((pending) => {
        const path = described.get(pending.path);
        return path === undefined ? [] : [`${pending.method} ${pending.origin}${path}`];
      });
    },
    async close() {
      stalled.flush();
      await agent.close();
    },
  };
}
