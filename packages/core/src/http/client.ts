import type { Dispatcher } from 'undici';
import { createDefaultTransport } from '#default-transport';
import { describeValue } from '../argument-checks.js';
import {
  AuthenticationError,
  abortReason,
  ConnectionError,
  type EmbedKitError,
  type ErrorDetails,
  FINAL_CLAUSE,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RETRIED_CLAUSE,
  ServerError,
  TimeoutError,
  withoutRetryClaim,
} from '../errors.js';
import { endsOpen, parseJsonWithVectors } from '../json-vectors.js';
import { createFetchTransport, type FetchFunction } from './fetch-transport.js';
import { checkHeaders, mergeHeaders } from './headers.js';
import {
  bodyExcerpt,
  compileRedaction,
  type Redaction,
  redact,
  redactCause,
  secretsOfCall,
} from './redact.js';
import { parseRateLimitReset, parseRetryAfter } from './retry-after.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  ErrorStatusBodyError,
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type WordedFailure,
} from './transport.js';

declare const __EMBEDKIT_VERSION__: string | undefined;

/** The core package version, sent as `User-Agent: embedkit/<version>`. */
export const VERSION: string = typeof __EMBEDKIT_VERSION__ === 'string' ? __EMBEDKIT_VERSION__ : '0.0.0-dev';

/** Transport settings every provider accepts. */
export interface HttpSettings {
  /** A `fetch` to use instead of undici (browsers, edge runtimes, Bun, tests). Selects the `fetch` transport. */
  fetch?: FetchFunction | undefined;
  /** An undici dispatcher (Agent, ProxyAgent, MockAgent) for the Node transport. Default: a shared keep-alive agent. */
  dispatcher?: Dispatcher | undefined;
  /** Cap on a response body in bytes. Default 256 MiB. */
  maxResponseBytes?: number | undefined;
}

/**
 * Picks the transport: an injected `fetch` selects the fetch transport; otherwise the runtime's default,
 * chosen by the export conditions of core's `#default-transport` import: undici on Node,
 * `fetch` in browsers, workers, edge runtimes, Bun and Deno.
 */
export function createTransport(settings: Pick<HttpSettings, 'fetch' | 'dispatcher'> = {}): Transport {
  if (settings.fetch !== undefined) return createFetchTransport(settings.fetch);
  return createDefaultTransport(settings.dispatcher);
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
  /**
   * The call's per-attempt timeout, as the engine hands it to a model. The engine ends an attempt that runs
   * past it through `signal`; here it only keeps the transport's own socket timeouts longer than it, and
   * ends nothing. A request made outside the engine that must end in time passes a `signal` that does
   * (`AbortSignal.timeout(ms)`), or goes through `sendBatchJobRequest`, which times its attempts.
   */
  timeoutMs?: number;
  /**
   * Values redacted from every error field (the API key). Credential headers, URL userinfo and
   * credential query parameters are redacted without being listed here.
   */
  secrets?: readonly (string | undefined)[];
  maxResponseBytes?: number;
  /** Reads the provider's error body (of a failed status, and of a 2xx body that carries an error). */
  parseError?: (body: unknown, status: number) => ParsedError;
  /** Response headers that carry a request id, first match wins; in any letter case. */
  requestIdHeaders?: readonly string[];
  /** `json` (default): a 2xx body is parsed as JSON; `bytes`: it is returned as a `Uint8Array` (a results file). */
  responseType?: 'json' | 'bytes';
  /**
   * Where a 2xx body holds float vectors, as paths such as `data[*].embedding` or `embedding.values`.
   * Each JSON number array there is parsed from the bytes into a `Float32Array` of its own (values
   * exactly `Math.fround` of what `JSON.parse` reads) and each base64 string there is decoded into one;
   * the body then holds that `Float32Array` in its place. Default: none, the body is plain `JSON.parse`.
   */
  floatVectors?: readonly string[];
  /**
   * Where the API root of `url` came from, as the hint of an answer of the wrong shape names it: a setting
   * (`the baseURL setting`, or a provider's own), an environment variable (`OPENAI_BASE_URL`), or
   * `default`, the provider's own root. Default: the hint names `the base URL`.
   */
  baseURLOrigin?: BaseURLOrigin | undefined;
}

/** Where a base URL came from (`RequestJsonOptions.baseURLOrigin`). */
export type BaseURLOrigin = 'default' | (string & {});

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  requestId?: string;
  /** The parsed body (`undefined` for an empty 2xx body; a `Uint8Array` with `responseType: 'bytes'`). */
  body: unknown;
}

/** The response headers a request id is read from when a provider names none (`requestIdHeaders`). */
export const DEFAULT_REQUEST_ID_HEADERS: readonly string[] = [
  'x-request-id',
  'request-id',
  'x-goog-request-id',
];

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
 * What an error about one call needs to know. Kept as given and only turned into redacted text when an
 * error is built, so a successful call never pays for redaction.
 */
interface CallContext {
  provider: string;
  /** The URL as sent, credentials included. */
  url: string;
  /** The request headers as sent, credentials included. */
  headers: Record<string, string>;
  secrets: readonly (string | undefined)[];
  /** The transport that sent it, when known: the credentials of its proxies are secrets of the call too. */
  transport?: Transport;
  parseError: RequestJsonOptions['parseError'];
  origin?: BaseURLOrigin | undefined;
}

/** Secret-free text for an error about a call; the secrets are gathered and compiled on first use. */
class Redactor {
  private compiled: Redaction | undefined;
  constructor(private readonly call: CallContext) {}
  get redaction(): Redaction {
    const { url, headers, secrets, transport } = this.call;
    this.compiled ??= compileRedaction([
      ...secretsOfCall(url, headers, secrets, transport?.proxyUrls?.()),
      ...(transport?.proxyHeaders?.() ?? []).flatMap((proxyHeaders) => secretsOfCall('', proxyHeaders)),
    ]);
    return this.compiled;
  }
  text(value: string): string {
    return this.redaction(value);
  }
  excerpt(value: string, limit?: number): string {
    return bodyExcerpt(value, this.redaction, limit);
  }
  cause(error: unknown): unknown {
    return redactCause(error, this.redaction);
  }
  /** The fields every HTTP error of this call carries, redacted. */
  details(
    statusCode: number | undefined,
    requestId: string | undefined,
    body: string | undefined,
  ): ErrorDetails {
    const out: ErrorDetails = { provider: this.call.provider, url: this.text(this.call.url) };
    if (statusCode !== undefined) out.statusCode = statusCode;
    if (requestId !== undefined) out.requestId = this.text(requestId);
    if (body !== undefined) out.responseBody = this.excerpt(body);
    return out;
  }
}

/**
 * A successful response that remembers its call, for `unexpectedBodyError`. The context sits in a private
 * field: invisible to equality checks, spreading and JSON, and cheaper on every call than a WeakMap entry.
 */
class CallResponse implements JsonResponse {
  readonly #call: CallContext;
  requestId?: string;
  constructor(
    public status: number,
    public headers: Record<string, string>,
    public body: unknown,
    requestId: string | undefined,
    call: CallContext,
  ) {
    if (requestId !== undefined) this.requestId = requestId;
    this.#call = call;
  }
  static callOf(response: JsonResponse): CallContext | undefined {
    return #call in response ? (response as CallResponse).#call : undefined;
  }
}

/**
 * `text`, something the server sent about a successful answer (its request id), redacted as every error
 * about the answer's call is: with the call's secrets when the answer came from `requestJson`, else with
 * the patterns alone (bearer tokens, URL userinfo, credential parameters).
 */
export function redactAnswerText(response: unknown, text: string): string {
  const call =
    typeof response === 'object' && response !== null
      ? CallResponse.callOf(response as JsonResponse)
      : undefined;
  return call === undefined ? redact(text) : new Redactor(call).text(text);
}

/**
 * Refuses `url` when it holds a user name or password (`https://user:password@host/v1`), which is never
 * sent as one: `fetch` refuses such a URL (a network error, retried) and undici drops them without a
 * word, so the call goes out unauthenticated. The message does not show the URL: its password must not
 * reach a log. The one check of a provider's base URL (`where` names its source) and of every request.
 */
export function refuseUrlCredentials(url: string, provider: string, where: string, argument: string): void {
  // Userinfo ends at an `@`: a URL without one is spared the parse.
  if (!url.includes('@')) return;
  let parsed: URL | undefined;
  try {
    // In a page or a worker, a path such as `/api/v1` is relative to the page, as `fetch` reads it.
    parsed = new URL(url, (globalThis as { location?: { href?: string } }).location?.href);
  } catch {
    // Not a URL: the transport refuses it.
  }
  if (parsed !== undefined && (parsed.username !== '' || parsed.password !== '')) {
    throw new InvalidArgumentError(
      `${provider}: ${where} holds a user name or password (user:password@); credentials in the URL are not sent. Remove them and pass the API key as the apiKey setting (a gateway's own credentials go in the headers setting).`,
      { argument },
    );
  }
}

/**
 * Sends one JSON request and returns the parsed JSON body. Every failure becomes a typed error that says
 * what happened and how to fix it, with the secrets redacted; a caller's abort re-throws the native abort
 * reason. Redirects are never followed: a 3xx is an `InvalidResponseError` naming the `Location`. A URL
 * with a user name or password is refused before anything is sent, on every transport alike.
 */
export async function requestJson(options: RequestJsonOptions): Promise<JsonResponse> {
  refuseUrlCredentials(options.url, options.provider, 'the request URL', 'url');
  // The provider's headers setting and the job's, merged: checked here, where every request passes.
  checkHeaders(options.headers, 'the headers setting', options.provider);
  const { maxResponseBytes } = options;
  if (maxResponseBytes !== undefined && !(Number.isSafeInteger(maxResponseBytes) && maxResponseBytes > 0)) {
    throw new InvalidArgumentError(
      `${options.provider}: maxResponseBytes must be a whole number of bytes above 0, got ${describeValue(maxResponseBytes)}.`,
      { argument: 'maxResponseBytes', provider: options.provider },
    );
  }
  // In any letter case, a header of the provider's setting or the call replaces the default before it.
  const headers = mergeHeaders(
    { accept: 'application/json', 'user-agent': `embedkit/${VERSION}` },
    options.headers,
  );
  const request: TransportRequest = {
    url: options.url,
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    maxResponseBytes: maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
  if (options.body !== undefined) {
    request.body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  if (options.signal !== undefined) request.signal = options.signal;
  if (options.timeoutMs !== undefined) request.timeoutMs = options.timeoutMs;
  // Transports hand over header names in lower case: a provider's `X-Request-Id` was never found.
  const requestIdHeaders =
    options.requestIdHeaders?.map((name) => name.toLowerCase()) ?? DEFAULT_REQUEST_ID_HEADERS;
  const call: CallContext = {
    provider: options.provider,
    url: options.url,
    headers,
    secrets: options.secrets ?? [],
    transport: options.transport,
    parseError: options.parseError,
    origin: options.baseURLOrigin,
  };

  let response: Awaited<ReturnType<Transport['request']>>;
  try {
    response = await options.transport.request(request);
  } catch (error) {
    const stopped = options.signal?.aborted === true ? abortReason(options.signal) : undefined;
    // The engine ends an attempt past its timeout with a TimeoutError: an error status whose head arrived
    // whole still stands then, as it does when its body is cut short. Any other abort is the caller's.
    const timedOut = TimeoutError.isInstance(stopped) && error instanceof ErrorStatusBodyError;
    if (stopped !== undefined && !timedOut) throw stopped;
    if (!(error instanceof ErrorStatusBodyError)) throw transportFailure(error, call);
    const reason = unreadBodyReason(timedOut ? stopped : error.cause, options.timeoutMs);
    const answer = { status: error.status, headers: error.headers, body: new Uint8Array(0) };
    throw statusFailure(answer, requestIdOf(answer, requestIdHeaders), call, reason);
  }
  try {
    return readResponse(response, options, requestIdHeaders, call);
  } finally {
    // Everything kept from the body (vectors, text, excerpts, a bytes body) has been copied out of it by now.
    response.release?.();
  }
}

/**
 * Why the body of an error status could not be read, when the status still stands as the answer: the
 * status and headers arrived whole, and the body holds only the details, so a 503 is still retried and a
 * 429's wait kept, reported without those details. That is so of a body that does not decompress, of one
 * cut short (the connection closed before all of it came, which both transports report as their body's
 * failure), of one over `maxResponseBytes` (a proxy's error page of megabytes: refused as an answer, it
 * made a 503 final), and of one too slow (the engine's timeout, `timeoutMs`, or a socket's: a stalled
 * body lost a 429's wait and request id to a bare TimeoutError). Some runtimes' `fetch` reports a body
 * that does not decompress with no code (Deno, browsers) or a code of its own (Bun's `ZlibError`), and a
 * browser's says only "network error": so every body failure is read this way, in words that hold for
 * all, the runtime's own in brackets.
 */
function unreadBodyReason(cause: unknown, timeoutMs: number | undefined): string {
  if (TimeoutError.isInstance(cause)) {
    return `its body did not arrive within the timeout${timeoutMs === undefined ? '' : ` (timeoutMs ${timeoutMs} ms)`}`;
  }
  const code = errorCode(cause);
  if (code !== undefined && isDecompressionFailure(code)) {
    return `its compressed body does not decompress (${describe(cause)})`;
  }
  if (cause instanceof ResponseTooLargeError) {
    return `its body was larger than ${cause.limit} bytes${cause.setting === null ? '' : ` (${cause.setting})`}, and was not read`;
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return `its body did not arrive within the timeout (${describe(cause)})`;
  }
  return `its body could not be read whole (${describe(cause)})`;
}

/** The request id among the answer's headers: the first of `names` (lower-cased) that is there. */
function requestIdOf(response: TransportResponse, names: readonly string[]): string | undefined {
  for (const name of names) {
    const requestId = response.headers[name];
    if (requestId !== undefined) return requestId;
  }
  return undefined;
}

/** The parsed body of a 2xx answer, or the typed error of any other. */
function readResponse(
  response: TransportResponse,
  options: RequestJsonOptions,
  requestIdHeaders: readonly string[],
  call: CallContext,
): JsonResponse {
  const requestId = requestIdOf(response, requestIdHeaders);
  if (response.status < 200 || response.status >= 300) throw statusFailure(response, requestId, call);

  if (options.responseType === 'bytes') {
    // A transport that reuses its body buffers gets this one back when the call ends: keep a copy. (Not
    // `slice()`: on a Node Buffer, which the undici transport's bodies are, that is a view.)
    const body = response.release === undefined ? response.body : new Uint8Array(response.body);
    return succeeded(response, body, requestId, call);
  }
  if (options.floatVectors !== undefined) {
    const parsed = parseJsonWithVectors(response.body, options.floatVectors, bodyText);
    if (parsed !== undefined) return succeeded(response, parsed.value, requestId, call);
  }
  const text = bodyText(response.body);
  if (text.trim() === '') return succeeded(response, undefined, requestId, call);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    const redactor = new Redactor(call);
    const encoding = response.headers['content-encoding'];
    // A body still in an encoding the runtime did not decode (zstd on Node 20) is binary, so its excerpt
    // says nothing: the encoding is named instead. fetch keeps the header of a body it did decode, so the
    // header alone does not tell: an encoding every runtime decodes was decoded (a Latin-1 page of a gzip
    // answer is text), and of the others, bytes that are not UTF-8 (read as U+FFFD) were not.
    const what =
      encoding !== undefined && !DECODED_ENCODINGS.test(encoding) && text.includes('\uFFFD')
        ? `: a body in content-encoding ${redactor.text(encoding)}, not decoded`
        : describeNonJson(text, response.headers['content-type'] ?? '', redactor, true);
    // Brackets or a string still open at its end (`endsOpen`): JSON cut short, by a connection or a proxy
    // that stopped mid-answer. Unlike a body the socket cut (a retryable ConnectionError) it came whole as
    // its framing (a length, a last chunk) said, so the cut was made before that, where it may be made
    // again (a proxy's size limit): it is not retried, as the conformance suite holds every provider to,
    // and the hint says that calling again may help.
    throw new InvalidResponseError(
      `${options.provider} returned status ${response.status} with a body that is not valid JSON${what}. ${endsOpen(response.body) ? 'The connection or a proxy cut it short; calling again may help.' : 'A proxy or gateway between you and the API may be answering instead of it.'}`,
      {
        ...redactor.details(response.status, requestId, text),
        // A JSON SyntaxError quotes the body; keep only a redacted copy.
        cause: redactor.cause(cause),
      },
    );
  }
  return succeeded(response, body, requestId, call);
}

function succeeded(
  response: TransportResponse,
  body: unknown,
  requestId: string | undefined,
  call: CallContext,
): JsonResponse {
  return new CallResponse(response.status, response.headers, body, requestId, call);
}

/** A browser's `redirect: 'manual'` answer is opaque, with status 0; elsewhere a 3xx arrives as itself. */
function isRedirect(status: number): boolean {
  return status === 0 || (status >= 300 && status < 400);
}

/** Content encodings both transports decode on every runtime they serve. */
const DECODED_ENCODINGS = /^\s*(?:x-)?(?:gzip|deflate|br|identity)\s*$/i;

/** The typed error for a response whose status is not 2xx; `unread` says why its body is missing. */
function statusFailure(
  response: TransportResponse,
  requestId: string | undefined,
  call: CallContext,
  unread?: string,
): EmbedKitError {
  const redactor = new Redactor(call);
  const text = bodyText(response.body);
  if (isRedirect(response.status)) return redirectFailure(response, requestId, text, call, redactor);
  const contentType = response.headers['content-type'] ?? '';
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = typeof json === 'object' && json !== null;
  } catch {
    // A non-JSON error body: an HTML page from a proxy, a load balancer's plain text.
  }
  const parsed: ParsedError =
    isJson && call.parseError !== undefined
      ? safeParse(call.parseError, json, response.status, redactor)
      : {};
  const id = requestId ?? parsed.requestId;
  const apiMessage = isJson
    ? (parsed.message ?? redactor.excerpt(text, 300))
    : (unread ?? describeNonJson(text, contentType, redactor));
  const details = redactor.details(response.status, id, text);
  const retryAfterMs =
    parseRetryAfter(response.headers) ??
    parsed.retryAfterMs ??
    (response.status === 429 ? parseRateLimitReset(response.headers) : undefined);
  // A wait too long for a number is bounded where every error takes its wait (EmbedKitError).
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  if (parsed.providerCode !== undefined) details.providerCode = parsed.providerCode;
  if (parsed.isRetryable !== undefined) details.isRetryable = parsed.isRetryable;
  // `x-should-retry` (OpenAI sends it; any API may) is the server's own word on this answer, over what its
  // status implies: `false` is never retried, `true` is, a 400 or a 500 alike (of a header sent twice,
  // the first counts). It does not outweigh what the body says cannot pass by sending the same request
  // again: a used-up quota, a provider's own "not retryable", a call too large (the engine splits it),
  // or one input at fault (the error names it).
  const shouldRetry = response.headers['x-should-retry']?.split(',')[0]?.trim().toLowerCase();
  if (shouldRetry === 'false') details.isRetryable = false;
  else if (
    shouldRetry === 'true' &&
    parsed.quotaExhausted !== true &&
    parsed.isRetryable !== false &&
    parsed.batchTooLarge !== true &&
    parsed.inputIndex === undefined &&
    response.status !== 413
  )
    details.isRetryable = true;
  const error = errorForStatus(response.status, {
    ...parsed,
    // An API's message of any length (a gateway may echo a whole request) is cut like a body excerpt.
    message: redactor.excerpt(apiMessage, MAX_API_MESSAGE),
    provider: call.provider,
    details,
  });
  // The status's hint may say that the engine retries it; this one it will not.
  return shouldRetry === 'false' ? (withoutRetryClaim(error, SERVER_SAID_NO_RETRY) as EmbedKitError) : error;
}

/** What an error's hint says in place of "the engine retries these" when the API sent `x-should-retry: false`. */
const SERVER_SAID_NO_RETRY = 'the API answered x-should-retry: false, so it is not retried';

/**
 * A redirect is reported, never followed: the API key travels in a header (`Authorization`, `api-key`,
 * `x-goog-api-key`) that a followed redirect would hand to whatever address the `Location` names. The
 * usual cause is a base URL that is not the API's own (`http://` for `https://`, a missing path prefix,
 * a moved host), so the message names the `Location` and, as a body of the wrong shape does, where the
 * base URL came from (`baseURLHint`).
 */
function redirectFailure(
  response: TransportResponse,
  requestId: string | undefined,
  text: string,
  call: CallContext,
  redactor: Redactor,
): EmbedKitError {
  const raw = response.headers.location;
  let location: string | undefined;
  if (raw !== undefined) {
    try {
      location = new URL(raw, call.url).href;
    } catch {
      location = raw;
    }
  }
  const what =
    response.status === 0
      ? 'a redirect (the browser hides its status and Location)'
      : location === undefined
        ? `status ${response.status} (a redirect) without a Location`
        : `status ${response.status}, a redirect to ${redactor.text(location)}`;
  return new InvalidResponseError(
    `${call.provider} answered ${redactor.text(call.url)} with ${what}. Redirects are not followed, so that the API key is never sent to another address: ${baseURLHint(call.origin, 'the address the API answers at')}.`,
    redactor.details(response.status, requestId, text),
  );
}

/**
 * Where a base URL came from, as a hint names it (`the baseURL setting`, `OPENAI_BASE_URL`): undefined
 * for the provider's own root, which nobody set; one of unknown origin is not called by a setting's name.
 */
function baseURLSource(origin: BaseURLOrigin | undefined): string | undefined {
  return origin === 'default' ? undefined : (origin ?? 'the base URL');
}

/** The hint of an answer that a wrong base URL explains (a body of the wrong shape, a redirect). */
function baseURLHint(origin: BaseURLOrigin | undefined, target: string): string {
  const named = baseURLSource(origin);
  return named === undefined
    ? 'no base URL was set, so a proxy or gateway between you and the API may be answering instead of it'
    : `check that ${named} points at ${target}`;
}

/** The fields of a `ParsedError` that become text of the error, each redacted as a string. */
const TEXT_FIELDS = ['message', 'providerCode', 'requestId', 'hint'] as const;

/**
 * What `parse` read from an error body, its text fields redacted: a provider's hint or code may quote the
 * server (Gemini's hint names the model id its message gave, which may be a key pasted as the model id).
 * The message is left whole here, since it is cut as a redacted excerpt where it is used.
 */
function safeParse(
  parse: (body: unknown, status: number) => ParsedError,
  body: unknown,
  status: number,
  redactor: Redactor,
): ParsedError {
  let parsed: ParsedError;
  try {
    parsed = parse(body, status);
  } catch {
    return {};
  }
  // A reader may hand back nothing, or a number it took from a lenient read of the body (`"request_id":
  // 12345`): redacting that number threw a TypeError in place of the typed error of the status, which was
  // then neither typed nor retried. A number is kept as its text; any other value that is not a string goes.
  if (typeof parsed !== 'object' || parsed === null) return {};
  const out: ParsedError = { ...parsed };
  for (const field of TEXT_FIELDS) {
    const value: unknown = out[field];
    if (typeof value !== 'string' && typeof value !== 'number') {
      delete out[field];
      continue;
    }
    out[field] = field === 'message' ? String(value) : redactor.text(String(value));
  }
  return out;
}

/**
 * The error for a 2xx body that is not what the call expects. When the body is error-shaped
 * (`{"error": …}`, `{"detail": …}`, `{"errors": […]}`, Gemini's `[{"error": …}]`), some gateways and
 * servers report a failure with a success status: the server's message, read by the provider's own
 * `parseError` when `requestJson` had one, is what the user needs, not the schema problem. Runs only
 * after a response failed its schema, so a good response never pays for it.
 */
export function unexpectedBodyError(
  response: JsonResponse,
  provider: string,
  what: string,
  problem: string,
): InvalidResponseError {
  const call = CallResponse.callOf(response) ?? {
    provider,
    url: '',
    headers: {},
    secrets: [],
    parseError: undefined,
  };
  const redactor = new Redactor(call);
  const details: ErrorDetails = { provider, statusCode: response.status };
  if (call.url !== '') details.url = redactor.text(call.url);
  const apiError = errorInBody(response.body, response.status, call.parseError, redactor);
  const requestId = response.requestId ?? apiError?.requestId;
  if (requestId !== undefined) details.requestId = redactor.text(requestId);
  const named = baseURLSource(call.origin);
  if (apiError === undefined) {
    // An empty body is read as undefined; a JSON `null` fails every schema at its root.
    return new InvalidResponseError(
      `${provider} returned ${response.body == null ? `status ${response.status} with ${response.body === null ? 'a JSON null' : 'an empty body'}` : `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what} body of the wrong shape: ${redactor.text(problem)}`}; ${baseURLHint(call.origin, `the ${provider} API`)}.`,
      details,
    );
  }
  details.responseBody = redactor.excerpt(JSON.stringify(response.body) ?? '');
  if (apiError.providerCode !== undefined) details.providerCode = apiError.providerCode;
  if (apiError.isRetryable !== undefined) details.isRetryable = apiError.isRetryable;
  return new InvalidResponseError(
    `${provider} answered status ${response.status} with an error instead of ${what}: ${redactor.excerpt(apiError.message ?? redactor.excerpt(JSON.stringify(response.body) ?? '', 300), MAX_API_MESSAGE)} — the API or a gateway in front of it reported a failure with a success status; check the message${named === undefined ? '' : `, and that ${named} points at the API`}.`,
    details,
  );
}

/**
 * What an error-shaped body says, or undefined when the body is not error-shaped: one under a common
 * field (`error`, `detail`, `errors`), or one the provider's own error parser reads a message and a code or
 * kind from (an API whose errors are `{ message, code }` at the top, say), since the body failed the
 * answer's shape anyway.
 */
function errorInBody(
  body: unknown,
  status: number,
  parseError: RequestJsonOptions['parseError'],
  redactor: Redactor,
): ParsedError | undefined {
  const candidate = Array.isArray(body) && body.length === 1 ? body[0] : body;
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return undefined;
  const { error, detail, errors } = candidate as { error?: unknown; detail?: unknown; errors?: unknown };
  const present = (value: unknown) =>
    value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0);
  const parsed: ParsedError =
    parseError === undefined ? {} : { ...safeParse(parseError, body, status, redactor) };
  // Without a common field, a message alone proves nothing (a gateway's `{ code: 0, message: 'success',
  // data }` is no error): the provider's parser must also have read the error's code or kind.
  if (!present(error) && !present(detail) && !present(errors))
    return typeof parsed.message === 'string' &&
      parsed.message !== '' &&
      (parsed.providerCode !== undefined || parsed.kind !== undefined)
      ? parsed
      : undefined;
  parsed.message ??= messageIn(error) ?? messageIn(detail) ?? messageIn(errors) ?? messageIn(candidate);
  return parsed;
}

/** The message a common error shape carries: a string, `{message}`, `{msg}`, or a list of those. */
function messageIn(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const messages = value.map(messageIn).filter((message): message is string => message !== undefined);
    return messages.length === 0 ? undefined : messages.join('; ');
  }
  if (typeof value === 'object' && value !== null) {
    const { message, msg } = value as { message?: unknown; msg?: unknown };
    if (typeof message === 'string') return message;
    if (typeof msg === 'string') return msg;
  }
  return undefined;
}

/** The most characters of an API's own error message an error keeps. */
const MAX_API_MESSAGE = 2_000;

/**
 * What a body that is not a JSON object says, an error's or a 2xx answer's: its text, markup stripped. An
 * empty one (a gateway's bare 502) is called empty; its excerpt would be nothing after the colon.
 * `afterNotJson`: the text follows a message's "not valid JSON" (a 2xx answer's), so it begins with its
 * own colon, and names the media type without calling the body non-JSON a second time.
 */
function describeNonJson(
  text: string,
  contentType: string,
  redactor: Redactor,
  afterNotJson = false,
): string {
  const mediaType = redactor.text(contentType.split(';')[0]!.trim());
  const excerpt = redactor.excerpt(stripMarkup(text), 200);
  if (excerpt.trim() !== '') {
    if (!afterNotJson) return `a non-JSON ${mediaType || 'response'}: ${excerpt}`;
    return `${mediaType === '' ? '' : ` (${mediaType})`}: ${excerpt}`;
  }
  const described =
    text.trim() === ''
      ? mediaType === ''
        ? 'an empty body'
        : `an empty ${mediaType} body`
      : `a ${mediaType || 'non-JSON'} body with no text`;
  return afterNotJson ? `: ${described}` : described;
}

/**
 * The text of an HTML page: comments, scripts and styles dropped, then tags. One pass over the page: the
 * lazy `<script…</script>` pattern used before, and a tag pattern that could run past a `<`, were tried
 * from each unclosed `<` to the end of the body, in time that grew with the square of its length (a
 * 640 KB page of `<script>` took seven seconds, on every retry). The page is searched as it is, never
 * lower-cased (that moves the positions of letters such as `İ`). A block whose end is missing loses only
 * its opening tag, and once an end is missing it is not searched for again.
 */
function stripMarkup(text: string): string {
  const opening = /<!--|<(script|style)(?=[\s>/])/gi;
  const closings: Record<string, RegExp> = {
    '': /-->/g,
    script: /<\/script\s*>/gi,
    style: /<\/style\s*>/gi,
  };
  const missing = new Set<string>();
  let kept = '';
  let from = 0;
  for (let found = opening.exec(text); found !== null; found = opening.exec(text)) {
    const kind = found[1]?.toLowerCase() ?? '';
    const closing = closings[kind]!;
    closing.lastIndex = opening.lastIndex;
    const end = missing.has(kind) ? null : closing.exec(text);
    kept += `${text.slice(from, found.index)} `;
    if (end === null) {
      missing.add(kind);
      // The opening tag alone goes, to its `>` (or, when none is left, the rest of the page).
      const close = kind === '' || missing.has('>') ? -1 : text.indexOf('>', opening.lastIndex);
      if (close < 0 && kind !== '') missing.add('>');
      from = kind === '' ? opening.lastIndex : close < 0 ? text.length : close + 1;
      opening.lastIndex = from;
    } else {
      from = closing.lastIndex;
      opening.lastIndex = from;
    }
  }
  kept += text.slice(from);
  return kept
    .replace(/<[^<>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const DEFAULT_HINTS: Record<string, string> = {
  authentication: 'Check that the API key is set, current and meant for this host.',
  permission_denied:
    'The key is valid but may not use this model or endpoint; check the project, region or account.',
  not_found: 'Check the model id and the base URL.',
  invalid_request: 'Check the inputs and options against the model’s capabilities.',
  rate_limited: `Lower concurrency or set rateLimit; ${RETRIED_CLAUSE}.`,
  quota: 'The account’s quota or balance is used up; retrying will not help until it is raised.',
  server_error: `The API failed on its side; ${RETRIED_CLAUSE}.`,
  timeout: `The API asked us to retry (408); ${RETRIED_CLAUSE}.`,
  conflict: `The API was busy with a conflicting request; ${RETRIED_CLAUSE}.`,
};

/** What `errorForStatus` is told besides the status: what the provider read from the error body, and more. */
export interface StatusErrorInput extends ParsedError {
  message: string;
  provider: string;
  details: ErrorDetails;
}

/** Maps an HTTP status plus what the provider read from the body to one typed error. */
export function errorForStatus(status: number, input: StatusErrorInput): EmbedKitError {
  const kind = input.kind ?? kindForStatus(status);
  // A 418 is no status an API sends (a replay's refusal of a request no recording matches): its own
  // words say what to do, and no hint about the request's inputs is added after them.
  const hintKey =
    status === 418
      ? ''
      : kind === 'rate_limited' && input.quotaExhausted
        ? 'quota'
        : status === 408
          ? 'timeout'
          : status === 409 && kind === 'invalid_request' && input.details.isRetryable !== false
            ? 'conflict'
            : kind;
  let hint = input.hint ?? DEFAULT_HINTS[hintKey] ?? '';
  // A status the engine retries, in an answer its provider marks final: the hint must not promise a retry.
  if (input.details.isRetryable === false) hint = hint.replace(RETRIED_CLAUSE, FINAL_CLAUSE);
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

function transportFailure(error: unknown, call: CallContext): EmbedKitError {
  // A transport's refusal of its own configuration (a proxy variable that holds no URL): retrying cannot help.
  if (InvalidArgumentError.isInstance(error)) return error;
  const redactor = new Redactor(call);
  const url = redactor.text(call.url);
  if (error instanceof ResponseTooLargeError) {
    const remedy =
      error.setting === null
        ? ', a limit no setting raises; send fewer inputs per call.'
        : `; raise ${error.setting} or send fewer inputs per call.`;
    return new InvalidResponseError(
      `${call.provider} sent a response larger than ${error.limit} bytes${remedy}`,
      { provider: call.provider, url, cause: error },
    );
  }
  const worded = error as Partial<WordedFailure> | undefined;
  if (typeof worded?.words === 'string') {
    return new ConnectionError(`${call.provider}: ${worded.words.replace('{url}', url)}`, {
      provider: call.provider,
      url,
      cause: redactor.cause(error),
      neverSent: true,
      ...(worded.retryable === false ? { isRetryable: false } : {}),
    });
  }
  const code = errorCode(error);
  const reason = redactor.text(describe(error));
  // The raw error may quote the URL (a `?key=` included) or a header; `console.error` prints the cause
  // chain with stacks, so the cause is a redacted copy of it that keeps the codes.
  const cause = redactor.cause(error);
  if (code !== undefined && isDecompressionFailure(code)) {
    // The answer arrived whole, but its compressed body is cut short or is not in the encoding its
    // Content-Encoding names: a fault of the server or of a proxy, not of the network, as the fetch
    // transport (which hands back whatever decompressed) reports it too.
    return new InvalidResponseError(
      `${call.provider} sent a compressed body that does not decompress (${reason}). A proxy or gateway between you and the API may be altering the answer.`,
      { provider: call.provider, url, cause },
    );
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new TimeoutError(`${call.provider}: no answer from ${url} in time (${reason}).`, {
      provider: call.provider,
      url,
      cause,
    });
  }
  return new ConnectionError(
    `${call.provider}: could not complete the request to ${url} (${reason}). Check the network, proxy settings and base URL; ${RETRIED_CLAUSE}.`,
    { provider: call.provider, url, cause, neverSent: code !== undefined && NEVER_SENT_CODES.has(code) },
  );
}

/**
 * Failures before any connection stood, so before any byte of the request was written: refused, no route,
 * no such host (DNS). Any other (a reset, a socket closed) may come after the request reached the API.
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/**
 * Codes of a body that does not decompress: zlib's (`Z_DATA_ERROR`, `Z_BUF_ERROR` for one cut short),
 * which gzip and brotli streams both raise, brotli's own (`ERR__ERROR_FORMAT_…`), and zstd's
 * (`ZSTD_error_…`, where Node decodes zstd: 24 and later).
 */
function isDecompressionFailure(code: string): boolean {
  return code.startsWith('Z_') || code.startsWith('ERR__ERROR_') || code.startsWith('ZSTD_');
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
