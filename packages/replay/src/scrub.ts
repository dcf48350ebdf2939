import { compileRedaction, InvalidArgumentError, isSecretFieldName } from '@embedkit/core/provider';
import type { Cassette, CassetteInteraction } from './cassette.js';
import {
  asText,
  type HeaderGroup,
  harmlessChallenge,
  headerGroups,
  listedHeaderNames,
  listedValue,
  withheldHeader,
} from './headers.js';

const REDACTED = '[REDACTED]';

/** Fields whose text is a message a server wrote, where it may quote a credential (`?key=…`, `Bearer …`). */
const MESSAGE_FIELDS = /^(?:message|error|detail|error_description)$/i;

/**
 * Keys shorter than this are placeholders of local servers (`none`, `test`, `1234`), no credential: they
 * are removed where they are a whole value, never from inside a text, where they would cut ordinary
 * words (inputs) or numbers.
 */
const MIN_SECRET_IN_TEXT = 8;

type Scrub = (text: string) => string;

/** Fields that hold headers as a recorder keeps them (`headers`, Node's flat `rawHeaders`), at any depth. */
const HEADER_FIELDS = /^(?:raw)?headers$/i;

/**
 * Applies `text` to every string of a JSON value and `message` to the strings of message fields, and
 * blanks the string value of every field named like a credential. Numbers and the structure are never
 * touched, so the result is JSON. With `headers`, every field named like headers, however deep, is
 * handed to it instead, with its path in the cassette (`value` being at `path`, e.g. `recorder.notes`).
 */
function scrubValue(
  value: unknown,
  text: Scrub,
  message: Scrub = text,
  key?: string,
  headers?: (value: unknown, path: string) => unknown,
  path = '',
): unknown {
  if (headers !== undefined && key !== undefined && HEADER_FIELDS.test(key)) return headers(value, path);
  if (typeof value === 'string') {
    if (key === undefined) return text(value);
    if (isSecretFieldName(key)) return REDACTED;
    return MESSAGE_FIELDS.test(key) ? message(value) : text(value);
  }
  if (Array.isArray(value))
    return value.map((item, index) => scrubValue(item, text, message, key, headers, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [
        name,
        scrubValue(item, text, message, name, headers, path === '' ? name : `${path}.${name}`),
      ]),
    );
  return value;
}

/** A header's name as HTTP writes it (a token, RFC 9110 §5.1): a text with a space, a `/` or a `:` is a value. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The entries of headers kept as an object: a `Map` or a `Headers` by its entries, any other by its keys. */
function headerEntries(headers: object): [unknown, unknown][] {
  return headers instanceof Map || headers instanceof Headers ? [...headers] : Object.entries(headers);
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
 *   `authorization`, `x-auth-token`, …) and account headers (`openai-organization`), but a challenge
 *   that holds no credential (`Bearer realm="api"`, by `harmlessChallenge`, which `checkCassette` reads
 *   the response's headers by too), and JSON fields named like a credential (`access_token`,
 *   `refresh_token`, `client_secret`, …);
 * - any field of a request, a response or an exchange beyond the format's (request `headers` a recorder
 *   kept, a `url`, a `raw` holding `headers`), the same way: credential headers dropped wherever they
 *   are, patterns and secrets redacted; headers kept as a flat list with a value missing, which cannot
 *   be paired, refuse the recording (the message names the field's path) when they are the request's
 *   or response's own, or when an item names a header a recording drops;
 * - headers in the cassette's own fields (`call`, `expect`, a field a recorder adds), dropped by name the
 *   same way, with only the secrets removed from their other text; there a list named like headers that
 *   cannot be paired and names no such header (a list of header names) is kept as it is, and one of an
 *   even length whose items all read as header names is refused when its pairs would drop a header
 *   (it may be a list of names, or names and values).
 *
 * Vectors are left as they are unless one holds a secret exactly.
 */
export function scrubCassette(cassette: Cassette, secrets: readonly string[]): Cassette {
  const known = [
    ...new Set(secrets.filter((secret) => typeof secret === 'string' && secret.length > 0)),
  ].sort((a, b) => b.length - a.length);
  const long = known.filter((secret) => secret.length >= MIN_SECRET_IN_TEXT);
  // Core's redaction, the one every error goes through: every form of the long secrets (encoded, escaped,
  // inside base64, wrapped), alone or with the credential patterns.
  const secretsOnly = compileRedaction(long, { patterns: false });
  const withPatterns = compileRedaction(long);
  const exact: Scrub = (text) => (known.includes(text) ? REDACTED : secretsOnly(text));
  const credentials: Scrub = (text) => (known.includes(text) ? REDACTED : withPatterns(text));
  /** Whether a recording keeps no header of this name: it carries a credential or names the account. */
  const droppedHeader = (name: unknown): boolean => withheldHeader(name) !== undefined;
  /**
   * Headers without those that carry a credential or name the account; the rest with patterns redacted.
   * A recorder may keep them as an object of names, a `Map` or a `Headers` (written back as an object of
   * names), as a list of `[name, value]` pairs (the entries of `Headers`) or of `{ name, value }` records
   * (HAR's form), or as undici's flat list of names and values, whose raw form holds bytes (`Buffer`s)
   * rather than text. Every form is read into
   * the same groups (a header's name, and the items that hold it) and every group is kept or dropped by
   * the one test of its name, since a credential no pattern knows (a bare `x-api-key`) is only found by
   * its header's name: a form read another way, or not by name at all, let such a credential through.
   * `path` is where they are in the cassette, for a list that cannot be read; `container` says they are
   * the request's or response's own headers, never anything else.
   */
  const scrubHeaders = (headers: unknown, path: string, container: boolean): unknown => {
    if (typeof headers !== 'object' || headers === null) return scrubValue(headers, credentials);
    const list = Array.isArray(headers);
    let groups: HeaderGroup[];
    if (list) {
      const items = headers.map(asText);
      const read = headerGroups(items);
      if (!Array.isArray(read)) {
        // Outside the request's and response's own headers, a field named like headers may hold no headers
        // at all (a recorder's list of header names). When none of its items names a header a recording
        // drops, no pairing would drop anything, so it is kept as it is; else it may be headers with a
        // value missing, and is refused.
        if (!container && !listedHeaderNames(items).some(droppedHeader))
          return scrubValue(items, credentials);
        throw new InvalidArgumentError(
          `scrubCassette: the headers at ${path} are a flat list of names and values with a value missing (item ${read.unpairedAt} has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.`,
          { argument: 'cassette' },
        );
      }
      groups = read;
      // A flat list of even length whose every item reads as a header name is either a list of names or
      // names and values. Where the pairs' reading drops nothing the two agree; else dropping loses names
      // of a list of names, and keeping may keep a credential, so neither is done.
      const dropped = read.find((group) => droppedHeader(group.name));
      if (
        !container &&
        dropped !== undefined &&
        items.every((item) => typeof item === 'string' && HEADER_NAME.test(item))
      ) {
        throw new InvalidArgumentError(
          `scrubCassette: the headers at ${path} may be a list of header names or a flat list of names and values (each of its items reads as a header name, and ${String(dropped.name)} is one a recording drops), so what to drop cannot be known; the recording is refused rather than written with names lost or a credential kept. Keep a list of header names in a field named otherwise.`,
          { argument: 'cassette' },
        );
      }
    } else {
      groups = headerEntries(headers).map(([name, value]) => ({
        name: asText(name),
        items: [asText(value)],
      }));
    }
    // The response's own headers are read with their values: a challenge that holds no credential is kept
    // as it is (core's bearer pattern would take its first parameter's name for a token).
    const answer = container && path.endsWith('.response.headers');
    const harmless = (group: HeaderGroup) =>
      answer && harmlessChallenge(group.name, list ? listedValue(group) : group.items[0], credentials);
    const kept = groups.filter((group) => harmless(group) || !droppedHeader(group.name));
    const scrubbed = (group: HeaderGroup) =>
      harmless(group) ? group.items : (scrubValue(group.items, credentials) as unknown[]);
    return list
      ? kept.flatMap(scrubbed)
      : Object.fromEntries(kept.map((group) => [group.name, scrubbed(group)[0]]));
  };
  /**
   * Fields a recorder kept beside the format's, scrubbed as credentials may sit in any of them: `text`
   * applied to their strings (patterns and secrets by default), and headers, however deep (`raw.headers`),
   * dropped by name. `where` is their path in the cassette (empty for the cassette's own fields); with
   * `own`, the `headers` and `rawHeaders` right under it are the request's or response's own, which are
   * always headers.
   */
  const scrubOthers = (fields: object, where: string, text: Scrub = credentials, own = false) =>
    scrubValue(
      fields,
      text,
      text,
      undefined,
      (headers, path) => scrubHeaders(headers, path, own && path.lastIndexOf('.') === where.length),
      where,
    );
  /**
   * The fields of a request or response beyond the format's (a recorder's `headers` of the request, a
   * `url`, a `statusText`); `path` and `body` are set by the caller.
   */
  const scrubFields = (record: object, where: string): Record<string, unknown> =>
    scrubOthers(
      Object.fromEntries(Object.entries(record).filter(([name]) => name !== 'path' && name !== 'body')),
      where,
      credentials,
      true,
    ) as Record<string, unknown>;
  const scrubInteraction = (interaction: CassetteInteraction, index: number): CassetteInteraction => {
    // Fields of an interaction beyond its request and response (a recorder's timing or note) are kept,
    // scrubbed as credentials may sit in any of them.
    const { request, response, ...others } = interaction;
    const answer = response.status >= 300 ? credentials : exact;
    const where = `interactions[${index}]`;
    return {
      ...(scrubOthers(others, where) as object),
      request: {
        ...(scrubFields(request, `${where}.request`) as Omit<
          CassetteInteraction['request'],
          'path' | 'body'
        >),
        path: credentials(request.path),
        ...(request.body === undefined ? {} : { body: scrubValue(request.body, exact) }),
      },
      response: {
        ...(scrubFields(response, `${where}.response`) as Omit<CassetteInteraction['response'], 'body'>),
        body: scrubValue(response.body, answer, credentials),
      },
    };
  };
  const { interactions, ...rest } = cassette;
  return {
    // The cassette's own fields (`call`, `expect`, a field a recorder adds) may hold headers too, whose
    // credentials no pattern finds (a bare `x-api-key`): they are dropped by name as in the interactions.
    // Their other text only loses the secrets, since the call's inputs may look like credentials.
    ...(scrubOthers(rest, '', exact) as Omit<Cassette, 'interactions'>),
    interactions: interactions.map(scrubInteraction),
  };
}
