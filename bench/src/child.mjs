// One measurement in its own process (forked by run.mjs with --expose-gc): a client embedding a job
// against the loopback server, the number[] reference, topK, or a rate-limited run. Sends one result
// message and exits.

import { baseURLs, clientById, Skip } from './clients.mjs';
import { makeInputs, poolVector, VECTOR_POOL, vectorJson, verifyResults } from './data.mjs';
import { median } from './report.mjs';
import { threadCpuMs } from './threads.mjs';

const job = JSON.parse(process.env.BENCH_JOB);
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with --expose-gc');

/** Inputs of warm-up runs are numbered from here, so they differ from the measured inputs. */
const WARMUP_OFFSET = 10_000_000;
/** Dimension of the per-call warm-up (one every wire and model accepts). */
const WARMUP_DIMENSIONS = 256;

/**
 * Full collections until the numbers settle: ArrayBuffer backing stores are released by a sweeper that
 * finishes after `gc()` returns, so one synchronous `gc()` can leave dead buffers counted.
 */
async function collect() {
  let previous = Number.NaN;
  for (let round = 0; round < 6; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const now = heldBytes();
    if (now === previous) return;
    previous = now;
  }
}

/** Bytes the program holds: the JS heap plus ArrayBuffer backing stores (typed arrays, Buffers). */
function heldBytes() {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function cpuMsSince(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * One run of `inputs`: client CPU and wall time of the whole job, then the bytes still held while only
 * the vectors are kept (what a user keeps). Everything it allocated is unreachable once it returns.
 */
async function measureOnce(adapter, inputs) {
  await collect();
  const before = heldBytes();
  const threadsStart = threadCpuMs();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const result = await adapter.embed(inputs);
  const vectors = adapter.vectors(result);
  const wallMs = performance.now() - wallStart;
  const cpuMs = cpuMsSince(cpuStart);
  const threadsEnd = threadCpuMs();
  await collect();
  const retainedBytes = heldBytes() - before;
  const problem = verifyResults(inputs, vectors, job.dimensions);
  const all = threadsEnd === undefined ? 0 : threadsEnd.all - threadsStart.all;
  // The share of the job's CPU spent off the main thread (undefined without /proc, or with too few ticks).
  const helperShare = all >= 50 ? (all - (threadsEnd.main - threadsStart.main)) / all : undefined;
  return { cpuMs, wallMs, retainedBytes, problem, helperShare };
}

function roundToBatch(count) {
  return Math.max(job.batch, Math.floor(count / job.batch) * job.batch);
}

/**
 * Probe, warm-up, then each cell of the job (10,000 inputs, then 100,000) in this one process: the
 * warm-up serves both, and peak RSS is read after each cell (the larger cell comes last).
 *
 * With a budget (`budgetMs` of client CPU for a cell's measured runs), a client too slow for the whole
 * cell is measured on its first N inputs (a whole number of calls) and the cell says `sampled`; the
 * figures are per vector, so they stay comparable.
 */
async function measureClient() {
  const client = clientById(job.client);
  const adapter = await client.create({
    baseURL: baseURLs(job.port),
    key: job.key,
    dimensions: job.dimensions,
    batch: job.batch,
    concurrency: job.concurrency,
    rateLimited: false,
  });
  const memoryCap = job.memoryCapBytes ?? Number.POSITIVE_INFINITY;
  // One call's worth first, to size the warm-up of slow clients.
  const probe = await measureOnce(adapter, makeInputs(job.batch, WARMUP_OFFSET));
  if (probe.problem) throw new Error(`probe: ${probe.problem}`);
  let rate = probe.cpuMs / job.batch;
  let retainedPerVector = probe.retainedBytes / job.batch;
  // Warm-up, first of the per-call code: `warmupCalls` calls at a small dimension cost little, and the
  // JIT optimises a function after enough calls of it, not after enough bytes (a job of 10 calls of
  // 1,000 large vectors would otherwise be measured half-cold).
  if (job.warmupCalls > 0) {
    const small = await client.create({
      baseURL: baseURLs(job.port),
      key: job.key,
      dimensions: WARMUP_DIMENSIONS,
      batch: job.batch,
      concurrency: job.concurrency,
      rateLimited: false,
    });
    const texts = makeInputs(job.warmupCalls * job.batch, WARMUP_OFFSET);
    const problem = verifyResults(texts, small.vectors(await small.embed(texts)), WARMUP_DIMENSIONS);
    if (problem) throw new Error(`warm-up: ${problem}`);
  }
  // Then warm-up runs at the job's dimension (on other inputs) until the CPU per vector stops falling by more than 10%, at most
  // `warmupRounds`, within `warmupBudgetMs`: the per-call code of a larger client needs more calls
  // than a one-function floor before the JIT has optimised it, and every client is measured warm.
  const warmupBudget = job.warmupBudgetMs ?? Number.POSITIVE_INFINITY;
  const warmupInputs = Math.min(job.warmupInputs, roundToBatch(warmupBudget / 2 / rate));
  let warmupSpent = 0;
  let warmupRuns = 0;
  if (warmupInputs > job.batch) {
    const warmupSet = makeInputs(warmupInputs, WARMUP_OFFSET);
    let previous = Number.POSITIVE_INFINITY;
    while (warmupRuns < (job.warmupRounds ?? 3) && warmupSpent + rate * warmupInputs <= warmupBudget) {
      const warmup = await measureOnce(adapter, warmupSet);
      if (warmup.problem) throw new Error(`warm-up: ${warmup.problem}`);
      warmupRuns++;
      warmupSpent += warmup.cpuMs;
      rate = warmup.cpuMs / warmupInputs;
      retainedPerVector = warmup.retainedBytes / warmupInputs;
      if (rate > previous * 0.9) break;
      previous = rate;
    }
  }
  const cells = [];
  for (const cell of job.cells) {
    const budget = cell.budgetMs ?? Number.POSITIVE_INFINITY;
    // Every client gets the same number of runs; a slow one gets a smaller sample instead of fewer runs.
    const repetitions = cell.repetitions;
    let count = cell.inputs;
    if (rate * count * repetitions > budget) count = roundToBatch(budget / repetitions / rate);
    if (retainedPerVector * count > memoryCap) count = roundToBatch(memoryCap / retainedPerVector);
    count = Math.min(count, cell.inputs);
    const inputs = makeInputs(count);
    const runs = [];
    let problem;
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const run = await measureOnce(adapter, inputs);
      problem ??= run.problem;
      runs.push({
        cpuMs: run.cpuMs,
        wallMs: run.wallMs,
        retainedBytes: run.retainedBytes,
        helperShare: run.helperShare,
      });
    }
    const cpuMs = median(runs.map((run) => run.cpuMs));
    const shares = runs.map((run) => run.helperShare).filter((share) => share !== undefined);
    rate = cpuMs / count;
    retainedPerVector = median(runs.map((run) => run.retainedBytes)) / count;
    cells.push({
      inputs: cell.inputs,
      measuredInputs: count,
      sampled: count < cell.inputs,
      runs,
      cpuMsPer1000: (cpuMs / count) * 1000,
      wallMs: median(runs.map((run) => run.wallMs)),
      retainedBytesPerVector: retainedPerVector,
      helperShare: shares.length === 0 ? undefined : median(shares),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      problem,
    });
  }
  return { warmupInputs, warmupRuns, cells };
}

/** A rate-limited job: no warm-up (it would spend the allowance), a deadline, and what went through. */
async function measureRateLimited() {
  const client = clientById(job.client);
  const adapter = await client.create({
    baseURL: baseURLs(job.port),
    key: job.key,
    dimensions: job.dimensions,
    batch: job.batch,
    concurrency: job.concurrency,
    rateLimited: true,
    clientRateLimit: job.clientRateLimit,
    exactTokens: job.exactTokens ?? false,
  });
  const inputs = makeInputs(job.inputs);
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), job.deadlineMs);
  });
  // Single queries served meanwhile on the same limiter, two a second (a search endpoint's traffic),
  // until the bulk job ends.
  let bulkDone = false;
  let queries = 0;
  const queryLoop = async () => {
    const texts = makeInputs(job.queriesDuringJob ?? 0, job.inputs);
    for (const text of texts) {
      if (bulkDone) return;
      await Promise.all([adapter.query(text), new Promise((resolve) => setTimeout(resolve, 500))]);
      queries++;
    }
  };
  let outcome;
  try {
    const bulk = adapter.embed(inputs).finally(() => {
      bulkDone = true;
    });
    const both = job.queriesDuringJob ? Promise.all([bulk, queryLoop()]).then(([result]) => result) : bulk;
    outcome = await Promise.race([both.then((result) => ({ result })), deadline]);
  } catch (error) {
    outcome = { error: String(error?.message ?? error).slice(0, 300) };
  }
  bulkDone = true;
  clearTimeout(timer);
  const wallMs = performance.now() - wallStart;
  const out = { wallMs, cpuMs: cpuMsSince(cpuStart), completed: outcome.result !== undefined, queries };
  if (outcome.timedOut) out.timedOut = true;
  if (outcome.error) out.failure = outcome.error;
  if (outcome.result !== undefined)
    out.problem = verifyResults(inputs, adapter.vectors(outcome.result), job.dimensions);
  return out;
}

/**
 * The yardstick for memory: `number[]` vectors of doubles exactly as `JSON.parse` makes them from a JSON
 * float answer (exactly sized; `Array.from` over a typed array, as openai-node does, leaves spare capacity
 * and would make a kinder yardstick).
 */
async function measureNumberArrays() {
  const texts = [];
  // Flat strings: a concatenated one would be flattened, and memory freed, while measuring.
  for (let id = 0; id < VECTOR_POOL; id++) texts.push(vectorJson(poolVector(id, job.dimensions)));
  await collect();
  const before = heldBytes();
  let held = new Array(job.inputs);
  for (let index = 0; index < job.inputs; index++) held[index] = JSON.parse(texts[index % VECTOR_POOL]);
  await collect();
  const retained = heldBytes() - before;
  // Use both after the await: a local not used after an await is not kept alive across it.
  const check = held[job.inputs - 1].length + texts.length;
  held = undefined;
  return { retainedBytesPerVector: retained / job.inputs, check };
}

/**
 * Median CPU time, median and minimum wall time, and the first query's time, of `search(query)` over
 * `queries` (the first is kept apart). A search runs on one thread, so its CPU time is its cost whatever
 * else the shared machine runs; wall time also counts the moments the process waited for a core.
 */
function timeQueries(queries, search, k) {
  const times = [];
  const cpuTimes = [];
  let firstMs;
  for (let index = 0; index < queries.length; index++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const best = search(queries[index]);
    const elapsed = performance.now() - start;
    const cpuMs = cpuMsSince(cpuStart);
    if (best.length !== k) throw new Error('the search returned the wrong count');
    if (index === 0) firstMs = elapsed;
    else {
      times.push(elapsed);
      cpuTimes.push(cpuMs);
    }
  }
  return {
    firstMs,
    cpuMedianMs: median(cpuTimes),
    medianMs: median(times),
    minMs: Math.min(...times),
    queries: times.length,
  };
}

/** `count` views of `length` elements each, laid out as the engine returns them: one slab per 1,000. */
function slabViews(ArrayType, count, length, fill) {
  const perSlab = 1000;
  const vectors = new Array(count);
  for (let start = 0; start < count; start += perSlab) {
    const size = Math.min(perSlab, count - start);
    const slab = new ArrayType(size * length);
    for (let index = 0; index < size; index++) {
      const view = slab.subarray(index * length, (index + 1) * length);
      fill(view, start + index);
      vectors[start + index] = view;
    }
  }
  return vectors;
}

/** int8 as the APIs quantize: each value scaled so a typical coordinate spans the range, clamped. */
function toInt8(vector) {
  return Int8Array.from(vector, (value) => Math.max(-128, Math.min(127, Math.round(value * 127 * 8))));
}

/** Bit-packed signs (`binary`: 1 where the value is positive, first dimension in the high bit). */
function toBits(vector) {
  const bytes = new Uint8Array(vector.length / 8);
  for (let index = 0; index < vector.length; index++)
    if (vector[index] > 0) bytes[index >> 3] |= 0x80 >> (index & 7);
  return new Int8Array(bytes.buffer);
}

/**
 * core's search over `inputs` x `dimensions` vectors laid out as the engine returns them (slabs of
 * views): topK over float32 (cosine and dot), topKInt8 over int8, topKHamming over bit-packed binary.
 */
async function measureTopK() {
  const { topK, topKInt8, topKHamming } = await import('@embedkit/core');
  const { inputs, dimensions, k } = job;
  const vectors = slabViews(Float32Array, inputs, dimensions, (view, index) => {
    view.set(poolVector(index % VECTOR_POOL, dimensions));
    // Nudge each copy so that the ranking is not decided by ties.
    view[0] += (index % 997) * 1e-6;
  });
  const queries = [];
  for (let index = 0; index <= job.queries; index++)
    queries.push(poolVector(VECTOR_POOL + 17 + index, dimensions));
  const out = {};
  for (const metric of ['cosine', 'dot'])
    out[metric] = timeQueries(queries, (query) => topK(query, vectors, k, { metric }), k);
  const int8 = slabViews(Int8Array, inputs, dimensions, (view, index) => view.set(toInt8(vectors[index])));
  out.int8 = timeQueries(queries.map(toInt8), (query) => topKInt8(query, int8, k), k);
  const bits = slabViews(Int8Array, inputs, dimensions / 8, (view, index) =>
    view.set(toBits(vectors[index])),
  );
  out.binary = timeQueries(queries.map(toBits), (query) => topKHamming(query, bits, k), k);
  return out;
}

async function main() {
  const started = performance.now();
  let result;
  try {
    if (job.mode === 'reference') result = await measureNumberArrays();
    else if (job.mode === 'topk') result = await measureTopK();
    else if (job.mode === 'ratelimit') result = await measureRateLimited();
    else result = await measureClient();
  } catch (error) {
    result = error instanceof Skip ? { skipped: error.message } : { error: String(error?.stack ?? error) };
  }
  const usage = process.resourceUsage();
  process.send(
    {
      ...result,
      peakRssBytes: usage.maxRSS * 1024,
      node: process.version,
      elapsedMs: performance.now() - started,
    },
    () => process.exit(0),
  );
}

main();
