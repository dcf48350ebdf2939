import { InvalidRequestError, InvalidResponseError } from '../errors.js';
import type {
  EmbeddingModel,
  EmbedRequest,
  EmbedResponse,
  InputType,
  OutputType,
  ResponseInfo,
  Warning,
} from '../types.js';
import { vectorLength } from '../vectors.js';
import type { Batch } from './batcher.js';
import { runBisecting, sumUsage } from './bisect.js';
import type { Clock } from './clock.js';
import type { ModelState } from './rate-limiter.js';
import { withRetries } from './retry.js';
import type { RetryEvent, WaitEvent } from './settings.js';

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
  onWait: ((event: WaitEvent) => void) | undefined;
  /** Inputs in the whole job, when known. */
  totalInputs: number | undefined;
}

/** The outcome of one batch (several HTTP calls when it had to be bisected). */
export interface CallResult {
  offset: number;
  embeddings: EmbedResponse['embeddings'];
  usage: EmbedResponse['usage'];
  warnings: Warning[];
  responses: ResponseInfo[];
}

/**
 * Runs one batch: admission (429 pause, rate limits), attempts with retries, response checks, and
 * bisection when the provider says the batch is too large.
 */
export async function runBatch(context: CallContext, batch: Batch, signal: AbortSignal): Promise<CallResult> {
  return runBisecting(batch, signal, {
    size: (part) => part.inputs.length,
    split: (part, at) => [slice(part, 0, at), slice(part, at, part.inputs.length)],
    async run(part) {
      try {
        const response = await attempt(context, part, signal);
        context.state.settle(
          part.tokens.reduce((sum, count) => sum + count, 0),
          response.usage?.inputTokens,
        );
        return {
          offset: part.offset,
          embeddings: response.embeddings,
          usage: response.usage,
          warnings: response.warnings,
          responses: [response.response],
        };
      } catch (error) {
        // The API names the input within this call; the caller needs its place in the whole job.
        if (
          !signal.aborted &&
          InvalidRequestError.isInstance(error) &&
          error.inputIndex !== undefined &&
          part.offset !== 0
        ) {
          throw withGlobalIndex(error, part.offset + error.inputIndex);
        }
        throw error;
      }
    },
    merge: (first, second) => ({
      offset: first.offset,
      embeddings: [...first.embeddings, ...second.embeddings],
      usage: sumUsage(first.usage, second.usage),
      warnings: [...first.warnings, ...second.warnings],
      responses: [...first.responses, ...second.responses],
    }),
  });
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
  const { model } = context;
  return withRetries(
    {
      provider: model.provider,
      modelId: model.modelId,
      state: context.state,
      clock: context.clock,
      tokens: batch.tokens.reduce((sum, count) => sum + count, 0),
      maxRetries: context.maxRetries,
      maxRetryDelayMs: context.maxRetryDelayMs,
      timeoutMs: context.timeoutMs,
      onRetry: context.onRetry,
      onWait: context.onWait,
      signal,
    },
    async (attemptSignal) => {
      const response = await model.doEmbed(buildRequest(context, batch, attemptSignal));
      checkResponse(context, response, batch.inputs.length);
      return response;
    },
  );
}

function buildRequest(context: CallContext, batch: Batch, signal: AbortSignal): EmbedRequest {
  const request: EmbedRequest = {
    inputs: batch.inputs,
    signal,
    timeoutMs: context.timeoutMs,
    inputOffset: batch.offset,
  };
  if (context.totalInputs !== undefined) request.totalInputs = context.totalInputs;
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
