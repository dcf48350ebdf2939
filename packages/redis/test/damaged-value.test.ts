import { cacheMiddleware, embedMany, wrapEmbeddingModel } from '@embedkit/core';
import { hashVector, MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createRedisCacheStore } from '../src/index.js';
import { redisForTests, warningLog } from './helpers.js';

const env = redisForTests();

// Found by overwriting bytes inside stored values (SETRANGE, as another program sharing the Redis could):
// each value kept its header and length, and the damaged vector was served as the model's own.
describe('a value damaged in Redis', () => {
  it('is a miss: the model is asked again, and its own vector is returned and stored over it', async () => {
    const log = warningLog();
    const store = env.track(
      await createRedisCacheStore({ url: env.redis.url, namespace: 'damaged', onWarning: log.onWarning }),
    );
    const inner = new MockEmbeddingModel({ dimensions: 64 });
    const cacheWarnings: unknown[] = [];
    const model = wrapEmbeddingModel(
      inner,
      cacheMiddleware({ store, onWarning: (warning) => cacheWarnings.push(warning) }),
    );
    const inputs = ['alpha', 'beta', 'gamma'];
    await embedMany({ model, inputs });
    const keys = (await env.look.send(['KEYS', 'damaged:cache:*'])) as string[];
    expect(keys).toHaveLength(3);
    // One element of every value: its sign bit flipped (byte 3 of element 10).
    for (const key of keys) {
      const value = (await env.look.bytes(key))!;
      await env.look.client.sendCommand(['SETRANGE', key, '59', Buffer.from([value[59]! ^ 0x80])]);
    }
    const answer = await embedMany({ model, inputs });
    expect(inner.calls.map((call) => call.inputs)).toEqual([inputs, inputs]);
    expect(answer.embeddings).toEqual(inputs.map((input) => hashVector(input, 64)));
    // Written again: the next call is served from Redis.
    await embedMany({ model, inputs });
    expect(inner.calls).toHaveLength(2);
    expect([...log.warnings, ...cacheWarnings]).toEqual([]);
  });
});
