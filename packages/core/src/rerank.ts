/**
 * Reranking: score documents against a query with a cross-encoder (Voyage `rerank-2.5`, Jina rerankers).
 * A provider implements `RerankingModel` (one HTTP call per `doRerank`); `rerank` is the engine side, with
 * the same retries, rate limits, errors and abort handling as embedding.
 */

import { checkBoolean, checkWholeNumber } from './argument-checks.js';
import { arraySource, Packer, planBatches } from './engine/batcher.js';
import { answerSource } from './engine/checks.js';
import type { RateLimiter } from './engine/limiter.js';
import { type JobAdapter, placeInJob, runJob, Tally } from './engine/runner.js';
import {
  BORROWED_CALL_SETTINGS,
  CALL_SETTING_NAMES,
  type CallSettings,
  checkSettingsObject,
  jobBasics,
} from './engine/settings.js';
import { InvalidArgumentError, InvalidResponseError } from './errors.js';
import { refuseUnknownSettings, type SettingNames } from './setting-names.js';
import type { ProviderOptions, ResponseInfo, Usage, Warning } from './types.js';
import { describeAnswerValue } from './vectors.js';

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
  /**
   * Whether scores of separate calls compare, so that a job split into calls can be merged by score.
   * Default true: a pointwise model scores each document alone. False for a listwise model, which scores
   * the documents of one call against each other (jina-reranker-v3): `rerank` then refuses a job it
   * would have to split unless `mergeScoresAcrossCalls` is true.
   */
  scoresCompareAcrossCalls?: boolean;
}

/** One provider call: the documents of exactly one HTTP request. `P` types its `providerOptions`. */
export interface RerankRequest<P extends object = ProviderOptions> {
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
  providerOptions?: P;
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

/**
 * The contract every reranking model implements. `doRerank` makes exactly one HTTP call. `P` types the
 * `providerOptions` it reads; the default takes any.
 */
export interface RerankingModel<P extends object = ProviderOptions> {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: RerankingCapabilities;
  /** The limiter calls through this model draw on unless a call passes its own (set on the provider). */
  readonly rateLimiter?: RateLimiter | undefined;
  doRerank(request: RerankRequest<P>): Promise<RerankResponse>;
}

/** The `providerOptions` `rerank` takes with a model: those it reads; `ProviderOptions` for a bare `RerankingModel`. */
export type RerankingProviderOptionsOf<M> = M extends RerankingModel<infer P> ? P : ProviderOptions;

/** A provider of reranking models. */
export interface RerankingProvider {
  reranking(modelId: string): RerankingModel;
}

/**
 * Settings of `rerank`: its own fields plus what every job takes. `M` follows `model`, so
 * `providerOptions` are typed by the model's provider.
 */
export interface RerankSettings<M extends RerankingModel = RerankingModel>
  extends CallSettings<RerankingProviderOptionsOf<M>> {
  model: M;
  query: string;
  documents: readonly string[];
  /** Return only the best `topN` documents. Default: all, sorted. */
  topN?: number | undefined;
  /** Ask the provider to cut over-long documents. Default false: an over-long document is an error. */
  truncate?: boolean | undefined;
  /** Fewer documents per call than the model allows (never more). */
  maxDocumentsPerCall?: number | undefined;
  /**
   * Split a job that a listwise model (`scoresCompareAcrossCalls: false`) takes in several calls, and
   * merge the calls' scores anyway, although they do not compare. Default false: such a job is refused
   * before any request, and a call the API finds too large is not bisected.
   */
  mergeScoresAcrossCalls?: boolean | undefined;
}

const RERANK_SETTINGS: SettingNames<RerankSettings> = {
  ...CALL_SETTING_NAMES,
  model: true,
  query: true,
  documents: true,
  topN: true,
  truncate: true,
  maxDocumentsPerCall: true,
  mergeScoresAcrossCalls: true,
};

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
  /** One entry per call that answered (a call bisected as too large: one per half), in document order. */
  responses: ResponseInfo[];
}

function checkRerankingModel(model: unknown): asserts model is RerankingModel {
  const candidate = model as Partial<RerankingModel> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    candidate.specificationVersion !== 'v1' ||
    typeof candidate.doRerank !== 'function' ||
    typeof candidate.capabilities !== 'object' ||
    // null is an object to typeof: read later, it failed as a TypeError instead of this refusal.
    candidate.capabilities === null
  ) {
    throw new InvalidArgumentError('model must be an embedkit RerankingModel (specificationVersion "v1").', {
      argument: 'model',
    });
  }
}

/**
 * Reranks `documents` against `query` on the engine's one runner: checks everything before sending,
 * packs the documents into calls by the model's document and token limits (each call asks for its own
 * best `topN`, which is enough for the overall best `topN`), and returns `{ index, relevanceScore,
 * document }` sorted by score, highest first.
 */
export async function rerank<M extends RerankingModel = RerankingModel>(
  settings: RerankSettings<M>,
): Promise<RerankResult> {
  checkSettingsObject(settings, 'rerank({ model, query, documents })');
  refuseUnknownSettings(settings, RERANK_SETTINGS, 'rerank', {
    instead: {
      ...BORROWED_CALL_SETTINGS,
      batchSize:
        'calls are packed by the model’s document and token limits; to send fewer documents per call, pass maxDocumentsPerCall',
      topK: 'the number of documents returned is topN',
      top_n: 'pass topN',
      returnDocuments: 'every result carries its document',
      return_documents: 'every result carries its document',
    },
  });
  const { model } = settings;
  checkRerankingModel(model);
  const { query, topN, documents } = settings;
  if (typeof query !== 'string' || query.length === 0) {
    throw new InvalidArgumentError('query must be a non-empty string.', { argument: 'query' });
  }
  if (!Array.isArray(documents)) {
    throw new InvalidArgumentError('documents must be an array of strings.', { argument: 'documents' });
  }
  checkWholeNumber(topN, 'topN', 1);
  checkWholeNumber(settings.maxDocumentsPerCall, 'maxDocumentsPerCall', 1);
  const capabilities = model.capabilities;
  const basics = jobBasics(settings, model, capabilities.supportsParallelCalls);
  const { counter } = basics;
  checkBoolean(settings.truncate, 'truncate');
  checkBoolean(settings.mergeScoresAcrossCalls, 'mergeScoresAcrossCalls');
  // Only false says listwise: a declared "false" would split the job and merge scores that do not compare.
  checkBoolean(capabilities.scoresCompareAcrossCalls, 'model.capabilities.scoresCompareAcrossCalls');
  // A listwise model's scores rank one call's documents against each other: calls must not be split.
  const whole = capabilities.scoresCompareAcrossCalls === false && settings.mergeScoresAcrossCalls !== true;
  const truncate = settings.truncate ?? false;
  const queryTokens = counter.count(query);
  const perCall = Math.min(capabilities.maxDocumentsPerCall, settings.maxDocumentsPerCall ?? Infinity);
  const packer = new Packer<string>(
    (document, index) => {
      if (typeof document !== 'string' || document.length === 0) {
        throw new InvalidArgumentError(
          `Document ${index} must be a non-empty string; reranking APIs reject empty documents.`,
          { argument: `documents[${index}]` },
        );
      }
      // The API counts the query once per document it is paired with.
      const tokens = queryTokens + counter.count(document);
      const perDocument = capabilities.maxTokensPerDocument;
      if (counter.exact && !truncate && perDocument !== undefined && tokens > perDocument) {
        throw new InvalidArgumentError(
          `The query and document ${index} have ${tokens} tokens together; ${model.provider} model ${model.modelId} takes at most ${perDocument}. Shorten the document or pass truncate: true.`,
          { argument: `documents[${index}]` },
        );
      }
      return { tokens };
    },
    {
      maxItems: perCall,
      maxTokens: capabilities.maxTokensPerCall,
      tokensPerMinute: basics.policy.limiter.tokensPerMinute,
      // An input the API would truncate costs no more than the model's limit: only a whole one is refused.
      exactTokens: counter.exact && !truncate,
      item: 'document',
      // Each document's count holds the query's, which the API counts once per document.
      itemTokens: (index, tokens) => `The query and document ${index} have ${tokens} tokens together`,
      declared: {
        model: `${model.provider} model ${model.modelId}`,
        // The declared limit on documents too, as declared: `Math.min` above reads a text as a number.
        limits: capabilities,
      },
    },
  );
  // Checked once the packer has checked the model's limits: a limit on the query that is no limit is
  // refused as such, not read as the query being too long.
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
  const batches = planBatches(documents, packer);
  const listwise = `${model.provider} model ${model.modelId} is listwise`;
  const advice =
    'Rerank fewer documents (e.g. fewer first-stage candidates), or pass mergeScoresAcrossCalls: true to split them and merge by score anyway.';
  if (whole && batches.length > 1) {
    // The packer splits by count first; a job within the count was split by one call's token budget: the
    // model's, or a minute's of the rate limiter (no call may exceed it), whichever is smaller.
    const callTokens = capabilities.maxTokensPerCall ?? Infinity;
    const minuteTokens = basics.policy.limiter.tokensPerMinute ?? Infinity;
    let reason = `the model takes at most ${perCall} documents per call`;
    if (documents.length <= perCall) {
      reason =
        minuteTokens < callTokens
          ? `together with the query they exceed the rate limit’s ${minuteTokens} tokens a minute, which no call may exceed`
          : `together with the query they exceed the ${callTokens} tokens one call takes`;
    } else if (perCall < capabilities.maxDocumentsPerCall) {
      reason = `maxDocumentsPerCall asks for at most ${perCall} documents per call`;
    }
    throw new InvalidArgumentError(
      `${listwise}: its scores rank the documents of one call against each other and do not compare across calls, so merging calls by score would give a wrong order. The ${documents.length} documents need ${batches.length} calls: ${reason}. ${advice}`,
      { argument: 'documents' },
    );
  }

  const adapter: JobAdapter<string, RankedDocument[]> = {
    item: 'document',
    async call(batch, signal, timeoutMs) {
      const count = batch.items.length;
      const wanted = topN === undefined ? count : Math.min(topN, count);
      const request: RerankRequest = { query, documents: batch.items, signal, timeoutMs };
      if (topN !== undefined) request.topN = wanted;
      if (truncate) request.truncate = true;
      if (settings.headers !== undefined) request.headers = settings.headers;
      if (settings.providerOptions !== undefined) request.providerOptions = settings.providerOptions;
      const answer = await model.doRerank(request);
      const where = answerSource(model.provider, answer?.response);
      const results = answer?.results;
      // Said "of this call": the runner adds a later call's documents in the whole job.
      const call = `${count} documents of this call`;
      if (!Array.isArray(results) || results.length !== wanted) {
        throw new InvalidResponseError(
          `${model.provider} returned ${Array.isArray(results) ? results.length : 'no'} scores; expected ${wanted} for ${call}.`,
          where,
        );
      }
      const seen = new Set<number>();
      // A document is named by its place in the call, and in the whole job when the call is a later one.
      const inJob = (index: number) =>
        batch.offset === 0 ? '' : ` ${placeInJob('document', batch.offset + index)}`;
      const scores = results.map((result) => {
        const { index, relevanceScore } = result ?? {};
        if (seen.has(index)) {
          throw new InvalidResponseError(
            `${model.provider} returned a score for document index ${index}${inJob(index)}, twice for ${count} documents.`,
            where,
          );
        }
        if (!Number.isInteger(index) || index < 0 || index >= count) {
          throw new InvalidResponseError(
            `${model.provider} returned a score for document index ${describeAnswerValue(index)}, out of range for ${call}.`,
            where,
          );
        }
        seen.add(index);
        if (typeof relevanceScore !== 'number' || !Number.isFinite(relevanceScore)) {
          throw new InvalidResponseError(
            `${model.provider} returned the score ${describeAnswerValue(relevanceScore)} for document ${index}${inJob(index)}, not a finite number.`,
            where,
          );
        }
        return { index: batch.offset + index, relevanceScore, document: batch.items[index]! };
      });
      return { value: scores, answer };
    },
    join: (first, second) => first.concat(second),
    notBisected: whole
      ? (count) =>
          `The ${count} documents were not split into smaller calls: ${listwise}, and its scores do not compare across calls. ${advice}`
      : undefined,
  };

  const tally = new Tally(settings.onWarning, settings.onProgress, documents.length);
  const scores: RankedDocument[] = [];
  for await (const { value } of runJob({
    basics,
    adapter,
    source: arraySource(batches),
    tally,
    signal: settings.signal,
  })) {
    for (const score of value) scores.push(score);
  }
  scores.sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
  return { results: topN === undefined ? scores : scores.slice(0, topN), ...tally.summary() };
}
