/**
 * A caller may pass one long-lived signal (a server's shutdown signal, say) to every call it makes. Each
 * wait watches it through the engine's one listener per signal; a wait that ends without saying so stays
 * in that listener's set for as long as the signal lives: one closure, and all it holds, per call.
 */
import { describe, expect, it } from 'vitest';
import { type BatchJob, waitForBatchJob } from '../src/batch-jobs.js';
import { embed, embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { watchCount } from '../src/engine/signal.js';
import { RateLimitError } from '../src/errors.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { numberedInputs, ScriptedModel, VirtualClock } from './helpers.js';
import { URL_BASE } from './http-helpers.js';

describe('a finished call leaves nothing watching its signal', () => {
  it('through the engine: single calls, many calls, a stream, with 429s retried and a rate limit', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    let calls = 0;
    const model = new ScriptedModel({
      respond: () => {
        // Every fifth call is refused once, briefly: a backoff sleep watches the signal too.
        if (++calls % 5 === 0) throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 2 });
        return undefined;
      },
    });
    const rateLimit = createRateLimiter({ requestsPerMinute: 60_000 });
    for (let index = 0; index < 12; index++) await embed({ model, input: String(index), signal, rateLimit });
    expect(watchCount(signal)).toBe(0);
    await embedMany({
      model,
      inputs: numberedInputs(40),
      signal,
      rateLimit,
      concurrency: 4,
      maxInputsPerCall: 3,
    });
    expect(watchCount(signal)).toBe(0);
    let streamed = 0;
    for await (const item of embedStream({ model, inputs: numberedInputs(10), signal }))
      streamed += item ? 1 : 0;
    expect(streamed).toBe(10);
    expect(watchCount(signal)).toBe(0);
    // Every call was made, retries included: the count above is of finished calls, not of calls not made.
    expect(calls).toBeGreaterThan(12 + 14);
  });

  it('through the fetch transport, 50 requests at once on one signal', async () => {
    const controller = new AbortController();
    const transport = createFetchTransport(
      async () =>
        new Response('{"data":[]}', { status: 200, headers: { 'content-type': 'application/json' } }),
    );
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        transport.request({
          method: 'POST',
          url: URL_BASE,
          headers: {},
          body: '{}',
          signal: controller.signal,
          maxResponseBytes: 1_000,
        }),
      ),
    );
    expect(answers.map((answer) => new TextDecoder().decode(answer.body))).toEqual(
      Array.from({ length: 50 }, () => '{"data":[]}'),
    );
    expect(watchCount(controller.signal)).toBe(0);
  });

  it('through a batch job wait with a deadline, three polls on one signal', async () => {
    const controller = new AbortController();
    const states: BatchJob['state'][] = ['running', 'running', 'succeeded'];
    const polled: (AbortSignal | undefined)[] = [];
    const job = await waitForBatchJob(
      async (id, options) => {
        polled.push(options.signal);
        return {
          id,
          provider: 'p',
          modelId: 'm',
          state: states[polled.length - 1]!,
          requestCounts: { total: 1, succeeded: 0, failed: 0, pending: 1 },
        };
      },
      'batches/1',
      { clock: new VirtualClock(), timeoutMs: 60_000, pollIntervalMs: 10, signal: controller.signal },
    );
    expect(job.state).toBe('succeeded');
    expect(polled).toHaveLength(3);
    expect(watchCount(controller.signal)).toBe(0);
  });
});
