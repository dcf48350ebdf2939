/**
 * Contextualized chunk embeddings: each chunk of a document is embedded with the other chunks of the same
 * document as context (Voyage `voyage-context-3`, Jina late chunking). A model that can do this is an
 * `EmbeddingModel` that also implements `doEmbedContextualized`; `embedContextualized` is the engine side.
 */

import { checkWholeNumber, describeValue } from './argument-checks.js';
import { arraySource, Packer, planBatches } from './engine/batcher.js';
import {
  type AnswerSource,
  answerSource,
  checkVectors,
  counted,
  observeLength,
  vectorExpectation,
} from './engine/checks.js';
import { type JobAdapter, runJob, Tally } from './engine/runner.js';
import {
  BORROWED_VECTOR_SETTINGS,
  CALL_SETTING_NAMES,
  type CallSettings,
  checkSettingsObject,
  checkVectorSettings,
  jobBasics,
} from './engine/settings.js';
import { InvalidArgumentError, InvalidResponseError } from './errors.js';
import { refuseUnknownSettings, type SettingNames } from './setting-names.js';
import type {
  Embedding,
  EmbeddingModel,
  EmbeddingOf,
  InputType,
  OutputType,
  ProviderOptions,
  ResponseInfo,
  Usage,
  Warning,
} from './types.js';
import { describeAnswerValue } from './vectors.js';

/** The API's limits on one contextualized call. */
export interface ContextualizedCapabilities {
  /** Documents in one call (Voyage: 1,000). */
  maxDocumentsPerCall: number;
  /** Chunks summed over the documents of one call (Voyage: 16,000). */
  maxChunksPerCall?: number;
  /** Tokens summed over every chunk of one call (Voyage: 32,000). */
  maxTokensPerCall?: number;
  /** Tokens of one document, all its chunks together: the context window. */
  maxTokensPerDocument?: number;
}

/** One provider call: the documents of exactly one HTTP request, each a list of chunks. `C` types its `providerOptions`. */
export interface ContextualizedEmbedRequest<C extends object = ProviderOptions> {
  documents: string[][];
  inputType?: InputType;
  dimensions?: number;
  outputType?: OutputType;
  signal?: AbortSignal;
  /** The engine's per-attempt timeout. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  providerOptions?: C;
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

/**
 * An embedding model that can also embed chunks in the context of their document. `C` types the
 * `providerOptions` of its contextualized calls, `P` those of its `doEmbed` (a provider may read other
 * options for each); both default to any.
 */
export interface ContextualizedEmbeddingModel<
  C extends object = ProviderOptions,
  P extends object = ProviderOptions,
> extends EmbeddingModel<P> {
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  /**
   * Optional: the limits of a job with these provider options, where an option changes what the API
   * takes (Voyage: 120,000 tokens a request with auto-chunking, 32,000 without). Asked once per job,
   * before any call; refuses bad options with an `InvalidArgumentError`. Default: `contextualizedCapabilities`.
   */
  contextualizedCapabilitiesFor?(providerOptions: C | undefined): ContextualizedCapabilities;
  /** Exactly one HTTP call. */
  doEmbedContextualized(request: ContextualizedEmbedRequest<C>): Promise<ContextualizedEmbedResponse>;
  /**
   * Optional: checks the whole job before any call, given every document as one request (no signal). A
   * provider whose rules look at each document (Voyage's auto-chunking) refuses here, naming the
   * document's place in the job, so that no call is sent and billed before the one that would fail.
   */
  checkContextualizedRequest?(request: ContextualizedEmbedRequest<C>): void;
}

/**
 * The `providerOptions` `embedContextualized` takes with a model: those its `doEmbedContextualized` reads;
 * `ProviderOptions` for a model typed only as `ContextualizedEmbeddingModel`.
 */
export type ContextualizedProviderOptionsOf<M> =
  M extends ContextualizedEmbeddingModel<infer C, object> ? C : ProviderOptions;

/** Whether `model` implements the contextualized capability. */
export function isContextualizedEmbeddingModel(model: unknown): model is ContextualizedEmbeddingModel {
  return (
    typeof model === 'object' &&
    model !== null &&
    (model as { specificationVersion?: unknown }).specificationVersion === 'v1' &&
    typeof (model as { doEmbedContextualized?: unknown }).doEmbedContextualized === 'function' &&
    // Both sets of capabilities are read before any call (null is an object to typeof): a model without
    // them failed as a TypeError, where embedMany and rerank refuse such a model as an argument.
    isObject((model as { capabilities?: unknown }).capabilities) &&
    isObject((model as { contextualizedCapabilities?: unknown }).contextualizedCapabilities)
  );
}

/**
 * The limits of a job with these provider options: what `contextualizedCapabilitiesFor` answers, checked
 * as `contextualizedCapabilities` is (an object), else `contextualizedCapabilities`. An answer of
 * `undefined` is refused rather than read as the default: a provider that means its declared limits
 * returns them.
 */
function jobLimits(
  model: ContextualizedEmbeddingModel,
  providerOptions: ProviderOptions | undefined,
): ContextualizedCapabilities {
  const limitsFor: unknown = model.contextualizedCapabilitiesFor;
  if (limitsFor === undefined) return model.contextualizedCapabilities;
  const name = `${model.provider} model ${model.modelId}'s contextualizedCapabilitiesFor`;
  if (typeof limitsFor !== 'function') {
    throw new InvalidArgumentError(
      `${name} must be a function (providerOptions) => limits, got ${describeValue(limitsFor)}.`,
      { argument: 'model' },
    );
  }
  const limits: unknown = limitsFor.call(model, providerOptions);
  if (!isObject(limits)) {
    throw new InvalidArgumentError(
      `${name}(providerOptions) returned ${describeValue(limits)}; it must return the job's limits, an object like contextualizedCapabilities.`,
      { argument: 'model' },
    );
  }
  return limits as ContextualizedCapabilities;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

/**
 * Settings of `embedContextualized`: documents of chunks, the vector settings, and what every job takes.
 * `M` follows `model`, so `providerOptions` are typed by the model's provider.
 */
export interface EmbedContextualizedSettings<
  O extends OutputType | undefined = OutputType | undefined,
  M extends ContextualizedEmbeddingModel = ContextualizedEmbeddingModel,
> extends CallSettings<ContextualizedProviderOptionsOf<M>> {
  model: M;
  /** Documents, each a non-empty list of non-empty chunk strings, in document order. */
  documents: readonly (readonly string[])[];
  inputType?: InputType | undefined;
  /** Vector length; must be one the model's capabilities allow. Default: the model's. */
  dimensions?: number | undefined;
  /** Default `float`, which `undefined` also asks for. */
  outputType?: O;
  /** Turn warnings about unsupported settings into errors. Default false. */
  strict?: boolean | undefined;
  /** Fewer documents per call than the model allows (never more). */
  maxDocumentsPerCall?: number | undefined;
  /** Fewer chunks per call than the model allows (never more). */
  maxChunksPerCall?: number | undefined;
}

const CONTEXTUALIZED_SETTINGS: SettingNames<EmbedContextualizedSettings> = {
  ...CALL_SETTING_NAMES,
  model: true,
  documents: true,
  inputType: true,
  dimensions: true,
  outputType: true,
  strict: true,
  maxDocumentsPerCall: true,
  maxChunksPerCall: true,
};

export interface EmbedContextualizedResult<O extends OutputType | undefined = OutputType> {
  /** Per document, one vector per chunk, in order. */
  embeddings: EmbeddingOf<O>[][];
  /**
   * Per document, the chunk texts, one per vector, when the provider chunked the documents itself. Present
   * when any call answered with chunk texts; a document whose call answered without them has its own given
   * chunks here, each of which has one vector.
   */
  chunks?: string[][];
  /** Summed over every call; absent when any call reported none. */
  usage?: Usage;
  /** Each distinct warning once. */
  warnings: Warning[];
  /** One entry per call that answered (a call bisected as too large: one per half), in document order. */
  responses: ResponseInfo[];
}

/** What one call answers for its documents. */
interface DocumentVectors {
  embeddings: Embedding[][];
  /** Per document, absent when the provider did not chunk it itself (one vector per given chunk). */
  chunks: (string[] | undefined)[];
}

/**
 * Embeds chunks in the context of their documents on the engine's one runner: checks every document and
 * setting before sending, packs documents into calls by the model's document, chunk and token limits (a
 * document is never split: its chunks need each other), and returns one array of chunk vectors per
 * document, in order.
 */
export async function embedContextualized<
  O extends OutputType | undefined = 'float',
  M extends ContextualizedEmbeddingModel = ContextualizedEmbeddingModel,
>(settings: EmbedContextualizedSettings<O, M>): Promise<EmbedContextualizedResult<O>> {
  checkSettingsObject(settings, 'embedContextualized({ model, documents })');
  refuseUnknownSettings(settings, CONTEXTUALIZED_SETTINGS, 'embedContextualized', {
    instead: {
      ...BORROWED_VECTOR_SETTINGS,
      inputs: 'pass documents, each a list of its chunks',
      batchSize:
        'calls are packed by the model’s limits; to send fewer per call, pass maxDocumentsPerCall or maxChunksPerCall',
    },
  });
  const { model } = settings;
  if (!isContextualizedEmbeddingModel(model)) {
    throw new InvalidArgumentError(
      'model must be an embedkit model with contextualized embeddings (doEmbedContextualized), e.g. voyage.contextualizedEmbedding("voyage-context-3").',
      { argument: 'model' },
    );
  }
  const { warnings, inputType } = checkVectorSettings(model, settings);
  checkWholeNumber(settings.maxDocumentsPerCall, 'maxDocumentsPerCall', 1);
  checkWholeNumber(settings.maxChunksPerCall, 'maxChunksPerCall', 1);
  const basics = jobBasics(settings, model, model.capabilities.supportsParallelCalls);
  const { documents } = settings;
  if (!Array.isArray(documents)) {
    throw new InvalidArgumentError(
      'documents must be an array of documents, each an array of chunk strings.',
      {
        argument: 'documents',
      },
    );
  }
  const limits = jobLimits(model, settings.providerOptions);
  const maxChunks = Math.min(limits.maxChunksPerCall ?? Infinity, settings.maxChunksPerCall ?? Infinity);
  const { counter } = basics;
  const packer = new Packer<readonly string[]>(
    (document, index) => {
      checkDocument(document, index);
      if (document.length > maxChunks) {
        throw new InvalidArgumentError(
          `Document ${index} has ${document.length} chunks; ${model.provider} model ${model.modelId} takes at most ${maxChunks} chunks per call and a document cannot be split across calls. Use fewer, larger chunks.`,
          { argument: `documents[${index}]` },
        );
      }
      let tokens = 0;
      for (const chunk of document) tokens += counter.count(chunk);
      if (
        counter.exact &&
        limits.maxTokensPerDocument !== undefined &&
        tokens > limits.maxTokensPerDocument
      ) {
        throw new InvalidArgumentError(
          `Document ${index} has ${tokens} tokens; ${model.provider} model ${model.modelId} takes at most ${limits.maxTokensPerDocument} per document. Split it into several documents.`,
          { argument: `documents[${index}]` },
        );
      }
      return { tokens, units: document.length };
    },
    {
      maxItems: Math.min(limits.maxDocumentsPerCall, settings.maxDocumentsPerCall ?? Infinity),
      maxTokens: limits.maxTokensPerCall,
      tokensPerMinute: basics.policy.limiter.tokensPerMinute,
      exactTokens: counter.exact,
      item: 'document',
      // Handed on as it is (no limit is Infinity), so that a declared limit of NaN meets the packer's check
      // of the model's limits instead of being read as none.
      maxUnits: maxChunks,
      declared: {
        model: `${model.provider} model ${model.modelId}`,
        at: 'contextualizedCapabilities',
        // The declared limit on documents too, as declared: `Math.min` above reads a text as a number.
        limits,
      },
    },
  );
  const batches = planBatches(documents, packer);

  const outputType = settings.outputType ?? 'float';
  /** The request for these documents: the same for the whole-job check and for each call. */
  const requestFor = (items: readonly (readonly string[])[]): ContextualizedEmbedRequest => {
    const request: ContextualizedEmbedRequest = { documents: items.map((document) => [...document]) };
    if (inputType !== undefined) request.inputType = inputType;
    if (settings.dimensions !== undefined) request.dimensions = settings.dimensions;
    if (outputType !== 'float') request.outputType = outputType;
    if (settings.headers !== undefined) request.headers = settings.headers;
    if (settings.providerOptions !== undefined) request.providerOptions = settings.providerOptions;
    return request;
  };
  model.checkContextualizedRequest?.(requestFor(documents));
  const expectation = vectorExpectation(
    outputType,
    settings.dimensions,
    model.capabilities.defaultDimensions,
  );
  const adapter: JobAdapter<readonly string[], DocumentVectors> = {
    item: 'document',
    async call(batch, signal, timeoutMs) {
      const answer = await model.doEmbedContextualized({ ...requestFor(batch.items), signal, timeoutMs });
      const where = answerSource(model.provider, answer?.response);
      const count = batch.items.length;
      // Said "of this call": the runner adds a later call's documents in the whole job.
      const embeddings = answer?.embeddings;
      if (!Array.isArray(embeddings) || embeddings.length !== count) {
        throw new InvalidResponseError(
          `${model.provider} returned ${Array.isArray(embeddings) ? counted(embeddings.length, 'document') : 'no documents'} of vectors for ${counted(count, 'document')} of this call.`,
          where,
        );
      }
      const chunks = answer.chunks;
      if (chunks !== undefined && (!Array.isArray(chunks) || chunks.length !== count)) {
        throw new InvalidResponseError(
          `${model.provider} returned chunk texts for ${Array.isArray(chunks) ? chunks.length : 'no'} documents, not ${count} of this call.`,
          where,
        );
      }
      let length = expectation.length;
      embeddings.forEach((vectors, index) => {
        // The chunk texts go to the caller as they are: a list of strings, one per vector, or refused.
        const texts: unknown = chunks?.[index];
        if (chunks !== undefined) checkChunkTexts(where, texts, batch.offset + index);
        const chunkCount = chunks === undefined ? batch.items[index]!.length : (texts as string[]).length;
        if (!Array.isArray(vectors) || vectors.length !== chunkCount || chunkCount === 0) {
          throw new InvalidResponseError(
            `${model.provider} returned ${Array.isArray(vectors) ? counted(vectors.length, 'vector') : 'no vectors'} for the ${counted(chunkCount, 'chunk')} of document ${batch.offset + index}.`,
            where,
          );
        }
        checkVectors(
          where,
          vectors,
          { ...expectation, length },
          (position) => `chunk ${position} of document ${batch.offset + index}`,
        );
        length ??= vectors[0]!.length;
      });
      for (const vectors of embeddings) observeLength(expectation, vectors);
      return { value: { embeddings, chunks: chunks ?? new Array(count).fill(undefined) }, answer };
    },
    join: (first, second) => ({
      embeddings: first.embeddings.concat(second.embeddings),
      chunks: first.chunks.concat(second.chunks),
    }),
  };

  const tally = new Tally(settings.onWarning, settings.onProgress, documents.length);
  for (const warning of warnings) tally.warn(warning);
  const embeddings = new Array<Embedding[]>(documents.length);
  const chunks = new Array<string[] | undefined>(documents.length);
  let anyChunked = false;
  for await (const { batch, value } of runJob({
    basics,
    adapter,
    source: arraySource(batches),
    tally,
    signal: settings.signal,
  })) {
    value.embeddings.forEach((vectors, index) => {
      embeddings[batch.offset + index] = vectors;
    });
    value.chunks.forEach((texts, index) => {
      chunks[batch.offset + index] = texts;
      if (texts !== undefined) anyChunked = true;
    });
  }
  const out: EmbedContextualizedResult<O> = {
    embeddings: embeddings as EmbeddingOf<O>[][],
    ...tally.summary(),
  };
  // Once any call chunked its documents, every document carries its chunk texts, one per vector: a
  // document its call did not chunk has one vector per given chunk, so its given chunks are its texts.
  // Dropping all of them because one call answered without them lost the texts that were given.
  if (anyChunked) out.chunks = chunks.map((texts, index) => texts ?? [...documents[index]!]);
  return out;
}

/** A document's chunk texts from the provider: a list of strings, else an `InvalidResponseError` naming it. */
function checkChunkTexts(where: AnswerSource, texts: unknown, document: number): void {
  if (!Array.isArray(texts)) {
    throw new InvalidResponseError(
      `${where.provider} returned the chunk texts of document ${document} as ${describeAnswerValue(texts)}, not a list of strings.`,
      where,
    );
  }
  const position = texts.findIndex((text) => typeof text !== 'string');
  if (position !== -1) {
    throw new InvalidResponseError(
      `${where.provider} returned the text of chunk ${position} of document ${document} as ${describeAnswerValue(texts[position])}, not a string.`,
      where,
    );
  }
}

function checkDocument(document: unknown, index: number): void {
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
}
