import { checkWholeNumber, describeValue } from './argument-checks.js';
import {
  answerProblem,
  answerSource,
  countMismatch,
  type VectorExpectation,
  vectorExpectation,
  vectorProblem,
} from './engine/checks.js';
import { type Clock, MAX_TIMER_MS, systemClock } from './engine/clock.js';
import { checkCallback, checkClock } from './engine/settings.js';
import { onAbort, untilAborted } from './engine/signal.js';
import { InvalidArgumentError, InvalidResponseError, reindexInput } from './errors.js';
import type { EmbeddingModelMiddleware } from './middleware.js';
import { bareBaseURL } from './provider-utils.js';
import { refuseUnknownSettings, type SettingNames } from './setting-names.js';
import type { Embedding, EmbeddingModel, EmbedInput, EmbedRequest, EmbedResponse } from './types.js';

/**
 * Where cached vectors live: the in-memory LRU below, on disk (`@embedkit/cache-disk`), in Redis
 * (`@embedkit/redis`), or your own. A store with a network or disk behind it should also implement the
 * batched methods: `cacheMiddleware` then reads and writes a whole call in one round trip. It should also
 * bound its own waits (the Redis store answers misses after 2 s): the middleware waits `storeTimeoutMs` at most,
 * a read still pending when the call times out or its caller aborts ends the call, and a write still
 * pending then goes on unwatched while the answer is returned. A store that did not answer in that time,
 * or whose read threw or rejected, is then asked by no call for `storeCooldownMs`. Each method should
 * first call `checkCacheStoreArguments`.
 */
export interface CacheStore {
  get(key: string): Promise<Embedding | undefined> | Embedding | undefined;
  set(key: string, value: Embedding): Promise<void> | void;
  /** Reads every key at once; answers one entry per key, in key order. Optional: default one `get` per key. */
  getMany?(keys: readonly string[]): Promise<(Embedding | undefined)[]> | (Embedding | undefined)[];
  /** Writes every entry at once. Optional: default one `set` per entry. */
  setMany?(entries: readonly (readonly [key: string, value: Embedding])[]): Promise<void> | void;
  /**
   * Whether the store now does `kind` on a stand-in of its own rather than its storage: reads that miss,
   * writes that are dropped (the Redis store while Redis is away or refuses them). Optional: a store that
   * answers from its storage or fails needs none. `cacheMiddleware` asks it only of a store it skipped and
   * tries again: such an answer is no sign that the store is back, and it is skipped again.
   */
  degraded?(kind: 'read' | 'write'): boolean;
}

/** Trouble with a cache store, after which the call went on without it, or the end of that trouble. */
export interface CacheStoreWarning {
  /**
   * `cache-read-failed`: the store could not be read, and the call's inputs counted as misses;
   * `cache-write-failed`: it could not be written, and the answer was returned without being stored (each
   * says when the store is skipped for `storeCooldownMs`); `cache-resumed`: a skipped store answered
   * again, from its storage (not `degraded`), and is used as before.
   */
  code: 'cache-read-failed' | 'cache-write-failed' | 'cache-resumed';
  message: string;
}

export interface CacheMiddlewareOptions {
  /** Where vectors are kept. Default: `createMemoryCacheStore()`. */
  store?: CacheStore | undefined;
  /**
   * Told when the store fails to read or to write, once until that works again. An error it throws ends
   * the call it was told in (what it was told still holds: a store told `cache-resumed` is back). Default:
   * `process.emitWarning` with type `EmbedkitCacheWarning` and the warning's code (`console.warn` where
   * there is no `process`).
   */
  onWarning?: ((warning: CacheStoreWarning) => void) | undefined;
  /**
   * How long a read or write of the store is waited for, in milliseconds, before it counts as failed: the
   * read's inputs as misses, the write's answer as unstored. Set it above a store's own limit (the Redis
   * store's `timeoutMs`, 2,000 by default), so that the store gives up first. Default 5,000.
   */
  storeTimeoutMs?: number | undefined;
  /**
   * How long the store is skipped after a read or write of it was not answered within `storeTimeoutMs`,
   * or a read of it threw or rejected, in milliseconds: calls meanwhile count every input as a miss and
   * store nothing, rather than each wait for a store that is down. Each skip is told once through
   * `onWarning` (reads failing together, as calls in flight when a connection drops, are one skip);
   * after it one call asks the store again (the others still skip it until it answers), and it is
   * skipped again if that fails (its read or its write) or the store says it answered from a fallback of
   * its own (`degraded`), or used as before (told once) if it answers. Otherwise a write that throws or
   * rejects skips nothing (a full disk still reads). Default 30,000; 0 asks the store on every call.
   */
  storeCooldownMs?: number | undefined;
  /**
   * The time `storeCooldownMs` is counted on: only its `now()` is read (the engine's `Clock`, as
   * `embedMany` takes one). Default: `systemClock`, which never steps. Give a test's clock to end a
   * cooldown when the test says so; `storeTimeoutMs` runs on real timers, as the engine's `timeoutMs` does.
   */
  clock?: Clock | undefined;
}

const CACHE_MIDDLEWARE_OPTIONS: SettingNames<CacheMiddlewareOptions> = {
  store: true,
  onWarning: true,
  storeTimeoutMs: true,
  storeCooldownMs: true,
  clock: true,
};
const MEMORY_STORE_OPTIONS: SettingNames<MemoryCacheStoreOptions> = { maxEntries: true };

/** `options` of `owner`: an object (or absent) whose every name is one of `known`. */
function checkOptions(options: unknown, owner: string, known: Readonly<Record<string, true>>): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${owner} takes an options object, or none.`, { argument: 'options' });
  }
  refuseUnknownSettings(options, known, owner, { noun: 'option' });
}

export interface MemoryCacheStoreOptions {
  /** The most vectors kept; the least recently used goes first. Default 10,000. */
  maxEntries?: number | undefined;
}

/**
 * Refuses arguments of a `CacheStore` method that the interface does not take, with an
 * `InvalidArgumentError` naming the method and the argument: a store is called directly too (to warm or
 * inspect a cache), and there a key of 5 or a number[] vector was a TypeError, or a failure blamed on the
 * store's disk or server. Every store calls it first in its `get`, `set`, `getMany` and `setMany`.
 */
export function checkCacheStoreArguments(
  method: 'get' | 'set' | 'getMany' | 'setMany',
  ...args: unknown[]
): void {
  const refuse = (name: string, value: unknown, wanted: string) => {
    const type = ArrayBuffer.isView(value) ? value.constructor.name : '';
    const shown = type === '' ? describeValue(value) : `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type}`;
    throw new InvalidArgumentError(`A cache store's ${method} takes ${name} as ${wanted}, got ${shown}.`, {
      argument: name.replace(/\[.*/, ''),
    });
  };
  const key = (name: string, value: unknown) => {
    if (typeof value !== 'string') refuse(name, value, 'a string');
  };
  const vector = (name: string, value: unknown) => {
    if (!(value instanceof Float32Array || value instanceof Int8Array || value instanceof Uint8Array))
      refuse(name, value, 'a Float32Array, an Int8Array or a Uint8Array');
  };
  const list = (name: string, value: unknown): unknown[] =>
    Array.isArray(value) ? value : refuse(name, value, 'a list');
  if (method === 'get') key('key', args[0]);
  else if (method === 'set') {
    key('key', args[0]);
    vector('value', args[1]);
  } else if (method === 'getMany') {
    for (const [index, item] of list('keys', args[0]).entries()) key(`keys[${index}]`, item);
  } else {
    for (const [index, item] of list('entries', args[0]).entries()) {
      const entry = list(`entries[${index}]`, item);
      key(`entries[${index}][0]`, entry[0]);
      vector(`entries[${index}][1]`, entry[1]);
    }
  }
}

/** An in-memory least-recently-used store. */
export function createMemoryCacheStore(
  options: MemoryCacheStoreOptions = {},
): CacheStore & { readonly size: number; clear(): void } {
  checkOptions(options, 'createMemoryCacheStore', MEMORY_STORE_OPTIONS);
  checkWholeNumber(options.maxEntries, 'maxEntries', 1);
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Embedding>();
  return {
    get size() {
      return entries.size;
    },
    get(key) {
      checkCacheStoreArguments('get', key);
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      checkCacheStoreArguments('set', key, value);
      entries.delete(key);
      entries.set(key, value);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    clear() {
      entries.clear();
    },
  };
}

/**
 * One canonical form per input: a string and `{ text }` with no title are the same input; a title, an
 * image's bytes or URL and its media type are part of it, whatever order the object's keys came in.
 */
function serializeInput(input: EmbedInput): unknown {
  if (typeof input === 'string') return ['text', input, null];
  if ('text' in input) return ['text', input.text, input.title ?? null];
  if ('image' in input) {
    const image = input.image instanceof Uint8Array ? ['bytes', bytesKey(input.image)] : ['url', input.image];
    return ['image', image, input.mediaType ?? null];
  }
  return [
    'content',
    input.content.map((part) =>
      part.type === 'text'
        ? ['text', part.text]
        : 'data' in part
          ? ['bytes', bytesKey(part.data), part.mediaType]
          : ['url', part.url],
    ),
  ];
}

/**
 * The same value with every object's keys in sorted order, so that key order never changes a cache key.
 * The copy has no prototype: an own `__proto__` key (as `JSON.parse` makes one) assigned to a plain
 * object would go through `Object.prototype`'s setter and drop out of the key, and two requests that
 * differ only there would share their vectors.
 */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return out;
}

function bytesKey(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * The cache key of one input: SHA-256 over every setting that changes the vector, the input, and the
 * server when the model names one other than its provider's own (`customBaseURL`), so that two servers
 * serving one model name never share entries. (Keys of the provider's own server are as before.) A
 * provider's `headers` and `queryParams` are not in it: they carry keys, and a rotated key would empty the
 * cache; routes that a header tells apart need stores or namespaces of their own.
 */
export async function cacheKey(
  model: EmbeddingModel,
  request: Omit<EmbedRequest, 'inputs'>,
  input: EmbedInput,
): Promise<string> {
  return keyOf(model, serverOf(model), request, input);
}

/**
 * The server a model's vectors come from when it is not its provider's own, as requests reach it: a
 * trailing slash of the base URL is dropped before the path is added, so it changes no key.
 */
function serverOf(model: EmbeddingModel): string | undefined {
  const url = model.customBaseURL?.();
  return url === undefined ? undefined : bareBaseURL(url);
}

async function keyOf(
  model: EmbeddingModel,
  server: string | undefined,
  request: Omit<EmbedRequest, 'inputs'>,
  input: EmbedInput,
): Promise<string> {
  const material = JSON.stringify([
    'embedkit-cache-v2',
    model.provider,
    model.modelId,
    request.inputType ?? null,
    request.dimensions ?? null,
    request.outputType ?? 'float',
    request.truncate ?? false,
    sortedKeys(request.providerOptions ?? null),
    serializeInput(input),
    ...(server === undefined ? [] : [server]),
  ]);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(material));
  return bytesKey(new Uint8Array(digest));
}

/** How a stored vector is named, were its problem ever told. */
const storedVector = () => 'a stored vector';
/** How the entry the store answered for an input is named when it is refused. */
const storedEntry = (index: number) => `the entry of input ${index}`;
/** Who answered an entry that is refused: the store, not the model's provider. */
const STORE = 'the cache store';
/** What a wait for a store that was skipped, or failed, answers. */
const SKIPPED: unique symbol = Symbol('skipped');

/** The reason a store failed, as its warning says it. */
const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function copy(vector: Embedding): Embedding {
  return vector.slice();
}

/** The default `onWarning` of cache stores: `process.emitWarning` (type `EmbedkitCacheWarning`), else `console.warn`. */
export function emitCacheWarning(warning: CacheStoreWarning): void {
  emitProcessWarning(warning.message, 'EmbedkitCacheWarning', warning.code);
}

/**
 * `process.emitWarning` with `type` and `code`, else `console.warn`: where a warning goes when its caller
 * gave no `onWarning`, so that it is never lost without a word.
 */
export function emitProcessWarning(message: string, type: string, code: string): void {
  if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') {
    process.emitWarning(message, { type, code });
  } else {
    console.warn(`${type} [${code}]: ${message}`);
  }
}

/** How a cache that failed to read or write goes on: what the warning says after the failure's reason. */
export interface CacheFailureMessages {
  read(reason: string): string;
  write(reason: string): string;
}

/**
 * Reports a cache's read and write failures through `onWarning`: each kind once, and again only after it
 * has worked in between, so that a full disk or a lost server is said once, not on every call.
 */
export function cacheFailureReporter(
  onWarning: (warning: CacheStoreWarning) => void,
  messages: CacheFailureMessages,
): { worked(kind: 'read' | 'write'): void; failed(kind: 'read' | 'write', error: unknown): void } {
  const failing = { read: false, write: false };
  return {
    worked(kind) {
      failing[kind] = false;
    },
    failed(kind, error) {
      if (failing[kind]) return;
      failing[kind] = true;
      onWarning({ code: `cache-${kind}-failed`, message: messages[kind](reasonOf(error)) });
    },
  };
}

/**
 * Serves repeated inputs from `store` and sends only the misses, in one call. Stored vectors are
 * copies (never views into a response slab), and callers get copies too, so mutating a result is safe.
 * The cache never fails a call: a store that cannot be read makes every input a miss, and one that cannot
 * be written leaves an answer that was already paid for unstored; `onWarning` hears of each once. A store
 * that does not answer within `storeTimeoutMs`, or whose read throws or rejects, is skipped for
 * `storeCooldownMs` (30 s by default), so that a store that is down costs one wait, not one per call.
 * Refuses, when built, a store whose `get` or `set` is no function, or whose `getMany` or `setMany` is
 * there and no function.
 */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): EmbeddingModelMiddleware {
  checkOptions(options, 'cacheMiddleware', CACHE_MIDDLEWARE_OPTIONS);
  const given = options.store as Record<string, unknown> | null | undefined;
  // A method that is no function failed at the first call, as a warning on every call: refused here.
  // get and set (the short names) must be there; the others may be absent.
  if (given !== undefined)
    for (const name of ['get', 'set', 'getMany', 'setMany', 'degraded'])
      if (typeof given?.[name] !== 'function' && (given?.[name] !== undefined || name.length < 4))
        throw new InvalidArgumentError(
          `store must be a CacheStore with get(key) and set(key, value), e.g. createMemoryCacheStore() or openDiskCacheStore({ directory }); its ${name} is ${describeValue(given?.[name])}.`,
          { argument: 'store' },
        );
  checkCallback(options.onWarning, 'onWarning');
  checkWholeNumber(options.storeTimeoutMs, 'storeTimeoutMs', 1, MAX_TIMER_MS);
  const storeTimeoutMs = options.storeTimeoutMs ?? 5_000;
  checkWholeNumber(options.storeCooldownMs, 'storeCooldownMs', 0);
  const storeCooldownMs = options.storeCooldownMs ?? 30_000;
  checkClock(options.clock);
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createMemoryCacheStore();
  const onWarning = options.onWarning ?? emitCacheWarning;
  const { worked, failed } = cacheFailureReporter(onWarning, {
    read: (reason) =>
      `The embedding cache could not be read (${reason}); inputs count as misses until it can.`,
    write: (reason) =>
      `The embedding cache could not be written (${reason}); answers are returned without being cached until it can.`,
  });
  /**
   * The breaker. Until `skipUntil` the store is not asked (`Infinity` while one call tries it again after
   * a skip); `skipped` says a skip was told: the next call to ask is the one that tries the store again,
   * and only its answer ends the skip (told). The releases of the waits in flight
   * end them all when the store is skipped: calls that came during the first hang wait no longer than it.
   */
  let skipUntil = 0;
  let skipped = false;
  const waits = new Set<() => void>();
  /**
   * What the store answered, or `SKIPPED` when it was skipped or failed (told already). A wait longer
   * than `storeTimeoutMs` and a read that throws or rejects skip the store for `storeCooldownMs`: a
   * store that does not answer (or bounds its own wait and then rejects) would cost every call that
   * wait, on its read and again on its write. A write that throws or rejects
   * does not, unless it is the call trying a skipped store again: the store answered, and what fails is writing alone (a full disk, a read-only replica),
   * where skipping its reads would send for vectors the store holds. While the caller waits, the timer
   * may be all that keeps the process running to end the wait (a store whose promise holds no socket or
   * file); once `signal` aborts nobody waits, and it holds the process open no more (Node's `unref`; a
   * browser's timer is a number, with none). The store's answer still decides the breaker.
   */
  const ask = async <T>(
    kind: 'read' | 'write',
    work: () => T | Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T | typeof SKIPPED> => {
    if (clock.now() < skipUntil) return SKIPPED;
    // The one call that tries a skipped store again: only its answer ends the skip (not a read that began
    // before the failure and settles just after it).
    const retry = skipped;
    if (retry) skipUntil = Number.POSITIVE_INFINITY;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopWatching: (() => void) | undefined;
    let release = () => {};
    let late = false;
    let answer: T;
    try {
      answer = await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          release = () => reject(SKIPPED);
          waits.add(release);
          timer = setTimeout(() => {
            late = true;
            reject(new Error(`${STORE} did not answer within ${storeTimeoutMs} ms`));
          }, storeTimeoutMs);
          const unref = () => (timer as { unref?: () => void }).unref?.();
          if (signal?.aborted) unref();
          else if (signal !== undefined) stopWatching = onAbort(signal, unref);
        }),
      ]);
      // A store that answered from its fallback (misses, a write dropped) is not back.
      if (retry && store.degraded?.(kind)) throw new Error(`${STORE} answers from its fallback`);
    } catch (error) {
      // A failure in the turn of another's skip (reads in flight when a connection drops) is of the outage
      // told: only the call trying the store again starts another.
      if (error === SKIPPED || (skipped && !retry)) return SKIPPED;
      // A call trying the store again after a skip (`retry`) found it still down, whatever failed: a write
      // may be that call, one whose read was skipped and whose model answered after the cooldown.
      if (storeCooldownMs > 0 && (late || kind === 'read' || retry)) {
        skipUntil = clock.now() + storeCooldownMs;
        skipped = true;
        for (const end of waits) end();
        onWarning({
          code: `cache-${kind}-failed`,
          message: `The embedding cache could not be ${kind === 'read' ? 'read' : 'written'} (${reasonOf(error)}); ${STORE} is skipped for ${storeCooldownMs} ms (inputs count as misses, answers are not cached), then one call tries it again.`,
        });
      } else {
        failed(kind, error);
      }
      return SKIPPED;
    } finally {
      clearTimeout(timer);
      stopWatching?.();
      waits.delete(release);
    }
    if (retry) {
      // Told once the store counts as back, outside the wait: an error of the callback is no failure of
      // the store, and reaches the caller as that of the cache's other warnings does.
      skipped = false;
      skipUntil = 0;
      onWarning({
        code: 'cache-resumed',
        message: 'The embedding cache answers again after being skipped; it is read and written as before.',
      });
    }
    return answer;
  };
  // A store that cannot keep an answer (a full disk) must not lose it: the failure is a warning.
  const write = async (entries: [string, Embedding][], signal: AbortSignal | undefined) => {
    const written = await ask<unknown>(
      'write',
      () =>
        store.setMany !== undefined
          ? store.setMany(entries)
          : Promise.all(entries.map(([key, vector]) => store.set(key, vector))),
      signal,
    );
    if (written !== SKIPPED) worked('write');
  };
  /** The length of the last sound answer of each model, output type and dimensions that state none. */
  const answeredLengths = new Map<string, number>();
  return {
    async wrapEmbed({ doEmbed, request, model }): Promise<EmbedResponse> {
      const server = serverOf(model);
      const keys = await Promise.all(request.inputs.map((input) => keyOf(model, server, request, input)));
      let stored: (Embedding | undefined)[] = keys.map(() => undefined);
      let read = false;
      // A store that never answers (a client queueing while its server is away) must not hold the call past
      // its timeout or the caller's abort, nor for ever in a call with neither: the wait is raced against
      // the call's signal and storeTimeoutMs.
      const answer: unknown = await untilAborted(
        ask(
          'read',
          () =>
            store.getMany === undefined
              ? Promise.all(keys.map((key) => store.get(key)))
              : store.getMany(keys),
          request.signal,
        ),
        request.signal,
      );
      // A batched read that answers no list (a client that gave up and answered nothing) failed: read
      // on, the call would end in a TypeError. One entry too few or too many, and which vector is whose
      // input is unknown: served, the call failed on the count (or, called directly, an input after the
      // gap got its neighbour's vector).
      if (answer !== SKIPPED) {
        if (!Array.isArray(answer))
          failed('read', `the store answered ${describeValue(answer)} where a list of vectors belongs`);
        else if (answer.length !== keys.length)
          failed('read', `the store answered ${answer.length} entries for ${keys.length} keys`);
        else {
          stored = answer;
          read = true;
        }
      }
      // An entry the engine would refuse (another length than the call asks, another typed array, a NaN:
      // a value damaged on disk, say) would fail every call with its input: it is a miss, and the answer
      // replaces it.
      const expectation = vectorExpectation(
        request.outputType ?? 'float',
        request.dimensions,
        model.capabilities.defaultDimensions,
      );
      // Where the model states no length (an OpenAI-compatible server), the length its last answers had is
      // the test: an entry of another length was stored from another model served under this name.
      const lengthKey = `${model.provider}\u0000${model.modelId}\u0000${server ?? ''}\u0000${expectation.outputType}\u0000${request.dimensions ?? ''}`;
      const length = expectation.length ?? answeredLengths.get(lengthKey);
      // Such an entry is the store's fault (keys hold the model, its settings and the input): said once,
      // as a failed read, until a read has every entry sound. Not so one of another length than this
      // process's answers where the model states none: the server's model was replaced.
      let refused: string | undefined;
      const found = stored.map((vector, index) => {
        // A key-value client answers a missing key with null (Redis's GET): a miss as undefined is.
        if (vector === undefined || vector === null) return undefined;
        const problem = vectorProblem(STORE, vector, expectation, length, index, storedEntry);
        if (problem === undefined) return vector;
        if (
          expectation.length !== undefined ||
          vectorProblem(STORE, vector, expectation, undefined, index, storedEntry) !== undefined
        )
          refused ??= problem;
        return undefined;
      });
      if (read) refused === undefined ? worked('read') : failed('read', refused.slice(0, -1));
      const missing: number[] = [];
      for (let index = 0; index < found.length; index++) if (found[index] === undefined) missing.push(index);
      // Held to no length, entries of two lengths cannot all be this model's (some were stored from the
      // model served under this name before), and which are is unknown until it answers: every input is
      // sent. Returned, they would fail the call in the engine's check, and every later call with them.
      if (
        missing.length === 0 &&
        length === undefined &&
        found.some((vector) => vector!.length !== found[0]!.length)
      )
        for (let index = 0; index < found.length; index++) {
          found[index] = undefined;
          missing.push(index);
        }
      if (missing.length === 0) {
        return {
          embeddings: found.map((vector) => copy(vector!)),
          usage: { inputTokens: 0 },
          warnings: [],
          response: { status: 200, headers: { 'x-embedkit-cache': 'hit' } },
        };
      }
      const embeddings = found.map((vector) => (vector === undefined ? undefined : copy(vector)));
      // The answer is paid for: a write still pending when the call's signal aborts (a store that never
      // answers) goes on by itself, and the answer is returned.
      const writeUnlessAborted = (entries: [string, Embedding][]) =>
        untilAborted(write(entries, request.signal), request.signal).catch((error: unknown) => {
          if (!request.signal?.aborted) throw error;
        });
      const sending: Sending = {
        request,
        keys,
        embeddings,
        expectation,
        length,
        doEmbed,
        model,
        write: writeUnlessAborted,
      };
      const first = await sendMisses(sending, missing);
      let response = first.response;
      const answeredLength = first.answeredLength;
      if (expectation.length === undefined && answeredLength !== undefined) {
        answeredLengths.set(lengthKey, answeredLength);
        // Entries held to no length (the first call of a process) must have the answer's: any other was
        // stored from another model, and is sent again in a second request.
        const stale: number[] = [];
        for (let index = 0; index < found.length; index++)
          if (found[index] !== undefined && found[index]!.length !== answeredLength) stale.push(index);
        if (stale.length > 0) {
          const again = (await sendMisses({ ...sending, length: answeredLength }, stale)).response;
          const { usage, ...rest } = response;
          response = { ...rest, warnings: [...(response.warnings ?? []), ...(again.warnings ?? [])] };
          if (usage !== undefined && again.usage !== undefined)
            response.usage = { inputTokens: usage.inputTokens + again.usage.inputTokens };
        }
      }
      return { ...response, embeddings: embeddings as Embedding[] };
    },
  };
}

/** What a call of the cache needs to send its misses and place their answers. */
interface Sending {
  request: EmbedRequest;
  keys: string[];
  /** The call's vectors, by input: filled in place as answers come. */
  embeddings: (Embedding | undefined)[];
  expectation: VectorExpectation;
  /** The length the answers must have, when known. */
  length: number | undefined;
  doEmbed: (request: EmbedRequest) => Promise<EmbedResponse>;
  model: EmbeddingModel;
  write(entries: [string, Embedding][]): Promise<void>;
}

/**
 * Sends the inputs at `missing` (each distinct one once: an input repeated in the call is paid for once;
 * nothing in a request depends on an input's position, so re-packing is safe), places the answers into
 * `embeddings`, and stores the sound ones. Returns the response and, when the answer is sound, its length.
 */
async function sendMisses(
  sending: Sending,
  missing: number[],
): Promise<{ response: EmbedResponse; answeredLength: number | undefined }> {
  const { request, keys, embeddings, expectation, model } = sending;
  const sent: number[] = [];
  const positionOfKey = new Map<string, number>();
  const positions = missing.map((inputIndex) => {
    const key = keys[inputIndex]!;
    let position = positionOfKey.get(key);
    if (position === undefined) {
      position = sent.push(inputIndex) - 1;
      positionOfKey.set(key, position);
    }
    return position;
  });
  const forwarded: EmbedRequest = { ...request, inputs: sent.map((index) => request.inputs[index]!) };
  let response: EmbedResponse;
  try {
    response = await sending.doEmbed(forwarded);
  } catch (error) {
    // The API named an input of the misses it was sent; the caller knows them by their place in its call.
    throw reindexInput(
      error,
      (inCall) => sent[inCall] ?? inCall,
      (index) => `(input ${index} of the call; the cache sent only the inputs it did not hold)`,
    );
  }
  const answered: unknown = response?.embeddings;
  // An answer with a vector too many or too few cannot be placed: which vector is whose is unknown.
  if (!Array.isArray(answered) || answered.length !== sent.length) {
    const note =
      sent.length === request.inputs.length
        ? ''
        : ` (the cache sent the ${sent.length} of the call's ${request.inputs.length} inputs it did not hold)`;
    throw new InvalidResponseError(
      countMismatch(model.provider, answered, sent.length, 'vector', 'input', note),
      answerSource(model.provider, response?.response),
    );
  }
  // A vector the engine refuses (it names it by its place in the call and the job), or any vector of an
  // answer it refuses for its other parts (usage that is no count, say), is placed but never stored:
  // stored, it would be served again to every later call with its input, and the engine's refusal of the
  // answer would hold only once.
  const length = sending.length ?? (answered[0] as Embedding | undefined)?.length;
  const sound =
    answerProblem(model.provider, response) === undefined &&
    answered.every(
      (vector, position) =>
        vectorProblem(model.provider, vector, expectation, length, position, storedVector) === undefined,
    );
  const entries: [string, Embedding][] = [];
  missing.forEach((inputIndex, order) => {
    const position = positions[order]!;
    const vector = answered[position] as Embedding;
    // The first of a repeated input takes the answer's vector; each repeat, a copy of its own.
    const first = sent[position] === inputIndex;
    embeddings[inputIndex] = first || !sound ? vector : copy(vector);
    if (first && sound) entries.push([keys[inputIndex]!, copy(vector)]);
  });
  if (entries.length > 0) await sending.write(entries);
  return { response, answeredLength: sound ? length : undefined };
}
