import type {
  EmbeddingModelV4,
  EmbeddingModelV4CallOptions,
  EmbeddingModelV4Result,
  SharedV4ProviderMetadata,
  SharedV4Warning,
} from '@ai-sdk/provider';
import {
  DEFAULT_CONCURRENCY,
  type EmbeddingModel,
  type EmbedManyResult,
  type EmbedSettings,
  embedMany,
  INPUT_TYPES,
  InvalidArgumentError,
  MAX_CONCURRENCY,
  toNumberArray,
  type Warning,
} from '@embedkit/core';
import {
  checkEmbeddingModel,
  describeValue,
  EMBED_SETTING_NAMES,
  omitSettingNames,
  readProviderOptions,
  refuseUnknownSettings,
  type SettingNames,
  VERSION,
} from '@embedkit/core/provider';
import { z } from 'zod';
import { RequestSlots } from './request-slots.js';

/**
 * Engine settings of every call the AI SDK makes through the model: the same options `embedMany`
 * takes, less those the AI SDK passes per call (`dimensions`, headers, provider options, abort signal).
 */
/** The engine settings the AI SDK passes with each call, which `toAISDK` does not take. */
const PER_CALL_SETTINGS = [
  'model',
  'signal',
  'headers',
  'providerOptions',
  'dimensions',
  'outputType',
] as const;

export interface ToAISDKSettings extends Omit<EmbedSettings<'float'>, (typeof PER_CALL_SETTINGS)[number]> {
  /**
   * Requests in flight at once through this model object, over every `doEmbed` the AI SDK or your code
   * makes at the same time (chunks of one `embedMany`, concurrent `embed` calls). Default 4, embedkit's;
   * 1 when the model does not support parallel calls. The AI SDK's `maxParallelCalls` never reaches the
   * model: this is the setting that governs.
   */
  concurrency?: number | undefined;
  /**
   * What the model tells the AI SDK as `maxEmbeddingsPerCall`. Default `Infinity`: the AI SDK hands all
   * its values to one `doEmbed`, and embedkit's engine splits them by the model's count and token limits,
   * runs the calls in its sliding pool and retries each call on its own. With a finite limit the AI SDK
   * calls `doEmbed` per chunk and keeps only the last chunk's `providerMetadata`. It joins the chunks'
   * warnings, so a warning every chunk gets is listed once per chunk: a `doEmbed` cannot tell which
   * others belong to the same `embedMany`.
   */
  maxEmbeddingsPerCall?: number | undefined;
}

const SETTINGS: SettingNames<ToAISDKSettings> = {
  ...omitSettingNames(EMBED_SETTING_NAMES, PER_CALL_SETTINGS),
  maxEmbeddingsPerCall: true,
};

/** Settings the AI SDK passes with each call instead, and the AI SDK's own names. */
const PER_CALL: Readonly<Record<string, string>> = {
  dimensions: 'the AI SDK passes it with each call',
  headers: 'the AI SDK passes them with each call (its headers setting)',
  providerOptions: 'the AI SDK passes them with each call (its providerOptions setting)',
  signal: 'the AI SDK passes it with each call (its abortSignal setting)',
  abortSignal: 'the AI SDK passes it with each call',
  outputType: 'the AI SDK takes float vectors only',
  maxParallelCalls:
    'requests in flight are bounded by concurrency, here; the AI SDK’s maxParallelCalls never reaches the model',
  model: 'the model is the first argument, toAISDK(model, settings)',
};

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
 * the sliding pool, retries with backoff and `Retry-After`, shared limits and 429 pauses. `concurrency`
 * bounds the requests in flight over all the `doEmbed` calls of the model at once. Failures reach the AI
 * SDK as embedkit's typed errors, which it never retries itself, so a failing call is retried
 * `maxRetries` times in all, never `maxRetries` squared.
 */
export function toAISDK(model: EmbeddingModel, settings: ToAISDKSettings = {}): EmbeddingModelV4 {
  // Refused here, not at the first call (or as a TypeError reading its capabilities): the easy slip is
  // an AI SDK model, given where `fromAISDK` takes one.
  checkEmbeddingModel(
    model,
    'toAISDK wraps an embedkit model for the AI SDK; an AI SDK embedding model needs no wrapping.',
  );
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new InvalidArgumentError(
      'toAISDK takes the model and a settings object, toAISDK(model, { concurrency }).',
      {
        argument: 'settings',
      },
    );
  }
  refuseUnknownSettings(settings, SETTINGS, 'toAISDK', { instead: PER_CALL });
  const { maxEmbeddingsPerCall = Number.POSITIVE_INFINITY, ...jobSettings } = settings;
  if (
    !(
      maxEmbeddingsPerCall === Number.POSITIVE_INFINITY ||
      (Number.isInteger(maxEmbeddingsPerCall) && maxEmbeddingsPerCall >= 1)
    )
  ) {
    throw new InvalidArgumentError(
      `maxEmbeddingsPerCall must be a whole number from 1, or Infinity; got ${describeValue(maxEmbeddingsPerCall)}.`,
      { argument: 'maxEmbeddingsPerCall' },
    );
  }
  const concurrency = jobSettings.concurrency ?? DEFAULT_CONCURRENCY;
  // Checked here, not by the engine: the engine only ever sees the share of it one job holds.
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= MAX_CONCURRENCY)) {
    throw new InvalidArgumentError(
      `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY.toLocaleString('en-US')}, got ${describeValue(concurrency)}.`,
      { argument: 'concurrency' },
    );
  }
  const slots = new RequestSlots(model.capabilities.supportsParallelCalls ? concurrency : 1);
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
      const maxInputsPerCall = Math.min(
        model.capabilities.maxInputsPerCall,
        jobSettings.maxInputsPerCall ?? Number.POSITIVE_INFINITY,
      );
      const held = await slots.take(
        callsAtLeast(options.values.length, maxInputsPerCall),
        options.abortSignal,
      );
      let result: EmbedManyResult<'float'>;
      try {
        job.concurrency = Math.max(held, 1);
        result = await embedMany<'float'>(job);
      } finally {
        slots.give(held);
      }
      const out: EmbeddingModelV4Result = {
        embeddings: result.embeddings.map((vector) => toNumberArray(vector)),
        warnings: result.warnings.map(toAISDKWarning),
        response: { headers: result.responses[0]?.headers ?? {} },
        providerMetadata: callsMetadata(result.responses),
      };
      // The engine reports no usage for a job that made no call (no values); the AI SDK reads a missing
      // usage as NaN tokens, so nothing sent is stated as what it is: 0 tokens.
      if (result.usage !== undefined) out.usage = { tokens: result.usage.inputTokens };
      else if (result.responses.length === 0) out.usage = { tokens: 0 };
      return out;
    },
  };
}

/**
 * The fewest calls a job of `values` values makes: how many slots it can use. More calls (a token budget
 * splitting further) only run with fewer in flight than they could.
 */
function callsAtLeast(values: number, maxInputsPerCall: number): number {
  if (values === 0) return 0;
  return Number.isFinite(maxInputsPerCall) && maxInputsPerCall >= 1
    ? Math.ceil(values / maxInputsPerCall)
    : 1;
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
