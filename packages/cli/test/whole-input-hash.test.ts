import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, WholeInputHash } from '../src/input-fingerprint.js';

// index reads a file twice: the second reading is held to the first block by block, so a change is found
// as the block holding it is read, whatever the chunks the file arrives in.

/** 3.5 blocks of bytes that differ from block to block. */
const BYTES = Buffer.from(Array.from({ length: 3.5 * BLOCK_BYTES }, (_, n) => (n * 7 + (n >> 20)) & 0xff));

/** `bytes` in chunks of `size` (the last one shorter). */
function chunks(bytes: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return parts;
}

function firstReading(bytes: Buffer, size = 256 * 1024) {
  const first = new WholeInputHash();
  for (const chunk of chunks(bytes, size)) first.read(chunk);
  return first.readBytes();
}

/** Reads `bytes` in chunks of `size`, held to `read`: the chunks read before it threw, and its error. */
function secondReading(read: ReturnType<typeof firstReading>, bytes: Buffer, size: number) {
  const second = new WholeInputHash({ read, changed: (what) => new Error(what) });
  let chunksRead = 0;
  try {
    for (const chunk of chunks(bytes, size)) {
      second.read(chunk);
      chunksRead++;
    }
    second.end();
    return { chunksRead, error: undefined };
  } catch (error) {
    return { chunksRead, error: (error as Error).message };
  }
}

describe('WholeInputHash: a reading held to an earlier one', () => {
  it('keeps 8 bytes a whole block (3.5 MiB: 3 whole blocks, 24 bytes), and the SHA-256 of every byte', () => {
    const read = firstReading(BYTES);
    expect(read.bytes).toBe(BYTES.length);
    expect(read.blocks.byteLength).toBe(24);
  });

  it('the same bytes in other chunks (odd sizes across the block ends) pass to the end', () => {
    const read = firstReading(BYTES);
    for (const size of [4093, 300_001, BLOCK_BYTES, 5 * BLOCK_BYTES])
      expect(secondReading(read, BYTES, size)).toEqual({
        chunksRead: Math.ceil(BYTES.length / size),
        error: undefined,
      });
  });

  it('a byte changed in the second block: thrown by the chunk that ends that block, not later (bug: found only after every byte was read)', () => {
    const read = firstReading(BYTES);
    const changed = Buffer.from(BYTES);
    changed[BLOCK_BYTES + 10]! ^= 1;
    // Chunks of a quarter block: the eighth ends the second block.
    expect(secondReading(read, changed, BLOCK_BYTES / 4)).toEqual({
      chunksRead: 7,
      error: `bytes ${BLOCK_BYTES + 1}-${2 * BLOCK_BYTES} differ`,
    });
  });

  it('a byte changed in the last, partial block: compared by the whole SHA-256 as its last byte is read', () => {
    const read = firstReading(BYTES);
    const changed = Buffer.from(BYTES);
    changed[BYTES.length - 1]! ^= 1;
    expect(secondReading(read, changed, BLOCK_BYTES)).toEqual({
      chunksRead: 3,
      error: `bytes ${3 * BLOCK_BYTES + 1}-${BYTES.length} differ`,
    });
  });

  it('bytes past the checked ones: thrown by the chunk that holds them; a reading cut short: by its end', () => {
    const read = firstReading(BYTES);
    expect(secondReading(read, Buffer.concat([BYTES, Buffer.from('more\n')]), BLOCK_BYTES)).toEqual({
      chunksRead: 3,
      error: `${BYTES.length} bytes checked, ${BYTES.length + 5} read now`,
    });
    expect(secondReading(read, BYTES.subarray(0, 2 * BLOCK_BYTES), BLOCK_BYTES)).toEqual({
      chunksRead: 2,
      error: `${BYTES.length} bytes checked, ${2 * BLOCK_BYTES} read now`,
    });
  });
});
