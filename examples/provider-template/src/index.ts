/**
 * A template for a third-party embedkit provider, for the fictional "Lumen" API:
 *   POST {baseURL}/embed  { model, texts: string[], dims?, purpose?: 'search_query' | 'search_document' }
 *   200 { vectors: number[][], tokens: number }      errors: { message, code }      auth: x-api-key
 * Copy this file, change the wire mapping, and prove it with `describeEmbeddingProvider` (see test/).
 */
import {
  checkProviderSettings,
  createTransport,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbeddingProvider,
  type EmbedRequest,
  type EmbedResponse,
  type HttpSettings,
  type InputType,
  InvalidArgumentError,
  type JsonEndpoint,
  loadApiKey,
  numberArraysToVectors,
  type ParsedError,
  parseResponse,
  postJson,
  readProviderOptions,
  type SettingNames,
  schema,
} from '@embedkit/core/provider';

export interface LumenSettings extends HttpSettings {
  /** Default: the `LUMEN_API_KEY` environment variable, read at each call. */
  apiKey?: string;
  /** Default `https://api.lumen.example/v2`. */
  baseURL?: string;
  headers?: Record<string, string>;
}

/** Lumen's words for the unified input types it supports. */
const PURPOSES: Partial<Record<InputType, string>> = { query: 'search_query', document: 'search_document' };

/** Lumen accepts at most 96 texts per request; vectors are unit length, 64 to 1024 dimensions. */
export const lumenCapabilities: EmbeddingCapabilities = {
  maxInputsPerCall: 96,
  maxTokensPerInput: 4096,
  defaultDimensions: 1024,
  dimensions: { min: 64, max: 1024 },
  inputTypes: ['query', 'document'],
  outputTypes: ['float'],
  modalities: ['text'],
  normalized: true,
  supportsParallelCalls: true,
};

/** Lumen has no options yet: the schema is strict, so a misspelt option is an error rather than ignored. */
const optionsSchema = schema.strictObject({});

// Lenient on responses: only the fields used; vectors are checked while they are copied, not by the schema.
const responseSchema = schema.object({
  vectors: schema.array(schema.custom<unknown[]>((value) => Array.isArray(value), 'expected an array')),
  tokens: schema.optional(schema.integer({ minimum: 0 })),
});

function parseLumenError(body: unknown): ParsedError {
  const { message, code } = body as { message?: unknown; code?: unknown };
  const out: ParsedError = {};
  if (typeof message === 'string') out.message = message;
  if (typeof code === 'string') {
    out.providerCode = code;
    if (code === 'credits_exhausted') out.quotaExhausted = true;
    if (code === 'batch_too_large') out.batchTooLarge = true;
  }
  return out;
}

/** Every setting, checked against `LumenSettings` by the compiler: a misspelt one is refused, not dropped. */
const SETTINGS: SettingNames<LumenSettings> = {
  fetch: true,
  dispatcher: true,
  maxResponseBytes: true,
  apiKey: true,
  baseURL: true,
  headers: true,
};

export function createLumen(settings: LumenSettings = {}): EmbeddingProvider {
  checkProviderSettings(settings, SETTINGS, 'createLumen');
  // Where Lumen is, how a call is authorised and how its errors read. The key is read at each call and
  // named in `secrets`, so no error message or field can hold it.
  const endpoint: JsonEndpoint = {
    provider: 'lumen',
    transport: createTransport(settings),
    resolve() {
      const apiKey = loadApiKey({
        apiKey: settings.apiKey,
        environmentVariables: ['LUMEN_API_KEY'],
        provider: 'lumen',
      });
      return {
        baseURL: settings.baseURL ?? 'https://api.lumen.example/v2',
        headers: { 'x-api-key': apiKey, ...settings.headers },
        secrets: [apiKey],
      };
    },
    parseError: parseLumenError,
    maxResponseBytes: settings.maxResponseBytes,
  };
  return {
    embedding(modelId: string): EmbeddingModel {
      return {
        specificationVersion: 'v1',
        provider: 'lumen',
        modelId,
        capabilities: lumenCapabilities,
        async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
          readProviderOptions(optionsSchema, 'lumen', request.providerOptions);
          const texts = request.inputs.map((input, index) => {
            if (typeof input === 'string') return input;
            if ('text' in input) return input.text;
            throw new InvalidArgumentError(`Input ${index} is not text; Lumen embeds text only.`, {
              argument: `inputs[${index}]`,
            });
          });
          const body: Record<string, unknown> = { model: modelId, texts };
          if (request.dimensions !== undefined) body.dims = request.dimensions;
          if (request.inputType !== undefined) body.purpose = PURPOSES[request.inputType];
          // The call's signal, timeout and headers go with it; its headers win over the endpoint's.
          const response = await postJson(endpoint, '/embed', body, request);
          const parsed = parseResponse(responseSchema, response, 'lumen', 'embeddings');
          const out: EmbedResponse = {
            embeddings: numberArraysToVectors(parsed.vectors, 'float'),
            warnings: [],
            response: {
              status: response.status,
              headers: response.headers,
              ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
            },
          };
          if (parsed.tokens !== undefined) out.usage = { inputTokens: parsed.tokens };
          return out;
        },
      };
    },
  };
}
