import {
  createRateLimiter,
  embedStream,
  InvalidRequestError,
  isAbortError,
  type OutputType,
  type StreamedEmbedding,
} from '@embedkit/core';
import { engineSettings, type ModelChoice, openChoice } from './common.js';
import { CliError, describeError, EXIT, InputError } from './errors.js';
import { OutputWriteError } from './file-system.js';
import { type InputFingerprint, verifyConsumedInput } from './input-fingerprint.js';
import { type InputFormat, type InputRecord, type InputSource, openInput } from './inputs.js';
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
import { type OpenedModel, replayMismatchReport } from './providers.js';
import { refuseOutputOverInput } from './same-file.js';

/** Everything `embedkit bulk` was asked to do, read from its command line. */
export interface BulkSettings {
  /** A path, or `-` for stdin. */
  inputPath: string;
  /** The input path as the checkpoint records it (absolute, or `-`). */
  inputKey: string;
  out: string;
  outputKind: 'jsonl' | 'npy';
  format?: InputFormat;
  field: string;
  idField: string;
  includeText: boolean;
  /** What to do with an earlier run's output. */
  mode: StartMode;
  maxLineBytes: number;
  choice: ModelChoice;
  outputType: OutputType;
  batchSize?: number;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  progressMode: ProgressMode;
  progressIntervalSeconds: number;
}

/** Records buffered before a flush is forced even while results keep arriving. */
const MAX_BUFFERED_RECORDS = 8192;
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

const IDLE = Symbol('idle');

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
  /** Aborted by Ctrl-C. */
  private readonly controller = new AbortController();
  /** Aborted when writing fails: the calls in flight could no longer be written. */
  private readonly engineStop = new AbortController();
  private interrupts = 0;
  private source!: InputSource;
  /** A record read before it was needed: the first one, read to refuse an empty input early. */
  private peeked: InputRecord | undefined;
  private lock: OutputLock | undefined;
  /** The earlier run's checkpoint this run continues, if any. */
  private resumed: Checkpoint | undefined;
  private model: OpenedModel | undefined;
  private output: BulkOutput | undefined;
  private progress: ProgressReporter | undefined;
  private readonly pending = new PendingRecords();
  /** Inputs written to the output in this run. */
  private written = 0;
  /** The first bad input line: everything before it is still embedded and saved. */
  private inputFailure: InputError | undefined;

  constructor(settings: BulkSettings) {
    this.settings = settings;
    this.quiet = settings.progressMode === 'none';
  }

  /** Runs the job and returns the exit code. */
  async run(): Promise<number> {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    try {
      if (!(await this.open())) return EXIT.ok;
      await this.resume();
      return await this.finish(await this.write());
    } catch (error) {
      if (this.controller.signal.aborted && (isAbortError(error) || error === this.controller.signal.reason))
        return this.report(error);
      throw error;
    } finally {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
      await this.output?.close();
      await this.model?.close();
      await this.lock?.release();
    }
  }

  /** Ctrl-C: the first stops after saving what is finished; a second exits at once. */
  private readonly onSignal = () => {
    this.interrupts++;
    if (this.interrupts > 1) {
      this.lock?.releaseSync();
      process.exit(EXIT.interrupted);
    }
    this.controller.abort();
  };

  /**
   * Opens the input (an empty one is refused before any output exists), locks the output, reads the
   * earlier run's checkpoint and opens the model. False when the job is already complete.
   */
  private async open(): Promise<boolean> {
    const { settings } = this;
    const { out } = settings;
    refuseOutputOverInput('bulk', settings.inputPath, out, [
      ...outputFiles(out, settings.outputKind),
      checkpointPath(out),
      lockPath(out),
    ]);
    this.source = await openInput({
      path: settings.inputPath,
      ...(settings.format === undefined ? {} : { format: settings.format }),
      field: settings.field,
      idField: settings.idField,
      maxLineBytes: settings.maxLineBytes,
      maxLineBytesOption: '--max-line-bytes',
    });
    this.job = {
      provider: settings.choice.provider,
      model: settings.choice.modelId,
      dimensions: settings.choice.dimensions ?? null,
      inputType: settings.choice.inputType ?? null,
      outputType: settings.outputType,
      input: settings.inputKey,
      format: this.source.format,
      field: settings.field,
      idField: settings.idField,
      includeText: settings.includeText,
      output: settings.outputKind,
    };
    const first = await this.source.records.next();
    if (first.done) throw new CliError(`${this.source.name}: no inputs (every line is blank).`);
    this.peeked = first.value;
    this.lock = await OutputLock.acquire(out, (message) => process.stderr.write(`embedkit: ${message}\n`));
    this.resumed = await readCheckpoint(out, this.job, settings.mode);
    const input = this.resumed?.input;
    if (
      this.resumed?.complete &&
      this.source.size !== undefined &&
      this.source.size === input?.size &&
      this.source.mtimeMs === input.mtimeMs
    ) {
      if (!this.quiet)
        process.stderr.write(
          `embedkit: ${out} is already complete (${inputCount(this.resumed.inputsDone)}); nothing to do.\n`,
        );
      return false;
    }
    this.model = await openChoice(
      settings.choice,
      settings.batchSize === undefined ? {} : { batchSize: settings.batchSize },
    );
    return true;
  }

  /**
   * Reads the input's consumed part again and refuses a changed one (before anything is written),
   * then opens the output: at the checkpoint, or new.
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
        signal: this.controller.signal,
      });
    }
    this.output = await BulkOutput.open({
      out,
      job: this.job,
      ...(checkpoint === undefined ? {} : { resume: checkpoint }),
      guard: () => this.lock!.verify(),
    });
    const skip = checkpoint?.inputsDone ?? 0;
    if (skip > 0 && !this.quiet)
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
    const iterator = embedStream({
      ...engineSettings(settings.choice, this.model!.model, settings.outputType),
      inputs: this.texts(),
      signal: AbortSignal.any([this.controller.signal, this.engineStop.signal]),
      ...(settings.concurrency === undefined ? {} : { concurrency: settings.concurrency }),
      ...(settings.batchSize === undefined ? {} : { maxInputsPerCall: settings.batchSize }),
      ...(settings.rpm === undefined && settings.tpm === undefined
        ? {}
        : {
            rateLimit: createRateLimiter({
              ...(settings.rpm === undefined ? {} : { requestsPerMinute: settings.rpm }),
              ...(settings.tpm === undefined ? {} : { tokensPerMinute: settings.tpm }),
            }),
          }),
      onRetry: (event) => this.progress!.retry(event),
      onWait: (event) => this.progress!.wait(event),
      onProgress: (event) => this.progress!.tokensReported(event.inputTokens),
    })[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<StreamedEmbedding>> | undefined;
    try {
      for (;;) {
        next = iterator.next();
        let step: IteratorResult<StreamedEmbedding> | typeof IDLE;
        if (output.buffered > 0) {
          step = await Promise.race([next, nextTurn()]);
          if (step === IDLE) {
            // Nothing more is ready: the batches that finished are written before waiting for more.
            await this.checkpoint();
            step = await next;
          }
        } else {
          step = await next;
        }
        if (step.done) break;
        this.add(step.value);
        if (output.buffered >= MAX_BUFFERED_RECORDS || output.bufferedBytes >= MAX_BUFFERED_BYTES)
          await this.checkpoint();
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
    return this.report(failure);
  }

  /** Says why the run stopped and what is saved; returns the exit code. */
  private report(failure: unknown): number {
    const { out } = this.settings;
    const done = this.output?.inputsDone ?? this.resumed?.inputsDone ?? 0;
    const saved = `${inputCount(done)} ${done === 1 ? 'is' : 'are'} done and saved in ${out}`;
    if (failure instanceof OutputLockedError) {
      // Another run may own the output now: continuing is for whoever holds the lock.
      process.stderr.write(`embedkit: error: ${failure.message}\n`);
      return failure.exitCode;
    }
    if (failure !== undefined && (this.controller.signal.aborted || isAbortError(failure))) {
      process.stderr.write(`embedkit: interrupted. ${saved}; run the same command again to continue.\n`);
      return EXIT.interrupted;
    }
    if (failure instanceof OutputWriteError) {
      process.stderr.write(
        `embedkit: error: ${failure.message}\n${saved}; ${failure.outOfSpace ? 'free some space, then run' : 'run'} the same command again to continue.\n`,
      );
      return failure.exitCode;
    }
    if (failure !== undefined) {
      const next = this.pending.peek();
      let where = next === undefined ? '' : `at the input on line ${next.line}: `;
      if (InvalidRequestError.isInstance(failure) && failure.inputIndex !== undefined) {
        const named = this.pending.peek(failure.inputIndex - this.written);
        if (named !== undefined) where = `the input on line ${named.line} failed: `;
      }
      // A replay's refusal reads as an API error 418; say what happened instead, as the other commands do.
      const reason = replayMismatchReport() ?? describeError(failure);
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

  /** The next input record, the peeked one first. */
  private async nextRecord(): Promise<InputRecord | undefined> {
    if (this.peeked !== undefined) {
      const record = this.peeked;
      this.peeked = undefined;
      return record;
    }
    const next = await this.source.records.next();
    return next.done ? undefined : next.value;
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
