import type { RateLimiter } from './engine/limiter.js';

/**
 * The embedkit model contract, specification "v1". A provider implements `EmbeddingModel`; the engine
 * (`embed`, `embedMany`, `embedStream`) does everything that is the same for every provider.
 */

/** Unified input roles. Each provider maps these to its own words (Voyage `input_type`, Gemini `taskType`, Jina `task`). */
export type InputType =
  | 'query'
  | 'document'
  | 'similarity'
  | 'classification'
  | 'clustering'
  | 'code-query'
  | 'code-document'
  | 'question-answering'
  | 'fact-verification';

/** Every unified input type, in a stable order. */
export const INPUT_TYPES: readonly InputType[] = [
  'query',
  'document',
  'similarity',
  'classification',
  'clustering',
  'code-query',
  'code-document',
  'question-answering',
  'fact-verification',
];

/**
 * Every vector element type, in a stable order: the list `OutputType` is made of, and what a model's
 * `outputTypes` may hold.
 */
export const OUTPUT_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary'] as const;

/** Vector element types. `binary` / `ubinary` are bit-packed: a vector of `d` dimensions has `d / 8` bytes. */
export type OutputType = (typeof OUTPUT_TYPES)[number];

/** A decoded vector: `Float32Array` for `float`, `Int8Array` for `int8` / `binary`, `Uint8Array` for `uint8` / `ubinary`. */
export type Embedding = Float32Array | Int8Array | Uint8Array;

/**
 * The vector type an output type decodes to: `EmbeddingOf<'int8'>` is `Int8Array`. `undefined` asks for the
 * default, `float`, so `EmbeddingOf<'int8' | undefined>` is `Int8Array | Float32Array`.
 */
export type EmbeddingOf<O extends OutputType | undefined> = O extends 'float' | undefined
  ? Float32Array
  : O extends 'int8' | 'binary'
    ? Int8Array
    : Uint8Array;

/** One image part of a multimodal input: a URL the provider fetches, or raw bytes with their media type. */
export type ImagePart =
  | { type: 'image'; url: string }
  | { type: 'image'; data: Uint8Array; mediaType: string };

/** One part of an interleaved multimodal input. */
export type ContentPart = { type: 'text'; text: string } | ImagePart;

/**
 * One input: a string, or a structured text / image / interleaved-content input for multimodal models.
 * `title` is the input's document title for providers that use one (Gemini's RETRIEVAL_DOCUMENT); others
 * ignore it. Everything that belongs to one input travels on that input, so any layer may re-pack calls.
 */
export type EmbedInput =
  | string
  | { text: string; title?: string }
  | { image: string | Uint8Array; mediaType?: string }
  | { content: readonly ContentPart[] };

/** What a model may embed: the list `Modality` is made of, and what a model's `modalities` may hold. */
export const MODALITIES = ['text', 'image'] as const;

export type Modality = (typeof MODALITIES)[number];

/** What a model can do. The engine, the conformance suite and users all read this one manifest. */
export interface EmbeddingCapabilities {
  /** The API's hard limit on inputs in one call. */
  maxInputsPerCall: number;
  /** The API's limit on the summed tokens of one call, when it has one. */
  maxTokensPerCall?: number;
  /** The model's context window per input, in tokens. */
  maxTokensPerInput?: number;
  /** Length of a vector when `dimensions` is not given: a whole number of at least 1. */
  defaultDimensions?: number;
  /**
   * The `dimensions` values the model accepts: a list of lengths (whole numbers of at least 1), each once,
   * or an inclusive range of them, `min` at most `max`. Absent: `dimensions` cannot be chosen.
   */
  dimensions?: readonly number[] | { min: number; max: number };
  /** Unified input types the model supports natively, each once (a non-empty name of its own is taken too). */
  inputTypes: readonly InputType[];
  /** Output types the model can return, each once. */
  outputTypes: readonly OutputType[];
  /**
   * Other models of the same provider that return a type this model lacks, by type, e.g.
   * `{ int8: ['voyage-4', 'voyage-3.5'] }`. Optional, and only a hint for people: the refusal of that
   * type names them, so a user learns where to go instead. Nothing else reads it.
   */
  outputTypeAlternatives?: Partial<Record<OutputType, readonly string[]>>;
  /** What the model embeds, each once. */
  modalities: readonly Modality[];
  /** Whether vectors come back unit-length. */
  normalized: boolean;
  /** Whether several calls may run at once (true or false). When false the engine runs one call at a time. */
  supportsParallelCalls: boolean;
}

/** A non-fatal note about a call: an option the model ignored, a setting the API could not honour. */
export interface Warning {
  type: 'unsupported-setting' | 'other';
  setting?: string;
  message: string;
}

/**
 * Provider-specific options keyed by provider name, e.g. `{ openai: { user: 'u-1' } }`: what a model typed
 * only by the contract takes, and what `P` of `EmbeddingModel<P>` defaults to.
 */
export type ProviderOptions = Record<string, Record<string, unknown>>;

/**
 * The `providerOptions` a provider's model types: its options under its name, e.g.
 * `ProviderOptionsFor<'openai', OpenAIProviderOptions>` is `{ openai?: OpenAIProviderOptions }`. A name
 * known only as `string` (a compatible provider named from configuration) gives the loose
 * `ProviderOptions`; options with no keys (a schema with none yet) take only `{}`.
 */
export type ProviderOptionsFor<Name extends string, Options extends object> = string extends Name
  ? ProviderOptions
  : { [Key in Name]?: [keyof Options] extends [never] ? Record<string, never> : Options };

/** One provider call: the inputs of exactly one HTTP request. `P` types its `providerOptions`. */
export interface EmbedRequest<P extends object = ProviderOptions> {
  inputs: EmbedInput[];
  inputType?: InputType;
  dimensions?: number;
  outputType?: OutputType;
  /** Ask the provider to cut over-long inputs. Default false: an over-long input is an error. */
  truncate?: boolean;
  signal?: AbortSignal;
  /** The engine's per-attempt timeout; transports keep their own header and body timeouts no shorter. */
  timeoutMs?: number;
  /** Extra HTTP headers for this call. */
  headers?: Record<string, string>;
  /**
   * Provider-specific options keyed by provider name, e.g. `{ openai: { user: 'u-1' } }`. They apply to
   * every input alike; anything that belongs to one input travels on the input.
   */
  providerOptions?: P;
}

/** Metadata of the HTTP response behind a call. */
export interface ResponseInfo {
  status: number;
  headers: Record<string, string>;
  requestId?: string;
  /** The model id the API says served the call. */
  modelId?: string;
}

export interface Usage {
  inputTokens: number;
}

export interface EmbedResponse {
  /** One vector per input, in input order. */
  embeddings: Embedding[];
  /** Absent when the API reports no usage: never NaN, never a guess. */
  usage?: Usage;
  warnings: Warning[];
  response: ResponseInfo;
}

/**
 * The contract every embedding model implements. `doEmbed` makes exactly one HTTP call. `P` types the
 * `providerOptions` the model reads (see `ProviderOptionsFor`), so that `embedMany` and the other calls type
 * theirs by the model; its default takes any, so a model written against the bare contract still fits.
 */
export interface EmbeddingModel<P extends object = ProviderOptions> {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  /** The limiter calls through this model draw on unless a call passes its own (set on the provider). */
  readonly rateLimiter?: RateLimiter | undefined;
  /**
   * The API root calls go to when it is not the provider's own: one its `baseURL` setting or an environment
   * variable chose, read as the next call would read it; undefined while the provider's default applies.
   * Optional. Whatever keeps vectors between runs (a disk cache, an index) keeps those of a chosen server
   * apart by it, so that two servers serving one model name never share vectors.
   */
  customBaseURL?(): string | undefined;
  /**
   * Checks one input against this model's own rules, beyond what core checks for every model (Gemini
   * takes a title only with the document input type; Jina and Voyage take images of some forms and
   * sizes), and throws an `InvalidArgumentError` naming `inputs[index]`. Optional. The engine calls it
   * for every input of a job before the job's first call (for `embedStream`, before the call that carries
   * the input): a bad input is refused before anything is sent, and named by its place in the job, not
   * in a call. `doEmbed`, which may be called directly, applies the same rules.
   */
  checkInput?(input: EmbedInput, index: number, settings: InputCheckSettings<P>): void;
  /**
   * The group of an input, when the API takes only inputs of one kind in a request (Voyage takes images
   * either all as URLs or all as base64): the engine never puts inputs of two groups in one call. An input
   * of no group (undefined) goes with any. Optional; called after `checkInput`.
   */
  callGroup?(input: EmbedInput, settings: InputCheckSettings<P>): string | undefined;
  doEmbed(request: EmbedRequest<P>): Promise<EmbedResponse>;
}

/**
 * The `providerOptions` a model takes: `EmbeddingProviderOptionsOf<OpenAIEmbeddingModel>` is
 * `{ openai?: OpenAIProviderOptions }`; a model typed only as `EmbeddingModel` takes `ProviderOptions`.
 */
export type EmbeddingProviderOptionsOf<M> = M extends EmbeddingModel<infer P> ? P : ProviderOptions;

/** The settings of a job that an input is checked with (see `EmbeddingModel.checkInput`). */
export type InputCheckSettings<P extends object = ProviderOptions> = Pick<
  EmbedRequest<P>,
  'inputType' | 'dimensions' | 'outputType' | 'truncate' | 'providerOptions'
>;

/** A provider: a factory of models, the shape `createRegistry` takes. */
export interface EmbeddingProvider {
  embedding(modelId: string): EmbeddingModel;
}
