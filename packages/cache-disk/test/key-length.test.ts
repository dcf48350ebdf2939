import { type CacheStoreWarning, InvalidArgumentError } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-key-length-');

/** A store in a new directory whose warnings are collected in `warnings`. */
function storeWithWarnings(namespace?: string) {
  const warnings: CacheStoreWarning[] = [];
  const opened = store({
    directory: directory(),
    onWarning: (warning) => warnings.push(warning),
    ...(namespace === undefined ? {} : { namespace }),
  });
  return { opened, warnings };
}

/** What `get` throws. */
function thrownByGet(get: () => unknown): unknown {
  try {
    get();
  } catch (error) {
    return error;
  }
  return expect.unreachable('get answered; it had to throw');
}

function expectKeyRefusal(error: unknown, bytes: number): void {
  expect(InvalidArgumentError.isInstance(error)).toBe(true);
  expect(error).toMatchObject({
    code: 'invalid_argument',
    argument: 'key',
    message: `A disk cache key is at most 1978 bytes in UTF-8, the namespace and one byte after it included; this one is ${bytes}.`,
  });
}

describe('a key longer than LMDB takes (1,978 bytes)', () => {
  it('is the caller InvalidArgumentError from get, getMany and set, and no read or write failure', async () => {
    const { opened, warnings } = storeWithWarnings();
    const key = 'k'.repeat(1_979);
    expectKeyRefusal(
      thrownByGet(() => opened.get(key)),
      1_979,
    );
    expectKeyRefusal(await rejectionOf(opened.getMany(['short', key])), 1_979);
    expectKeyRefusal(await rejectionOf(opened.set(key, Float32Array.of(1, 2))), 1_979);
    expectKeyRefusal(
      await rejectionOf(
        opened.setMany([
          ['short', Float32Array.of(1, 2)],
          [key, Float32Array.of(3)],
        ]),
      ),
      1_979,
    );
    // The refused setMany wrote none of its entries.
    expect(opened.get('short')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('counts UTF-8 bytes: 989 two-byte characters are stored, 990 are refused', async () => {
    const { opened, warnings } = storeWithWarnings();
    await opened.set('é'.repeat(989), Float32Array.of(1, 2));
    expect(opened.get('é'.repeat(989))).toEqual(Float32Array.of(1, 2));
    expect(await opened.getMany(['é'.repeat(989)])).toEqual([Float32Array.of(1, 2)]);
    expectKeyRefusal(
      thrownByGet(() => opened.get('é'.repeat(990))),
      1_980,
    );
    expect(warnings).toEqual([]);
  });

  it('counts the namespace and its separator', async () => {
    const { opened, warnings } = storeWithWarnings('abc');
    await opened.set('k'.repeat(1_974), Float32Array.of(1));
    expect(opened.get('k'.repeat(1_974))).toEqual(Float32Array.of(1));
    expectKeyRefusal(await rejectionOf(opened.set('k'.repeat(1_975), Float32Array.of(1))), 1_979);
    expect(warnings).toEqual([]);
  });
});

describe('a key that holds U+0000, the end of a namespace in the file', () => {
  function expectRefusal(error: unknown, message: string): void {
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_argument', argument: 'key', message });
  }
  const NUL =
    "A disk cache key must not hold the character U+0000: it ends the namespace in the file, so such a key could read another namespace's entries.";

  it('holding U+0000 is refused by get, getMany and set: without a namespace, "a\\u0000b" was namespace "a"\'s "b"', async () => {
    const path = directory();
    const warnings: CacheStoreWarning[] = [];
    const bare = store({ directory: path, onWarning: (warning) => warnings.push(warning) });
    const named = store({ directory: path, namespace: 'a' });
    await named.set('b', Float32Array.of(1, 2));
    expectRefusal(
      thrownByGet(() => bare.get('a\u0000b')),
      NUL,
    );
    expectRefusal(await rejectionOf(bare.getMany(['a\u0000b'])), NUL);
    expectRefusal(await rejectionOf(bare.set('a\u0000b', Float32Array.of(3))), NUL);
    // Within a namespace too: namespace "a"'s "b\u0000c" was namespace "a\u0000b"'s "c".
    expectRefusal(await rejectionOf(named.set('b\u0000c', Float32Array.of(3))), NUL);
    expect(named.get('b')).toEqual(Float32Array.of(1, 2));
    expect(warnings).toEqual([]);
  });

  it('a namespace that holds U+0000 keeps its entries, apart from the namespace before it', async () => {
    const path = directory();
    const outer = store({ directory: path, namespace: 'a' });
    const inner = store({ directory: path, namespace: 'a\u0000b' });
    await inner.set('c', Float32Array.of(4));
    expect(inner.get('c')).toEqual(Float32Array.of(4));
    expect(outer.get('c')).toBeUndefined();
    expectRefusal(
      thrownByGet(() => outer.get('b\u0000c')),
      NUL,
    );
  });

  it('empty is a key like any other, with or without a namespace (LMDB stores it as one byte)', async () => {
    for (const namespace of [undefined, 'ns']) {
      const { opened, warnings } = storeWithWarnings(namespace);
      expect(opened.get('')).toBeUndefined();
      await opened.set('', Float32Array.of(5));
      expect(opened.get('')).toEqual(Float32Array.of(5));
      expect(await opened.getMany(['', '\u001b'])).toEqual([Float32Array.of(5), undefined]);
      expect(warnings).toEqual([]);
    }
  });
});
