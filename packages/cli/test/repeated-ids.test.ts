import { describe, expect, it } from 'vitest';
import type { InputRecord } from '../src/inputs.js';
import { RepeatedIds } from '../src/repeated-ids.js';
import { SHARED_FINGERPRINT } from './helpers.js';

/**
 * The table bulk and index find a repeated id with: every kept id is compared with those before it,
 * through the table's growth, and with a bound on how many are kept, `unchecked` turns true only when an
 * id comes after the bound was reached (bulk then says that later ids were not checked). For a file, the
 * table keeps fingerprints only and reads the file again to name the earlier line.
 */

function record(line: number, id: unknown = line): InputRecord {
  return { line, text: `item ${line}`, id, end: line * 10 };
}

/** A file read again: `records` from its first, counting the reads and the records they yielded. */
function rereadable(records: (line: number) => InputRecord, last: number) {
  const reads = { count: 0, records: 0 };
  const reread = async () =>
    (async function* () {
      reads.count++;
      for (let line = 1; line <= last; line++) {
        reads.records++;
        yield records(line);
      }
    })();
  return { reads, reread };
}

describe('RepeatedIds', () => {
  it('names the earlier line of an id given again, across growth from 1,024 slots to 5,184', async () => {
    const ids = new RepeatedIds();
    for (let line = 1; line <= 3000; line++)
      expect(await ids.add(record(line, `doc-${line}`))).toBeUndefined();
    expect(await ids.add(record(3001, 'doc-1'))).toEqual({ id: 'doc-1', firstLine: 1, line: 3001 });
    expect(await ids.add(record(3002, 'doc-3000'))).toEqual({ id: 'doc-3000', firstLine: 3000, line: 3002 });
    // A line number as id and a string of the same digits are different ids; the same number is not.
    expect(await ids.add(record(3003, '5'))).toBeUndefined();
    expect(await ids.add(record(3004, 7))).toBeUndefined();
    expect(await ids.add(record(3005, 7))).toEqual({ id: 7, firstLine: 3004, line: 3005 });
    expect(ids.unchecked).toBe(false);
  });

  it('checks every one of exactly `limit` ids, the last included, and is not unchecked (bug: "later ones were not" with no later one)', async () => {
    const ids = new RepeatedIds({ limit: 4 });
    for (let line = 1; line <= 3; line++) await ids.add(record(line));
    expect(await ids.add(record(4, 2))).toEqual({ id: 2, firstLine: 2, line: 4 });
    expect(ids.unchecked).toBe(false);
    const clean = new RepeatedIds({ limit: 4 });
    for (let line = 1; line <= 4; line++) expect(await clean.add(record(line))).toBeUndefined();
    expect(clean.unchecked).toBe(false);
  });

  it('keeps no id past the bound: the next one is unchecked, its repeat unnamed, and it stays so', async () => {
    const ids = new RepeatedIds({ limit: 4 });
    for (let line = 1; line <= 4; line++) await ids.add(record(line));
    expect(await ids.add(record(5, 1))).toBeUndefined();
    expect(ids.unchecked).toBe(true);
    expect(await ids.add(record(6, 2))).toBeUndefined();
    expect(ids.unchecked).toBe(true);
  });

  describe('a file, read again to name the earlier line', () => {
    it('names line 3 for a repeat at line 900,001, reading the file once, only as far as line 3', async () => {
      const id = (line: number) => (line === 900_001 ? 'doc-3' : `doc-${line}`);
      const { reads, reread } = rereadable((line) => record(line, id(line)), 1_000_000);
      const ids = new RepeatedIds({ reread });
      const repeats: unknown[] = [];
      for (let line = 1; line <= 900_000; line++) {
        const repeated = await ids.add(record(line, id(line)));
        if (repeated !== undefined) repeats.push(repeated);
      }
      expect(repeats).toEqual([]);
      expect(reads.count).toBe(0);
      expect(await ids.add(record(900_001, 'doc-3'))).toEqual({ id: 'doc-3', firstLine: 3, line: 900_001 });
      expect(reads).toEqual({ count: 1, records: 3 });
    });

    it('two ids with one fingerprint are no repeat (bug: refused, naming a line with another id); a repeat of either names its own line', async () => {
      const [first, second] = SHARED_FINGERPRINT;
      const ids = [first, second, second, 'x', first];
      const { reads, reread } = rereadable((line) => record(line, ids[line - 1]), ids.length);
      const table = new RepeatedIds({ reread });
      expect(await table.add(record(1, first))).toBeUndefined();
      expect(await table.add(record(2, second))).toBeUndefined();
      expect(reads.count).toBe(1);
      expect(await table.add(record(3, second))).toEqual({ id: second, firstLine: 2, line: 3 });
      expect(await table.add(record(4, 'x'))).toBeUndefined();
      expect(await table.add(record(5, first))).toEqual({ id: first, firstLine: 1, line: 5 });
      expect(reads.count).toBe(3);
    });
  });
});
