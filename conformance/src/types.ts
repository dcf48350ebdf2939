import type { EmbeddingModel, InputType, OutputType } from '@embedkit/core';
import type { FetchFunction } from '@embedkit/core/provider';
import type { Cassette } from '@embedkit/replay';
import type { Dispatcher } from 'undici';

export type { Cassette, CassetteCall } from '@embedkit/replay';

/** What the suite hands `createModel`: exactly one of `fetch` (fetch transport) or `dispatcher` (undici transport). */
export interface CreateModelOptions {
  modelId: string;
  apiKey: string;
  baseURL: string;
  fetch?: FetchFunction;
  dispatcher?: Dispatcher;
  headers?: Record<string, string>;
}

/** One HTTP request as the suite saw it. */
export interface WireRequest {
  method: string;
  /** Path and query, e.g. `/v1/embeddings`. */
  path: string;
  /**
   * Lower-case names; a header sent more than once holds its values joined with `, `, in the order sent
   * (as `fetch` joins them), on both transports.
   */
  headers: Record<string, string>;
  body: unknown;
  /**
   * The request's place among those the provider sent through the transport (1 for the first), when the
   * interceptor can tell: always on the undici transport, and on the fetch one for a body sent as text.
   */
  number?: number;
}

/** How vectors travel in an answer: base64 of the raw little-endian values, or JSON numbers. */
export type VectorEncoding = 'base64' | 'float';

/** An error the provider must recognise from its body, beyond what the status says. */
export type ErrorKind = 'quota-exhausted' | 'batch-too-large';

/** One input of a request body as the wire carries it. Request-wide fields repeat on every item. */
export interface WireItem {
  text: string;
  /** The document title sent with this input, if any. */
  title?: string | undefined;
  inputType?: InputType | undefined;
  dimensions?: number | undefined;
}

/**
 * Where this API states how long to wait before retrying. Each form declared here becomes a scenario
 * that measures the wait on the injected clock.
 */
export interface WaitForms {
  /**
   * The headers the API sends with a 429: `retry-after` (seconds or an HTTP-date) and `retry-after-ms`.
   * Default `['retry-after']`, the HTTP standard.
   */
  headers?: readonly ('retry-after' | 'retry-after-ms')[];
  /** A 429 body carrying a structured wait, e.g. Gemini's `RetryInfo.retryDelay`. */
  structuredBody?(waitMs: number): unknown;
  /** A 429 body whose message says when to try again, e.g. "Please try again in 2.5s." */
  messageBody?(waitMs: number): unknown;
}

/** API-specific error signals. A scenario that needs one is generated only when it is declared. */
export interface ErrorSignals {
  /** The API has a 429 that means a used-up quota (never retried): `errorBody({ kind: 'quota-exhausted' })`. */
  quotaExhausted?: boolean;
  /** The API has a 4xx that means "too many inputs or tokens in this call" (the engine bisects it). */
  batchTooLarge?: boolean;
}

/** One option of the provider's option schema with an example value, checked on every request of a split job. */
export interface OptionExample {
  /** Names the scenario: `option-<name>`. */
  name: string;
  /** Sent as `providerOptions[model.provider]`. */
  options: Record<string, unknown>;
  /** What the option puts on the wire, read from one request body; must equal `expected` on every request. */
  onWire?(body: unknown): unknown;
  expected?: unknown;
  /**
   * For an option that changes vectors on the client: the fake API answers vectors twice unit length,
   * and the result must be them `as-sent` or scaled back to `unit-length`.
   */
  vectors?: 'as-sent' | 'unit-length';
}

/** What every wire profile says, whatever the endpoint: errors, auth, usage, waits and signals. */
export interface WireBasics {
  /** An error body in the provider's format. `kind` names special errors the provider must recognise. */
  errorBody(error: { status: number; message: string; kind?: ErrorKind }): unknown;
  /** Whether the API reports token usage. */
  reportsUsage: boolean;
  /** The header that carries the key, and its value for `apiKey`. */
  authHeader(apiKey: string): { name: string; value: string };
  /** Where the API states waits. Default: the `retry-after` header only. */
  waits?: WaitForms;
  /** The special errors this API has. Default: none, so their scenarios are skipped (and reported). */
  signals?: ErrorSignals;
  /**
   * The response header the API names each request by (`x-request-id`, `request-id`, …). When declared,
   * the suite's answers carry it and every result must report it; otherwise they carry `x-request-id`
   * and the id is not checked.
   */
  requestIdHeader?: string;
}

/** Readers of the vector settings of a request: shared by the embeddings and contextualized wires. */
export interface VectorSettingsWire {
  /** The vector length the request asked for, if any. */
  dimensionsOf(body: unknown): number | undefined;
  /** The unified input type the request carries, read back from the provider's own word. */
  inputTypeOf(body: unknown): InputType | undefined;
  /** The output type the request asked for (the API's default when it names none). Enables the output-types family. */
  outputTypeOf?(body: unknown): OutputType;
  /**
   * How the request asked float vectors to travel. When declared, `successBody` must honour its
   * `encoding` argument; it enables the answer-encoding and malformed-base64 scenarios.
   */
  encodingOf?(body: unknown): VectorEncoding;
  /** Whether the API will cut over-long inputs of this request, its own default included. Enables the truncation family. */
  truncateOf?(body: unknown): boolean;
}

/**
 * How a provider's wire looks, in a few functions. The suite generates every scenario from this: it
 * builds answers for any number of inputs and reads back what the provider sent. Optional fields switch
 * on more families; a family whose fields are absent is skipped and reported with the reason.
 */
export interface WireProfile extends WireBasics, VectorSettingsWire {
  /** Method and path (with query) the provider must call for a call of `inputCount` inputs. */
  endpoint(call: { inputCount: number; modelId: string }): { method: 'POST'; path: string };
  /** The input texts in a request body, in order. */
  inputsOf(body: unknown): string[];
  /**
   * The request body read item by item: per input, what travels with it. Needed for per-input fields
   * (titles) and for APIs that repeat settings on every item (Gemini); without it every item is read
   * through `inputsOf`, `inputTypeOf` and `dimensionsOf`.
   */
  itemsOf?(body: unknown): WireItem[];
  /**
   * A success body for this request holding `vectors` (one per input, in input order: floats, or the
   * integers of a quantized output type). `order` lists the positions in the order the items should
   * appear on the wire (wires that cannot reorder ignore it). `usageTokens` is absent for APIs that report
   * none, and for an answer that carries no usage: the body then holds no usage at all, not a count of 0.
   * `encoding`, when given, is how the vectors must travel whatever the request asked.
   */
  successBody(request: {
    body: unknown;
    vectors: number[][];
    order: number[];
    usageTokens?: number;
    encoding?: VectorEncoding;
  }): unknown;
  /** The answer names each vector's index, so answers out of order, with an index twice or missing, can be built. */
  indexedAnswers?: boolean;
  /**
   * The API's documented limit on inputs per request. The fake server answers 400 above it, so a
   * model that declares a larger `maxInputsPerCall` fails the limit scenarios.
   */
  maxInputsPerRequest?: number;
  /** The API's documented limit on the summed tokens of one request (the fake server answers 400 above it). */
  maxTokensPerRequest?: number;
  /**
   * The API's documented limit on the tokens of one input, for this wire's model (the fake server answers
   * 400 above it, counting a token a quarter of the input's UTF-8 bytes). The model must declare
   * `maxTokensPerInput` within it, so that an input over it is refused before it is sent.
   */
  maxTokensPerInput?: number;
  /**
   * The model a request names, as the API reads it (from the body, or the path), without any prefix the
   * API adds (`models/`). Enables `model-named`: every request names the model the job asked for.
   */
  modelOf?(request: WireRequest): string | undefined;
  /**
   * The API's vector lengths for this wire's model: the length it answers when none is asked, and the
   * lengths it takes (a range, or a list; absent for a model of fixed length). The fake API answers
   * `default` when no length is asked and refuses any other it does not take; `declared-dimensions`
   * holds the model's `defaultDimensions` and `dimensions` to them.
   */
  vectorLengths?: { default: number; allowed?: { min: number; max: number } | readonly number[] };
  /**
   * The fields of a request body the API does not know, each named by its path (`encoding_type`,
   * `requests[0].task`). Enables `request-fields`, which sends a job of every kind the suite can make and
   * fails on any request carrying one: real APIs refuse them, or worse, ignore them.
   */
  unknownFields?(body: unknown): string[];
  /** The API takes a title per input (`{ text, title }`), sent with this input type. */
  titles?: { inputType?: InputType };
  /** Every option of the provider's option schema, each with an example value. */
  options?: readonly OptionExample[];
  /**
   * Rewrites a recorded answer into `encoding`, so a cassette recorded with one encoding replays for a
   * provider that asks for the other; `field` is the request field that asks for the encoding.
   */
  encodingSwap?: {
    field: string;
    reencode(body: unknown, encoding: VectorEncoding): unknown;
  };
}

export interface DescribeEmbeddingProviderOptions {
  /** Shown in test names, e.g. `openai`. */
  name: string;
  /** Builds a model that talks to `baseURL` through the given transport. */
  createModel(options: CreateModelOptions): EmbeddingModel;
  /** The API root the provider calls, e.g. `https://api.openai.com/v1`. */
  baseURL: string;
  /** The model the generated scenarios use. */
  modelId: string;
  wire: WireProfile;
  /** Cassettes to replay: objects, or a directory of `*.json` files. */
  cassettes?: Cassette[] | string;
  /** Scenario ids that are known to fail, each with its reason. One that passes fails the run. */
  expectedFailures?: Record<string, string>;
  /** Provider-specific tests, registered inside the suite's `describe`. */
  additionalTests?: () => void;
  /** Re-run the splitting families with `maxInputsPerCall: 2` and `concurrency: 1`. Default true. */
  rerunWithTinyBatches?: boolean;
  /** With `EMBEDKIT_RECORD=1`, the environment variable holding a real key; cassettes are then recorded live. */
  recordApiKeyEnvironmentVariable?: string;
}
