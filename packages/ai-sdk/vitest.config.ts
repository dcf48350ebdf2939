import { configDefaults, defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';
import { nodeIsSupported } from './test/node-requirement.ts';

const shared = sharedTestConfig(import.meta.dirname);

// `ai` 7 and `@ai-sdk/*` 4 declare engines.node >= 22. On an older Node not one of their modules is
// loaded: only the file that reports the skip and its reason runs (CI runs the rest in its Node 24 pass).
export default defineConfig({
  test: {
    ...shared.test,
    ...(nodeIsSupported()
      ? { exclude: [...configDefaults.exclude, 'test/unsupported-node.test.ts'] }
      : { include: ['test/unsupported-node.test.ts'] }),
  },
});
