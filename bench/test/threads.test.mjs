// The per-thread CPU reading behind the peer report's "off the main thread" share.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { threadCpuMs } from '../src/threads.mjs';

/** The process's CPU ms (every thread), from getrusage: a reading apart from /proc's per-thread one. */
function processCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Works until this process has used `ms` of CPU (or 10 s have passed). Counted in CPU, not wall time: on
 * a busy machine a thread gets less CPU than the time it spends (a 300 ms spin by the clock once read 180
 * ms), and the test is of where CPU time is counted, not of how much a second holds.
 */
function spin(ms) {
  const target = processCpuMs() + ms;
  const deadline = performance.now() + 10_000;
  let x = 0;
  while (processCpuMs() < target && performance.now() < deadline)
    for (let step = 0; step < 10_000; step++) x += Math.sqrt(x + 1);
  return x;
}

// /proc/self/task exists on Linux only; elsewhere the report shows no share, which the last test checks.
describe.runIf(existsSync('/proc/self/task'))('threadCpuMs', () => {
  it('counts work on the main thread as main, and work on another thread in all only', async () => {
    const start = threadCpuMs();
    spin(300);
    const afterMain = threadCpuMs();
    expect(afterMain.main - start.main).toBeGreaterThanOrEqual(200);
    expect(afterMain.all - start.all).toBeGreaterThanOrEqual(afterMain.main - start.main);

    // The worker spins, says so, then blocks until told to go: a thread that has exited is gone from
    // /proc/self/task, and its time with it, so it must still be there when it is read.
    const hold = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      // It spins until the process has used 400 ms more CPU (the main thread waits idle meanwhile), as
      // `spin` does.
      'const { parentPort, workerData } = require("node:worker_threads"); const used = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }; const target = used() + 400; const deadline = performance.now() + 10000; let x = 0; while (used() < target && performance.now() < deadline) for (let i = 0; i < 10000; i++) x += Math.sqrt(x + 1); parentPort.postMessage(x); Atomics.wait(workerData, 0, 0);',
      { eval: true, workerData: hold },
    );
    // The main thread waits (idle) while the worker spins.
    const spun = new Promise((resolve) => worker.once('message', resolve));
    await spun;
    const afterWorker = threadCpuMs();
    Atomics.store(hold, 0, 1);
    Atomics.notify(hold, 0);
    await worker.terminate();
    expect(afterWorker.all - afterMain.all).toBeGreaterThanOrEqual(300);
    expect(afterWorker.main - afterMain.main).toBeLessThan(150);
  });
});

describe.skipIf(existsSync('/proc/self/task'))('threadCpuMs without /proc', () => {
  it('is undefined', () => {
    expect(threadCpuMs()).toBeUndefined();
  });
});
