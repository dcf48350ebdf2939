#!/usr/bin/env node
// embedkit benchmarks. Every client embeds the same inputs through the same loopback server (a child
// process, so its CPU is not counted), each measurement in its own child process, warm-up first.
//
//   npm run bench                      embedkit base64 vs float vs the floor (Node of the caller)
//   npm run bench -- --quick           the same on 2,000 inputs, one round (the smoke test uses it)
//   npm run bench -- --peers           the peer comparison of issue 7 on Node 24 (installs peers first)
//   npm run bench -- --stores          cache stores' hit throughput and the four-process limiter (stores.mjs)
//   npm run bench -- --decode          the float JSON decode alone, in memory (decode.mjs)
//   npm run bench -- --sizes           the sizes section, from the records in .ci/sizes (sizes.mjs)
//
// Options: --out FILE (default results/latest.md; --quick writes results/raw/quick.md),
// --latency MS (server latency per call, default 0), --only a,b (peer run: only these client ids),
// --no-grid, --no-ratelimit, --no-topk, --budget MS (client CPU allowed per measured cell in the peer run).

import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchDirectory, CLIENTS, clientById } from './clients.mjs';
import { makeInputs, serverTokens } from './data.mjs';
import { ensurePeers } from './peers.mjs';
import {
  barChartSvg,
  formatNumber,
  kilobytes,
  markdownTable,
  median,
  megabytes,
  textTable,
  writeSection,
} from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
/** `--name` on the command line, or as npm passes it through a workspace script (`npm_config_name`). */
function flag(name) {
  if (argv.includes(`--${name}`)) return true;
  // npm reads `--no-x` as x = false.
  if (name.startsWith('no-'))
    return process.env[`npm_config_${name.slice(3).replaceAll('-', '_')}`] === 'false';
  return process.env[`npm_config_${name.replaceAll('-', '_')}`] === 'true';
}
function option(name, fallback) {
  const index = argv.indexOf(`--${name}`);
  if (index >= 0 && index + 1 < argv.length) return argv[index + 1];
  const fromNpm = process.env[`npm_config_${name.replaceAll('-', '_')}`];
  return fromNpm !== undefined && fromNpm !== 'true' && fromNpm !== '' ? fromNpm : fallback;
}

const QUICK = flag('quick');
const PEERS = flag('peers');
const STORES = flag('stores');
const DECODE = flag('decode');
const SIZES = flag('sizes');
const LATENCY_MS = Number(option('latency', '0'));
const OUT = option('out', join(benchDirectory, 'results', QUICK ? 'raw/quick.md' : 'latest.md'));
const CONCURRENCY = 4;
const started = performance.now();

const log = (...parts) => console.log(...parts);
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---- processes ------------------------------------------------------------------------------------

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Starts the loopback server under `node`; resolves once it listens. */
async function startServer(node, options) {
  const child = fork(join(here, 'server.mjs'), [], {
    execPath: node,
    execArgv: ['--max-old-space-size=4096'],
    env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const waiting = new Map();
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the loopback server exited (${code})`)));
    child.on('message', (message) => {
      if (message.type === 'ready') resolve(message.port);
      waiting.get(message.type)?.(message);
      waiting.delete(message.type);
    });
  });
  const ask = (message, reply) =>
    new Promise((resolve) => {
      waiting.set(reply, resolve);
      child.send(message);
    });
  return {
    port,
    stats: () => ask({ type: 'stats' }, 'stats'),
    configure: (settings) => ask({ type: 'configure', ...settings }, 'configured'),
    stop() {
      child.kill();
      children.delete(child);
    },
  };
}

/** Runs one job in its own process; resolves with its result (or `{ error }`). */
function runChild(node, job, { timeoutMs = 300_000, heapMb = 12_288 } = {}) {
  return new Promise((resolve) => {
    const child = fork(join(here, 'child.mjs'), [], {
      execPath: node,
      execArgv: ['--expose-gc', `--max-old-space-size=${heapMb}`],
      env: { ...process.env, BENCH_JOB: JSON.stringify(job), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.add(child);
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let result;
    const timer = setTimeout(() => {
      result ??= { error: `timed out after ${timeoutMs / 1000} s` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (message) => {
      result = message;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve(result ?? { error: `exited with ${code} before reporting: ${output.trim().slice(-800)}` });
    });
  });
}

const thousands = (count) => (count >= 1000 ? `${count / 1000}k` : String(count));
const machine = () =>
  `${process.platform} ${process.arch}, ${availableParallelism()} cores, loopback server latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}`;

// ---- part 1: embedkit base64 vs float vs the floor --------------------------------------------------

async function partOne() {
  const node = process.execPath;
  const inputs = QUICK ? 2_000 : 10_000;
  const batch = 1_000;
  const dimensions = 1_024;
  const rounds = QUICK ? 1 : 3;
  const repetitions = QUICK ? 2 : 3;
  const ids = ['floor', 'embedkit-base64', 'embedkit-float'];
  log(
    `embedkit bench${QUICK ? ' (quick)' : ''}: ${inputs.toLocaleString('en-US')} inputs in calls of ${batch}, ${dimensions} dimensions, Node ${process.version}`,
  );
  const server = await startServer(node, { prepare: [dimensions], latencyMs: LATENCY_MS });
  const results = Object.fromEntries(ids.map((id) => [id, []]));
  const cpuStart = (await server.stats()).cpu;
  // Rounds interleave the clients (A B C A B C ...) so that a noisy moment hurts them alike.
  for (let round = 0; round < rounds; round++) {
    for (const id of ids) {
      const result = await runChild(node, {
        mode: 'embed',
        client: id,
        batch,
        dimensions,
        concurrency: CONCURRENCY,
        port: server.port,
        key: `sk-bench-${id}`,
        warmupCalls: QUICK ? 0 : 50,
        warmupInputs: inputs,
        cells: [{ inputs, repetitions }],
      });
      if (result.error || result.skipped) throw new Error(`${id}: ${result.error ?? result.skipped}`);
      const cell = result.cells[0];
      if (cell.problem) throw new Error(`${id} returned wrong vectors: ${cell.problem}`);
      results[id].push(cell);
    }
  }
  const serverCpu = (await server.stats()).cpu;
  server.stop();
  const summary = ids.map((id) => {
    const runs = results[id];
    return {
      id,
      label: clientById(id).label,
      cpuMsPer1000: median(runs.map((run) => run.cpuMsPer1000)),
      allCpu: runs.flatMap((run) => run.runs.map((one) => (one.cpuMs / run.measuredInputs) * 1000)),
      wallMs: median(runs.map((run) => run.wallMs)),
      peakRssBytes: Math.max(...runs.map((run) => run.peakRssBytes)),
      retainedBytesPerVector: median(runs.map((run) => run.retainedBytesPerVector)),
    };
  });
  const byId = Object.fromEntries(summary.map((row) => [row.id, row]));
  const headers = ['client', 'CPU ms / 1k vectors', 'min–max', 'wall ms', 'peak RSS MB', 'heap KB / vector'];
  const rows = summary.map((row) => [
    row.label,
    formatNumber(row.cpuMsPer1000),
    `${formatNumber(Math.min(...row.allCpu))}–${formatNumber(Math.max(...row.allCpu))}`,
    formatNumber(row.wallMs, 0),
    megabytes(row.peakRssBytes),
    kilobytes(row.retainedBytesPerVector),
  ]);
  const ratios = [
    ['embedkit base64 / floor (CPU)', byId['embedkit-base64'].cpuMsPer1000 / byId.floor.cpuMsPer1000],
    [
      'embedkit float / embedkit base64 (CPU)',
      byId['embedkit-float'].cpuMsPer1000 / byId['embedkit-base64'].cpuMsPer1000,
    ],
    ['embedkit float / floor (CPU)', byId['embedkit-float'].cpuMsPer1000 / byId.floor.cpuMsPer1000],
    [
      'embedkit float / embedkit base64 (peak RSS)',
      byId['embedkit-float'].peakRssBytes / byId['embedkit-base64'].peakRssBytes,
    ],
  ];
  const serverMs = (serverCpu.user + serverCpu.system - cpuStart.user - cpuStart.system) / 1000;
  log('');
  log(textTable(headers, rows));
  log('');
  for (const [name, value] of ratios) log(`${name.padEnd(44)} ${formatNumber(value, 2)}x`);
  log(
    `\n(${rounds} process${rounds > 1 ? 'es' : ''} per client x ${repetitions} measured run${repetitions > 1 ? 's' : ''} after warm-up; median. Server CPU, not counted above: ${formatNumber(serverMs, 0)} ms. ${elapsed()} in all.)`,
  );
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const body = [
    `## ${QUICK ? 'Quick run' : 'embedkit: base64 vs float vs the floor'} (${date})`,
    '',
    `${inputs.toLocaleString('en-US')} inputs in calls of ${batch.toLocaleString('en-US')}, ${dimensions.toLocaleString('en-US')} dimensions, OpenAI wire; Node ${process.version}; ${machine()}. ` +
      `Client CPU is \`process.cpuUsage()\` of the client process (the server runs in its own process). ` +
      `${rounds} process(es) per client, interleaved, each a warm-up (50 calls at 256 dimensions, then runs of the job until CPU per vector stops falling, at most 3) then ${repetitions} measured run(s); median.`,
    '',
    markdownTable(headers, rows),
    '',
    markdownTable(
      ['ratio (same run)', 'value'],
      ratios.map(([name, value]) => [name, `${formatNumber(value, 2)}x`]),
    ),
    '',
    `Reproduce: \`npm run bench\`${QUICK ? ' -- --quick' : ''}.`,
  ].join('\n');
  writeSection(OUT, QUICK ? 'quick' : 'part1', 'embedkit benchmarks', body);
  log(`wrote ${OUT}`);
}

// ---- part 2: the peer comparison --------------------------------------------------------------------

const GRID = {
  sizes: [10_000, 100_000],
  // Voyage models stop at 2,048 dimensions (the API refuses more), so the Voyage wire's large cell is 2,048.
  dimensions: { openai: [1_024, 3_072], voyage: [1_024, 2_048], gemini: [1_024, 3_072] },
  // Gemini's batchEmbedContents takes at most 100 requests per call.
  batches: { openai: [128, 1_000], voyage: [128, 1_000], gemini: [100] },
};

const WIRE_TITLES = { openai: 'OpenAI wire', voyage: 'Voyage wire', gemini: 'Gemini wire' };

/**
 * Measured runs per cell (median). A run of a fast client's 10,000-input cell takes a fraction of a second,
 * and on this shared machine one run in a few lands in a busy spell: five (three for the larger cell,
 * within the same CPU budget) keep the median of every client out of such spells.
 */
const GRID_RUNS = { small: 5, large: 3 };

function cellKey(cell) {
  return `${cell.inputs}/${cell.dimensions}/${cell.batch}`;
}
function cellLabel(cell) {
  return `${thousands(cell.inputs)} x ${cell.dimensions}, calls of ${cell.batch}`;
}

/**
 * Every client over every cell of its wire. Cells are the outer loop and clients the inner one, so the
 * clients compared in one cell are measured minutes apart at most: the machine is shared, and a ratio of
 * two figures taken in different busy spells would measure the spells, not the clients.
 */
async function grid(node, server, only, budgetMs) {
  const rows = [];
  const skipped = new Map();
  for (const wire of ['openai', 'voyage', 'gemini']) {
    const clients = CLIENTS.filter((client) => client.wire === wire && (!only || only.includes(client.id)));
    for (const dimensions of GRID.dimensions[wire]) {
      for (const batch of GRID.batches[wire]) {
        const cells = GRID.sizes.map((inputs) => ({ inputs, dimensions, batch }));
        for (const client of clients) {
          const result = skipped.has(client.id)
            ? { skipped: skipped.get(client.id) }
            : await runChild(node, {
                mode: 'embed',
                client: client.id,
                dimensions,
                batch,
                concurrency: CONCURRENCY,
                port: server.port,
                key: `sk-bench-${client.id}`,
                warmupCalls: 50,
                warmupInputs: 10_000,
                warmupBudgetMs: budgetMs.warmup,
                memoryCapBytes: 6 * 1024 ** 3,
                cells: GRID.sizes.map((inputs) => ({
                  inputs,
                  repetitions: inputs <= 10_000 ? GRID_RUNS.small : GRID_RUNS.large,
                  budgetMs: inputs <= 10_000 ? budgetMs.small : budgetMs.large,
                })),
              });
          if (result.skipped) skipped.set(client.id, result.skipped);
          cells.forEach((cell, index) => {
            const measured = result.cells?.[index];
            const row = {
              client: client.id,
              wire: client.wire,
              cell,
              skipped: result.skipped,
              error: result.error,
              ...measured,
            };
            rows.push(row);
            const status = row.skipped
              ? `skipped: ${row.skipped}`
              : row.error
                ? `ERROR: ${row.error.split('\n')[0]}`
                : `${formatNumber(row.cpuMsPer1000)} ms CPU / 1k vectors, wall ${formatNumber(row.wallMs / 1000, 2)} s, RSS ${megabytes(row.peakRssBytes)} MB, ${kilobytes(row.retainedBytesPerVector)} KB / vector${row.sampled ? `, sampled ${row.measuredInputs.toLocaleString('en-US')} inputs` : ''}${row.problem ? `, WRONG VECTORS: ${row.problem}` : ''}`;
            log(`  [${elapsed()}] ${client.label.padEnd(38)} ${cellLabel(cell).padEnd(28)} ${status}`);
          });
        }
      }
    }
  }
  return rows;
}

async function references(node) {
  const out = {};
  for (const dimensions of [1_024, 2_048, 3_072]) {
    const result = await runChild(node, { mode: 'reference', inputs: 10_000, dimensions });
    if (result.error) throw new Error(`number[] reference: ${result.error}`);
    out[dimensions] = result.retainedBytesPerVector;
  }
  return out;
}

const RATE_LIMIT = { inputs: 50_000, dimensions: 256, batch: 128, deadlineMs: 75_000 };

/** The rate-limited run: every client at once, each with its own key (its own buckets on the server). */
async function rateLimitRun(node, server, only) {
  const inputs = makeInputs(RATE_LIMIT.inputs);
  const totalTokens = inputs.reduce((sum, text) => sum + serverTokens(text), 0);
  // Buckets start full, so a client that paces perfectly finishes in about one minute.
  const tokensPerMinute = Math.ceil(totalTokens / 2);
  const requestsPerMinute = 400;
  const limits = { requestsPerMinute, tokensPerMinute };
  const variants = [
    {
      id: 'embedkit-base64',
      label: 'embedkit (a limiter with the server’s limits)',
      clientRateLimit: limits,
      target: 'limiter',
    },
    {
      id: 'embedkit-base64',
      label: 'embedkit (limiter set, exact TokenCounter)',
      clientRateLimit: limits,
      exactTokens: true,
      diagnostic: true,
    },
    {
      id: 'embedkit-base64',
      label: 'embedkit (no limiter; the server sends x-ratelimit-* headers)',
      target: 'learned',
    },
    {
      id: 'embedkit-base64',
      label: 'embedkit (no limiter; 429 + Retry-After only)',
      noHeaders: true,
      target: 'paced',
    },
    {
      id: 'embedkit-base64',
      label: 'embedkit (one limiter: a bulk job and single queries)',
      clientRateLimit: limits,
      queriesDuringJob: 2_000,
      target: 'shared',
    },
    { id: 'ai-sdk-openai' },
    { id: 'openai' },
    { id: 'langchain-openai' },
    { id: 'embedkit-voyage', label: 'embedkit voyage (limiter set)', clientRateLimit: limits },
    { id: 'voyageai' },
    {
      id: 'embedkit-gemini',
      label: 'embedkit gemini (limiter set; the API reports no usage)',
      clientRateLimit: limits,
      target: 'gemini',
    },
    { id: 'ai-sdk-google' },
    { id: 'google-genai' },
  ].filter((variant) => !only || only.includes(variant.id));
  await server.configure({ rateLimit: limits, resetStats: true, prepare: [RATE_LIMIT.dimensions] });
  log(
    `\nrate-limit run: ${RATE_LIMIT.inputs.toLocaleString('en-US')} inputs (${totalTokens.toLocaleString('en-US')} tokens as the server counts them), ${RATE_LIMIT.dimensions} dimensions, calls of ${RATE_LIMIT.batch} (Gemini 100); server limits per key: ${requestsPerMinute} requests/min, ${tokensPerMinute.toLocaleString('en-US')} tokens/min; all clients at once, ${RATE_LIMIT.deadlineMs / 1000} s deadline`,
  );
  const results = await Promise.all(
    variants.map((variant, index) => {
      const client = clientById(variant.id);
      return runChild(
        node,
        {
          mode: 'ratelimit',
          client: variant.id,
          inputs: RATE_LIMIT.inputs,
          dimensions: RATE_LIMIT.dimensions,
          batch: client.wire === 'gemini' ? 100 : RATE_LIMIT.batch,
          concurrency: CONCURRENCY,
          port: server.port,
          key: `${variant.noHeaders ? 'sk-noheaders' : 'sk'}-ratelimit-${index}`,
          queriesDuringJob: variant.queriesDuringJob,
          deadlineMs: RATE_LIMIT.deadlineMs,
          clientRateLimit: variant.clientRateLimit,
          exactTokens: variant.exactTokens,
        },
        { timeoutMs: RATE_LIMIT.deadlineMs + 60_000, heapMb: 4096 },
      );
    }),
  );
  const { stats } = await server.stats();
  await server.configure({ rateLimit: undefined, resetStats: true });
  const rows = variants.map((variant, index) => {
    const client = clientById(variant.id);
    const result = results[index];
    const counters = stats[
      `${client.wire} ${variant.noHeaders ? 'sk-noheaders' : 'sk'}-ratelimit-${index}`
    ] ?? {
      requests: 0,
      rateLimited: 0,
      tokens: 0,
      ok: 0,
    };
    const minutes = (result.wallMs ?? 0) / 60_000;
    const allowed = tokensPerMinute * (1 + minutes);
    return {
      ...variant,
      label: variant.label ?? client.label,
      wire: client.wire,
      skipped: result.skipped,
      error: result.error,
      failure: result.failure,
      completed: result.completed,
      timedOut: result.timedOut,
      problem: result.problem,
      wallMs: result.wallMs,
      requests: counters.requests,
      rateLimited: counters.rateLimited,
      rateLimitedAtMs: counters.rateLimitedAtMs,
      tokens: counters.tokens,
      share: result.wallMs ? counters.tokens / allowed : undefined,
      queries: result.queries,
      achievedPerMinute: result.wallMs ? counters.tokens / minutes : undefined,
    };
  });
  for (const row of rows) {
    log(
      `  ${row.label.padEnd(48)} ${row.skipped ? `skipped: ${row.skipped}` : row.error ? `ERROR ${row.error.split('\n')[0]}` : `${row.completed ? 'done' : row.timedOut ? 'deadline' : 'FAILED'} in ${formatNumber(row.wallMs / 1000)} s, ${formatNumber(row.share * 100)}% of allowed tokens, ${row.rateLimited} of ${row.requests} requests answered 429${row.rateLimited > 0 && row.rateLimited < 10 ? ` (at ${row.rateLimitedAtMs.map((ms) => `${formatNumber(ms / 1000, 1)} s`).join(', ')})` : ''}${row.failure ? ` (${row.failure.slice(0, 100)})` : ''}`}`,
    );
  }
  return { rows, limits, totalTokens };
}

async function topKRun(node) {
  const result = await runChild(node, {
    mode: 'topk',
    inputs: 100_000,
    dimensions: 1_024,
    queries: 20,
    k: 10,
  });
  if (result.error) throw new Error(`topK: ${result.error}`);
  log(
    `\nsearch over 100,000 x 1,024 (k = 10), CPU ms per query (median of ${result.cosine.queries}; wall in brackets): topK cosine ${formatNumber(result.cosine.cpuMedianMs)} (${formatNumber(result.cosine.medianMs)}; first query ${formatNumber(result.cosine.firstMs)} computes the cached norms), dot ${formatNumber(result.dot.cpuMedianMs)} (${formatNumber(result.dot.medianMs)}); topKInt8 ${formatNumber(result.int8.cpuMedianMs)} (${formatNumber(result.int8.medianMs)}); topKHamming ${formatNumber(result.binary.cpuMedianMs)} (${formatNumber(result.binary.medianMs)})`,
  );
  return result;
}

function pass(ok) {
  return ok === undefined ? 'NOT RUN' : ok ? 'PASS' : 'FAIL';
}

/** The targets of issues 7 and 14 (`issue` on each), each with its worst ratio over every cell it covers. */
export function targets(rows, reference, topK, rateLimit) {
  // A cell counts only if it was measured and its vectors were right: a client that returned wrong
  // vectors may have skipped the very work being compared.
  const find = (client, cell) =>
    rows.find(
      (row) =>
        row.client === client && cellKey(row.cell) === cellKey(cell) && row.cpuMsPer1000 > 0 && !row.problem,
    );
  /** The client has a row at the cell, but no valid figure there (an error, or wrong vectors). */
  const unmeasured = (client, cell) =>
    rows.some((row) => row.client === client && cellKey(row.cell) === cellKey(cell)) && !find(client, cell);
  const openAICells = rows.filter((row) => row.client === 'embedkit-base64').map((row) => row.cell);
  const out = [];
  /** Worst (smallest) ratio of peer CPU to embedkit CPU over the cells both ran. */
  function cpuRatio(name, ours, peer, cells, threshold, { lowerIsBetter = false, issue = 7 } = {}) {
    const ratios = [];
    // "Every cell" cannot hold when a cell both clients ran has no valid figure for one of them.
    const missing = cells.filter((cell) => unmeasured(ours, cell) || unmeasured(peer, cell));
    for (const cell of cells) {
      const a = find(ours, cell);
      const b = find(peer, cell);
      if (a && b)
        ratios.push({
          cell,
          value: lowerIsBetter ? a.cpuMsPer1000 / b.cpuMsPer1000 : b.cpuMsPer1000 / a.cpuMsPer1000,
        });
    }
    if (ratios.length === 0) {
      out.push({ issue, name, status: 'NOT RUN', detail: `${ours} or ${peer} did not run` });
      return;
    }
    const worst = ratios.reduce((a, b) =>
      lowerIsBetter ? (b.value > a.value ? b : a) : b.value < a.value ? b : a,
    );
    const geomean = Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio.value), 0) / ratios.length);
    const ok =
      missing.length === 0 &&
      ratios.every((ratio) => (lowerIsBetter ? ratio.value <= threshold : ratio.value >= threshold));
    out.push({
      issue,
      name,
      status: pass(ok),
      value: worst.value,
      detail: `worst ${formatNumber(worst.value, 2)}x at ${cellLabel(worst.cell)}; geometric mean ${formatNumber(geomean, 2)}x over ${ratios.length} cells; ${ratios.filter((ratio) => (lowerIsBetter ? ratio.value <= threshold : ratio.value >= threshold)).length}/${ratios.length} cells meet it${missing.length > 0 ? `; not measured (error or wrong vectors): ${missing.map(cellLabel).join(', ')}` : ''}`,
    });
  }
  cpuRatio(
    'OpenAI wire: >= 5x less client CPU than the AI SDK',
    'embedkit-base64',
    'ai-sdk-openai',
    openAICells,
    5,
  );
  cpuRatio(
    'OpenAI wire: >= 2x less client CPU than the openai client',
    'embedkit-base64',
    'openai',
    openAICells,
    2,
  );
  const voyageOurs = rows.some((row) => row.client === 'embedkit-voyage' && row.cpuMsPer1000 > 0);
  if (voyageOurs) {
    const cells = rows.filter((row) => row.client === 'embedkit-voyage').map((row) => row.cell);
    cpuRatio(
      '>= 20x less client CPU than the voyageai client (both on the Voyage wire)',
      'embedkit-voyage',
      'voyageai',
      cells,
      20,
    );
  } else {
    cpuRatio(
      '>= 20x less client CPU than the voyageai client (embedkit on the OpenAI wire: embedkit-voyage did not run)',
      'embedkit-base64',
      'voyageai',
      openAICells,
      20,
    );
  }
  const geminiCells = rows.filter((row) => row.client === 'embedkit-gemini').map((row) => row.cell);
  const geminiPeers = ['ai-sdk-google', 'google-genai'];
  if (rows.some((row) => row.client === 'embedkit-gemini' && row.cpuMsPer1000 > 0)) {
    for (const peer of geminiPeers)
      cpuRatio(
        `Gemini wire: no slower than ${peer} (embedkit / peer CPU <= 1)`,
        'embedkit-gemini',
        peer,
        geminiCells,
        1,
        {
          lowerIsBetter: true,
        },
      );
  } else {
    out.push({
      name: 'Gemini wire: no slower than any peer',
      status: 'NOT RUN',
      detail:
        rows.find((row) => row.client === 'embedkit-gemini')?.skipped ??
        '@embedkit/provider-gemini did not run',
    });
  }
  cpuRatio(
    'embedkit within 1.5x of the floor (embedkit / floor CPU)',
    'embedkit-base64',
    'floor',
    openAICells,
    1.5,
    {
      lowerIsBetter: true,
    },
  );
  if (topK) {
    out.push({
      name: 'topK <= 120 ms per query over 100,000 x 1,024',
      status: pass(topK.cosine.cpuMedianMs <= 120),
      value: topK.cosine.cpuMedianMs,
      detail: `${formatNumber(topK.cosine.cpuMedianMs)} ms CPU (cosine, median of ${topK.cosine.queries} queries; wall ${formatNumber(topK.cosine.medianMs)} ms; first query ${formatNumber(topK.cosine.firstMs)} ms; dot ${formatNumber(topK.dot.cpuMedianMs)} ms)`,
    });
  }
  const memory = rows
    .filter((row) => row.client === 'embedkit-base64' && row.retainedBytesPerVector > 0)
    .map((row) => ({ cell: row.cell, value: row.retainedBytesPerVector / reference[row.cell.dimensions] }));
  if (memory.length > 0) {
    const worst = memory.reduce((a, b) => (b.value > a.value ? b : a));
    out.push({
      name: 'heap retained per vector <= 0.55x of a number[] vector',
      status: pass(memory.every((entry) => entry.value <= 0.55)),
      value: worst.value,
      detail: `worst ${formatNumber(worst.value, 3)}x at ${cellLabel(worst.cell)} (number[] from JSON.parse: ${kilobytes(reference[1024])} KB at 1,024, ${kilobytes(reference[3072])} KB at 3,072)`,
    });
  }
  if (rateLimit) {
    const rateTargets = [
      [
        'limiter',
        'under rate limits, limiter set: >= 90% of allowed tokens/min with <= 1% of requests answered 429',
        0.9,
        0.01,
      ],
      [
        'learned',
        'no configuration, x-ratelimit-* headers: >= 95% of allowed tokens/min with <= 1% answered 429',
        0.95,
        0.01,
      ],
      [
        'paced',
        'no configuration, 429 + Retry-After only: >= 90% of allowed tokens/min with <= 2% answered 429',
        0.9,
        0.02,
      ],
      [
        'shared',
        'one limiter shared by a bulk job and single queries: >= 90% of allowed tokens/min, <= 1% answered 429',
        0.9,
        0.01,
      ],
      ['gemini', 'Gemini (no usage reported), limiter set: >= 85% of allowed tokens/min', 0.85, 1, false],
    ];
    for (const [target, name, minimumShare, maximum429, mustFinish = true] of rateTargets) {
      const ours = rateLimit.rows.find((row) => row.target === target);
      if (ours === undefined || ours.skipped || ours.error) {
        out.push({ name, status: 'NOT RUN', detail: ours?.skipped ?? ours?.error ?? 'not run' });
        continue;
      }
      const share429 = ours.requests === 0 ? 1 : ours.rateLimited / ours.requests;
      // A target that need not finish may stop at the deadline, not fail: a client that spends the
      // bucket it starts with and then gives up scores a high share over its short wall time.
      const finished = (ours.completed === true || (!mustFinish && ours.timedOut === true)) && !ours.problem;
      out.push({
        name,
        status: pass(finished && ours.share >= minimumShare && share429 <= maximum429),
        value: ours.share,
        detail: `${formatNumber(ours.share * 100)}% of allowed tokens/min, ${ours.rateLimited} of ${ours.requests} requests (${formatNumber(share429 * 100, 2)}%) answered 429${ours.queries ? `, ${ours.queries} single queries served meanwhile` : ''}${ours.completed ? '' : ours.timedOut ? ' (did not finish before the deadline)' : ` (failed: ${(ours.failure ?? '').slice(0, 80)})`}`,
      });
    }
  }

  // Issue 14: the float wires, the base64 wire and search.
  const geminiOurs = rows.some((row) => row.client === 'embedkit-gemini' && row.cpuMsPer1000 > 0);
  if (geminiOurs) {
    cpuRatio(
      'Gemini wire: <= 0.7x the client CPU of @google/genai (embedkit / peer)',
      'embedkit-gemini',
      'google-genai',
      geminiCells,
      0.7,
      { lowerIsBetter: true, issue: 14 },
    );
  }
  cpuRatio(
    'OpenAI float wire: <= 2x the client CPU of embedkit base64 (float / base64)',
    'embedkit-float',
    'embedkit-base64',
    openAICells,
    2,
    { lowerIsBetter: true, issue: 14 },
  );
  cpuRatio(
    'base64 wire: within 1.15x of the floor (embedkit / floor CPU)',
    'embedkit-base64',
    'floor',
    openAICells,
    1.15,
    { lowerIsBetter: true, issue: 14 },
  );
  cpuRatio(
    'base64 wire: >= 3x less client CPU than the openai client',
    'embedkit-base64',
    'openai',
    openAICells,
    3,
    { issue: 14 },
  );
  // Issue 15: the AI SDK user's own `embedMany`, over embedkit and over the AI SDK's own provider.
  cpuRatio(
    'AI SDK user: >= 3x less client CPU over `toAISDK(embedkit)` than over `@ai-sdk/openai`',
    'ai-sdk-embedkit',
    'ai-sdk-openai',
    openAICells,
    3,
    { issue: 15 },
  );
  if (topK) {
    out.push({
      issue: 14,
      name: 'topK <= 55 ms per query over 100,000 x 1,024',
      status: pass(topK.cosine.cpuMedianMs <= 55),
      value: topK.cosine.cpuMedianMs,
      detail: `${formatNumber(topK.cosine.cpuMedianMs)} ms CPU (cosine, median of ${topK.cosine.queries} queries; wall ${formatNumber(topK.cosine.medianMs)} ms; dot ${formatNumber(topK.dot.cpuMedianMs)} ms; int8 ${formatNumber(topK.int8.cpuMedianMs)} ms; binary ${formatNumber(topK.binary.cpuMedianMs)} ms)`,
    });
  }
  return out;
}

function peerMarkdown({
  rows,
  reference,
  topK,
  rateLimit,
  goals,
  versions,
  nodeVersion,
  budgetMs,
  coreAvailable,
}) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [`## Peer comparison (${date})`, ''];
  lines.push(
    `Node ${nodeVersion} (npm \`node@24\`); ${machine()}. Every client embeds the same inputs (\`#<n> …\`, about 130 characters) through the same loopback server (its own process) and gets the same fixed vectors (checked). ` +
      `Each client runs in its own process per (dimensions, call size): a one-call probe, a warm-up of 50 calls at 256 dimensions (the JIT optimises per call, not per byte), warm-up runs on 10,000 other inputs (up to 3, until CPU per vector stops falling), the 10,000-input cell (${GRID_RUNS.small} measured runs, median), then the 100,000-input cell (${GRID_RUNS.large} runs, median); peak RSS is read after each cell. ` +
      `Client CPU is \`process.cpuUsage()\` of that process over the whole job, every thread included; the share spent off the main thread is read from \`/proc/self/task\` (median of the cell's runs). ` +
      `To fit the run in 10 minutes on 2 cores, a cell whose measured runs would take more than ${formatNumber(budgetMs.small / 1000, 1)} s (10,000 inputs) or ${formatNumber(budgetMs.large / 1000, 1)} s (100,000 inputs) of client CPU is measured on its first N inputs (a whole number of calls, the same for each of its runs), marked * (sampled): its per-vector figures stay comparable, its wall time and peak RSS are for the sample. ` +
      `Gemini's \`batchEmbedContents\` takes at most 100 requests, so every Gemini client uses calls of 100. The server indents Gemini answers, one value a line, as the API does by default, and writes them compact for a call that sends \`prettyPrint=false\` (embedkit does; the peers send nothing). Voyage models stop at 2,048 dimensions, so the Voyage wire uses 2,048 where the others use 3,072.`,
    '',
    `Peers: ${Object.entries(versions)
      .map(([name, version]) => `\`${name}@${version}\``)
      .join(', ')}. embedkit: ${coreAvailable.join(', ')}.`,
    '',
  );
  for (const issue of [14, 7, 15]) {
    const listed = goals.filter((goal) => (goal.issue ?? 7) === issue);
    if (listed.length === 0) continue;
    lines.push(
      `### Targets (issue ${issue})`,
      '',
      markdownTable(
        ['target', 'result', 'measured'],
        listed.map((goal) => [goal.name, `**${goal.status}**`, goal.detail]),
      ),
      '',
    );
  }
  const metrics = [
    ['Client CPU ms per 1,000 vectors', (row) => formatNumber(row.cpuMsPer1000)],
    ['Wall time, seconds (whole job)', (row) => formatNumber(row.wallMs / 1000, 2)],
    ['Peak RSS, MB', (row) => megabytes(row.peakRssBytes)],
    [
      'Heap retained per vector, KB (heapUsed + arrayBuffers, after GC, holding the vectors)',
      (row) => kilobytes(row.retainedBytesPerVector),
    ],
    [
      "Share of client CPU off the main thread, % (V8's helper threads: concurrent garbage collection, background compiling)",
      (row) => formatNumber(row.helperShare * 100, 0),
    ],
  ];
  for (const wire of ['openai', 'voyage', 'gemini']) {
    const wireRows = rows.filter((row) => row.wire === wire);
    if (wireRows.length === 0) continue;
    const cells = [];
    for (const row of wireRows)
      if (!cells.some((cell) => cellKey(cell) === cellKey(row.cell))) cells.push(row.cell);
    cells.sort((a, b) => a.inputs - b.inputs || a.dimensions - b.dimensions || a.batch - b.batch);
    const clients = [...new Set(wireRows.map((row) => row.client))];
    lines.push(`### ${WIRE_TITLES[wire]}`, '');
    for (const [title, value] of metrics) {
      lines.push(`**${title}**`, '');
      const table = clients.map((id) => [
        clientById(id).label,
        ...cells.map((cell) => {
          const row = wireRows.find(
            (candidate) => candidate.client === id && cellKey(candidate.cell) === cellKey(cell),
          );
          if (!row) return '–';
          if (row.skipped) return 'skipped';
          if (row.error) return 'error';
          return `${value(row)}${row.sampled ? '*' : ''}`;
        }),
      ]);
      lines.push(markdownTable(['client', ...cells.map(cellLabel)], table), '');
    }
    const ours = wire === 'openai' ? 'embedkit-base64' : `embedkit-${wire}`;
    // embedkit / floor, then each peer / embedkit ("the peer spends N times embedkit's CPU").
    const ratio = (numerator, denominator, cell) => {
      const a = wireRows.find((row) => row.client === numerator && cellKey(row.cell) === cellKey(cell));
      const b = wireRows.find((row) => row.client === denominator && cellKey(row.cell) === cellKey(cell));
      return a?.cpuMsPer1000 > 0 && b?.cpuMsPer1000 > 0
        ? `${formatNumber(a.cpuMsPer1000 / b.cpuMsPer1000, 2)}x`
        : '–';
    };
    const ratioRows = clients
      .filter((id) => id !== ours)
      .map((id) =>
        id === 'floor'
          ? [`${clientById(ours).label} / floor`, ...cells.map((cell) => ratio(ours, 'floor', cell))]
          : [
              `${clientById(id).label} / ${clientById(ours).label}`,
              ...cells.map((cell) => ratio(id, ours, cell)),
            ],
      );
    if (ratioRows.length > 0 && wireRows.some((row) => row.client === ours && row.cpuMsPer1000 > 0)) {
      lines.push('**Client CPU ratios (same run)**', '');
      lines.push(markdownTable(['', ...cells.map(cellLabel)], ratioRows), '');
    }
    const skipped = wireRows.find((row) => row.skipped);
    if (skipped) lines.push(`${clientById(skipped.client).label}: skipped — ${skipped.skipped}.`, '');
    const errors = wireRows.filter((row) => row.error);
    for (const row of errors)
      lines.push(
        `${clientById(row.client).label} at ${cellLabel(row.cell)}: error — ${row.error.split('\n')[0]}`,
        '',
      );
  }
  lines.push(
    `Yardstick: a \`number[]\` vector as \`JSON.parse\` makes it holds ${kilobytes(reference[1024])} KB at 1,024 dimensions and ${kilobytes(reference[3072])} KB at 3,072.`,
    '',
  );
  if (topK) {
    // Bytes of corpus each search reads per vector: float32, int8, and 1 bit per dimension.
    const searches = [
      ['topK, cosine (float32)', 'cosine', 4096],
      ['topK, dot (float32)', 'dot', 4096],
      ['topKInt8, dot (int8)', 'int8', 1024],
      ['topKHamming (binary, 1,024 bits)', 'binary', 128],
    ].filter(([, key]) => topK[key] !== undefined);
    lines.push(
      '### Search (core, 100,000 x 1,024 dimensions, k = 10)',
      '',
      markdownTable(
        [
          'search',
          'CPU ms per query (median)',
          'wall ms (median)',
          'wall min',
          'first query (wall)',
          'vectors / s (CPU)',
          'corpus GB / s (CPU)',
        ],
        searches.map(([label, key, bytes]) => [
          label,
          formatNumber(topK[key].cpuMedianMs),
          formatNumber(topK[key].medianMs),
          formatNumber(topK[key].minMs),
          formatNumber(topK[key].firstMs),
          `${formatNumber(100_000 / topK[key].cpuMedianMs / 1000, 1)} M`,
          formatNumber((100_000 * bytes) / topK[key].cpuMedianMs / 1e6, 1),
        ]),
      ),
      '',
      'Medians of 20 queries after a first one; the corpus is laid out as the engine returns it (views of one slab per 1,000 vectors). A search runs on one thread: its CPU time (`process.cpuUsage()`, like every figure here) is its cost, while wall time also counts the moments the process waited for a core of the shared machine. The first cosine query streams the corpus through the WebAssembly kernels a quarter megabyte at a time and measures every vector’s length; from the second, each search (`topK`, `topKInt8`, `topKHamming`) reads a copy of its corpus kept in WebAssembly memory (`keepCopy`).',
      '',
    );
  }
  if (rateLimit) {
    const { limits, totalTokens } = rateLimit;
    lines.push(
      '### Rate-limited run',
      '',
      `${RATE_LIMIT.inputs.toLocaleString('en-US')} inputs (${totalTokens.toLocaleString('en-US')} tokens as the server counts them: UTF-8 bytes / 4), ${RATE_LIMIT.dimensions} dimensions, calls of ${RATE_LIMIT.batch} (Gemini: 100), concurrency ${CONCURRENCY}, ` +
        `every client at once with its own key. The server allows ${limits.requestsPerMinute} requests/min and ${limits.tokensPerMinute.toLocaleString('en-US')} tokens/min per key (token buckets that start full) and answers 429 with \`Retry-After\` ` +
        `(plus \`retry-after-ms\` and an "in N ms" message on the OpenAI wire, \`RetryInfo\` on the Gemini wire). ` +
        `Share = tokens the server accepted / (one minute's allowance + allowance for the client's wall time); every client may retry 10 times. Deadline ${RATE_LIMIT.deadlineMs / 1000} s.`,
      '',
      markdownTable(
        ['client', 'outcome', 'wall s', 'share of allowed tokens/min', 'requests', '429s', '429 %'],
        rateLimit.rows.map((row) =>
          row.skipped
            ? [row.label, 'skipped', '–', '–', '–', '–', '–']
            : row.error
              ? [row.label, `error: ${row.error.split('\n')[0].slice(0, 80)}`, '–', '–', '–', '–', '–']
              : [
                  row.label,
                  row.completed
                    ? row.problem
                      ? `done, WRONG VECTORS`
                      : 'done'
                    : row.timedOut
                      ? 'deadline'
                      : `failed: ${(row.failure ?? '').slice(0, 80)}`,
                  formatNumber(row.wallMs / 1000),
                  `${formatNumber(row.share * 100)}%${row.completed ? '' : row.timedOut ? ' until the deadline' : ' until it failed'}`,
                  row.requests,
                  row.rateLimited,
                  `${formatNumber(row.requests ? (row.rateLimited / row.requests) * 100 : 0, 2)}%`,
                ],
        ),
      ),
      '',
    );
  }
  lines.push('![client CPU per 1,000 vectors](latest.svg)', '', 'Reproduce: `npm run bench -- --peers`.');
  return lines.join('\n');
}

function chart(rows, nodeVersion) {
  const groups = [];
  for (const wire of ['openai', 'voyage', 'gemini']) {
    for (const batch of GRID.batches[wire]) {
      const bars = rows
        .filter(
          (row) =>
            row.wire === wire &&
            row.cell.inputs === 10_000 &&
            row.cell.dimensions === 1_024 &&
            row.cell.batch === batch &&
            row.cpuMsPer1000 > 0,
        )
        .sort((a, b) => a.cpuMsPer1000 - b.cpuMsPer1000)
        .map((row) => ({
          label: clientById(row.client).label,
          value: row.cpuMsPer1000,
          text: `${formatNumber(row.cpuMsPer1000)} ms${row.sampled ? ' (sampled)' : ''}`,
          kind: clientById(row.client).embedkit ? 'ours' : row.client === 'floor' ? 'floor' : 'peer',
        }));
      if (bars.length > 0) groups.push({ title: `${WIRE_TITLES[wire]}, calls of ${batch}`, bars });
    }
  }
  return barChartSvg({
    title: 'Client CPU per 1,000 vectors (10,000 inputs, 1,024 dimensions) — lower is better',
    subtitle: `Node ${nodeVersion}, same loopback server and vectors for every client; embedkit in blue, the floor in dark grey`,
    unit: 'ms of client CPU per 1,000 vectors',
    groups,
  });
}

async function partTwo() {
  const only = option('only', undefined)?.split(',');
  const budget = Number(option('budget', '4000'));
  const budgetMs = { warmup: budget / 2, small: budget / 2, large: budget };
  const peers = ensurePeers({ log });
  const node = peers.node;
  log(
    `peer comparison on Node ${peers.nodeVersion}; peers: ${Object.entries(peers.versions)
      .map(([name, version]) => `${name}@${version}`)
      .join(', ')}`,
  );
  const coreAvailable = [];
  for (const name of ['core', 'provider-openai', 'provider-voyage', 'provider-gemini']) {
    try {
      await import(`@embedkit/${name}`);
      coreAvailable.push(`@embedkit/${name}`);
    } catch {
      coreAvailable.push(`@embedkit/${name} (not built: skipped)`);
    }
  }
  const server = await startServer(node, { prepare: [1_024, 2_048, 3_072], latencyMs: LATENCY_MS });
  log(`loopback server ready on port ${server.port} (${elapsed()})`);
  const reference = await references(node);
  const rows = flag('no-grid') ? [] : await grid(node, server, only, budgetMs);
  const topK = flag('no-topk') ? undefined : await topKRun(node);
  const rateLimit = flag('no-ratelimit') ? undefined : await rateLimitRun(node, server, only);
  server.stop();
  const goals = targets(rows, reference, topK, rateLimit);
  for (const issue of [14, 7, 15]) {
    log(`\nTargets (issue ${issue}):`);
    for (const goal of goals.filter((entry) => (entry.issue ?? 7) === issue))
      log(`  ${goal.status.padEnd(7)} ${goal.name}: ${goal.detail}`);
  }
  const markdown = peerMarkdown({
    rows,
    reference,
    topK,
    rateLimit,
    goals,
    versions: peers.versions,
    nodeVersion: peers.nodeVersion,
    budgetMs,
    coreAvailable,
  });
  writeSection(OUT, 'peers', 'embedkit benchmarks', markdown);
  const svgFile = join(dirname(OUT), 'latest.svg');
  writeFileSync(svgFile, chart(rows, peers.nodeVersion));
  const rawDirectory = join(benchDirectory, 'results', 'raw');
  mkdirSync(rawDirectory, { recursive: true });
  writeFileSync(
    join(rawDirectory, 'peers.json'),
    JSON.stringify({ rows, reference, topK, rateLimit, goals, versions: peers.versions }, null, 1),
  );
  log(`\nwrote ${OUT}, ${svgFile} and results/raw/peers.json (${elapsed()} in all)`);
}

// Run only as a script: the tests import `targets` without starting a benchmark.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    if (PEERS) await partTwo();
    else if (STORES) await (await import('./stores.mjs')).storesRun({ out: OUT, log });
    else if (DECODE) await (await import('./decode.mjs')).decodeRun({ out: OUT, log, quick: QUICK });
    else if (SIZES) (await import('./sizes.mjs')).sizesRun({ out: OUT, log });
    else await partOne();
  } catch (error) {
    console.error(`bench failed: ${error?.stack ?? error}`);
    process.exitCode = 1;
  }
}
