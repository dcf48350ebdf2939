/**
 * Core's cache encoding with a check: what embedkit's stores that keep vectors outside this process (on
 * disk, in Redis) write and read. Import from `@embedkit/core/cache-check`; it is kept out of the package's
 * root so that browser bundles do not carry it.
 *
 * A value damaged where it is kept (a bit flipped on disk, bytes another program wrote over it) keeps its
 * header and its length, so `decodeEmbedding` alone served it as the model's vector. The check is 16 bits
 * in bytes 2-3 of the header, which `decodeEmbedding` and every earlier decoder leave unread (they were
 * zero before): an entry with zero there, written before the check or by `encodeEmbedding`, is read
 * unchecked, as it was; the check itself is never 0.
 */

import { decodeEmbedding, type EncodeEmbeddingOptions, encodeEmbedding } from './cache-codec.js';
import type { Embedding } from './types.js';

/**
 * The check of an entry: every byte but 2-3 (where it is kept), hashed four at a time (the last four bytes
 * end it, so a body of single bytes is covered whatever its length), each step mixing its high bits down
 * so that two flipped sign bits or two swapped elements change it; folded to 16 bits, never 0.
 */
function checkOf(bytes: Uint8Array, view: DataView): number {
  let hash = bytes[1]!;
  for (let index = 4; index < bytes.length; index += 4) {
    hash = Math.imul(hash ^ view.getInt32(Math.min(index, bytes.length - 4), true), 0x9e3779b1);
    hash ^= hash >>> 15;
  }
  return (hash ^ (hash >>> 16)) & 0xffff || 1;
}

const viewOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** `encodeEmbedding`'s bytes for `embedding`, with their check in bytes 2-3. */
export function encodeCheckedEmbedding(
  embedding: Embedding,
  options: EncodeEmbeddingOptions = {},
): Uint8Array {
  const bytes = encodeEmbedding(embedding, options);
  const view = viewOf(bytes);
  view.setUint16(2, checkOf(bytes, view), true);
  return bytes;
}

/**
 * As `decodeEmbedding`, and undefined (a miss) for an entry whose check does not match its bytes; one
 * without a check (bytes 2-3 zero) is decoded unchecked.
 */
export function decodeCheckedEmbedding(bytes: Uint8Array, now: number = Date.now()): Embedding | undefined {
  if (bytes.length >= 16) {
    const view = viewOf(bytes);
    const check = view.getUint16(2, true);
    if (check !== 0 && check !== checkOf(bytes, view)) return undefined;
  }
  return decodeEmbedding(bytes, now);
}
