/**
 * Bun's and Deno's own `fetch` go through the proxy `HTTP_PROXY` (and its kin) names, which they read
 * themselves, sending its credentials as `Proxy-Authorization`; a plain `http://` API goes through it too,
 * loopback included. A proxy's error page that echoes those credentials must not put the password in the
 * error `embed` throws there: not in its message, nor in any string reachable from it, nor in how the
 * runtime prints it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEchoReport } from '../src/proxy-echo.js';
import { bundle, type LoopbackServer, RUNTIMES_ROOT, startLoopbackApi } from './harness.js';
import { requireRuntime } from './locate.js';
import { RUNTIMES, runProcess } from './runtimes.js';

const PROXY_RUNNER = join(RUNTIMES_ROOT, '.smoke', 'proxy.mjs');
const KEY = 'sk-fake-not-a-real-key-abc';
/** Written percent-encoded in the proxy's URL (`%40`), sent decoded. */
const PASSWORD = 'fake-proxy-p@ss-3c9e';
const PASSWORD_IN_URL = 'fake-proxy-p%40ss-3c9e';
const BASIC = Buffer.from(`user:${PASSWORD}`).toString('base64');

/** The variables each runtime's fetch reads (Deno reads `ALL_PROXY` as well; Bun does not). */
const VARIABLES: Record<string, string[]> = {
  bun: ['HTTP_PROXY', 'http_proxy'],
  deno: ['HTTP_PROXY', 'all_proxy'],
};

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** A forward proxy that answers every request with a 502 page echoing the credentials it was sent. */
async function startEchoProxy(): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const authorization = request.headers['proxy-authorization'];
    seen.push({ method: request.method ?? '', url: request.url ?? '', authorization });
    const decoded = Buffer.from((authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    request.resume();
    response
      .writeHead(502, { 'content-type': 'text/html', connection: 'close' })
      .end(
        `<p>user:password ${decoded} may not reach this host</p><pre>Proxy-Authorization: ${authorization}</pre>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

describe.each(RUNTIMES)('$name', (runtime) => {
  let proxy: Awaited<ReturnType<typeof startEchoProxy>>;
  /** The API the call names, which the proxy stands between: a runtime that went to it directly would get a 200. */
  let api: LoopbackServer;
  beforeAll(async () => {
    proxy = await startEchoProxy();
    api = await startLoopbackApi();
    mkdirSync(join(RUNTIMES_ROOT, '.smoke'), { recursive: true });
    writeFileSync(PROXY_RUNNER, await bundle('run.ts', { platform: 'neutral', external: ['@embedkit/*'] }));
  });
  // Each closed whatever became of the other: a start that failed leaves the one before it to close.
  afterAll(async () => {
    if (proxy !== undefined)
      await new Promise<void>((resolve) => {
        proxy.server.closeAllConnections();
        proxy.server.close(() => resolve());
      });
    await api?.close();
  });

  it.for(VARIABLES[runtime.name]!)(
    'behind %s, a proxy page echoing the credentials: the error holds neither the password nor its Basic token',
    async (variable, context) => {
      // Bug: the fetch transport counted the proxy variables' credentials as secrets only for Node's fetch
      // told to read them; Bun and Deno read them always, and the echoed password reached the error.
      const binary = requireRuntime(runtime.find(), context);
      if (binary === undefined) return;
      proxy.seen.length = 0;
      // Deno is let read the variable (its fetch reads it without leave).
      const outcome = await runProcess(binary, runtime.args(PROXY_RUNNER, [variable]), {
        EMBEDKIT_SMOKE_SETTINGS: JSON.stringify({ proxyEcho: { apiBaseURL: api.baseURL, apiKey: KEY } }),
        [variable]: `http://user:${PASSWORD_IN_URL}@127.0.0.1:${proxy.port}`,
      });
      const line = outcome.stdout.trim().split('\n').pop() ?? '';
      const report = JSON.parse(line === '' ? '{"ok":false,"error":"no output"}' : line) as
        | { ok: true; result: ProxyEchoReport }
        | { ok: false; error: string };
      if (!report.ok) throw new Error(`${runtime.name} failed: ${report.error}\n${outcome.stderr}`);
      // The call went through the proxy, with its credentials: the page did echo the password.
      expect(proxy.seen).toEqual([
        { method: 'POST', url: `${api.baseURL}/embeddings`, authorization: `Basic ${BASIC}` },
      ]);
      expect(api.requests).toEqual([]);
      const { strings, ...error } = report.result;
      expect(error).toEqual({
        name: 'ServerError',
        code: 'server_error',
        statusCode: 502,
        message:
          'openai API error 502: a non-JSON text/html: user:password [REDACTED] may not reach this host Proxy-Authorization: Basic [REDACTED] — The API failed on its side; retries are turned off (maxRetries 0), so none was made.',
      });
      expect(strings['error.responseBody']).toBe(
        '<p>user:password [REDACTED] may not reach this host</p><pre>Proxy-Authorization: Basic [REDACTED]</pre>',
      );
      const leaks = Object.entries(strings).filter(([, text]) =>
        [PASSWORD, PASSWORD_IN_URL, BASIC].some((secret) => text.includes(secret)),
      );
      expect(leaks.map(([path]) => path)).toEqual([]);
    },
  );
});
