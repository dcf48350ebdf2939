import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, realpathSync, unlinkSync } from 'node:fs';
import { link, lstat, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError, EXIT, UsageError } from './errors.js';
import { describeFileError, unwritableKind, writeNewFile } from './file-system.js';

/** The lock file beside an output: it exists exactly while one run writes that output. */
export function lockPath(out: string): string {
  return `${out}.lock`;
}

/**
 * Refuses (exit 2), before anything is read or sent, a directory, a named pipe, a socket or a loop of
 * symbolic links where `command` keeps a file of its own beside --out (the lock file, bulk's
 * checkpoint): in its place a run failed only once it needed the file, with exit 1, and the same command
 * run again failed the same way.
 */
export function refuseOwnFilesTaken(command: string, paths: readonly string[]): void {
  for (const path of paths) {
    const kind = unwritableKind(path);
    if (kind !== undefined) {
      throw new UsageError(
        `${path} is ${kind}; ${command} keeps its own file there beside --out: remove it, or choose another --out.`,
        command,
      );
    }
  }
}

/**
 * The file whose lock guards `out`: the file a symbolic link at `out` points to, so that two names of
 * one output share one lock file (each name locked apart, a second run truncated the first's output).
 * It is also the file a run writes: `index` renames its new file onto it, not onto the link.
 */
export function lockedFile(out: string): string {
  let path = out;
  // Link by link, as the system follows them: a dangling link's run creates the file it names, so the
  // lock goes beside that file too (beside the link, a run given the file's own name wrote it under
  // another lock). Each link's directory is resolved by the system: Node's realpath removes `..` before
  // it resolves links, so `link/../x` (link a directory elsewhere) was looked for in another directory.
  for (let links = 0; links <= 40; links++) {
    try {
      if (!lstatSync(path).isSymbolicLink()) return path;
      path = resolve(realpathSync.native(dirname(path)), readlinkSync(path));
    } catch {
      return path; // nothing there yet: the output does not exist
    }
  }
  return out; // a loop of links, which no run can write through
}

/** What a lock file holds: enough to name the run that holds it and to tell whether it still runs. */
interface LockOwner {
  pid: number;
  host: string;
  /** When the run started (ISO 8601), for the message that names it. */
  startedAt: string;
  /** Linux: `/proc/sys/kernel/random/boot_id`; another value means the machine restarted since. */
  bootId?: string;
  /** Linux: the process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), to tell a reused PID. */
  processStart?: string;
  /** Random: tells this run's lock file from any other, even one with the same PID. */
  token: string;
}

/** Another run holds the output: exit 75 (EX_TEMPFAIL), since trying again once it is over will work. */
export class OutputLockedError extends CliError {
  constructor(message: string) {
    super(message, EXIT.locked);
    this.name = 'OutputLockedError';
  }
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** `/proc/<pid>/stat` field 22; the command name (field 2) may hold spaces and parentheses, so fields count from the last `)`. */
function processStart(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .at(22 - 3);
}

function describeOwner(owner: LockOwner): string {
  return `process ${owner.pid} on ${owner.host}, started ${owner.startedAt}`;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    // A PID is a whole number above 0: 0 and -1 name groups of processes, which always answer, and a
    // fraction made the check throw, so a lock naming one was taken for a live run's for ever.
    if (
      Number.isSafeInteger(value.pid) &&
      (value.pid as number) > 0 &&
      typeof value.host === 'string' &&
      typeof value.startedAt === 'string' &&
      typeof value.token === 'string'
    )
      return value as LockOwner;
  } catch {
    // Not a lock this command wrote: the caller refuses to guess.
  }
  return undefined;
}

/** Whether a process of this host runs with `pid` (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Why the run named in a lock of this host is over, or undefined while it may still be running. */
function whyStale(owner: LockOwner): string | undefined {
  const bootId = readProc('/proc/sys/kernel/random/boot_id');
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId)
    return 'the machine has restarted since';
  // This process has not locked anything yet, so a lock naming its PID is from an earlier process
  // (in a container, PIDs start over at every restart).
  if (owner.pid === process.pid) return 'its PID now belongs to this run';
  if (!isRunning(owner.pid)) return 'it is no longer running';
  const start = processStart(owner.pid);
  if (owner.processStart !== undefined && start !== undefined && start !== owner.processStart)
    return 'it is no longer running (its PID now belongs to another program)';
  return undefined;
}

/** The file-system errors that mean "no hard links here": the lock is then created with O_EXCL directly. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * An exclusive lock on one output, held by a lock file `<out>.lock` (beside the file a symbolic link at
 * `out` points to) naming the process (PID, host, start time). The file appears atomically with its
 * content: it is written and fsynced under a unique name, then hard-linked to the lock path, which
 * fails if a lock exists (O_EXCL where hard links are not supported). A lock whose process is gone (same
 * host, PID not running or reused, or a reboot since) is taken over; any other lock refuses the run.
 */
export class OutputLock {
  readonly path: string;
  private readonly content: string;
  private held = true;
  private readonly onExit = () => this.releaseSync();

  private constructor(path: string, content: string) {
    this.path = path;
    this.content = content;
    process.on('exit', this.onExit);
  }

  /**
   * Locks `out`, or throws {@link OutputLockedError} naming the run that holds it. `notice` is told
   * when a stale lock is taken over.
   */
  static async acquire(out: string, notice: (message: string) => void): Promise<OutputLock> {
    const path = lockPath(lockedFile(out));
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
      token: randomBytes(12).toString('hex'),
    };
    const bootId = readProc('/proc/sys/kernel/random/boot_id');
    if (bootId !== undefined) owner.bootId = bootId;
    const start = processStart(process.pid);
    if (start !== undefined) owner.processStart = start;
    const content = `${JSON.stringify(owner)}\n`;
    // Each round either creates the lock, refuses, or removes one stale lock; a few rounds are only
    // needed when other runs race for the same stale lock.
    for (let round = 0; round < 8; round++) {
      if (await create(path, content)) {
        await removeLeftovers(path);
        return new OutputLock(path, content);
      }
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new CliError(`cannot read the lock file ${path}: ${describeFileError(error)}.`);
        // Released meanwhile, unless a symbolic link to nothing is there: no run takes that away, and
        // every round found it again ("other runs keep taking" it). It is no lock this command wrote.
        if ((await lstat(path).catch(() => undefined))?.isSymbolicLink() !== true) continue;
        text = '';
      }
      const existing = parseOwner(text);
      if (existing === undefined) {
        throw new OutputLockedError(
          `${path} exists but is not a lock file embedkit can read, so ${out} may be in use. If no other embedkit run writes ${out}, delete ${path} and run again.`,
        );
      }
      if (existing.host !== hostname()) {
        throw new OutputLockedError(
          `${out} is locked by ${describeOwner(existing)} (lock file ${path}); a process on another host cannot be checked from here. If that run is over, delete ${path} and run again.`,
        );
      }
      const reason = whyStale(existing);
      if (reason === undefined) {
        throw new OutputLockedError(
          `${out} is being written by another embedkit run: ${describeOwner(existing)} (lock file ${path}). Two runs on one output would corrupt it: wait for that run to finish, or stop it, then run again.`,
        );
      }
      if (await removeIfUnchanged(path, text))
        notice(`taking over ${path}: it was left by ${describeOwner(existing)}, and ${reason}.`);
    }
    throw new OutputLockedError(`cannot lock ${out}: other runs keep taking ${path}. Run again.`);
  }

  /** Throws unless the lock file is still this run's (it was not deleted or taken over meanwhile). */
  async verify(): Promise<void> {
    let text: string | undefined;
    let what: string | undefined;
    try {
      text = await readFile(this.path, 'utf8');
      if (text !== this.content) what = 'was replaced by another run';
    } catch (error) {
      // Deleted, or replaced by something that is no lock file (a directory): either way not ours.
      what =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'was deleted'
          : `can no longer be read (${describeFileError(error)})`;
    }
    if (what === undefined) return;
    this.held = false;
    throw new OutputLockedError(
      `${this.path} ${what} while this run was writing; it stops here so that two runs never write the output.`,
    );
  }

  /** Removes the lock file, if it is still this run's. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    try {
      if ((await readFile(this.path, 'utf8')) === this.content) await unlink(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }

  /**
   * The same, synchronously: when the process exits without a release (a second Ctrl-C exits at once),
   * so that no exit leaves a lock behind.
   */
  private releaseSync(): void {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

/** Creates the lock file with its content in one atomic step; false if a lock file exists. */
async function create(path: string, content: string): Promise<boolean> {
  const temporary = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeNewFile(temporary, content);
    try {
      await link(temporary, path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      // ENOENT: another run cleared the temp file away as a leftover; the caller tries again.
      if (code === 'EEXIST' || code === 'ENOENT') return false;
      if (!NO_HARD_LINKS.has(code)) throw error;
    }
    try {
      await writeNewFile(path, content);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } catch (error) {
    // The lock is the first file a run creates beside its output: "no such file" meant no such directory.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(
        `cannot create the lock file ${path}: the directory ${dirname(path)} does not exist.`,
      );
    throw new CliError(`cannot create the lock file ${path}: ${describeFileError(error)}.`);
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

/**
 * Removes a stale lock only if it still holds `text`. Deleting by name could delete a lock another
 * run created a moment ago, so the file is first renamed away (atomic: one run wins) and checked; a
 * fresh lock moved by mistake is linked back, and if even that loses a race, its owner finds out at
 * its next `verify` and stops.
 */
async function removeIfUnchanged(path: string, text: string): Promise<boolean> {
  const aside = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CliError(`cannot take over the lock file ${path}: ${describeFileError(error)}.`);
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== text) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
  return moved === text;
}

/**
 * Deletes what killed lock attempts left beside the lock: temp files and set-aside stale locks, named
 * after their process, once that process is gone.
 */
async function removeLeftovers(path: string): Promise<void> {
  const directory = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const name of names) {
    const match = /^(\d+)-[0-9a-f]+\.(tmp|stale)$/.exec(name.slice(prefix.length));
    if (!name.startsWith(prefix) || match === null || isRunning(Number(match[1]))) continue;
    await unlink(join(directory, name)).catch(() => {});
  }
}
