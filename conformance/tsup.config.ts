import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/replay.ts'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Built-in modules keep their `node:` prefix: a bare `stream` is not resolved as Node's in every
  // package's vitest (provider-jina's resolves it as a file of its own directory).
  removeNodeProtocol: false,
});
