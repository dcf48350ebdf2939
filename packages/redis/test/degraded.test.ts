/**
 * The cache store's `degraded(kind)`: whether it now reads or writes on its own stand-in (reads that miss,
 * writes that are skipped) rather than Redis, for core's cacheMiddleware, which asks it of a store it
 * skipped and tries again. Over a client whose commands the test answers: no server, no time.
 */
import { ErrorReply } from '@redis/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { heldCacheStore } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

const kinds = (store: { degraded(kind: 'read' | 'write'): boolean }) => ({
  read: store.degraded('read'),
  write: store.degraded('write'),
});

describe("the Redis cache store's degraded(kind)", () => {
  it('is false while Redis answers, true for both from a command that got no answer until Redis answers the PING', async () => {
    vi.useFakeTimers();
    const { held, store } = await heldCacheStore();
    expect(kinds(store)).toEqual({ read: false, write: false });
    const read = store.getMany(['k']);
    await vi.advanceTimersByTimeAsync(100);
    expect(await read).toEqual([undefined]);
    expect(kinds(store)).toEqual({ read: true, write: true });
    await vi.advanceTimersByTimeAsync(50);
    expect(held.commands()).toEqual(['MGET', 'PING']);
    held.sent[1]!.answer('PONG');
    await vi.advanceTimersByTimeAsync(0);
    expect(kinds(store)).toEqual({ read: false, write: false });
    await store.close();
  });

  it('is true while the client is not connected, before any command found it so', async () => {
    const { held, store } = await heldCacheStore();
    held.client.isReady = false;
    expect(kinds(store)).toEqual({ read: true, write: true });
    held.client.isReady = true;
    expect(kinds(store)).toEqual({ read: false, write: false });
    await store.close();
  });

  it('names the kind Redis refuses: writes refused (out of memory), reads still served, until a write succeeds', async () => {
    const { held, store } = await heldCacheStore();
    const written = store.set('k', Float32Array.of(1));
    held.sent[0]!.fail(new ErrorReply("OOM command not allowed when used memory > 'maxmemory'."));
    await written;
    expect(kinds(store)).toEqual({ read: false, write: true });
    const read = store.get('k');
    held.sent[1]!.answer([null]);
    await read;
    expect(kinds(store)).toEqual({ read: false, write: true });
    const again = store.set('k', Float32Array.of(1));
    held.sent[2]!.answer('OK');
    await again;
    expect(kinds(store)).toEqual({ read: false, write: false });
    await store.close();
  });

  it('is true for good once the store is closed', async () => {
    const { store } = await heldCacheStore();
    await store.close();
    expect(kinds(store)).toEqual({ read: true, write: true });
  });
});
