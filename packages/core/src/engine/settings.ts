import { InvalidArgumentError } from '../errors.js';
import type { EmbeddingModel, EmbedInput, InputType, OutputType, Warning } from '../types.js';
import type { Clock } from './clock.js';
import type { RateLimit } from './rate-limiter.js';
import type { TokenCounter } from './token-counter.js';

export interface Progress {
  completedInputs: number;
  /** Absent for `embedStream`, whose source may have no known end. */
  totalInputs?: number;
  /** Tokens reported so far; absent once any call reported none. */
  inputTokens?: number;
}

/** A wait before an attempt: a 429 pause of the model, or a client-side rate-limit bucket running dry. */
export interface WaitEvent {
  reason: 'paused' | 'rate-limit';
  delayMs: number;
}

export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  error: unknown;
  delayMs: number;
}

/** Settings shared by `embed`, `embedMany` and `embedStream`. */
export interface EmbedSettings {
  model: EmbeddingModel;
  inputType?: InputType;
  /** Vector length; must be one the model's capabilities allow. Default: the model's. */
  dimensions?: number;
  /** Default `float`. */
  outputType?: OutputType;
  /** Ask the provider to cut over-long inputs. Default false: an over-long input is an error. */
  truncate?: boolean;
  /** Turn warnings about unsupported settings (an input type the model lacks) into errors. Default false. */
  strict?: boolean;
  headers?: Record<string, string>;
  providerOptions?: Record<string, Record<string, unknown>>;
  /** Retries per call after the first attempt. Default 3. */
  maxRetries?: number;
  /** Cap on any single wait between attempts, hints included. Default 60,000 ms. */
  maxRetryDelayMs?: number;
  /** Per attempt. Default 120,000 ms. */
  timeoutMs?: number;
  /** Aborts everything, backoff sleeps included; the native abort error is re-thrown. */
  signal?: AbortSignal;
  /** Calls in flight at once. Default 4; 1 when the model does not support parallel calls. */
  concurrency?: number;
  /** Client-side limits shared by every call through the same model object. */
  rateLimit?: RateLimit;
  /** Default: `estimateTokenCounter`. */
  tokenCounter?: TokenCounter;
  /** Fewer inputs per call than the model allows (never more). */
  maxInputsPerCall?: number;
  onProgress?: (progress: Progress) => void;
  onRetry?: (event: RetryEvent) => void;
  /** Called before each wait for a 429 pause or the `rateLimit` buckets. */
  onWait?: (event: WaitEvent) => void;
  /** Called once for each distinct warning, as it happens (the way to see warnings of `embedStream`). */
  onWarning?: (warning: Warning) => void;
  /** Default: the system clock. Inject one in tests. */
  clock?: Clock;
}

export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_CONCURRENCY = 4;

function describeDimensions(allowed: NonNullable<EmbeddingModel['capabilities']['dimensions']>): string {
  return 'min' in allowed ? `${allowed.min} to ${allowed.max}` : allowed.join(', ');
}

function positiveInteger(value: number | undefined, name: string, minimum: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ ${minimum}, got ${value}.`, {
      argument: name,
    });
  }
}

/**
 * Checks settings against the model's capabilities before any request. Returns warnings for settings the
 * model cannot honour (unless `strict`, where they are errors) and the input type to send.
 */
export function checkSettings(settings: EmbedSettings): {
  warnings: Warning[];
  inputType: InputType | undefined;
} {
  const { model } = settings;
  if (
    model === undefined ||
    model === null ||
    model.specificationVersion !== 'v1' ||
    typeof model.doEmbed !== 'function'
  ) {
    throw new InvalidArgumentError('model must be an embedkit EmbeddingModel (specificationVersion "v1").', {
      argument: 'model',
    });
  }
  const capabilities = model.capabilities;
  positiveInteger(settings.maxRetries, 'maxRetries', 0);
  positiveInteger(settings.concurrency, 'concurrency', 1);
  positiveInteger(settings.maxInputsPerCall, 'maxInputsPerCall', 1);
  for (const name of ['timeoutMs', 'maxRetryDelayMs'] as const) {
    const value = settings[name];
    if (value !== undefined && !(value > 0))
      throw new InvalidArgumentError(`${name} must be > 0, got ${value}.`, { argument: name });
  }
  const outputType = settings.outputType ?? 'float';
  if (!capabilities.outputTypes.includes(outputType)) {
    throw new InvalidArgumentError(
      `${model.provider} model ${model.modelId} cannot return ${outputType} vectors; it supports ${capabilities.outputTypes.join(', ')}.`,
      { argument: 'outputType' },
    );
  }
  const { dimensions } = settings;
  if (dimensions !== undefined) {
    const allowed = capabilities.dimensions;
    if (allowed === undefined) {
      throw new InvalidArgumentError(
        `${model.provider} model ${model.modelId} has a fixed vector length${capabilities.defaultDimensions === undefined ? '' : ` of ${capabilities.defaultDimensions}`}; remove the dimensions option.`,
        { argument: 'dimensions' },
      );
    }
    const ok =
      Number.isInteger(dimensions) &&
      ('min' in allowed
        ? dimensions >= allowed.min && dimensions <= allowed.max
        : allowed.includes(dimensions));
    if (!ok) {
      throw new InvalidArgumentError(
        `dimensions ${dimensions} is not allowed for ${model.provider} model ${model.modelId}; use ${describeDimensions(allowed)}.`,
        { argument: 'dimensions' },
      );
    }
    if ((outputType === 'binary' || outputType === 'ubinary') && dimensions % 8 !== 0) {
      throw new InvalidArgumentError(
        `${outputType} vectors pack 8 dimensions per byte; dimensions must be a multiple of 8.`,
        { argument: 'dimensions' },
      );
    }
  }
  const warnings: Warning[] = [];
  let inputType = settings.inputType;
  if (inputType !== undefined && !capabilities.inputTypes.includes(inputType)) {
    const message = `${model.provider} model ${model.modelId} has no "${inputType}" input type${capabilities.inputTypes.length === 0 ? '' : ` (it supports ${capabilities.inputTypes.join(', ')})`}; the inputs were sent without one.`;
    if (settings.strict === true)
      throw new InvalidArgumentError(message.replace('; the inputs were sent without one.', '.'), {
        argument: 'inputType',
      });
    warnings.push({ type: 'unsupported-setting', setting: 'inputType', message });
    inputType = undefined;
  }
  return { warnings, inputType };
}

/** Checks one input: a non-empty string, or a structured input the model's modalities allow. */
export function checkInput(model: EmbeddingModel, input: EmbedInput, index: number): void {
  if (typeof input === 'string') {
    if (input.length === 0)
      throw new InvalidArgumentError(
        `Input ${index} is an empty string; embedding APIs reject empty inputs.`,
        { argument: `inputs[${index}]` },
      );
    return;
  }
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError(
      `Input ${index} must be a string or an object with text, image or content; got ${input === null ? 'null' : typeof input}.`,
      {
        argument: `inputs[${index}]`,
      },
    );
  }
  const hasImage =
    'image' in input ||
    ('content' in input &&
      Array.isArray(input.content) &&
      input.content.some((part) => part.type === 'image'));
  if (hasImage && !model.capabilities.modalities.includes('image')) {
    throw new InvalidArgumentError(
      `Input ${index} holds an image, but ${model.provider} model ${model.modelId} embeds text only.`,
      { argument: `inputs[${index}]` },
    );
  }
  if ('text' in input && (typeof input.text !== 'string' || input.text.length === 0)) {
    throw new InvalidArgumentError(`Input ${index} has an empty or non-string text.`, {
      argument: `inputs[${index}]`,
    });
  }
}
