import { fstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import { UsageError } from './errors.js';

interface FileIdentity {
  realPath?: string;
  stats: Stats;
}

function identify(path: string): FileIdentity | undefined {
  try {
    const stats = statSync(path);
    // The system's realpath: Node's own removes `..` before it resolves the links, so `link/../x`
    // (link a directory elsewhere) named a file that does not exist, and the input was taken for none.
    return { realPath: realpathSync.native(path), stats };
  } catch {
    return undefined; // does not exist (yet): it cannot be the input
  }
}

/** stdin, when it is a regular file (`< file`): only its inode can be compared. */
function identifyStdin(): FileIdentity | undefined {
  try {
    const stats = fstatSync(0);
    return stats.isFile() ? { stats } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses, before anything is opened for writing, a job whose output files would overwrite its input:
 * the same path once symbolic links are resolved, or the same inode (a hard link, or stdin redirected
 * from the output). `files` are every file the job writes, the output first, its companions after.
 */
export function refuseOutputOverInput(
  command: string,
  input: string,
  out: string,
  files: readonly string[],
): void {
  const source = input === '-' ? identifyStdin() : identify(input);
  if (source === undefined) return;
  for (const file of files) {
    const target = identify(file);
    if (target === undefined) continue;
    const samePath = source.realPath !== undefined && source.realPath === target.realPath;
    const sameInode = source.stats.dev === target.stats.dev && source.stats.ino === target.stats.ino;
    if (!samePath && !sameInode) continue;
    const how = samePath
      ? 'the same file'
      : input === '-'
        ? 'the same file (stdin is read from it)'
        : 'the same file (hard links to one inode)';
    const through = file === out ? '' : ` (${command} writes ${file} beside it)`;
    throw new UsageError(
      `--out ${out} would overwrite the input ${input === '-' ? 'stdin' : input}: they are ${how}${through}. Choose another --out.`,
      command,
    );
  }
}
