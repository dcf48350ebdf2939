import { type ChildProcess, execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openPipe } from '../src/file-system.js';
import {
  bulkArgs,
  filesIn,
  type RunResult,
  readCheckpointFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
  within,
} from './helpers.js';

// A FIFO (named pipe) as the input, with no process writing to it: opening it waits, on a thread of
// libuv's pool, until one comes, and process.exit waits for those threads to finish. Such a run reaches
// no safe point until the open returns. Before the fix, neither a first signal (the run never got to
// stop) nor a second (process.exit waited on the open) ended it: only SIGKILL did.

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
  ): Promise<RunResult | undefined> {
    const answering = await startFakeOpenAI();
    let child: ChildProcess | undefined;
    try {
      const running = runCli(bulkArgs(answering, input, out, ['--format', 'txt']), {
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

// FIFOs from mkfifo, with the test at the writing end: any system with named pipes.
describe.skipIf(process.platform === 'win32')('FIFOs read and refused', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  afterAll(() => directory.remove());

  it('a signal while bulk reads a FIFO whose writer stalls ends the run at once, with its code, releasing the lock (bug: it said "interrupted", then stayed alive until the writer wrote or closed)', async () => {
    const input = file('stalling.txt');
    execFileSync('mkfifo', [input]);
    const out = file('from-stalling.jsonl');
    const answering = await startFakeOpenAI();
    let child: ChildProcess | undefined;
    let writer: FileHandle | undefined;
    try {
      const running = runCli(bulkArgs(answering, input, out, ['--format', 'txt', '--batch-size', '1']), {
        onSpawn: (spawned) => {
          child = spawned;
        },
      });
      // The open for writing goes through once bulk has opened the FIFO to read it.
      writer = await Promise.race([
        open(input, 'w'),
        running.then((ended) => {
          throw new Error(`bulk ended before it opened its input: ${ended.stderr}`);
        }),
      ]);
      await writer.write('item 1\nitem 2\n');
      // Both lines embedded and saved; the writer, still there, sends nothing more.
      await waitFor(() => readCheckpointFile(out)?.inputsDone === 2, 'the two lines saved');
      child!.kill('SIGINT');
      const exited = await within(running, 5_000);
      expect(exited, 'the process ended within 5 s of the signal').toBeDefined();
      expect(exited).toMatchObject({ code: 130, signal: null });
      expect(exited!.stderr).toContain('interrupted. 2 inputs are done and saved in');
      expect(existsSync(`${out}.lock`)).toBe(false);
      expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 2, complete: false });
    } finally {
      child?.kill('SIGKILL');
      // An open for writing still waiting (bulk never opened its input) is let through.
      if (writer === undefined) closeSync(openSync(input, constants.O_RDONLY | constants.O_NONBLOCK));
      await writer?.close();
      await answering.close();
    }
  });

  it('openPipe reads a FIFO to its end when the writer wrote everything and left before the read began (bug, in a version that opened it a second time to read it on the event loop: that open was never told the writer had left, and the read waited for ever)', async () => {
    const path = file('quick-writer.fifo');
    execFileSync('mkfifo', [path]);
    const opening = openPipe(path);
    // A writer's open without waiting fails (ENXIO) until the reader's open is there.
    let descriptor: number | undefined;
    while (descriptor === undefined) {
      try {
        descriptor = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENXIO') throw error;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    // Written and closed in this same turn: the reader's open, done meanwhile on another thread, is
    // seen by openPipe only after the writer has gone.
    writeSync(descriptor, 'item 1\nitem 2\n');
    closeSync(descriptor);
    const pipe = await opening;
    const reading = (async () => {
      let text = '';
      for await (const chunk of pipe) text += String(chunk);
      return text;
    })();
    const text = await Promise.race([
      reading,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3_000)),
    ]);
    pipe.destroy();
    expect(text, 'the end of the FIFO came within 3 s').toBe('item 1\nitem 2\n');
  });

  it('an output that is a FIFO is refused before anything is read or sent (bug: with --overwrite, bulk waited for a reader, paid for the first batch, then failed with ESPIPE)', async () => {
    const input = file('for-fifo.txt');
    writeFileSync(input, 'item 1\nitem 2\n');
    const answering = await startFakeOpenAI();
    try {
      for (const [out, named] of [
        [file('to-fifo.jsonl'), 'to-fifo.jsonl'],
        [file('rows.npy'), 'rows.meta.jsonl'],
      ] as const) {
        execFileSync('mkfifo', [file(named)]);
        const result = await runCli(bulkArgs(answering, input, out, ['--format', 'txt', '--overwrite']));
        expect(result.code).toBe(2);
        expect(result.stderr).toBe(
          `embedkit: error: ${file(named)} is a named pipe (FIFO); bulk writes a file it can resume, so --out must name a regular file or a path that does not exist yet.\nRun "embedkit bulk --help" for usage.\n`,
        );
        expect(existsSync(`${out}.checkpoint`)).toBe(false);
        expect(existsSync(`${out}.lock`)).toBe(false);
      }
      expect(answering.requests).toBe(0);
    } finally {
      await answering.close();
    }
  });
});
