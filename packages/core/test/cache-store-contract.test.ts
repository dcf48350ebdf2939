/**
 * The `CacheStore` contract from both sides. A store is public API: called directly (to warm or inspect a
 * cache), it refuses arguments the interface does not take with an `InvalidArgumentError` naming the
 * method and the argument (the shared table every store's tests run). Behind `cacheMiddleware`, a custom
 * store gets and gives typed arrays, and whatever it answers that the call cannot use (another type,
 * another length, a NaN, no answer at all) is a miss said through `onWarning` as the store's fault: never
 * a wrong vector served, never a failed or stuck call.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheStore,
  type CacheStoreWarning,
  cacheKey,
  cacheMiddleware,
  checkCacheStoreArguments,
  createMemoryCacheStore,
} from '../src/cache.js';
import { embedMany } from '../src/engine/embed.js';
import { InvalidArgumentError } from '../src/errors.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { BAD_CACHE_STORE_CALLS, cacheStoreRefusal, hashVector, MockEmbeddingModel } from '../src/testing.js';
import type { Embedding, EmbedResponse } from '../src/types.js';

afterEach(() => {
  vi.useRealTimers();
});

function warningLog() {
  const warnings: CacheStoreWarning[] = [];
  return { warnings, onWarning: (warning: CacheStoreWarning) => warnings.push(warning) };
}

const readFailed = (reason: string) => ({
  code: 'cache-read-failed',
  message: `The embedding cache could not be read (${reason}); inputs count as misses until it can.`,
});

describe('checkCacheStoreArguments and the memory store: the shared table of bad calls', () => {
  const memoryStore = createMemoryCacheStore();
  const rows = BAD_CACHE_STORE_CALLS.map((call) => [`${call.method}: ${call.message}`, call] as const);

  it.each(rows)('checkCacheStoreArguments refuses %s', (_name, call) => {
    let error: unknown;
    try {
      checkCacheStoreArguments(call.method, ...call.args);
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_argument', argument: call.argument, message: call.message });
  });

  it.each(rows.filter(([, call]) => call.method === 'get' || call.method === 'set'))(
    'the memory store refuses %s, and keeps nothing',
    async (_name, call) => {
      const error = await cacheStoreRefusal(memoryStore, call);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ argument: call.argument, message: call.message });
      expect(memoryStore.size).toBe(0);
    },
  );

  it.each([
    ['get', ['k']],
    ['set', ['k', Float32Array.of(1)]],
    ['set', ['k', Int8Array.of(1)]],
    ['set', ['k', Uint8Array.of(1)]],
    ['getMany', [[]]],
    ['getMany', [['a', 'b']]],
    ['setMany', [[]]],
    ['setMany', [[['k', Float32Array.of(1)]]]],
  ] as const)('takes %s with %j', (method, args) => {
    expect(() => checkCacheStoreArguments(method, ...args)).not.toThrow();
  });
});

describe('a custom store behind cacheMiddleware answers a value the call cannot use', () => {
  // The mock model states its length, 4, and answers float vectors.
  const cases: [string, unknown, string][] = [
    [
      'a plain number[] where a Float32Array belongs',
      [0.5, 0.5, 0.5, 0.5],
      'the cache store returned the entry of input 0 as Array; float vectors must be Float32Array',
    ],
    [
      'an Int8Array for a float model',
      Int8Array.of(1, 2, 3, 4),
      'the cache store returned the entry of input 0 as Int8Array; float vectors must be Float32Array',
    ],
    [
      'a vector of another model’s dimensions',
      hashVector('a', 8),
      'the cache store returned the entry of input 0 with 8 values; expected 4',
    ],
    [
      'a Float32Array holding a NaN',
      Float32Array.of(0.5, Number.NaN, 0.5, 0.5),
      'the cache store returned the entry of input 0 holding NaN at position 1, not a finite number',
    ],
    [
      'a string',
      'not a vector',
      'the cache store returned the entry of input 0 as String; float vectors must be Float32Array',
    ],
  ];

  it.each(cases)(
    'from get: %s is a miss, the model’s vector is served and stored, and the store is blamed',
    async (_name, bad, reason) => {
      const log = warningLog();
      const written: [string, unknown][] = [];
      const store: CacheStore = {
        get: () => bad as never,
        set: (key, value) => {
          written.push([key, value]);
        },
      };
      const inner = new MockEmbeddingModel({ dimensions: 4 });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store, onWarning: log.onWarning }));
      const result = await embedMany({ model, inputs: ['a'] });
      expect(result.embeddings).toEqual([hashVector('a', 4)]);
      expect(inner.calls).toHaveLength(1);
      expect(written.map(([, value]) => value)).toEqual([hashVector('a', 4)]);
      expect(log.warnings).toEqual([readFailed(reason)]);
    },
  );

  // Key-value clients (Redis's GET, most SDKs) answer a missing key with null: a plain miss, said nothing of.
  it('from get and getMany: null is a miss like undefined, and no warning', async () => {
    const log = warningLog();
    const store: CacheStore = {
      get: () => null as never,
      getMany: (keys) => keys.map(() => null as never),
      set: () => {},
    };
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store, onWarning: log.onWarning }));
    const result = await embedMany({ model, inputs: ['a', 'b'] });
    expect(result.embeddings).toEqual([hashVector('a', 4), hashVector('b', 4)]);
    expect(inner.calls).toHaveLength(1);
    expect(log.warnings).toEqual([]);
  });

  it('from getMany, the entry named is the one at fault; the sound entry beside it is served', async () => {
    const log = warningLog();
    const store: CacheStore = {
      get: () => undefined,
      set: () => {},
      getMany: (keys) =>
        keys.map((_key, index) => (index === 1 ? Int8Array.of(1, 2, 3, 4) : hashVector('held', 4))),
    };
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store, onWarning: log.onWarning }));
    const result = await embedMany({ model, inputs: ['a', 'b'] });
    expect(result.embeddings).toEqual([hashVector('held', 4), hashVector('b', 4)]);
    expect(inner.calls.map((call) => call.inputs)).toEqual([['b']]);
    expect(log.warnings).toEqual([
      readFailed(
        'the cache store returned the entry of input 1 as Int8Array; float vectors must be Float32Array',
      ),
    ]);
  });

  it('where the model states no length, an entry of another length than its answers is no fault of the store', async () => {
    // The key holds the server, so such an entry was stored from the model it served before: replaced, it
    // is sent again, as the cache means to, and no store is blamed.
    const log = warningLog();
    const entries = new Map<string, Embedding>();
    const store: CacheStore = {
      get: (key) => entries.get(key),
      set: (key, value) => {
        entries.set(key, value);
      },
    };
    // It answers 8 values (the mock's length when the model states none).
    const inner = new MockEmbeddingModel({ capabilities: { defaultDimensions: undefined } });
    const model = wrapEmbeddingModel(inner, cacheMiddleware({ store, onWarning: log.onWarning }));
    await model.doEmbed({ inputs: ['a'] });
    entries.set(await cacheKey(inner, {}, 'b'), hashVector('b', 3));
    const response = await model.doEmbed({ inputs: ['b'] });
    expect(response.embeddings).toEqual([hashVector('b', 8)]);
    expect(inner.calls).toHaveLength(2);
    expect(entries.get(await cacheKey(inner, {}, 'b'))).toEqual(hashVector('b', 8));
    expect(log.warnings).toEqual([]);
  });

  it('is said once until a read has all its entries sound, then again', async () => {
    const log = warningLog();
    let bad = true;
    const store: CacheStore = {
      get: () => (bad ? [1, 2, 3, 4] : undefined) as never,
      set: () => {},
    };
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 4 }),
      cacheMiddleware({ store, onWarning: log.onWarning }),
    );
    await model.doEmbed({ inputs: ['a'] });
    await model.doEmbed({ inputs: ['b'] });
    bad = false;
    await model.doEmbed({ inputs: ['c'] });
    bad = true;
    await model.doEmbed({ inputs: ['d'] });
    const told = readFailed(
      'the cache store returned the entry of input 0 as Array; float vectors must be Float32Array',
    );
    expect(log.warnings).toEqual([told, told]);
  });
});

describe('a custom store that never answers, in a call with no signal', () => {
  let asked = 0;
  const never = () => {
    asked++;
    return new Promise<never>(() => {});
  };
  /**
   * Fake timeouts only: the keys are hashed by WebCrypto, which no fake clock drives, so the test waits
   * (on real turns of the event loop) until the store is asked before it moves the clock.
   */
  async function untilAsked(times: number): Promise<void> {
    while (asked < times) await new Promise((resolve) => setImmediate(resolve));
  }

  it('a read counts as misses after 5 s (storeTimeoutMs), said as the store’s fault; the answer is served', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    asked = 0;
    const log = warningLog();
    const inner = new MockEmbeddingModel({ dimensions: 4 });
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({ store: { get: never, set: () => {} }, onWarning: log.onWarning }),
    );
    let settled: unknown;
    void model.doEmbed({ inputs: ['a'] }).then((response) => {
      settled = response.embeddings;
    });
    await untilAsked(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBeUndefined();
    expect(inner.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual([hashVector('a', 4)]);
    // Said with the skip that follows: the next calls do not wait for it (cache-store-breaker.test.ts).
    expect(log.warnings).toEqual([
      {
        code: 'cache-read-failed',
        message:
          'The embedding cache could not be read (the cache store did not answer within 5000 ms); the cache store is skipped for 30000 ms (inputs count as misses, answers are not cached), then one call tries it again.',
      },
    ]);
  });

  it('a write leaves the answer unstored after storeTimeoutMs, said once; the answer is returned', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    asked = 0;
    const log = warningLog();
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 4 }),
      cacheMiddleware({
        store: { get: () => undefined, set: never, setMany: never },
        onWarning: log.onWarning,
        storeTimeoutMs: 50,
      }),
    );
    let settled: unknown;
    void model.doEmbed({ inputs: ['a'] }).then((response) => {
      settled = response.embeddings;
    });
    await untilAsked(1);
    await vi.advanceTimersByTimeAsync(49);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual([hashVector('a', 4)]);
    expect(log.warnings).toEqual([
      {
        code: 'cache-write-failed',
        message:
          'The embedding cache could not be written (the cache store did not answer within 50 ms); the cache store is skipped for 30000 ms (inputs count as misses, answers are not cached), then one call tries it again.',
      },
    ]);
  });

  // While a call waits for the store, storeTimeoutMs' timer may be all that keeps the process running to
  // end the wait (a store whose promise holds no socket or file), so it is not unref'd then. Once the
  // caller has aborted, nobody waits: the store's late answer is ignored, and a process with nothing else
  // to do must be free to exit rather than linger for storeTimeoutMs.
  // An aborted read ends the call with the abort; an aborted write leaves the answer, paid for, returned.
  it.each<[string, CacheStore, boolean]>([
    ['a read', { get: never, set: () => {} }, false],
    ['a write', { get: () => undefined, set: never }, true],
  ])(
    '%s still pending when the caller aborts holds the process open no more; a call that ends leaves no listener on its signal',
    async (_kind, store, answered) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      asked = 0;
      const log = warningLog();
      const model = wrapEmbeddingModel(
        new MockEmbeddingModel({ dimensions: 4 }),
        cacheMiddleware({ store, onWarning: log.onWarning }),
      );
      const started = vi.spyOn(globalThis, 'setTimeout');
      try {
        const controller = new AbortController();
        const call = model
          .doEmbed({ inputs: ['a'], signal: controller.signal })
          .catch((error: unknown) => error);
        await untilAsked(1);
        // The pending wait's timer, the last started (a write's call read the store first).
        const timer = started.mock.results.at(-1)!.value as NodeJS.Timeout;
        expect(vi.getTimerCount()).toBe(1);
        expect(timer.hasRef()).toBe(true);
        controller.abort();
        const ended = await call;
        if (answered) expect((ended as EmbedResponse).embeddings).toEqual([hashVector('a', 4)]);
        else expect(ended).toBe(controller.signal.reason);
        expect(timer.hasRef()).toBe(false);
        // It still ends the store's wait in its time, and the store that did not answer is skipped (said
        // once) whether or not a call still waited for it: the calls after it need not wait.
        expect(vi.getTimerCount()).toBe(1);
        await vi.advanceTimersByTimeAsync(5_000);
        expect(vi.getTimerCount()).toBe(0);
        expect(log.warnings).toEqual([
          {
            code: answered ? 'cache-write-failed' : 'cache-read-failed',
            message: `The embedding cache could not be ${answered ? 'written' : 'read'} (the cache store did not answer within 5000 ms); the cache store is skipped for 30000 ms (inputs count as misses, answers are not cached), then one call tries it again.`,
          },
        ]);
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
        // A call whose store answers leaves nothing on its signal.
        const other = new AbortController();
        const healthy = wrapEmbeddingModel(
          new MockEmbeddingModel({ dimensions: 4 }),
          cacheMiddleware({ store: createMemoryCacheStore() }),
        );
        await healthy.doEmbed({ inputs: ['a'], signal: other.signal });
        await healthy.doEmbed({ inputs: ['a'], signal: other.signal });
        expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        started.mockRestore();
      }
    },
  );

  it('a read begun with a signal aborted already holds the process open for no moment', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    asked = 0;
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 4 }),
      cacheMiddleware({ store: { get: never, set: () => {} } }),
    );
    const started = vi.spyOn(globalThis, 'setTimeout');
    try {
      const signal = AbortSignal.abort();
      const ended = await model.doEmbed({ inputs: ['a'], signal }).catch((error: unknown) => error);
      expect(ended).toBe(signal.reason);
      expect(asked).toBe(1);
      expect(started.mock.results).toHaveLength(1);
      expect((started.mock.results[0]!.value as NodeJS.Timeout).hasRef()).toBe(false);
    } finally {
      started.mockRestore();
    }
  });

  it('a store that answers leaves no timer behind', async () => {
    vi.useFakeTimers();
    const model = wrapEmbeddingModel(
      new MockEmbeddingModel({ dimensions: 4 }),
      cacheMiddleware({ store: createMemoryCacheStore() }),
    );
    await model.doEmbed({ inputs: ['a'] });
    await model.doEmbed({ inputs: ['a'] });
    expect(vi.getTimerCount()).toBe(0);
  });

  const timeoutRange = 'from 1 to 2,147,483,647';
  it.each([
    ['storeTimeoutMs', 0, '0', timeoutRange],
    ['storeTimeoutMs', 1.5, '1.5', timeoutRange],
    ['storeTimeoutMs', '5000', '"5000"', timeoutRange],
    ['storeTimeoutMs', 2_147_483_648, '2147483648', timeoutRange],
    // 0 is taken: the store is never skipped (cache-store-breaker.test.ts).
    ['storeCooldownMs', -1, '-1', '≥ 0'],
    ['storeCooldownMs', 1.5, '1.5', '≥ 0'],
    ['storeCooldownMs', '30000', '"30000"', '≥ 0'],
    ['storeCooldownMs', Number.NaN, 'NaN', '≥ 0'],
  ])('%s %s is refused', (name, value, shown, range) => {
    let error: unknown;
    try {
      cacheMiddleware({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      argument: name,
      message: `${name} must be a whole number ${range}, got ${shown}.`,
    });
  });
});
