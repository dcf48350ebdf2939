import { refuseUnknownSettings, type SettingNames } from '@embedkit/core/provider';
import type { Cassette, CassetteCall, CassetteInteraction } from './cassette.js';
import { bodyDifferences, headerDifferences } from './differences.js';
import { lowerCaseHeaders } from './headers.js';

/** A request the recordings had no answer for. */
export interface ReplayMismatch {
  method: string;
  /** Path and query, e.g. `/v1/embeddings`. */
  path: string;
  /** The request body, parsed as JSON when it is JSON. */
  body: unknown;
  /** Where the request was sent, when it is not the origin the recordings are served for. */
  origin?: string;
  /**
   * An unused recording of the same method, path and body whose query differs (the provider began or
   * stopped sending a parameter after it was recorded): its cassette and its recorded path.
   */
  queryDiffers?: { cassette: string; path: string };
  /**
   * The unused recording of the same method and path whose body came closest, and how the request's
   * body differs from it, field by field (`body.input[0]: recorded "cat", sent "cow"`).
   */
  closest?: { cassette: string; differences: string[] };
  /**
   * The unused recording of the same method, path and body whose recorded request headers the request's
   * differ from, and how, header by header (`header content-type: recorded "application/json", sent
   * "text/plain"`; the key's header by presence and scheme only).
   */
  headersDiffer?: { cassette: string; differences: string[] };
  /**
   * Set when no recording, used or not, is of the request's method and path (its query aside): every
   * recorded `METHOD path`, once each, in order. The body was not compared: it is the path that differs,
   * as when a base URL (a gateway's root) puts a prefix before the recorded path.
   */
  pathDiffers?: { recorded: string[] };
}

/** One answer of the replay: a recorded response, or the refusal of a request no recording matches. */
export interface ReplayAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body as sent on the wire. */
  body: string;
}

/** A request as the matcher sees it: its body as sent on the wire. */
export interface ReplayRequest {
  method: string;
  /** Path and query, e.g. `/v1/embeddings?api-version=1`. */
  path: string;
  body: string | undefined;
  /** Where it was sent (`https://api.openai.com`); checked when the matcher serves one origin. */
  origin?: string;
  /**
   * Its headers, lower-case names (see `lowerCaseHeaders`), compared with those an interaction records;
   * absent: none are compared.
   */
  headers?: Record<string, string>;
}

/**
 * The matching every replay adapter shares: a request is answered by the first interaction not yet
 * used whose method, path (query parameters in any order) and JSON body (keys in any order) equal the
 * request's, and whose recorded request headers, if it records any, the request sends (`headerDifferences`). Any other request is refused with a 418 that says no recording matches and how the
 * closest one differs, and is remembered in `mismatches`.
 */
export interface ReplayMatcher {
  answer(request: ReplayRequest): ReplayAnswer;
  /** Interactions no request used, as `METHOD path (cassette "name")`. */
  pending(): string[];
  /** Requests no recording matched, in order. */
  readonly mismatches: ReplayMismatch[];
}

/** Options of a replay. */
export interface ReplayOptions {
  /**
   * The API the recordings answer for, e.g. `https://api.openai.com/v1`: a request to another origin is a
   * mismatch. Without it (`createReplayFetch` only), the host of a request is not looked at.
   */
  baseURL?: string;
}

const REPLAY_OPTIONS: SettingNames<ReplayOptions> = { baseURL: true };

/** JSON with object keys sorted, so that two bodies compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** A path with its query parameters sorted: two paths that differ only in parameter order are the same. */
function canonicalPath(path: string): string {
  const at = path.indexOf('?');
  if (at < 0) return path;
  const query = new URLSearchParams(path.slice(at + 1));
  query.sort();
  const rest = query.toString();
  return rest === '' ? path.slice(0, at) : `${path.slice(0, at)}?${rest}`;
}

const pathname = (path: string) => path.split('?')[0]!;

function parseBody(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface Entry {
  cassette: string;
  interaction: CassetteInteraction;
  method: string;
  path: string;
  body: string;
  used: boolean;
}

/** The unused recording of the same method, path and body as a request, but another query. */
function queryOnlyMiss(
  unused: readonly Entry[],
  path: string,
  body: string,
): { cassette: string; path: string } | undefined {
  const entry = unused.find(
    (candidate) => candidate.body === body && pathname(candidate.path) === pathname(path),
  );
  return entry === undefined ? undefined : { cassette: entry.cassette, path: entry.interaction.request.path };
}

/** The unused recording of the same path whose body differs from the request's in the fewest fields. */
function closestMiss(
  unused: readonly Entry[],
  path: string,
  body: unknown,
): { cassette: string; differences: string[]; of: number } | undefined {
  const samePath = unused.filter((entry) => entry.path === path);
  let best: { cassette: string; differences: string[]; of: number } | undefined;
  for (const entry of samePath) {
    const differences = bodyDifferences(entry.interaction.request.body, body);
    if (best === undefined || differences.length < best.differences.length)
      best = { cassette: entry.cassette, differences, of: samePath.length };
  }
  return best;
}

/**
 * How the closest unused recordings differ from a refused request, as the end of a sentence: one that
 * differs only in its query, else the recording of its path whose body comes closest, field by field;
 * empty when none is that close.
 */
function nearMissText(mismatch: ReplayMismatch, unusedOfPath: number): string {
  const { queryDiffers, closest } = mismatch;
  if (queryDiffers !== undefined)
    return `; cassette "${queryDiffers.cassette}" has it with the path ${queryDiffers.path}: the query differs`;
  if (closest === undefined) return '';
  const others =
    unusedOfPath === 1
      ? 'the unused recording of this path'
      : `the closest of the ${unusedOfPath} unused recordings of this path`;
  return `; ${others} (cassette "${closest.cassette}") differs in ${closest.differences.join('; ')}`;
}

/** The recorded headers, names lower-cased, with a JSON content type when the recording names none. */
function answerHeaders(recorded: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(recorded ?? {})) headers[name.toLowerCase()] = value;
  headers['content-type'] ??= 'application/json';
  return headers;
}

/** What to do about a request that differs from its recording (its body, its headers): the default advice. */
const RECORD_OR_FIX = 'record the cassette again if the request is meant to differ, or fix the request';

/** What to do about a request sent where no recording is (another path, another origin). */
const CHECK_BASE_URL = 'check the base URL the requests go to';

/**
 * A refusal: 418 is no status an API sends, so the call fails at once (it is not retried) and cannot be
 * mistaken for an API answer. Its message says how the request differs from the recordings, then what to
 * do, as the one piece of advice the error carries (core adds no hint of its own to a 418).
 */
function refusal(message: string, advice = RECORD_OR_FIX): ReplayAnswer {
  return {
    status: 418,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { message: `${message} — ${advice}.` } }),
  };
}

/** Builds the matcher over every interaction of `cassettes`, in order. */
export function createReplayMatcher(
  cassettes: readonly Cassette[],
  options: ReplayOptions = {},
): ReplayMatcher {
  refuseUnknownSettings(options, REPLAY_OPTIONS, 'createReplayMatcher', { noun: 'option' });
  const origin = options.baseURL === undefined ? undefined : new URL(options.baseURL).origin;
  const entries: Entry[] = cassettes.flatMap((cassette) =>
    cassette.interactions.map((interaction) => ({
      cassette: cassette.name,
      interaction,
      method: interaction.request.method.toUpperCase(),
      path: canonicalPath(interaction.request.path),
      // JSON has no `undefined`: a recorder writes a request without a body as `null` (the body of a
      // bodiless fetch `Request`) as often as it leaves the field out, and both mean no body.
      body: canonical(interaction.request.body ?? undefined),
      used: false,
    })),
  );
  const mismatches: ReplayMismatch[] = [];
  return {
    mismatches,
    answer(request) {
      const method = request.method.toUpperCase();
      const body = parseBody(request.body);
      if (origin !== undefined && request.origin !== undefined && request.origin !== origin) {
        mismatches.push({ method, path: request.path, body, origin: request.origin });
        return refusal(
          `no recording matches ${method} ${request.origin}${request.path}: the recordings answer ${origin}`,
          `${CHECK_BASE_URL}, or record them at this origin`,
        );
      }
      const key = canonical(body ?? undefined);
      const path = canonicalPath(request.path);
      const same = entries.filter(
        (candidate) =>
          !candidate.used && candidate.method === method && candidate.path === path && candidate.body === key,
      );
      const sentHeaders = request.headers;
      const entry =
        sentHeaders === undefined
          ? same[0]
          : same.find(
              (candidate) => headerDifferences(candidate.interaction.request, sentHeaders).length === 0,
            );
      if (entry === undefined && same[0] !== undefined && sentHeaders !== undefined) {
        const headersDiffer = {
          cassette: same[0].cassette,
          differences: headerDifferences(same[0].interaction.request, sentHeaders),
        };
        mismatches.push({ method, path: request.path, body, headersDiffer });
        return refusal(
          `no recording matches ${method} ${request.path} with these headers; cassette "${headersDiffer.cassette}" has it with other headers: ${headersDiffer.differences.join('; ')}`,
        );
      }
      if (
        entry === undefined &&
        !entries.some(
          (candidate) => candidate.method === method && pathname(candidate.path) === pathname(path),
        )
      ) {
        const recorded = [
          ...new Set(entries.map((candidate) => `${candidate.method} ${candidate.interaction.request.path}`)),
        ];
        mismatches.push({ method, path: request.path, body, pathDiffers: { recorded } });
        const notCompared = `no recording matches ${method} ${request.path}: no recording is of this method and path, so the body was not compared`;
        return recorded.length === 0
          ? refusal(`${notCompared}; there are no recordings`, 'record a cassette first')
          : refusal(
              `${notCompared}; the recordings are of ${recorded.join(', ')}`,
              `${CHECK_BASE_URL}, or record this path`,
            );
      }
      if (entry === undefined) {
        const unused = entries.filter((candidate) => !candidate.used && candidate.method === method);
        const queryDiffers = queryOnlyMiss(unused, path, key);
        const closest = queryDiffers === undefined ? closestMiss(unused, path, body) : undefined;
        const mismatch: ReplayMismatch = {
          method,
          path: request.path,
          body,
          ...(queryDiffers === undefined ? {} : { queryDiffers }),
          ...(closest === undefined
            ? {}
            : { closest: { cassette: closest.cassette, differences: closest.differences } }),
        };
        mismatches.push(mismatch);
        return refusal(
          `no recording matches ${method} ${request.path} with this body${nearMissText(mismatch, closest?.of ?? 0)}`,
          queryDiffers === undefined ? RECORD_OR_FIX : 'record it again, or write the path as it is sent now',
        );
      }
      entry.used = true;
      const { response } = entry.interaction;
      return {
        status: response.status,
        headers: answerHeaders(response.headers),
        body: typeof response.body === 'string' ? response.body : JSON.stringify(response.body),
      };
    },
    pending: () =>
      entries
        .filter((entry) => !entry.used)
        .map(
          (entry) =>
            `${entry.interaction.request.method} ${entry.interaction.request.path} (cassette "${entry.cassette}")`,
        ),
  };
}

/** A `fetch` that answers from recordings; pass it as a provider's `fetch` setting. */
export interface ReplayFetch {
  /** Takes what `fetch` takes: a URL (string or `URL`) or a `Request`, and a body of any kind. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Interactions no request used. */
  pending(): string[];
  /** Requests no recording matched, in order. */
  readonly mismatches: ReplayMismatch[];
}

/** The text of a request body of any kind `fetch` takes (string, bytes, Blob, stream, form). */
async function bodyText(body: RequestInit['body'] | undefined): Promise<string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  return new Response(body).text();
}

/**
 * Serves `cassettes` through a `fetch` that never reaches the network: it runs wherever `fetch` and
 * `Response` exist (Node, browsers, workers, edge runtimes, Bun, Deno). Requests are matched by method,
 * path, JSON body and the request headers a recording holds; with `baseURL`, a request to another origin is a mismatch too (as it is for
 * `createReplayDispatcher`), without it the host is not looked at.
 */
export function createReplayFetch(cassettes: readonly Cassette[], options: ReplayOptions = {}): ReplayFetch {
  refuseUnknownSettings(options, REPLAY_OPTIONS, 'createReplayFetch', { noun: 'option' });
  const matcher = createReplayMatcher(cassettes, options);
  return {
    mismatches: matcher.mismatches,
    pending: matcher.pending,
    async fetch(input, init = {}) {
      const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
      const signal = init.signal ?? request?.signal;
      signal?.throwIfAborted();
      const url = new URL(request?.url ?? String(input));
      const body =
        init.body !== undefined && init.body !== null
          ? await bodyText(init.body)
          : request?.body == null
            ? undefined
            : await request.clone().text();
      const answer = matcher.answer({
        method: init.method ?? request?.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        body,
        origin: url.origin,
        headers: lowerCaseHeaders(init.headers ?? request?.headers),
      });
      // A Response of a null-body status (a recorded 204, say) takes no body at all, not even an empty one.
      return new Response(NULL_BODY_STATUSES.has(answer.status) ? null : answer.body, {
        status: answer.status,
        headers: answer.headers,
      });
    },
  };
}

/** Statuses whose answers have no body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Every input the cassettes were recorded with, each with its cassette's name and model: the inputs of
 * an `embed` or `batch` call, and the documents (and a rerank's query) of a `contextualized` or `rerank`
 * call, which has no inputs.
 */
export function recordedInputs(cassettes: readonly Cassette[]): ({
  cassette: string;
  modelId: string;
} & Pick<CassetteCall, 'inputs' | 'documents' | 'query'>)[] {
  return cassettes.map(({ name, call }) => ({
    cassette: name,
    modelId: call.modelId,
    inputs: call.inputs,
    ...(call.documents === undefined ? {} : { documents: call.documents }),
    ...(call.query === undefined ? {} : { query: call.query }),
  }));
}
