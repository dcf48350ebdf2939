// tsup (esbuild) code splitting adds `import "./chunk-XXXX.js";` to an entry for every chunk it reaches
// only through another chunk. Our chunks hold declarations only (the packages declare
// `"sideEffects": false`), so those imports change nothing at run time, yet every esbuild user who
// bundles the package sees an "ignored-bare-import" warning for each. Removing them keeps bundles
// warning-free; the named imports still load every chunk, in the same order.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Each is replaced by an empty line, so that the source maps keep pointing at the right lines.
const BARE_CHUNK_IMPORT = /^import "(?:\.\.?\/)+chunk-[A-Z0-9]+\.js";$/gm;

/** Strips bare chunk imports from every `.js` file under `directory`; returns how many files changed. */
export function stripBareChunkImports(directory: string): number {
  let changed = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    const stripped = text.replace(BARE_CHUNK_IMPORT, '');
    if (stripped !== text) {
      writeFileSync(file, stripped);
      changed++;
    }
  }
  return changed;
}
