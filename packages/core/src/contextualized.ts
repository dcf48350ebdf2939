/**
 * Contextualized chunk embeddings: each chunk of a document is embedded with the other chunks of the same
 * document as context (Voyage `voyage-context-3`, Jina late chunking). A model that can do this is an
 * `EmbeddingModel` that also implements `doEmbedContextualized`; `embedContextualized` is the engine side.
 */

import { runBisecting, splitDocuments, sumUsage } from './engine/bisect.js';
import { systemClock } from './engine/clock.js';
import { runPool } from './engine/pool.js';
import { modelState } from './engine/rate-limiter.js';
import { withRetries } from './engine/retry.js';
import {
  checkSettings,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  type EmbedSettings,
} from './engine/settings.js';
import { estimateTokenCounter } from './engine/token-counter.js';
import { InvalidArgumentError, InvalidResponseError } from './errors.js';
import type {
  Embedding,
  EmbeddingModel,
  InputType,
  OutputType,
  ResponseInfo,
  Usage,
  Warning,
} from './types.js';
import { vectorLength } from './vectors.js';

/** The API's limits on one contextualized call. */
export interface ContextualizedCapabilities {
  /** Documents in one call (Voyage: 1,000). */
  maxDocumentsPerCall: number;
  /** Chunks summed over the documents of one call (Voyage: 16,000). */
  maxChunksPerCall?: number;
  /** Tokens summed over every chunk of one call (Voyage: 120,000). */
  maxTokensPerCall?: number;
  /** Tokens of one document, all its chunks together: the context window. */
  maxTokensPerDocument?: number;
}

/** One provider call: the documents of exactly one HTTP request, each a list of chunks. */
export interface ContextualizedEmbedRequest {
  documents: string[][];
  inputType?: InputType;
  dimensions?: number;
  outputType?: OutputType;
  signal?: AbortSignal;
  /** The engine's per-attempt timeout. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  providerOptions?: Record<string, Record<string, unknown>>;
}

export interface ContextualizedEmbedResponse {
  /** Per document, one vector per chunk, both in request order. */
  embeddings: Embedding[][];
  /**
   * The chunk texts, per document, when the provider chunked the documents itself (Voyage auto-chunking);
   * then `embeddings[i]` has one vector per `chunks[i]` entry instead of per given chunk.
   */
  chunks?: string[][];
  /** Absent when the API reports no usage. */
  usage?: Usage;
  warnings: Warning[];
  response: ResponseInfo;
}

/** An embedding model that can also embed chunks in the context of their document. */
export interface ContextualizedEmbeddingModel extends EmbeddingModel {
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  /** Exactly one HTTP call. */
  doEmbedContextualized(request: ContextualizedEmbedRequest): Promise<ContextualizedEmbedResponse>;
}

/** Whether `model` implements the contextualized capability. */
export function isContextualizedEmbeddingModel(model: unknown): model is ContextualizedEmbeddingModel {
  return (
    typeof model === 'object' &&
    model !== null &&
    (model as { specificationVersion?: unknown }).specificationVersion === 'v1' &&
    typeof (model as { doEmbedContextualized?: unknown }).doEmbedContextualized === 'function' &&
    typeof (model as { contextualizedCapabilities?: unknown }).contextualizedCapabilities === 'object'
  );
}

/** Settings of `embedContextualized`: the engine settings that apply to documents of chunks. */
export interface EmbedContextualizedSettings
  extends Omit<EmbedSettings, 'model' | 'truncate' | 'maxInputsPerCall' | 'onProgress'> {
  model: ContextualizedEmbeddingModel;
  /** Documents, each a non-empty list of non-empty chunk strings, in document order. */
  documents: readonly (readonly string[])[];
  /** Fewer documents per call than the model allows (never more). */
  maxDocumentsPerCall?: number;
  /** Fewer chunks per call than the model allows (never more). */
  maxChunksPerCall?: number;
}

export interface EmbedContextualizedResult {
  /** Per document, one vector per chunk, in order. */
  embeddings: Embedding[][];
  /** Per document, the chunk texts, when the provider chunked the documents itself. */
  chunks?: string[][];
  /** Summed over every call; absent when any call reported none. */
  usage?: Usage;
  /** Each distinct warning once. */
  warnings: Warning[];
  /** One entry per HTTP call made, in document order. */
  responses: ResponseInfo[];
}

interface DocumentBatch {
  offset: number;
  documents: string[][];
  tokens: number;
}

interface BatchResult {
  offset: number;
  embeddings: Embedding[][];
  chunks: string[][] | undefined;
  usage: Usage | undefined;
  warnings: Warning[];
  responses: ResponseInfo[];
}

function positiveInteger(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got ${value}.`, { argument: name });
  }
}

function checkDocuments(documents: unknown): asserts documents is readonly (readonly string[])[] {
  if (!Array.isArray(documents)) {
    throw new InvalidArgumentError(
      'documents must be an array of documents, each an array of chunk strings.',
      {
        argument: 'documents',
      },
    );
  }
  documents.forEach((document: unknown, index) => {
    if (!Array.isArray(document) || document.length === 0) {
      throw new InvalidArgumentError(`Document ${index} must be a non-empty array of chunk strings.`, {
        argument: `documents[${index}]`,
      });
    }
    document.forEach((chunk: unknown, position) => {
      if (typeof chunk !== 'string' || chunk.length === 0) {
        throw new InvalidArgumentError(
          `Chunk ${position} of document ${index} must be a non-empty string; embedding APIs reject empty inputs.`,
          { argument: `documents[${index}][${position}]` },
        );
      }
    });
  });
}

/**
 * Embeds chunks in the context of their documents. Checks every document and setting before sending,
 * splits documents into calls by the model's document, chunk and token limits (a document is never split:
 * its chunks need each other), runs calls with the engine's retries, rate limits and abort handling,
 * bisects a call the API says is too large, and returns one array of chunk vectors per document, in order.
 */
export async function embedContextualized(
  settings: EmbedContextualizedSettings,
): Promise<EmbedContextualizedResult> {
  const { model } = settings;
  if (!isContextualizedEmbeddingModel(model)) {
    throw new InvalidArgumentError(
      'model must be an embedkit model with contextualized embeddings (doEmbedContextualized), e.g. voyage.contextualizedEmbedding("voyage-context-3").',
      { argument: 'model' },
    );
  }
  const { warnings, inputType } = checkSettings(settings as EmbedSettings);
  positiveInteger(settings.maxDocumentsPerCall, 'maxDocumentsPerCall');
  positiveInteger(settings.maxChunksPerCall, 'maxChunksPerCall');
  checkDocuments(settings.documents);

  const limits = model.contextualizedCapabilities;
  const maxDocuments = Math.min(limits.maxDocumentsPerCall, settings.maxDocumentsPerCall ?? Infinity);
  const maxChunks = Math.min(limits.maxChunksPerCall ?? Infinity, settings.maxChunksPerCall ?? Infinity);
  const counter = settings.tokenCounter ?? estimateTokenCounter;
  const batches: DocumentBatch[] = [];
  let open: DocumentBatch | undefined;
  let openChunks = 0;
  settings.documents.forEach((document, index) => {
    if (document.length > maxChunks) {
      throw new InvalidArgumentError(
        `Document ${index} has ${document.length} chunks; ${model.provider} model ${model.modelId} takes at most ${maxChunks} chunks per call and a document cannot be split across calls. Use fewer, larger chunks.`,
        { argument: `documents[${index}]` },
      );
    }
    const tokens = document.reduce((sum, chunk) => sum + counter.count(chunk), 0);
    if (counter.exact && limits.maxTokensPerDocument !== undefined && tokens > limits.maxTokensPerDocument) {
      throw new InvalidArgumentError(
        `Document ${index} has ${tokens} tokens; ${model.provider} model ${model.modelId} takes at most ${limits.maxTokensPerDocument} per document. Split it into several documents.`,
        { argument: `documents[${index}]` },
      );
    }
    if (
      open === undefined ||
      open.documents.length >= maxDocuments ||
      openChunks + document.length > maxChunks ||
      (limits.maxTokensPerCall !== undefined && open.tokens + tokens > limits.maxTokensPerCall)
    ) {
      open = { offset: index, documents: [], tokens: 0 };
      openChunks = 0;
      batches.push(open);
    }
    open.documents.push([...document]);
    open.tokens += tokens;
    openChunks += document.length;
  });

  const clock = settings.clock ?? systemClock;
  const state = modelState(model);
  state.configure(settings.rateLimit, clock.now());
  const outputType = settings.outputType ?? 'float';
  const retry = {
    provider: model.provider,
    modelId: model.modelId,
    state,
    clock,
    maxRetries: settings.maxRetries ?? DEFAULT_MAX_RETRIES,
    maxRetryDelayMs: settings.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
    timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    onRetry: settings.onRetry,
    onWait: settings.onWait,
  };

  const once = async (batch: DocumentBatch, signal: AbortSignal): Promise<BatchResult> => {
    const response = await withRetries({ ...retry, tokens: batch.tokens, signal }, async (attemptSignal) => {
      const request: ContextualizedEmbedRequest = {
        documents: batch.documents,
        signal: attemptSignal,
        timeoutMs: retry.timeoutMs,
      };
      if (inputType !== undefined) request.inputType = inputType;
      if (settings.dimensions !== undefined) request.dimensions = settings.dimensions;
      if (outputType !== 'float') request.outputType = outputType;
      if (settings.headers !== undefined) request.headers = settings.headers;
      if (settings.providerOptions !== undefined) request.providerOptions = settings.providerOptions;
      const answer = await model.doEmbedContextualized(request);
      checkResponse(model, answer, batch.documents, outputType, settings.dimensions);
      return answer;
    });
    return {
      offset: batch.offset,
      embeddings: response.embeddings,
      chunks: response.chunks,
      usage: response.usage,
      warnings: response.warnings,
      responses: [response.response],
    };
  };
  const call = (batch: DocumentBatch, signal: AbortSignal): Promise<BatchResult> =>
    runBisecting(batch, signal, {
      size: (part) => part.documents.length,
      split: splitDocuments,
      run: (part) => once(part, signal),
      merge: (first, second) => ({
        offset: first.offset,
        embeddings: [...first.embeddings, ...second.embeddings],
        chunks:
          first.chunks === undefined || second.chunks === undefined
            ? undefined
            : [...first.chunks, ...second.chunks],
        usage: sumUsage(first.usage, second.usage),
        warnings: [...first.warnings, ...second.warnings],
        responses: [...first.responses, ...second.responses],
      }),
    });

  const concurrency = model.capabilities.supportsParallelCalls
    ? (settings.concurrency ?? DEFAULT_CONCURRENCY)
    : 1;
  const embeddings = new Array<Embedding[]>(settings.documents.length);
  const chunks = new Array<string[]>(settings.documents.length);
  let allChunked = batches.length > 0;
  const responses: ResponseInfo[] = [];
  const seen = new Set<string>();
  const allWarnings: Warning[] = [];
  const warn = (warning: Warning) => {
    const key = `${warning.type}\u0000${warning.setting ?? ''}\u0000${warning.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    allWarnings.push(warning);
  };
  warnings.forEach(warn);
  let inputTokens: number | undefined = 0;
  for await (const result of runPool(
    batches[Symbol.iterator](),
    { concurrency, signal: settings.signal },
    call,
  )) {
    result.embeddings.forEach((vectors, index) => {
      embeddings[result.offset + index] = vectors;
    });
    if (result.chunks === undefined) allChunked = false;
    else
      result.chunks.forEach((texts, index) => {
        chunks[result.offset + index] = texts;
      });
    inputTokens =
      result.usage === undefined || inputTokens === undefined
        ? undefined
        : inputTokens + result.usage.inputTokens;
    result.warnings.forEach(warn);
    responses.push(...result.responses);
  }
  const out: EmbedContextualizedResult = { embeddings, warnings: allWarnings, responses };
  if (allChunked) out.chunks = chunks;
  if (inputTokens !== undefined && batches.length > 0) out.usage = { inputTokens };
  return out;
}

const EXPECTED_ARRAY: Record<OutputType, string> = {
  float: 'Float32Array',
  int8: 'Int8Array',
  binary: 'Int8Array',
  uint8: 'Uint8Array',
  ubinary: 'Uint8Array',
};

/** The checks every provider's contextualized answer must pass, whatever the provider did itself. */
function checkResponse(
  model: ContextualizedEmbeddingModel,
  response: ContextualizedEmbedResponse,
  documents: readonly (readonly string[])[],
  outputType: OutputType,
  requestedDimensions: number | undefined,
): void {
  const where = {
    provider: model.provider,
    statusCode: response?.response?.status,
    requestId: response?.response?.requestId,
  };
  const embeddings = response?.embeddings;
  if (!Array.isArray(embeddings) || embeddings.length !== documents.length) {
    throw new InvalidResponseError(
      `${model.provider} returned ${Array.isArray(embeddings) ? embeddings.length : 'no'} documents of vectors for ${documents.length} documents.`,
      where,
    );
  }
  if (response.chunks !== undefined && response.chunks.length !== documents.length) {
    throw new InvalidResponseError(
      `${model.provider} returned chunk texts for ${response.chunks.length} documents, not ${documents.length}.`,
      where,
    );
  }
  const dimensions = requestedDimensions ?? model.capabilities.defaultDimensions;
  let length = dimensions === undefined ? undefined : vectorLength(outputType, dimensions);
  const expectedArray = EXPECTED_ARRAY[outputType];
  embeddings.forEach((vectors, index) => {
    const chunkCount = response.chunks?.[index]?.length ?? documents[index]!.length;
    if (!Array.isArray(vectors) || vectors.length !== chunkCount || chunkCount === 0) {
      throw new InvalidResponseError(
        `${model.provider} returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for the ${chunkCount} chunks of document ${index}.`,
        where,
      );
    }
    vectors.forEach((vector, position) => {
      if (vector?.constructor?.name !== expectedArray) {
        throw new InvalidResponseError(
          `${model.provider} returned chunk ${position} of document ${index} as ${vector?.constructor?.name ?? typeof vector}; ${outputType} vectors must be ${expectedArray}.`,
          where,
        );
      }
      length ??= vector.length;
      if (vector.length !== length) {
        throw new InvalidResponseError(
          `${model.provider} returned chunk ${position} of document ${index} with ${vector.length} values; expected ${length}.`,
          where,
        );
      }
    });
  });
  const usage = response.usage;
  if (usage !== undefined && !(Number.isInteger(usage.inputTokens) && usage.inputTokens >= 0)) {
    throw new InvalidResponseError(
      `${model.provider} reported usage of ${String(usage.inputTokens)} tokens, which is not a count.`,
      where,
    );
  }
}
