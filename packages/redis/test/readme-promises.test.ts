/**
 * The cache store's defaults as the README gives them: keys under `embedkit:cache:`, entries written with
 * a 30-day TTL, and a command that has not answered within 2,000 ms counted as Redis being unavailable.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCacheStore } from '../src/index.js';
import { heldClient, warningLog } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the cache store without options', () => {
  it('reads and writes keys under embedkit:cache:, each entry with a TTL of 2,592,000 seconds', async () => {
    const held = heldClient();
    const store = await createRedisCacheStore({ client: held.client, onWarning: () => {} });
    const read = store.getMany(['k']);
    held.sent[0]!.answer([null]);
    expect(await read).toEqual([undefined]);
    const written = store.set('k', Float32Array.of(1));
    held.sent[1]!.answer('OK');
    await written;
    expect(held.sent.map((entry) => [entry.args[0], entry.args[1]])).toEqual([
      ['MGET', 'embedkit:cache:k'],
      ['SET', 'embedkit:cache:k'],
    ]);
    expect(held.sent[1]!.args.slice(3)).toEqual(['EX', '2592000']);
    await store.close();
  });

  it('waits 2,000 ms for a command before it misses and warns redis-unavailable', async () => {
    vi.useFakeTimers();
    const held = heldClient();
    const log = warningLog();
    const store = await createRedisCacheStore({ client: held.client, onWarning: log.onWarning });
    let settled = false;
    const read = store.get('k').then((value) => {
      settled = true;
      return value;
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).toBe(false);
    expect(log.codes()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await read).toBeUndefined();
    expect(log.codes()).toEqual(['redis-unavailable']);
    await store.close();
  });
});
