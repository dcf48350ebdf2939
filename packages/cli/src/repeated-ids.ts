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

/**
 * Finds an id given to two records, in little memory: each id is kept as a 64-bit fingerprint and its
 * line (12 bytes a slot, the table at most half full, in typed arrays outside the JavaScript heap). A
 * record without an `--id-field` value has its line number as id: those never repeat among themselves,
 * but one can equal another record's `--id-field` value, so every id is kept. With `limit`, ids past the
 * first `limit` are no longer kept (`bulk` promises bounded memory): `unchecked` says when one came.
 */
export class RepeatedIds {
  private high = new Uint32Array(1024);
  private low = new Uint32Array(1024);
  /** The line of the record in each slot; 0 marks an empty slot (lines start at 1). */
  private lines = new Uint32Array(1024);
  private count = 0;
  private readonly limit: number;
  private refused = false;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.limit = limit;
  }

  /**
   * True once an id came after `limit` were kept: that one and any later were not checked. (Not when
   * exactly `limit` came: every one of those was.)
   */
  get unchecked(): boolean {
    return this.refused;
  }

  /** Keeps the record's id; returns the earlier record that had the same one, if any. */
  add(record: InputRecord): RepeatedId | undefined {
    if (this.count >= this.limit) {
      this.refused = true;
      return undefined;
    }
    const [high, low] = fingerprint(JSON.stringify(record.id) ?? String(record.id));
    const mask = this.lines.length - 1;
    let slot = (low ^ Math.imul(high, 0x9e3779b1)) & mask;
    while (this.lines[slot] !== 0) {
      if (this.high[slot] === high && this.low[slot] === low)
        return { id: record.id, firstLine: this.lines[slot]!, line: record.line };
      slot = (slot + 1) & mask;
    }
    this.high[slot] = high;
    this.low[slot] = low;
    this.lines[slot] = record.line;
    this.count++;
    if (this.count * 2 > this.lines.length) this.grow();
    return undefined;
  }

  /** Doubles the table (kept at most half full, so a probe ends soon). */
  private grow(): void {
    const { high, low, lines } = this;
    const size = lines.length * 2;
    this.high = new Uint32Array(size);
    this.low = new Uint32Array(size);
    this.lines = new Uint32Array(size);
    const mask = size - 1;
    for (let old = 0; old < lines.length; old++) {
      if (lines[old] === 0) continue;
      let slot = (low[old]! ^ Math.imul(high[old]!, 0x9e3779b1)) & mask;
      while (this.lines[slot] !== 0) slot = (slot + 1) & mask;
      this.high[slot] = high[old]!;
      this.low[slot] = low[old]!;
      this.lines[slot] = lines[old]!;
    }
  }
}

/** An id as messages show it: as it would appear in the output. */
export function describeId(id: unknown): string {
  return JSON.stringify(id) ?? String(id);
}
