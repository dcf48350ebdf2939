import type { EmbeddingModel, InputType } from '@embedkit/core';
import type { FetchFunction } from '@embedkit/core/provider';
import type { Cassette } from '@embedkit/replay';
import type { Dispatcher } from 'undici';

export type { Cassette } from '@embedkit/replay';

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
  headers: Record<string, string>;
  body: unknown;
}

/**
 * How a provider's wire looks, in a few functions. The suite generates every scenario from this: it
 * builds answers for any number of inputs and reads back what the provider sent.
 */
export interface WireProfile {
  /** Method and path (with query) the provider must call for a call of `inputCount` inputs. */
  endpoint(call: { inputCount: number; modelId: string }): { method: 'POST'; path: string };
  /** The input texts in a request body, in order. */
  inputsOf(body: unknown): string[];
  /** The vector length the request asked for, if any. */
  dimensionsOf(body: unknown): number | undefined;
  /** The unified input type the request carries, read back from the provider's own word. */
  inputTypeOf(body: unknown): InputType | undefined;
  /**
   * A success body for this request holding `vectors` (one per input, in input order). `order` lists
   * the positions in the order the items should appear on the wire (the API may not keep input order);
   * wires that cannot reorder ignore it. `usageTokens` is absent for APIs that report none.
   */
  successBody(request: {
    body: unknown;
    vectors: number[][];
    order: number[];
    usageTokens?: number;
  }): unknown;
  /** An error body in the provider's format. `kind` names special errors the provider must recognise. */
  errorBody(error: {
    status: number;
    message: string;
    kind?: 'quota-exhausted' | 'batch-too-large';
  }): unknown;
  /** Whether the API reports token usage. */
  reportsUsage: boolean;
  /**
   * The API's documented limit on inputs per request. The fake server answers 400 above it, so a
   * model that declares a larger `maxInputsPerCall` fails the split scenarios.
   */
  maxInputsPerRequest?: number;
  /** The header that carries the key, and its value for `apiKey`. */
  authHeader(apiKey: string): { name: string; value: string };
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
  /** Re-run every generated scenario with `maxInputsPerCall: 2` and `concurrency: 1`. Default true. */
  rerunWithTinyBatches?: boolean;
  /** With `EMBEDKIT_RECORD=1`, the environment variable holding a real key; cassettes are then recorded live. */
  recordApiKeyEnvironmentVariable?: string;
}
