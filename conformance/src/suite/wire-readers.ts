/**
 * A wire profile's readers of request bodies held to what they must read. A provider that sends a field
 * under another name than its wire profile reads (`docs` for `documents`, `q` for `query`, `texts` for
 * `input`), or in another shape (a contextualized call's chunks flat, not nested by document), made a
 * reader answer undefined or the wrong shape, and the suite then failed with a TypeError of its own code,
 * or with a count of zero items in the answer, naming neither the reader nor the field.
 */
import { strict as assert } from 'node:assert';
import { describeValue } from '@embedkit/core/provider';

/** What one reader must read from a request body. */
export interface Reading {
  /** What the reader must answer, in words: `a list of texts`. */
  shape: string;
  /** What the provider sends there, in words: `inputs`, `query`. */
  sends: string;
  /** Whether the reader answers a list of such items (never empty: no call is sent without them), or one. */
  list: boolean;
  /** Whether `value` is the item (or the one value) the reader must answer. */
  item(value: unknown): boolean;
  /** The mistake a value read amiss tells of, where it tells more than a misnamed field. */
  mistake?(value: unknown): string | undefined;
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isTexts = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every(isText);

/** A single text, never empty (the engine refuses an empty one before any call), such as a rerank call's query. */
export const aText = (sends: string): Reading => ({
  shape: 'a text',
  sends,
  list: false,
  item: (value) => isText(value) && value !== '',
});

/** A list of texts, such as an embeddings call's inputs or a rerank call's documents. */
export const textList = (sends: string): Reading => ({
  shape: 'a list of texts',
  sends,
  list: true,
  item: isText,
});

/** A list of documents, each a list of chunk texts, as a contextualized call sends them. */
export const chunkLists = (sends: string): Reading => ({
  shape: 'a list of documents, each a list of chunk texts',
  sends,
  list: true,
  item: isTexts,
  mistake: (value) =>
    isTexts(value)
      ? "the provider sent the chunks flat, each as a document of its own, where the API takes each document's chunks as one list, or the wire's reader flattens them"
      : undefined,
});

function holds(reading: Reading, value: unknown): boolean {
  if (!reading.list) return reading.item(value);
  return Array.isArray(value) && value.length > 0 && value.every((item) => reading.item(item));
}

/** `value` in words; a list by its first item that is not what the reading takes. */
function describeRead(value: unknown, reading: Reading): string {
  if (!reading.list || !Array.isArray(value)) return describeValue(value);
  if (value.length === 0) return 'an empty list';
  const index = value.findIndex((item) => !reading.item(item));
  const item: unknown = value[index];
  const shown = Array.isArray(item)
    ? item.length === 0
      ? 'an empty list'
      : 'a list of other than texts'
    : describeValue(item);
  return `a list whose item ${index} is ${shown}`;
}

/** The fields a request body has, or the body itself where it has no fields. */
function bodyFields(body: unknown): string {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? `the body's fields: ${Object.keys(body).sort().join(', ') || 'none'}`
    : `the body: ${describeValue(body)}`;
}

/**
 * `wire` with each reader `readings` names checked: one that reads anything but what its reading takes
 * fails the scenario naming the reader, what it read, what the provider should send there, and the
 * fields the body has. Readers the wire lacks stay absent; the wire's other fields are kept as they are.
 */
export function readingWire<W extends object>(
  wire: W,
  readings: Partial<Record<keyof W & string, Reading>>,
): W {
  const checked = Object.create(wire) as Record<string, unknown>;
  for (const [name, reading] of Object.entries(readings) as [string, Reading][]) {
    const read = (wire as Record<string, unknown>)[name];
    if (typeof read !== 'function') continue;
    checked[name] = (body: unknown): unknown => {
      const value: unknown = read.call(wire, body);
      if (holds(reading, value)) return value;
      const mistake =
        reading.mistake?.(value) ??
        `the provider sent its ${reading.sends} under another field than the wire profile reads, or ${name} reads the wrong one`;
      assert.fail(
        `the wire's ${name} read ${describeRead(value, reading)} from a request body, not ${reading.shape}: ${mistake} (${bodyFields(body)})`,
      );
    };
  }
  return checked as W;
}
