// Several processes drawing on one account's tokens-per-minute limit, against the loopback server that
// enforces it. Either every process shares one limiter in Redis (`@embedkit/redis`), or each has its own
// in-memory limiter set to a fraction of the account's limit. The work is split unevenly (shares 1:2:3:4
// by default), as a bulk job split by file would be: a per-process limit then strands budget in the
// processes with less to do.
//
// Share = tokens the server accepted / (one minute's allowance, the bucket it starts with, + the
// allowance for the time from the first request to the last answer). Used by the Redis package's test
// (>= 90 % with <= 1 % of requests answered 429) and by `npm run bench -- --stores`.

import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeInputs, serverTokens } from './data.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Starts the loopback server with `rateLimit`; resolves with its port and a way to read its counters. */
async function startLimitedServer(rateLimit) {
  const child = fork(join(here, 'server.mjs'), [], {
    env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify({ rateLimit }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the loopback server exited (${code})`)));
    child.on('message', (message) => message.type === 'ready' && resolve(message.port));
  });
  return {
    port,
    stats: () =>
      new Promise((resolve) => {
        child.on('message', function onStats(message) {
          if (message.type !== 'stats') return;
          child.off('message', onStats);
          resolve(message.stats);
        });
        child.send({ type: 'stats' });
      }),
    stop: () => child.kill(),
  };
}

/** Starts one worker; `ready` resolves once it waits for the start signal, `done` with its report. */
function startWorker(job, timeoutMs) {
  const child = fork(join(here, 'limiter-worker.mjs'), [], {
    env: { ...process.env, LIMITER_JOB: JSON.stringify(job), NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let result;
  let markReady;
  const ready = new Promise((resolve) => {
    markReady = resolve;
  });
  const done = new Promise((resolve) => {
    const timer = setTimeout(() => {
      result ??= { error: `timed out after ${timeoutMs} ms` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (message) => {
      if (message.ready) markReady();
      else result = message;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      markReady();
      resolve(result ?? { error: `exited with ${code} before reporting` });
    });
  });
  return { ready, done, start: () => child.connected && child.send('start') };
}

/** Consecutive input numbers whose server tokens add up to at least `tokens`, split by `shares`. */
function slices(tokens, shares) {
  let count = 0;
  let total = 0;
  while (total < tokens) total += serverTokens(makeInputs(1, count++)[0]);
  const weight = shares.reduce((sum, share) => sum + share, 0);
  const out = [];
  let start = 0;
  shares.forEach((share, index) => {
    const size = index === shares.length - 1 ? count - start : Math.round((count * share) / weight);
    out.push({ start, count: size });
    start += size;
  });
  return { slices: out, inputs: count, tokens: total };
}

/**
 * Runs `shares.length` processes against one account limit of `tokensPerMinute`, with work worth
 * `1 + extraSeconds / 60` minutes of it. `limiter`: `redis` (one limiter shared on `redisUrl`),
 * `split` (each its own, at tokensPerMinute / processes) or `full` (each its own at the whole limit).
 * `learnFromHeaders: false` keeps the limiters from reading the server's x-ratelimit-* headers, so
 * that only the configured budget (and how it is shared) paces the processes.
 */
export async function runLimiterProcesses({
  limiter,
  redisUrl,
  tokensPerMinute = 60_000,
  extraSeconds = 10,
  shares = [1, 2, 3, 4],
  batch = 10,
  concurrency = 4,
  dimensions = 64,
  timeoutMs = 120_000,
  warm = true,
  learnFromHeaders = true,
}) {
  const work = slices(tokensPerMinute * (1 + extraSeconds / 60), shares);
  const server = await startLimitedServer({ tokensPerMinute });
  const apiKey = `sk-limiter-${limiter}-${process.pid}`;
  const namespace = `limiter-run-${process.pid}-${Date.now()}`;
  try {
    const started = work.slices.map((slice) =>
      startWorker(
        {
          ...slice,
          port: server.port,
          apiKey,
          batch,
          concurrency,
          dimensions,
          tokensPerMinute: limiter === 'split' ? tokensPerMinute / shares.length : tokensPerMinute,
          ...(limiter === 'redis' ? { redisUrl, namespace, key: 'account' } : {}),
          warm,
          learnFromHeaders,
        },
        timeoutMs,
      ),
    );
    await Promise.all(started.map((worker) => worker.ready));
    for (const worker of started) worker.start();
    const workers = await Promise.all(started.map((worker) => worker.done));
    const counters = (await server.stats())[`openai ${apiKey}`] ?? { requests: 0, rateLimited: 0, tokens: 0 };
    const windowMs = counters.requests === 0 ? 0 : counters.lastOkAt - counters.firstRequestAt;
    const allowed = tokensPerMinute * (1 + windowMs / 60_000);
    return {
      limiter,
      processes: shares.length,
      tokensPerMinute,
      inputs: work.inputs,
      workTokens: work.tokens,
      requests: counters.requests,
      rateLimited: counters.rateLimited,
      acceptedTokens: counters.tokens,
      windowMs,
      share: counters.tokens / allowed,
      rateLimitedAtMs: counters.rateLimitedAtMs,
      workers,
    };
  } finally {
    server.stop();
  }
}
