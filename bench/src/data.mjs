import { seededRandom } from '@embedkit/core/testing';
// Deterministic inputs and vectors shared by the loopback server and every client, so that each client
// embeds the same texts and must get back exactly the same numbers.

/** Distinct vectors the server serves; input `#i` gets vector `i % VECTOR_POOL` (a prime, so batches never align). */
export const VECTOR_POOL = 1009;

const WORDS = (
  'the quick brown fox jumps over lazy dog vector search index query document embedding model ' +
  'retrieval ranking semantic cosine similarity cluster token batch latency memory stream answer'
).split(' ');

/** Input number `index`: `#<index> ` then 16 to 24 words, about 120 characters of English-like text. */
export function inputText(index) {
  const random = seededRandom(index * 2654435761);
  const count = 16 + Math.floor(random() * 9);
  const parts = [`#${index}`];
  for (let word = 0; word < count; word++) parts.push(WORDS[Math.floor(random() * WORDS.length)]);
  // join() makes a flat string; a `+=` chain would leave a rope that the first client to read it flattens,
  // freeing memory in the middle of a measurement.
  return parts.join(' ');
}

/** Inputs `start` .. `start + count - 1`. */
export function makeInputs(count, start = 0) {
  const inputs = new Array(count);
  for (let index = 0; index < count; index++) inputs[index] = inputText(start + index);
  return inputs;
}

/** The input number written at the start of a text (`#123 ...`); texts without one hash to a number. */
export function inputNumber(text) {
  if (text.charCodeAt(0) === 35 /* # */) {
    let value = 0;
    for (let position = 1; position < text.length; position++) {
      const digit = text.charCodeAt(position) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    return value;
  }
  let hash = 2166136261;
  for (let position = 0; position < text.length; position++)
    hash = Math.imul(hash ^ text.charCodeAt(position), 16777619);
  return hash >>> 0;
}

/**
 * Tokens the server charges for a text: UTF-8 bytes / 4, rounded up (OpenAI's rule of thumb for English;
 * cl100k_base gives about the same for these inputs). The server reports this as usage and rate-limits by it.
 */
export function serverTokens(text) {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

/** Which of the pool's vectors input `index` maps to. */
export function vectorId(index) {
  return index % VECTOR_POOL;
}

/** Unit-length float32 vector number `id` (of the pool) at `dimensions`. */
export function poolVector(id, dimensions) {
  const random = seededRandom((id + 1) * 40503 + dimensions * 7919);
  const vector = new Float32Array(dimensions);
  let sum = 0;
  for (let index = 0; index < dimensions; index++) {
    // Sum of uniforms: roughly normal, like real embedding coordinates.
    const value = random() + random() + random() - 1.5;
    vector[index] = value;
    sum += value * value;
  }
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < dimensions; index++) vector[index] *= scale;
  return vector;
}

/** The vector every client must return for `text` at `dimensions`. */
export function expectedVector(text, dimensions) {
  return poolVector(vectorId(inputNumber(text)), dimensions);
}

/**
 * The shortest decimal that reads back as the same float32 (what real APIs print: `-0.012345678`), so a
 * JSON float answer and a base64 answer decode to identical values.
 */
export function float32Text(value) {
  for (let precision = 1; precision <= 9; precision++) {
    const text = value.toPrecision(precision);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

/**
 * A vector as a JSON array of shortest float32 decimals, what a float answer carries for it. Built with
 * join(), so the string is flat (a concatenated one is flattened, and memory freed, when first read).
 */
export function vectorJson(vector) {
  return ['[', Array.from(vector, float32Text).join(','), ']'].join('');
}

/**
 * `vector` as a JSON array the way the Gemini API indents its answers by default: one value a line,
 * two spaces a level, the array itself at `depth` levels.
 */
export function indentedVectorJson(vector, depth) {
  const inner = ' '.repeat(2 * (depth + 1));
  return `[\n${inner}${Array.from(vector, float32Text).join(`,\n${inner}`)}\n${' '.repeat(2 * depth)}]`;
}

/**
 * The text around the vectors of a Gemini answer indented as the API writes it by default: an
 * `embedContent` answer is `singleOpen`, the values at depth 2, `singleClose`; a `batchEmbedContents`
 * answer is `batchOpen`, then each item's `itemOpen` (`itemSeparator` before all but the first), its
 * values at depth 3 and `itemClose`, then `batchClose`.
 */
export const GEMINI_INDENTED = {
  singleOpen: '{\n  "embedding": {\n    "values": ',
  singleClose: '\n  }\n}\n',
  batchOpen: '{\n  "embeddings": [\n',
  itemSeparator: ',\n',
  itemOpen: '    {\n      "values": ',
  itemClose: '\n    }',
  batchClose: '\n  ]\n}\n',
};

/** Whether `actual` (typed array or number[]) holds exactly the float32 values of `expected`. */
export function sameVector(actual, expected) {
  if (actual === undefined || actual === null || actual.length !== expected.length) return false;
  for (let index = 0; index < expected.length; index++) {
    if (Math.fround(actual[index]) !== expected[index]) return false;
  }
  return true;
}

/** Checks a sample of a client's results (first, last and spread between); returns a problem or undefined. */
export function verifyResults(inputs, results, dimensions) {
  if (!results || results.length !== inputs.length)
    return `expected ${inputs.length} vectors, got ${results?.length}`;
  const step = Math.max(1, Math.floor(inputs.length / 37));
  const positions = new Set([0, inputs.length - 1]);
  for (let index = 0; index < inputs.length; index += step) positions.add(index);
  for (const position of positions) {
    if (!sameVector(results[position], expectedVector(inputs[position], dimensions)))
      return `vector ${position} differs from what the server sent`;
  }
  return undefined;
}
