/**
 * Edges of answers, limits and batch jobs: an answer the engine refuses for its usage is never cached,
 * the rate limiter forgets the models it no longer paces, an error status with a body over the size
 * limit keeps its status, and batch job operations refuse a user option by listing the options they take.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendBatchJobRequest, waitForBatchJob } from '../src/batch-jobs.js';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import {
  createMemoryLimiterStore,
  createRateLimiter,
  limiterStoreSize,
  scopeCount,
} from '../src/engine/limiter.js';
import {
  type EmbedKitError,
  InvalidArgumentError,
  InvalidResponseError,
  RateLimitError,
  ServerError,
} from '../src/errors.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { recordingClock } from '../src/testing.js';
import {
  invalidResponseOf,
  rejection,
  rejectionOf,
  ScriptedModel,
  scriptedBatchGet,
  VirtualClock,
} from './helpers.js';
import { acmeRequest, startLoopback, TRANSPORTS } from './http-helpers.js';

describe('the cache stores nothing of an answer the engine refuses', () => {
  it('an answer with sound vectors and usage of 2.5 tokens fails as it does without the cache, and is not stored', async () => {
    const bare = new ScriptedModel({ usage: () => 2.5 });
    const withoutCache = await invalidResponseOf(embedMany({ model: bare, inputs: ['a', 'b'] }));

    const store = createMemoryCacheStore();
    const inner = new ScriptedModel({ usage: () => 2.5 });
    const cached = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    const first = await invalidResponseOf(embedMany({ model: cached, inputs: ['a', 'b'] }));
    expect(first.message).toBe('scripted reported usage of 2.5 tokens, which is not a count.');
    expect(first.message).toBe(withoutCache.message);
    expect(first.code).toBe(withoutCache.code);
    expect(first.statusCode).toBe(200);
    expect(store.size).toBe(0);

    // The same job again reaches the model again, and fails again.
    const second = await invalidResponseOf(embedMany({ model: cached, inputs: ['a', 'b'] }));
    expect(second.message).toBe(withoutCache.message);
    expect(inner.callInputs).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(store.size).toBe(0);
  });

  it('an answer whose warnings are not a list, or whose response information has no status, is not stored', async () => {
    const store = createMemoryCacheStore();
    const inner = new ScriptedModel({
      respond: (call) => ({
        embeddings: call.inputs.map(() => new Float32Array([1, 2])),
        warnings: call.number === 1 ? ('none' as never) : [],
        response: call.number === 1 ? { status: 200, headers: {} } : ({ headers: {} } as never),
      }),
    });
    const cached = wrapEmbeddingModel(inner, cacheMiddleware({ store }));
    expect((await invalidResponseOf(embedMany({ model: cached, inputs: ['a'] }))).message).toBe(
      'scripted returned warnings that are not a list.',
    );
    expect((await invalidResponseOf(embedMany({ model: cached, inputs: ['a'] }))).message).toBe(
      'scripted returned response information without an HTTP status (its status: nothing).',
    );
    expect(store.size).toBe(0);
  });
});

describe('the rate limiter keeps a scope only while it matters', () => {
  const clock = recordingClock();
  const LIMITS = {
    'x-ratelimit-limit-requests': '100',
    'x-ratelimit-remaining-requests': '99',
  };

  it('a call of a new model id leaves no scope behind once it ends, answered or failed', async () => {
    const limiter = createRateLimiter({ adaptive: false });
    for (let index = 0; index < 5; index++) {
      const permit = await limiter.acquire({ tokens: 1, scope: `p:model-${index}`, clock });
      expect(scopeCount(limiter)).toBe(1);
      if (index % 2 === 0) await permit.answered({ reportedTokens: 1, headers: {} });
      else await permit.failed({ rateLimited: false, waitMs: 0 });
      expect(scopeCount(limiter)).toBe(0);
    }
  });

  it('a scope stays while another call of it is in flight, and one that learned a limit stays while it holds calls back', async () => {
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, scope: 'p:a', clock });
    const second = await limiter.acquire({ tokens: 1, scope: 'p:a', clock });
    const other = await limiter.acquire({ tokens: 1, scope: 'p:b', clock });
    expect(scopeCount(limiter)).toBe(2);
    await first.answered({ reportedTokens: 1, headers: {} });
    expect(scopeCount(limiter)).toBe(2);
    await other.answered({ reportedTokens: 1, headers: LIMITS });
    await second.answered({ reportedTokens: 1, headers: {} });
    expect(scopeCount(limiter)).toBe(1);

    // What scope b learned still holds its calls: 100 a minute, of which 99 remain.
    const waits: number[] = [];
    for (let index = 0; index < 99; index++) {
      const permit = await limiter.acquire({ tokens: 1, scope: 'p:b', clock });
      await permit.answered({ reportedTokens: 1, headers: {} });
    }
    const late = await limiter.acquire({
      tokens: 1,
      scope: 'p:b',
      clock,
      onWait: (event) => waits.push(event.delayMs),
    });
    expect(waits).toEqual([600]);
    await late.answered({ reportedTokens: 1, headers: {} });
    expect(scopeCount(limiter)).toBe(1);
  });

  it('a scope that learned a limit is dropped once no call held it for a minute, the window its buckets refill in', async () => {
    // Kept for good, a limiter shared by calls of a thousand model ids, each stating its limits, held a
    // thousand scopes.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    for (let index = 0; index < 1_000; index++) {
      const permit = await limiter.acquire({ tokens: 1, scope: `p:model-${index}`, clock });
      await permit.answered({ reportedTokens: 1, headers: LIMITS });
      await clock.sleep(1_000);
    }
    // The last minute's sixty, each still holding what it learned.
    expect(scopeCount(limiter)).toBe(60);
    await clock.sleep(59_000);
    expect(scopeCount(limiter)).toBe(60);
    await (await limiter.acquire({ tokens: 1, scope: 'p:model-999', clock })).answered({
      reportedTokens: 1,
      headers: {},
    });
    // Held again before its minute was out, model-999 keeps what it learned; the other 59 went.
    expect(scopeCount(limiter)).toBe(1);
  });

  it('the store keeps a scope’s learned bucket only until it is full again, and a minute more', async () => {
    // A thousand model ids, one a second, each stating 100 requests a minute with 99 left. Kept for good,
    // the store held a bucket for each of them once their scopes were long dropped.
    const clock = new VirtualClock();
    const store = createMemoryLimiterStore();
    const limiter = createRateLimiter({ adaptive: false, store });
    for (let index = 0; index < 1_000; index++) {
      const permit = await limiter.acquire({ tokens: 1, scope: `p:model-${index}`, clock });
      await permit.answered({ reportedTokens: 1, headers: LIMITS });
      await clock.sleep(1_000);
    }
    // Each bucket is full again 0.6 s after its answer, and dropped a minute later when the store, two
    // entries an operation in turn, comes to it: the 61 of the last 61 s, and 16 it has not come back to.
    expect(limiterStoreSize(store)).toBe(77);
    // A minute on, all are full again: twenty calls of one model (39 operations) leave only its own.
    await clock.sleep(60_000);
    for (let index = 0; index < 20; index++) {
      const permit = await limiter.acquire({ tokens: 1, scope: 'p:model-new', clock });
      await permit.answered({ reportedTokens: 1, headers: LIMITS });
    }
    expect(limiterStoreSize(store)).toBe(1);
  });

  it('a scope dropped after a minute learns its limit again from the next answer', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const none = { 'x-ratelimit-limit-requests': '1', 'x-ratelimit-remaining-requests': '0' };
    await (await limiter.acquire({ tokens: 1, scope: 'p:a', clock })).answered({
      reportedTokens: 1,
      headers: none,
    });
    await clock.sleep(60_000);
    await (await limiter.acquire({ tokens: 1, scope: 'p:b', clock })).answered({
      reportedTokens: 1,
      headers: {},
    });
    expect(scopeCount(limiter)).toBe(0);
    // Dropped, 'p:a' goes at once, as a new scope would; its answer states the limit again.
    await (await limiter.acquire({ tokens: 1, scope: 'p:a', clock })).answered({
      reportedTokens: 1,
      headers: none,
    });
    expect(clock.now()).toBe(60_000);
    const waits: number[] = [];
    await limiter.acquire({ tokens: 1, scope: 'p:a', clock, onWait: (event) => waits.push(event.delayMs) });
    expect(waits).toEqual([60_000]);
  });

  it('a call refused admission (its store out of reach) leaves no scope behind', async () => {
    const store = createMemoryLimiterStore();
    const limiter = createRateLimiter({
      adaptive: false,
      store: {
        ...store,
        pausedUntil: () => {
          throw new Error('store out of reach');
        },
      },
    });
    const refused = await rejection(limiter.acquire({ tokens: 1, scope: 'p:a', clock }));
    expect((refused as Error).message).toBe('store out of reach');
    expect(scopeCount(limiter)).toBe(0);
  });
});

describe('an error status whose body is over maxResponseBytes', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  /** The status of the next answer, and whether its head declares the body's length. */
  let answer = { status: 503, declared: true };
  /** A proxy's error page of 5,000 bytes, over the 1,000 the calls allow. */
  const PAGE = `<html><body>${'x'.repeat(5_000 - 26)}</body></html>`;

  beforeAll(async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    loopback = await startLoopback((_request, response: ServerResponse) => {
      const head = { 'content-type': 'text/html', 'retry-after': '7', 'x-request-id': 'req-fake-large' };
      if (answer.declared) {
        response.writeHead(answer.status, { ...head, 'content-length': PAGE.length }).end(PAGE);
        return;
      }
      // Sent in pieces with no declared length: only the bytes read show it is too large.
      response.writeHead(answer.status, head);
      for (let start = 0; start < PAGE.length; start += 500) response.write(PAGE.slice(start, start + 500));
      response.end();
    });
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  const call = (transport: string) =>
    acmeRequest(TRANSPORTS[transport]!(), `${loopback.origin}/v1/embeddings`, { maxResponseBytes: 1_000 });

  describe.each(Object.keys(TRANSPORTS))('%s', (transport) => {
    it.each([true, false])(
      'a 503 (length declared: %s) is a retryable ServerError with its Retry-After, saying the body was over the limit',
      async (declared) => {
        answer = { status: 503, declared };
        const error = await rejectionOf<EmbedKitError>(ServerError, call(transport));
        expect(error.code).toBe('server_error');
        expect(error.isRetryable).toBe(true);
        expect(error.statusCode).toBe(503);
        expect(error.retryAfterMs).toBe(7_000);
        expect(error.requestId).toBe('req-fake-large');
        expect(error.message).toBe(
          'acme API error 503: its body was larger than 1000 bytes (maxResponseBytes), and was not read — The API failed on its side; the engine retries these.',
        );
      },
    );

    it('a 429 keeps its wait', async () => {
      answer = { status: 429, declared: false };
      const error = await rejectionOf<EmbedKitError>(RateLimitError, call(transport));
      expect(error.code).toBe('rate_limited');
      expect(error.statusCode).toBe(429);
      expect(error.retryAfterMs).toBe(7_000);
    });

    it.each([true, false])(
      'a 200 (length declared: %s) stays a final InvalidResponseError',
      async (declared) => {
        answer = { status: 200, declared };
        const error = await rejectionOf(InvalidResponseError, call(transport));
        expect(error.code).toBe('invalid_response');
        expect(error.isRetryable).toBe(false);
        expect(error.statusCode).toBeUndefined();
        expect(error.message).toBe(
          'acme sent a response larger than 1000 bytes; raise maxResponseBytes or send fewer inputs per call.',
        );
      },
    );
  });
});

describe('batch job operations and the user option', () => {
  const jobs = { provider: 'acme', modelId: 'm' };
  const CALL =
    'signal, timeoutMs, maxRetries, maxRetryDelayMs, onRetry, onWait, headers, providerOptions, clock, onWarning';

  // No batch job API takes a user, so no hint sends the caller to providerOptions: the options are listed.
  it.each([
    ['create', `${CALL}, inputs, inputType, dimensions, displayName`],
    ['get', CALL],
    ['results', CALL],
    ['cancel', CALL],
    ['delete', CALL],
  ] as const)(
    '%s refuses user, listing the options it takes, before any request',
    async (operation, takes) => {
      let sent = 0;
      const error = await rejectionOf(
        InvalidArgumentError,
        sendBatchJobRequest(jobs, operation, { user: 'someone' } as never, async () => {
          sent++;
          return {};
        }),
      );
      expect(error).toMatchObject({ code: 'invalid_argument', argument: 'user' });
      expect(error.message).toBe(`${operation} has no option user. It takes ${takes}.`);
      expect(sent).toBe(0);
    },
  );

  it('wait refuses user, listing the options it takes, before any poll', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['succeeded'], clock);
    const error = await rejectionOf(
      InvalidArgumentError,
      waitForBatchJob(get, 'batches/1', { clock, user: 'someone' } as never),
    );
    expect(error).toMatchObject({ code: 'invalid_argument', argument: 'user' });
    expect(error.message).toBe(
      'wait has no option user. It takes signal, headers, providerOptions, clock, pollIntervalMs, maxPollIntervalMs, timeoutMs, pollTimeoutMs, maxConsecutiveErrors, onProgress, onWarning.',
    );
    expect(polls).toHaveLength(0);
  });
});
