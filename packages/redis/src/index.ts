/**
 * `@embedkit/redis`: rate limits and a vector cache shared by every process of an application, on Redis
 * through node-redis. Pass `createRedisLimiterStore()` as the `store` of `createRateLimiter`, and
 * `createRedisCacheStore()` as the `store` of `cacheMiddleware`.
 */
export {
  createRedisCacheStore,
  type RedisCacheStore,
  type RedisCacheStoreOptions,
} from './redis-cache-store.js';
export type { RedisClientLike, RedisConnectionOptions, RedisStoreWarning } from './redis-connection.js';
export {
  createRedisLimiterStore,
  type RedisLimiterStore,
  type RedisLimiterStoreOptions,
} from './redis-limiter-store.js';
