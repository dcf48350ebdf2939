import type { EmbedInput } from '../types.js';

/** Counts the tokens of an input for batching. `exact: true` lets the engine reject over-long inputs before sending. */
export interface TokenCounter {
  /** True when `count` is the model's real tokenizer; false for an estimate. */
  readonly exact: boolean;
  count(input: EmbedInput): number;
}

/** Tokens counted for each image part by the default estimate (Voyage charges about 560 per megapixel). */
export const IMAGE_TOKEN_ESTIMATE = 1_000;

const nodeByteLength = (
  globalThis as { Buffer?: { byteLength(text: string, encoding: 'utf8'): number } }
).Buffer?.byteLength.bind((globalThis as { Buffer?: object }).Buffer);

/**
 * UTF-8 length of a string without encoding it (natively on Node). A surrogate pair is 4 bytes; a lone
 * surrogate is 3, the replacement character every encoder writes in its place.
 */
export function utf8Length(text: string): number {
  if (nodeByteLength !== undefined) return nodeByteLength(text, 'utf8');
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code <= 0xdbff && code >= 0xd800 && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      // A high surrogate and its low one: two units, four bytes.
      bytes += 2;
      index++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * The default: half the UTF-8 byte length, rounded up, plus 1,000 per image. Byte-level BPE tokenizers
 * average about 4 bytes per token on English and rarely fall below 2 bytes per token (digits, code,
 * rare scripts), so this overestimates almost always: right for packing calls under a token budget
 * (an overestimate only costs an extra call) but not for rejecting inputs, so it is not `exact`.
 */
export const estimateTokenCounter: TokenCounter = {
  exact: false,
  count(input: EmbedInput): number {
    if (typeof input === 'string') return Math.ceil(utf8Length(input) / 2);
    if ('text' in input) return Math.ceil(utf8Length(input.text) / 2);
    if ('image' in input) return IMAGE_TOKEN_ESTIMATE;
    let total = 0;
    for (const part of input.content)
      total += part.type === 'text' ? Math.ceil(utf8Length(part.text) / 2) : IMAGE_TOKEN_ESTIMATE;
    return total;
  },
};
