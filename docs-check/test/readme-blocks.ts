import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The TypeScript blocks of the READMEs, read one way for the test that compiles them (readme.test.ts) and
 * the one that runs them (readme-run.test.ts).
 */

export interface Block {
  /** The README's path from the repository root. */
  readme: string;
  /** The line of the opening fence; the block's first line is the next one. */
  line: number;
  /** The last `#` heading above the block. */
  heading: string;
  code: string;
  file: string;
}

/** Every README.md under `directory`, leaving out installs, builds and dot directories (CI's output). */
export function readmes(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      const skipped = entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.');
      return skipped ? [] : readmes(path);
    }
    return entry.name === 'README.md' ? [path] : [];
  });
}

/**
 * The TypeScript blocks of one README, each with its fence's line and the heading it sits under, and the
 * file (in `generated`, named by the README and the line) it is written to.
 */
export function blocksOf(path: string, root: string, generated: string): Block[] {
  const readme = relative(root, path).replaceAll('\\', '/');
  const lines = readFileSync(path, 'utf8').split('\n');
  const found: Block[] = [];
  let heading = '';
  let open: { line: number; indent: string } | undefined;
  for (const [index, text] of lines.entries()) {
    if (open === undefined) {
      const fence = /^(\s*)```(?:ts|typescript)\b/.exec(text);
      if (fence) open = { line: index + 1, indent: fence[1]! };
      else if (/^#{1,6} /.test(text)) heading = text.replace(/^#+ /, '').trim();
      else if (/^\s*```/.test(text)) open = { line: -1, indent: '' }; // another language: skipped whole
    } else if (/^\s*```\s*$/.test(text)) {
      if (open.line > 0) {
        const code = lines
          .slice(open.line, index)
          .map((codeLine) =>
            codeLine.startsWith(open!.indent) ? codeLine.slice(open!.indent.length) : codeLine,
          )
          .join('\n');
        const file = join(generated, `${readme.replace(/[^A-Za-z0-9]+/g, '-')}-${open.line}.ts`);
        found.push({ readme, line: open.line, heading, code, file });
      }
      open = undefined;
    }
  }
  return found;
}
