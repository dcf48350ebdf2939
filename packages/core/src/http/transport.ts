/** The seam between the engine and the network: one request in, status + headers + body bytes out. */
export interface TransportRequest {
  url: string;
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** The engine's per-attempt timeout; the transport's own header/body timeouts are kept longer than this. */
  timeoutMs?: number;
  /** Responses larger than this are refused with `ResponseTooLargeError`. */
  maxResponseBytes: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Uint8Array;
  /**
   * Hands `body`'s memory back to the transport for the next response, once everything read from it
   * has been copied out; `body` must not be used after. Optional: a body never released is just garbage.
   */
  release?(): void;
}

export interface Transport {
  readonly kind: 'undici' | 'fetch';
  request(request: TransportRequest): Promise<TransportResponse>;
  /**
   * The URLs of the proxies this transport sends requests through, credentials included, as it was
   * configured with them: their user and password are redacted from every error of a call, since a proxy's
   * own error page may echo them. Asked only when an error is built. Default: none.
   */
  proxyUrls?(): readonly string[];
  /**
   * The headers this transport sends its proxies, one record per proxy: a `Proxy-Authorization` made from
   * a token rather than from the URL's user and password (undici's `ProxyAgent` `token` and `auth`), or
   * those heard sent when the proxy agent sits where nothing can read it (inside undici's `RetryAgent`).
   * Their credentials are redacted from every error of a call as `proxyUrls`' are. Asked only when an
   * error is built. Default: none.
   */
  proxyHeaders?(): readonly Readonly<Record<string, string>>[];
}

/**
 * Thrown by a transport when a response body exceeds `maxResponseBytes`, or by an adapter over another
 * library's transport when that library's own cap refused the body: `setting` names what raises the
 * limit, `null` when nothing the caller sets does (the AI SDK's download cap), so that no message tells
 * the caller to raise a setting that would change nothing.
 */
export class ResponseTooLargeError extends Error {
  constructor(
    readonly limit: number,
    readonly setting: string | null = 'maxResponseBytes',
  ) {
    super(`response body exceeds the ${limit}-byte limit`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * A failure a transport has put in words itself (the Node transport's proxy refusals, in its own module so
 * that other runtimes' bundles do not carry them): `words` follows "<provider>: ", `{url}` standing for the
 * request's URL, redacted. Nothing of the request reached the API; `retryable: false` when trying again
 * cannot help.
 */
export interface WordedFailure extends Error {
  words: string;
  retryable: boolean;
}

/**
 * What a transport rejects with when a request fails: the failure itself before any status arrived (0)
 * and for a 2xx answer, else that failure wrapped with the status and headers. The body of an error status
 * holds only its details, so `requestJson` can still report the status, and honour its `Retry-After`,
 * when that body does not decompress or is cut short.
 */
export function bodyFailure(status: number, headers: Record<string, string>, error: unknown): unknown {
  return status < 300 ? error : new ErrorStatusBodyError(status, headers, error);
}

/** The body of an answer with an error status failed; `cause` says how. */
export class ErrorStatusBodyError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    cause: unknown,
  ) {
    super(`the body of a ${status} answer failed`, { cause });
  }
}

/** Joins chunks into one exactly sized buffer (its own `ArrayBuffer`, never a view into a shared pool). */
export function concatChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteOffset === 0 && chunks[0]!.buffer.byteLength === total) {
    return chunks[0]!;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * The encodings a transport that decompresses offers. Not `deflate`: servers send it both zlib-wrapped (as
 * HTTP specifies) and raw, and undici's decompressor and `DecompressionStream('deflate')` read only the
 * first, so a raw-deflate answer would fail where a browser's fetch, which reads both, succeeds.
 */
export const ACCEPT_ENCODING = 'gzip, br';

/** Default cap on a response body: far above the largest legitimate answer (2,048 x 3,072 floats as JSON is ~80 MB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
