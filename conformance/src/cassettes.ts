import { strict as assert } from 'node:assert';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import {
  type BatchEmbeddingJobs,
  type ContextualizedEmbeddingModel,
  type EmbeddingModel,
  embedContextualized,
  embedMany,
  type RerankingModel,
  rerank,
} from '@embedkit/core';
import { type FetchFunction, redact } from '@embedkit/core/provider';
import {
  bodyDifferences,
  type CassetteInteraction,
  headerDifferences,
  lowerCaseHeaders,
  scrubCassette,
  unrecordedRequestHeader,
} from '@embedkit/replay';
import { cassetteFiles, readCassette } from '@embedkit/replay/node';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import { createFakeClock, expectWireKept, type FakeClock, fakeApiKey } from './harness.js';
import { createInterceptor, describeTarget, nameRequest, type TransportKind } from './interceptor.js';
import { arrayClassOf } from './suite/answers.js';
import { type AnyError, expectError } from './suite/checks.js';
import type { Scenario } from './suite/family.js';
import type { Cassette, CassetteCall, CreateModelOptions, WireProfile } from './types.js';

export { bodyDifferences, scrubCassette };

/**
 * Reads every `*.json` cassette in `directory`, sorted by file name, and checks its format. A relative
 * directory is resolved from the working directory; a missing one is an error that says where it looked.
 */
export function loadCassettes(directory: string): (Cassette & { file: string })[] {
  let files: string[];
  try {
    files = cassetteFiles(directory);
  } catch (error) {
    throw new Error(
      `cassettes: ${(error as Error).message}. Give the directory as an absolute path, e.g. fileURLToPath(new URL('./cassettes', import.meta.url)) in the test file.`,
      { cause: error },
    );
  }
  return files.map((file) => ({ ...readCassette(file), file }));
}

/** What replaying a group's cassettes needs: where the API lives, the provider's factory, and its wire. */
export interface CassetteSuite {
  name: string;
  baseURL: string;
  /** The group's cassette kind, for cassettes that do not name one. Default `embed`. */
  kind?: CassetteCall['kind'];
  createModel?(options: CreateModelOptions): unknown;
  createJobs?(options: CreateModelOptions): BatchEmbeddingJobs;
  /**
   * Decides the encoding of recorded answers (`encodingOf`, `encodingSwap`), when given; a recording
   * keeps the `requestIdHeader` of each answer.
   */
  wire?: Partial<Pick<WireProfile, 'encodingOf' | 'encodingSwap' | 'requestIdHeader'>>;
  cassettes?: Cassette[] | string;
}

/**
 * The waits the engine must make between the interactions: the cassette's own `waitsMs`, else those the
 * retried answers (429, 5xx) state in `retry-after-ms` / `retry-after` seconds, when every one states
 * one; undefined when they cannot be known (a backoff with jitter, a wait in the body).
 */
function expectedWaits(cassette: Cassette): number[] | undefined {
  if (cassette.expect.waitsMs !== undefined) return cassette.expect.waitsMs;
  if ((cassette.call.kind ?? 'embed') === 'batch') return undefined;
  const waits: number[] = [];
  for (const interaction of cassette.interactions.slice(0, -1)) {
    const { status, headers = {} } = interaction.response;
    if (status !== 429 && status < 500) continue;
    const milliseconds = Number.parseFloat(headers['retry-after-ms'] ?? '');
    const seconds = /^\d+$/.test(headers['retry-after'] ?? '')
      ? Number(headers['retry-after']) * 1_000
      : Number.NaN;
    const wait = Number.isFinite(milliseconds) ? milliseconds : seconds;
    if (!Number.isFinite(wait)) return undefined;
    waits.push(Math.min(wait, 60_000));
  }
  return waits;
}

function optionalSettings(call: CassetteCall) {
  return {
    ...(call.inputType === undefined ? {} : { inputType: call.inputType }),
    ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }),
    ...(call.outputType === undefined ? {} : { outputType: call.outputType }),
    ...(call.providerOptions === undefined ? {} : { providerOptions: call.providerOptions }),
  };
}

/**
 * Runs a cassette's call against the given model (or jobs) and returns what it produced: the one place
 * a call becomes a job, for replay and for recording alike, so a recording is made of the very
 * requests its replay will send. `clock`: the replay's fake one; a recording waits for real.
 */
async function runCall(
  suite: CassetteSuite,
  call: CassetteCall,
  target: unknown,
  clock?: FakeClock,
): Promise<unknown> {
  const kind = call.kind ?? suite.kind ?? 'embed';
  const common = { ...(clock === undefined ? {} : { clock }), maxRetries: call.maxRetries ?? 0 };
  if (kind === 'embed') {
    return embedMany({
      model: target as EmbeddingModel,
      inputs: call.inputs ?? [],
      ...common,
      ...optionalSettings(call),
      ...(call.truncate === undefined ? {} : { truncate: call.truncate }),
    });
  }
  if (kind === 'contextualized') {
    return embedContextualized({
      model: target as ContextualizedEmbeddingModel,
      documents: (call.documents ?? []) as string[][],
      ...common,
      ...optionalSettings(call),
    });
  }
  if (kind === 'rerank') {
    return rerank({
      model: target as RerankingModel,
      query: call.query ?? '',
      documents: (call.documents ?? []) as string[],
      ...common,
      ...(call.topN === undefined ? {} : { topN: call.topN }),
      ...(call.truncate === undefined ? {} : { truncate: call.truncate }),
      ...(call.providerOptions === undefined ? {} : { providerOptions: call.providerOptions }),
    });
  }
  const jobs = target as BatchEmbeddingJobs;
  const { outputType: _unused, ...settings } = optionalSettings(call);
  const job = await jobs.create({
    inputs: call.inputs ?? [],
    ...settings,
    ...(call.displayName === undefined ? {} : { displayName: call.displayName }),
  });
  await jobs.wait(job.id, { ...(clock === undefined ? {} : { clock }), pollIntervalMs: 1_000 });
  return jobs.results(job.id);
}

function checkVectors(
  vectors: readonly unknown[],
  dimensions: number,
  prefixes: number[][] | undefined,
  label: string,
  outputType: CassetteCall['outputType'],
) {
  const arrayClass = arrayClassOf(outputType ?? 'float');
  for (const [index, vector] of vectors.entries()) {
    const values = vector as Float32Array;
    assert.equal(values?.constructor?.name, arrayClass, `${label} ${index} is a ${arrayClass}`);
    assert.equal(values.length, dimensions, `${label} ${index} length`);
    for (const [position, value] of (prefixes?.[index] ?? []).entries()) {
      assert.ok(
        Math.abs(values[position]! - Math.fround(value)) <= 1e-6,
        `${label} ${index} value ${position} is ${values[position]}, expected ${value}`,
      );
    }
  }
}

function checkUsage(actual: unknown, expected: { inputTokens: number } | null): void {
  if (expected === null) assert.equal(actual, undefined, 'usage absent');
  else {
    const tokens = (actual as { inputTokens?: unknown } | undefined)?.inputTokens;
    assert.deepEqual(
      actual,
      expected,
      `usage differs from the recording: ${actual === undefined ? 'none' : String(tokens ?? JSON.stringify(actual))} vs ${expected.inputTokens}`,
    );
  }
}

/** How many differences a mismatch message names before it counts the rest. */
const SHOWN_DIFFERENCES = 3;
/** The longest a difference is shown: a recorded list of 1,000 inputs is not printed whole. */
const SHOWN_DIFFERENCE_LENGTH = 200;

/**
 * The differences of a request from its recording as a message shows them: the first few, each cut short
 * and with `secrets` redacted, then how many more there are.
 */
function describeDifferences(differences: readonly string[], secrets: readonly string[]): string {
  const shown = differences.slice(0, SHOWN_DIFFERENCES).map((difference) => {
    const text = redact(difference, secrets);
    return text.length <= SHOWN_DIFFERENCE_LENGTH ? text : `${text.slice(0, SHOWN_DIFFERENCE_LENGTH)}…`;
  });
  const more = differences.length - shown.length;
  return `${shown.join('; ')}${more === 0 ? '' : `; and ${more} more difference${more === 1 ? '' : 's'}`}`;
}

/** A path's query parameters as an object, each name's values joined with `, ` when it has more than one. */
function queryOf(search: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(search))
    query[name] = query[name] === undefined ? value : `${query[name]}, ${value}`;
  return query;
}

/**
 * How a request the cassette has no place for differs from the interaction recorded at its place (the
 * n-th request sent is the n-th recorded, as record mode writes them): its method, its path, each query
 * parameter. Undefined for a request past the last interaction, or for none.
 */
function strayMismatch(
  cassette: Cassette,
  stray: { number: number; method: string; target: string } | undefined,
  sent: number,
  secrets: readonly string[],
): string | undefined {
  const recorded = stray === undefined ? undefined : cassette.interactions[stray.number - 1]?.request;
  if (stray === undefined || recorded === undefined) return undefined;
  const split = (target: string) => {
    const at = target.indexOf('?');
    return at < 0 ? [target, ''] : [target.slice(0, at), target.slice(at + 1)];
  };
  const [recordedPath, recordedQuery] = split(recorded.path);
  const [sentPath, sentQuery] = split(stray.target);
  const differences = [
    ...bodyDifferences(recorded.method.toUpperCase(), stray.method, 'method'),
    ...bodyDifferences(recordedPath, sentPath, 'path'),
    ...bodyDifferences(queryOf(recordedQuery!), queryOf(sentQuery!), 'query', [], Number.POSITIVE_INFINITY),
  ];
  return redact(
    `${nameRequest(stray, sent)} differs from the cassette's interactions[${stray.number - 1}] (${describeTarget(recorded.method, recorded.path)}): ${describeDifferences(differences, secrets)}`,
    secrets,
  );
}

/**
 * Fails a replay whose call failed where the cassette expects a result, naming the cassette, its file
 * and the error (its cause). A cassette of retried answers that states no `maxRetries` is told so: its
 * replay retries nothing, so the first retried answer ended the call.
 */
function failedCall(cassette: Cassette & { file?: string }, error: Error, secrets: readonly string[]): never {
  const where = cassette.file === undefined ? '' : ` (${cassette.file})`;
  let message = `cassette "${cassette.name}"${where} expects a result, but the call failed: ${error.name}: ${error.message}`;
  const retried = cassette.interactions
    .slice(0, -1)
    .filter(({ response }) => response.status === 429 || response.status >= 500).length;
  if (cassette.call.maxRetries === undefined && retried > 0)
    message += `${message.endsWith('.') ? '' : '.'} A replay retries as often as the cassette's call.maxRetries says, and never without it: set "maxRetries": ${retried} in its call to replay the ${retried} retried answer${retried === 1 ? '' : 's'}`;
  throw Object.assign(new assert.AssertionError({ message: redact(message, secrets) }), { cause: error });
}

/**
 * Replays one cassette through one transport. Every request must match its recording field by field
 * (a vector encoding the wire profile can swap aside: a provider that asks for the other encoding gets
 * the recorded answer in it), and send the request headers it records (`headerDifferences`: the key's
 * header by presence and scheme only); the waits between interactions and the result must be what the
 * cassette says. A request that differs is named by its place among those sent (`request 3 of 5`) where
 * the transport tells it.
 */
export async function replayCassette(
  suite: CassetteSuite,
  cassette: Cassette & { file?: string },
  kind: TransportKind,
): Promise<void> {
  const interceptor = createInterceptor(kind, new URL(suite.baseURL).origin);
  const apiKey = fakeApiKey(suite.name);
  // Each request that differs from its recording: its number (when the transport tells it) and the rest
  // of its message, worded once every request has been sent and their count is known.
  const mismatches: { number: number | undefined; text: string }[] = [];
  const { wire } = suite;
  try {
    for (const [position, interaction] of cassette.interactions.entries()) {
      interceptor.expect(interaction.request.method, interaction.request.path, (request) => {
        let recorded = interaction.request.body;
        let answer = interaction.response.body;
        const asked =
          wire?.encodingOf === undefined || request.body === undefined
            ? undefined
            : wire.encodingOf(request.body);
        const swap = wire?.encodingSwap;
        if (
          asked !== undefined &&
          swap !== undefined &&
          recorded !== undefined &&
          wire!.encodingOf!(recorded) !== asked
        ) {
          // The wire profile decides the encoding: compare the rest, answer in the encoding asked.
          recorded = {
            ...(recorded as object),
            [swap.field]: (request.body as Record<string, unknown>)[swap.field],
          };
          if (interaction.response.status < 300) answer = swap.reencode(answer, asked);
        }
        // Every difference, so that the message can count those it does not show.
        const differences = [
          ...bodyDifferences(recorded, request.body, 'body', [], Number.POSITIVE_INFINITY, [apiKey]),
          ...headerDifferences(interaction.request, request.headers, [apiKey]),
        ];
        if (differences.length > 0) {
          const { method, path } = interaction.request;
          mismatches.push({
            number: request.number,
            text: `differs from the cassette's interactions[${position}] (${describeTarget(method, redact(path, [apiKey]))}): ${describeDifferences(differences, [apiKey])}`,
          });
          return { status: 418, body: { error: { message: 'cassette mismatch' } } };
        }
        return {
          status: interaction.response.status,
          headers: interaction.response.headers ?? {},
          body: answer,
        };
      });
    }
    const settings = {
      apiKey,
      baseURL: suite.baseURL,
      modelId: cassette.call.modelId,
      ...interceptor.transport,
    };
    const callKind = cassette.call.kind ?? suite.kind ?? 'embed';
    const target = callKind === 'batch' ? suite.createJobs?.(settings) : suite.createModel?.(settings);
    assert.ok(
      target !== undefined,
      `cassette "${cassette.name}" is a ${callKind} cassette; this suite cannot replay it`,
    );
    const clock = createFakeClock();
    const outcome = await runCall(suite, cassette.call, target, clock).then(
      (result) => ({ result: result as Record<string, unknown> }),
      (error: unknown) => ({ error: error as Error & { code?: string; statusCode?: number } }),
    );
    // A request the cassette does not hold (to another path, with another method or query) is compared
    // with the interaction recorded at its place; one too many is named as in every other scenario,
    // rather than left to show as the network error the mocks hand the provider.
    await interceptor.settled();
    const sent = interceptor.sent();
    if (interceptor.escaped() === undefined) {
      const stray = strayMismatch(cassette, interceptor.strays()[0], sent, [apiKey]);
      if (stray !== undefined) assert.fail(stray);
    }
    await expectWireKept(interceptor);
    if (mismatches.length > 0) {
      // The first request sent that differs: concurrent requests reach their recordings in any order.
      const [first] = [...mismatches].sort(
        (a, b) => (a.number ?? Number.POSITIVE_INFINITY) - (b.number ?? Number.POSITIVE_INFINITY),
      );
      const more = mismatches.length - 1;
      assert.fail(
        `${nameRequest(first!, sent)} ${first!.text}${more === 0 ? '' : `; ${more} more request${more === 1 ? ' differs' : 's differ'}`}`,
      );
    }
    const expected = cassette.expect;
    if ('error' in expected) {
      if (!('error' in outcome)) assert.fail('the call had to fail');
      expectError(outcome.error as AnyError, expected.error);
    } else {
      if ('error' in outcome) failedCall(cassette, outcome.error, [apiKey]);
      const { result } = outcome;
      if ('embeddings' in expected) {
        const embeddings = result.embeddings as unknown[];
        assert.equal(embeddings.length, expected.embeddings.count, 'vector count');
        checkVectors(
          embeddings,
          expected.embeddings.dimensions,
          expected.embeddings.prefixes,
          'vector',
          cassette.call.outputType,
        );
        if (callKind !== 'batch') checkUsage(result.usage, expected.usage);
      } else if ('documents' in expected) {
        const documents = result.embeddings as unknown[][];
        assert.deepEqual(
          documents.map((vectors) => vectors.length),
          expected.documents.chunks,
          'chunks per document',
        );
        for (const [document, vectors] of documents.entries()) {
          const prefixes = expected.documents.prefixes?.[document];
          checkVectors(
            vectors,
            expected.documents.dimensions,
            prefixes,
            `document ${document} chunk`,
            cassette.call.outputType,
          );
        }
        checkUsage(result.usage, expected.usage);
      } else {
        const results = (result.results as { index: number; relevanceScore: number }[]).map(
          ({ index, relevanceScore }) => ({ index, relevanceScore }),
        );
        assert.deepEqual(results, expected.results, 'the ranking');
        checkUsage(result.usage, expected.usage);
      }
    }
    const waits = expectedWaits(cassette);
    if (waits !== undefined) assert.deepEqual(clock.sleeps, waits, 'the waits between interactions');
    assert.deepEqual(interceptor.pending(), [], 'every interaction of the cassette was used');
  } finally {
    await interceptor.close();
  }
}

/**
 * Each cassette as a scenario, `cassette/<name>`, replayed through either transport. A failure of a
 * cassette read from a file names the file at the end of its first line, since the scenario names the
 * cassette by its `name`, which its file name need not be.
 */
export function cassetteScenarios(
  suite: CassetteSuite,
  cassettes: readonly (Cassette & { file?: string })[],
): Scenario[] {
  return cassettes.map((cassette) => ({
    id: `cassette/${cassette.name}`,
    run: async (kind) => {
      try {
        await replayCassette(suite, cassette, kind);
      } catch (error) {
        const { file } = cassette;
        if (file !== undefined && error instanceof Error && !error.message.includes(file)) {
          const at = error.message.indexOf('\n');
          error.message =
            at < 0
              ? `${error.message} (cassette file ${file})`
              : `${error.message.slice(0, at)} (cassette file ${file})${error.message.slice(at)}`;
        }
        throw error;
      }
    },
  }));
}

/** Response headers a recording keeps: the content type, the waits, the request id, the rate limits. */
const KEPT_HEADERS = new Set(['content-type', 'retry-after', 'retry-after-ms', 'x-request-id', 'request-id']);
const RATE_LIMIT_HEADER = /^x-ratelimit-/;

/**
 * The request headers a recording keeps of those sent (`sent`, lower-case names): every header but those
 * a cassette leaves out (`unrecordedRequestHeader`: those that carry a credential or name the account, the
 * transport's own, and those that change with every request), by value; and the one header that
 * carries `apiKey` by its name and scheme only (`authorization: Bearer <key>` as `{ header:
 * 'authorization', scheme: 'Bearer' }`), never the key. A key sent in more than one header, or inside
 * another form (base64 in `Basic`), is left unrecorded, and so is any value core's redaction would
 * change (the key in any form, a `Bearer` token of another service), whatever its header's name.
 */
function recordedRequestHeaders(
  sent: Readonly<Record<string, string>>,
  apiKey: string,
): Pick<CassetteInteraction['request'], 'headers' | 'auth'> {
  const headers: Record<string, string> = {};
  const carriers: { header: string; scheme?: string }[] = [];
  for (const [name, value] of Object.entries(sent)) {
    const scheme = value.endsWith(` ${apiKey}`) ? value.slice(0, -apiKey.length - 1) : undefined;
    if (value === apiKey) carriers.push({ header: name });
    else if (scheme !== undefined && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(scheme))
      carriers.push({ header: name, scheme });
    else if (unrecordedRequestHeader(name) === undefined && redact(value, [apiKey]) === value)
      headers[name] = value;
  }
  return {
    ...(Object.keys(headers).length === 0 ? {} : { headers: sortKeys(headers) as Record<string, string> }),
    ...(carriers.length === 1 ? { auth: carriers[0]! } : {}),
  };
}

/** A JSON value with the keys of every object sorted: a recording does not change with the provider's key order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The text of a request body as a provider hands it to `fetch`. */
async function requestText(body: RequestInit['body']): Promise<string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  return new Response(body).text();
}

function parseText(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // A non-JSON body is kept as text.
    return text;
  }
}

const leading = (vector: ArrayLike<number>) => Array.from(vector).slice(0, 4);

/** What a cassette must then produce: the result of the recorded call, as its replay will check it. */
function expectationOf(kind: CassetteCall['kind'], result: Record<string, unknown>): Cassette['expect'] {
  const usage = (result.usage as { inputTokens: number } | undefined) ?? null;
  if (kind === 'contextualized') {
    const documents = result.embeddings as ArrayLike<number>[][];
    return {
      documents: {
        chunks: documents.map((vectors) => vectors.length),
        dimensions: documents[0]?.[0]?.length ?? 0,
        prefixes: documents.map((vectors) => vectors.map(leading)),
      },
      usage,
    };
  }
  if (kind === 'rerank') {
    const results = result.results as { index: number; relevanceScore: number }[];
    return { results: results.map(({ index, relevanceScore }) => ({ index, relevanceScore })), usage };
  }
  const vectors = result.embeddings as ArrayLike<number>[];
  return {
    embeddings: {
      count: vectors.length,
      dimensions: vectors[0]?.length ?? 0,
      prefixes: vectors.map(leading),
    },
    usage,
  };
}

/** Whether two cassettes hold the same exchanges and expectation (the key order aside). */
function sameRecording(a: Cassette, b: Cassette): boolean {
  const part = (cassette: Cassette) =>
    JSON.stringify(sortKeys({ interactions: cassette.interactions, expect: cassette.expect }));
  return part(a) === part(b);
}

/** Writes `text` to `file` through a temporary file renamed over it, so a failed write leaves the old one whole. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.recording`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Whether record mode re-records this cassette: one of successful answers (every status below 300) that
 * expects a result. The others (errors, waits, retries, bisection) hold answers a live API gives only on
 * its own terms, so record mode replays them as usual.
 */
export function recordable(cassette: Cassette): boolean {
  return !('error' in cassette.expect) && cassette.interactions.every((item) => item.response.status < 300);
}

/**
 * Record mode: runs the cassette's call (the same job its replay runs) against the live API with a real
 * key, and writes the exchanges back scrubbed, `source: "recorded"`, in the order the requests were
 * sent, request body keys sorted, with the request headers a replay compares (`recordedRequestHeaders`:
 * no credential, the key's header by name and scheme only). It fails, leaving the file as it was, when the call's outcome is not
 * the one the cassette expects (a failure where a result is expected, another error than the one
 * expected), or when the fresh recording does not replay. `recordedAt` changes only when the exchanges
 * or the expectation do. Without a `file` the recording is returned, not written. Requests go through
 * undici's own `fetch` with an agent of their own (proxy variables honoured), which no mock patches,
 * unless `fetchFunction` is given.
 */
export async function recordCassette(
  suite: CassetteSuite,
  cassette: Cassette & { file?: string },
  apiKey: string,
  fetchFunction?: FetchFunction,
): Promise<Cassette> {
  const { file, ...original } = cassette;
  const agent = fetchFunction === undefined ? new EnvHttpProxyAgent() : undefined;
  const live: FetchFunction =
    fetchFunction ??
    ((input, init) =>
      undiciFetch(input, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>);
  const keep = new Set(KEPT_HEADERS);
  if (suite.wire?.requestIdHeader !== undefined) keep.add(suite.wire.requestIdHeader.toLowerCase());
  // One slot per request, taken when it is sent: the replay answers the n-th request with the n-th
  // interaction, whatever order concurrent answers arrive in.
  const slots: (CassetteInteraction | undefined)[] = [];
  const recordingFetch: FetchFunction = async (input, init) => {
    const slot = slots.push(undefined) - 1;
    const url = new URL(input);
    const sent = await requestText(init.body ?? undefined);
    const response = await live(input, init);
    const text = await response.clone().text();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      const lower = name.toLowerCase();
      if (keep.has(lower) || RATE_LIMIT_HEADER.test(lower)) headers[lower] = value;
    });
    const body = parseText(sent);
    slots[slot] = {
      request: {
        method: (init.method ?? 'GET').toUpperCase(),
        path: `${url.pathname}${url.search}`,
        ...(body === undefined ? {} : { body: sortKeys(body) }),
        ...recordedRequestHeaders(lowerCaseHeaders(init.headers), apiKey),
      },
      response: { status: response.status, headers, body: parseText(text) ?? '' },
    };
    return response;
  };
  const kind = original.call.kind ?? suite.kind ?? 'embed';
  const settings: CreateModelOptions = {
    modelId: original.call.modelId,
    apiKey,
    baseURL: suite.baseURL,
    fetch: recordingFetch,
  };
  const where = file === undefined ? '' : `; ${file} was left as it was`;
  let outcome:
    | { result: Record<string, unknown> }
    | { error: Error & { code?: string; statusCode?: number } };
  try {
    const target = kind === 'batch' ? suite.createJobs?.(settings) : suite.createModel?.(settings);
    if (target === undefined)
      throw new Error(`cassette "${original.name}" is a ${kind} cassette; this suite cannot record it`);
    outcome = await runCall(suite, original.call, target).then(
      (result) => ({ result: result as Record<string, unknown> }),
      (error: unknown) => ({ error: error as Error & { code?: string; statusCode?: number } }),
    );
  } finally {
    await agent?.close();
  }
  const expected = original.expect;
  let expect: Cassette['expect'];
  if ('error' in expected) {
    const failed = 'error' in outcome ? outcome.error : undefined;
    if (failed?.name !== expected.error.name || failed.code !== expected.error.code)
      throw new Error(
        `recording cassette "${original.name}": the cassette expects ${expected.error.name} (${expected.error.code}), the live call ${failed === undefined ? 'succeeded' : `failed with ${failed.name} (${failed.code}): ${failed.message}`}${where}`,
        { cause: failed },
      );
    expect = {
      error: {
        ...expected.error,
        ...(failed.statusCode === undefined ? {} : { statusCode: failed.statusCode }),
      },
    };
  } else {
    if ('error' in outcome)
      throw new Error(
        `recording cassette "${original.name}" failed: ${outcome.error.name}: ${outcome.error.message}${where}`,
        { cause: outcome.error },
      );
    expect = expectationOf(kind, outcome.result);
  }
  const interactions = slots.filter((slot): slot is CassetteInteraction => slot !== undefined);
  if (interactions.length === 0)
    throw new Error(`recording cassette "${original.name}": the call sent no request${where}`);
  const { recordedAt, call, ...head } = original;
  const fresh = scrubCassette(
    {
      ...head,
      source: 'recorded',
      call,
      interactions,
      expect,
    },
    [apiKey],
  );
  const unchanged =
    original.source === 'recorded' && recordedAt !== undefined && sameRecording(original, fresh);
  const { call: scrubbedCall, interactions: scrubbedInteractions, expect: scrubbedExpect, ...rest } = fresh;
  const recorded: Cassette = {
    ...rest,
    recordedAt: unchanged ? recordedAt! : new Date().toISOString(),
    call: scrubbedCall,
    interactions: scrubbedInteractions,
    expect: scrubbedExpect,
  };
  try {
    await replayCassette(suite, recorded, 'undici');
  } catch (error) {
    throw new Error(
      `recording cassette "${original.name}": the fresh recording does not replay (${(error as Error).message})${where}`,
      { cause: error },
    );
  }
  if (file !== undefined) writeAtomically(file, `${JSON.stringify(recorded, null, 2)}\n`);
  return recorded;
}
