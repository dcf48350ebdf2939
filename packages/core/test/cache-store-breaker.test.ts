/**
 * A store that is down must cost one wait, not one per call: after a read or write of it went unanswered
 * for `storeTimeoutMs`, or a read of it threw or rejected, `cacheMiddleware` skips it for
 * `storeCooldownMs` (calls meanwhile are misses and store nothing), tells each skip once, then lets one
 * call try it again. Time is fake (timers and `performance`, which the middleware's clock reads); the keys
 * are hashed by WebCrypto, which no fake clock drives, so the tests wait on real turns of the event loop
 * for what a call did (the store asked, the model called) before they move the clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CacheStore, type CacheStoreWarning, cacheMiddleware } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { InvalidArgumentError } from '../src/errors.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { hashVector, MockEmbeddingModel } from '../src/testing.js';
import type { Embedding, EmbedResponse } from '../src/types.js';

afterEach(() => {
  vi.useRealTimers();
});

type Mode = 'answer' | 'hang' | 'reject';

/** A batched store whose reads and writes answer, never answer, or reject (as the Redis store's own limit does). */
function brokenStore(read: Mode, write: Mode) {
  const state = { read, write, reads: 0, writes: 0, degraded: false, asked: [] as string[] };
  const entries = new Map<string, Embedding>();
  const act = <T>(mode: Mode, value: () => T): Promise<T> =>
    mode === 'hang'
      ? new Promise<never>(() => {})
      : mode === 'reject'
        ? Promise.reject(new Error('Redis did not answer within 2000 ms'))
        : Promise.resolve(value());
  const store: CacheStore = {
    get: () => {
      throw new Error('the batched methods are used');
    },
    set: () => {
      throw new Error('the batched methods are used');
    },
    getMany(keys) {
      state.reads++;
      return act(state.read, () => keys.map((key) => entries.get(key)));
    },
    setMany(batch) {
      state.writes++;
      return act(state.write, () => {
        for (const [key, value] of batch) entries.set(key, value);
      });
    },
  };
  return { store, state, entries };
}

/** A broken store that also says when it answers from a fallback of its own (`state.degraded`). */
function degradable(read: Mode, write: Mode) {
  const made = brokenStore(read, write);
  made.store.degraded = (kind) => {
    made.state.asked.push(kind);
    return made.state.degraded;
  };
  return made;
}

function setup(
  read: Mode,
  write: Mode,
  options: { storeCooldownMs?: number } = {},
  beforeCall?: (request: unknown, call: number) => Promise<void> | undefined,
  makeStore = brokenStore,
) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  const { store, state, entries } = makeStore(read, write);
  const warnings: CacheStoreWarning[] = [];
  const inner = new MockEmbeddingModel({
    dimensions: 4,
    ...(beforeCall === undefined ? {} : { beforeCall }),
  });
  const model = wrapEmbeddingModel(
    inner,
    cacheMiddleware({ store, onWarning: (warning) => warnings.push(warning), ...options }),
  );
  /** A call, and what it answered once it has. */
  const call = (inputs: string[], signal?: AbortSignal) => {
    const made: { response?: EmbedResponse } = {};
    const sent = inner.calls.length;
    const reads = state.reads;
    const writes = state.writes;
    const settled = model.doEmbed({ inputs, signal }).then((response) => {
      made.response = response;
      return response;
    });
    return { made, settled, sent, reads, writes };
  };
  /** Real turns of the event loop until `condition` holds. */
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setImmediate(resolve));
  };
  /** A call that must go straight to the model: the store is asked neither to read nor to write. */
  const skipping = async (inputs: string[]) => {
    const made = call(inputs);
    await until(
      () => made.made.response !== undefined || state.reads > made.reads || state.writes > made.writes,
    );
    expect({ reads: state.reads - made.reads, writes: state.writes - made.writes }).toEqual({
      reads: 0,
      writes: 0,
    });
    expect(inner.calls.slice(made.sent).map((sent) => sent.inputs)).toEqual([inputs]);
    expect(made.made.response!.embeddings).toEqual(inputs.map((input) => hashVector(input, 4)));
    return made.made.response!;
  };
  return { state, entries, warnings, inner, call, until, skipping };
}

const skippedAfter = (kind: 'read' | 'written', reason: string, ms = 30_000) => ({
  code: kind === 'read' ? 'cache-read-failed' : 'cache-write-failed',
  message: `The embedding cache could not be ${kind} (${reason}); the cache store is skipped for ${ms} ms (inputs count as misses, answers are not cached), then one call tries it again.`,
});
const hung = 'the cache store did not answer within 5000 ms';
const resumed = {
  code: 'cache-resumed',
  message: 'The embedding cache answers again after being skipped; it is read and written as before.',
};

describe('a store that hangs', () => {
  // Before, every call waited storeTimeoutMs on its read and again on its write, for as long as the store
  // hung: 10 s a call by default.
  it('costs the first call one wait; calls are then misses for 30 s, told once; then one call tries it again', async () => {
    const { state, entries, warnings, inner, call, until, skipping } = setup('hang', 'hang');
    const first = call(['a']);
    await until(() => state.reads === 1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(first.made.response).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    // Answered at the read's timeout: its write is not waited for too.
    expect(first.made.response?.embeddings).toEqual([hashVector('a', 4)]);
    expect(state.writes).toBe(0);
    expect(warnings).toEqual([skippedAfter('read', hung)]);

    await vi.advanceTimersByTimeAsync(29_999);
    await skipping(['a', 'b']);
    expect(warnings).toHaveLength(1);

    // The cooldown is over: one call asks the store; calls that come while it waits still skip it.
    await vi.advanceTimersByTimeAsync(1);
    const probe = call(['c']);
    await until(() => state.reads === 2);
    await skipping(['d']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probe.made.response?.embeddings).toEqual([hashVector('c', 4)]);
    expect(warnings).toEqual([skippedAfter('read', hung), skippedAfter('read', hung)]);
    expect(state.writes).toBe(0);

    // It answers again: told once, and the store is read and written as before.
    state.read = 'answer';
    state.write = 'answer';
    await vi.advanceTimersByTimeAsync(29_999);
    await skipping(['e']);
    await vi.advanceTimersByTimeAsync(1);
    const back = await call(['e']).settled;
    expect(back.embeddings).toEqual([hashVector('e', 4)]);
    expect([state.reads, state.writes, entries.size]).toEqual([3, 1, 1]);
    const hit = await call(['e']).settled;
    expect(hit.response?.headers).toEqual({ 'x-embedkit-cache': 'hit' });
    expect(inner.calls.map((sent) => sent.inputs)).toEqual([['a'], ['a', 'b'], ['d'], ['c'], ['e'], ['e']]);
    expect(warnings).toEqual([skippedAfter('read', hung), skippedAfter('read', hung), resumed]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call that tries it again and is aborted still decides: the store is skipped again, never left untried', async () => {
    const { state, warnings, call, until, skipping } = setup('hang', 'hang');
    void call(['a']);
    await until(() => state.reads === 1);
    await vi.advanceTimersByTimeAsync(35_000);
    const controller = new AbortController();
    const probe = call(['b'], controller.signal);
    await until(() => state.reads === 2);
    controller.abort();
    await expect(probe.settled).rejects.toBe(controller.signal.reason);
    // Its read is still out: the store is not asked by another call meanwhile, and its end is told.
    await skipping(['c']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(warnings).toEqual([skippedAfter('read', hung), skippedAfter('read', hung)]);
    state.read = 'answer';
    state.write = 'answer';
    await vi.advanceTimersByTimeAsync(30_000);
    await call(['d']).settled;
    expect([state.reads, state.writes]).toEqual([3, 1]);
    expect(warnings).toEqual([skippedAfter('read', hung), skippedAfter('read', hung), resumed]);
  });

  it('calls that came during the first wait end with it, rather than each wait its own storeTimeoutMs', async () => {
    const { state, warnings, call, until } = setup('hang', 'hang');
    const first = call(['a']);
    await until(() => state.reads === 1);
    await vi.advanceTimersByTimeAsync(1_000);
    const second = call(['b']);
    await until(() => state.reads === 2);
    await vi.advanceTimersByTimeAsync(3_999);
    expect([first.made.response, second.made.response]).toEqual([undefined, undefined]);
    await vi.advanceTimersByTimeAsync(1);
    // Before, the second call answered at 6 s, and each call then waited on its write.
    expect(second.made.response?.embeddings).toEqual([hashVector('b', 4)]);
    expect(first.made.response?.embeddings).toEqual([hashVector('a', 4)]);
    expect(state.writes).toBe(0);
    expect(warnings).toEqual([skippedAfter('read', hung)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a write that hangs skips the store too: the next call does not read it', async () => {
    const { state, warnings, call, until, skipping } = setup('answer', 'hang');
    const first = call(['a']);
    await until(() => state.writes === 1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(first.made.response?.embeddings).toEqual([hashVector('a', 4)]);
    expect(warnings).toEqual([skippedAfter('written', hung)]);
    await skipping(['a']);
    expect(state.reads).toBe(1);
  });

  it('with storeCooldownMs 0 it is asked on every call, each waiting on its read and its write', async () => {
    const { state, warnings, call, until } = setup('hang', 'hang', { storeCooldownMs: 0 });
    for (const [index, input] of ['a', 'b'].entries()) {
      const made = call([input]);
      await until(() => state.reads === index + 1);
      await vi.advanceTimersByTimeAsync(5_000);
      await until(() => state.writes === index + 1);
      await vi.advanceTimersByTimeAsync(4_999);
      expect(made.made.response).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(made.made.response?.embeddings).toEqual([hashVector(input, 4)]);
    }
    // Each failure told once, until that kind works again.
    expect(warnings.map((warning) => warning.code)).toEqual(['cache-read-failed', 'cache-write-failed']);
    expect(warnings[0]!.message).toBe(
      `The embedding cache could not be read (${hung}); inputs count as misses until it can.`,
    );
  });

  it('a shorter storeCooldownMs is said in the warning and kept', async () => {
    const { state, warnings, call, until, skipping } = setup('hang', 'hang', { storeCooldownMs: 1_000 });
    call(['a']);
    await until(() => state.reads === 1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(warnings).toEqual([skippedAfter('read', hung, 1_000)]);
    await vi.advanceTimersByTimeAsync(999);
    await skipping(['b']);
    await vi.advanceTimersByTimeAsync(1);
    call(['c']);
    await until(() => state.reads === 2);
  });
});

describe('a store that rejects', () => {
  // A store that bounds its own wait (2 s) and then rejects: counted only as timeouts, a hung server
  // would have cost every call 2 s on its read and 2 s on its write, and never been skipped.
  it('a read that rejects skips the store for the cooldown, and its call writes nothing', async () => {
    const { state, warnings, call, skipping } = setup('reject', 'answer');
    const first = await call(['a']).settled;
    expect(first.embeddings).toEqual([hashVector('a', 4)]);
    expect(state.writes).toBe(0);
    expect(warnings).toEqual([skippedAfter('read', 'Redis did not answer within 2000 ms')]);
    await skipping(['a']);
    expect(warnings).toHaveLength(1);
  });

  // After the cooldown, the first call to ask the store may be a write: a call whose read was skipped and
  // whose model answered after the cooldown ended. Its rejection is the store still down (bug: counted as
  // a write-only failure, it said "answers again", and the next call waited on the dead store's read).
  it('a write that is the first to try it again after the cooldown and rejects skips it again, telling no resumption', async () => {
    const reason = 'Redis did not answer within 2000 ms';
    let release: (() => void) | undefined;
    const { state, warnings, call, until, skipping } = setup('reject', 'reject', {}, (_request, made) =>
      made === 2
        ? new Promise<void>((resolve) => {
            release = resolve;
          })
        : undefined,
    );
    await call(['a']).settled;
    expect(warnings).toEqual([skippedAfter('read', reason)]);
    const second = call(['b']);
    await until(() => release !== undefined);
    expect(state.reads).toBe(1);
    vi.advanceTimersByTime(30_000);
    release!();
    expect((await second.settled).embeddings).toEqual([hashVector('b', 4)]);
    expect([state.reads, state.writes]).toEqual([1, 1]);
    expect(warnings).toEqual([skippedAfter('read', reason), skippedAfter('written', reason)]);
    await skipping(['c']);
  });

  // A write that rejects came from a store that answers: a full disk or a read-only replica still serves
  // its reads, and skipping them would pay the API for vectors the store holds.
  it('a write that rejects skips nothing: the next call reads the store, and the failure is told once', async () => {
    const { state, entries, warnings, call } = setup('answer', 'reject');
    await call(['a']).settled;
    await call(['b']).settled;
    expect([state.reads, state.writes, entries.size]).toEqual([2, 2, 0]);
    expect(warnings).toEqual([
      {
        code: 'cache-write-failed',
        message:
          'The embedding cache could not be written (Redis did not answer within 2000 ms); answers are returned without being cached until it can.',
      },
    ]);
  });
});

describe('a store that says it answers from a fallback of its own (degraded)', () => {
  const fallback = (kind: 'read' | 'written') =>
    skippedAfter(kind, 'the cache store answers from its fallback');

  // The Redis store answers misses itself while Redis is away. Before, the call that tried it again after
  // the cooldown took those misses for the store being back, and said cache-resumed while Redis was away.
  it('an answer after the cooldown while it is degraded is no resumption: it is skipped again (told), and resumes once it is not', async () => {
    const { state, entries, warnings, call, until, skipping } = setup(
      'hang',
      'answer',
      {},
      undefined,
      degradable,
    );
    const first = call(['a']);
    await until(() => state.reads === 1);
    await vi.advanceTimersByTimeAsync(5_000);
    await first.settled;
    expect(warnings).toEqual([skippedAfter('read', hung)]);

    // Its server is still away: the store answers at once, from its fallback.
    state.read = 'answer';
    state.degraded = true;
    await vi.advanceTimersByTimeAsync(30_000);
    const retried = await call(['b']).settled;
    expect(retried.embeddings).toEqual([hashVector('b', 4)]);
    expect(warnings).toEqual([skippedAfter('read', hung), fallback('read')]);
    expect(state.asked).toEqual(['read']);
    // Nothing is written to a store that drops writes, and the store is skipped for another cooldown.
    expect([state.reads, state.writes, entries.size]).toEqual([2, 0, 0]);
    await vi.advanceTimersByTimeAsync(29_999);
    await skipping(['c']);

    // Its server is back.
    state.degraded = false;
    await vi.advanceTimersByTimeAsync(1);
    await call(['d']).settled;
    expect([state.reads, state.writes, entries.size]).toEqual([3, 1, 1]);
    expect(warnings).toEqual([skippedAfter('read', hung), fallback('read'), resumed]);
    // Asked only by the calls that tried the store again: a store in use is not asked after each answer.
    expect(state.asked).toEqual(['read', 'read']);
    const hit = await call(['d']).settled;
    expect(hit.response?.headers).toEqual({ 'x-embedkit-cache': 'hit' });
    expect(state.asked).toEqual(['read', 'read']);
  });

  it('a write that is the first to try it again while it is degraded skips it again too', async () => {
    let release: (() => void) | undefined;
    const { state, warnings, call, until, skipping } = setup(
      'reject',
      'answer',
      {},
      (_request, made) =>
        made === 2
          ? new Promise<void>((resolve) => {
              release = resolve;
            })
          : undefined,
      degradable,
    );
    await call(['a']).settled;
    const second = call(['b']);
    await until(() => release !== undefined);
    state.degraded = true;
    vi.advanceTimersByTime(30_000);
    release!();
    await second.settled;
    expect(warnings).toEqual([
      skippedAfter('read', 'Redis did not answer within 2000 ms'),
      fallback('written'),
    ]);
    expect([state.reads, state.writes]).toEqual([1, 1]);
    expect(state.asked).toEqual(['write']);
    await skipping(['c']);
  });

  // Outside a retry, a fallback is the store's own affair (the Redis store warns redis-unavailable itself).
  it('while it is used as usual, its fallback answers are answers: not asked, nothing skipped, nothing told', async () => {
    const { state, warnings, call } = setup('answer', 'answer', {}, undefined, degradable);
    state.degraded = true;
    await call(['a']).settled;
    await call(['a']).settled;
    expect([state.reads, state.writes, state.asked, warnings]).toEqual([2, 1, [], []]);
  });
});

describe('the cooldown on a clock of its own (clock)', () => {
  // Before, the cooldown read the system's clock alone: a test (the user's, or this one) had to fake the
  // global `performance`, which every other reader of it in the process then saw too.
  it('reads the given clock: the store is skipped until its now() reaches the cooldown, whatever the real time', async () => {
    let now = 1_000;
    const clock = { now: () => now, sleep: async () => {} };
    const { store, state } = brokenStore('reject', 'answer');
    const warnings: CacheStoreWarning[] = [];
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 4 }),
      cacheMiddleware({ store, clock, onWarning: (warning) => warnings.push(warning) }),
    );
    await model.doEmbed({ inputs: ['a'] });
    state.read = 'answer';
    now += 29_999;
    await model.doEmbed({ inputs: ['b'] });
    expect(state.reads).toBe(1);
    now += 1;
    await model.doEmbed({ inputs: ['c'] });
    expect(state.reads).toBe(2);
    expect(warnings.map((warning) => warning.code)).toEqual(['cache-read-failed', 'cache-resumed']);
  });

  it('refuses a clock without now() and sleep(), as embedMany does, naming it', () => {
    const refused = (() => {
      try {
        cacheMiddleware({ clock: { now: () => 0 } as never });
      } catch (error) {
        return error as InvalidArgumentError;
      }
      return undefined;
    })();
    expect(InvalidArgumentError.isInstance(refused)).toBe(true);
    expect(refused?.argument).toBe('clock');
    expect(refused?.message).toBe(
      'clock must be a Clock with now() and sleep(ms, signal) functions, got an object with now.',
    );
  });
});

/** A batched store whose reads wait for the test to settle them (`reads`), and whose writes are counted. */
function heldReads() {
  const held = {
    reads: [] as { resolve: (value: unknown) => void; reject: (error: unknown) => void }[],
    writes: 0,
  };
  const store: CacheStore = {
    get: () => undefined,
    set: () => {},
    getMany: () =>
      new Promise((resolve, reject) => {
        held.reads.push({ resolve: resolve as (value: unknown) => void, reject });
      }),
    setMany: () => {
      held.writes++;
    },
  };
  return { store, held };
}

describe('a read in flight when another fails', () => {
  // Only the call that tries the store after the cooldown ends a skip. Before, a read that began before
  // the failure and whose answer came in the same turn, just after it, said cache-resumed at once and
  // left the store unskipped; in the other order, the skip held: which one, the depth of a promise chain
  // decided.
  it('its answer, settling just after the failure, does not end the skip', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, held } = heldReads();
    const { reads } = held;
    const warnings: CacheStoreWarning[] = [];
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 4 }),
      cacheMiddleware({ store, onWarning: (warning) => warnings.push(warning) }),
    );
    const first = model.doEmbed({ inputs: ['a'] });
    const second = model.doEmbed({ inputs: ['b'] });
    while (reads.length < 2) await new Promise((resolve) => setImmediate(resolve));
    // The first read's answer is a promise of it: it reaches the middleware a few turns of the microtask
    // queue after the second read's rejection, in the same turn of the event loop.
    reads[0]!.resolve(Promise.resolve([undefined]));
    reads[1]!.reject(new Error('MDB_PAGE_NOTFOUND: Requested page not found'));
    await Promise.all([first, second]);
    expect(warnings).toEqual([skippedAfter('read', 'MDB_PAGE_NOTFOUND: Requested page not found')]);
    // Skipped: the next call neither reads nor writes the store.
    await model.doEmbed({ inputs: ['c'] });
    expect([reads.length, held.writes]).toEqual([2, 0]);
  });
});

describe('reads that fail together', () => {
  // Before, each read that rejected in the same turn as the one that skipped the store skipped it again
  // and said so: four cache-read-failed warnings for one outage.
  it('are one failure episode: embedMany with concurrency 4 whose four reads reject at once is told once', async () => {
    const reason = 'Socket closed unexpectedly';
    const { store, held } = heldReads();
    const warnings: CacheStoreWarning[] = [];
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({
        store,
        clock: { now: () => 0, sleep: async () => {} },
        onWarning: (warning) => warnings.push(warning),
      }),
    );
    const inputs = ['a', 'b', 'c', 'd'];
    const job = embedMany({ model, inputs, concurrency: 4, maxInputsPerCall: 1 });
    while (held.reads.length < 4) await new Promise((resolve) => setImmediate(resolve));
    // The store's connection drops: every read in flight rejects at once.
    for (const read of held.reads) read.reject(new Error(reason));
    expect((await job).embeddings).toEqual(inputs.map((input) => hashVector(input, 4)));
    expect(warnings).toEqual([skippedAfter('read', reason)]);
    // Skipped: no call wrote the store, and the next neither reads nor writes it.
    await embedMany({ model, inputs: ['e'] });
    expect([held.reads.length, held.writes]).toEqual([4, 0]);
    expect(warnings).toEqual([skippedAfter('read', reason)]);
    expect(inner.calls.map((call) => call.inputs).sort()).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
  });
});

describe('an onWarning that throws when told cache-resumed', () => {
  // Before, the callback's error was caught in the store's retry as the store failing: the store was
  // skipped for another cooldown, with the callback's error as the reason of a cache-read-failed.
  it('fails the call with its error, as for any other warning of the cache, and the store counts as back', async () => {
    let now = 1_000;
    const clock = { now: () => now, sleep: async () => {} };
    const { store, state, entries } = brokenStore('reject', 'answer');
    const broken = new Error('the callback is broken');
    const warnings: CacheStoreWarning[] = [];
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({
        store,
        clock,
        onWarning: (warning) => {
          warnings.push(warning);
          if (warning.code === 'cache-resumed') throw broken;
        },
      }),
    );
    await embedMany({ model, inputs: ['a'] });
    const failed = skippedAfter('read', 'Redis did not answer within 2000 ms');
    expect(warnings).toEqual([failed]);

    state.read = 'answer';
    now += 30_000;
    const error = await embedMany({ model, inputs: ['b'] }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBe(broken);
    expect(warnings).toEqual([failed, resumed]);
    expect(state.reads).toBe(2);

    // Back, with no cooldown and nothing more told: the next call reads and writes the store.
    const after = await embedMany({ model, inputs: ['c'] });
    expect(after.embeddings).toEqual([hashVector('c', 4)]);
    expect([state.reads, state.writes, entries.size]).toEqual([3, 1, 1]);
    expect(warnings).toEqual([failed, resumed]);
    // The call that tried the store again ended at its read, before its model was called.
    expect(inner.calls.map((call) => call.inputs)).toEqual([['a'], ['c']]);
  });
});
