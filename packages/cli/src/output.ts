import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Embedding, OutputType } from '@embedkit/core';
import { vectorLength } from '@embedkit/core/provider';
import { shownBaseURL } from './common.js';
import { CliError } from './errors.js';
import { fsyncDirectory, onOutputFile, writeNewFile } from './file-system.js';
import { EMPTY_FINGERPRINT, type InputFingerprint } from './input-fingerprint.js';
import type { InputRecord } from './inputs.js';
import { NPY_HEADER_BYTES, npyDescr, npyHeader, rowBytes } from './npy.js';

/** What makes two runs the same job: a checkpoint is only resumed by the job that wrote it. */
export interface JobKey {
  provider: string;
  model: string;
  /**
   * The server the vectors come from (`serverKey` of the model's `customBaseURL()`: `--base-url`,
   * `EMBEDKIT_BASE_URL` or the provider's variable, without credentials); null for the provider's own
   * host. Two servers may serve one model name with different vectors: a resume against another is refused.
   */
  server: string | null;
  dimensions: number | null;
  /** The input type sent: null when none was given, or when the model lacks the one given. */
  inputType: string | null;
  outputType: OutputType;
  input: string;
  format: string;
  field: string;
  idField: string;
  includeText: boolean;
  output: 'jsonl' | 'npy';
}

/** The checkpoint file: written atomically (unique temp file, fsync, rename) after the data it describes is fsynced. */
export interface Checkpoint {
  version: 2;
  job: JobKey;
  /** Inputs whose records are in the output, from the start of the input. */
  inputsDone: number;
  /** Line of the last input done. */
  lastLine: number;
  /** The part of the input those inputs came from: a resumed run checks it is unchanged. */
  input: InputFingerprint;
  /** Valid length of each output file; anything past it is a partial tail from a crash. */
  bytes: Record<string, number>;
  /** Elements per row, known once the first row is written (every row must have as many). */
  rowLength?: number;
  complete: boolean;
  /**
   * The job's `inputType` is the one sent: every checkpoint this version starts says so. Absent from a
   * checkpoint of an earlier version, which recorded the one asked for (see {@link recordedJob}).
   */
  inputTypeSent?: true;
}

const CHECKPOINT_VERSION = 2;

export function checkpointPath(out: string): string {
  return `${out}.checkpoint`;
}

export function metaPath(out: string): string {
  return out.replace(/\.npy$/i, '') + '.meta.jsonl';
}

/** Every file a bulk job writes for `out`, the output itself first. */
export function outputFiles(out: string, kind: 'jsonl' | 'npy'): string[] {
  return kind === 'npy' ? [out, metaPath(out)] : [out];
}

/** Formats a float32 value with 9 significant digits: always enough to read back the same float32. */
function formatNumber(value: number, integer: boolean): string {
  // String(-0) is "0", which reads back as +0; "-0.0" keeps the sign (and is a float to Python's json).
  if (Object.is(value, -0)) return '-0.0';
  if (integer || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(9)));
}

function vectorJson(embedding: Embedding): string {
  const integer = !(embedding instanceof Float32Array);
  let out = '[';
  for (let index = 0; index < embedding.length; index++) {
    if (index > 0) out += ',';
    out += formatNumber(embedding[index]!, integer);
  }
  return `${out}]`;
}

function describeRecord(record: InputRecord, includeText: boolean): string {
  let out = `{"id":${JSON.stringify(record.id ?? record.line)},"line":${record.line}`;
  if (record.metadata !== undefined && Object.keys(record.metadata).length > 0)
    out += `,"metadata":${JSON.stringify(record.metadata)}`;
  if (includeText) out += `,"text":${JSON.stringify(record.text)}`;
  return out;
}

async function writeAll(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    written += bytesWritten;
  }
}

/** How a run treats what an earlier run left at `--out`. */
export type StartMode =
  /** Continue a checkpoint of the same job; refuse anything else. */
  | 'resume'
  /** Discard this command's own output (one with a checkpoint) and start again. */
  | 'restart'
  /** Replace whatever is at `--out`, even files embedkit did not write. */
  | 'overwrite';

const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * What is wrong with the fields of a checkpoint of this job and version, or undefined. A checkpoint
 * edited by hand or cut short read as one with nothing done: a field it lacks failed deep in the resume
 * with "Cannot read properties of undefined".
 */
function checkpointDamage(checkpoint: Checkpoint): string | undefined {
  const { inputsDone, lastLine, input, bytes, rowLength, complete } = checkpoint as Partial<Checkpoint>;
  // Any other number is a format of its own (see otherFormat).
  if (typeof checkpoint.version !== 'number') return 'version is not a checkpoint version';
  if (!isCount(inputsDone)) return 'inputsDone is not a count';
  if (!isCount(lastLine)) return 'lastLine is not a line number';
  if (
    typeof input !== 'object' ||
    input === null ||
    !isCount(input.bytes) ||
    typeof input.sha256 !== 'string'
  )
    return 'input is not the fingerprint of the input read';
  if (
    typeof bytes !== 'object' ||
    bytes === null ||
    Array.isArray(bytes) ||
    !Object.values(bytes).every(isCount)
  )
    return 'bytes is not the length of each output file';
  if (rowLength !== undefined && !isCount(rowLength)) return 'rowLength is not a count';
  if (typeof complete !== 'boolean') return 'complete is not true or false';
  return undefined;
}

/**
 * The job a checkpoint records, as this version keys it. The key holds the input type sent, and is taken
 * as it is: a type the model has since lost (a provider package that no longer sends it) was sent all
 * the same, and a resume without it would mix vectors made with it and without. An earlier version
 * recorded the one asked for, even one the model lacks (`inputTypes` are the model's), whose inputs were
 * sent without one: read as none, such a checkpoint resumes as the job it is.
 */
function recordedJob(checkpoint: Checkpoint, inputTypes: readonly string[]): JobKey | undefined {
  const { job } = checkpoint;
  if (typeof job !== 'object' || job === null || checkpoint.inputTypeSent === true) return job;
  const { inputType } = job;
  return typeof inputType === 'string' && !inputTypes.includes(inputType) ? { ...job, inputType: null } : job;
}

/**
 * Why a checkpoint of another format than this version's cannot be resumed, or undefined. Version 1
 * recorded no fingerprint of the input read, and version 2 no server at first: either could continue
 * another input's or another server's job, so it is refused as what it is rather than compared field
 * by field, as the output of a different job.
 */
function otherFormat(checkpoint: Checkpoint): string | undefined {
  const version: unknown = checkpoint.version;
  if (typeof version === 'number' && version !== CHECKPOINT_VERSION) {
    const written = version < CHECKPOINT_VERSION ? 'an earlier' : 'a later';
    return `was written by ${written} embedkit (checkpoint version ${version}; this one resumes version ${CHECKPOINT_VERSION})`;
  }
  const { job } = checkpoint;
  if (version === CHECKPOINT_VERSION && typeof job === 'object' && job !== null && !('server' in job))
    return `was written by an earlier embedkit (a version ${CHECKPOINT_VERSION} checkpoint that records no server)`;
  return undefined;
}

/**
 * Reads what an earlier run left at `out`, writing nothing: the checkpoint to resume, or undefined to
 * start afresh (replacing files only where `mode` allows it). Refuses another job's output, a file
 * with no checkpoint, and output files cut shorter than their checkpoint. `inputTypes` are the model's
 * (see {@link recordedJob}).
 */
export async function readCheckpoint(
  out: string,
  job: JobKey,
  mode: StartMode,
  inputTypes: readonly string[],
): Promise<Checkpoint | undefined> {
  const checkpointFile = checkpointPath(out);
  const hasCheckpoint = existsSync(checkpointFile);
  if (mode === 'overwrite' || (mode === 'restart' && hasCheckpoint)) return undefined;
  if (!hasCheckpoint) {
    const present = outputFiles(out, job.output).filter((file) => existsSync(file));
    if (present.length === 0) return undefined;
    const [verbs, object] = present.length === 1 ? ['exists and has', 'it'] : ['exist and have', 'them'];
    throw new CliError(
      `${present.join(' and ')} already ${verbs} no checkpoint, so embedkit bulk did not write ${object}; pass --overwrite to replace ${object}.`,
    );
  }
  let existing: Checkpoint;
  try {
    existing = JSON.parse(await readFile(checkpointFile, 'utf8')) as Checkpoint;
  } catch (error) {
    throw new CliError(
      `${checkpointFile} is unreadable (${(error as Error).message}); pass --restart to start again.`,
    );
  }
  if (typeof existing !== 'object' || existing === null || Array.isArray(existing)) {
    throw new CliError(
      `${checkpointFile} is not a checkpoint (not a JSON object); pass --restart to start again.`,
    );
  }
  const format = otherFormat(existing);
  if (format !== undefined) {
    throw new CliError(
      `${checkpointFile} ${format}, which this embedkit cannot resume. Pass --restart to embed the input again from its first line, or finish the job with the embedkit that started it.`,
    );
  }
  const recordedKey = recordedJob(existing, inputTypes);
  const differences = Object.keys(job).filter(
    (key) => JSON.stringify(recordedKey?.[key as keyof JobKey]) !== JSON.stringify(job[key as keyof JobKey]),
  );
  if (differences.length > 0) {
    const shown = (key: string, value: unknown) => {
      if (value === undefined) return '(not recorded)';
      // A server an earlier version recorded may hold a query: its values are not shown.
      return JSON.stringify(key === 'server' && typeof value === 'string' ? shownBaseURL(value) : value);
    };
    const detail = differences
      .map(
        (key) =>
          `${key} ${shown(key, recordedKey?.[key as keyof JobKey])} → ${shown(key, job[key as keyof JobKey])}`,
      )
      .join(', ');
    throw new CliError(
      `${out} is the output of a different job (${detail}). Pass --restart to replace it, or choose another --out.`,
    );
  }
  const damage = checkpointDamage(existing);
  if (damage !== undefined) {
    throw new CliError(
      `${checkpointFile} is damaged (${damage}); it was changed outside embedkit. Pass --restart to start again.`,
    );
  }
  // Lengths are recorded under the files' names: an output renamed with its checkpoint was cut to
  // nothing here, then continued as if the records done were still in it.
  const recorded = Object.keys(existing.bytes);
  for (const file of outputFiles(out, job.output)) {
    if (existing.bytes[basename(file)] === undefined) {
      throw new CliError(
        `${checkpointFile} records the length of ${recorded.length === 0 ? 'no file' : recorded.join(' and ')}, not of ${basename(file)}: the output was renamed since. Give its files back their names, or pass --restart to start again.`,
      );
    }
  }
  if (existing.inputsDone > 0) {
    // A file shorter than its checkpoint was changed outside embedkit: resuming would leave a hole.
    for (const file of outputFiles(out, job.output)) {
      const bytes = existing.bytes[basename(file)]!;
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size < bytes) {
        throw new CliError(
          `${file} holds ${size} bytes but its checkpoint records ${bytes}; it was changed outside embedkit. Pass --restart to start again.`,
        );
      }
    }
  }
  return existing;
}

export interface OpenOutputOptions {
  out: string;
  job: JobKey;
  /** The checkpoint to continue (from {@link readCheckpoint}); without one the output starts empty. */
  resume?: Checkpoint;
  /** Called before each flush writes anything, and before the job is marked complete: throws when this run may no longer write `out`. */
  guard?: () => Promise<void>;
  /** The vector length the model gives without `--dimensions` (its `defaultDimensions`), when it says. */
  defaultDimensions?: number;
}

/**
 * The resumable output of `bulk`: records are buffered, then `flush` appends them, fsyncs, and writes
 * the checkpoint. Resuming, every file is first cut back to the length its checkpoint recorded
 * (dropping whatever a crash left half-written) and writing continues there. Every file-system error
 * is an `OutputWriteError` naming the file.
 */
export class BulkOutput {
  readonly out: string;
  readonly checkpointFile: string;
  private checkpoint: Checkpoint;
  private readonly guard: () => Promise<void>;
  private readonly defaultDimensions: number | undefined;
  /** Undefined until the .npy is written: a model of unknown length waits for its first row. */
  private data: FileHandle | undefined;
  private meta: FileHandle | undefined;
  private dataBytes: number;
  private metaBytes: number;
  private pending: Buffer[] = [];
  private pendingMeta: string[] = [];
  private pendingBytes = 0;
  private pendingCount = 0;
  private pendingLastLine = 0;

  private constructor(
    out: string,
    checkpoint: Checkpoint,
    guard: () => Promise<void>,
    defaultDimensions: number | undefined,
  ) {
    this.out = out;
    this.checkpointFile = checkpointPath(out);
    this.checkpoint = checkpoint;
    this.guard = guard;
    this.defaultDimensions = defaultDimensions;
    this.dataBytes = checkpoint.bytes[basename(out)] ?? 0;
    this.metaBytes = checkpoint.bytes[basename(metaPath(out))] ?? 0;
  }

  /** Inputs in the output and recorded in its checkpoint: what a later run would keep. */
  get inputsDone(): number {
    return this.checkpoint.inputsDone;
  }
  /** Records buffered and not yet flushed. */
  get buffered(): number {
    return this.pendingCount;
  }
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Opens the output for writing: resumed at its checkpoint, or new and empty. */
  static async open(options: OpenOutputOptions): Promise<BulkOutput> {
    const { out, job, resume } = options;
    const checkpoint: Checkpoint =
      resume === undefined
        ? {
            version: CHECKPOINT_VERSION,
            job,
            inputsDone: 0,
            lastLine: 0,
            input: EMPTY_FINGERPRINT,
            bytes:
              job.output === 'npy'
                ? { [basename(out)]: NPY_HEADER_BYTES, [basename(metaPath(out))]: 0 }
                : { [basename(out)]: 0 },
            complete: false,
            inputTypeSent: true,
          }
        : { ...resume, complete: false };
    const output = new BulkOutput(
      out,
      checkpoint,
      options.guard ?? (async () => {}),
      options.defaultDimensions,
    );
    try {
      await output.removeStaleTemporaries();
      await (resume === undefined ? output.create() : output.reopen());
    } catch (error) {
      // Nothing else holds this output: the files it opened before the failure are closed here, not
      // left to garbage collection (which has Node print a warning into the command's message).
      await output.close();
      throw error;
    }
    return output;
  }

  /** Creates the output's files, empty. */
  private async create(): Promise<void> {
    // The checkpoint comes first: a crash before the first flush then leaves output that a re-run
    // recognises as this job's and cuts back to nothing.
    await this.writeCheckpoint();
    // A .npy whose rows' length is not known yet (a model embedkit has no length for, and no
    // --dimensions) is written with its first row: a header for zero rows would state a width of 0.
    if (this.checkpoint.job.output !== 'npy' || this.npyColumns() !== undefined) await this.openNew();
  }

  /** Creates the output's files, empty; a .npy gets a header for zero rows, which every flush rewrites. */
  private async openNew(): Promise<void> {
    const { out } = this;
    this.data = await onOutputFile(out, () => open(out, 'w'));
    if (this.checkpoint.job.output === 'npy') {
      await this.writeNpyHeader();
      this.meta = await onOutputFile(metaPath(out), () => open(metaPath(out), 'w'));
    }
  }

  /** Reopens the output's files at the checkpoint, cutting off whatever a crash left after it. */
  private async reopen(): Promise<void> {
    const { out } = this;
    // Nothing saved and no width known: the files wait for the first row, as in a new run (see create).
    // An earlier version made them before it, with a header of shape (0, 0) that stayed until a row was
    // written: they hold nothing this job keeps, so they go, and the first row makes them again.
    if (
      this.checkpoint.job.output === 'npy' &&
      this.checkpoint.inputsDone === 0 &&
      this.npyColumns() === undefined
    ) {
      for (const file of outputFiles(out, 'npy'))
        if (existsSync(file)) await onOutputFile(file, () => unlink(file));
      return;
    }
    const data = await onOutputFile(out, () => open(out, existsSync(out) ? 'r+' : 'w+'));
    this.data = data;
    if (this.checkpoint.job.output === 'npy') {
      // The header first, then the cut: at every moment the header counts only rows the file holds,
      // so the .npy stays loadable even if this run dies before its first flush.
      await this.writeNpyHeader();
      await onOutputFile(out, () => data.sync());
      const meta = metaPath(out);
      this.meta = await onOutputFile(meta, () => open(meta, existsSync(meta) ? 'r+' : 'w+'));
      await onOutputFile(meta, () => this.meta!.truncate(this.metaBytes));
    }
    await onOutputFile(out, () => data.truncate(this.dataBytes));
  }

  /**
   * Buffers one finished input. Every row has the length of the first (for `.npy` the array needs it;
   * for `.jsonl` a reader takes the vectors as one space): a vector of another length is an error.
   */
  add(record: InputRecord, embedding: Embedding): void {
    const job = this.checkpoint.job;
    this.checkpoint.rowLength ??= embedding.length;
    const rowLength = this.checkpoint.rowLength;
    if (embedding.length !== rowLength) {
      throw new CliError(
        `the vector of line ${record.line} has ${embedding.length} values, but the rows before it in ${this.out} have ${rowLength}: the API answered with vectors of different lengths.`,
      );
    }
    if (job.output === 'jsonl') {
      const line = `${describeRecord(record, job.includeText)},"embedding":${vectorJson(embedding)}}\n`;
      const buffer = Buffer.from(line);
      this.pending.push(buffer);
      this.pendingBytes += buffer.length;
    } else {
      const row = Buffer.from(rowBytes(embedding));
      this.pending.push(row);
      const metaLine = `${describeRecord(record, job.includeText)}}\n`;
      this.pendingMeta.push(metaLine);
      this.pendingBytes += row.length + metaLine.length;
    }
    this.pendingCount++;
    this.pendingLastLine = record.line;
  }

  /**
   * Appends what is buffered, makes it durable, then records it in the checkpoint with `input`, the
   * fingerprint of the input up to the last buffered record. After a failure the buffer is dropped:
   * the checkpoint still describes what is safely on disk.
   */
  async flush(input: InputFingerprint): Promise<void> {
    if (this.pendingCount === 0) return;
    const count = this.pendingCount;
    const data = Buffer.concat(this.pending);
    const meta = Buffer.from(this.pendingMeta.join(''));
    const lastLine = this.pendingLastLine;
    this.pending = [];
    this.pendingMeta = [];
    this.pendingBytes = 0;
    this.pendingCount = 0;
    await this.guard();
    if (this.data === undefined) await this.openNew();
    const handle = this.data!;
    await onOutputFile(this.out, () => writeAll(handle, data, this.dataBytes));
    if (this.checkpoint.job.output === 'npy') {
      // Rows first, then the header that counts them: the file never claims rows it does not hold.
      await this.writeNpyHeader(this.checkpoint.inputsDone + count);
      const metaFile = metaPath(this.out);
      await onOutputFile(metaFile, () => writeAll(this.meta!, meta, this.metaBytes));
      await onOutputFile(metaFile, () => this.meta!.sync());
    }
    await onOutputFile(this.out, () => handle.sync());
    this.dataBytes += data.length;
    this.metaBytes += meta.length;
    this.checkpoint.inputsDone += count;
    this.checkpoint.lastLine = lastLine;
    this.checkpoint.input = input;
    await this.writeCheckpoint();
  }

  /** Flushes, marks the job complete, and closes the files. */
  async finish(input: InputFingerprint): Promise<void> {
    await this.flush(input);
    this.checkpoint.input = input;
    this.checkpoint.complete = true;
    await this.guard();
    // A job that ended with no row of a model of unknown length: its output holds zero rows, of no width.
    if (this.data === undefined) await this.openNew();
    await this.writeCheckpoint();
    await this.close();
  }

  async close(): Promise<void> {
    await this.data?.close().catch(() => {});
    await this.meta?.close().catch(() => {});
  }

  /**
   * The width of the .npy's rows: the first row's length once there is one; before it, the length the
   * rows will have (packed bits hold eight dimensions a byte), from --dimensions, else the model's own
   * length; undefined when neither is known.
   */
  private npyColumns(): number | undefined {
    const { job, rowLength } = this.checkpoint;
    if (rowLength !== undefined) return rowLength;
    const dimensions = job.dimensions ?? this.defaultDimensions;
    return dimensions === undefined ? undefined : vectorLength(job.outputType, dimensions);
  }

  /** Writes the .npy header for `rows` rows (default: the checkpoint's). */
  private async writeNpyHeader(rows = this.checkpoint.inputsDone): Promise<void> {
    const handle = this.data!;
    const header = npyHeader(npyDescr(this.checkpoint.job.outputType), rows, this.npyColumns() ?? 0);
    await onOutputFile(this.out, () => writeAll(handle, header, 0));
  }

  private async writeCheckpoint(): Promise<void> {
    const bytes: Record<string, number> = { [basename(this.out)]: this.dataBytes };
    if (this.checkpoint.job.output === 'npy') bytes[basename(metaPath(this.out))] = this.metaBytes;
    this.checkpoint.bytes = bytes;
    // A name no other process uses, created exclusively: a fixed name could be shared with another
    // run, or be a symbolic link planted to redirect the write.
    const temporary = `${this.checkpointFile}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      await onOutputFile(temporary, () =>
        writeNewFile(temporary, `${JSON.stringify(this.checkpoint, null, 2)}\n`),
      );
      await onOutputFile(this.checkpointFile, () => rename(temporary, this.checkpointFile));
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await fsyncDirectory(this.checkpointFile);
  }

  /**
   * Deletes checkpoint temp files that a killed run left behind. Only the run holding the output's
   * lock writes checkpoints, and that is this one, so every such file is garbage.
   */
  private async removeStaleTemporaries(): Promise<void> {
    const directory = dirname(this.checkpointFile);
    const prefix = `${basename(this.checkpointFile)}.`;
    const names = await readdir(directory).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(prefix) && name.endsWith('.tmp'))
        await unlink(join(directory, name)).catch(() => {});
    }
  }
}
