// One measurement in its own process (forked by run.mjs with --expose-gc): a client embedding a job
// against the loopback server, the number[] reference, or topK. Sends one result message and exits.

import { clientById, baseURLs, Skip } from './clients.mjs';
import { float32Text, makeInputs, poolVector, VECTOR_POOL, verifyResults } from './data.mjs';

const job = JSON.parse(process.env.BENCH_JOB);
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with --expose-gc');

function collect() {
  gc();
  gc();
}

/** Bytes the program holds: the JS heap plus ArrayBuffer backing stores (typed arrays, Buffers). */
function heldBytes() {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function cpuMs(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** An unmeasured run on other inputs, so that every client is measured with its code paths compiled. */
async function warmUp(adapter) {
  if (!(job.warmupInputs > 0)) return;
  const warmup = makeInputs(job.warmupInputs, 10_000_000);
  const result = await adapter.embed(warmup);
  const problem = verifyResults(warmup, adapter.vectors(result), job.dimensions);
  if (problem) throw new Error(`warm-up: ${problem}`);
}

/**
 * One measured job. Everything it allocated is unreachable once it returns (its frame is gone), so the
 * next repetition starts from the same heap.
 */
async function measureOnce(adapter, inputs) {
  collect();
  const before = heldBytes();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const result = await adapter.embed(inputs);
  const vectors = adapter.vectors(result);
  const wallMs = performance.now() - wallStart;
  const cpu = cpuMs(cpuStart);
  // Hold only the vectors (what a user keeps); the rest of the result is garbage after this point.
  collect();
  const retainedBytes = heldBytes() - before;
  const problem = verifyResults(inputs, vectors, job.dimensions);
  return { cpuMs: cpu, wallMs, retainedBytes, problem };
}

async function measureClient() {
  const client = clientById(job.client);
  const context = {
    baseURL: baseURLs(job.port),
    key: job.key,
    dimensions: job.dimensions,
    batch: job.batch,
    concurrency: job.concurrency,
    rateLimited: job.rateLimited ?? false,
    clientRateLimit: job.clientRateLimit,
  };
  const adapter = await client.create(context);
  const inputs = makeInputs(job.inputs);
  for (let round = 0; round < (job.warmupRounds ?? 1); round++) await warmUp(adapter);
  const runs = [];
  let problem;
  for (let repetition = 0; repetition < job.repetitions; repetition++) {
    const run = await measureOnce(adapter, inputs);
    problem ??= run.problem;
    runs.push({ cpuMs: run.cpuMs, wallMs: run.wallMs, retainedBytes: run.retainedBytes });
  }
  return {
    runs,
    cpuMs: median(runs.map((run) => run.cpuMs)),
    wallMs: median(runs.map((run) => run.wallMs)),
    retainedBytesPerVector: median(runs.map((run) => run.retainedBytes)) / job.inputs,
    problem,
  };
}

/**
 * The yardstick for memory: `number[]` vectors of doubles exactly as `JSON.parse` makes them from a JSON
 * float answer (exactly sized; `Array.from` over a typed array, as openai-node does, leaves spare capacity
 * and would make a kinder yardstick).
 */
function measureNumberArrays() {
  const texts = [];
  for (let id = 0; id < VECTOR_POOL; id++) texts.push(`[${Array.from(poolVector(id, job.dimensions), float32Text).join(',')}]`);
  // Parsing once flattens each (concatenated) text now, so that no string is freed while measuring.
  for (const text of texts) JSON.parse(text);
  collect();
  const before = heldBytes();
  let held = new Array(job.inputs);
  for (let index = 0; index < job.inputs; index++) held[index] = JSON.parse(texts[index % VECTOR_POOL]);
  collect();
  const retained = heldBytes() - before;
  const check = held[job.inputs - 1].length;
  held = undefined;
  return { retainedBytesPerVector: retained / job.inputs, check };
}

/** core's topK over `inputs` x `dimensions` vectors laid out as the engine returns them (slabs of views). */
async function measureTopK() {
  const { topK } = await import('@embedkit/core');
  const dimensions = job.dimensions;
  const perSlab = 1000;
  const vectors = new Array(job.inputs);
  for (let start = 0; start < job.inputs; start += perSlab) {
    const count = Math.min(perSlab, job.inputs - start);
    const slab = new Float32Array(count * dimensions);
    for (let index = 0; index < count; index++) {
      slab.set(poolVector((start + index) % VECTOR_POOL, dimensions), index * dimensions);
      // Spread the copies a little so that the ranking is not all ties.
      slab[index * dimensions] += ((start + index) % 997) * 1e-6;
      vectors[start + index] = slab.subarray(index * dimensions, (index + 1) * dimensions);
    }
  }
  const queries = [];
  for (let index = 0; index < job.queries + 1; index++) queries.push(poolVector(VECTOR_POOL + 17 + index, dimensions));
  const timings = {};
  for (const metric of ['cosine', 'dot']) {
    const times = [];
    let first;
    for (let index = 0; index < queries.length; index++) {
      const start = performance.now();
      const best = topK(queries[index], vectors, 10, { metric });
      const elapsed = performance.now() - start;
      if (best.length !== 10) throw new Error('topK returned the wrong count');
      if (index === 0) first = elapsed;
      else times.push(elapsed);
    }
    timings[metric] = { firstMs: first, medianMs: median(times), minMs: Math.min(...times) };
  }
  return timings;
}

async function main() {
  const started = performance.now();
  let result;
  try {
    if (job.mode === 'reference') result = measureNumberArrays();
    else if (job.mode === 'topk') result = await measureTopK();
    else result = await measureClient();
  } catch (error) {
    result = error instanceof Skip ? { skipped: error.message } : { error: String(error?.stack ?? error) };
  }
  const usage = process.resourceUsage();
  process.send(
    { ...result, peakRssBytes: usage.maxRSS * 1024, node: process.version, elapsedMs: performance.now() - started },
    () => process.exit(0),
  );
}

main();
