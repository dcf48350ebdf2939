import type {
  EmbeddingModelV3,
  EmbeddingModelV4,
  EmbeddingModelV4CallOptions,
  EmbeddingModelV4Result,
  SharedV4Warning,
} from '@ai-sdk/provider';
import type {
  EmbeddingCapabilities,
  EmbeddingModel,
  EmbedRequest,
  EmbedResponse,
  InputType,
  RateLimiter,
  ResponseInfo,
  Warning,
} from '@embedkit/core';
import {
  checkCapabilityNames,
  InvalidArgumentError,
  inputText,
  numberArraysToVectors,
  refuseUnknownSettings,
  type SettingNames,
  secretsOfCall,
  VERSION,
} from '@embedkit/core/provider';
import { toEmbedkitError } from './errors.js';
import { knownInputTypes } from './input-types.js';

/** Provider options that say one unified input type in an AI SDK provider's own words, keyed by provider. */
export type InputTypeOptions = Partial<Record<InputType, Record<string, Record<string, unknown>>>>;

/**
 * What `fromAISDK` is told of the model, over what it reads from it. `dimensions: undefined` says the model
 * has a fixed length (no `dimensions` to choose), so it is declared apart from the others.
 */
export type FromAISDKCapabilities = Omit<Partial<EmbeddingCapabilities>, 'dimensions'> & {
  dimensions?: EmbeddingCapabilities['dimensions'] | undefined;
};

export interface FromAISDKOptions {
  /**
   * How each unified input type reaches the AI SDK provider, as provider options merged under the
   * caller's, e.g. `{ query: { mistral: { … } } }`. Default: the mapping built in for the provider
   * (`google` taskType, `cohere` inputType), none for the others.
   */
  inputTypes?: InputTypeOptions | undefined;
  /**
   * Values removed from every error (the provider's API key). Default: none besides the values of
   * environment variables whose names end in `API_KEY`, `_TOKEN` or `SECRET_ACCESS_KEY`, which is where AI
   * SDK providers read their keys from.
   */
  secrets?: readonly string[] | undefined;
  /** The limiter every call through this model draws on unless a call passes its own; from `createRateLimiter`. */
  rateLimit?: RateLimiter | undefined;
}

const FROM_AI_SDK_OPTIONS: SettingNames<FromAISDKOptions> = {
  inputTypes: true,
  secrets: true,
  rateLimit: true,
};

/** An AI SDK embedding model `fromAISDK` takes: specification v4, or v3. */
export type AISDKEmbeddingModel = EmbeddingModelV4 | EmbeddingModelV3;

/** AI SDK models that declare no limit (`Infinity`, undefined, or a promise) get this unless capabilities say. */
const DEFAULT_MAX_INPUTS_PER_CALL = 2048;

/**
 * An embedkit model over an AI SDK embedding model (specification v4, or v3), so that any AI SDK
 * embedding provider gets embedkit's engine: batching by count and token budget, the sliding pool, limits,
 * retries, cache, registry. `capabilities` override what is read from the model; declare at least the
 * vector length (`defaultDimensions`) and what `dimensions` the model takes. Vectors arrive as `number[]`
 * and are copied once, each into a `Float32Array` of its own. `truncate` and per-input titles, which the
 * specification cannot carry, are left out with a warning.
 */
export function fromAISDK(
  aiModel: AISDKEmbeddingModel,
  capabilities: FromAISDKCapabilities = {},
  options: FromAISDKOptions = {},
): EmbeddingModel {
  if (
    typeof aiModel !== 'object' ||
    aiModel === null ||
    typeof aiModel.doEmbed !== 'function' ||
    (aiModel.specificationVersion !== 'v4' && aiModel.specificationVersion !== 'v3')
  ) {
    throw new InvalidArgumentError(
      'fromAISDK takes an AI SDK embedding model of specification v4 or v3 (e.g. openai.embedding("text-embedding-3-small")).',
      { argument: 'aiModel' },
    );
  }
  checkCapabilityNames(capabilities, 'fromAISDK capabilities');
  refuseUnknownSettings(options, FROM_AI_SDK_OPTIONS, 'fromAISDK', { noun: 'option' });
  // `openai.embedding`, `google.generative-ai`, `cohere.textEmbedding`: the first word is the key of
  // the provider's options in `providerOptions`, so one name serves errors, results and options.
  const provider = aiModel.provider.split('.')[0] ?? aiModel.provider;
  const inputTypeOptions = options.inputTypes ?? knownInputTypes(provider);
  const resolved = resolveCapabilities(aiModel, capabilities, inputTypeOptions);
  const secrets = options.secrets ?? [];
  const hasDimensionsOption = aiModel.specificationVersion === 'v4';
  return {
    specificationVersion: 'v1',
    provider,
    modelId: aiModel.modelId,
    capabilities: resolved,
    rateLimiter: options.rateLimit,
    async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
      const values = request.inputs.map((input, index) =>
        inputText(input, index, `the AI SDK model ${aiModel.provider} ${aiModel.modelId}`),
      );
      if (request.dimensions !== undefined && !hasDimensionsOption) {
        throw new InvalidArgumentError(
          `${aiModel.provider} ${aiModel.modelId} implements the AI SDK's specification v3, which has no dimensions option; pass the provider's own option in providerOptions.${provider} instead.`,
          { argument: 'dimensions' },
        );
      }
      const call: EmbeddingModelV4CallOptions = {
        values,
        providerOptions: mergeProviderOptions(
          request.inputType === undefined ? undefined : inputTypeOptions[request.inputType],
          request.providerOptions,
        ) as EmbeddingModelV4CallOptions['providerOptions'],
        headers: withUserAgent(request.headers),
      };
      if (request.dimensions !== undefined) call.dimensions = request.dimensions;
      if (request.signal !== undefined) call.abortSignal = request.signal;
      let result: EmbeddingModelV4Result;
      try {
        result = (await aiModel.doEmbed(call)) as EmbeddingModelV4Result;
      } catch (error) {
        // An abort (the caller's, or the engine's timeout) is the engine's to report.
        if (request.signal?.aborted) throw error;
        // A key the call sent in its own headers (`authorization`, `x-api-key`, …) is a secret of this
        // call, as it is for embedkit's own providers: the provider's error may quote it. The URL is the
        // AI SDK provider's own, unknown here; its error's URL is redacted when the error is built.
        throw await toEmbedkitError(error, provider, secretsOfCall('', request.headers, secrets));
      }
      const response: ResponseInfo = { status: 200, headers: lowerCaseHeaders(result.response?.headers) };
      const requestId = response.headers['x-request-id'] ?? response.headers['request-id'];
      if (requestId !== undefined) response.requestId = requestId;
      const answer: EmbedResponse = {
        embeddings: numberArraysToVectors(result.embeddings, 'float'),
        warnings: [...callWarnings(request, aiModel), ...(result.warnings ?? []).map(fromAISDKWarning)],
        response,
      };
      const tokens = result.usage?.tokens;
      // The AI SDK reports no usage as `undefined` (and some providers as NaN): embedkit leaves it out.
      if (typeof tokens === 'number' && Number.isInteger(tokens) && tokens >= 0) {
        answer.usage = { inputTokens: tokens };
      }
      return answer;
    },
  };
}

/** What the AI SDK's specification cannot carry, said rather than dropped without a word. */
function callWarnings(request: EmbedRequest, aiModel: AISDKEmbeddingModel): Warning[] {
  const warnings: Warning[] = [];
  const name = `${aiModel.provider} ${aiModel.modelId}`;
  if (request.truncate === true) {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'truncate',
      message: `The AI SDK's specification has no truncate option, so ${name} was not asked to cut long inputs; pass the provider's own option in providerOptions if it has one.`,
    });
  }
  if (
    request.inputs.some((input) => typeof input === 'object' && 'title' in input && input.title !== undefined)
  ) {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'title',
      message: `The AI SDK's specification has no per-input title, so the titles were not sent to ${name}.`,
    });
  }
  return warnings;
}

function resolveCapabilities(
  aiModel: AISDKEmbeddingModel,
  declared: FromAISDKCapabilities,
  inputTypeOptions: InputTypeOptions,
): EmbeddingCapabilities {
  const limit = aiModel.maxEmbeddingsPerCall;
  const parallel = aiModel.supportsParallelCalls;
  const capabilities: EmbeddingCapabilities = {
    // A promise cannot be read here; the engine needs the limit before the first call.
    maxInputsPerCall:
      typeof limit === 'number' && Number.isInteger(limit) && limit >= 1
        ? limit
        : DEFAULT_MAX_INPUTS_PER_CALL,
    inputTypes: Object.keys(inputTypeOptions) as InputType[],
    outputTypes: ['float'],
    modalities: ['text'],
    normalized: false,
    supportsParallelCalls: typeof parallel === 'boolean' ? parallel : false,
    ...declared,
  };
  // Specification v4 passes `dimensions` to every provider: any length may be asked for unless the
  // capabilities say otherwise (`dimensions: undefined` for a fixed length), and the engine checks the
  // length of what comes back.
  if (!('dimensions' in declared) && aiModel.specificationVersion === 'v4') {
    capabilities.dimensions = { min: 1, max: 65_536 };
  }
  return capabilities;
}

/** The input type's options under the caller's: anything the caller set for the provider wins. */
function mergeProviderOptions(
  forInputType: Record<string, Record<string, unknown>> | undefined,
  fromCaller: Record<string, Record<string, unknown>> | undefined,
): Record<string, Record<string, unknown>> | undefined {
  if (forInputType === undefined) return fromCaller;
  const merged: Record<string, Record<string, unknown>> = { ...fromCaller };
  for (const [key, value] of Object.entries(forInputType)) merged[key] = { ...value, ...fromCaller?.[key] };
  return merged;
}

/** The request names embedkit; the AI SDK provider appends its own words to this `user-agent`. */
function withUserAgent(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  out['user-agent'] =
    out['user-agent'] === undefined ? `embedkit/${VERSION}` : `embedkit/${VERSION} ${out['user-agent']}`;
  return out;
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

function fromAISDKWarning(warning: SharedV4Warning): Warning {
  switch (warning.type) {
    case 'unsupported':
      return {
        type: 'unsupported-setting',
        setting: warning.feature,
        message: warning.details ?? `${warning.feature} is not supported by this model.`,
      };
    case 'compatibility':
      return {
        type: 'other',
        message: `${warning.feature} runs in a compatibility mode${warning.details === undefined ? '' : `: ${warning.details}`}.`,
      };
    case 'deprecated':
      return { type: 'other', message: `${warning.setting} is deprecated: ${warning.message}` };
    default:
      return { type: 'other', message: warning.message };
  }
}
