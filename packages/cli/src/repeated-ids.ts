import { InputChangedError, InputError } from './errors.js';
import type { InputRecord } from './inputs.js';

/** Two records with one id: where each is. */
export interface RepeatedId {
  id: unknown;
  firstLine: number;
  line: number;
}

/** A 64-bit fingerprint: its high half, then its low half. */
export type Fingerprint = readonly [number, number];

/** Hashes an id's text to a 64-bit fingerprint. */
export type FingerprintFunction = (text: string) => Fingerprint;

/** A state of HalfSipHash: four 32-bit words (a typed array: the rounds run on it millions of times). */
type SipState = Int32Array;

/** `count` SipRounds of HalfSipHash (Aumasson and Bernstein's reference, on 32-bit words). */
function sipRounds(state: SipState, count: number): void {
  let v0 = state[0]!;
  let v1 = state[1]!;
  let v2 = state[2]!;
  let v3 = state[3]!;
  for (let round = 0; round < count; round++) {
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
  }
  state[0] = v0;
  state[1] = v1;
  state[2] = v2;
  state[3] = v3;
}

/** Absorbs one 32-bit message word (two compression rounds). */
function absorb(state: SipState, word: number): void {
  state[3]! ^= word;
  sipRounds(state, 2);
  state[0]! ^= word;
}

/** Sets `state` to HalfSipHash's initial state for a 64-bit key, with the 64-bit output's tweak. */
function initialize(state: SipState, key: Fingerprint): SipState {
  state[0] = key[0];
  state[1] = key[1] ^ 0xee;
  state[2] = 0x6c796765 ^ key[0];
  state[3] = 0x74656462 ^ key[1];
  return state;
}

/** HalfSipHash's finalization for a 64-bit output: the first half, then the second. */
function finish(state: SipState): [number, number] {
  state[2]! ^= 0xee;
  sipRounds(state, 4);
  const first = (state[1]! ^ state[3]!) >>> 0;
  state[1]! ^= 0xdd;
  sipRounds(state, 4);
  return [first, (state[1]! ^ state[3]!) >>> 0];
}

/** The state a fingerprint is computed in: one, reused, as nothing between its start and end awaits. */
const scratch: SipState = new Int32Array(4);

/**
 * HalfSipHash-2-4 with a 64-bit output of `text`'s UTF-16 code units (little-endian bytes), under `key`:
 * a keyed hash, so without the key no one can write ids that share a fingerprint on purpose. An
 * unkeyed hash let a crafted file make every id share one, and each shared one cost a reading of the
 * file up to its line.
 */
export function keyedFingerprint(key: Fingerprint, text: string): [number, number] {
  const state = initialize(scratch, key);
  const units = text.length;
  for (let index = 0; index + 1 < units; index += 2)
    absorb(state, text.charCodeAt(index) | (text.charCodeAt(index + 1) << 16));
  // The last word: the message's length in bytes (mod 256) in its top byte, and an odd last code unit.
  absorb(state, ((2 * units) << 24) | (units % 2 === 1 ? text.charCodeAt(units - 1) : 0));
  return finish(state);
}

/** A random 64-bit key, drawn for each table: a fingerprint means nothing outside the run that made it. */
function randomKey(): Fingerprint {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return [high!, low!];
}

/** The first slot a fingerprint is looked for at, of `size`: its high half scaled to the table. */
function home(high: number, size: number): number {
  return Math.floor((high / 0x100000000) * size);
}

/**
 * The most bytes of suspected repeats' ids held before the file is read again for them: the ids of a
 * file whose many ids share fingerprints (a weak `fingerprint`) are held in bounded memory.
 */
const MAX_SUSPECT_BYTES = 1024 * 1024;

/** A record whose id's fingerprint was kept before: a repeat, or an id that merely shares it. */
interface Suspect {
  id: unknown;
  text: string;
  line: number;
  /** The digest of the lines and ids of every record before it, to find a file changed since. */
  before: SipState;
}

export interface RepeatedIdsOptions {
  /** Keep at most this many ids (`bulk` promises bounded memory): `unchecked` says when one more came. Default: no bound. */
  limit?: number;
  /**
   * Reads the input again from its first record (a regular file). With it, a slot holds only an id's
   * fingerprint, and a fingerprint seen again is looked up in the input: that finds the earlier line, and
   * tells a repeat from two ids that merely share a fingerprint. Without it (stdin or a pipe, read
   * once), a slot holds the line too, and a shared fingerprint counts as a repeat.
   */
  reread?: () => Promise<AsyncIterable<InputRecord>>;
  /** The input's name in messages. Default `the input`. */
  name?: string;
  /** Hashes an id's text (tests pass a weak one to make ids share fingerprints). Default: keyed HalfSipHash, under a key drawn for this table. */
  fingerprint?: FingerprintFunction;
}

/**
 * Finds an id given to two records, in little memory: each id is kept as a 64-bit fingerprint (8 bytes
 * a slot, 12 with its line when the input cannot be read again), in typed arrays outside the JavaScript
 * heap, the table at most four fifths full and grown by half: 10 to 15 bytes an id for a file, 25 while
 * it grows (15 to 23, and 38, for stdin). A record without an `--id-field` value has its line number as
 * id: those never repeat among themselves, but one can equal another record's `--id-field` value, so
 * every id is kept. The fingerprint is keyed with a key drawn for each table, so ids cannot be written
 * to share fingerprints; a file is read again once for all the suspected repeats held, and the number
 * held before reading doubles after each reading that found no repeat, so even ids that did share
 * fingerprints would cost a number of readings that grows with their logarithm, not their number.
 */
export class RepeatedIds {
  /** Each slot's fingerprint, high half then low half; 0 and 0 mark an empty slot. */
  private fingerprints = new Uint32Array(2 * 1024);
  /** The line of the record in each slot, when the input cannot be read again. */
  private lines: Uint32Array | undefined;
  private size = 1024;
  private count = 0;
  private readonly limit: number;
  private readonly reread: RepeatedIdsOptions['reread'];
  private readonly name: string;
  private readonly fingerprint: FingerprintFunction;
  /** The key of the digest of the records read (a file only). */
  private readonly digestKey: Fingerprint;
  /** The digest of the lines and ids of the records read so far (a file only). */
  private readonly digest: SipState;
  private refused = false;
  /** Records whose fingerprint was kept before, not yet looked up in the file, in order. */
  private suspects: Suspect[] = [];
  private suspectBytes = 0;
  /** How many suspects are held before the file is read again for them. */
  private suspectsHeld = 1;

  constructor(options: RepeatedIdsOptions = {}) {
    this.limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.reread = options.reread;
    this.name = options.name ?? 'the input';
    if (options.fingerprint === undefined) {
      const key = randomKey();
      this.fingerprint = (text) => keyedFingerprint(key, text);
    } else this.fingerprint = options.fingerprint;
    this.digestKey = randomKey();
    this.digest = initialize(new Int32Array(4), this.digestKey);
    if (this.reread === undefined) this.lines = new Uint32Array(this.size);
  }

  /**
   * True once an id came after `limit` were kept: that one and any later were not checked. (Not when
   * exactly `limit` came: every one of those was.)
   */
  get unchecked(): boolean {
    return this.refused;
  }

  /**
   * Keeps the record's id; returns the first repeat found, if any: that of an earlier record whose
   * lookup in the file was put off, or this record's. Call {@link end} after the last record.
   */
  async add(record: InputRecord): Promise<RepeatedId | undefined> {
    if (this.count >= this.limit) {
      this.refused = true;
      return await this.end();
    }
    const text = describeId(record.id);
    const [high, computedLow] = this.fingerprint(text);
    // 0 and 0 marks an empty slot: that fingerprint is kept as 0 and 1 (a shared one is told apart below).
    const low = (high | computedLow) === 0 ? 1 : computedLow;
    const { fingerprints, lines, size } = this;
    let slot = home(high, size);
    while ((fingerprints[2 * slot]! | fingerprints[2 * slot + 1]!) !== 0) {
      if (fingerprints[2 * slot] === high && fingerprints[2 * slot + 1] === low) {
        if (lines !== undefined) return { id: record.id, firstLine: lines[slot]!, line: record.line };
        // The fingerprint stays, and stands for this id too: the file read again says which id it is.
        const before = this.digest.slice();
        digestRecord(this.digest, high, computedLow, record.line);
        return await this.suspect({ id: record.id, text, line: record.line, before });
      }
      slot = slot + 1 === size ? 0 : slot + 1;
    }
    if (lines === undefined) digestRecord(this.digest, high, computedLow, record.line);
    fingerprints[2 * slot] = high;
    fingerprints[2 * slot + 1] = low;
    if (lines !== undefined) lines[slot] = record.line;
    this.count++;
    if (this.count * 5 > size * 4) this.grow();
    return undefined;
  }

  /** Looks up the suspects still held in the file: the first repeat among them, if any. */
  async end(): Promise<RepeatedId | undefined> {
    if (this.suspects.length === 0) return undefined;
    return await this.lookUp();
  }

  /**
   * Holds a record whose fingerprint was kept before (it stays, and stands for this id too), and reads
   * the file again once enough are held.
   */
  private async suspect(suspect: Suspect): Promise<RepeatedId | undefined> {
    this.suspects.push(suspect);
    this.suspectBytes += 2 * suspect.text.length;
    if (this.suspects.length < this.suspectsHeld && this.suspectBytes < MAX_SUSPECT_BYTES) return undefined;
    return await this.lookUp();
  }

  /**
   * Reads the file again, once, up to the last suspect: for each, the first record with its id. The
   * records before each suspect must be those read the first time (their lines and ids, by the digest
   * kept with it): a file edited since is an error, never a repeat named at the wrong line or missed.
   */
  private async lookUp(): Promise<RepeatedId | undefined> {
    const suspects = this.suspects;
    this.suspects = [];
    this.suspectBytes = 0;
    const firstLines = new Map<string, number | undefined>(
      suspects.map((suspect) => [suspect.text, undefined]),
    );
    const digest = initialize(new Int32Array(4), this.digestKey);
    let next = 0;
    try {
      for await (const record of await this.reread!()) {
        const text = describeId(record.id);
        while (next < suspects.length && record.line >= suspects[next]!.line) {
          const suspect = suspects[next]!;
          if (record.line !== suspect.line || text !== suspect.text || !same(digest, suspect.before))
            throw this.changed(`the records before line ${suspect.line} are not the ones read first`);
          next++;
        }
        if (next === suspects.length) break;
        if (firstLines.has(text) && firstLines.get(text) === undefined) firstLines.set(text, record.line);
        const [high, low] = this.fingerprint(text);
        digestRecord(digest, high, low, record.line);
      }
    } catch (error) {
      if (error instanceof InputError) throw this.changed(error.message.replace(/\.$/, ''));
      throw error;
    }
    if (next < suspects.length)
      throw this.changed(`it ends before line ${suspects[next]!.line}, which was read before`);
    for (const suspect of suspects) {
      const firstLine = firstLines.get(suspect.text)!;
      if (firstLine < suspect.line) return { id: suspect.id, firstLine, line: suspect.line };
    }
    // None was a repeat: ids that share fingerprints, so more are held before the next reading.
    this.suspectsHeld *= 2;
    return undefined;
  }

  /**
   * The error for a file that changed between its first reading and a later one. The command says what
   * that means for its output, and what to do.
   */
  private changed(what: string): InputChangedError {
    return new InputChangedError(
      `${this.name} changed while it was read: ${what}, so its ids cannot be checked for repeats.`,
    );
  }

  /** Grows the table by half (kept at most four fifths full, so a probe ends soon). */
  private grow(): void {
    const { fingerprints, lines, size: old } = this;
    const size = Math.ceil(old * 1.5);
    this.size = size;
    this.fingerprints = new Uint32Array(2 * size);
    if (lines !== undefined) this.lines = new Uint32Array(size);
    for (let from = 0; from < old; from++) {
      const high = fingerprints[2 * from]!;
      const low = fingerprints[2 * from + 1]!;
      if ((high | low) === 0) continue;
      let slot = home(high, size);
      while ((this.fingerprints[2 * slot]! | this.fingerprints[2 * slot + 1]!) !== 0)
        slot = slot + 1 === size ? 0 : slot + 1;
      this.fingerprints[2 * slot] = high;
      this.fingerprints[2 * slot + 1] = low;
      if (lines !== undefined) this.lines![slot] = lines[from]!;
    }
  }
}

/**
 * Moves a digest past one record: its id's fingerprint and its line. A running digest, not a hash of
 * its own: it tells an edited file from the one read first, which no one needs to fool.
 */
function digestRecord(state: SipState, high: number, low: number, line: number): void {
  absorb(state, high);
  absorb(state, low);
  absorb(state, line);
}

function same(a: SipState, b: SipState): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** An id as messages show it: as it would appear in the output (and what two ids are compared by, so 7 and "7" differ). */
export function describeId(id: unknown): string {
  return JSON.stringify(id) ?? String(id);
}
