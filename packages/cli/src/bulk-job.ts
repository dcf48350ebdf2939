import { existsSync } from 'node:fs';
import {
  createRateLimiter,
  embedMany,
  embedStream,
  InvalidRequestError,
  isAbortError,
  type OutputType,
  type RateLimiter,
  type StreamedEmbedding,
  wrapEmbeddingModel,
} from '@embedkit/core';
import {
  type ChosenModel,
  engineSettings,
  type ModelChoice,
  openChoice,
  sentInputType,
  serverKey,
} from './common.js';
import { CliError, describeError, EXIT, InputChangedError, InputError } from './errors.js';
import { OutputWriteError } from './file-system.js';
import { type InputFingerprint, verifyConsumedInput } from './input-fingerprint.js';
import type { InputReading } from './input-options.js';
import { type InputRecord, type InputSource, openInput } from './inputs.js';
import { Interrupts } from './interrupts.js';
import {
  BulkOutput,
  type Checkpoint,
  checkpointPath,
  type JobKey,
  outputFiles,
  readCheckpoint,
  type StartMode,
} from './output.js';
import { lockPath, OutputLock, OutputLockedError } from './output-lock.js';
import { inputCount, type ProgressMode, ProgressReporter } from './progress.js';
import { replayMismatchReport } from './providers.js';
import { FailedCalls, findRejectedInput, isRejection, maxSearchCalls } from './rejected-input.js';
import { describeId, type RepeatedId, RepeatedIds } from './repeated-ids.js';
import { refuseOutputOverInput } from './same-file.js';

/** Everything `embedkit bulk` was asked to do, read from its command line. */
export interface BulkSettings {
  /** A path, or `-` for stdin. */
  inputPath: string;
  /** The input path as the checkpoint records it (absolute, or `-`). */
  inputKey: string;
  out: string;
  outputKind: 'jsonl' | 'npy';
  /** How to read the input: the options bulk shares with index. */
  reading: InputReading;
  includeText: boolean;
  /** What to do with an earlier run's output. */
  mode: StartMode;
  choice: ModelChoice;
  outputType: OutputType;
  batchSize?: number;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  progressMode: ProgressMode;
  progressIntervalSeconds: number;
  /** -q: no summary either (`--progress none` drops only the progress lines). */
  quiet: boolean;
}

/** Records buffered before a flush is forced even while results keep arriving. */
const MAX_BUFFERED_RECORDS = 8192;
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Output formatted between two turns of the event loop (about 15 rows of 1,536 values as JSON). Formatting
 * is the run's heaviest work: rows formatted on, a whole call at a time, held the loop for seconds, so that
 * a connection the server closed meanwhile (its keep-alive timeout) was not seen closed, the next call was
 * sent on it, lost, and retried; Ctrl-C and the progress lines waited as long.
 */
const TURN_BYTES = 256 * 1024;

const IDLE = Symbol('idle');

/**
 * Ids kept to find one given to two records: the table costs 12 MiB at most for a file (18 MiB for stdin,
 * whose lines are kept too), so memory stays bounded whatever the input; ids past the first 1,048,576
 * are not checked.
 */
const MAX_CHECKED_IDS = 1 << 20;

/** Where a failure happened in the input, as far as can be told. */
type FailurePlace =
  /** The API rejected this input: a rerun fails the same way until it is fixed. */
  | { kind: 'input'; record: InputRecord; error: unknown }
  /** A call of these inputs was rejected (the narrowest found), though none was rejected alone. */
  | { kind: 'call'; records: InputRecord[] }
  /** A call of these inputs failed for another reason (none known: `records` is empty). */
  | { kind: 'other'; records: InputRecord[] };

/** Resolves on the next turn of the event loop: by then every result already available was consumed. */
function nextTurn(): Promise<typeof IDLE> {
  return new Promise((resolve) => setImmediate(() => resolve(IDLE)));
}

/** Inputs handed to the engine and not yet written, in order. Bounded by the engine's window. */
class PendingRecords {
  private items: (InputRecord | undefined)[] = [];
  private head = 0;

  push(record: InputRecord): void {
    this.items.push(record);
  }

  /** The record `ahead` places after the next one to be written. */
  peek(ahead = 0): InputRecord | undefined {
    return this.items[this.head + ahead];
  }

  /**
   * The records whose texts are `texts`, in a row: the inputs of one call, which the engine takes from
   * the stream in order. The first such run (a repeated run of texts would fail the same way).
   */
  findRun(texts: readonly unknown[]): InputRecord[] | undefined {
    const { items } = this;
    search: for (let start = this.head; start + texts.length <= items.length; start++) {
      for (let offset = 0; offset < texts.length; offset++)
        if (items[start + offset]?.text !== texts[offset]) continue search;
      return items.slice(start, start + texts.length) as InputRecord[];
    }
    return undefined;
  }

  shift(): InputRecord | undefined {
    const record = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return record;
  }
}

/**
 * One `embedkit bulk` run, in named steps: `open` (the input, the lock, the checkpoint), `resume`
 * (check the input's consumed part is unchanged, then reopen the output at its checkpoint), `write`
 * (stream inputs through the engine into the output), `checkpoint` (make written records durable)
 * and `finish` (complete the job, or say what is saved and how to continue).
 */
export class BulkJob {
  private readonly settings: BulkSettings;
  /** What makes this job this job: set once the input's format is known. */
  private job!: JobKey;
  private readonly quiet: boolean;
  /** Ctrl-C or SIGTERM: the first stops the run after saving what is finished; a second exits at once. */
  private readonly interrupts = new Interrupts();
  /** Aborted when writing fails: the calls in flight could no longer be written. */
  private readonly engineStop = new AbortController();
  private source!: InputSource;
  /** A record read before it was needed: the first one, read to refuse an empty input early. */
  private peeked: InputRecord | undefined;
  private lock: OutputLock | undefined;
  /** The earlier run's checkpoint this run continues, if any. */
  private resumed: Checkpoint | undefined;
  /** The output is being opened: a failure now is reported with what is saved (see `reportsWhatIsSaved`). */
  private openingOutput = false;
  private model: ChosenModel | undefined;
  private output: BulkOutput | undefined;
  private progress: ProgressReporter | undefined;
  private readonly pending = new PendingRecords();
  /** Inputs written to the output in this run. */
  private written = 0;
  /** The first bad input line: everything before it is still embedded and saved. */
  private inputFailure: InputError | undefined;
  /** Ids seen so far, until one repeats (or too many were kept); none for text, whose ids are its line numbers. */
  private ids: RepeatedIds | undefined;
  /** The ids of later inputs were not checked: the table was full. */
  private idsUnchecked = false;
  /** The --rpm / --tpm limiter, shared by every call this run makes. */
  private rateLimit: RateLimiter | undefined;
  /** The first id given to two records: a warning, since records may share a parent's id on purpose. */
  private repeatedId: RepeatedId | undefined;
  /** The inputs of the calls that failed, to say where a failure is in the input. */
  private readonly failedCalls = new FailedCalls();

  constructor(settings: BulkSettings) {
    this.settings = settings;
    this.quiet = settings.quiet;
  }

  /** Runs the job and returns the exit code. */
  async run(): Promise<number> {
    try {
      return await this.interrupts.during(() => this.steps());
    } finally {
      await this.output?.close();
      await this.model?.close();
      await this.lock?.release();
    }
  }

  /**
   * The steps in order. A failure that leaves something to say about the output is reported with what
   * is saved and how to continue; any other is a plain error.
   */
  private async steps(): Promise<number> {
    try {
      await this.open();
      await this.resume();
      return await this.finish(await this.write());
    } catch (error) {
      if (this.reportsWhatIsSaved(error)) return await this.report(error);
      throw error;
    }
  }

  /**
   * Whether `error` stopped the run where what is saved is worth saying: the stop a signal asked for,
   * or the output failing to open (a write failing, or a checkpoint's output failing to reopen, such as
   * a full disk rewriting its .npy header). A bad command line, a changed input or a locked output is
   * said as is.
   */
  private reportsWhatIsSaved(error: unknown): boolean {
    const { signal } = this.interrupts;
    if (signal.aborted && (isAbortError(error) || error === signal.reason)) return true;
    // The input changed while it was read (checking a resumed part included): what is saved, and what
    // the next run will ask for, are said with it.
    if (error instanceof InputChangedError) return true;
    return this.openingOutput && (this.resumed !== undefined || error instanceof OutputWriteError);
  }

  /**
   * Opens the model (an option it cannot honour is a usage error before anything is read or created),
   * opens the input (an empty one is refused before any output exists), locks the output and reads the
   * earlier run's checkpoint.
   */
  private async open(): Promise<void> {
    const { settings } = this;
    const { out } = settings;
    refuseOutputOverInput('bulk', settings.inputPath, out, [
      ...outputFiles(out, settings.outputKind),
      checkpointPath(out),
      lockPath(out),
    ]);
    this.model = await openChoice(settings.choice, {
      outputType: settings.outputType,
      ...(settings.batchSize === undefined ? {} : { batchSize: settings.batchSize }),
    });
    this.source = await openInput({ path: settings.inputPath, ...settings.reading });
    this.job = {
      provider: settings.choice.provider,
      model: settings.choice.modelId,
      server: serverKey(this.model.baseURL),
      dimensions: settings.choice.dimensions ?? null,
      // The input type sent, not the one asked for: one the model lacks is sent as none, and a run with
      // it or without it makes the same vectors.
      inputType: sentInputType(this.model.model, settings.choice.inputType) ?? null,
      outputType: settings.outputType,
      input: settings.inputKey,
      format: this.source.format,
      field: settings.reading.field,
      idField: settings.reading.idField,
      includeText: settings.includeText,
      output: settings.outputKind,
    };
    if (this.source.format !== 'txt') {
      // A file is read again to name the earlier line of a repeat: only its ids' fingerprints are kept.
      const reading = { path: settings.inputPath, ...settings.reading, fingerprint: false };
      this.ids = new RepeatedIds({
        limit: MAX_CHECKED_IDS,
        name: this.source.name,
        signal: this.interrupts.signal,
        ...(this.source.rereadable ? { reread: async () => (await openInput(reading)).records } : {}),
      });
    }
    const first = await this.readRecord();
    if (first === undefined) throw new CliError(`${this.source.name}: no inputs (every line is blank).`);
    this.peeked = first;
    this.lock = await OutputLock.acquire(out, (message) => process.stderr.write(`embedkit: ${message}\n`));
    this.resumed = await readCheckpoint(
      out,
      this.job,
      settings.mode,
      this.model.model.capabilities.inputTypes,
    );
  }

  /**
   * Reads the input's consumed part again and refuses a changed one (before anything is written),
   * then opens the output: at the checkpoint, or new. A finished job is checked too: an edit that kept
   * the file's size and time is still found, by its bytes.
   */
  private async resume(): Promise<void> {
    const { out } = this.settings;
    const checkpoint = this.resumed;
    if (checkpoint !== undefined && checkpoint.inputsDone > 0) {
      await verifyConsumedInput({
        name: this.source.name,
        consumed: checkpoint,
        ...(this.source.size === undefined ? {} : { size: this.source.size }),
        ...(this.source.mtimeMs === undefined ? {} : { mtimeMs: this.source.mtimeMs }),
        next: () => this.nextRecord(),
        hash: this.source.consumed,
        signal: this.interrupts.signal,
      });
    }
    // A finished job continues only if lines were added after it.
    let more = true;
    if (checkpoint?.complete) {
      try {
        this.peeked = await this.readRecord();
        more = this.peeked !== undefined;
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        this.inputFailure = error;
      }
    }
    this.openingOutput = true;
    const { defaultDimensions } = this.model!.model.capabilities;
    this.output = await BulkOutput.open({
      out,
      job: this.job,
      ...(checkpoint === undefined ? {} : { resume: checkpoint }),
      guard: () => this.lock!.verify(),
      ...(defaultDimensions === undefined ? {} : { defaultDimensions }),
    });
    this.openingOutput = false;
    const skip = checkpoint?.inputsDone ?? 0;
    if (skip > 0 && more && !this.quiet)
      process.stderr.write(`embedkit: resuming ${out}: ${inputCount(skip)} already done.\n`);
  }

  /** Streams the remaining inputs through the engine into the output; returns what stopped it, if anything. */
  private async write(): Promise<unknown> {
    const { settings } = this;
    const output = this.output!;
    this.progress = new ProgressReporter({
      mode: settings.progressMode,
      intervalSeconds: settings.progressIntervalSeconds,
      resumedInputs: output.inputsDone,
      resumedBytes: this.source.consumed.bytes,
      ...(this.source.size === undefined ? {} : { totalBytes: this.source.size }),
    });
    if (settings.rpm !== undefined || settings.tpm !== undefined) {
      this.rateLimit = createRateLimiter({
        ...(settings.rpm === undefined ? {} : { requestsPerMinute: settings.rpm }),
        ...(settings.tpm === undefined ? {} : { tokensPerMinute: settings.tpm }),
      });
    }
    const iterator = embedStream({
      ...engineSettings(
        settings.choice,
        // Outermost: it sees each call as the engine planned it, to place a failure in the input.
        wrapEmbeddingModel(this.model!.model, this.failedCalls.middleware),
        settings.outputType,
      ),
      inputs: this.texts(),
      signal: AbortSignal.any([this.interrupts.signal, this.engineStop.signal]),
      ...(settings.concurrency === undefined ? {} : { concurrency: settings.concurrency }),
      ...(settings.batchSize === undefined ? {} : { maxInputsPerCall: settings.batchSize }),
      ...(this.rateLimit === undefined ? {} : { rateLimit: this.rateLimit }),
      onRetry: (event) => this.progress!.retry(event),
      onWait: (event) => this.progress!.wait(event),
      onProgress: (event) => this.progress!.tokensReported(event.inputTokens),
    })[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<StreamedEmbedding>> | undefined;
    /** Output formatted since the event loop last turned. */
    let sinceTurn = 0;
    try {
      for (;;) {
        next = iterator.next();
        let step: IteratorResult<StreamedEmbedding> | typeof IDLE;
        if (output.buffered > 0) {
          step = await Promise.race([next, nextTurn()]);
          if (step === IDLE) {
            // Nothing more is ready: the batches that finished are written before waiting for more.
            await this.checkpoint();
            sinceTurn = 0;
            step = await next;
          }
        } else {
          step = await next;
        }
        if (step.done) break;
        const before = output.bufferedBytes;
        this.add(step.value);
        sinceTurn += output.bufferedBytes - before;
        if (output.buffered >= MAX_BUFFERED_RECORDS || output.bufferedBytes >= MAX_BUFFERED_BYTES) {
          await this.checkpoint();
          sinceTurn = 0;
        } else if (sinceTurn >= TURN_BYTES) {
          await nextTurn();
          sinceTurn = 0;
        }
      }
      if (this.inputFailure === undefined)
        this.progress.done(this.written, this.source.size ?? this.source.consumed.bytes);
      return undefined;
    } catch (error) {
      // Writing failed while a result may still be on its way: stop the engine, and let that result
      // (or its abort) land nowhere.
      next?.catch(() => {});
      this.engineStop.abort();
      return error;
    } finally {
      this.progress.stop();
    }
  }

  /** Makes the records written so far durable and records them, with the input's fingerprint, in the checkpoint. */
  private async checkpoint(): Promise<void> {
    await this.output!.flush(this.fingerprint());
  }

  /**
   * Completes the job, or reports what stopped it: what is saved, and how to continue. Returns the
   * exit code.
   */
  private async finish(stopped: unknown): Promise<number> {
    const { out } = this.settings;
    const output = this.output!;
    let failure = stopped;
    this.warnRepeatedId();
    if (failure === undefined && this.inputFailure === undefined) {
      try {
        await output.finish(this.fingerprint());
      } catch (error) {
        failure = error;
      }
      if (failure === undefined) {
        if (this.quiet) return EXIT.ok;
        if (this.resumed?.complete && this.written === 0) {
          process.stderr.write(
            `embedkit: ${out} is already complete (${inputCount(output.inputsDone)}); nothing to do.\n`,
          );
          return EXIT.ok;
        }
        const s = this.progress!.snapshot();
        process.stderr.write(
          `embedkit: done: ${inputCount(output.inputsDone)} in ${out} (${this.written} this run) in ${s.elapsedSeconds.toFixed(1)}s, ${s.retries} retries, ${s.rateLimitWaits} rate-limit waits${s.throttleWaits > 0 ? `, ${s.throttleWaits} --rpm/--tpm waits (${s.throttleWaitSeconds.toFixed(1)}s)` : ''}.\n`,
        );
        return EXIT.ok;
      }
    } else if (!(failure instanceof OutputWriteError || failure instanceof OutputLockedError)) {
      // What finished before the failure is kept (writing itself failing is the exception).
      try {
        await this.checkpoint();
      } catch (error) {
        failure = error;
      }
    }
    return await this.report(failure);
  }

  /** Names the first id given to two records, if any (once). */
  private warnRepeatedId(): void {
    const repeated = this.repeatedId;
    if (repeated !== undefined) {
      this.repeatedId = undefined;
      process.stderr.write(
        `warning: ${this.source.name}:${repeated.line}: the id ${describeId(repeated.id)} is already the id of line ${repeated.firstLine}; ${this.settings.out} holds records that share an id (only the first repeated id is named).\n`,
      );
    } else if (this.idsUnchecked && !this.quiet) {
      this.idsUnchecked = false;
      process.stderr.write(
        `embedkit: the ids of the first ${MAX_CHECKED_IDS.toLocaleString('en-US')} inputs were checked for repeats; later ones were not.\n`,
      );
    }
  }

  /** Says why the run stopped and what is saved; returns the exit code. */
  private async report(failure: unknown): Promise<number> {
    const { out } = this.settings;
    const done = this.output?.inputsDone ?? this.resumed?.inputsDone ?? 0;
    const saved = savedPart(out, done);
    if (failure instanceof OutputLockedError) {
      // Another run may own the output now: continuing is for whoever holds the lock.
      process.stderr.write(`embedkit: error: ${failure.message}\n`);
      return failure.exitCode;
    }
    if (failure !== undefined && (this.interrupts.signal.aborted || isAbortError(failure))) {
      process.stderr.write(`embedkit: interrupted. ${saved}; run the same command again to continue.\n`);
      return this.interrupts.exitCode;
    }
    if (failure instanceof OutputWriteError) {
      process.stderr.write(
        `embedkit: error: ${failure.message}\n${saved}; ${failure.outOfSpace ? 'free some space, then run' : 'run'} the same command again to continue.\n`,
      );
      return failure.exitCode;
    }
    if (failure instanceof InputChangedError) {
      // The next run checks the part saved against the input as it is then, and refuses to resume when
      // that part changed, asking for --restart: said here first, so the two messages agree.
      const name = this.source.name;
      process.stderr.write(
        `embedkit: error: ${failure.message}\n${
          done === 0
            ? `${saved}; once nothing writes to ${name}, run the same command again.`
            : `${saved}. Once nothing writes to ${name}, run the same command again to continue: it checks the part saved against ${name} as it is then, and if that part changed too, it refuses to resume and asks for --restart, which embeds ${name} again from the start.`
        }\n`,
      );
      return failure.exitCode;
    }
    if (failure !== undefined) {
      const name = this.source.name;
      // A replay's refusal reads as an API error 418; say what happened instead, as the other commands do.
      const replayed = replayMismatchReport();
      const place = await this.place(failure, replayed !== undefined);
      if (place.kind === 'input') {
        // The input itself is refused: running again changes nothing until it is fixed.
        process.stderr.write(
          `embedkit: error: ${name}:${place.record.line}: the API rejected this input: ${describeError(place.error)}\n${saved}; fix or remove that input, then run the same command again to continue.\n`,
        );
        return EXIT.failure;
      }
      if (place.kind === 'call') {
        process.stderr.write(
          `embedkit: error: ${name}:${place.records[0]!.line}: the API rejected the call holding the inputs on ${describeLines(place.records)} (${place.records.length} inputs), but not its halves when they were sent again, so no one input is at fault: ${describeError(failure)}\n${saved}; run the same command again to continue.\n`,
        );
        return EXIT.failure;
      }
      // A failure tied to no call (a vector of another length, the lock file replaced) has no lines.
      const where =
        place.records.length === 0
          ? ''
          : `at the ${place.records.length === 1 ? 'input' : 'call holding the inputs'} on ${describeLines(place.records)}: `;
      const reason = replayed ?? describeError(failure);
      process.stderr.write(
        `embedkit: error: ${where}${reason}\n${saved}; run the same command again to continue.\n`,
      );
      return failure instanceof CliError ? failure.exitCode : EXIT.failure;
    }
    process.stderr.write(
      `embedkit: error: ${this.inputFailure!.message}\n${saved}; fix that line and run the same command again to continue.\n`,
    );
    return EXIT.failure;
  }

  /**
   * Where in the input `failure` happened: the input the API named; the one input of a call that failed;
   * for a call of several inputs the API rejected without naming one, the input found by sending them
   * again in halves (or, when none is rejected alone, the lines of the narrowest call rejected);
   * otherwise the failing call's lines, when known.
   */
  private async place(failure: unknown, replayed: boolean): Promise<FailurePlace> {
    const inputs = this.failedCalls.inputsOf(failure);
    const records = (inputs === undefined ? undefined : this.pending.findRun(inputs)) ?? [];
    if (replayed || !InvalidRequestError.isInstance(failure)) return { kind: 'other', records };
    if (failure.inputIndex !== undefined) {
      const named = this.pending.peek(failure.inputIndex - this.written);
      if (named !== undefined) return { kind: 'input', record: named, error: failure };
    }
    if (records.length === 1) return { kind: 'input', record: records[0]!, error: failure };
    if (records.length === 0 || !isRejection(failure)) return { kind: 'other', records };
    if (!this.quiet)
      process.stderr.write(
        `embedkit: the API rejected the call holding the inputs on ${describeLines(records)} without naming the input at fault; sending them again in halves to find it (at most ${maxSearchCalls(records.length)} calls).\n`,
      );
    const { settings } = this;
    const found = await findRejectedInput(
      records.map((record) => record.text),
      async (texts) => {
        await embedMany({
          ...engineSettings(settings.choice, this.model!.model, settings.outputType),
          inputs: texts,
          maxInputsPerCall: texts.length,
          concurrency: 1,
          ...(this.rateLimit === undefined ? {} : { rateLimit: this.rateLimit }),
          signal: this.interrupts.signal,
        });
      },
    );
    if (found === undefined) {
      // A call of the search failed for another reason, or a signal stopped it: its halves were not all
      // sent, so whether one input is at fault is not known. A signal means the run is interrupted.
      this.interrupts.signal.throwIfAborted();
      return { kind: 'other', records };
    }
    return 'index' in found
      ? { kind: 'input', record: records[found.index]!, error: found.error }
      : { kind: 'call', records: records.slice(found.start, found.end) };
  }

  /** The next input record, the peeked one first. */
  private async nextRecord(): Promise<InputRecord | undefined> {
    if (this.peeked !== undefined) {
      const record = this.peeked;
      this.peeked = undefined;
      return record;
    }
    return await this.readRecord();
  }

  /** Reads the next record of the input; its id is checked against those read before. */
  private async readRecord(): Promise<InputRecord | undefined> {
    // A signal stops a read that waits on a stalled pipe: the run has nothing to finish there.
    const next = await this.interrupts.untilStopped(this.source.records.next());
    if (next.done) {
      // Repeats whose lookup in the file was put off are looked up now, before the table is let go.
      if (this.ids !== undefined) this.repeatedId = await this.ids.end();
      this.ids = undefined;
      return undefined;
    }
    if (this.ids !== undefined) {
      this.repeatedId = await this.ids.add(next.value);
      // One repeat is enough to warn about, and past the limit nothing more is kept: the table is let go.
      if (this.repeatedId !== undefined) this.ids = undefined;
      else if (this.ids.unchecked) {
        this.ids = undefined;
        this.idsUnchecked = true;
      }
    }
    return next.value;
  }

  /** The texts handed to the engine; a bad input line ends them (everything before it is still written). */
  private async *texts(): AsyncGenerator<string> {
    try {
      for (;;) {
        const record = await this.nextRecord();
        if (record === undefined) return;
        this.pending.push(record);
        yield record.text;
      }
    } catch (error) {
      if (error instanceof InputError) {
        this.inputFailure = error;
        return;
      }
      throw error;
    }
  }

  /** Buffers one result in the output, and moves the input's fingerprint and the progress past its input. */
  private add(result: StreamedEmbedding): void {
    const record = this.pending.peek();
    if (record === undefined || result.index !== this.written) {
      throw new Error(`internal: result ${result.index} arrived while ${this.written} was expected.`);
    }
    this.output!.add(record, result.embedding);
    this.pending.shift();
    this.source.consumed.advance(record.end);
    this.written++;
    this.progress!.done(this.written, record.end);
  }

  /** The fingerprint of the input up to the last record written. */
  private fingerprint(): InputFingerprint {
    const { consumed, size, mtimeMs } = this.source;
    return {
      bytes: consumed.bytes,
      sha256: consumed.digest(),
      ...(size === undefined ? {} : { size }),
      ...(mtimeMs === undefined ? {} : { mtimeMs }),
    };
  }
}

/**
 * What a stopped run leaves, for its message: the inputs saved in `out`; or, before the first row of a
 * `.npy` whose width is not known (made with that row), only the checkpoint, since `out` was not made.
 */
function savedPart(out: string, done: number): string {
  if (done > 0 || existsSync(out))
    return `${inputCount(done)} ${done === 1 ? 'is' : 'are'} done and saved in ${out}`;
  const checkpoint = checkpointPath(out);
  return existsSync(checkpoint)
    ? `no input is done yet, and ${out} is made with the first one: only its checkpoint ${checkpoint} is saved`
    : 'nothing is saved';
}

/** "line 7", or "lines 1001–1500" for the inputs of one call (at least one). */
function describeLines(records: readonly InputRecord[]): string {
  const first = records[0]!.line;
  const last = records[records.length - 1]!.line;
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
}
