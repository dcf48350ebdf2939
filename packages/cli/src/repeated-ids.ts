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

/** A digest of the records read so far: two 32-bit words. */
type Digest = Int32Array;

/**
 * The fingerprint just computed: {@link keyedFingerprint} writes it here rather than in a new array, as
 * it runs millions of times.
 */
const computed = new Uint32Array(2);

/** Bytes of a double, to hash a number id by its value. */
const numberBytes = new Float64Array(1);
const numberWords = new Uint32Array(numberBytes.buffer);

/**
 * HalfSipHash-1-3 with a 64-bit output, under `key` (two 32-bit words), of a type tag (one byte) then
 * `text`'s UTF-8 bytes (a lone surrogate as its three bytes, so two texts never share their bytes), or
 * then the words `high` and `low` when `text` is undefined: a keyed hash, so without the key no one can
 * write ids that share a fingerprint on purpose (an unkeyed hash let a crafted file make every id share
 * one, and each shared one cost a reading of the file up to its line). One compression round and three
 * of finalization, as the Linux kernel's `hsiphash` (HalfSipHash) and Rust's hash tables (SipHash) use:
 * the key is drawn for each run and no fingerprint leaves it, so nothing can be learned of the key to
 * aim ids at. The bytes are taken from the text as it is (no encoded copy is made), the state is kept in
 * locals, and the result is written to one reused array: it runs millions of times.
 */
export function keyedFingerprint(
  key0: number,
  key1: number,
  tag: number,
  text: string | undefined,
  high = 0,
  low = 0,
): Uint32Array {
  let v0 = key0 | 0;
  let v1 = (key1 ^ 0xee) | 0;
  let v2 = (0x6c796765 ^ key0) | 0;
  let v3 = (0x74656462 ^ key1) | 0;
  const units = text === undefined ? 2 : text.length;
  let index = 0;
  // Bytes of the current character not yet put in a word (little-endian), and how many.
  let pending = tag & 0xff;
  let pendingCount = 1;
  let length = 0;
  /** Rounds run after the last word: 3 finish the first half of the output, 6 the second. */
  let finishing = -1;
  for (;;) {
    let word = 0;
    if (finishing < 0) {
      // The next word of the message, or the last one: the bytes left and the length (mod 256) on top.
      let shift = 0;
      while (shift < 32) {
        if (pendingCount === 0) {
          if (index === units) break;
          if (text === undefined) {
            pending = index === 0 ? high : low;
            pendingCount = 4;
            index++;
          } else {
            const code = text.charCodeAt(index++);
            if (code < 0x80) {
              pending = code;
              pendingCount = 1;
            } else if (code < 0x800) {
              pending = 0xc0 | (code >>> 6) | ((0x80 | (code & 0x3f)) << 8);
              pendingCount = 2;
            } else {
              const next = code >= 0xd800 && code < 0xdc00 ? text.charCodeAt(index) : 0;
              if (next >= 0xdc00 && next < 0xe000) {
                const point = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
                pending =
                  0xf0 |
                  (point >>> 18) |
                  ((0x80 | ((point >>> 12) & 0x3f)) << 8) |
                  ((0x80 | ((point >>> 6) & 0x3f)) << 16) |
                  ((0x80 | (point & 0x3f)) << 24);
                pendingCount = 4;
                index++;
              } else {
                pending =
                  0xe0 |
                  (code >>> 12) |
                  ((0x80 | ((code >>> 6) & 0x3f)) << 8) |
                  ((0x80 | (code & 0x3f)) << 16);
                pendingCount = 3;
              }
            }
          }
        }
        word |= (pending & 0xff) << shift;
        pending >>>= 8;
        pendingCount--;
        length++;
        shift += 8;
      }
      if (shift < 32) {
        word |= (length & 0xff) << 24;
        finishing = 0;
      }
    }
    // One SipRound, the word absorbed around it (a finalization round absorbs nothing).
    v3 ^= word;
    v0 = (v0 + v1) | 0;
    v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
    v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= word;
    if (finishing >= 0) {
      if (finishing === 0) v2 ^= 0xee;
      else if (finishing === 3) {
        computed[0] = v1 ^ v3;
        v1 ^= 0xdd;
      } else if (finishing === 6) {
        computed[1] = v1 ^ v3;
        return computed;
      }
      finishing++;
    }
  }
}

/** The type tags an id is hashed under: two ids of different JSON types never have one text. */
const STRING_ID = 1;
const NUMBER_ID = 2;
const OTHER_ID = 3;

/**
 * The keyed fingerprint of an id, as {@link describeId} tells ids apart (two ids share one text exactly
 * when they are one id), without making that text: a string by its own characters (its JSON text adds
 * quotes and escapes, the same for every string), a number by its value (-0 as 0, which JSON writes
 * alike), anything else by its JSON text.
 */
function fingerprintId(key: Fingerprint, id: unknown): Uint32Array {
  if (typeof id === 'string') return keyedFingerprint(key[0], key[1], STRING_ID, id);
  if (typeof id === 'number' && Number.isFinite(id)) {
    numberBytes[0] = id === 0 ? 0 : id;
    return keyedFingerprint(key[0], key[1], NUMBER_ID, undefined, numberWords[0]!, numberWords[1]!);
  }
  return keyedFingerprint(key[0], key[1], OTHER_ID, describeId(id));
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
  before: Digest;
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
  /**
   * Stops a reading of the file again (Ctrl-C): it may run to the end of a large file, and the run
   * stops at once rather than after it. A repeat it would have named is found again by the run that
   * continues this one, which reads the part saved through the same check.
   */
  signal?: AbortSignal;
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
  private readonly signal: AbortSignal | undefined;
  /** The fingerprint of an id (the array is reused: read it before the next). */
  private readonly fingerprint: (id: unknown) => ArrayLike<number>;
  /** The key of the digest of the records read (a file only). */
  private readonly digestKey: Fingerprint;
  /** The digest of the lines and ids of the records read so far (a file only). */
  private readonly digest: Digest;
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
    this.signal = options.signal;
    const given = options.fingerprint;
    if (given === undefined) {
      const key = randomKey();
      this.fingerprint = (id) => fingerprintId(key, id);
    } else this.fingerprint = (id) => given(describeId(id));
    this.digestKey = randomKey();
    this.digest = initialize(this.digestKey);
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
    const fingerprint = this.fingerprint(record.id);
    const high = fingerprint[0]!;
    const computedLow = fingerprint[1]!;
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
        return await this.suspect({ id: record.id, text: describeId(record.id), line: record.line, before });
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
    const digest = initialize(this.digestKey);
    let next = 0;
    try {
      for await (const record of await this.reread!()) {
        this.signal?.throwIfAborted();
        const text = describeId(record.id);
        while (next < suspects.length && record.line >= suspects[next]!.line) {
          const suspect = suspects[next]!;
          if (record.line !== suspect.line || text !== suspect.text || !same(digest, suspect.before))
            throw this.changed(`the records before line ${suspect.line} are not the ones read first`);
          next++;
        }
        if (next === suspects.length) break;
        if (firstLines.has(text) && firstLines.get(text) === undefined) firstLines.set(text, record.line);
        const fingerprint = this.fingerprint(record.id);
        digestRecord(digest, fingerprint[0]!, fingerprint[1]!, record.line);
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

/** A digest of no record yet, under `key`: the key itself. */
function initialize(key: Fingerprint): Digest {
  return Int32Array.of(key[0], key[1]);
}

/**
 * Moves a digest past one record: its id's fingerprint and its line. A running digest, not a hash of
 * its own: it tells an edited file from the one read first, which no one needs to fool. For a given
 * record, a step maps digests one to one, so a difference once in stays in every later digest; a
 * record whose id changed on its line always makes one, and any other change fails to only when its
 * fingerprint and line happen to cancel in both words, a chance of about 2⁻⁶⁴ (the fingerprints are
 * keyed, and unknown outside the run).
 */
function digestRecord(digest: Digest, high: number, low: number, line: number): void {
  let first = Math.imul(digest[0]! ^ high, 0x9e3779b1) ^ line;
  first ^= first >>> 16;
  let second = ((Math.imul(digest[1]! ^ low, 0x85ebca77) + first) | 0) ^ line;
  second ^= second >>> 13;
  digest[0] = first;
  digest[1] = second;
}

function same(a: Digest, b: Digest): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/** An id as messages show it: as it would appear in the output (and what two ids are compared by, so 7 and "7" differ). */
export function describeId(id: unknown): string {
  return JSON.stringify(id) ?? String(id);
}
