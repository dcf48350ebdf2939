import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './harness.js';

/**
 * Where a runtime's binary is: the variable that names it, else what `.ci/run` installs, else the
 * PATH. `.ci/run` installs every one of them, so in CI (CI=true) a missing runtime fails the test;
 * elsewhere the test is skipped and says what to install.
 */
export function locate(
  name: string,
  options: { variable: string; candidates: string[]; install: string },
): { path: string } | { missing: string } {
  const named = process.env[options.variable];
  const candidates = [
    ...(named === undefined ? [] : [named]),
    ...options.candidates.map((candidate) =>
      candidate.startsWith('/') ? candidate : join(REPOSITORY_ROOT, candidate),
    ),
  ];
  for (const candidate of candidates) if (existsSync(candidate)) return { path: candidate };
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath !== '') return { path: onPath };
  return {
    missing: `${name} is not installed here (looked at $${options.variable}, ${options.candidates.join(', ')} and PATH): ${options.install}`,
  };
}

/** In CI a missing runtime is a failure; elsewhere a skip with its reason. */
export function requireRuntime(
  found: { path: string } | { missing: string },
  context: { skip(note?: string): void },
): string | undefined {
  if ('path' in found) return found.path;
  if (process.env.CI === 'true') throw new Error(found.missing);
  context.skip(found.missing);
  return undefined;
}
