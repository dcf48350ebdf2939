import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConsumedInputHash } from '../src/input-fingerprint.js';
import { lines, openInput } from '../src/inputs.js';
import { chunks, collect, temporaryDirectory } from './helpers.js';

// In-process: the line reader's cost and byte offsets, which the checkpoint's fingerprint relies on.

describe('the line reader', () => {
  const directory = temporaryDirectory();
  afterAll(() => directory.remove());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads a 32 MiB line with one copy of it, not one per chunk (bug: quadratic re-concatenation, 8 s for 50 MB)', async () => {
    const size = 32 * 1024 * 1024;
    const path = join(directory.path, 'long.txt');
    writeFileSync(path, `${'a'.repeat(size)}\nitem 2\n`);
    // Every byte any Buffer.concat copies, whoever calls it.
    let copied = 0;
    const concat = Buffer.concat;
    vi.spyOn(Buffer, 'concat').mockImplementation((list, totalLength) => {
      const joined = concat(list, totalLength);
      copied += joined.length;
      return joined;
    });
    const source = await openInput({ path });
    const records = await collect(source.records);
    expect(records.map((record) => [record.line, record.text.length])).toEqual([
      [1, size],
      [2, 6],
    ]);
    // The file arrives in 128 chunks of 256 KiB; copying the partial line at each would copy 2 GiB.
    expect(copied).toBeLessThanOrEqual(size);
  });

  it('gives each line the byte where its text ends: CR, LF and a byte-order mark split across chunks', async () => {
    const reading = { maxLineBytes: 100, consumed: new ConsumedInputHash() };
    const read = await collect(
      lines(chunks([0xef, 0xbb], [0xbf, 0x61, 0x0d], '\nb', '\r\n', 'c'), 'x', reading),
    );
    expect(read).toEqual([
      { number: 1, text: 'a', end: 4, crlf: true },
      { number: 2, text: 'b', end: 7, crlf: true },
      { number: 3, text: 'c', end: 10 },
    ]);
  });

  it('refuses a line past the cap while it is still arriving, naming its line', async () => {
    const reading = { maxLineBytes: 8, consumed: new ConsumedInputHash(), option: '--max-line-bytes' };
    const read = lines(chunks('ok\n12345', '6789', '0123456789'), 'big.txt', reading);
    expect((await read.next()).value).toEqual({ number: 1, text: 'ok', end: 2 });
    await expect(read.next()).rejects.toThrow(
      'big.txt:2: the line is longer than --max-line-bytes (8 bytes); pass a larger --max-line-bytes if it is meant to be one input.',
    );
  });

  it('keeps a U+FEFF that starts a later line; drops only the mark that starts the stream (bug: every line lost it)', async () => {
    const reading = { maxLineBytes: 100, consumed: new ConsumedInputHash() };
    const bom = [0xef, 0xbb, 0xbf];
    const read = await collect(lines(chunks([...bom, 0x61, 0x0a], [...bom, 0x62, 0x0a], bom), 'x', reading));
    expect(read.map((line) => line.text)).toEqual(['a', '\ufeffb', '\ufeff']);
  });

  it('skips only lines of ASCII spaces, tabs and CRs: a line of U+FEFF, NBSP or another Unicode space is an input on its line (bug: String.trim dropped them unsaid)', async () => {
    // Line 1 "a", 2 U+FEFF, 3 NBSP, 4 spaces, a tab and a lone CR before the CRLF, 5 U+2003, 6 empty, 7 "b".
    const text = 'a\n\ufeff\n\u00a0\n \t\r\r\n\u2003\n\nb\n';
    const path = join(directory.path, 'unicode-spaces.txt');
    writeFileSync(path, text);
    const records = await collect((await openInput({ path })).records);
    expect(records.map((record) => [record.line, record.text])).toEqual([
      [1, 'a'],
      [2, '\ufeff'],
      [3, '\u00a0'],
      [5, '\u2003'],
      [7, 'b'],
    ]);
    // JSONL and CSV skip the same lines: a line of U+FEFF is not JSON, so it is a bad line, never dropped.
    const jsonl = join(directory.path, 'unicode-spaces.jsonl');
    writeFileSync(jsonl, '{"text":"a"}\n \t\n\ufeff\n');
    const read = (await openInput({ path: jsonl })).records;
    expect((await read.next()).value).toMatchObject({ line: 1, text: 'a' });
    await expect(read.next()).rejects.toThrow(`${jsonl}:3: not valid JSON`);
    const csv = join(directory.path, 'unicode-spaces.csv');
    writeFileSync(csv, 'text\na\n \t\n\u00a0\n');
    expect(
      (await collect((await openInput({ path: csv })).records)).map((record) => [record.line, record.text]),
    ).toEqual([
      [2, 'a'],
      [4, '\u00a0'],
    ]);
  });

  it('sends a JSONL field of NBSP or U+FEFF; refuses one of ASCII spaces, tabs and line breaks only as empty (bug: "\\u00a0" was called empty)', async () => {
    const path = join(directory.path, 'field-spaces.jsonl');
    writeFileSync(path, '{"text":"\\u00a0"}\n{"text":"\\ufeff"}\n{"text":" \\t\\r\\n"}\n');
    const read = (await openInput({ path })).records;
    expect((await read.next()).value).toMatchObject({ line: 1, text: '\u00a0' });
    expect((await read.next()).value).toMatchObject({ line: 2, text: '\ufeff' });
    await expect(read.next()).rejects.toThrow(
      `${path}:3: the "text" field is empty; embedding APIs reject empty inputs.`,
    );
  });

  it.each([
    ['a Latin-1 byte', [0x63, 0x61, 0x66, 0xe9], '0xE9 at column 4'],
    ['a sequence cut short by the line end', [0xc3, 0xa9, 0x61, 0xe2, 0x82], '0xE2 at column 3'],
    ['an overlong form', [0x61, 0xc0, 0xaf], '0xC0 at column 2'],
    ['an encoded surrogate', [0xed, 0xa0, 0x80], '0xED at column 1'],
  ])(
    'refuses %s, naming the byte and its column in characters (bug: replaced by U+FFFD)',
    async (_, bytes, where) => {
      const reading = { maxLineBytes: 100, consumed: new ConsumedInputHash() };
      const read = lines(chunks('ok\n', [...bytes, 0x0a]), 'in.txt', reading);
      expect((await read.next()).value).toMatchObject({ text: 'ok' });
      await expect(read.next()).rejects.toThrow(
        `in.txt:2: the byte ${where} is not valid UTF-8; texts are sent byte for byte, so none is replaced. Convert the input to UTF-8 first, e.g. (for Latin-1) pipe it through iconv -f latin1 -t utf-8.`,
      );
    },
  );

  it.each([
    ['in.txt', 'iconv -f latin1 -t utf-8 in.txt > in.utf8.txt'],
    // Quoted as one shell word, and the copy keeps the extension that says how its lines are read
    // (bug: the path was pasted bare and the copy was always converted.txt, read as plain text).
    [
      "my docs/Bob's.jsonl",
      "iconv -f latin1 -t utf-8 'my docs/Bob'\\''s.jsonl' > 'my docs/Bob'\\''s.utf8.jsonl'",
    ],
  ])('for a file %s, the conversion is a command to paste', async (name, command) => {
    const reading = { maxLineBytes: 100, consumed: new ConsumedInputHash(), file: true };
    const read = lines(chunks([0xe9, 0x0a]), name, reading);
    await expect(read.next()).rejects.toThrow(`e.g. (for Latin-1) ${command}.`);
  });

  it('a line of exactly the cap is accepted, with or without a CR before its LF', async () => {
    const reading = { maxLineBytes: 4, consumed: new ConsumedInputHash() };
    const read = await collect(lines(chunks('abcd\r', '\nefgh'), 'x', reading));
    expect(read.map((line) => line.text)).toEqual(['abcd', 'efgh']);
  });
});

describe('the consumed-input hash', () => {
  it('is the SHA-256 of exactly the bytes up to the last input written, whatever the chunking', () => {
    const text = Buffer.from('one\ntwo\nthree\nfour\n');
    const hash = new ConsumedInputHash();
    hash.read(text.subarray(0, 5));
    hash.read(Buffer.alloc(0));
    hash.read(text.subarray(5, 11));
    hash.advance(3);
    expect(hash.digest()).toBe(createHash('sha256').update('one').digest('hex'));
    hash.read(text.subarray(11));
    hash.advance(13);
    expect(hash.bytes).toBe(13);
    expect(hash.digest()).toBe(createHash('sha256').update('one\ntwo\nthree').digest('hex'));
    expect(() => hash.advance(text.length + 1)).toThrow('is hashed before it was read');
  });

  it('stays exact when the reader gets 16 MiB ahead of the writer and the bytes are hashed ahead', () => {
    // "one", "two", 17 MiB of blank lines, then "three": the reader passes the blank lines while the
    // first two inputs are not yet written.
    const blank = Buffer.alloc(17 * 1024 * 1024, 0x0a);
    const text = Buffer.concat([Buffer.from('one\ntwo\n'), blank, Buffer.from('three\n')]);
    const sha = (end: number) => createHash('sha256').update(text.subarray(0, end)).digest('hex');
    const hash = new ConsumedInputHash();
    hash.read(text.subarray(0, 1024 * 1024));
    hash.inputRead(3);
    hash.inputRead(7);
    hash.read(text.subarray(1024 * 1024));
    const threeEnd = text.length - 1;
    hash.passed(threeEnd - 6);
    hash.inputRead(threeEnd);
    expect([hash.bytes, hash.digest()]).toEqual([0, sha(0)]);
    hash.advance(3);
    expect([hash.bytes, hash.digest()]).toEqual([3, sha(3)]);
    hash.advance(7);
    expect([hash.bytes, hash.digest()]).toEqual([7, sha(7)]);
    hash.advance(threeEnd);
    expect([hash.bytes, hash.digest()]).toEqual([threeEnd, sha(threeEnd)]);
  });

  it('keeps nothing and stays empty when no fingerprint is wanted', () => {
    const hash = new ConsumedInputHash(false);
    hash.read(Buffer.from('one\n'));
    hash.inputRead(3);
    hash.advance(3);
    expect([hash.bytes, hash.digest()]).toEqual([0, createHash('sha256').digest('hex')]);
  });
});
