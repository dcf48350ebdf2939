// `npm run bench -- --stores`: the cache stores' hit path and the multi-process limiter.
//
// Cache: 10,000 inputs at 1,024 dimensions, all cached beforehand, embedded again through
// `cacheMiddleware` in calls of 1,000 (`embedMany`, the user's path: cache keys, one batched read per
// call, copies out), and the store's batched read alone (`getMany` of 1,000 keys, no key hashing), for
// the memory, disk (LMDB, a fresh temporary directory) and Redis (a local redis-server) stores.
// Limiter: four processes on one 60,000 tokens/min account (see limiter-run.mjs), sharing a limiter on
// Redis, or each with its own.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDiskCacheStore } from '@embedkit/cache-disk';
import {
  cacheKey,
  cacheMiddleware,
  createMemoryCacheStore,
  embedMany,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { MockEmbeddingModel } from '@embedkit/core/testing';
import { createRedisCacheStore } from '@embedkit/redis';
import { makeInputs } from './data.mjs';
import { runLimiterProcesses } from './limiter-run.mjs';
import { startRedisServer } from './redis-server.mjs';
import { formatNumber, markdownTable, median, textTable, writeSection } from './report.mjs';

const INPUTS = 10_000;
const DIMENSIONS = 1_024;
const CALL = 1_000;
const RUNS = 5;

async function cacheRow(label, store) {
  const inner = new MockEmbeddingModel({ dimensions: DIMENSIONS });
  const model = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
  const inputs = makeInputs(INPUTS);
  await embedMany({ model, inputs, maxInputsPerCall: CALL });
  const calls = inner.calls.length;
  const keys = await Promise.all(inputs.map((input) => cacheKey(inner, {}, input)));
  const hit = [];
  const read = [];
  for (let run = 0; run < RUNS; run++) {
    let started = performance.now();
    const result = await embedMany({ model, inputs, maxInputsPerCall: CALL });
    hit.push(performance.now() - started);
    if (result.embeddings.length !== INPUTS || inner.calls.length !== calls)
      throw new Error(`${label}: the cache missed`);
    started = performance.now();
    for (let offset = 0; offset < INPUTS; offset += CALL) {
      const values = await store.getMany(keys.slice(offset, offset + CALL));
      if (values.some((value) => value === undefined)) throw new Error(`${label}: getMany missed`);
    }
    read.push(performance.now() - started);
  }
  return {
    label,
    hitPerSecond: (INPUTS / median(hit)) * 1000,
    readPerSecond: (INPUTS / median(read)) * 1000,
  };
}

/** Keeps the memory store's interface batched like the others, so `getMany` can be timed alike. */
function batchedMemoryStore() {
  const store = createMemoryCacheStore({ maxEntries: INPUTS * 2 });
  return Object.assign(store, { getMany: (keys) => keys.map((key) => store.get(key)) });
}

export async function storesRun({ out, log }) {
  const redis = await startRedisServer();
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-bench-cache-'));
  const rows = [];
  try {
    log(
      `cache hits: ${INPUTS.toLocaleString('en-US')} cached inputs at ${DIMENSIONS} dimensions, calls of ${CALL}, median of ${RUNS}`,
    );
    rows.push(await cacheRow('memory (createMemoryCacheStore)', batchedMemoryStore()));
    const disk = openDiskCacheStore({ directory });
    rows.push(await cacheRow('disk (@embedkit/cache-disk, LMDB)', disk));
    await disk.close();
    const redisStore = await createRedisCacheStore({ url: redis.url, namespace: 'bench' });
    rows.push(await cacheRow('Redis (@embedkit/redis, local redis-server)', redisStore));
    await redisStore.close();
    const cacheHeaders = ['store', 'embedMany hits, vectors/s', 'getMany alone, vectors/s'];
    const cacheRows = rows.map((row) => [
      row.label,
      formatNumber(row.hitPerSecond, 0),
      formatNumber(row.readPerSecond, 0),
    ]);
    log(textTable(cacheHeaders, cacheRows));

    // Without header learning only the budget, and how it is shared, paces the processes (as for an
    // API that sends no x-ratelimit-* headers); with it (the default) every limiter also reads what the
    // server says remains.
    const variants = [
      {
        limiter: 'redis',
        warm: true,
        headers: false,
        label: 'shared on Redis, running replicas — the target',
      },
      { limiter: 'redis', warm: false, headers: false, label: 'shared on Redis, cold processes' },
      { limiter: 'split', warm: true, headers: false, label: 'each its own, at 1/4 of the limit' },
      { limiter: 'full', warm: true, headers: false, label: 'each its own, at the whole limit' },
      { limiter: 'redis', warm: false, headers: true, label: 'shared on Redis, cold, learning from headers' },
      {
        limiter: 'full',
        warm: true,
        headers: true,
        label: 'each its own at the whole limit, learning from headers',
      },
    ];
    const runs = [];
    for (const variant of variants) {
      log(`limiter: ${variant.label} ...`);
      const run = await runLimiterProcesses({
        limiter: variant.limiter,
        warm: variant.warm,
        learnFromHeaders: variant.headers,
        redisUrl: redis.url,
      });
      const failed = run.workers.find((worker) => worker.error !== undefined || worker.wrong !== 0);
      if (failed)
        throw new Error(`limiter run ${variant.label}: ${failed.error ?? `${failed.wrong} wrong vectors`}`);
      runs.push({ ...variant, run });
    }
    const limiterHeaders = ['limiter', 'share of allowed tokens/min', 'requests answered 429', 'wall s'];
    const limiterRows = runs.map(({ label, run }) => [
      label,
      `${formatNumber(run.share * 100)}%`,
      `${run.rateLimited} of ${run.requests} (${formatNumber((run.rateLimited / run.requests) * 100, 2)}%)`,
      formatNumber(run.windowMs / 1000),
    ]);
    log(textTable(limiterHeaders, limiterRows));
    const target = runs[0].run;
    const pass = target.share >= 0.9 && target.rateLimited / target.requests <= 0.01;
    const first = runs[0].run;
    const body = [
      `## Stores: cache hits and the shared limiter (${new Date().toISOString().replace(/\.\d+Z$/, 'Z')})`,
      '',
      `Node ${process.version}; ${process.platform} ${process.arch}; Redis on loopback (\`redis-server\`, no persistence), LMDB in a temporary directory.`,
      '',
      `**Cache hits**: ${INPUTS.toLocaleString('en-US')} inputs at ${DIMENSIONS} dimensions, all cached, embedded again through \`cacheMiddleware\` in calls of ${CALL.toLocaleString('en-US')} (cache keys, one batched read per call, copies out); and the store's \`getMany\` of ${CALL.toLocaleString('en-US')} keys alone. Median of ${RUNS} runs, in one process.`,
      '',
      markdownTable(cacheHeaders, cacheRows),
      '',
      `**Four processes, one account**: ${first.tokensPerMinute.toLocaleString('en-US')} tokens/min enforced by the loopback server on one key; ${first.inputs.toLocaleString('en-US')} inputs (${first.workTokens.toLocaleString('en-US')} tokens as the server counts them, about ${formatNumber((first.workTokens / first.tokensPerMinute - 1) * 60, 0)} s of work after the first minute's bucket) split 1:2:3:4 between four processes, calls of 10, 4 in flight each. Share = accepted tokens / (one minute's allowance + the allowance for the time from the first request to the last answer). Running replicas made one call on another key before the job; cold processes start with their first call. Unless a row says so, limiters do not read the server's \`x-ratelimit-*\` headers (\`learnFromHeaders: false\`, as for an API that sends none), so only the budget and how it is shared pace the processes.`,
      '',
      markdownTable(limiterHeaders, limiterRows),
      '',
      `Target (issue 16): shared on Redis, >= 90% of allowed tokens/min with <= 1% of requests answered 429: **${pass ? 'PASS' : 'FAIL'}**.`,
      '',
      'Reproduce: `npm run bench -- --stores` (needs `redis-server`).',
    ].join('\n');
    writeSection(out, 'stores', 'embedkit benchmarks', body);
    log(`wrote the stores section of ${out}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
    await redis.stop();
  }
}
