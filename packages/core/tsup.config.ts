import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { stripBareChunkImports } from '../../scripts/strip-bare-chunk-imports.js';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    provider: 'src/provider.ts',
    testing: 'src/testing.ts',
    'cache-check': 'src/cache-check.ts',
    // The two default transports; `#default-transport` in package.json picks one by runtime condition.
    'http/default-transport': 'src/http/default-transport.ts',
    'http/default-transport.node': 'src/http/default-transport.node.ts',
  },
  // Left as an import so that the consumer's runtime or bundler resolves it by its own conditions.
  external: ['#default-transport'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Keeps esbuild users' bundles free of ignored-bare-import warnings (see the script).
  onSuccess: async () => {
    stripBareChunkImports('dist');
  },
  define: { __EMBEDKIT_VERSION__: JSON.stringify(version) },
});
