import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';

/**
 * A setup file (vitest.shared.ts names it as `UNHANDLED_ERRORS_SETUP`): a rejection nobody handles, or an
 * exception thrown where nobody can catch it, fails the test that was running when it was reported, with
 * its message and stack, instead of failing the whole run afterwards with no test named. One reported
 * while no test runs (in a file's hooks, between tests) fails the file's run.
 *
 * A test that listens for these events itself (one that provokes them on purpose) handles them: while a
 * listener other than vitest's and this file's is on, this file steps aside, as vitest's own handler does.
 * Fake timers do not hold it back: the turns it waits for a late report run on the real `setImmediate`.
 */

const EVENTS = ['unhandledRejection', 'uncaughtException'] as const;
type Event = (typeof EVENTS)[number];
const WHAT: Record<Event, string> = {
  unhandledRejection: 'an unhandled rejection',
  uncaughtException: 'an uncaught exception',
};

/** Taken before any test can fake timers. */
const realSetImmediate = globalThis.setImmediate;
/** A rejection nobody handles is reported a turn or two after it happens. */
const REPORT_TURNS = 5;

/** The listeners on before this file's: vitest's own. */
const vitestListeners = new Set<unknown>(EVENTS.flatMap((event) => process.listeners(event)));

interface Caught {
  event: Event;
  reason: unknown;
}
/** What was reported while the current test ran, and outside any test. */
let duringTest: Caught[] = [];
let outsideTests: Caught[] = [];
let testRunning = false;

const listeners = Object.fromEntries(
  EVENTS.map((event) => [
    event,
    (reason: unknown) => {
      const listenedToElsewhere = process
        .listeners(event)
        .some((listener) => listener !== listeners[event] && !vitestListeners.has(listener));
      if (listenedToElsewhere) return;
      (testRunning ? duringTest : outsideTests).push({ event, reason });
    },
  ]),
) as Record<Event, (reason: unknown) => void>;

for (const event of EVENTS) process.on(event, listeners[event]);

async function reportTurns(): Promise<void> {
  for (let turn = 0; turn < REPORT_TURNS; turn++) await new Promise((resolve) => realSetImmediate(resolve));
}

/** One error naming where `caught` were reported, with each one's message and stack. */
function failure(where: string, caught: Caught[]): Error {
  const described = caught.map(({ event, reason }) => {
    const text =
      reason instanceof Error
        ? (reason.stack ?? `${reason.name}: ${reason.message}`)
        : inspect(reason, { depth: 4 });
    return `${WHAT[event]}: ${text}`;
  });
  const [first, ...rest] = described;
  const error = new Error(
    `${caught.length === 1 ? WHAT[caught[0]!.event] : `${caught.length} unhandled errors`} while ${where}:\n${first}${rest.map((text) => `\n${text}`).join('')}`,
    { cause: caught[0]!.reason },
  );
  // The stack of what was reported is in the message: this error's own frames are this file's.
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

beforeEach(() => {
  duringTest = [];
  testRunning = true;
});

afterEach(async () => {
  await reportTurns();
  testRunning = false;
  const caught = duringTest;
  duringTest = [];
  if (caught.length > 0) throw failure(`"${expect.getState().currentTestName}" ran`, caught);
});

afterAll(async () => {
  await reportTurns();
  for (const event of EVENTS) process.off(event, listeners[event]);
  const caught = outsideTests;
  outsideTests = [];
  if (caught.length > 0) {
    throw failure(
      `no test ran (in the hooks of ${expect.getState().testPath}, or between its tests)`,
      caught,
    );
  }
});
