import { type CacheStoreWarning, InvalidArgumentError } from '@embedkit/core';
import { BAD_CACHE_STORE_CALLS, cacheStoreRefusal } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { temporaryStores } from './helpers.js';

const { directory, store } = temporaryStores('embedkit-store-arguments-');

describe('the disk store called with arguments the CacheStore interface does not take', () => {
  // Before, get(5) was a bare TypeError, and getMany('abc') warned that the file could not be read
  // before it threw one.
  it.each(BAD_CACHE_STORE_CALLS.map((call) => [`${call.method}: ${call.message}`, call] as const))(
    '%s: the caller’s InvalidArgumentError, no warning, nothing written',
    async (_name, call) => {
      const warnings: CacheStoreWarning[] = [];
      const opened = store({ directory: directory(), onWarning: (warning) => warnings.push(warning) });
      const error = await cacheStoreRefusal(opened, call);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'invalid_argument',
        argument: call.argument,
        message: call.message,
      });
      expect(warnings).toEqual([]);
      expect(await opened.getMany(['k', '5'])).toEqual([undefined, undefined]);
    },
  );
});
