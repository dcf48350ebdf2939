import {
  type BatchEmbeddingJobs,
  type BatchJob,
  type BatchJobCallOptions,
  type BatchJobItemError,
  type BatchJobOperation,
  type BatchJobResults,
  type BatchJobState,
  type CreateBatchJobOptions,
  checkInput,
  checkVectorSettings,
  type EmbeddingCapabilities,
  EmbedKitError,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  isFinalBatchJobState,
  loneVectorProblem,
  nonFiniteValue,
  parseResponse,
  redact,
  requestJson,
  secretsOfCall,
  sendBatchJobRequest,
  Tally,
  type WaitForBatchJobOptions,
  waitForBatchJob,
} from '@embedkit/core/provider';
import {
  batchOperationSchema,
  GEMINI_QUERY,
  type GeminiBatchOperation,
  type GeminiBatchOutput,
  type GeminiBatchResult,
  type GeminiStatus,
  parseGeminiError,
  resultsFileLineSchema,
} from './gemini-api.js';
import {
  buildGeminiRequests,
  decodeGeminiVectors,
  type GeminiCallProviderOptions,
  type GeminiCreatedBatchJob,
  type GeminiModelConfig,
  geminiModelName,
  geminiOptions,
} from './gemini-embedding-model.js';

/** A batch's state as the Gemini API's `BatchState` names it. */
export type GeminiBatchState =
  | 'BATCH_STATE_UNSPECIFIED'
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED';

/** A Gemini batch job: `providerState` is the API's `BatchState`. */
export interface GeminiBatchJob extends BatchJob {
  /**
   * The API's state as it sent it, e.g. `BATCH_STATE_RUNNING`: one of `GeminiBatchState`, or a state a
   * later version of the API adds, kept rather than lost (its `state` is then decided by whether the
   * operation is done). Absent when the API sent none.
   */
  providerState?: GeminiBatchState | (string & {});
}

/** A Gemini job's results: float vectors (the only kind the Batch API answers), `null` where an input failed. */
export interface GeminiBatchJobResults extends BatchJobResults {
  job: GeminiBatchJob;
  embeddings: (Float32Array | null)[];
}

/** The job state of each `BatchState`; `BATCH_STATE_UNSPECIFIED` has none (then `done` decides). */
const STATES: Record<GeminiBatchState, BatchJobState | undefined> = {
  BATCH_STATE_UNSPECIFIED: undefined,
  BATCH_STATE_PENDING: 'pending',
  BATCH_STATE_RUNNING: 'running',
  BATCH_STATE_SUCCEEDED: 'succeeded',
  BATCH_STATE_FAILED: 'failed',
  BATCH_STATE_CANCELLED: 'cancelled',
  BATCH_STATE_EXPIRED: 'expired',
};

/**
 * One result before decoding: its key as sent (`undefined` when it has none), and the vector's JSON
 * values or the item's error.
 */
type Outcome = { key: unknown; values?: unknown[]; error?: GeminiStatus };

/**
 * `create` sends inline requests, about 20 MB at most: far fewer than a million inputs. Without a count
 * of the job's inputs, a `metadata.key` beyond this cannot be one `create` wrote.
 */
const MAX_INLINE_INPUTS = 1_000_000;

/**
 * The most inputs an API's count may claim for a job this process did not create: `results` holds an entry
 * per input in memory, and a count past this (a fault in the answer, or a job no process could read at once)
 * would allocate gigabytes before a single result was placed.
 */
const MAX_COUNTED_INPUTS = 10_000_000;

/** Jobs created in this process whose input count and vector length are remembered for `results`. */
const MAX_REMEMBERED_JOBS = 10_000;

function count(value: string | number | undefined): number {
  const number = typeof value === 'string' ? Number(value) : (value ?? 0);
  return Number.isSafeInteger(number) && number >= 0 ? number : 0;
}

/** `batches/abc123` or `abc123` → `abc123`; anything that could leave the `batches/` path is refused. */
function batchId(id: string): string {
  const bare = typeof id === 'string' && id.startsWith('batches/') ? id.slice('batches/'.length) : id;
  if (typeof bare !== 'string' || !/^[\w.-]+$/.test(bare) || bare === '.' || bare === '..') {
    throw new InvalidArgumentError(
      `"${String(id)}" is not a Gemini batch id; use the id from create(), e.g. batches/123456.`,
      {
        argument: 'id',
      },
    );
  }
  return bare;
}

/** The length most vectors have; among equally common ones, that of the vector first in input order. */
function commonLength(vectors: readonly { index: number; vector: Float32Array }[]): number | undefined {
  const counts = new Map<number, number>();
  for (const { vector } of vectors) counts.set(vector.length, (counts.get(vector.length) ?? 0) + 1);
  let best: { length: number; count: number; index: number } | undefined;
  for (const { index, vector } of vectors) {
    const count = counts.get(vector.length)!;
    if (best === undefined || count > best.count || (count === best.count && index < best.index)) {
      best = { length: vector.length, count, index };
    }
  }
  return best?.length;
}

/**
 * An error the API reported for the job or one input; its text and its code redacted (a gateway may echo
 * the key in either, and both reach the job that `wait` hands to `onProgress`).
 */
function itemError(
  status: GeminiStatus,
  clean: (text: string) => string,
): { message: string; code?: string } {
  const out: { message: string; code?: string } = { message: clean(status.message ?? 'the request failed') };
  const code = status.status ?? (status.code === undefined ? undefined : String(status.code));
  if (code !== undefined) out.code = clean(code);
  return out;
}

/**
 * The input a result's `metadata.key` names, or -1. `create` writes the index as a string of digits; a job
 * made by another client may carry it as a JSON number (a Struct value), which names the input as well.
 */
function inputIndexOf(key: unknown): number {
  if (typeof key === 'string') return /^\d{1,9}$/.test(key) ? Number(key) : -1;
  return typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < 1e9 ? key : -1;
}

/**
 * One result before decoding, inline or a line of the results file, read alike: its key is the line's own
 * `key` when it has one, else its `metadata.key`, kept as sent whatever its JSON type (`inputIndexOf`
 * decides which input, if any, it names).
 */
function outcomeOf(result: GeminiBatchResult): Outcome {
  const outcome: Outcome = { key: result.key ?? result.metadata?.key };
  if (result.response?.embedding !== undefined) outcome.values = result.response.embedding.values;
  if (result.error !== undefined) outcome.error = result.error;
  return outcome;
}

/**
 * Gemini Batch API jobs for one model: `create` posts inline requests (each with `metadata.key`, its input
 * position) to `:asyncBatchEmbedContent`; `get` reads `GET /batches/{id}`; `results` reads the
 * `inlinedResponses`, or downloads the `responsesFile` and parses it line by line. Every method takes the
 * Gemini options under `providerOptions.gemini`, as the embedding model does.
 */
export class GeminiBatchEmbeddingJobs implements BatchEmbeddingJobs<GeminiCallProviderOptions> {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  private readonly config: GeminiModelConfig;
  /** What `create` asked for, by job id: the API reports neither the input count nor the vector length back. */
  private readonly created: Map<string, GeminiCreatedBatchJob>;

  constructor(modelId: string, config: GeminiModelConfig) {
    this.modelId = geminiModelName(modelId);
    this.provider = config.provider;
    this.capabilities = config.capabilities;
    this.config = config;
    this.created = config.createdBatchJobs ?? new Map();
  }

  /** The API root without a trailing slash, read at each call. */
  private get root(): string {
    return this.config.baseURL().replace(/\/+$/, '');
  }

  async create(options: CreateBatchJobOptions<GeminiCallProviderOptions>): Promise<GeminiBatchJob> {
    if (!Array.isArray(options?.inputs) || options.inputs.length === 0) {
      throw new InvalidArgumentError('create() needs a non-empty inputs array.', { argument: 'inputs' });
    }
    geminiOptions(options.providerOptions, this.provider);
    // A batch job does not go through the engine: the engine's own checks, with an unsupported input
    // type an error (a job runs for hours; better to refuse than to warn). Nothing is left to warn of:
    // every input type the model takes has its task type.
    checkVectorSettings(this, { inputType: options.inputType, dimensions: options.dimensions, strict: true });
    options.inputs.forEach((input, index) => {
      checkInput(this, input, index);
    });
    const requests = buildGeminiRequests({
      provider: this.provider,
      modelName: this.modelId,
      inputs: options.inputs,
      inputType: options.inputType,
      dimensions: options.dimensions,
    });
    const displayName = options.displayName ?? `embedkit-${this.modelId}-${new Date().toISOString()}`;
    if (typeof displayName !== 'string' || displayName.trim() === '') {
      throw new InvalidArgumentError('displayName must be a non-empty string.', { argument: 'displayName' });
    }
    const body = {
      batch: {
        model: `models/${this.modelId}`,
        displayName,
        inputConfig: {
          requests: {
            // The key is the input's position, so results map back even when their order differs.
            requests: requests.map((request, index) => ({ request, metadata: { key: String(index) } })),
          },
        },
      },
    };
    const operation = await this.call(
      'create',
      'POST',
      `${this.root}/models/${this.modelId}:asyncBatchEmbedContent`,
      options,
      body,
    );
    const job = this.toJob(operation);
    this.remember(job.id, { inputs: options.inputs.length, dimensions: options.dimensions });
    return job;
  }

  async get(
    id: string,
    options: BatchJobCallOptions<GeminiCallProviderOptions> = {},
  ): Promise<GeminiBatchJob> {
    return this.toJob(await this.call('get', 'GET', `${this.root}/batches/${batchId(id)}`, options));
  }

  async wait(
    id: string,
    options: WaitForBatchJobOptions<GeminiCallProviderOptions, GeminiBatchJob> = {},
  ): Promise<GeminiBatchJob> {
    batchId(id);
    // One attempt per poll: the loop itself tolerates failed polls and sets the pace.
    return waitForBatchJob(
      (jobId, callOptions) => this.get(jobId, { ...callOptions, maxRetries: 0 }),
      id,
      options,
    );
  }

  async cancel(id: string, options: BatchJobCallOptions<GeminiCallProviderOptions> = {}): Promise<void> {
    await this.call('cancel', 'POST', `${this.root}/batches/${batchId(id)}:cancel`, options);
  }

  async delete(id: string, options: BatchJobCallOptions<GeminiCallProviderOptions> = {}): Promise<void> {
    const bare = batchId(id);
    await this.call('delete', 'DELETE', `${this.root}/batches/${bare}`, options);
    this.created.delete(`batches/${bare}`);
  }

  async results(
    id: string,
    options: BatchJobCallOptions<GeminiCallProviderOptions> = {},
  ): Promise<GeminiBatchJobResults> {
    const { normalize } = geminiOptions(options?.providerOptions, this.provider);
    const operation = await this.call('results', 'GET', `${this.root}/batches/${batchId(id)}`, options);
    const job = this.toJob(operation);
    if (!isFinalBatchJobState(job.state)) {
      throw new InvalidArgumentError(
        `Batch job ${job.id} is ${job.state}; call wait() until it has finished before reading results.`,
        { argument: 'id' },
      );
    }
    const output: GeminiBatchOutput = operation.metadata?.output ?? operation.response?.output;
    const created = this.created.get(job.id);
    const counted = created?.inputs ?? job.requestCounts.total;
    let outcomes: Outcome[] | undefined;
    const inlined = output?.inlinedResponses?.inlinedResponses;
    if (inlined !== undefined) {
      outcomes = inlined.map(outcomeOf);
    } else if (output?.responsesFile !== undefined) {
      outcomes = await this.readResultsFile(output.responsesFile, options);
    }
    // No results and no count of the job's inputs say no more than no output at all: the results hold an
    // entry per input, and how many inputs have none cannot be known, so nothing is not an empty answer.
    if (outcomes === undefined || (outcomes.length === 0 && counted === 0)) {
      if (job.state === 'succeeded') {
        const sent =
          outcomes === undefined
            ? 'no output'
            : `an empty ${inlined === undefined ? 'results file' : 'inlinedResponses'} and no count of its inputs`;
        throw new InvalidResponseError(
          `${this.provider} reported batch job ${job.id} succeeded but sent ${sent}.`,
          { provider: this.provider },
        );
      }
      // A failed job's own error says why every input has no result; without a count of the inputs,
      // which have none cannot be said.
      if (job.state === 'failed' || counted === 0) {
        throw new InvalidRequestError(
          `Batch job ${job.id} ended ${job.state} without results${job.error === undefined ? '' : `: ${job.error.message.replace(/\.$/, '')}`}.`,
          {
            provider: this.provider,
            ...(job.providerState === undefined ? {} : { providerCode: job.providerState }),
          },
        );
      }
      // Cancelled or expired before any result, as with an empty list of results: each input its error.
      outcomes = [];
    }
    // Warned as every engine warns: each distinct warning once, to onWarning as it comes and in the list.
    const tally = new Tally(options.onWarning, undefined, undefined);
    return this.collect(job, outcomes, normalize !== false, created, tally);
  }

  private remember(id: string, created: GeminiCreatedBatchJob): void {
    if (this.created.size >= MAX_REMEMBERED_JOBS) {
      const oldest = this.created.keys().next().value;
      if (oldest !== undefined) this.created.delete(oldest);
    }
    this.created.set(id, created);
  }

  /**
   * Places each outcome at its input position and decodes the vectors one by one: an input whose result
   * is missing, failed, or holds a malformed vector or one of the wrong length gets an entry in `errors`;
   * every other input gets its vector. The number of inputs is what `create` sent when this process made
   * the job, else the API's count, and at least the highest usable `metadata.key` + 1.
   *
   * When no result carries a `metadata.key`, results are placed in the order received only when there is
   * one per input; otherwise which result belongs to which input cannot be known, and that is an
   * `InvalidResponseError`. When results carry keys, nothing is placed by arrival order: an input that two
   * or more results claim is an entry in `errors` (which one is its own cannot be known), and a result
   * whose key is missing, not a whole number (a string of digits, or a JSON number a job made elsewhere
   * may carry) or no input of the job is left out with a warning, so an
   * input it may have been meant for is an entry in `errors` naming that key.
   */
  private collect(
    job: GeminiBatchJob,
    outcomes: Outcome[],
    normalize: boolean,
    created: GeminiCreatedBatchJob | undefined,
    tally: Tally,
  ): GeminiBatchJobResults {
    const counted = created?.inputs ?? job.requestCounts.total;
    if (counted > MAX_COUNTED_INPUTS) {
      throw new InvalidResponseError(
        `${this.provider} reported ${counted.toLocaleString('en-US')} inputs for batch job ${job.id}, more than the ${MAX_COUNTED_INPUTS.toLocaleString('en-US')} results() places in memory; ${outcomes.length === 1 ? 'its one result was not' : `none of its ${outcomes.length} results were`} placed.`,
        { provider: this.provider },
      );
    }
    const limit = counted > 0 ? counted : MAX_INLINE_INPUTS;
    /** Positions in `outcomes` of the results that claim each input. */
    const claims = new Map<number, number[]>();
    /** Positions in `outcomes` of the results that name no input. */
    const strays: number[] = [];
    let total = counted;
    if (outcomes.length === 0) {
      // No results at all (a job cancelled or expired before any): every input counted has none.
    } else if (outcomes.every((outcome) => outcome.key === undefined)) {
      if (counted !== 0 && outcomes.length !== counted) {
        throw new InvalidResponseError(
          `${this.provider} returned ${outcomes.length} results for the ${counted} input${counted === 1 ? '' : 's'} of batch job ${job.id}, without metadata.key: which result belongs to which input cannot be known.`,
          { provider: this.provider },
        );
      }
      total = outcomes.length;
      outcomes.forEach((_, position) => {
        claims.set(position, [position]);
      });
      tally.warn({
        type: 'other',
        message: `${this.provider} returned results of batch job ${job.id} without metadata.key; they were placed in the order received.`,
      });
    } else {
      outcomes.forEach(({ key }, position) => {
        const index = inputIndexOf(key);
        if (index < 0 || index >= limit) {
          strays.push(position);
          return;
        }
        const claimed = claims.get(index);
        if (claimed === undefined) claims.set(index, [position]);
        else claimed.push(position);
        total = Math.max(total, index + 1);
      });
      if (total === 0) {
        throw new InvalidResponseError(
          `${this.provider} returned ${outcomes.length} results of batch job ${job.id}, none with a usable metadata.key (${this.keysOf(outcomes, strays)}), and no count of its inputs: which result belongs to which input cannot be known.`,
          { provider: this.provider },
        );
      }
      if (strays.length > 0) {
        tally.warn({
          type: 'other',
          message: `${this.provider} left out ${strays.length === 1 ? '1 result' : `${strays.length} results`} of batch job ${job.id} whose metadata.key (${this.keysOf(outcomes, strays)}) ${strays.length === 1 ? 'names' : 'name'} no input of the job; no input was given ${strays.length === 1 ? 'its' : 'their'} vector.`,
        });
      }
    }
    // The job's own error (already redacted), when the API gave one, says why: "job expired: …".
    const ended =
      job.error === undefined ? job.state : `${job.state}: ${job.error.message.replace(/\.$/, '')}`;
    const missing =
      strays.length === 0
        ? `no result for this input (job ${ended})`
        : `no result for this input (job ${ended}); ${strays.length === 1 ? 'a result' : `${strays.length} results`} whose metadata.key (${this.keysOf(outcomes, strays)}) ${strays.length === 1 ? 'names no input was' : 'name no input were'} left out`;
    const embeddings = new Array<Float32Array | null>(total).fill(null);
    const errors: BatchJobItemError[] = [];
    // Every per-item message goes out redacted: the API's text, or a vector's value, may echo the key.
    // Each text once: the same message ("no result for this input") may stand for 100,000 inputs.
    const redactedTexts = new Map<string, string>();
    const fail = (index: number, message: string, code?: string) => {
      let redacted = redactedTexts.get(message);
      if (redacted === undefined) {
        redacted = this.redacted(message);
        redactedTexts.set(message, redacted);
      }
      errors.push({ index, message: redacted, ...(code === undefined ? {} : { code }) });
    };
    const vectors: { index: number; vector: Float32Array }[] = [];
    for (let index = 0; index < total; index++) {
      const claimed = claims.get(index);
      if (claimed === undefined) {
        fail(index, missing);
        continue;
      }
      if (claimed.length > 1) {
        fail(
          index,
          `${claimed.length} results carry this input’s metadata.key (${this.keysOf(outcomes, claimed)}); which one is its own cannot be known`,
        );
        continue;
      }
      const outcome = outcomes[claimed[0]!]!;
      if (outcome.values === undefined) {
        const { message, code } = itemError(
          outcome.error ?? { message: 'the result holds neither an embedding nor an error' },
          (text) => text,
        );
        fail(index, message, code);
        continue;
      }
      let vector: Float32Array;
      try {
        vector = decodeGeminiVectors([outcome.values], normalize)[0]!;
      } catch (error) {
        if (!EmbedKitError.isInstance(error)) throw error;
        // "holds null at position 5, …": the vector of this one result.
        fail(index, `the vector ${loneVectorProblem(error) ?? error.message}`);
        continue;
      }
      // No engine checks these vectors: core's one check of float values does, here, as it would there.
      const nonFinite = nonFiniteValue(vector);
      if (nonFinite === undefined) vectors.push({ index, vector });
      else fail(index, `the vector holds ${nonFinite}, not a finite number.`);
    }
    const length = created?.dimensions ?? commonLength(vectors);
    const which =
      created?.dimensions === undefined ? 'the length of the other vectors' : 'the job’s dimensions';
    for (const { index, vector } of vectors) {
      if (vector.length === length) embeddings[index] = vector;
      else fail(index, `the vector has ${vector.length} values, not ${length} (${which})`);
    }
    errors.sort((a, b) => a.index - b.index);
    return { job, embeddings, errors, warnings: tally.warnings };
  }

  /**
   * The `metadata.key` of the results at `positions`, for a message: each quoted as sent, redacted and cut
   * short; `none` where a result has none; the first five at most.
   */
  private keysOf(outcomes: readonly Outcome[], positions: readonly number[]): string {
    const shown = positions.slice(0, 5).map((position) => {
      const key = outcomes[position]!.key;
      if (key === undefined) return 'none';
      const text = this.redacted(typeof key === 'string' ? key : (JSON.stringify(key) ?? String(key)));
      const cut = text.length > 40 ? `${text.slice(0, 40)}…` : text;
      return typeof key === 'string' ? `"${cut}"` : cut;
    });
    return positions.length > 5 ? `${shown.join(', ')}, …` : shown.join(', ');
  }

  /** `text` from the API without the key or any credential in it. */
  private redacted(text: string): string {
    const { headers, secrets } = this.config.headers();
    return redact(text, secretsOfCall(this.config.baseURL(), headers, secrets));
  }

  /** Downloads a JSONL results file (`files/…`) and reads it one line at a time. */
  private async readResultsFile(
    file: string,
    options: BatchJobCallOptions<GeminiCallProviderOptions>,
  ): Promise<Outcome[]> {
    if (!/^files\/[\w.-]+$/.test(file)) {
      throw new InvalidResponseError(
        `${this.provider} named a results file "${this.redacted(file)}" that is not files/<id>.`,
        {
          provider: this.provider,
        },
      );
    }
    // Files are served under /download/<version>/files/{id}:download?alt=media.
    const url = new URL(this.root);
    const versioned = /\/(v\d+\w*)$/.exec(url.pathname);
    const base = versioned
      ? `${url.origin}${url.pathname.slice(0, versioned.index)}/download/${versioned[1]}`
      : this.root;
    const bytes = await this.download(`${base}/${file}:download?alt=media`, options);
    const outcomes: Outcome[] = [];
    // Line by line from the bytes: a large file never becomes one string.
    const decoder = new TextDecoder();
    let number = 0;
    for (let start = 0; start < bytes.length; number++) {
      let end = bytes.indexOf(0x0a, start);
      if (end === -1) end = bytes.length;
      const line = decoder.decode(bytes.subarray(start, end)).trim();
      start = end + 1;
      if (line === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (cause) {
        throw new InvalidResponseError(
          `${this.provider} results file ${file}: line ${number + 1} is not JSON.`,
          {
            provider: this.provider,
            cause,
          },
        );
      }
      const parsed = resultsFileLineSchema.safeParse(json);
      if (!parsed.success) {
        throw new InvalidResponseError(
          `${this.provider} results file ${file}: line ${number + 1} has the wrong shape.`,
          { provider: this.provider },
        );
      }
      outcomes.push(outcomeOf(parsed.data));
    }
    return outcomes;
  }

  /** A GET whose success body is not JSON (a JSONL file); everything else is handled as for JSON calls. */
  private async download(
    url: string,
    options: BatchJobCallOptions<GeminiCallProviderOptions>,
  ): Promise<Uint8Array> {
    const response = await sendBatchJobRequest(this, 'results', options, (signal, timeoutMs) => {
      const { headers, secrets } = this.config.headers();
      return requestJson({
        transport: this.config.transport,
        provider: this.provider,
        url,
        method: 'GET',
        headers: { accept: '*/*', ...headers, ...options?.headers },
        signal,
        timeoutMs,
        secrets,
        maxResponseBytes: this.config.maxResponseBytes ?? 1024 * 1024 * 1024,
        parseError: parseGeminiError,
        responseType: 'bytes',
      });
    });
    return response.body as Uint8Array;
  }

  /**
   * A JSON call: it asks for compact JSON, as embedding calls do (the results file is media, not JSON).
   * Bounded by the call's `timeoutMs`; retried as `sendBatchJobRequest` retries `operation`.
   */
  private async call(
    operation: BatchJobOperation,
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    options: BatchJobCallOptions<GeminiCallProviderOptions>,
    body?: unknown,
  ): Promise<GeminiBatchOperation> {
    const response = await sendBatchJobRequest(this, operation, options, (signal, timeoutMs) => {
      const { headers, secrets } = this.config.headers();
      return requestJson({
        transport: this.config.transport,
        provider: this.provider,
        url: `${url}${GEMINI_QUERY}`,
        method,
        headers: { ...headers, ...options?.headers },
        ...(body === undefined ? {} : { body }),
        signal,
        timeoutMs,
        secrets,
        maxResponseBytes: this.config.maxResponseBytes,
        parseError: parseGeminiError,
        baseURLOrigin: this.config.baseURLOrigin?.(),
      });
    });
    // Cancel and delete answer an empty message, which may come as no body at all; their answer is not read.
    if (response.body === undefined && (operation === 'cancel' || operation === 'delete')) return {};
    return parseResponse(batchOperationSchema, response, this.provider, 'batch');
  }

  private toJob(operation: GeminiBatchOperation): GeminiBatchJob {
    const metadata = operation.metadata ?? {};
    const name = metadata.name ?? operation.name;
    // The id is echoed in messages and passed back to get(): one that is not batches/<id> (a query, a
    // path) is refused as an id from the caller would be.
    if (typeof name !== 'string' || !/^batches\/[\w.-]+$/.test(name) || /^batches\/\.{1,2}$/.test(name)) {
      throw new InvalidResponseError(
        `${this.provider} returned a batch whose name is not batches/<id>${typeof name === 'string' ? ` ("${this.redacted(name)}")` : ''}.`,
        { provider: this.provider },
      );
    }
    // A state the API does not define (one a later version adds) is kept as sent; `done` decides the job's.
    const providerState = metadata.state;
    let state =
      providerState !== undefined && Object.hasOwn(STATES, providerState)
        ? STATES[providerState as GeminiBatchState]
        : undefined;
    if (state === undefined) {
      state = operation.done === true ? (operation.error === undefined ? 'succeeded' : 'failed') : 'pending';
    }
    const stats = metadata.batchStats ?? {};
    const job: GeminiBatchJob = {
      id: name,
      provider: this.provider,
      modelId: metadata.model?.replace(/^models\//, '') ?? this.modelId,
      state,
      requestCounts: {
        total: count(stats.requestCount),
        succeeded: count(stats.successfulRequestCount),
        failed: count(stats.failedRequestCount),
        pending: count(stats.pendingRequestCount),
      },
    };
    if (providerState !== undefined) job.providerState = providerState;
    if (metadata.displayName !== undefined) job.displayName = metadata.displayName;
    if (metadata.createTime !== undefined) job.createdAt = metadata.createTime;
    if (metadata.updateTime !== undefined) job.updatedAt = metadata.updateTime;
    if (metadata.endTime !== undefined) job.endedAt = metadata.endTime;
    if (operation.error !== undefined) job.error = itemError(operation.error, (text) => this.redacted(text));
    return job;
  }
}
