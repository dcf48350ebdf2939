/**
 * Network faults, for every group, injected the way runtimes report them (a reset socket; on the fetch
 * transport `TypeError('fetch failed')` with the system error as `cause`): resets retried, timeouts and
 * the caller's aborts landing on the request in flight (before its headers and while its body streams)
 * and on the backoff sleep.
 */
import { strict as assert } from 'node:assert';
import { EmbedKitError } from '@embedkit/core';
import type { ExpectOptions } from '../interceptor.js';
import { expectError, rejection } from '../suite/checks.js';
import { check, type Family } from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld } from '../suite/job-kit.js';

/**
 * A job whose timeout (40 ms) lands while the answer is held back as `held` says (400 ms): it fails
 * typed, and the provider's own call ends with it. `where` names the moment in the failure message.
 */
async function timesOut(world: JobWorld, held: ExpectOptions, where: string): Promise<void> {
  world.expectCall(world.success, held);
  const error = await rejection(world.run({ maxRetries: 0, timeoutMs: 40 }));
  expectError(error, { name: 'TimeoutError', code: 'timeout' });
  // The engine ends the attempt at its timeout either way; the request itself must end with it.
  const [took] = await world.callDurations();
  assert.ok(
    took !== undefined && took < 300,
    `the request outlived its timeout${where}: the provider's call settled after ${Math.round(took ?? 0)} ms`,
  );
}

/**
 * A job the caller aborts at 30 ms while the answer is held back as `held` says (1.5 s): it ends with
 * the native AbortError, and so does the provider's own call. The engine settles a moment after the abort
 * whatever the provider does, so what shows whether the request was aborted is when the provider's own
 * call settled: one that does not hand the signal to its HTTP request waits for the answer.
 */
async function abortedIn(world: JobWorld, held: ExpectOptions, where: string): Promise<void> {
  world.expectCall(world.success, held);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const started = performance.now();
  const error = await rejection(world.run({ signal: controller.signal }));
  const elapsed = performance.now() - started;
  assert.equal(error.name, 'AbortError', 'the native AbortError');
  assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped in an embedkit error');
  assert.ok(elapsed < 750, `the call settled ${Math.round(elapsed)} ms after it started`);
  const [took] = await world.callDurations();
  assert.ok(
    took !== undefined && took < 750,
    `the request was not aborted${where}: the provider's call settled after ${Math.round(took ?? 0)} ms`,
  );
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
      (world) => timesOut(world, { delayMs: 400 }, ''),
    ),
    check(`${prefix}abort-during-request`, "the caller's abort not ending the request in flight", (world) =>
      abortedIn(world, { delayMs: 1_500 }, ' in flight'),
    ),
    check(
      `${prefix}timeout-during-body`,
      'the timeout followed only until the headers arrive, so a body that stalls holds the request past it',
      // The headers and half the body come at once, the rest after the stall: the timeout lands mid-body.
      (world) => timesOut(world, { stallBodyMs: 400 }, ' while its body streamed'),
    ),
    check(
      `${prefix}abort-during-body`,
      "the caller's abort followed only until the headers arrive, so a body that stalls holds the request",
      (world) => abortedIn(world, { stallBodyMs: 1_500 }, ' while its body streamed'),
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
