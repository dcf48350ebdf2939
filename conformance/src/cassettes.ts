import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { embedMany } from '@embedkit/core';
import type { FetchFunction } from '@embedkit/core/provider';
import { scrubCassette } from '@embedkit/replay';
import { cassetteFiles, readCassette } from '@embedkit/replay/node';
import { createFakeClock, fakeApiKey } from './harness.js';
import { createInterceptor, type TransportKind } from './interceptor.js';
import type { Cassette, DescribeEmbeddingProviderOptions } from './types.js';

export { scrubCassette };

/** Reads every `*.json` cassette in `directory`, sorted by file name, and checks its format. */
export function loadCassettes(directory: string): (Cassette & { file: string })[] {
  return cassetteFiles(directory).map((file) => ({ ...readCassette(file), file }));
}

/** Replays one cassette through one transport and checks both the requests sent and the result. */
export async function replayCassette(
  options: DescribeEmbeddingProviderOptions,
  cassette: Cassette,
  kind: TransportKind,
): Promise<void> {
  const origin = new URL(options.baseURL).origin;
  const interceptor = createInterceptor(kind, origin);
  const mismatches: string[] = [];
  try {
    for (const [position, interaction] of cassette.interactions.entries()) {
      interceptor.expect(interaction.request.method, interaction.request.path, (request) => {
        try {
          assert.deepEqual(request.body, interaction.request.body);
        } catch (error) {
          mismatches.push(`request ${position} body differs from the cassette: ${(error as Error).message}`);
          return { status: 418, body: { error: { message: 'cassette mismatch' } } };
        }
        return {
          status: interaction.response.status,
          headers: interaction.response.headers ?? {},
          body: interaction.response.body,
        };
      });
    }
    const model = options.createModel({
      modelId: cassette.call.modelId,
      apiKey: fakeApiKey(options.name),
      baseURL: options.baseURL,
      ...interceptor.transport,
    });
    const call = cassette.call;
    const run = embedMany({
      model,
      inputs: call.inputs,
      clock: createFakeClock(),
      maxRetries: call.maxRetries ?? 0,
      ...(call.inputType === undefined ? {} : { inputType: call.inputType }),
      ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }),
      ...(call.outputType === undefined ? {} : { outputType: call.outputType }),
      ...(call.providerOptions === undefined ? {} : { providerOptions: call.providerOptions }),
    });
    const outcome = await run.then(
      (result) => ({ result }),
      (error: unknown) => ({ error: error as Error & { code?: string; statusCode?: number } }),
    );
    assert.deepEqual(mismatches, [], 'every request matches the cassette');
    const expected = cassette.expect;
    if ('error' in expected) {
      if (!('error' in outcome)) assert.fail('the call had to fail');
      assert.equal(outcome.error.name, expected.error.name);
      assert.equal(outcome.error.code, expected.error.code);
      if (expected.error.statusCode !== undefined)
        assert.equal(outcome.error.statusCode, expected.error.statusCode);
    } else {
      if ('error' in outcome) throw outcome.error;
      const { embeddings, usage } = outcome.result;
      assert.equal(embeddings.length, expected.embeddings.count, 'vector count');
      for (const [index, vector] of embeddings.entries()) {
        assert.equal(vector.length, expected.embeddings.dimensions, `vector ${index} length`);
        const prefix = expected.embeddings.prefixes?.[index] ?? [];
        for (const [position, value] of prefix.entries()) {
          assert.ok(
            Math.abs(vector[position]! - Math.fround(value)) <= 1e-6,
            `vector ${index} value ${position} is ${vector[position]}, expected ${value}`,
          );
        }
      }
      if (expected.usage === null) assert.equal(usage, undefined, 'usage absent');
      else assert.deepEqual(usage, expected.usage);
    }
    assert.deepEqual(interceptor.pending(), [], 'every interaction of the cassette was used');
  } finally {
    await interceptor.close();
  }
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
    inputs: call.inputs,
    maxRetries: call.maxRetries ?? 0,
    ...(call.inputType === undefined ? {} : { inputType: call.inputType }),
    ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }),
    ...(call.outputType === undefined ? {} : { outputType: call.outputType }),
    ...(call.providerOptions === undefined ? {} : { providerOptions: call.providerOptions }),
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
