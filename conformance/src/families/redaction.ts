/**
 * Redaction, for every group: the key never appears in any error the provider raises, whatever the
 * class (4xx, 5xx, timeout, connection reset, invalid response) and wherever it could hide: the message,
 * `String(error)`, the stack, `url`, `requestId`, `responseBody` (JSON-escaped forms of the key too),
 * and every error of the cause chain. Which class each answer maps to is the error-answers family's
 * business; these scenarios judge only what the error carries.
 */

import { assertNoSecret, rejection } from '../suite/checks.js';
import { check, type Family } from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld } from '../suite/job-kit.js';
import { expectHeld } from './network-faults.js';

export const redaction: Family<JobKit, JobWorld> = {
  name: 'redaction',
  checks:
    'the key absent from every field of every error class, JSON-escaped forms and the cause chain included',
  cases: ({ prefix, wire }) => [
    check(
      `${prefix}secret-redaction`,
      'a 4xx that echoes the key put into the message or body unredacted',
      async (world) => {
        world.expectCall(
          errorReply(wire, 401, `Incorrect API key provided: ${world.apiKey} (${world.apiKey.slice(0, 4)}…)`),
        );
        const error = await rejection(world.run({ maxRetries: 0 }));
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
    check(
      `${prefix}redaction-json-escaped`,
      'only the literal key redacted, so the JSON-escaped key stays in the raw body excerpt',
      async (world) => {
        world.expectCall(() => {
          const body = JSON.stringify(
            wire.errorBody({ status: 400, message: `the key ${world.apiKey} is not allowed here` }),
          );
          // As a PHP-style writer sends it: the solidus escaped.
          const escaped = world.apiKey.replaceAll('/', '\\/');
          return {
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: body.replaceAll(world.apiKey, escaped),
          };
        });
        const error = await rejection(world.run({ maxRetries: 0 }));
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
    check(`${prefix}redaction-request-id`, 'a request id that echoes the key kept as is', async (world) => {
      world.expectCall(() => ({
        ...errorReply(wire, 400, 'conformance bad request')(),
        headers: { 'x-request-id': `req-${world.apiKey}` },
      }));
      const error = await rejection(world.run({ maxRetries: 0 }));
      assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
    }),
    check(
      `${prefix}redaction-rate-limit`,
      'a rate-limit error, often rebuilt apart from the others to carry its wait, that quotes the key or carries the request',
      async (world) => {
        world.expectCall(errorReply(wire, 429, `Rate limit reached for the key ${world.apiKey}`));
        const error = await rejection(world.run({ maxRetries: 0 }));
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
    check(
      `${prefix}redaction-5xx`,
      'a 5xx text body that quotes the key kept in the error',
      async (world) => {
        world.expectCall(() => ({
          status: 500,
          headers: { 'content-type': 'text/plain' },
          body: `upstream said: authorization Bearer ${world.apiKey} rejected`,
        }));
        const error = await rejection(world.run({ maxRetries: 0 }));
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
    check(
      `${prefix}redaction-timeout`,
      'a timeout error that carries the request (its headers)',
      async (world) => {
        // Held until the call has failed: the timeout lands first however loaded the machine is, and on one
        // loaded enough the request may not even have left (optional). The answer then comes, so a request
        // the provider did not end (the timeout scenarios name that bug) settles rather than holding this
        // scenario open.
        const answer = expectHeld(world, 'answer', { optional: true });
        const error = await rejection(world.run({ maxRetries: 0, timeoutMs: 40 })).finally(answer.release);
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
    check(
      `${prefix}redaction-connection-reset`,
      'a network error wrapped with the request (its headers) as its cause',
      async (world) => {
        world.expectCall(world.success, { connectionError: 'reset' });
        const error = await rejection(world.run({ maxRetries: 0 }));
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
    check(
      `${prefix}redaction-invalid-response`,
      'a gateway page in a 200 that quotes the key copied into the error',
      async (world) => {
        world.expectCall(() => ({
          status: 200,
          headers: { 'content-type': 'text/html' },
          body: `<html><body><p>Debug: authorization: Bearer ${world.apiKey}</p></body></html>`,
        }));
        const error = await rejection(world.run({ maxRetries: 0 }));
        assertNoSecret(error, world.apiKey, [wire.authHeader(world.apiKey).value]);
      },
    ),
  ],
};
