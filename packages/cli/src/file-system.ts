import { closeSync, constants, open as openCallback, openSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
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
 * Makes a rename into `path`'s directory durable: without it, a crash soon after may leave the directory
 * naming the old file.
 */
export async function fsyncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dirname(path) || '.', 'r');
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close();
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

/**
 * "a named pipe (FIFO)", "a socket", "a directory" or "a loop of symbolic links" when `path` is one (a
 * symbolic link followed), else undefined. Such an output can be neither positioned in nor read back: a
 * FIFO waits for a reader, then fails the first positioned write (ESPIPE); a directory failed only after
 * a checkpoint was left beside it. A path that cannot be looked at for another reason says undefined;
 * the open that comes later names what is wrong with it.
 */
export function unwritableKind(path: string): string | undefined {
  let info: Stats;
  try {
    info = statSync(path);
  } catch (error) {
    // A loop of symbolic links can never be opened: its open failed only after a checkpoint was left
    // beside it, and the message said to run the same command again, which failed the same way.
    return (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'a loop of symbolic links' : undefined;
  }
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a directory';
  return undefined;
}

/** Paths of FIFOs whose {@link openPipe} waits for a writer (one entry per open). */
const waitingOpens = new Set<{ path: string }>();

const openDescriptor = promisify(openCallback);

/**
 * The FIFO at `path` as a stream read on the event loop, as stdin is. Read through a file handle, each
 * read held a thread of libuv's pool until the writer sent more, and `process.exit` waits for those
 * threads: a run stopped by a signal while its writer stalled said what it kept, then stayed alive until
 * the writer wrote or closed.
 *
 * The open waits for a writer, on a thread of the pool too: it is listed meanwhile, so that
 * {@link releaseWaitingOpens} can end the wait of a run stopped then. The descriptor read is the one
 * whose open waited: a second open, made without waiting once a writer had come and gone, would never be
 * told that the writer closed (Linux reports the hang-up only to readers that were open while a writer
 * was), and the read would wait for ever.
 *
 * (Outputs need no such care: bulk refuses a pipe at `--out`, see {@link unwritableKind}, and index
 * writes a file of its own naming, then renames it.)
 */
export async function openPipe(path: string): Promise<Socket> {
  const waiting = { path };
  waitingOpens.add(waiting);
  let descriptor: number;
  try {
    descriptor = await openDescriptor(path, 'r');
  } finally {
    waitingOpens.delete(waiting);
  }
  try {
    return new Socket({ fd: descriptor, readable: true, writable: false });
  } catch (error) {
    closeSync(descriptor);
    throw error;
  }
}

/**
 * Ends the wait of every {@link openPipe} still waiting for a writer: the FIFO is opened for writing
 * without waiting (which lets the waiting open through) and closed at once. Returns whether any open was
 * waiting.
 */
export function releaseWaitingOpens(): boolean {
  for (const { path } of waitingOpens) {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // Removed since, or its open has just gone through: nothing waits on it.
    }
  }
  return waitingOpens.size > 0;
}
