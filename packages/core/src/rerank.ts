/**
 * Reranking: score documents against a query with a cross-encoder (Voyage `rerank-2.5`, Jina rerankers).
 * A provider implements `RerankingModel` (one HTTP call per `doRerank`); `rerank` is the engine side, with
 * the same retries, rate limits, errors and abort handling as embedding.
 */

import { runBisecting, splitDocuments, sumUsage } from './engine/bisect.js';
import { systemClock } from './engine/clock.js';
import { runPool } from './engine/pool.js';
import { modelState } from './engine/rate-limiter.js';
import { withRetries } from './engine/retry.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  type EmbedSettings,
} from './engine/settings.js';
import { estimateTokenCounter } from './engine/token-counter.js';
import { InvalidArgumentError, InvalidResponseError } from './errors.js';
import type { ResponseInfo, Usage, Warning } from './types.js';

/** What a reranking model can take in one call. */
export interface RerankingCapabilities {
  /** Documents in one call (Voyage: 1,000). */
  maxDocumentsPerCall: number;
  /** Tokens of one call, counted as query tokens × documents + the documents' tokens (Voyage: 600K for rerank-2.5). */
  maxTokensPerCall?: number;
  /** Tokens of the query. */
  maxTokensPerQuery?: number;
  /** Tokens of the query plus one document: the context window. */
  maxTokensPerDocument?: number;
  /** Whether several calls may run at once. */
  supportsParallelCalls: boolean;
}

/** One provider call: the documents of exactly one HTTP request. */
export interface RerankRequest {
  query: string;
  documents: string[];
  /** Return only the best `topN` of these documents. Default: all. */
  topN?: number;
  /** Ask the provider to cut over-long documents. Default false: an over-long document is an error. */
  truncate?: boolean;
  signal?: AbortSignal;
  /** The engine's per-attempt timeout. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** One scored document of a call: `index` is its position in that call's `documents`. */
export interface RerankScore {
  index: number;
  relevanceScore: number;
}

export interface RerankResponse {
  /** Scores in any order; the engine sorts. */
  results: RerankScore[];
  /** Absent when the API reports no usage. */
  usage?: Usage;
  warnings: Warning[];
  response: ResponseInfo;
}

/** The contract every reranking model implements. `doRerank` makes exactly one HTTP call. */
export interface RerankingModel {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: RerankingCapabilities;
  doRerank(request: RerankRequest): Promise<RerankResponse>;
}

/** A provider of reranking models. */
export interface RerankingProvider {
  reranking(modelId: string): RerankingModel;
}

/** Settings of `rerank`: its own fields plus the engine settings that apply to any call. */
export interface RerankSettings
  extends Pick<
    EmbedSettings,
    | 'headers'
    | 'providerOptions'
    | 'maxRetries'
    | 'maxRetryDelayMs'
    | 'timeoutMs'
    | 'signal'
    | 'concurrency'
    | 'rateLimit'
    | 'tokenCounter'
    | 'onRetry'
    | 'onWait'
    | 'clock'
  > {
  model: RerankingModel;
  query: string;
  documents: readonly string[];
  /** Return only the best `topN` documents. Default: all, sorted. */
  topN?: number;
  /** Ask the provider to cut over-long documents. Default false: an over-long document is an error. */
  truncate?: boolean;
  /** Fewer documents per call than the model allows (never more). */
  maxDocumentsPerCall?: number;
}

/** One document of the result. */
export interface RankedDocument {
  /** Position of the document in the `documents` given to `rerank`. */
  index: number;
  relevanceScore: number;
  document: string;
}

export interface RerankResult {
  /** Sorted by `relevanceScore`, highest first; ties keep document order. At most `topN`. */
  results: RankedDocument[];
  /** Summed over every call; absent when any call reported none. */
  usage?: Usage;
  /** Each distinct warning once. */
  warnings: Warning[];
  /** One entry per HTTP call made. */
  responses: ResponseInfo[];
}

interface RerankBatch {
  offset: number;
  documents: string[];
  tokens: number;
}

interface BatchResult {
  scores: RankedDocument[];
  usage: Usage | undefined;
  warnings: Warning[];
  responses: ResponseInfo[];
}

function positiveInteger(value: number | undefined, name: string, minimum: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ ${minimum}, got ${value}.`, {
      argument: name,
    });
  }
}

function checkRerankSettings(settings: RerankSettings): void {
  const { model } = settings;
  if (
    typeof model !== 'object' ||
    model === null ||
    model.specificationVersion !== 'v1' ||
    typeof model.doRerank !== 'function'
  ) {
    throw new InvalidArgumentError('model must be an embedkit RerankingModel (specificationVersion "v1").', {
      argument: 'model',
    });
  }
  if (typeof settings.query !== 'string' || settings.query.length === 0) {
    throw new InvalidArgumentError('query must be a non-empty string.', { argument: 'query' });
  }
  if (!Array.isArray(settings.documents)) {
    throw new InvalidArgumentError('documents must be an array of strings.', { argument: 'documents' });
  }
  settings.documents.forEach((document: unknown, index) => {
    if (typeof document !== 'string' || document.length === 0) {
      throw new InvalidArgumentError(
        `Document ${index} must be a non-empty string; reranking APIs reject empty documents.`,
        { argument: `documents[${index}]` },
      );
    }
  });
  positiveInteger(settings.topN, 'topN', 1);
  positiveInteger(settings.maxRetries, 'maxRetries', 0);
  positiveInteger(settings.concurrency, 'concurrency', 1);
  positiveInteger(settings.maxDocumentsPerCall, 'maxDocumentsPerCall', 1);
  for (const name of ['timeoutMs', 'maxRetryDelayMs'] as const) {
    const value = settings[name];
    if (value !== undefined && !(value > 0))
      throw new InvalidArgumentError(`${name} must be > 0, got ${value}.`, { argument: name });
  }
}

/**
 * Reranks `documents` against `query`: checks everything before sending, splits the documents into calls
 * by the model's document and token limits (each call asks for its own best `topN`, which is enough for
 * the overall best `topN`), retries, bisects a call the API says is too large, and returns
 * `{ index, relevanceScore, document }` sorted by score, highest first.
 */
export async function rerank(settings: RerankSettings): Promise<RerankResult> {
  checkRerankSettings(settings);
  const { model, query, topN } = settings;
  const capabilities = model.capabilities;
  const counter = settings.tokenCounter ?? estimateTokenCounter;
  const truncate = settings.truncate ?? false;
  const queryTokens = counter.count(query);
  if (
    counter.exact &&
    capabilities.maxTokensPerQuery !== undefined &&
    queryTokens > capabilities.maxTokensPerQuery
  ) {
    throw new InvalidArgumentError(
      `The query has ${queryTokens} tokens; ${model.provider} model ${model.modelId} takes at most ${capabilities.maxTokensPerQuery}.`,
      { argument: 'query' },
    );
  }
  const maxDocuments = Math.max(
    1,
    Math.min(capabilities.maxDocumentsPerCall, settings.maxDocumentsPerCall ?? Number.POSITIVE_INFINITY),
  );
  const batches: RerankBatch[] = [];
  let open: RerankBatch | undefined;
  settings.documents.forEach((document, index) => {
    const tokens = queryTokens + counter.count(document);
    const perDocument = capabilities.maxTokensPerDocument;
    if (counter.exact && !truncate && perDocument !== undefined && tokens > perDocument) {
      throw new InvalidArgumentError(
        `The query and document ${index} have ${tokens} tokens together; ${model.provider} model ${model.modelId} takes at most ${perDocument}. Shorten the document or pass truncate: true.`,
        { argument: `documents[${index}]` },
      );
    }
    if (
      open === undefined ||
      open.documents.length >= maxDocuments ||
      (capabilities.maxTokensPerCall !== undefined && open.tokens + tokens > capabilities.maxTokensPerCall)
    ) {
      open = { offset: index, documents: [], tokens: 0 };
      batches.push(open);
    }
    open.documents.push(document);
    open.tokens += tokens;
  });

  const clock = settings.clock ?? systemClock;
  const state = modelState(model);
  state.configure(settings.rateLimit, clock.now());
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retry = {
    provider: model.provider,
    modelId: model.modelId,
    state,
    clock,
    maxRetries: settings.maxRetries ?? DEFAULT_MAX_RETRIES,
    maxRetryDelayMs: settings.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
    timeoutMs,
    onRetry: settings.onRetry,
    onWait: settings.onWait,
  };

  const once = async (batch: RerankBatch, signal: AbortSignal): Promise<BatchResult> => {
    const wanted = topN === undefined ? batch.documents.length : Math.min(topN, batch.documents.length);
    const response = await withRetries({ ...retry, tokens: batch.tokens, signal }, async (attemptSignal) => {
      const request: RerankRequest = {
        query,
        documents: batch.documents,
        signal: attemptSignal,
        timeoutMs,
      };
      if (topN !== undefined) request.topN = wanted;
      if (truncate) request.truncate = true;
      if (settings.headers !== undefined) request.headers = settings.headers;
      if (settings.providerOptions !== undefined) request.providerOptions = settings.providerOptions;
      const answer = await model.doRerank(request);
      checkResponse(model, answer, batch.documents.length, wanted);
      return answer;
    });
    return {
      scores: response.results.map((result) => ({
        index: batch.offset + result.index,
        relevanceScore: result.relevanceScore,
        document: batch.documents[result.index]!,
      })),
      usage: response.usage,
      warnings: response.warnings,
      responses: [response.response],
    };
  };
  const call = (batch: RerankBatch, signal: AbortSignal): Promise<BatchResult> =>
    runBisecting(batch, signal, {
      size: (part) => part.documents.length,
      split: splitDocuments,
      run: (part) => once(part, signal),
      merge: (first, second) => ({
        scores: [...first.scores, ...second.scores],
        usage: sumUsage(first.usage, second.usage),
        warnings: [...first.warnings, ...second.warnings],
        responses: [...first.responses, ...second.responses],
      }),
    });

  const concurrency = capabilities.supportsParallelCalls ? (settings.concurrency ?? DEFAULT_CONCURRENCY) : 1;
  const scores: RankedDocument[] = [];
  const responses: ResponseInfo[] = [];
  const warnings: Warning[] = [];
  const seen = new Set<string>();
  let inputTokens: number | undefined = 0;
  for await (const result of runPool(
    batches[Symbol.iterator](),
    { concurrency, signal: settings.signal },
    call,
  )) {
    scores.push(...result.scores);
    responses.push(...result.responses);
    inputTokens =
      result.usage === undefined || inputTokens === undefined
        ? undefined
        : inputTokens + result.usage.inputTokens;
    for (const warning of result.warnings) {
      const key = `${warning.type}\u0000${warning.setting ?? ''}\u0000${warning.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      warnings.push(warning);
    }
  }
  scores.sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
  const out: RerankResult = {
    results: topN === undefined ? scores : scores.slice(0, topN),
    warnings,
    responses,
  };
  if (inputTokens !== undefined && batches.length > 0) out.usage = { inputTokens };
  return out;
}

/** The checks every provider's rerank answer must pass: one score per expected document, each index once. */
function checkResponse(
  model: RerankingModel,
  response: RerankResponse,
  documentCount: number,
  wanted: number,
): void {
  const where = {
    provider: model.provider,
    statusCode: response?.response?.status,
    requestId: response?.response?.requestId,
  };
  const results = response?.results;
  if (!Array.isArray(results) || results.length !== wanted) {
    throw new InvalidResponseError(
      `${model.provider} returned ${Array.isArray(results) ? results.length : 'no'} scores; expected ${wanted} for ${documentCount} documents.`,
      where,
    );
  }
  const seen = new Set<number>();
  for (const result of results) {
    const { index, relevanceScore } = result ?? {};
    if (!Number.isInteger(index) || index < 0 || index >= documentCount || seen.has(index)) {
      throw new InvalidResponseError(
        `${model.provider} returned a score for document index ${String(index)}, ${seen.has(index) ? 'twice' : 'out of range'} for ${documentCount} documents.`,
        where,
      );
    }
    seen.add(index);
    if (typeof relevanceScore !== 'number' || !Number.isFinite(relevanceScore)) {
      throw new InvalidResponseError(
        `${model.provider} returned the score ${String(relevanceScore)} for document ${index}, not a finite number.`,
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
