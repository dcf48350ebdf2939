/**
 * A cache store that fails (a full disk, a broken custom store) never fails a call: the answer was paid
 * for. A read that fails is a miss and a write that fails is skipped, each told once through `onWarning`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CacheStore, type CacheStoreWarning, cacheMiddleware } from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { hashVector, MockEmbeddingModel } from '../src/testing.js';
import type { Embedding } from '../src/types.js';

/** LMDB's rejection of a failed commit, as `@embedkit/cache-disk` met it on a full disk. */
function commitFailed(): Error {
  return new Error('Commit failed (see commitError for details)');
}

/** A batched store over a map whose reads and writes fail while `failing` says so. */
function flakyStore(failing: { read: boolean; write: boolean }) {
  const entries = new Map<string, Embedding>();
  const store: CacheStore = {
    get: (key) => entries.get(key),
    set: (key, value) => {
      entries.set(key, value);
    },
    async getMany(keys) {
      if (failing.read) throw new Error('MDB_PAGE_NOTFOUND: Requested page not found');
      return keys.map((key) => entries.get(key));
    },
    async setMany(batch) {
      if (failing.write) throw commitFailed();
      for (const [key, value] of batch) entries.set(key, value);
    },
  };
  return { store, entries };
}

function warningLog() {
  const warnings: CacheStoreWarning[] = [];
  return { warnings, onWarning: (warning: CacheStoreWarning) => warnings.push(warning) };
}

const vectors = (texts: string[]) => texts.map((text) => hashVector(text, 8));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a cache store whose write fails', () => {
  // Review finding: embedMany threw LMDB's "Commit failed" after the API had answered (and been paid).
  it('returns every vector of the call, skips the write and says so once', async () => {
    const { store, entries } = flakyStore({ read: false, write: true });
    const log = warningLog();
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store, onWarning: log.onWarning }));
    const first = await embedMany({ model, inputs: ['a', 'b'] });
    const second = await embedMany({ model, inputs: ['b', 'c'] });
    expect(first.embeddings).toEqual(vectors(['a', 'b']));
    expect(second.embeddings).toEqual(vectors(['b', 'c']));
    // Nothing was stored, so 'b' is sent again.
    expect(inner.calls.map((call) => call.inputs)).toEqual([
      ['a', 'b'],
      ['b', 'c'],
    ]);
    expect(entries.size).toBe(0);
    expect(log.warnings).toEqual([
      {
        code: 'cache-write-failed',
        message:
          'The embedding cache could not be written (Commit failed (see commitError for details)); answers are returned without being cached until it can.',
      },
    ]);
  });

  it('a store without setMany whose set throws at once (not a rejection) fails no call either', async () => {
    const log = warningLog();
    const store: CacheStore = {
      get: () => undefined,
      set: () => {
        throw new Error('ENOSPC: no space left on device');
      },
    };
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 8 }),
      cacheMiddleware({ store, onWarning: log.onWarning }),
    );
    const result = await embedMany({ model, inputs: ['a', 'b', 'a'] });
    expect(result.embeddings).toEqual(vectors(['a', 'b', 'a']));
    expect(log.warnings.map((warning) => warning.code)).toEqual(['cache-write-failed']);
    expect(log.warnings[0]!.message).toContain('(ENOSPC: no space left on device)');
  });

  it('an onWarning that throws is not swallowed: its error reaches the caller', async () => {
    // The wait for a write ends at the call's abort, and only that end is quiet: an error of the user's own
    // callback, thrown as the failed write is reported, was dropped with it.
    const { store } = flakyStore({ read: false, write: true });
    const broken = new Error('onWarning is broken');
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 8 }),
      cacheMiddleware({
        store,
        onWarning: () => {
          throw broken;
        },
      }),
    );
    const error = await embedMany({ model, inputs: ['a'], maxRetries: 0 }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBe(broken);
  });

  it('warns again only after a write has worked in between', async () => {
    const failing = { read: false, write: true };
    const { store, entries } = flakyStore(failing);
    const log = warningLog();
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 8 }),
      cacheMiddleware({ store, onWarning: log.onWarning }),
    );
    await embedMany({ model, inputs: ['a'] });
    await embedMany({ model, inputs: ['b'] });
    expect(log.warnings).toHaveLength(1);
    failing.write = false;
    await embedMany({ model, inputs: ['c'] });
    expect([...entries.values()]).toEqual(vectors(['c']));
    failing.write = true;
    await embedMany({ model, inputs: ['d'] });
    expect(log.warnings.map((warning) => warning.code)).toEqual(['cache-write-failed', 'cache-write-failed']);
  });
});

describe('a cache store whose read fails', () => {
  // With storeCooldownMs 0, as before it; by default the store is then skipped for a while
  // (cache-store-breaker.test.ts).
  it('counts every input as a miss (each distinct one sent once), stores the answers and says so once', async () => {
    const failing = { read: true, write: false };
    const { store, entries } = flakyStore(failing);
    const log = warningLog();
    const inner = new MockEmbeddingModel({ dimensions: 8 });
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({ store, onWarning: log.onWarning, storeCooldownMs: 0 }),
    );
    const result = await embedMany({ model, inputs: ['a', 'b', 'a'] });
    await embedMany({ model, inputs: ['a'] });
    expect(result.embeddings).toEqual(vectors(['a', 'b', 'a']));
    expect(inner.calls.map((call) => call.inputs)).toEqual([['a', 'b'], ['a']]);
    expect(entries.size).toBe(2);
    expect(log.warnings).toEqual([
      {
        code: 'cache-read-failed',
        message:
          'The embedding cache could not be read (MDB_PAGE_NOTFOUND: Requested page not found); inputs count as misses until it can.',
      },
    ]);
    failing.read = false;
    await embedMany({ model, inputs: ['a', 'b'] });
    expect(inner.calls).toHaveLength(2);
  });

  it('a store without getMany whose get throws at once fails no call either', async () => {
    const log = warningLog();
    const store: CacheStore = {
      get: () => {
        throw new Error('Database is closed');
      },
      set: () => {},
    };
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 8 }),
      cacheMiddleware({ store, onWarning: log.onWarning }),
    );
    const result = await embedMany({ model, inputs: ['a'] });
    expect(result.embeddings).toEqual(vectors(['a']));
    expect(log.warnings.map((warning) => warning.code)).toEqual(['cache-read-failed']);
  });
});

describe('a batched read that answers a list of another length than its keys', () => {
  // Which entry is whose is unknown: served, a list too short answered fewer vectors than inputs (the
  // engine failed the call), and one too long more.
  it.each([
    ['too short', (held: (Embedding | undefined)[]) => held.slice(1)],
    ['too long', (held: (Embedding | undefined)[]) => [...held, hashVector('z', 8)]],
  ])(
    '%s is a failed read: every input is sent, the call answers, and it is told once',
    async (_name, answer) => {
      const { store, entries } = flakyStore({ read: false, write: false });
      const log = warningLog();
      const inner = new MockEmbeddingModel({ dimensions: 8 });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store, onWarning: log.onWarning }));
      await embedMany({ model, inputs: ['a', 'b'] });
      const getMany = store.getMany!.bind(store);
      store.getMany = async (keys) => answer(await getMany(keys));
      const result = await embedMany({ model, inputs: ['a', 'b'] });
      expect(result.embeddings).toEqual(vectors(['a', 'b']));
      expect(inner.calls.map((call) => call.inputs)).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
      expect(entries.size).toBe(2);
      expect(log.warnings).toEqual([
        {
          code: 'cache-read-failed',
          message: `The embedding cache could not be read (the store answered ${answer([undefined, undefined]).length} entries for 2 keys); inputs count as misses until it can.`,
        },
      ]);
    },
  );
});

describe('cacheMiddleware warnings without onWarning', () => {
  it('go to process.emitWarning as EmbedkitCacheWarning with their code', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { store } = flakyStore({ read: true, write: true });
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 8 }),
      cacheMiddleware({ store, storeCooldownMs: 0 }),
    );
    await embedMany({ model, inputs: ['a'] });
    await embedMany({ model, inputs: ['b'] });
    expect(emitted.mock.calls.map((call) => [call[1]])).toEqual([
      [{ type: 'EmbedkitCacheWarning', code: 'cache-read-failed' }],
      [{ type: 'EmbedkitCacheWarning', code: 'cache-write-failed' }],
    ]);
  });
});

describe('a store that never answers', () => {
  // Time is fake (timers and performance): nothing here waits on a real timer. The keys are hashed by
  // WebCrypto, which no fake clock drives, so the tests wait on real turns of the event loop until the
  // store is asked before they abort or move the clock.
  const setup = (store: 'read' | 'write') => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const asked = { reads: 0, writes: 0 };
    const never = (kind: 'reads' | 'writes') => () => {
      asked[kind]++;
      return new Promise<never>(() => {});
    };
    const cache = cacheMiddleware({
      store:
        store === 'read'
          ? { get: never('reads'), set: () => {}, getMany: never('reads') }
          : { get: () => undefined, set: never('writes'), setMany: never('writes') },
    });
    /** What `promise` settled with so far: 'pending' until it has. */
    const watch = (promise: Promise<unknown>) => {
      const seen: { outcome: unknown } = { outcome: 'pending' };
      promise.then(
        (value) => {
          seen.outcome = value;
        },
        (error: unknown) => {
          seen.outcome = error;
        },
      );
      return seen;
    };
    const until = async (condition: () => boolean) => {
      while (!condition()) await new Promise((resolve) => setImmediate(resolve));
    };
    return { cache, asked, watch, until };
  };
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a read ends with the call’s signal: the middleware rejects with its reason at once, and calls nothing', async () => {
    // Called straight, with no engine around it to leave the call behind: unraced, the read held the
    // call until storeTimeoutMs (5 s), and a store whose promise never settles for ever without one.
    const { cache, asked, watch, until } = setup('read');
    const model = new MockEmbeddingModel({ dimensions: 4 });
    let called = 0;
    const controller = new AbortController();
    const reason = new Error('the call timed out');
    const seen = watch(
      cache.wrapEmbed!({
        doEmbed: async (request) => {
          called++;
          return model.doEmbed(request);
        },
        request: { inputs: ['a'], signal: controller.signal },
        model,
      }),
    );
    await until(() => asked.reads === 1);
    expect(seen.outcome).toBe('pending');
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.outcome).toBe(reason);
    expect(called).toBe(0);
  });

  it('through the engine, a read ends the call at its timeout, as a TimeoutError', async () => {
    const { cache, asked, watch, until } = setup('read');
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(inner, [cache]);
    const seen = watch(embedMany({ model, inputs: ['a'], timeoutMs: 100, maxRetries: 0 }));
    await until(() => asked.reads === 1);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((seen.outcome as Error).name).toBe('TimeoutError');
    expect(inner.calls).toEqual([]);
  });

  it('a write does not keep the answer, already paid for, from the caller past the call’s timeout', async () => {
    const { cache, asked, watch, until } = setup('write');
    const model = wrapEmbeddingModel(new MockEmbeddingModel({ dimensions: 4 }), [cache]);
    const seen = watch(embedMany({ model, inputs: ['a', 'b'], timeoutMs: 100, maxRetries: 0 }));
    await until(() => asked.writes === 1);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((seen.outcome as { embeddings: unknown }).embeddings).toEqual([
      hashVector('a', 4),
      hashVector('b', 4),
    ]);
  });
});
