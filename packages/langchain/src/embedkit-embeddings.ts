import {
  type EmbeddingModel,
  type EmbedSettings,
  embed,
  embedMany,
  type InputType,
  InvalidArgumentError,
  MAX_CONCURRENCY,
  toNumberArray,
  type Warning,
} from '@embedkit/core';
import {
  describeValue,
  EMBED_SETTING_NAMES,
  omitSettingNames,
  refuseUnknownSettings,
  type SettingNames,
} from '@embedkit/core/provider';
import { Embeddings } from '@langchain/core/embeddings';

/** Engine settings every call uses: the options of `embedMany`, with the model and the input type of each side. */
export interface EmbedkitEmbeddingsParams
  extends Omit<EmbedSettings<'float'>, 'inputs' | 'inputType' | 'outputType' | 'signal'> {
  model: EmbeddingModel;
  /**
   * The input type of `embedDocuments`. Default `document` when the model has that input type, else
   * none (no warning on every call for models without input types, such as OpenAI's).
   */
  documentInputType?: InputType | undefined;
  /** The input type of `embedQuery`. Default `query` when the model has it, else none. */
  queryInputType?: InputType | undefined;
  /**
   * The LangChain `Embeddings` base class's name for `concurrency`: the most requests in flight for one
   * `embedDocuments` call. Default 4, embedkit's. Give this or `concurrency`, not two different values.
   */
  maxConcurrency?: number | undefined;
}

/**
 * Every parameter the constructor takes; anything else is refused, so that an option of another
 * LangChain class (`batchSize`, `stripNewLines`, …) is not dropped without a word.
 */
const PARAMETERS: SettingNames<EmbedkitEmbeddingsParams> = {
  ...omitSettingNames(EMBED_SETTING_NAMES, ['inputType', 'outputType', 'signal']),
  documentInputType: true,
  queryInputType: true,
  maxConcurrency: true,
};

/** What to use instead, for parameters LangChain users pass to other `Embeddings` classes. */
const INSTEAD: Record<string, string> = {
  batchSize:
    'the engine packs each call by the model’s count and token limits; to send fewer inputs per call, pass maxInputsPerCall',
  onFailedAttempt:
    'retries are embedkit’s (maxRetries, onRetry); LangChain’s caller, which it configures, is not used',
  inputType: 'pass documentInputType and queryInputType',
  stripNewLines: 'texts are sent as given; replace their newlines first if the model needs it',
};

/**
 * A LangChain `Embeddings` over any embedkit model. Documents and queries are embedded with the model's
 * `document` and `query` input types, through embedkit's engine: batching by count and token budget, the
 * sliding pool, retries, limits. LangChain's own retry and concurrency wrapper (`this.caller`) is not used,
 * so a failing call is retried by embedkit alone, never twice over. `embedDocumentsFloat32` and
 * `embedQueryFloat32` return the `Float32Array`s themselves, at half the memory of `number[]`.
 */
export class EmbedkitEmbeddings extends Embeddings {
  private readonly settings: Omit<
    EmbedkitEmbeddingsParams,
    'documentInputType' | 'queryInputType' | 'maxConcurrency'
  >;
  private readonly documentInputType: InputType | undefined;
  private readonly queryInputType: InputType | undefined;

  constructor(params: EmbedkitEmbeddingsParams) {
    // Retries and concurrency are the engine's; LangChain's caller would add a second layer of both.
    super({ maxRetries: 0 });
    checkParameters(params);
    const { documentInputType, queryInputType, maxConcurrency, ...settings } = params;
    const supported = params.model?.capabilities?.inputTypes ?? [];
    this.documentInputType = documentInputType ?? (supported.includes('document') ? 'document' : undefined);
    this.queryInputType = queryInputType ?? (supported.includes('query') ? 'query' : undefined);
    this.settings = { ...settings };
    // The engine's result, which lists the warnings, is not handed back to LangChain: without a callback
    // they are printed. An `onWarning: undefined` passed along from unset options counts as none given.
    if (this.settings.onWarning === undefined) this.settings.onWarning = warnOnConsole;
    if (maxConcurrency !== undefined) this.settings.concurrency = maxConcurrency;
  }

  /** One vector per document, in order, as LangChain's vector stores take them. */
  async embedDocuments(documents: string[]): Promise<number[][]> {
    return (await this.embedDocumentsFloat32(documents)).map((vector) => toNumberArray(vector));
  }

  async embedQuery(document: string): Promise<number[]> {
    return toNumberArray(await this.embedQueryFloat32(document));
  }

  /** The document vectors as `Float32Array`s, as the engine decoded them (each in a buffer of its own, no copy). */
  async embedDocumentsFloat32(documents: string[]): Promise<Float32Array[]> {
    const job: EmbedSettings<'float'> & { inputs: string[] } = { ...this.settings, inputs: documents };
    if (this.documentInputType !== undefined) job.inputType = this.documentInputType;
    return (await embedMany<'float'>(job)).embeddings;
  }

  /** The query vector as a `Float32Array`. */
  async embedQueryFloat32(document: string): Promise<Float32Array> {
    const job: EmbedSettings<'float'> & { input: string } = { ...this.settings, input: document };
    if (this.queryInputType !== undefined) job.inputType = this.queryInputType;
    return (await embed<'float'>(job)).embedding;
  }
}

/** Refuses what the class would otherwise ignore: unknown parameters, and a `maxConcurrency` the engine cannot run. */
function checkParameters(params: EmbedkitEmbeddingsParams): void {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new InvalidArgumentError('new EmbedkitEmbeddings takes one parameters object, { model, … }.', {
      argument: 'params',
    });
  }
  refuseUnknownSettings(params, PARAMETERS, 'EmbedkitEmbeddings', { noun: 'parameter', instead: INSTEAD });
  const { maxConcurrency, concurrency } = params;
  if (maxConcurrency === undefined) return;
  if (!(Number.isInteger(maxConcurrency) && maxConcurrency >= 1 && maxConcurrency <= MAX_CONCURRENCY)) {
    throw new InvalidArgumentError(
      `maxConcurrency (embedkit's concurrency) must be a whole number from 1 to ${MAX_CONCURRENCY.toLocaleString('en-US')}, got ${describeValue(maxConcurrency)}.`,
      { argument: 'maxConcurrency' },
    );
  }
  if (concurrency !== undefined && concurrency !== maxConcurrency) {
    throw new InvalidArgumentError(
      `maxConcurrency (${maxConcurrency}) and concurrency (${describeValue(concurrency)}) are one setting; give one of them.`,
      { argument: 'maxConcurrency' },
    );
  }
}

/** Warnings are never dropped: without an `onWarning`, each distinct one of a call is printed once. */
function warnOnConsole(warning: Warning): void {
  console.warn(`embedkit: ${warning.message}`);
}
