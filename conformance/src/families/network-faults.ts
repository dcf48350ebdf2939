/**
 * Network faults, for every group, injected the way runtimes report them (a reset socket; on the fetch
 * transport `TypeError('fetch failed')` with the system error as `cause`): resets retried, timeouts and
 * the caller's aborts landing on the request in flight and on the backoff sleep.
 */
import { strict as assert } from 'node:assert';
import { EmbedKitError } from '@embedkit/core';
import { expectError, rejection } from '../suite/checks.js';
import { check, type Family } from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld } from '../suite/job-kit.js';

export const networkFaults: Family<JobKit, JobWorld> = {
  name: 'network-faults',
  checks: 'connection resets retried and typed, timeouts, aborts during the request and during backoff',
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
      async (world) => {
        world.expectCall(world.success, { delayMs: 400 });
        const error = await rejection(world.run({ maxRetries: 0, timeoutMs: 40 }));
        expectError(error, { name: 'TimeoutError', code: 'timeout' });
        // The engine ends the attempt at its timeout either way; the request itself must end with it.
        const [took] = await world.callDurations();
        assert.ok(
          took !== undefined && took < 300,
          `the request outlived its timeout: the provider's call settled after ${Math.round(took ?? 0)} ms`,
        );
      },
    ),
    check(
      `${prefix}abort-during-request`,
      "the caller's abort not ending the request in flight",
      async (world) => {
        // The answer would come after 1.5 s; an abort at 30 ms must end the request on the wire. The engine
        // settles a moment after the abort whatever the provider does, so what shows whether the request
        // was aborted is when the provider's own call settled: one that does not hand the signal to its
        // HTTP request waits for the answer.
        world.expectCall(world.success, { delayMs: 1_500 });
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
          `the request in flight was not aborted: the provider's call settled after ${Math.round(took ?? 0)} ms`,
        );
      },
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
