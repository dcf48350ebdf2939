/**
 * Rate limits as explicit shared state. A `RateLimiter` is an object the user creates once and shares:
 * passed to calls (`rateLimit`) or set on a provider. No call can change or clear it. Its shared state
 * (token buckets and the 429 pause) sits behind `LimiterStore`, a small async interface: in memory by
 * default, or shared across processes (`@embedkit/redis`).
 *
 * With no budgets given, a limiter still keeps calls inside the API's limits: it learns them from
 * `x-ratelimit-*` headers where the API sends them, and otherwise paces itself from the 429s it gets
 * (a rate that backs off on each 429 and creeps up while calls succeed), resuming queued calls one after
 * another after a pause.
 */

import { checkBoolean, checkPositiveNumber, describeValue } from '../argument-checks.js';
import { abortReason, InvalidArgumentError, InvalidRequestError } from '../errors.js';
import { headerNumber } from '../http/retry-after.js';
import { refuseUnknownSettings, type SettingNames } from '../setting-names.js';
import type { Warning } from '../types.js';
import type { Clock } from './clock.js';
import type { WaitEvent } from './settings.js';
import { onAbort } from './signal.js';

/** A token bucket's shape: it holds at most `capacity` and refills continuously at `perMinute`. */
export interface BucketSpec {
  capacity: number;
  perMinute: number;
}

/**
 * Where a limiter keeps its shared state. Every operation must be atomic for its key: a store shared by
 * many processes (Redis) runs each as one script. A bucket that does not exist yet starts full.
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
  /** Lowers bucket `key` to at most `level` (refilled to `now` first); never raises it. */
  lower(key: string, bucket: BucketSpec, level: number, now: number): void | Promise<void>;
  /**
   * Raises the pause of `key` to `until` (the caller's clock, epoch milliseconds); never lowers it. `now`
   * is the caller's time, for a store that keeps time by another clock (a shared server's).
   */
  pause(key: string, until: number, now: number): void | Promise<void>;
  /** The time (the caller's clock) until which `key` is paused, or 0; `now` is the caller's time. */
  pausedUntil(key: string, now: number): number | Promise<number>;
}

interface BucketState {
  level: number;
  updatedAt: number;
  /** The shape it was last used with: when it is full again, and so no different from a missing one. */
  spec: BucketSpec;
}

/**
 * How long the memory store keeps a bucket once it has refilled to full, and a pause once it has ended;
 * then either is dropped, and answers as a missing one does (a bucket starts full, a key never paused is
 * paused until 0). Not at once: a bucket full for a minute is full at whatever shape it is used with next,
 * if that shape refills within a minute (every bucket a limiter makes: the APIs' limits are per minute,
 * and a learned limit may change), and a caller whose clock runs behind another's still finds its state.
 */
const SPENT_KEPT_MS = 60_000;

/** Entries of each map the memory store looks at per operation: more than one operation can add. */
const SWEPT_PER_OPERATION = 2;

/**
 * Looks at the first entries of `map`: drops those that are `spent`, and moves the others to the back,
 * so that every entry comes up in turn. Kept for good, a store shared by limiters of thousands of model
 * ids (or one limiter per tenant) held a bucket for each of them.
 */
function sweep<T>(map: Map<string, T>, spent: (value: T) => boolean): void {
  const count = Math.min(SWEPT_PER_OPERATION, map.size);
  for (let looked = 0; looked < count; looked++) {
    const [key, value] = map.entries().next().value!;
    map.delete(key);
    if (!spent(value)) map.set(key, value);
  }
}

/** How many entries each memory store holds, by store (for tests: see `limiterStoreSize`). */
const memoryStoreSizes = new WeakMap<LimiterStore, () => number>();

/**
 * The default store: this process's memory. A bucket a minute after it refilled to full, and a pause a
 * minute after it ended, are dropped (see `SPENT_KEPT_MS`), a few entries at each operation.
 */
export function createMemoryLimiterStore(): LimiterStore {
  const buckets = new Map<string, BucketState>();
  const pauses = new Map<string, number>();
  const bucketOf = (key: string, bucket: BucketSpec, now: number): BucketState => {
    sweep(
      buckets,
      ({ level, updatedAt, spec }) =>
        now - updatedAt >= ((spec.capacity - level) * 60_000) / spec.perMinute + SPENT_KEPT_MS,
    );
    let state = buckets.get(key);
    if (state === undefined) {
      state = { level: bucket.capacity, updatedAt: now, spec: bucket };
      buckets.set(key, state);
    }
    state.spec = bucket;
    const elapsed = now - state.updatedAt;
    if (elapsed > 0) {
      state.level = Math.min(bucket.capacity, state.level + (elapsed * bucket.perMinute) / 60_000);
      state.updatedAt = now;
    }
    return state;
  };
  const sweepPauses = (now: number) => sweep(pauses, (until) => now - until >= SPENT_KEPT_MS);
  const store: LimiterStore = {
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
    lower(key, bucket, level, now) {
      const state = bucketOf(key, bucket, now);
      state.level = Math.min(state.level, level);
    },
    pause(key, until, now) {
      sweepPauses(now);
      if (until > (pauses.get(key) ?? 0)) pauses.set(key, until);
    },
    pausedUntil(key, now) {
      sweepPauses(now);
      return pauses.get(key) ?? 0;
    },
  };
  memoryStoreSizes.set(store, () => buckets.size + pauses.size);
  return store;
}

export interface RateLimiterOptions {
  /** Requests a minute. Default: none set (the API's own limits are still learned and honoured). */
  requestsPerMinute?: number | undefined;
  /**
   * Tokens a minute, in the API's count. Calls are charged the token counter's estimate and settled with
   * the usage the API reports; for an API that reports none, the charge is calibrated from what the API
   * lets through. Default: none set.
   */
  tokensPerMinute?: number | undefined;
  /** Where the buckets and the pause live. Default: this process's memory. */
  store?: LimiterStore | undefined;
  /**
   * The name of this limit in the store. Limiters with the same key on one shared store share one budget
   * (name it after the account or API key). Default: a key unique to this limiter.
   */
  key?: string | undefined;
  /** Learn the API's limits from `x-ratelimit-*` response headers and pace by them. Default true. */
  learnFromHeaders?: boolean | undefined;
  /** Pace calls by the 429s the API sends when no limits are known. Default true. */
  adaptive?: boolean | undefined;
}

const RATE_LIMITER_OPTIONS: SettingNames<RateLimiterOptions> = {
  requestsPerMinute: true,
  tokensPerMinute: true,
  store: true,
  key: true,
  learnFromHeaders: true,
  adaptive: true,
};

/** What one attempt asks of a limiter. */
export interface LimiterRequest {
  /** Tokens the attempt takes, as the token counter counts them. */
  tokens: number;
  /**
   * Whose limits the API states in its headers for this call: the engine passes the provider and model
   * (`openai:text-embedding-3-small`), since APIs state them per model. Calls of one scope share what is
   * learned from headers; the 429 pause and the budgets set by the user are the limiter's, whatever the
   * scope. Default: one scope for every call.
   */
  scope?: string;
  /** Whether the counter is the model's real tokenizer (then its counts are charged as they are). */
  exactTokens?: boolean;
  clock: Clock;
  signal?: AbortSignal;
  onWait?: (event: WaitEvent) => void;
}

/** What an attempt that got an answer tells its limiter. */
export interface AttemptAnswered {
  /** Tokens the API reported for the call; undefined when it reports none. */
  reportedTokens: number | undefined;
  /** The response headers (lower-case names), for the API's own limits. */
  headers: Record<string, string>;
}

/** One admitted attempt. Exactly one of its methods is called when the attempt ends. */
export interface LimiterPermit {
  /** The attempt got an answer. */
  answered(outcome: AttemptAnswered): Promise<void>;
  /**
   * The attempt failed. A 429 (`rateLimited`) pauses every call on the limiter for `waitMs`. `unsent`: the
   * request certainly never reached the API (the call ended before it was made); what it took of the
   * budgets set by the user is then given back.
   */
  failed(outcome: { rateLimited: boolean; waitMs: number; unsent?: boolean }): Promise<void>;
}

/**
 * A shared limit on calls: the 429 pause every call on it honours, optional request and token budgets,
 * and the limits it learns from the API. The engine calls `acquire` before each attempt and reports how
 * the attempt ended on the permit; users create one with `createRateLimiter` and pass it along.
 */
export interface RateLimiter {
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  /** Waits out any 429 pause and the budgets, then admits one attempt. */
  acquire(request: LimiterRequest): Promise<LimiterPermit>;
}

const LIMITER_MARKER = Symbol.for('embedkit.rate-limiter');

/** Whether `value` is a limiter from `createRateLimiter` (of any copy of core). */
export function isRateLimiter(value: unknown): value is RateLimiter {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[LIMITER_MARKER] === true
  );
}

let limiterCount = 0;

/** Spacing between calls released after a pause is at most this (a server asking for minutes refills in bulk). */
const MAX_RELEASE_SPACING_MS = 2_000;

/** A bucket in the store: a budget set by the user, or the API's limit as its headers state it. */
interface LearnedLimit {
  spec: BucketSpec;
  key: string;
  /** The API stated this limit (`x-ratelimit-limit-*`), rather than showing only what remains. */
  stated?: boolean;
}

/** One budget an attempt takes from: how much, whether it counts tokens, and whether the API stated it. */
interface Budget {
  limit: LearnedLimit;
  amount: number;
  tokens: boolean;
  learned: boolean;
}

/** Reads `x-ratelimit-limit-<kind>` / `x-ratelimit-remaining-<kind>` (OpenAI; Jina sends remaining only). */
function readLimit(
  headers: Record<string, string>,
  kind: 'requests' | 'tokens',
): { limit: number | undefined; remaining: number } | undefined {
  const remaining = headerNumber(headers[`x-ratelimit-remaining-${kind}`]);
  if (remaining === undefined) return undefined;
  const limit = headerNumber(headers[`x-ratelimit-limit-${kind}`]);
  return { limit: limit !== undefined && limit > 0 ? limit : undefined, remaining };
}

/**
 * How the limiter paces itself when the API sends only 429s (additive increase, multiplicative decrease
 * on a rate). Tokens are the counter's estimates throughout, so the pace needs no usage from the API.
 *
 * - The first 429 says the API's budget ran dry. APIs state their limits per minute and their budgets
 *   start full, so once a fair number of calls went through, what went through is about one minute's
 *   allowance plus the refill since the first call: that is the first guess, and it grows 2% a call while
 *   no call is refused.
 * - With too little through for that reading (or a budget dry from the start), the refused call's wait is
 *   the measure (its tokens over the wait), and the guess doubles every quiet second until the budget runs
 *   dry again right after a pause (a 429 within a call started after the last one). Such a 429 is still a
 *   stumble when the API took nine tenths of what the guess let go (counted as the pace booked it). A
 *   lone 429 every so often, from a server that stumbles rather than a budget, then costs a few seconds.
 * - A later 429 (at least a second after the last change, with at least two calls started since the API
 *   ran dry gone through) measures the API's rate: what it accepted since it ran dry, over that time. The
 *   first measure replaces the guess (less 5%). With no budget set, one that ends a doubling guess, read
 *   from fewer than 10 calls, may still be that guess's own pace (a burst of 429s from a stumbling server
 *   while calls wait their turn at it), so it stays a guess, growing 2% a call, until the next 429
 *   measures again. Once measured, later 429s lower the pace by 15%, never below 90% of the measure, and
 *   the pace grows 0.1% a call, so refusals stay rare.
 * - A guess that goes on unrefused was read from a stumble (an overloaded server, a job far inside its
 *   budget), and it is dropped: the next 429 is read afresh, as a first one. A budget read right refuses a
 *   call long before 20 calls through at 2% growth (49% over the guess); a doubling guess soon paces
 *   faster than the job sends, so it goes after 60 quiet calls; a measure held as a guess first doubles,
 *   after 20. Were it kept, a real budget running dry later would be read from the stumble on: its 429s
 *   taken for stumbles while the guess doubles, its measure swollen by the burst of its full first minute.
 * - Under a budget the user set, only a measure paces: the guesses above are for an API whose limits are
 *   unknown, and under a budget a lone 429 is more likely a stumble than the API's limit. No measure is
 *   held as a guess there (no guess paced those calls); a guess that goes on unrefused is dropped all the
 *   same, for the same reason.
 */
class AdaptivePace {
  /** Estimated tokens per millisecond; undefined until the first 429. */
  private rate: number | undefined;
  /**
   * Estimated calls per millisecond, read from the same evidence and moved with `rate`. The evidence cannot
   * tell a limit on tokens from one on requests: a call waits for the sooner of the two readings, so that
   * a guess read from small calls never holds a big one back for longer than the calls seen took.
   */
  private callRate: number | undefined;
  private growth = 1.02;
  /** Whether the API's rate was measured yet (the first pace is a guess). */
  private measured = false;
  private firstCallAt: number | undefined;
  private acceptedTotal = 0;
  private acceptedCalls = 0;
  /** Calls started after the last 429 that went through (undefined before any 429). */
  private sinceRefusal: number | undefined;
  /** Counts 429s: a call remembers the count when it starts, so calls in flight at a 429 do not count. */
  private refusals = 0;
  /**
   * The guess (from one refusal's wait, or a measure held as a guess gone quiet) doubles every quiet second
   * until a 429 confirms it.
   */
  private doubling = false;
  /** When the first 429 came, and what the API accepted since. */
  private dryAt = 0;
  private acceptedSinceDry = 0;
  /** Calls started since then (not those in flight when it came) that went through. */
  private callsSinceDry = 0;
  /** The refusal count at the first 429: calls that started with it or later started after it. */
  private dryEpoch = 0;
  /** When the pace last went down, so the refusals of one burst count once. */
  private loweredAt = Number.NEGATIVE_INFINITY;
  /** When the doubling guess last doubled: its own clock, so a doubling never hides the next 429. */
  private doubledAt = Number.NEGATIVE_INFINITY;
  /** Tokens the pace allowed from when calls could go again after the first 429, counted to `allowedAt`. */
  private allowedSinceDry = 0;
  private allowedAt = 0;
  /**
   * Tokens of the calls the pace let go since then, refused ones too: what it allowed, as it booked it (a
   * rate that grew while a call waited its turn at the old one allowed that call no sooner). Read while a
   * guess doubles with no budget set.
   */
  private bookedSinceDry = 0;
  /** The rate is a measure held as a guess (read from a few calls at the doubling guess's pace). */
  private tentative = false;
  /** When the last call the pace booked had its turn, and when the next turn comes at this pace. */
  private slotAt = 0;
  private nextAt = 0;
  /** No call starts before this: the wait the last 429 asked for. */
  private notBefore = 0;
  /** Calls that went through since the API's budget first ran dry (in flight at the 429 included). */
  private acceptedCallsSinceDry = 0;
  /**
   * Whether the user set a budget. Then only a measured rate paces calls, never a first guess: a 429 well
   * inside the budget (a server that stumbles) would read as a tiny minute's allowance, and the pace crawl
   * back up from it at 2% a call, at half the budget or less for the rest of the job. A budget set too
   * high is still measured down by its next 429 a second on.
   */
  private readonly budgetSet: boolean;

  constructor(budgetSet: boolean) {
    this.budgetSet = budgetSet;
  }

  /**
   * How long after a call of `tokens` the next may start at this pace, if the pace governs: the sooner of
   * the token and the call readings, and never more than a minute, in which any per-minute budget refills.
   */
  private spacing(tokens: number): number | undefined {
    if (this.budgetSet && !this.measured) return undefined;
    if (this.rate === undefined) return undefined;
    // A token rate of 0, read from calls the counter estimated at 0 tokens, holds no token reading: the
    // call reading paces alone. (Taken as "no pace", one refused call of 0 tokens turned the pace off for
    // every call after it, and each later 429 read as a stumble: 290 refusals in 590 attempts where 18 in
    // 318 were the norm.)
    const byTokens = this.rate > 0 ? tokens / this.rate : undefined;
    const byCalls = this.callRate !== undefined && this.callRate > 0 ? 1 / this.callRate : undefined;
    if (byTokens === undefined && byCalls === undefined) return undefined;
    return Math.min(byTokens ?? MAX_PACE_SPACING_MS, byCalls ?? MAX_PACE_SPACING_MS, MAX_PACE_SPACING_MS);
  }

  /** Moves both readings by `factor`. */
  private scale(factor: number): void {
    if (this.rate !== undefined) this.rate *= factor;
    if (this.callRate !== undefined) this.callRate *= factor;
  }

  /** A doubling guess doubles for every quiet second gone by, whether or not a call went through in it. */
  private catchUp(now: number): void {
    if (!this.doubling || this.rate === undefined) return;
    const seconds = Math.floor((now - this.doubledAt) / MIN_MEASURE_MS);
    if (seconds < 1) return;
    this.accrue(now);
    const factor = 2 ** Math.min(seconds, 40);
    this.scale(factor);
    this.doubledAt += seconds * MIN_MEASURE_MS;
    // The turn booked at the slower pace comes sooner.
    if (this.nextAt > this.slotAt) this.nextAt = this.slotAt + (this.nextAt - this.slotAt) / factor;
  }

  /** A call is about to start; returns what `passed` needs to know of it. */
  started(now: number): number {
    this.firstCallAt ??= now;
    return this.refusals;
  }

  /** The API answered 429 for a call of `tokens`; it asked for `waitMs`. */
  refused(now: number, waitMs: number, tokens: number): void {
    const backToBack = this.sinceRefusal !== undefined && this.sinceRefusal <= 1;
    this.sinceRefusal = 0;
    this.refusals++;
    this.notBefore = Math.max(this.notBefore, now + waitMs);
    if (this.rate === undefined) {
      const since = now - (this.firstCallAt ?? now);
      if (this.acceptedCalls >= MIN_EVIDENCE_CALLS) {
        this.rate = this.acceptedTotal / (60_000 + since);
        this.callRate = this.acceptedCalls / (60_000 + since);
      } else {
        // Too little went through to read a minute's allowance from it (or the budget was dry from the
        // start): the API's wait for this one call is the measure, and until a second 429 confirms a
        // budget the guess doubles every quiet second (a lone 429 from a stumbling server soon stops
        // mattering).
        this.rate = tokens / Math.max(waitMs, 1);
        this.callRate = 1 / Math.max(waitMs, 1);
        this.doubling = true;
      }
      // The API's rate is read from when calls may go again: the wait it asked for is not its rate.
      this.dryAt = now + waitMs;
      this.acceptedSinceDry = 0;
      this.acceptedCallsSinceDry = 0;
      this.callsSinceDry = 0;
      this.dryEpoch = this.refusals;
      this.tentative = false;
      this.allowedSinceDry = 0;
      this.bookedSinceDry = 0;
      this.allowedAt = this.dryAt;
      this.loweredAt = now;
      this.doubledAt = now;
      return;
    }
    // While the guess doubles, only a budget running dry again right after a pause (a 429 within a call of
    // the last one) confirms it; a lone 429 every so often (a stumbling server) does not.
    if (this.doubling && !backToBack) return;
    if (now - this.loweredAt < MIN_MEASURE_MS || now - this.dryAt < MIN_MEASURE_MS) return;
    // One call through is no rate: its time since calls could go again is our own pacing and its latency.
    if (this.callsSinceDry < MIN_MEASURE_CALLS) return;
    // All the guess allowed went through (give or take this call): that pace was ours, not the API's, and
    // this 429 a stumble. Pacing, it allowed the calls it let go; under a budget, where it does not pace,
    // what its rate would have let go over the time.
    this.accrue(now);
    const allowed = this.budgetSet ? this.allowedSinceDry : this.bookedSinceDry;
    if (this.doubling && this.acceptedSinceDry + tokens >= allowed * 0.9) return;
    const measured = this.acceptedSinceDry / (now - this.dryAt);
    const measuredCalls = this.acceptedCallsSinceDry / (now - this.dryAt);
    const fromDoubling = this.doubling;
    this.doubling = false;
    this.loweredAt = now;
    if (!this.measured) {
      // The first measure of what the API lets through replaces the first guess.
      this.rate = measured * 0.95;
      this.callRate = measuredCalls * 0.95;
      // Read from a few calls paced by the doubling guess, it may be that guess's pace: it stays a guess
      // (not measured, so still growing 2% a call).
      if (fromDoubling && !this.budgetSet && this.callsSinceDry < MIN_EVIDENCE_CALLS) {
        this.tentative = true;
        return;
      }
      this.measured = true;
    } else {
      this.rate = Math.max(this.rate * 0.85, measured * 0.9);
      this.callRate = Math.max((this.callRate ?? measuredCalls) * 0.85, measuredCalls * 0.9);
    }
    this.growth = 1.001;
  }

  /** A call of `tokens` (estimated), started when `started` said `epoch`, went through at `now`. */
  passed(tokens: number, epoch: number, now: number): void {
    this.acceptedTotal += tokens;
    this.acceptedCalls++;
    if (this.sinceRefusal !== undefined && epoch === this.refusals) this.sinceRefusal++;
    if (this.rate === undefined) return;
    this.acceptedSinceDry += tokens;
    this.acceptedCallsSinceDry++;
    if (epoch >= this.dryEpoch) this.callsSinceDry++;
    this.accrue(now);
    this.scale(this.growth);
    const quiet = this.sinceRefusal ?? 0;
    if (!this.measured && quiet >= QUIET_CALLS) {
      if (!this.doubling && this.tentative) {
        // A measure held as a guess that goes on unrefused is too low: it doubles, as a first guess does.
        this.doubling = true;
        this.doubledAt = now;
      } else if (!this.doubling || quiet >= QUIET_CALLS_DOUBLING) {
        // A guess that goes on unrefused was read from a stumble. It is dropped: the next 429 is read
        // afresh, as a first one (if a real budget runs dry later, as a minute's allowance of the job).
        this.rate = undefined;
        this.callRate = undefined;
        this.doubling = false;
        return;
      }
    }
    this.catchUp(now);
  }

  /** Adds what the pace allowed since it was last counted. */
  private accrue(now: number): void {
    // The guess's own allowance, paced or not: under a budget it still tells a stumble from the API's limit.
    if (this.rate === undefined || now <= this.allowedAt) return;
    this.allowedSinceDry += this.rate * (now - this.allowedAt);
    this.allowedAt = now;
  }

  /**
   * How long a call of `tokens` must wait for its turn at this pace; when it need not wait, its turn is
   * booked now and returned (undefined when the pace governs nothing). A guess that doubles while a call
   * waits brings its turn forward.
   */
  wait(tokens: number, now: number): number | PacedTurn | undefined {
    this.catchUp(now);
    const spacing = this.spacing(tokens);
    if (spacing === undefined) return undefined;
    const due = Math.max(this.notBefore, this.nextAt);
    if (due > now) return due - now;
    this.bookedSinceDry += tokens;
    // At most one call's worth of credit is banked from idle time.
    this.slotAt = Math.max(due, now - spacing);
    this.nextAt = this.slotAt + spacing;
    return { tokens, spacing };
  }

  /**
   * Gives back a turn booked for a call that never reached the API: the next call may have it. Kept, it
   * held the next call (the same call's retry among them) back a whole turn, up to a minute, after a call
   * the API never saw.
   */
  unbook(turn: PacedTurn): void {
    this.nextAt -= turn.spacing;
    this.bookedSinceDry = Math.max(0, this.bookedSinceDry - turn.tokens);
  }
}

/** A turn the pace booked for one call: what it gives back should the call never be sent. */
interface PacedTurn {
  tokens: number;
  spacing: number;
}

/**
 * The lowest factor on the token estimate charged to a budget for an API that reports no usage. The
 * default estimate counts half a token a byte; text runs about four bytes a token in English and rarely
 * below two, so half the estimate is about what English costs, and a budget is never overrun by more
 * than twice, however little the API refuses.
 */
const MIN_CHARGE = 0.5;

/** The longest turn the pace gives one call: APIs state their limits per minute, and refill within one. */
const MAX_PACE_SPACING_MS = 60_000;

/** Calls through before the first 429 that make "a minute's allowance" a fair reading of the budget. */
const MIN_EVIDENCE_CALLS = 10;

/** Refusals closer together than this tell nothing new about the API's rate. */
const MIN_MEASURE_MS = 1_000;

/** Calls through since the API's budget first ran dry before what went through reads as its rate. */
const MIN_MEASURE_CALLS = 2;

/** Calls through at a guess, with no 429, that show the guess too low (at 2% a call, 49% above it). */
const QUIET_CALLS = 20;

/**
 * The same for a doubling guess: a burst of 429s in its first seconds is judged by what the API took of
 * what it let go (and reads as a stumble); only a long quiet stretch drops it, so that a real budget
 * running dry later is read as a first 429.
 */
const QUIET_CALLS_DOUBLING = 60;

/**
 * A call waiting for a budget: since when it heads the queue, and how long the budget said it needed when
 * it first had to wait there. Both stay unset until then: what a call needed when it joined behind others
 * says nothing of what it needs once they have gone.
 */
interface QueuedCall {
  /** The queue it waits in. */
  readonly queue: QueuedCall[];
  headSince: number | undefined;
  needed: number | undefined;
}

/** What a limiter learned of one scope's limits, and the attempts of that scope in flight (this process). */
interface Scope {
  readonly name: string;
  /** Its calls waiting for a learned budget, when the limiter has no budget set by the user. */
  readonly queue: QueuedCall[];
  requests: LearnedLimit | undefined;
  tokens: LearnedLimit | undefined;
  inFlight: number;
  inFlightTokens: number;
  /** The calls that hold it: waiting for admission, or admitted and not yet ended. */
  holders: number;
}

/** What an admitted call took: its charge to the token budget, its turn at the pace, and its estimate. */
interface Taken {
  charged: number;
  turn: PacedTurn | undefined;
  estimate: RecentEstimate | undefined;
}

/** A call charged to the token budget at an estimate: when, and its estimated tokens. */
interface RecentEstimate {
  at: number;
  tokens: number;
}

/** Why a sleep for a learned budget ended early: a reading raised that budget. */
const BUDGET_RAISED = Symbol('learned budget raised');

/** A call that arrives while others wait for a budget queues behind them once the first waited this long. */
const MIN_STARVED_MS = 1_000;

class SharedRateLimiter implements RateLimiter {
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  private readonly store: LimiterStore;
  private readonly key: string;
  private readonly pauseKey: string;
  private readonly requests: LearnedLimit | undefined;
  private readonly tokens: LearnedLimit | undefined;
  private readonly learnFromHeaders: boolean;
  private readonly pace: AdaptivePace | undefined;
  /**
   * The API's own limits, once its headers stated them, and the attempts admitted and not yet ended (this
   * process), by scope (see `LimiterRequest.scope`): one model's limits say nothing of another's.
   */
  readonly scopes = new Map<string, Scope>();
  /** The scopes that learned a limit and that no call holds, by name, with when the last let go: oldest first. */
  private readonly idleScopes = new Map<string, number>();
  /**
   * Factor on the token estimate charged to the token budget for an API that reports no usage: calibrated
   * down from 1 while the budget binds and the API lets every call through, back up on a 429.
   */
  private charge = 1;
  /** Whether the API refused a call since calibration began (then it goes on in smaller steps). */
  private chargeRefused = false;
  /**
   * The token estimates of the calls charged to the token budget in the last minute, oldest first: when
   * the charge comes down, what they were charged above it is given back, so that the budget's first
   * minute is not spent at a charge the API has since shown too high.
   */
  private recentEstimates: RecentEstimate[] = [];
  /** Whether any call reported usage (then charges are settled exactly and need no calibration). */
  private usageReported = false;
  /** When the next call released after a pause may start (this process only). */
  private releaseAt = 0;
  /**
   * Calls of this process held by a pause: waiting it out, or for their release slot after it. While
   * there are none, a new pause starts a new release schedule at its own end; the slot kept from the
   * last one held the first call after a later, shorter pause until that old slot came.
   */
  private held = 0;
  /** Of those, the calls still waiting the pause out: their spacing is read when they come out of it. */
  private waitingOut = 0;
  /**
   * The calls of this process waiting for a budget, first come first: of them, only the first takes. One
   * queue for every call when the user set budgets (every scope draws on them); otherwise one per scope,
   * since a call waits only on its own scope's learned limits and must not queue behind another's.
   */
  private readonly sharedQueue: QueuedCall[] = [];
  /** How to wake each queued call when it comes to the head. */
  private readonly turnWaiters = new Map<QueuedCall, () => void>();
  /**
   * The length of the pause whose calls are being released: the server's own measure of how long one more
   * call must wait. The longest of the pauses that came while calls were still waiting one out: a shorter
   * 429 then (another limit, or a call that reached the API as its budget refilled) spaced the calls the
   * longer pause held by its own wait, and three held by a 5 s pause went 100 ms apart into a budget still
   * dry. A call that has come out of the pause already has its slot and its spacing: kept at the longest
   * while such calls waited for their slots, one 1 s pause at a job's start spaced it 1 s apart to the end,
   * since the stray 25 ms 429s of an overloaded server kept coming while some call still waited for its
   * slot (53 s for a job that takes 11 s).
   */
  private releasePauseMs = 0;
  /**
   * When the latest pause this process's 429s asked for ends. A 429 whose pause ends before it changes
   * nothing of the release: the later pause holds the calls. Calls refused at once come back before any
   * call is held, and the last 429 read set the spacing: refused for 5 s and for 100 ms, two calls let the
   * three the 5 s pause held go at 5 s, 5.1 s and 5.2 s when the 100 ms came last, and at 5 s, 7 s and 9 s
   * the other way round.
   */
  private pauseEndsAt = 0;
  /**
   * The sleeps of calls waiting for a budget learned from headers: a later reading that raises the budget
   * ends them, since their waits were measured against the smaller one (a first reading of 50 tokens left
   * put a call to sleep for minutes while every answer after it said a million remained).
   */
  private readonly learnedSleeps = new Set<AbortController>();

  constructor(options: RateLimiterOptions) {
    this.requestsPerMinute = options.requestsPerMinute;
    this.tokensPerMinute = options.tokensPerMinute;
    this.store = options.store ?? createMemoryLimiterStore();
    this.key = options.key ?? `embedkit-limiter-${++limiterCount}`;
    this.pauseKey = `${this.key}:pause`;
    this.learnFromHeaders = options.learnFromHeaders ?? true;
    if (options.adaptive ?? true)
      this.pace = new AdaptivePace(
        options.requestsPerMinute !== undefined || options.tokensPerMinute !== undefined,
      );
    if (this.requestsPerMinute !== undefined) {
      this.requests = {
        key: `${this.key}:requests`,
        spec: { capacity: this.requestsPerMinute, perMinute: this.requestsPerMinute },
      };
    }
    if (this.tokensPerMinute !== undefined) {
      this.tokens = {
        key: `${this.key}:tokens`,
        spec: { capacity: this.tokensPerMinute, perMinute: this.tokensPerMinute },
      };
    }
  }

  /**
   * Whether the first call waiting for a budget has waited twice what it needed (a second at least), both
   * counted from when it came to the head. Counted from when it joined, every head of a queue looked
   * starved, so every later call queued behind it, a query beside a bulk job too, and the queue never
   * emptied.
   */
  private headStarved(queue: QueuedCall[], now: number): boolean {
    const head = queue[0];
    if (head?.headSince === undefined || head.needed === undefined) return false;
    return now - head.headSince > Math.max(2 * head.needed, MIN_STARVED_MS);
  }

  /** The queue a call waits in for a budget (see `sharedQueue`). */
  private queueOf(scope: Scope): QueuedCall[] {
    return this.requests !== undefined || this.tokens !== undefined ? this.sharedQueue : scope.queue;
  }

  /** Puts a new ticket at the back of `queue`; in an empty queue it heads it at once. */
  private joinQueue(queue: QueuedCall[], now: number): QueuedCall {
    const ticket: QueuedCall = { queue, headSince: queue.length === 0 ? now : undefined, needed: undefined };
    queue.push(ticket);
    return ticket;
  }

  /** Resolves when `ticket` heads the budget queue; rejects with the abort reason when `signal` aborts first. */
  private turnOf(ticket: QueuedCall, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ticket.queue[0] === ticket) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // Watched through `onAbort`, one listener however many calls queue: a listener each tripped Node's
      // MaxListenersExceededWarning once more than ten calls of one job waited for a budget.
      let stopWatching: (() => void) | undefined;
      const settle = (aborted: boolean) => {
        stopWatching?.();
        this.turnWaiters.delete(ticket);
        if (aborted) reject(signal!.reason);
        else resolve();
      };
      this.turnWaiters.set(ticket, () => settle(false));
      if (signal !== undefined) stopWatching = onAbort(signal, () => settle(true));
    });
  }

  /** Takes `ticket` out of the budget queue and tells the call now at its head (its wait there starts now). */
  private leaveQueue(ticket: QueuedCall, now: number): void {
    const { queue } = ticket;
    const index = queue.indexOf(ticket);
    if (index === -1) return;
    queue.splice(index, 1);
    const head = queue[0];
    if (index === 0 && head !== undefined) {
      head.headSince = now;
      this.turnWaiters.get(head)?.();
    }
  }

  /** Gives the token budget back `step` of each estimate charged in the last minute. */
  private async creditRecent(step: number, now: number): Promise<void> {
    const recent = this.recentEstimates;
    while (recent.length > 0 && recent[0]!.at <= now - 60_000) recent.shift();
    if (this.tokens === undefined || step <= 0 || recent.length === 0) return;
    const tokens = recent.reduce((sum, entry) => sum + entry.tokens, 0);
    await this.store.adjust(this.tokens.key, this.tokens.spec, step * tokens, now);
  }

  async acquire(request: LimiterRequest): Promise<LimiterPermit> {
    const { clock } = request;
    const charged =
      this.usageReported || request.exactTokens === true ? request.tokens : request.tokens * this.charge;
    // Looked up once, and held until the call ends: a scope is dropped only when no call holds it.
    const scope = this.scopeOf(request);
    scope.holders++;
    let waitedOnTokens = false;
    let paced = false;
    let turn: PacedTurn | undefined;
    // This call's place among the calls of this process waiting for a budget, once it has one.
    let ticket: QueuedCall | undefined;
    try {
      for (;;) {
        // Read at each turn: a budget learned from headers may have been learned, or raised, meanwhile.
        refuseAboveStatedLimit(scope, request);
        const budgets = this.budgetsOf(scope, request, charged);
        await this.waitOutPause(request);
        // The pace books this call's turn once; a wait for a budget afterwards does not book another.
        if (!paced && scope.requests === undefined && scope.tokens === undefined) {
          turn = await this.waitForPace(request);
          paced = true;
        }
        // Calls waiting for a budget are served in the order they came. A call that arrives while others
        // wait may still go first if the budget holds what it needs (a query beside a bulk job need not
        // wait for the bulk calls queued) unless the first in the queue has waited, since it came to the
        // head, twice what it needed there: then it queues behind them, so small calls cannot take every
        // refill ahead of a big one.
        const queue = this.queueOf(scope);
        if (ticket === undefined && budgets.length > 0 && this.headStarved(queue, clock.now())) {
          ticket = this.joinQueue(queue, clock.now());
        }
        if (ticket !== undefined && ticket.queue[0] !== ticket) {
          await this.turnOf(ticket, request.signal);
          continue;
        }
        // All budgets or none: a call never holds one budget while it waits for another, so that what it
        // takes is taken at the moment it starts.
        const wait = await this.takeAll(budgets, clock.now());
        if (wait.ms > 0) {
          ticket ??= this.joinQueue(this.queueOf(scope), clock.now());
          // Its first wait at the head is what it needs: it is starved once it has waited twice that.
          if (ticket.queue[0] === ticket && ticket.needed === undefined) {
            ticket.headSince ??= clock.now();
            ticket.needed = wait.ms;
          }
          waitedOnTokens ||= wait.budget.tokens;
          request.onWait?.({ reason: wait.budget.learned ? 'pacing' : 'rate-limit', delayMs: wait.ms });
          if (wait.budget.learned) await this.sleepUnlessRaised(request, wait.ms);
          else await clock.sleep(wait.ms, request.signal);
          continue;
        }
        // A pause that began while this call waited sends it back to the queue, its budgets given back.
        if ((await this.store.pausedUntil(this.pauseKey, clock.now())) > clock.now()) {
          await this.giveBack(budgets, clock.now());
          continue;
        }
        break;
      }
    } catch (error) {
      // Ended before it was admitted (aborted while it waited for a budget or a pause): the API never
      // sees it, so its turn at the pace goes to the next call.
      if (turn !== undefined) this.pace?.unbook(turn);
      this.release(scope, clock.now());
      throw error;
    } finally {
      if (ticket !== undefined) this.leaveQueue(ticket, clock.now());
    }
    const epoch = this.pace?.started(clock.now()) ?? 0;
    let estimate: RecentEstimate | undefined;
    if (this.tokens !== undefined && !this.usageReported && request.exactTokens !== true) {
      const recent = this.recentEstimates;
      while (recent.length > 0 && recent[0]!.at <= clock.now() - 60_000) recent.shift();
      estimate = { at: clock.now(), tokens: request.tokens };
      recent.push(estimate);
    }
    scope.inFlight++;
    scope.inFlightTokens += request.tokens;
    return this.permit(request, scope, { charged, turn, estimate }, waitedOnTokens, epoch);
  }

  /** The budgets a call of `charged` tokens draws on, as they stand now. */
  private budgetsOf(scope: Scope, request: LimiterRequest, charged: number): Budget[] {
    const budgets: Budget[] = [];
    if (this.requests !== undefined)
      budgets.push({ limit: this.requests, amount: 1, tokens: false, learned: false });
    if (this.tokens !== undefined)
      budgets.push({ limit: this.tokens, amount: charged, tokens: true, learned: false });
    if (scope.requests !== undefined)
      budgets.push({ limit: scope.requests, amount: 1, tokens: false, learned: true });
    if (scope.tokens !== undefined)
      budgets.push({
        limit: scope.tokens,
        amount: learnedCharge(scope.tokens, request.tokens),
        tokens: false,
        learned: true,
      });
    return budgets;
  }

  /** The learned limits and the attempts in flight of a call's scope. */
  private scopeOf(request: LimiterRequest): Scope {
    const name = request.scope ?? '';
    // Held again, an idle scope keeps what it learned.
    this.idleScopes.delete(name);
    this.dropIdleScopes(request.clock.now());
    let scope = this.scopes.get(name);
    if (scope === undefined) {
      scope = {
        name,
        queue: [],
        requests: undefined,
        tokens: undefined,
        inFlight: 0,
        inFlightTokens: 0,
        holders: 0,
      };
      this.scopes.set(name, scope);
    }
    return scope;
  }

  /**
   * A call lets go of its scope. A scope no call holds and that learned no limit is as a new one would be,
   * so it is dropped: kept, a limiter shared by calls of many model ids (one made per call, say) held one
   * scope for each of them for good. One that learned a limit is kept while its limits still hold calls
   * back (see `dropIdleScopes`).
   */
  private release(scope: Scope, now: number): void {
    scope.holders--;
    if (scope.holders > 0) return;
    if (scope.requests === undefined && scope.tokens === undefined) this.scopes.delete(scope.name);
    else this.idleScopes.set(scope.name, now);
  }

  /**
   * Drops the scopes that learned a limit and that no call held for a minute: the API states its limits
   * per minute, so their buckets are full again, as a new scope's would be, and the next answer states the
   * limits anew. (A bucket an answer lowered below empty, by the tokens still in flight, may take longer:
   * the calls of a scope made anew then go by the API's 429s until an answer states the limits again.)
   * Kept, a process that cycled through thousands of model ids (or keys) kept one each.
   */
  private dropIdleScopes(now: number): void {
    for (const [name, since] of this.idleScopes) {
      if (now - since < 60_000) break;
      this.idleScopes.delete(name);
      this.scopes.delete(name);
    }
  }

  /** Sleeps `ms` for a learned budget, or until a reading raises a learned budget (then the call takes again). */
  private async sleepUnlessRaised(request: LimiterRequest, ms: number): Promise<void> {
    const { signal } = request;
    // A signal that aborted already is not watched (it fires no more): one that aborted while the budget
    // was read must end the call here, not after the wait.
    if (signal?.aborted) throw abortReason(signal);
    const sleep = new AbortController();
    const unlink = signal === undefined ? undefined : onAbort(signal, () => sleep.abort(abortReason(signal)));
    this.learnedSleeps.add(sleep);
    try {
      await request.clock.sleep(ms, sleep.signal);
    } catch (error) {
      if (sleep.signal.reason !== BUDGET_RAISED) throw error;
    } finally {
      unlink?.();
      this.learnedSleeps.delete(sleep);
    }
  }

  /** Takes every budget, or none: the wait of the first that cannot give (and whether it counts tokens). */
  private async takeAll(budgets: readonly Budget[], now: number): Promise<{ ms: number; budget: Budget }> {
    for (let index = 0; index < budgets.length; index++) {
      const budget = budgets[index]!;
      const ms = await this.store.take(budget.limit.key, budget.limit.spec, budget.amount, now);
      if (ms > 0) {
        await this.giveBack(budgets.slice(0, index), now);
        return { ms, budget };
      }
    }
    return { ms: 0, budget: budgets[0]! };
  }

  private async giveBack(
    budgets: readonly { limit: LearnedLimit; amount: number }[],
    now: number,
  ): Promise<void> {
    for (const { limit, amount } of budgets) await this.store.adjust(limit.key, limit.spec, amount, now);
  }

  /**
   * Waits out any 429 pause. The calls queued behind a pause (the refused call's own retry among them) then
   * resume one after another, spaced by the server's own wait for one more call, so that they do not all
   * fire at once and collide again. Calls that come later are not held: the pace governs them.
   */
  private async waitOutPause(request: LimiterRequest): Promise<void> {
    const { clock, signal, onWait } = request;
    let paused = false;
    let outstanding = false;
    try {
      for (;;) {
        const wait = (await this.store.pausedUntil(this.pauseKey, clock.now())) - clock.now();
        if (wait <= 0) break;
        if (!paused) {
          this.held++;
          this.waitingOut++;
        }
        paused = true;
        outstanding = true;
        onWait?.({ reason: 'paused', delayMs: wait });
        await clock.sleep(wait, signal);
      }
      if (!paused) return;
      this.waitingOut--;
      outstanding = false;
      const now = clock.now();
      const slot = Math.max(now, this.releaseAt);
      this.releaseAt = slot + Math.min(this.releasePauseMs, MAX_RELEASE_SPACING_MS);
      if (slot > now) {
        onWait?.({ reason: 'paused', delayMs: slot - now });
        await clock.sleep(slot - now, signal);
      }
    } finally {
      if (paused) this.held--;
      if (outstanding) this.waitingOut--;
    }
  }

  /** Waits for the call's turn at the pace, and returns the turn it booked (undefined when none governs). */
  private async waitForPace(request: LimiterRequest): Promise<PacedTurn | undefined> {
    if (this.pace === undefined) return undefined;
    for (;;) {
      const wait = this.pace.wait(request.tokens, request.clock.now());
      if (typeof wait !== 'number') return wait;
      request.onWait?.({ reason: 'pacing', delayMs: wait });
      await request.clock.sleep(wait, request.signal);
    }
  }

  private permit(
    request: LimiterRequest,
    scope: Scope,
    taken: Taken,
    waitedOnTokens: boolean,
    epoch: number,
  ): LimiterPermit {
    const { charged } = taken;
    let ended = false;
    const end = () => {
      if (ended) return false;
      ended = true;
      scope.inFlight--;
      scope.inFlightTokens -= request.tokens;
      return true;
    };
    const settleAnswered = async ({ reportedTokens, headers }: AttemptAnswered) => {
      const now = request.clock.now();
      if (reportedTokens !== undefined) {
        this.usageReported = true;
        this.recentEstimates.length = 0;
        // Settle the budgets with the API's count: give back (or charge) the difference.
        if (this.tokens !== undefined) {
          if (reportedTokens !== charged)
            await this.store.adjust(this.tokens.key, this.tokens.spec, charged - reportedTokens, now);
          // The bucket refilled while the call was in flight, but the API counted the call when it got
          // it: after a call of `reported` tokens, at most `capacity - reported` can remain.
          await this.store.lower(
            this.tokens.key,
            this.tokens.spec,
            this.tokens.spec.capacity - reportedTokens,
            now,
          );
        }
        const learnedTokens = scope.tokens;
        if (learnedTokens !== undefined) {
          const learnedCharged = learnedCharge(learnedTokens, request.tokens);
          if (reportedTokens !== learnedCharged)
            await this.store.adjust(
              learnedTokens.key,
              learnedTokens.spec,
              learnedCharged - reportedTokens,
              now,
            );
        }
      } else if (
        this.tokens !== undefined &&
        waitedOnTokens &&
        !this.usageReported &&
        request.exactTokens !== true
      ) {
        // The token budget held this call back and the API let it through: the estimate may be high.
        // Quickly until the API first refuses one, gently after; never below MIN_CHARGE, since an API
        // that refuses nothing says nothing of the user's own budget.
        const before = this.charge;
        this.charge = Math.max(MIN_CHARGE, this.charge * (this.chargeRefused ? 0.99 : 0.97));
        await this.creditRecent(before - this.charge, now);
      }
      this.pace?.passed(request.tokens, epoch, now);
      if (this.learnFromHeaders) await this.learn(headers, now, scope);
    };
    return {
      answered: async (outcome) => {
        if (!end()) return;
        try {
          await settleAnswered(outcome);
        } finally {
          // Let go only once what the answer's headers said is learned: the scope then keeps it.
          this.release(scope, request.clock.now());
        }
      },
      failed: async ({ rateLimited, waitMs, unsent }) => {
        if (!end()) return;
        this.release(scope, request.clock.now());
        if (unsent === true) await this.refund(taken, request.clock.now());
        if (!rateLimited) return;
        const now = request.clock.now();
        // The API refused: the calibrated charge was too low.
        if (!this.usageReported) {
          this.charge = Math.min(1, this.charge / 0.9);
          this.chargeRefused = true;
        }
        if (scope.requests === undefined && scope.tokens === undefined)
          this.pace?.refused(now, waitMs, request.tokens);
        // Calls still held by the last pause keep their order and their spacing: the new pause's calls come
        // after them.
        const pauseMs = Math.max(0, waitMs);
        if (now + pauseMs >= this.pauseEndsAt) {
          this.pauseEndsAt = now + pauseMs;
          this.releasePauseMs = this.waitingOut > 0 ? Math.max(this.releasePauseMs, pauseMs) : pauseMs;
          this.releaseAt = this.held > 0 ? Math.max(this.releaseAt, now + waitMs) : now + waitMs;
        }
        await this.store.pause(this.pauseKey, now + waitMs, now);
      },
    };
  }

  /**
   * Gives back what a call the API never saw took of the budgets set by the user, and its turn at the
   * pace: kept, they held the next call (the same call's retry among them) back for a refill of a request
   * never made. The budgets learned from headers keep their charge: the next answer states what remains,
   * and sets them by it.
   */
  private async refund({ charged, turn, estimate }: Taken, now: number): Promise<void> {
    if (turn !== undefined) this.pace?.unbook(turn);
    const budgets: { limit: LearnedLimit; amount: number }[] = [];
    if (this.requests !== undefined) budgets.push({ limit: this.requests, amount: 1 });
    if (this.tokens !== undefined) budgets.push({ limit: this.tokens, amount: charged });
    await this.giveBack(budgets, now);
    // Nor is its estimate credited again when the calibrated charge next comes down.
    if (estimate !== undefined) {
      const index = this.recentEstimates.indexOf(estimate);
      if (index !== -1) this.recentEstimates.splice(index, 1);
    }
  }

  /**
   * Reads the API's limits from its headers: the limit sets a bucket (per minute, as OpenAI states its
   * limits), the remaining count lowers it, less what this process has in flight that the API may not
   * have counted yet.
   */
  private async learn(headers: Record<string, string>, now: number, scope: Scope): Promise<void> {
    const before = [scope.requests?.spec.capacity ?? 0, scope.tokens?.spec.capacity ?? 0];
    await this.learnLimits(headers, now, scope);
    const raised =
      (scope.requests?.spec.capacity ?? 0) > before[0]! || (scope.tokens?.spec.capacity ?? 0) > before[1]!;
    if (raised) for (const sleep of [...this.learnedSleeps]) sleep.abort(BUDGET_RAISED);
  }

  private async learnLimits(headers: Record<string, string>, now: number, scope: Scope): Promise<void> {
    const requests = readLimit(headers, 'requests');
    if (requests !== undefined) {
      scope.requests = this.learned(scope, scope.requests, 'learned-requests', requests);
      if (scope.requests !== undefined)
        await this.store.lower(
          scope.requests.key,
          scope.requests.spec,
          requests.remaining - scope.inFlight,
          now,
        );
    }
    const tokens = readLimit(headers, 'tokens');
    if (tokens !== undefined) {
      scope.tokens = this.learned(scope, scope.tokens, 'learned-tokens', tokens);
      if (scope.tokens !== undefined)
        await this.store.lower(
          scope.tokens.key,
          scope.tokens.spec,
          tokens.remaining - scope.inFlightTokens,
          now,
        );
    }
  }

  private learned(
    scope: Scope,
    current: LearnedLimit | undefined,
    name: string,
    read: { limit: number | undefined; remaining: number },
  ): LearnedLimit | undefined {
    // Without a stated limit (Jina sends only what remains), the most ever remaining is the best bound.
    // Nothing remaining states no limit at all (another client may have used the budget): no bucket is
    // learned from it, since one of size 0 would never refill; the API's 429 and its wait govern.
    const limit = read.limit ?? Math.max(read.remaining, current?.spec.capacity ?? 0);
    if (limit <= 0) return current;
    if (
      current !== undefined &&
      current.spec.capacity === limit &&
      current.stated === (read.limit !== undefined)
    )
      return current;
    // Limiters of one key on a shared store share what they learn, scope by scope.
    const key = scope.name === '' ? `${this.key}:${name}` : `${this.key}:${scope.name}:${name}`;
    return { key, spec: { capacity: limit, perMinute: limit }, stated: read.limit !== undefined };
  }
}
Object.defineProperty(SharedRateLimiter.prototype, LIMITER_MARKER, { value: true });

/**
 * What a call of `tokens` takes of a token limit learned from headers: a call larger than the whole limit
 * (planned before the limit was learned, with a token estimate that may be high) waits for a full bucket
 * and takes all of it. Charged in full, it drove the bucket far below empty, and after the API refused it
 * every call of its model waited minutes for the refill of tokens the API never took.
 */
function learnedCharge(limit: LearnedLimit, tokens: number): number {
  return Math.min(tokens, limit.spec.capacity);
}

/**
 * Refuses a call whose exact token count is more than the tokens a minute the API stated for its scope:
 * the API refuses such a call every time. It is an `InvalidRequestError` with `batchTooLarge`, so the
 * engine halves a call of several inputs.
 */
function refuseAboveStatedLimit(scope: Scope, request: LimiterRequest): void {
  const limit = scope.tokens;
  if (request.exactTokens !== true || limit?.stated !== true || request.tokens <= limit.spec.capacity) return;
  const whose = scope.name === '' ? 'these calls' : scope.name;
  throw new InvalidRequestError(
    `A call of ${request.tokens} tokens is more than the ${limit.spec.capacity} tokens a minute the API allows ${whose} (its x-ratelimit-limit-tokens header), so the API would refuse it every time. Send shorter inputs, or ask the provider for a higher limit.`,
    { batchTooLarge: true },
  );
}

/**
 * A rate limit to share: create it once and pass it as `rateLimit` to every call that draws on the same
 * budget (or set it on the provider). Without budgets it still shares the 429 pause and keeps calls
 * inside the limits the API states or shows.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createRateLimiter takes an options object.', { argument: 'options' });
  }
  refuseUnknownSettings(options, RATE_LIMITER_OPTIONS, 'createRateLimiter', {
    noun: 'option',
    instead: {
      rpm: 'pass requestsPerMinute',
      tpm: 'pass tokensPerMinute',
      maxConcurrency: 'the calls in flight at once are each job’s concurrency setting',
    },
  });
  checkPositiveNumber(options.requestsPerMinute, 'requestsPerMinute');
  checkPositiveNumber(options.tokensPerMinute, 'tokensPerMinute');
  // A switch read from the environment as the text 'false' would turn the behaviour on.
  checkBoolean(options.learnFromHeaders, 'learnFromHeaders');
  checkBoolean(options.adaptive, 'adaptive');
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
    throw new InvalidArgumentError('key must be a non-empty string.', { argument: 'key' });
  }
  checkLimiterStore(options.store);
  return new SharedRateLimiter(options);
}

/** How many scopes `limiter` keeps (for tests: a scope with nothing to keep must not stay). */
export function scopeCount(limiter: RateLimiter): number {
  return limiter instanceof SharedRateLimiter ? limiter.scopes.size : 0;
}

/** How many buckets and pauses a memory store holds (for tests: one with nothing to keep must not stay). */
export function limiterStoreSize(store: LimiterStore): number {
  return memoryStoreSizes.get(store)?.() ?? 0;
}

/** What a limiter calls on its store. */
const LIMITER_STORE_METHODS = ['take', 'adjust', 'lower', 'pause', 'pausedUntil'] as const;

/**
 * A store without the methods a limiter calls was taken, and failed as a TypeError at the first call
 * that asked it for a turn, in the middle of a job.
 */
function checkLimiterStore(store: unknown): void {
  if (store === undefined) return;
  const missing = LIMITER_STORE_METHODS.filter(
    (name) => typeof (store as Partial<Record<string, unknown>> | null)?.[name] !== 'function',
  );
  if (missing.length === 0) return;
  const what =
    typeof (store as { then?: unknown } | null)?.then === 'function'
      ? 'got a Promise (await the store before you pass it)'
      : typeof store === 'object' && store !== null
        ? `it has no ${missing.join(', ')}`
        : `got ${describeValue(store)}`;
  throw new InvalidArgumentError(
    `store must be a LimiterStore with ${LIMITER_STORE_METHODS.join(', ')}, e.g. createMemoryLimiterStore() or await createRedisLimiterStore({ url }); ${what}.`,
    { argument: 'store' },
  );
}

const defaults = new WeakMap<object, RateLimiter>();

/**
 * The limiter of a model that was given none: created once per model object, never reconfigured, with
 * no budgets of its own, so every call through that model shares its 429 pauses and learned limits.
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

/**
 * The `onSettleFailure` of `withRetries` for one job or call: a limiter that could not record a request
 * (its store out of reach) fails nothing, but is said once to `warn`, however many requests it fails.
 */
export function settleFailureReporter(
  warn: (warning: Warning) => void,
): (error: unknown, answered: boolean) => void {
  let said = false;
  return (error, answered) => {
    if (said) return;
    said = true;
    const reason = error instanceof Error ? error.message : String(error);
    warn({
      type: 'other',
      message: answered
        ? `The rate limiter could not record an answered call (${reason}); the answer is kept, and the limiter's budgets may not count it.`
        : `The rate limiter could not record a failed call (${reason}); the call's own error is retried or thrown as usual, and the limiter's budgets and 429 pause may not count it.`,
    });
  };
}
