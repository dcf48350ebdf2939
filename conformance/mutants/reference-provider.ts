/**
 * A small, correct provider for a fictional API ("Acme"), built on core's provider helpers. Its
 * `POST /v1/embeddings` is OpenAI's wire plus: `input_type` (`query` / `passage`), `output_dtype` for
 * the quantized types, `truncate` (the API cuts unless told `false`), per-input `titles`, a `user` option,
 * a structured `retry_after` in 429 bodies, an `acme-version` header naming the format asked; at most
 * 16 inputs and 50,000 tokens per request. The mutants
 * beside it each break it in one realistic way; the suite's own test proves every mutant is rejected by
 * the scenarios it names while this reference passes.
 */
import {
  createTransport,
  decodeAnswer,
  decodeVectors,
  type Embedding,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedRequest,
  type EmbedResponse,
  type FetchFunction,
  type InputType,
  inOrder,
  inputText,
  type OutputType,
  type ParsedError,
  parseDuration,
  parseResponse,
  readProviderOptions,
  requestJson,
  type SafeParser,
  type Transport,
  type Warning,
} from '@embedkit/core/provider';
import type { Dispatcher } from 'undici';
import type { CreateModelOptions, OptionExample, VectorEncoding, WireProfile } from '../src/types.js';
import { openAICompatibleWire, openAIStyleAnswer } from '../src/wires/openai-compatible.js';

/** The API version every Acme request names in its `acme-version` header. */
export const ACME_VERSION = '2024-06-01';

export const ACME_MAX_INPUTS = 16;
export const ACME_MAX_TOKENS = 50_000;
export const ACME_MAX_TOKENS_PER_INPUT = 2_048;

export const ACME_INPUT_TYPES: Partial<Record<InputType, string>> = { query: 'query', document: 'passage' };

interface AcmeBody {
  input?: string[];
  input_type?: string;
  output_dtype?: OutputType;
  truncate?: boolean;
  titles?: (string | null)[];
  dimensions?: number;
  encoding_format?: string;
  user?: string;
}

const inputTypeOf = (body: unknown): InputType | undefined => {
  const word = (body as AcmeBody).input_type;
  return Object.entries(ACME_INPUT_TYPES).find(([, value]) => value === word)?.[0] as InputType | undefined;
};

const userOption: OptionExample = {
  name: 'user',
  options: { user: 'user-1234' },
  onWire: (body) => (body as AcmeBody).user,
  expected: 'user-1234',
};

const compatible = openAICompatibleWire({
  path: '/v1/embeddings',
  maxInputsPerRequest: ACME_MAX_INPUTS,
  maxTokensPerRequest: ACME_MAX_TOKENS,
  maxTokensPerInput: ACME_MAX_TOKENS_PER_INPUT,
  requestFields: ['input_type', 'output_dtype', 'truncate', 'titles'],
  vectorLengths: { default: 32, allowed: { min: 8, max: 32 } },
  options: [userOption],
});

/** The wire the suite checks Acme against. */
export const acmeWire: WireProfile = {
  ...compatible,
  requestIdHeader: 'x-request-id',
  inputTypeOf,
  itemsOf: (body) => {
    const { input = [], titles, dimensions } = body as AcmeBody;
    return input.map((text, index) => ({
      text,
      title: titles?.[index] ?? undefined,
      inputType: inputTypeOf(body),
      dimensions,
    }));
  },
  outputTypeOf: (body) => (body as AcmeBody).output_dtype ?? 'float',
  // Acme cuts over-long inputs unless told `truncate: false`.
  truncateOf: (body) => (body as AcmeBody).truncate !== false,
  successBody: ({ body, vectors, order, usageTokens, encoding }) =>
    openAIStyleAnswer({
      model: (body as { model?: unknown }).model,
      vectors,
      order,
      outputType: (body as AcmeBody).output_dtype ?? 'float',
      encoding: encoding ?? compatible.encodingOf!(body),
      usageTokens,
    }),
  titles: { inputType: 'document' },
  waits: {
    ...compatible.waits,
    structuredBody: (waitMs) => ({
      error: {
        message: 'slow down',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
        retry_after: waitMs / 1_000,
      },
    }),
  },
};

/** The API root a path is joined to: the base URL without its trailing slashes, so the path keeps one `/`. */
export function apiRoot(baseURL: string): string {
  return baseURL.replace(/\/+$/, '');
}

export interface AcmeSettings {
  apiKey: string;
  baseURL: string;
  fetch?: FetchFunction;
  dispatcher?: Dispatcher;
  headers?: Record<string, string>;
}

/** "Please try again in 2.5s." */
const TRY_AGAIN = /try again in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)/i;

export function parseAcmeError(body: unknown): ParsedError {
  const error = (body as { error?: { message?: string; code?: string | null; retry_after?: number } }).error;
  if (error === undefined || error === null || typeof error !== 'object') return {};
  const out: ParsedError = {};
  if (typeof error.message === 'string') out.message = error.message;
  if (error.code === 'insufficient_quota') out.quotaExhausted = true;
  if (error.code === 'max_tokens_per_request') out.batchTooLarge = true;
  if (typeof error.retry_after === 'number') out.retryAfterMs = error.retry_after * 1_000;
  else {
    const wait = out.message?.match(TRY_AGAIN);
    const waitMs = wait ? parseDuration(wait[1]!) : undefined;
    if (waitMs !== undefined) out.retryAfterMs = waitMs;
  }
  return out;
}

/** Acme's options, `providerOptions.acme`: `user`, and nothing else (a misspelt option is refused). */
export const acmeOptionsSchema: SafeParser<{ user?: string }> = {
  safeParse(value) {
    const record = (value ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key !== 'user')
        return { success: false, error: { issues: [{ path: [key], message: 'unknown option' }] } };
    }
    if (record.user !== undefined && (typeof record.user !== 'string' || record.user === ''))
      return {
        success: false,
        error: { issues: [{ path: ['user'], message: 'must be a non-empty string' }] },
      };
    return { success: true, data: record as { user?: string } };
  },
};

export const acmeCapabilities: EmbeddingCapabilities = {
  maxInputsPerCall: ACME_MAX_INPUTS,
  maxTokensPerCall: ACME_MAX_TOKENS,
  maxTokensPerInput: ACME_MAX_TOKENS_PER_INPUT,
  defaultDimensions: 32,
  dimensions: { min: 8, max: 32 },
  inputTypes: ['query', 'document'],
  outputTypes: ['float', 'int8', 'uint8', 'binary', 'ubinary'],
  modalities: ['text'],
  normalized: true,
  supportsParallelCalls: true,
};

export interface AcmeItem {
  index: number;
  embedding: string | number[];
}

/** A response check for `parseResponse` without zod: the body must pass `test`, or the issue names `path`. */
export function shape<T>(test: (body: unknown) => boolean, path: string): SafeParser<T> {
  return {
    safeParse: (body) =>
      test(body)
        ? { success: true, data: body as T }
        : { success: false, error: { issues: [{ path: [path], message: 'missing or of the wrong type' }] } },
  };
}

const acmeEmbeddingsSchema = shape<{ data: AcmeItem[]; usage?: { prompt_tokens?: number } }>(
  (body) => Array.isArray((body as { data?: unknown })?.data),
  'data',
);

/** The reference model. Mutants subclass it and override one step. */
export class AcmeEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string = 'acme';
  readonly capabilities: EmbeddingCapabilities = acmeCapabilities;
  protected transport: Transport;

  constructor(
    readonly modelId: string,
    protected readonly settings: AcmeSettings,
  ) {
    this.transport = createTransport(settings);
  }

  protected requestBody(request: EmbedRequest, encoding: VectorEncoding = 'base64'): Record<string, unknown> {
    const options = readProviderOptions(acmeOptionsSchema, this.provider, request.providerOptions);
    const label = `${this.provider} model ${this.modelId}`;
    const body: Record<string, unknown> = {
      model: this.modelId,
      input: request.inputs.map((input, index) => inputText(input, index, label)),
      encoding_format: encoding,
      // The API cuts over-long inputs by default; embedkit never cuts silently.
      truncate: request.truncate === true,
    };
    const titles = request.inputs.map((input) =>
      typeof input === 'object' && 'title' in input ? (input.title ?? null) : null,
    );
    if (titles.some((title) => title !== null)) body.titles = titles;
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (request.inputType !== undefined) body.input_type = ACME_INPUT_TYPES[request.inputType];
    if (request.outputType !== undefined && request.outputType !== 'float')
      body.output_dtype = request.outputType;
    if (options.user !== undefined) body.user = options.user;
    return body;
  }

  /** The URL of `path` under the base URL given. */
  protected url(path: string): string {
    return `${apiRoot(this.settings.baseURL)}${path}`;
  }

  protected send(request: EmbedRequest) {
    return requestJson({
      transport: this.transport,
      provider: this.provider,
      url: this.url('/embeddings'),
      headers: {
        authorization: `Bearer ${this.settings.apiKey}`,
        'acme-version': ACME_VERSION,
        ...this.settings.headers,
        ...request.headers,
      },
      body: this.requestBody(request),
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      secrets: [this.settings.apiKey],
      parseError: (body) => this.parseError(body),
    });
  }

  protected parseError(body: unknown): ParsedError {
    return parseAcmeError(body);
  }

  /** Each vector at its `index`, every position filled once. */
  protected order(data: AcmeItem[], count: number): AcmeItem['embedding'][] {
    return inOrder(data, count, 'vectors', this.provider).map((item) => item.embedding);
  }

  protected decode(vectors: AcmeItem['embedding'][], outputType: OutputType): Embedding[] {
    return decodeVectors(vectors, outputType);
  }

  protected usage(body: { usage?: { prompt_tokens?: number } }): EmbedResponse['usage'] {
    const tokens = body.usage?.prompt_tokens;
    return tokens === undefined ? undefined : { inputTokens: tokens };
  }

  protected warnings(_request: EmbedRequest): Warning[] {
    return [];
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const response = await this.send(request);
    const body = parseResponse(acmeEmbeddingsSchema, response, this.provider, 'embeddings');
    const out: EmbedResponse = {
      // Decoding errors name this answer (provider, status, request id), as the suite requires.
      embeddings: decodeAnswer({ provider: this.provider, response }, () =>
        this.decode(this.order(body.data, request.inputs.length), request.outputType ?? 'float'),
      ),
      warnings: this.warnings(request),
      response: {
        status: response.status,
        headers: response.headers,
        ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
      },
    };
    const usage = this.usage(body);
    if (usage !== undefined) out.usage = usage;
    return out;
  }
}

export type ModelFactory = (options: CreateModelOptions) => EmbeddingModel;

export const createAcmeModel: ModelFactory = ({ modelId, ...settings }) =>
  new AcmeEmbeddingModel(modelId, settings);
