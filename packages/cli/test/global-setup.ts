import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BIN, PACKAGE_ROOT } from './helpers.js';

/**
 * The tests run the built binary. When dist/bin.js is missing or older than a source file, build it
 * first (with the workspace's tsup), so a test never runs a stale command.
 */
export default function setup(): void {
  const sources = join(PACKAGE_ROOT, 'src');
  const newest = Math.max(...readdirSync(sources).map((name) => statSync(join(sources, name)).mtimeMs));
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newest) return;
  const manifestPath = createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('tsup/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin: Record<string, string> };
  execFileSync(process.execPath, [join(dirname(manifestPath), manifest.bin.tsup!)], {
    cwd: PACKAGE_ROOT,
    stdio: 'inherit',
  });
}
