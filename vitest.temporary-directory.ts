import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The variables `os.tmpdir()` reads (TMPDIR first), and so do most programs a test may start. */
const VARIABLES = ['TMPDIR', 'TMP', 'TEMP'] as const;

/**
 * The global setup of every package's tests (vitest.shared.ts names it): the run gets a temporary
 * directory of its own, which the test workers and every process they start inherit through TMPDIR, TMP
 * and TEMP (vitest builds the workers' environment from this process's after its global setups ran). At
 * the end the run fails, naming what its tests left there, unless they removed everything they made; the
 * directory is removed either way, so a run that fails this check does not fill the system's one either.
 */
export default function setup(): () => void {
  const previous = VARIABLES.map((name) => [name, process.env[name]] as const);
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-test-run-'));
  // Open to every user, as the system's temporary directory is: a test running as root starts processes
  // as another user (`nobody`) that must reach, and may create, directories in it.
  chmodSync(directory, 0o1777);
  for (const name of VARIABLES) process.env[name] = directory;
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const left = readdirSync(directory).sort();
    // The names are read first: the removal itself may fail (for any user but root, on a directory a test
    // left read-only), and they are what the failure must report.
    let removal: unknown;
    try {
      rmSync(directory, { recursive: true, force: true });
    } catch (error) {
      removal = error;
    }
    if (left.length > 0) {
      // Vitest 4 prints an error thrown by a global teardown ("error during close") but still exits with
      // 0, so the exit code is set here: a leak must fail `vitest run`, and so CI.
      process.exitCode = 1;
      throw new Error(
        `The tests left ${left.length === 1 ? 'this' : `these ${left.length}`} in the temporary directory ` +
          `${directory} (each test must remove what it creates there, on every path): ${left.join(', ')}`,
        removal === undefined ? undefined : { cause: removal },
      );
    }
    if (removal !== undefined) throw removal;
  };
}
