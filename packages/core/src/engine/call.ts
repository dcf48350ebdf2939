import {
  abortReason,
  EmbedKitError,
  InvalidRequestError,
  InvalidResponseError,
  RateLimitError,
  RetryError,
  TimeoutError,
} from '../errors.js';
import type {
  EmbeddingModel,
  EmbedInput,
  EmbedRequest,
  EmbedResponse,
  InputType,
  OutputType,
  ResponseInfo,
  Warning,
} from '../types.js';
import { vectorLength } from '../vectors.js';
import type { Batch } from './batcher.js';
import type { Clock } from './clock.js';
import type { ModelState } from './rate-limiter.js';
import type { RetryEvent } from './settings.js';

/** Everything a call needs that is the same for every call of one engine run. */
export interface CallContext {
  model: EmbeddingModel;
  state: ModelState;
  clock: Clock;
  inputType: InputType | undefined;
  dimensions: number | undefined;
  outputType: OutputType;
  truncate: boolean;
  headers: Record<string, string> | undefined;
  providerOptions: Record<string, Record<string, unknown>> | undefined;
  maxRetries: number;
  maxRetryDelayMs: number;
  timeoutMs: number;
  onRetry: ((event: RetryEvent) => void) | undefined;
}

/** The outcome of one batch (several HTTP calls when it had to be bisected). */
export interface CallResult {
  offset: number;
  embeddings: EmbedResponse['embeddings'];
  usage: EmbedResponse['usage'];
  warnings: Warning[];
  responses: ResponseInfo[];
}

/** First wait of the exponential backoff; doubles per retry, with full jitter, up to `maxRetryDelayMs`. */
const INITIAL_BACKOFF_MS = 500;

/**
 * Runs one batch: admission (429 pause, rate limits), attempts with retries, response checks, and
 * bisection when the provider says the batch is too large.
 */
export async function runBatch(context: CallContext, batch: Batch, signal: AbortSignal): Promise<CallResult> {
  try {
    const response = await attempt(context, batch, signal);
    return {
      offset: batch.offset,
      embeddings: response.embeddings,
      usage: response.usage,
      warnings: response.warnings,
      responses: [response.response],
    };
  } catch (error) {
    if (signal.aborted) throw error;
    const tooLarge = InvalidRequestError.isInstance(error) && error.batchTooLarge;
    if (tooLarge && batch.inputs.length > 1) {
      const half = Math.ceil(batch.inputs.length / 2);
      const first = await runBatch(context, slice(batch, 0, half), signal);
      const second = await runBatch(context, slice(batch, half, batch.inputs.length), signal);
      return {
        offset: batch.offset,
        embeddings: [...first.embeddings, ...second.embeddings],
        usage:
          first.usage === undefined || second.usage === undefined
            ? undefined
            : { inputTokens: first.usage.inputTokens + second.usage.inputTokens },
        warnings: [...first.warnings, ...second.warnings],
        responses: [...first.responses, ...second.responses],
      };
    }
    if (InvalidRequestError.isInstance(error) && error.inputIndex !== undefined && batch.offset !== 0) {
      throw withGlobalIndex(error, batch.offset + error.inputIndex);
    }
    throw error;
  }
}

function slice(batch: Batch, start: number, end: number): Batch {
  return {
    offset: batch.offset + start,
    inputs: batch.inputs.slice(start, end),
    tokens: batch.tokens.slice(start, end),
  };
}

function withGlobalIndex(error: InvalidRequestError, index: number): InvalidRequestError {
  const out = new InvalidRequestError(`${error.message} (input ${index} of the whole job)`, {
    provider: error.provider,
    url: error.url,
    statusCode: error.statusCode,
    requestId: error.requestId,
    responseBody: error.responseBody,
    providerCode: error.providerCode,
    isRetryable: error.isRetryable,
    inputIndex: index,
    cause: error,
  });
  return out;
}

async function attempt(context: CallContext, batch: Batch, signal: AbortSignal): Promise<EmbedResponse> {
  const { model, clock, state } = context;
  const tokens = batch.tokens.reduce((sum, count) => sum + count, 0);
  const errors: unknown[] = [];
  for (let attemptNumber = 0; ; attemptNumber++) {
    await state.admit(tokens, clock, signal);
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      timeout.abort(
        new TimeoutError(
          `${model.provider} model ${model.modelId} did not answer within ${context.timeoutMs} ms (timeoutMs).`,
          { provider: model.provider },
        ),
      );
    }, context.timeoutMs);
    let error: unknown;
    try {
      const response = await model.doEmbed(
        buildRequest(context, batch.inputs, AbortSignal.any([signal, timeout.signal])),
      );
      checkResponse(context, response, batch.inputs.length);
      return response;
    } catch (caught) {
      if (signal.aborted) throw abortReason(signal);
      error = timeout.signal.aborted && !EmbedKitError.isInstance(caught) ? timeout.signal.reason : caught;
    } finally {
      clearTimeout(timer);
    }
    const retryable = EmbedKitError.isInstance(error) && error.isRetryable;
    if (!retryable) throw error;
    errors.push(error);
    if (attemptNumber >= context.maxRetries) {
      if (errors.length === 1) throw error;
      throw new RetryError(
        `${model.provider} model ${model.modelId} failed ${errors.length} times; the last error: ${(error as EmbedKitError).message}`,
        errors,
      );
    }
    const delayMs = retryDelay(context, error as EmbedKitError, attemptNumber);
    if (RateLimitError.isInstance(error)) state.pause(clock.now() + delayMs);
    context.onRetry?.({ attempt: attemptNumber + 1, error, delayMs });
    await clock.sleep(delayMs, signal);
  }
}

function retryDelay(context: CallContext, error: EmbedKitError, attemptNumber: number): number {
  if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0) {
    return Math.min(error.retryAfterMs, context.maxRetryDelayMs);
  }
  const ceiling = Math.min(context.maxRetryDelayMs, INITIAL_BACKOFF_MS * 2 ** attemptNumber);
  return Math.round((context.clock.random ?? Math.random)() * ceiling);
}

function buildRequest(context: CallContext, inputs: EmbedInput[], signal: AbortSignal): EmbedRequest {
  const request: EmbedRequest = { inputs, signal, timeoutMs: context.timeoutMs };
  if (context.inputType !== undefined) request.inputType = context.inputType;
  if (context.dimensions !== undefined) request.dimensions = context.dimensions;
  if (context.outputType !== 'float') request.outputType = context.outputType;
  if (context.truncate) request.truncate = true;
  if (context.headers !== undefined) request.headers = context.headers;
  if (context.providerOptions !== undefined) request.providerOptions = context.providerOptions;
  return request;
}

const EXPECTED_ARRAY: Record<OutputType, string> = {
  float: 'Float32Array',
  int8: 'Int8Array',
  binary: 'Int8Array',
  uint8: 'Uint8Array',
  ubinary: 'Uint8Array',
};

/** The checks every provider's answer must pass, whatever the provider did itself. */
function checkResponse(context: CallContext, response: EmbedResponse, inputCount: number): void {
  const { model, outputType } = context;
  const where = {
    provider: model.provider,
    statusCode: response?.response?.status,
    requestId: response?.response?.requestId,
  };
  const embeddings = response?.embeddings;
  if (!Array.isArray(embeddings) || embeddings.length !== inputCount) {
    throw new InvalidResponseError(
      `${model.provider} returned ${Array.isArray(embeddings) ? embeddings.length : 'no'} vectors for ${inputCount} inputs.`,
      where,
    );
  }
  const dimensions = context.dimensions ?? model.capabilities.defaultDimensions;
  const expectedLength = dimensions === undefined ? undefined : vectorLength(outputType, dimensions);
  const expectedArray = EXPECTED_ARRAY[outputType];
  let length = expectedLength;
  for (let index = 0; index < embeddings.length; index++) {
    const vector = embeddings[index];
    if (vector?.constructor?.name !== expectedArray) {
      throw new InvalidResponseError(
        `${model.provider} returned vector ${index} as ${vector?.constructor?.name ?? typeof vector}; ${outputType} vectors must be ${expectedArray}.`,
        where,
      );
    }
    length ??= vector.length;
    if (vector.length !== length) {
      throw new InvalidResponseError(
        `${model.provider} returned vector ${index} with ${vector.length} values; expected ${length}${context.dimensions === undefined ? '' : ` for dimensions ${context.dimensions}`}.`,
        where,
      );
    }
  }
  const usage = response.usage;
  if (usage !== undefined && !(Number.isInteger(usage.inputTokens) && usage.inputTokens >= 0)) {
    throw new InvalidResponseError(
      `${model.provider} reported usage of ${String(usage.inputTokens)} tokens, which is not a count.`,
      where,
    );
  }
}
