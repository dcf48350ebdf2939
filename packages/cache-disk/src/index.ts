/**
 * `@embedkit/cache-disk`: a persistent embedding cache on disk (LMDB), the one-machine default. Native
 * code lives here so that `@embedkit/core` stays pure JavaScript.
 */
export {
  DISK_CACHE_FILE,
  type DiskCacheStore,
  type DiskCacheStoreOptions,
  type DiskCacheStoreWarning,
  openDiskCacheStore,
} from './disk-cache-store.js';
