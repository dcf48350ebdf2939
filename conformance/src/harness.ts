import { strict as assert } from 'node:assert';
import type { Clock, EmbeddingModel } from '@embedkit/core';
import {
  createInterceptor,
  type ExpectOptions,
  type Interceptor,
  type ReplyHandler,
  type TransportKind,
} from './interceptor.js';
import type { CreateModelOptions, WireProfile } from './types.js';

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

/**
 * The fake key every scenario uses; no error, log or cassette may contain it. It holds a `/`, which JSON
 * writers may escape, so the redaction scenarios can check the escaped forms too.
 */
export function fakeApiKey(name: string): string {
  return `test-key-${name.replace(/[^a-z0-9]/gi, '')}/3f9a1c0d7b2e4f6a8c5d`;
}

/** What a world needs to build its model: the provider's factory and where its API lives. */
export interface WorldOptions<M> {
  name: string;
  baseURL: string;
  modelId: string;
  createModel(options: CreateModelOptions): M;
}

/**
 * How one scenario's world differs from the usual one: another model id, headers for the provider, or
 * another base URL (the API behind a gateway), under which the world expects every request.
 */
export interface WorldVariant {
  headers?: Record<string, string>;
  modelId?: string;
  baseURL?: string;
}

/** A base URL's path without its trailing slashes: `/v1` for `https://api.acme.test/v1/`, '' for a bare origin. */
export function basePath(baseURL: string): string {
  return new URL(baseURL).pathname.replace(/\/+$/, '');
}

/**
 * Where a request to `path` (under `from`, the API's own base URL) goes when the provider is given `to`:
 * the endpoint path after the original base path, under the new one. Undefined when `path` is not under
 * the original base path, so the API's place cannot be moved by the base URL.
 */
export function rebasedPath(path: string, from: string, to: string): string | undefined {
  const original = basePath(from);
  if (!(path === original || path.startsWith(`${original}/`) || path.startsWith(`${original}?`)))
    return undefined;
  return `${basePath(to)}${path.slice(original.length)}`;
}

/** One scenario's world: an interceptor for one transport, a model (or jobs client) wired to it, a clock. */
export interface World<M> {
  readonly kind: TransportKind;
  readonly interceptor: Interceptor;
  readonly model: M;
  readonly apiKey: string;
  readonly clock: FakeClock;
}

/**
 * The model of a world, built by the provider's factory: `modelId` (the scenario's unless given), at the
 * world's base URL, with its key, its transport and its headers. A second model of the same world is
 * built the same way, so that it differs from the first by its id alone.
 */
function buildModel<M>(
  options: WorldOptions<M>,
  extra: WorldVariant,
  apiKey: string,
  interceptor: Interceptor,
  modelId: string = extra.modelId ?? options.modelId,
): M {
  return options.createModel({
    modelId,
    apiKey,
    baseURL: extra.baseURL ?? options.baseURL,
    ...interceptor.transport,
    // A copy for each model: a provider that changes the object it was given (merging a call's headers
    // into it) must not carry that into the scenarios after it, which give the same headers.
    ...(extra.headers === undefined ? {} : { headers: { ...extra.headers } }),
  });
}

/** A fresh world for one transport; `close` it when done. */
export function createWorld<M>(
  options: WorldOptions<M>,
  kind: TransportKind,
  extra: WorldVariant = {},
): World<M> & { close(): Promise<void> } {
  const apiKey = fakeApiKey(options.name);
  const baseURL = extra.baseURL ?? options.baseURL;
  const interceptor = createInterceptor(kind, new URL(baseURL).origin, apiKey);
  if (baseURL !== options.baseURL) {
    // Every expectation of the scenario moves with the base URL.
    const expect = interceptor.expect.bind(interceptor);
    interceptor.expect = (method, path, handler, expectOptions) => {
      const moved = rebasedPath(path, options.baseURL, baseURL);
      if (moved === undefined)
        throw new Error(`conformance suite: ${path} is not under the base URL ${options.baseURL}`);
      expect(method, moved, handler, expectOptions);
    };
  }
  let model: M;
  try {
    model = buildModel(options, extra, apiKey, interceptor);
  } catch (error) {
    // The world never opens: give the network back.
    void interceptor.close();
    throw error;
  }
  return { kind, interceptor, model, apiKey, clock: createFakeClock(), close: () => interceptor.close() };
}

/**
 * Fails with what went wrong on the wire, which is the real cause of whatever the call then did: a
 * request that left by another way than the transport given to the model, a request no expectation
 * answers (the mocks report it to the provider as a network error), or a throwing reply handler. They
 * are read once every request sent has been answered or refused, so that one the provider did not wait
 * for is counted. Generated scenarios and cassette replays both check this before the call's outcome.
 */
export async function expectWireKept(interceptor: Interceptor): Promise<void> {
  await interceptor.settled();
  const escaped = interceptor.escaped();
  if (escaped !== undefined) assert.fail(escaped);
  // A reply the suite could not make (its wire could not read the request) comes first: the provider was
  // answered a 599 for it, and the requests it sent again after that are not the fault.
  if (interceptor.handlerErrors.length > 0) throw interceptor.handlerErrors[0];
  const unexpected = interceptor.unexpected();
  if (unexpected !== undefined) assert.fail(unexpected);
}

/**
 * Runs `body` in `world` and closes it. What went wrong on the wire fails the scenario first
 * (`expectWireKept`); an expected request that never came fails it too.
 */
export async function runInWorld<W extends World<unknown>>(
  world: W & { close(): Promise<void> },
  body: (world: W) => Promise<void>,
): Promise<void> {
  try {
    const outcome = await body(world).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    await expectWireKept(world.interceptor);
    if (outcome !== undefined) throw outcome.error;
    assert.deepEqual(world.interceptor.pending(), [], 'every expected request was made');
  } finally {
    await world.close();
  }
}

/** An embeddings world: a model wired to the interceptor, and a way to answer the next call. */
export interface Harness extends World<EmbeddingModel> {
  /** Answers the next call of `inputCount` inputs at the wire's endpoint. */
  respond(inputCount: number, handler: ReplyHandler, options?: ExpectOptions): void;
  /** The same world with a model of another id (same key, transport and headers), answered at its endpoint. */
  withModel(modelId: string): Harness;
  close(): Promise<void>;
}

export function createHarness(
  options: WorldOptions<EmbeddingModel> & { wire: WireProfile },
  kind: TransportKind,
  extra: WorldVariant = {},
): Harness {
  const world = createWorld(options, kind, extra);
  const answer =
    (modelId: string): Harness['respond'] =>
    (inputCount, handler, expectOptions) => {
      const { method, path } = options.wire.endpoint({ inputCount, modelId });
      world.interceptor.expect(method, path, handler, expectOptions);
    };
  return {
    ...world,
    respond: answer(extra.modelId ?? options.modelId),
    withModel(modelId) {
      const model = buildModel(options, extra, world.apiKey, world.interceptor, modelId);
      return { ...this, model, respond: answer(modelId) };
    },
  };
}
