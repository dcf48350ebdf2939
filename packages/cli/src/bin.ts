#!/usr/bin/env node
import { main } from './cli.js';

// A closed pipe (`embedkit models | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// undici flags its decompress interceptor (which core's default dispatcher uses) as experimental on
// every run; that note is for library authors, not for someone running a command.
const defaultWarningListeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('DecompressInterceptor')) return;
  for (const listener of defaultWarningListeners) listener.call(process, warning);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`embedkit: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
