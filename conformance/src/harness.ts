import type { Clock, EmbeddingModel } from '@embedkit/core';
import {
  createInterceptor,
  type ExpectOptions,
  type Interceptor,
  type ReplyHandler,
  type TransportKind,
} from './interceptor.js';
import type { DescribeEmbeddingProviderOptions } from './types.js';

/** A clock whose sleeps return at once and advance virtual time; every requested sleep is recorded. */
export interface FakeClock extends Clock {
  readonly sleeps: number[];
  /** Called at each sleep before it returns (e.g. to abort during a backoff). */
  onSleep?: (ms: number) => void;
}

export function createFakeClock(): FakeClock {
  let now = Date.UTC(2026, 0, 1);
  const clock: FakeClock = {
    sleeps: [],
    now: () => now,
    async sleep(ms: number, signal?: AbortSignal) {
      signal?.throwIfAborted();
      clock.sleeps.push(ms);
      clock.onSleep?.(ms);
      signal?.throwIfAborted();
      now += ms;
    },
    random: () => 0.5,
  };
  return clock;
}

/** The fake key every scenario uses; no error, log or cassette may contain it. */
export function fakeApiKey(name: string): string {
  return `test-key-${name.replace(/[^a-z0-9]/gi, '')}-3f9a1c0d7b2e4f6a8c5d`;
}

/** One scenario's world: an interceptor for one transport and a model wired to it. */
export interface Harness {
  readonly kind: TransportKind;
  readonly interceptor: Interceptor;
  readonly model: EmbeddingModel;
  readonly apiKey: string;
  readonly clock: FakeClock;
  /** Answers the next call of `inputCount` inputs at the wire's endpoint. */
  respond(inputCount: number, handler: ReplyHandler, options?: ExpectOptions): void;
  close(): Promise<void>;
}

export function createHarness(
  options: Pick<DescribeEmbeddingProviderOptions, 'name' | 'createModel' | 'baseURL' | 'modelId' | 'wire'>,
  kind: TransportKind,
  extra: { headers?: Record<string, string>; modelId?: string } = {},
): Harness {
  const origin = new URL(options.baseURL).origin;
  const interceptor = createInterceptor(kind, origin);
  const apiKey = fakeApiKey(options.name);
  const modelId = extra.modelId ?? options.modelId;
  const model = options.createModel({
    modelId,
    apiKey,
    baseURL: options.baseURL,
    ...interceptor.transport,
    ...(extra.headers === undefined ? {} : { headers: extra.headers }),
  });
  return {
    kind,
    interceptor,
    model,
    apiKey,
    clock: createFakeClock(),
    respond(inputCount, handler, expectOptions) {
      const { method, path } = options.wire.endpoint({ inputCount, modelId });
      interceptor.expect(method, path, handler, expectOptions);
    },
    close: () => interceptor.close(),
  };
}
