/**
 * The byte form of a cached vector, shared by every store that keeps vectors outside this process (on
 * disk, in Redis): raw elements, never JSON, so a 1,024-value float vector is 4 KiB and decodes with one
 * copy. Layout (16-byte header, so the elements start 4- and 8-byte aligned):
 *
 *   byte 0      format version (1)
 *   byte 1      element type: 1 float32, 2 int8, 3 uint8
 *   bytes 2-3   zero, or a check of the other bytes (`encodeCheckedEmbedding`, `@embedkit/core/cache-check`)
 *   bytes 4-7   element count: uint32 little-endian
 *   bytes 8-15  expiry: float64 little-endian, epoch milliseconds; 0 never expires
 *   bytes 16-   the elements, little-endian
 *
 * The element count makes a value cut short (or lengthened) by a store a miss: without it, a float entry
 * cut by a multiple of 4 bytes decodes to a shorter vector, which a model that states no vector length
 * cannot tell from its own. The count sits in the header, so a value cut at its end keeps it. Entries
 * written before the count (bytes 4-7 zero) are read as they were, unchecked, so a cache filled by an
 * earlier version still serves; decoders that predate the count read the ones written now as before.
 */

import { describeValue } from './argument-checks.js';
import { InvalidArgumentError } from './errors.js';
import { refuseUnknownSettings, type SettingNames } from './setting-names.js';
import type { Embedding } from './types.js';

const VERSION = 1;
const HEADER_BYTES = 16;
const FLOAT32 = 1;
const INT8 = 2;
const UINT8 = 3;

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function typeOf(embedding: Embedding): number {
  if (embedding instanceof Float32Array) return FLOAT32;
  if (embedding instanceof Int8Array) return INT8;
  if (embedding instanceof Uint8Array) return UINT8;
  throw new InvalidArgumentError('a cached vector must be a Float32Array, an Int8Array or a Uint8Array.', {
    argument: 'value',
  });
}

export interface EncodeEmbeddingOptions {
  /**
   * When the entry stops being served, in epoch milliseconds. Default: never. 0 is the format's mark for
   * never (the stores write `Date.now()` plus a ttl they take only above 0), so it never expires either.
   */
  expiresAt?: number;
}

const ENCODE_OPTIONS: SettingNames<EncodeEmbeddingOptions> = { expiresAt: true };

/** The bytes a store keeps for `embedding` (a fresh buffer, never a view into the vector's). */
export function encodeEmbedding(embedding: Embedding, options: EncodeEmbeddingOptions = {}): Uint8Array {
  refuseUnknownSettings(options, ENCODE_OPTIONS, 'encodeEmbedding', { noun: 'option' });
  const type = typeOf(embedding);
  const { expiresAt } = options;
  // NaN or a string would write an entry that is expired at once, every time.
  if (expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isFinite(expiresAt))) {
    throw new InvalidArgumentError(
      `expiresAt must be a time in epoch milliseconds, got ${describeValue(expiresAt)}.`,
      { argument: 'expiresAt' },
    );
  }
  const out = new Uint8Array(HEADER_BYTES + embedding.byteLength);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = type;
  view.setUint32(4, embedding.length, true);
  view.setFloat64(8, expiresAt ?? 0, true);
  if (type !== FLOAT32 || littleEndian) {
    out.set(new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength), HEADER_BYTES);
  } else {
    for (let index = 0; index < embedding.length; index++)
      view.setFloat32(HEADER_BYTES + index * 4, embedding[index]!, true);
  }
  return out;
}

/**
 * The vector in `bytes` (a copy: nothing keeps the store's buffer alive), or undefined when the entry has
 * expired at `now` or is not in this format (a newer version, a value cut short or lengthened): a miss,
 * never an error.
 */
export function decodeEmbedding(bytes: Uint8Array, now: number = Date.now()): Embedding | undefined {
  if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expiresAt = view.getFloat64(8, true);
  if (expiresAt !== 0 && !(expiresAt > now)) return undefined;
  const body = bytes.subarray(HEADER_BYTES);
  const count = view.getUint32(4, true);
  const width = bytes[1] === FLOAT32 ? 4 : 1;
  // An entry written before the count (bytes 4-7 zero) is read as it was: whole elements, unchecked.
  if (count === 0 ? body.length % width !== 0 : body.length !== count * width) return undefined;
  switch (bytes[1]) {
    // Copied through the Uint8Array constructor: `slice` on a Node Buffer keeps its class (and its old
    // `slice` was a view).
    case INT8:
      return new Int8Array(new Uint8Array(body).buffer);
    case UINT8:
      return new Uint8Array(body);
    case FLOAT32: {
      const vector = new Float32Array(body.length / 4);
      if (littleEndian) new Uint8Array(vector.buffer).set(body);
      else
        for (let index = 0; index < vector.length; index++)
          vector[index] = view.getFloat32(HEADER_BYTES + index * 4, true);
      return vector;
    }
    default:
      return undefined;
  }
}
