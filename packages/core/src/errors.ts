/**
 * Typed errors. Every class has a stable `code` (never changed within a major version), `isRetryable`,
 * and a `Symbol.for` marker so `XError.isInstance(e)` works even when two copies of core are installed.
 */

const BASE_MARKER = Symbol.for('embedkit.error');

function markerFor(name: string): symbol {
  return Symbol.for(`embedkit.error.${name}`);
}

/** Fields an HTTP failure carries. The API key never appears in any of them. */
export interface ErrorDetails {
  provider?: string;
  url?: string;
  statusCode?: number;
  requestId?: string;
  /** How long the API asked us to wait before retrying, in milliseconds. */
  retryAfterMs?: number;
  /** The start of the response body, truncated and with secrets redacted. */
  responseBody?: string;
  /** The provider's own error code or type, e.g. `invalid_api_key`. */
  providerCode?: string;
  /** Overrides the class default for whether retrying can help. */
  isRetryable?: boolean;
  cause?: unknown;
}

export type ErrorCode =
  | 'invalid_argument'
  | 'authentication'
  | 'permission_denied'
  | 'not_found'
  | 'invalid_request'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'invalid_response'
  | 'retries_exhausted';

/**
 * How an error's hint says that the engine retries such failures: the last clause of the hint, after a
 * `;`. A provider that words its own hint for a retryable error ends it with `; ${RETRIED_CLAUSE}.`, so
 * that a call made with `maxRetries: 0` says instead that no retry was made ({@link withoutRetryClaim}).
 */
export const RETRIED_CLAUSE = 'the engine retries these';

/**
 * What the hint of a `RetryError`'s last error says in place of {@link RETRIED_CLAUSE}: the retries were
 * made and every one failed, so what is left is to try later or allow more of them. An application that
 * words the advice in its own terms (a command's flag) finds this clause and replaces it.
 */
export const RETRIES_SPENT_CLAUSE = 'every retry failed: try again later, or raise maxRetries';

/**
 * What a hint says in place of {@link RETRIED_CLAUSE} for an answer its provider marks `isRetryable: false`
 * (a 429 or a 5xx the provider knows will not pass): the engine never retries it.
 */
export const FINAL_CLAUSE = 'the provider reads this answer as final, so it is not retried';

/** What the hint says in place of {@link RETRIED_CLAUSE} when the call made no retry. */
const NOT_RETRIED_CLAUSE = 'retries are turned off (maxRetries 0), so none was made';

/**
 * `error` with its hint's "the engine retries these" (or what an earlier call of this put in its place)
 * turned into `clause`: by default "retries are turned off (maxRetries 0), so none was made", for an
 * error the engine would have retried but was told to make no retry. With `orAppend`, an error whose
 * message makes no such claim (one a model of its own threw, a timeout) gets `clause` after its message;
 * an error thrown again (one instance for every attempt, or in a later call) has what was put there before
 * replaced, so that it ends with one piece of advice. The error is changed in place (message and stack),
 * so that every holder of it reads the same.
 */
export function withoutRetryClaim(error: unknown, clause = NOT_RETRIED_CLAUSE, orAppend = false): unknown {
  if (!(error instanceof Error)) return error;
  for (const said of [RETRIED_CLAUSE, NOT_RETRIED_CLAUSE, RETRIES_SPENT_CLAUSE, FINAL_CLAUSE]) {
    const claim = `${said}.`;
    const at = error.message.lastIndexOf(claim);
    if (at < 0) continue;
    rewriteMessage(error, `${error.message.slice(0, at)}${clause}.${error.message.slice(at + claim.length)}`);
    return error;
  }
  if (orAppend) rewriteMessage(error, `${error.message} — ${clause}.`);
  return error;
}

/** Gives `error` the message `message`, in its stack too. */
export function rewriteMessage(error: Error, message: string): void {
  // A function, so that a `$` in the message is not read as a replacement pattern.
  if (typeof error.stack === 'string') error.stack = error.stack.replace(error.message, () => message);
  error.message = message;
}

/** Base class of every embedkit error. */
export class EmbedKitError extends Error {
  /**
   * Stable within a major version. Each subclass declares the one code it carries, so that `instanceof` or
   * `isInstance` narrows it too (a type-only `declare`: the constructor here sets the value).
   */
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  readonly provider?: string;
  readonly url?: string;
  readonly statusCode?: number;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  readonly responseBody?: string;
  readonly providerCode?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, retryableByDefault = false) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.isRetryable = details.isRetryable ?? retryableByDefault;
    if (details.provider !== undefined) this.provider = details.provider;
    if (details.url !== undefined) this.url = details.url;
    if (details.statusCode !== undefined) this.statusCode = details.statusCode;
    if (details.requestId !== undefined) this.requestId = details.requestId;
    // A wait too long for a number (a `retry-after-ms` of 309 digits, a `Retry-After` of 306, read by
    // `requestJson` or by a provider's own client) reads as Infinity: it is the longest wait a number holds,
    // so the engine fails the call at once as for any wait its retries cannot reach. Every wait reaches
    // the engine on an error, so this is the one place it is bounded.
    if (details.retryAfterMs !== undefined)
      this.retryAfterMs = Math.min(details.retryAfterMs, Number.MAX_VALUE);
    if (details.responseBody !== undefined) this.responseBody = details.responseBody;
    if (details.providerCode !== undefined) this.providerCode = details.providerCode;
  }

  /**
   * True for any embedkit error, from any copy of the package. It narrows to `AnyEmbedKitError`, so that a
   * `switch (error.code)` after it narrows each case to the class that carries the code.
   */
  static isInstance(value: unknown): value is AnyEmbedKitError {
    return hasMarker(value, BASE_MARKER);
  }
}
Object.defineProperty(EmbedKitError.prototype, BASE_MARKER, { value: true });

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

function mark(errorClass: { prototype: object; name: string }): symbol {
  const marker = markerFor(errorClass.name);
  Object.defineProperty(errorClass.prototype, marker, { value: true });
  return marker;
}

/** Bad input, caught before any request leaves the machine. Not retryable. */
export class InvalidArgumentError extends EmbedKitError {
  declare readonly code: 'invalid_argument';
  /** The offending argument, e.g. `dimensions` or `inputs[3]`. */
  readonly argument?: string;
  /** The environment variables that would have supplied it (a missing key names the ones its provider reads). */
  readonly environmentVariables?: readonly string[];
  constructor(
    message: string,
    options: {
      argument?: string;
      environmentVariables?: readonly string[];
      provider?: string;
      cause?: unknown;
    } = {},
  ) {
    super('invalid_argument', message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.provider === undefined ? {} : { provider: options.provider }),
    });
    if (options.argument !== undefined) this.argument = options.argument;
    if (options.environmentVariables !== undefined) this.environmentVariables = options.environmentVariables;
  }
  static override isInstance(value: unknown): value is InvalidArgumentError {
    return hasMarker(value, INVALID_ARGUMENT);
  }
}
const INVALID_ARGUMENT = mark(InvalidArgumentError);

/** 401: the API key is missing, wrong or revoked. */
export class AuthenticationError extends EmbedKitError {
  declare readonly code: 'authentication';
  constructor(message: string, details: ErrorDetails = {}) {
    super('authentication', message, details);
  }
  static override isInstance(value: unknown): value is AuthenticationError {
    return hasMarker(value, AUTHENTICATION);
  }
}
const AUTHENTICATION = mark(AuthenticationError);

/** 403: the key is valid but may not do this (region, project, balance, IP allow-list). */
export class PermissionDeniedError extends EmbedKitError {
  declare readonly code: 'permission_denied';
  constructor(message: string, details: ErrorDetails = {}) {
    super('permission_denied', message, details);
  }
  static override isInstance(value: unknown): value is PermissionDeniedError {
    return hasMarker(value, PERMISSION_DENIED);
  }
}
const PERMISSION_DENIED = mark(PermissionDeniedError);

/** 404: unknown model or endpoint. */
export class NotFoundError extends EmbedKitError {
  declare readonly code: 'not_found';
  constructor(message: string, details: ErrorDetails = {}) {
    super('not_found', message, details);
  }
  static override isInstance(value: unknown): value is NotFoundError {
    return hasMarker(value, NOT_FOUND);
  }
}
const NOT_FOUND = mark(NotFoundError);

/** 400 / 413 / 422 and other request problems the API rejected. */
export class InvalidRequestError extends EmbedKitError {
  declare readonly code: 'invalid_request';
  /** The API said the call carried too many inputs or tokens; the engine bisects such a call. */
  readonly batchTooLarge: boolean;
  /** Index of the input the API named (within the whole `embedMany` call once the engine rethrows it). */
  readonly inputIndex?: number;
  constructor(
    message: string,
    details: ErrorDetails & { batchTooLarge?: boolean; inputIndex?: number } = {},
  ) {
    super('invalid_request', message, details);
    this.batchTooLarge = details.batchTooLarge ?? false;
    if (details.inputIndex !== undefined) this.inputIndex = details.inputIndex;
  }
  static override isInstance(value: unknown): value is InvalidRequestError {
    return hasMarker(value, INVALID_REQUEST);
  }
}
const INVALID_REQUEST = mark(InvalidRequestError);

/**
 * An `InvalidRequestError` that names an input by its place in one call, rebuilt to name it by its place
 * in a larger list (`place` maps one to the other; `note` says so in the message). Every other field
 * (`batchTooLarge`, `retryAfterMs`, retryability…) is kept, so bisection and retries go on. Anything else
 * is returned as it is.
 */
export function reindexInput(
  error: unknown,
  place: (inCall: number) => number,
  note: (index: number) => string,
): unknown {
  if (!InvalidRequestError.isInstance(error) || error.inputIndex === undefined) return error;
  const index = place(error.inputIndex);
  if (index === error.inputIndex) return error;
  return withNote(error, note(index), index);
}

/**
 * `error` rebuilt with `note` after its message (and `inputIndex`, when given, in place of its own), every
 * other field kept and the original as its `cause`.
 */
export function withNote(
  error: InvalidRequestError,
  note: string,
  inputIndex = error.inputIndex,
): InvalidRequestError {
  return new InvalidRequestError(`${error.message} ${note}`, {
    provider: error.provider,
    url: error.url,
    statusCode: error.statusCode,
    requestId: error.requestId,
    retryAfterMs: error.retryAfterMs,
    responseBody: error.responseBody,
    providerCode: error.providerCode,
    isRetryable: error.isRetryable,
    batchTooLarge: error.batchTooLarge,
    ...(inputIndex === undefined ? {} : { inputIndex }),
    cause: error,
  });
}

/**
 * 429. Retryable unless `quotaExhausted` (billing quota or a per-day limit: waiting minutes will not help),
 * which also carries no `retryAfterMs`.
 */
export class RateLimitError extends EmbedKitError {
  declare readonly code: 'rate_limited';
  readonly quotaExhausted: boolean;
  constructor(message: string, details: ErrorDetails & { quotaExhausted?: boolean } = {}) {
    const quotaExhausted = details.quotaExhausted ?? false;
    // A used-up quota comes back when it is raised or its period resets, not after the wait a header or
    // the body named (a per-minute window's, or one of seconds on a per-day limit): a caller reading
    // `retryAfterMs` as the moment to try again would be refused again, so such an error carries none.
    const { retryAfterMs, ...rest } = details;
    super(
      'rate_limited',
      message,
      {
        ...rest,
        ...(quotaExhausted ? {} : { retryAfterMs }),
        isRetryable: details.isRetryable ?? !quotaExhausted,
      },
      true,
    );
    this.quotaExhausted = quotaExhausted;
  }
  static override isInstance(value: unknown): value is RateLimitError {
    return hasMarker(value, RATE_LIMIT);
  }
}
const RATE_LIMIT = mark(RateLimitError);

/** 5xx. Retryable. */
export class ServerError extends EmbedKitError {
  declare readonly code: 'server_error';
  constructor(message: string, details: ErrorDetails = {}) {
    super('server_error', message, details, true);
  }
  static override isInstance(value: unknown): value is ServerError {
    return hasMarker(value, SERVER);
  }
}
const SERVER = mark(ServerError);

/** An attempt took longer than `timeoutMs`, or the API answered 408. Retryable. */
export class TimeoutError extends EmbedKitError {
  declare readonly code: 'timeout';
  constructor(message: string, details: ErrorDetails = {}) {
    super('timeout', message, details, true);
  }
  static override isInstance(value: unknown): value is TimeoutError {
    return hasMarker(value, TIMEOUT);
  }
}
const TIMEOUT = mark(TimeoutError);

/** The connection failed: DNS, refused, reset, TLS. Retryable. */
export class ConnectionError extends EmbedKitError {
  declare readonly code: 'connection';
  /**
   * Whether the request certainly never left this machine (the connection was refused, the host was not
   * found): the API cannot have counted it, so the rate limiter gives back what it took. False when that
   * is not known: a connection lost after the request was written looks the same as one lost before.
   */
  readonly neverSent: boolean;
  constructor(message: string, details: ErrorDetails & { neverSent?: boolean } = {}) {
    super('connection', message, details, true);
    this.neverSent = details.neverSent ?? false;
  }
  static override isInstance(value: unknown): value is ConnectionError {
    return hasMarker(value, CONNECTION);
  }
}
const CONNECTION = mark(ConnectionError);

/**
 * The API answered with something unusable: a 2xx with bad JSON, wrong count, wrong dimension, bad base64,
 * NaN or an error body; or a 3xx redirect, which is never followed (`statusCode` is the 3xx, or 0 for a
 * browser's opaque redirect).
 */
export class InvalidResponseError extends EmbedKitError {
  declare readonly code: 'invalid_response';
  constructor(message: string, details: ErrorDetails = {}) {
    super('invalid_response', message, details);
  }
  static override isInstance(value: unknown): value is InvalidResponseError {
    return hasMarker(value, INVALID_RESPONSE);
  }
}
const INVALID_RESPONSE = mark(InvalidResponseError);

/**
 * Every attempt failed with a retryable error. Thrown only when retries were actually spent. Only an
 * embedkit error marked retryable is retried (a provider's own `TypeError` or an abort ends the call as it
 * is), so every error it holds is one: `switch (error.lastError.code)` narrows it without a cast.
 */
export class RetryError extends EmbedKitError {
  declare readonly code: 'retries_exhausted';
  readonly errors: readonly AnyEmbedKitError[];
  readonly lastError: AnyEmbedKitError;
  readonly attempts: number;
  constructor(message: string, errors: readonly AnyEmbedKitError[]) {
    const lastError = errors[errors.length - 1]!;
    // Read as the engine reads it: a caller's own list may hold something else.
    const last = EmbedKitError.isInstance(lastError) ? lastError : undefined;
    super('retries_exhausted', message, {
      cause: lastError,
      provider: last?.provider,
      url: last?.url,
      statusCode: last?.statusCode,
      requestId: last?.requestId,
      retryAfterMs: last?.retryAfterMs,
      responseBody: last?.responseBody,
      providerCode: last?.providerCode,
    });
    this.errors = errors;
    this.lastError = lastError;
    this.attempts = errors.length;
  }
  static override isInstance(value: unknown): value is RetryError {
    return hasMarker(value, RETRY);
  }
}
const RETRY = mark(RetryError);

/**
 * Every error class embedkit throws, told apart by `code`: after `EmbedKitError.isInstance(error)`,
 * `error.code === 'rate_limited'` narrows `error` to `RateLimitError`.
 */
export type AnyEmbedKitError =
  | InvalidArgumentError
  | AuthenticationError
  | PermissionDeniedError
  | NotFoundError
  | InvalidRequestError
  | RateLimitError
  | ServerError
  | TimeoutError
  | ConnectionError
  | InvalidResponseError
  | RetryError;

/** The native abort error for a signal: its `reason` when set, else a DOMException named `AbortError`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Whether `error` is an abort (a DOMException or Error named `AbortError`). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
