import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import {
  type BatchEmbeddingJobs,
  type ContextualizedEmbeddingModel,
  type EmbeddingModel,
  embedContextualized,
  embedMany,
  type RerankingModel,
  rerank,
} from '@embedkit/core';
import type { FetchFunction } from '@embedkit/core/provider';
import { scrubCassette } from '@embedkit/replay';
import { cassetteFiles, readCassette } from '@embedkit/replay/node';
import { createFakeClock, type FakeClock, fakeApiKey } from './harness.js';
import { createInterceptor, type TransportKind } from './interceptor.js';
import { arrayClassOf } from './suite/answers.js';
import type { Scenario } from './suite/family.js';
import type {
  Cassette,
  CassetteCall,
  CreateModelOptions,
  DescribeEmbeddingProviderOptions,
  WireProfile,
} from './types.js';

export { scrubCassette };

/** Reads every `*.json` cassette in `directory`, sorted by file name, and checks its format. */
export function loadCassettes(directory: string): (Cassette & { file: string })[] {
  return cassetteFiles(directory).map((file) => ({ ...readCassette(file), file }));
}

/** What replaying a group's cassettes needs: where the API lives, the provider's factory, and its wire. */
export interface CassetteSuite {
  name: string;
  baseURL: string;
  /** The group's cassette kind, for cassettes that do not name one. Default `embed`. */
  kind?: CassetteCall['kind'];
  createModel?(options: CreateModelOptions): unknown;
  createJobs?(options: CreateModelOptions): BatchEmbeddingJobs;
  /** Decides the encoding of recorded answers (`encodingOf`, `encodingSwap`), when given. */
  wire?: Partial<Pick<WireProfile, 'encodingOf' | 'encodingSwap'>>;
  cassettes?: Cassette[] | string;
}

const describeValue = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value));

/** The differences between a recorded request body and the one sent, field by field and item by item. */
export function bodyDifferences(
  expected: unknown,
  actual: unknown,
  path = 'body',
  out: string[] = [],
): string[] {
  if (out.length >= 10) return out;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length)
      out.push(`${path}: ${expected.length} items recorded, ${actual.length} sent`);
    for (let index = 0; index < Math.min(expected.length, actual.length); index++)
      bodyDifferences(expected[index], actual[index], `${path}[${index}]`, out);
    return out;
  }
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isObject(expected) && isObject(actual)) {
    const recorded = expected as Record<string, unknown>;
    const sent = actual as Record<string, unknown>;
    for (const key of new Set([...Object.keys(recorded), ...Object.keys(sent)]))
      bodyDifferences(recorded[key], sent[key], `${path}.${key}`, out);
    return out;
  }
  if (!Object.is(expected, actual) && JSON.stringify(expected) !== JSON.stringify(actual))
    out.push(`${path}: recorded ${describeValue(expected)}, sent ${describeValue(actual)}`);
  return out;
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

/** Runs a cassette's call against the given model (or jobs) and returns what it produced. */
async function runCall(
  suite: CassetteSuite,
  call: CassetteCall,
  target: unknown,
  clock: FakeClock,
): Promise<unknown> {
  const kind = call.kind ?? suite.kind ?? 'embed';
  const common = { clock, maxRetries: call.maxRetries ?? 0 };
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
  await jobs.wait(job.id, { clock, pollIntervalMs: 1_000 });
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
  else assert.deepEqual(actual, expected);
}

/**
 * Replays one cassette through one transport. Every request must match its recording field by field
 * (a vector encoding the wire profile can swap aside: a provider that asks for the other encoding gets
 * the recorded answer in it); the waits between interactions and the result must be what the cassette says.
 */
export async function replayCassette(
  suite: CassetteSuite,
  cassette: Cassette,
  kind: TransportKind,
): Promise<void> {
  const interceptor = createInterceptor(kind, new URL(suite.baseURL).origin);
  const mismatches: string[] = [];
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
        const differences = bodyDifferences(recorded, request.body);
        if (differences.length > 0) {
          mismatches.push(`request ${position} differs from the cassette: ${differences.join('; ')}`);
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
      apiKey: fakeApiKey(suite.name),
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
    assert.deepEqual(mismatches, [], 'every request matches the cassette');
    const expected = cassette.expect;
    if ('error' in expected) {
      if (!('error' in outcome)) assert.fail('the call had to fail');
      assert.equal(outcome.error.name, expected.error.name, String(outcome.error.message));
      assert.equal(outcome.error.code, expected.error.code);
      if (expected.error.statusCode !== undefined)
        assert.equal(outcome.error.statusCode, expected.error.statusCode);
    } else {
      if ('error' in outcome) throw outcome.error;
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

/** Each cassette as a scenario, `cassette/<name>`, replayed through either transport. */
export function cassetteScenarios(suite: CassetteSuite, cassettes: readonly Cassette[]): Scenario[] {
  return cassettes.map((cassette) => ({
    id: `cassette/${cassette.name}`,
    run: (kind) => replayCassette(suite, cassette, kind),
  }));
}

/**
 * Record mode: runs the cassette's call against the live API with a real key and writes the scrubbed
 * exchanges back (source "recorded"). Only with `EMBEDKIT_RECORD=1`.
 */
export async function recordCassette(
  options: DescribeEmbeddingProviderOptions,
  cassette: Cassette & { file?: string },
  apiKey: string,
  fetchFunction: FetchFunction = (input, init) => globalThis.fetch(input, init),
): Promise<Cassette> {
  const interactions: Cassette['interactions'] = [];
  const recordingFetch: FetchFunction = async (input, init) => {
    const response = await fetchFunction(input, init);
    const text = await response.clone().text();
    const url = new URL(input);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // A non-JSON body is kept as text.
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'retry-after', 'retry-after-ms', 'x-request-id', 'request-id']) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    interactions.push({
      request: {
        method: init.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      },
      response: { status: response.status, headers, body },
    });
    return response;
  };
  const model = options.createModel({
    modelId: cassette.call.modelId,
    apiKey,
    baseURL: options.baseURL,
    fetch: recordingFetch,
  });
  const { call } = cassette;
  const result = await embedMany({
    model,
    inputs: call.inputs ?? [],
    maxRetries: call.maxRetries ?? 0,
    ...optionalSettings(call),
  }).then(
    (value) => value,
    () => undefined,
  );
  const recorded: Cassette = {
    ...cassette,
    source: 'recorded',
    recordedAt: new Date().toISOString(),
    interactions,
    expect:
      result === undefined
        ? cassette.expect
        : {
            embeddings: {
              count: result.embeddings.length,
              dimensions: result.embeddings[0]?.length ?? 0,
              prefixes: result.embeddings.map((vector) => Array.from(vector.subarray(0, 4))),
            },
            usage: result.usage ?? null,
          },
  };
  const { file: _file, ...clean } = scrubCassette(recorded, [apiKey]) as Cassette & { file?: string };
  if (cassette.file !== undefined) writeFileSync(cassette.file, `${JSON.stringify(clean, null, 2)}\n`);
  return clean;
}
