import { strict as assert } from 'node:assert';
import {
  type BatchEmbeddingJobs,
  type BatchJob,
  type BatchJobRequestCounts,
  type BatchJobState,
  type Embedding,
  EmbedKitError,
} from '@embedkit/core';
import { describe } from 'vitest';
import { registerScenarios } from '../describe.js';
import { createFakeClock, fakeApiKey } from '../harness.js';
import { createInterceptor, type Interceptor, type TransportKind, type WireReply } from '../interceptor.js';
import { vectorFor } from '../scenarios.js';
import type { CreateModelOptions } from '../types.js';

/** The result of one input of a finished job, as the fake API lists it. */
export type BatchEmbeddingJobsWireOutcome =
  | { index: number; vector: number[] }
  | { index: number; error: { status: number; message: string } };

/** A job as the fake API answers it. */
export interface BatchEmbeddingJobsWireJob {
  /** The id in the provider's own form, the one `create` must return. */
  id: string;
  state: BatchJobState;
  counts: BatchJobRequestCounts;
  /** Once finished: one outcome per input, in the order the API lists them (not input order). */
  outcomes?: BatchEmbeddingJobsWireOutcome[];
}

/** How a provider's batch API looks, in a few functions; every scenario is built from them. */
export interface BatchEmbeddingJobsWireProfile {
  /** The id the fake API gives every job, in the provider's form (e.g. `batches/conformance-job-1`). */
  jobId: string;
  create(modelId: string): { method: 'POST'; path: string };
  get(id: string): { method: 'GET'; path: string };
  cancel(id: string): { method: 'POST' | 'DELETE'; path: string; reply?: WireReply };
  delete(id: string): { method: 'DELETE' | 'POST'; path: string; reply?: WireReply };
  /** The input texts of a create request body, in order. */
  inputsOf(body: unknown): string[];
  /** The vector length a create request asked for, if any. */
  dimensionsOf(body: unknown): number | undefined;
  /** The body the API answers to create and get for `job`. */
  jobBody(job: BatchEmbeddingJobsWireJob): unknown;
  /**
   * Further exchanges `results()` makes after reading a finished job, e.g. downloading a results
   * file; absent when the job body holds the results.
   */
  resultExchanges?(job: BatchEmbeddingJobsWireJob): { method: string; path: string; reply: WireReply }[];
  /** An error body in the provider's format. */
  errorBody(error: { status: number; message: string }): unknown;
  /** The header that carries the key, and its value for `apiKey`. */
  authHeader(apiKey: string): { name: string; value: string };
}

export interface DescribeBatchEmbeddingJobsOptions {
  /** Shown in test names, e.g. `gemini`. */
  name: string;
  /** The API root the provider calls. */
  baseURL: string;
  modelId: string;
  /** Builds the provider's `BatchEmbeddingJobs` talking to `baseURL` through the given transport. */
  createJobs(options: CreateModelOptions): BatchEmbeddingJobs;
  wire: BatchEmbeddingJobsWireProfile;
  /** Sent with every `create`; the fake API's vectors are this long. Default: none sent, 8 values. */
  dimensions?: number;
  /** Scenario ids known to fail, each with its reason; one that passes fails the run. */
  expectedFailures?: Record<string, string>;
}

export interface BatchEmbeddingJobsScenario {
  id: string;
  run(kind: TransportKind): Promise<void>;
}

interface World {
  interceptor: Interceptor;
  jobs: BatchEmbeddingJobs;
  apiKey: string;
}

function texts(count: number): string[] {
  return Array.from(
    { length: count },
    (_, index) => `batch input ${index}: a quiet lake at dawn ${index % 5}`,
  );
}

function counts(total: number, succeeded: number, failed: number): BatchJobRequestCounts {
  return { total, succeeded, failed, pending: total - succeeded - failed };
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  return assert.fail('the call succeeded, but it had to fail');
}

function closeTo(actual: Embedding | null | undefined, expected: readonly number[], label: string): void {
  assert.ok(actual instanceof Float32Array, `${label} is a Float32Array`);
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let index = 0; index < expected.length; index++) {
    if (!(Math.abs(actual[index]! - expected[index]!) <= 1e-6))
      assert.fail(`${label}: value ${index} is ${actual[index]}, expected ${expected[index]}`);
  }
}

/**
 * The batch-jobs scenarios: create, polling through every state with backoff on a virtual clock, each
 * final state, results in input order with partial item errors, results before the end, cancel,
 * delete, a transient poll error and an abort while waiting. Each runs against a fresh interceptor and
 * fails on any unused expectation.
 */
export function listBatchEmbeddingJobsScenarios(
  options: DescribeBatchEmbeddingJobsOptions,
): BatchEmbeddingJobsScenario[] {
  const { wire } = options;
  const dimensions = options.dimensions ?? 8;
  const id = wire.jobId;
  const job = (
    state: BatchJobState,
    requestCounts: BatchJobRequestCounts,
    outcomes?: BatchEmbeddingJobsWireOutcome[],
  ) =>
    ({
      id,
      state,
      counts: requestCounts,
      ...(outcomes === undefined ? {} : { outcomes }),
    }) satisfies BatchEmbeddingJobsWireJob;
  const reply =
    (body: BatchEmbeddingJobsWireJob): (() => WireReply) =>
    () => ({ status: 200, body: wire.jobBody(body) });
  const expectGet = (world: World, body: BatchEmbeddingJobsWireJob) => {
    const { method, path } = wire.get(id);
    world.interceptor.expect(method, path, reply(body));
  };
  /** A finished job's answer, plus whatever `results()` fetches next. */
  const expectFinished = (world: World, body: BatchEmbeddingJobsWireJob) => {
    expectGet(world, body);
    for (const exchange of wire.resultExchanges?.(body) ?? [])
      world.interceptor.expect(exchange.method, exchange.path, () => exchange.reply);
  };

  const scenario = (name: string, body: (world: World) => Promise<void>): BatchEmbeddingJobsScenario => ({
    id: name,
    async run(kind) {
      const interceptor = createInterceptor(kind, new URL(options.baseURL).origin);
      const apiKey = fakeApiKey(options.name);
      try {
        const jobs = options.createJobs({
          modelId: options.modelId,
          apiKey,
          baseURL: options.baseURL,
          ...interceptor.transport,
        });
        const outcome = await body({ interceptor, jobs, apiKey }).then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        if (interceptor.handlerErrors.length > 0) throw interceptor.handlerErrors[0];
        if (outcome !== undefined) throw outcome.error;
        assert.deepEqual(interceptor.pending(), [], 'every expected request was made');
      } finally {
        await interceptor.close();
      }
    },
  });

  const list: BatchEmbeddingJobsScenario[] = [
    scenario('create', async (world) => {
      const inputs = texts(3);
      const { method, path } = wire.create(options.modelId);
      world.interceptor.expect(method, path, reply(job('pending', counts(3, 0, 0))));
      const created = await world.jobs.create({
        inputs,
        displayName: 'conformance batch',
        ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
      });
      assert.equal(created.id, id, 'the id the API gave');
      assert.equal(created.state, 'pending');
      assert.deepEqual(created.requestCounts, counts(3, 0, 0));
      assert.equal(created.provider, world.jobs.provider);
      const request = world.interceptor.requests[0]!;
      assert.deepEqual(wire.inputsOf(request.body), inputs, 'every input sent, in order');
      assert.equal(wire.dimensionsOf(request.body), options.dimensions, 'dimensions sent as asked');
      const auth = wire.authHeader(world.apiKey);
      assert.equal(
        request.headers[auth.name.toLowerCase()],
        auth.value,
        'the key is sent in the auth header',
      );
      assert.match(request.headers['user-agent'] ?? '', /^embedkit\//, 'user-agent names embedkit');
    }),
    scenario('create-empty-inputs', async (world) => {
      const error = await rejection(world.jobs.create({ inputs: [] }));
      assert.equal(error.name, 'InvalidArgumentError');
      assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
    }),
    scenario('wait-through-states', async (world) => {
      expectGet(world, job('pending', counts(3, 0, 0)));
      expectGet(world, job('running', counts(3, 1, 0)));
      expectGet(world, job('running', counts(3, 2, 0)));
      expectGet(world, job('succeeded', counts(3, 3, 0)));
      const clock = createFakeClock();
      const seen: BatchJob[] = [];
      const done = await world.jobs.wait(id, {
        clock,
        pollIntervalMs: 1_000,
        maxPollIntervalMs: 2_000,
        onProgress: (progress) => seen.push(progress),
      });
      assert.equal(done.state, 'succeeded');
      assert.deepEqual(done.requestCounts, counts(3, 3, 0));
      assert.deepEqual(
        seen.map((progress) => [progress.state, progress.requestCounts.succeeded]),
        [
          ['pending', 0],
          ['running', 1],
          ['running', 2],
          ['succeeded', 3],
        ],
        'onProgress sees every poll',
      );
      assert.equal(world.interceptor.requests.length, 4, 'one GET per poll');
      assert.equal(clock.sleeps.length, 3, 'a wait between polls, none after the last');
      assert.equal(clock.sleeps[0], 1_000, 'the first wait is pollIntervalMs');
      for (let index = 1; index < clock.sleeps.length; index++) {
        assert.ok(clock.sleeps[index]! >= clock.sleeps[index - 1]!, `waits grow: ${clock.sleeps.join(', ')}`);
        assert.ok(
          clock.sleeps[index]! <= 2_000,
          `waits stop at maxPollIntervalMs: ${clock.sleeps.join(', ')}`,
        );
      }
      assert.ok(clock.sleeps[2]! > clock.sleeps[0]!, `waits back off: ${clock.sleeps.join(', ')}`);
    }),
  ];

  for (const state of ['failed', 'cancelled', 'expired'] as const) {
    list.push(
      scenario(`wait-ends-${state}`, async (world) => {
        expectGet(world, job('running', counts(2, 0, 0)));
        expectGet(world, job(state, counts(2, 0, state === 'failed' ? 2 : 0)));
        const clock = createFakeClock();
        const done = await world.jobs.wait(id, { clock, pollIntervalMs: 500 });
        assert.equal(done.state, state, `wait returns a ${state} job rather than throwing`);
        assert.equal(world.interceptor.requests.length, 2);
        assert.deepEqual(clock.sleeps, [500]);
      }),
    );
  }

  list.push(
    scenario('results-in-input-order', async (world) => {
      const inputs = texts(4);
      const vectors = inputs.map((text) => vectorFor(text, dimensions));
      // Listed in reverse: the provider must map results back by their key, not by position.
      const outcomes = vectors.map((vector, index) => ({ index, vector })).reverse();
      expectFinished(world, job('succeeded', counts(4, 4, 0), outcomes));
      const results = await world.jobs.results(id);
      assert.equal(results.job.state, 'succeeded');
      assert.equal(results.embeddings.length, 4, 'one entry per input');
      for (const [index, vector] of vectors.entries())
        closeTo(results.embeddings[index], vector, `vector ${index}`);
      assert.deepEqual(results.errors, []);
    }),
    scenario('results-partial-errors', async (world) => {
      const inputs = texts(3);
      const vectors = inputs.map((text) => vectorFor(text, dimensions));
      const outcomes: BatchEmbeddingJobsWireOutcome[] = [
        { index: 2, vector: vectors[2]! },
        { index: 1, error: { status: 400, message: 'conformance item error' } },
        { index: 0, vector: vectors[0]! },
      ];
      expectFinished(world, job('succeeded', counts(3, 2, 1), outcomes));
      const results = await world.jobs.results(id);
      assert.deepEqual(results.job.requestCounts, counts(3, 2, 1));
      closeTo(results.embeddings[0], vectors[0]!, 'vector 0');
      assert.equal(results.embeddings[1], null, 'the failed input has no vector');
      closeTo(results.embeddings[2], vectors[2]!, 'vector 2');
      assert.equal(results.errors.length, 1, 'one item error');
      assert.equal(results.errors[0]!.index, 1);
      assert.match(results.errors[0]!.message, /conformance item error/, 'the API message is kept');
    }),
    scenario('results-before-finished', async (world) => {
      expectGet(world, job('running', counts(3, 1, 0)));
      const error = await rejection(world.jobs.results(id));
      assert.equal(error.name, 'InvalidArgumentError');
      assert.equal(error.code, 'invalid_argument');
    }),
    scenario('cancel', async (world) => {
      const cancel = wire.cancel(id);
      world.interceptor.expect(cancel.method, cancel.path, () => cancel.reply ?? { status: 200, body: {} });
      expectGet(world, job('cancelled', counts(3, 1, 0)));
      await world.jobs.cancel(id);
      const after = await world.jobs.get(id);
      assert.equal(after.state, 'cancelled');
      assert.deepEqual(
        world.interceptor.requests.map((request) => request.method),
        [cancel.method, 'GET'],
      );
    }),
    scenario('delete', async (world) => {
      const remove = wire.delete(id);
      world.interceptor.expect(remove.method, remove.path, () => remove.reply ?? { status: 200, body: {} });
      await world.jobs.delete(id);
      assert.equal(world.interceptor.requests.length, 1);
    }),
    scenario('wait-survives-transient-error', async (world) => {
      const { method, path } = wire.get(id);
      world.interceptor.expect(method, path, () => ({
        status: 503,
        body: wire.errorBody({ status: 503, message: 'conformance unavailable' }),
      }));
      expectGet(world, job('succeeded', counts(1, 1, 0)));
      const clock = createFakeClock();
      const done = await world.jobs.wait(id, { clock, pollIntervalMs: 1_000 });
      assert.equal(done.state, 'succeeded');
      assert.equal(world.interceptor.requests.length, 2, 'polled again after the 503');
    }),
    scenario('wait-stops-on-permanent-error', async (world) => {
      const { method, path } = wire.get(id);
      world.interceptor.expect(method, path, () => ({
        status: 404,
        body: wire.errorBody({ status: 404, message: 'conformance no such batch' }),
      }));
      const error = await rejection(world.jobs.wait(id, { clock: createFakeClock() }));
      assert.equal(error.name, 'NotFoundError');
      assert.equal(world.interceptor.requests.length, 1, 'not polled again');
    }),
    scenario('abort-while-waiting', async (world) => {
      expectGet(world, job('running', counts(3, 1, 0)));
      const controller = new AbortController();
      const clock = createFakeClock();
      clock.onSleep = () => controller.abort();
      const error = await rejection(world.jobs.wait(id, { clock, signal: controller.signal }));
      assert.equal(error.name, 'AbortError', 'the native AbortError');
      assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped in an embedkit error');
      assert.equal(world.interceptor.requests.length, 1, 'no poll after the abort');
    }),
  );
  return list;
}

/**
 * Registers the batch-jobs scenarios for one provider, each through both transports (undici's
 * `MockAgent` and nock for `fetch`).
 */
export function describeBatchEmbeddingJobs(options: DescribeBatchEmbeddingJobsOptions): void {
  describe(`${options.name} batch embedding jobs`, () =>
    registerScenarios(listBatchEmbeddingJobsScenarios(options), options.expectedFailures));
}
