/** The rerank group (`RerankingModel.doRerank` + `rerank`): its wire profile, its families' suite, its scenarios. */
import { strict as assert } from 'node:assert';
import {
  estimateTokenCounter,
  type RerankingModel,
  type RerankResult,
  type RerankSettings,
  rerank,
} from '@embedkit/core';
import type { SettingNames } from '@embedkit/core/provider';
import { createWorld, type World, type WorldVariant } from '../../harness.js';
import type { ExpectOptions, ReplyHandler, TransportKind, WireReply } from '../../interceptor.js';
import { answerBody, reportedTokens } from '../../suite/answers.js';
import { requestIdHeaders } from '../../suite/checks.js';
import {
  type CallLimits,
  type FamilyPass,
  type ItemCost,
  minuteTokens,
  modePass,
  packedCallSizes,
} from '../../suite/family.js';
import {
  type FieldShape,
  GROUP_OPTIONS,
  OPTION_EXAMPLES,
  WIRE_BASICS,
  WIRE_BASICS_INNER,
} from '../../suite/fields.js';
import { errorReply, type JobKit, type JobWorld, jobPass, refillWait } from '../../suite/job-kit.js';
import { aText, readingWire, textList } from '../../suite/wire-readers.js';
import type {
  Cassette,
  CreateModelOptions,
  ErrorKind,
  OptionExample,
  WireBasics,
  WireRequest,
} from '../../types.js';

/** How a provider's rerank endpoint looks on the wire. */
export interface RerankingWireProfile extends WireBasics {
  endpoint(call: { modelId: string }): { method: 'POST'; path: string };
  queryOf(body: unknown): string;
  documentsOf(body: unknown): string[];
  /** The number of results the request asked for, if any. */
  topNOf(body: unknown): number | undefined;
  /** A success body listing `results` in the given wire order (`index` is the position in the request). */
  successBody(request: {
    body: unknown;
    results: { index: number; relevanceScore: number }[];
    usageTokens?: number;
  }): unknown;
  /** The API's documented limit on documents per request; the fake server answers 400 above it. */
  maxDocumentsPerRequest?: number;
  /**
   * Whether the model is listwise: the API's scores rank the documents of one request against each
   * other, and do not compare across requests. The model must then declare `scoresCompareAcrossCalls:
   * false`, which `rerank-listwise-split-refused` checks. Default false.
   */
  listwise?: boolean;
  /** Whether the API will cut over-long documents of this request, its own default included. */
  truncateOf?(body: unknown): boolean;
  /** Whether the API will send the documents back in its answer, its own default included (the engine has them). */
  returnsDocumentsOf?(body: unknown): boolean;
  /** Every option of the provider's rerank option schema, each with an example value. */
  options?: readonly OptionExample[];
}

export interface DescribeRerankingProviderOptions {
  /** Shown in test names. */
  name: string;
  createModel(options: CreateModelOptions): RerankingModel;
  baseURL: string;
  modelId: string;
  wire: RerankingWireProfile;
  /** Cassettes of `rerank` calls to replay: objects, or a directory of `*.json` files. */
  cassettes?: Cassette[] | string;
  /** Scenario ids known to fail, each with its reason; one that passes fails the run. */
  expectedFailures?: Record<string, string>;
  /** Re-run the splitting families with `maxDocumentsPerCall: 2` and `concurrency: 1`. Default true. */
  rerunWithTinyBatches?: boolean;
}

const RERANKING_WIRE: SettingNames<RerankingWireProfile> = {
  ...WIRE_BASICS,
  endpoint: true,
  queryOf: true,
  documentsOf: true,
  topNOf: true,
  successBody: true,
  maxDocumentsPerRequest: true,
  listwise: true,
  truncateOf: true,
  returnsDocumentsOf: true,
  options: true,
};

const DESCRIBE_RERANKING_PROVIDER_OPTIONS: SettingNames<DescribeRerankingProviderOptions> = {
  ...GROUP_OPTIONS,
  createModel: true,
  rerunWithTinyBatches: true,
};

/** `describeRerankingProvider`'s options, its wire included: every field the group reads. */
export const RERANKING_PROVIDER_SHAPE: FieldShape = {
  names: DESCRIBE_RERANKING_PROVIDER_OPTIONS,
  inner: {
    wire: { names: RERANKING_WIRE, inner: { ...WIRE_BASICS_INNER, options: OPTION_EXAMPLES } },
  },
};

export interface RerankingMode {
  name: 'default' | 'tiny-batches';
  maxDocumentsPerCall?: number;
  concurrency?: number;
}

export const RERANKING_TINY_MODE: RerankingMode = {
  name: 'tiny-batches',
  maxDocumentsPerCall: 2,
  concurrency: 1,
};

export interface RerankingWorld extends World<RerankingModel> {
  respond(handler: ReplyHandler, options?: ExpectOptions): void;
}

/** The fake API's score for a document: deterministic in [0, 1), different for every text. */
export function relevanceFor(query: string, document: string): number {
  let seed = 0x811c9dc5;
  const text = `${query}\u0000${document}`;
  for (let index = 0; index < text.length; index++) {
    seed ^= text.charCodeAt(index);
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
  return seed / 0x100000000;
}

/** The request id the group's successful answers carry (under the wire's `requestIdHeader`). */
export const RERANK_REQUEST_ID = 'req-conformance-rerank';

export const QUERY = 'which animals make good pets?';

/**
 * The query of the rerank group's small job, which the families every group shares run (see
 * `rerankingJobPass`).
 */
export const JOB_QUERY = 'pets?';

export interface RerankingAnswer {
  /** List the results in document order rather than by score. */
  unsorted?: boolean;
  mutate?(results: { index: number; relevanceScore: number }[]): void;
  /** `false`: the answer carries no usage, as an API that reports usage may still answer. */
  usage?: false;
}

/** What every rerank family gets. */
export interface RerankingSuite {
  wire: RerankingWireProfile;
  mode: RerankingMode;
  /**
   * The suite's documents one call takes in this mode: the declared document limit, or fewer where the
   * declared `maxTokensPerCall` is reached first.
   */
  cap: number;
  /**
   * Whether the model is listwise: it declares scores that do not compare across calls
   * (`scoresCompareAcrossCalls: false`), or the wire profile says so (`listwise`).
   */
  listwise: boolean;
  settings(world: RerankingWorld, extra?: Partial<RerankSettings>): RerankSettings;
  success(answer?: RerankingAnswer): ReplyHandler;
  errorReply(
    status: number,
    message: string,
    options?: { kind?: ErrorKind; headers?: Record<string, string> },
  ): () => WireReply;
  documents(count: number, prefix?: string): string[];
  /** As many documents as one call takes in this mode (by the declared document and token limits). */
  oneCall(prefix: string): string[];
  /**
   * The documents of each call `rerank` makes for `documents` with these settings over the suite's, packed
   * by the engine's packer: by the declared document and token limits (the query counted with each
   * document), the settings' `maxDocumentsPerCall`, `query` and `tokenCounter`, and the `tokensPerMinute`
   * of the limiter the job draws on (its `rateLimit`, else the model's).
   */
  plan(documents: readonly string[], extra?: Partial<RerankSettings>): number[];
  /** What each document costs a call (the query's tokens and its own) in a job with these settings. */
  costs(documents: readonly string[], extra?: Partial<RerankSettings>): ItemCost[];
  /**
   * The limits a job with these settings over the suite's is packed under (what `plan` packs by): the
   * declared and the mode's or settings' documents per call, the declared `maxTokensPerCall`, and the
   * `tokensPerMinute` of the limiter the job draws on (its `rateLimit`, else the model's).
   */
  callLimits(extra?: Partial<RerankSettings>): Pick<CallLimits, 'maxItems' | 'maxTokens' | 'tokensPerMinute'>;
  /** Expects every call `plan` gives, each answered by `handler`; returns the plan. */
  respondAll(
    world: RerankingWorld,
    documents: readonly string[],
    handler: ReplyHandler,
    extra?: Partial<RerankSettings>,
  ): number[];
  usageTokens(query: string, documents: readonly string[]): number;
  /** The ranking the engine must return: every document scored, highest first, ties in document order. */
  expectedRanking(query: string, documents: readonly string[], topN?: number): RerankResult['results'];
}

type SuiteOptions = Pick<
  DescribeRerankingProviderOptions,
  'name' | 'createModel' | 'baseURL' | 'modelId' | 'wire'
>;

export function createRerankingSuite(options: SuiteOptions, mode: RerankingMode): RerankingSuite {
  const { wire } = options;
  const probe = options.createModel({
    modelId: options.modelId,
    apiKey: 'probe',
    baseURL: options.baseURL,
    fetch: () => Promise.reject(new Error('the probe never calls')),
  });
  const declared = probe.capabilities;
  const callLimits = (extra: Partial<RerankSettings> = {}) => ({
    maxItems: Math.min(
      declared.maxDocumentsPerCall,
      extra.maxDocumentsPerCall ?? mode.maxDocumentsPerCall ?? Number.POSITIVE_INFINITY,
    ),
    maxTokens: declared.maxTokensPerCall,
    tokensPerMinute: minuteTokens(extra.rateLimit, probe),
  });
  const costs = (documents: readonly string[], extra: Partial<RerankSettings> = {}) => {
    const counter = extra.tokenCounter ?? estimateTokenCounter;
    // The API counts the query once per document it is paired with, and so does the engine.
    const queryTokens = counter.count(extra.query ?? QUERY);
    return documents.map((document) => ({ tokens: queryTokens + counter.count(document) }));
  };
  const plan = (documents: readonly string[], extra: Partial<RerankSettings> = {}) =>
    packedCallSizes(costs(documents, extra), {
      ...callLimits(extra),
      exactTokens: (extra.tokenCounter ?? estimateTokenCounter).exact === true && extra.truncate !== true,
    });
  const documents = (count: number, prefix = 'document') =>
    Array.from({ length: count }, (_, index) => `${prefix} ${index}: notes on pets and animals ${index % 7}`);
  const oneCall = (prefix: string) => {
    const all = documents(
      Math.min(declared.maxDocumentsPerCall, mode.maxDocumentsPerCall ?? Number.POSITIVE_INFINITY),
      prefix,
    );
    return all.slice(0, plan(all)[0]);
  };
  const cap = oneCall('document').length;
  const listwise = probe.capabilities.scoresCompareAcrossCalls === false || wire.listwise === true;
  const usageTokens = (query: string, documents: readonly string[]) =>
    documents.reduce((sum, document) => sum + reportedTokens(`${query}\n${document}`), 0);

  /** Answers like the API: scores every document, orders them (sorted unless told), keeps `top_n`. */
  const success =
    (answer: RerankingAnswer = {}): ReplyHandler =>
    (request: WireRequest): WireReply => {
      const query = wire.queryOf(request.body);
      const documents = wire.documentsOf(request.body);
      if (wire.maxDocumentsPerRequest !== undefined && documents.length > wire.maxDocumentsPerRequest) {
        const message = `${documents.length} documents exceed the API's limit of ${wire.maxDocumentsPerRequest}`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      let results = documents.map((document, index) => ({
        index,
        relevanceScore: relevanceFor(query, document),
      }));
      if (!answer.unsorted) results.sort((a, b) => b.relevanceScore - a.relevanceScore);
      const topN = wire.topNOf(request.body);
      if (topN !== undefined) {
        results = [...results].sort((a, b) => b.relevanceScore - a.relevanceScore).slice(0, topN);
        if (answer.unsorted) results.reverse();
      }
      answer.mutate?.(results);
      const reported = wire.reportsUsage && answer.usage !== false;
      const body = answerBody(
        (usage) => wire.successBody({ body: request.body, results, ...usage }),
        wire.reportsUsage,
        reported ? usageTokens(query, documents) : undefined,
      );
      return { status: 200, headers: requestIdHeaders(wire.requestIdHeader, RERANK_REQUEST_ID), body };
    };

  return {
    wire,
    mode,
    cap,
    listwise,
    settings: (world, extra = {}) => ({
      model: world.model,
      query: QUERY,
      documents: [],
      clock: world.clock,
      maxRetries: 3,
      ...(mode.maxDocumentsPerCall === undefined ? {} : { maxDocumentsPerCall: mode.maxDocumentsPerCall }),
      ...(mode.concurrency === undefined ? {} : { concurrency: mode.concurrency }),
      // The fake API scores each document alone (relevanceFor), so scores of split calls compare even for
      // a listwise model, whose jobs the suite splits to check the engine's packing.
      ...(listwise ? { mergeScoresAcrossCalls: true } : {}),
      ...extra,
    }),
    success,
    errorReply: (status, message, replyOptions) => errorReply(wire, status, message, replyOptions),
    documents,
    oneCall,
    costs,
    callLimits,
    plan,
    respondAll(world, documents, handler, extra) {
      const sizes = plan(documents, extra);
      for (const _size of sizes) world.respond(handler);
      return sizes;
    },
    usageTokens,
    expectedRanking(query, documents, topN) {
      const all = documents
        .map((document, index) => ({ index, relevanceScore: relevanceFor(query, document), document }))
        .sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
      return topN === undefined ? all : all.slice(0, topN);
    },
  };
}

function rerankingWorld(
  options: SuiteOptions,
  kind: TransportKind,
  variant: WorldVariant = {},
): RerankingWorld & { close(): Promise<void> } {
  const world = createWorld(options, kind, variant);
  return {
    ...world,
    respond(handler, expectOptions) {
      const { method, path } = options.wire.endpoint({ modelId: options.modelId });
      world.interceptor.expect(method, path, handler, expectOptions);
    },
  };
}

/** The options with the wire's readers of a request held to what they must read (see `readingWire`). */
function readingRequests(options: SuiteOptions): SuiteOptions {
  const readings = { queryOf: aText('query'), documentsOf: textList('documents') };
  return { ...options, wire: readingWire(options.wire, readings) };
}

export function rerankingPass(
  given: SuiteOptions,
  mode: RerankingMode,
): FamilyPass<RerankingSuite, RerankingWorld> {
  const options = readingRequests(given);
  return modePass(mode, createRerankingSuite(options, mode), (kind, variant) =>
    rerankingWorld(options, kind, variant),
  );
}

/** The rerank group as the shared families see it: a short query and two documents, one call. */
export function rerankingJobPass(given: SuiteOptions): FamilyPass<JobKit, JobWorld> {
  const options = readingRequests(given);
  const suite = createRerankingSuite(options, { name: 'default' });
  // Short texts, so that the job and its retry fit a small limiter's minute (see `refillWait`): both
  // documents in one call unless the declared token budget takes only one.
  const query = JOB_QUERY;
  const both = ['cats', 'dogs'];
  const documents = both.slice(0, suite.plan(both, { query })[0]);
  return jobPass(
    {
      prefix: 'rerank-',
      wire: options.wire,
      baseURL: options.baseURL,
      endpointPath: options.wire.endpoint({ modelId: options.modelId }).path,
      method: 'doRerank',
      refillWait: refillWait(suite.costs(documents, { query }), suite.callLimits()),
    },
    (kind, variant) => rerankingWorld(options, kind, variant),
    (world) => ({
      expectCall: (reply, expectOptions) => world.respond(reply, expectOptions),
      success: suite.success(),
      async run(settings = {}) {
        const result = await rerank({ ...suite.settings(world), query, documents, ...settings });
        assert.deepEqual(result.results, suite.expectedRanking(query, documents));
      },
    }),
  );
}
