import { AISDKError, APICallError } from '@ai-sdk/provider';
import {
  bodyFailure,
  EmbedKitError,
  InvalidArgumentError,
  InvalidResponseError,
  parseResponse,
  ResponseTooLargeError,
  redact,
  requestJson,
  type SafeParser,
  type Transport,
} from '@embedkit/core/provider';

const encoder = new TextEncoder();

/** Environment variables AI SDK providers read keys from (`OPENAI_API_KEY`, `COHERE_API_KEY`, `AWS_SESSION_TOKEN`…). */
const KEY_VARIABLE = /(?:API_KEY|_TOKEN|SECRET_ACCESS_KEY)$/;

/** The explicit secrets and the values of the environment's key variables, read when an error is built. */
function secretsOf(explicit: readonly string[]): string[] {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const found = [...explicit];
  for (const [name, value] of Object.entries(env)) {
    if (KEY_VARIABLE.test(name) && value !== undefined && value.trim().length >= 8) found.push(value.trim());
  }
  return found;
}

/**
 * A failed AI SDK call as an embedkit error. An `APICallError` is replayed through core's own HTTP error
 * handling, so it reads exactly as a failure of an embedkit provider would: the class from the status,
 * `isRetryable` as the AI SDK provider decided, `retryAfterMs` from `retry-after-ms` / `retry-after`, the
 * request id, the provider's message, a non-JSON page reduced to its text, every secret redacted, and no
 * raw cause (it holds the unredacted body and the inputs). A call that never got an answer is a
 * `ConnectionError` or `TimeoutError`; a body that could not be read (cut short, not decompressed) is
 * worded by core as for its own transports; a 2xx body the provider could not parse is an
 * `InvalidResponseError`.
 */
export async function toEmbedkitError(
  error: unknown,
  provider: string,
  explicitSecrets: readonly string[],
): Promise<unknown> {
  if (EmbedKitError.isInstance(error)) return error;
  const secrets = secretsOf(explicitSecrets);
  if (APICallError.isInstance(error)) return replayFailure(error, provider, secrets);
  if (AISDKError.isInstance(error)) {
    // Raised before any request: a bad provider option, a missing key or setting, too many values for one call.
    if (
      error.name === 'AI_InvalidArgumentError' ||
      error.name === 'AI_LoadAPIKeyError' ||
      error.name === 'AI_LoadSettingError' ||
      error.name === 'AI_TooManyEmbeddingValuesForCallError' ||
      error.name === 'AI_UnsupportedFunctionalityError'
    ) {
      return new InvalidArgumentError(`${provider}: ${redact(error.message, secrets)}`);
    }
    return new InvalidResponseError(`${provider}: ${redact(error.message, secrets)}`, { provider });
  }
  // A `fetch` that failed in a way the AI SDK does not recognise (it types only `TypeError: fetch failed`
  // and Error instances with a known code) still carries the system's code: a network failure.
  if (networkCode(error) !== undefined)
    return replayFailure({ url: `the ${provider} API`, cause: error }, provider, secrets);
  // Anything else (a bug in the provider, the `TypeError` of `fetch` refusing a header that holds the
  // key) is handed on as what it is, its message and stack, and those of its causes, redacted.
  return redactedError(error, secrets, 0);
}

/**
 * `error` itself when neither it nor its causes quote a secret; otherwise a redacted copy. A copy, not
 * the error changed in place: the provider, or any other holder of the same object, keeps what it threw,
 * and a frozen error is redacted all the same. The copy has the same prototype, so `instanceof`, `name`
 * and every other field (`code`, …) read as the original's. It is a native error only when the original
 * is an error: a plain object thrown (`{ message, status }`) stays a plain object, its fields listed where
 * they were, so that logging it still shows its message.
 */
function redactedError(error: unknown, secrets: string[], depth: number): unknown {
  if (depth >= 4 || typeof error !== 'object' || error === null) return error;
  const original = error as Record<PropertyKey, unknown>;
  const replaced: Record<string, unknown> = {};
  for (const field of ['message', 'stack'] as const) {
    const text = original[field];
    if (typeof text === 'string' && redact(text, secrets) !== text) replaced[field] = redact(text, secrets);
  }
  const cause = redactedError(original.cause, secrets, depth + 1);
  if (cause !== original.cause) replaced.cause = cause;
  if (Object.keys(replaced).length === 0) return error;
  // An error of another realm (a `vm` context) is no `instanceof Error` here, but is an error all the same.
  const native = error instanceof Error || Object.prototype.toString.call(error) === '[object Error]';
  const copy = (native ? new Error() : {}) as Record<PropertyKey, unknown>;
  Object.setPrototypeOf(copy, Object.getPrototypeOf(error));
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key)!;
    if (key === 'stack' || key in replaced) {
      // A redacted field keeps its place and whether it is listed: a thrown object's `message` is shown
      // by `inspect` and `JSON.stringify`, an error's is not. Node 24's `stack` is an accessor that reads
      // the error it was made for: the copy gets the text.
      const value = key in replaced ? replaced[key as string] : original[key];
      const enumerable = descriptor.enumerable === true;
      Object.defineProperty(copy, key, { value, writable: true, enumerable, configurable: true });
    } else {
      Object.defineProperty(copy, key, descriptor);
    }
  }
  for (const field of ['message', 'stack', 'cause', 'name', 'code']) {
    const value = field in replaced ? replaced[field] : original[field];
    let same: boolean;
    try {
      same = copy[field] === value;
    } catch {
      // A prototype getter that reads the original's internal slots (DOMException's `name` and `code`).
      same = false;
    }
    if (!same)
      Object.defineProperty(copy, field, { value, writable: true, enumerable: false, configurable: true });
  }
  return copy;
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a failed call left behind: an `APICallError`, or only the cause of a request that got no answer. */
type FailedCall = Pick<APICallError, 'url' | 'cause'> &
  Partial<Pick<APICallError, 'statusCode' | 'responseHeaders' | 'responseBody' | 'message' | 'isRetryable'>>;

async function replayFailure(error: FailedCall, provider: string, secrets: string[]): Promise<unknown> {
  const answered = error.statusCode !== undefined;
  const transport: Transport = {
    kind: 'fetch',
    async request() {
      if (!answered) throw error.cause ?? error;
      const status = error.statusCode!;
      const headers = lowerCaseHeaders(error.responseHeaders);
      // The AI SDK provider got the status and headers but failed reading the body (cut short, not
      // decompressed): its cause says how, and core words it as it does for its own transports.
      if (error.responseBody === undefined && error.cause !== undefined) {
        throw bodyFailure(status, headers, tooLarge(error.cause) ?? error.cause);
      }
      return { status, headers, body: encoder.encode(error.responseBody ?? '') };
    },
  };
  let response: Awaited<ReturnType<typeof requestJson>>;
  try {
    response = await requestJson({
      transport,
      provider,
      url: error.url,
      method: 'POST',
      secrets,
      // The AI SDK provider already read its error body: its message and its verdict on retrying. A 2xx
      // body that carries an error is read by core, in its own words.
      parseError: (_body, status) =>
        status >= 200 && status < 300
          ? {}
          : {
              ...(error.message === undefined ? {} : { message: error.message }),
              ...(error.isRetryable === undefined ? {} : { isRetryable: error.isRetryable }),
            },
    });
  } catch (mapped) {
    return mapped;
  }
  // A 2xx JSON body the AI SDK provider refused (a gateway's error with a success status, a null where a
  // number belongs): core's check of an unexpected body says which, as for its own providers.
  const problem = `${redact(error.message ?? 'unreadable', secrets)}${describeCause(error.cause, secrets)}`;
  const refused: SafeParser<never> = {
    safeParse: () => ({ success: false, error: { issues: [{ path: [], message: problem }] } }),
  };
  try {
    parseResponse(refused, response, provider, 'embeddings');
  } catch (mapped) {
    return mapped;
  }
  return new InvalidResponseError(`${provider}: ${problem}`, { provider });
}

/**
 * The AI SDK's refusal of a body over its download cap (`readResponseWithSizeLimit`: an `AI_DownloadError`,
 * "Download of <url> exceeded maximum size of <n> bytes"), as core's own transports refuse one over
 * `maxResponseBytes`: a 2xx is then a final `InvalidResponseError`, not a connection to retry. The cap
 * is the AI SDK's (2 GiB), which no embedkit setting raises.
 */
function tooLarge(cause: unknown): ResponseTooLargeError | undefined {
  if (!AISDKError.isInstance(cause) || cause.name !== 'AI_DownloadError') return undefined;
  const limit = /\bexceeded maximum size of (\d+) bytes\b/.exec(cause.message)?.[1];
  return limit === undefined ? undefined : new ResponseTooLargeError(Number(limit), null);
}

function describeCause(cause: unknown, secrets: string[]): string {
  const message = (cause as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? ` (${redact(message, secrets).slice(0, 300)})` : '';
}

function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}
