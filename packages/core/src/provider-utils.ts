import { describeValue } from './argument-checks.js';
import { countMismatch } from './engine/checks.js';
import type { RateLimiter } from './engine/limiter.js';
import { type ErrorDetails, InvalidArgumentError, InvalidResponseError } from './errors.js';
import {
  type BaseURLOrigin,
  type HttpSettings,
  type JsonResponse,
  type ParsedError,
  type RequestJsonOptions,
  redactAnswerText,
  refuseUrlCredentials,
  requestJson,
  unexpectedBodyError,
} from './http/client.js';
import type { Transport } from './http/transport.js';
import { refuseUnknownSettings, type SettingNames } from './setting-names.js';
import type { Embedding, EmbedInput, OutputType, ResponseInfo } from './types.js';
import { decodeBase64Vectors, numberArraysToVectors } from './vectors.js';

/**
 * One environment variable, or undefined where there is none to read: no `process.env` (browsers), or a
 * runtime that refuses the read (Deno without `--allow-env` for it throws), so that settings passed
 * explicitly still work there.
 */
function environmentVariable(name: string): string | undefined {
  try {
    return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  } catch {
    return undefined;
  }
}

/**
 * The API key for a call: the explicit setting, else the first environment variable that is set. Read at
 * call time, never at import. A missing key is an `InvalidArgumentError` that names what to set.
 */
export function loadApiKey(options: {
  apiKey: string | undefined;
  environmentVariables: readonly string[];
  provider: string;
}): string {
  const { environmentVariables, provider } = options;
  const key = settingOrEnvironment(options.apiKey, 'apiKey', environmentVariables, provider, () => {
    const fallback =
      environmentVariables.length === 0 ? '' : ` or leave it out to use ${environmentVariables.join(' or ')}`;
    return `apiKey is empty; pass a key${fallback}.`;
  });
  if (key !== undefined) return key;
  const where =
    environmentVariables.length === 0
      ? 'Pass apiKey'
      : `Set the ${environmentVariables.join(' or ')} environment variable, or pass apiKey`;
  throw new InvalidArgumentError(`${provider}: no API key. ${where} to the provider settings.`, {
    argument: 'apiKey',
    environmentVariables,
    provider,
  });
}

/**
 * The API root for a call: the explicit setting, else the first environment variable that is set, else
 * `defaultURL`. Read at call time, like keys. A value that is not an absolute http(s) URL is an
 * `InvalidArgumentError` naming where it came from (never the value: a key pasted into the wrong
 * variable must not reach a log). `source` says which variable was used, if any; `origin` where the URL
 * came from, for `requestJson`'s `baseURLOrigin`.
 */
export function loadBaseURL(options: {
  baseURL: string | undefined;
  environmentVariables: readonly string[];
  defaultURL: string;
  provider: string;
}): { url: string; source: string | undefined; origin: BaseURLOrigin } {
  if (options.baseURL !== undefined) {
    // Trimmed as the variables are: `new URL` ignores the white space, but the text is what gets sent.
    const value = typeof options.baseURL === 'string' ? options.baseURL.trim() : options.baseURL;
    const origin = 'the baseURL setting';
    return { url: checkBaseURL(value, origin, options.provider), source: undefined, origin };
  }
  for (const name of options.environmentVariables) {
    const value = environmentVariable(name);
    if (value !== undefined && value.trim() !== '')
      return { url: checkBaseURL(value.trim(), name, options.provider), source: name, origin: name };
  }
  return { url: options.defaultURL, source: undefined, origin: 'default' };
}

/**
 * `url` without its trailing slashes: the API root as requests use it (a path is appended to this form),
 * so that `https://api.example.com/v1/` and `https://api.example.com/v1` name one server.
 */
export function bareBaseURL(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * `url`, unless it is one of the provider's `defaults` (a trailing slash aside): what a model's
 * `customBaseURL()` returns.
 */
export function nonDefaultURL(url: string, defaults: readonly string[]): string | undefined {
  const bare = bareBaseURL(url);
  return defaults.some((known) => bareBaseURL(known) === bare) ? undefined : url;
}

function checkBaseURL(value: unknown, source: string, provider: string): string {
  // In a page or a worker, a path such as `/api/v1` is relative to the page, as `fetch` reads it.
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value, page) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new InvalidArgumentError(
      `${provider}: the base URL from ${source} is not an absolute http(s) URL; it should look like https://api.example.com/v1.`,
      { argument: 'baseURL' },
    );
  }
  // `new URL` would escape these, but the text is sent as it is.
  if (/[\s\p{Cc}]/u.test(value as string)) {
    throw new InvalidArgumentError(
      `${provider}: the base URL from ${source} holds white space or a control character; it should look like https://api.example.com/v1.`,
      { argument: 'baseURL' },
    );
  }
  // Refused when it is set, naming where it came from, before any request would refuse it.
  refuseUrlCredentials(value as string, provider, `the base URL from ${source}`, 'baseURL');
  // Paths are added to the end of the base URL: after a query or a fragment they would land in it.
  if (/[?#]/.test(value as string)) {
    throw new InvalidArgumentError(
      `${provider}: the base URL from ${source} has a query or a fragment (? or #); the API paths are added to its end, so it must end with the path, like https://api.example.com/v1. Query parameters go in the provider's settings (createOpenAICompatible takes queryParams).`,
      { argument: 'baseURL' },
    );
  }
  return value as string;
}

/**
 * An optional setting sent as a header of its own (an organization or project id): the explicit setting,
 * else the first environment variable that is set, else undefined (no header). Read at call time, like
 * keys, and checked as keys are: a value that cannot travel in a header is refused before sending, naming
 * where it came from, never the value.
 */
export function loadHeaderSetting(options: {
  value: unknown;
  setting: string;
  environmentVariables: readonly string[];
  provider: string;
}): string | undefined {
  const { value, setting, environmentVariables } = options;
  return settingOrEnvironment(
    value,
    setting,
    environmentVariables,
    options.provider,
    () =>
      `${setting} must be a non-empty string, or left out to use ${environmentVariables.join(' or ')}; got ${describeValue(value)}.`,
  );
}

/**
 * A value sent in a header (a key, an id): the explicit setting, else the first environment variable that
 * is set (trimmed), else undefined. A setting that is not a non-empty string is refused with the message
 * `refusal` gives; any value that cannot travel in a header is refused naming where it came from.
 */
function settingOrEnvironment(
  value: unknown,
  setting: string,
  environmentVariables: readonly string[],
  provider: string,
  refusal: () => string,
): string | undefined {
  if (value !== undefined) {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new InvalidArgumentError(`${provider}: ${refusal()}`, { argument: setting });
    }
    return headerSafe(value, `the ${setting} setting`, provider, setting);
  }
  for (const name of environmentVariables) {
    const variable = environmentVariable(name);
    if (variable !== undefined && variable.trim() !== '')
      return headerSafe(variable.trim(), name, provider, setting);
  }
  return undefined;
}

/**
 * API keys (and the ids sent beside them) are visible ASCII. Anything else (a newline or space pasted
 * with the key, a typographic quote, a non-Latin-1 letter) cannot go in an HTTP header: the request would
 * fail as a network error that retries cannot fix. The message says where the value came from, never the
 * value.
 */
function headerSafe(text: string, source: string, provider: string, argument: string): string {
  for (let position = 0; position < text.length; position++) {
    const code = text.charCodeAt(position);
    if (code < 0x21 || code > 0x7e) {
      const what =
        code === 0x0a || code === 0x0d
          ? 'a line break'
          : code === 0x20 || code === 0x09
            ? 'white space'
            : code < 0x20 || code === 0x7f
              ? 'a control character'
              : `the non-ASCII character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      const key = argument === 'apiKey';
      throw new InvalidArgumentError(
        `${provider}: the ${key ? 'API key' : argument} from ${source} holds ${what} at position ${position}, which cannot be sent in an HTTP header; copy the ${key ? 'key' : argument} again without it.`,
        { argument },
      );
    }
  }
  return text;
}

/**
 * One problem a schema found, in zod 4's issue format. Only `path` and `message` are required; the rest
 * lets a message be written from the issue itself, since zod's mini build leaves every message at
 * "Invalid input" unless a locale is loaded (a global setting we do not change for the application).
 */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  readonly expected?: string;
  readonly keys?: readonly string[];
  readonly origin?: string;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly inclusive?: boolean;
  readonly values?: readonly unknown[];
}

/** What the response helpers need of a schema: zod's `safeParse`, described structurally so core needs no zod. */
export interface SafeParser<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: readonly SchemaIssue[] } };
}

function bound(issue: SchemaIssue, word: 'least' | 'most'): string {
  const limit = word === 'least' ? issue.minimum : issue.maximum;
  const strict = issue.inclusive === false;
  const sized = issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set';
  if (sized && word === 'least' && !strict && Number(limit) === 1) return 'must not be empty';
  const plural = Number(limit) === 1 ? '' : 's';
  const unit = issue.origin === 'string' ? ` character${plural}` : sized ? ` item${plural}` : '';
  if (strict) return `must be ${word === 'least' ? 'more' : 'less'} than ${String(limit)}${unit}`;
  return `must be at ${word} ${String(limit)}${unit}`;
}

/** One issue as a sentence: zod's own message when it wrote one, else one written from the issue's code. */
function describeIssue(issue: SchemaIssue): string {
  if (issue.message !== '' && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'int' ? 'a whole number' : (issue.expected ?? 'another type')}`;
    case 'unrecognized_keys':
      return `unknown ${(issue.keys?.length ?? 0) > 1 ? 'keys' : 'key'} ${(issue.keys ?? []).map((key) => `"${key}"`).join(', ')}`;
    case 'too_small':
      return bound(issue, 'least');
    case 'too_big':
      return bound(issue, 'most');
    case 'invalid_value':
      return `expected one of ${(issue.values ?? []).map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_union':
      return 'matches none of the accepted forms';
    default:
      return issue.message;
  }
}

function describeIssues(issues: readonly SchemaIssue[]): string {
  return issues
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${describeIssue(issue)}`)
    .join('; ');
}

/**
 * Reads `providerOptions[provider]` with a strict schema; a bad option is an `InvalidArgumentError` before
 * sending. Takes the options as any request types them (its model's own, or any provider's).
 */
export function readProviderOptions<T>(
  schema: SafeParser<T>,
  provider: string,
  providerOptions: Readonly<Record<string, unknown>> | undefined,
): T {
  const options = schema.safeParse(providerOptions?.[provider] ?? {});
  if (!options.success) {
    throw new InvalidArgumentError(
      `providerOptions.${provider} is invalid: ${describeIssues(options.error.issues)}.`,
      {
        argument: `providerOptions.${provider}`,
      },
    );
  }
  return options.data;
}

/**
 * Checks a response body against a (lenient) schema. The wrong shape is an `InvalidResponseError` naming
 * the first problem, or, when the body is error-shaped (a server or gateway that reports a failure with a
 * 2xx status), the server's own message read by the provider's `parseError` given to `requestJson`.
 */
export function parseResponse<T>(
  schema: SafeParser<T>,
  response: JsonResponse,
  provider: string,
  what: string,
): T {
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw unexpectedBodyError(response, provider, what, issue === undefined ? '' : describeIssues([issue]));
  }
  return parsed.data;
}

/** Response metadata for the engine. */
export function responseInfo(response: JsonResponse, modelId: string | undefined): ResponseInfo {
  const info: ResponseInfo = { status: response.status, headers: response.headers };
  if (response.requestId !== undefined) info.requestId = response.requestId;
  if (modelId !== undefined) info.modelId = modelId;
  return info;
}

/**
 * Puts each item at its `index` (APIs do not promise order) and checks that every position from 0 to
 * `expected - 1` is filled exactly once. `what` names the items, plural ("vectors").
 */
export function inOrder<T extends { index: number }>(
  items: readonly T[],
  expected: number,
  what: string,
  provider: string,
): T[] {
  if (items.length !== expected) {
    throw new InvalidResponseError(
      countMismatch(provider, items, expected, what.replace(/s$/, ''), 'input'),
      {
        provider,
      },
    );
  }
  return placeByIndex(items, expected, what.replace(/s$/, ''), `the ${expected} inputs`, provider);
}

/**
 * Puts each item at its `index`, refusing an index that is not a whole number below `expected` or that
 * comes twice; positions no item names stay empty (the caller checks the count). `unit` names one item
 * ("vector", "chunk"); `of` what the indices count, for messages ("the 2 documents of this call").
 */
export function placeByIndex<T extends { index: number }>(
  items: readonly T[],
  expected: number,
  unit: string,
  of: string,
  provider: string,
): T[] {
  const placed = new Array<T>(expected);
  for (const item of items) {
    const index = item.index;
    const problem =
      !Number.isInteger(index) || index < 0 || index >= expected
        ? ', out of range'
        : placed[index] !== undefined
          ? ' twice'
          : undefined;
    if (problem !== undefined) {
      throw new InvalidResponseError(`${provider} returned ${unit} index ${index}${problem} for ${of}.`, {
        provider,
      });
    }
    placed[index] = item;
  }
  return placed;
}

/**
 * Decodes vectors, each into its own buffer: base64 strings (little-endian float32 for `float`, one byte per value
 * otherwise), or JSON number arrays (bit-packed types some APIs return as integers, or floats from a
 * server that ignored the encoding asked for — accepted as numbers, never decoded as base64), or float
 * vectors `requestJson` already decoded (`floatVectors`), which are kept where they are. Float values are
 * checked for NaN and infinities by the engine, once, on every answer.
 */
export function decodeVectors(
  vectors: readonly (string | unknown[] | Float32Array)[],
  outputType: OutputType,
): Embedding[] {
  if (vectors.every((vector) => typeof vector === 'string'))
    return decodeBase64Vectors(vectors as string[], outputType);
  if (vectors.every((vector) => typeof vector !== 'string'))
    return numberArraysToVectors(vectors, outputType);
  return vectors.map((vector, index) => {
    try {
      return typeof vector === 'string'
        ? decodeBase64Vectors([vector], outputType)[0]!
        : numberArraysToVectors([vector], outputType)[0]!;
    } catch (error) {
      // Decoded alone, each is vector 0 of a list of one: the message names its place in the answer.
      const problem = loneVectorProblem(error);
      if (index === 0 || problem === undefined) throw error;
      throw new InvalidResponseError(`Vector ${index} ${problem}`);
    }
  });
}

/** How the decoders name the vector of a list of one, at the start of what they throw. */
const LONE_VECTOR = 'Vector 0 ';

/**
 * What a decoder (`decodeVectors`, `decodeBase64Vectors`, `numberArraysToVectors`) threw about the one
 * vector it was given, without its name ("holds NaN at position 3, …"), for a caller that names the
 * vector itself; undefined for any other error.
 */
export function loneVectorProblem(error: unknown): string | undefined {
  if (!InvalidResponseError.isInstance(error) || !error.message.startsWith(LONE_VECTOR)) return undefined;
  return error.message.slice(LONE_VECTOR.length);
}

/** The answer a provider reads vectors from: its name, and the response's status and request id. */
export interface AnswerOf {
  provider: string;
  response?: { status?: number; requestId?: string | undefined };
}

/**
 * Runs `read` over an answer's body (placing and decoding its vectors): an `InvalidResponseError` it raises
 * without the answer's status (an index twice, a vector that is not valid base64, a value that is not a
 * number) is raised again naming the provider, the status and the request id, so that the error says which
 * answer was bad, as every other error about an answer does.
 */
export function decodeAnswer<T>(answer: AnswerOf, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!InvalidResponseError.isInstance(error) || error.statusCode !== undefined) throw error;
    const details: ErrorDetails = { provider: answer.provider, cause: error };
    if (typeof answer.response?.status === 'number') details.statusCode = answer.response.status;
    // Redacted as every other error's request id is: a gateway may echo anything in that header.
    if (typeof answer.response?.requestId === 'string')
      details.requestId = redactAnswerText(answer.response, answer.response.requestId);
    const message =
      error.provider === undefined
        ? `${answer.provider} returned an answer whose ${lowerFirst(error.message)}`
        : error.message;
    throw new InvalidResponseError(message, details);
  }
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/**
 * `table[key]` when the table itself holds `key`, else undefined. A model table looked up by the caller's
 * model id must not find `constructor`, `toString` or `__proto__` on `Object.prototype`: a function taken
 * for a model's capabilities made every call fail with a message about something else.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `data:<mediaType>;base64,<payload>`: the media type and the payload, or undefined for any other string. */
export function parseDataUrl(text: string): { mediaType: string; base64: string } | undefined {
  // The prefix alone is matched: an image's payload runs to megabytes, and inputs are checked more than
  // once (before a job's first call, to group them into calls, and as each call is built).
  const match = /^data:([a-z]+\/[a-z0-9.+-]+);base64,/i.exec(text);
  if (match === null || match[0].length === text.length) return undefined;
  return { mediaType: match[1]!.toLowerCase(), base64: text.slice(match[0].length) };
}

/** The text of a text input; any other input is an `InvalidArgumentError` naming it (and `hint`, how to embed it). */
export function inputText(input: EmbedInput, index: number, label: string, hint = ''): string {
  if (typeof input === 'string') return input;
  if (typeof input === 'object' && input !== null && 'text' in input && typeof input.text === 'string')
    return input.text;
  throw new InvalidArgumentError(
    `Input ${index} is not text; ${label} takes text only.${hint === '' ? '' : ` ${hint}`}`,
    {
      argument: `inputs[${index}]`,
    },
  );
}

/** Settings every provider accepts: the transport's, and a limiter its models draw on. */
export interface ProviderSettings extends HttpSettings {
  /**
   * The limiter every call through this provider's models draws on, unless a call passes its own; from
   * `createRateLimiter`. Default: one per model object, sharing only 429 pauses.
   */
  rateLimit?: RateLimiter | undefined;
}

/** The names of `ProviderSettings`, for a provider to extend with its own. */
export const PROVIDER_SETTING_NAMES: SettingNames<ProviderSettings> = {
  fetch: true,
  dispatcher: true,
  maxResponseBytes: true,
  rateLimit: true,
};

/** What providers' settings are called elsewhere (other SDKs, other casings), and what to pass instead. */
const BORROWED_PROVIDER_SETTINGS: Readonly<Record<string, string>> = {
  baseUrl: 'pass baseURL',
  base_url: 'pass baseURL',
  api_key: 'pass apiKey',
  httpAgent: 'pass an undici dispatcher as dispatcher (or a fetch as fetch)',
  maxRetries: 'retries are a setting of each call (embedMany({ maxRetries }))',
  timeout: 'the timeout is a setting of each call (embedMany({ timeoutMs }))',
  timeoutMs: 'the timeout is a setting of each call (embedMany({ timeoutMs }))',
};

/**
 * Checks a provider factory's settings object (`owner`, e.g. `createOpenAI`): absent, or an object whose
 * every name is one of `known`, so that `baseUrl` for `baseURL` is refused instead of sending every call
 * to the default server.
 */
export function checkProviderSettings(
  settings: unknown,
  known: Readonly<Record<string, true>>,
  owner: string,
): void {
  if (settings === undefined) return;
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new InvalidArgumentError(`${owner} takes a settings object, e.g. ${owner}({ apiKey }).`, {
      argument: 'settings',
    });
  }
  refuseUnknownSettings(settings, known, owner, { instead: BORROWED_PROVIDER_SETTINGS });
}

/** One JSON API of a provider: where it is, how a call is authorised, how its errors read. */
export interface JsonEndpoint {
  /** Provider name, for messages and error fields. */
  provider: string;
  transport: Transport;
  /**
   * Read at each call: the API root and where it came from (`loadBaseURL`'s `origin`, which errors name),
   * the headers (the key's among them) and the secrets to redact.
   */
  resolve(): {
    baseURL: string;
    baseURLOrigin?: BaseURLOrigin | undefined;
    headers: Record<string, string>;
    secrets: readonly string[];
  };
  /** Reads the provider's error body. */
  parseError?: (body: unknown, status: number) => ParsedError;
  /**
   * Response headers that carry a request id, first match wins; names match in any letter case. Default
   * `x-request-id`, `request-id`, `x-goog-request-id`.
   */
  requestIdHeaders?: readonly string[];
  maxResponseBytes?: number | undefined;
}

/**
 * Sends one JSON body to `{baseURL}{path}` (the path may carry a query) with the endpoint's headers and
 * the call's, and returns the parsed answer; every failure is a typed, redacted error.
 */
export async function postJson(
  endpoint: JsonEndpoint,
  path: string,
  body: unknown,
  call: {
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    headers?: Record<string, string> | undefined;
  },
  read: Pick<RequestJsonOptions, 'floatVectors'> = {},
): Promise<JsonResponse> {
  const { baseURL, baseURLOrigin, headers, secrets } = endpoint.resolve();
  return requestJson({
    baseURLOrigin,
    transport: endpoint.transport,
    provider: endpoint.provider,
    url: `${bareBaseURL(baseURL)}${path}`,
    method: 'POST',
    headers: { ...headers, ...call.headers },
    body,
    signal: call.signal,
    timeoutMs: call.timeoutMs,
    secrets,
    maxResponseBytes: endpoint.maxResponseBytes,
    parseError: endpoint.parseError,
    requestIdHeaders: endpoint.requestIdHeaders,
    ...(read.floatVectors === undefined ? {} : { floatVectors: read.floatVectors }),
  });
}
