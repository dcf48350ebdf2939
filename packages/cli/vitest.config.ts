import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

const shared = sharedTestConfig(import.meta.dirname);

export default defineConfig({
  test: {
    ...shared.test,
    // Builds dist/ when it is older than src/: the tests run the real binary.
    globalSetup: ['./test/global-setup.ts'],
  },
});
