import { closeSync, constants, openSync, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { CliError } from './errors.js';

/** What the errno codes a file operation can fail with mean, in words. */
const MEANINGS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is larger than this system allows',
  EIO: 'input/output error',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
};

/** A file-system error in words, without a trailing period: "no space left on the device (ENOSPC)". */
export function describeFileError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && Object.hasOwn(MEANINGS, code)) {
    // The two everyday ones read better without the code.
    return code === 'ENOENT' || code === 'EACCES' || code === 'EPERM'
      ? MEANINGS[code]!
      : `${MEANINGS[code]} (${code})`;
  }
  if (error instanceof CliError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Writing an output file failed: the message names the file and what the system said. */
export class OutputWriteError extends CliError {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: unknown) {
    super(`cannot write ${path}: ${describeFileError(cause)}.`);
    this.name = 'OutputWriteError';
    this.path = path;
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
  }

  /** True when freeing disk space is the fix (a file-size limit, EFBIG, is not lifted that way). */
  get outOfSpace(): boolean {
    return this.code === 'ENOSPC' || this.code === 'EDQUOT';
  }
}

/** Runs one operation on the output file `path`, turning a file-system error into an {@link OutputWriteError}. */
export async function onOutputFile<T>(path: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new OutputWriteError(path, error);
  }
}

/**
 * Creates `path` with `content` and fsyncs it; fails (EEXIST) if it exists. Exclusive creation never
 * follows a symbolic link planted at `path`, and never shares the file with another process.
 */
export async function writeNewFile(path: string, content: string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Opens of FIFOs still waiting for a process at the other end: the path, and whether this end reads. */
const waitingOpens = new Set<{ path: string; reads: boolean }>();

/**
 * `open(path, flags)`, listing an open of a FIFO while it waits for the other end (a named pipe that no
 * process reads from, or writes to, yet). The wait holds a thread of libuv's pool, and `process.exit`
 * waits for those threads to finish: {@link releaseWaitingOpens} ends the wait, so that a run stopped
 * then can exit.
 */
export async function openFile(path: string, flags: 'r' | 'w' | 'r+' | 'w+'): Promise<FileHandle> {
  let fifo = false;
  try {
    fifo = statSync(path).isFIFO();
  } catch {
    // Not there yet (an output about to be created): no FIFO to wait on.
  }
  if (!fifo) return open(path, flags);
  const waiting = { path, reads: flags === 'r' };
  waitingOpens.add(waiting);
  try {
    return await open(path, flags);
  } finally {
    waitingOpens.delete(waiting);
  }
}

/**
 * Ends the wait of every open {@link openFile} lists: the other end is opened without waiting (which
 * lets the waiting open through) and closed at once. Returns whether any open was waiting.
 */
export function releaseWaitingOpens(): boolean {
  for (const { path, reads } of waitingOpens) {
    try {
      closeSync(openSync(path, (reads ? constants.O_WRONLY : constants.O_RDONLY) | constants.O_NONBLOCK));
    } catch {
      // Removed since, or its open has just gone through: nothing waits on it.
    }
  }
  return waitingOpens.size > 0;
}
