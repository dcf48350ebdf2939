import { existsSync, statSync } from 'node:fs';
import { type FileHandle, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Embedding, OutputType } from '@embedkit/core';
import { CliError } from './errors.js';
import type { InputRecord } from './inputs.js';
import { NPY_HEADER_BYTES, npyDescr, npyHeader, rowBytes } from './npy.js';

/** What makes two runs the same job: a checkpoint is only resumed by the job that wrote it. */
export interface JobKey {
  provider: string;
  model: string;
  dimensions: number | null;
  inputType: string | null;
  outputType: OutputType;
  input: string;
  format: string;
  field: string;
  idField: string;
  includeText: boolean;
  output: 'jsonl' | 'npy';
}

/** The checkpoint file: written atomically (temp file, fsync, rename) after the data it describes is fsynced. */
export interface Checkpoint {
  version: 1;
  job: JobKey;
  /** Inputs whose records are in the output, from the start of the input. */
  inputsDone: number;
  /** Line of the last input done (checked on resume, so a changed input file is noticed). */
  lastLine: number;
  /** Valid length of each output file; anything past it is a partial tail from a crash. */
  bytes: Record<string, number>;
  /** NPY: elements per row, known once the first row is written. */
  rowLength?: number;
  complete: boolean;
}

export function checkpointPath(out: string): string {
  return `${out}.checkpoint`;
}

export function metaPath(out: string): string {
  return out.replace(/\.npy$/i, '') + '.meta.jsonl';
}

/** Formats a float32 value with 9 significant digits: always enough to read back the same float32. */
function formatNumber(value: number, integer: boolean): string {
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

async function fsyncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dirname(path) || '.', 'r');
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}

async function writeAll(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    written += bytesWritten;
  }
}

export interface OpenOutputOptions {
  out: string;
  job: JobKey;
  /** Replace an existing output and checkpoint instead of refusing. */
  overwrite: boolean;
}

/**
 * The resumable output of `bulk`: records are buffered, then `flush` appends them, fsyncs, and writes
 * the checkpoint. On open, a checkpoint of the same job is resumed: every file is cut back to the length
 * the checkpoint recorded (dropping whatever a crash left half-written) and writing continues there.
 */
export class BulkOutput {
  readonly out: string;
  readonly checkpointFile: string;
  private checkpoint: Checkpoint;
  private data!: FileHandle;
  private meta: FileHandle | undefined;
  private dataBytes: number;
  private metaBytes: number;
  private pending: Buffer[] = [];
  private pendingMeta: string[] = [];
  private pendingBytes = 0;
  private pendingCount = 0;
  private pendingLastLine = 0;

  private constructor(out: string, checkpoint: Checkpoint) {
    this.out = out;
    this.checkpointFile = checkpointPath(out);
    this.checkpoint = checkpoint;
    this.dataBytes = checkpoint.bytes[basename(out)] ?? 0;
    this.metaBytes = checkpoint.bytes[basename(metaPath(out))] ?? 0;
  }

  /** Inputs already in the output when this run started. */
  get inputsDone(): number {
    return this.checkpoint.inputsDone;
  }
  get lastLine(): number {
    return this.checkpoint.lastLine;
  }
  get complete(): boolean {
    return this.checkpoint.complete;
  }
  /** Records buffered and not yet flushed. */
  get buffered(): number {
    return this.pendingCount;
  }
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  static async open(options: OpenOutputOptions): Promise<BulkOutput> {
    const { out, job } = options;
    const checkpointFile = checkpointPath(out);
    const files = job.output === 'npy' ? [out, metaPath(out)] : [out];
    let existing: Checkpoint | undefined;
    if (!options.overwrite && existsSync(checkpointFile)) {
      try {
        existing = JSON.parse(await readFile(checkpointFile, 'utf8')) as Checkpoint;
      } catch (error) {
        throw new CliError(
          `${checkpointFile} is unreadable (${(error as Error).message}); pass --overwrite to start again.`,
        );
      }
      const differences = Object.keys(job).filter(
        (key) =>
          JSON.stringify(existing!.job?.[key as keyof JobKey]) !== JSON.stringify(job[key as keyof JobKey]),
      );
      if (existing.version !== 1 || differences.length > 0) {
        const detail = differences
          .map(
            (key) =>
              `${key} ${JSON.stringify(existing!.job?.[key as keyof JobKey])} → ${JSON.stringify(job[key as keyof JobKey])}`,
          )
          .join(', ');
        throw new CliError(
          `${out} is the output of a different job (${detail || 'another checkpoint version'}). Pass --overwrite to start again, or choose another --out.`,
        );
      }
    } else if (!options.overwrite) {
      const present = files.filter((file) => existsSync(file));
      if (present.length > 0) {
        throw new CliError(
          `${present.join(' and ')} already exists and has no checkpoint; pass --overwrite to replace it.`,
        );
      }
    }
    const output = new BulkOutput(
      out,
      existing ?? { version: 1, job, inputsDone: 0, lastLine: 0, bytes: {}, complete: false },
    );
    if (existing === undefined) {
      // The checkpoint comes first: a crash before the first flush then leaves output that a re-run
      // recognises as this job's and cuts back to nothing.
      await output.writeCheckpoint();
    }
    if (existing?.complete) return output;
    // A file shorter than its checkpoint was changed outside embedkit: resuming would leave a hole.
    const expected: [string, number][] = [[out, output.dataBytes]];
    if (job.output === 'npy') expected.push([metaPath(out), output.metaBytes]);
    for (const [file, bytes] of expected) {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size < bytes) {
        throw new CliError(
          `${file} holds ${size} bytes but its checkpoint records ${bytes}; it was changed outside embedkit. Pass --overwrite to start again.`,
        );
      }
    }
    output.data = await open(out, existsSync(out) ? 'r+' : 'w+');
    await output.data.truncate(output.dataBytes);
    if (job.output === 'npy') {
      const meta = metaPath(out);
      output.meta = await open(meta, existsSync(meta) ? 'r+' : 'w+');
      await output.meta.truncate(output.metaBytes);
    }
    return output;
  }

  /** Buffers one finished input. */
  add(record: InputRecord, embedding: Embedding): void {
    const job = this.checkpoint.job;
    if (job.output === 'jsonl') {
      const line = `${describeRecord(record, job.includeText)},"embedding":${vectorJson(embedding)}}\n`;
      const buffer = Buffer.from(line);
      this.pending.push(buffer);
      this.pendingBytes += buffer.length;
    } else {
      this.checkpoint.rowLength ??= embedding.length;
      const rowLength = this.checkpoint.rowLength;
      if (embedding.length !== rowLength) {
        throw new CliError(
          `line ${record.line}: the vector has ${embedding.length} values; the rows before it have ${rowLength}.`,
        );
      }
      const row = Buffer.from(rowBytes(embedding));
      this.pending.push(row);
      const metaLine = `${describeRecord(record, job.includeText)}}\n`;
      this.pendingMeta.push(metaLine);
      this.pendingBytes += row.length + metaLine.length;
    }
    this.pendingCount++;
    this.pendingLastLine = record.line;
  }

  /** Appends what is buffered, makes it durable, then records it in the checkpoint. */
  async flush(): Promise<void> {
    if (this.pendingCount === 0) return;
    const job = this.checkpoint.job;
    const rowsBefore = this.checkpoint.inputsDone;
    const count = this.pendingCount;
    if (job.output === 'npy' && this.dataBytes === 0) this.dataBytes = NPY_HEADER_BYTES;
    const data = Buffer.concat(this.pending);
    await writeAll(this.data, data, this.dataBytes);
    if (job.output === 'npy') {
      await writeAll(
        this.data,
        npyHeader(npyDescr(job.outputType), rowsBefore + count, this.checkpoint.rowLength!),
        0,
      );
      const meta = Buffer.from(this.pendingMeta.join(''));
      await writeAll(this.meta!, meta, this.metaBytes);
      this.metaBytes += meta.length;
      await this.meta!.sync();
    }
    await this.data.sync();
    this.dataBytes += data.length;
    this.checkpoint.inputsDone += count;
    this.checkpoint.lastLine = this.pendingLastLine;
    this.pending = [];
    this.pendingMeta = [];
    this.pendingBytes = 0;
    this.pendingCount = 0;
    await this.writeCheckpoint();
  }

  /** Flushes, marks the job complete, and closes the files. */
  async finish(): Promise<void> {
    await this.flush();
    if (this.checkpoint.job.output === 'npy' && this.checkpoint.rowLength !== undefined) {
      // After a crash between a header update and its checkpoint, the header may count rows that were cut.
      await writeAll(
        this.data,
        npyHeader(
          npyDescr(this.checkpoint.job.outputType),
          this.checkpoint.inputsDone,
          this.checkpoint.rowLength,
        ),
        0,
      );
      await this.data.sync();
    }
    this.checkpoint.complete = true;
    await this.writeCheckpoint();
    await this.close();
  }

  /** Flushes what is buffered and closes, leaving the job resumable. */
  async stop(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.data?.close().catch(() => {});
    await this.meta?.close().catch(() => {});
  }

  private async writeCheckpoint(): Promise<void> {
    const bytes: Record<string, number> = { [basename(this.out)]: this.dataBytes };
    if (this.checkpoint.job.output === 'npy') bytes[basename(metaPath(this.out))] = this.metaBytes;
    this.checkpoint.bytes = bytes;
    const temporary = `${this.checkpointFile}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(this.checkpoint, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.checkpointFile);
    await fsyncDirectory(this.checkpointFile);
  }
}
