/**
 * Asynchronous batch embedding jobs: submit many inputs at once, poll until the provider has finished
 * (often hours, at a lower price), then read every vector back in input order with per-item errors.
 * A provider implements `BatchEmbeddingJobs`; `waitForBatchJob` is the polling loop they all share.
 */
import { type Clock, systemClock } from './engine/clock.js';
import { abortReason, EmbedKitError, InvalidArgumentError, TimeoutError } from './errors.js';
import type { Embedding, EmbedInput, InputType, Warning } from './types.js';

/** Where a job stands. `succeeded`, `failed`, `cancelled` and `expired` are final. */
export type BatchJobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

/** Every job state, in lifecycle order. */
export const BATCH_JOB_STATES: readonly BatchJobState[] = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'expired',
];

/** Whether a job in `state` will change no more. */
export function isFinalBatchJobState(state: BatchJobState): boolean {
  return state !== 'pending' && state !== 'running';
}

/** How many of a job's requests are in each condition. A count the provider omits is 0. */
export interface BatchJobRequestCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
}

/** A job as the provider last reported it. */
export interface BatchJob {
  /** The provider's id, e.g. `batches/123456` for Gemini; pass it to `get`, `wait`, `results`, `cancel`, `delete`. */
  id: string;
  provider: string;
  modelId: string;
  state: BatchJobState;
  /** The provider's own word for the state, e.g. `BATCH_STATE_RUNNING`. */
  providerState?: string;
  requestCounts: BatchJobRequestCounts;
  displayName?: string;
  /** Timestamps as the provider reports them (RFC 3339). */
  createdAt?: string;
  updatedAt?: string;
  endedAt?: string;
  /** Why the whole job failed, when the provider says. */
  error?: { message: string; code?: string };
}

/** Options every job operation takes. */
export interface BatchJobCallOptions {
  signal?: AbortSignal;
  /** Extra HTTP headers for this call. */
  headers?: Record<string, string>;
  /** Provider-specific options keyed by provider name, e.g. `{ gemini: { normalize: false } }`. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

export interface CreateBatchJobOptions extends BatchJobCallOptions {
  inputs: readonly EmbedInput[];
  inputType?: InputType;
  /** Vector length; must be one the model's capabilities allow. */
  dimensions?: number;
  /** A name shown in the provider's console. Default: one derived from the time of creation. */
  displayName?: string;
}

export interface WaitForBatchJobOptions extends BatchJobCallOptions {
  /** First wait between polls. Default 10,000 ms. */
  pollIntervalMs?: number;
  /** Each wait is 1.5 times the last, up to this. Default 60,000 ms. */
  maxPollIntervalMs?: number;
  /** Give up with a `TimeoutError` once waiting longer would pass this. Default: no limit. */
  timeoutMs?: number;
  /** Polls that may fail in a row with a retryable error (5xx, 429, connection) before `wait` throws. Default 3. */
  maxConsecutiveErrors?: number;
  /** Called with the job after every successful poll. */
  onProgress?: (job: BatchJob) => void;
  /** Default: the system clock. Inject one in tests. */
  clock?: Clock;
}

/** One input the provider could not embed. */
export interface BatchJobItemError {
  /** Position of the input in `create({ inputs })`. */
  index: number;
  message: string;
  /** The provider's code for the failure, when it gives one. */
  code?: string;
}

export interface BatchJobResults {
  job: BatchJob;
  /** One entry per input, in input order; `null` where that input failed (see `errors`). */
  embeddings: (Embedding | null)[];
  /** One entry per failed input, by ascending index. */
  errors: BatchJobItemError[];
  warnings: Warning[];
}

/**
 * Asynchronous batch embedding jobs of one model. Each method makes one HTTP call (`results` may make
 * two: the job, then its results file), except `wait`, which polls `get`.
 */
export interface BatchEmbeddingJobs {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  /** Submits a job; it starts `pending`. Never retried on its own: a retry could submit the job twice. */
  create(options: CreateBatchJobOptions): Promise<BatchJob>;
  get(id: string, options?: BatchJobCallOptions): Promise<BatchJob>;
  /** Polls with growing waits until the job reaches a final state, and returns it (whatever that state is). */
  wait(id: string, options?: WaitForBatchJobOptions): Promise<BatchJob>;
  /** The vectors of a finished job. A job that has not finished is an `InvalidArgumentError`. */
  results(id: string, options?: BatchJobCallOptions): Promise<BatchJobResults>;
  /** Asks the provider to stop the job; `get` shows when it has. */
  cancel(id: string, options?: BatchJobCallOptions): Promise<void>;
  /** Deletes the job and its results. */
  delete(id: string, options?: BatchJobCallOptions): Promise<void>;
}

const DEFAULT_POLL_INTERVAL_MS = 10_000;
const DEFAULT_MAX_POLL_INTERVAL_MS = 60_000;
const DEFAULT_MAX_CONSECUTIVE_ERRORS = 3;
const BACKOFF_FACTOR = 1.5;

function positive(value: number | undefined, name: string): void {
  if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new InvalidArgumentError(`${name} must be a finite number > 0, got ${String(value)}.`, {
      argument: name,
    });
  }
}

/**
 * The polling loop behind every `BatchEmbeddingJobs.wait`: calls `get` until the job reaches a final
 * state, waiting `pollIntervalMs`, then 1.5 times longer each poll up to `maxPollIntervalMs`. A
 * retryable error from a poll is tolerated `maxConsecutiveErrors - 1` times in a row (waiting at least
 * the provider's `retryAfterMs`); the caller's abort re-throws the native abort reason, during sleeps too.
 */
export async function waitForBatchJob(
  get: (id: string, options: BatchJobCallOptions) => Promise<BatchJob>,
  id: string,
  options: WaitForBatchJobOptions = {},
): Promise<BatchJob> {
  positive(options.pollIntervalMs, 'pollIntervalMs');
  positive(options.maxPollIntervalMs, 'maxPollIntervalMs');
  positive(options.timeoutMs, 'timeoutMs');
  const maxErrors = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
  if (!Number.isInteger(maxErrors) || maxErrors < 1) {
    throw new InvalidArgumentError(`maxConsecutiveErrors must be a whole number ≥ 1, got ${maxErrors}.`, {
      argument: 'maxConsecutiveErrors',
    });
  }
  const clock = options.clock ?? systemClock;
  const { signal } = options;
  const maxInterval = options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS;
  let interval = Math.min(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, maxInterval);
  const started = clock.now();
  const callOptions: BatchJobCallOptions = {};
  if (signal !== undefined) callOptions.signal = signal;
  if (options.headers !== undefined) callOptions.headers = options.headers;
  if (options.providerOptions !== undefined) callOptions.providerOptions = options.providerOptions;
  let consecutiveErrors = 0;
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    let wait = interval;
    try {
      const job = await get(id, callOptions);
      consecutiveErrors = 0;
      options.onProgress?.(job);
      if (isFinalBatchJobState(job.state)) return job;
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      const retryable = EmbedKitError.isInstance(error) && error.isRetryable;
      consecutiveErrors++;
      if (!retryable || consecutiveErrors >= maxErrors) throw error;
      const hint = (error as EmbedKitError).retryAfterMs;
      if (hint !== undefined && Number.isFinite(hint) && hint > wait) wait = Math.min(hint, maxInterval);
    }
    if (options.timeoutMs !== undefined && clock.now() - started + wait > options.timeoutMs) {
      throw new TimeoutError(
        `Batch job ${id} did not finish within ${options.timeoutMs} ms (timeoutMs); it keeps running, so wait again or cancel it.`,
      );
    }
    await clock.sleep(wait, signal);
    interval = Math.min(interval * BACKOFF_FACTOR, maxInterval);
  }
}
