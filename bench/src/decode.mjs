// The float JSON decode alone: one OpenAI answer body of float vectors, already in memory, read into
// vectors by core's `requestJson` (vectors parsed from the bytes) and by `JSON.parse` followed by a
// `Float32Array` per vector (what a client that reads the floats with JSON.parse ends with). No socket, no
// server: this isolates the parser from the I/O and collector noise of the wire runs.
//
//   npm run bench -- --decode           writes the `decode` section of results/latest.md
//   npm run bench -- --decode --quick   one short round (the smoke test)

import {
  GEMINI_INDENTED,
  indentedVectorJson,
  poolVector,
  sameVector,
  VECTOR_POOL,
  vectorJson,
} from './data.mjs';
import { formatNumber, markdownTable, median, textTable, writeSection } from './report.mjs';

/** Bodies measured: vectors per answer and dimensions (the grid's calls of 128 and of 1,000). */
const SHAPES = [
  { vectors: 128, dimensions: 1_024 },
  { vectors: 128, dimensions: 3_072 },
  { vectors: 1_000, dimensions: 1_024 },
  // A Gemini batchEmbedContents answer as the API writes it by default: pretty-printed, one value a line.
  { vectors: 100, dimensions: 3_072, gemini: true },
];

/** An OpenAI float answer of `vectors` pool vectors, as the loopback server writes it. */
function body(vectors, dimensions) {
  const data = [];
  for (let index = 0; index < vectors; index++) {
    const values = vectorJson(poolVector(index % VECTOR_POOL, dimensions));
    data.push(`{"object":"embedding","index":${index},"embedding":${values}}`);
  }
  const text = `{"object":"list","data":[${data.join(',')}],"model":"text-embedding-3-small","usage":{"prompt_tokens":${vectors * 8},"total_tokens":${vectors * 8}}}`;
  return new TextEncoder().encode(text);
}

/** A Gemini answer of `vectors` pool vectors, indented as the API's default `prettyPrint` writes it. */
function geminiBody(vectors, dimensions) {
  const { batchOpen, itemSeparator, itemOpen, itemClose, batchClose } = GEMINI_INDENTED;
  const items = [];
  for (let index = 0; index < vectors; index++) {
    const values = indentedVectorJson(poolVector(index % VECTOR_POOL, dimensions), 3);
    items.push(`${itemOpen}${values}${itemClose}`);
  }
  return new TextEncoder().encode(`${batchOpen}${items.join(itemSeparator)}${batchClose}`);
}

/**
 * CPU microseconds (user + system) per vector of `decode`, called over and over for at least
 * `minimumMs` (and at least twice). `requestJson` is async only at its transport: once the body is there
 * the decode runs in one go, so awaiting each call adds only a promise's cost, counted as embedkit's.
 */
async function timeDecode(decode, vectors, minimumMs) {
  const before = process.cpuUsage();
  const started = performance.now();
  let calls = 0;
  while (performance.now() - started < minimumMs || calls < 2) {
    await decode();
    calls++;
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (calls * vectors);
}

/** Throws unless `vectors` are the answer's pool vectors, each a `Float32Array`. */
function checkVectors(who, vectors, count, dimensions) {
  if (vectors.length !== count) throw new Error(`${who}: ${vectors.length} vectors, not ${count}`);
  vectors.forEach((vector, index) => {
    if (!(vector instanceof Float32Array) || !sameVector(vector, poolVector(index % VECTOR_POOL, dimensions)))
      throw new Error(`${who}: vector ${index} is not the one the answer carries`);
  });
}

export async function decodeRun({ out, log, quick }) {
  const { requestJson } = await import('@embedkit/core/provider');
  const rounds = quick ? 1 : 7;
  const minimumMs = quick ? 20 : 400;
  const rows = [];
  log(
    `float JSON decode, in memory (no socket): ${quick ? '1 round' : `median of ${rounds} interleaved rounds`}, Node ${process.version}`,
  );
  for (const { vectors, dimensions, gemini } of SHAPES) {
    const bytes = gemini ? geminiBody(vectors, dimensions) : body(vectors, dimensions);
    const items = gemini ? (answer) => answer.embeddings : (answer) => answer.data;
    const vector = gemini ? (item) => item.values : (item) => item.embedding;
    const transport = {
      kind: 'fetch',
      request: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: bytes }),
    };
    const ours = async () => {
      const response = await requestJson({
        transport,
        provider: 'bench',
        url: 'http://bench.invalid/v1/embeddings',
        floatVectors: [gemini ? 'embeddings[*].values' : 'data[*].embedding'],
      });
      return items(response.body).map(vector);
    };
    const decoder = new TextDecoder();
    const theirs = () =>
      items(JSON.parse(decoder.decode(bytes))).map((item) => Float32Array.from(vector(item)));
    checkVectors('embedkit', await ours(), vectors, dimensions);
    checkVectors('JSON.parse', theirs(), vectors, dimensions);
    // Warm both up, then interleave the rounds so a noisy moment hurts them alike.
    await timeDecode(ours, vectors, minimumMs);
    await timeDecode(theirs, vectors, minimumMs);
    const oursRuns = [];
    const theirsRuns = [];
    for (let round = 0; round < rounds; round++) {
      oursRuns.push(await timeDecode(ours, vectors, minimumMs));
      theirsRuns.push(await timeDecode(theirs, vectors, minimumMs));
    }
    const row = {
      shape: `${vectors.toLocaleString('en-US')} x ${dimensions.toLocaleString('en-US')}${gemini ? ' (Gemini, pretty-printed)' : ''}`,
      vectors,
      megabytes: bytes.length / 1e6,
      ours: median(oursRuns),
      theirs: median(theirsRuns),
    };
    rows.push(row);
    log(
      `  ${row.shape.padEnd(36)} embedkit ${formatNumber(row.ours)} µs / vector, JSON.parse ${formatNumber(row.theirs)} µs / vector`,
    );
  }
  const headers = [
    'answer (vectors x dimensions)',
    'body MB',
    'embedkit µs / vector',
    'JSON.parse + Float32Array µs / vector',
    'JSON.parse / embedkit',
    'embedkit MB/s',
  ];
  const table = rows.map((row) => [
    row.shape,
    formatNumber(row.megabytes, 1),
    formatNumber(row.ours),
    formatNumber(row.theirs),
    `${formatNumber(row.theirs / row.ours, 2)}x`,
    formatNumber((row.megabytes * 1e6) / (row.vectors * row.ours), 0),
  ]);
  log('');
  log(textTable(headers, table));
  if (quick) return rows;
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  writeSection(
    out,
    'decode',
    'embedkit benchmarks',
    [
      `## Float JSON decode, in memory (${date})`,
      '',
      `One answer of float vectors (the loopback server's digits: OpenAI's compact JSON, and Gemini's as the API indents it by default), already in memory, read by \`requestJson\` with \`floatVectors\` (core's parser) and by \`JSON.parse\` then a \`Float32Array\` per vector; both are checked to give the answer's float32 values. CPU per vector, median of ${rounds} interleaved rounds of at least ${minimumMs} ms each; Node ${process.version}. No socket and no server, so the figures hold the parser apart from the wire's I/O and collector costs.`,
      '',
      markdownTable(headers, table),
      '',
      'Reproduce: `npm run bench -- --decode`.',
    ].join('\n'),
  );
  log(`wrote ${out}`);
  return rows;
}
