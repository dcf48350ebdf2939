#!/usr/bin/env node
import { main } from './cli.js';
import { EXIT } from './errors.js';

// A closed pipe (`embedkit models | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

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
