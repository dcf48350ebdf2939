/**
 * Network faults, for every group, injected the way runtimes report them (a reset socket; on the fetch
 * transport `TypeError('fetch failed')` with the system error as `cause`): resets retried, timeouts and
 * the caller's aborts landing on the request in flight (before its headers and while its body streams)
 * and on the backoff sleep.
 */
import { strict as assert } from 'node:assert';
import { EmbedKitError } from '@embedkit/core';
import { expectError, rejection } from '../suite/checks.js';
import { check, type Family } from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld } from '../suite/job-kit.js';

/** What of the answer a scenario holds back: the whole of it, or the rest of its body (half comes at once). */
type Held = 'answer' | 'body';

/**
 * Expects the small job's call, answered with `held` held back until `release` (or the world closes):
 * no race against real time. `arrived` settles as the request arrives. An `optional` request may never
 * come (a timeout that lands before it leaves).
 */
export function expectHeld(
  world: JobWorld,
  held: Held,
  { optional = false }: { optional?: boolean } = {},
): { arrived: Promise<void>; release(): void } {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrive = () => {};
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  world.expectCall(
    (request) => {
      arrive();
      return world.success(request);
    },
    held === 'answer' ? { holdUntil: released, optional } : { holdBodyUntil: released, optional },
  );
  return { arrived, release };
}

/**
 * Releases the answer held back once the job has ended, and checks that the provider's own call did not
 * read it: the engine ends the job at its timeout or abort whatever the provider does, so what shows
 * whether the request itself ended is that it was gone before the answer came. `failure` says what a
 * provider whose call read it did.
 */
async function endedWhileHeld(world: JobWorld, release: () => void, failure: string): Promise<void> {
  release();
  // No call at all is an attempt ended before the provider was asked: nothing of it can outlive the job.
  const [answered] = await world.callsAnswered();
  assert.ok(answered !== true, failure);
}

/**
 * A job whose timeout (40 ms) lands while the answer is held back as `held` says: it fails typed, and the
 * provider's own call ends with it. `where` names the moment in the failure message.
 */
async function timesOut(world: JobWorld, held: Held, where: string): Promise<void> {
  // The timeout may land before the request leaves, on a loaded machine: then it never comes.
  const answer = expectHeld(world, held, { optional: true });
  try {
    const error = await rejection(world.run({ maxRetries: 0, timeoutMs: 40 }));
    expectError(error, { name: 'TimeoutError', code: 'timeout' });
    await endedWhileHeld(
      world,
      answer.release,
      `the request outlived its timeout${where}: the provider's call went on after it and read the answer once it came`,
    );
  } finally {
    answer.release();
  }
}

/**
 * A job the caller aborts while the answer is held back as `held` says: it ends with the native
 * AbortError, and so does the provider's own call. The abort comes once the request has arrived, and for
 * a body held back 30 ms later, by when the headers and the first half of the body have reached the
 * provider (on a machine too slow for that it lands before the headers, which a provider passes alike).
 */
async function abortedIn(world: JobWorld, held: Held, where: string): Promise<void> {
  const answer = expectHeld(world, held);
  try {
    const controller = new AbortController();
    const ended = rejection(world.run({ signal: controller.signal }));
    await Promise.race([answer.arrived, ended]);
    if (held === 'body') await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort();
    const error = await ended;
    assert.equal(error.name, 'AbortError', 'the native AbortError');
    assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped in an embedkit error');
    await endedWhileHeld(
      world,
      answer.release,
      `the request was not aborted${where}: the provider's call went on after the abort and read the answer once it came`,
    );
  } finally {
    answer.release();
  }
}

export const networkFaults: Family<JobKit, JobWorld> = {
  name: 'network-faults',
  checks:
    'connection resets retried and typed, timeouts, aborts during the request, during the body and during backoff',
  cases: ({ prefix, wire }) => [
    check(
      `${prefix}connection-reset`,
      'a reset socket not typed as a retryable ConnectionError',
      async (world) => {
        world.expectCall(world.success, { connectionError: 'reset' });
        world.expectCall(world.success);
        await world.run();
        world.expectCall(world.success, { connectionError: 'reset' });
        const error = await rejection(world.run({ maxRetries: 0 }));
        expectError(error, { name: 'ConnectionError', isRetryable: true });
      },
    ),
    check(
      `${prefix}timeout`,
      "the attempt's signal not handed to the request, so timeouts never land",
      (world) => timesOut(world, 'answer', ''),
    ),
    check(`${prefix}abort-during-request`, "the caller's abort not ending the request in flight", (world) =>
      abortedIn(world, 'answer', ' in flight'),
    ),
    check(
      `${prefix}timeout-during-body`,
      'the timeout followed only until the headers arrive, so a body that stalls holds the request past it',
      // The headers and half the body come at once, the rest once released: the timeout lands mid-body.
      (world) => timesOut(world, 'body', ' while its body streamed'),
    ),
    check(
      `${prefix}abort-during-body`,
      "the caller's abort followed only until the headers arrive, so a body that stalls holds the request",
      (world) => abortedIn(world, 'body', ' while its body streamed'),
    ),
    check(
      `${prefix}abort-during-backoff`,
      'an abort during the backoff sleep followed by another attempt',
      async (world) => {
        world.expectCall(errorReply(wire, 503, 'unavailable'));
        const controller = new AbortController();
        world.clock.onSleep = () => controller.abort();
        const error = await rejection(world.run({ signal: controller.signal }));
        assert.equal(error.name, 'AbortError', 'the native AbortError');
        assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped in an embedkit error');
        assert.equal(world.interceptor.requests.length, 1, 'no attempt after the abort');
      },
    ),
  ],
};
