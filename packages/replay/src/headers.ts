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
 * Why a cassette leaves out the request header `name` (any letter case), e.g. `it changes with every
 * request` for `traceparent`; undefined for a header it may record.
 */
export function unrecordedRequestHeader(name: string): string | undefined {
  return UNRECORDED_REQUEST_HEADERS.get(name.toLowerCase());
}
