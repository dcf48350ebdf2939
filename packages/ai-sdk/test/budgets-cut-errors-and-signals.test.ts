/**
 * What core settles reaches users through both adapters: a tokensPerMinute budget caps each call, a
 * model's optional capabilities are carried, a 429 whose body is cut short keeps its class and wait with
 * one request per attempt, a finished call leaves no abort listener on the caller's signal, and a thrown
 * object quoting a key is redacted into an object of its own kind.
 */
import { getEventListeners } from 'node:events';
import { inspect, types } from 'node:util';
import { runInNewContext } from 'node:vm';
import { createOpenAI as createAISDKOpenAI } from '@ai-sdk/openai';
import { createFakeClock } from '@embedkit/conformance';
import {
  createRateLimiter,
  embedMany as embedkitEmbedMany,
  InvalidArgumentError,
  type TokenCounter,
} from '@embedkit/core';
import { MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { embedMany } from 'ai';
import { describe, expect, it } from 'vitest';
import { fromAISDK, toAISDK } from '../src/index.js';
import { handMade } from './hand-made-model.js';
import {
  cutRateLimitMessage,
  expectCutRateLimit,
  expectRetriedCutRateLimit,
  startCutRateLimitServer,
} from './loopback-openai.js';

const KEY = 'sk-fake-not-a-real-key-abc';

/** A token a character, said to be exact. */
const exactCharacters: TokenCounter = {
  exact: true,
  count: (input) => (typeof input === 'string' ? input.length : 0),
};

const OVER_BUDGET =
  "Input 0 has 11 tokens, more than the rate limit's budget of 10 tokens per minute: no request can carry it. Split it, or raise tokensPerMinute.";

/** An AI SDK model that answers every value with [1, 0] and records the values of each call. */
function answeringModel() {
  return handMade(async (options) => ({ embeddings: options.values.map(() => [1, 0]), warnings: [] }));
}

describe('a tokensPerMinute budget given to an adapter', () => {
  it('caps each call toAISDK makes at the budget, and refuses an input over it counted exactly', async () => {
    const model = new MockEmbeddingModel({ dimensions: 2 });
    const settings = { tokenCounter: exactCharacters, clock: createFakeClock() };
    const result = await embedMany({
      model: toAISDK(model, { ...settings, rateLimit: createRateLimiter({ tokensPerMinute: 10 }) }),
      values: ['aaaa', 'bbbb', 'cccc'],
    });
    expect(result.embeddings).toHaveLength(3);
    expect(model.calls.map((call) => call.inputs)).toStrictEqual([['aaaa', 'bbbb'], ['cccc']]);

    const error = await rejectionOf(
      embedMany({
        model: toAISDK(model, { ...settings, rateLimit: createRateLimiter({ tokensPerMinute: 10 }) }),
        values: ['a'.repeat(11)],
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(OVER_BUDGET);
    expect(model.calls).toHaveLength(2);
  });

  it('caps each call of a fromAISDK model drawing on the limiter of its rateLimit option', async () => {
    const aiModel = answeringModel();
    const model = fromAISDK(
      aiModel,
      { defaultDimensions: 2 },
      { rateLimit: createRateLimiter({ tokensPerMinute: 10 }) },
    );
    const settings = { tokenCounter: exactCharacters, clock: createFakeClock() };
    await embedkitEmbedMany({ ...settings, model, inputs: ['aaaa', 'bbbb', 'cccc'] });
    expect(aiModel.calls.map((call) => call.values)).toStrictEqual([['aaaa', 'bbbb'], ['cccc']]);

    const error = await rejectionOf(embedkitEmbedMany({ ...settings, model, inputs: ['a'.repeat(11)] }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(OVER_BUDGET);
    expect(aiModel.calls).toHaveLength(2);
  });
});

describe('the optional capabilities fromAISDK is given', () => {
  it('keeps outputTypeAlternatives, so the refusal of an output type names the other models', async () => {
    const model = fromAISDK(answeringModel(), {
      defaultDimensions: 2,
      outputTypeAlternatives: { int8: ['acme-embed-2'] },
    });
    expect(model.capabilities.outputTypeAlternatives).toStrictEqual({ int8: ['acme-embed-2'] });
    const error = await rejectionOf(embedkitEmbedMany({ model, inputs: ['a'], outputType: 'int8' }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('outputType');
    expect(error.message).toBe(
      'acme model acme-embed-1 cannot return int8 vectors; it supports float. For int8 vectors use acme-embed-2.',
    );
  });

  it('refuses a capability name core does not know, naming the one meant', () => {
    let refusal: unknown;
    try {
      fromAISDK(answeringModel(), { outputTypeAlternative: { int8: ['acme-embed-2'] } } as never);
    } catch (error) {
      refusal = error;
    }
    expect(InvalidArgumentError.isInstance(refusal)).toBe(true);
    expect((refusal as InvalidArgumentError).code).toBe('invalid_argument');
    expect((refusal as InvalidArgumentError).message).toBe(
      'fromAISDK capabilities has no capability outputTypeAlternative; did you mean outputTypeAlternatives?',
    );
  });
});

describe('a 429 whose body is cut short', () => {
  it('reaches the AI SDK through toAISDK as a RateLimitError with its wait, sent once per attempt', async () => {
    const server = await startCutRateLimitServer();
    try {
      const model = createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).embedding(
        'text-embedding-3-small',
      );
      const error = await rejectionOf(
        embedMany({ model: toAISDK(model, { maxRetries: 0 }), values: ['x'], maxRetries: 2 }),
      );
      expectCutRateLimit(error);
      expect(error.message).toBe(cutRateLimitMessage('UND_ERR_SOCKET other side closed'));
      // The AI SDK's own maxRetries (2) adds nothing to embedkit's.
      expect(server.requests()).toBe(1);

      const retried = await rejectionOf(
        embedMany({
          model: toAISDK(model, { maxRetries: 1, clock: createFakeClock() }),
          values: ['x'],
          maxRetries: 2,
        }),
      );
      expectRetriedCutRateLimit(retried, server.requests());
    } finally {
      await server.close();
    }
  });

  it('from an AI SDK provider through fromAISDK is a RateLimitError with its wait, one request per attempt', async () => {
    const server = await startCutRateLimitServer();
    try {
      const openai = createAISDKOpenAI({ apiKey: KEY, baseURL: server.baseURL });
      const model = fromAISDK(openai.embedding('text-embedding-3-small'));
      const error = await rejectionOf(embedkitEmbedMany({ model, inputs: ['x'], maxRetries: 0 }));
      expectCutRateLimit(error);
      // In core's words for a body that could not be read, as from embedkit's own provider: not "empty".
      expect(error.message).toBe(cutRateLimitMessage('terminated: UND_ERR_SOCKET other side closed'));
      expect(server.requests()).toBe(1);

      const retried = await rejectionOf(
        embedkitEmbedMany({ model, inputs: ['x'], maxRetries: 1, clock: createFakeClock() }),
      );
      expectRetriedCutRateLimit(retried, server.requests());
    } finally {
      await server.close();
    }
  });
});

describe("the caller's abort signal after a call ends", () => {
  it("has no listener left by the AI SDK's embedMany over toAISDK, in chunks or not", async () => {
    const model = new MockEmbeddingModel({ dimensions: 2 });
    for (const maxEmbeddingsPerCall of [2, Number.POSITIVE_INFINITY]) {
      const controller = new AbortController();
      const result = await embedMany({
        model: toAISDK(model, { maxEmbeddingsPerCall, concurrency: 1 }),
        values: ['a', 'b', 'c', 'd', 'e'],
        abortSignal: controller.signal,
      });
      expect(result.embeddings).toHaveLength(5);
      expect(getEventListeners(controller.signal, 'abort')).toStrictEqual([]);
    }
  });

  it('has no listener left by embedkit over fromAISDK, through an AI SDK provider that fetches', async () => {
    const openai = createAISDKOpenAI({
      apiKey: KEY,
      fetch: async () =>
        new Response(
          JSON.stringify({ data: [{ embedding: [1, 0], index: 0 }], usage: { prompt_tokens: 1 } }),
          { headers: { 'content-type': 'application/json' } },
        ),
    });
    const controller = new AbortController();
    const result = await embedkitEmbedMany({
      model: fromAISDK(openai.embedding('text-embedding-3-small')),
      inputs: ['a'],
      signal: controller.signal,
    });
    expect(result.embeddings).toHaveLength(1);
    expect(getEventListeners(controller.signal, 'abort')).toStrictEqual([]);
  });
});

describe('an object thrown by an AI SDK model that quotes a key', () => {
  it('is redacted into a plain object whose message still shows when printed', async () => {
    const thrown = { message: `the key ${KEY} was refused`, status: 401 };
    const model = handMade(async () => {
      throw thrown;
    });
    const error = await rejectionOf(
      embedkitEmbedMany({ model: fromAISDK(model, {}, { secrets: [KEY] }), inputs: ['x'] }),
    );
    expect(error).not.toBe(thrown);
    expect(Object.getPrototypeOf(error)).toBe(Object.prototype);
    expect(types.isNativeError(error)).toBe(false);
    expect(inspect(error)).toBe("{ message: 'the key [REDACTED] was refused', status: 401 }");
    expect(JSON.stringify(error)).toBe('{"message":"the key [REDACTED] was refused","status":401}');
    expect(thrown.message).toBe(`the key ${KEY} was refused`);
  });

  it('keeps an error of another realm an error, its message shown when printed', async () => {
    const thrown = runInNewContext(`new TypeError('the key ${KEY} was refused')`) as Error;
    const model = handMade(async () => {
      throw thrown;
    });
    const error = await rejectionOf(
      embedkitEmbedMany({ model: fromAISDK(model, {}, { secrets: [KEY] }), inputs: ['x'] }),
    );
    expect(types.isNativeError(error)).toBe(true);
    expect(Object.getPrototypeOf(error)).toBe(Object.getPrototypeOf(thrown));
    expect(inspect(error).split('\n')[0]).toBe('TypeError: the key [REDACTED] was refused');
  });

  it('keeps the class of an object that is not an error, without making it one', async () => {
    class Refusal {
      readonly message = `the key ${KEY} was refused`;
      readonly reason = 'unauthorized';
    }
    const model = handMade(async () => {
      throw new Refusal();
    });
    const error = await rejectionOf(
      embedkitEmbedMany({ model: fromAISDK(model, {}, { secrets: [KEY] }), inputs: ['x'] }),
    );
    expect(error).toBeInstanceOf(Refusal);
    expect(types.isNativeError(error)).toBe(false);
    expect(JSON.stringify(error)).toBe(
      '{"message":"the key [REDACTED] was refused","reason":"unauthorized"}',
    );
  });
});
