/**
 * What the fake APIs answer: deterministic vectors per input and output type, their wire encodings, and
 * the ways the malformed-answer scenarios spoil a correct answer.
 */
import { isDeepStrictEqual } from 'node:util';
import type { OutputType } from '@embedkit/core';
import { base64ToFloat32, bytesToBase64, float32ToBase64, vectorLength } from '@embedkit/core/provider';
import { hashVector } from '@embedkit/core/testing';
import type { VectorEncoding } from '../types.js';

/** The float vector the fake API returns for an input: deterministic, unit length, exact in float32. */
export function vectorFor(text: string, dimensions: number): number[] {
  return Array.from(hashVector(text, dimensions));
}

/**
 * The tokens the fake APIs report for one input: an arbitrary number from the text's hash, between 1,009
 * and 5,008, that no local estimate (characters, bytes, words, a quarter of the bytes) gives, so a provider
 * that guesses usage instead of reporting the API's count fails. Summed per call, so it adds up over calls.
 */
export function reportedTokens(text: string): number {
  let hash = 2166136261;
  for (const character of text) {
    hash ^= character.codePointAt(0)!;
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return 1_009 + (hash % 4_000);
}

/**
 * The success body `write` makes of an answer: with `usageTokens` when the answer reports usage, without
 * when it does not. A wire profile that writes an answer without usage as a count of 0 is refused by name:
 * it would make right a provider that reports a 0 the API never gave.
 */
export function answerBody(
  write: (usage: { usageTokens?: number }) => unknown,
  reportsUsage: boolean,
  usageTokens: number | undefined,
): unknown {
  const body = write(usageTokens === undefined ? {} : { usageTokens });
  if (reportsUsage && usageTokens === undefined && isDeepStrictEqual(body, write({ usageTokens: 0 })))
    throw new Error(
      'the wire profile wrote usage 0 for an answer without usage: successBody must leave usage out when usageTokens is absent',
    );
  return body;
}

/**
 * The total the fake APIs report beside the input tokens where a wire has both (OpenAI's `total_tokens`
 * beside `prompt_tokens`): more than them, as it would be for a request that used tokens of other
 * kinds, so a provider that reports the total as the input tokens fails.
 */
export function reportedTotalTokens(inputTokens: number): number {
  return inputTokens + 97;
}

const SIGNED: Partial<Record<OutputType, boolean>> = { int8: true, binary: true };

/**
 * The vector the fake API returns for an input in `outputType`: floats, or for the quantized types one
 * integer per byte (`dimensions / 8` bytes for the bit-packed `binary` and `ubinary`), spread over the
 * type's whole range so a signed/unsigned mix-up or a rescaling shows.
 */
export function valuesFor(text: string, dimensions: number, outputType: OutputType = 'float'): number[] {
  if (outputType === 'float') return vectorFor(text, dimensions);
  const length = vectorLength(outputType, dimensions);
  const seed = hashVector(`${outputType}:${text}`, length);
  return Array.from(seed, (value, index) => {
    // hashVector's values are unit-length; spread each over 0..255 by its own hash.
    const byte = Math.floor((((value * 1_000_003 + index * 97) % 1) + 1) * 256) % 256;
    return SIGNED[outputType] === true ? byte - 128 : byte;
  });
}

/** How `values` of `outputType` travel on a wire: JSON numbers, or base64 of their raw little-endian bytes. */
export function encodeVector(
  values: readonly number[],
  outputType: OutputType,
  encoding: VectorEncoding,
): string | number[] {
  if (encoding === 'float') return [...values];
  if (outputType === 'float') return float32ToBase64(values);
  const bytes = SIGNED[outputType] === true ? Int8Array.from(values) : Uint8Array.from(values);
  return bytesToBase64(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The typed array an output type decodes to. */
export function arrayClassOf(outputType: OutputType): string {
  return outputType === 'float' ? 'Float32Array' : SIGNED[outputType] === true ? 'Int8Array' : 'Uint8Array';
}

/** A value no real vector holds; the rewriting scenarios put it in a vector and then replace its text. */
export const MARKER_VALUE = 0.123456789;
const MARKER_TEXT = JSON.stringify(Math.fround(MARKER_VALUE));

/** Puts the marker into `vector` (a float vector, as JSON numbers) so its text can be replaced. */
export function markFloat(vector: number[]): void {
  vector[1] = Math.fround(MARKER_VALUE);
}

/**
 * Replaces the marker's text in a serialized body with `replacement` (e.g. `NaN`, which Python's JSON
 * writer emits, or `1e39`, which overflows float32). Throws when the body holds no marker: the wire
 * profile then wrote the vector in a form the suite cannot find.
 */
export function replaceMarker(text: string, replacement: string): string {
  if (!text.includes(MARKER_TEXT))
    throw new Error('the wire profile wrote no JSON float vector the suite could rewrite');
  return text.replace(MARKER_TEXT, replacement);
}

/**
 * Whether `write` (a wire's `successBody`, given a bare request body and one vector holding the marker)
 * writes the vector as JSON numbers the suite can rewrite. For a wire that cannot say which encoding a
 * request asks (no `encodingOf`): one that only ever answers JSON floats says so here. A writer that
 * throws on the bare body, or writes the vector another way (base64), is taken to answer no JSON floats.
 */
export function writesJsonFloats(
  write: (request: { body: unknown; vectors: number[][]; order: number[]; usageTokens?: number }) => unknown,
): boolean {
  const vector = [0.25, 0, 0.5, 0.75];
  markFloat(vector);
  try {
    return JSON.stringify(write({ body: {}, vectors: [vector], order: [0], usageTokens: 1 })).includes(
      MARKER_TEXT,
    );
  } catch {
    return false;
  }
}

/** Replaces the base64 of `values` in a serialized body with `replacement`; throws when it is not there. */
export function replaceBase64(text: string, values: readonly number[], replacement: string): string {
  const original = float32ToBase64(values);
  if (!text.includes(original))
    throw new Error('the wire profile wrote no base64 float vector the suite could rewrite');
  return text.replace(original, replacement);
}

/** Base64 of the float32 bytes of `values` with `extraBytes` more (2: a partial value; 4: one value too many). */
export function base64WithExtraBytes(values: readonly number[], extraBytes: number): string {
  const floats = Float32Array.from(values);
  const bytes = new Uint8Array(floats.byteLength + extraBytes);
  bytes.set(new Uint8Array(floats.buffer));
  bytes.fill(0x3f, floats.byteLength);
  return bytesToBase64(bytes);
}

/**
 * A recorded answer with every float vector under `key` (at any depth) rewritten into `encoding`:
 * base64 strings decoded to JSON numbers, or numbers encoded as base64. For `encodingSwap`.
 */
export function reencodeVectors(body: unknown, encoding: VectorEncoding, key = 'embedding'): unknown {
  if (Array.isArray(body)) return body.map((item) => reencodeVectors(item, encoding, key));
  if (typeof body !== 'object' || body === null) return body;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === key && encoding === 'float' && typeof value === 'string')
      out[name] = Array.from(base64ToFloat32(value));
    else if (name === key && encoding === 'base64' && Array.isArray(value))
      out[name] = float32ToBase64(value as number[]);
    else out[name] = reencodeVectors(value, encoding, key);
  }
  return out;
}
