import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConsumedInputHash } from '../src/input-fingerprint.js';
import { lines, openInput } from '../src/inputs.js';
import { temporaryDirectory } from './helpers.js';

// In-process: the line reader's cost and byte offsets, which the checkpoint's fingerprint relies on.

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

async function* chunks(...parts: (string | number[])[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part);
}

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
});
