import { strict as assert } from 'node:assert';
import {
  type BatchEmbeddingJobs,
  type BatchJob,
  type BatchJobRequestCounts,
  type BatchJobState,
  EmbedKitError,
  type InputType,
} from '@embedkit/core';
import type { BatchJobCallOptions, BatchJobOperation, SettingNames } from '@embedkit/core/provider';
import { describe } from 'vitest';
import { registerScenarioList, withCassettes } from '../describe.js';
import { baseUrlCases } from '../families/base-url.js';
import { createFakeClock, createWorld, type World, type WorldVariant } from '../harness.js';
import { describeTarget, type TransportKind, type WireReply } from '../interceptor.js';
import { vectorFor } from '../suite/answers.js';
import {
  type AnyError,
  CALL_HEADERS,
  expectCallHeadersNotKept,
  expectCustomHeaders,
  expectError,
  expectKeyInAuthHeader,
  expectVector,
  PROVIDER_HEADERS,
  rejection,
} from '../suite/checks.js';
import {
  buildScenarios,
  type Case,
  check,
  type DimensionsAsked,
  explainingDroppedDimensions,
  type Family,
  modePass,
  type Scenario,
  type ScenarioList,
  type SkippedCase,
  skip,
} from '../suite/family.js';
import {
  type FieldShape,
  GROUP_OPTIONS,
  refuseUnknownFields,
  TITLES_SHAPE,
  WIRE_BASICS_INNER,
} from '../suite/fields.js';
import { readingWire, textList } from '../suite/wire-readers.js';
import type { Cassette, CreateModelOptions, WaitForms, WireItem } from '../types.js';

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
  /** A create request read item by item (text, title, input type, dimensions of each input). Enables the per-item check. */
  itemsOf?(body: unknown): WireItem[];
  /** The API takes a title per input, sent with this input type. */
  titles?: { inputType?: InputType };
  /** Where the API states waits on a poll it refuses (429). Default: the `retry-after` header. */
  waits?: WaitForms;
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
  /** An input type the jobs take, sent with the per-item check. Default: none. */
  inputType?: InputType;
  /** Cassettes of whole jobs (create, polls, results) to replay: objects, or a directory of `*.json` files. */
  cassettes?: Cassette[] | string;
  /** Scenario ids known to fail, each with its reason; one that passes fails the run. */
  expectedFailures?: Record<string, string>;
}

/** The timeout the call-timeout scenario sets on each job request, in milliseconds. */
const CALL_TIMEOUT_MS = 20;

const BATCH_WIRE: SettingNames<BatchEmbeddingJobsWireProfile> = {
  jobId: true,
  create: true,
  get: true,
  cancel: true,
  delete: true,
  inputsOf: true,
  dimensionsOf: true,
  itemsOf: true,
  titles: true,
  waits: true,
  jobBody: true,
  resultExchanges: true,
  errorBody: true,
  authHeader: true,
};

const DESCRIBE_BATCH_OPTIONS: SettingNames<DescribeBatchEmbeddingJobsOptions> = {
  ...GROUP_OPTIONS,
  createJobs: true,
  dimensions: true,
  inputType: true,
};

/** `describeBatchEmbeddingJobs`'s options, its wire included: every field the group reads. */
const BATCH_JOBS_SHAPE: FieldShape = {
  names: DESCRIBE_BATCH_OPTIONS,
  inner: { wire: { names: BATCH_WIRE, inner: { waits: WIRE_BASICS_INNER.waits, titles: TITLES_SHAPE } } },
};

/** A batch-jobs scenario (the same shape as every scenario of the suite). */
export type BatchEmbeddingJobsScenario = Scenario;

/** The world of a batch-jobs scenario: the provider's jobs, as its model. */
export interface BatchEmbeddingJobsWorld extends World<BatchEmbeddingJobs> {
  jobs: BatchEmbeddingJobs;
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

/**
 * The batch-jobs family: create (every item of the request), polling through every state with backoff
 * on a virtual clock, each final state, the server's wait on a refused poll, results in input order with
 * partial item errors, results before the end, cancel, delete, the caller's timeout and abort on every
 * operation's request, a transient poll error and an abort while waiting. Each runs against a fresh
 * interceptor and fails on any unused expectation.
 */
export const batchJobs: Family<DescribeBatchEmbeddingJobsOptions, BatchEmbeddingJobsWorld> = {
  name: 'batch-jobs',
  checks:
    'create item by item, polling with backoff and server waits, every final state, results in order, cancel, delete, timeouts and aborts of every request, abort while waiting',
  cases: (options) => {
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
    const expectGet = (world: BatchEmbeddingJobsWorld, body: BatchEmbeddingJobsWireJob) => {
      const { method, path } = wire.get(id);
      world.interceptor.expect(method, path, reply(body));
    };
    /** A finished job's answer, plus whatever `results()` fetches next. */
    const expectFinished = (world: BatchEmbeddingJobsWorld, body: BatchEmbeddingJobsWireJob) => {
      expectGet(world, body);
      for (const exchange of wire.resultExchanges?.(body) ?? [])
        world.interceptor.expect(exchange.method, exchange.path, () => exchange.reply);
    };
    const expectRefusedPoll = (
      world: BatchEmbeddingJobsWorld,
      status: number,
      message: string,
      headers?: Record<string, string>,
      body?: unknown,
    ) => {
      const { method, path } = wire.get(id);
      world.interceptor.expect(method, path, () => ({
        status,
        body: body ?? wire.errorBody({ status, message }),
        ...(headers === undefined ? {} : { headers }),
      }));
    };

    /**
     * Runs every operation that sends a request once, in turn, each answered with the rest of its body held
     * back (the headers and half the body come at once) until the scenario releases it: no race against
     * real time. `settle` runs the operation (named) with the call options it chooses, and checks how it
     * ended; `held.onArrival` runs a callback as the request arrives. `results` is answered with a finished
     * job alone: a provider that ends its request in time never reads it. An `optional` request may never
     * come (a timeout that lands before it leaves).
     */
    const eachOperationHeld = async (
      world: BatchEmbeddingJobsWorld,
      settle: (
        operation: BatchJobOperation,
        run: (call: BatchJobCallOptions) => Promise<unknown>,
        held: { onArrival(callback: () => void): void; release(): void },
      ) => Promise<void>,
      { optional = false }: { optional?: boolean } = {},
    ) => {
      const finished = job('succeeded', counts(1, 1, 0), [
        { index: 0, vector: vectorFor(texts(1)[0]!, dimensions) },
      ]);
      const emptyReply = (route: { reply?: WireReply }) => () => route.reply ?? { status: 200, body: {} };
      const operations: [
        BatchJobOperation,
        { method: string; path: string },
        () => WireReply,
        (call: BatchJobCallOptions) => Promise<unknown>,
      ][] = [
        [
          'create',
          wire.create(options.modelId),
          reply(job('pending', counts(1, 0, 0))),
          (call) =>
            world.jobs.create({
              inputs: texts(1),
              ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
              ...call,
            }),
        ],
        ['get', wire.get(id), reply(job('running', counts(1, 0, 0))), (call) => world.jobs.get(id, call)],
        ['results', wire.get(id), reply(finished), (call) => world.jobs.results(id, call)],
        ['cancel', wire.cancel(id), emptyReply(wire.cancel(id)), (call) => world.jobs.cancel(id, call)],
        ['delete', wire.delete(id), emptyReply(wire.delete(id)), (call) => world.jobs.delete(id, call)],
      ];
      for (const [operation, route, answer, run] of operations) {
        let release = () => {};
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        const arrivals: (() => void)[] = [];
        const arrived = () => {
          for (const callback of arrivals) callback();
          return answer();
        };
        world.interceptor.expect(route.method, route.path, arrived, { holdBodyUntil: released, optional });
        try {
          await settle(operation, run, { onArrival: (callback) => arrivals.push(callback), release });
        } finally {
          release();
        }
      }
    };

    const cases: (Case<BatchEmbeddingJobsWorld> | SkippedCase)[] = [
      check(
        'create',
        "the API's id not returned, inputs (a line break, a tab, edge spaces) or dimensions altered, the key in the wrong header",
        async (world) => {
          // Texts as a caller has them: a line break, a tab and edge spaces are the caller's, sent as given.
          const inputs = texts(3).map((text, index) =>
            index === 1 ? ` ${text.replace(': ', ':\n\t')} ` : text,
          );
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
          assert.deepEqual(
            wire.inputsOf(request.body),
            inputs,
            'every input sent as given (its line breaks, tabs and edge spaces kept), in order',
          );
          assert.equal(wire.dimensionsOf(request.body), options.dimensions, 'dimensions sent as asked');
          const auth = wire.authHeader(world.apiKey);
          expectKeyInAuthHeader(request.headers, auth);
        },
      ),
      wire.itemsOf === undefined
        ? skip('create-every-item', 'the wire profile cannot read a create request item by item (itemsOf)')
        : check(
            'create-every-item',
            'the input type, dimensions or a title set on the first item only, or on the wrong item',
            async (world) => {
              const inputs = texts(4).map((text, index) =>
                index % 2 === 0 && wire.titles !== undefined ? { text, title: `title ${index}` } : { text },
              );
              const inputType = wire.titles?.inputType ?? options.inputType;
              const { method, path } = wire.create(options.modelId);
              world.interceptor.expect(method, path, reply(job('pending', counts(4, 0, 0))));
              await world.jobs.create({
                inputs,
                ...(inputType === undefined ? {} : { inputType }),
                ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
              });
              const items = wire.itemsOf!(world.interceptor.requests[0]!.body);
              assert.equal(items.length, inputs.length, 'one item per input');
              const shown = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value));
              // Every field of an item that differs, not only the first: a provider that drops two
              // settings is told of both at once.
              const differing = items.flatMap((item, index) => {
                const input = inputs[index] as { text: string; title?: string };
                const fields: [string, unknown, unknown][] = [
                  ['its own text', input.text, item.text],
                  ['its own title', input.title, item.title ?? undefined],
                  ['the input type', inputType, item.inputType],
                  ['the dimensions', options.dimensions, item.dimensions],
                ];
                const wrong = fields
                  .filter(([, expected, sent]) => sent !== expected)
                  .map(
                    ([field, expected, sent]) => `${field}: expected ${shown(expected)}, sent ${shown(sent)}`,
                  );
                return wrong.length === 0 ? [] : [`item ${index}: ${wrong.join('; ')}`];
              });
              if (differing.length > 0) {
                const more = differing.length - 1;
                assert.fail(
                  `${differing[0]}${more === 0 ? '' : `; ${more} more item${more === 1 ? ' differs' : 's differ'}`}`,
                );
              }
            },
          ),
      ...baseUrlCases<BatchEmbeddingJobsWorld>(
        '',
        options.baseURL,
        [wire.create(options.modelId).path, wire.get(id).path],
        async (world) => {
          // Fails unless create and get reach the gateway's URLs for them (see `baseUrlCases`).
          const { method, path } = wire.create(options.modelId);
          world.interceptor.expect(method, path, reply(job('pending', counts(2, 0, 0))));
          expectGet(world, job('running', counts(2, 1, 0)));
          await world.jobs.create({
            inputs: texts(2),
            ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
          });
          await world.jobs.get(id);
        },
      ),
      check(
        'custom-headers',
        "the provider's `headers` setting or a call's own headers left off a job request (create, get, results, cancel or delete), or a call's headers kept for the requests after it",
        async (world) => {
          const create = wire.create(options.modelId);
          world.interceptor.expect(create.method, create.path, reply(job('pending', counts(1, 0, 0))));
          expectGet(world, job('running', counts(1, 0, 0)));
          expectFinished(
            world,
            job('succeeded', counts(1, 1, 0), [{ index: 0, vector: vectorFor(texts(1)[0]!, dimensions) }]),
          );
          const cancel = wire.cancel(id);
          world.interceptor.expect(
            cancel.method,
            cancel.path,
            () => cancel.reply ?? { status: 200, body: {} },
          );
          const remove = wire.delete(id);
          world.interceptor.expect(
            remove.method,
            remove.path,
            () => remove.reply ?? { status: 200, body: {} },
          );
          const call = { headers: CALL_HEADERS };
          /** Runs one operation and checks every request it sent. */
          const sent = async (operation: string, run: () => Promise<unknown>) => {
            const before = world.interceptor.requests.length;
            await run();
            for (const request of world.interceptor.requests.slice(before))
              expectCustomHeaders(
                request.headers,
                `the ${operation} request (${describeTarget(request.method, request.path)})`,
              );
          };
          await sent('create', () =>
            world.jobs.create({
              inputs: texts(1),
              ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
              ...call,
            }),
          );
          await sent('get', () => world.jobs.get(id, call));
          await sent('results', () => world.jobs.results(id, call));
          await sent('cancel', () => world.jobs.cancel(id, call));
          await sent('delete', () => world.jobs.delete(id, call));
          // One more get, without headers of its own: it carries the provider's alone.
          expectGet(world, job('running', counts(1, 0, 0)));
          await world.jobs.get(id);
          expectCallHeadersNotKept(world.interceptor.requests.at(-1)!.headers, 'the get request after them');
        },
        { headers: PROVIDER_HEADERS },
      ),
      check('create-empty-inputs', 'an empty job sent to the API', async (world) => {
        const error = await rejection(world.jobs.create({ inputs: [] }));
        assert.equal(error.name, 'InvalidArgumentError');
        assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
      }),
      check(
        'wait-through-states',
        'a state misread, a poll without a wait, or waits that do not back off',
        async (world) => {
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
            assert.ok(
              clock.sleeps[index]! >= clock.sleeps[index - 1]!,
              `waits grow: ${clock.sleeps.join(', ')}`,
            );
            assert.ok(
              clock.sleeps[index]! <= 2_000,
              `waits stop at maxPollIntervalMs: ${clock.sleeps.join(', ')}`,
            );
          }
          assert.ok(clock.sleeps[2]! > clock.sleeps[0]!, `waits back off: ${clock.sleeps.join(', ')}`);
        },
      ),
      ...(['failed', 'cancelled', 'expired'] as const).map((state) =>
        check<BatchEmbeddingJobsWorld>(
          `wait-ends-${state}`,
          `a ${state} job polled forever or thrown instead of returned`,
          async (world) => {
            expectGet(world, job('running', counts(2, 0, 0)));
            expectGet(world, job(state, counts(2, 0, state === 'failed' ? 2 : 0)));
            const clock = createFakeClock();
            // A wait begun once both polls are answered is one before polling a job that has ended: it is
            // stopped there and named, rather than left to fail on a request the scenario does not answer.
            const controller = new AbortController();
            clock.onSleep = () => {
              if (world.interceptor.requests.length >= 2) controller.abort();
            };
            const done = await world.jobs
              .wait(id, { clock, pollIntervalMs: 500, signal: controller.signal })
              .catch((error: unknown) => {
                if (controller.signal.aborted)
                  assert.fail(
                    `wait() went on polling a job the API had answered ${state}, as if it were still running: the provider misreads the API's word for a ${state} job`,
                  );
                throw error;
              });
            assert.equal(done.state, state, `wait returns a ${state} job rather than throwing`);
            assert.equal(world.interceptor.requests.length, 2);
            assert.deepEqual(clock.sleeps, [500]);
          },
        ),
      ),
      check(
        'wait-honours-retry-after',
        "a refused poll's wait (429) lost, so polling hammers the API",
        async (world) => {
          const forms = wire.waits ?? {};
          const headers = forms.headers ?? ['retry-after'];
          if (headers.includes('retry-after'))
            expectRefusedPoll(world, 429, 'slow down', { 'retry-after': '30' });
          else if (forms.structuredBody !== undefined)
            expectRefusedPoll(world, 429, 'slow down', undefined, forms.structuredBody(30_000));
          else if (forms.messageBody !== undefined)
            expectRefusedPoll(world, 429, 'slow down', undefined, forms.messageBody(30_000));
          else expectRefusedPoll(world, 429, 'slow down', { 'retry-after-ms': '30000' });
          expectGet(world, job('succeeded', counts(1, 1, 0)));
          const clock = createFakeClock();
          const done = await world.jobs.wait(id, { clock, pollIntervalMs: 1_000 });
          assert.equal(done.state, 'succeeded');
          assert.deepEqual(clock.sleeps, [30_000], 'waited what the API asked before polling again');
        },
      ),
      check(
        'results-in-input-order',
        'results placed by their position in the answer instead of their key',
        async (world) => {
          const inputs = texts(4);
          const vectors = inputs.map((text) => vectorFor(text, dimensions));
          // Listed in reverse: the provider must map results back by their key, not by position.
          const outcomes = vectors.map((vector, index) => ({ index, vector })).reverse();
          expectFinished(world, job('succeeded', counts(4, 4, 0), outcomes));
          const results = await world.jobs.results(id);
          assert.equal(results.job.state, 'succeeded');
          assert.equal(results.embeddings.length, 4, 'one entry per input');
          for (const [index, vector] of vectors.entries())
            expectVector(results.embeddings[index], vector, `vector ${index}`);
          assert.deepEqual(results.errors, []);
        },
      ),
      check(
        'results-partial-errors',
        'a failed item dropped, shifting every vector after it, or its message lost',
        async (world) => {
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
          expectVector(results.embeddings[0], vectors[0]!, 'vector 0');
          assert.equal(results.embeddings[1], null, 'the failed input has no vector');
          expectVector(results.embeddings[2], vectors[2]!, 'vector 2');
          assert.equal(results.errors.length, 1, 'one item error');
          assert.equal(results.errors[0]!.index, 1);
          assert.match(results.errors[0]!.message, /conformance item error/, 'the API message is kept');
        },
      ),
      check('results-before-finished', 'results of an unfinished job read as empty', async (world) => {
        expectGet(world, job('running', counts(3, 1, 0)));
        const outcome = await world.jobs.results(id).then(
          () => undefined,
          (error: AnyError) => error,
        );
        if (outcome === undefined)
          assert.fail(
            'results() of a job the API reports still running returned results: it must refuse with an InvalidArgumentError until the job has finished',
          );
        const error = outcome;
        assert.equal(error.name, 'InvalidArgumentError', `${error.name}: ${error.message}`);
        assert.equal(error.code, 'invalid_argument');
      }),
      check('cancel', 'cancel sent to the wrong endpoint', async (world) => {
        const cancel = wire.cancel(id);
        world.interceptor.expect(cancel.method, cancel.path, () => cancel.reply ?? { status: 200, body: {} });
        expectGet(world, job('cancelled', counts(3, 1, 0)));
        await world.jobs.cancel(id);
        const after = await world.jobs.get(id);
        assert.equal(
          after.state,
          'cancelled',
          `a job the API reports cancelled read as ${after.state} (providerState ${JSON.stringify(after.providerState)}): the provider misreads the API's word for a cancelled job`,
        );
        assert.deepEqual(
          world.interceptor.requests.map((request) => request.method),
          [cancel.method, 'GET'],
        );
      }),
      check(
        'call-timeout',
        "the caller's `timeoutMs` not handed to a job request (create, get, results, cancel or delete), so one the API holds back holds the caller",
        (world) =>
          eachOperationHeld(
            world,
            async (operation, run, held) => {
              // Released by a timer set once the request has arrived, twice as long as the timeout: the
              // provider's own timer was set before its request left, so it has fired by then however
              // loaded the machine is, and only a provider that does not time its request out reads on.
              let timer: ReturnType<typeof setTimeout> | undefined;
              held.onArrival(() => {
                timer = setTimeout(held.release, 2 * CALL_TIMEOUT_MS);
              });
              const outcome = await run({ timeoutMs: CALL_TIMEOUT_MS, maxRetries: 0 }).then(
                () => undefined,
                (error: AnyError) => error,
              );
              clearTimeout(timer);
              if (outcome === undefined)
                assert.fail(
                  `${operation} with timeoutMs: ${CALL_TIMEOUT_MS} read an answer held back past its timeout: the provider does not hand the caller's timeoutMs to its request`,
                );
              expectError(outcome, { name: 'TimeoutError', code: 'timeout' });
            },
            // The timeout may land before the request leaves, on a loaded machine: then it never comes.
            { optional: true },
          ),
      ),
      check(
        'call-abort',
        "the caller's `signal` not handed to a job request (create, get, results, cancel or delete), so an abort leaves it running",
        (world) =>
          eachOperationHeld(world, async (operation, run, held) => {
            const controller = new AbortController();
            const arrived = new Promise<void>((resolve) => held.onArrival(resolve));
            const outcome = run({ signal: controller.signal }).then(
              () => undefined,
              (error: AnyError) => error,
            );
            await Promise.race([arrived, outcome]);
            controller.abort();
            // Released only after the abort: a request that was handed the signal has ended by now, and
            // only one that was not reads the rest of the answer.
            held.release();
            const error = await outcome;
            if (error === undefined)
              assert.fail(
                `${operation} aborted while its answer was held back read the answer once it came: the provider does not hand the caller's signal to its request`,
              );
            assert.equal(error.name, 'AbortError', `${operation}: the native AbortError, not ${error.name}`);
          }),
      ),
      check('delete', 'delete sent to the wrong endpoint', async (world) => {
        const remove = wire.delete(id);
        world.interceptor.expect(remove.method, remove.path, () => remove.reply ?? { status: 200, body: {} });
        await world.jobs.delete(id);
        assert.equal(world.interceptor.requests.length, 1);
      }),
      check('wait-survives-transient-error', 'one 503 while polling ending the wait', async (world) => {
        expectRefusedPoll(world, 503, 'conformance unavailable');
        expectGet(world, job('succeeded', counts(1, 1, 0)));
        const clock = createFakeClock();
        const done = await world.jobs.wait(id, { clock, pollIntervalMs: 1_000 });
        assert.equal(done.state, 'succeeded');
        assert.equal(world.interceptor.requests.length, 2, 'polled again after the 503');
      }),
      check('wait-stops-on-permanent-error', 'a 404 while polling retried forever', async (world) => {
        expectRefusedPoll(world, 404, 'conformance no such batch');
        const error = await rejection(world.jobs.wait(id, { clock: createFakeClock() }));
        assert.equal(error.name, 'NotFoundError');
        assert.equal(world.interceptor.requests.length, 1, 'not polled again');
      }),
      check('abort-while-waiting', 'an abort during the wait between polls ignored', async (world) => {
        expectGet(world, job('running', counts(3, 1, 0)));
        const controller = new AbortController();
        const clock = createFakeClock();
        clock.onSleep = () => controller.abort();
        const error = await rejection(world.jobs.wait(id, { clock, signal: controller.signal }));
        assert.equal(error.name, 'AbortError', 'the native AbortError');
        assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped in an embedkit error');
        assert.equal(world.interceptor.requests.length, 1, 'no poll after the abort');
      }),
    ];
    return cases;
  },
};

/** Every batch-jobs scenario (cassettes included), and the report. An unknown option or wire field is refused. */
export function listBatchEmbeddingJobsScenarioList(options: DescribeBatchEmbeddingJobsOptions): ScenarioList {
  refuseUnknownFields(options, BATCH_JOBS_SHAPE, 'listBatchEmbeddingJobsScenarioList');
  return batchScenarioList(options);
}

/**
 * How the batch-jobs group asks its vector length: on a job's create request, item by item when the wire
 * reads items. A job's results come from another call than the one that asked, so the engine never holds
 * them to that length: the create checks are where a dropped option shows.
 */
function dimensionsAsked(options: DescribeBatchEmbeddingJobsOptions): DimensionsAsked {
  const { wire } = options;
  return {
    asked: options.dimensions,
    // Polls and results send no body.
    sentIn: (body) =>
      body === undefined
        ? []
        : (wire.itemsOf?.(body).map((item) => item.dimensions) ?? [wire.dimensionsOf(body)]),
    reader: wire.itemsOf === undefined ? 'dimensionsOf' : 'itemsOf',
    checkedBy: ['create', 'create-every-item'],
  };
}

function batchScenarioList(given: DescribeBatchEmbeddingJobsOptions): ScenarioList {
  // A create request's inputs held to a list of texts (see `readingWire`): a provider writing each input
  // under another key than the wire reads is told so, not shown a list of undefined in a diff.
  const options = { ...given, wire: readingWire(given.wire, { inputsOf: textList('inputs') }) };
  const world = (
    kind: TransportKind,
    variant?: WorldVariant,
  ): BatchEmbeddingJobsWorld & { close(): Promise<void> } => {
    const created = createWorld({ ...options, createModel: options.createJobs }, kind, variant);
    return { ...created, jobs: created.model };
  };
  const list = buildScenarios(
    'batch-jobs',
    [batchJobs],
    [explainingDroppedDimensions(modePass({ name: 'default' }, options, world), dimensionsAsked(options))],
  );
  return withCassettes(list, 'batch-jobs', {
    name: options.name,
    baseURL: options.baseURL,
    createJobs: options.createJobs,
    kind: 'batch',
    ...(options.cassettes === undefined ? {} : { cassettes: options.cassettes }),
  });
}

/** The batch-jobs scenarios, cassettes included. */
export function listBatchEmbeddingJobsScenarios(
  options: DescribeBatchEmbeddingJobsOptions,
): BatchEmbeddingJobsScenario[] {
  refuseUnknownFields(options, BATCH_JOBS_SHAPE, 'listBatchEmbeddingJobsScenarios');
  return batchScenarioList(options).scenarios;
}

/**
 * Registers the batch-jobs scenarios for one provider, each through both transports (undici's
 * `MockAgent` and nock for `fetch`). An option or wire field the group does not know is refused when this
 * is called, before any test is registered.
 */
export function describeBatchEmbeddingJobs(options: DescribeBatchEmbeddingJobsOptions): void {
  refuseUnknownFields(options, BATCH_JOBS_SHAPE, 'describeBatchEmbeddingJobs');
  describe(`${options.name} batch embedding jobs`, () =>
    registerScenarioList(batchScenarioList(options), options.expectedFailures));
}
