import type { FetchFunction } from '@embedkit/core/provider';
import type { Cassette, CassetteInteraction } from './cassette.js';

/** A request the recordings had no answer for. */
export interface ReplayMismatch {
  method: string;
  /** Path and query, e.g. `/v1/embeddings`. */
  path: string;
  /** The request body, parsed as JSON when it is JSON. */
  body: unknown;
  /**
   * An unused recording of the same method, path and body whose query differs (the provider began or
   * stopped sending a parameter after it was recorded): its cassette and its recorded path.
   */
  queryDiffers?: { cassette: string; path: string };
}

/** One answer of the replay: a recorded response, or the refusal of a request no recording matches. */
export interface ReplayAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body as sent on the wire. */
  body: string;
}

/**
 * The matching every replay adapter shares: a request is answered by the first interaction not yet
 * used whose method, path and JSON body equal the request's. Any other request is refused with a 418
 * that says no recording matches, and is remembered in `mismatches`.
 */
export interface ReplayMatcher {
  answer(request: { method: string; path: string; body: string | undefined }): ReplayAnswer;
  /** Interactions no request used, as `METHOD path (cassette "name")`. */
  pending(): string[];
  /** Requests no recording matched, in order. */
  readonly mismatches: ReplayMismatch[];
}

/** JSON with object keys sorted, so that two bodies compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

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
  body: string;
  used: boolean;
}

/** The unused recording of the same method, path and body as a request, but another query. */
function queryOnlyMiss(
  unused: readonly Entry[],
  path: string,
  body: string,
): { cassette: string; path: string } | undefined {
  const pathname = (value: string) => value.split('?')[0];
  const entry = unused.find(
    (candidate) => candidate.body === body && pathname(candidate.interaction.request.path) === pathname(path),
  );
  return entry === undefined ? undefined : { cassette: entry.cassette, path: entry.interaction.request.path };
}

/**
 * How the closest unused recordings differ from a refused request, as the end of a sentence: one that
 * differs only in its query, else how many of its path have other bodies; empty when none is that close.
 */
function nearMissText(
  queryOnly: ReplayMismatch['queryDiffers'],
  unused: readonly Entry[],
  path: string,
): string {
  if (queryOnly !== undefined)
    return `; cassette "${queryOnly.cassette}" has it with the path ${queryOnly.path}: the query differs (record it again, or write the path as it is sent now)`;
  const samePath = unused.filter((entry) => entry.interaction.request.path === path).length;
  if (samePath === 0) return '';
  return `; ${samePath} unused recording${samePath === 1 ? '' : 's'} of this path ${samePath === 1 ? 'has' : 'have'} another body`;
}

/** Builds the matcher over every interaction of `cassettes`, in order. */
export function createReplayMatcher(cassettes: readonly Cassette[]): ReplayMatcher {
  const entries: Entry[] = cassettes.flatMap((cassette) =>
    cassette.interactions.map((interaction) => ({
      cassette: cassette.name,
      interaction,
      body: canonical(interaction.request.body),
      used: false,
    })),
  );
  const mismatches: ReplayMismatch[] = [];
  return {
    mismatches,
    answer(request) {
      const method = request.method.toUpperCase();
      const body = parseBody(request.body);
      const key = canonical(body);
      const entry = entries.find(
        (candidate) =>
          !candidate.used &&
          candidate.interaction.request.method.toUpperCase() === method &&
          candidate.interaction.request.path === request.path &&
          candidate.body === key,
      );
      if (entry === undefined) {
        const unused = entries.filter(
          (candidate) => !candidate.used && candidate.interaction.request.method.toUpperCase() === method,
        );
        const queryDiffers = queryOnlyMiss(unused, request.path, key);
        mismatches.push({
          method,
          path: request.path,
          body,
          ...(queryDiffers === undefined ? {} : { queryDiffers }),
        });
        return {
          // 418 is no status an API sends: the call fails at once (it is not retried) and cannot be mistaken for an API answer.
          status: 418,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            error: {
              message: `no recording matches ${method} ${request.path} with this body${nearMissText(queryDiffers, unused, request.path)}`,
            },
          }),
        };
      }
      entry.used = true;
      const { response } = entry.interaction;
      return {
        status: response.status,
        headers: { 'content-type': 'application/json', ...response.headers },
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
  fetch: FetchFunction;
  /** Interactions no request used. */
  pending(): string[];
  /** Requests no recording matched, in order. */
  readonly mismatches: ReplayMismatch[];
}

/**
 * Serves `cassettes` through a `fetch` that never reaches the network: it runs wherever `fetch` and
 * `Response` exist (Node, browsers, workers, edge runtimes, Bun, Deno). Requests are matched by method,
 * path and JSON body, whatever host they were sent to.
 */
export function createReplayFetch(cassettes: readonly Cassette[]): ReplayFetch {
  const matcher = createReplayMatcher(cassettes);
  return {
    mismatches: matcher.mismatches,
    pending: matcher.pending,
    async fetch(input, init) {
      init.signal?.throwIfAborted();
      const url = new URL(input);
      const answer = matcher.answer({
        method: init.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        body: typeof init.body === 'string' ? init.body : undefined,
      });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  };
}

/** Every input the cassettes were recorded with, each with its cassette's name and model. */
export function recordedInputs(
  cassettes: readonly Cassette[],
): { cassette: string; modelId: string; inputs: Cassette['call']['inputs'] }[] {
  return cassettes.map((cassette) => ({
    cassette: cassette.name,
    modelId: cassette.call.modelId,
    inputs: cassette.call.inputs,
  }));
}
