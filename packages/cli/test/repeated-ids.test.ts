import { describe, expect, it } from 'vitest';
import { InputChangedError, InputError } from '../src/errors.js';
import type { InputRecord } from '../src/inputs.js';
import { keyedFingerprint, RepeatedIds } from '../src/repeated-ids.js';
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
    // -0 is written 0, as 0 is: one id (a number is fingerprinted by its value, not its text).
    expect(await ids.add(record(3006, -0))).toBeUndefined();
    expect(await ids.add(record(3007, 0))).toEqual({ id: 0, firstLine: 3006, line: 3007 });
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
    it('names line 3 for a repeat at line 900,001, reading the file once, as far as the repeat (which checks that the lines before it are the ones read)', async () => {
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
      expect(reads).toEqual({ count: 1, records: 900_001 });
    });

    it('a reading again stopped by its signal (Ctrl-C) ends where it is, with the reason of the signal, not at the repeat (bug: read on to line 5,000, then the repeat named)', async () => {
      const stop = new AbortController();
      const id = (line: number) => (line === 5001 ? 'doc-3' : `doc-${line}`);
      const reads = { records: 0 };
      const reread = async () =>
        (async function* () {
          for (let line = 1; line <= 5001; line++) {
            reads.records++;
            if (line === 100) stop.abort(new Error('stopped'));
            yield record(line, id(line));
          }
        })();
      const ids = new RepeatedIds({ reread, signal: stop.signal });
      for (let line = 1; line <= 5000; line++) expect(await ids.add(record(line, id(line)))).toBeUndefined();
      await expect(ids.add(record(5001, 'doc-3'))).rejects.toThrow('stopped');
      expect(reads.records).toBe(100);
    });

    it('two ids with one fingerprint are no repeat (bug: refused, naming a line with another id); a repeat of either names its own line', async () => {
      const [first, second] = SHARED_FINGERPRINT;
      const ids = [first, second, second, 'x', first];
      const { reads, reread } = rereadable((line) => record(line, ids[line - 1]), ids.length);
      // Ids of one length share a fingerprint here.
      const table = new RepeatedIds({ reread, fingerprint: (text) => [text.length, 0] });
      expect(await table.add(record(1, first))).toBeUndefined();
      expect(await table.add(record(2, second))).toBeUndefined();
      expect(reads.count).toBe(1);
      // After a reading that found no repeat, two suspects are held before the next.
      expect(await table.add(record(3, second))).toBeUndefined();
      expect(await table.add(record(4, 'x'))).toBeUndefined();
      expect(await table.add(record(5, first))).toEqual({ id: second, firstLine: 2, line: 3 });
      expect(reads.count).toBe(2);
      // A suspect still held when the input ends is looked up by `end`.
      const ended = new RepeatedIds({ reread, fingerprint: (text) => [text.length, 0] });
      for (const line of [1, 2]) await ended.add(record(line, ids[line - 1]));
      expect(await ended.add(record(3, second))).toBeUndefined();
      expect(await ended.end()).toEqual({ id: second, firstLine: 2, line: 3 });
      expect(await ended.end()).toBeUndefined();
    });
  });

  describe('a keyed fingerprint: ids cannot be written to share one', () => {
    /**
     * HalfSipHash-c-d with a 64-bit output, written from its description for these tests, byte by byte
     * (the command's own runs on the text's characters): held to the published 2-4 vectors below.
     */
    function halfSipHash(key: readonly [number, number], bytes: Uint8Array, c: number, d: number): string {
      const v = Int32Array.of(key[0], key[1] ^ 0xee, 0x6c796765 ^ key[0], 0x74656462 ^ key[1]);
      const rotate = (x: number, by: number) => (x << by) | (x >>> (32 - by));
      const round = () => {
        v[0] = v[0]! + v[1]!;
        v[1] = rotate(v[1]!, 5) ^ v[0]!;
        v[0] = rotate(v[0]!, 16);
        v[2] = v[2]! + v[3]!;
        v[3] = rotate(v[3]!, 8) ^ v[2]!;
        v[0] = v[0]! + v[3]!;
        v[3] = rotate(v[3]!, 7) ^ v[0]!;
        v[2] = v[2]! + v[1]!;
        v[1] = rotate(v[1]!, 13) ^ v[2]!;
        v[2] = rotate(v[2]!, 16);
      };
      const padded = new Uint8Array(Math.floor(bytes.length / 4) * 4 + 4);
      padded.set(bytes);
      padded[padded.length - 1] = bytes.length & 0xff;
      const words = new DataView(padded.buffer);
      for (let at = 0; at < padded.length; at += 4) {
        const m = words.getInt32(at, true);
        v[3]! ^= m;
        for (let n = 0; n < c; n++) round();
        v[0]! ^= m;
      }
      const out = Buffer.alloc(8);
      v[2]! ^= 0xee;
      for (let n = 0; n < d; n++) round();
      out.writeInt32LE(v[1]! ^ v[3]!, 0);
      v[1]! ^= 0xdd;
      for (let n = 0; n < d; n++) round();
      out.writeInt32LE(v[1]! ^ v[3]!, 4);
      return out.toString('hex');
    }
    const KEY = [0x03020100, 0x07060504] as const;
    const hex = (fingerprint: Uint32Array) =>
      Buffer.from(Uint32Array.from(fingerprint).buffer).toString('hex');

    it('the reference written for these tests gives the published HalfSipHash-2-4 vectors (key bytes 0-7, messages of bytes 0, 1, 2, ...)', () => {
      const message = (length: number) => Uint8Array.from({ length }, (_, n) => n);
      expect([0, 2, 4, 8].map((length) => halfSipHash(KEY, message(length), 2, 4))).toEqual([
        '218d1f59b9b83cc8',
        '064f39ef7c50eb57',
        'd5e78a175be52ea1',
        'edfee820bce4858c',
      ]);
    });

    it('is HalfSipHash-1-3 of a type byte and the UTF-8 bytes of the text, or of two words: as the reference, for texts of every length to 9 bytes and characters of 1 to 4 bytes (bug: UTF-16 code units hashed, or a character split across two words dropped)', () => {
      const texts = [
        '',
        'a',
        'doc-1',
        'doc-100000',
        '123456789',
        'é',
        'naïve café',
        '€uro',
        'x€€y',
        '😀',
        'a😀b😀c',
        'line\nbreak "quoted"',
      ];
      for (const text of texts) {
        const bytes = Buffer.concat([Buffer.from([1]), Buffer.from(text, 'utf8')]);
        expect([text, hex(keyedFingerprint(KEY[0], KEY[1], 1, text))]).toEqual([
          text,
          halfSipHash(KEY, bytes, 1, 3),
        ]);
      }
      // A lone surrogate is its three bytes (as WTF-8 writes it): no two texts share their bytes.
      const lone = '\ud800x';
      expect(hex(keyedFingerprint(KEY[0], KEY[1], 3, lone))).toBe(
        halfSipHash(KEY, Uint8Array.of(3, 0xed, 0xa0, 0x80, 0x78), 1, 3),
      );
      const words = Buffer.alloc(9);
      words[0] = 2;
      words.writeUInt32LE(0xdeadbeef, 1);
      words.writeUInt32LE(0x01234567, 5);
      expect(hex(keyedFingerprint(KEY[0], KEY[1], 2, undefined, 0xdeadbeef, 0x01234567))).toBe(
        halfSipHash(KEY, words, 1, 3),
      );
    });

    it('a pinned value: the fingerprint of "doc-100000" under the key bytes 0-7 (a change of the hash fails here first; the value checked against a separate implementation)', () => {
      expect(hex(keyedFingerprint(KEY[0], KEY[1], 1, 'doc-100000'))).toBe('56b23ebfa1275b79');
    });

    it('two ids made to share the fingerprint of the unkeyed hash no longer do: the file is not read again (bug: read again for each such pair)', async () => {
      const [first, second] = SHARED_FINGERPRINT;
      const ids = [first, second];
      const { reads, reread } = rereadable((line) => record(line, ids[line - 1]), ids.length);
      const table = new RepeatedIds({ reread });
      expect(await table.add(record(1, first))).toBeUndefined();
      expect(await table.add(record(2, second))).toBeUndefined();
      expect(await table.end()).toBeUndefined();
      expect(reads.count).toBe(0);
    });

    it('10,000 ids that all share one fingerprint cost 14 readings of the file, 26,382 records in all, not one reading each (bug: 9,999 readings, 50 million records); the repeat among them is still named', async () => {
      const id = (line: number) => (line === 10_000 ? 'doc-5000' : `doc-${line}`);
      const { reads, reread } = rereadable((line) => record(line, id(line)), 10_000);
      const table = new RepeatedIds({ reread, fingerprint: () => [7, 7] });
      for (let line = 1; line <= 10_000; line++)
        expect(await table.add(record(line, id(line)))).toBeUndefined();
      expect(await table.end()).toEqual({ id: 'doc-5000', firstLine: 5000, line: 10_000 });
      // Held 1, 2, 4, ... 4,096 suspects before each reading, then the last 1,808 at the end.
      expect(reads).toEqual({ count: 14, records: 26_382 });
    });

    it('the first repeat among the held suspects is the one named, whatever order their ids first came in', async () => {
      const ids = ['a', 'b', 'c', 'x', 'c', 'b'];
      const { reads, reread } = rereadable((line) => record(line, ids[line - 1]), ids.length);
      const table = new RepeatedIds({ reread, fingerprint: () => [1, 2] });
      // Line 2 is read again alone and is no repeat; lines 3 and 4 then together; then 5 and 6.
      for (let line = 1; line <= 4; line++)
        expect(await table.add(record(line, ids[line - 1]))).toBeUndefined();
      expect(await table.add(record(5, 'c'))).toBeUndefined();
      expect(await table.add(record(6, 'b'))).toBeUndefined();
      expect(await table.end()).toEqual({ id: 'c', firstLine: 3, line: 5 });
      expect(reads.count).toBe(3);
    });
  });

  describe('a file changed between its first reading and a later one: an error, never a repeat at the wrong line or a repeat missed', () => {
    /** Adds `first` as read first, then looks up the repeat at its last line in `now`, the file as it is now. */
    async function lookUp(first: unknown[], now: (line: number) => InputRecord, last: number) {
      const table = new RepeatedIds({ name: 'docs.jsonl', reread: rereadable(now, last).reread });
      for (let line = 1; line < first.length; line++) await table.add(record(line, first[line - 1]));
      return table.add(record(first.length, first[first.length - 1]));
    }
    const changed = (what: string) =>
      new InputChangedError(
        `docs.jsonl changed while it was read: ${what}, so its ids cannot be checked for repeats.`,
      );
    const first = ['a', 'b', 'c', 'b'];

    it('the earlier line of the repeat was edited (bug: no repeat, silently)', async () => {
      const now = ['a', 'B', 'c', 'b'];
      await expect(lookUp(first, (line) => record(line, now[line - 1]), 4)).rejects.toEqual(
        changed('the records before line 4 are not the ones read first'),
      );
    });

    it('a line was inserted before it (bug: the repeat named at line 3, where "b" now is)', async () => {
      const now = ['new', 'a', 'b', 'c', 'b'];
      await expect(lookUp(first, (line) => record(line, now[line - 1]), 5)).rejects.toEqual(
        changed('the records before line 4 are not the ones read first'),
      );
    });

    it('an id no repeat looks at was edited, before the repeat: still an error (the file is not the one read)', async () => {
      const now = ['A', 'b', 'c', 'b'];
      await expect(lookUp(first, (line) => record(line, now[line - 1]), 4)).rejects.toThrow(
        'docs.jsonl changed while it was read: the records before line 4 are not the ones read first, so',
      );
    });

    it('it was cut short (bug: no repeat, silently)', async () => {
      await expect(lookUp(first, (line) => record(line, first[line - 1]), 1)).rejects.toEqual(
        changed('it ends before line 4, which was read before'),
      );
    });

    it('a bad line came into it: the change is said, not taken for a bad line of the input being read', async () => {
      const table = new RepeatedIds({
        name: 'docs.jsonl',
        reread: async () =>
          (async function* () {
            yield record(1, 'a');
            throw new InputError('docs.jsonl', 2, 'not valid JSON (Unexpected end of JSON input).');
          })(),
      });
      await table.add(record(1, 'a'));
      await table.add(record(2, 'b'));
      const thrown = await table.add(record(3, 'a')).catch((error: unknown) => error);
      expect(thrown).not.toBeInstanceOf(InputError);
      expect(thrown).toEqual(changed('docs.jsonl:2: not valid JSON (Unexpected end of JSON input)'));
    });

    it('lines appended after the repeat are no change: the file is read only as far as the repeat', async () => {
      const now = [...first, 'z', 'b'];
      expect(await lookUp(first, (line) => record(line, now[line - 1]), now.length)).toEqual({
        id: 'b',
        firstLine: 2,
        line: 4,
      });
    });

    it('an unchanged file still names the repeat', async () => {
      expect(await lookUp(first, (line) => record(line, first[line - 1]), 4)).toEqual({
        id: 'b',
        firstLine: 2,
        line: 4,
      });
    });
  });
});
