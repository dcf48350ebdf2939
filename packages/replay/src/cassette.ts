import type { InputType, OutputType } from '@embedkit/core';
import { InvalidArgumentError } from '@embedkit/core/provider';
import {
  asText,
  headerGroups,
  listedHeaderNames,
  listedValue,
  unrecordedRequestHeader,
  withheldAnswerHeader,
  withheldHeader,
} from './headers.js';

/** One recorded HTTP exchange of a cassette. */
export interface CassetteInteraction {
  request: {
    method: string;
    path: string;
    body?: unknown;
    /**
     * Request headers a replay compares (lower-case names, exact values): only headers that carry no
     * credential, such as `content-type` and an API's version header, and none the transport adds or that
     * changes with every request (`unrecordedRequestHeader`). Absent, or a list (a recorder's own form):
     * none are compared. `checkCassette` refuses a header that carries a credential (`authorization`,
     * `x-api-key`, `cookie`, …) or names the account in either form: the key goes in `auth`.
     */
    headers?: Record<string, string>;
    /**
     * Where the request carries its key, compared by presence and scheme only: `{ header: 'authorization',
     * scheme: 'Bearer' }` for `authorization: Bearer <key>`, no scheme for a header holding the key alone.
     * Never the key itself. Absent: not compared.
     */
    auth?: { header: string; scheme?: string };
  };
  /**
   * `headers`: what the API answered, never one that carries a credential (`set-cookie`, a
   * `www-authenticate` other than a challenge that holds none, …) or names the account, which
   * `checkCassette` refuses in either form.
   */
  response: { status: number; headers?: Record<string, string>; body: unknown };
}

/** The engine call a cassette replays. */
export interface CassetteCall {
  /** `embed` (default: `embedMany`), `contextualized` (`embedContextualized`), `rerank` or `batch` (create, wait, results). */
  kind?: 'embed' | 'contextualized' | 'rerank' | 'batch';
  modelId: string;
  /** `embed` and `batch`: texts, or `{ text, title }` for an input with a document title. */
  inputs?: (string | { text: string; title?: string })[];
  /** `contextualized`: documents of chunks; `rerank`: the documents. */
  documents?: string[][] | string[];
  /** `rerank`: the query and how many results to keep. */
  query?: string;
  topN?: number;
  inputType?: InputType;
  dimensions?: number;
  /** Default `float`; other types decode to `Int8Array` / `Uint8Array`. */
  outputType?: OutputType;
  truncate?: boolean;
  /** `batch`: the job's display name. */
  displayName?: string;
  providerOptions?: Record<string, Record<string, unknown>>;
  maxRetries?: number;
}

/** A recorded or constructed exchange, stored as JSON. Secrets are scrubbed before writing. */
export interface Cassette {
  /** Format version. */
  version: 1;
  name: string;
  /** `recorded` from the live API (scrubbed), or `constructed` from the provider's documented format. */
  source: 'recorded' | 'constructed';
  description?: string;
  recordedAt?: string;
  call: CassetteCall;
  /** The HTTP exchanges, in order. Each request body must equal what the provider sends, field by field. */
  interactions: CassetteInteraction[];
  /** What the call must produce. */
  expect: (
    | {
        embeddings: {
          count: number;
          dimensions: number;
          /** Leading values of each vector, checked to float32 precision. */
          prefixes?: number[][];
        };
        /** `null`: the API reports none, so usage must be absent. */
        usage: { inputTokens: number } | null;
      }
    | {
        /** `contextualized`: per document, its chunk count; every vector has `dimensions` values. */
        documents: { chunks: number[]; dimensions: number; prefixes?: number[][][] };
        usage: { inputTokens: number } | null;
      }
    | {
        /** `rerank`: the ranking, best first. */
        results: { index: number; relevanceScore: number }[];
        usage: { inputTokens: number } | null;
      }
    | { error: { name: string; code: string; statusCode?: number } }
  ) & {
    /**
     * The waits between interactions, in ms, as the injected clock measures them. Absent: derived from the
     * `retry-after` / `retry-after-ms` headers of the retried interactions, when each has one.
     */
    waitsMs?: number[];
  };
}

/** Whether an interaction lacks what the replay reads: its request's method and path, its response's status. */
function isBroken(value: unknown): boolean {
  const { request, response } = (value ?? {}) as Partial<CassetteInteraction>;
  return (
    typeof request?.method !== 'string' ||
    typeof request.path !== 'string' ||
    typeof response?.status !== 'number'
  );
}

const isText = (value: unknown) => typeof value === 'string';

/**
 * Whether an interaction's recorded request headers or auth, when present, are not of the format's shape.
 * A list of headers is a recorder's own form (undici's flat list, HAR's records), which the format has
 * always let through uncompared: it stays valid.
 */
function hasBrokenHeaders(value: unknown): boolean {
  const { headers, auth } = (value as Partial<CassetteInteraction>).request ?? {};
  const brokenHeaders =
    headers !== undefined &&
    !Array.isArray(headers) &&
    (typeof headers !== 'object' || headers === null || !Object.values(headers).every(isText));
  const brokenAuth =
    auth !== undefined &&
    (typeof auth !== 'object' ||
      auth === null ||
      !isText(auth.header) ||
      (auth.scheme !== undefined && !isText(auth.scheme)));
  return brokenHeaders || brokenAuth;
}

/**
 * The recorded headers as names and values: an object's entries, or a recorder's list's (`headerGroups`,
 * bytes read as text; `listedValue`). A flat list with a value missing cannot be paired, so a key may stand where a name should: when
 * one of its items (`listedHeaderNames`) names a header no recording keeps (`withheldHeader`), it is
 * refused with a message that names no item, and otherwise it has no names to check (uncompared, as any
 * list).
 */
function recordedHeaders(
  headers: object,
  where: string,
): [name: unknown, value: unknown][] | { refusal: string | undefined } {
  if (!Array.isArray(headers)) return Object.entries(headers);
  const items = headers.map(asText);
  const groups = headerGroups(items);
  if (Array.isArray(groups)) return groups.map((group) => [group.name, listedValue(group)]);
  return {
    refusal: listedHeaderNames(items).some((name) => withheldHeader(name) !== undefined)
      ? `${where} is a flat list of names and values with a value missing (item ${groups.unpairedAt} has none after it), and one of its items names a header that carries a credential or names the account (or is a credential itself): a cassette never holds its value, and which item is a name cannot be known. Remove that header and its value from ${where}`
      : undefined,
  };
}

/**
 * The first request header of an interaction that a cassette leaves out (`unrecordedRequestHeader`), as
 * `interactions[1].request.headers records user-agent, which …`, or undefined when it records none. A
 * credential (or account) header is refused in a recorder's list too: uncompared, its value still sits in
 * the file. The message names the header, never its value.
 */
function unrecordedHeader(value: unknown, index: number): string | undefined {
  const { headers } = (value as Partial<CassetteInteraction>).request ?? {};
  if (headers === undefined) return undefined;
  const list = Array.isArray(headers);
  const where = `interactions[${index}].request`;
  const recorded = recordedHeaders(headers, `${where}.headers`);
  if (!Array.isArray(recorded)) return recorded.refusal;
  const names = recorded.map(([name]) => name);
  const remove = `Remove it from ${where}.headers${list ? '' : ': the other headers are still compared'} (record mode never writes it)`;
  for (const name of names) {
    const withheld = withheldHeader(name);
    if (withheld === 'credential')
      return `${where}.headers records ${String(name)}, which carries a credential: a cassette never holds its value. Record the header by name and scheme in ${where}.auth instead ({ "header": "${String(name)}", "scheme": "Bearer" } for a Bearer key, no scheme for a key sent alone; the replay compares the key's header by presence and scheme) and remove it from ${where}.headers`;
    if (withheld === 'account')
      return `${where}.headers records ${String(name)}, which names the account: a cassette never holds its value. ${remove}`;
    // A list is a recorder's own form, never compared: the other headers it holds cannot fail a replay.
    const why = list || typeof name !== 'string' ? undefined : unrecordedRequestHeader(name);
    if (why !== undefined)
      // "Would fail" is not said: a value the caller fixed on purpose may well replay, but no recording
      // can count on it, and removing it stops only its own comparison.
      return `${where}.headers records ${name}, which a cassette leaves out: ${why}, so a replay cannot count on it. ${remove}`;
  }
  return undefined;
}

/**
 * The first response header of an interaction that no recording keeps, as `interactions[1].response.headers
 * records set-cookie, which …`, or undefined when it records none: one that carries a credential or names
 * the account, by the test `scrubCassette` drops response headers by (`withheldAnswerHeader`: a challenge
 * that holds no credential, `Bearer realm="api"`, is kept), in the format's
 * object or a recorder's list (`recordedHeaders`), where its value would sit in the file although no
 * recording keeps it. The message names the header, never its value.
 */
function withheldResponseHeader(value: unknown, index: number): string | undefined {
  const { headers } = (value as Partial<CassetteInteraction>).response ?? {};
  if (typeof headers !== 'object' || headers === null) return undefined;
  const where = `interactions[${index}].response.headers`;
  const recorded = recordedHeaders(headers, where);
  if (!Array.isArray(recorded)) return recorded.refusal;
  for (const [name, header] of recorded) {
    const withheld = withheldAnswerHeader(name, header);
    if (withheld !== undefined)
      return `${where} records ${String(name)}, which ${withheld === 'credential' ? 'carries a credential' : 'names the account'}: a cassette never holds its value (record mode and scrubCassette drop it). Remove it from ${where}`;
  }
  return undefined;
}

/**
 * Checks that `value` is a cassette of a format this package reads (version 1, a known source, the
 * call, at least one interaction, each with its request method and path and its response status and no
 * request header a cassette leaves out (`unrecordedRequestHeader`: those the transport adds or that change
 * with every request, and, in any form of the headers, those that carry a credential or name the account),
 * no response header that carries a credential or names the account (`withheldHeader`, as `scrubCassette`
 * drops them), an expectation) and returns it; anything else is an `InvalidArgumentError` naming `where`.
 */
export function checkCassette(value: unknown, where: string): Cassette {
  const cassette = value as Partial<Cassette> | null;
  // The replay reads each interaction's request method and path and its response status: without them a
  // cassette failed later, in the replay, with a TypeError that named no file.
  const broken = Array.isArray(cassette?.interactions) ? cassette.interactions.findIndex(isBroken) : -1;
  const brokenHeaders =
    broken < 0 && Array.isArray(cassette?.interactions)
      ? cassette.interactions.findIndex(hasBrokenHeaders)
      : -1;
  const unrecorded =
    broken < 0 && brokenHeaders < 0 && Array.isArray(cassette?.interactions)
      ? cassette.interactions
          .flatMap((interaction, index) => [
            unrecordedHeader(interaction, index),
            withheldResponseHeader(interaction, index),
          ])
          .find((text) => text !== undefined)
      : undefined;
  const problem =
    typeof cassette !== 'object' || cassette === null
      ? 'not a JSON object'
      : cassette.version !== 1
        ? `unknown cassette version ${String(cassette.version)}`
        : cassette.source !== 'recorded' && cassette.source !== 'constructed'
          ? 'source must be "recorded" or "constructed"'
          : typeof cassette.call?.modelId !== 'string' ||
              !(Array.isArray(cassette.call.inputs) || Array.isArray(cassette.call.documents))
            ? 'no call (its modelId, and its inputs or documents)'
            : !Array.isArray(cassette.interactions) || cassette.interactions.length === 0
              ? 'no interactions'
              : broken >= 0
                ? `interactions[${broken}] has no request method and path, or no response status`
                : brokenHeaders >= 0
                  ? `interactions[${brokenHeaders}].request.headers must be an object of header names and text values, and its auth a header name with an optional scheme`
                  : unrecorded !== undefined
                    ? unrecorded
                    : typeof cassette.expect !== 'object' || cassette.expect === null
                      ? 'no expect object (what the call must produce: its embeddings, documents, results or error)'
                      : undefined;
  if (problem !== undefined)
    throw new InvalidArgumentError(`${where}: ${problem}.`, { argument: 'cassette' });
  return cassette as Cassette;
}
