import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedding } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-cache-disk-edges-');

/** A float32 vector of `length` values, each telling its place and `seed`. */
const counting = (length: number, seed: number) =>
  Float32Array.from({ length }, (_, index) => seed * 1_000_000 + index);

describe('get', () => {
  it('returns each entry at its own length and type, whatever entry was read just before', async () => {
    const target = store({ directory: directory() });
    const long = counting(3_072, 1);
    const short = Float32Array.of(0.5, -2);
    const bytes = Uint8Array.of(0, 7, 255);
    const signed = Int8Array.of(-128, 5);
    await target.setMany([
      ['long', long],
      ['short', short],
      ['bytes', bytes],
      ['signed', signed],
    ]);
    for (const [key, expected] of [
      ['long', long],
      ['short', short],
      ['long', long],
      ['bytes', bytes],
      ['long', long],
      ['signed', signed],
      ['short', short],
    ] as const) {
      expect(target.get(key), key).toEqual(expected);
    }
  });

  it('returns a copy of its own: later reads and writes leave it as it was, and changing it changes no entry', async () => {
    const target = store({ directory: directory() });
    await target.setMany([
      ['a', counting(1_024, 1)],
      ['b', counting(1_024, 2)],
    ]);
    const first = target.get('a')!;
    expect(target.get('b')).toEqual(counting(1_024, 2));
    await target.set('a', counting(1_024, 3));
    expect(target.get('a')).toEqual(counting(1_024, 3));
    expect(first).toEqual(counting(1_024, 1));
    first.fill(0);
    expect(target.get('b')).toEqual(counting(1_024, 2));
  });

  it('reads back an entry of 2 MB whole, and a small one read after it', async () => {
    const target = store({ directory: directory() });
    const large = counting(524_288, 4);
    await target.setMany([
      ['large', large],
      ['small', Float32Array.of(1)],
    ]);
    // Compared as bytes: a deep comparison of half a million numbers takes seconds.
    const asBytes = (vector: Float32Array) =>
      Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    const read = target.get('large');
    expect(read).toBeInstanceOf(Float32Array);
    expect(asBytes(read as Float32Array).equals(asBytes(large))).toBe(true);
    expect(target.get('small')).toEqual(Float32Array.of(1));
    expect(asBytes(target.get('large') as Float32Array).equals(asBytes(large))).toBe(true);
  });
});

/** A process of its own with the store open on `path`, answering the messages of `code`'s handler. */
function peer(path: string, handler: string) {
  const code = `
    import { existsSync, writeFileSync } from 'node:fs';
    import { openDiskCacheStore } from '@embedkit/cache-disk';
    const store = openDiskCacheStore({ directory: ${JSON.stringify(path)} });
    // The first value of a vector, or "torn" when its values differ (each one written is all one number).
    const seen = (vector) =>
      vector === undefined ? null : vector.length === 1024 && vector.every((value) => value === vector[0]) ? vector[0] : 'torn';
    process.on('message', async (message) => {
      if (message.end) {
        await store.close();
        process.disconnect();
        return;
      }
      ${handler}
    });
    process.send({ ready: true });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: import.meta.dirname,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ready = once(child, 'message');
  return {
    async answer(message: object): Promise<Record<string, unknown>> {
      await ready;
      const reply = once(child, 'message');
      child.send(message);
      return ((await reply) as [Record<string, unknown>])[0]!;
    },
    async end(): Promise<number | null> {
      if (child.connected) child.send({ end: true });
      const [code] = await exited;
      return code as number | null;
    },
  };
}

const filled = (value: number) => new Float32Array(1024).fill(value);

describe('two processes on one directory', () => {
  it('a read called after the other process’s write resolved sees that write, even just after a read of its own', async () => {
    const path = directory();
    const target = store({ directory: path });
    await target.set('same', filled(1));
    // Told { marker }, the other process reads the entry, says so with a file, waits (synchronously, so
    // that no timer of its own runs) for this one to write, and reads it again from the next microtask on.
    const other = peer(
      path,
      `const before = seen(store.get('same'));
      writeFileSync(message.marker + '.read', '');
      const pause = new Int32Array(new SharedArrayBuffer(4));
      while (!existsSync(message.marker + '.written')) Atomics.wait(pause, 0, 0, 5);
      await null;
      process.send({ before, after: seen(store.get('same')) });`,
    );
    try {
      for (const value of [2, 3, 4]) {
        const marker = join(path, `turn-${value}`);
        const reply = other.answer({ marker });
        await until(() => existsSync(`${marker}.read`));
        await target.set('same', filled(value));
        writeFileSync(`${marker}.written`, '');
        expect(await reply).toEqual({ before: value - 1, after: value });
      }
    } finally {
      expect(await other.end()).toBe(0);
    }
  }, 30_000);

  it('writing and reading the same key at once, each reads whole vectors only, the old one or the new', async () => {
    const path = directory();
    const target = store({ directory: path });
    const other = peer(
      path,
      `if (message.write !== undefined) {
        await store.set('same', new Float32Array(1024).fill(message.write));
        process.send({ wrote: message.write });
      } else {
        const [many] = await store.getMany(['same']);
        process.send({ get: seen(store.get('same')), getMany: seen(many) });
      }`,
    );
    const whole = (vector: Embedding | undefined) =>
      vector === undefined ? null : vector.every((value) => value === vector[0]) ? vector[0] : 'torn';
    try {
      for (let value = 1; value <= 40; value++) {
        if (value % 2 === 1) {
          // The other process reads while this one writes.
          const [read] = await Promise.all([other.answer({ read: true }), target.set('same', filled(value))]);
          for (const found of [read.get, read.getMany]) expect([value - 1, value]).toContain(found ?? 0);
        } else {
          const written = other.answer({ write: value });
          const [many] = await target.getMany(['same']);
          expect([value - 1, value]).toContain(whole(many));
          expect([value - 1, value]).toContain(whole(target.get('same')));
          expect(await written).toEqual({ wrote: value });
        }
      }
      expect(target.get('same')).toEqual(filled(40));
    } finally {
      expect(await other.end()).toBe(0);
    }
  }, 30_000);
});

/** Polls `condition` every 5 ms until it holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('degraded', () => {
  // Read by core's cacheMiddleware when it tries a store again after skipping it: a closed store answers
  // misses and skips writes, which before counted as the store being back (cache-resumed).
  it('is false for reads and writes while the file is open, and true for both once close() has begun', async () => {
    const target = store({ directory: directory() });
    expect([target.degraded('read'), target.degraded('write')]).toEqual([false, false]);
    const closing = target.close();
    expect([target.degraded('read'), target.degraded('write')]).toEqual([true, true]);
    await closing;
    expect([target.degraded('read'), target.degraded('write')]).toEqual([true, true]);
  });
});
