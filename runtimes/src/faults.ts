/**
 * Answers that break on the wire, as each runtime's default transport meets them: every case calls `embed`
 * against its own path of a loopback server that answers badly on purpose, and reports how the call
 * ended, how long it took and which retries the engine made. Like the smoke it imports nothing from Node,
 * so it runs unchanged in a page, in Bun, in Deno and in Node itself; the test that starts it checks what
 * it returns.
 */
import { EmbedKitError, embed, RetryError } from '@embedkit/core';
import { createOpenAI } from '@embedkit/provider-openai';
import { type ProxyEchoSettings, runProxyEcho } from './proxy-echo.js';
import { runSmoke, type SmokeSettings } from './smoke.js';

export interface FaultSettings {
  /** The loopback server's origin, e.g. `http://127.0.0.1:43210`; each case calls `{origin}/{case}/v1`. */
  origin: string;
  /** The fake key the loopback server expects. */
  apiKey: string;
  /** The cases to run; default all. */
  cases?: FaultCase[];
}

/** An error as a plain object, so that it crosses out of a page or a process as JSON. */
export interface FaultError {
  name: string;
  code?: string;
  isRetryable?: boolean;
  statusCode?: number;
  retryAfterMs?: number;
  message: string;
}

export interface FaultOutcome {
  /** The first value of the vector when the call succeeded. */
  vector?: number;
  /** How the call failed: for a `RetryError`, `last` is its last attempt's error. */
  error?: FaultError & { attempts?: number; last?: FaultError };
  /** Each retry as `onRetry` heard it. */
  retries: { attempt: number; delayMs: number; error: FaultError }[];
  /** From the call's start to its end, in milliseconds. */
  elapsedMs: number;
}

/** Each case: the call's settings besides the model and its input. */
export const FAULT_CASES = {
  /** A 429 with `Retry-After: 1`, then a 200. */
  'retry-after': { maxRetries: 2 },
  /** The same, from a server that does not expose `Retry-After` to a page (CORS). */
  'retry-after-unexposed': { maxRetries: 2 },
  /** A 503 whose `content-encoding: gzip` body is garbage, every time. */
  'corrupt-gzip-503': { maxRetries: 1 },
  /** A 200 whose JSON body ends early, on a socket destroyed before its Content-Length is reached. */
  'cut-200': { maxRetries: 1 },
  /**
   * A call that goes through, then one whose request, sent again on the same kept-alive connection, meets
   * that connection closed before any answer (the request was read whole), then a 200.
   */
  'reset-reused': { maxRetries: 1 },
  /** A 200 whose body stalls after the headers and a few bytes. */
  'stalled-200': { maxRetries: 1, timeoutMs: 500 },
  /** A 200 of 64 MiB without a Content-Length, against `maxResponseBytes` of 1 MB. */
  'oversized-200': { maxRetries: 1, maxResponseBytes: 1_000_000 },
  /** A 200 whose JSON body is sent gzip-compressed. */
  'gzip-200': { maxRetries: 0 },
  /** A 200 gzip body that inflates without end, against `maxResponseBytes` of 1 MB. */
  'gzip-bomb': { maxRetries: 1, maxResponseBytes: 1_000_000 },
} as const;

export type FaultCase = keyof typeof FAULT_CASES;

function plain(error: unknown): FaultError {
  if (!EmbedKitError.isInstance(error)) {
    return {
      name: (error as Error)?.name ?? typeof error,
      message: String((error as Error)?.message ?? error),
    };
  }
  const out: FaultError = {
    name: error.name,
    code: error.code,
    isRetryable: error.isRetryable,
    message: error.message,
  };
  if (error.statusCode !== undefined) out.statusCode = error.statusCode;
  if (error.retryAfterMs !== undefined) out.retryAfterMs = error.retryAfterMs;
  return out;
}

async function runCase(settings: FaultSettings, name: FaultCase): Promise<FaultOutcome> {
  const { maxResponseBytes, ...call } = FAULT_CASES[name] as {
    maxRetries: number;
    timeoutMs?: number;
    maxResponseBytes?: number;
  };
  const model = createOpenAI({
    apiKey: settings.apiKey,
    baseURL: `${settings.origin}/${name}/v1`,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  }).embedding('text-embedding-3-small');
  // The first call opens the connection the measured one is sent on again.
  if (name === 'reset-reused') await embed({ model, input: 'item 7', dimensions: 4, maxRetries: 0 });
  const retries: FaultOutcome['retries'] = [];
  const started = performance.now();
  try {
    const result = await embed({
      model,
      input: 'item 7',
      dimensions: 4,
      ...call,
      onRetry: (event) =>
        retries.push({ attempt: event.attempt, delayMs: event.delayMs, error: plain(event.error) }),
    });
    return { vector: result.embedding[0]!, retries, elapsedMs: performance.now() - started };
  } catch (error) {
    const elapsedMs = performance.now() - started;
    const out: FaultOutcome['error'] = plain(error);
    if (RetryError.isInstance(error)) {
      out.attempts = error.attempts;
      out.last = plain(error.lastError);
    }
    return { error: out, retries, elapsedMs };
  }
}

/**
 * Runs the cases one after another, in the order of `FAULT_CASES`: a runtime whose fetch keeps reading a
 * refused body (Bun goes on reading a cancelled one's connection) must not slow the cases after it.
 */
export async function runFaults(settings: FaultSettings): Promise<Partial<Record<FaultCase, FaultOutcome>>> {
  const out: Partial<Record<FaultCase, FaultOutcome>> = {};
  for (const name of settings.cases ?? (Object.keys(FAULT_CASES) as FaultCase[])) {
    out[name] = await runCase(settings, name);
  }
  return out;
}

/** What a runner runs: the fault cases or the proxy's echo when the settings name them, else the smoke. */
export type SuiteSettings = SmokeSettings | { faults: FaultSettings } | { proxyEcho: ProxyEchoSettings };

export function runSuite(settings: SuiteSettings): Promise<unknown> {
  if ('faults' in settings) return runFaults(settings.faults);
  return 'proxyEcho' in settings ? runProxyEcho(settings.proxyEcho) : runSmoke(settings);
}
