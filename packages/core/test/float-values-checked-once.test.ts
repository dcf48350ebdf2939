/**
 * One contract for NaN and infinities in float vectors: every vector's values are read once by the
 * engine, on every path a vector takes to the caller (embed, embedMany, embedStream, embedContextualized;
 * the cache reads what it stores and serves once more), and a value that is not a finite number is
 * refused by the one check, the engine's, as an
 * `InvalidResponseError` naming the vector, its place in the job, the answer's status and request id,
 * and a JSON number beyond float32 as it was sent (1e+39, not the Infinity it reads as).
 *
 * Passes are counted at the kernels' `all_finite`, which reads a vector of 256 values in one step.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { type ContextualizedEmbeddingModel, embedContextualized } from '../src/contextualized.js';
import { embed, embedMany, embedStream } from '../src/engine/embed.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { decodeVectors } from '../src/provider-utils.js';
import type { Embedding, EmbeddingModel, EmbedResponse } from '../src/types.js';
import { wasmKernels } from '../src/wasm/kernels.js';
import { BASE_CAPABILITIES, invalidResponseOf, ScriptedModel } from './helpers.js';

const LENGTH = 256;
const kernels = wasmKernels();
/** Vectors read by the one check since the test began. */
let passes = 0;
beforeAll(() => {
  const allFiniteKernel = kernels!.exports.all_finite;
  kernels!.exports.all_finite = (at: number, count: number) => {
    passes++;
    return allFiniteKernel(at, count);
  };
  return () => {
    kernels!.exports.all_finite = allFiniteKernel;
  };
});
beforeEach(() => {
  passes = 0;
});

/** 256 values of `0.5`, JSON numbers as a server sends them, with `bad` at position 7 when given. */
function numbers(bad?: number): number[] {
  const values = new Array<number>(LENGTH).fill(0.5);
  if (bad !== undefined) values[7] = bad;
  return values;
}

/** Base64 of 256 float32 values of `0.5`, with `bad` at position 7 when given. */
function base64(bad?: number): string {
  return Buffer.from(Float32Array.from(numbers(bad)).buffer).toString('base64');
}

/** An answer to `count` inputs as the provider decodes it: the input named `bad` holds `value`. */
function answer(inputs: readonly string[], form: 'json' | 'base64', bad?: { input: string; value: number }) {
  const sent = inputs.map((input) => {
    const value = input === bad?.input ? bad.value : undefined;
    return form === 'json' ? numbers(value) : base64(value);
  });
  return {
    embeddings: decodeVectors(sent, 'float'),
    warnings: [],
    response: { status: 200, headers: {}, requestId: 'req-fake-1' },
  } satisfies EmbedResponse;
}

/** A model of 256-value vectors, two inputs a call unless told, that answers in `form` with `bad` in one input. */
function model(form: 'json' | 'base64', bad?: { input: string; value: number }, maxInputsPerCall = 2) {
  return new ScriptedModel({
    capabilities: { defaultDimensions: LENGTH, maxInputsPerCall },
    respond: (call) => answer(call.inputs, form, bad),
  });
}

const skip = kernels === undefined;

describe.skipIf(skip)('every path reads each float vector once', () => {
  it('embed: one vector, one pass', async () => {
    await embed({ model: model('json'), input: 'a' });
    expect(passes).toBe(1);
  });

  it('embedMany: five vectors in three calls, five passes', async () => {
    await embedMany({ model: model('base64'), inputs: ['a', 'b', 'c', 'd', 'e'] });
    expect(passes).toBe(5);
  });

  it('embedStream: five vectors in three calls, five passes', async () => {
    const seen: number[] = [];
    for await (const { index } of embedStream({ model: model('json'), inputs: ['a', 'b', 'c', 'd', 'e'] }))
      seen.push(index);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(passes).toBe(5);
  });

  it('embedContextualized: two documents of two chunks, four passes', async () => {
    const result = await embedContextualized({
      model: contextualized(),
      documents: [
        ['a', 'b'],
        ['c', 'd'],
      ],
    });
    expect(result.embeddings.flat()).toHaveLength(4);
    expect(passes).toBe(4);
  });

  // The cache checks what it stores (the two vectors sent) and what it serves (three stored vectors),
  // and the engine checks the three vectors of each answer.
  it('the cache: misses read by the cache and the engine (a repeated input sent once), hits likewise', async () => {
    const inner = model('json', undefined, 3);
    const cached = wrapEmbeddingModel(inner, [cacheMiddleware({ store: createMemoryCacheStore() })]);
    const misses = await embedMany({ model: cached, inputs: ['a', 'b', 'a'] });
    expect(inner.callInputs).toEqual([['a', 'b']]);
    expect(misses.embeddings).toHaveLength(3);
    expect(passes).toBe(5);
    passes = 0;
    const hits = await embedMany({ model: cached, inputs: ['a', 'b', 'a'] });
    expect(inner.callInputs).toEqual([['a', 'b']]);
    expect(hits.embeddings).toEqual(misses.embeddings);
    expect(passes).toBe(6);
  });
});

/** A contextualized model of 256-value chunk vectors whose chunk named `bad` holds `value`. */
function contextualized(bad?: { chunk: string; value: number }): ContextualizedEmbeddingModel {
  return {
    specificationVersion: 'v1',
    provider: 'ctx',
    modelId: 'ctx-1',
    capabilities: { ...BASE_CAPABILITIES, defaultDimensions: LENGTH },
    contextualizedCapabilities: { maxDocumentsPerCall: 10 },
    doEmbed: async () => {
      throw new Error('must not be called');
    },
    doEmbedContextualized: async (request) => ({
      embeddings: request.documents.map(
        (document) => answer(document, 'json', bad && { input: bad.chunk, value: bad.value }).embeddings,
      ),
      warnings: [],
      response: { status: 200, headers: {}, requestId: 'req-fake-2' },
    }),
  };
}

/** Expects an `InvalidResponseError` with `message`, from `provider`'s answer of status 200 and `requestId`. */
async function expectRefused(
  run: Promise<unknown>,
  message: string,
  provider = 'scripted',
  requestId = 'req-fake-1',
): Promise<void> {
  const error = await invalidResponseOf(run);
  expect(error.code).toBe('invalid_response');
  expect(error.message).toBe(message);
  expect([error.provider, error.statusCode, error.requestId]).toEqual([provider, 200, requestId]);
}

describe.skipIf(skip)('every path refuses NaN and a number beyond float32 once, as the engine', () => {
  it('embed: a JSON number beyond float32, quoted as sent, in one pass', async () => {
    await expectRefused(
      embed({ model: model('json', { input: 'a', value: 1e39 }), input: 'a', maxRetries: 0 }),
      'scripted returned vector 0 holding 1e+39 at position 7, not a finite number.',
    );
    // The copy refused nothing: the engine's one pass found it, and the message quotes it as sent.
    expect(passes).toBe(1);
  });

  it('embedMany: a NaN in base64, named by its input in the job', async () => {
    await expectRefused(
      embedMany({ model: model('base64', { input: 'd', value: Number.NaN }), inputs: ['a', 'b', 'c', 'd'] }),
      'scripted returned vector 1 (input 3 of the whole job) holding NaN at position 7, not a finite number.',
    );
  });

  it('embedStream: the inputs before the bad one are yielded, then the refusal', async () => {
    const seen: number[] = [];
    const run = (async () => {
      for await (const { index } of embedStream({
        model: model('json', { input: 'c', value: -1e39 }),
        inputs: ['a', 'b', 'c', 'd'],
        concurrency: 1,
      }))
        seen.push(index);
    })();
    await expectRefused(
      run,
      'scripted returned vector 0 (input 2 of the whole job) holding -1e+39 at position 7, not a finite number.',
    );
    expect(seen).toEqual([0, 1]);
    // Two vectors of the first call, then the bad one: the copy read none.
    expect(passes).toBe(3);
  });

  it('embedContextualized: a chunk beyond float32, named by its document', async () => {
    await expectRefused(
      embedContextualized({
        model: contextualized({ chunk: 'd', value: 1e39 }),
        documents: [
          ['a', 'b'],
          ['c', 'd'],
        ],
        maxRetries: 0,
      }),
      'ctx returned chunk 1 of document 1 holding 1e+39 at position 7, not a finite number.',
      'ctx',
      'req-fake-2',
    );
  });

  it('a cache miss: refused once, named as sent, and never stored', async () => {
    const inner = model('json', { input: 'b', value: 1e39 });
    const store = createMemoryCacheStore();
    const cached = wrapEmbeddingModel(inner, [cacheMiddleware({ store })]);
    await expectRefused(
      embedMany({ model: cached, inputs: ['a', 'b'], maxRetries: 0 }),
      'scripted returned vector 1 holding 1e+39 at position 7, not a finite number.',
    );
    // The cache's check reads both vectors (and stores neither), then the engine's.
    expect(passes).toBe(4);
    expect(store.size).toBe(0);
  });

  it('a cache hit holding NaN (damaged in its store) is a miss: sent again, never served', async () => {
    const inner = model('json');
    const stored: Embedding[] = [];
    const store = createMemoryCacheStore();
    const cached: EmbeddingModel = wrapEmbeddingModel(inner, [
      cacheMiddleware({
        store: {
          get: (key) => store.get(key),
          set: (key, value) => {
            stored.push(value);
            store.set(key, value);
          },
        },
      }),
    ]);
    await embedMany({ model: cached, inputs: ['a'] });
    (stored[0] as Float32Array)[7] = Number.NaN;
    passes = 0;
    const result = await embedMany({ model: cached, inputs: ['a'] });
    expect(inner.callInputs).toEqual([['a'], ['a']]);
    expect(result.embeddings[0]![7]).toBe(0.5);
    // The stored vector, then the answer's by the cache and by the engine.
    expect(passes).toBe(3);
  });
});
