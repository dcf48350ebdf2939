/**
 * The embeddings group: what every embeddings family gets (the model's capabilities, its wire, settings
 * for this mode, the fake API's answers) and how families become scenarios.
 */
import { strict as assert } from 'node:assert';
import {
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedManyResult,
  type EmbedSettings,
  embedMany,
  estimateTokenCounter,
  type InputCheckSettings,
  type OutputType,
} from '@embedkit/core';
import { createHarness, type Harness } from '../harness.js';
import type { ReplyHandler, WireReply } from '../interceptor.js';
import { answerBody, reportedTokens, valuesFor } from '../suite/answers.js';
import { expectVector, expectVectorsInOrder, PROVIDER_HEADERS, requestIdHeaders } from '../suite/checks.js';
import {
  type CallLimits,
  callTokenBudget,
  type DimensionsAsked,
  explainingDroppedDimensions,
  type FamilyPass,
  type ItemCost,
  minuteTokens,
  modePass,
  noCallHolds,
  packedCallSizes,
} from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld, jobPass, refillWait } from '../suite/job-kit.js';
import { readingWire, textList } from '../suite/wire-readers.js';
import type {
  DescribeEmbeddingProviderOptions,
  ErrorKind,
  VectorEncoding,
  WireItem,
  WireProfile,
  WireRequest,
} from '../types.js';

/** The request id the suite's successful answers carry (under the wire's `requestIdHeader`). */
export const SUCCESS_REQUEST_ID = 'req-conformance-1';

/** Settings of a generated run: the normal one, or the re-run with tiny batches. */
export interface ScenarioMode {
  name: 'default' | 'tiny-batches';
  maxInputsPerCall?: number;
  concurrency?: number;
}

export const DEFAULT_MODE: ScenarioMode = { name: 'default' };
export const TINY_MODE: ScenarioMode = { name: 'tiny-batches', maxInputsPerCall: 2, concurrency: 1 };

/** What the embeddings scenarios are built from: the provider's factory, where its API lives, its model and wire. */
export type EmbeddingScenarioOptions = Pick<
  DescribeEmbeddingProviderOptions,
  'name' | 'createModel' | 'baseURL' | 'modelId' | 'wire'
>;

/** How the fake API answers one embeddings call. */
export interface EmbeddingAnswer {
  /** The order the items appear on the wire, by position. Default: input order. */
  order?(count: number): number[];
  /** Changes the vectors (values of the output type asked) before they are written. */
  mutate?(vectors: number[][]): void;
  /** Answer in this encoding, whatever the request asked. */
  encoding?: VectorEncoding;
  /** Rewrites the serialized body; the answer is sent as this text. */
  rewrite?(text: string, vectors: number[][]): string;
  /** Multiplies every float value, so the answer is not unit length. */
  scale?: number;
  /** `false`: the answer carries no usage, as an API that reports usage may still answer. */
  usage?: false;
  /** An input's tokens as the fake API counts them, for its token limit. Default: a quarter of its UTF-8 bytes. */
  tokens?(text: string): number;
}

/** Headers every scenario's provider is created with; the custom-headers scenario checks they are sent. */
export { PROVIDER_HEADERS };

/** What every embeddings family gets. */
export interface EmbeddingSuite {
  wire: WireProfile;
  capabilities: EmbeddingCapabilities;
  /** The provider's name: the key of its `providerOptions`. */
  provider: string;
  /** The model the scenarios' jobs ask for. */
  modelId: string;
  mode: ScenarioMode;
  /**
   * Inputs per call in this mode by the declared input limit; the declared token budget may close a call
   * sooner (see `plan` and `inputsByCount`).
   */
  cap: number;
  /** The `dimensions` generic scenarios send (undefined: none, the model's default), and the length they get. */
  chosenDimensions: number | undefined;
  dims: number;
  settings(world: Harness, extra?: Partial<EmbedSettings>): EmbedSettings;
  success(options?: EmbeddingAnswer): ReplyHandler;
  errorReply(
    status: number,
    message: string,
    options?: { kind?: ErrorKind; headers?: Record<string, string> },
  ): () => WireReply;
  /** A request body read item by item (through `itemsOf`, or the request-wide readers). */
  itemsOf(body: unknown): WireItem[];
  /** Every item of every request the world saw. */
  allItems(world: Harness): WireItem[];
  /**
   * The inputs of each call `embedMany` makes for `texts` with these settings over the suite's, packed by
   * the engine's packer: by the declared `maxInputsPerCall` and `maxTokensPerCall`, the settings'
   * `maxInputsPerCall` and `tokenCounter`, the `tokensPerMinute` of the limiter the job draws on (its
   * `rateLimit`, else the model's), and the model's cost group of each input (`callGroup`).
   */
  plan(texts: readonly string[], extra?: Partial<EmbedSettings>): number[];
  /** What each of `texts` costs a call of a job with these settings over the suite's (what `plan` packs). */
  costs(texts: readonly string[], extra?: Partial<EmbedSettings>): ItemCost[];
  /**
   * The limits a job with these settings over the suite's is packed under (what `plan` packs by, and
   * what a scenario that sizes its inputs to a call's budget reads): the declared and the mode's or
   * settings' inputs per call, the declared `maxTokensPerCall`, and the `tokensPerMinute` of the limiter
   * the job draws on (its `rateLimit`, else the model's), which caps a call's tokens too.
   */
  callLimits(extra?: Partial<EmbedSettings>): Pick<CallLimits, 'maxItems' | 'maxTokens' | 'tokensPerMinute'>;
  /** Expects every call `plan` gives, each answered by `handler`; returns the plan. */
  respondAll(
    world: Harness,
    texts: readonly string[],
    handler: ReplyHandler,
    extra?: Partial<EmbedSettings>,
  ): number[];
  /** `count` distinct inputs. */
  inputs(count: number, prefix?: string): string[];
  /**
   * `count` distinct inputs the engine packs by their count alone (calls of `cap`), the declared token
   * budget closing no call first: `inputs(count, prefix)` where the budget lets them, else texts of a token
   * each; undefined where not even those fit (see `budgetBinds`).
   */
  inputsByCount(count: number, prefix?: string): string[] | undefined;
  /** Usage the fake API reports for these inputs. */
  usageTokens(texts: readonly string[]): number;
  /** Checks one vector per input, in input order, each the fake API's vector for its own input. */
  expectVectors(
    result: EmbedManyResult,
    texts: readonly string[],
    dimensions?: number,
    outputType?: OutputType,
  ): void;
  /** Checks one float vector per input, each the fake API's vector for its input times `scale`, as sent. */
  expectScaledVectors(result: EmbedManyResult, texts: readonly string[], scale: number): void;
}

function probe(options: EmbeddingScenarioOptions): EmbeddingModel {
  return options.createModel({
    modelId: options.modelId,
    apiKey: 'probe',
    baseURL: options.baseURL,
    fetch: () => Promise.reject(new Error('the probe never calls')),
  });
}

/** A small length keeps large batches cheap: chosen only when the model's own is large (or unknown). */
function chooseDimensions(capabilities: EmbeddingCapabilities): number | undefined {
  const allowed = capabilities.dimensions;
  if (allowed === undefined) return undefined;
  if (capabilities.defaultDimensions !== undefined && capabilities.defaultDimensions <= 64) return undefined;
  return 'min' in allowed
    ? Math.max(allowed.min, Math.min(allowed.max, 16))
    : [...allowed].sort((a, b) => a - b)[0];
}

/** Whether `length` is one of `allowed` (a range or a list). */
export function lengthAllowed(
  allowed: { min: number; max: number } | readonly number[],
  length: number,
): boolean {
  return 'min' in allowed ? length >= allowed.min && length <= allowed.max : allowed.includes(length);
}

/** Why the API refuses vectors of `length`, by the lengths the wire states it takes; undefined if it takes it. */
function lengthRefused(wire: WireProfile, length: number): string | undefined {
  const lengths = wire.vectorLengths;
  if (lengths === undefined) return undefined;
  const { allowed } = lengths;
  if (allowed === undefined)
    return `dimensions is not supported by this model (it answers ${lengths.default} values)`;
  return lengthAllowed(allowed, length) ? undefined : `dimensions ${length} is not supported by this model`;
}

export function createEmbeddingSuite(options: EmbeddingScenarioOptions, mode: ScenarioMode): EmbeddingSuite {
  const { wire } = options;
  const model = probe(options);
  const capabilities = model.capabilities;
  const cap = Math.min(capabilities.maxInputsPerCall, mode.maxInputsPerCall ?? Number.POSITIVE_INFINITY);
  const chosenDimensions = chooseDimensions(capabilities);
  // The length the API answers when none is asked: its own, where the wire states it.
  const apiDefault = wire.vectorLengths?.default ?? capabilities.defaultDimensions ?? 8;
  const dims = chosenDimensions ?? apiDefault;
  // The API's own count, which no local estimate reproduces (see `reportedTokens`).
  const usageTokens = (texts: readonly string[]) =>
    texts.reduce((sum, text) => sum + reportedTokens(text), 0);
  const maxItems = (extra: Partial<EmbedSettings>) =>
    Math.min(
      capabilities.maxInputsPerCall,
      extra.maxInputsPerCall ?? mode.maxInputsPerCall ?? Number.POSITIVE_INFINITY,
    );
  const callLimits = (extra: Partial<EmbedSettings> = {}) => ({
    maxItems: maxItems(extra),
    maxTokens: capabilities.maxTokensPerCall,
    tokensPerMinute: minuteTokens(extra.rateLimit, model),
  });
  const costs = (texts: readonly string[], extra: Partial<EmbedSettings> = {}) => {
    const counter = extra.tokenCounter ?? estimateTokenCounter;
    // What each input is checked with, as the engine asks the model's cost group of it.
    const job = { ...(chosenDimensions === undefined ? {} : { dimensions: chosenDimensions }), ...extra };
    const checked: InputCheckSettings = { outputType: job.outputType ?? 'float' };
    // An input type the model lacks is sent without (a warning), and so is each input checked.
    if (job.inputType !== undefined && capabilities.inputTypes.includes(job.inputType))
      checked.inputType = job.inputType;
    if (job.dimensions !== undefined) checked.dimensions = job.dimensions;
    if (job.truncate === true) checked.truncate = true;
    if (job.providerOptions !== undefined) checked.providerOptions = job.providerOptions;
    return texts.map((text) => ({ tokens: counter.count(text), group: model.callGroup?.(text, checked) }));
  };
  const plan = (texts: readonly string[], extra: Partial<EmbedSettings> = {}) => {
    const exact = (extra.tokenCounter ?? estimateTokenCounter).exact === true && extra.truncate !== true;
    return packedCallSizes(costs(texts, extra), { ...callLimits(extra), exactTokens: exact });
  };
  const inputs = (count: number, prefix = 'input') =>
    Array.from({ length: count }, (_, index) => `${prefix} ${index}: the quick brown fox ${index % 7}`);
  const inputsByCount = (count: number, prefix?: string) => {
    const byCount = packedCallSizes(
      Array.from({ length: count }, () => ({ tokens: 0 })),
      { maxItems: cap },
    ).join();
    // The shortest distinct texts: base-36 numbers, a token each by the engine's estimate below 1,296.
    const short = Array.from({ length: count }, (_, index) => index.toString(36));
    return [inputs(count, prefix), short].find((texts) => plan(texts).join() === byCount);
  };
  const itemsOf = (body: unknown): WireItem[] =>
    wire.itemsOf?.(body) ??
    wire.inputsOf(body).map((text) => ({
      text,
      inputType: wire.inputTypeOf(body),
      dimensions: wire.dimensionsOf(body),
    }));

  const success =
    (answer: EmbeddingAnswer = {}): ReplyHandler =>
    (request: WireRequest): WireReply => {
      const texts = wire.inputsOf(request.body);
      if (wire.maxInputsPerRequest !== undefined && texts.length > wire.maxInputsPerRequest) {
        const message = `${texts.length} inputs exceed the API's limit of ${wire.maxInputsPerRequest} per request`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      // An input's tokens by its length; a scenario may count them otherwise for the request's budget.
      const lengthTokens = (text: string) => Math.ceil(Buffer.byteLength(text) / 4);
      const count = answer.tokens ?? lengthTokens;
      const perInput = wire.maxTokensPerInput;
      const long = perInput === undefined ? -1 : texts.findIndex((text) => lengthTokens(text) > perInput);
      if (long >= 0) {
        const message = `input ${long} has ${lengthTokens(texts[long]!)} tokens, above the API's limit of ${perInput} per input`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      const tokens = texts.reduce((sum, text) => sum + count(text), 0);
      if (wire.maxTokensPerRequest !== undefined && tokens > wire.maxTokensPerRequest) {
        const message = `Requested ${tokens} tokens, max ${wire.maxTokensPerRequest} tokens per request`;
        const kind = wire.signals?.batchTooLarge === true ? { kind: 'batch-too-large' as const } : {};
        return { status: 400, body: wire.errorBody({ status: 400, message, ...kind }) };
      }
      const asked = wire.dimensionsOf(request.body);
      const refused = asked === undefined ? undefined : lengthRefused(wire, asked);
      if (refused !== undefined)
        return { status: 400, body: wire.errorBody({ status: 400, message: refused }) };
      const dimensions = asked ?? apiDefault;
      const outputType = wire.outputTypeOf?.(request.body) ?? 'float';
      const vectors = texts.map((text) => valuesFor(text, dimensions, outputType));
      if (answer.scale !== undefined && outputType === 'float')
        for (const vector of vectors)
          for (let index = 0; index < vector.length; index++) vector[index]! *= answer.scale;
      answer.mutate?.(vectors);
      const order = answer.order?.(vectors.length) ?? vectors.map((_, index) => index);
      const written = (usage: { usageTokens?: number }) =>
        wire.successBody({
          body: request.body,
          vectors,
          order,
          ...usage,
          ...(answer.encoding === undefined ? {} : { encoding: answer.encoding }),
        });
      const reported = wire.reportsUsage && answer.usage !== false;
      const body = answerBody(written, wire.reportsUsage, reported ? usageTokens(texts) : undefined);
      const headers = requestIdHeaders(wire.requestIdHeader, SUCCESS_REQUEST_ID);
      if (answer.rewrite === undefined) return { status: 200, headers, body };
      return {
        status: 200,
        headers: { ...headers, 'content-type': 'application/json' },
        body: answer.rewrite(JSON.stringify(body), vectors),
      };
    };

  return {
    wire,
    capabilities,
    provider: model.provider,
    modelId: options.modelId,
    mode,
    cap,
    chosenDimensions,
    dims,
    settings: (world, extra = {}) => ({
      model: world.model,
      clock: world.clock,
      maxRetries: 3,
      ...(mode.maxInputsPerCall === undefined ? {} : { maxInputsPerCall: mode.maxInputsPerCall }),
      ...(mode.concurrency === undefined ? {} : { concurrency: mode.concurrency }),
      ...(chosenDimensions === undefined ? {} : { dimensions: chosenDimensions }),
      ...extra,
    }),
    success,
    errorReply: (status, message, replyOptions) => errorReply(wire, status, message, replyOptions),
    itemsOf,
    allItems: (world) => world.interceptor.requests.flatMap((request) => itemsOf(request.body)),
    costs,
    plan,
    callLimits,
    respondAll(world, texts, handler, extra) {
      const sizes = plan(texts, extra);
      for (const size of sizes) world.respond(size, handler);
      return sizes;
    },
    inputs,
    inputsByCount,
    usageTokens,
    expectVectors(result, texts, dimensions = dims, outputType = 'float') {
      assert.equal(result.embeddings.length, texts.length, 'one vector per input');
      expectVectorsInOrder(
        result.embeddings,
        texts.map((text) => valuesFor(text, dimensions, outputType)),
        outputType,
      );
    },
    expectScaledVectors(result, texts, scale) {
      assert.equal(result.embeddings.length, texts.length, 'one vector per input');
      for (const [index, text] of texts.entries()) {
        const sent = valuesFor(text, dims).map((value) => value * scale);
        expectVector(result.embeddings[index], sent, `vector ${index} as sent`);
      }
    },
  };
}

/**
 * The token budget that closes the suite's calls (see `callTokenBudget`): the declared `maxTokensPerCall`,
 * or the model's limiter's tokens a minute where that is lower.
 */
export function tokenBudget(suite: EmbeddingSuite): ReturnType<typeof callTokenBudget> {
  return callTokenBudget(suite.callLimits(), 'maxTokensPerCall');
}

/** Why a scenario needing `count` inputs in a call is skipped where `inputsByCount` finds none. */
export function budgetBinds(suite: EmbeddingSuite, count: number): string {
  return noCallHolds(tokenBudget(suite), count, 'inputs');
}

/** How the embeddings group asks its vector length: per item, as the wire reads items. */
function dimensionsAsked(suite: EmbeddingSuite): DimensionsAsked {
  return {
    asked: suite.chosenDimensions,
    sentIn: (body) => suite.itemsOf(body).map((item) => item.dimensions),
    reader: suite.wire.itemsOf === undefined ? 'dimensionsOf' : 'itemsOf',
  };
}

/** The options with the wire's `inputsOf` held to a list of texts (see `readingWire`). */
function readingInputs(options: EmbeddingScenarioOptions): EmbeddingScenarioOptions {
  return { ...options, wire: readingWire(options.wire, { inputsOf: textList('inputs') }) };
}

/** The pass of one mode, each case in a fresh harness. */
export function embeddingPass(
  given: EmbeddingScenarioOptions,
  mode: ScenarioMode,
): FamilyPass<EmbeddingSuite, Harness> {
  const options = readingInputs(given);
  const suite = createEmbeddingSuite(options, mode);
  return explainingDroppedDimensions(
    modePass(mode, suite, (kind, variant) =>
      createHarness(options, kind, { headers: PROVIDER_HEADERS, ...variant }),
    ),
    dimensionsAsked(suite),
  );
}

/** The embeddings group as the shared families see it: a one-input job. */
export function embeddingJobPass(given: EmbeddingScenarioOptions): FamilyPass<JobKit, JobWorld> {
  const options = readingInputs(given);
  const suite = createEmbeddingSuite(options, DEFAULT_MODE);
  const texts = ['pets and animals'];
  return explainingDroppedDimensions(
    jobPass(
      {
        prefix: '',
        wire: options.wire,
        baseURL: options.baseURL,
        endpointPath: options.wire.endpoint({ inputCount: texts.length, modelId: options.modelId }).path,
        method: 'doEmbed',
        refillWait: refillWait(suite.costs(texts), suite.callLimits()),
      },
      (kind, variant) => createHarness(options, kind, { headers: PROVIDER_HEADERS, ...variant }),
      (harness) => ({
        expectCall: (reply, expectOptions) => harness.respond(1, reply, expectOptions),
        success: suite.success(),
        async run(settings = {}) {
          const result = await embedMany({ ...suite.settings(harness), inputs: texts, ...settings });
          suite.expectVectors(result, texts);
        },
      }),
    ),
    dimensionsAsked(suite),
  );
}

/**
 * A job of three inputs over calls of two (or fewer, by the declared token budget; each answered with
 * success), with `extra` settings: its vectors are checked, and its result returned; the families then
 * read what each request carried.
 */
export async function splitJob(
  suite: EmbeddingSuite,
  world: Harness,
  label: string,
  extra: Partial<EmbedSettings> = {},
): Promise<EmbedManyResult> {
  const texts = suite.inputs(3, label);
  const settings = { maxInputsPerCall: 2, ...extra };
  suite.respondAll(world, texts, suite.success(), settings);
  const result = await embedMany({ ...suite.settings(world), inputs: texts, ...settings });
  suite.expectVectors(result, texts);
  return result;
}
