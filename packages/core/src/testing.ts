/**
 * Test helpers for code that uses embedkit: a deterministic model that makes no HTTP calls.
 * Import from `@embedkit/core/testing`.
 */

import type { Clock } from './engine/clock.js';
import { checkCapabilityNames } from './engine/settings.js';
import { utf8Length } from './engine/token-counter.js';
import { refuseUnknownSettings, type SettingNames } from './setting-names.js';
import type {
  EmbeddingCapabilities,
  EmbeddingModel,
  EmbedInput,
  EmbedRequest,
  EmbedResponse,
} from './types.js';
import { wasmKernels } from './wasm/kernels.js';

/** How the engine packs a job's items into calls, for tests that predict its calls. */
export { type ItemCost, type PackLimits, planCallSizes } from './engine/batcher.js';

export interface MockEmbeddingModelOptions {
  provider?: string;
  modelId?: string;
  /** Vector length. Default 8. */
  dimensions?: number;
  capabilities?: Partial<EmbeddingCapabilities>;
  /** Your own vectors; default: a unit vector derived from a hash of the input, the same for the same input. */
  embed?: (input: EmbedInput, request: EmbedRequest) => Float32Array | readonly number[];
  /** Tokens reported per input; `false` reports no usage. Default: a quarter of the UTF-8 length, rounded up. */
  usage?: false | ((input: EmbedInput) => number);
  /** Runs before each call; throw from it to simulate a failure (e.g. a `RateLimitError`). */
  beforeCall?: (request: EmbedRequest, callNumber: number) => void | Promise<void>;
}

function inputText(input: EmbedInput): string {
  if (typeof input === 'string') return input;
  if ('text' in input) return input.text;
  return JSON.stringify(input, (_key, value: unknown) =>
    value instanceof Uint8Array ? Array.from(value) : value,
  );
}

/** A unit vector seeded by FNV-1a of `text`: deterministic, spread over every dimension. */
export function hashVector(text: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    seed ^= text.charCodeAt(index);
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  const vector = new Float32Array(dimensions);
  let sum = 0;
  for (let index = 0; index < dimensions; index++) {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const value = seed / 0x100000000 - 0.5;
    vector[index] = value;
    sum += value * value;
  }
  const length = Math.sqrt(sum) || 1;
  for (let index = 0; index < dimensions; index++) vector[index]! /= length;
  return vector;
}

const MOCK_OPTIONS: SettingNames<MockEmbeddingModelOptions> = {
  provider: true,
  modelId: true,
  dimensions: true,
  capabilities: true,
  embed: true,
  usage: true,
  beforeCall: true,
};

/** An in-memory `EmbeddingModel` that records every call. */
export class MockEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  /** Every request received, in order. */
  readonly calls: EmbedRequest[] = [];
  private readonly options: MockEmbeddingModelOptions;

  constructor(options: MockEmbeddingModelOptions = {}) {
    refuseUnknownSettings(options, MOCK_OPTIONS, 'MockEmbeddingModel', { noun: 'option' });
    checkCapabilityNames(options.capabilities, 'MockEmbeddingModel capabilities');
    this.options = options;
    this.provider = options.provider ?? 'mock';
    this.modelId = options.modelId ?? 'mock-embedding';
    const dimensions = options.dimensions ?? 8;
    this.capabilities = {
      maxInputsPerCall: 2048,
      defaultDimensions: dimensions,
      dimensions: { min: 1, max: dimensions },
      inputTypes: ['query', 'document'],
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: true,
      supportsParallelCalls: true,
      ...options.capabilities,
    };
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    this.calls.push(request);
    request.signal?.throwIfAborted();
    await this.options.beforeCall?.(request, this.calls.length);
    const dimensions = request.dimensions ?? this.capabilities.defaultDimensions ?? 8;
    const embeddings = request.inputs.map((input) => {
      const custom = this.options.embed?.(input, request);
      return custom === undefined ? hashVector(inputText(input), dimensions) : Float32Array.from(custom);
    });
    const response: EmbedResponse = {
      embeddings,
      warnings: [],
      response: { status: 200, headers: {}, modelId: this.modelId },
    };
    if (this.options.usage !== false) {
      const count =
        this.options.usage ?? ((input: EmbedInput) => Math.ceil(utf8Length(inputText(input)) / 4));
      response.usage = { inputTokens: request.inputs.reduce((sum, input) => sum + count(input), 0) };
    }
    return response;
  }
}

/** One request a `fakeFetch` received. */
export interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** The JSON body, parsed. */
  body: unknown;
}

/**
 * A `fetch` double for provider tests: records each request and answers from `replies` in order (a
 * status and a JSON body, or a raw string). Throws when asked for more requests than it has replies.
 */
export function fakeFetch(replies: { status?: number; body: unknown; headers?: Record<string, string> }[]): {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  requests: CapturedRequest[];
} {
  const requests: CapturedRequest[] = [];
  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    requests.push({
      url: input,
      method: init.method ?? 'GET',
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const reply = replies[requests.length - 1];
    if (reply === undefined) throw new Error(`unexpected request ${requests.length} to ${input}`);
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(text, {
      status: reply.status ?? 200,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  return { fetch, requests };
}

/** A small seeded generator (mulberry32), uniform in [0, 1): random test data that a seed reproduces. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether core's WebAssembly kernels (float JSON parsing, base64, finiteness checks, search) compile and
 * load in this runtime. Where they do not, JavaScript gives the same results, more slowly and unseen: a
 * test of a runtime the kernels should serve asserts this to see that they do.
 */
export function webAssemblyKernelsLoaded(): boolean {
  return wasmKernels() !== undefined;
}

/**
 * A clock for tests of waits (pass it as the `clock` setting): `sleep` returns at once, moving `now` on by
 * the time asked and recording it in `sleeps`, so a `Retry-After` or a backoff is checked without waiting;
 * `random` is 0.5, so the backoff's jitter is the middle of its range. `now` starts at `start`.
 */
export function recordingClock(start = Date.UTC(2026, 0, 1)): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms: number) {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
  };
}

/**
 * What `promise` was rejected with, for a test that expects a call to fail; it fails itself, with an
 * `Error` that says so, when the promise resolves instead.
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('the call resolved; it had to fail');
}

/**
 * Makes each call of `calls` in turn through `model` (one behind a cache, say), embedding `input`, and
 * says for each how many requests it sent: how much `sent` (a fake server's list of requests) grew, 0
 * when the cache answered it.
 */
export async function requestsPerCall(
  model: EmbeddingModel,
  sent: { readonly length: number },
  calls: readonly Omit<EmbedRequest, 'inputs'>[],
  input: EmbedInput = 'caf\u00e9',
): Promise<number[]> {
  const counts: number[] = [];
  for (const call of calls) {
    const before = sent.length;
    await model.doEmbed({ ...call, inputs: [input] });
    counts.push(sent.length - before);
  }
  return counts;
}

/** One call of a `CacheStore` method with arguments the interface does not take, and how it is refused. */
export interface BadCacheStoreCall {
  method: 'get' | 'set' | 'getMany' | 'setMany';
  args: readonly unknown[];
  /** The `argument` of the `InvalidArgumentError` it must get. */
  argument: string;
  /** Its message, exactly. */
  message: string;
}

const VECTOR_CLASSES = 'a Float32Array, an Int8Array or a Uint8Array';

/**
 * Calls every cache store must refuse with an `InvalidArgumentError` before it reads or writes anything
 * (as `checkCacheStoreArguments` refuses them), for a store's own tests: skip the rows of a method the
 * store does not have.
 */
export const BAD_CACHE_STORE_CALLS: readonly BadCacheStoreCall[] = [
  { method: 'get', args: [5], argument: 'key', message: "A cache store's get takes key as a string, got 5." },
  {
    method: 'get',
    args: [undefined],
    argument: 'key',
    message: "A cache store's get takes key as a string, got undefined.",
  },
  {
    method: 'get',
    args: [['k']],
    argument: 'key',
    message: "A cache store's get takes key as a string, got an array.",
  },
  {
    method: 'set',
    args: [5, Float32Array.of(1)],
    argument: 'key',
    message: "A cache store's set takes key as a string, got 5.",
  },
  {
    method: 'set',
    args: ['k', [0.5, 1]],
    argument: 'value',
    message: `A cache store's set takes value as ${VECTOR_CLASSES}, got an array.`,
  },
  {
    method: 'set',
    args: ['k', Float64Array.of(0.5)],
    argument: 'value',
    message: `A cache store's set takes value as ${VECTOR_CLASSES}, got a Float64Array.`,
  },
  {
    method: 'set',
    args: ['k', Int16Array.of(1)],
    argument: 'value',
    message: `A cache store's set takes value as ${VECTOR_CLASSES}, got an Int16Array.`,
  },
  {
    method: 'set',
    args: ['k', undefined],
    argument: 'value',
    message: `A cache store's set takes value as ${VECTOR_CLASSES}, got undefined.`,
  },
  {
    method: 'getMany',
    args: ['abc'],
    argument: 'keys',
    message: `A cache store's getMany takes keys as a list, got "abc".`,
  },
  {
    method: 'getMany',
    args: [['a', 5]],
    argument: 'keys',
    message: "A cache store's getMany takes keys[1] as a string, got 5.",
  },
  {
    method: 'setMany',
    args: [{ k: Float32Array.of(1) }],
    argument: 'entries',
    message: "A cache store's setMany takes entries as a list, got an object with k.",
  },
  {
    method: 'setMany',
    args: [[{ key: 'k', value: Float32Array.of(1) }]],
    argument: 'entries',
    message: "A cache store's setMany takes entries[0] as a list, got an object with key, value.",
  },
  {
    method: 'setMany',
    args: [
      [
        ['k', Float32Array.of(1)],
        [5, Float32Array.of(1)],
      ],
    ],
    argument: 'entries',
    message: "A cache store's setMany takes entries[1][0] as a string, got 5.",
  },
  {
    method: 'setMany',
    args: [[['k', [0.5]]]],
    argument: 'entries',
    message: `A cache store's setMany takes entries[0][1] as ${VECTOR_CLASSES}, got an array.`,
  },
];

/**
 * What calling `store[call.method](...call.args)` threw or rejected with, or undefined when it did
 * neither (a store's method may refuse either way).
 */
export async function cacheStoreRefusal(store: object, call: BadCacheStoreCall): Promise<unknown> {
  try {
    await (store as Record<string, (...args: readonly unknown[]) => unknown>)[call.method]!(...call.args);
  } catch (error) {
    return error;
  }
  return undefined;
}
