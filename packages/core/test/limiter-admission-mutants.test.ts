/**
 * The shared limiter's admission, queues, learned budgets and permit reports, driven through `acquire`
 * and the permit on a virtual clock. Each case pins down one behaviour that a small change to
 * `SharedRateLimiter` (a flipped comparison, a dropped statement) left unnoticed by the other limiter
 * tests; its comment names what it pins down.
 */
import { describe, expect, it } from 'vitest';
import {
  createMemoryLimiterStore,
  createRateLimiter,
  defaultLimiter,
  type LimiterStore,
  limiterFor,
  type RateLimiter,
} from '../src/engine/limiter.js';
import type { WaitEvent } from '../src/engine/settings.js';
import { InvalidArgumentError } from '../src/errors.js';
import { tick, VirtualClock } from './helpers.js';

/** The headers of an API that states a request limit of `limit` a minute with `remaining` left. */
const requestHeaders = (limit: number, remaining: number) => ({
  'x-ratelimit-limit-requests': String(limit),
  'x-ratelimit-remaining-requests': String(remaining),
});

/** The headers of an API that states a token limit of `limit` a minute with `remaining` left. */
const tokenHeaders = (limit: number, remaining: number) => ({
  'x-ratelimit-limit-tokens': String(limit),
  'x-ratelimit-remaining-tokens': String(remaining),
});

/** A memory store whose operations can be wrapped one by one. */
function wrappedStore(overrides: Partial<LimiterStore> = {}): LimiterStore & { inner: LimiterStore } {
  const inner = createMemoryLimiterStore();
  return {
    inner,
    take: (key, bucket, amount, now) => inner.take(key, bucket, amount, now),
    adjust: (key, bucket, amount, now) => inner.adjust(key, bucket, amount, now),
    lower: (key, bucket, level, now) => inner.lower(key, bucket, level, now),
    pause: (key, until, now) => inner.pause(key, until, now),
    pausedUntil: (key, now) => inner.pausedUntil(key, now),
    ...overrides,
  };
}

/** Admits `count` calls one after another, each answered at once with `headers`; returns when each started. */
async function sequentialStarts(
  limiter: RateLimiter,
  clock: VirtualClock,
  count: number,
  options: {
    scope?: string;
    headers?: Record<string, string>;
    tokens?: number;
  } = {},
): Promise<number[]> {
  const starts: number[] = [];
  for (let call = 0; call < count; call++) {
    const permit = await limiter.acquire({
      tokens: options.tokens ?? 10,
      clock,
      ...(options.scope === undefined ? {} : { scope: options.scope }),
    });
    starts.push(clock.now());
    await permit.answered({
      reportedTokens: options.tokens ?? 10,
      headers: options.headers ?? {},
    });
  }
  return starts;
}

describe('limiters and their keys', () => {
  it('two limiters given no key keep separate budgets on one shared store', async () => {
    // Pins the default key's uniqueness: with one key for every keyless limiter, the second call waited
    // the first limiter's minute.
    const clock = new VirtualClock();
    const store = createMemoryLimiterStore();
    const first = createRateLimiter({ requestsPerMinute: 1, store });
    const second = createRateLimiter({ requestsPerMinute: 1, store });
    await first.acquire({ tokens: 1, clock });
    await second.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(0);
  });

  it('limiters of one key on a shared store share what they learned from headers', async () => {
    // Pins the learned bucket's key (the limiter's key, not one per limiter object): the second limiter's
    // own reading (2 left, read before the first's) must not refill the budget the first saw run dry.
    const clock = new VirtualClock();
    const store = createMemoryLimiterStore();
    const first = createRateLimiter({ store, key: 'k', adaptive: false });
    const second = createRateLimiter({ store, key: 'k', adaptive: false });
    await (await first.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: requestHeaders(2, 0),
    });
    await (await second.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: requestHeaders(2, 2),
    });
    await second.acquire({ tokens: 1, clock });
    // 2 a minute, none left: one refill is 30 s.
    expect(clock.now()).toBe(30_000);
  });

  it('a learned budget holds the stated limit, no more, after a long idle stretch', async () => {
    // Pins the learned bucket's capacity at the stated limit: a bucket twice as big let four calls through
    // at once after ten idle minutes.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: requestHeaders(2, 0),
    });
    clock.time = 600_000;
    expect(await sequentialStarts(limiter, clock, 3)).toEqual([600_000, 600_000, 630_000]);
  });

  it('an empty key is refused', () => {
    expect(() => createRateLimiter({ key: '' })).toThrow(InvalidArgumentError);
  });

  it('a model’s default limiter is made once and kept; a rateLimiter on the model must be a limiter', () => {
    const model = {};
    expect(defaultLimiter(model)).toBe(defaultLimiter(model));
    expect(limiterFor(undefined, model)).toBe(defaultLimiter(model));
    expect(() => limiterFor(undefined, { rateLimiter: { requestsPerMinute: 5 } })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('the pace under a budget set by the user', () => {
  it('a requestsPerMinute budget alone is a budget set: a first 429 sets no pace', async () => {
    // Pins `budgetSet` counting requestsPerMinute: without it, the guess read from this 429 (one call a
    // second, doubling) paced the calls after the pause half a second apart.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ requestsPerMinute: 6_000 });
    await (await limiter.acquire({ tokens: 10, clock })).failed({ rateLimited: true, waitMs: 1_000 });
    expect(await sequentialStarts(limiter, clock, 4)).toEqual([1_000, 1_000, 1_000, 1_000]);
  });
});

describe('the pace and the limits learned from headers', () => {
  it.each([
    ['requests', requestHeaders(100_000, 99_999)],
    ['tokens', tokenHeaders(10_000_000, 9_999_000)],
  ])('once a scope learned its %s limit, the pace no longer holds its calls', async (_kind, headers) => {
    // Pins the pace being skipped for a scope with a learned limit (either kind): paced, the calls after
    // the pause went half a second apart although the API said it had room for them.
    const clock = new VirtualClock();
    const limiter = createRateLimiter();
    await (await limiter.acquire({ tokens: 10, clock })).failed({ rateLimited: true, waitMs: 1_000 });
    expect(await sequentialStarts(limiter, clock, 4, { headers })).toEqual([1_000, 1_000, 1_000, 1_000]);
  });

  it('a 429 on a scope with learned limits sets no pace for another scope', async () => {
    // Pins that only a scope with no learned limit feeds the pace: fed by scope a's 429, the pace (one
    // call a second, doubling) held scope b's calls half a second apart.
    const clock = new VirtualClock();
    const limiter = createRateLimiter();
    await (await limiter.acquire({ tokens: 10, clock, scope: 'a' })).answered({
      reportedTokens: 10,
      headers: { 'x-ratelimit-remaining-tokens': '1000000' },
    });
    await (await limiter.acquire({ tokens: 10, clock, scope: 'a' })).failed({
      rateLimited: true,
      waitMs: 1_000,
    });
    expect(await sequentialStarts(limiter, clock, 4, { scope: 'b' })).toEqual([1_000, 1_000, 1_000, 1_000]);
  });
});

describe('calls that wait for a budget set by the user share one queue, whatever their scope', () => {
  it('a call of another scope queues behind the first in line', async () => {
    // 60 tokens a minute, spent. b (scope x) needs the whole minute; c (scope y) needs half and wakes at
    // 30 s, behind b. With one queue per scope, c went first at 30 s and b waited until 90 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ tokensPerMinute: 60 });
    await limiter.acquire({ tokens: 60, clock, scope: 'x', exactTokens: true });
    const order: string[] = [];
    await Promise.all([
      limiter
        .acquire({ tokens: 60, clock, scope: 'x', exactTokens: true })
        .then(() => order.push(`b@${clock.now()}`)),
      limiter
        .acquire({ tokens: 30, clock, scope: 'y', exactTokens: true })
        .then(() => order.push(`c@${clock.now()}`)),
    ]);
    expect(order).toEqual(['b@60000', 'c@90000']);
  });
});

/**
 * `perMinute` requests a minute, spent at 0. Calls of scope `feed` arrive every `stepMs` (1 to `feeders`),
 * each taking the one request refilled by then; a call of scope `head` comes at 0 and must wait. Returns
 * the order and times calls started.
 */
async function starvedHead(perMinute: number, stepMs: number, feeders: number): Promise<string[]> {
  const clock = new VirtualClock();
  const limiter = createRateLimiter({ requestsPerMinute: perMinute });
  for (let call = 0; call < perMinute; call++) await limiter.acquire({ tokens: 1, clock, scope: 'feed' });
  const starts: string[] = [];
  const feeding = Array.from({ length: feeders }, (_, index) =>
    clock.sleep((index + 1) * stepMs).then(async () => {
      await limiter.acquire({ tokens: 1, clock, scope: 'feed' });
      starts.push(`f${index + 1}@${clock.now()}`);
    }),
  );
  const head = limiter
    .acquire({ tokens: 1, clock, scope: 'head' })
    .then(() => starts.push(`head@${clock.now()}`));
  await Promise.all([...feeding, head]);
  return starts;
}

describe('a call starved at the head of the queue', () => {
  it('one a second: later calls queue behind it once it has waited twice its need (2 s), not before', async () => {
    // Pins the starvation rule: strictly more than max(2 x needed, 1 s) since it came to the head, and a
    // queue shared by every scope under a budget set by the user. f1 and f2 (at 1 s and 2 s, not yet past
    // 2 s) take the refill ahead of the head; f3 (at 3 s) queues behind it.
    expect(await starvedHead(60, 1_000, 6)).toEqual([
      'f1@1000',
      'f2@2000',
      'head@3000',
      'f4@4000',
      'f5@5000',
      'f3@6000',
      'f6@7000',
    ]);
  });

  it('ten a second: a head that needs 100 ms is starved only after a second', async () => {
    // Pins MIN_STARVED_MS: twice the need is 200 ms, but the head must wait a second at the head before
    // later calls queue behind it.
    expect(await starvedHead(600, 100, 14)).toEqual([
      'f1@100',
      'f2@200',
      'f3@300',
      'f4@400',
      'f5@500',
      'f6@600',
      'f7@700',
      'f8@800',
      'f9@900',
      'f10@1000',
      'head@1100',
      'f12@1200',
      'f13@1300',
      'f14@1400',
      'f11@1500',
    ]);
  });
});

describe('how long a call at the head of the queue waits while smaller calls go by', () => {
  it('at most three times its own refill: twice what it needed, then its refill once later calls queue', async () => {
    // 600 tokens a minute (10 a second), spent at 0. A call of 100 tokens (its refill: 10 s) heads the
    // queue at 0; calls of 10 tokens come every second and each takes the refill as it comes. Until 20 s
    // (twice its 10 s) they go first; from 21 s they queue behind it, and it goes at 30 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ tokensPerMinute: 600 });
    await limiter.acquire({ tokens: 600, clock, exactTokens: true });
    const starts: string[] = [];
    const feeding = Array.from({ length: 25 }, (_, index) =>
      clock.sleep((index + 1) * 1_000).then(async () => {
        await limiter.acquire({ tokens: 10, clock, exactTokens: true });
        starts.push(`f${index + 1}@${clock.now()}`);
      }),
    );
    const head = limiter
      .acquire({ tokens: 100, clock, exactTokens: true })
      .then(() => starts.push(`head@${clock.now()}`));
    await Promise.all([...feeding, head]);
    expect(starts.slice(0, 21)).toEqual([
      ...Array.from({ length: 20 }, (_, index) => `f${index + 1}@${(index + 1) * 1_000}`),
      'head@30000',
    ]);
  });
});

describe('what the limiter tells onWait', () => {
  it('a wait for a budget set by the user is rate-limit; for a learned one, pacing', async () => {
    // Pins the reason of each wait and that a budget set by the user is not taken for a learned one.
    const clock = new VirtualClock();
    const events: WaitEvent[] = [];
    const onWait = (event: WaitEvent) => events.push(event);
    const byRequests = createRateLimiter({ requestsPerMinute: 1 });
    await byRequests.acquire({ tokens: 1, clock });
    await byRequests.acquire({ tokens: 1, clock, onWait });
    const byTokens = createRateLimiter({ tokensPerMinute: 60 });
    await byTokens.acquire({ tokens: 60, clock, exactTokens: true });
    await byTokens.acquire({ tokens: 60, clock, exactTokens: true, onWait });
    const learned = createRateLimiter({ adaptive: false });
    await (await learned.acquire({ tokens: 1, clock })).answered({
      reportedTokens: 1,
      headers: requestHeaders(60, 0),
    });
    await learned.acquire({ tokens: 1, clock, onWait });
    expect(events).toEqual([
      { reason: 'rate-limit', delayMs: 60_000 },
      { reason: 'rate-limit', delayMs: 60_000 },
      { reason: 'pacing', delayMs: 1_000 },
    ]);
  });

  it('calls queued behind a pause: each is told the pause, the second also its release slot 2 s later', async () => {
    // Pins the 'paused' events, their delays, and that the first call released (at the pause's end) is
    // told of no extra wait.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 5_000 });
    const first: WaitEvent[] = [];
    const second: WaitEvent[] = [];
    await Promise.all([
      limiter.acquire({
        tokens: 1,
        clock,
        onWait: (event) => first.push(event),
      }),
      limiter.acquire({
        tokens: 1,
        clock,
        onWait: (event) => second.push(event),
      }),
    ]);
    expect(clock.now()).toBe(7_000);
    expect(first).toEqual([{ reason: 'paused', delayMs: 5_000 }]);
    expect(second).toEqual([
      { reason: 'paused', delayMs: 5_000 },
      { reason: 'paused', delayMs: 2_000 },
    ]);
  });

  it('a wait for the pace is told as pacing', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter();
    await (await limiter.acquire({ tokens: 10, clock })).failed({ rateLimited: true, waitMs: 1_000 });
    const events: WaitEvent[] = [];
    for (let call = 0; call < 3; call++) {
      const permit = await limiter.acquire({
        tokens: 10,
        clock,
        onWait: (event) => events.push(event),
      });
      await permit.answered({ reportedTokens: 10, headers: {} });
    }
    expect(events).toEqual([
      { delayMs: 1000, reason: 'paused' },
      { delayMs: 500, reason: 'pacing' },
      { delayMs: 490.1960784313726, reason: 'pacing' },
    ]);
  });

  it('a wait for a budget set by the user is not cut short when a reading raises a learned budget', async () => {
    // Pins that only the sleeps for learned budgets end early: woken, this call took again, failed, and
    // slept again, telling onWait twice.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      requestsPerMinute: 1,
      adaptive: false,
    });
    const inFlight = await limiter.acquire({ tokens: 1, clock });
    const events: WaitEvent[] = [];
    const waiting = limiter.acquire({
      tokens: 1,
      clock,
      onWait: (event) => events.push(event),
    });
    await clock.sleep(1_000);
    await inFlight.answered({
      reportedTokens: 1,
      headers: requestHeaders(1_000, 999),
    });
    await waiting;
    expect(clock.now()).toBe(60_000);
    expect(events).toEqual([{ reason: 'rate-limit', delayMs: 60_000 }]);
  });
});

describe('aborts while waiting', () => {
  it('a call waiting out a 429 pause ends when aborted', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 5_000 });
    const controller = new AbortController();
    const waiting = limiter.acquire({
      tokens: 1,
      clock,
      signal: controller.signal,
    });
    const outcome = waiting.catch((error: unknown) => error);
    await clock.sleep(1_000);
    controller.abort();
    expect(await outcome).toMatchObject({ name: 'AbortError' });
    expect(clock.now()).toBe(1_000);
  });

  it('a call waiting for its release slot after a pause ends when aborted', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).failed({ rateLimited: true, waitMs: 5_000 });
    const controller = new AbortController();
    const first = limiter.acquire({ tokens: 1, clock });
    const second = limiter
      .acquire({ tokens: 1, clock, signal: controller.signal })
      .catch((error: unknown) => error);
    await first;
    await clock.sleep(1_000);
    controller.abort();
    expect(await second).toMatchObject({ name: 'AbortError' });
    expect(clock.now()).toBe(6_000);
  });

  it('a call waiting for its turn at the pace ends when aborted', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter();
    // A 429 on a 10-token call with a 1 s wait: a guess of one call a second, doubled once the pause is
    // over, so the call after the next has its turn 500 ms later.
    await (await limiter.acquire({ tokens: 10, clock })).failed({ rateLimited: true, waitMs: 1_000 });
    await (await limiter.acquire({ tokens: 10, clock })).answered({ reportedTokens: 10, headers: {} });
    const from = clock.now();
    const controller = new AbortController();
    const paced = limiter
      .acquire({ tokens: 10, clock, signal: controller.signal })
      .catch((error: unknown) => error);
    await clock.sleep(100);
    controller.abort();
    expect(await paced).toMatchObject({ name: 'AbortError' });
    expect(clock.now()).toBe(from + 100);
  });
});

describe('a permit ends once', () => {
  it('an answer reported after the attempt failed is ignored', async () => {
    // Pins the permit's `ended` guard: read, the late answer taught a limit of 60 a minute, none left, and
    // took the attempt off the in-flight count a second time.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const permit = await limiter.acquire({ tokens: 1, clock });
    await permit.failed({ rateLimited: false, waitMs: 0 });
    await permit.answered({
      reportedTokens: undefined,
      headers: requestHeaders(60, 0),
    });
    expect(await sequentialStarts(limiter, clock, 2)).toEqual([0, 0]);
  });

  it('a 429 reported after the attempt was answered is ignored', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const permit = await limiter.acquire({ tokens: 1, clock });
    await permit.answered({ reportedTokens: 1, headers: {} });
    await permit.failed({ rateLimited: true, waitMs: 5_000 });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(0);
  });
});

describe('taking every budget or none', () => {
  it('a call the token budget holds back gives back the request it took', async () => {
    // 2 requests and 60 tokens a minute. The first call takes a request and every token; the second takes
    // a request, finds no token, and gives the request back, so it starts once one token refilled (1 s).
    // Kept, the request budget was empty too, and the call waited 30 s for it.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      requestsPerMinute: 2,
      tokensPerMinute: 60,
    });
    await limiter.acquire({ tokens: 60, clock, exactTokens: true });
    await limiter.acquire({ tokens: 1, clock, exactTokens: true });
    expect(clock.now()).toBe(1_000);
  });

  it('a pause that begins while a call takes its budgets sends it back with its budgets given back', async () => {
    // One request a minute. The pause (1 s) begins while the call takes its request: it waits the pause
    // out and takes the request again, at 1 s. Not given back, the request was spent and it waited a
    // minute.
    const clock = new VirtualClock();
    let pauseOnTake = true;
    const store = wrappedStore();
    store.take = (key, bucket, amount, now) => {
      const ms = store.inner.take(key, bucket, amount, now);
      if (pauseOnTake) {
        pauseOnTake = false;
        void store.inner.pause('k:pause', now + 1_000, now);
      }
      return ms;
    };
    const limiter = createRateLimiter({
      requestsPerMinute: 1,
      store,
      key: 'k',
    });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(1_000);
  });
});

describe('settling an answer', () => {
  it('the API counted the call when it got it: what refilled while it was in flight does not stay', async () => {
    // 100 tokens a minute; a call of 100 answers 30 s later. The bucket refilled 50 meanwhile, but after a
    // call of 100 the API has at most 0 left: a call of 50 then waits 30 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      tokensPerMinute: 100,
      adaptive: false,
    });
    const permit = await limiter.acquire({
      tokens: 100,
      clock,
      exactTokens: true,
    });
    clock.time = 30_000;
    await permit.answered({ reportedTokens: 100, headers: {} });
    await limiter.acquire({ tokens: 50, clock, exactTokens: true });
    expect(clock.now()).toBe(60_000);
  });

  it('a learned token budget gets back what the estimate overcounted', async () => {
    // A learned budget of 100 tokens, 90 left. A call estimated at 90 takes them all; the API counts 10,
    // so 80 come back and a call of 80 starts at once (not after 48 s of refill).
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    await (await limiter.acquire({ tokens: 10, clock })).answered({
      reportedTokens: 10,
      headers: tokenHeaders(100, 90),
    });
    await (await limiter.acquire({ tokens: 90, clock })).answered({ reportedTokens: 10, headers: {} });
    await limiter.acquire({ tokens: 80, clock });
    expect(clock.now()).toBe(0);
  });

  it('what a reading says remains is lowered by the calls still in flight', async () => {
    // Two calls in flight; the first answer says 1 request remains of 60 a minute. The other call will
    // take it, so the next waits a refill (1 s). Not lowered by it, the next went at once.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    await limiter.acquire({ tokens: 1, clock });
    await first.answered({ reportedTokens: 1, headers: requestHeaders(60, 1) });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(1_000);
  });

  it('what the headers say is learned before the answer is settled (an asynchronous store)', async () => {
    // Pins the `await` on learning: not awaited, the next call took from a bucket the reading had not yet
    // lowered, and went at once.
    const clock = new VirtualClock();
    const store = wrappedStore();
    const inner = store.inner;
    store.lower = async (key, bucket, level, now) => {
      await tick();
      return inner.lower(key, bucket, level, now);
    };
    const limiter = createRateLimiter({ store, adaptive: false });
    await (await limiter.acquire({ tokens: 1, clock })).answered({
      reportedTokens: undefined,
      headers: requestHeaders(60, 0),
    });
    await limiter.acquire({ tokens: 1, clock });
    expect(clock.now()).toBe(1_000);
  });
});

describe('readings that raise a learned budget', () => {
  it('a raised request limit ends the waits measured against the smaller one', async () => {
    // Pins that a raise of the request limit (not only the token limit) wakes the learned sleeps.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.answered({ reportedTokens: 1, headers: requestHeaders(1, 0) });
    const waiting = limiter.acquire({ tokens: 1, clock });
    await clock.sleep(1_000);
    await second.answered({
      reportedTokens: 1,
      headers: requestHeaders(6_000, 5_999),
    });
    await waiting;
    expect(clock.now()).toEqual(1000);
  });

  it('a reading that states the same limit does not wake them', async () => {
    // Pins the strict comparison. 60 a minute, none left (one call still in flight): the call waits 1 s.
    // At 100 ms an answer states the same limit, none left: it lowers the bucket (so the call, awake at
    // 1 s, waits 100 ms more) but wakes nobody. Woken by it, the call took again at 100 ms and slept a
    // second wait of 1 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const first = await limiter.acquire({ tokens: 1, clock });
    const second = await limiter.acquire({ tokens: 1, clock });
    await first.answered({ reportedTokens: 1, headers: requestHeaders(60, 1) });
    const events: WaitEvent[] = [];
    const waiting = limiter.acquire({
      tokens: 1,
      clock,
      onWait: (event) => events.push(event),
    });
    await clock.sleep(100);
    await second.answered({
      reportedTokens: 1,
      headers: requestHeaders(60, 0),
    });
    await waiting;
    expect(events).toEqual([
      { delayMs: 1000, reason: 'pacing' },
      { delayMs: 100, reason: 'pacing' },
    ]);
    expect(clock.now()).toEqual(1100);
  });
});

/**
 * Calls of `tokens` estimated tokens (not exact unless `exact`), one after another on `limiter`, each
 * answered at once with no usage unless `reported`; returns when each started.
 */
async function estimatedStarts(
  limiter: RateLimiter,
  clock: VirtualClock,
  calls: {
    tokens: number;
    exact?: boolean;
    reported?: number;
    refused?: boolean;
    unsent?: boolean;
  }[],
): Promise<number[]> {
  const starts: number[] = [];
  for (const call of calls) {
    const permit = await limiter.acquire({
      tokens: call.tokens,
      clock,
      exactTokens: call.exact === true,
    });
    starts.push(Math.round(clock.now()));
    if (call.refused === true) await permit.failed({ rateLimited: true, waitMs: 0 });
    else if (call.unsent === true) await permit.failed({ rateLimited: false, waitMs: 0, unsent: true });
    else await permit.answered({ reportedTokens: call.reported, headers: {} });
  }
  return starts;
}

/** `estimatedStarts` on a fresh limiter with a budget of 100 tokens a minute and no pace. */
function startsUnderBudget(calls: Parameters<typeof estimatedStarts>[2]): Promise<number[]> {
  return estimatedStarts(
    createRateLimiter({ tokensPerMinute: 100, adaptive: false }),
    new VirtualClock(),
    calls,
  );
}

describe('the calibrated charge for an API that reports no usage', () => {
  it('comes down 3% a call the budget held back, and gives back 3% of the last minute’s estimates', async () => {
    // 100 tokens a minute, calls estimated at 100. The second call waits the minute and lowers the charge
    // to 0.97 (3 tokens back); the third, charged 97, waits 56.4 s and lowers it to 0.9409, giving back
    // 2.91% of both calls of the last minute (5.82), and so on. Pins the step (0.97), the share given back
    // and the minute it is counted over.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      tokensPerMinute: 100,
      adaptive: false,
    });
    const calls = Array.from({ length: 6 }, () => ({ tokens: 100 }));
    expect(await estimatedStarts(limiter, clock, calls)).toEqual([0, 60000, 116400, 169362, 220736, 270568]);
  });

  it('once the API reports usage, calls are charged their counted tokens again', async () => {
    // Calibrated down to 0.97, then one answer reports usage: the next call is charged its whole 100
    // (60 s of refill), not 97 (58.2 s).
    expect(
      await startsUnderBudget([
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100, reported: 100 },
        { tokens: 100 },
      ]),
    ).toEqual([0, 60000, 116400, 178200]);
  });

  it('exact counts are charged as they are, give nothing back, and calibrate nothing', async () => {
    // Calibrated down to 0.97; an exact call of 100 is charged 100, is not among the estimates given back
    // when the charge next comes down, and does not lower the charge itself.
    expect(
      await startsUnderBudget([
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100, exact: true },
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100 },
      ]),
    ).toEqual([0, 60000, 118200, 176400, 231108, 282482]);
  });

  it('a 429 raises the charge back by a tenth, never above the estimate', async () => {
    // Charge 1, a 429: it stays 1 (uncapped, 1.11 made the next call wait 66.7 s). After a refusal the
    // charge comes down 1% a held-back call (0.99, 0.9801, 0.9703); the second 429 raises it back to 1.
    expect(
      await startsUnderBudget([
        { tokens: 100, refused: true },
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100, refused: true },
        { tokens: 100 },
        { tokens: 100 },
      ]),
    ).toEqual([0, 60000, 118800, 176418, 233460, 293460, 352260]);
  });

  it('a call held back by the request budget alone does not lower the charge', async () => {
    // 60 requests and 100 tokens a minute. With the requests spent, a call of 50 estimated tokens waits a
    // second for a request and goes with tokens to spare: the API letting it through says nothing of the
    // estimate. Lowered all the same (to 0.97, 1.5 tokens back), the exact call of 52 after it found its
    // tokens at 2 s instead of waiting until 2.2 s.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      requestsPerMinute: 60,
      tokensPerMinute: 100,
      adaptive: false,
    });
    for (let call = 0; call < 60; call++) await limiter.acquire({ tokens: 0, clock, exactTokens: true });
    expect(await estimatedStarts(limiter, clock, [{ tokens: 50 }, { tokens: 52, exact: true }])).toEqual([
      1000, 2201,
    ]);
  });

  it('a 429 after a few steps down raises the charge by a tenth (0.97^4 / 0.9)', async () => {
    // Four held-back calls lower the charge to 0.885; a 429 raises it to 0.983 (by a fifth, it was back
    // at 1): the calls after it are charged 98 tokens, stepping down 1% at a time.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      tokensPerMinute: 100,
      adaptive: false,
    });
    const calls = [...Array.from({ length: 5 }, () => ({ tokens: 100 })), { tokens: 100, refused: true }];
    expect(await estimatedStarts(limiter, clock, [...calls, { tokens: 100 }, { tokens: 100 }])).toEqual([
      0, 60000, 116400, 169362, 220736, 270568, 329587, 386836,
    ]);
  });

  it('the estimate of a call the API never saw is not given back again when the charge comes down', async () => {
    // The unsent call's charge was refunded whole; kept among the last minute's estimates, it was credited
    // a second time at the next step down.
    expect(
      await startsUnderBudget([
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100, unsent: true },
        { tokens: 100 },
        { tokens: 100 },
        { tokens: 100 },
      ]),
    ).toEqual([0, 60000, 116400, 116400, 174600, 227562]);
  });

  it('what is given back counts the estimates of the minute before the answer, not before the call', async () => {
    // 40 tokens at 0; at 10 s a call of 100 waits for its tokens and answers at 60 s. The step down then
    // gives back 3% of that call's 100 only: the call at 0 is a minute old (counted with it, 4.2 came
    // back, and the exact call of 100 after it started 720 ms sooner).
    const clock = new VirtualClock();
    const limiter = createRateLimiter({
      tokensPerMinute: 100,
      adaptive: false,
    });
    await (await limiter.acquire({ tokens: 40, clock })).answered({ reportedTokens: undefined, headers: {} });
    clock.time = 10_000;
    const held = await limiter.acquire({ tokens: 100, clock });
    const heldAt = clock.now();
    clock.time = 60_000;
    await held.answered({ reportedTokens: undefined, headers: {} });
    await limiter.acquire({ tokens: 100, clock, exactTokens: true });
    expect([heldAt, clock.now()]).toEqual([24000, 82200]);
  });
});

describe('createRateLimiter', () => {
  it('takes an options object, and nothing else', () => {
    // The message names what it takes: without its own check, the setting check's message (about no
    // object at all) was all a caller got.
    for (const options of [500, 'fast', null]) {
      expect(() => createRateLimiter(options as never)).toThrow(InvalidArgumentError);
      expect(() => createRateLimiter(options as never)).toThrow('createRateLimiter takes an options object.');
    }
  });
});
