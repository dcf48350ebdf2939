import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  contextLengthError,
  type FakeServer,
  filesIn,
  firstValues,
  heldBulkRun,
  indexArgs,
  parseNpy,
  range,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

/**
 * The files of an output at their edges: an --out reached through a symbolically linked directory and
 * `..`, or named by a symbolic link whose file does not exist yet; an --out that no file can be written
 * at; a lock file embedkit did not write; the shape of a .npy that holds no row. Each case names the
 * bug it catches.
 */

/** The content of a lock file naming `pid` on this host. */
function ownerNamed(pid: number): string {
  return JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z', token: 'planted' });
}

describe('output files at their edges', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  let server: FakeServer;

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  /**
   * `<key>-work/link`, a symbolic link to the directory `<key>-elsewhere/sub`: `<work>/link/../<name>`
   * is `<elsewhere>/<name>`, not `<work>/<name>`. Paths are built with template strings, since join()
   * removes the `..`.
   */
  function linkedDirectory(key: string): { work: string; elsewhere: string } {
    const elsewhere = join(directory.path, `${key}-elsewhere`);
    const work = join(directory.path, `${key}-work`);
    mkdirSync(join(elsewhere, 'sub'), { recursive: true });
    mkdirSync(work);
    symlinkSync(join(elsewhere, 'sub'), join(work, 'link'));
    return { work, elsewhere };
  }

  it.each(['bulk', 'index'] as const)(
    '%s refuses an --out that names the input through a symbolically linked directory and .. (bug: .. was resolved before the link, the output taken for a new file, and --overwrite replaced the input)',
    async (command) => {
      const { work, elsewhere } = linkedDirectory(command);
      const content = '{"text":"item 1"}\n{"text":"item 2"}\n';
      const input = file(`${basename(elsewhere)}/data.jsonl`, content);
      const out = `${work}/link/../data.jsonl`;
      const requests = server.requests;
      const args = command === 'bulk' ? bulkArgs : indexArgs;
      const result = await runCli(args(server, input, out, ['--overwrite']));
      expect(result.stderr).toBe(
        `embedkit: error: --out ${out} would overwrite the input ${input}: they are the same file. Choose another --out.\nRun "embedkit ${command} --help" for usage.\n`,
      );
      expect(result.code).toBe(2);
      expect(readFileSync(input, 'utf8')).toBe(content);
      expect(server.requests).toBe(requests);
    },
  );

  it.each([
    [
      'named through a symbolically linked directory, .. and a symbolic link',
      'the link was not resolved',
      'dotdot',
      () => {
        const { work, elsewhere } = linkedDirectory('dotdot');
        const written = join(elsewhere, 'vectors.jsonl');
        symlinkSync('vectors.jsonl', join(elsewhere, 'latest.jsonl'));
        return { first: written, second: `${work}/link/../latest.jsonl`, written };
      },
    ],
    [
      'named by a symbolic link whose file did not exist yet',
      'the lock went beside the link',
      'dangling',
      () => {
        const written = file('dangling-target.jsonl');
        const link = file('dangling-link.jsonl');
        symlinkSync(written, link);
        return { first: link, second: written, written };
      },
    ],
  ])(
    'a second run on a busy output %s is refused with exit 75; the first finishes intact (bug: %s, and --overwrite truncated the output under the first run)',
    async (_name, _bug, key, names) => {
      const { first, second, written } = names();
      const input = file(`${key}.txt`);
      const running = await heldBulkRun(input, first);
      try {
        const result = await runCli(bulkArgs(server, input, second, ['--overwrite']));
        expect(result.code).toBe(75);
        expect(result.stderr).toContain(
          `embedkit: error: ${second} is being written by another embedkit run: process `,
        );
        expect(result.stderr).toContain(`(lock file ${written}.lock).`);
      } finally {
        running.release();
      }
      expect((await running.run).code).toBe(0);
      expect(firstValues(written)).toEqual(range(1500));
      expect(existsSync(`${written}.lock`)).toBe(false);
    },
    60_000,
  );

  it('an --out that is a loop of symbolic links is refused with exit 2 before anything is written (bug: a checkpoint was left beside it, then "ELOOP: too many symbolic links encountered" and "run the same command again to continue", which failed the same way)', async () => {
    const input = file('loop.txt', 'item 1\n');
    const out = file('loop.jsonl');
    symlinkSync('loop.jsonl', out);
    const requests = server.requests;
    const result = await runCli(bulkArgs(server, input, out, ['--overwrite']));
    expect(result.stderr).toBe(
      `embedkit: error: ${out} is a loop of symbolic links; bulk writes a file it can resume, so --out must name a regular file or a path that does not exist yet.\nRun "embedkit bulk --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(readdirSync(directory.path).filter((name) => name.startsWith('loop.jsonl'))).toEqual([
      'loop.jsonl',
    ]);
    expect(server.requests).toBe(requests);
  });

  it.each([
    ['names PID 0', (lock: string) => writeFileSync(lock, ownerNamed(0))],
    ['names PID -1', (lock: string) => writeFileSync(lock, ownerNamed(-1))],
    ['names PID 1.5', (lock: string) => writeFileSync(lock, ownerNamed(1.5))],
    ['is a symbolic link to nothing', (lock: string) => symlinkSync('nothing-there', lock)],
  ])(
    'a lock file that %s is refused with exit 75 as one embedkit did not write, and left alone (bug: taken for a live run that never ends, or "other runs keep taking" it)',
    async (_name, plant) => {
      const input = file('foreign-lock.txt', 'item 1\n');
      const out = file('foreign-lock.jsonl');
      const lock = `${out}.lock`;
      rmSync(lock, { force: true });
      plant(lock);
      const before = lstatSync(lock);
      const result = await runCli(bulkArgs(server, input, out));
      expect(result.stderr).toBe(
        `embedkit: error: ${lock} exists but is not a lock file embedkit can read, so ${out} may be in use. If no other embedkit run writes ${out}, delete ${lock} and run again.\n`,
      );
      expect(result.code).toBe(75);
      expect(lstatSync(lock).ino).toBe(before.ino);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('a .npy stopped before its first row has the shape of the model’s vectors when --dimensions is not given (bug: shape (0, 0))', async () => {
    const rejecting = await startFakeOpenAI({ intercept: () => contextLengthError(0) });
    try {
      const input = file('no-dimensions.txt', 'item 1\n');
      const out = file('no-dimensions.npy');
      const model = ['--model', 'openai:text-embedding-3-small', '--base-url', rejecting.baseURL];
      const result = await runCli(['bulk', input, '--out', out, ...model, '--progress', 'none']);
      expect(result.stderr).toBe(
        `embedkit: error: ${input}:1: the API rejected this input: openai API error 400: Invalid 'input[0]': maximum input length is 8192 tokens. — Check the inputs and options against the model’s capabilities. (HTTP 400)\n0 inputs are done and saved in ${out}; fix or remove that input, then run the same command again to continue.\n`,
      );
      expect(result.code).toBe(1);
      const bytes = readFileSync(out);
      expect(bytes.length).toBe(128);
      expect(parseNpy(bytes)).toEqual({
        descr: '<f4',
        fortranOrder: 'False',
        shape: [0, 1536],
        dataOffset: 128,
      });
    } finally {
      await rejecting.close();
    }
  });
});
