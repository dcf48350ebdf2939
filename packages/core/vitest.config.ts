import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

export default defineConfig({
  ...sharedTestConfig(import.meta.dirname),
  // The tests run the sources; package.json's `#default-transport` points into dist/ (the Node one here).
  resolve: {
    alias: {
      '#default-transport': fileURLToPath(new URL('./src/http/default-transport.node.ts', import.meta.url)),
    },
  },
});
