import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { seededRandom } from '@embedkit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  type FakeServer,
  parseNpy,
  type RunResult,
  readCheckpointFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
  waitFor,
} from './helpers.js';

/**
 * The real `embedkit bulk` against the loopback fake server, under faults: SIGKILLs at random points
 * each followed by a resume, two runs started together on one output, an input changed between runs,
 * and a full disk. Every case ends either with every input present exactly once and in order, or with
 * a clear refusal (a non-zero exit and a message). Random choices come from one seed, printed first;
 * EMBEDKIT_TORTURE_SEED=<seed> makes the same choices again (the timing of a kill still depends on
 * the machine). Budget: about a minute on 2 shared cores.
 */

const SEED = process.env.EMBEDKIT_TORTURE_SEED
  ? Number(process.env.EMBEDKIT_TORTURE_SEED)
  : randomInt(2 ** 31);

const DIMENSIONS = 8;
const ROW_BYTES = DIMENSIONS * 4;

const lineOf = (n: number) => `item ${n}`;
const inputText = (lines: string[]) => `${lines.join('\n')}\n`;

/** The rows of `item 0` … `item count-1`, as the .npy must hold them. */
function expectedRows(count: number): Buffer {
  const rows = Buffer.alloc(count * ROW_BYTES);
  for (let n = 0; n < count; n++) {
    const vector = vectorFor(lineOf(n), DIMENSIONS);
    for (let index = 0; index < DIMENSIONS; index++)
      rows.writeFloatLE(vector[index]!, n * ROW_BYTES + index * 4);
  }
  return rows;
}

/**
 * A .jsonl output's records must be exactly these texts' vectors, in order, each once, with their
 * lines: the whole file, or its first `validBytes` (what a checkpoint vouches for; a torn tail may follow).
 */
function expectJsonl(out: string, texts: string[], validBytes?: number): void {
  const records = readFileSync(out).subarray(0, validBytes).toString('utf8').split('\n');
  expect(records.pop()).toBe('');
  expect(records.length).toBe(texts.length);
  for (let n = 0; n < texts.length; n++) {
    const record = JSON.parse(records[n]!) as { id: number; line: number; embedding: number[] };
    const expected = Array.from(vectorFor(texts[n]!, DIMENSIONS));
    if (
      record.line !== n + 1 ||
      record.id !== n + 1 ||
      record.embedding.some((value, index) => value !== expected[index])
    )
      expect({ n, record }).toEqual({ n, record: { id: n + 1, line: n + 1, embedding: expected } });
  }
}

/** The first `rows` meta lines must name lines 1…rows in order. */
function expectMetaPrefix(meta: string, rows: number): void {
  const lines = readFileSync(meta, 'utf8').split('\n');
  for (let n = 0; n < rows; n++) {
    if (lines[n] !== `{"id":${n + 1},"line":${n + 1}}`)
      expect(lines[n]).toBe(`{"id":${n + 1},"line":${n + 1}}`);
  }
}

/** Temporary files a run may leave beside its output. */
function strays(directory: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith('.tmp') || name.endsWith('.stale'));
}

const IS_ROOT = process.getuid?.() === 0;
const HAS_PRLIMIT = spawnSync('prlimit', ['--version']).status === 0;

describe(`bulk torture (seed ${SEED})`, () => {
  const random = seededRandom(SEED);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const directory = temporaryDirectory();
  let server: FakeServer;
  /** Told of each request the server receives (to kill a run mid-call). */
  let onRequest: (() => void) | undefined;
  /** Holds the answer to a request while it returns a promise (a resume must reach the same server). */
  let holdRequest: ((number: number) => Promise<void> | undefined) | undefined;

  beforeAll(async () => {
    console.log(`bulk torture: seed ${SEED} (EMBEDKIT_TORTURE_SEED=${SEED} replays its choices)`);
    server = await startFakeOpenAI({
      delayMs: 2,
      intercept: () => {
        onRequest?.();
        return undefined;
      },
      hold: ({ number }) => holdRequest?.(number),
    });
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  /** bulk of `input` into `out` against the fast server, with 8-value vectors. */
  const args = (input: string, out: string, extra: string[]) =>
    bulkArgs(server, input, out, extra, DIMENSIONS);

  it('12 SIGKILLs at random points, each followed by a resume: every input once and in order, the .npy loadable at every stop', async () => {
    const started = Date.now();
    const count = 40_000;
    const folder = join(directory.path, 'kills');
    mkdirSync(folder);
    const input = join(folder, 'in.txt');
    writeFileSync(input, inputText(Array.from({ length: count }, (_, n) => lineOf(n))));
    const out = join(folder, 'vectors.npy');
    const meta = join(folder, 'vectors.meta.jsonl');
    const lock = `${out}.lock`;
    const expected = expectedRows(count);
    const command = args(input, out, ['--batch-size', '200', '--concurrency', '2']);
    const kinds: string[] = [];
    let kills = 0;
    for (let round = 0; round < 40 && kills < 12; round++) {
      const before = readCheckpointFile(out)?.inputsDone ?? 0;
      const lockLeft = existsSync(lock);
      const kind = (['time', 'progress', 'request'] as const)[between(0, 2)]!;
      const delayMs = between(0, 500);
      const progress = between(1, 2000);
      const requests = between(1, 8);
      let child: ChildProcess | undefined;
      let seen = 0;
      const kill = () => child?.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      let poll: NodeJS.Timeout | undefined;
      if (kind === 'request')
        onRequest = () => {
          if (++seen === requests) kill();
        };
      const result: RunResult = await runCli(command, {
        onSpawn: (spawned) => {
          child = spawned;
          if (kind === 'time') timer = setTimeout(kill, delayMs);
          // A kill after some progress; for a kill in time, also once 2,000 more inputs are saved, so that
          // no round can finish the job on a fast machine before the twelfth kill (bug: on a quiet machine
          // a 500 ms round saved 5,400 inputs, and one seed finished all 30,000 inputs after ten kills).
          const cap = kind === 'progress' ? progress : kind === 'time' ? 2000 : undefined;
          if (cap !== undefined)
            poll = setInterval(() => {
              if ((readCheckpointFile(out)?.inputsDone ?? 0) >= before + cap) kill();
            }, 3);
        },
      });
      clearTimeout(timer);
      clearInterval(poll);
      onRequest = undefined;
      if (lockLeft && result.stderr.includes('resuming'))
        expect(result.stderr).toContain(`taking over ${lock}`);
      if (result.signal !== 'SIGKILL') {
        // The run finished before its kill came: that is a round without a kill, not a failure.
        expect(result.code, result.stderr).toBe(0);
        break;
      }
      kills++;
      kinds.push(`${kind}:${readCheckpointFile(out)?.inputsDone ?? 0}`);
      // What a kill leaves: a checkpoint that describes only rows on disk, a .npy numpy can load.
      const saved = readCheckpointFile(out);
      const bytes = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
      if (bytes.length > 0) {
        const header = parseNpy(bytes);
        expect(header.descr).toBe('<f4');
        expect(bytes.length).toBeGreaterThanOrEqual(header.dataOffset + header.shape[0] * ROW_BYTES);
      }
      if (saved !== undefined) {
        expect(saved.complete).toBe(false);
        expect(saved.inputsDone).toBeGreaterThanOrEqual(before);
        if (saved.inputsDone > 0) {
          const dataOffset = parseNpy(bytes).dataOffset;
          expect(bytes.length).toBeGreaterThanOrEqual(saved.bytes['vectors.npy']!);
          expect(
            bytes
              .subarray(dataOffset, dataOffset + saved.inputsDone * ROW_BYTES)
              .equals(expected.subarray(0, saved.inputsDone * ROW_BYTES)),
          ).toBe(true);
          expectMetaPrefix(meta, saved.inputsDone);
        }
      }
    }
    expect(kills, `kills (kind:inputs saved): ${kinds.join(' ')}`).toBeGreaterThanOrEqual(12);

    const lockLeft = existsSync(lock);
    const last = await runCli(command);
    expect(last.code, last.stderr).toBe(0);
    if (lockLeft) expect(last.stderr).toContain(`taking over ${lock}`);
    const bytes = readFileSync(out);
    const header = parseNpy(bytes);
    expect(header).toMatchObject({ descr: '<f4', fortranOrder: 'False', shape: [count, DIMENSIONS] });
    expect(bytes.length).toBe(header.dataOffset + count * ROW_BYTES);
    expect(bytes.subarray(header.dataOffset).equals(expected)).toBe(true);
    const metaLines = readFileSync(meta, 'utf8').split('\n');
    expect(metaLines.pop()).toBe('');
    expect(metaLines.length).toBe(header.shape[0]);
    expectMetaPrefix(meta, count);
    expect(readCheckpointFile(out)).toMatchObject({ inputsDone: count, complete: true });
    expect(existsSync(lock)).toBe(false);
    expect(strays(folder)).toEqual([]);
    console.log(
      `bulk torture: ${kills} SIGKILLs (${kinds.join(', ')}) then a resume to ${count} rows in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  }, 120_000);

  it('two runs started together on one output: one writes every input once, the other is refused with exit 75', async () => {
    // The server holds every answer until one of the two runs has exited: the winner cannot finish
    // before the loser has looked at the lock, however slowly either starts. Were both to run at once
    // (the bug), neither would exit; after 20 s the answers flow and the check below fails.
    let gate: Promise<void> | undefined;
    const held = await startFakeOpenAI({ hold: () => gate });
    try {
      const texts = Array.from({ length: 3000 }, (_, n) => lineOf(n));
      const input = join(directory.path, 'together.txt');
      writeFileSync(input, inputText(texts));
      for (let round = 0; round < 3; round++) {
        const out = join(directory.path, `together-${round}.jsonl`);
        const command = bulkArgs(held, input, out, ['--batch-size', '100', '--concurrency', '1'], DIMENSIONS);
        let open!: () => void;
        gate = new Promise((resolve) => {
          open = resolve;
        });
        const fallback = setTimeout(open, 20_000);
        const pids: number[] = [];
        const first = runCli(command, { onSpawn: (child) => pids.push(child.pid!) }).finally(open);
        await new Promise((resolve) => setTimeout(resolve, between(0, 40)));
        const second = runCli(command, { onSpawn: (child) => pids.push(child.pid!) }).finally(open);
        const results = await Promise.all([first, second]);
        clearTimeout(fallback);
        const codes = results.map((result) => result.code);
        expect([...codes].sort(), results.map((result) => result.stderr).join('\n')).toEqual([0, 75]);
        const winner = codes.indexOf(0);
        expect(results[1 - winner]!.stderr).toContain(
          `is being written by another embedkit run: process ${pids[winner]} on `,
        );
        expectJsonl(out, texts);
        expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 3000, complete: true });
      }
    } finally {
      await held.close();
    }
  }, 120_000);

  it('an input changed between runs: refused while the embedded part differs, resumed once it is restored or only appended to', async () => {
    const folder = join(directory.path, 'changes');
    mkdirSync(folder);
    const texts = Array.from({ length: 6000 }, (_, n) => lineOf(n));
    const input = join(folder, 'in.txt');
    const original = inputText(texts);
    writeFileSync(input, original);
    const out = join(folder, 'out.jsonl');
    const command = args(input, out, ['--batch-size', '100', '--concurrency', '1']);
    // The server answers `calls` calls, then holds: the run saves exactly those batches and waits,
    // and is killed there. (The same server throughout: a resume against another one is refused.)
    const calls = between(5, 40);
    const stall = new Promise<void>(() => {});
    const first = server.requests;
    holdRequest = (number) => (number > first + calls ? stall : undefined);
    const killed = await runCli(command, {
      onSpawn: (child) => {
        waitFor(() => readCheckpointFile(out)?.inputsDone === calls * 100, `${calls} saved batches`).then(
          () => child.kill('SIGKILL'),
          () => child.kill('SIGKILL'),
        );
      },
    });
    holdRequest = undefined;
    expect(killed.signal).toBe('SIGKILL');
    const done = readCheckpointFile(out)!.inputsDone;
    expect(done).toBe(calls * 100);
    const consumedBytes = inputText(texts.slice(0, done)).length - 1;
    const at = between(0, done - 1);
    const changes: Record<string, string> = {
      replaced: inputText(texts.map((text, n) => (n === at ? `item ${n + 1}` : text))),
      inserted: inputText([...texts.slice(0, at), 'item 424242', ...texts.slice(at)]),
      deleted: inputText([...texts.slice(0, at), ...texts.slice(at + 1)]),
      truncated: original.slice(0, between(0, consumedBytes - 1)),
    };
    for (const [change, content] of Object.entries(changes)) {
      const before = [readFileSync(out), readFileSync(`${out}.checkpoint`)];
      writeFileSync(input, content);
      const result = await runCli(command);
      expect(result.code, `${change} at line ${at + 1}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toContain(`${input} changed since the checkpoint: `);
      expect(result.stderr).toContain('Run with --restart');
      expect(readFileSync(out).equals(before[0]!)).toBe(true);
      expect(readFileSync(`${out}.checkpoint`).equals(before[1]!)).toBe(true);
    }
    // Restored (a new modification time, the same bytes), then grown: the run continues.
    const grown = [...texts, ...Array.from({ length: 500 }, (_, n) => lineOf(6000 + n))];
    writeFileSync(input, inputText(grown));
    const resumed = await runCli(command);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toBe('');
    expectJsonl(out, grown);
    // Changed for good: --restart embeds the new text from the start.
    const changed = grown.map((text, n) => (n === at ? `item ${n + 7}` : text));
    writeFileSync(input, inputText(changed));
    expect((await runCli(command)).code).toBe(1);
    const restarted = await runCli([...command, '--restart']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expectJsonl(out, changed);
    expect(strays(folder)).toEqual([]);
  }, 120_000);

  describe('a full disk', () => {
    const texts = Array.from({ length: 4000 }, (_, n) => lineOf(n));
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    /**
     * Runs into the full disk (the output's appends or its checkpoint fail), checks what the run said
     * and saved, then runs again with room and checks the whole output.
     */
    async function fillThenFinish(
      name: string,
      out: string,
      full: { wrapper?: string[] },
      makeRoom: () => void,
    ): Promise<void> {
      const input = join(directory.path, `${name}.txt`);
      writeFileSync(input, inputText(texts));
      const command = args(input, out, ['--batch-size', '100', '--concurrency', '1']);
      const stopped = await runCli(command, full.wrapper === undefined ? {} : { wrapper: full.wrapper });
      expect(stopped.code, stopped.stderr).toBe(1);
      const said = new RegExp(
        `^embedkit: error: cannot write ${literal(out)}[^:]*: (no space left on the device \\(ENOSPC\\)|the file is larger than this system allows \\(EFBIG\\))\\.\\n(\\d+) inputs are done and saved in ${literal(out)}; (free some space, then run|run) the same command again to continue\\.\\n$`,
      ).exec(stopped.stderr);
      expect(said, stopped.stderr).not.toBeNull();
      const saved = readCheckpointFile(out)!;
      expect(Number(said![2])).toBe(saved.inputsDone);
      expect(saved.complete).toBe(false);
      expect(saved.inputsDone).toBeLessThan(texts.length);
      expectJsonl(out, texts.slice(0, saved.inputsDone), saved.bytes[basename(out)]);
      makeRoom();
      const finished = await runCli(command);
      expect(finished.code, finished.stderr).toBe(0);
      expect(finished.stderr).toBe('');
      expectJsonl(out, texts);
    }

    it('ENOSPC on a 96 KiB tmpfs: the file named, what is saved said, finished once there is room', async ({
      skip,
    }) => {
      skip(!IS_ROOT, 'mounting a tmpfs needs root (the EFBIG case below drives the same write path)');
      const disk = join(directory.path, 'disk');
      mkdirSync(disk);
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', disk], {
        encoding: 'utf8',
      });
      // A container without CAP_SYS_ADMIN cannot mount even as root.
      skip(mount.status !== 0, `cannot mount a tmpfs here: ${mount.stderr.trim()}`);
      try {
        await fillThenFinish('enospc', join(disk, 'out.jsonl'), {}, () => {
          expect(spawnSync('mount', ['-o', 'remount,size=8m', disk]).status).toBe(0);
        });
      } finally {
        spawnSync('umount', ['-l', disk]);
      }
    }, 60_000);

    it('EFBIG past a 64 KiB file-size limit (prlimit): the file named, what is saved said, finished without the limit', async ({
      skip,
    }) => {
      skip(!HAS_PRLIMIT, 'needs prlimit (util-linux) to limit the file size');
      await fillThenFinish(
        'efbig',
        join(directory.path, 'limited.jsonl'),
        {
          wrapper: ['prlimit', '--fsize=65536', '--'],
        },
        () => {},
      );
    }, 60_000);
  });
});
