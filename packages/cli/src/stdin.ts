import { fstatSync } from 'node:fs';
import { CliError } from './errors.js';

/**
 * Refuses a stdin redirected from a directory (`< dir`): Node reads one as empty, so it was refused as
 * "stdin is empty" or "no inputs", sending the user looking for a blank file.
 */
export function refuseDirectoryStdin(): void {
  let directory = false;
  try {
    directory = fstatSync(0).isDirectory();
  } catch {
    // No stdin at all (closed): read as it comes.
  }
  if (directory)
    throw new CliError(
      'cannot read stdin: it is a directory; redirect a file with <, or pass its path instead of -.',
    );
}

/**
 * All of stdin as UTF-8 text, without a byte-order mark. Fatal: texts are sent byte for byte, as bulk
 * sends them, so a byte that is not UTF-8 is an error, never a silent U+FFFD.
 */
export async function readStdin(): Promise<string> {
  refuseDirectoryStdin();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new CliError(
      'stdin is not valid UTF-8; texts are sent byte for byte, so none is replaced. Convert it to UTF-8 first, e.g. (for Latin-1) pipe it through iconv -f latin1 -t utf-8.',
    );
  }
}
