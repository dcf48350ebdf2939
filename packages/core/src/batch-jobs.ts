/**
 * Asynchronous batch embedding jobs: submit many inputs at once, poll until the provider has finished
 * (often hours, at a lower price), then read every vector back in input order with per-item errors.
 * A provider implements `BatchEmbeddingJobs`; `waitForBatchJob` is the polling loop they all share.
 */
import { checkPositiveNumber, checkWholeNumber } from './argument-checks.js';
import { emitProcessWarning } from './cache.js';
import { type Clock, MAX_TIMER_MS, systemClock } from './engine/clock.js';
import { type RateLimiter, settleFailureReporter } from './engine/limiter.js';
import { withRetries } from './engine/retry.js';
import {
  BORROWED_CALL_SETTINGS,
  checkCallback,
  checkClock,
  checkProviderOptions,
  checkSettingsObject,
  checkSignal,
  jobBasics,
  type RetryEvent,
  type WaitEvent,
} from './engine/settings.js';
import { onAbort } from './engine/signal.js';
import {
  abortReason,
  EmbedKitError,
  InvalidResponseError,
  TimeoutError,
  withoutRetryClaim,
} from './errors.js';
import { checkHeaders } from './http/headers.js';
import { refuseUnknownSettings, type SettingNames, type UnknownSettingsOptions } from './setting-names.js';
import type { Embedding, EmbedInput, InputType, ProviderOptions, Warning } from './types.js';
import { describeAnswerValue } from './vectors.js';

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

/**
 * Options every job operation takes. `P` types `providerOptions`: a provider's jobs take its own (see
 * `BatchEmbeddingJobs`).
 */
export interface BatchJobCallOptions<P extends object = ProviderOptions> {
  /** Aborts the operation, a retry's backoff included; the native abort error is re-thrown. */
  signal?: AbortSignal;
  /**
   * Per HTTP request: one that has not answered by then is aborted with a `TimeoutError`. Default 120,000 ms
   * (the engine's `timeoutMs`).
   */
  timeoutMs?: number;
  /**
   * Retries of `get`, `results`, `cancel` and `delete` after a retryable failure (5xx, 429, timeout,
   * connection), with the engine's backoff and Retry-After. Default 3. `create` is never retried: a retry
   * could submit the job twice.
   */
  maxRetries?: number;
  /** Cap on any single wait between attempts, server hints included. Default 60,000 ms (the engine's). */
  maxRetryDelayMs?: number;
  /** Called before each retry, as the engines call it. */
  onRetry?: (event: RetryEvent) => void;
  /** Called before each wait for a 429 pause of the jobs' rate limiter, as the engines call it. */
  onWait?: (event: WaitEvent) => void;
  /** Extra HTTP headers for this call. */
  headers?: Record<string, string>;
  /** Provider-specific options keyed by provider name, e.g. `{ gemini: { normalize: false } }`. Default: none. */
  providerOptions?: P;
  /** Default: the system clock. Inject one in tests. */
  clock?: Clock;
  /**
   * Hears of what does not fail the call, each distinct warning once, as the engines tell theirs: the
   * warnings `results` lists, and a rate limiter (the jobs object's own) that could not record a
   * request, its store out of reach. Default: `process.emitWarning` with type `EmbedkitWarning` and code
   * `limiter-settle-failed` (`console.warn` where there is no `process`).
   */
  onWarning?: (warning: Warning) => void;
}

export interface CreateBatchJobOptions<P extends object = ProviderOptions> extends BatchJobCallOptions<P> {
  inputs: readonly EmbedInput[];
  inputType?: InputType;
  /** Vector length; must be one the model's capabilities allow. */
  dimensions?: number;
  /** A name shown in the provider's console. Default: one derived from the time of creation. */
  displayName?: string;
}

/** `J` types the job `onProgress` is given: a provider's own (Gemini's `GeminiBatchJob`), else `BatchJob`. */
export interface WaitForBatchJobOptions<P extends object = ProviderOptions, J extends BatchJob = BatchJob>
  extends Omit<
    BatchJobCallOptions<P>,
    'timeoutMs' | 'maxRetries' | 'maxRetryDelayMs' | 'onRetry' | 'onWait'
  > {
  /** First wait between polls. Default 10,000 ms. */
  pollIntervalMs?: number;
  /** Each wait is 1.5 times the last, up to this. Default 60,000 ms. */
  maxPollIntervalMs?: number;
  /**
   * The whole wait: a `TimeoutError` instead of a wait that would pass it, and a poll still in flight at
   * that moment is aborted with one. Default: no limit.
   */
  timeoutMs?: number;
  /**
   * Per poll: one that has not answered by then is aborted with a `TimeoutError` and counts as a failed
   * poll. Default: the provider's request timeout (120,000 ms).
   */
  pollTimeoutMs?: number;
  /**
   * Failed polls in a row (each a retryable error: 5xx, 429, timeout, connection) at which `wait` throws
   * the last one; it waits on through one fewer. Default 3.
   */
  maxConsecutiveErrors?: number;
  /** Called with the job after every successful poll. */
  onProgress?: (job: J) => void;
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
 * two: the job, then its results file), except `wait`, which polls `get`. Every call is bounded by
 * `timeoutMs`; those that are safe to repeat are retried (see `BatchJobCallOptions`). `P` types the
 * `providerOptions` every method takes, as `EmbeddingModel<P>` types its model's: Gemini's jobs take
 * `{ gemini?: GeminiProviderOptions }`; the default takes any.
 */
export interface BatchEmbeddingJobs<P extends object = ProviderOptions> {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  /** Submits a job; it starts `pending`. Never retried on its own: a retry could submit the job twice. */
  create(options: CreateBatchJobOptions<P>): Promise<BatchJob>;
  get(id: string, options?: BatchJobCallOptions<P>): Promise<BatchJob>;
  /** Polls with growing waits until the job reaches a final state, and returns it (whatever that state is). */
  wait(id: string, options?: WaitForBatchJobOptions<P>): Promise<BatchJob>;
  /** The vectors of a finished job. A job that has not finished is an `InvalidArgumentError`. */
  results(id: string, options?: BatchJobCallOptions<P>): Promise<BatchJobResults>;
  /** Asks the provider to stop the job; `get` shows when it has. */
  cancel(id: string, options?: BatchJobCallOptions<P>): Promise<void>;
  /** Deletes the job and its results. */
  delete(id: string, options?: BatchJobCallOptions<P>): Promise<void>;
}

const DEFAULT_POLL_INTERVAL_MS = 10_000;
const DEFAULT_MAX_POLL_INTERVAL_MS = 60_000;
const DEFAULT_MAX_CONSECUTIVE_ERRORS = 3;
const BACKOFF_FACTOR = 1.5;

const CALL_OPTIONS: SettingNames<BatchJobCallOptions> = {
  signal: true,
  timeoutMs: true,
  maxRetries: true,
  maxRetryDelayMs: true,
  onRetry: true,
  onWait: true,
  headers: true,
  providerOptions: true,
  clock: true,
  onWarning: true,
};
const CREATE_OPTIONS: SettingNames<CreateBatchJobOptions> = {
  ...CALL_OPTIONS,
  inputs: true,
  inputType: true,
  dimensions: true,
  displayName: true,
};
const WAIT_OPTIONS: SettingNames<WaitForBatchJobOptions> = {
  signal: true,
  headers: true,
  providerOptions: true,
  clock: true,
  pollIntervalMs: true,
  maxPollIntervalMs: true,
  timeoutMs: true,
  pollTimeoutMs: true,
  maxConsecutiveErrors: true,
  onProgress: true,
  onWarning: true,
};

/**
 * How an option a job operation does not take is refused. The AI SDK's `abortSignal` is answered as the
 * engines answer it (pass the AbortSignal as `signal`): the bare list of names left a caller who moved
 * code from an engine call to a job call without the hint every engine gives. The engines' other hints
 * are not given: `user` goes under `providerOptions` of a provider whose embeddings take it, and no batch
 * job API takes one (a job operation that pointed there sent the caller to a second refusal), and
 * `maxParallelCalls` points to concurrency, which a job operation, one request at a time, does not have.
 */
const UNKNOWN_OPTIONS: UnknownSettingsOptions = {
  noun: 'option',
  instead: { abortSignal: BORROWED_CALL_SETTINGS.abortSignal! },
};

/** The options every job operation takes, checked as the engines check theirs. */
function checkCallOptions(
  options: unknown,
  form: string,
  owner: string,
  known: Readonly<Record<string, true>>,
): void {
  if (options === undefined) return;
  checkSettingsObject(options, form);
  refuseUnknownSettings(options as object, known, owner, UNKNOWN_OPTIONS);
  const { signal, headers, providerOptions, clock } = options as BatchJobCallOptions;
  checkSignal(signal);
  checkHeaders(headers, 'headers');
  checkProviderOptions(providerOptions);
  checkClock(clock);
}

/** Admits every attempt at once: for calls that are attempted once, whose pace is set by their caller. */
const UNLIMITED: RateLimiter = {
  requestsPerMinute: undefined,
  tokensPerMinute: undefined,
  acquire: async () => ({ answered: async () => {}, failed: async () => {} }),
};

/**
 * What a job operation's answer tells its limiter: nothing of its headers. The limiter learns limits per
 * model (the scope of the model's embedding calls, which a job operation shares), and any limits stated on
 * a job endpoint's answer are that endpoint's, not the model's: learned, they would pace the model's
 * embedding calls by another budget.
 */
const NO_HEADERS = { reportedTokens: undefined, headers: {} };

/** The operations of `BatchEmbeddingJobs` that send requests (`wait` polls through `get`). */
export type BatchJobOperation = 'create' | 'get' | 'results' | 'cancel' | 'delete';

/**
 * How a provider's `BatchEmbeddingJobs` sends each HTTP request of an operation (`results` may send two).
 * The options are checked before anything is sent, with the engines' checks. Each attempt gets its own
 * signal, aborted with a `TimeoutError` after `timeoutMs` (default 120,000 ms), or when the caller aborts
 * (then the native abort reason is re-thrown). Every operation but `create` (a retry could submit the job
 * twice) is retried after a retryable failure up to `maxRetries` times (default 3), with the engine's
 * backoff, Retry-After and 429 pauses shared by the requests of `jobs`. `send` makes one attempt with
 * the signal and timeout it is given.
 */
export async function sendBatchJobRequest<T>(
  jobs: { readonly provider: string; readonly modelId: string },
  operation: BatchJobOperation,
  options: BatchJobCallOptions | undefined,
  send: (signal: AbortSignal, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const create = operation === 'create';
  checkCallOptions(
    options,
    create ? 'create({ inputs, signal, timeoutMs })' : `${operation}(id, { signal, timeoutMs })`,
    operation,
    create ? CREATE_OPTIONS : CALL_OPTIONS,
  );
  const settings = options ?? {};
  // The engines' one check and reading of the settings they share: only those names passed the check above.
  const basics = jobBasics(settings, jobs, false);
  const retried = !create && basics.policy.maxRetries > 0;
  // Attempted once: no 429 pause to wait out or to set; whoever calls again (wait's loop) sets the pace.
  const policy = retried ? basics.policy : { ...basics.policy, maxRetries: 0, limiter: UNLIMITED };
  const signal = settings.signal ?? new AbortController().signal;
  // A limiter that cannot record a request fails nothing, but is not passed over in silence: said to the
  // call's `onWarning` (`wait` hands its polls one that says it once), else once for the jobs object as a
  // process warning, not at every poll of an hour-long wait.
  const onSettleFailure =
    settings.onWarning === undefined
      ? processSettleReporter(jobs)
      : settleFailureReporter(settings.onWarning);
  return withRetries(policy, 0, signal, send, () => NO_HEADERS, { onSettleFailure }).catch(
    (error: unknown) => {
      // Not "maxRetries 0": create takes no retries whatever the caller sets.
      throw create
        ? withoutRetryClaim(error, 'create is never retried: a retry could submit the job twice')
        : error;
    },
  );
}

const processReporters = new WeakMap<object, (error: unknown, answered: boolean) => void>();

/** The settle-failure reporter of a jobs object's calls made without `onWarning`: one process warning. */
function processSettleReporter(jobs: object): (error: unknown, answered: boolean) => void {
  let reporter = processReporters.get(jobs);
  if (reporter === undefined) {
    reporter = settleFailureReporter((warning) =>
      emitProcessWarning(warning.message, 'EmbedkitWarning', 'limiter-settle-failed'),
    );
    processReporters.set(jobs, reporter);
  }
  return reporter;
}

/**
 * The polling loop behind every `BatchEmbeddingJobs.wait`: calls `get` until the job reaches a final
 * state, waiting `pollIntervalMs`, then 1.5 times longer each poll up to `maxPollIntervalMs`. A
 * retryable error from a poll is tolerated `maxConsecutiveErrors - 1` times in a row (waiting at least
 * the provider's `retryAfterMs`), so `get` should make one attempt per poll (`maxRetries: 0`). `timeoutMs`
 * bounds the whole wait, a poll in flight included: at the deadline the poll's signal is aborted and the
 * wait ends with a `TimeoutError`, even if `get` ignores the signal. The caller's abort re-throws the
 * native abort reason, during sleeps too.
 */
export async function waitForBatchJob<J extends BatchJob = BatchJob>(
  get: (id: string, options: BatchJobCallOptions) => Promise<J>,
  id: string,
  options: WaitForBatchJobOptions<ProviderOptions, J> = {},
): Promise<J> {
  checkCallOptions(options, 'wait(id, { pollIntervalMs, timeoutMs, onProgress })', 'wait', WAIT_OPTIONS);
  // A wait longer than a timer holds comes early: the system clock's sleep stops at that maximum, and a
  // clock that hands it to setTimeout as it is fires at once. Polls would come sooner than asked, so such
  // a wait is refused, as the other waits of core are.
  checkPositiveNumber(options.pollIntervalMs, 'pollIntervalMs', MAX_TIMER_MS);
  checkPositiveNumber(options.maxPollIntervalMs, 'maxPollIntervalMs', MAX_TIMER_MS);
  checkPositiveNumber(options.timeoutMs, 'timeoutMs');
  checkWholeNumber(options.pollTimeoutMs, 'pollTimeoutMs', 1, MAX_TIMER_MS);
  checkCallback(options.onProgress, 'onProgress');
  checkCallback(options.onWarning, 'onWarning');
  checkWholeNumber(options.maxConsecutiveErrors, 'maxConsecutiveErrors', 1);
  const maxErrors = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
  const clock = options.clock ?? systemClock;
  const { signal, timeoutMs } = options;
  const maxInterval = options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS;
  let interval = Math.min(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, maxInterval);
  const started = clock.now();
  const callOptions: BatchJobCallOptions = {};
  if (signal !== undefined) callOptions.signal = signal;
  if (options.pollTimeoutMs !== undefined) callOptions.timeoutMs = options.pollTimeoutMs;
  if (options.headers !== undefined) callOptions.headers = options.headers;
  if (options.providerOptions !== undefined) callOptions.providerOptions = options.providerOptions;
  if (options.onWarning !== undefined) {
    // Every poll's call reports to it: what a limiter fails to record is said once for the whole wait.
    const warn = options.onWarning;
    let said = false;
    callOptions.onWarning = (warning) => {
      if (said) return;
      said = true;
      warn(warning);
    };
  }
  const timedOut = () =>
    new TimeoutError(
      `Batch job ${id} did not finish within ${timeoutMs} ms (timeoutMs); it keeps running, so wait again or cancel it.`,
    );
  let consecutiveErrors = 0;
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    let wait = interval;
    try {
      const job =
        timeoutMs === undefined
          ? await get(id, callOptions)
          : await pollBefore(get, id, callOptions, timeoutMs - (clock.now() - started), timedOut);
      // A state this loop does not know (a provider's own word) is no final state: refused, not returned.
      if (!BATCH_JOB_STATES.includes(job?.state)) {
        throw new InvalidResponseError(
          `Batch job ${id} has the state ${describeAnswerValue(job?.state)}, not one of ${BATCH_JOB_STATES.join(', ')}.`,
        );
      }
      consecutiveErrors = 0;
      options.onProgress?.(job);
      if (isFinalBatchJobState(job.state)) return job;
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (error instanceof DeadlinePassed) throw error.timeout;
      const retryable = EmbedKitError.isInstance(error) && error.isRetryable;
      consecutiveErrors++;
      if (!retryable) throw error;
      // The poll's own hint would speak of its retries (none, as `get` makes one attempt per poll).
      if (consecutiveErrors >= maxErrors) {
        throw withoutRetryClaim(
          error,
          `wait() gave up after maxConsecutiveErrors (${maxErrors}) failed polls in a row`,
        );
      }
      const hint = (error as EmbedKitError).retryAfterMs;
      if (hint !== undefined && Number.isFinite(hint) && hint > wait) wait = Math.min(hint, maxInterval);
    }
    if (timeoutMs !== undefined && clock.now() - started + wait > timeoutMs) throw timedOut();
    await clock.sleep(wait, signal);
    interval = Math.min(interval * BACKOFF_FACTOR, maxInterval);
  }
}

/** The wait's deadline passed during a poll; carries the `TimeoutError` the wait ends with. */
class DeadlinePassed {
  constructor(readonly timeout: TimeoutError) {}
}

/**
 * One poll that must answer within `remainingMs` (measured in real time, as every request timeout is):
 * past it, the poll's signal is aborted with the wait's `TimeoutError` and the poll is abandoned even if
 * `get` never settles.
 */
async function pollBefore<J extends BatchJob>(
  get: (id: string, options: BatchJobCallOptions) => Promise<J>,
  id: string,
  callOptions: BatchJobCallOptions,
  remainingMs: number,
  timedOut: () => TimeoutError,
): Promise<J> {
  if (!(remainingMs > 0)) throw new DeadlinePassed(timedOut());
  // A deadline beyond what a timer holds is left to the per-poll timeout (a longer timer fires at once).
  if (remainingMs > MAX_TIMER_MS) return get(id, callOptions);
  const poll = new AbortController();
  const caller = callOptions.signal;
  const stopWatching = caller === undefined ? () => {} : onAbort(caller, () => poll.abort(caller.reason));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const timeout = timedOut();
      poll.abort(timeout);
      reject(new DeadlinePassed(timeout));
    }, remainingMs);
  });
  try {
    return await Promise.race([get(id, { ...callOptions, signal: poll.signal }), deadline]);
  } catch (error) {
    // The poll may reject with the abort reason (the TimeoutError) before the deadline promise does.
    if (poll.signal.aborted && !caller?.aborted) throw new DeadlinePassed(poll.signal.reason as TimeoutError);
    throw error;
  } finally {
    clearTimeout(timer);
    stopWatching();
  }
}
