import { formatDemo, runDemo } from './demo.js';

try {
  for (const line of formatDemo(await runDemo())) console.log(line);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
