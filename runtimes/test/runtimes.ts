/**
 * Starting the runtimes the tests run in: Bun and Deno as processes that run a bundled runner, headless
 * Chromium as a page driven over the DevTools protocol.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { RUNTIMES_ROOT } from './harness.js';
import { locate } from './locate.js';

// The runner keeps the packages as imports (`--external:@embedkit/*`): each runtime resolves them itself,
// through their package.json export conditions, from this workspace's node_modules.
export const RUNNER = join(RUNTIMES_ROOT, '.smoke', 'run.mjs');

export const RUNTIMES = [
  {
    name: 'bun',
    find: () =>
      locate('bun', {
        variable: 'EMBEDKIT_BUN',
        candidates: ['.ci/runtimes/node_modules/.bin/bun'],
        install: 'npm install --prefix .ci/runtimes bun (as .ci/run does)',
      }),
    args: (runner: string, _variables?: string[]) => ['run', runner],
  },
  {
    name: 'deno',
    find: () =>
      locate('deno', {
        variable: 'EMBEDKIT_DENO',
        candidates: ['.ci/runtimes/node_modules/.bin/deno'],
        install: 'npm install --prefix .ci/runtimes deno (as .ci/run does)',
      }),
    // Only the loopback server, the settings variable (and any `variables` a test names) and the
    // packages' files.
    args: (runner: string, variables: string[] = []) => [
      'run',
      '--allow-net=127.0.0.1',
      `--allow-env=${['EMBEDKIT_SMOKE_SETTINGS', ...variables].join(',')}`,
      '--allow-read',
      runner,
    ],
  },
];

export function runProcess(
  binary: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: RUNTIMES_ROOT,
      // The temporary directory of the test run goes along, so a file the runtime left there fails the run.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        TMPDIR: tmpdir(),
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Flags for a headless run that reaches nothing but loopback and leaves nothing behind. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--remote-debugging-port=0',
];

/** Just enough of the DevTools protocol: send a command (to a page session or the browser), await its answer. */
class DevTools {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly console: string[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: {
          type?: string;
          args?: { value?: unknown; description?: string }[];
          exceptionDetails?: { text?: string; exception?: { description?: string } };
        };
      };
      if (message.id !== undefined) {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result);
      } else if (message.method === 'Runtime.consoleAPICalled') {
        this.console.push(
          `${message.params?.type}: ${(message.params?.args ?? []).map((arg) => String(arg.value ?? arg.description)).join(' ')}`,
        );
      } else if (message.method === 'Runtime.exceptionThrown') {
        const details = message.params?.exceptionDetails;
        this.console.push(`exception: ${details?.exception?.description ?? details?.text}`);
      }
    });
  }

  static open(url: string): Promise<DevTools> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener('open', () => resolve(new DevTools(socket)));
      socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
    });
  }

  send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.next++;
    this.socket.send(
      JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) }),
    );
    return new Promise((resolve, reject) =>
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject }),
    );
  }

  close(): void {
    this.socket.close();
  }
}

/** Starts Chromium and resolves with the browser's DevTools address, which it prints on stderr. */
export function launch(binary: string, profile: string): Promise<{ child: ChildProcess; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) resolve({ child, endpoint: match[1]! });
    });
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`chromium exited (${code}) before listening:\n${stderr}`)));
  });
}

/**
 * Opens `url` in a fresh headless Chromium, waits for the page's `window.smokeOutcome` and returns it
 * parsed, with what the page logged; the browser is stopped and its profile removed whatever happens.
 */
export async function runInChromium<T>(
  binary: string,
  url: string,
): Promise<{ report: { ok: true; result: T } | { ok: false; error: string }; console: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'embedkit-chromium-'));
  // Set once started: a launch or a connection that fails still removes the profile (and stops Chromium).
  let child: ChildProcess | undefined;
  let devtools: DevTools | undefined;
  try {
    const launched = await launch(binary, profile);
    child = launched.child;
    devtools = await DevTools.open(launched.endpoint);
    const { targetId } = await devtools.send<{ targetId: string }>('Target.createTarget', {
      url: 'about:blank',
    });
    const { sessionId } = await devtools.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    await devtools.send('Runtime.enable', {}, sessionId);
    await devtools.send('Page.enable', {}, sessionId);
    await devtools.send('Page.navigate', { url }, sessionId);
    // Waits in the page for the module script to have started its run, then for its outcome.
    const { result } = await devtools.send<{ result: { value?: string } }>(
      'Runtime.evaluate',
      {
        expression: `new Promise((resolve) => { const wait = () => window.smokeOutcome ? window.smokeOutcome.then(resolve) : setTimeout(wait, 20); wait(); })`,
        awaitPromise: true,
        returnByValue: true,
        timeout: 60_000,
      },
      sessionId,
    );
    return {
      report: JSON.parse(result.value ?? '{"ok":false,"error":"no outcome"}'),
      console: devtools.console,
    };
  } finally {
    if (child !== undefined) {
      const browser = child;
      const exited = new Promise((resolve) => {
        if (browser.exitCode !== null || browser.signalCode !== null) resolve(undefined);
        else browser.once('exit', resolve);
      });
      await devtools?.send('Browser.close').catch(() => {});
      devtools?.close();
      // Browser.close lets Chromium shut down cleanly; a kill is the fallback if the command was lost,
      // and the only way when there was no connection to send it on.
      const stop = setTimeout(() => browser.kill('SIGKILL'), devtools === undefined ? 0 : 10_000);
      await exited;
      clearTimeout(stop);
    }
    // Its helper processes may still be flushing the profile for a moment after the browser exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}

/** Where Debian's Chromium is (`.ci/run` installs it). */
export function findChromium() {
  return locate('chromium', {
    variable: 'EMBEDKIT_CHROMIUM',
    candidates: ['/usr/bin/chromium'],
    install: "Debian's chromium package (apt-get install -y chromium, as .ci/run does)",
  });
}

/** The page that runs the browser bundle with `settings` (kept on `window.smokeSettings`). */
export function pageFiles(settings: unknown, script: string): Record<string, { type: string; body: string }> {
  const html = `<!doctype html><meta charset="utf-8"><title>embedkit smoke</title>
<script>window.smokeSettings = ${JSON.stringify(settings)};</script>
<script type="module" src="/smoke.js"></script>`;
  return {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/smoke.js': { type: 'text/javascript; charset=utf-8', body: script },
  };
}
