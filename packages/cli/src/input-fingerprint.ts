import { createHash, type Hash } from 'node:crypto';
import { CliError, InputError } from './errors.js';
import type { InputRecord } from './inputs.js';

/** What part of the input a checkpoint's inputs were read from, so that a resumed run can tell it is unchanged. */
export interface InputFingerprint {
  /** Bytes of the input up to the end of the last input done (its text, not its line break). */
  bytes: number;
  /** SHA-256 of those bytes, as read: it works for stdin, where size and time say nothing. */
  sha256: string;
  /** A regular file's size when the run that wrote the checkpoint started (for the message). */
  size?: number;
  /** The same file's modification time, in milliseconds since the epoch. */
  mtimeMs?: number;
}

/** The fingerprint of nothing consumed yet. */
export const EMPTY_FINGERPRINT: InputFingerprint = {
  bytes: 0,
  sha256: createHash('sha256').digest('hex'),
};

/**
 * Bytes the reader may have passed beyond the last input written before they are hashed ahead of the
 * writer: a long run of blank lines (read, and no input) is then held nowhere.
 */
const MAX_HELD_BYTES = 16 * 1024 * 1024;

/** The end of an input read and not yet written, and the hash up to it once the hash has gone past. */
interface InputEnd {
  end: number;
  hash?: Hash;
}

/**
 * A running SHA-256 of the input bytes behind the inputs written so far. The reader hands over every
 * chunk it reads, the end of every input it reads (`inputRead`) and how far it has read past
 * (`passed`); the job advances to the end of each input as it writes it. Chunks read ahead are kept
 * until the inputs in them are written, so the hash always covers exactly what the output holds. When
 * the reader gets more than {@link MAX_HELD_BYTES} ahead (blank lines skipped while inputs are in
 * flight), the bytes are hashed ahead and let go, with a copy of the hash kept at the end of each input
 * not yet written: memory stays bounded whatever lies between two inputs.
 */
export class ConsumedInputHash {
  /** Fed every byte up to `hashed`. */
  private readonly hash: Hash = createHash('sha256');
  private readonly chunks: Buffer[] = [];
  private offsetInFirst = 0;
  private hashed = 0;
  private received = 0;
  /** The inputs read and not yet written, in order. */
  private readonly pending: InputEnd[] = [];
  /** The bytes of the inputs written, and their hash when `hash` has gone past them. */
  private done = 0;
  private doneHash: Hash | undefined;

  /**
   * `tracked` false: a reader that needs no fingerprint (index) keeps no byte; `bytes` stays 0.
   */
  constructor(private readonly tracked = true) {}

  /** The reader read `chunk`, the next bytes of the input. */
  read(chunk: Buffer): void {
    if (!this.tracked) return;
    this.chunks.push(chunk);
    this.received += chunk.length;
  }

  /** The reader read an input that ends at byte `end`: the job will advance to it. */
  inputRead(end: number): void {
    if (this.tracked) this.pending.push({ end });
  }

  /**
   * The reader is past byte `end`: every input that ends there or before was read (`inputRead`). Far
   * enough ahead of the writer, the bytes are hashed now and let go.
   */
  passed(end: number): void {
    if (!this.tracked || end - this.hashed <= MAX_HELD_BYTES) return;
    // The hash moves past the inputs written: a copy keeps what the checkpoint records.
    this.doneHash ??= this.hash.copy();
    for (const input of this.pending) {
      if (input.hash !== undefined) continue;
      this.hashTo(input.end);
      input.hash = this.hash.copy();
    }
    this.hashTo(end);
  }

  /** Hashes the input up to byte `end` (the end of an input just written). */
  advance(end: number): void {
    if (!this.tracked) return;
    while (this.pending.length > 0 && this.pending[0]!.end < end) this.pending.shift();
    const input = this.pending[0]?.end === end ? this.pending.shift() : undefined;
    if (input?.hash !== undefined) {
      this.doneHash = input.hash;
    } else {
      if (end < this.hashed) throw new Error(`internal: input byte ${end} was hashed past.`);
      this.hashTo(end);
      this.doneHash = undefined;
    }
    this.done = end;
  }

  /** Feeds `hash` the bytes up to `end`, letting go of the chunks it is done with. */
  private hashTo(end: number): void {
    if (end > this.received) throw new Error(`internal: input byte ${end} is hashed before it was read.`);
    while (this.hashed < end) {
      const chunk = this.chunks[0]!;
      const take = Math.min(chunk.length - this.offsetInFirst, end - this.hashed);
      this.hash.update(chunk.subarray(this.offsetInFirst, this.offsetInFirst + take));
      this.hashed += take;
      this.offsetInFirst += take;
      if (this.offsetInFirst === chunk.length) {
        this.chunks.shift();
        this.offsetInFirst = 0;
      }
    }
  }

  /** Bytes hashed so far: up to the end of the last input written. */
  get bytes(): number {
    return this.done;
  }

  /** The digest of the bytes hashed so far (hashing goes on). */
  digest(): string {
    return (this.doneHash ?? this.hash).copy().digest('hex');
  }
}

/**
 * The bytes a reading compares its blocks by: a digest of 8 bytes a block keeps 8 bytes a MiB of input,
 * and a change is found within a MiB of where it is read.
 */
export const BLOCK_BYTES = 1024 * 1024;

/** What one reading of a file read, which a later reading of it is held to (see {@link WholeInputHash}). */
export interface ReadBytes {
  bytes: number;
  /** SHA-256 of every byte. */
  sha256: string;
  /**
   * For each whole block, the first 8 bytes of the SHA-256 of the input up to its end, as two
   * little-endian words: a digest of every block so far, so a change anywhere before shows at the next.
   */
  blocks: Uint32Array;
}

/** A reading held to an earlier one: what it read, and the error for a change (`what` says where). */
export interface HeldReading {
  read: ReadBytes;
  changed: (what: string) => Error;
}

/**
 * A SHA-256 of every byte read from an input, in order, with the digest so far at the end of each block
 * of {@link BLOCK_BYTES}: two readings of one file read the same bytes when their hashes and lengths are
 * equal. Held to an earlier reading, it compares each block as it is read, and the last one (up to the
 * earlier reading's length) by the whole SHA-256, and throws at the first block that differs or the
 * first byte past that length: a file changed between the readings is found as soon as the changed part
 * is read, not after everything read was used. Only a reading that ends too soon is left for {@link end}.
 */
export class WholeInputHash {
  private readonly hash: Hash = createHash('sha256');
  private length = 0;
  /** Two words for each whole block read (a reading not held to another). */
  private blockDigests = new Uint32Array(64);

  constructor(private readonly held?: HeldReading) {}

  /** The reader read `chunk`, the next bytes of the input. */
  read(chunk: Buffer): void {
    const limit = this.held?.read.bytes ?? Number.POSITIVE_INFINITY;
    let at = 0;
    while (at < chunk.length) {
      const blockEnd = (Math.floor(this.length / BLOCK_BYTES) + 1) * BLOCK_BYTES;
      const stop = this.length < limit ? Math.min(blockEnd, limit) : blockEnd;
      const take = Math.min(chunk.length - at, stop - this.length);
      this.hash.update(chunk.subarray(at, at + take));
      this.length += take;
      at += take;
      if (this.length === stop && this.length <= limit) this.blockRead();
    }
    if (this.length > limit) throw this.held!.changed(`${limit} bytes checked, ${this.length} read now`);
  }

  /** At the end of a block, or of the earlier reading: the digest so far, kept or compared. */
  private blockRead(): void {
    const digest = this.hash.copy().digest();
    const block = Math.ceil(this.length / BLOCK_BYTES) - 1;
    const from = block * BLOCK_BYTES + 1;
    if (this.held === undefined) {
      if (this.blockDigests.length < 2 * (block + 1)) {
        const grown = new Uint32Array(2 * this.blockDigests.length);
        grown.set(this.blockDigests);
        this.blockDigests = grown;
      }
      this.blockDigests[2 * block] = digest.readUInt32LE(0);
      this.blockDigests[2 * block + 1] = digest.readUInt32LE(4);
      return;
    }
    const { read, changed } = this.held;
    const same =
      this.length === read.bytes
        ? digest.toString('hex') === read.sha256
        : digest.readUInt32LE(0) === read.blocks[2 * block] &&
          digest.readUInt32LE(4) === read.blocks[2 * block + 1];
    if (!same) throw changed(`bytes ${from}-${this.length} differ`);
  }

  /**
   * The reading is at its end: held to an earlier one, it must have read as many bytes (every one of
   * them was compared as it was read). A file cut short while it was read reaches no block that could differ.
   */
  end(): void {
    const limit = this.held?.read.bytes;
    if (limit !== undefined && this.length !== limit)
      throw this.held!.changed(`${limit} bytes checked, ${this.length} read now`);
  }

  /** Bytes read so far. */
  get bytes(): number {
    return this.length;
  }

  /** The digest of the bytes read so far (hashing goes on). */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  /** What was read so far, for a later reading to be held to. */
  readBytes(): ReadBytes {
    const whole = Math.floor(this.length / BLOCK_BYTES);
    return { bytes: this.length, sha256: this.digest(), blocks: this.blockDigests.slice(0, 2 * whole) };
  }
}

/** Where a checkpoint stopped: the inputs done, the line of the last one, and the bytes they came from. */
export interface ConsumedPart {
  inputsDone: number;
  lastLine: number;
  input: InputFingerprint;
}

export interface VerifyOptions {
  /** The input's name in messages (a path, or stdin). */
  name: string;
  /** What the checkpoint says was consumed. */
  consumed: ConsumedPart;
  /** The input as it is now: a regular file's size and modification time. */
  size?: number;
  mtimeMs?: number;
  /** The next input record, or undefined at the end. */
  next: () => Promise<InputRecord | undefined>;
  hash: ConsumedInputHash;
  /** Stops a long re-read (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Reads the consumed part of the input again and checks it is what the checkpoint describes: the same
 * number of inputs, the last one on the same line and ending at the same byte, and the same SHA-256.
 * Anything else (a line replaced, inserted or deleted, a truncated file) throws a {@link CliError}
 * that says what changed: resuming would mix vectors of the old text with the new. Lines added after
 * the consumed part are fine.
 */
export async function verifyConsumedInput(options: VerifyOptions): Promise<void> {
  const { consumed, name, hash } = options;
  const { inputsDone, lastLine, input } = consumed;
  const changed = (what: string) => {
    const details: string[] = [];
    if (options.size !== undefined && input.size !== undefined && options.size !== input.size)
      details.push(`size ${input.size} → ${options.size} bytes`);
    if (options.mtimeMs !== undefined && input.mtimeMs !== undefined && options.mtimeMs !== input.mtimeMs)
      details.push(`modified ${new Date(options.mtimeMs).toISOString()}`);
    return new CliError(
      `${name} changed since the checkpoint: ${what}${details.length > 0 ? ` (${details.join(', ')})` : ''}. Resuming would mix vectors of the old text with the new. Run with --restart to embed the input again from the start, or restore the input as it was.`,
    );
  };
  if (options.size !== undefined && options.size < input.bytes) {
    throw changed(
      `it is ${options.size} bytes long, but its first ${input.bytes} bytes (${inputsDone} inputs, through line ${lastLine}) were already embedded: it was truncated`,
    );
  }
  let last: InputRecord | undefined;
  for (let index = 0; index < inputsDone; index++) {
    options.signal?.throwIfAborted();
    let record: InputRecord | undefined;
    try {
      record = await options.next();
    } catch (error) {
      if (error instanceof InputError)
        throw changed(
          `${error.message.replace(/\.$/, '')}, within the ${inputsDone} inputs already embedded`,
        );
      throw error;
    }
    if (record === undefined) {
      throw changed(
        `it now holds ${index} inputs, but ${inputsDone} (through line ${lastLine}) were already embedded: it was truncated or lines were deleted`,
      );
    }
    hash.advance(record.end);
    last = record;
  }
  if (last === undefined) return;
  if (last.line !== lastLine) {
    throw changed(
      `input ${inputsDone}, the last one embedded, was on line ${lastLine} and is now on line ${last.line}: lines were inserted or deleted before it`,
    );
  }
  if (last.end !== input.bytes || hash.digest() !== input.sha256) {
    throw changed(
      `lines 1-${lastLine} are not the ones already embedded (${last.end === input.bytes ? 'same length, other bytes' : `${input.bytes} bytes then, ${last.end} now`}): a line was replaced, inserted or deleted`,
    );
  }
}
