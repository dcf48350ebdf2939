import { InvalidArgumentError } from '../errors.js';

/** An HTTP field name: one or more token characters (RFC 9110, section 5.1). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters a field value may not hold: controls other than tab, and anything past Latin-1. */
const FORBIDDEN_IN_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** An object literal (or one made with `Object.create(null)`): not an array, a `Map`, a `Headers`, a class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Checks headers a user gave (a job's `headers`, a provider's `headers` setting) before anything is
 * sent. A header HTTP cannot carry would otherwise fail inside the transport, look like a network error
 * and be retried. Messages name the header, never its value (it may be a credential).
 */
export function checkHeaders(headers: unknown, source: string, provider?: string): void {
  if (headers === undefined) return;
  const prefix = provider === undefined ? '' : `${provider}: `;
  if (!isPlainObject(headers)) {
    // A `Headers` or `Map` would spread to nothing: every header silently dropped.
    throw new InvalidArgumentError(
      `${prefix}${source} must be a plain object of header names to string values, like { 'x-trace-id': 'a1' }.`,
      { argument: 'headers', ...(provider === undefined ? {} : { provider }) },
    );
  }
  const entries = Object.entries(headers as Record<string, unknown>);
  for (let index = 0; index < entries.length; index++) {
    const [name, value] = entries[index]!;
    let problem: string | undefined;
    if (!FIELD_NAME.test(name)) {
      // Not quoted: a key pasted in the wrong place must not reach a log.
      problem = `has a header name HTTP does not allow (the name at position ${index + 1}); a name holds only letters, digits and !#$%&'*+-.^_\`|~, with no spaces or colons`;
    } else if (typeof value !== 'string') {
      problem = `has a ${value === null ? 'null' : typeof value} value for header "${name}"; header values are strings`;
    } else if (FORBIDDEN_IN_VALUE.test(value)) {
      problem = `has a value for header "${name}" that holds a line break, a control character or a character beyond Latin-1, which HTTP cannot carry`;
    }
    if (problem !== undefined) {
      throw new InvalidArgumentError(`${prefix}${source} ${problem}.`, {
        argument: FIELD_NAME.test(name) ? `headers.${name}` : 'headers',
        ...(provider === undefined ? {} : { provider }),
      });
    }
  }
}

/**
 * `sets` merged into one object of lower-case names, a later set's header replacing an earlier one's
 * whatever the letter case of either name. Spread into one object, `{ authorization: key }` and a
 * setting's `{ Authorization: gateway }` stay two keys, and go out as one header carrying both values,
 * the provider's key included. Every request passes through here (`requestJson`), so a header given by a
 * setting or by a call replaces the provider's own in any case.
 */
export function mergeHeaders(
  ...sets: (Readonly<Record<string, string>> | undefined)[]
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const set of sets) {
    if (set === undefined) continue;
    for (const [name, value] of Object.entries(set)) {
      // Defined, not assigned: a header named `__proto__` is a header, not the object's prototype.
      Object.defineProperty(merged, name.toLowerCase(), {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return merged;
}
