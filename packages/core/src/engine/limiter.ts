/**
 * Rate limits as explicit shared state. A `RateLimiter` is an object the user creates once and shares:
 * passed to calls (`rateLimit`) or set on a provider. No call can change or clear it. Its state (token
 * buckets and the 429 pause) sits behind `LimiterStore`, a small async interface: in memory by default,
 * or shared across processes (`@embedkit/redis`).
 */

import { InvalidArgumentError } from '../errors.js';
import type { Clock } from './clock.js';
import type { WaitEvent } from './settings.js';

/** A token bucket's shape: it holds at most `capacity` and refills continuously at `perMinute`. */
export interface BucketSpec {
  capacity: number;
  perMinute: number;
}

/**
 * Where a limiter keeps its state. Every operation must be atomic for its key: a store shared by many
 * processes (Redis) runs each as one script. A bucket that does not exist yet starts full.
 */
export interface LimiterStore {
  /**
   * Refills bucket `key` up to `now`, then takes `amount` if the bucket holds `min(amount, capacity)`
   * (a request larger than the whole bucket waits for a full one and drives it negative). Returns 0 when
   * taken, otherwise how many milliseconds to wait before asking again.
   */
  take(key: string, bucket: BucketSpec, amount: number, now: number): number | Promise<number>;
  /** Adds `amount` to bucket `key` (negative charges), never above its capacity, without waiting. */
  adjust(key: string, bucket: BucketSpec, amount: number, now: number): void | Promise<void>;
  /** Raises the pause of `key` to `until` (epoch milliseconds); never lowers it. */
  pause(key: string, until: number): void | Promise<void>;
  /** The time until which `key` is paused, or 0. */
  pausedUntil(key: string): number | Promise<number>;
}

interface BucketState {
  level: number;
  updatedAt: number;
}

function refill(state: BucketState, bucket: BucketSpec, now: number): void {
  const elapsed = now - state.updatedAt;
  if (elapsed > 0) {
    state.level = Math.min(bucket.capacity, state.level + (elapsed * bucket.perMinute) / 60_000);
    state.updatedAt = now;
  }
}

/** The default store: this process's memory. */
export function createMemoryLimiterStore(): LimiterStore {
  const buckets = new Map<string, BucketState>();
  const pauses = new Map<string, number>();
  const bucketOf = (key: string, bucket: BucketSpec, now: number): BucketState => {
    let state = buckets.get(key);
    if (state === undefined) {
      state = { level: bucket.capacity, updatedAt: now };
      buckets.set(key, state);
    }
    refill(state, bucket, now);
    return state;
  };
  return {
    take(key, bucket, amount, now) {
      const state = bucketOf(key, bucket, now);
      const needed = Math.min(amount, bucket.capacity);
      if (state.level >= needed) {
        state.level -= amount;
        return 0;
      }
      return Math.max(1, Math.ceil(((needed - state.level) * 60_000) / bucket.perMinute));
    },
    adjust(key, bucket, amount, now) {
      const state = bucketOf(key, bucket, now);
      state.level = Math.min(bucket.capacity, state.level + amount);
    },
    pause(key, until) {
      if (until > (pauses.get(key) ?? 0)) pauses.set(key, until);
    },
    pausedUntil(key) {
      return pauses.get(key) ?? 0;
    },
  };
}

export interface RateLimiterOptions {
  /** Requests a minute. Default: no request limit. */
  requestsPerMinute?: number;
  /** Tokens a minute, charged with the token counter's estimate and settled with reported usage. Default: none. */
  tokensPerMinute?: number;
  /** Where the buckets and the pause live. Default: this process's memory. */
  store?: LimiterStore;
  /**
   * The name of this limit in the store. Limiters with the same key on one shared store share one budget
   * (name it after the account or API key). Default: a key unique to this limiter.
   */
  key?: string;
}

/** What one attempt asks of a limiter. */
export interface LimiterRequest {
  /** Tokens the attempt takes from the token bucket (the counter's estimate). */
  tokens: number;
  clock: Clock;
  signal?: AbortSignal;
  onWait?: (event: WaitEvent) => void;
}

/**
 * A shared limit on calls: the 429 pause every call on it honours, and optional request and token
 * budgets. The engine calls these methods; users create one with `createRateLimiter` and pass it along.
 */
export interface RateLimiter {
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  /** Waits out any 429 pause, then takes one request and `tokens` tokens from the budgets. */
  acquire(request: LimiterRequest): Promise<void>;
  /** A call reported its real usage: gives back (or charges) the difference to what `acquire` took. */
  settle(estimatedTokens: number, reportedTokens: number | undefined, now: number): Promise<void>;
  /** The API answered 429: no call on this limiter starts an attempt before `until`. */
  pause(until: number, now: number): Promise<void>;
}

const LIMITER_MARKER = Symbol.for('embedkit.rate-limiter');

/** Whether `value` is a limiter from `createRateLimiter` (of any copy of core). */
export function isRateLimiter(value: unknown): value is RateLimiter {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[LIMITER_MARKER] === true
  );
}

function checkPerMinute(value: number | undefined, name: string): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new InvalidArgumentError(`${name} must be a finite number > 0, got ${String(value)}.`, {
      argument: name,
    });
  }
}

let limiterCount = 0;

/** Spacing between calls released after a pause is at most this (a server asking for minutes refills in bulk). */
const MAX_RELEASE_SPACING_MS = 2_000;

class SharedRateLimiter implements RateLimiter {
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  private readonly store: LimiterStore;
  private readonly requestsKey: string;
  private readonly tokensKey: string;
  private readonly pauseKey: string;
  private readonly requests: BucketSpec | undefined;
  private readonly tokens: BucketSpec | undefined;
  /** When the next call released after a pause may start (this process only). */
  private releaseAt = 0;
  /** The length of the last pause: the server's own measure of how long one more call must wait. */
  private lastPauseMs = 0;

  constructor(options: RateLimiterOptions) {
    this.requestsPerMinute = options.requestsPerMinute;
    this.tokensPerMinute = options.tokensPerMinute;
    this.store = options.store ?? createMemoryLimiterStore();
    const key = options.key ?? `embedkit-limiter-${++limiterCount}`;
    this.requestsKey = `${key}:requests`;
    this.tokensKey = `${key}:tokens`;
    this.pauseKey = `${key}:pause`;
    if (this.requestsPerMinute !== undefined)
      this.requests = { capacity: this.requestsPerMinute, perMinute: this.requestsPerMinute };
    if (this.tokensPerMinute !== undefined)
      this.tokens = { capacity: this.tokensPerMinute, perMinute: this.tokensPerMinute };
  }

  async acquire(request: LimiterRequest): Promise<void> {
    const { clock, signal, onWait } = request;
    let paused = false;
    for (;;) {
      const wait = (await this.store.pausedUntil(this.pauseKey)) - clock.now();
      if (wait <= 0) break;
      paused = true;
      onWait?.({ reason: 'paused', delayMs: wait });
      await clock.sleep(wait, signal);
    }
    if (paused) {
      // Calls queued behind a pause resume one after another, spaced by the server's own wait for one
      // more call, so that they do not all fire at once and collide again.
      const now = clock.now();
      const slot = Math.max(now, this.releaseAt);
      this.releaseAt = slot + Math.min(this.lastPauseMs, MAX_RELEASE_SPACING_MS);
      if (slot > now) {
        onWait?.({ reason: 'paused', delayMs: slot - now });
        await clock.sleep(slot - now, signal);
      }
    }
    if (this.requests !== undefined) await this.takeFrom(this.requestsKey, this.requests, 1, request);
    if (this.tokens !== undefined) await this.takeFrom(this.tokensKey, this.tokens, request.tokens, request);
  }

  private async takeFrom(key: string, bucket: BucketSpec, amount: number, request: LimiterRequest) {
    for (;;) {
      const wait = await this.store.take(key, bucket, amount, request.clock.now());
      if (wait <= 0) return;
      request.onWait?.({ reason: 'rate-limit', delayMs: wait });
      await request.clock.sleep(wait, request.signal);
    }
  }

  async settle(estimatedTokens: number, reportedTokens: number | undefined, now: number): Promise<void> {
    if (reportedTokens === undefined || this.tokens === undefined) return;
    const difference = estimatedTokens - reportedTokens;
    if (difference !== 0) await this.store.adjust(this.tokensKey, this.tokens, difference, now);
  }

  async pause(until: number, now: number): Promise<void> {
    this.lastPauseMs = Math.max(0, until - now);
    await this.store.pause(this.pauseKey, until);
  }
}
Object.defineProperty(SharedRateLimiter.prototype, LIMITER_MARKER, { value: true });

/**
 * A rate limit to share: create it once and pass it as `rateLimit` to every call that draws on the same
 * budget (or set it on the provider). Without budgets it still shares the 429 pause.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createRateLimiter takes an options object.', { argument: 'options' });
  }
  checkPerMinute(options.requestsPerMinute, 'requestsPerMinute');
  checkPerMinute(options.tokensPerMinute, 'tokensPerMinute');
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
    throw new InvalidArgumentError('key must be a non-empty string.', { argument: 'key' });
  }
  return new SharedRateLimiter(options);
}

const defaults = new WeakMap<object, RateLimiter>();

/**
 * The limiter of a model that was given none: created once per model object, never reconfigured, with
 * no budgets, so every call through that model shares its 429 pauses.
 */
export function defaultLimiter(model: object): RateLimiter {
  let limiter = defaults.get(model);
  if (limiter === undefined) {
    limiter = createRateLimiter();
    defaults.set(model, limiter);
  }
  return limiter;
}

/** The limiter a call uses: its own `rateLimit`, else the model's, else the model's default. */
export function limiterFor(rateLimit: unknown, model: object & { rateLimiter?: unknown }): RateLimiter {
  if (rateLimit !== undefined) {
    if (!isRateLimiter(rateLimit)) {
      throw new InvalidArgumentError(
        'rateLimit takes a limiter made by createRateLimiter, e.g. rateLimit: createRateLimiter({ requestsPerMinute: 500 }); create it once and share it between the calls that draw on one budget.',
        { argument: 'rateLimit' },
      );
    }
    return rateLimit;
  }
  if (model.rateLimiter !== undefined) {
    if (!isRateLimiter(model.rateLimiter)) {
      throw new InvalidArgumentError('The model’s rateLimiter must be made by createRateLimiter.', {
        argument: 'model.rateLimiter',
      });
    }
    return model.rateLimiter;
  }
  return defaultLimiter(model);
}
