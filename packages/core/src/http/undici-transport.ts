import { Agent, type Dispatcher, EnvHttpProxyAgent, interceptors, request as undiciRequest } from 'undici';
import {
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
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

function proxyConfigured(): boolean {
  const env = process.env;
  return Boolean(env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy);
}

/**
 * A keep-alive dispatcher from the same undici package the transport calls. When `HTTPS_PROXY` /
 * `HTTP_PROXY` is set it is an `EnvHttpProxyAgent`, which also honours `NO_PROXY`.
 */
export function createDefaultDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const agentOptions = {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    headersTimeout: DEFAULT_SOCKET_TIMEOUT_MS,
    bodyTimeout: DEFAULT_SOCKET_TIMEOUT_MS,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  };
  const base: Dispatcher = proxyConfigured() ? new EnvHttpProxyAgent(agentOptions) : new Agent(agentOptions);
  // The first interceptor is the innermost: informational answers are dropped before the decompressor,
  // which accepts one response start only and failed every call after a `103 Early Hints`.
  return options.decompress === false
    ? base
    : base.compose(skipInformationalResponses, quietDecompressInterceptor());
}

/**
 * Passes a response on without its informational (1xx) answers: a `103 Early Hints` comes before the real
 * one, and only the real one means anything to a caller. (`101 Switching Protocols` goes to the upgrade
 * callback, never here.) `compose` hands every interceptor a handler of undici's new API (it wraps one of
 * the old API first), so the new API's callbacks are all there are to pass on.
 */
const skipInformationalResponses: Dispatcher.DispatcherComposeInterceptor =
  (dispatch) => (options, handler) =>
    dispatch(options, {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
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

/**
 * Stops reading a body we refuse. undici reports the abort as an error on the stream; with nobody
 * listening any more, that would surface as an unhandled error in the caller's process.
 */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * Collects a body with `data` / `end` listeners (measurably cheaper per call than `for await`), refusing
 * it once it grows past `limit`.
 */
function readChunks(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<{ chunks: Buffer[]; total: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let refused = false;
    body.on('data', (chunk: Buffer) => {
      if (refused) return;
      total += chunk.byteLength;
      if (total > limit) {
        refused = true;
        discard(body);
        reject(new ResponseTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () => resolve({ chunks, total }));
    body.on('error', reject);
  });
}

/**
 * Buffers of bodies already read, for the next bodies to be joined into: writing a fresh buffer costs
 * its page faults, several times the copy itself (measured: 4-6 ms against 0.6 ms for a 12 MB answer).
 * Held while answers keep coming and dropped after a second without one, so an idle process keeps none.
 * (Weak references did not serve: the collections that large bodies cause took the spares back first.)
 */
const spareBuffers: ArrayBuffer[] = [];
/** Bodies larger than this get a buffer of their own that is never kept. */
const SPARE_BYTES_LIMIT = 64 * 1024 * 1024;
/** At most this many bytes of spares are held. */
const SPARE_TOTAL_LIMIT = 128 * 1024 * 1024;
const SPARE_IDLE_MS = 1000;
let spareBytes = 0;
let dropSpares: ReturnType<typeof setTimeout> | undefined;

function takeSpare(total: number): ArrayBuffer | undefined {
  for (let index = 0; index < spareBuffers.length; index++) {
    const spare = spareBuffers[index]!;
    if (spare.byteLength >= total) {
      spareBuffers.splice(index, 1);
      spareBytes -= spare.byteLength;
      return spare;
    }
  }
  return undefined;
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

/** Joins `chunks` into one buffer (a spare if one is large enough) and says how to hand it back. */
function joinIntoSpare(chunks: Buffer[], total: number): { body: Uint8Array; release(): void } {
  // Rounded up to a whole MiB, so that answers of about one size share buffers.
  const buffer =
    takeSpare(total) ??
    new ArrayBuffer(total <= SPARE_BYTES_LIMIT ? Math.ceil(total / 1_048_576) * 1_048_576 : total);
  // A Buffer view: its indexOf is a native memchr, several times faster than a Uint8Array's.
  const body = Buffer.from(buffer, 0, total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let released = false;
  return {
    body,
    release() {
      if (released) return;
      released = true;
      keepSpare(buffer);
    },
  };
}

let sharedDispatcher: Dispatcher | undefined;

/** The process-wide default dispatcher, created on first use so that proxy variables are read at call time. */
function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= createDefaultDispatcher();
  return sharedDispatcher;
}

/**
 * The Node default: `undici.request`, measured fastest here. With no `dispatcher` it uses a shared
 * keep-alive agent that negotiates compression; a given dispatcher is used as is.
 */
export function createUndiciTransport(dispatcher?: Dispatcher): Transport {
  const negotiateCompression = dispatcher === undefined;
  return {
    kind: 'undici',
    async request(request: TransportRequest): Promise<TransportResponse> {
      const socketTimeout = Math.max((request.timeoutMs ?? 0) + 1_000, DEFAULT_SOCKET_TIMEOUT_MS);
      const headers = negotiateCompression
        ? { 'accept-encoding': 'gzip, deflate, br', ...request.headers }
        : request.headers;
      const response = await undiciRequest(request.url, {
        method: request.method,
        headers,
        body: request.body,
        signal: request.signal,
        dispatcher: dispatcher ?? defaultDispatcher(),
        headersTimeout: socketTimeout,
        bodyTimeout: socketTimeout,
      });
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined) continue;
        responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      const limit = request.maxResponseBytes;
      const declared = Number(responseHeaders['content-length']);
      if (
        Number.isFinite(declared) &&
        declared > limit &&
        responseHeaders['content-encoding'] === undefined
      ) {
        discard(response.body);
        throw new ResponseTooLargeError(limit);
      }
      const { chunks, total } = await readChunks(response.body, limit);
      if (chunks.length === 1)
        return { status: response.statusCode, headers: responseHeaders, body: chunks[0]! };
      return { status: response.statusCode, headers: responseHeaders, ...joinIntoSpare(chunks, total) };
    },
  };
}
