import {
  cacheMiddleware,
  createRateLimiter,
  type EmbedRequest,
  embedMany,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore, createRedisLimiterStore } from '../src/index.js';
import { redisForTests, until, warningLog } from './helpers.js';

const env = redisForTests();

const texts = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, index) => `input ${from + index}`);

describe('Redis restarts in the middle of a job', () => {
  it('the job goes on: the limiter falls back to local state and back, the cache misses, nothing is lost', async () => {
    const limiterWarnings = warningLog();
    const cacheWarnings = warningLog();
    const limiterStore = await createRedisLimiterStore({
      url: env.redis.url,
      onWarning: limiterWarnings.onWarning,
    });
    const cacheStore = await createRedisCacheStore({
      url: env.redis.url,
      onWarning: cacheWarnings.onWarning,
    });
    try {
      const rateLimit = createRateLimiter({
        requestsPerMinute: 100_000,
        tokensPerMinute: 100_000_000,
        store: limiterStore,
        key: 'account',
      });
      /** Model calls by inputs sent; in the job, the 4th call kills Redis and the 8th starts it again. */
      const sent: string[][] = [];
      let armed = false;
      const inner = new MockEmbeddingModel({
        dimensions: 16,
        capabilities: { maxInputsPerCall: 25 },
        beforeCall: async (request: EmbedRequest) => {
          sent.push(request.inputs as string[]);
          if (!armed) return;
          if (sent.length === 4) await env.redis.kill();
          if (sent.length === 8) {
            await env.redis.start();
            // Both stores reconnect in the background; the job waits here only so that the rest of it
            // shows the stores back on Redis.
            await until(async () => {
              await limiterStore.pausedUntil('probe', Date.now());
              await cacheStore.get('probe');
              return !limiterStore.usingFallback && !cacheStore.usingFallback;
            }, 'the stores to reconnect');
          }
        },
      });
      const model = wrapEmbeddingModel(inner, cacheMiddleware({ store: cacheStore }));
      // Cached before the job: inputs 0-49 (served while Redis is up) and 150-199 (asked for while it is down).
      await embedMany({ model, inputs: [...texts(0, 50), ...texts(150, 200)], concurrency: 1 });
      expect(sent).toHaveLength(4);
      sent.length = 0;
      armed = true;

      const inputs = texts(0, 300);
      const result = await embedMany({ model, inputs, rateLimit, concurrency: 1 });

      // Nothing lost: every vector, in order, exactly what the model computes.
      expect(result.embeddings).toEqual(inputs.map((text) => hashVector(text, 16)));
      // Inputs 0-49 came from the cache; call 4 (125-149) killed Redis, so the cached 150-199 were misses
      // too; call 8 (225-249) brought it back, empty.
      expect(sent).toEqual([
        texts(50, 75),
        texts(75, 100),
        texts(100, 125),
        texts(125, 150),
        texts(150, 175),
        texts(175, 200),
        texts(200, 225),
        texts(225, 250),
        texts(250, 275),
        texts(275, 300),
      ]);
      expect(limiterWarnings.codes()).toEqual(['redis-unavailable', 'redis-restored']);
      expect(cacheWarnings.codes()).toEqual(['redis-unavailable', 'redis-restored']);
      // After the restart both stores wrote to Redis again: the limiter's buckets, and the vectors of calls 8-10.
      expect(
        await env.look.send([
          'EXISTS',
          'embedkit:limiter:account:requests',
          'embedkit:limiter:account:tokens',
        ]),
      ).toBe(2);
      armed = false;
      const again = await embedMany({ model, inputs: texts(225, 300), concurrency: 1 });
      expect(again.usage).toEqual({ inputTokens: 0 });
      expect(sent).toHaveLength(10);
    } finally {
      await limiterStore.close();
      await cacheStore.close();
    }
  });
});
