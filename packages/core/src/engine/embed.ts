import { InvalidArgumentError } from '../errors.js';
import type { Embedding, EmbedInput, ResponseInfo, Usage, Warning } from '../types.js';
import { type Batch, batchLimits, planBatches, streamBatches } from './batcher.js';
import { type CallContext, type CallResult, runBatch } from './call.js';
import { systemClock } from './clock.js';
import { runPool } from './pool.js';
import { modelState } from './rate-limiter.js';
import {
  checkSettings,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  type EmbedSettings,
} from './settings.js';
import { estimateTokenCounter } from './token-counter.js';

export interface EmbedManyResult {
  /** One vector per input, in input order. */
  embeddings: Embedding[];
  /** Summed over every call; absent when any call reported none. */
  usage?: Usage;
  /** Each distinct warning once. */
  warnings: Warning[];
  /** One entry per HTTP call made, in input order. */
  responses: ResponseInfo[];
}

export interface EmbedResult {
  embedding: Embedding;
  usage?: Usage;
  warnings: Warning[];
  response: ResponseInfo;
}

export interface StreamedEmbedding {
  /** Position of the input in the source. */
  index: number;
  embedding: Embedding;
}

interface Prepared {
  context: CallContext;
  concurrency: number;
  warnings: Warning[];
  counter: NonNullable<EmbedSettings['tokenCounter']>;
}

function prepare(settings: EmbedSettings, totalInputs?: number): Prepared {
  const { warnings, inputType } = checkSettings(settings);
  const { model } = settings;
  const clock = settings.clock ?? systemClock;
  const state = modelState(model);
  state.configure(settings.rateLimit, clock.now());
  const context: CallContext = {
    model,
    state,
    clock,
    inputType,
    dimensions: settings.dimensions,
    outputType: settings.outputType ?? 'float',
    truncate: settings.truncate ?? false,
    headers: settings.headers,
    providerOptions: settings.providerOptions,
    maxRetries: settings.maxRetries ?? DEFAULT_MAX_RETRIES,
    maxRetryDelayMs: settings.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
    timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    onRetry: settings.onRetry,
    onWait: settings.onWait,
    totalInputs,
  };
  const concurrency = model.capabilities.supportsParallelCalls
    ? (settings.concurrency ?? DEFAULT_CONCURRENCY)
    : 1;
  return { context, concurrency, warnings, counter: settings.tokenCounter ?? estimateTokenCounter };
}

/** Collects distinct warnings and sums usage across calls. */
class Tally {
  readonly warnings: Warning[] = [];
  private readonly seen = new Set<string>();
  completedInputs = 0;
  inputTokens: number | undefined = 0;

  constructor(
    initial: Warning[],
    private readonly onWarning?: (warning: Warning) => void,
  ) {
    for (const warning of initial) this.warn(warning);
  }

  warn(warning: Warning): void {
    const key = `${warning.type}\u0000${warning.setting ?? ''}\u0000${warning.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.warnings.push(warning);
    this.onWarning?.(warning);
  }

  add(result: CallResult): void {
    this.completedInputs += result.embeddings.length;
    this.inputTokens =
      result.usage === undefined || this.inputTokens === undefined
        ? undefined
        : this.inputTokens + result.usage.inputTokens;
    for (const warning of result.warnings) this.warn(warning);
  }

  progress(totalInputs?: number) {
    return {
      completedInputs: this.completedInputs,
      ...(totalInputs === undefined ? {} : { totalInputs }),
      ...(this.inputTokens === undefined ? {} : { inputTokens: this.inputTokens }),
    };
  }
}

/**
 * Embeds many inputs: checks every input and setting before sending, splits by the model's count and
 * token limits, runs calls in a sliding pool with retries and rate limits, and returns vectors in input order.
 */
export async function embedMany(
  settings: EmbedSettings & { inputs: readonly EmbedInput[] },
): Promise<EmbedManyResult> {
  const prepared = prepare(settings, Array.isArray(settings.inputs) ? settings.inputs.length : undefined);
  const { context } = prepared;
  if (!Array.isArray(settings.inputs)) {
    throw new InvalidArgumentError('inputs must be an array; use embedStream for iterables.', {
      argument: 'inputs',
    });
  }
  const limits = batchLimits(context.model, prepared.counter, context.truncate, settings.maxInputsPerCall);
  const batches = planBatches(context.model, settings.inputs, prepared.counter, limits);
  const tally = new Tally(prepared.warnings, settings.onWarning);
  const embeddings = new Array<Embedding>(settings.inputs.length);
  const responses: ResponseInfo[] = [];
  const total = settings.inputs.length;
  const results = runPool<Batch, CallResult>(
    batches[Symbol.iterator](),
    { concurrency: prepared.concurrency, signal: settings.signal },
    (batch, signal) =>
      runBatch(context, batch, signal).then((result) => {
        tally.add(result);
        settings.onProgress?.(tally.progress(total));
        return result;
      }),
  );
  for await (const result of results) {
    for (let index = 0; index < result.embeddings.length; index++)
      embeddings[result.offset + index] = result.embeddings[index]!;
    responses.push(...result.responses);
  }
  const out: EmbedManyResult = { embeddings, warnings: tally.warnings, responses };
  if (tally.inputTokens !== undefined && batches.length > 0) out.usage = { inputTokens: tally.inputTokens };
  return out;
}

/** Embeds one input. */
export async function embed(settings: EmbedSettings & { input: EmbedInput }): Promise<EmbedResult> {
  const { input, ...rest } = settings;
  const result = await embedMany({ ...rest, inputs: [input] });
  const out: EmbedResult = {
    embedding: result.embeddings[0]!,
    warnings: result.warnings,
    response: result.responses[0]!,
  };
  if (result.usage !== undefined) out.usage = result.usage;
  return out;
}

/**
 * Embeds an iterable or async iterable of any length with bounded memory: at most `concurrency` calls
 * in flight, and results yielded in source order as `{ index, embedding }`. Inputs are checked as
 * they are read, so a bad input stops the stream where it stands.
 */
export async function* embedStream(
  settings: EmbedSettings & { inputs: Iterable<EmbedInput> | AsyncIterable<EmbedInput> },
): AsyncGenerator<StreamedEmbedding> {
  const prepared = prepare(settings);
  const { context } = prepared;
  const source = settings.inputs as Partial<Iterable<EmbedInput> & AsyncIterable<EmbedInput>>;
  if (
    source === null ||
    typeof source !== 'object' ||
    (source[Symbol.iterator] === undefined && source[Symbol.asyncIterator] === undefined)
  ) {
    throw new InvalidArgumentError('inputs must be an Iterable or AsyncIterable of inputs.', {
      argument: 'inputs',
    });
  }
  const limits = batchLimits(context.model, prepared.counter, context.truncate, settings.maxInputsPerCall);
  const tally = new Tally(prepared.warnings, settings.onWarning);
  const batches = streamBatches(context.model, settings.inputs, prepared.counter, limits);
  const results = runPool<Batch, CallResult>(
    batches,
    { concurrency: prepared.concurrency, window: prepared.concurrency * 2, signal: settings.signal },
    (batch, signal) =>
      runBatch(context, batch, signal).then((result) => {
        tally.add(result);
        settings.onProgress?.(tally.progress());
        return result;
      }),
  );
  for await (const result of results) {
    for (let index = 0; index < result.embeddings.length; index++) {
      yield { index: result.offset + index, embedding: result.embeddings[index]! };
    }
  }
}
