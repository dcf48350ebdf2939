import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

const shared = sharedTestConfig(import.meta.dirname);

export default defineConfig({
  test: {
    ...shared.test,
    // Builds dist/ when it is older than src/: the tests run the real binary. The shared setup comes first,
    // so the build already runs in the tests' temporary directory, and its check of that directory last.
    globalSetup: [...shared.test.globalSetup, './test/global-setup.ts'],
  },
});
