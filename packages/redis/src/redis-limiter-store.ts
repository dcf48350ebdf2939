/**
 * Rate-limit state in Redis: every process that creates a limiter with the same `key` on a store in the
 * same namespace draws on one budget and honours one 429 pause. Each operation is one Lua script (atomic,
 * one round trip) with the exact semantics of core's memory store.
 *
 * Time: by default the scripts read Redis's own clock (`TIME`). Replicas on different machines have
 * clocks that disagree by milliseconds to seconds; a bucket refilled by the clock of whoever touches it
 * last would gain the skew as free tokens, and a pause written in one machine's time would end early or
 * late on another. One clock, Redis's, makes the budget exact across machines; waits are returned as
 * durations, which mean the same on every clock. Pauses cross the boundary as durations from the
 * caller's `now`.
 *
 * Redis's clock is the wall clock of its host, and a wall clock can step (an NTP correction, a virtual
 * machine resumed). A step back would leave every bucket updated "in the future" and every pause ending
 * later by the step: the scripts notice it (a bucket updated later than now, a pause longer than it was
 * set for) and go on from now, so that a step back costs no more than one refill's wait. A step forward
 * looks like time passing and refills the buckets by it; the API then refuses what it does not have,
 * and the limiter's 429 pause takes over.
 */

import { type BucketSpec, createMemoryLimiterStore, type LimiterStore } from '@embedkit/core';
import { z } from 'zod';
import {
  connectionFields,
  type LuaScript,
  luaScript,
  openLink,
  type RedisConnectionOptions,
  type RedisLink,
  readOptions,
} from './redis-connection.js';

/**
 * Reads the time the script runs on: the caller's `now` when given, else Redis's clock (ms). \`redisTime\`:
 * whether it is Redis's one clock (then a time earlier than one already saved means the clock stepped
 * back; callers' clocks differ by their skew, and that is no step).
 */
const CLOCK = `
local redisTime = false
local function clock(given)
  local now = tonumber(given)
  if now then return now end
  redisTime = true
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
`;

/**
 * Loads bucket KEYS[1] (a new one is full), refills it up to now, and returns level, updatedAt, capacity,
 * perMinute. ARGV: capacity, perMinute, amount, now ('' for Redis's clock).
 */
const BUCKET = `${CLOCK}
local capacity = tonumber(ARGV[1])
local perMinute = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local now = clock(ARGV[4])
local saved = redis.call('HMGET', KEYS[1], 'level', 'updatedAt')
local level = tonumber(saved[1])
local updatedAt = tonumber(saved[2])
if level == nil or updatedAt == nil then
  level = capacity
  updatedAt = now
end
if now > updatedAt then
  level = math.min(capacity, level + (now - updatedAt) * perMinute / 60000)
  updatedAt = now
elseif redisTime then
  -- Redis's clock stepped back: refill from now on, rather than not until it is back where it was.
  updatedAt = now
end
local function save()
  redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level), 'updatedAt', string.format('%.17g', updatedAt))
  -- A minute after it refilled to capacity, a bucket is the same as a new one at whatever limit it is used
  -- with next (every limit refills within a minute): let Redis drop it then, as the memory store drops one.
  -- Dropped sooner, a limit learned larger in that minute found a new bucket full at the larger size.
  -- A bucket above its capacity (lowered since, at the same instant) is full already: kept the same minute.
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(0, capacity - level) * 60000 / perMinute) + 60000)
end
`;

// The refill is saved even when nothing is taken: levels then add up step by step exactly as in the
// memory store, to the last bit.
const TAKE = luaScript(`${BUCKET}
local needed = math.min(amount, capacity)
local wait = 0
if level >= needed then
  level = level - amount
else
  wait = math.max(1, math.ceil((needed - level) * 60000 / perMinute))
end
save()
return wait
`);

const ADJUST = luaScript(`${BUCKET}
level = math.min(capacity, level + amount)
save()
return 0
`);

/** \`amount\` is the level to lower the bucket to (after its refill); never raises it. */
const LOWER = luaScript(`${BUCKET}
level = math.min(level, amount)
save()
return 0
`);

/**
 * A pause is saved as its end and its length (both ms). Reading one whose end is further away than its
 * length means Redis's clock stepped back: the pause then ends one length from now.
 */
const PAUSE_READ = `${CLOCK}
local function savePause(key, ends, length, now)
  redis.call('SET', key, string.format('%.17g %.17g', ends, length), 'PX', math.max(1, math.ceil(ends - now)) + 1000)
end
local function readPause(key, now)
  local value = redis.call('GET', key)
  if not value then return nil end
  local ends, length = string.match(value, '^(%S+) (%S+)$')
  if ends == nil then return tonumber(value) end
  ends = tonumber(ends)
  length = tonumber(length)
  if redisTime and ends - now > length then
    ends = now + length
    savePause(key, ends, length, now)
  end
  return ends
end
`;

/** ARGV: the pause's length from now in ms, now ('' for Redis's clock). Never lowers a pause. */
const PAUSE = luaScript(`${PAUSE_READ}
local now = clock(ARGV[2])
local length = tonumber(ARGV[1])
local ends = now + length
local current = readPause(KEYS[1], now)
if current == nil or ends > current then savePause(KEYS[1], ends, length, now) end
return 0
`);

/** ARGV: now ('' for Redis's clock). Returns how long the pause lasts from now, in ms (<= 0: none). */
const PAUSE_LEFT = luaScript(`${PAUSE_READ}
local now = clock(ARGV[1])
local current = readPause(KEYS[1], now)
if current == nil then return '0' end
return string.format('%.17g', current - now)
`);

const optionsSchema = z.strictObject({
  ...connectionFields,
  time: z.enum(['redis', 'caller']).optional(),
  now: z
    .custom<() => number>((value) => typeof value === 'function', { message: 'must be a function' })
    .optional(),
});

export interface RedisLimiterStoreOptions extends RedisConnectionOptions {
  /**
   * Whose clock refills buckets and times pauses: `redis` (one clock for every replica, immune to skew
   * between machines) or `caller` (the `now` each call passes, as the memory store does). Default `redis`.
   */
  time?: 'redis' | 'caller';
  /** The caller's clock, used to turn pause times into durations and back. Default `Date.now`. */
  now?: () => number;
}

/** A limiter store on Redis. */
export interface RedisLimiterStore extends LimiterStore {
  /** As `LimiterStore.pause`; without `now`, the store's `now` option (default `Date.now`) stands in. */
  pause(key: string, until: number, now?: number): Promise<void>;
  /** As `LimiterStore.pausedUntil`; without `now`, the store's `now` option stands in. */
  pausedUntil(key: string, now?: number): Promise<number>;
  /**
   * True while Redis cannot be reached or refuses the limiter's scripts (out of memory, a read-only
   * replica), and this process limits itself from its own memory.
   */
  readonly usingFallback: boolean;
  /** Ends the connection the store opened from `url` (a client you passed stays open). */
  close(): Promise<void>;
}

class RedisLimiterStoreImpl implements RedisLimiterStore {
  private readonly link: RedisLink;
  private readonly namespace: string;
  private readonly callerTime: boolean;
  private readonly now: () => number;
  /** The fallback while Redis is away, and this process's own record of the pauses it was told of. */
  private readonly local = createMemoryLimiterStore();

  constructor(link: RedisLink, options: RedisLimiterStoreOptions) {
    this.link = link;
    this.namespace = options.namespace ?? 'embedkit';
    this.callerTime = options.time === 'caller';
    this.now = options.now ?? Date.now;
  }

  get usingFallback(): boolean {
    return this.link.usingFallback;
  }

  private redisKey(key: string): string {
    return `${this.namespace}:limiter:${key}`;
  }

  private time(now: number): string {
    return this.callerTime ? String(now) : '';
  }

  /** Runs a bucket script on Redis, or `local` on this process's memory while Redis is away. */
  private bucket(
    script: LuaScript,
    key: string,
    bucket: BucketSpec,
    amount: number,
    now: number,
    local: () => unknown,
  ): Promise<unknown> {
    return this.link.run<unknown>(
      'write',
      async () =>
        Number(
          await this.link.script(
            script,
            [this.redisKey(key)],
            [String(bucket.capacity), String(bucket.perMinute), String(amount), this.time(now)],
          ),
        ),
      local,
    );
  }

  take(key: string, bucket: BucketSpec, amount: number, now: number): Promise<number> {
    return this.bucket(TAKE, key, bucket, amount, now, () =>
      this.local.take(key, bucket, amount, now),
    ) as Promise<number>;
  }

  async adjust(key: string, bucket: BucketSpec, amount: number, now: number): Promise<void> {
    await this.bucket(ADJUST, key, bucket, amount, now, () => this.local.adjust(key, bucket, amount, now));
  }

  async lower(key: string, bucket: BucketSpec, level: number, now: number): Promise<void> {
    await this.bucket(LOWER, key, bucket, level, now, () => this.local.lower(key, bucket, level, now));
  }

  /** `now` is the caller's clock (the limiter passes it); without one, `options.now` stands in. */
  async pause(key: string, until: number, now: number = this.now()): Promise<void> {
    // This process honours its own 429 whatever happens to the write below.
    this.local.pause(key, until, now);
    await this.link.run(
      'write',
      async () => {
        await this.link.script(PAUSE, [this.redisKey(key)], [String(until - now), this.time(now)]);
      },
      () => undefined,
    );
  }

  async pausedUntil(key: string, now: number = this.now()): Promise<number> {
    const local = await this.local.pausedUntil(key, now);
    // A read: the script writes only to correct a pause after Redis's clock stepped back.
    const shared = await this.link.run(
      'read',
      async () => {
        const left = Number(await this.link.script(PAUSE_LEFT, [this.redisKey(key)], [this.time(now)]));
        return left > 0 ? now + left : 0;
      },
      () => 0,
    );
    return Math.max(local, shared);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/**
 * A `LimiterStore` in Redis, to pass as `store` to `createRateLimiter` in every process that shares an
 * account's limits (give each limiter the same `key`). While Redis is unreachable each process limits
 * itself from its own memory and says so once through `onWarning`; it shares the budget again as soon
 * as Redis answers (after Redis refused writes, as soon as a write succeeds again). Connects at once when given a `url` (a `ConnectionError` if Redis cannot be reached).
 */
export async function createRedisLimiterStore(options: RedisLimiterStoreOptions): Promise<RedisLimiterStore> {
  const checked = readOptions(optionsSchema, options, 'createRedisLimiterStore');
  const link = await openLink(checked, {
    fallback: "the rate limiter uses this process's own memory",
    refused: {
      read: 'the rate limiter honours only the pauses this process was told of',
      write: "the rate limiter uses this process's own memory",
    },
    restored: 'the rate limiter shares its budget through Redis again',
  });
  return new RedisLimiterStoreImpl(link, checked);
}
