import { InvalidArgumentError } from '../errors.js';
import type { EmbeddingModel } from '../types.js';
import type { Clock } from './clock.js';
import type { WaitEvent } from './settings.js';

/** Client-side limits, per model object: every call made through the same model shares them. */
export interface RateLimit {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** A token bucket refilled continuously at `perMinute / 60,000` per millisecond, starting full. */
class TokenBucket {
  private available: number;
  private updatedAt: number;
  constructor(
    readonly perMinute: number,
    now: number,
  ) {
    this.available = perMinute;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.available = Math.min(this.perMinute, this.available + (elapsed * this.perMinute) / 60_000);
      this.updatedAt = now;
    }
  }

  /** Corrects the level by `amount` without waiting: positive gives back (never above a full bucket), negative charges. */
  adjust(amount: number): void {
    this.available = Math.min(this.perMinute, this.available + amount);
  }

  /** Waits until `amount` can be taken. A request larger than the whole bucket waits for a full bucket and drives it negative. */
  async take(
    amount: number,
    clock: Clock,
    signal?: AbortSignal,
    onWait?: (event: WaitEvent) => void,
  ): Promise<void> {
    const needed = Math.min(amount, this.perMinute);
    for (;;) {
      this.refill(clock.now());
      if (this.available >= needed) {
        this.available -= amount;
        return;
      }
      const waitMs = Math.ceil(((needed - this.available) * 60_000) / this.perMinute);
      onWait?.({ reason: 'rate-limit', delayMs: Math.max(1, waitMs) });
      await clock.sleep(Math.max(1, waitMs), signal);
    }
  }
}

/** Shared per-model state: the 429 pause and the rate-limit buckets. */
export class ModelState {
  /** No call of this model starts an attempt before this time (set by a 429). */
  pausedUntil = 0;
  private requests: TokenBucket | undefined;
  private tokens: TokenBucket | undefined;

  /** Sets the buckets; every entry point calls this before sending, so a bad limit never reaches a request. */
  configure(rateLimit: RateLimit | undefined, now: number): void {
    for (const name of ['requestsPerMinute', 'tokensPerMinute'] as const) {
      const value = rateLimit?.[name];
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new InvalidArgumentError(`rateLimit.${name} must be a finite number > 0, got ${value}.`, {
          argument: `rateLimit.${name}`,
        });
      }
    }
    const rpm = rateLimit?.requestsPerMinute;
    const tpm = rateLimit?.tokensPerMinute;
    if (rpm === undefined) this.requests = undefined;
    else if (this.requests?.perMinute !== rpm) this.requests = new TokenBucket(rpm, now);
    if (tpm === undefined) this.tokens = undefined;
    else if (this.tokens?.perMinute !== tpm) this.tokens = new TokenBucket(tpm, now);
  }

  /**
   * Settles the token bucket once a call reported its real usage: it was charged the counter's estimate
   * (an overestimate by design), so the difference goes back (or, for an underestimate, is charged) and
   * throughput follows the real count.
   */
  settle(estimatedTokens: number, reportedTokens: number | undefined): void {
    if (reportedTokens === undefined || this.tokens === undefined) return;
    this.tokens.adjust(estimatedTokens - reportedTokens);
  }

  pause(until: number): void {
    if (until > this.pausedUntil) this.pausedUntil = until;
  }

  /** Waits out any 429 pause, then takes one request and `tokens` tokens from the buckets. */
  async admit(
    tokens: number,
    clock: Clock,
    signal?: AbortSignal,
    onWait?: (event: WaitEvent) => void,
  ): Promise<void> {
    for (;;) {
      const wait = this.pausedUntil - clock.now();
      if (wait <= 0) break;
      onWait?.({ reason: 'paused', delayMs: wait });
      await clock.sleep(wait, signal);
    }
    await this.requests?.take(1, clock, signal, onWait);
    await this.tokens?.take(tokens, clock, signal, onWait);
  }
}

const states = new WeakMap<object, ModelState>();

/** The state shared by every call made through `model`. */
export function modelState(model: EmbeddingModel | object): ModelState {
  let state = states.get(model);
  if (state === undefined) {
    state = new ModelState();
    states.set(model, state);
  }
  return state;
}
