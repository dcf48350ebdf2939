/**
 * A call never carries more tokens than the rate limiter's budget a minute; a zero vector in a corpus
 * scores 0 without a copy of the query; what the limiter reads from contradictory headers and non-429
 * failures.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { type Batch, Packer, planBatches } from '../src/engine/batcher.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import type { TokenCounter } from '../src/engine/token-counter.js';
import { InvalidArgumentError, ServerError } from '../src/errors.js';
import { rerank } from '../src/rerank.js';
import { topK } from '../src/search/top-k.js';
import { recordingClock, rejectionOf } from '../src/testing.js';
import { cosineSimilarity } from '../src/vectors.js';
import { contextualizedModel, ScriptedModel, ScriptedReranker, VirtualClock } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts a token a character, as an estimate. */
const oneTokenPerCharacter: TokenCounter = {
  exact: false,
  count: (input) => (typeof input === 'string' ? input.length : 0),
};

/** The same count, said to be exact. */
const exactOneTokenPerCharacter: TokenCounter = { ...oneTokenPerCharacter, exact: true };

/** The sizes of the calls `items` (each costing its own number of tokens) are packed into. */
function callSizes(items: number[], limits: ConstructorParameters<typeof Packer<number>>[1]): number[] {
  const batches: Batch<number>[] = planBatches(items, new Packer<number>((tokens) => ({ tokens }), limits));
  return batches.map((batch) => batch.items.length);
}

describe('a tokensPerMinute budget smaller than the calls the model takes', () => {
  it('caps each call at the budget: 200 inputs of 100 tokens under 10,000 a minute go in two calls of 100', () => {
    const items = Array.from({ length: 200 }, () => 100);
    expect(callSizes(items, { maxItems: 1_000, maxTokens: 120_000, tokensPerMinute: 10_000 })).toEqual([
      100, 100,
    ]);
    // The model's own limit still holds where it is the lower one.
    expect(callSizes(items, { maxItems: 1_000, maxTokens: 5_000, tokensPerMinute: 10_000 })).toEqual([
      50, 50, 50, 50,
    ]);
    expect(callSizes(items, { maxItems: 1_000, maxTokens: 120_000 })).toEqual([200]);
  });

  it('caps a model that states no limit on tokens per call too', () => {
    expect(
      callSizes([3_000, 3_000, 3_000, 3_000, 1_000], { maxItems: 100, tokensPerMinute: 10_000 }),
    ).toEqual([3, 2]);
  });

  it('lets an item whose count is an estimate over the budget travel in a call of its own', () => {
    expect(callSizes([5, 10_001, 5, 5], { maxItems: 10, tokensPerMinute: 10_000 })).toEqual([1, 1, 2]);
  });

  it('refuses an input larger than the whole budget, naming its index, its tokens and the budget', () => {
    const packer = new Packer<number>((tokens) => ({ tokens }), {
      maxItems: 10,
      tokensPerMinute: 10_000,
      exactTokens: true,
    });
    packer.push(10_000);
    let refusal: unknown;
    try {
      packer.push(10_001);
    } catch (error) {
      refusal = error;
    }
    expect(InvalidArgumentError.isInstance(refusal)).toBe(true);
    const error = refusal as InvalidArgumentError;
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('inputs[1]');
    expect(error.message).toBe(
      "Input 1 has 10001 tokens, more than the rate limit's budget of 10000 tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.",
    );
    // The input refused is not packed: the call holds the one before it alone.
    packer.flush();
    expect(packer.take()?.items).toEqual([10_000]);
  });

  it('embedMany sends 200 inputs of 100 tokens under 10,000 a minute in two calls of 100', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1_000, maxTokensPerCall: 120_000 } });
    const inputs = Array.from({ length: 200 }, (_, index) => `${index % 10}`.padEnd(100, 'x'));
    const result = await embedMany({
      model,
      inputs,
      tokenCounter: oneTokenPerCharacter,
      clock: recordingClock(),
      rateLimit: createRateLimiter({ tokensPerMinute: 10_000 }),
    });
    expect(model.calls.map((call) => call.request.inputs.length)).toEqual([100, 100]);
    expect(result.embeddings).toHaveLength(200);
  });

  it('embedMany refuses an input whose exact count is over the budget before any call', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1_000 } });
    const error = await rejectionOf(
      embedMany({
        model,
        inputs: ['short', 'x'.repeat(10_001)],
        tokenCounter: exactOneTokenPerCharacter,
        clock: recordingClock(),
        rateLimit: createRateLimiter({ tokensPerMinute: 10_000 }),
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.argument).toBe('inputs[1]');
    expect(error.message).toBe(
      "Input 1 has 10001 tokens, more than the rate limit's budget of 10000 tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.",
    );
    expect(model.calls).toEqual([]);
  });

  it('embedMany sends an input whose estimate is over the budget in a call of its own: an estimate errs high', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1_000 } });
    await embedMany({
      model,
      inputs: ['short', 'x'.repeat(10_001), 'after'],
      tokenCounter: oneTokenPerCharacter,
      clock: recordingClock(),
      rateLimit: createRateLimiter({ tokensPerMinute: 10_000 }),
    });
    expect(model.calls.map((call) => call.request.inputs.length)).toEqual([1, 1, 1]);
  });

  it('embedMany sends an input over the budget when truncate lets the API cut it to the model limit', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1_000, maxTokensPerInput: 100 } });
    await embedMany({
      model,
      inputs: ['x'.repeat(1_500)],
      truncate: true,
      tokenCounter: exactOneTokenPerCharacter,
      clock: recordingClock(),
      rateLimit: createRateLimiter({ tokensPerMinute: 1_000 }),
    });
    expect(model.calls.map((call) => call.request.inputs.length)).toEqual([1]);
  });

  /** 200 documents that each cost 100 tokens with the one-token query. */
  const documents = Array.from({ length: 200 }, (_, index) => `${index % 10}`.padEnd(99, 'x'));

  it('rerank sends documents in calls that fit the budget', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1_000, maxTokensPerCall: 120_000 });
    const result = await rerank({
      model,
      query: 'q',
      documents,
      tokenCounter: oneTokenPerCharacter,
      clock: recordingClock(),
      rateLimit: createRateLimiter({ tokensPerMinute: 10_000 }),
    });
    expect(model.calls.map((call) => call.request.documents.length)).toEqual([100, 100]);
    expect(result.results).toHaveLength(200);
  });

  it('a budget of requests alone caps no call', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1_000, maxTokensPerCall: 120_000 });
    await rerank({
      model,
      query: 'q',
      documents,
      tokenCounter: oneTokenPerCharacter,
      clock: recordingClock(),
      rateLimit: createRateLimiter({ requestsPerMinute: 3 }),
    });
    expect(model.calls.map((call) => call.request.documents.length)).toEqual([200]);
  });

  it('rerank refuses a document whose exact count is over the budget before any call', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1_000 });
    const error = await rejectionOf(
      rerank({
        model,
        query: 'q',
        documents: ['1 short', '2'.padEnd(10_000, 'x')],
        tokenCounter: exactOneTokenPerCharacter,
        clock: recordingClock(),
        rateLimit: createRateLimiter({ tokensPerMinute: 10_000 }),
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('documents[1]');
    expect(error.message).toBe(
      "The query and document 1 have 10001 tokens together, more than the rate limit's budget of 10000 tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.",
    );
    expect(model.calls).toEqual([]);
  });

  it('embedContextualized sends documents in calls that fit the budget', async () => {
    const { model, sent } = contextualizedModel({ maxDocumentsPerCall: 100 });
    const chunks = (letter: string) => [letter.repeat(30), letter.repeat(30)];
    await embedContextualized({
      model,
      documents: [chunks('a'), chunks('b'), chunks('c'), chunks('d'), chunks('e')],
      tokenCounter: oneTokenPerCharacter,
      clock: recordingClock(),
      rateLimit: createRateLimiter({ tokensPerMinute: 130 }),
    });
    expect(sent.map((call) => call.length)).toEqual([2, 2, 1]);
  });
});

describe('a zero vector in a corpus', () => {
  it('scores 0 against an ordinary query without copying the query, on the first query and after', () => {
    const copies = vi.spyOn(Float64Array, 'from');
    const vectors = [
      [0, 0, 0],
      [1, 2, 3],
      [0, 0, 0],
      [3, 2, 1],
    ];
    const expected = [
      { index: 1, score: 1 },
      { index: 3, score: 0.7142857142857143 },
      { index: 0, score: 0 },
      { index: 2, score: 0 },
    ];
    expect(topK([1, 2, 3], vectors, 4)).toEqual(expected);
    expect(topK([1, 2, 3], vectors, 4)).toEqual(expected);
    expect(cosineSimilarity([1, 2, 3], [0, 0, 0])).toBe(0);
    expect(copies).not.toHaveBeenCalled();
  });

  it('still scores a tiny vector beside a huge query by its angle (both scaled)', () => {
    expect(
      topK(
        [3e200, 4e200],
        [
          [0, 0],
          [4e-200, 3e-200],
        ],
        2,
      ),
    ).toEqual([
      { index: 1, score: 0.96 },
      { index: 0, score: 0 },
    ]);
  });
});

describe('the limiter and contradictory x-ratelimit-* headers', () => {
  /** When the calls of a job of `count` one-input calls, one at a time, start under `headers`. */
  async function startsUnder(headers: Record<string, string>, count: number): Promise<number[]> {
    const clock = new VirtualClock();
    const model = new ScriptedModel({
      clock,
      capabilities: { maxInputsPerCall: 1 },
      usage: false,
      respond: ({ request }) => ({
        embeddings: request.inputs.map(() => Float32Array.of(1, 0)),
        warnings: [],
        response: { status: 200, headers },
      }),
    });
    const inputs = Array.from({ length: count }, (_, index) => `input ${index}`);
    await embedMany({ model, inputs, clock, concurrency: 1 });
    return model.calls.map((call) => call.startedAt);
  }

  it('a remaining count above the stated limit is held to the limit (2 a minute: the fourth call waits 30 s)', async () => {
    expect(
      await startsUnder({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '100' }, 4),
    ).toEqual([0, 0, 0, 30_000]);
  });

  it('a stated limit of 0 is no limit: what remains bounds the budget, as when no limit is stated', async () => {
    expect(
      await startsUnder({ 'x-ratelimit-limit-requests': '0', 'x-ratelimit-remaining-requests': '2' }, 4),
    ).toEqual([0, 0, 0, 30_000]);
  });
});

describe('requests that fail with other errors than 429', () => {
  it('leave the limiter with no pause and no pace: the retries wait only their backoff', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: ({ number }) => {
        if (number <= 3) throw new ServerError('simulated returned 500. The API failed on its side.');
        return undefined;
      },
    });
    const waits: unknown[] = [];
    await embedMany({
      model,
      inputs: ['a', 'b'],
      clock,
      concurrency: 1,
      rateLimit: createRateLimiter(),
      onWait: (event) => waits.push(event),
    });
    expect(model.calls).toHaveLength(5);
    expect(waits).toEqual([]);
  });
});
