import type {
  EmbeddingModelV4,
  EmbeddingModelV4CallOptions,
  EmbeddingModelV4Result,
  SharedV4ProviderMetadata,
  SharedV4Warning,
} from '@ai-sdk/provider';
import {
  type EmbeddingModel,
  type EmbedSettings,
  embedMany,
  INPUT_TYPES,
  InvalidArgumentError,
  toNumberArray,
  type Warning,
} from '@embedkit/core';
import { readProviderOptions, VERSION } from '@embedkit/core/provider';
import { z } from 'zod';

/**
 * Engine settings of every call the AI SDK makes through the model: the same options `embedMany`
 * takes, less those the AI SDK passes per call (`dimensions`, headers, provider options, abort signal).
 */
export interface ToAISDKSettings
  extends Omit<
    EmbedSettings<'float'>,
    'model' | 'signal' | 'headers' | 'providerOptions' | 'dimensions' | 'outputType'
  > {
  /**
   * What the model tells the AI SDK as `maxEmbeddingsPerCall`. Default `Infinity`: the AI SDK hands all
   * its values to one `doEmbed`, and embedkit's engine splits them by the model's count and token limits,
   * runs the calls in its sliding pool and retries each call on its own.
   */
  maxEmbeddingsPerCall?: number;
}

/** Per-call engine options, under `providerOptions.embedkit` of an AI SDK call. */
const callOptionsSchema = z.strictObject({
  /** The input type of this call's values; overrides the settings' `inputType`. */
  inputType: z.enum(INPUT_TYPES as [string, ...string[]]).optional(),
  /** Ask the provider to cut over-long inputs (default false: an over-long input is an error). */
  truncate: z.boolean().optional(),
});

/** The key of `providerOptions` that holds embedkit's per-call options; every other key goes to the provider. */
export const EMBEDKIT_OPTIONS_KEY = 'embedkit';

/**
 * An AI SDK embedding model (specification v4, for `ai`'s `embed`, `embedMany` and the rest) that runs
 * `model` through embedkit's engine. Each `doEmbed` is one engine job: batching by count and token budget,
 * the sliding pool, retries with backoff and `Retry-After`, shared limits and 429 pauses. Failures reach
 * the AI SDK as embedkit's typed errors, which it never retries itself, so a failing call is retried
 * `maxRetries` times in all, never `maxRetries` squared.
 */
export function toAISDK(model: EmbeddingModel, settings: ToAISDKSettings = {}): EmbeddingModelV4 {
  const { maxEmbeddingsPerCall = Number.POSITIVE_INFINITY, ...jobSettings } = settings;
  if (
    !(
      maxEmbeddingsPerCall === Number.POSITIVE_INFINITY ||
      (Number.isInteger(maxEmbeddingsPerCall) && maxEmbeddingsPerCall >= 1)
    )
  ) {
    throw new InvalidArgumentError(
      `maxEmbeddingsPerCall must be a whole number from 1, or Infinity; got ${String(maxEmbeddingsPerCall)}.`,
      { argument: 'maxEmbeddingsPerCall' },
    );
  }
  return {
    specificationVersion: 'v4',
    provider: model.provider,
    modelId: model.modelId,
    maxEmbeddingsPerCall,
    supportsParallelCalls: model.capabilities.supportsParallelCalls,
    async doEmbed(options: EmbeddingModelV4CallOptions): Promise<EmbeddingModelV4Result> {
      const { [EMBEDKIT_OPTIONS_KEY]: _embedkit, ...providerOptions } = options.providerOptions ?? {};
      const perCall = readProviderOptions(callOptionsSchema, EMBEDKIT_OPTIONS_KEY, options.providerOptions);
      const job: Parameters<typeof embedMany<'float'>>[0] = {
        ...jobSettings,
        model,
        inputs: options.values,
        providerOptions,
        headers: withEmbedkitUserAgent(options.headers),
      };
      if (options.dimensions !== undefined) job.dimensions = options.dimensions;
      if (options.abortSignal !== undefined) job.signal = options.abortSignal;
      if (perCall.inputType !== undefined) job.inputType = perCall.inputType as EmbedSettings['inputType'];
      if (perCall.truncate !== undefined) job.truncate = perCall.truncate;
      const result = await embedMany<'float'>(job);
      const out: EmbeddingModelV4Result = {
        embeddings: result.embeddings.map((vector) => toNumberArray(vector)),
        warnings: result.warnings.map(toAISDKWarning),
        response: { headers: result.responses[0]?.headers ?? {} },
        providerMetadata: callsMetadata(result.responses),
      };
      if (result.usage !== undefined) out.usage = { tokens: result.usage.inputTokens };
      return out;
    },
  };
}

/** The AI SDK sends its own `user-agent` (`ai/<version>`); the request names both. */
function withEmbedkitUserAgent(
  headers: Record<string, string | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  const theirs = out['user-agent'];
  if (theirs !== undefined) out['user-agent'] = `embedkit/${VERSION} ${theirs}`;
  return out;
}

function toAISDKWarning(warning: Warning): SharedV4Warning {
  if (warning.type === 'unsupported-setting' && warning.setting !== undefined) {
    return { type: 'unsupported', feature: warning.setting, details: warning.message };
  }
  return { type: 'other', message: warning.message };
}

/** Every HTTP call the engine made for one `doEmbed` (the AI SDK keeps one response per `doEmbed`). */
function callsMetadata(
  responses: readonly { status: number; requestId?: string; modelId?: string }[],
): SharedV4ProviderMetadata {
  return {
    [EMBEDKIT_OPTIONS_KEY]: {
      calls: responses.map((response) => {
        const call: Record<string, string | number> = { status: response.status };
        if (response.requestId !== undefined) call.requestId = response.requestId;
        if (response.modelId !== undefined) call.modelId = response.modelId;
        return call;
      }),
    },
  };
}
