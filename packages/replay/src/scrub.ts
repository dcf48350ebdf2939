import { isSecretFieldName, isSecretHeaderName, redact } from '@embedkit/core/provider';
import type { Cassette, CassetteInteraction } from './cassette.js';

const REDACTED = '[REDACTED]';

/** Response headers that name the account rather than carry a credential; a recording keeps neither. */
const ACCOUNT_HEADERS = new Set(['openai-organization', 'openai-project']);

/** Fields whose text is a message a server wrote, where it may quote a credential (`?key=…`, `Bearer …`). */
const MESSAGE_FIELDS = /^(?:message|error|detail|error_description)$/i;

/**
 * Keys shorter than this are placeholders of local servers (`none`, `test`, `1234`), no credential: they
 * are removed where they are a whole value, never from inside a text, where they would cut ordinary
 * words (inputs) or numbers.
 */
const MIN_SECRET_IN_TEXT = 8;

/** The forms a secret takes inside a text value: as is, percent-encoded, JSON-escaped (a body quoted in a message). */
function secretForms(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, encodeURIComponent(secret), escaped, escaped.replaceAll('/', '\\/')])];
}

type Scrub = (text: string) => string;

/**
 * Applies `text` to every string of a JSON value and `message` to the strings of message fields, and
 * blanks the string value of every field named like a credential. Numbers and the structure are never
 * touched, so the result is JSON.
 */
function scrubValue(value: unknown, text: Scrub, message: Scrub = text, key?: string): unknown {
  if (typeof value === 'string') {
    if (key === undefined) return text(value);
    if (isSecretFieldName(key)) return REDACTED;
    return MESSAGE_FIELDS.test(key) ? message(value) : text(value);
  }
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, text, message, key));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, scrubValue(item, text, message, name)]),
    );
  return value;
}

/**
 * A header's name or value as text: bytes (undici keeps raw headers as `Buffer`s) read as UTF-8, a list
 * item by item. Bytes left as they are would be written as numbers, where no pattern finds a credential.
 */
function asText(value: unknown): unknown {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return Array.isArray(value) ? value.map(asText) : value;
}

/**
 * One recorded header: its name, and what holds it (in a list, its pair, or its name and the value after
 * it; in an object, its value).
 */
interface HeaderGroup {
  name: unknown;
  items: unknown[];
}

/**
 * A list of headers read header by header: a `[name, value]` pair is one header, and in a flat list a
 * name and the item after it are one. A list that is neither (of an odd length, or pairs and names mixed)
 * is read the same way, so that every name in it is tested: a name followed by a pair or by nothing
 * stands alone.
 */
function headerGroups(list: readonly unknown[]): HeaderGroup[] {
  const groups: HeaderGroup[] = [];
  for (let at = 0; at < list.length; ) {
    const item = list[at];
    if (Array.isArray(item)) {
      groups.push({ name: item[0], items: [item] });
      at += 1;
      continue;
    }
    const next = list[at + 1];
    const valued = at + 1 < list.length && !Array.isArray(next);
    groups.push({ name: item, items: valued ? [item, next] : [item] });
    at += valued ? 2 : 1;
  }
  return groups;
}

/**
 * Removes the key (and every header that carries credentials or account ids) from a recorded exchange,
 * field by field, so that the result is always valid JSON and nothing else changes:
 *
 * - each given secret, in every string value where it appears (inputs included: a key pasted into an
 *   input must go too), also percent-encoded or JSON-escaped; a secret shorter than 8 characters only
 *   where it is the whole value;
 * - credential patterns (`?key=…`, `Bearer …`, `user:pass@`) only where credentials live: the request
 *   path, the response headers, error answers (status 300 and up) and message fields;
 * - response headers whose name says they carry a credential (core's `isSecretHeaderName`: `cookie`,
 *   `authorization`, `x-auth-token`, …) and account headers (`openai-organization`), and JSON fields
 *   named like a credential (`access_token`, `refresh_token`, `client_secret`, …);
 * - any field of a request or response beyond the format's (request `headers` a recorder kept, a `url`),
 *   the same way: credential headers dropped, patterns and secrets redacted.
 *
 * Vectors are left as they are unless one holds a secret exactly.
 */
export function scrubCassette(cassette: Cassette, secrets: readonly string[]): Cassette {
  const known = [
    ...new Set(secrets.filter((secret) => typeof secret === 'string' && secret.length > 0)),
  ].sort((a, b) => b.length - a.length);
  const long = known.filter((secret) => secret.length >= MIN_SECRET_IN_TEXT);
  const exact: Scrub = (text) => {
    if (known.includes(text)) return REDACTED;
    let out = text;
    for (const secret of long) for (const form of secretForms(secret)) out = out.split(form).join(REDACTED);
    return out;
  };
  // Core's redaction: every encoded form of the long secrets, and the credential patterns.
  const credentials: Scrub = (text) => redact(exact(text), long);
  /** Whether a recording keeps no header of this name: it carries a credential or names the account. */
  const droppedHeader = (name: unknown): boolean =>
    typeof name === 'string' && (isSecretHeaderName(name) || ACCOUNT_HEADERS.has(name.toLowerCase()));
  /**
   * Headers without those that carry a credential or name the account; the rest with patterns redacted.
   * A recorder may keep them as an object of names, as a list of `[name, value]` pairs (the entries of
   * `Headers`), or as undici's flat list of names and values, whose raw form holds bytes (`Buffer`s)
   * rather than text. Every form is read into the same groups (a header's name, and the items that hold
   * it) and every group is kept or dropped by the one test of its name, since a credential no pattern
   * knows (a bare `x-api-key`) is only found by its header's name: a form read another way, or not by
   * name at all, let such a credential through.
   */
  const scrubHeaders = (headers: unknown): unknown => {
    if (typeof headers !== 'object' || headers === null) return scrubValue(headers, credentials);
    const list = Array.isArray(headers);
    const groups: HeaderGroup[] = list
      ? headerGroups(headers.map(asText))
      : Object.entries(headers).map(([name, value]) => ({ name, items: [asText(value)] }));
    const kept = groups.filter((group) => !droppedHeader(group.name));
    return list
      ? scrubValue(
          kept.flatMap((group) => group.items),
          credentials,
        )
      : Object.fromEntries(kept.map((group) => [group.name, scrubValue(group.items[0], credentials)]));
  };
  /**
   * The fields of a request or response beyond the format's (a recorder's `headers` of the request, a
   * `url`, a `statusText`), scrubbed as credentials may sit in any of them; `path` and `body` are set by
   * the caller.
   */
  const scrubFields = (record: object): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(record)
        .filter(([name]) => name !== 'path' && name !== 'body')
        .map(([name, value]) => [
          name,
          name === 'headers' ? scrubHeaders(value) : scrubValue(value, credentials, credentials, name),
        ]),
    );
  const scrubInteraction = (interaction: CassetteInteraction): CassetteInteraction => {
    // Fields of an interaction beyond its request and response (a recorder's timing or note) are kept,
    // scrubbed as credentials may sit in any of them.
    const { request, response, ...others } = interaction;
    const answer = response.status >= 300 ? credentials : exact;
    return {
      ...(scrubValue(others, credentials) as object),
      request: {
        ...(scrubFields(request) as Omit<CassetteInteraction['request'], 'path' | 'body'>),
        path: credentials(request.path),
        ...(request.body === undefined ? {} : { body: scrubValue(request.body, exact) }),
      },
      response: {
        ...(scrubFields(response) as Omit<CassetteInteraction['response'], 'body'>),
        body: scrubValue(response.body, answer, credentials),
      },
    };
  };
  const { interactions, ...rest } = cassette;
  return {
    ...(scrubValue(rest, exact) as Omit<Cassette, 'interactions'>),
    interactions: interactions.map(scrubInteraction),
  };
}
