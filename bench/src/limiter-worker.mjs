// One process of the multi-process limiter run (see limiter-run.mjs): embeds its slice of the inputs
// through the loopback server with either a limiter shared on Redis or one of its own, checks every
// vector it got back, and reports to its parent.

import { createRateLimiter, embedMany } from '@embedkit/core';
import { createOpenAI } from '@embedkit/provider-openai';
import { createRedisLimiterStore } from '@embedkit/redis';
import { expectedVector, makeInputs, sameVector } from './data.mjs';

const job = JSON.parse(process.env.LIMITER_JOB);
const warnings = [];
let result;
try {
  const store =
    job.redisUrl === undefined
      ? undefined
      : await createRedisLimiterStore({
          url: job.redisUrl,
          namespace: job.namespace,
          onWarning: (warning) => warnings.push(warning.code),
        });
  const rateLimit = createRateLimiter({
    tokensPerMinute: job.tokensPerMinute,
    learnFromHeaders: job.learnFromHeaders,
    ...(store === undefined ? {} : { store, key: job.key }),
  });
  const model = createOpenAI({
    apiKey: job.apiKey,
    baseURL: `http://127.0.0.1:${job.port}/openai/v1`,
  }).embedding('text-embedding-3-small');
  const inputs = makeInputs(job.count, job.start);
  if (job.warm) {
    // A replica that has been running: its connection is open and its code compiled (one call on
    // another account's key, which the server counts apart).
    await embedMany({
      model: createOpenAI({
        apiKey: `${job.apiKey}-warm-up`,
        baseURL: `http://127.0.0.1:${job.port}/openai/v1`,
      }).embedding('text-embedding-3-small'),
      inputs: makeInputs(job.batch, 1_000_000),
      dimensions: job.dimensions,
    });
  }
  // Every process starts the measured job at the parent's signal, once all of them are ready.
  process.send({ ready: true });
  await new Promise((resolve) => process.once('message', resolve));
  let retries = 0;
  const started = performance.now();
  const { embeddings } = await embedMany({
    model,
    inputs,
    dimensions: job.dimensions,
    maxInputsPerCall: job.batch,
    concurrency: job.concurrency,
    maxRetries: 20,
    rateLimit,
    onRetry: () => retries++,
  });
  const wallMs = performance.now() - started;
  let wrong = 0;
  for (let index = 0; index < inputs.length; index++)
    if (!sameVector(embeddings[index], expectedVector(inputs[index], job.dimensions))) wrong++;
  await store?.close();
  result = { inputs: inputs.length, vectors: embeddings.length, wrong, retries, wallMs, warnings };
} catch (error) {
  result = { error: String(error?.stack ?? error), warnings };
}
process.send(result, () => process.exit(0));
