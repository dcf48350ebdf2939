import { compileRedaction, isAccountHeaderName, isSecretHeaderName } from '@embedkit/core/provider';

/**
 * Request headers as one object of lower-case names, in any form a transport hands them over: undici's
 * flat list of names and values (strings or bytes), a list of `[name, value]` pairs, `Headers` of any
 * copy of `fetch` or a `Map`, or an object whose values may be lists. A header sent more than once
 * (twice in a list, or under two letter cases of its name in an object) holds all its values joined with
 * `, ` in the order sent, as `fetch` joins them: kept as its last value only, a provider that sends
 * `authorization` or `content-type` twice passed every check on the undici transport that it failed on
 * the fetch one.
 */
export function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const out = new Map<string, string>();
  const add = (name: unknown, value: unknown) => {
    if (value === undefined) return;
    const key = String(name).toLowerCase();
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    const before = out.get(key);
    out.set(key, before === undefined ? text : `${before}, ${text}`);
  };
  if (headers === undefined || headers === null) return {};
  if (Array.isArray(headers)) {
    if (headers.every(Array.isArray)) for (const [name, value] of headers) add(name, value);
    else for (let index = 0; index + 1 < headers.length; index += 2) add(headers[index], headers[index + 1]);
  } else if (typeof (headers as Headers).forEach === 'function') {
    // By its `forEach` rather than `instanceof Headers`: undici's own `Headers` is another class than the
    // runtime's, and a `Map` (which `fetch` takes as pairs) calls back the same way, value first.
    (headers as Headers).forEach((value, name) => {
      add(name, value);
    });
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) add(name, value);
  }
  return Object.fromEntries(out);
}

const SET_BY_TRANSPORT = 'each transport sets it its own way';
const PER_REQUEST = 'it changes with every request';

/**
 * Request headers a cassette never records, each with why: they change with the package version or the
 * transport (undici and `fetch` each add their own), not with what the provider's code asks of the API;
 * or with every request (a request id the client makes, trace context, the date). A recording holding
 * one would fail its replay, on one transport or on every run. Record mode leaves them out and
 * `checkCassette` refuses them, both by this list.
 */
const UNRECORDED_REQUEST_HEADERS: ReadonlyMap<string, string> = new Map([
  ['user-agent', 'it names the client and its version'],
  ['accept-encoding', SET_BY_TRANSPORT],
  ['content-length', SET_BY_TRANSPORT],
  ['transfer-encoding', SET_BY_TRANSPORT],
  ['host', SET_BY_TRANSPORT],
  ['connection', SET_BY_TRANSPORT],
  ['keep-alive', SET_BY_TRANSPORT],
  ['date', PER_REQUEST],
  ['x-request-id', PER_REQUEST],
  ['request-id', PER_REQUEST],
  ['x-client-request-id', PER_REQUEST],
  ['traceparent', PER_REQUEST],
  ['tracestate', PER_REQUEST],
  ['baggage', PER_REQUEST],
]);

/**
 * Whether a recording never holds a header of this name (any letter case) at all, request's or response's:
 * `credential` for one that carries a credential (core's `isSecretHeaderName`: `authorization`, `cookie`,
 * `x-api-key`, `x-goog-api-key`, any whose name says so), whose key a cassette records in `auth` by name
 * and scheme only; `account` for one that names the account (`openai-organization`); undefined for any
 * other. The one test `scrubCassette`, `checkCassette` and, through `unrecordedRequestHeader`, record
 * mode share.
 */
export function withheldHeader(name: unknown): 'credential' | 'account' | undefined {
  if (typeof name !== 'string') return undefined;
  return isSecretHeaderName(name) ? 'credential' : isAccountHeaderName(name) ? 'account' : undefined;
}

/** A token of HTTP (RFC 9110 §5.6.2), a challenge's scheme or a parameter's name. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** A quoted string on one line, its escapes (`\"`) kept inside it. */
const QUOTED = '"(?:[^"\\\\\\r\\n]|\\\\[^\\r\\n])*"';
/** An auth-param: a name, `=`, and a token or a quoted string. */
const AUTH_PARAM = `${TOKEN}[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED})`;
/**
 * A list of challenges read whole (RFC 9110 §11.6.1): it opens with a scheme; each parameter follows its
 * scheme after a space or another parameter after a comma, and a scheme after a comma starts the next
 * challenge. A token68 (`Negotiate oRswGa…`, `Basic dXNl…`) matches no part of it, so a value that holds
 * one is not read as a list of challenges at all.
 */
const CHALLENGES = new RegExp(
  `^[ \\t]*${TOKEN}(?:[ \\t]+${AUTH_PARAM})?(?:[ \\t]*,[ \\t]*(?:${AUTH_PARAM}|${TOKEN}(?:[ \\t]+${AUTH_PARAM})?))*[ \\t]*$`,
);
/** Each auth-param of a list of challenges, its name and its value captured. */
const AUTH_PARAMS = new RegExp(`(${TOKEN})[ \\t]*=[ \\t]*(${TOKEN}|${QUOTED})`, 'g');

/**
 * Parameters a challenge may carry that hold no credential and no free text a server writes: the realm,
 * Bearer's `scope` and `error` code (RFC 6750), Basic's `charset` (RFC 7617), Digest's `algorithm`, `qop`
 * and `stale` (RFC 7616). `error_description` is not among them: its text may echo what the request sent,
 * in a shape no pattern knows.
 */
const CHALLENGE_PARAMETERS = new Set(['realm', 'scope', 'error', 'charset', 'algorithm', 'qop', 'stale']);

/** Core's redaction by its patterns alone (`?key=…`, `Bearer …`, `user:pass@`), for a check given no secrets. */
const PATTERNS_ONLY = compileRedaction([]);

/**
 * Whether a recorded `www-authenticate` or `proxy-authenticate` (any letter case) holds no credential: its
 * value, one text, is a list of challenges (`CHALLENGES`: schemes and auth-params, no token68), and every
 * parameter is one that holds none (`CHALLENGE_PARAMETERS`) with a value `redaction` (core's patterns,
 * with the scrub's secrets where it has them) leaves as it is. (The value whole is not redacted: core's
 * pattern of a bearer token takes the word after `Bearer`, a challenge's first parameter name.) `Bearer realm="api", error="invalid_token"` is
 * harmless; `Bearer error_description="token sk-… is invalid"`, `Negotiate oRswGa…` and
 * `Bearer realm="…?key=…"` are not.
 */
export function harmlessChallenge(
  name: unknown,
  value: unknown,
  redaction: (text: string) => string = PATTERNS_ONLY,
): boolean {
  if (typeof name !== 'string' || !/^(?:www|proxy)-authenticate$/i.test(name)) return false;
  if (typeof value !== 'string' || !CHALLENGES.test(value)) return false;
  return [...value.matchAll(AUTH_PARAMS)].every(
    ([, parameter, text]) => CHALLENGE_PARAMETERS.has(parameter!.toLowerCase()) && redaction(text!) === text,
  );
}

/**
 * `withheldHeader` for a header of a recorded response, read with its value: a challenge that holds no
 * credential (`harmlessChallenge`) is kept. The one test `scrubCassette` and `checkCassette` share for
 * the response's headers.
 */
export function withheldAnswerHeader(
  name: unknown,
  value: unknown,
  redaction?: (text: string) => string,
): 'credential' | 'account' | undefined {
  return harmlessChallenge(name, value, redaction) ? undefined : withheldHeader(name);
}

/**
 * The value of one header of a recorder's list (a `headerGroups` group): the item after its name, the
 * second of its pair, or its record's `value`.
 */
export function listedValue(group: HeaderGroup): unknown {
  const [first, second] = group.items;
  if (group.items.length === 2) return second;
  if (Array.isArray(first)) return first[1];
  return (first as { value?: unknown }).value;
}

const WITHHELD_BECAUSE = { credential: 'it carries a credential', account: 'it names the account' };

/**
 * Why a cassette leaves out the request header `name` (any letter case), e.g. `it changes with every
 * request` for `traceparent` and `it carries a credential` for `authorization` (`withheldHeader`);
 * undefined for a header it may record.
 */
export function unrecordedRequestHeader(name: string): string | undefined {
  const withheld = withheldHeader(name);
  return withheld === undefined
    ? UNRECORDED_REQUEST_HEADERS.get(name.toLowerCase())
    : WITHHELD_BECAUSE[withheld];
}

/**
 * A header's name or value as text: bytes (undici keeps raw headers as `Buffer`s) read as UTF-8, a list
 * item by item. Bytes left as they are would be written as numbers, where no pattern finds a credential.
 */
export function asText(value: unknown): unknown {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return Array.isArray(value) ? value.map(asText) : value;
}

/**
 * One recorded header: its name, and what holds it (in a list, its pair, or its name and the value after
 * it; in an object, its value).
 */
export interface HeaderGroup {
  name: unknown;
  items: unknown[];
}

/**
 * What an item of a list of headers holds whole, when it is one header by itself: a `[name, value]` pair
 * (the entries of `Headers`), or a `{ name, value }` record (as HAR files keep them).
 */
export function wholeHeader(item: unknown): { name: unknown } | undefined {
  if (Array.isArray(item)) return { name: item[0] };
  if (typeof item === 'object' && item !== null && !(item instanceof Uint8Array) && 'name' in item)
    return { name: item.name };
  return undefined;
}

/**
 * A list of headers read header by header: a `[name, value]` pair or a `{ name, value }` record is one
 * header, and in a flat list a name and the item after it are one (the forms may be mixed). A flat run of
 * an odd length (a name followed by a whole header or by nothing) has lost a value somewhere, and where
 * cannot be known: pairing the rest from its start could put a key under a harmless name, where no test
 * of names finds it. For such a list, the index of the name left without a value is returned instead.
 */
export function headerGroups(list: readonly unknown[]): HeaderGroup[] | { unpairedAt: number } {
  const groups: HeaderGroup[] = [];
  for (let at = 0; at < list.length; ) {
    const item = list[at];
    const whole = wholeHeader(item);
    if (whole !== undefined) {
      groups.push({ name: whole.name, items: [item] });
      at += 1;
      continue;
    }
    if (at + 1 >= list.length || wholeHeader(list[at + 1]) !== undefined) return { unpairedAt: at };
    groups.push({ name: item, items: [item, list[at + 1]] });
    at += 2;
  }
  return groups;
}

/**
 * The header names of a list of headers a recorder kept (its `headerGroups`' names, bytes read as text);
 * for a flat list whose names and values cannot be paired, every item that may be a name (each text, and
 * every item of a pair), so that no test of names misses one.
 */
export function listedHeaderNames(list: readonly unknown[]): unknown[] {
  const items = list.map(asText);
  const groups = headerGroups(items);
  return Array.isArray(groups)
    ? groups.map((group) => group.name)
    : items.flatMap((item) => (Array.isArray(item) ? item : [wholeHeader(item)?.name ?? item]));
}
