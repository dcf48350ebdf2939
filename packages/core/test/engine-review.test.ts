/**
 * What the engine does at its edges, alike for embeddings, contextualized chunks, rerank and batch-job
 * requests: an abort that came before an attempt sends nothing, a limiter's switches take only true or
 * false, and a model without the capabilities the engine reads, or with a limit that is no number, is
 * refused as an argument before any call.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sendBatchJobRequest } from '../src/batch-jobs.js';
import { embedContextualized, isContextualizedEmbeddingModel } from '../src/contextualized.js';
import type { Clock } from '../src/engine/clock.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter, type RateLimiterOptions } from '../src/engine/limiter.js';
import type { RetryEvent } from '../src/engine/settings.js';
import { onAbort } from '../src/engine/signal.js';
import { RateLimitError } from '../src/errors.js';
import { type RerankResponse, rerank } from '../src/rerank.js';
import {
  BASE_CAPABILITIES,
  contextualizedModel,
  invalidArgumentOf,
  rejection,
  ScriptedModel,
  thrownInvalidArgument,
  tick,
  until,
  VirtualClock,
} from './helpers.js';

describe('an abort before an attempt sends nothing', () => {
  it('a 429 that asks for no wait, then an abort in onRetry: no second call goes out', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const controller = new AbortController();
    const retries: RetryEvent[] = [];
    const model = new ScriptedModel({
      clock,
      respond: (call) => {
        if (call.number === 1) throw new RateLimitError('slow down', { retryAfterMs: 0 });
        return undefined;
      },
    });
    const error = await rejection(
      embedMany({
        model,
        inputs: ['1', '2'],
        clock,
        signal: controller.signal,
        onRetry: (event) => {
          retries.push(event);
          controller.abort();
        },
      }),
    );
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(retries.map(({ attempt, delayMs }) => ({ attempt, delayMs }))).toEqual([
      { attempt: 1, delayMs: 0 },
    ]);
    expect(model.callInputs).toEqual([['1', '2']]);
  });

  it('a batch-job request whose signal aborted before it was made is not sent', async () => {
    const controller = new AbortController();
    const reason = new Error('the caller stopped');
    controller.abort(reason);
    let sent = 0;
    const error = await rejection(
      sendBatchJobRequest(
        { provider: 'acme', modelId: 'embed-1' },
        'get',
        { signal: controller.signal },
        async () => {
          sent++;
          return 'done';
        },
      ),
    );
    expect(error).toBe(reason);
    expect(sent).toBe(0);
  });
});

describe('createRateLimiter takes only true or false for its switches', () => {
  it.each(['learnFromHeaders', 'adaptive'] as const)('%s "false" is refused, not read as on', (name) => {
    const error = thrownInvalidArgument(() =>
      createRateLimiter({ [name]: 'false' } as unknown as RateLimiterOptions),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe(name);
    expect(error.message).toBe(`${name} must be true or false, got "false".`);
    expect(createRateLimiter({ [name]: false }).requestsPerMinute).toBeUndefined();
  });
});

describe('calls queued for a budget', () => {
  it('a dozen calls waiting behind one signal share one abort listener, and all end at its abort', async () => {
    // Time stands still at 0 (nothing refills); each sleep ends when the test wakes it, or at the abort.
    const sleeping: (() => void)[] = [];
    const clock: Clock = {
      now: () => 0,
      sleep: (_ms, signal) =>
        new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason);
          const stop = signal === undefined ? () => {} : onAbort(signal, () => reject(signal.reason));
          sleeping.push(() => {
            stop();
            resolve();
          });
        }),
    };
    const limiter = createRateLimiter({ requestsPerMinute: 1 });
    await limiter.acquire({ tokens: 1, clock });
    const controller = new AbortController();
    const waiting = Array.from({ length: 12 }, () =>
      rejection(limiter.acquire({ tokens: 1, clock, signal: controller.signal })),
    );
    await until(() => sleeping.length === 12, 'every call asleep for the budget');
    // Woken with nothing refilled: the first in the queue sleeps again, the other eleven wait their turn.
    for (const wake of sleeping.splice(0)) wake();
    await until(() => sleeping.length === 1, 'the head of the queue asleep again');
    await tick();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    const errors = await Promise.all(waiting);
    expect(errors.every((error) => error === controller.signal.reason)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('rerank and embedContextualized refuse a model without capabilities, as embedMany does', () => {
  it('a reranking model whose capabilities are null is refused as model', async () => {
    let calls = 0;
    const model = {
      specificationVersion: 'v1',
      provider: 'rerank-co',
      modelId: 'rr-1',
      capabilities: null,
      doRerank: async (): Promise<RerankResponse> => {
        calls++;
        throw new Error('must not be called');
      },
    };
    const error = await invalidArgumentOf(rerank({ model: model as never, query: 'q', documents: ['1'] }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('model');
    expect(error.message).toBe('model must be an embedkit RerankingModel (specificationVersion "v1").');
    expect(calls).toBe(0);
  });

  const doEmbedContextualized = async (): Promise<never> => {
    throw new Error('must not be called');
  };
  it.each([
    ['no capabilities', { contextualizedCapabilities: { maxDocumentsPerCall: 10 }, doEmbedContextualized }],
    [
      'contextualizedCapabilities null',
      { capabilities: BASE_CAPABILITIES, contextualizedCapabilities: null, doEmbedContextualized },
    ],
  ])('a contextualized model with %s is no such model and is refused as model', async (_label, shape) => {
    const model = { specificationVersion: 'v1', provider: 'ctx', modelId: 'ctx-1', ...shape };
    expect(isContextualizedEmbeddingModel(model)).toBe(false);
    const error = await invalidArgumentOf(embedContextualized({ model: model as never, documents: [['a']] }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('model');
    expect(error.message).toBe(
      'model must be an embedkit model with contextualized embeddings (doEmbedContextualized), e.g. voyage.contextualizedEmbedding("voyage-context-3").',
    );
  });
});

describe('embedContextualized checks the chunk limit the model declares', () => {
  it('a limit of NaN is refused before any call, not read as no limit', async () => {
    const { model, sent } = contextualizedModel({ maxChunksPerCall: Number.NaN });
    const error = await invalidArgumentOf(embedContextualized({ model, documents: [['1', '2'], ['3']] }));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('model.contextualizedCapabilities.maxChunksPerCall');
    expect(error.message).toBe(
      "The ctx model ctx-1's contextualizedCapabilities.maxChunksPerCall is NaN; a limit must be a whole number of at least 1. Check the capabilities the model was given.",
    );
    expect(sent).toEqual([]);
  });

  it('a limit of 2 chunks packs a two-chunk document alone and the next two one-chunk documents together', async () => {
    const { model, sent } = contextualizedModel({ maxChunksPerCall: 2 });
    const result = await embedContextualized({
      model,
      documents: [['1', '2'], ['3'], ['4']],
      concurrency: 1,
    });
    expect(sent).toEqual([[['1', '2']], [['3'], ['4']]]);
    expect(result.embeddings.map((vectors) => vectors.map((vector) => vector[0]))).toEqual([
      [1, 2],
      [3],
      [4],
    ]);
  });
});
