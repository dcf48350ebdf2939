import { mkdirSync, writeFileSync } from 'node:fs';
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
import { requireRuntime } from './locate.js';
import { RUNNER, RUNTIMES, runProcess } from './runtimes.js';

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
    const outcome = await runProcess(binary, runtime.args(RUNNER), {
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
