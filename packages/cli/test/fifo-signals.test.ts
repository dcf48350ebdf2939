import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  filesIn,
  type RunResult,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
} from './helpers.js';

// A FIFO (named pipe) with no process at its other end: opening it waits, on a thread of libuv's pool,
// until one comes, and process.exit waits for those threads to finish. Such a run reaches no safe point
// until the open returns. Before the fix, neither a first signal (the run never got to stop) nor a second
// (process.exit waited on the open) ended it: only SIGKILL did.

/** Whether a thread of process `pid` waits in the kernel for the other end of a FIFO. */
function waitsOnFifo(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    return readdirSync(`/proc/${pid}/task`).some(
      (task) => readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8').trim() === 'wait_for_partner',
    );
  } catch {
    return false;
  }
}

/** `running`, or undefined when it has not ended within `ms`. */
function within(running: Promise<RunResult>, ms: number): Promise<RunResult | undefined> {
  return Promise.race([
    running,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

/**
 * Whether this system shows where a thread waits: Linux, whose /proc gives a sleeping process's wait
 * channel (some kernels show "0" to everyone, and the wait could not be seen there).
 */
function waitChannelsShown(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const shown = execFileSync('sh', ['-c', 'sleep 2 & sleep 0.2; cat /proc/$!/wchan; kill $!'], {
      encoding: 'utf8',
    }).trim();
    return shown !== '' && shown !== '0';
  } catch {
    return false;
  }
}

// The FIFOs come from mkfifo and the wait is seen in /proc (a thread's wchan): Linux showing wait
// channels only.
describe.skipIf(!waitChannelsShown())('bulk waiting to open a FIFO (Linux, wait channels shown)', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);

  afterAll(() => directory.remove());

  /**
   * Runs bulk until it waits on a FIFO, sends `signal`, and resolves with how it ended (undefined if it
   * had not within 5 s).
   */
  async function interruptWhileWaiting(
    input: string,
    out: string,
    signal: NodeJS.Signals,
    extra: string[] = [],
  ): Promise<RunResult | undefined> {
    const answering = await startFakeOpenAI();
    let child: ChildProcess | undefined;
    try {
      const running = runCli(bulkArgs(answering, input, out, ['--format', 'txt', ...extra]), {
        onSpawn: (spawned) => {
          child = spawned;
        },
      });
      await waitFor(() => waitsOnFifo(child?.pid), 'the open of the FIFO', { everyMs: 20 });
      child!.kill(signal);
      return await within(running, 5_000);
    } finally {
      child?.kill('SIGKILL');
      await answering.close();
    }
  }

  it('a signal while the output is a FIFO no process reads ends the run at once, with its code, releasing the lock (bug: it never exited)', async () => {
    const input = file('for-fifo.txt');
    writeFileSync(input, 'item 1\nitem 2\n');
    const out = file('no-reader.jsonl');
    execFileSync('mkfifo', [out]);
    // An existing output is replaced only when asked.
    const exited = await interruptWhileWaiting(input, out, 'SIGINT', ['--overwrite']);
    expect(exited, 'the process ended within 5 s of the signal').toBeDefined();
    expect(exited).toMatchObject({ code: 130, signal: null });
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('a signal while the input is a FIFO no process writes ends the run at once, with its code (bug: it never exited)', async () => {
    const input = file('no-writer.txt');
    execFileSync('mkfifo', [input]);
    const out = file('from-fifo.jsonl');
    const exited = await interruptWhileWaiting(input, out, 'SIGTERM');
    expect(exited, 'the process ended within 5 s of the signal').toBeDefined();
    expect(exited).toMatchObject({ code: 143, signal: null });
    expect(existsSync(out)).toBe(false);
  });
});
