/**
 * How a refusal shows the value it refused, the same wherever the argument was given: a number as itself,
 * a number given as text quoted (a budget read from the environment as `"60"` must not read as if the
 * number 60 were refused), a long string by its length alone (it may be a credential given in the wrong
 * place), and an object, array, function or symbol by its kind. Each entry point that checks a number goes
 * through the one description: the limiter's budgets, the engine's whole-number settings, the batch wait's
 * intervals, the HTTP client's response cap, top-k's `k` and `keepCopy` and the cache codec's expiry.
 */
import { describe, expect, it } from 'vitest';
import { checkPositiveNumber, checkWholeNumber, describeValue } from '../src/argument-checks.js';
import { waitForBatchJob } from '../src/batch-jobs.js';
import { encodeEmbedding } from '../src/cache-codec.js';
import { embedMany } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { describeValue as describeValueForProviders } from '../src/provider.js';
import { topK, topKHamming, topKInt8 } from '../src/search/top-k.js';
import {
  invalidArgumentOf,
  refusedBeforeAnyCall,
  scriptedBatchGet,
  thrownInvalidArgument,
  VirtualClock,
} from './helpers.js';

describe('describeValue', () => {
  it.each([
    ['a number', 60, '60'],
    ['a fraction', 1.5, '1.5'],
    ['NaN', Number.NaN, 'NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['negative zero', -0, '-0'],
    ['zero', 0, '0'],
    ['a bigint', 10n, '10n'],
    ['true', true, 'true'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a number as text', '60', '"60"'],
    ['text with a quote', 'a"b', '"a\\"b"'],
    ['an empty string', '', 'an empty string'],
    ['a string of 24 characters', 'x'.repeat(24), `"${'x'.repeat(24)}"`],
    ['a string of 25 characters', 'x'.repeat(25), 'a string of 25 characters'],
    ['a function', () => 60, 'a function'],
    ['a symbol', Symbol('rpm'), 'a symbol'],
    ['an array', [60], 'an array'],
    ['an empty object', {}, 'an empty object'],
    ['an object', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, 'an object with a, b, c, d, e'],
  ])('shows %s as %s', (_label, value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });

  it('never shows a credential given where a number belongs, only its length', () => {
    const key = 'fake-test-credential-not-a-key-000000';
    expect(describeValue(key)).toBe(`a string of ${key.length} characters`);
    const error = thrownInvalidArgument(() => createRateLimiter({ requestsPerMinute: key as never }));
    expect(error.message).toBe(
      `requestsPerMinute must be a finite number > 0, got a string of ${key.length} characters.`,
    );
    expect(error.message).not.toContain('fake-test-credential');
  });

  it('is the one providers and adapters import', () => {
    expect(describeValueForProviders).toBe(describeValue);
  });
});

describe('checkWholeNumber and checkPositiveNumber', () => {
  it('take an absent value and the values at their bounds', () => {
    expect(() => checkWholeNumber(undefined, 'n', 1, 3)).not.toThrow();
    expect(() => checkWholeNumber(1, 'n', 1, 3)).not.toThrow();
    expect(() => checkWholeNumber(3, 'n', 1, 3)).not.toThrow();
    expect(() => checkPositiveNumber(undefined, 'rate')).not.toThrow();
    expect(() => checkPositiveNumber(Number.MIN_VALUE, 'rate')).not.toThrow();
  });

  it.each([
    [0, 'n must be a whole number from 1 to 3, got 0.'],
    [4, 'n must be a whole number from 1 to 3, got 4.'],
    [2.5, 'n must be a whole number from 1 to 3, got 2.5.'],
    ['2', 'n must be a whole number from 1 to 3, got "2".'],
  ])('a bounded whole number refuses %s', (value, message) => {
    const error = thrownInvalidArgument(() => checkWholeNumber(value as number, 'n', 1, 3));
    expect(error.argument).toBe('n');
    expect(error.message).toBe(message);
  });

  it('a whole number without a maximum is asked for as at least its minimum; the largest safe integer is taken', () => {
    expect(() => checkWholeNumber(Number.MAX_SAFE_INTEGER, 'n', 0)).not.toThrow();
    expect(thrownInvalidArgument(() => checkWholeNumber(-1, 'n', 0)).message).toBe(
      'n must be a whole number ≥ 0, got -1.',
    );
    expect(thrownInvalidArgument(() => checkWholeNumber(Number.MAX_SAFE_INTEGER + 1, 'n', 0)).message).toBe(
      'n must be a whole number ≥ 0, got 9007199254740992.',
    );
  });

  it.each([
    [0, '0'],
    [-0, '-0'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NaN, 'NaN'],
    ['60', '"60"'],
    [null, 'null'],
  ])('a positive number refuses %s', (value, shown) => {
    const error = thrownInvalidArgument(() => checkPositiveNumber(value as number, 'rate'));
    expect(error.argument).toBe('rate');
    expect(error.message).toBe(`rate must be a finite number > 0, got ${shown}.`);
  });
});

describe('every entry point shows a number given as text quoted', () => {
  it('the limiter’s budgets', () => {
    const error = thrownInvalidArgument(() => createRateLimiter({ tokensPerMinute: '60000' as never }));
    expect(error.argument).toBe('tokensPerMinute');
    expect(error.message).toBe('tokensPerMinute must be a finite number > 0, got "60000".');
  });

  it('the engine’s whole-number settings', async () => {
    const error = await refusedBeforeAnyCall((model) =>
      embedMany({ model, inputs: ['1'], concurrency: '4' as never }),
    );
    expect(error.argument).toBe('concurrency');
    expect(error.message).toBe('concurrency must be a whole number from 1 to 10,000, got "4".');
  });

  it('the batch wait’s intervals and its count of failed polls', async () => {
    const clock = new VirtualClock();
    const { get, polls } = scriptedBatchGet(['running'], clock);
    const interval = await invalidArgumentOf(
      waitForBatchJob(get, 'batches/1', { clock, pollIntervalMs: '10000' as never }),
    );
    expect(interval.message).toBe('pollIntervalMs must be a finite number > 0, got "10000".');
    const errors = await invalidArgumentOf(
      waitForBatchJob(get, 'batches/1', { clock, maxConsecutiveErrors: '3' as never }),
    );
    expect(errors.argument).toBe('maxConsecutiveErrors');
    expect(errors.message).toBe('maxConsecutiveErrors must be a whole number ≥ 1, got "3".');
    expect(polls).toHaveLength(0);
  });

  it('the HTTP client’s response cap', async () => {
    let sent = 0;
    const error = await invalidArgumentOf(
      requestJson({
        transport: createFetchTransport(async () => {
          sent++;
          return new Response('{}');
        }),
        provider: 'acme',
        url: 'https://api.example.test/v1/embeddings',
        maxResponseBytes: '1048576' as never,
      }),
    );
    expect(error.message).toBe(
      'acme: maxResponseBytes must be a whole number of bytes above 0, got "1048576".',
    );
    expect(sent).toBe(0);
  });

  it('top-k’s k and metric', () => {
    expect(thrownInvalidArgument(() => topK([1], [[1]], '1' as never)).message).toBe(
      'k must be a whole number ≥ 0, got "1".',
    );
    expect(thrownInvalidArgument(() => topK([1], [[1]], 1, { metric: 'l2' as never })).message).toBe(
      "metric must be 'cosine' or 'dot', got \"l2\".",
    );
  });

  it('each search’s keepCopy, which a string would turn on whatever it says', () => {
    const corpus = [Float32Array.of(1, 0)];
    const bits = [Uint8Array.of(1)];
    const runs: [() => unknown, string][] = [
      [() => topK([1, 0], corpus, 1, { keepCopy: 'false' as never }), '"false"'],
      [() => topKInt8(Int8Array.of(1, 0), [Int8Array.of(1, 0)], 1, { keepCopy: 'no' as never }), '"no"'],
      [() => topKHamming(Uint8Array.of(1), bits, 1, { keepCopy: 0 as never }), '0'],
    ];
    for (const [run, shown] of runs) {
      const error = thrownInvalidArgument(run);
      expect(error.argument).toBe('keepCopy');
      expect(error.message).toBe(`keepCopy must be true or false, got ${shown}.`);
    }
    expect(topK([1, 0], corpus, 1, { keepCopy: false })).toEqual([{ index: 0, score: 1 }]);
  });

  it('the cache codec’s expiry', () => {
    const error = thrownInvalidArgument(() =>
      encodeEmbedding(Float32Array.of(1), { expiresAt: '1767225600000' as never }),
    );
    expect(error.message).toBe('expiresAt must be a time in epoch milliseconds, got "1767225600000".');
  });
});
