/**
 * A small, correct provider for a fictional OpenAI-compatible API with input types ("Acme": `input`,
 * `dimensions`, `encoding_format`, `input_type` of `query` / `passage`, at most 16 inputs per request).
 * The mutants beside it each break it in one realistic way; the suite's own test proves every mutant
 * is rejected while this reference passes.
 */
import {
  createTransport,
  decodeBase64Vectors,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedRequest,
  type EmbedResponse,
  type FetchFunction,
  type InputType,
  InvalidResponseError,
  type ParsedError,
  requestJson,
} from '@embedkit/core/provider';
import type { Dispatcher } from 'undici';
import type { CreateModelOptions, WireProfile } from '../src/types.js';
import { openAICompatibleWire } from '../src/wires/openai-compatible.js';

export const ACME_MAX_INPUTS = 16;

export const ACME_INPUT_TYPES: Partial<Record<InputType, string>> = { query: 'query', document: 'passage' };

/** The wire the suite checks Acme against. */
export const acmeWire: WireProfile = {
  ...openAICompatibleWire({ path: '/v1/embeddings', maxInputsPerRequest: ACME_MAX_INPUTS }),
  inputTypeOf(body) {
    const word = (body as { input_type?: string }).input_type;
    return (
      (Object.entries(ACME_INPUT_TYPES).find(([, value]) => value === word)?.[0] as InputType | undefined) ??
      undefined
    );
  },
};

export interface AcmeSettings {
  apiKey: string;
  baseURL: string;
  fetch?: FetchFunction;
  dispatcher?: Dispatcher;
  headers?: Record<string, string>;
}

export function parseAcmeError(body: unknown): ParsedError {
  const error = (body as { error?: { message?: string; code?: string | null; type?: string } }).error;
  if (error === undefined) return {};
  const out: ParsedError = {};
  if (error.message !== undefined) out.message = error.message;
  if (error.code === 'insufficient_quota') out.quotaExhausted = true;
  if (error.code === 'max_tokens_per_request') out.batchTooLarge = true;
  return out;
}

export const acmeCapabilities: EmbeddingCapabilities = {
  maxInputsPerCall: ACME_MAX_INPUTS,
  maxTokensPerCall: 50_000,
  defaultDimensions: 32,
  dimensions: { min: 8, max: 32 },
  inputTypes: ['query', 'document'],
  outputTypes: ['float'],
  modalities: ['text'],
  normalized: true,
  supportsParallelCalls: true,
};

/** The reference model. Mutants subclass it and override one step. */
export class AcmeEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string = 'acme';
  readonly capabilities: EmbeddingCapabilities = acmeCapabilities;
  protected readonly transport;

  constructor(
    readonly modelId: string,
    protected readonly settings: AcmeSettings,
  ) {
    this.transport = createTransport(settings);
  }

  protected requestBody(request: EmbedRequest): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.modelId,
      input: request.inputs,
      encoding_format: 'base64',
    };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (request.inputType !== undefined) body.input_type = ACME_INPUT_TYPES[request.inputType];
    return body;
  }

  protected send(request: EmbedRequest) {
    return requestJson({
      transport: this.transport,
      provider: this.provider,
      url: `${this.settings.baseURL}/embeddings`,
      headers: {
        authorization: `Bearer ${this.settings.apiKey}`,
        ...this.settings.headers,
        ...request.headers,
      },
      body: this.requestBody(request),
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      secrets: [this.settings.apiKey],
      parseError: parseAcmeError,
    });
  }

  protected order(data: { index: number; embedding: string }[]): string[] {
    const ordered = new Array<string>(data.length);
    for (const item of data) ordered[item.index] = item.embedding;
    return ordered;
  }

  protected usage(body: { usage?: { prompt_tokens?: number } }): EmbedResponse['usage'] {
    const tokens = body.usage?.prompt_tokens;
    return tokens === undefined ? undefined : { inputTokens: tokens };
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const response = await this.send(request);
    const body = response.body as {
      data?: { index: number; embedding: string }[];
      usage?: { prompt_tokens?: number };
    };
    if (!Array.isArray(body?.data))
      throw new InvalidResponseError('acme: no data in the response', { provider: this.provider });
    const out: EmbedResponse = {
      embeddings: decodeBase64Vectors(this.order(body.data), 'float'),
      warnings: [],
      response: { status: response.status, headers: response.headers },
    };
    const usage = this.usage(body);
    if (usage !== undefined) out.usage = usage;
    return out;
  }
}

export type ModelFactory = (options: CreateModelOptions) => EmbeddingModel;

export const createAcmeModel: ModelFactory = ({ modelId, ...settings }) =>
  new AcmeEmbeddingModel(modelId, settings);
