import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../src/progress.js';

// In-process with an injected clock: the share done and the ETA of a resumed run.

describe('bulk progress', () => {
  it('a resumed run estimates from its own pace: the inputs done before it took no time now (bug: ETA 6.7 s for 40 s of work left)', () => {
    let now = 1_000_000;
    const progress = new ProgressReporter({
      mode: 'none',
      intervalSeconds: 10,
      resumedInputs: 500,
      resumedBytes: 5_000,
      totalBytes: 10_000,
      now: () => now,
    });
    now += 10_000;
    progress.done(100, 6_000);
    const shown = progress.snapshot();
    expect(shown.inputs).toBe(600);
    expect(shown.percent).toBe(60);
    // 1,000 bytes in 10 s, 4,000 bytes to go.
    expect(shown.etaSeconds).toBe(40);
  });

  it('no ETA before this run has written anything, and none without a size (stdin)', () => {
    const progress = new ProgressReporter({
      mode: 'none',
      intervalSeconds: 10,
      resumedInputs: 0,
      totalBytes: 100,
    });
    expect(progress.snapshot().etaSeconds).toBeUndefined();
    const stdin = new ProgressReporter({ mode: 'none', intervalSeconds: 10, resumedInputs: 0 });
    stdin.done(5, 50);
    expect(stdin.snapshot()).toMatchObject({ percent: undefined, etaSeconds: undefined });
  });
});
