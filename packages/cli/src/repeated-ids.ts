import type { InputRecord } from './inputs.js';

/** Two records with one id: where each is. */
export interface RepeatedId {
  id: unknown;
  firstLine: number;
  line: number;
}

/**
 * Two 32-bit hashes of `text` (cyrb53's mixing, both halves kept): a 64-bit fingerprint, so that two
 * different ids share one with a chance of about n² / 2⁶⁵ (3 in 100 million for a million ids).
 */
function fingerprint(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/** The first slot a fingerprint is looked for at, of `size`: its high half scaled to the table. */
function home(high: number, size: number): number {
  return Math.floor((high / 0x100000000) * size);
}

export interface RepeatedIdsOptions {
  /** Keep at most this many ids (`bulk` promises bounded memory): `unchecked` says when one more came. Default: no bound. */
  limit?: number;
  /**
   * Reads the input again from its first record (a regular file). With it, a slot holds only an id's
   * fingerprint, and a fingerprint seen again is looked up in the input: that finds the earlier line, and
   * tells a repeat from two ids that merely share a fingerprint (never called otherwise). Without it
   * (stdin or a pipe, read once), a slot holds the line too, and a shared fingerprint counts as a repeat.
   */
  reread?: () => Promise<AsyncIterable<InputRecord>>;
}

/**
 * Finds an id given to two records, in little memory: each id is kept as a 64-bit fingerprint (8 bytes
 * a slot, 12 with its line when the input cannot be read again), in typed arrays outside the JavaScript
 * heap, the table at most four fifths full and grown by half: 10 to 15 bytes an id for a file, 25 while
 * it grows (15 to 23, and 38, for stdin). A record without an `--id-field` value has its line number as
 * id: those never repeat among themselves, but one can equal another record's `--id-field` value, so
 * every id is kept.
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
  private refused = false;

  constructor(options: RepeatedIdsOptions = {}) {
    this.limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.reread = options.reread;
    if (this.reread === undefined) this.lines = new Uint32Array(this.size);
  }

  /**
   * True once an id came after `limit` were kept: that one and any later were not checked. (Not when
   * exactly `limit` came: every one of those was.)
   */
  get unchecked(): boolean {
    return this.refused;
  }

  /** Keeps the record's id; returns the first earlier record that had the same one, if any. */
  async add(record: InputRecord): Promise<RepeatedId | undefined> {
    if (this.count >= this.limit) {
      this.refused = true;
      return undefined;
    }
    const text = describeId(record.id);
    let [high, low] = fingerprint(text);
    // 0 and 0 marks an empty slot: that fingerprint is kept as 0 and 1 (a shared one is told apart below).
    if ((high | low) === 0) low = 1;
    const { fingerprints, lines, size } = this;
    let slot = home(high, size);
    while ((fingerprints[2 * slot]! | fingerprints[2 * slot + 1]!) !== 0) {
      if (fingerprints[2 * slot] === high && fingerprints[2 * slot + 1] === low) {
        if (lines !== undefined) return { id: record.id, firstLine: lines[slot]!, line: record.line };
        // The fingerprint stays, and stands for this id too: a later record with either id finds it,
        // and the input read again says which one that is.
        return await this.earlier(record, text);
      }
      slot = slot + 1 === size ? 0 : slot + 1;
    }
    fingerprints[2 * slot] = high;
    fingerprints[2 * slot + 1] = low;
    if (lines !== undefined) lines[slot] = record.line;
    this.count++;
    if (this.count * 5 > size * 4) this.grow();
    return undefined;
  }

  /** Reads the input again up to `record`: the first earlier record with its id, if any. */
  private async earlier(record: InputRecord, text: string): Promise<RepeatedId | undefined> {
    for await (const before of await this.reread!()) {
      if (before.line >= record.line) break;
      if (describeId(before.id) === text) return { id: record.id, firstLine: before.line, line: record.line };
    }
    return undefined;
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

/** An id as messages show it: as it would appear in the output (and what two ids are compared by, so 7 and "7" differ). */
export function describeId(id: unknown): string {
  return JSON.stringify(id) ?? String(id);
}
