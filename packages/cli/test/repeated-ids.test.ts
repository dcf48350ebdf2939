import { describe, expect, it } from 'vitest';
import type { InputRecord } from '../src/inputs.js';
import { RepeatedIds } from '../src/repeated-ids.js';

/**
 * The table bulk finds a repeated id with: every kept id is compared with those before it, through the
 * table's growth, and with a bound on how many are kept, `unchecked` turns true only when an id comes
 * after the bound was reached (bulk then says that later ids were not checked).
 */

function record(line: number, id: unknown = line): InputRecord {
  return { line, text: `item ${line}`, id, end: line * 10 };
}

describe('RepeatedIds', () => {
  it('names the earlier line of an id given again, across growth from 1,024 slots to 8,192', () => {
    const ids = new RepeatedIds();
    for (let line = 1; line <= 3000; line++) expect(ids.add(record(line, `doc-${line}`))).toBeUndefined();
    expect(ids.add(record(3001, 'doc-1'))).toEqual({ id: 'doc-1', firstLine: 1, line: 3001 });
    expect(ids.add(record(3002, 'doc-3000'))).toEqual({ id: 'doc-3000', firstLine: 3000, line: 3002 });
    // A line number as id and a string of the same digits are different ids; the same number is not.
    expect(ids.add(record(3003, '5'))).toBeUndefined();
    expect(ids.add(record(3004, 7))).toBeUndefined();
    expect(ids.add(record(3005, 7))).toEqual({ id: 7, firstLine: 3004, line: 3005 });
    expect(ids.unchecked).toBe(false);
  });

  it('checks every one of exactly `limit` ids, the last included, and is not unchecked (bug: "later ones were not" with no later one)', () => {
    const ids = new RepeatedIds(4);
    for (let line = 1; line <= 3; line++) ids.add(record(line));
    expect(ids.add(record(4, 2))).toEqual({ id: 2, firstLine: 2, line: 4 });
    expect(ids.unchecked).toBe(false);
    const clean = new RepeatedIds(4);
    for (let line = 1; line <= 4; line++) expect(clean.add(record(line))).toBeUndefined();
    expect(clean.unchecked).toBe(false);
  });

  it('keeps no id past the bound: the next one is unchecked, its repeat unnamed, and it stays so', () => {
    const ids = new RepeatedIds(4);
    for (let line = 1; line <= 4; line++) ids.add(record(line));
    expect(ids.add(record(5, 1))).toBeUndefined();
    expect(ids.unchecked).toBe(true);
    expect(ids.add(record(6, 2))).toBeUndefined();
    expect(ids.unchecked).toBe(true);
  });
});
