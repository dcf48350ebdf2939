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
