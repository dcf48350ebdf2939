import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeResult } from '../src/smoke.js';
import {
  bundle,
  expectSmoke,
  type LoopbackServer,
  smokeSettings,
  startLoopbackApi,
  startPageServer,
} from './harness.js';
import { requireRuntime } from './locate.js';
import { findChromium, pageFiles, runInChromium } from './runtimes.js';

describe('headless Chromium', () => {
  let api: LoopbackServer;
  let page: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    api = await startLoopbackApi();
    // The settings go in the page; the API is on another port, so every call is cross-origin (CORS).
    page = await startPageServer(
      pageFiles(smokeSettings(api), await bundle('browser.ts', { platform: 'browser' })),
    );
  });
  afterAll(async () => {
    await page.close();
    await api.close();
  });

  it('runs the browser bundle: the replay, and embed and embedMany across origins over fetch', async (context) => {
    const binary = requireRuntime(findChromium(), context);
    if (binary === undefined) return;
    const { report, console } = await runInChromium<SmokeResult>(binary, page.url);
    if (!report.ok) throw new Error(`the page failed: ${report.error}\n${console.join('\n')}`);
    expectSmoke(report.result, api, new URL(page.url).origin);
    // Authorization and a JSON body make every cross-origin call preflighted; fetch may cache a preflight.
    expect(api.preflights).toBeGreaterThanOrEqual(1);
    expect(console.filter((line) => line.startsWith('exception') || line.startsWith('error'))).toEqual([]);
  });
});
