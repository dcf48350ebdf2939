/**
 * The one job runner. Embeddings (`embedMany`, `embedStream`), contextualized chunks and rerank all run
 * on it: it plans calls, runs them in a sliding pool with the limiter, retries and timeouts, bisects a
 * call the API says is too large, places a failing input's index in the whole job, and keeps usage,
 * warnings, responses and progress. A job kind is an adapter that says how to make one provider call for
 * a batch of its items (checking the answer) and how to join the values of two halves of a batch.
 */

import {
  abortReason,
  InvalidRequestError,
  InvalidResponseError,
  reindexInput,
  rewriteMessage,
  withNote,
} from '../errors.js';
import type { ResponseInfo, Usage, Warning } from '../types.js';
import type { Batch } from './batcher.js';
import { answerSource, checkAnswer } from './checks.js';
import { settleFailureReporter } from './limiter.js';
import { type PoolSource, runPool } from './pool.js';
import { type Admission, withRetries } from './retry.js';
import type { JobBasics, Progress } from './settings.js';

/** The parts every kind of provider answer has: the runner checks them. */
export interface AnswerCommon {
  usage?: Usage | undefined;
  warnings?: Warning[] | undefined;
  response: ResponseInfo;
}

/** What one provider call answered: the value the adapter read out of it (checked), and the answer itself. */
export interface CallAnswer<V> {
  value: V;
  answer: AnswerCommon;
}

/** What a kind of job tells the runner. */
export interface JobAdapter<I, V> {
  /**
   * Exactly one provider call for `batch`, its answer checked; `signal` and `timeoutMs` belong to the
   * attempt. An adapter that `admitsLate` calls `admit` (the limiter's admission) right before a request
   * leaves, and not at all when none does; any other is admitted before `call`.
   */
  call(batch: Batch<I>, signal: AbortSignal, timeoutMs: number, admit: Admission): Promise<CallAnswer<V>>;
  /** Whether `call` admits its requests itself (see `call`). Default false. */
  readonly admitsLate?: boolean;
  /** The values of the two halves of a bisected batch, in order, as one. */
  join(first: V, second: V): V;
  /**
   * For a job whose calls must not be split (a listwise reranker's scores do not compare across calls):
   * why a call of `count` items the API says is too large is not bisected, a sentence added to the API's
   * error, which is then thrown. Default undefined: such a call is bisected.
   */
  readonly notBisected?: ((count: number) => string) | undefined;
  /** What the job's items are called in an error's note of their place ("document 3 of the whole job"). Default `input`. */
  readonly item?: string;
}

/** One finished batch, yielded in job order. */
export interface BatchDone<I, V> {
  batch: Batch<I>;
  value: V;
}

/**
 * The most distinct warnings a tally that keeps no lists remembers, so as to say each once: a stream that
 * makes calls without end, each with a warning of its own ("call 812 was slow"), must not grow with every
 * one. Past it, the warning heard least recently is forgotten, and said again should it come again.
 */
const REMEMBERED_WARNINGS = 1_000;

/** Usage, warnings, responses and progress of one job. */
export class Tally {
  /** Each distinct warning, in the order they came (none when the tally keeps no lists). */
  readonly warnings: Warning[] = [];
  /** One entry per HTTP call that answered, in job order (none when the tally keeps no lists). */
  readonly responses: ResponseInfo[] = [];
  completed = 0;
  /** Tokens reported so far; undefined once any call reported none. */
  inputTokens: number | undefined = 0;
  calls = 0;
  private readonly seen = new Set<string>();

  /**
   * `keeps`: whether the job lists its warnings and responses (default true). A stream, which returns
   * neither and may make calls without end, passes false: each warning then only reaches `onWarning`,
   * and the `REMEMBERED_WARNINGS` distinct ones heard last are remembered to say each once.
   */
  constructor(
    private readonly onWarning: ((warning: Warning) => void) | undefined,
    private readonly onProgress: ((progress: Progress) => void) | undefined,
    private readonly totalInputs: number | undefined,
    readonly keeps = true,
  ) {}

  warn(warning: Warning): void {
    const key = `${warning.type}\u0000${warning.setting ?? ''}\u0000${warning.message}`;
    if (this.seen.has(key)) {
      // Heard again: the last to be forgotten (a set iterates in the order its keys were added).
      if (!this.keeps) {
        this.seen.delete(key);
        this.seen.add(key);
      }
      return;
    }
    this.seen.add(key);
    if (this.keeps) this.warnings.push(warning);
    else if (this.seen.size > REMEMBERED_WARNINGS) this.seen.delete(this.seen.values().next().value!);
    this.onWarning?.(warning);
  }

  /** A call answered. */
  answered(usage: Usage | undefined, warnings: readonly Warning[]): void {
    this.calls++;
    this.inputTokens =
      usage === undefined || this.inputTokens === undefined
        ? undefined
        : this.inputTokens + usage.inputTokens;
    for (const warning of warnings) this.warn(warning);
  }

  /** A whole batch is done (all its halves). */
  finished(items: number): void {
    this.completed += items;
    if (this.onProgress === undefined) return;
    const progress: Progress = { completedInputs: this.completed };
    if (this.totalInputs !== undefined) progress.totalInputs = this.totalInputs;
    if (this.inputTokens !== undefined) progress.inputTokens = this.inputTokens;
    this.onProgress(progress);
  }

  /** The job's usage: the sum over every call, or undefined when any call reported none (or none ran). */
  usage(): Usage | undefined {
    return this.inputTokens === undefined || this.calls === 0 ? undefined : { inputTokens: this.inputTokens };
  }

  /** What every kind of result carries: the warnings, one response per call, and the usage when known. */
  summary(): { warnings: Warning[]; responses: ResponseInfo[]; usage?: Usage } {
    const usage = this.usage();
    return usage === undefined
      ? { warnings: this.warnings, responses: this.responses }
      : { warnings: this.warnings, responses: this.responses, usage };
  }
}

interface Outcome<V> {
  value: V;
  responses: ResponseInfo[];
}

export interface RunJobOptions<I, V> {
  basics: JobBasics;
  adapter: JobAdapter<I, V>;
  source: PoolSource<Batch<I>>;
  tally: Tally;
  signal?: AbortSignal | undefined;
  /**
   * Most batches started and not yet done with by the consumer, the one it holds included (streams).
   * Default: no bound.
   */
  window?: number;
  /**
   * Whether a call that fails for good lets the calls before it in the job finish, their values yielded
   * before its error (streams). Default false: every other call is aborted.
   */
  finishEarlier?: boolean;
}

/**
 * Runs a job and yields each batch's value in job order, as soon as it and every batch before it are done.
 */
export async function* runJob<I, V>(options: RunJobOptions<I, V>): AsyncGenerator<BatchDone<I, V>> {
  const { basics, adapter, tally } = options;
  const { policy } = basics;
  const onSettleFailure = settleFailureReporter((warning) => tally.warn(warning));

  const once = async (part: Batch<I>, signal: AbortSignal): Promise<Outcome<V>> => {
    let tokens = 0;
    for (const count of part.tokens) tokens += count;
    try {
      const { value, usage, warnings, response } = await withRetries(
        policy,
        tokens,
        signal,
        async (attemptSignal, timeoutMs, admit) => {
          const called = await adapter.call(part, attemptSignal, timeoutMs, admit);
          const where = answerSource(policy.provider, called.answer.response);
          const warnings = checkAnswer(where, called.answer);
          return {
            value: called.value,
            usage: called.answer.usage,
            warnings,
            response: called.answer.response,
          };
        },
        (answered) => ({
          reportedTokens: answered.usage?.inputTokens,
          headers: answered.response?.headers ?? {},
        }),
        { admitsLate: adapter.admitsLate === true, onSettleFailure },
      );
      tally.answered(usage, warnings);
      return { value, responses: [response] };
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw inJob(error, part, adapter.item ?? 'input');
    }
  };

  /**
   * The fewest items of a call the API refused as too large in this job. A later call of as many or more
   * goes out already halved: a limit on the count refuses it again, and each half after it (a server that
   * takes 32 inputs, under a default of 128, refused three calls of every batch). A refusal for tokens
   * says less of the count: later calls of shorter inputs may then be halved that need not be, at the
   * cost of a few more requests.
   */
  let refusedSize = Number.POSITIVE_INFINITY;

  const bisecting = async (part: Batch<I>, signal: AbortSignal): Promise<Outcome<V>> => {
    const size = part.items.length;
    if (size >= 2 && size >= refusedSize) return halves(part, signal);
    try {
      return await once(part, signal);
    } catch (error) {
      if (signal.aborted || size < 2 || !(InvalidRequestError.isInstance(error) && error.batchTooLarge))
        throw error;
      // Without a word the user read only the API's "too large", and not why the engine kept the call whole.
      if (adapter.notBisected !== undefined) throw withNote(error, adapter.notBisected(size));
      refusedSize = Math.min(refusedSize, size);
      return halves(part, signal);
    }
  };

  /**
   * Too large for the API (a token budget the estimate missed, a limit lower than declared): each half
   * the same way, one after the other.
   */
  const halves = async (part: Batch<I>, signal: AbortSignal): Promise<Outcome<V>> => {
    const size = part.items.length;
    const at = Math.ceil(size / 2);
    const head = await bisecting(slice(part, 0, at), signal);
    const tail = await bisecting(slice(part, at, size), signal);
    return {
      value: adapter.join(head.value, tail.value),
      responses: [...head.responses, ...tail.responses],
    };
  };

  const results = runPool(
    options.source,
    {
      concurrency: basics.concurrency,
      signal: options.signal,
      ...(options.window === undefined ? {} : { window: options.window }),
      finishEarlier: options.finishEarlier === true,
    },
    async (batch: Batch<I>, signal: AbortSignal) => {
      const outcome = await bisecting(batch, signal);
      tally.finished(batch.items.length);
      return { batch, outcome };
    },
  );
  for await (const { batch, outcome } of results) {
    if (tally.keeps) tally.responses.push(...outcome.responses);
    yield { batch, value: outcome.value };
  }
}

function slice<I>(batch: Batch<I>, start: number, end: number): Batch<I> {
  return {
    offset: batch.offset + start,
    items: batch.items.slice(start, end),
    tokens: batch.tokens.slice(start, end),
  };
}

/**
 * How an item is named by its place in the whole job, in a message about a later call ("(document 3 of
 * the whole job)"): every engine says it in these words.
 */
export function placeInJob(item: string, index: number | string): string {
  return `(${item} ${index} of the whole job)`;
}

/**
 * A later call's items by their place in the whole job, for a message about the call's answer as a whole
 * (" (inputs 3 to 5 of the whole job)"); nothing for the first call, whose places are the job's.
 */
export function callInJob(item: string, offset: number, count: number): string {
  if (offset === 0) return '';
  return ` ${count > 1 ? placeInJob(`${item}s`, `${offset} to ${offset + count - 1}`) : placeInJob(item, offset)}`;
}

/**
 * The API named an item by its index within the call; the caller needs its place in the whole job. An
 * answer a provider refused naming a place "of this call" (Voyage's chunk indices) gets the call's items
 * in the job too: the caller never sees the calls.
 */
function inJob(error: unknown, part: Batch<unknown>, item: string): unknown {
  const { offset } = part;
  if (InvalidResponseError.isInstance(error)) {
    // The provider's own error of this call: noted where it stands, its stack too.
    rewriteMessage(
      error,
      error.message.replace(/( of this call.*)\.$/, `$1${callInJob(item, offset, part.items.length)}.`),
    );
  }
  return reindexInput(
    error,
    (inCall) => offset + inCall,
    (index) => placeInJob(item, index),
  );
}
