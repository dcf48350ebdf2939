#!/usr/bin/env node
import { main } from './cli.js';
import { EXIT } from './errors.js';
import { describeFileError } from './file-system.js';

// A closed pipe (`embedkit models | head`) is not an error. Any other failure (a full disk under
// `> vectors.txt`) is said in one line, not as a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  process.stderr.write(`embedkit: error: cannot write to stdout: ${describeFileError(error)}.\n`);
  process.exit(EXIT.failure);
});
// Stderr only comments on a run (progress, warnings, the summary): once its reader has gone
// (`2>&1 | head -1`), what is left to say is dropped, and a bulk or index job runs on to its end and
// exit code rather than dying on the next progress line.
process.stderr.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    // A run a signal stopped has said what it kept and cleaned up: an input it was still waiting on (a
    // pipe whose writer stalls) must not keep the process alive until that pipe closes.
    if (code === EXIT.interrupted || code === EXIT.terminated) process.exit(code);
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`embedkit: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
