/**
 * Entry point for Bun and Deno: reads the settings from the environment, runs the smoke (or the fault
 * cases, or the call through an echoing proxy, when the settings name them) and prints its result as one
 * JSON line (or the error, and exits 1).
 */
import { runSuite } from './faults.js';

const environment =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const settings = JSON.parse(environment.EMBEDKIT_SMOKE_SETTINGS ?? '{}');

runSuite(settings).then(
  (result) => {
    console.log(JSON.stringify({ ok: true, result }));
  },
  (error: unknown) => {
    console.log(JSON.stringify({ ok: false, error: String((error as Error)?.stack ?? error) }));
    (globalThis as { process?: { exitCode?: number } }).process!.exitCode = 1;
  },
);
