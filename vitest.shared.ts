import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * The setup file that fails the test during which a rejection went unhandled or an exception was thrown
 * where nobody could catch it, naming it (vitest.unhandled-errors.ts). Every package runs it.
 */
export const UNHANDLED_ERRORS_SETUP = join(root, 'vitest.unhandled-errors.ts');

/**
 * Shared vitest settings: every package also writes a JSON report to .ci/results/ so CI can print one
 * closing line for the whole run, and its tests run in a temporary directory of their own that must be
 * empty when they end (vitest.temporary-directory.ts): a test that leaves a file there fails the run. A
 * rejection nobody handled, or an exception nobody could catch, fails the test that was running when it
 * was reported, by name (vitest.unhandled-errors.ts).
 */
export function sharedTestConfig(packageDirectory: string) {
  const name = relative(root, packageDirectory).replaceAll('/', '-');
  const suffix = process.env.EMBEDKIT_TEST_RESULTS_SUFFIX
    ? `-${process.env.EMBEDKIT_TEST_RESULTS_SUFFIX}`
    : '';
  return {
    test: {
      reporters: [
        'default',
        ['json', { outputFile: join(root, '.ci', 'results', `${name}${suffix}.json`) }],
      ] as const,
      globalSetup: [join(root, 'vitest.temporary-directory.ts')],
      setupFiles: [UNHANDLED_ERRORS_SETUP],
      testTimeout: 30_000,
    },
  };
}
