import { checkBoolean, checkWholeNumber } from '../argument-checks.js';
import { abortReason, InvalidArgumentError } from '../errors.js';
import { admittedEmbed } from '../middleware.js';
import { refuseUnknownSettings, type SettingNames } from '../setting-names.js';
import type {
  Embedding,
  EmbeddingModel,
  EmbeddingOf,
  EmbedInput,
  EmbedRequest,
  InputCheckSettings,
  OutputType,
  ResponseInfo,
  Usage,
  Warning,
} from '../types.js';
import { arraySource, type Batch, Packer, planBatches, streamSource } from './batcher.js';
import { answerSource, checkEmbeddings, observeLength, vectorExpectation } from './checks.js';
import { MAX_TIMER_MS } from './clock.js';
import { callInJob, type JobAdapter, placeInJob, runJob, Tally } from './runner.js';
import {
  BORROWED_SETTINGS,
  checkEmbeddingModel,
  checkInput,
  checkSettingsObject,
  checkVectorSettings,
  EMBED_SETTING_NAMES,
  type EmbedSettings,
  jobBasics,
} from './settings.js';

export interface EmbedManyResult<O extends OutputType | undefined = OutputType> {
  /** One vector per input, in input order. */
  embeddings: EmbeddingOf<O>[];
  /** Summed over every call; absent when any call reported none. */
  usage?: Usage;
  /** Each distinct warning once. */
  warnings: Warning[];
  /** One entry per call that answered (a call bisected as too large: one per half), in input order. */
  responses: ResponseInfo[];
}

export interface EmbedResult<O extends OutputType | undefined = OutputType> {
  embedding: EmbeddingOf<O>;
  usage?: Usage;
  warnings: Warning[];
  response: ResponseInfo;
}

export interface StreamedEmbedding<O extends OutputType | undefined = OutputType> {
  /** Position of the input in the source. */
  index: number;
  embedding: EmbeddingOf<O>;
}

interface EmbeddingJob {
  adapter: JobAdapter<EmbedInput, Embedding[]>;
  packer: Packer<EmbedInput>;
  basics: ReturnType<typeof jobBasics>;
  warnings: Warning[];
}

const EMBED_MANY_SETTINGS: SettingNames<EmbedSettings & { inputs: unknown }> = {
  ...EMBED_SETTING_NAMES,
  inputs: true,
};
const EMBED_ONE_SETTINGS: SettingNames<EmbedSettings & { input: unknown }> = {
  ...EMBED_SETTING_NAMES,
  input: true,
};
const EMBED_STREAM_SETTINGS: SettingNames<EmbedStreamSettings> = {
  ...EMBED_SETTING_NAMES,
  inputs: true,
  flushAfterMs: true,
};

/** The AI SDK's names for the inputs, and each call's name for the other call's. */
const ONE_INPUT = 'it takes one input, as input; for an array of inputs, call embedMany({ model, inputs })';
const MANY_INPUTS = 'it takes an array of inputs, as inputs; for one input, call embed({ model, input })';

/**
 * Checks the settings (`owner`'s, `known` the names it takes) and builds the adapter that makes one
 * `doEmbed` call per batch.
 */
function embeddingJob(
  settings: EmbedSettings,
  form: string,
  owner: string,
  known: Readonly<Record<string, true>>,
  instead: Readonly<Record<string, string>>,
): EmbeddingJob {
  checkSettingsObject(settings, form);
  refuseUnknownSettings(settings, known, owner, { instead: { ...BORROWED_SETTINGS, ...instead } });
  const { model } = settings;
  checkEmbeddingModel(model);
  const { warnings, inputType } = checkVectorSettings(model, settings);
  checkWholeNumber(settings.maxInputsPerCall, 'maxInputsPerCall', 1);
  const basics = jobBasics(settings, model, model.capabilities.supportsParallelCalls);
  const { counter } = basics;
  const capabilities = model.capabilities;
  checkBoolean(settings.truncate, 'truncate');
  const truncate = settings.truncate ?? false;
  const outputType = settings.outputType ?? 'float';
  const maxTokensPerInput = counter.exact && !truncate ? capabilities.maxTokensPerInput : undefined;
  // What every call of the job carries besides its inputs; the same (headers aside) is what each input
  // is checked with.
  const callSettings: Omit<EmbedRequest, 'inputs' | 'signal' | 'timeoutMs'> = {};
  if (inputType !== undefined) callSettings.inputType = inputType;
  if (settings.dimensions !== undefined) callSettings.dimensions = settings.dimensions;
  if (outputType !== 'float') callSettings.outputType = outputType;
  if (truncate) callSettings.truncate = true;
  if (settings.headers !== undefined) callSettings.headers = settings.headers;
  if (settings.providerOptions !== undefined) callSettings.providerOptions = settings.providerOptions;
  const { headers: _headers, ...checked } = callSettings;
  const inputSettings: InputCheckSettings = { ...checked, outputType };
  const packer = new Packer<EmbedInput>(
    (input, index) => {
      checkInput(model, input, index);
      // The model's own rules, before any call: a call that fails them part-way through a job has had
      // the calls before it sent, and names its input by its place in the call.
      model.checkInput?.(input, index, inputSettings);
      const group = model.callGroup?.(input, inputSettings);
      const tokens = counter.count(input);
      if (maxTokensPerInput !== undefined && tokens > maxTokensPerInput) {
        throw new InvalidArgumentError(
          `Input ${index} has ${tokens} tokens; ${model.provider} model ${model.modelId} accepts at most ${maxTokensPerInput}. Shorten it, split it, or pass truncate: true.`,
          { argument: `inputs[${index}]` },
        );
      }
      return { tokens, group };
    },
    {
      maxItems: Math.min(
        capabilities.maxInputsPerCall,
        settings.maxInputsPerCall ?? Number.POSITIVE_INFINITY,
      ),
      maxTokens: capabilities.maxTokensPerCall,
      tokensPerMinute: basics.policy.limiter.tokensPerMinute,
      // An input the API would truncate costs no more than the model's limit: only a whole one is refused.
      exactTokens: counter.exact && !truncate,
      declared: {
        model: `${model.provider} model ${model.modelId}`,
        // The declared limit on inputs too, as declared: `Math.min` above reads a text ('100') as a number.
        limits: capabilities,
      },
    },
  );
  const expectation = vectorExpectation(outputType, settings.dimensions, capabilities.defaultDimensions);
  // A model behind middleware is admitted to the limiter when its request leaves, not before its
  // middleware runs: a call its cache answers whole neither waits for a budget nor spends one.
  const admitted = admittedEmbed(model);
  /**
   * The estimate of the inputs a request of `batch` sends, which the limiter charges it (a cache sends
   * only its misses): the batch's own counts of its inputs, so that an exact counter is not run twice,
   * and the counter's of an input a middleware rewrote.
   */
  const tokensOf = (batch: Batch<EmbedInput>) => {
    // Made when a request is about to leave, not for a call the cache answers whole.
    let counts: Map<EmbedInput, number> | undefined;
    return (inputs: readonly EmbedInput[]) => {
      if (counts === undefined) {
        counts = new Map();
        for (let index = 0; index < batch.items.length; index++)
          counts.set(batch.items[index]!, batch.tokens[index]!);
      }
      let sum = 0;
      for (const input of inputs) sum += counts.get(input) ?? counter.count(input);
      return sum;
    };
  };
  const adapter: JobAdapter<EmbedInput, Embedding[]> = {
    admitsLate: admitted !== undefined,
    async call(batch: Batch<EmbedInput>, signal, timeoutMs, admit) {
      const request: EmbedRequest = { inputs: batch.items, signal, timeoutMs, ...callSettings };
      const answer =
        admitted !== undefined
          ? await admitted(request, admit, tokensOf(batch))
          : await model.doEmbed(request);
      const where = answerSource(model.provider, answer?.response);
      const embeddings = answer?.embeddings;
      const { offset, items } = batch;
      checkEmbeddings(
        where,
        embeddings,
        items.length,
        expectation,
        (index) =>
          offset === 0 ? `vector ${index}` : `vector ${index} ${placeInJob('input', offset + index)}`,
        // A count that does not match names the call's inputs in the job, as the vectors are named.
        callInJob('input', offset, items.length),
      );
      observeLength(expectation, embeddings);
      return { value: embeddings, answer };
    },
    join: (first, second) => first.concat(second),
  };
  return { adapter, packer, basics, warnings };
}

/**
 * Embeds many inputs: checks every input and setting before sending, splits by the model's count and
 * token limits, runs calls in a sliding pool with retries and rate limits, and returns vectors in input
 * order, typed by `outputType` (`Float32Array` by default).
 */
export async function embedMany<
  O extends OutputType | undefined = 'float',
  M extends EmbeddingModel = EmbeddingModel,
>(settings: EmbedSettings<O, M> & { inputs: readonly EmbedInput[] }): Promise<EmbedManyResult<O>> {
  const job = embeddingJob(settings, 'embedMany({ model, inputs })', 'embedMany', EMBED_MANY_SETTINGS, {
    input: MANY_INPUTS,
    values: MANY_INPUTS,
  });
  const { inputs } = settings;
  if (!Array.isArray(inputs)) {
    throw new InvalidArgumentError('inputs must be an array; use embedStream for iterables.', {
      argument: 'inputs',
    });
  }
  const batches = planBatches(inputs, job.packer);
  const tally = new Tally(settings.onWarning, settings.onProgress, inputs.length);
  for (const warning of job.warnings) tally.warn(warning);
  const embeddings = new Array<Embedding>(inputs.length);
  for await (const { batch, value } of runJob({
    basics: job.basics,
    adapter: job.adapter,
    source: arraySource(batches),
    tally,
    signal: settings.signal,
  })) {
    for (let index = 0; index < value.length; index++) embeddings[batch.offset + index] = value[index]!;
  }
  return { embeddings: embeddings as EmbeddingOf<O>[], ...tally.summary() };
}

/** Embeds one input. */
export async function embed<
  O extends OutputType | undefined = 'float',
  M extends EmbeddingModel = EmbeddingModel,
>(settings: EmbedSettings<O, M> & { input: EmbedInput }): Promise<EmbedResult<O>> {
  checkSettingsObject(settings, 'embed({ model, input })');
  // The AI SDK's `values` (its embedMany's inputs) is answered too: code moved from one call to the other
  // brings it along.
  refuseUnknownSettings(settings, EMBED_ONE_SETTINGS, 'embed', {
    instead: { ...BORROWED_SETTINGS, inputs: ONE_INPUT, value: ONE_INPUT, values: ONE_INPUT },
  });
  const { input, ...rest } = settings;
  const result = await embedMany<O>({ ...rest, inputs: [input] });
  const out: EmbedResult<O> = {
    embedding: result.embeddings[0]!,
    warnings: result.warnings,
    response: result.responses[0]!,
  };
  if (result.usage !== undefined) out.usage = result.usage;
  return out;
}

/** Settings of `embedStream`: the inputs, and when a partly filled call goes out. */
export interface EmbedStreamSettings<
  O extends OutputType | undefined = OutputType | undefined,
  M extends EmbeddingModel = EmbeddingModel,
> extends EmbedSettings<O, M> {
  /** Any iterable or async iterable of inputs, of any length. */
  inputs: Iterable<EmbedInput> | AsyncIterable<EmbedInput>;
  /**
   * A partly filled call goes out once the source has given nothing new for this long, so a slow source's
   * inputs are not held back until a whole call's worth arrives. Default 500 ms.
   */
  flushAfterMs?: number | undefined;
}

const DEFAULT_FLUSH_AFTER_MS = 500;

/**
 * Embeds an iterable or async iterable of any length with bounded memory: at most `concurrency` calls
 * in flight, results yielded in source order as `{ index, embedding }` as soon as they are done, whatever
 * the source is doing. Inputs are checked as they are read: a bad input stops the stream where it stands,
 * after everything before it was sent, answered and yielded. Breaking out of the loop aborts the calls
 * in flight and closes the source.
 */
export async function* embedStream<
  O extends OutputType | undefined = 'float',
  M extends EmbeddingModel = EmbeddingModel,
>(settings: EmbedStreamSettings<O, M>): AsyncGenerator<StreamedEmbedding<O>> {
  const job = embeddingJob(settings, 'embedStream({ model, inputs })', 'embedStream', EMBED_STREAM_SETTINGS, {
    values: 'it takes its iterable of inputs as inputs',
  });
  checkWholeNumber(settings.flushAfterMs, 'flushAfterMs', 0, MAX_TIMER_MS);
  const source = settings.inputs as Partial<Iterable<EmbedInput> & AsyncIterable<EmbedInput>>;
  if (
    source === null ||
    typeof source !== 'object' ||
    (typeof source[Symbol.iterator] !== 'function' && typeof source[Symbol.asyncIterator] !== 'function')
  ) {
    throw new InvalidArgumentError('inputs must be an Iterable or AsyncIterable of inputs.', {
      argument: 'inputs',
    });
  }
  // The stream gives out no warnings or responses, and a list of them would grow with every call.
  const tally = new Tally(settings.onWarning, settings.onProgress, undefined, false);
  for (const warning of job.warnings) tally.warn(warning);
  for await (const { batch, value } of runJob({
    basics: job.basics,
    adapter: job.adapter,
    source: streamSource(settings.inputs, job.packer, settings.flushAfterMs ?? DEFAULT_FLUSH_AFTER_MS),
    tally,
    signal: settings.signal,
    window: job.basics.concurrency * 2,
    // Results before a failed call are the caller's as they come (a bulk job saves them): the calls
    // for them still running finish and are yielded before the error, as a bad input's are.
    finishEarlier: true,
  })) {
    for (let index = 0; index < value.length; index++) {
      // An abort ends the loop at once, not after the rest of a call's vectors (up to thousands).
      if (settings.signal?.aborted) throw abortReason(settings.signal);
      yield { index: batch.offset + index, embedding: value[index] as EmbeddingOf<O> };
    }
  }
}
