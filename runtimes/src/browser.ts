/** The page's script: runs the smoke with the settings the page carries and leaves the outcome on `window`. */
import { runSmoke, type SmokeSettings } from './smoke.js';

const page = globalThis as unknown as { smokeSettings: SmokeSettings; smokeOutcome?: Promise<string> };

page.smokeOutcome = runSmoke(page.smokeSettings).then(
  (result) => JSON.stringify({ ok: true, result }),
  (error: unknown) => JSON.stringify({ ok: false, error: String((error as Error)?.stack ?? error) }),
);
