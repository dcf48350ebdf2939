import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeResult } from '../src/smoke.js';
import {
  bundle,
  expectSmoke,
  type LoopbackServer,
  RUNTIMES_ROOT,
  smokeSettings,
  startLoopbackApi,
} from './harness.js';
import { locate, requireRuntime } from './locate.js';

// The runner keeps the packages as imports (`--external:@embedkit/*`): each runtime resolves them itself,
// through their package.json export conditions, from this workspace's node_modules.
const RUNNER = join(RUNTIMES_ROOT, '.smoke', 'run.mjs');

const RUNTIMES = [
  {
    name: 'bun',
    find: () =>
      locate('bun', {
        variable: 'EMBEDKIT_BUN',
        candidates: ['.ci/runtimes/node_modules/.bin/bun'],
        install: 'npm install --prefix .ci/runtimes bun (as .ci/run does)',
      }),
    args: (runner: string) => ['run', runner],
  },
  {
    name: 'deno',
    find: () =>
      locate('deno', {
        variable: 'EMBEDKIT_DENO',
        candidates: ['.ci/runtimes/node_modules/.bin/deno'],
        install: 'npm install --prefix .ci/runtimes deno (as .ci/run does)',
      }),
    // Only the loopback server, the settings variable and the packages' files.
    args: (runner: string) => [
      'run',
      '--allow-net=127.0.0.1',
      '--allow-env=EMBEDKIT_SMOKE_SETTINGS',
      '--allow-read',
      runner,
    ],
  },
];

function run(
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

describe.each(RUNTIMES)('$name', (runtime) => {
  let api: LoopbackServer;
  beforeAll(async () => {
    api = await startLoopbackApi();
    mkdirSync(join(RUNTIMES_ROOT, '.smoke'), { recursive: true });
    writeFileSync(RUNNER, await bundle('run.ts', { platform: 'neutral', external: ['@embedkit/*'] }));
  });
  afterAll(() => api.close());

  it('replays a cassette and runs embed and embedMany over fetch against a loopback server', async (context) => {
    const binary = requireRuntime(runtime.find(), context);
    if (binary === undefined) return;
    const outcome = await run(binary, runtime.args(RUNNER), {
      EMBEDKIT_SMOKE_SETTINGS: JSON.stringify(smokeSettings(api)),
    });
    const line = outcome.stdout.trim().split('\n').pop() ?? '';
    const report = JSON.parse(line === '' ? '{"ok":false,"error":"no output"}' : line) as
      | { ok: true; result: SmokeResult }
      | { ok: false; error: string };
    if (!report.ok) throw new Error(`${runtime.name} failed: ${report.error}\n${outcome.stderr}`);
    expect(outcome.code).toBe(0);
    expectSmoke(report.result, api, undefined);
  });
});
