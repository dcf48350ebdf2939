import { defineConfig } from 'tsup';
import { stripBareChunkImports } from '../../scripts/strip-bare-chunk-imports.js';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Keeps esbuild users' bundles free of ignored-bare-import warnings (see the script).
  onSuccess: async () => {
    stripBareChunkImports('dist');
  },
});
