import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeServer,
  filesIn,
  firstValues,
  heldBulkRun,
  itemLines,
  range,
  readCheckpointFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

// One run per output: the lock file beside it, what a live, a stale and a foreign lock do, and the
// checkpoint's temporary files. Each case names the bug it catches.

/** A PID that was just used and is free now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('bulk: the output lock', () => {
  const directory = temporaryDirectory();
  let fast: FakeServer;
  const file = filesIn(directory.path);

  beforeAll(async () => {
    fast = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fast.close();
    directory.remove();
  });

  const bulk = (server: FakeServer, input: string, out: string, extra: string[] = []) =>
    runCli(bulkArgs(server, input, out, extra));

  it('a second run on a busy output is refused with exit 75, naming the first; the first finishes intact (bug: two runs interleaved their writes)', async () => {
    const input = file('busy.txt');
    const out = file('busy.jsonl');
    let firstPid = 0;
    const first = await heldBulkRun(input, out, (child) => {
      firstPid = child.pid!;
    });
    const second = await bulk(fast, input, out, ['--batch-size', '100']);
    expect(second.code).toBe(75);
    expect(second.stderr).toContain(
      `embedkit: error: ${out} is being written by another embedkit run: process ${firstPid} on ${hostname()}, started `,
    );
    expect(second.stderr).toContain(`(lock file ${out}.lock). Two runs on one output would corrupt it`);
    // The refused run wrote nothing: no request, and no "complete" checkpoint of its own.
    expect(fast.requests).toBe(0);
    expect(readCheckpointFile(out)?.complete).toBe(false);
    first.release();
    const done = await first.run;
    expect(done.code).toBe(0);
    expect(firstValues(out)).toEqual(range(1500));
    expect(existsSync(`${out}.lock`)).toBe(false);
  }, 60_000);

  it('a lock left by a process that is gone is taken over, and the run says so (bug: a crash locked the output for good)', async () => {
    const input = file('stale.txt');
    writeFileSync(input, itemLines(20));
    const out = file('stale.jsonl');
    const pid = deadPid();
    writeFileSync(
      `${out}.lock`,
      JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z', token: 'left-behind' }),
    );
    const result = await bulk(fast, input, out);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `embedkit: taking over ${out}.lock: it was left by process ${pid} on ${hostname()}, started 2026-01-02T03:04:05.000Z, and it is no longer running.\n`,
    );
    expect(firstValues(out)).toEqual(range(20));
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('a lock whose PID now belongs to another program is stale; one naming the live program is not (bug: PID reuse after a restart)', async ({
    skip,
  }) => {
    skip(!existsSync('/proc/self/stat'), 'process start times are read from /proc (Linux)');
    const input = file('reused.txt');
    writeFileSync(input, itemLines(5));
    const out = file('reused.jsonl');
    // This test process is alive; the lock says its PID started at another time, so the lock's
    // process is gone and the PID was reused.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    const lock = { pid: process.pid, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z', token: 't' };
    writeFileSync(`${out}.lock`, JSON.stringify({ ...lock, processStart: String(Number(start) + 1) }));
    const reused = await bulk(fast, input, out);
    expect(reused.code).toBe(0);
    expect(reused.stderr).toContain(
      `and it is no longer running (its PID now belongs to another program).\n`,
    );
    writeFileSync(`${out}.lock`, JSON.stringify({ ...lock, processStart: start }));
    const live = await bulk(fast, input, out, ['--restart']);
    expect(live.code).toBe(75);
    expect(live.stderr).toContain(`is being written by another embedkit run: process ${process.pid} on `);
  });

  it('a lock from another host is never taken over: it refuses with exit 75 and says how to clear it (bug: NFS outputs shared by two machines)', async () => {
    const input = file('foreign.txt');
    writeFileSync(input, itemLines(5));
    const out = file('foreign.jsonl');
    writeFileSync(
      `${out}.lock`,
      JSON.stringify({ pid: 4242, host: 'build-07', startedAt: '2026-01-02T03:04:05.000Z', token: 'x' }),
    );
    const result = await bulk(fast, input, out);
    expect(result.code).toBe(75);
    expect(result.stderr).toBe(
      `embedkit: error: ${out} is locked by process 4242 on build-07, started 2026-01-02T03:04:05.000Z (lock file ${out}.lock); a process on another host cannot be checked from here. If that run is over, delete ${out}.lock and run again.\n`,
    );
    expect(existsSync(out)).toBe(false);
    writeFileSync(`${out}.lock`, 'garbage');
    const unreadable = await bulk(fast, input, out);
    expect(unreadable.code).toBe(75);
    expect(unreadable.stderr).toContain(`${out}.lock exists but is not a lock file embedkit can read`);
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe('garbage');
  });

  it('a run whose lock is deleted under it stops at its next write with exit 75 (bug: a second run could then write beside it)', async () => {
    const out = file('deleted.jsonl');
    const running = await heldBulkRun(file('deleted.txt'), out);
    unlinkSync(`${out}.lock`);
    running.release();
    const result = await running.run;
    expect(result.code).toBe(75);
    expect(result.stderr).toContain(
      `embedkit: error: ${out}.lock was deleted while this run was writing; it stops here so that two runs never write the output.`,
    );
    const saved = readCheckpointFile(out)!;
    expect(saved.complete).toBe(false);
    expect(saved.inputsDone).toBeLessThan(1500);
  }, 60_000);

  it('a run whose lock file is replaced by a directory stops with exit 75 and says so (bug: crashed with "Cannot read properties of undefined")', async () => {
    const out = file('replaced.jsonl');
    const running = await heldBulkRun(file('replaced.txt'), out);
    unlinkSync(`${out}.lock`);
    mkdirSync(`${out}.lock`);
    running.release();
    const result = await running.run;
    expect(result.stderr).toBe(
      `embedkit: error: ${out}.lock can no longer be read (it is a directory (EISDIR)) while this run was writing; it stops here so that two runs never write the output.\n`,
    );
    expect(result.code).toBe(75);
  }, 60_000);

  it('checkpoint temp files have unique names: a file planted at the old fixed name is never written through (bug: a shared "<checkpoint>.tmp"); killed runs\' leftovers are cleared', async () => {
    const input = file('temp.txt');
    writeFileSync(input, itemLines(30));
    const out = file('temp.jsonl');
    const victim = file('victim.txt');
    writeFileSync(victim, 'keep me\n');
    symlinkSync(victim, `${out}.checkpoint.tmp`);
    // What killed runs left behind, removed once this run holds the lock: a checkpoint temp file, and
    // the temp file and set-aside lock of lock attempts whose process is gone. The attempt of a live
    // process is left alone.
    const dead = deadPid();
    writeFileSync(`${out}.checkpoint.12345-0123456789ab.tmp`, '{');
    writeFileSync(`${out}.lock.${dead}-0123456789ab.tmp`, '{}');
    writeFileSync(`${out}.lock.${dead}-0123456789ac.stale`, '{}');
    writeFileSync(`${out}.lock.${process.pid}-0123456789ad.tmp`, '{}');
    const result = await bulk(fast, input, out, ['--batch-size', '10', '--concurrency', '1']);
    expect(result.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(firstValues(out)).toEqual(range(30));
    expect(
      readdirSync(directory.path)
        .filter((name) => name.startsWith('temp.'))
        .sort(),
    ).toEqual([
      'temp.jsonl',
      'temp.jsonl.checkpoint',
      `temp.jsonl.lock.${process.pid}-0123456789ad.tmp`,
      'temp.txt',
    ]);
  });
});
