import { subscribe } from 'node:diagnostics_channel';
import { Agent, Dispatcher, EnvHttpProxyAgent, interceptors, util as undiciUtil } from 'undici';
import { InvalidArgumentError } from '../errors.js';
import {
  ACCEPT_ENCODING,
  bodyFailure,
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type WordedFailure,
} from './transport.js';

/** Options of the default Node dispatcher. */
export interface DispatcherOptions {
  /** Negotiate gzip / deflate / br and decompress through undici's interceptor. Default true. */
  decompress?: boolean;
  /** Idle keep-alive sockets are closed after this long. Default 30 s. */
  keepAliveTimeoutMs?: number;
  /** Most sockets per origin. Default: no limit beyond the engine's concurrency. */
  connections?: number;
}

/** Header and body timeouts when the engine set none: generous, since the engine's own timeout governs. */
const DEFAULT_SOCKET_TIMEOUT_MS = 600_000;

/**
 * One of the proxy settings of the environment, by the rule curl reads them with: the lower-case variable
 * when it is set, else the upper-case one, and an empty one counts as unset. Undefined when neither is set.
 * (undici's `EnvHttpProxyAgent`, left to read them itself, let an empty `http_proxy` or `no_proxy` hide
 * `HTTP_PROXY` or `NO_PROXY`.)
 */
function environmentSetting(lower: string, upper: string): { name: string; value: string } | undefined {
  for (const name of [lower, upper]) {
    const value = process.env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** The schemes of the proxies undici's `ProxyAgent` reaches over HTTP, which the README promises. */
const PROXY_SCHEMES = new Set(['http:', 'https:']);

/**
 * The proxy URL one scheme's variables name, checked; '' when neither names a proxy. A URL that does not
 * parse, or one of another scheme (`ftp://`, `socks5://`), is refused here, naming the variable and not
 * its value (it may hold a password): undici refused the first kind, and an `ftp://` proxy, on every
 * request as a network failure, retried to no end; a `socks5://` one went through undici's experimental
 * SOCKS support, which its reading of the environment does not document.
 */
function proxyVariable(lower: string, upper: string): string {
  const setting = environmentSetting(lower, upper);
  if (setting === undefined) return '';
  const { name, value } = setting;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      `The ${name} environment variable holds no usable proxy URL; set it to one such as http://proxy.internal:3128 (with user:password@ before the host when the proxy asks for credentials), or unset it.`,
      { environmentVariables: [name] },
    );
  }
  if (!PROXY_SCHEMES.has(url.protocol)) {
    throw new InvalidArgumentError(
      `The ${name} environment variable names a proxy of a scheme that cannot be used: only http:// and https:// proxies are read from the environment. Set it to one such as http://proxy.internal:3128, or unset it (a SOCKS proxy can be passed as the dispatcher setting, an undici Socks5ProxyAgent).`,
      { environmentVariables: [name] },
    );
  }
  return value;
}

/** The hosts `NO_PROXY` (or `no_proxy`) names, as undici reads them; '' when neither is set. */
function noProxyVariable(): string {
  return environmentSetting('no_proxy', 'NO_PROXY')?.value ?? '';
}

/**
 * The proxies the environment names, with `NO_PROXY` read at every request by the rule of the proxy
 * variables and handed to undici's `EnvHttpProxyAgent` as its `noProxy`: left to read it itself, the agent
 * took `no_proxy ?? NO_PROXY`, so an empty `no_proxy` hid `NO_PROXY`. When the value changes (it seldom
 * does) a new agent takes over, and the old one closes once its requests have ended.
 */
class ProxyFromEnvironment extends Dispatcher {
  private noProxy = noProxyVariable();
  private agent: EnvHttpProxyAgent;
  private closed = false;

  constructor(private readonly options: EnvHttpProxyAgent.Options) {
    super();
    this.agent = new EnvHttpProxyAgent({ ...options, noProxy: this.noProxy });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const noProxy = noProxyVariable();
    // A closed dispatcher stays closed: its agent refuses the request.
    if (noProxy !== this.noProxy && !this.closed) {
      const previous = this.agent;
      this.agent = new EnvHttpProxyAgent({ ...this.options, noProxy });
      this.noProxy = noProxy;
      previous.close().catch(() => {});
    }
    return this.agent.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.closed = true;
    const closing = this.agent.close();
    if (callback === undefined) return closing;
    closing.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    this.closed = true;
    const done = typeof first === 'function' ? first : callback;
    const destroying = this.agent.destroy(typeof first === 'function' ? null : (first ?? null));
    if (done === undefined) return destroying;
    destroying.then(done, done);
  }
}

/**
 * A keep-alive dispatcher from the same undici package the transport calls. When `HTTPS_PROXY` /
 * `HTTP_PROXY` (or its lower-case twin) names a proxy it goes through undici's `EnvHttpProxyAgent`, which
 * also honours `NO_PROXY`. A proxy variable that holds no http(s) URL is an `InvalidArgumentError` naming it.
 */
export function createDefaultDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const agentOptions = {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    headersTimeout: DEFAULT_SOCKET_TIMEOUT_MS,
    bodyTimeout: DEFAULT_SOCKET_TIMEOUT_MS,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  };
  const httpProxy = proxyVariable('http_proxy', 'HTTP_PROXY');
  const httpsProxy = proxyVariable('https_proxy', 'HTTPS_PROXY');
  // Handed over as read, so that undici does not read them again: an empty httpsProxy sends https:// through
  // the HTTP proxy, as the README says, and an empty httpProxy reaches http:// hosts directly.
  const base: Dispatcher =
    httpProxy === '' && httpsProxy === ''
      ? new Agent(agentOptions)
      : new ProxyFromEnvironment({ ...agentOptions, httpProxy, httpsProxy });
  // The first interceptor is the innermost: it stands between the socket and the decompressor.
  const dispatcher =
    options.decompress === false ? base : base.compose(beforeDecompression, quietDecompressInterceptor());
  defaultDispatcherProxies.set(
    dispatcher,
    [httpProxy, httpsProxy].filter((proxy) => proxy !== ''),
  );
  return dispatcher;
}

/** The proxy URLs each dispatcher `createDefaultDispatcher` made goes through, as it read them. */
const defaultDispatcherProxies = new WeakMap<Dispatcher, readonly string[]>();

/**
 * The URLs, credentials included, of the proxies `dispatcher` sends requests through: as the environment
 * named them for one `createDefaultDispatcher` made; for a given undici `ProxyAgent`, `EnvHttpProxyAgent`
 * or `Socks5ProxyAgent`, as undici keeps them, under symbols (it has no public accessor: state not found
 * there, another dispatcher's or another undici's, adds none). A `Socks5ProxyAgent`'s user and password
 * come as a URL of their own.
 */
function proxyUrlsOf(dispatcher: Dispatcher | undefined): readonly string[] {
  if (dispatcher === undefined) return [];
  const given = defaultDispatcherProxies.get(dispatcher);
  if (given !== undefined) return given;
  const uris = heldByProxyAgents(dispatcher, 'proxy agent options').map(
    (options) => (options as { uri?: unknown } | undefined)?.uri,
  );
  // A Socks5ProxyAgent keeps its user and password decoded, from its options or else from its URL.
  const socks = heldByProxyAgents(dispatcher, 'proxy auth').map((auth) => {
    const { username, password } = (auth ?? {}) as { username?: unknown; password?: unknown };
    if (typeof password !== 'string' || password === '') return undefined;
    const url = new URL('socks5://proxy');
    url.username = typeof username === 'string' ? username : '';
    url.password = password;
    return url;
  });
  return [...uris, ...socks].flatMap((uri) =>
    typeof uri === 'string' ? [uri] : uri instanceof URL ? [uri.href] : [],
  );
}

/**
 * The headers each given undici `ProxyAgent` sends its proxy (its `proxy headers` symbol): they hold the
 * `Proxy-Authorization` undici makes of its `token` or `auth` option, which its URL does not show. For a
 * given dispatcher that shows no proxy at all, those heard sent (`heardProxyAuthorizations`): it may wrap
 * one where nothing reads it. None for a dispatcher `createDefaultDispatcher` made, whose proxies'
 * credentials are in their URLs only.
 */
function proxyHeadersOf(dispatcher: Dispatcher | undefined): Record<string, string>[] {
  if (dispatcher === undefined || defaultDispatcherProxies.has(dispatcher)) return [];
  const held = heldByProxyAgents(dispatcher, 'proxy headers').flatMap((headers) =>
    typeof headers === 'object' && headers !== null
      ? [Object.fromEntries(Object.entries(headers).filter(([, value]) => typeof value === 'string'))]
      : [],
  );
  if (held.length > 0 || proxyUrlsOf(dispatcher).length > 0) return held;
  return [...heardProxyAuthorizations].map((value) => ({ 'proxy-authorization': value }));
}

/**
 * The `Proxy-Authorization` values of the latest requests undici made in this process (a tunnel's
 * `CONNECT`, or a request sent to the proxy itself), heard on its `undici:request:create` diagnostics
 * channel from the first transport given a dispatcher on: a dispatcher may hold a `ProxyAgent` where
 * nothing can read it (undici's `RetryAgent` keeps its agent in a private field), and still sends them.
 * Heard for the process, not per call: another proxy's credentials redacted too take no word an error needs.
 */
const heardProxyAuthorizations = new Set<string>();
/** Values kept, the oldest let go first. */
const HEARD_KEPT = 16;
let listening = false;

function listenForProxyAuthorizations(): void {
  if (listening) return;
  listening = true;
  subscribe('undici:request:create', (message) => {
    // undici 7 keeps a request's headers as [name, value, …]; undici 6 (Node 20's fetch) as header lines.
    const headers = (message as { request?: { headers?: unknown } } | undefined)?.request?.headers;
    const values: string[] = [];
    if (Array.isArray(headers)) {
      for (let index = 0; index + 1 < headers.length; index += 2)
        if (String(headers[index]).toLowerCase() === 'proxy-authorization')
          values.push(String(headers[index + 1]));
    } else if (typeof headers === 'string') {
      for (const found of headers.matchAll(/^proxy-authorization:[ \t]*(.*?)\r?$/gim)) values.push(found[1]!);
    }
    for (const value of values) {
      heardProxyAuthorizations.delete(value);
      heardProxyAuthorizations.add(value);
      if (heardProxyAuthorizations.size > HEARD_KEPT)
        heardProxyAuthorizations.delete(heardProxyAuthorizations.values().next().value as string);
    }
  });
}

/**
 * What a `ProxyAgent` keeps under the symbol of this description, and what each of the two `ProxyAgent`s
 * an `EnvHttpProxyAgent` holds keeps (its `http proxy agent` and `https proxy agent` symbols). A dispatcher
 * wrapped by `compose` is a JS Proxy of it that replaces `dispatch` only, so its symbols read through.
 */
function heldByProxyAgents(value: unknown, description: string, depth = 0): unknown[] {
  if (typeof value !== 'object' || value === null || depth > 1) return [];
  const out: unknown[] = [];
  for (const key of Object.getOwnPropertySymbols(value)) {
    const field = (value as Record<symbol, unknown>)[key];
    if (key.description === description) out.push(field);
    else if (key.description === 'http proxy agent' || key.description === 'https proxy agent') {
      out.push(...heldByProxyAgents(field, description, depth + 1));
    }
  }
  return out;
}

/**
 * What the decompressor is handed. A response without its informational (1xx) answers: a `103 Early
 * Hints` comes before the real one, and only the real one means anything to a caller, while the
 * decompressor accepts one response start only (every call after such hints failed). (`101 Switching
 * Protocols` goes to the upgrade callback, never here.) And a request it cannot pause: it paused the
 * socket's parser while zlib caught up with the compressed bytes, and when the server then closed the
 * connection (`connection: close`), undici 7's parser threw an assertion from the socket's `end` event,
 * out of every caller's reach, and the process crashed; a body of a few kilobytes that inflated to
 * megabytes did it, read whole or refused as too large. Unpaused, the compressed bytes wait in zlib's
 * input buffer, no more than the server sends, and the decompressed bytes are still counted against the
 * cap as they come. `compose` hands every interceptor a handler of undici's new API (it wraps one of the
 * old API first), so the new API's callbacks are all there are to pass on.
 */
const beforeDecompression: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
  dispatch(options, {
    onRequestStart: (controller, context) => {
      controller.pause = () => {};
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) =>
      handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => {
      if (statusCode < 200) return;
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
    },
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  });

/**
 * undici's decompress interceptor announces itself with an ExperimentalWarning when it is created. That
 * note is for undici's own users; it would land in every program that embeds a string, so the one
 * synchronous creation call runs with that single message filtered out.
 */
function quietDecompressInterceptor(): Dispatcher.DispatcherComposeInterceptor {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('DecompressInterceptor is experimental')) return;
    return (emitWarning as (...values: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    // Error bodies too: a gzipped 429 or 5xx still has to be read for its quota, batch-size or retry hints.
    return interceptors.decompress({ skipErrorResponses: false });
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Bodies that declare more bytes than this are copied into one buffer as they arrive. */
const COPY_AS_READ_MIN = 64 * 1024;

type Settled = { resolve(response: TransportResponse): void; reject(error: unknown): void };

/**
 * One request's answer, read through `dispatch` with a handler of undici's classic API: the one
 * `undici.request` hands every dispatcher itself, so any dispatcher that serves `request` serves this.
 * Each body chunk is copied as undici hands it over, with no stream between the socket and the copy:
 * `request`'s body `Readable` (its buffering and events for every 64 KB chunk) cost 13 to 16% of the CPU of
 * reading answers of 128 x 3,072 floats, and 8 to 15% for answers of 128 x 1,024 base64 vectors (four
 * calls at a time on Node 24, the two ways alternating in one process); in whole jobs of the engine, about
 * 4.5% and 2.5%.
 *
 * The body is refused once it grows past `limit`, and so is one that declares more. A body that declares
 * its length (over `COPY_AS_READ_MIN`, and not compressed, whose length is not the one declared) is copied
 * into one buffer, a spare if one is large enough, chunk by chunk, so that no chunk outlives its arrival;
 * holding every chunk until the end, then joining them, cost up to 11% more CPU per call on Node 20 and
 * up to 13% on Node 24. Any other body is kept as chunks and joined at its end (one chunk is the body
 * itself, with nothing to join).
 */
class ResponseReader {
  private status = 0;
  private headers: Record<string, string> = {};
  private sinkSize = 0;
  /** Made at the first chunk: a body that never comes takes no buffer. */
  private sink: BodySink | undefined;
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private abort: ((reason?: Error) => void) | undefined;
  /** Why the request must end before its answer (the caller's abort); the connect callback reads it. */
  private reason: Error | undefined;
  private settled = false;
  private readonly stopWatching: (() => void) | undefined;

  constructor(
    private readonly limit: number,
    signal: AbortSignal | undefined,
    private readonly settle: Settled,
  ) {
    if (signal === undefined) return;
    const onAbort = () => {
      const reason = abortError(signal);
      if (this.abort === undefined) this.reason = reason;
      else this.abort(reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.stopWatching = () => signal.removeEventListener('abort', onAbort);
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abort = abort;
    if (this.reason !== undefined) abort(this.reason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    // An informational answer (a `103 Early Hints`) comes before the real one, which alone means anything.
    if (statusCode < 200 || this.settled) return true;
    this.status = statusCode;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(undiciUtil.parseHeaders(rawHeaders ?? []))) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    this.headers = headers;
    const declared = Number(headers['content-length']);
    // A decompressed body's length is not the one declared.
    if (Number.isFinite(declared) && headers['content-encoding'] === undefined) {
      if (declared > this.limit) {
        this.refuse();
        return false;
      }
      if (declared > COPY_AS_READ_MIN) this.sinkSize = declared;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return this.endUnread();
    this.total += chunk.byteLength;
    if (this.total > this.limit) {
      this.refuse();
      return false;
    }
    if (this.sinkSize > 0) {
      this.sink ??= new BodySink(this.sinkSize);
      this.sink.write(chunk);
    } else this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.finish();
    let body: { body: Uint8Array; release?(): void };
    if (this.sink !== undefined) body = this.sink.finish();
    else if (this.chunks.length === 1) body = { body: this.chunks[0]! };
    else {
      const joined = new BodySink(this.total);
      for (const chunk of this.chunks) joined.write(chunk);
      body = joined.finish();
    }
    this.settle.resolve({ status: this.status, headers: this.headers, ...body });
  }

  /** The request failed (an abort, a socket closed mid-answer, a timeout): its buffer is a spare. */
  onError(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.sink?.abandon();
    this.settle.reject(bodyFailure(this.status, this.headers, proxyRefusal(error)));
  }

  /**
   * Body bytes after the answer failed: a dispatcher reported an error and read on. undici's `ProxyAgent`
   * without a tunnel does so for a proxy's 407, whose page then follows. Returning false alone paused
   * undici's parser, and nothing resumed it: the connection to the proxy hung (and the dispatcher's
   * `close()` with it), and when the proxy closed it after a page of declared length, the parser threw an
   * assertion outside every call, which ended the process. So the request is ended first, as undici ends
   * one whose handler throws; with no way to end it, the rest is read and dropped.
   */
  private endUnread(): boolean {
    if (this.abort === undefined) return true;
    this.abort(new DOMException('The answer failed before its body was read', 'AbortError'));
    return false;
  }

  /** Refuses a body over the limit: the request ends there, and its connection with it. */
  private refuse(): void {
    const error = new ResponseTooLargeError(this.limit);
    this.onError(error);
    this.abort?.(error);
  }

  private finish(): void {
    this.settled = true;
    this.stopWatching?.();
  }
}

/**
 * undici tells a proxy's refusal only in its message: a tunnel (`CONNECT`) answered with anything but 200,
 * or a 407 to a request that a `ProxyAgent` without a tunnel sent to the proxy itself. It reads as an abort
 * or a bad argument, which was retried as a connection failure of the API; each means the request never
 * reached the API, and a 407 is met again by every retry.
 */
const PROXY_REFUSAL =
  /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$|^Proxy Authentication Required \((407)\)$/;

/**
 * The proxy answered in place of the API, so the request never reached it. A 407 refuses the credentials
 * of the proxy's own URL, which every retry sends again, so it is not retried; any other answer (a 502
 * when the proxy cannot reach the API's host) is.
 */
class ProxyRefusedError extends Error implements WordedFailure {
  readonly words: string;
  readonly retryable: boolean;
  constructor(status: number, cause: unknown) {
    super(`the proxy answered ${status} in place of the API`, { cause });
    this.name = 'ProxyRefusedError';
    this.retryable = status !== 407;
    this.words =
      status === 407
        ? "the proxy refused its credentials (407 Proxy Authentication Required), so the request to {url} never reached the API. Check the user and password in the proxy URL (HTTPS_PROXY / HTTP_PROXY, or the dispatcher's); retrying will not help."
        : `the proxy answered ${status} in place of the API, so the request to {url} never reached it. Check the proxy and that it can reach the API's host; the engine retries these.`;
  }
}

/** `error` as a `ProxyRefusedError` when it is undici's report of a proxy's refusal, else as it is. */
function proxyRefusal(error: Error): Error {
  const found = typeof error?.message === 'string' ? PROXY_REFUSAL.exec(error.message) : null;
  return found === null ? error : new ProxyRefusedError(Number(found[1] ?? found[2]), error);
}

/**
 * What a caller's abort ends the request with: the signal's reason when it is an `Error` (undici's abort
 * takes one), else an `AbortError`. (`requestJson` re-throws the signal's own reason either way.)
 */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Buffers of bodies already read, for the next bodies to be copied into: writing a fresh buffer costs
 * its page faults, several times the copy itself (measured: 4-6 ms against 0.6 ms for a 12 MB answer).
 * Held while answers keep coming and dropped after a second without one, so an idle process keeps none.
 * (Weak references did not serve: the collections that large bodies cause took the spares back first.)
 */
const spareBuffers: ArrayBuffer[] = [];
/** Bodies larger than this get a buffer of their own that is never kept. */
const SPARE_BYTES_LIMIT = 64 * 1024 * 1024;
/**
 * At most this many bytes of spares are held: four of the largest kept, so that the engine's default four
 * calls at once each find one. (At 128 MiB only three answers of 1,000 x 3,072 floats, 39 MiB each, were
 * kept, so whenever four such calls ran at once one made a fresh buffer: measured 10% more CPU on that
 * wire for jobs of four such calls.)
 */
const SPARE_TOTAL_LIMIT = 4 * SPARE_BYTES_LIMIT;
const SPARE_IDLE_MS = 1000;
let spareBytes = 0;
let dropSpares: ReturnType<typeof setTimeout> | undefined;

/**
 * The smallest spare that holds `total` bytes: a small body must not take the buffer a large one, perhaps
 * on its way, would have used.
 */
function takeSpare(total: number): ArrayBuffer | undefined {
  let best = -1;
  for (let index = 0; index < spareBuffers.length; index++) {
    const length = spareBuffers[index]!.byteLength;
    if (length >= total && (best < 0 || length < spareBuffers[best]!.byteLength)) best = index;
  }
  if (best < 0) return undefined;
  const [spare] = spareBuffers.splice(best, 1);
  spareBytes -= spare!.byteLength;
  return spare;
}

function keepSpare(buffer: ArrayBuffer): void {
  if (buffer.byteLength > SPARE_BYTES_LIMIT || spareBytes + buffer.byteLength > SPARE_TOTAL_LIMIT) return;
  spareBuffers.push(buffer);
  spareBytes += buffer.byteLength;
  if (dropSpares !== undefined) clearTimeout(dropSpares);
  dropSpares = setTimeout(() => {
    spareBuffers.length = 0;
    spareBytes = 0;
    dropSpares = undefined;
  }, SPARE_IDLE_MS);
  dropSpares.unref?.();
}

/** A new buffer for `bytes`: rounded up to a whole MiB, so that answers of about one size share spares. */
function freshBuffer(bytes: number): ArrayBuffer {
  return new ArrayBuffer(bytes <= SPARE_BYTES_LIMIT ? Math.ceil(bytes / 1_048_576) * 1_048_576 : bytes);
}

/**
 * One body's bytes in one buffer (a spare when one is large enough), written chunk by chunk. `expected`
 * sizes it; a body that outgrows it (a length header that undercounts) moves to a buffer twice as large.
 */
class BodySink {
  private buffer: ArrayBuffer;
  private bytes: Uint8Array;
  private length = 0;
  /** Whether the buffer went to the caller (`finish`) or back to the spares (`abandon`). */
  private done = false;

  constructor(expected: number) {
    this.buffer = takeSpare(expected) ?? freshBuffer(expected);
    this.bytes = new Uint8Array(this.buffer);
  }

  write(chunk: Uint8Array): void {
    const end = this.length + chunk.byteLength;
    if (end > this.bytes.byteLength) {
      const grown = freshBuffer(Math.max(end, this.bytes.byteLength * 2));
      new Uint8Array(grown).set(this.bytes.subarray(0, this.length));
      keepSpare(this.buffer);
      this.buffer = grown;
      this.bytes = new Uint8Array(grown);
    }
    this.bytes.set(chunk, this.length);
    this.length = end;
  }

  /**
   * Hands the buffer back unused, the body having failed. Only while nothing was handed out, and once (a
   * refused body's destruction may report an error after the refusal).
   */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    keepSpare(this.buffer);
  }

  /** The body, and how to hand its buffer back once it has been read. */
  finish(): { body: Uint8Array; release(): void } {
    this.done = true;
    const buffer = this.buffer;
    let released = false;
    return {
      // A Buffer view: its indexOf is a native memchr, several times faster than a Uint8Array's.
      body: Buffer.from(buffer, 0, this.length),
      release() {
        if (released) return;
        released = true;
        keepSpare(buffer);
      },
    };
  }
}

let sharedDispatcher: Dispatcher | undefined;

/** The process-wide default dispatcher, created on first use so that proxy variables are read at call time. */
function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= createDefaultDispatcher();
  return sharedDispatcher;
}

/**
 * The Node default: undici's dispatcher, read by a `ResponseReader` (undici's own `request` is the same
 * dispatch with a body stream on top, measured slower above). With no `dispatcher` it uses a shared
 * keep-alive agent that negotiates compression; a given dispatcher is used as is.
 */
export function createUndiciTransport(dispatcher?: Dispatcher): Transport {
  const negotiateCompression = dispatcher === undefined;
  if (dispatcher !== undefined) listenForProxyAuthorizations();
  return {
    kind: 'undici',
    // The shared dispatcher is made at the first request: before it, no request went through a proxy.
    proxyUrls: () => proxyUrlsOf(dispatcher ?? sharedDispatcher),
    proxyHeaders: () => proxyHeadersOf(dispatcher ?? sharedDispatcher),
    async request(request: TransportRequest): Promise<TransportResponse> {
      const socketTimeout = Math.max((request.timeoutMs ?? 0) + 1_000, DEFAULT_SOCKET_TIMEOUT_MS);
      const headers = negotiateCompression
        ? { 'accept-encoding': ACCEPT_ENCODING, ...request.headers }
        : request.headers;
      // undici refuses an origin that is not http(s), through the reader, as `request` did.
      const url = new URL(request.url);
      const { signal } = request;
      if (signal?.aborted) throw abortError(signal);
      return new Promise<TransportResponse>((resolve, reject) => {
        const reader = new ResponseReader(request.maxResponseBytes, signal, { resolve, reject });
        try {
          (dispatcher ?? defaultDispatcher()).dispatch(
            {
              origin: url.origin,
              path: url.pathname + url.search,
              method: request.method,
              headers,
              // No body at all for a GET (as `request` passed it): mock agents and recordings tell it from `null`.
              ...(request.body === undefined ? {} : { body: request.body }),
              headersTimeout: socketTimeout,
              bodyTimeout: socketTimeout,
            },
            reader,
          );
        } catch (error) {
          // A dispatcher that throws rather than report the failure to the handler (undici's own report it).
          reader.onError(error as Error);
        }
      });
    },
  };
}
