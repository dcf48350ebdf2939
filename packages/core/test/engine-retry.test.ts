import { describe, expect, it } from 'vitest';
import { embed, embedMany } from '../src/engine/embed.js';
import type { RetryEvent } from '../src/engine/settings.js';
import {
  AuthenticationError,
  ConnectionError,
  EmbedKitError,
  InvalidRequestError,
  InvalidResponseError,
  RateLimitError,
  RetryError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';
import { requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import type { EmbeddingModel, EmbedRequest, EmbedResponse } from '../src/types.js';
import {
  BASE_CAPABILITIES,
  numberedInputs,
  rejection,
  ScriptedModel,
  until,
  VirtualClock,
  vectorFor,
  waitForAbort,
} from './helpers.js';

/** A model that fails its first `failures` calls with `makeError()`, then answers. */
function flaky(failures: number, makeError: () => unknown, clock?: VirtualClock) {
  return new ScriptedModel({
    ...(clock === undefined ? {} : { clock }),
    respond: (call) => {
      if (call.number <= failures) throw makeError();
      return undefined;
    },
  });
}

describe('retries', () => {
  it('retries a 5xx and succeeds', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = flaky(2, () => new ServerError('busy', { statusCode: 503 }), clock);
    const result = await embedMany({ model, inputs: ['1'], clock });
    expect(model.calls).toHaveLength(3);
    expect(result.embeddings).toEqual([vectorFor('1')]);
  });

  it('a 5xx every time: maxRetries + 1 calls, then RetryError whose last error is the ServerError', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const errors: ServerError[] = [];
    const model = flaky(
      Number.POSITIVE_INFINITY,
      () => {
        const error = new ServerError(`busy ${errors.length + 1}`, { statusCode: 503, provider: 'scripted' });
        errors.push(error);
        return error;
      },
      clock,
    );
    const error = await rejection(embedMany({ model, inputs: ['1'], clock, maxRetries: 3 }));
    expect(RetryError.isInstance(error)).toBe(true);
    const retry = error as RetryError;
    expect(retry.attempts).toBe(4);
    expect(model.calls).toHaveLength(4);
    expect(retry.errors).toEqual(errors);
    expect(retry.lastError).toBe(errors[3]);
    expect(ServerError.isInstance(retry.lastError)).toBe(true);
    expect(retry.statusCode).toBe(503);
    expect(retry.message).toContain('busy 4');
    expect(clock.sleeps).toHaveLength(3);
  });

  it('defaults to 3 retries', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = flaky(Number.POSITIVE_INFINITY, () => new ServerError('busy'), clock);
    const error = await rejection(embedMany({ model, inputs: ['1'], clock }));
    expect((error as RetryError).attempts).toBe(4);
  });

  it('a non-retryable error (401) is thrown as itself after exactly one call', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const failure = new AuthenticationError('bad key', { statusCode: 401 });
    const model = flaky(Number.POSITIVE_INFINITY, () => failure, clock);
    await expect(embedMany({ model, inputs: ['1'], clock })).rejects.toBe(failure);
    expect(model.calls).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(0);
  });

  it('maxRetries 0 with a 503 throws the ServerError itself, not a RetryError', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const failure = new ServerError('busy', { statusCode: 503 });
    const model = flaky(Number.POSITIVE_INFINITY, () => failure, clock);
    await expect(embedMany({ model, inputs: ['1'], clock, maxRetries: 0 })).rejects.toBe(failure);
    expect(model.calls).toHaveLength(1);
  });

  it('a retryable error followed by a non-retryable one throws the latter as itself', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const auth = new AuthenticationError('revoked');
    const model = new ScriptedModel({
      respond: (call) => {
        throw call.number === 1 ? new ServerError('busy') : auth;
      },
    });
    await expect(embedMany({ model, inputs: ['1'], clock })).rejects.toBe(auth);
    expect(model.calls).toHaveLength(2);
  });

  it.each([
    ['408 TimeoutError', () => new TimeoutError('408', { statusCode: 408 })],
    ['409 conflict', () => new InvalidRequestError('409', { statusCode: 409, isRetryable: true })],
    ['429 RateLimitError', () => new RateLimitError('429', { statusCode: 429 })],
    ['ConnectionError', () => new ConnectionError('ECONNRESET')],
  ])('%s is retried', async (_label, makeError) => {
    const clock = new VirtualClock({ random: [0.1] });
    const model = flaky(1, makeError, clock);
    await embedMany({ model, inputs: ['1'], clock });
    expect(model.calls).toHaveLength(2);
  });

  it.each([
    [
      'a 429 with the quota exhausted',
      () => new RateLimitError('quota', { statusCode: 429, quotaExhausted: true }),
    ],
    ['400', () => new InvalidRequestError('bad', { statusCode: 400 })],
    ['an InvalidResponseError', () => new InvalidResponseError('garbage')],
    ['a plain Error (a provider bug)', () => new TypeError('cannot read properties of undefined')],
  ])('%s is not retried and is thrown as itself', async (_label, makeError) => {
    const clock = new VirtualClock({ random: [0.1] });
    const failure = makeError();
    const model = flaky(1, () => failure, clock);
    await expect(embedMany({ model, inputs: ['1'], clock })).rejects.toBe(failure);
    expect(model.calls).toHaveLength(1);
  });

  it('retries each call of a job independently', async () => {
    const clock = new VirtualClock({ random: [0] });
    const failedOnce = new Set<string>();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => {
        const input = call.inputs[0]!;
        if (!failedOnce.has(input)) {
          failedOnce.add(input);
          throw new ServerError(`busy ${input}`);
        }
        return undefined;
      },
    });
    const result = await embedMany({ model, inputs: numberedInputs(3), clock, concurrency: 1 });
    expect(model.calls.map((call) => call.inputs[0])).toEqual(['0', '0', '1', '1', '2', '2']);
    expect(result.embeddings).toEqual(numberedInputs(3).map(vectorFor));
  });
});

describe('backoff', () => {
  it('is full jitter: random x 500 x 2^n ms', async () => {
    const clock = new VirtualClock({ random: [0.25, 0.5, 0.75] });
    const model = flaky(3, () => new ServerError('busy'), clock);
    const events: RetryEvent[] = [];
    await embedMany({ model, inputs: ['1'], clock, onRetry: (event) => events.push(event) });
    expect(clock.sleepDurations).toEqual([125, 500, 1_500]);
    expect(events.map((event) => [event.attempt, event.delayMs])).toEqual([
      [1, 125],
      [2, 500],
      [3, 1_500],
    ]);
    expect(ServerError.isInstance(events[0]!.error)).toBe(true);
    // The retries happen after the sleeps, at the virtual times they ended.
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 125, 625, 2_125]);
  });

  it('never exceeds 500 x 2^n, reaching it as random approaches 1', async () => {
    const clock = new VirtualClock({ random: [0.9999] });
    const model = flaky(5, () => new ServerError('busy'), clock);
    await embedMany({ model, inputs: ['1'], clock, maxRetries: 5 });
    // Math.round(0.9999 x 500 x 2^n)
    expect(clock.sleepDurations).toEqual([500, 1_000, 2_000, 4_000, 7_999]);
    for (const [attempt, delay] of clock.sleepDurations.entries())
      expect(delay).toBeLessThanOrEqual(500 * 2 ** attempt);
  });

  it('is capped by maxRetryDelayMs', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = flaky(4, () => new ServerError('busy'), clock);
    await embedMany({ model, inputs: ['1'], clock, maxRetries: 4, maxRetryDelayMs: 800 });
    expect(clock.sleepDurations).toEqual([250, 400, 400, 400]);
  });

  it('can be zero (random 0)', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = flaky(2, () => new ServerError('busy'), clock);
    await embedMany({ model, inputs: ['1'], clock });
    expect(clock.sleepDurations).toEqual([0, 0]);
  });
});

describe('retry hints', () => {
  it('a Retry-After hint is waited exactly, without jitter', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = flaky(2, () => new ServerError('busy', { retryAfterMs: 1_234 }), clock);
    await embedMany({ model, inputs: ['1'], clock });
    expect(clock.sleepDurations).toEqual([1_234, 1_234]);
    expect(clock.randomCalls).toBe(0);
    expect(model.calls.map((call) => call.startedAt)).toEqual([0, 1_234, 2_468]);
  });

  it('a hint of 0 retries at once', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = flaky(1, () => new RateLimitError('slow down', { retryAfterMs: 0 }), clock);
    await embedMany({ model, inputs: ['1'], clock });
    expect(model.calls).toHaveLength(2);
    expect(clock.sleepDurations).toEqual([]);
  });

  it('a hint is capped by maxRetryDelayMs (default 60 s)', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = flaky(1, () => new RateLimitError('slow down', { retryAfterMs: 90_000 }), clock);
    await embedMany({ model, inputs: ['1'], clock });
    expect(clock.sleepDurations).toEqual([60_000]);

    // 12 s under a 5 s cap: three retries of 5 s reach it (a wait they cannot reach fails at once).
    const capped = new VirtualClock({ random: [0.5] });
    const other = flaky(1, () => new RateLimitError('slow down', { retryAfterMs: 12_000 }), capped);
    await embedMany({ model: other, inputs: ['1'], clock: capped, maxRetryDelayMs: 5_000 });
    expect(capped.sleepDurations).toEqual([5_000]);
  });

  it('a retry-after header sent by the API reaches the engine through requestJson', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    let answers = 0;
    const transport = createFetchTransport(async () => {
      answers++;
      if (answers === 1)
        return new Response('{"error":"slow down"}', { status: 429, headers: { 'retry-after': '3' } });
      return new Response(JSON.stringify({ vectors: [[1, 2]] }), { status: 200 });
    });
    const model: EmbeddingModel = {
      specificationVersion: 'v1',
      provider: 'http',
      modelId: 'm',
      capabilities: BASE_CAPABILITIES,
      async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const response = await requestJson({
          transport,
          provider: 'http',
          url: 'https://api.test/embed',
          body: { input: request.inputs },
        });
        const vectors = (response.body as { vectors: number[][] }).vectors.map((vector) =>
          Float32Array.from(vector),
        );
        return {
          embeddings: vectors,
          warnings: [],
          response: { status: response.status, headers: response.headers },
        };
      },
    };
    const result = await embedMany({ model, inputs: ['a'], clock });
    expect(clock.sleepDurations).toEqual([3_000]);
    expect(result.embeddings).toEqual([Float32Array.of(1, 2)]);
  });
});

describe('the hint of an error the engine would retry', () => {
  /** A model whose every call the API answers `status`, read through requestJson as a provider does. */
  function answering(status: number): EmbeddingModel {
    // A `$&` in the API's message must reach the stack as it is.
    const transport = createFetchTransport(
      async () => new Response('{"error":{"message":"boom $& $1"}}', { status }),
    );
    return {
      specificationVersion: 'v1',
      provider: 'http',
      modelId: 'm',
      capabilities: BASE_CAPABILITIES,
      async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        await requestJson({
          transport,
          provider: 'http',
          url: 'https://api.test/embed',
          body: { input: request.inputs },
        });
        throw new Error('unreachable');
      },
    };
  }

  it('with maxRetries 0 says that no retry was made (bug: "the engine retries these" after none)', async () => {
    for (const [status, check] of [
      [500, ServerError.isInstance],
      [429, RateLimitError.isInstance],
    ] as const) {
      const error = await rejection(embedMany({ model: answering(status), inputs: ['a'], maxRetries: 0 }));
      expect(check(error), String(status)).toBe(true);
      const message = (error as Error).message;
      expect(message, String(status)).toMatch(
        /; retries are turned off \(maxRetries 0\), so none was made\.$/,
      );
      expect(message).not.toContain('the engine retries');
      expect((error as Error).stack).toContain(message);
    }
  });

  it('after retries, the last error says every retry failed and what to do, not that the engine retries these', async () => {
    const clock = new VirtualClock({ random: [0] });
    const error = await rejection(embedMany({ model: answering(500), inputs: ['a'], maxRetries: 1, clock }));
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).message).toMatch(
      /; every retry failed: try again later, or raise maxRetries\.$/,
    );
  });
});

describe('timeouts', () => {
  it('an attempt that outlives timeoutMs gets its signal aborted with a TimeoutError and is retried', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = new ScriptedModel({
      respond: (call) => (call.number === 1 ? waitForAbort(call.request.signal) : undefined),
    });
    const result = await embedMany({ model, inputs: ['1'], clock, timeoutMs: 20 });
    expect(model.calls).toHaveLength(2);
    const firstSignal = model.calls[0]!.request.signal!;
    expect(firstSignal.aborted).toBe(true);
    expect(TimeoutError.isInstance(firstSignal.reason)).toBe(true);
    expect(model.calls[1]!.request.signal!.aborted).toBe(false);
    expect(result.embeddings).toEqual([vectorFor('1')]);
  });

  it('every attempt timing out ends in a RetryError of TimeoutErrors', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = new ScriptedModel({ respond: (call) => waitForAbort(call.request.signal) });
    const error = await rejection(embedMany({ model, inputs: ['1'], clock, timeoutMs: 15, maxRetries: 1 }));
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).attempts).toBe(2);
    expect(TimeoutError.isInstance((error as RetryError).lastError)).toBe(true);
    expect((error as RetryError).message).toContain('15 ms');
  });

  it('a provider that fails with its own non-embedkit error on timeout still yields a TimeoutError', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = new ScriptedModel({
      respond: async (call) => {
        await waitForAbort(call.request.signal).catch(() => undefined);
        throw new TypeError('terminated');
      },
    });
    const error = await rejection(embedMany({ model, inputs: ['1'], clock, timeoutMs: 15, maxRetries: 0 }));
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).isRetryable).toBe(true);
  });
});

describe('abort', () => {
  function expectNativeAbort(error: unknown) {
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(EmbedKitError.isInstance(error)).toBe(false);
  }

  it('during a call: re-throws the native AbortError, aborts the call’s signal and starts no further call', async () => {
    const clock = new VirtualClock({ random: [0] });
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: (call) => waitForAbort(call.request.signal),
    });
    const controller = new AbortController();
    const pending = rejection(
      embedMany({ model, inputs: numberedInputs(3), clock, concurrency: 1, signal: controller.signal }),
    );
    await until(() => model.calls.length === 1, 'the first call');
    controller.abort();
    expectNativeAbort(await pending);
    expect(model.calls[0]!.request.signal!.aborted).toBe(true);
    expect(model.calls).toHaveLength(1);
  });

  it('during a call, even if the provider answers the abort with its own error', async () => {
    const model = new ScriptedModel({
      respond: async (call) => {
        await waitForAbort(call.request.signal).catch(() => undefined);
        throw new ConnectionError('socket closed');
      },
    });
    const clock = new VirtualClock({ random: [0.5] });
    const retries: RetryEvent[] = [];
    const controller = new AbortController();
    const pending = rejection(
      embedMany({
        model,
        inputs: ['1'],
        clock,
        signal: controller.signal,
        onRetry: (event) => retries.push(event),
      }),
    );
    await until(() => model.calls.length === 1, 'the call');
    controller.abort();
    expectNativeAbort(await pending);
    expect(model.calls).toHaveLength(1);
    // The provider's ConnectionError after the abort is not treated as a failure to retry.
    expect(retries).toEqual([]);
    expect(clock.sleeps).toEqual([]);
  });

  it('during a backoff sleep: re-throws the native AbortError at once and makes no further call', async () => {
    const clock = new VirtualClock({ random: [0.5], autoAdvance: false });
    const model = flaky(Number.POSITIVE_INFINITY, () => new ServerError('busy'), clock);
    const controller = new AbortController();
    const pending = rejection(embedMany({ model, inputs: ['1'], clock, signal: controller.signal }));
    await until(() => clock.sleeps.length === 1, 'the backoff sleep');
    controller.abort();
    expectNativeAbort(await pending);
    expect(model.calls).toHaveLength(1);
  });

  it('keeps a custom abort reason as is', async () => {
    const clock = new VirtualClock({ random: [0.5], autoAdvance: false });
    const model = flaky(Number.POSITIVE_INFINITY, () => new ServerError('busy'), clock);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = embedMany({ model, inputs: ['1'], clock, signal: controller.signal });
    await until(() => clock.sleeps.length === 1, 'the backoff sleep');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('an already aborted signal makes no call', async () => {
    const model = new ScriptedModel();
    const controller = new AbortController();
    controller.abort();
    expectNativeAbort(await rejection(embedMany({ model, inputs: ['1'], signal: controller.signal })));
    expectNativeAbort(await rejection(embed({ model, input: '1', signal: controller.signal })));
    expect(model.calls).toHaveLength(0);
  });

  it('the abort is never retried and never wrapped in a RetryError', async () => {
    const clock = new VirtualClock({ random: [0] });
    const controller = new AbortController();
    const model = new ScriptedModel({
      respond: (call) => {
        if (call.number === 1) throw new ServerError('busy');
        controller.abort();
        return waitForAbort(call.request.signal);
      },
    });
    expectNativeAbort(await rejection(embedMany({ model, inputs: ['1'], clock, signal: controller.signal })));
    expect(model.calls).toHaveLength(2);
  });
});

describe('a model that ignores its signal', () => {
  /** Never answers and never looks at the signal it is given, as a careless third-party provider might. */
  const deaf = () => new ScriptedModel({ respond: () => new Promise<never>(() => {}) });

  it('still ends at timeoutMs, retried as a timeout', async () => {
    const model = deaf();
    const error = await embedMany({
      model,
      inputs: ['a'],
      timeoutMs: 50,
      maxRetries: 1,
      maxRetryDelayMs: 1,
    }).catch((caught) => caught);
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).errors.map((each) => (each as Error).name)).toEqual([
      'TimeoutError',
      'TimeoutError',
    ]);
    expect(model.calls).toHaveLength(2);
  });

  it('still ends at the caller’s abort, with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    setTimeout(() => controller.abort(reason), 20);
    const error = await embed({ model: deaf(), input: 'a', signal: controller.signal }).catch(
      (caught) => caught,
    );
    expect(error).toBe(reason);
  });
});
