/**
 * The connection both stores share the handling of: options, connecting from a URL with a clear error,
 * and running each operation on Redis with a local fallback, so that no embedding call ever fails
 * because Redis went away.
 */

import { createHash } from 'node:crypto';
import { ConnectionError, InvalidArgumentError } from '@embedkit/core';
import { redact, redactGivenUrl } from '@embedkit/core/provider';
import { createClient, ErrorReply } from '@redis/client';
import { z } from 'zod';

/**
 * The part of a node-redis client the stores use: `createClient()` of `redis` or `@redis/client`, v5 or
 * later. Create it with `disableOfflineQueue: true` so that commands fail at once while it reconnects
 * (the stores also skip Redis while `isReady` is false).
 */
export interface RedisClientLike {
  readonly isReady: boolean;
  sendCommand(args: Array<string | Buffer>, options?: object): Promise<unknown>;
}

/** A change in how a store reaches Redis. */
export interface RedisStoreWarning {
  /**
   * `redis-unavailable`: the store falls back, or falls back for other operations than it said: the client
   * is not connected, a command got no answer, Redis refused a command with an error (writes refused when
   * it is out of memory or a read-only replica, or an error in a script), or Redis answers again but still
   * refuses a kind of operation; `redis-restored`: Redis answers again and does all it refused, and the
   * store falls back for nothing.
   */
  code: 'redis-unavailable' | 'redis-restored';
  message: string;
}

function isClientLike(value: unknown): value is RedisClientLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function' &&
    'isReady' in value
  );
}

/** Options every store takes, as zod fields (strict: an unknown key is an error). */
export const connectionFields = {
  client: z
    .custom<RedisClientLike>(isClientLike, {
      message: 'must be a node-redis client (createClient() of redis or @redis/client)',
    })
    .optional(),
  url: z.string().optional(),
  namespace: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().max(2_147_483_647).optional(),
  onWarning: z
    .custom<(warning: RedisStoreWarning) => void>((value) => typeof value === 'function', {
      message: 'must be a function',
    })
    .optional(),
};

/** Options every store takes. */
export interface RedisConnectionOptions {
  /** Your node-redis client (the store never closes it). Give this or `url`. */
  client?: RedisClientLike;
  /** A `redis://` or `rediss://` URL: the store opens its own connection and `close()` ends it. */
  url?: string;
  /** The prefix of every key the store writes. Default `embedkit`. */
  namespace?: string;
  /**
   * How long one command may take before the store treats Redis as unavailable, in ms; after one has
   * timed out, Redis is skipped until it answers a background PING. Default 2,000.
   */
  timeoutMs?: number;
  /**
   * Told when Redis becomes unavailable (the store falls back), when what the store falls back for
   * changes (Redis refusing writes, then lost; answering again while it still refuses writes), and once
   * when it answers again and does all it refused. An outage where Redis refuses writes (out of memory, a
   * read-only replica) ends when a write succeeds again, not at the first read. Default:
   * `process.emitWarning` with type `EmbedkitRedisWarning` and the warning's code.
   */
  onWarning?: (warning: RedisStoreWarning) => void;
}

/** `options` checked against `schema`; a bad one is an `InvalidArgumentError` naming the field. */
export function readOptions<T>(schema: z.ZodType<T>, options: unknown, what: string): T {
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.map(String).join('.') || '(options)'}: ${issue.message}`)
      .join('; ');
    throw new InvalidArgumentError(`${what} options are invalid: ${issues}.`, {
      argument: String(parsed.error.issues[0]?.path[0] ?? 'options'),
    });
  }
  const value = parsed.data as RedisConnectionOptions;
  if ((value.client === undefined) === (value.url === undefined)) {
    throw new InvalidArgumentError(
      `${what} takes either a node-redis client ({ client }) or a URL ({ url: 'redis://localhost:6379' }), not ${value.client === undefined ? 'neither' : 'both'}.`,
      { argument: value.client === undefined ? 'url' : 'client' },
    );
  }
  return parsed.data;
}

/** `url` without its user and password (written `[REDACTED]@`, as core's redaction does), for messages. */
function shownUrl(url: URL): string {
  const user = url.username === '' && url.password === '' ? '' : '[REDACTED]@';
  return `${url.protocol}//${user}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** How to write a password that holds characters with a meaning in a URL, for messages. */
const ENCODE_PASSWORD =
  "percent-encode '@', '/', '#', '?' and '%' in the password (encodeURIComponent(password) does)";

function parseRedisUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const refuse = (problem: string): never => {
    throw new InvalidArgumentError(`${problem}; got "${redactGivenUrl(text)}".`, { argument: 'url' });
  };
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    refuse('url must look like redis://[[user]:password@]host[:port][/db] (or rediss:// for TLS)');
  }
  const parsed = url as URL;
  // An "@" after the host means the password holds an unencoded "/", "#" or "?" (which end the host
  // part) followed by "@": what was parsed as the host is part of the password.
  if (`${parsed.pathname}${parsed.search}${parsed.hash}`.includes('@')) {
    refuse(
      `url has an "@" after its host, so its password holds a character that ends the host part; ${ENCODE_PASSWORD}`,
    );
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    refuse(
      `url must not have a query ("?…") or a fragment ("#…"); if the password holds "?" or "#", ${ENCODE_PASSWORD}`,
    );
  }
  if (!/^(\/(\d+)?)?$/.test(parsed.pathname)) {
    refuse(
      `url's path must be empty or the database number (redis://host:6379/0), not "${parsed.pathname}"; if it is part of the password, ${ENCODE_PASSWORD}`,
    );
  }
  for (const [part, value] of [
    ['user', parsed.username],
    ['password', parsed.password],
  ] as const) {
    try {
      decodeURIComponent(value);
    } catch {
      refuse(
        /%(?![0-9a-f]{2})/i.test(value)
          ? `url's ${part} has a "%" not followed by two hex digits; percent-encode it as "%25" (encodeURIComponent(${part}) does)`
          : `url's ${part} has percent-escapes that are not UTF-8 text; percent-encode it with encodeURIComponent(${part})`,
      );
    }
  }
  return parsed;
}

/**
 * Whether `error` is an error reply of Redis (it answered, and refused the command), rather than no answer
 * at all. A client of another copy of node-redis has an `ErrorReply` class of its own: known by its name.
 */
function isErrorReply(error: unknown): boolean {
  if (error instanceof ErrorReply) return true;
  if (!(error instanceof Error)) return false;
  for (
    let proto: unknown = Object.getPrototypeOf(error);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === 'ErrorReply') return true;
  }
  return false;
}

/**
 * Whether `secret` could be a word of the text around it: shorter than 4 characters (core's redaction
 * leaves those out), or letters and digits only and shorter than 12 ("password", "secret", "cache"). A
 * longer one is no word of Redis's text, and core's redaction also finds its base64 forms (of 12 bytes
 * and more).
 */
function couldBeAWord(secret: string): boolean {
  return secret.length < 4 || (secret.length < 12 && /^[\p{L}\p{N}]+$/u.test(secret));
}

/**
 * Replies of Redis and errors of node-redis and of Node's sockets that are fixed words: the address,
 * the error code and a script's SHA-1 and line aside, which hold no password. A password that is one of
 * their words is no echo there, and cut out of them it showed itself in a known sentence ("WRONGPASS
 * [REDACTED] username-password pair" for "invalid", "[REDACTED] ECONNREFUSED" for "connect").
 */
const FIXED_TEXT = new RegExp(
  `^(?:${[
    'WRONGPASS invalid username-password pair or user is disabled\\.',
    'NOAUTH Authentication required\\.',
    "OOM command not allowed when used memory > 'maxmemory'\\.",
    "READONLY You can't write against a read only replica\\.",
    // Refusals of an ACL user that lacks a permission (Redis 7.0), naming the command refused.
    "NOPERM this user has no permissions to run the '[a-z]+(?:\\|[a-z-]+)?' command",
    'NOPERM this user has no permissions to access one of the keys used as arguments',
    "ERR The user executing the script can't run this command or subcommand",
    'Socket closed unexpectedly',
    'Connection timeout',
    // Node's socket errors: the system call, the error code and the address it was given.
    '(?:connect|read|write|getaddrinfo) E[A-Z]+(?: [\\w.:-]+)?',
  ].join('|')})(?: script: [0-9a-f]{40}, on @user_script:\\d+\\.)?$`,
);

/**
 * `text`, a description of an error that came from outside (Redis's reply, the socket's error), without
 * `secrets` (the URL's password): Redis or a proxy in front of it may echo the password. Only that text
 * goes through here, never the store's own words around it: they hold no password, and a password that
 * is a common word ("cache", "Redis") redacted there showed itself in a known sentence ("the [REDACTED]
 * misses"). For the same reason no password is cut out of Redis's and the socket's fixed texts, and one
 * that could be a word is removed elsewhere only where it stands as a whole value, not inside a longer word:
 * replies hold "passwords" and "username-password", which a password "password" cut apart. Any other
 * password is removed wherever it appears, in every form core's redaction knows.
 */
function hideSecrets(text: string, secrets: readonly string[]): string {
  if (FIXED_TEXT.test(text)) return text;
  let out = redact(
    text,
    secrets.filter((secret) => !couldBeAWord(secret)),
  );
  for (const secret of secrets.filter(couldBeAWord)) {
    const escaped = secret.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    // Not next to a letter or digit, nor to a hyphen or underscore that joins it to one ("user-ab"); but
    // right after a percent escape of any other character it is whole, whatever the escape's last hex digit
    // ("%3Ahunter2x%40", the password of a URL echoed encoded; not "%2D", an escaped hyphen).
    out = out.replace(
      new RegExp(
        `(?:(?<=%(?:2[0-9A-Ca-cE-Fe-f]|3[A-Fa-f]|40|5[B-Eb-e]|60|7[B-Fb-f]))|(?<![\\p{L}\\p{N}])(?<![\\p{L}\\p{N}][-_]))${escaped}(?![\\p{L}\\p{N}])(?![-_][\\p{L}\\p{N}])`,
        'gu',
      ),
      '[REDACTED]',
    );
  }
  return out;
}

/**
 * `text` ended as a sentence: a full stop is added unless it has one already (Redis's WRONGPASS reply
 * does), so that the sentence after it does not follow two.
 */
function asSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}

/** A Lua script, run by its SHA-1 and sent in full only when Redis does not know it yet. */
export interface LuaScript {
  source: string;
  sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * What an operation asks of Redis: `read` only reads, `write` may change what Redis holds (Redis refuses
 * those alone when it is out of memory or a read-only replica).
 */
export type OperationKind = 'read' | 'write';

export interface RedisLinkSettings {
  timeoutMs: number;
  onWarning: ((warning: RedisStoreWarning) => void) | undefined;
  /** What the store does without Redis, e.g. "the rate limiter uses this process's memory". */
  fallback: string;
  /** What the store does while Redis refuses operations of one kind, e.g. "the cache skips writes". */
  refused: Record<OperationKind, string>;
  /** What the store does again once Redis is back. */
  restored: string;
  /** Secrets never to print (the URL's password), removed from what Redis and the socket say. */
  secrets: string[];
  /** Ends a connection the store opened itself. */
  close: (() => Promise<void>) | undefined;
}

function emitWarning(warning: RedisStoreWarning): void {
  process.emitWarning(warning.message, { type: 'EmbedkitRedisWarning', code: warning.code });
}

/**
 * What fails, as a warning says it: Redis not reached, Redis refusing the store's login when it connects
 * again, or the kinds of operation it refuses (in `KINDS` order).
 */
type Outage = 'unreachable' | 'login-refused' | OperationKind[];

/** What Redis says when it refuses a login: a wrong user name or password, or none where one is required. */
const LOGIN_REFUSED = /^(?:WRONGPASS|NOAUTH)\b/;

const KINDS: readonly OperationKind[] = ['read', 'write'];

/** `kinds` as a warning names them: "writes", "reads and writes". */
const named = (kinds: readonly OperationKind[]) => kinds.map((kind) => `${kind}s`).join(' and ');

/** A command that got no answer within `timeoutMs`. */
class NoAnswerError extends Error {}

/** First and longest wait between two probes of a Redis that is not connected, in ms. */
const FIRST_PROBE_DELAY_MS = 50;
const MAX_PROBE_DELAY_MS = 2_000;

/**
 * One store's way to Redis. Every operation runs on Redis when the client is connected and answers in
 * time, and on the caller's local fallback otherwise; the first failure, each change of what falls back,
 * and the end of the outage are each reported once.
 *
 * Two kinds of failure end differently. Redis not reached (not connected, no answer) ends with any answer
 * from it. Redis refusing a command with an error reply (writes refused when it is out of memory with
 * `noeviction`, or a read-only replica after a failover; an error in a script) ends only when an
 * operation of the same kind (read or write) succeeds: a Redis that serves reads but refuses writes is
 * one outage, not one per call, and the limiter does not claim to share its budget while its scripts fail.
 * A refusal outlasts Redis being lost: a Redis out of memory that answers again still refuses writes, said
 * as such, until a write succeeds.
 *
 * A Redis that does not answer at all (hung, stopped, a partition that keeps the socket open) would make
 * every operation wait the whole `timeoutMs`. So once one times out, Redis is skipped: operations fall
 * back at once, and a single PING in the background waits for Redis to answer again (it queues behind
 * the commands already sent, so its answer means those are done too).
 */
export class RedisLink {
  readonly client: RedisClientLike;
  private readonly settings: RedisLinkSettings;
  /**
   * The kinds of operation Redis refused with an error reply, with what it said: each ends when one of its
   * kind succeeds (not when Redis is lost and answers again: a Redis out of memory still is).
   */
  private readonly refused = new Map<OperationKind, string>();
  /**
   * What the last warning said fails: Redis not reached, or the kinds of operation it refuses; undefined
   * when nothing does. Every change is told: by `redis-unavailable` while anything still falls back (an
   * outage that widens, or narrows, as when Redis answers again after it was lost and still refuses
   * writes), by `redis-restored` when nothing does.
   */
  private outage: Outage | undefined;
  /** Set when a command timed out: Redis is skipped until the probe hears it answer. */
  private silent = false;
  private closed = false;
  /** Whether an operation after close() was warned of (once). */
  private toldClosed = false;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: RedisClientLike, settings: RedisLinkSettings) {
    this.client = client;
    this.settings = settings;
  }

  /** True during an outage: from the first failure until Redis answers again and does what it refused. */
  get usingFallback(): boolean {
    return this.closed || this.outage !== undefined;
  }

  /**
   * Whether an operation of `kind` would now run on the local fallback without trying Redis (closed, Redis
   * skipped until it answers a PING, the client not connected) or after Redis refused its kind. Unlike
   * {@link usingFallback}, a read is not said to fall back while Redis serves reads and refuses writes.
   */
  fallsBack(kind: OperationKind): boolean {
    return this.closed || this.silent || !this.client.isReady || this.refused.has(kind);
  }

  /**
   * Runs `remote` on Redis, or `local` when Redis cannot be reached or refuses it, or the store is closed
   * (then without trying Redis: a client the store opened is gone, and one it was given is no longer its to use).
   */
  async run<T>(kind: OperationKind, remote: () => Promise<T>, local: () => T | Promise<T>): Promise<T> {
    if (this.closed) {
      this.tellClosed();
      return local();
    }
    if (this.silent) return local();
    if (!this.client.isReady) {
      this.lost('the client is not connected');
      return local();
    }
    let result: T;
    try {
      result = await this.inTime(remote());
    } catch (error) {
      // Dropped by close() (Redis had not answered within timeoutMs): no outage, the store is closed.
      if (this.closed) {
        this.tellClosed();
        return local();
      }
      if (isErrorReply(error)) {
        this.answered(kind, this.said(error));
      } else {
        this.lost(this.said(error));
        if (error instanceof NoAnswerError) this.skip();
      }
      return local();
    }
    this.answered(kind);
    return result;
  }

  /** Says once that an operation found the store closed, and what it does instead. */
  private tellClosed(): void {
    if (this.toldClosed) return;
    this.toldClosed = true;
    this.warn('redis-unavailable', `The store is closed; ${this.settings.fallback}.`);
  }

  /**
   * Redis answered: to a PING (no `kind`), an operation of `kind` it did, or one it refused with an error
   * reply (`refusal`, what it said). Redis is used again; what still fails is told when it changed.
   */
  private answered(kind: OperationKind | undefined, refusal?: string): void {
    // An answer to a command sent before close() ends no outage: the store no longer uses Redis.
    if (this.closed) return;
    // Its answer comes after those of the commands sent before it: none of them is left waiting.
    this.silent = false;
    if (kind !== undefined && refusal !== undefined) this.refused.set(kind, refusal);
    else if (kind !== undefined) this.refused.delete(kind);
    this.report(KINDS.filter((each) => this.refused.has(each)));
  }

  /**
   * Tells what fails now (`now`; no kind: nothing) when it is not what was told last: Redis lost
   * (`reason`), the kinds it refuses (each with what it said when it refused it last), or nothing.
   */
  private report(now: Outage, reason = ''): void {
    const before = this.outage;
    const next = now.length === 0 ? undefined : now;
    // Kinds are listed in one order: equal lists are the same text.
    if (String(next) === String(before)) return;
    this.outage = next;
    const { fallback, refused, restored } = this.settings;
    const back = (kinds: OperationKind[] | undefined) =>
      kinds === undefined ? 'Redis answers again' : `Redis accepts ${named(kinds)} again`;
    if (next === undefined) {
      this.warn('redis-restored', `${back(typeof before === 'string' ? undefined : before)}; ${restored}.`);
      return;
    }
    if (next === 'unreachable') {
      this.warn('redis-unavailable', `Redis is unavailable (${reason}); ${fallback} until it is back.`);
      return;
    }
    if (next === 'login-refused') {
      this.warn(
        'redis-unavailable',
        `Redis refused the store's login when it connected again (${reason}): check the user name and password in the URL against what Redis expects now; ${fallback} until Redis accepts them.`,
      );
      return;
    }
    /** Redis refusing `kinds` (`lead` and `when` around them), what it said, and what the store does meanwhile. */
    const refusing = (lead: string, kinds: OperationKind[], when = '') =>
      `${lead} ${named(kinds)}${when} (${kinds.map((kind) => this.refused.get(kind)).join('; ')}); ${kinds.length === 1 ? refused[kinds[0]!] : fallback} until Redis accepts them again.`;
    // Wider (refused first, or one kind more: the one refused now), or narrower: Redis answers again
    // after it was lost, or does again one of the kinds it refused.
    const added = typeof before === 'string' ? [] : next.filter((kind) => !before?.includes(kind));
    const ended = () =>
      typeof before === 'string' ? undefined : before!.filter((kind) => !next.includes(kind));
    this.warn(
      'redis-unavailable',
      added.length > 0
        ? refusing('Redis refuses', added)
        : refusing(`${back(ended())}, but refused`, next, ' when last asked'),
    );
  }

  /** Skips Redis until it answers a PING, sent one at a time (never one per caller). */
  private skip(): void {
    if (this.silent || this.closed) return;
    this.silent = true;
    this.probe(FIRST_PROBE_DELAY_MS);
  }

  private probe(delayMs: number): void {
    if (!this.silent || this.closed) return;
    const again = () => {
      if (this.closed) return;
      // Not connected (or the connection broke under the PING): try again later, waiting longer each time.
      this.probeTimer = setTimeout(() => this.probe(Math.min(delayMs * 2, MAX_PROBE_DELAY_MS)), delayMs);
      this.probeTimer.unref?.();
    };
    if (!this.client.isReady) {
      again();
      return;
    }
    // No timeout of its own: on a connection that stays open it waits for Redis however long it takes,
    // and a connection that breaks rejects it.
    this.client.sendCommand(['PING']).then(
      () => {
        if (this.silent && !this.closed) this.answered(undefined);
      },
      () => again(),
    );
  }

  /**
   * What `error` says: from outside (Redis's reply, the socket's error) without the URL's password; a
   * command that got no answer in the store's own words, as they are.
   */
  said(error: unknown): string {
    return error instanceof NoAnswerError
      ? error.message
      : hideSecrets(describe(error), this.settings.secrets);
  }

  /**
   * Records that Redis cannot be reached (`reason`, in the store's own words or {@link said}): told unless
   * that is what was told last (the refusals known stay, for when Redis answers again).
   */
  lost(reason: string): void {
    // A login refused on reconnecting (the password changed on Redis) is no restart to wait out: told so.
    if (!this.closed) this.report(LOGIN_REFUSED.test(reason) ? 'login-refused' : 'unreachable', reason);
  }

  /** Runs `script` by its SHA-1; sends the source only when Redis answers that it does not know it. */
  async script(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.client.sendCommand(['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.client.sendCommand(['EVAL', script.source, ...tail]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probeTimer);
    await this.settings.close?.();
  }

  private warn(code: RedisStoreWarning['code'], message: string): void {
    (this.settings.onWarning ?? emitWarning)({ code, message });
  }

  private inTime<T>(promise: Promise<T>): Promise<T> {
    const { timeoutMs } = this.settings;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NoAnswerError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }
}

/** How a URL holds a user name or password, as the hints of a refused login say it. */
const ENCODE = 'percent-encode any @, :, /, #, ? or % in a user name or password (encodeURIComponent)';

/**
 * What to do after a failed first connection, by what Redis said: a refused login (WRONGPASS), or a login
 * Redis requires (NOAUTH), is about the URL's user name and password, which are never shown; anything
 * else, about where Redis runs.
 */
function connectHint(said: string, url: URL): string {
  if (/^NOAUTH\b/.test(said) && url.username === '' && url.password === '')
    return `Redis requires a password, which the URL does not give: add it as redis://:password@host (or redis://user:password@host), and ${ENCODE}.`;
  if (LOGIN_REFUSED.test(said))
    return `Redis refused the user name or password in the URL: check them, and ${ENCODE}.`;
  return 'Check that Redis runs there and that the URL is right.';
}

/** Longest wait between two reconnection attempts, in ms. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * The link for `options`: the user's client as given, or a connection opened from `url` that fails at
 * once with a `ConnectionError` naming the host (never the password) when Redis cannot be reached, and
 * afterwards reconnects forever in the background.
 */
export async function openLink(
  options: RedisConnectionOptions,
  text: { fallback: string; refused: Record<OperationKind, string>; restored: string },
): Promise<RedisLink> {
  const settings = {
    timeoutMs: options.timeoutMs ?? 2_000,
    onWarning: options.onWarning,
    ...text,
  };
  if (options.client !== undefined) {
    return new RedisLink(options.client, { ...settings, secrets: [], close: undefined });
  }
  const url = parseRedisUrl(options.url!);
  const secrets = [decodeURIComponent(url.password)].filter((secret) => secret !== '');
  let connected = false;
  const client = createClient({
    url: options.url!,
    // Commands fail at once while the connection is down instead of queueing until it is back: the
    // stores fall back to local state meanwhile.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: settings.timeoutMs,
      // Before the first connection, a failure is final (a wrong URL must not hang); after it, retry forever.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) : cause,
    },
  });
  let link: RedisLink | undefined;
  // node-redis emits 'error' on every failed reconnection; without a listener that would crash the process.
  client.on('error', (error: unknown) => link?.lost(link.said(error)));
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    const said = hideSecrets(describe(error), secrets);
    throw new ConnectionError(
      `cannot connect to Redis at ${shownUrl(url)}: ${asSentence(said)} ${connectHint(said, url)}`,
      { url: shownUrl(url) },
    );
  }
  connected = true;
  link = new RedisLink(client as unknown as RedisClientLike, {
    ...settings,
    secrets,
    close: async () => {
      if (!client.isOpen) {
        client.destroy();
        return;
      }
      // close() waits for the answers to every command sent; a Redis that gives none would hold it
      // forever, so after timeoutMs the connection is dropped instead.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), settings.timeoutMs);
      });
      const closing = client.close().then(() => 'closed' as const);
      if ((await Promise.race([closing, late])) === 'late') client.destroy();
      clearTimeout(timer);
    },
  });
  return link;
}
