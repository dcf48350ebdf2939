/**
 * The contextualized group (`doEmbedContextualized` + `embedContextualized`): its wire profile, what its
 * families get, and how they become scenarios.
 */
import { strict as assert } from 'node:assert';
import {
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type EmbedContextualizedResult,
  type EmbedContextualizedSettings,
  type EmbeddingCapabilities,
  embedContextualized,
  estimateTokenCounter,
  type OutputType,
} from '@embedkit/core';
import type { SettingNames } from '@embedkit/core/provider';
import { createWorld, type World, type WorldVariant } from '../../harness.js';
import type { ExpectOptions, ReplyHandler, TransportKind, WireReply } from '../../interceptor.js';
import { answerBody, reportedTokens, valuesFor } from '../../suite/answers.js';
import { expectVector, misplacedOwner, requestIdHeaders, sameValues } from '../../suite/checks.js';
import {
  type CallLimits,
  type DimensionsAsked,
  explainingDroppedDimensions,
  type FamilyPass,
  type ItemCost,
  minuteTokens,
  modePass,
  packedCallSizes,
} from '../../suite/family.js';
import {
  type FieldShape,
  GROUP_OPTIONS,
  VECTOR_SETTINGS_WIRE,
  WIRE_BASICS,
  WIRE_BASICS_INNER,
} from '../../suite/fields.js';
import { errorReply, type JobKit, type JobWorld, jobPass, refillWait } from '../../suite/job-kit.js';
import { chunkLists, readingWire } from '../../suite/wire-readers.js';
import type {
  Cassette,
  CreateModelOptions,
  ErrorKind,
  VectorEncoding,
  VectorSettingsWire,
  WireBasics,
  WireRequest,
} from '../../types.js';

/** How a provider's contextualized endpoint looks on the wire. */
export interface ContextualizedWireProfile extends WireBasics, VectorSettingsWire {
  /** Method and path (with query) of a call carrying `documentCount` documents. */
  endpoint(call: { documentCount: number; modelId: string }): { method: 'POST'; path: string };
  /** The documents of a request body, each as its list of chunks, in order. */
  documentsOf(body: unknown): string[][];
  /**
   * A success body holding `vectors[d][c]` for chunk `c` of document `d`. `order` lists the document
   * positions in the order they should appear on the wire, `chunkOrder[d]` the chunks of document `d`
   * (wires that cannot reorder ignore them). `encoding`, when given, is how the vectors must travel.
   */
  successBody(request: {
    body: unknown;
    vectors: number[][][];
    order: number[];
    chunkOrder?: number[][];
    usageTokens?: number;
    encoding?: VectorEncoding;
  }): unknown;
  /** The API's documented limits; the fake server answers 400 above them. */
  maxDocumentsPerRequest?: number;
  maxChunksPerRequest?: number;
}

export interface DescribeContextualizedProviderOptions {
  /** Shown in test names. */
  name: string;
  createModel(options: CreateModelOptions): ContextualizedEmbeddingModel;
  /** The API root the provider calls. */
  baseURL: string;
  modelId: string;
  wire: ContextualizedWireProfile;
  /** Cassettes of `embedContextualized` calls to replay: objects, or a directory of `*.json` files. */
  cassettes?: Cassette[] | string;
  /** Scenario ids known to fail, each with its reason; one that passes fails the run. */
  expectedFailures?: Record<string, string>;
  /** Re-run the splitting families with `maxDocumentsPerCall: 2` and `concurrency: 1`. Default true. */
  rerunWithTinyBatches?: boolean;
}

const CONTEXTUALIZED_WIRE: SettingNames<ContextualizedWireProfile> = {
  ...WIRE_BASICS,
  ...VECTOR_SETTINGS_WIRE,
  endpoint: true,
  documentsOf: true,
  successBody: true,
  maxDocumentsPerRequest: true,
  maxChunksPerRequest: true,
};

const DESCRIBE_CONTEXTUALIZED_PROVIDER_OPTIONS: SettingNames<DescribeContextualizedProviderOptions> = {
  ...GROUP_OPTIONS,
  createModel: true,
  rerunWithTinyBatches: true,
};

/** The request id the group's successful answers carry (under the wire's `requestIdHeader`). */
export const CTX_REQUEST_ID = 'req-conformance-ctx';

/** `describeContextualizedProvider`'s options, its wire included: every field the group reads. */
export const CONTEXTUALIZED_PROVIDER_SHAPE: FieldShape = {
  names: DESCRIBE_CONTEXTUALIZED_PROVIDER_OPTIONS,
  inner: { wire: { names: CONTEXTUALIZED_WIRE, inner: WIRE_BASICS_INNER } },
};

export interface ContextualizedMode {
  name: 'default' | 'tiny-batches';
  maxDocumentsPerCall?: number;
  concurrency?: number;
}

export const CONTEXTUALIZED_TINY_MODE: ContextualizedMode = {
  name: 'tiny-batches',
  maxDocumentsPerCall: 2,
  concurrency: 1,
};

export interface ContextualizedWorld extends World<ContextualizedEmbeddingModel> {
  respond(documentCount: number, handler: ReplyHandler, options?: ExpectOptions): void;
}

/** How the fake API answers one call. */
export interface ContextualizedAnswer {
  order?(count: number): number[];
  /** The order of each document's chunk vectors on the wire. */
  chunkOrder?(chunks: number): number[];
  mutate?(vectors: number[][][]): void;
  /** `false`: the answer carries no usage, as an API that reports usage may still answer. */
  usage?: false;
}

/** What every contextualized family gets. */
export interface ContextualizedSuite {
  wire: ContextualizedWireProfile;
  capabilities: EmbeddingCapabilities;
  /** The limits of a job without provider options, as the engine reads them (`contextualizedCapabilitiesFor`). */
  limits: ContextualizedCapabilities;
  mode: ContextualizedMode;
  /** Documents of one chunk per call in this mode: the document limit, or the chunk limit when lower. */
  cap: number;
  /** Chunks per call: the declared `maxChunksPerCall` (Infinity when none). */
  chunkCap: number;
  chosenDimensions: number | undefined;
  dims: number;
  settings(
    world: ContextualizedWorld,
    extra?: Partial<EmbedContextualizedSettings>,
  ): EmbedContextualizedSettings;
  success(answer?: ContextualizedAnswer): ReplyHandler;
  errorReply(
    status: number,
    message: string,
    options?: { kind?: ErrorKind; headers?: Record<string, string> },
  ): () => WireReply;
  /**
   * Documents with these chunk counts, each at most `chunkCap` (a document over the chunk limit is refused);
   * every chunk text unique across the job.
   */
  documents(chunkCounts: readonly number[], prefix?: string): string[][];
  usageTokens(documents: readonly (readonly string[])[]): number;
  /**
   * The documents of each call `embedContextualized` makes for `documents` with these settings over the
   * suite's, packed by the engine's packer: by the document, chunk and token limits the model declares for
   * the settings' `providerOptions`, the settings' `maxDocumentsPerCall`, `maxChunksPerCall` and
   * `tokenCounter`, and the `tokensPerMinute` of the limiter the job draws on (its `rateLimit`, else the
   * model's).
   */
  plan(documents: readonly (readonly string[])[], extra?: Partial<EmbedContextualizedSettings>): number[];
  /** What each document costs a call (its tokens and chunks) in a job with these settings: what `plan` packs. */
  costs(documents: readonly (readonly string[])[], extra?: Partial<EmbedContextualizedSettings>): ItemCost[];
  /**
   * The limits a job with these settings over the suite's is packed under (what `plan` packs by): the
   * model's for the job's provider options (`contextualizedCapabilitiesFor`; those of none where it refuses
   * them), the mode's or settings' documents and chunks per call, and the `tokensPerMinute` of the limiter
   * the job draws on (its `rateLimit`, else the model's), which caps a call's tokens too.
   */
  callLimits(
    extra?: Partial<EmbedContextualizedSettings>,
  ): Pick<CallLimits, 'maxItems' | 'maxUnits' | 'maxTokens' | 'tokensPerMinute'>;
  /** Expects every call `plan` gives, each answered by `handler`; returns the plan. */
  respondAll(
    world: ContextualizedWorld,
    documents: readonly (readonly string[])[],
    handler: ReplyHandler,
    extra?: Partial<EmbedContextualizedSettings>,
  ): number[];
  expectVectors(
    result: EmbedContextualizedResult,
    documents: readonly (readonly string[])[],
    dimensions?: number,
    outputType?: OutputType,
  ): void;
}

type SuiteOptions = Pick<
  DescribeContextualizedProviderOptions,
  'name' | 'createModel' | 'baseURL' | 'modelId' | 'wire'
>;

export function createContextualizedSuite(
  options: SuiteOptions,
  mode: ContextualizedMode,
): ContextualizedSuite {
  const { wire } = options;
  const probe = options.createModel({
    modelId: options.modelId,
    apiKey: 'probe',
    baseURL: options.baseURL,
    fetch: () => Promise.reject(new Error('the probe never calls')),
  });
  const capabilities = probe.capabilities;
  // The engine packs a job by what `contextualizedCapabilitiesFor` answers for its provider options.
  const limits = probe.contextualizedCapabilitiesFor?.(undefined) ?? probe.contextualizedCapabilities;
  const chunkCap = limits.maxChunksPerCall ?? Number.POSITIVE_INFINITY;
  const cap = Math.min(
    limits.maxDocumentsPerCall,
    chunkCap,
    mode.maxDocumentsPerCall ?? Number.POSITIVE_INFINITY,
  );
  const allowed = capabilities.dimensions;
  const chosenDimensions =
    allowed === undefined
      ? undefined
      : 'min' in allowed
        ? Math.max(allowed.min, Math.min(allowed.max, 16))
        : [...allowed].sort((a, b) => a - b)[0];
  const dims = chosenDimensions ?? capabilities.defaultDimensions ?? 8;
  const usageTokens = (documents: readonly (readonly string[])[]) =>
    documents.flat().reduce((sum, text) => sum + reportedTokens(text), 0);

  const success =
    (answer: ContextualizedAnswer = {}): ReplyHandler =>
    (request: WireRequest): WireReply => {
      const documents = wire.documentsOf(request.body);
      const chunkCount = documents.reduce((sum, document) => sum + document.length, 0);
      if (
        (wire.maxDocumentsPerRequest !== undefined && documents.length > wire.maxDocumentsPerRequest) ||
        (wire.maxChunksPerRequest !== undefined && chunkCount > wire.maxChunksPerRequest)
      ) {
        const message = `${documents.length} documents / ${chunkCount} chunks exceed the API's limits`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      const dimensions = wire.dimensionsOf(request.body) ?? capabilities.defaultDimensions ?? 8;
      const outputType = wire.outputTypeOf?.(request.body) ?? 'float';
      const vectors = documents.map((document) =>
        document.map((chunk) => valuesFor(chunk, dimensions, outputType)),
      );
      answer.mutate?.(vectors);
      const order = answer.order?.(documents.length) ?? documents.map((_, index) => index);
      const chunkOrder =
        answer.chunkOrder === undefined
          ? {}
          : { chunkOrder: vectors.map((document) => answer.chunkOrder!(document.length)) };
      const reported = wire.reportsUsage && answer.usage !== false;
      const body = answerBody(
        (usage) => wire.successBody({ body: request.body, vectors, order, ...chunkOrder, ...usage }),
        wire.reportsUsage,
        reported ? usageTokens(documents) : undefined,
      );
      return { status: 200, headers: requestIdHeaders(wire.requestIdHeader, CTX_REQUEST_ID), body };
    };

  /**
   * The limits a job with these provider options is packed under: what the model answers for them, as the
   * engine asks (`contextualizedCapabilitiesFor`), else, for options it refuses (the engine then refuses
   * the job before any call), those of none.
   */
  const limitsFor = (providerOptions: EmbedContextualizedSettings['providerOptions']) => {
    if (providerOptions === undefined) return limits;
    try {
      return probe.contextualizedCapabilitiesFor?.(providerOptions) ?? limits;
    } catch {
      return limits;
    }
  };
  const callLimits = (extra: Partial<EmbedContextualizedSettings> = {}) => {
    const job = limitsFor(extra.providerOptions);
    return {
      maxItems: Math.min(
        job.maxDocumentsPerCall,
        extra.maxDocumentsPerCall ?? mode.maxDocumentsPerCall ?? Number.POSITIVE_INFINITY,
      ),
      maxUnits: Math.min(
        job.maxChunksPerCall ?? Number.POSITIVE_INFINITY,
        extra.maxChunksPerCall ?? Number.POSITIVE_INFINITY,
      ),
      maxTokens: job.maxTokensPerCall,
      tokensPerMinute: minuteTokens(extra.rateLimit, probe),
    };
  };
  const costs = (
    documents: readonly (readonly string[])[],
    extra: Partial<EmbedContextualizedSettings> = {},
  ) => {
    const counter = extra.tokenCounter ?? estimateTokenCounter;
    return documents.map((document) => ({
      tokens: document.reduce((sum, chunk) => sum + counter.count(chunk), 0),
      units: document.length,
    }));
  };
  const plan = (
    documents: readonly (readonly string[])[],
    extra: Partial<EmbedContextualizedSettings> = {},
  ) =>
    packedCallSizes(costs(documents, extra), {
      ...callLimits(extra),
      exactTokens: (extra.tokenCounter ?? estimateTokenCounter).exact === true,
    });

  return {
    wire,
    capabilities,
    limits,
    mode,
    cap,
    chunkCap,
    chosenDimensions,
    dims,
    settings: (world, extra = {}) => ({
      model: world.model,
      documents: [],
      clock: world.clock,
      maxRetries: 3,
      ...(mode.maxDocumentsPerCall === undefined ? {} : { maxDocumentsPerCall: mode.maxDocumentsPerCall }),
      ...(mode.concurrency === undefined ? {} : { concurrency: mode.concurrency }),
      ...(chosenDimensions === undefined ? {} : { dimensions: chosenDimensions }),
      ...extra,
    }),
    success,
    errorReply: (status, message, replyOptions) => errorReply(wire, status, message, replyOptions),
    documents: (chunkCounts, prefix = 'doc') =>
      chunkCounts.map((chunks, document) =>
        Array.from(
          { length: Math.min(chunks, chunkCap) },
          (_, chunk) => `${prefix} ${document} chunk ${chunk}: the quick brown fox ${chunk % 5}`,
        ),
      ),
    usageTokens,
    costs,
    callLimits,
    plan,
    respondAll(world, documents, handler, extra) {
      const sizes = plan(documents, extra);
      for (const size of sizes) world.respond(size, handler);
      return sizes;
    },
    expectVectors(result, documents, dimensions = dims, outputType = 'float') {
      assert.equal(result.embeddings.length, documents.length, 'one entry per document');
      const chunkValues = (document: readonly string[]) =>
        document.map((chunk) => valuesFor(chunk, dimensions, outputType));
      const sameVector = (vector: unknown, values: readonly number[]) =>
        sameValues(vector, values, outputType);
      /** Whether `vectors` are exactly the chunk vectors the fake API sent for `document`. */
      const holds = (vectors: unknown, document: readonly string[]) => {
        const list = vectors as readonly unknown[] | undefined;
        return (
          list?.length === document.length &&
          chunkValues(document).every((values, position) => sameVector(list[position], values))
        );
      };
      // A document's place holding another document's vectors, or a chunk's place another chunk's vector,
      // is named as such, which tells more than the first value that differs.
      for (const [index, document] of documents.entries()) {
        const vectors = result.embeddings[index]!;
        const owner = misplacedOwner(vectors, documents, index, holds);
        if (owner >= 0)
          assert.fail(`documents out of order: document ${index} holds document ${owner}'s vectors`);
        assert.equal(vectors.length, document.length, `document ${index}: one vector per chunk`);
        const expected = chunkValues(document);
        for (const [position, values] of expected.entries()) {
          const chunk = misplacedOwner(vectors[position], expected, position, sameVector);
          if (chunk >= 0)
            assert.fail(
              `chunks out of order: document ${index} chunk ${position} holds chunk ${chunk}'s vector`,
            );
          expectVector(vectors[position], values, `document ${index} chunk ${position}`, outputType);
        }
      }
    },
  };
}

/** How the contextualized group asks its vector length: once per request, as the wire's `dimensionsOf` reads it. */
function dimensionsAsked(suite: ContextualizedSuite): DimensionsAsked {
  return {
    asked: suite.chosenDimensions,
    sentIn: (body) => [suite.wire.dimensionsOf(body)],
    reader: 'dimensionsOf',
  };
}

function contextualizedWorld(options: SuiteOptions, kind: TransportKind, variant: WorldVariant = {}) {
  const world = createWorld(options, kind, variant);
  return {
    ...world,
    respond(documentCount: number, handler: ReplyHandler, expectOptions?: ExpectOptions) {
      const { method, path } = options.wire.endpoint({ documentCount, modelId: options.modelId });
      world.interceptor.expect(method, path, handler, expectOptions);
    },
  };
}

/** The options with the wire's `documentsOf` held to lists of chunk texts (see `readingWire`). */
function readingDocuments(options: SuiteOptions): SuiteOptions {
  return { ...options, wire: readingWire(options.wire, { documentsOf: chunkLists('documents') }) };
}

export function contextualizedPass(
  given: SuiteOptions,
  mode: ContextualizedMode,
): FamilyPass<ContextualizedSuite, ContextualizedWorld> {
  const options = readingDocuments(given);
  const suite = createContextualizedSuite(options, mode);
  return explainingDroppedDimensions(
    modePass(mode, suite, (kind, variant) => contextualizedWorld(options, kind, variant)),
    dimensionsAsked(suite),
  );
}

/** The contextualized group as the shared families see it: one document of two chunks. */
export function contextualizedJobPass(given: SuiteOptions): FamilyPass<JobKit, JobWorld> {
  const options = readingDocuments(given);
  const suite = createContextualizedSuite(options, { name: 'default' });
  const documents = [['pets and animals', 'cats and dogs'].slice(0, suite.chunkCap)];
  return explainingDroppedDimensions(
    jobPass(
      {
        prefix: 'ctx-',
        wire: options.wire,
        baseURL: options.baseURL,
        endpointPath: options.wire.endpoint({ documentCount: documents.length, modelId: options.modelId })
          .path,
        method: 'doEmbedContextualized',
        refillWait: refillWait(suite.costs(documents), suite.callLimits()),
      },
      (kind, variant) => contextualizedWorld(options, kind, variant),
      (world) => ({
        expectCall: (reply, expectOptions) => world.respond(1, reply, expectOptions),
        success: suite.success(),
        async run(settings = {}) {
          const result = await embedContextualized({ ...suite.settings(world), documents, ...settings });
          suite.expectVectors(result, documents);
        },
      }),
    ),
    dimensionsAsked(suite),
  );
}
