import { checkBoolean, checkWholeNumber, describeValue } from '../argument-checks.js';
import { InvalidArgumentError } from '../errors.js';
import { checkHeaders, isPlainObject } from '../http/headers.js';
import { refuseUnknownSettings, type SettingNames } from '../setting-names.js';
import {
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbeddingProviderOptionsOf,
  type EmbedInput,
  type EmbedRequest,
  INPUT_TYPES,
  type InputType,
  MODALITIES,
  type Modality,
  OUTPUT_TYPES,
  type OutputType,
  type ProviderOptions,
  type Warning,
} from '../types.js';
import { type Clock, MAX_TIMER_MS, systemClock } from './clock.js';
import { limiterFor, type RateLimiter } from './limiter.js';
import type { AttemptPolicy } from './retry.js';
import { estimateTokenCounter, type TokenCounter } from './token-counter.js';

export interface Progress {
  /** Inputs (documents, for contextualized and rerank jobs) answered so far. */
  completedInputs: number;
  /** Absent for `embedStream`, whose source may have no known end. */
  totalInputs?: number;
  /** Tokens reported so far; absent once any call reported none. */
  inputTokens?: number;
}

/**
 * A wait before an attempt: `paused`, a 429 pause of the limiter (and the release of the calls queued
 * behind it); `rate-limit`, a budget you set running dry; `pacing`, the limits the API states in its
 * headers, or the pace the limiter learned from its 429s.
 */
export interface WaitEvent {
  reason: 'paused' | 'rate-limit' | 'pacing';
  delayMs: number;
}

export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  error: unknown;
  delayMs: number;
}

/**
 * Settings every job takes: embeddings, contextualized chunks and rerank alike. `P` types
 * `providerOptions`: each job's settings give it the model's own (see `EmbeddingProviderOptionsOf`).
 */
export interface CallSettings<P extends object = ProviderOptions> {
  /** Extra HTTP headers for every call. */
  headers?: Record<string, string> | undefined;
  /** Provider-specific options keyed by provider name, e.g. `{ openai: { user: 'u-1' } }`. Default: none. */
  providerOptions?: P | undefined;
  /** Retries per call after the first attempt. Default 3. */
  maxRetries?: number | undefined;
  /** Cap on any single wait between attempts, server hints included. Default 60,000 ms. */
  maxRetryDelayMs?: number | undefined;
  /** Per attempt. Default 120,000 ms. */
  timeoutMs?: number | undefined;
  /** Aborts everything, backoff sleeps included; the native abort error is re-thrown. */
  signal?: AbortSignal | undefined;
  /** Calls in flight at once. Default 4; 1 when the model does not support parallel calls. */
  concurrency?: number | undefined;
  /**
   * The limiter this job draws on, from `createRateLimiter`: share one between the jobs that draw on one
   * budget. Default: the provider's, else one per model object that shares only 429 pauses.
   */
  rateLimit?: RateLimiter | undefined;
  /** Counts tokens for packing calls. Default: `estimateTokenCounter`. */
  tokenCounter?: TokenCounter | undefined;
  /**
   * Called once each call the job planned is done (after its retries, and after both halves of one
   * bisected as too large), with what is done so far.
   */
  onProgress?: ((progress: Progress) => void) | undefined;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Called before each wait for a 429 pause or a budget of the limiter. */
  onWait?: ((event: WaitEvent) => void) | undefined;
  /** Called once for each distinct warning, as it happens (the way to see warnings of `embedStream`). */
  onWarning?: ((warning: Warning) => void) | undefined;
  /** Default: the system clock. Inject one in tests. */
  clock?: Clock | undefined;
}

/**
 * Settings of `embed`, `embedMany` and `embedStream`. `O` follows `outputType`, so results are typed; an
 * `outputType` that may be undefined types its vectors as `Float32Array` among the others. `M` follows
 * `model`, so `providerOptions` are typed by the model's provider.
 */
export interface EmbedSettings<
  O extends OutputType | undefined = OutputType | undefined,
  M extends EmbeddingModel = EmbeddingModel,
> extends CallSettings<EmbeddingProviderOptionsOf<M>> {
  model: M;
  inputType?: InputType | undefined;
  /** Vector length; must be one the model's capabilities allow. Default: the model's. */
  dimensions?: number | undefined;
  /** Default `float`, which `undefined` also asks for. */
  outputType?: O;
  /** Ask the provider to cut over-long inputs. Default false: an over-long input is an error. */
  truncate?: boolean | undefined;
  /** Turn warnings about unsupported settings (an input type the model lacks) into errors. Default false. */
  strict?: boolean | undefined;
  /** Fewer inputs per call than the model allows (never more). */
  maxInputsPerCall?: number | undefined;
}

/** The names of `CallSettings`, checked against it by the compiler. */
export const CALL_SETTING_NAMES: SettingNames<CallSettings> = {
  headers: true,
  providerOptions: true,
  maxRetries: true,
  maxRetryDelayMs: true,
  timeoutMs: true,
  signal: true,
  concurrency: true,
  rateLimit: true,
  tokenCounter: true,
  onProgress: true,
  onRetry: true,
  onWait: true,
  onWarning: true,
  clock: true,
};

/** The names of `EmbedSettings`. */
export const EMBED_SETTING_NAMES: SettingNames<EmbedSettings> = {
  ...CALL_SETTING_NAMES,
  model: true,
  inputType: true,
  dimensions: true,
  outputType: true,
  truncate: true,
  strict: true,
  maxInputsPerCall: true,
};

/** The names of `EmbeddingCapabilities`, for what a user declares of a model (a compatible server's). */
export const EMBEDDING_CAPABILITY_NAMES: SettingNames<EmbeddingCapabilities> = {
  maxInputsPerCall: true,
  maxTokensPerCall: true,
  maxTokensPerInput: true,
  defaultDimensions: true,
  dimensions: true,
  inputTypes: true,
  outputTypes: true,
  outputTypeAlternatives: true,
  modalities: true,
  normalized: true,
  supportsParallelCalls: true,
};

/**
 * Refuses a capability `owner` was given that no model has (`maxInputPerCall`): it would be dropped, and
 * the engine would pack calls by the default instead.
 */
export function checkCapabilityNames(capabilities: unknown, owner: string): void {
  if (isPlainObject(capabilities)) {
    refuseUnknownSettings(capabilities, EMBEDDING_CAPABILITY_NAMES, owner, { noun: 'capability' });
  }
}

/**
 * What every job's settings are called in other libraries (the AI SDK's, OpenAI's and LangChain's), and
 * what to pass here instead. Each job adds the names that are its own.
 */
export const BORROWED_CALL_SETTINGS: Readonly<Record<string, string>> = {
  maxParallelCalls: 'the calls in flight at once are concurrency',
  abortSignal: 'pass the AbortSignal as signal',
  user: 'pass it under providerOptions, e.g. providerOptions: { openai: { user } }',
};

const VECTOR_TYPE =
  'the type of the vectors returned is outputType; how they travel on the wire is the provider’s concern';

/** The same for the settings of vectors: the embedding jobs' and the contextualized ones'. */
export const BORROWED_VECTOR_SETTINGS: Readonly<Record<string, string>> = {
  ...BORROWED_CALL_SETTINGS,
  encodingFormat: VECTOR_TYPE,
  encoding_format: VECTOR_TYPE,
  input_type: 'pass inputType',
  taskType: 'pass inputType, which each provider sends as its own field (Gemini’s taskType among them)',
};

/** The same for `embed`, `embedMany` and `embedStream`. */
export const BORROWED_SETTINGS: Readonly<Record<string, string>> = {
  ...BORROWED_VECTOR_SETTINGS,
  batchSize:
    'calls are packed by the model’s count and token limits; to send fewer inputs per call, pass maxInputsPerCall',
};

export const DEFAULT_MAX_RETRIES = 3;
/** The most retries a job may set. */
export const MAX_RETRIES = 100;
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Calls in flight at once when a job sets no `concurrency`, and the most a job may set. */
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 10_000;

/**
 * The one settings object every job function takes; anything else is an `InvalidArgumentError` that
 * shows the call's form (`form`, e.g. `embed({ model, input })`).
 */
export function checkSettingsObject(settings: unknown, form: string): void {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new InvalidArgumentError(
      `Call it with one settings object, ${form}; got ${describeValue(settings)}.`,
      {
        argument: 'settings',
      },
    );
  }
}

/**
 * A user's token counter whose every count is checked: a count that is not a finite number of at least 0
 * (NaN, a negative, a string) would quietly pack every input into one call, past the API's limits.
 */
function checkedCounter(counter: TokenCounter): TokenCounter {
  return {
    exact: counter.exact === true,
    count(input) {
      const tokens = counter.count(input);
      if (!(typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0)) {
        throw new InvalidArgumentError(
          `tokenCounter.count returned ${describeValue(tokens)}; it must return a number of tokens, 0 or more.`,
          { argument: 'tokenCounter' },
        );
      }
      return tokens;
    },
  };
}

/** Absent, or an `AbortSignal`: anything else would fail later as a network error, or not abort at all. */
export function checkSignal(value: unknown): void {
  const signal = value as Partial<AbortSignal> | null | undefined;
  if (
    value !== undefined &&
    !(
      typeof signal === 'object' &&
      signal !== null &&
      typeof signal.aborted === 'boolean' &&
      typeof signal.addEventListener === 'function'
    )
  ) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describeValue(value)}.`, {
      argument: 'signal',
    });
  }
}

/** Absent, or a function: a callback that is not one would throw only after answers were paid for. */
export function checkCallback(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidArgumentError(`${name} must be a function, got ${describeValue(value)}.`, {
      argument: name,
    });
  }
}

/** Absent, or a `Clock` with `now()` and `sleep()` (and, if any, a `random()` function). */
export function checkClock(value: unknown): void {
  if (value === undefined) return;
  const clock = value as Partial<Record<keyof Clock, unknown>> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.sleep !== 'function' ||
    (clock.random !== undefined && typeof clock.random !== 'function')
  ) {
    throw new InvalidArgumentError(
      `clock must be a Clock with now() and sleep(ms, signal) functions, got ${describeValue(value)}.`,
      { argument: 'clock' },
    );
  }
}

/**
 * Absent, or an object of provider names to option objects, e.g. `{ openai: { user: 'u-1' } }`: a string
 * or an array there would be read as "no options" and the call sent as if none were given.
 */
export function checkProviderOptions(value: unknown): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    throw new InvalidArgumentError(
      `providerOptions must be an object of provider names to options, like { gemini: { normalize: false } }; got ${describeValue(value)}.`,
      { argument: 'providerOptions' },
    );
  }
  for (const [provider, options] of Object.entries(value)) {
    if (options !== undefined && !isPlainObject(options)) {
      throw new InvalidArgumentError(
        `providerOptions.${provider} must be an object of options, got ${describeValue(options)}.`,
        { argument: `providerOptions.${provider}` },
      );
    }
  }
}

/** What every job needs that is the same for all its calls, read from the settings and checked. */
export interface JobBasics {
  policy: AttemptPolicy;
  concurrency: number;
  counter: TokenCounter;
}

/**
 * Checks the settings every job takes and derives the attempt policy. Timers must fit a timer (at most
 * 2,147,483,647 ms); anything longer would fire at once.
 */
export function jobBasics(
  settings: CallSettings,
  model: { provider: string; modelId: string; rateLimiter?: unknown },
  supportsParallelCalls: boolean,
): JobBasics {
  // Every engine's model passes here: one without an id would send `"model": undefined` and fail as a
  // retried network or 400 error.
  if (typeof model.modelId !== 'string' || model.modelId.trim() === '') {
    throw new InvalidArgumentError(
      `The ${String(model.provider)} model has no model id (got ${typeof model.modelId === 'string' ? JSON.stringify(model.modelId) : describeValue(model.modelId)}); name one when you create it, e.g. provider.embedding('model-name').`,
      { argument: 'model' },
    );
  }
  // A declared flag that is not one ("false") would read as true: calls in parallel to a model that
  // takes one at a time.
  checkBoolean(supportsParallelCalls, 'model.capabilities.supportsParallelCalls');
  checkWholeNumber(settings.maxRetries, 'maxRetries', 0, MAX_RETRIES);
  checkWholeNumber(settings.concurrency, 'concurrency', 1, MAX_CONCURRENCY);
  checkWholeNumber(settings.timeoutMs, 'timeoutMs', 1, MAX_TIMER_MS);
  checkWholeNumber(settings.maxRetryDelayMs, 'maxRetryDelayMs', 0, MAX_TIMER_MS);
  checkSignal(settings.signal);
  const given = settings.tokenCounter;
  if (given !== undefined && typeof given?.count !== 'function') {
    throw new InvalidArgumentError('tokenCounter must have a count(input) function.', {
      argument: 'tokenCounter',
    });
  }
  const counter = given === undefined ? estimateTokenCounter : checkedCounter(given);
  checkHeaders(settings.headers, 'headers');
  checkProviderOptions(settings.providerOptions);
  for (const name of ['onProgress', 'onRetry', 'onWait', 'onWarning'] as const) {
    checkCallback(settings[name], name);
  }
  checkClock(settings.clock);
  const limiter = limiterFor(settings.rateLimit, model);
  return {
    policy: {
      provider: model.provider,
      modelId: model.modelId,
      limiter,
      clock: settings.clock ?? systemClock,
      maxRetries: settings.maxRetries ?? DEFAULT_MAX_RETRIES,
      maxRetryDelayMs: settings.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
      timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      exactTokens: counter.exact === true,
      onRetry: settings.onRetry,
      onWait: settings.onWait,
    },
    concurrency: supportsParallelCalls ? (settings.concurrency ?? DEFAULT_CONCURRENCY) : 1,
    counter,
  };
}

/**
 * Checks that `model` is an embedkit embedding model; `hint`, when given, follows the refusal (what an
 * adapter's caller most likely passed instead).
 */
export function checkEmbeddingModel(model: unknown, hint?: string): asserts model is EmbeddingModel {
  const candidate = model as Partial<EmbeddingModel> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    candidate.specificationVersion !== 'v1' ||
    typeof candidate.doEmbed !== 'function' ||
    typeof candidate.capabilities !== 'object' ||
    candidate.capabilities === null
  ) {
    throw new InvalidArgumentError(
      `model must be an embedkit EmbeddingModel (specificationVersion "v1").${hint === undefined ? '' : ` ${hint}`}`,
      { argument: 'model' },
    );
  }
  for (const [name, form] of [
    ['checkInput', '(input, index, settings)'],
    ['callGroup', '(input, settings)'],
  ] as const) {
    if (candidate[name] !== undefined && typeof candidate[name] !== 'function') {
      throw new InvalidArgumentError(`The model’s ${name} must be a function ${form}.`, {
        argument: `model.${name}`,
      });
    }
  }
}

function describeDimensions(allowed: NonNullable<EmbeddingCapabilities['dimensions']>): string {
  return 'min' in allowed ? `${allowed.min} to ${allowed.max}` : allowed.join(', ');
}

function isLength(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/**
 * The capabilities the engine reads as lists: what each must hold, and the test of one item. An input
 * type may be the model's own (one no other model has); an output type or a modality only one of the
 * lists the types are made of.
 */
const CAPABILITY_LISTS: readonly [name: string, holds: string, isItem: (item: unknown) => boolean][] = [
  [
    'inputTypes',
    'a list of the input types it takes (such as "query"), each once, [] for none',
    (item) => typeof item === 'string' && item !== '',
  ],
  [
    'outputTypes',
    `a list of the vector types it returns (${OUTPUT_TYPES.join(', ')}), each once`,
    (item) => OUTPUT_TYPES.includes(item as OutputType),
  ],
  [
    'modalities',
    `a list of what it embeds (${MODALITIES.join(', ')}), each once`,
    (item) => MODALITIES.includes(item as Modality),
  ],
  [
    'dimensions',
    'a list of lengths, each once, or a range { min, max }, or absent when the length is fixed',
    isLength,
  ],
];

/**
 * Checks the vector settings against the model's capabilities: output type, dimensions, input type.
 * Returns the warnings for settings the model cannot honour (errors under `strict`) and the input type
 * to send. Every kind of job and `checkEmbedRequest` run this one check.
 */
export function checkVectorSettings(
  model: Pick<EmbeddingModel, 'provider' | 'modelId' | 'capabilities'>,
  settings: { inputType?: InputType; dimensions?: number; outputType?: OutputType; strict?: boolean },
): { warnings: Warning[]; inputType: InputType | undefined } {
  checkBoolean(settings.strict, 'strict');
  const { capabilities } = model;
  const label = `${model.provider} model ${model.modelId}`;
  const refuse = (name: string, holds: string, got: unknown, at = '') => {
    throw new InvalidArgumentError(
      `${label}'s capabilities.${name} must be ${holds}; got ${describeValue(got)}${at && ` at ${at}`}.`,
      { argument: `model.capabilities.${name}${at}` },
    );
  };
  // The lists the engine reads, and what they hold, from a model written in plain JavaScript or cast into
  // shape: a list missing failed as a TypeError; a length of 0 or NaN, or a type core does not know, was
  // sent, or failed only once the answer came. Every kind of job runs this check first.
  for (const [name, holds, isItem] of CAPABILITY_LISTS) {
    const value = (capabilities as unknown as Record<string, unknown>)[name];
    const { min, max } = (value ?? {}) as { min?: number; max?: number };
    if (Array.isArray(value)) {
      // An item found before its place is there twice (NaN, never found, is no length anyway).
      value.forEach((item, index) => {
        if (!isItem(item) || value.indexOf(item) < index) refuse(name, holds, item, `[${index}]`);
      });
    } else if (
      !(name === 'dimensions' && (value === undefined || (isLength(min) && isLength(max) && max! >= min!)))
    )
      refuse(name, holds, value);
  }
  const { defaultDimensions } = capabilities;
  if (defaultDimensions !== undefined && !isLength(defaultDimensions))
    refuse('defaultDimensions', 'a length, or absent', defaultDimensions);
  const outputType = settings.outputType ?? 'float';
  if (!OUTPUT_TYPES.includes(outputType)) {
    throw new InvalidArgumentError(
      `outputType must be one of ${OUTPUT_TYPES.join(', ')}, got ${describeValue(outputType)}.`,
      { argument: 'outputType' },
    );
  }
  if (!capabilities.outputTypes.includes(outputType)) {
    // The model's own list says what it can do; the other models that return the type, when the model
    // names them, say where to go instead. A user's declaration is not trusted to hold a list.
    const alternatives = capabilities.outputTypeAlternatives?.[outputType];
    const instead =
      Array.isArray(alternatives) && alternatives.length > 0
        ? ` For ${outputType} vectors use ${alternatives.join(', ')}.`
        : '';
    throw new InvalidArgumentError(
      `${label} cannot return ${outputType} vectors; it supports ${capabilities.outputTypes.join(', ')}.${instead}`,
      { argument: 'outputType' },
    );
  }
  const { dimensions } = settings;
  if (dimensions !== undefined) {
    const allowed = capabilities.dimensions;
    if (allowed === undefined) {
      throw new InvalidArgumentError(
        `${label} has a fixed vector length${capabilities.defaultDimensions === undefined ? '' : ` of ${capabilities.defaultDimensions}`}; remove the dimensions option.`,
        { argument: 'dimensions' },
      );
    }
    if (typeof dimensions !== 'number') {
      throw new InvalidArgumentError(
        `dimensions must be a number, got ${describeValue(dimensions)}; use ${describeDimensions(allowed)}.`,
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
        `dimensions ${String(dimensions)} is not allowed for ${label}; use ${describeDimensions(allowed)}.`,
        { argument: 'dimensions' },
      );
    }
  }
  const length = dimensions ?? capabilities.defaultDimensions;
  if ((outputType === 'binary' || outputType === 'ubinary') && length !== undefined && length % 8 !== 0) {
    throw new InvalidArgumentError(
      `${outputType} vectors pack 8 dimensions per byte; dimensions must be a multiple of 8, got ${length}.`,
      { argument: 'dimensions' },
    );
  }
  const warnings: Warning[] = [];
  let inputType = settings.inputType;
  if (inputType !== undefined && !capabilities.inputTypes.includes(inputType)) {
    // A value no model has (a typo such as 'querry') is an error; one this model lacks, a warning. The
    // refusal shows a long string by its length alone: it may be a key given in the wrong place.
    if (!INPUT_TYPES.includes(inputType)) {
      throw new InvalidArgumentError(
        `inputType must be one of ${INPUT_TYPES.join(', ')}; got ${describeValue(inputType)}.`,
        { argument: 'inputType' },
      );
    }
    const supported =
      capabilities.inputTypes.length === 0 ? '' : ` (it supports ${capabilities.inputTypes.join(', ')})`;
    if (settings.strict === true) {
      throw new InvalidArgumentError(`${label} has no "${inputType}" input type${supported}.`, {
        argument: 'inputType',
      });
    }
    warnings.push({
      type: 'unsupported-setting',
      setting: 'inputType',
      message: `${label} has no "${inputType}" input type${supported}; the inputs were sent without one.`,
    });
    inputType = undefined;
  }
  return { warnings, inputType };
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

const TEXT_INPUT: SettingNames<{ text: string; title?: string }> = { text: true, title: true };
const IMAGE_INPUT: SettingNames<{ image: unknown; mediaType?: string }> = { image: true, mediaType: true };
const CONTENT_INPUT: SettingNames<{ content: unknown }> = { content: true };
const TEXT_PART: SettingNames<{ type: 'text'; text: string }> = { type: true, text: true };
const IMAGE_PART = { type: true, url: true, data: true, mediaType: true } as const;

/**
 * An image's `mediaType`, where one is given: a non-empty string (`image/png`). Any other value would reach
 * the provider as the text of a data URL or a request field.
 */
function checkMediaType(mediaType: unknown, what: string, argument: string): void {
  if (mediaType === undefined || (typeof mediaType === 'string' && mediaType.length > 0)) return;
  throw new InvalidArgumentError(
    `${what} has a mediaType that is not a non-empty string such as "image/png"; got ${describeValue(mediaType)}.`,
    { argument: `${argument}.mediaType` },
  );
}

/**
 * Checks one input: a non-empty string, `{ text, title? }`, `{ image, mediaType? }` or
 * `{ content: [...] }`, with images only where the model embeds images.
 */
export function checkInput(
  model: Pick<EmbeddingModel, 'provider' | 'modelId' | 'capabilities'>,
  input: EmbedInput,
  index: number,
): void {
  const argument = `inputs[${index}]`;
  if (typeof input === 'string') {
    if (input.length === 0) {
      throw new InvalidArgumentError(
        `Input ${index} is an empty string; embedding APIs reject empty inputs.`,
        {
          argument,
        },
      );
    }
    return;
  }
  const shape = `Input ${index} must be a string, { text }, { image } or { content: [...] }`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(`${shape}; got ${describeValue(input)}.`, { argument });
  }
  const kinds = (['text', 'image', 'content'] as const).filter((key) => key in input);
  if (kinds.length !== 1) {
    throw new InvalidArgumentError(`${shape}; got ${describeValue(input)}.`, { argument });
  }
  let hasImage = false;
  // A misspelt field (`titel`) would be dropped: the input would go out without its title. Other fields
  // (the `id` of the record an input came from) are the caller's own.
  refuseUnknownSettings(
    input,
    'text' in input ? TEXT_INPUT : 'image' in input ? IMAGE_INPUT : CONTENT_INPUT,
    `Input ${index}`,
    { noun: 'field', at: argument, onlyTypos: true },
  );
  if ('text' in input) {
    if (typeof input.text !== 'string' || input.text.length === 0) {
      throw new InvalidArgumentError(`Input ${index} has an empty or non-string text.`, { argument });
    }
    if (input.title !== undefined && typeof input.title !== 'string') {
      throw new InvalidArgumentError(`Input ${index} has a title that is not a string.`, { argument });
    }
  } else if ('image' in input) {
    if (
      !(typeof input.image === 'string'
        ? input.image.length > 0
        : isBytes(input.image) && input.image.length > 0)
    ) {
      throw new InvalidArgumentError(
        `Input ${index} has an image that is neither a non-empty URL / data URL nor bytes.`,
        {
          argument,
        },
      );
    }
    checkMediaType((input as { mediaType?: unknown }).mediaType, `Input ${index}`, argument);
    hasImage = true;
  } else {
    const parts = (input as { content: unknown }).content;
    if (!Array.isArray(parts) || parts.length === 0) {
      throw new InvalidArgumentError(`Input ${index} has content that is not a non-empty list of parts.`, {
        argument,
      });
    }
    parts.forEach((part: unknown, position) => {
      const where = `Part ${position} of input ${index}`;
      const candidate = part as {
        type?: unknown;
        text?: unknown;
        url?: unknown;
        data?: unknown;
        mediaType?: unknown;
      };
      if (typeof part === 'object' && part !== null && !Array.isArray(part)) {
        refuseUnknownSettings(part, candidate.type === 'image' ? IMAGE_PART : TEXT_PART, where, {
          noun: 'field',
          at: `${argument}.content[${position}]`,
          onlyTypos: true,
        });
      }
      if (candidate?.type === 'text' && typeof candidate.text === 'string' && candidate.text.length > 0)
        return;
      if (candidate?.type === 'image') {
        const byUrl = typeof candidate.url === 'string' && candidate.url.length > 0;
        const byBytes = isBytes(candidate.data) && typeof candidate.mediaType === 'string';
        if (byUrl || byBytes) {
          checkMediaType(candidate.mediaType, where, `${argument}.content[${position}]`);
          hasImage = true;
          return;
        }
      }
      throw new InvalidArgumentError(
        `${where} must be { type: 'text', text } or { type: 'image', url } / { type: 'image', data, mediaType }; got ${describeValue(part)}.`,
        { argument: `${argument}.content[${position}]` },
      );
    });
  }
  if (hasImage && !model.capabilities.modalities.includes('image')) {
    throw new InvalidArgumentError(
      `Input ${index} holds an image, but ${model.provider} model ${model.modelId} embeds text only.`,
      { argument },
    );
  }
}

/**
 * The checks the engine makes before a call, for code that calls `model.doEmbed` directly: the model,
 * the vector settings against its capabilities (`strict`: an unsupported input type too), the number of
 * inputs, and every input. Throws `InvalidArgumentError`.
 */
export function checkEmbedRequest(model: EmbeddingModel, request: EmbedRequest): void {
  checkEmbeddingModel(model);
  checkVectorSettings(model, { ...request, strict: true });
  const { inputs } = request;
  const limit = model.capabilities.maxInputsPerCall;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > limit) {
    throw new InvalidArgumentError(
      `${model.provider} model ${model.modelId} takes 1 to ${limit} inputs per call, got ${Array.isArray(inputs) ? inputs.length : 'no array'}; embedMany splits larger jobs.`,
      { argument: 'inputs' },
    );
  }
  for (let index = 0; index < inputs.length; index++) checkInput(model, inputs[index]!, index);
}
