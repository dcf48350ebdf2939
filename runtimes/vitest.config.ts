import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../vitest.shared.ts';

const shared = sharedTestConfig(import.meta.dirname);

export default defineConfig({
  test: {
    ...shared.test,
    // Browsers and runtimes start in seconds; the CPU is shared, so allow for a slow start.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
