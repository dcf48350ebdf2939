import type { Dispatcher } from 'undici';
import {
  AuthenticationError,
  abortReason,
  ConnectionError,
  type EmbedKitError,
  type ErrorDetails,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from '../errors.js';
import { parseJsonWithVectors } from '../json-vectors.js';
import { createFetchTransport, type FetchFunction } from './fetch-transport.js';
import { bodyExcerpt, redact } from './redact.js';
import { parseRetryAfter } from './retry-after.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';

declare const __EMBEDKIT_VERSION__: string | undefined;

/** The core package version, sent as `User-Agent: embedkit/<version>`. */
export const VERSION: string = typeof __EMBEDKIT_VERSION__ === 'string' ? __EMBEDKIT_VERSION__ : '0.0.0-dev';

/** Transport settings every provider accepts. */
export interface HttpSettings {
  /** A `fetch` to use instead of undici (browsers, edge runtimes, Bun, tests). Selects the `fetch` transport. */
  fetch?: FetchFunction;
  /** An undici dispatcher (Agent, ProxyAgent, MockAgent) for the Node transport. Default: a shared keep-alive agent. */
  dispatcher?: Dispatcher;
  /** Cap on a response body in bytes. Default 256 MiB. */
  maxResponseBytes?: number;
}

function isNode(): boolean {
  const versions = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process
    ?.versions;
  return versions?.node !== undefined && versions.bun === undefined;
}

/**
 * Picks the transport: an injected `fetch` selects the fetch transport; otherwise Node uses
 * `undici.request` (loaded on first use, so other runtimes never load undici) and other runtimes use `fetch`.
 */
export function createTransport(settings: Pick<HttpSettings, 'fetch' | 'dispatcher'> = {}): Transport {
  if (settings.fetch !== undefined) return createFetchTransport(settings.fetch);
  if (!isNode()) return createFetchTransport();
  let loaded: Transport | undefined;
  let loading: Promise<Transport> | undefined;
  const dispatcher = settings.dispatcher;
  return {
    kind: 'undici',
    request(request: TransportRequest) {
      if (loaded !== undefined) return loaded.request(request);
      loading ??= import('./undici-transport.js').then((module) => {
        loaded = module.createUndiciTransport(dispatcher);
        return loaded;
      });
      return loading.then((transport) => transport.request(request));
    },
  };
}

/** What a provider reads out of an error body. Every field is optional; the status decides the class. */
export interface ParsedError {
  message?: string;
  /** The provider's own code or type, e.g. `invalid_api_key`, `RESOURCE_EXHAUSTED`. */
  providerCode?: string;
  requestId?: string;
  /** A wait hint found in the body (Gemini `RetryInfo`); a header hint wins over it. */
  retryAfterMs?: number;
  quotaExhausted?: boolean;
  batchTooLarge?: boolean;
  /** Index, within the call, of the input the API named. */
  inputIndex?: number;
  /** Overrides the class the status implies, e.g. Gemini's 400 `API_KEY_INVALID` is an authentication failure. */
  kind?:
    | 'authentication'
    | 'permission_denied'
    | 'not_found'
    | 'invalid_request'
    | 'rate_limited'
    | 'server_error';
  /** Overrides whether retrying can help. */
  isRetryable?: boolean;
  /** How to fix it, appended to the message. */
  hint?: string;
}

export interface RequestJsonOptions {
  transport: Transport;
  /** Provider name, for messages and error fields. */
  provider: string;
  url: string;
  method?: 'GET' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  /** Serialized with `JSON.stringify`. */
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Values redacted from every message, body excerpt and URL (the API key). */
  secrets?: readonly (string | undefined)[];
  maxResponseBytes?: number;
  /** Reads the provider's error body. */
  parseError?: (body: unknown, status: number) => ParsedError;
  /** Response headers that carry a request id, first match wins. */
  requestIdHeaders?: readonly string[];
  /**
   * Where a 2xx body holds float vectors, as paths such as `data[*].embedding` or `embedding.values`.
   * Each JSON number array there is parsed from the bytes into one `Float32Array` slab (values exactly
   * `Math.fround` of what `JSON.parse` reads) and, on Node, each base64 string there is decoded into one;
   * the body then holds a `Float32Array` view in its place. Default: none, the body is plain `JSON.parse`.
   */
  floatVectors?: readonly string[];
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  requestId?: string;
  /** The parsed body (`undefined` for an empty 2xx body). */
  body: unknown;
}

const DEFAULT_REQUEST_ID_HEADERS = ['x-request-id', 'request-id', 'x-goog-request-id'];

const textDecoder = new TextDecoder();

type BufferModule = {
  isAscii?: (bytes: Uint8Array) => boolean;
  Buffer: {
    from(buffer: ArrayBuffer, offset: number, length: number): { toString(encoding: 'latin1'): string };
  };
};
const bufferModule = (
  globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }
).process?.getBuiltinModule?.('node:buffer') as BufferModule | undefined;

/**
 * The body as text. Embedding answers are almost all ASCII (base64 vectors, JSON punctuation): for
 * those, latin1 decoding is a plain byte copy and reads the same text as UTF-8, at a fraction of the
 * cost of validating UTF-8 (measured: the decode was a tenth of the client's CPU per call).
 */
function bodyText(bytes: Uint8Array): string {
  if (bufferModule?.isAscii?.(bytes)) {
    return bufferModule.Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength).toString(
      'latin1',
    );
  }
  return textDecoder.decode(bytes);
}

/**
 * Sends one JSON request and returns the parsed JSON body. Every failure becomes a typed error that says
 * what happened and how to fix it, with the secrets redacted; a caller's abort re-throws the native abort reason.
 */
export async function requestJson(options: RequestJsonOptions): Promise<JsonResponse> {
  const secrets = options.secrets ?? [];
  const safeUrl = redact(options.url, secrets);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': `embedkit/${VERSION}`,
    ...options.headers,
  };
  const request: TransportRequest = {
    url: options.url,
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
  if (options.body !== undefined) {
    request.body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  if (options.signal !== undefined) request.signal = options.signal;
  if (options.timeoutMs !== undefined) request.timeoutMs = options.timeoutMs;

  let response: Awaited<ReturnType<Transport['request']>>;
  try {
    response = await options.transport.request(request);
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    throw transportFailure(error, options.provider, safeUrl, secrets);
  }
  try {
    return readResponse(response, options, safeUrl, secrets);
  } finally {
    // Everything kept from the body (vectors, text, excerpts) has been copied out of it by now.
    response.release?.();
  }
}

/** The parsed body of a 2xx answer, or the typed error of any other. */
function readResponse(
  response: TransportResponse,
  options: RequestJsonOptions,
  safeUrl: string,
  secrets: readonly (string | undefined)[],
): JsonResponse {
  const requestIdHeaders = options.requestIdHeaders ?? DEFAULT_REQUEST_ID_HEADERS;
  let requestId: string | undefined;
  for (const name of requestIdHeaders) {
    requestId = response.headers[name];
    if (requestId !== undefined) break;
  }
  if (response.status >= 200 && response.status < 300 && options.floatVectors !== undefined) {
    const parsed = parseJsonWithVectors(response.body, options.floatVectors, bodyText);
    if (parsed !== undefined)
      return withRequestId(
        { status: response.status, headers: response.headers, body: parsed.value },
        requestId,
      );
  }
  const text = bodyText(response.body);
  const contentType = response.headers['content-type'] ?? '';

  if (response.status >= 200 && response.status < 300) {
    if (text.trim() === '')
      return withRequestId(
        { status: response.status, headers: response.headers, body: undefined },
        requestId,
      );
    try {
      return withRequestId(
        { status: response.status, headers: response.headers, body: JSON.parse(text) },
        requestId,
      );
    } catch (cause) {
      throw new InvalidResponseError(
        `${options.provider} returned status ${response.status} with a body that is not valid JSON (${contentType || 'no content-type'}): ${bodyExcerpt(text, secrets, 200)}. A proxy or gateway between you and the API may be answering instead of it.`,
        details(options.provider, safeUrl, response.status, requestId, text, secrets, {
          // A JSON SyntaxError quotes the body; keep only a redacted copy.
          cause: new SyntaxError(redact(String((cause as Error)?.message ?? cause), secrets)),
        }),
      );
    }
  }

  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = typeof json === 'object' && json !== null;
  } catch {
    // A non-JSON error body: an HTML page from a proxy, a load balancer's plain text.
  }
  const parsed: ParsedError =
    isJson && options.parseError !== undefined ? safeParse(options.parseError, json, response.status) : {};
  if (parsed.requestId !== undefined && requestId === undefined) requestId = parsed.requestId;
  const retryAfterMs = parseRetryAfter(response.headers) ?? parsed.retryAfterMs;
  const apiMessage = isJson
    ? (parsed.message ?? bodyExcerpt(text, secrets, 300))
    : `a non-JSON ${contentType.split(';')[0] || 'response'}: ${bodyExcerpt(stripMarkup(text), secrets, 200)}`;
  throw errorForStatus(response.status, {
    ...parsed,
    message: redact(apiMessage, secrets),
    provider: options.provider,
    details: details(options.provider, safeUrl, response.status, requestId, text, secrets, {
      retryAfterMs,
      providerCode: parsed.providerCode,
      isRetryable: parsed.isRetryable,
    }),
  });
}

function withRequestId(response: JsonResponse, requestId: string | undefined): JsonResponse {
  if (requestId !== undefined) response.requestId = requestId;
  return response;
}

function safeParse(
  parse: (body: unknown, status: number) => ParsedError,
  body: unknown,
  status: number,
): ParsedError {
  try {
    return parse(body, status);
  } catch {
    return {};
  }
}

function details(
  provider: string,
  url: string,
  statusCode: number,
  requestId: string | undefined,
  text: string,
  secrets: readonly (string | undefined)[],
  extra: ErrorDetails,
): ErrorDetails {
  const out: ErrorDetails = { provider, url, statusCode, responseBody: bodyExcerpt(text, secrets) };
  if (requestId !== undefined) out.requestId = requestId;
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

function stripMarkup(text: string): string {
  return text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const DEFAULT_HINTS: Record<string, string> = {
  authentication: 'Check that the API key is set, current and meant for this host.',
  permission_denied:
    'The key is valid but may not use this model or endpoint; check the project, region or account.',
  not_found: 'Check the model id and the base URL.',
  invalid_request: 'Check the inputs and options against the model’s capabilities.',
  rate_limited: 'Lower concurrency or set rateLimit; the engine retries with backoff.',
  quota: 'The account’s quota or balance is used up; retrying will not help until it is raised.',
  server_error: 'The API failed on its side; the engine retries these.',
  timeout: 'The API asked us to retry (408); the engine retries these.',
};

interface StatusErrorInput extends ParsedError {
  message: string;
  provider: string;
  details: ErrorDetails;
}

/** Maps an HTTP status plus what the provider read from the body to one typed error. */
export function errorForStatus(status: number, input: StatusErrorInput): EmbedKitError {
  const kind = input.kind ?? kindForStatus(status);
  const hintKey =
    kind === 'rate_limited' && input.quotaExhausted ? 'quota' : status === 408 ? 'timeout' : kind;
  const hint = input.hint ?? DEFAULT_HINTS[hintKey] ?? '';
  const message = `${input.provider} API error ${status}: ${input.message}${hint === '' ? '' : ` — ${hint}`}`;
  const details = input.details;
  if (status === 408 && input.kind === undefined) return new TimeoutError(message, details);
  switch (kind) {
    case 'authentication':
      return new AuthenticationError(message, details);
    case 'permission_denied':
      return new PermissionDeniedError(message, details);
    case 'not_found':
      return new NotFoundError(message, details);
    case 'rate_limited':
      return new RateLimitError(message, { ...details, quotaExhausted: input.quotaExhausted ?? false });
    case 'server_error':
      return new ServerError(message, details);
    default: {
      const extra: { batchTooLarge?: boolean; inputIndex?: number } = {
        batchTooLarge: input.batchTooLarge ?? status === 413,
      };
      if (input.inputIndex !== undefined) extra.inputIndex = input.inputIndex;
      return new InvalidRequestError(message, {
        ...details,
        ...extra,
        isRetryable: details.isRetryable ?? status === 409,
      });
    }
  }
}

function kindForStatus(status: number): NonNullable<ParsedError['kind']> {
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

function transportFailure(
  error: unknown,
  provider: string,
  url: string,
  secrets: readonly (string | undefined)[],
): EmbedKitError {
  if (error instanceof ResponseTooLargeError) {
    return new InvalidResponseError(
      `${provider} sent a response larger than ${error.limit} bytes; raise maxResponseBytes or send fewer inputs per call.`,
      { provider, url, cause: error },
    );
  }
  const code = errorCode(error);
  const reason = redact(describe(error), secrets);
  // The raw error may quote the URL (a `?key=` included) or a header; the cause that `console.error`
  // prints is a redacted copy that keeps the code.
  const cause = redactedCause(reason, code);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new TimeoutError(`${provider}: no answer from ${url} in time (${reason}).`, {
      provider,
      url,
      cause,
    });
  }
  return new ConnectionError(
    `${provider}: could not complete the request to ${url} (${reason}). Check the network, proxy settings and base URL; the engine retries these.`,
    { provider, url, cause },
  );
}

function redactedCause(message: string, code: string | undefined): Error {
  const cause = new Error(message);
  if (code !== undefined) (cause as Error & { code?: string }).code = code;
  return cause;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (typeof current === 'object') {
      const { message, code } = current as { message?: unknown; code?: unknown };
      parts.push(
        [typeof code === 'string' ? code : '', typeof message === 'string' ? message : '']
          .filter(Boolean)
          .join(' '),
      );
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.filter(Boolean).join(': ') || 'unknown error';
}
