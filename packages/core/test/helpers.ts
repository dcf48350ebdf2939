/**
 * Shared test doubles for the core suite: a virtual clock, a scripted model that records every call,
 * and small async utilities. Nothing here sleeps for real.
 */

import { expect, vi } from 'vitest';
import type { BatchJob, BatchJobCallOptions, BatchJobState } from '../src/batch-jobs.js';
import type { ContextualizedCapabilities, ContextualizedEmbeddingModel } from '../src/contextualized.js';
import type { Clock } from '../src/engine/clock.js';
import { type AttemptAnswered, createMemoryLimiterStore, type LimiterStore } from '../src/engine/limiter.js';
import type { AttemptPolicy } from '../src/engine/retry.js';
import type { TokenCounter } from '../src/engine/token-counter.js';
import { InvalidArgumentError, InvalidResponseError } from '../src/errors.js';
import type { RerankingCapabilities, RerankingModel, RerankRequest, RerankResponse } from '../src/rerank.js';
import type { EmbeddingCapabilities, EmbeddingModel, EmbedRequest, EmbedResponse } from '../src/types.js';
import { setWebAssemblyEnabled } from '../src/wasm/kernels.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What `promise` rejects with; throws when it fulfils. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits (in event-loop turns) until `predicate` holds; fails loudly if it never does. At least 2,000 turns
 * and 5 s: work off the event loop (a cache key's SHA-256 on the thread pool) can outlast 2,000 turns on
 * a loaded machine, and a predicate that holds returns at its first turn whatever the bound.
 */
export async function until(predicate: () => boolean, what = 'condition'): Promise<void> {
  const started = performance.now();
  for (let turn = 0; turn < 2_000 || performance.now() - started < 5_000; turn++) {
    if (predicate()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * `call`'s outcome, run with setTimeout faked (an attempt's `timeoutMs` runs on it): each time `reached()`
 * counts one more attempt at the point a test means (its request sent, the head of its answer received),
 * exactly `ms` pass, never before. However slowly a loaded machine gets there, every timeout lands at that
 * point; and no more time passes than that, so what only a later timer would end (an attempt that ignores
 * its abort, left behind by the engine 100 ms after it) is never ended, and `until` says what never came.
 * `alsoFaked: ['performance']` moves `performance.now()` with the timers.
 */
export async function timersAtEach<T>(
  ms: number,
  reached: () => number,
  what: string,
  call: () => Promise<T>,
  alsoFaked: 'performance'[] = [],
): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', ...alsoFaked] });
  try {
    let done = false;
    const outcome = call();
    const end = () => {
      done = true;
    };
    outcome.then(end, end);
    for (let passed = 0; !done; ) {
      await until(() => done || reached() > passed, `${what} ${passed + 1}`);
      if (reached() > passed) {
        passed += 1;
        vi.advanceTimersByTime(ms);
      }
    }
    return await outcome;
  } finally {
    vi.useRealTimers();
  }
}

/** Lets the event loop turn a few times, so that work a stream would start or finish shows. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await tick();
}

/** How a stream ends: its error, or 'ended without error'; the indices it yielded go into `seen`. */
export async function streamEnd(stream: AsyncIterable<{ index: number }>, seen: number[]): Promise<unknown> {
  try {
    for await (const item of stream) seen.push(item.index);
    return 'ended without error';
  } catch (error) {
    return error;
  }
}

/** `0, 1, …, count - 1`. */
export function indices(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

/** A token counter of a token a character, said to be exact. */
export const exactCharacters: TokenCounter = {
  exact: true,
  count: (input) => (typeof input === 'string' ? input.length : 0),
};

/** Rejects with the signal's reason as soon as it aborts (what a well-behaved transport does). */
export function waitForAbort(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal === undefined) return;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

interface Timer {
  wakeAt: number;
  sequence: number;
  fire(): void;
}

/**
 * A virtual clock. Every `sleep` is recorded. With `autoAdvance` (the default) time jumps to the earliest
 * pending wake-up once the event loop is otherwise idle (one `setImmediate` turn), so code under test runs
 * instantly while the virtual times it observes are exact. Without it, sleeps only end by abort.
 */
export class VirtualClock implements Clock {
  time = 0;
  /** Every requested sleep: when it was requested and for how long. */
  readonly sleeps: { at: number; ms: number }[] = [];
  randomCalls = 0;
  private readonly timers: Timer[] = [];
  private sequence = 0;
  private scheduled = false;
  private readonly randomValues: number[];
  private readonly autoAdvance: boolean;

  constructor(options: { random?: number[]; autoAdvance?: boolean } = {}) {
    this.randomValues = [...(options.random ?? [])];
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now = (): number => this.time;

  random = (): number => {
    this.randomCalls++;
    if (this.randomValues.length === 0) throw new Error('VirtualClock: no random value left');
    return this.randomValues.length === 1 ? this.randomValues[0]! : this.randomValues.shift()!;
  };

  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push({ at: this.time, ms });
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const position = this.timers.indexOf(timer);
        if (position >= 0) this.timers.splice(position, 1);
        reject(signal?.reason);
      };
      const timer: Timer = {
        wakeAt: this.time + Math.max(0, ms),
        sequence: this.sequence++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.schedule();
    });
  };

  /** Requested sleep durations, in request order. */
  get sleepDurations(): number[] {
    return this.sleeps.map((entry) => entry.ms);
  }

  private schedule(): void {
    if (!this.autoAdvance || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.advance());
  }

  private advance(): void {
    this.scheduled = false;
    if (this.timers.length === 0) return;
    this.timers.sort((a, b) => a.wakeAt - b.wakeAt || a.sequence - b.sequence);
    const next = this.timers.shift()!;
    this.time = Math.max(this.time, next.wakeAt);
    next.fire();
    if (this.timers.length > 0) this.schedule();
  }
}

/** The vector the scripted model returns for an input: `[n, 1]` for the numeric string `"n"`. */
export function vectorFor(input: unknown): Float32Array {
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  const value = Number(text);
  return Float32Array.of(Number.isFinite(value) ? value : text.length, 1);
}

/** `["0", "1", …, String(count - 1)]`. */
export function numberedInputs(count: number, start = 0): string[] {
  return Array.from({ length: count }, (_, index) => String(start + index));
}

export interface CallRecord {
  /** 1-based. */
  number: number;
  request: EmbedRequest;
  inputs: string[];
  /** Virtual time at which the call started (0 without a clock). */
  startedAt: number;
}

export interface ScriptedModelOptions {
  provider?: string;
  modelId?: string;
  capabilities?: Partial<EmbeddingCapabilities>;
  clock?: Clock;
  /**
   * Decides each call: throw to fail it, return a response to override the default, or return undefined
   * to answer with `vectorFor` of every input.
   */
  respond?: (call: CallRecord) => EmbedResponse | undefined | Promise<EmbedResponse | undefined>;
  /** Tokens reported per call; `false` reports none. Default: 10 per input. */
  usage?: false | ((inputs: string[]) => number);
}

export const BASE_CAPABILITIES: EmbeddingCapabilities = {
  maxInputsPerCall: 100,
  defaultDimensions: 2,
  inputTypes: ['query', 'document'],
  outputTypes: ['float'],
  modalities: ['text'],
  normalized: false,
  supportsParallelCalls: true,
};

/** A model whose every call is scripted by the test and recorded, with in-flight accounting. */
export class ScriptedModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly calls: CallRecord[] = [];
  inFlight = 0;
  maxInFlight = 0;
  completed = 0;
  private readonly options: ScriptedModelOptions;

  constructor(options: ScriptedModelOptions = {}) {
    this.options = options;
    this.provider = options.provider ?? 'scripted';
    this.modelId = options.modelId ?? 'scripted-1';
    this.capabilities = { ...BASE_CAPABILITIES, ...options.capabilities };
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const call: CallRecord = {
      number: this.calls.length + 1,
      request,
      inputs: request.inputs.map((input) => (typeof input === 'string' ? input : JSON.stringify(input))),
      startedAt: this.options.clock?.now() ?? 0,
    };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const custom = await this.options.respond?.(call);
      if (custom !== undefined) return custom;
      const response: EmbedResponse = {
        embeddings: request.inputs.map((input) => vectorFor(input)),
        warnings: [],
        response: { status: 200, headers: {}, requestId: `req-${call.number}` },
      };
      const usage = this.options.usage ?? ((inputs: string[]) => inputs.length * 10);
      if (usage !== false) response.usage = { inputTokens: usage(call.inputs) };
      return response;
    } finally {
      this.inFlight--;
      this.completed++;
    }
  }

  /** The inputs of every call, in call order. */
  get callInputs(): string[][] {
    return this.calls.map((call) => call.inputs);
  }
}

export { seededRandom } from '../src/testing.js';

/** Capabilities of a plain text model with one-value vectors, for hand-written test models. */
export function textCapabilities(overrides: Partial<EmbeddingCapabilities> = {}): EmbeddingCapabilities {
  return {
    maxInputsPerCall: 1,
    defaultDimensions: 1,
    inputTypes: [],
    outputTypes: ['float'],
    modalities: ['text'],
    normalized: false,
    supportsParallelCalls: true,
    ...overrides,
  };
}

/** The runtime's WebAssembly object (the compiler's lib knows WebAssembly only as a namespace of types). */
const webAssembly = (
  globalThis as unknown as { WebAssembly: { Instance: new (...args: never[]) => unknown } }
).WebAssembly;

/**
 * Makes every new WebAssembly instance fail as V8 fails one it cannot give memory to, until the returned
 * spy is restored.
 */
export function instancesShortOfMemory() {
  return (
    vi
      .spyOn(webAssembly, 'Instance')
      // biome-ignore lint/complexity/useArrowFunction: a mock of a constructor is called with `new`, which an arrow refuses
      .mockImplementation(function () {
        throw new RangeError(
          'WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance',
        );
      } as never)
  );
}

/** One of the project's error classes: its name, and its `isInstance`, which holds across copies of core. */
interface ErrorKind<E> {
  readonly name: string;
  isInstance(value: unknown): value is E;
}

/** `error` as an error of `kind`; anything else fails the test, saying what it was. */
export function errorOf<E>(kind: ErrorKind<E>, error: unknown): E {
  expect(kind.isInstance(error), `expected an ${kind.name}, got ${String(error)}`).toBe(true);
  return error as E;
}

/** What `check` throws, which must be an error of `kind` (a return fails the test). */
export function thrownError<E>(kind: ErrorKind<E>, check: () => unknown): E {
  try {
    check();
  } catch (error) {
    return errorOf(kind, error);
  }
  return errorOf(kind, undefined);
}

/** What `run` (a promise, or a function called here) rejects or throws with: an error of `kind`. */
export async function rejectionOf<E>(
  kind: ErrorKind<E>,
  run: Promise<unknown> | (() => unknown),
): Promise<E> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (error) {
    return errorOf(kind, error);
  }
  return errorOf(kind, undefined);
}

export const invalidArgument = (error: unknown) => errorOf(InvalidArgumentError, error);
export const thrownInvalidArgument = (check: () => unknown) => thrownError(InvalidArgumentError, check);
export const invalidArgumentOf = (run: Promise<unknown> | (() => unknown)) =>
  rejectionOf(InvalidArgumentError, run);
export const thrownInvalidResponse = (check: () => unknown) => thrownError(InvalidResponseError, check);
export const invalidResponseOf = (run: Promise<unknown> | (() => unknown)) =>
  rejectionOf(InvalidResponseError, run);

/** A job's refusal: an `InvalidArgumentError` raised before `model` saw any call. */
export async function refusedBeforeAnyCall(
  run: (model: ScriptedModel) => Promise<unknown>,
  model = new ScriptedModel(),
): Promise<InvalidArgumentError> {
  const error = await invalidArgumentOf(run(model));
  expect(model.calls).toHaveLength(0);
  return error;
}

export interface RerankCall {
  number: number;
  request: RerankRequest;
}

/**
 * A reranker whose score for a document is the number at its start ("7 cats" scores 7), answered best
 * first and trimmed to `topN` like the real APIs. `respond` can fail or replace a call.
 */
export class ScriptedReranker implements RerankingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'rerank-co';
  readonly modelId = 'rr-1';
  readonly capabilities: RerankingCapabilities;
  readonly calls: RerankCall[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    capabilities: Partial<RerankingCapabilities> = {},
    private readonly respond?: (
      call: RerankCall,
    ) => RerankResponse | undefined | Promise<RerankResponse | undefined>,
    private readonly usage: false | number = 3,
  ) {
    this.capabilities = { maxDocumentsPerCall: 100, supportsParallelCalls: true, ...capabilities };
  }

  async doRerank(request: RerankRequest): Promise<RerankResponse> {
    const call = { number: this.calls.length + 1, request };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const custom = await this.respond?.(call);
      if (custom !== undefined) return custom;
      const results = request.documents
        .map((document, index) => ({ index, relevanceScore: Number.parseFloat(document) }))
        .sort((a, b) => b.relevanceScore - a.relevanceScore)
        .slice(0, request.topN ?? request.documents.length);
      const response: RerankResponse = { results, warnings: [], response: { status: 200, headers: {} } };
      if (this.usage !== false) response.usage = { inputTokens: this.usage * request.documents.length };
      return response;
    } finally {
      this.inFlight--;
    }
  }

  get callDocuments(): string[][] {
    return this.calls.map((call) => call.request.documents);
  }

  get requests(): RerankRequest[] {
    return this.calls.map((call) => call.request);
  }
}

/** A batch job `batches/1` of one pending request in `state`. */
export function batchJob(state: BatchJobState): BatchJob {
  return {
    id: 'batches/1',
    provider: 'p',
    modelId: 'm',
    state,
    requestCounts: { total: 1, succeeded: 0, failed: 0, pending: 1 },
  };
}

/**
 * A batch job `get` that answers each poll from `script` (a state, or an error to throw; the last entry
 * answers every later poll), recording each poll's id, options and time.
 */
export function scriptedBatchGet(script: (BatchJobState | Error)[], clock: VirtualClock) {
  const polls: { id: string; options: BatchJobCallOptions; at: number }[] = [];
  const get = async (id: string, options: BatchJobCallOptions): Promise<BatchJob> => {
    polls.push({ id, options, at: clock.now() });
    const next = script[Math.min(polls.length - 1, script.length - 1)]!;
    if (next instanceof Error) throw next;
    return batchJob(next);
  };
  return { get, polls };
}

/** An attempt policy for `withRetries`: three retries, one minute of timeout and of longest wait, no hooks. */
export function attemptPolicy(
  overrides: Partial<AttemptPolicy> & Pick<AttemptPolicy, 'limiter' | 'clock'>,
): AttemptPolicy {
  return {
    provider: 'p',
    modelId: 'm',
    maxRetries: 3,
    maxRetryDelayMs: 60_000,
    timeoutMs: 60_000,
    exactTokens: false,
    onRetry: undefined,
    onWait: undefined,
    ...overrides,
  };
}

/** An attempt's answer that reports no usage and no headers. */
export const noAnswer = (): AttemptAnswered => ({ reportedTokens: undefined, headers: {} });

/** Runs `run` with the WebAssembly kernels switched off, so only the JavaScript loops answer. */
export function javascriptOnly<T>(run: () => T): T {
  setWebAssemblyEnabled(false);
  try {
    return run();
  } finally {
    setWebAssemblyEnabled(true);
  }
}

/**
 * A contextualized model of 10 documents a call (unless `limits` say otherwise) that answers `vectorFor`
 * of every chunk, and the documents of each call it was sent.
 */
export function contextualizedModel(limits: Partial<ContextualizedCapabilities> = {}) {
  const sent: string[][][] = [];
  const model: ContextualizedEmbeddingModel = {
    specificationVersion: 'v1',
    provider: 'ctx',
    modelId: 'ctx-1',
    capabilities: BASE_CAPABILITIES,
    contextualizedCapabilities: { maxDocumentsPerCall: 10, ...limits },
    doEmbed: async () => {
      throw new Error('must not be called');
    },
    doEmbedContextualized: async (request) => {
      sent.push(request.documents);
      return {
        embeddings: request.documents.map((document) => document.map((chunk) => vectorFor(chunk))),
        warnings: [],
        response: { status: 200, headers: {} },
      };
    },
  };
  return { model, sent };
}

/**
 * A limiter store that records what each admission took from the token budget, and what each settlement
 * gave back to it (or charged it more, a negative amount).
 */
export function tokenRecordingStore() {
  const memory = createMemoryLimiterStore();
  const taken: number[] = [];
  const adjusted: number[] = [];
  const store: LimiterStore = {
    ...memory,
    async take(key, bucket, amount, now) {
      const wait = await memory.take(key, bucket, amount, now);
      if (wait === 0 && key.endsWith(':tokens')) taken.push(amount);
      return wait;
    },
    async adjust(key, bucket, amount, now) {
      if (key.endsWith(':tokens')) adjusted.push(amount);
      await memory.adjust(key, bucket, amount, now);
    },
  };
  return { store, taken, adjusted };
}
