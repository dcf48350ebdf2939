import { it } from 'vitest';
import { NODE_REQUIREMENT } from './node-requirement.js';

// Runs only on Node < 22 (see vitest.config.ts): the whole suite is skipped there, and says why.
console.log(`skipped on Node ${process.version}: ${NODE_REQUIREMENT}`);
it.skip(`skipped on Node ${process.version}: ${NODE_REQUIREMENT}`, () => {});
