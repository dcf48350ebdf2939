/**
 * A call through the proxy the runtime's own `fetch` reads from the environment (Bun and Deno read
 * `HTTP_PROXY` and its kin themselves): `embed` against an API root the proxy answers for, with a page
 * that echoes the credentials it was sent. Reports the error as every string a program could show of
 * it, so that the test that starts it can look for the proxy's password in each. Imports nothing from
 * Node, like the smoke.
 */
import { EmbedKitError, embed } from '@embedkit/core';
import { createOpenAI } from '@embedkit/provider-openai';

export interface ProxyEchoSettings {
  /** The API root the call goes to (through the proxy), e.g. `http://127.0.0.1:9/v1`. */
  apiBaseURL: string;
  /** The fake key of the call. */
  apiKey: string;
}

export interface ProxyEchoReport {
  name: string;
  code?: string;
  statusCode?: number;
  message: string;
  /** Every string reachable from the error by its own keys, getters included, by path; and its renderings. */
  strings: Record<string, string>;
}

/** The runtime's own rendering of a value, as `console.log` shows it (Bun's and Deno's `inspect`). */
const inspect =
  (globalThis as { Deno?: { inspect?(value: unknown, options: object): string } }).Deno?.inspect ??
  (globalThis as { Bun?: { inspect?(value: unknown, options: object): string } }).Bun?.inspect;

function collect(value: unknown, path: string, out: Record<string, string>, seen: Set<unknown>): void {
  if (typeof value === 'string') {
    out[path] = value;
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Error) {
    out[`${path}<String>`] = String(value);
    out[`${path}<stack>`] = String(value.stack);
  }
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    const field = descriptor?.get === undefined ? descriptor?.value : descriptor.get.call(value);
    collect(field, `${path}.${String(key)}`, out, seen);
  }
}

export async function runProxyEcho(settings: ProxyEchoSettings): Promise<ProxyEchoReport> {
  const model = createOpenAI({ apiKey: settings.apiKey, baseURL: settings.apiBaseURL }).embedding(
    'text-embedding-3-small',
  );
  const error = await embed({ model, input: 'item 7', dimensions: 4, maxRetries: 0 }).then(
    () => new Error('the call went through: no proxy answered it'),
    (failure: unknown) => failure,
  );
  const strings: Record<string, string> = {};
  collect(error, 'error', strings, new Set());
  strings['<JSON>'] = JSON.stringify(error) ?? '';
  if (inspect !== undefined) strings['<inspect>'] = inspect(error, { depth: 12 });
  const report: ProxyEchoReport = {
    name: (error as Error).name,
    message: String((error as Error).message),
    strings,
  };
  if (EmbedKitError.isInstance(error)) {
    report.code = error.code;
    if (error.statusCode !== undefined) report.statusCode = error.statusCode;
  }
  return report;
}
