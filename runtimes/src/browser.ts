/**
 * The page's script: runs the smoke (or the fault cases, when the settings name them) with the settings
 * the page carries and leaves the outcome on `window`.
 */
import { runSuite, type SuiteSettings } from './faults.js';

const page = globalThis as unknown as { smokeSettings: SuiteSettings; smokeOutcome?: Promise<string> };

page.smokeOutcome = runSuite(page.smokeSettings).then(
  (result) => JSON.stringify({ ok: true, result }),
  (error: unknown) => JSON.stringify({ ok: false, error: String((error as Error)?.stack ?? error) }),
);
