/**
 * The check made on the cache file before LMDB opens it. LMDB maps the file into memory and trusts its
 * header pages: the lmdb package ends the process with a segmentation fault when the first page of the
 * file is not an LMDB header of its own format (a text file, zeros, a file of another LMDB version),
 * before it could throw its own MDB_INVALID, and with a bus error at the first read of a page past the
 * end of a truncated file. Reading the two header pages first turns each of these into an error that
 * names the file.
 *
 * The layout read here is that of the LMDB inside the lmdb package (0.9.90, data format 2), as found on
 * files it wrote: a page header of 24 bytes (flags at byte 18), then the header ("meta"): the magic
 * number, the format, the map address and size, the free and main trees (the page size is the first
 * field of the free tree's), the last page in use and the transaction that wrote it. Page 0 and page 1
 * each hold one; LMDB uses the one of the later transaction. Plain LMDB 0.9 (data format 1) has a page
 * header of 16 bytes.
 */

import {
  accessSync,
  type BigIntStats,
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = 0xbeefc0de;
/** The data format the lmdb package reads and writes; LMDB compares the low 16 bits of the field. */
const DATA_FORMAT = 2;
const META_PAGE_FLAG = 0x08;
const FLAGS_AT = 18;
const MAGIC_AT = 24;
const FORMAT_AT = 28;
const PAGE_SIZE_AT = 48;
/** The environment's flags, kept as the free tree's flags; one marks a file written with an encryption key. */
const ENVIRONMENT_FLAGS_AT = 52;
const ENCRYPTED_FLAG = 0x2000;
/** The free pages' tree and the main tree: their counts of pages and their root pages. */
const TREES_AT = [48, 96];
const TREE_PAGE_COUNTS_AT = [8, 16, 24];
const TREE_ROOT_AT = 40;
/** The root of an empty tree. */
const NO_PAGE = 0xffff_ffff_ffff_ffffn;
const LAST_PAGE_AT = 144;
const TRANSACTION_AT = 152;
/** The bytes of a header page read here: its page header and the header up to the transaction. */
const HEADER_BYTES = 160;
/** Where a plain LMDB 0.9 file (16-byte page header) has its magic number and format. */
const PLAIN_MAGIC_AT = 16;
const PLAIN_FORMAT_AT = 20;
/** LMDB's page sizes are powers of two up to 64 KiB; none is smaller than a header. */
const MAX_PAGE_SIZE = 0x10000;
const MIN_PAGE_SIZE = 256;

/** What a header page says, or why it is no header. */
type Header =
  | { ok: true; pageSize: number; pagesInUse: bigint; transaction: bigint }
  | { ok: false; problem: string };

/** The first bytes of the page at `position`, fewer when the file ends before. */
function readHeaderPage(descriptor: number, position: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  const read = readSync(descriptor, bytes, 0, HEADER_BYTES, position);
  return bytes.subarray(0, read);
}

function pageSizeProblem(pageSize: number): string | undefined {
  const powerOfTwo = (pageSize & (pageSize - 1)) === 0;
  if (powerOfTwo && pageSize >= MIN_PAGE_SIZE && pageSize <= MAX_PAGE_SIZE) return undefined;
  return `its header gives a page size of ${pageSize} bytes`;
}

/**
 * Reads the header in `page`. A file of another LMDB format is told apart from one that is no LMDB file,
 * since its fix differs for whoever wrote it (a program that shares the directory).
 */
function readHeader(page: Buffer, which: 'first' | 'second'): Header {
  if (page.length < HEADER_BYTES) {
    return { ok: false, problem: `is not an LMDB cache file (it ends within its ${which} header page)` };
  }
  if (page.readUInt32LE(PLAIN_MAGIC_AT) === MAGIC) {
    return { ok: false, problem: formatProblem(page.readUInt32LE(PLAIN_FORMAT_AT)) };
  }
  if (page.readUInt32LE(MAGIC_AT) !== MAGIC || (page.readUInt16LE(FLAGS_AT) & META_PAGE_FLAG) === 0) {
    return {
      ok: false,
      problem:
        which === 'first'
          ? 'is not an LMDB cache file (its first page is no LMDB header)'
          : 'is damaged (its second header page is no LMDB header)',
    };
  }
  const format = page.readUInt32LE(FORMAT_AT) & 0xffff;
  if (format !== DATA_FORMAT) return { ok: false, problem: formatProblem(format) };
  // LMDB maps such a file and ends the process reading its pages before it could say it needs the key.
  if ((page.readUInt16LE(ENVIRONMENT_FLAGS_AT) & ENCRYPTED_FLAG) !== 0) {
    return {
      ok: false,
      problem:
        'is an encrypted LMDB file (another program wrote it with a key), not a cache this store reads',
    };
  }
  const pageSize = page.readUInt32LE(PAGE_SIZE_AT);
  const problem = pageSizeProblem(pageSize);
  if (problem !== undefined) return { ok: false, problem: `is not an LMDB cache file (${problem})` };
  return {
    ok: true,
    pageSize,
    pagesInUse: pagesInUse(page),
    transaction: page.readBigUInt64LE(TRANSACTION_AT),
  };
}

/**
 * How many pages from the start of the file the header says must be there: past both header pages,
 * past the root page of each tree, and at least as many as the trees hold. Not the last page it names
 * (`mm_last_pg`): LMDB never writes a page freed in the transaction that took it, so a sound file may
 * end before free pages at its end. Every page this counts is one LMDB reads, so a file shorter than
 * this lost its end and LMDB would read past it.
 */
function pagesInUse(page: Buffer): bigint {
  let roots = 2n;
  let held = 2n;
  for (const tree of TREES_AT) {
    const root = page.readBigUInt64LE(tree + TREE_ROOT_AT);
    if (root !== NO_PAGE && root + 1n > roots) roots = root + 1n;
    for (const count of TREE_PAGE_COUNTS_AT) held += page.readBigUInt64LE(tree + count);
  }
  // The last page in use bounds both; a count past it is no LMDB header's.
  const last = page.readBigUInt64LE(LAST_PAGE_AT) + 1n;
  const needed = roots > held ? roots : held;
  return needed < last ? needed : last;
}

function formatProblem(format: number): string {
  return `is an LMDB file of data format ${format}, not the format ${DATA_FORMAT} this cache reads (another program or LMDB version wrote it)`;
}

function truncated(size: number, needed: bigint): string {
  return `is truncated: ${size} bytes, its header says at least ${needed} are in use`;
}

/**
 * Checks both header pages and the length of the open file against the pages the newer header says
 * are in use. The length is read last: a writer in another process grows the file before it writes a
 * header naming the new pages, so a header read first never names more pages than the length read
 * after it.
 */
function checkHeaders(descriptor: number): string | undefined {
  const firstPage = readHeaderPage(descriptor, 0);
  // LMDB writes a new cache into an empty file (another process may just have created it).
  if (firstPage.length === 0) return undefined;
  const first = readHeader(firstPage, 'first');
  if (!first.ok) return first.problem;
  const secondPage = readHeaderPage(descriptor, first.pageSize);
  const { size } = fstatSync(descriptor);
  if (secondPage.length < HEADER_BYTES) return truncated(size, BigInt(first.pageSize) * 2n);
  const second = readHeader(secondPage, 'second');
  if (!second.ok) return second.problem;
  const current = second.transaction > first.transaction ? second : first;
  const needed = current.pagesInUse * BigInt(first.pageSize);
  return BigInt(size) < needed ? truncated(size, needed) : undefined;
}

function checkFile(path: string): string | undefined {
  const stats = statSync(path);
  if (stats.isDirectory()) return 'is a directory, not an LMDB cache file';
  // Opening a named pipe would wait for a writer.
  if (!stats.isFile()) return 'is not a regular file, so not an LMDB cache file';
  const descriptor = openSync(path, 'r');
  try {
    return checkHeaders(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Checks LMDB's lock file beside the cache file (`<path>-lock`). The lmdb package ends the process with
 * a segmentation fault when it cannot open the lock file for reading and writing, before it could
 * throw: a directory or a named pipe in its place, a lock file this user may not write, or none in a
 * directory this user may not write while the cache file is there (without the cache file, LMDB fails
 * creating that one first, and says so). Throws what the file system throws for the last two (EACCES).
 */
function checkLockFile(path: string, cacheFileExists: boolean): string | undefined {
  const lock = `${path}-lock`;
  let stats: Stats;
  try {
    stats = statSync(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // LMDB creates the lock file.
    if (cacheFileExists) accessSync(dirname(path), constants.W_OK);
    return undefined;
  }
  if (!stats.isFile()) return `cannot be locked (${lock} is not a regular file)`;
  accessSync(lock, constants.R_OK | constants.W_OK);
  return undefined;
}

/**
 * What keeps LMDB from opening the cache: the file it is about, since the fix of the lock file is not
 * that of the cache file, and the words that follow the cache file's path ("is not an LMDB cache file
 * (…)", "is truncated: …", "cannot be locked (…)").
 */
export interface CacheFileProblem {
  file: 'cache' | 'lock';
  reason: string;
}

/**
 * What is wrong with the cache file at `path` or its lock file for LMDB to open them, or `undefined`
 * when LMDB can open it: a cache it wrote, an empty file or none (also one deleted while it is looked
 * at). Reads the two header pages only. Throws what the file system throws (no permission to read the
 * cache file, or to write the lock file).
 */
export function checkCacheFile(path: string): CacheFileProblem | undefined {
  let cacheFileExists = true;
  let reason: string | undefined;
  try {
    reason = checkFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    cacheFileExists = false;
  }
  if (reason !== undefined) return { file: 'cache', reason };
  reason = checkLockFile(path, cacheFileExists);
  return reason === undefined ? undefined : { file: 'lock', reason };
}

/** The cache file LMDB has open, looked at before each read and write of it. */
export interface OpenCacheFile {
  /**
   * Why the file can no longer be read, or `undefined`: the words that follow its path ("was cut short
   * …", "is truncated: …").
   */
  problem(): string | undefined;
  close(): void;
}

/**
 * How long after the file last changed a check of it is not relied on by later calls, in ms: a change
 * within the same tick of the file system's clock can leave its timestamps as they were, and a file
 * system that keeps whole seconds (ext4 with small inodes, HFS+) makes that tick a second.
 */
const SETTLED_AFTER_MS = 2_000;

/**
 * Whether the file's length and change time are those it had when `then` was taken. The change time
 * moves with every change of the modification time, and the inode of an open descriptor never changes.
 */
function unchanged(now: BigIntStats, then: BigIntStats): boolean {
  return now.size === then.size && now.ctimeNs === then.ctimeNs;
}

/**
 * Watches the cache file at `path`, just opened by LMDB, through a descriptor of its own (the same
 * file LMDB mapped, even once another file takes its name). LMDB never shortens its file, but another
 * program can (a `truncate`, a copy written over it), and LMDB then ends the process with a bus error at
 * its first read of a page past the new end: a read of any key reads the header pages. A file shorter
 * than it was once seen, or than the pages its header says are in use, was cut: LMDB must not read it.
 * A file cut between this check and LMDB's read still ends the process; no check can close that gap.
 *
 * A look reads the file's length and change time (one `fstat`) and reads the header pages again only
 * when these moved since a look found the file sound. Every change of the file's bytes or length (a
 * write, a `truncate`, this process's own commits) sets its change time, which no program can set, so
 * a file cut and grown back to the same length, or a copy of the same length written over it, is read
 * again. A change keeps the change time of the one before only within one tick of the file system's
 * clock, so a look is relied on only when the file last changed `SETTLED_AFTER_MS` before it: a file
 * changed shortly before (by this process's writes too) has its header pages read at every look until
 * then. Not caught: a same-length change that keeps the change time all the same, when the file's
 * timestamps come from another machine's clock (a network file system, where LMDB is not safe anyway)
 * or this machine's clock was set back to the very tick of the last change.
 *
 * A file found sound is not looked at again until the running synchronous code ends (a loop of `get`s
 * costs one look, not one per call): a cut during such a run is found by the first call after it, and
 * a read within the run after the cut ends the process, as one between a look and its read always could.
 * `onNewRun` is called at the first look of each such run that finds the file sound.
 */
export function watchCacheFile(path: string, onNewRun: () => void = () => {}): OpenCacheFile {
  const descriptor = openSync(path, 'r');
  let longest = fstatSync(descriptor).size;
  // The length and timestamps of the file when a check last found it sound, once they are settled.
  let sound: BigIntStats | undefined;
  // Whether a check in the running synchronous code found the file sound; cleared once that code ends.
  let lookedThisTurn = false;
  const endTurn = () => {
    lookedThisTurn = false;
  };
  function check(): string | undefined {
    const stats = fstatSync(descriptor, { bigint: true });
    if (sound !== undefined && unchanged(stats, sound)) return undefined;
    sound = undefined;
    // Read before the header pages: a change after this moment gets a later change time, and the length
    // and change time kept are those from before the read, so a change during it is looked at again.
    const now = BigInt(Date.now());
    const size = Number(stats.size);
    if (size < longest) return `was cut short by another program: ${size} bytes, it had ${longest}`;
    longest = size;
    const problem = checkHeaders(descriptor);
    if (problem === undefined && stats.ctimeNs < (now - BigInt(SETTLED_AFTER_MS)) * 1_000_000n) {
      sound = stats;
    }
    return problem;
  }
  return {
    problem() {
      if (lookedThisTurn) return undefined;
      const problem = check();
      if (problem === undefined) {
        lookedThisTurn = true;
        queueMicrotask(endTurn);
        onNewRun();
      }
      return problem;
    },
    close() {
      closeSync(descriptor);
    },
  };
}
