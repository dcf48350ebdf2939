/**
 * The memory limiter store's token-bucket arithmetic (a bucket starts full, refills continuously, waits
 * exactly the refill a take needs, drives itself negative for a take bigger than the whole bucket, and
 * ignores a clock that steps back), the checks `createRateLimiter` and `limiterFor` make on what they are
 * given (each message naming the option and the value), how the `x-ratelimit-*` headers' stated limits
 * are read, and a call whose signal aborted before it waited for its turn or for a learned budget: it is
 * refused at once with the signal's reason.
 */
import { describe, expect, it } from 'vitest';
import {
  createMemoryLimiterStore,
  createRateLimiter,
  isRateLimiter,
  type LimiterPermit,
  type LimiterStore,
  limiterFor,
  limiterStoreSize,
  type RateLimiter,
} from '../src/engine/limiter.js';
import type { WaitEvent } from '../src/engine/settings.js';
import { thrownInvalidArgument, tick, until, VirtualClock } from './helpers.js';

/** One a second: a bucket of `capacity` that refills 60 a minute. */
const perSecond = (capacity: number) => ({ capacity, perMinute: 60 });

describe('the memory store’s token buckets', () => {
  it('a new bucket starts full; a take it cannot give waits exactly the refill it needs', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('k', perSecond(5), 3, 0)).toBe(0);
    // 2 left of the 3 needed: one more refills in 1 s.
    expect(store.take('k', perSecond(5), 3, 0)).toBe(1_000);
    expect(store.take('k', perSecond(5), 2, 0)).toBe(0);
    // Empty: 2.5 tokens refill in 2.5 s.
    expect(store.take('k', perSecond(5), 2.5, 0)).toBe(2_500);
  });

  it('refills continuously at perMinute, never above its capacity', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('k', perSecond(4), 4, 0)).toBe(0);
    // Half a second refills half a token: 1.5 more are needed.
    expect(store.take('k', perSecond(4), 2, 500)).toBe(1_500);
    expect(store.take('k', perSecond(4), 2, 2_000)).toBe(0);
    // An hour idle fills it to 4, no more.
    expect(store.take('k', perSecond(4), 4, 3_602_000)).toBe(0);
    expect(store.take('k', perSecond(4), 1, 3_602_000)).toBe(1_000);
  });

  it('a refill of one millisecond counts', () => {
    // A token a millisecond.
    const bucket = { capacity: 1, perMinute: 60_000 };
    const store = createMemoryLimiterStore();
    expect(store.take('k', bucket, 1, 0)).toBe(0);
    expect(store.take('k', bucket, 1, 1)).toBe(0);
    expect(store.take('k', bucket, 1, 1)).toBe(1);
  });

  it('a wait rounds up to a whole millisecond', () => {
    // A token a millisecond; a tenth of a token is missing.
    const bucket = { capacity: 1, perMinute: 60_000 };
    const store = createMemoryLimiterStore();
    expect(store.take('k', bucket, 0.9, 0)).toBe(0);
    expect(store.take('k', bucket, 1, 0)).toBe(1);
  });

  it('a take bigger than the bucket waits for a full bucket, then drives it negative', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('k', perSecond(2), 1, 0)).toBe(0);
    // Needs the whole bucket (2), not 5: one more token, 1 s.
    expect(store.take('k', perSecond(2), 5, 0)).toBe(1_000);
    expect(store.take('k', perSecond(2), 5, 1_000)).toBe(0);
    // At -3, one token is 4 s away.
    expect(store.take('k', perSecond(2), 1, 1_000)).toBe(4_000);
  });

  it('a clock that steps back neither drains nor refills a bucket', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('k', perSecond(2), 2, 10_000)).toBe(0);
    expect(store.take('k', perSecond(2), 1, 5_000)).toBe(1_000);
    // The refill is counted from the latest time seen, 10 s: at 10.5 s half a token has come.
    expect(store.take('k', perSecond(2), 1, 10_500)).toBe(500);
  });

  it('adjust adds (or charges) without waiting, never above the capacity', () => {
    const store = createMemoryLimiterStore();
    store.adjust('k', perSecond(5), 10, 0);
    expect(store.take('k', perSecond(5), 5, 0)).toBe(0);
    expect(store.take('k', perSecond(5), 1, 0)).toBe(1_000);
    store.adjust('k', perSecond(5), 3, 0);
    store.adjust('k', perSecond(5), -1, 0);
    expect(store.take('k', perSecond(5), 2, 0)).toBe(0);
    expect(store.take('k', perSecond(5), 1, 0)).toBe(1_000);
    // A charge below zero: 4 tokens short of one.
    store.adjust('k', perSecond(5), -3, 0);
    expect(store.take('k', perSecond(5), 1, 0)).toBe(4_000);
  });

  it('adjust refills the bucket to now first', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('k', perSecond(5), 5, 0)).toBe(0);
    store.adjust('k', perSecond(5), 1, 2_000);
    expect(store.take('k', perSecond(5), 3, 2_000)).toBe(0);
    expect(store.take('k', perSecond(5), 1, 2_000)).toBe(1_000);
  });

  it('lower refills to now, then lowers to the level given, never raises', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('k', perSecond(5), 4, 0)).toBe(0);
    // 1 left, 3 refilled by 3 s: lowered to 2.
    store.lower('k', perSecond(5), 2, 3_000);
    expect(store.take('k', perSecond(5), 3, 3_000)).toBe(1_000);
    store.lower('k', perSecond(5), 5, 3_000);
    expect(store.take('k', perSecond(5), 3, 3_000)).toBe(1_000);
  });

  it('keeps each key’s bucket apart', () => {
    const store = createMemoryLimiterStore();
    expect(store.take('a', perSecond(1), 1, 0)).toBe(0);
    expect(store.take('b', perSecond(1), 1, 0)).toBe(0);
    expect(store.take('a', perSecond(1), 1, 0)).toBe(1_000);
  });

  it('a pause is raised, never lowered; a key never paused is paused until 0', () => {
    const store = createMemoryLimiterStore();
    expect(store.pausedUntil('p', 0)).toBe(0);
    store.pause('p', 5_000, 0);
    store.pause('p', 3_000, 0);
    expect(store.pausedUntil('p', 0)).toBe(5_000);
    store.pause('p', 8_000, 0);
    expect(store.pausedUntil('p', 0)).toBe(8_000);
    expect(store.pausedUntil('q', 0)).toBe(0);
    store.pause('r', 1, 0);
    expect(store.pausedUntil('r', 0)).toBe(1);
  });

  it('drops a bucket a minute after it refilled to full, and a pause a minute after it ended, a few at each operation', () => {
    // Kept for good, a store shared by limiters of a thousand model ids (or tenants) held a bucket for each.
    const store = createMemoryLimiterStore();
    for (let index = 0; index < 1_000; index++)
      expect(store.take(`model-${index}`, perSecond(10), 4, 0)).toBe(0);
    store.pause('p', 1_000, 0);
    expect(limiterStoreSize(store)).toBe(1_001);
    // 6 of 10 left: full again at 4 s, dropped from 64 s. A millisecond before, every bucket stays.
    const large = { capacity: 1_000_000, perMinute: 60_000_000 };
    for (let operation = 0; operation < 501; operation++)
      expect(store.take('live', large, 1, 63_999)).toBe(0);
    expect(limiterStoreSize(store)).toBe(1_002);
    // Each operation looks at two, in turn: 501 of them look at all 1,001 buckets, and drop the thousand.
    for (let operation = 0; operation < 501; operation++)
      expect(store.take('live', large, 1, 64_000)).toBe(0);
    expect(limiterStoreSize(store)).toBe(2);
    // The pause ended at 1 s: gone at the next pause operation from 61 s.
    expect(store.pausedUntil('q', 60_999)).toBe(0);
    expect(limiterStoreSize(store)).toBe(2);
    expect(store.pausedUntil('q', 61_000)).toBe(0);
    expect(limiterStoreSize(store)).toBe(1);
    // A dropped bucket answers as the full one it was: 10 taken at once, then a second for one more.
    expect(store.take('model-0', perSecond(10), 10, 64_000)).toBe(0);
    expect(store.take('model-0', perSecond(10), 1, 64_000)).toBe(1_000);
    expect(store.pausedUntil('p', 64_000)).toBe(0);
  });

  it('keeps a bucket that is not full again, or was full less than a minute, and its level', () => {
    const store = createMemoryLimiterStore();
    // Driven to -20 of 10: full again at 30 s, kept until 90 s.
    expect(store.take('deep', perSecond(10), 30, 0)).toBe(0);
    const large = { capacity: 1_000_000, perMinute: 60_000_000 };
    for (let operation = 0; operation < 10; operation++) expect(store.take('live', large, 1, 89_999)).toBe(0);
    expect(limiterStoreSize(store)).toBe(2);
    // Refilled to full by 89.999 s, as it would be had it stayed.
    expect(store.take('deep', perSecond(10), 10, 89_999)).toBe(0);
    expect(store.take('deep', perSecond(10), 1, 89_999)).toBe(1_000);
  });
});

describe('isRateLimiter', () => {
  it('knows a limiter by its mark, from any copy of core', () => {
    expect(isRateLimiter(createRateLimiter())).toBe(true);
    expect(isRateLimiter({ [Symbol.for('embedkit.rate-limiter')]: true })).toBe(true);
    for (const value of [
      undefined,
      null,
      5,
      'limiter',
      {},
      { requestsPerMinute: 5, acquire: () => {} },
      { [Symbol.for('embedkit.rate-limiter')]: 'yes' },
      Object.assign(() => {}, { [Symbol.for('embedkit.rate-limiter')]: true }),
    ]) {
      expect(isRateLimiter(value)).toBe(false);
    }
  });
});

describe('createRateLimiter’s checks', () => {
  it('a budget must be a finite number above 0: the message names the option and the value', () => {
    for (const name of ['requestsPerMinute', 'tokensPerMinute'] as const) {
      for (const [value, shown] of [
        [0, '0'],
        [-1, '-1'],
        [Number.NaN, 'NaN'],
        [Number.POSITIVE_INFINITY, 'Infinity'],
        [null, 'null'],
      ] as const) {
        const error = thrownInvalidArgument(() => createRateLimiter({ [name]: value as never }));
        expect(error.message).toBe(`${name} must be a finite number > 0, got ${shown}.`);
        expect(error.argument).toBe(name);
      }
    }
  });
  it('a budget below one a minute is a budget', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ requestsPerMinute: 0.5 });
    expect(limiter.requestsPerMinute).toBe(0.5);
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(0);
    // A bucket of half a call: the first call drives it to -0.5, and the next waits until it holds half a
    // call again, two minutes at half a call a minute.
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(120_000);
  });

  it('a budget of one a minute is a budget', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ requestsPerMinute: 1, tokensPerMinute: 1 });
    expect([limiter.requestsPerMinute, limiter.tokensPerMinute]).toEqual([1, 1]);
    await limiter.acquire({ tokens: 1, clock, exactTokens: true });
    await limiter.acquire({ tokens: 1, clock, exactTokens: true });
    expect(clock.now()).toBe(60_000);
  });

  it('a key must be a non-empty string', () => {
    for (const key of ['', 5, null]) {
      const error = thrownInvalidArgument(() => createRateLimiter({ key: key as never }));
      expect(error.message).toBe('key must be a non-empty string.');
      expect(error.argument).toBe('key');
    }
    expect(() => createRateLimiter({ key: 'account-1' })).not.toThrow();
  });

  it('the options argument is named when it is not an object', () => {
    const error = thrownInvalidArgument(() => createRateLimiter(7 as never));
    expect(error.argument).toBe('options');
  });
});

describe('the limiter a call uses', () => {
  it('its own limiter first, then the model’s, then the model’s default', () => {
    const own = createRateLimiter();
    const models = createRateLimiter();
    expect(limiterFor(own, { rateLimiter: models })).toBe(own);
    expect(limiterFor(undefined, { rateLimiter: models })).toBe(models);
    const model = {};
    const fallback = limiterFor(undefined, model);
    expect(isRateLimiter(fallback)).toBe(true);
    expect(limiterFor(undefined, model)).toBe(fallback);
    expect(limiterFor(undefined, {})).not.toBe(fallback);
  });

  it('a model’s default limiter has no budgets of its own', () => {
    const fallback = limiterFor(undefined, {});
    expect([fallback.requestsPerMinute, fallback.tokensPerMinute]).toEqual([undefined, undefined]);
  });

  it('what is not a limiter is refused, naming where it came from', () => {
    const own = thrownInvalidArgument(() => limiterFor({ requestsPerMinute: 500 }, {}));
    expect(own.argument).toBe('rateLimit');
    expect(own.message).toBe(
      'rateLimit takes a limiter made by createRateLimiter, e.g. rateLimit: createRateLimiter({ requestsPerMinute: 500 }); create it once and share it between the calls that draw on one budget.',
    );
    const models = thrownInvalidArgument(() => limiterFor(undefined, { rateLimiter: null }));
    expect(models.argument).toBe('model.rateLimiter');
    expect(models.message).toBe('The model’s rateLimiter must be made by createRateLimiter.');
  });
});

describe('the limits stated in x-ratelimit-* headers', () => {
  /** Answers one call with `headers`, then returns when the next call starts. */
  async function nextStartAfter(headers: Record<string, string>): Promise<number> {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).answered({ reportedTokens: 1, headers });
    await limiter.acquire({ tokens: 1, clock });
    return clock.now();
  }

  it('a stated limit of one a minute is a limit', async () => {
    expect(
      await nextStartAfter({ 'x-ratelimit-limit-requests': '1', 'x-ratelimit-remaining-requests': '0' }),
    ).toBe(60_000);
    expect(
      await nextStartAfter({ 'x-ratelimit-limit-tokens': '1', 'x-ratelimit-remaining-tokens': '0' }),
    ).toBe(60_000);
  });

  it('a stated limit of 0 is no limit: the most ever remaining bounds the budget', async () => {
    // 2 remaining of a limit read as 2 a minute: one more call goes at once, the next 30 s later.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: { 'x-ratelimit-limit-requests': '0', 'x-ratelimit-remaining-requests': '1' },
    });
    await (await limiter.acquire({ tokens: 1, clock })).answered({ reportedTokens: 1, headers: {} });
    expect(clock.now()).toBe(0);
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(60_000);
  });

  it('nothing remaining and no limit stated (a first reading) learns no budget', async () => {
    for (const kind of ['requests', 'tokens']) {
      const clock = new VirtualClock();
      const limiter = createRateLimiter({ adaptive: false });
      await (await limiter.acquire({ tokens: 1, clock })).answered({
        reportedTokens: 1,
        headers: { [`x-ratelimit-remaining-${kind}`]: '0' },
      });
      await (await limiter.acquire({ tokens: 1, clock })).answered({ reportedTokens: 1, headers: {} });
      await limiter.acquire({ tokens: 1, clock });
      expect(clock.now()).toBe(0);
    }
  });

  it('what a reading says remains of the token limit is lowered by the tokens still in flight', async () => {
    // Two calls of 1 token in flight; the first answer says 1 token remains of 60 a minute. The other call
    // will take it, so the next waits a refill (1 s).
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    await limiter.acquire({ tokens: 1, clock });
    await first.answered({
      reportedTokens: 1,
      headers: { 'x-ratelimit-limit-tokens': '60', 'x-ratelimit-remaining-tokens': '1' },
    });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(1_000);
  });

  it('a raised token limit ends the waits measured against the smaller one', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.answered({
      reportedTokens: 1,
      headers: { 'x-ratelimit-limit-tokens': '1', 'x-ratelimit-remaining-tokens': '0' },
    });
    const waiting = limiter.acquire({ tokens: 1, clock });
    await clock.sleep(1_000);
    await second.answered({
      reportedTokens: 1,
      headers: { 'x-ratelimit-limit-tokens': '6000', 'x-ratelimit-remaining-tokens': '5999' },
    });
    await waiting;
    expect(clock.now()).toBe(1_000);
  });

  it('a stated limit without what remains states nothing', async () => {
    expect(await nextStartAfter({ 'x-ratelimit-limit-requests': '1' })).toBe(0);
  });
});

describe('the pause after a 429', () => {
  it('a pause of one millisecond is waited out', async () => {
    // The store answers a turn later (as a shared store does), so a call that never waited could only
    // spin here, checking the pause over and over.
    const clock = new VirtualClock();
    const inner = createMemoryLimiterStore();
    const store: LimiterStore = {
      ...inner,
      pausedUntil: async (key, now) => {
        await tick();
        return inner.pausedUntil(key, now);
      },
    };
    const limiter = createRateLimiter({ adaptive: false, store });
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 1 });
    const events: WaitEvent[] = [];
    let admittedAt: number | undefined;
    void limiter.acquire({ tokens: 1, clock, onWait: (event) => events.push(event) }).then(() => {
      admittedAt = clock.now();
    });
    await until(() => admittedAt !== undefined, 'the call to be admitted');
    expect(admittedAt).toBe(1);
    expect(events).toEqual([{ reason: 'paused', delayMs: 1 }]);
  });

  it('a call held by a pause that grew while it slept is held no more once admitted', async () => {
    // The call waits out a pause that a second 429 lengthened (two sleeps); once it is admitted, a later
    // pause finds no call held and starts its own release schedule at its end, not after the old slot.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.failed({ rateLimited: true, waitMs: 1_000 });
    const held = limiter.acquire({ tokens: 1, clock });
    await second.failed({ rateLimited: true, waitMs: 3_000 });
    const permit = await held;
    expect(clock.now()).toBe(3_000);
    await permit.failed({ rateLimited: true, waitMs: 500 });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(3_500);
  });
});

describe('the release of calls held by a pause', () => {
  it('a 429 asking for no wait does not let the calls held by a longer pause go together', async () => {
    // The 5 s pause still holds them: they go 2 s apart, the spacing it set. Spaced by the last pause
    // asked for (0 ms), both went at 5 s into a budget the API had just said was dry.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.failed({ rateLimited: true, waitMs: 5_000 });
    const held = [limiter.acquire({ tokens: 1, clock }), limiter.acquire({ tokens: 1, clock })];
    await clock.sleep(1_000);
    await second.failed({ rateLimited: true, waitMs: 0 });
    const starts: number[] = [];
    await Promise.all(held.map((permit) => permit.then(() => starts.push(clock.now()))));
    expect(starts).toEqual([5_000, 7_000]);
  });

  it('a short 429 while calls are held by a longer pause keeps that pause’s spacing; the next schedule has its own', async () => {
    // Three calls held by a 5 s pause; a call in flight is refused at 1 s with a wait of 100 ms. The held
    // calls go 2 s apart (not 100 ms: 5 s, 5.1 s and 5.2 s). Once they are all out, a 100 ms pause spaces
    // the calls it holds by 100 ms.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.failed({ rateLimited: true, waitMs: 5_000 });
    const starts: number[] = [];
    const admit = () => limiter.acquire({ tokens: 1, clock }).then(() => starts.push(clock.now()));
    const held = [admit(), admit(), admit()];
    await clock.sleep(1_000);
    await second.failed({ rateLimited: true, waitMs: 100 });
    await Promise.all(held);
    expect(starts).toEqual([5_000, 7_000, 9_000]);
    const third = await limiter.acquire({ tokens: 1, clock });
    await third.failed({ rateLimited: true, waitMs: 100 });
    await Promise.all([admit(), admit()]);
    expect(starts.slice(3)).toEqual([9_100, 9_200]);
  });

  it.each([
    [5_000, 100],
    [100, 5_000],
  ])(
    'two calls refused at once, asking %i ms and then %i ms: the calls held go 2 s apart, whichever came last',
    async (firstWait, secondWait) => {
      // Both 429s come back before any call is held, and the 5 s pause holds the three calls that come next:
      // they go 2 s apart, the spacing of that pause, in either order. Spaced by the last 429 read, they went
      // at 5 s, 5.1 s and 5.2 s when the 100 ms one came last: 100 ms apart into a budget the 5 s pause says
      // is dry.
      const clock = new VirtualClock();
      const limiter = createRateLimiter({ adaptive: false });
      const first = await limiter.acquire({ tokens: 1, clock });
      const second = await limiter.acquire({ tokens: 1, clock });
      await first.failed({ rateLimited: true, waitMs: firstWait });
      await second.failed({ rateLimited: true, waitMs: secondWait });
      const starts: number[] = [];
      const admit = () => limiter.acquire({ tokens: 1, clock }).then(() => starts.push(clock.now()));
      await Promise.all([admit(), admit(), admit()]);
      expect(starts).toEqual([5_000, 7_000, 9_000]);
    },
  );

  it('one call still held by a pause keeps its slot: a new pause’s calls come after it', async () => {
    // Two calls held by a 5 s pause go at 5 s and 7 s. The first is refused again at 5.5 s for 1 s while
    // the second waits for its slot: a call that comes then goes after that slot (9 s), not at 6.5 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 5_000 });
    const first = limiter.acquire({ tokens: 1, clock });
    const second = limiter.acquire({ tokens: 1, clock }).then(() => clock.now());
    const refused = await first;
    expect(clock.now()).toBe(5_000);
    await clock.sleep(500);
    await refused.failed({ rateLimited: true, waitMs: 1_000 });
    await limiter.acquire({ tokens: 1, clock });
    expect([await second, clock.now()]).toEqual([7_000, 9_000]);
  });
});

describe('the pace read from a 429', () => {
  it('a turn one millisecond away is waited for', async () => {
    // A call of 1 token refused with a wait of 1 ms: a pace of a call (and a token) a millisecond.
    const clock = new VirtualClock();
    const limiter = createRateLimiter();
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 1 });
    const starts: number[] = [];
    for (let call = 0; call < 2; call++) {
      const permit = await limiter.acquire({ tokens: 1, clock });
      starts.push(clock.now());
      await permit.answered({ reportedTokens: 1, headers: {} });
    }
    expect(starts).toEqual([1, 2]);
  });
});

describe('settling an answer on a learned token budget', () => {
  it('gives back exactly what the estimate overcounted', async () => {
    // A learned budget of 100 tokens a minute, 90 left. A call estimated at 90 takes them all; the API
    // counts 10, so 80 come back: a call of 100 then waits 20 tokens of refill, 12 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 10, clock })).answered({
      reportedTokens: 10,
      headers: { 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '90' },
    });
    await (await limiter.acquire({ tokens: 90, clock })).answered({ reportedTokens: 10, headers: {} });
    await limiter.acquire({ tokens: 100, clock });
    expect(clock.now()).toBe(12_000);
  });
});

describe('the estimates given back when the calibrated charge comes down', () => {
  /** Answers `permit` with no usage and no headers. */
  const answer = (permit: LimiterPermit) => permit.answered({ reportedTokens: undefined, headers: {} });
  const unsent = (permit: LimiterPermit) => permit.failed({ rateLimited: false, waitMs: 0, unsent: true });

  it('a call the API never saw leaves the others’ estimates, whatever its place among them', async () => {
    // 100 tokens a minute, estimated counts. Two calls of 20 at 0; the first is never sent (its 20 come
    // back, and its estimate goes). A call of 100 then waits 12 s for 20 tokens; its answer lowers the
    // charge 3% and gives back 3% of the estimates left, 20 + 100: 3.6 tokens. An exact call of 100 then
    // waits for 96.4 tokens, 57.84 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ tokensPerMinute: 100, adaptive: false });
    const first = await limiter.acquire({ tokens: 20, clock });
    const second = await limiter.acquire({ tokens: 20, clock });
    await unsent(first);
    await answer(second);
    await answer(await limiter.acquire({ tokens: 100, clock }));
    expect(clock.now()).toBe(12_000);
    await limiter.acquire({ tokens: 100, clock, exactTokens: true });
    expect(clock.now()).toBe(69_840);
  });

  it('a call never sent whose estimate is over a minute old takes no other estimate with it', async () => {
    // A call of 20 at 0, never sent but reported so only at 60 s, after a call of 60 started: its estimate
    // had gone with the minute. A call of 100 then waits 24 s for 40 tokens; its answer gives back 3% of
    // 60 + 100, 4.8 tokens, and an exact call of 100 waits for 95.2, 57.12 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ tokensPerMinute: 100, adaptive: false });
    const late = await limiter.acquire({ tokens: 20, clock });
    clock.time = 60_000;
    const other = await limiter.acquire({ tokens: 60, clock });
    await unsent(late);
    await answer(other);
    await answer(await limiter.acquire({ tokens: 100, clock }));
    expect(clock.now()).toBe(84_000);
    await limiter.acquire({ tokens: 100, clock, exactTokens: true });
    expect(clock.now()).toBe(141_120);
  });
});

describe('a reading that states the same token limit', () => {
  it('does not wake the calls waiting for the learned token budget', async () => {
    // 60 tokens a minute, none left (a call of 1 still in flight): a call of 1 waits 1 s. At 100 ms an
    // answer states the same limit, none left: it lowers the bucket (so the call, awake at 1 s, waits
    // 100 ms more) and wakes nobody.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const tokenHeaders = (remaining: number) => ({
      'x-ratelimit-limit-tokens': '60',
      'x-ratelimit-remaining-tokens': String(remaining),
    });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.answered({ reportedTokens: 1, headers: tokenHeaders(1) });
    const events: WaitEvent[] = [];
    const waiting = limiter.acquire({ tokens: 1, clock, onWait: (event) => events.push(event) });
    await clock.sleep(100);
    await second.answered({ reportedTokens: 1, headers: tokenHeaders(0) });
    await waiting;
    expect(events).toEqual([
      { reason: 'pacing', delayMs: 1_000 },
      { reason: 'pacing', delayMs: 100 },
    ]);
    expect(clock.now()).toBe(1_100);
  });
});

describe('learnFromHeaders: false', () => {
  it('the API’s stated limits hold no call back', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ learnFromHeaders: false, adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: { 'x-ratelimit-limit-requests': '1', 'x-ratelimit-remaining-requests': '0' },
    });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(0);
  });
});

describe('a call whose signal aborted before it waits', () => {
  /** Starts `acquire` and records how it ended. */
  function outcomeOf(acquiring: Promise<unknown>) {
    const outcome: { ended: boolean; value?: unknown } = { ended: false };
    acquiring.then(
      () => Object.assign(outcome, { ended: true, value: 'admitted' }),
      (error: unknown) => Object.assign(outcome, { ended: true, value: error }),
    );
    return outcome;
  }

  it('behind a starved head of the queue: refused at once with the signal’s reason', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const limiter: RateLimiter = createRateLimiter({ requestsPerMinute: 1 });
    await limiter.acquire({ tokens: 1, clock });
    // The head waits its minute (this clock moves only when told to).
    const head = outcomeOf(limiter.acquire({ tokens: 1, clock }));
    await until(() => clock.sleeps.length === 1, 'the head to wait');
    // Twice its need gone by: a new call queues behind it.
    clock.time = 120_001;
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    const late = outcomeOf(limiter.acquire({ tokens: 1, clock, signal: controller.signal }));
    await until(() => late.ended, 'the aborted call to end');
    expect(late.value).toBe(reason);
    expect(head.ended).toBe(false);
  });

  it('for a learned budget: refused at once with the signal’s reason, not after the wait', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: { 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '0' },
    });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    const events: WaitEvent[] = [];
    const call = outcomeOf(
      limiter.acquire({ tokens: 1, clock, signal: controller.signal, onWait: (event) => events.push(event) }),
    );
    await until(() => call.ended, 'the aborted call to end');
    expect(call.value).toBe(reason);
    expect(clock.now()).toBe(0);
    expect(events).toEqual([{ reason: 'pacing', delayMs: 1_000 }]);
  });
});
