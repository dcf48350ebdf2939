/**
 * Error answers, for every group: each status class with its typed error, the API's message kept, the
 * retryable ones retried and the others not, special errors where the API has them, and bodies that
 * are not what they claim (an HTML page, broken JSON, an error inside a 200).
 */
import { strict as assert } from 'node:assert';
import { EmbedKitError } from '@embedkit/core';
import { expectError, rejection, requestIdSentIn } from '../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld } from '../suite/job-kit.js';

const NOT_RETRIED: [number, string, string][] = [
  [400, 'InvalidRequestError', 'invalid_request'],
  [401, 'AuthenticationError', 'authentication'],
  [403, 'PermissionDeniedError', 'permission_denied'],
  [404, 'NotFoundError', 'not_found'],
];

/** Server errors that must be retried, each answered once before the success (the 502 with the API's JSON body). */
const RETRIED: [number, string][] = [
  [500, 'internal'],
  [502, 'bad gateway'],
  [503, 'unavailable'],
  [504, 'gateway timeout'],
];

/** The request id the suite's error answers carry, under the wire's `requestIdHeader` when it declares one. */
const ERROR_REQUEST_ID = 'req-conformance-error';

const PAGE =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

export const errorAnswers: Family<JobKit, JobWorld> = {
  name: 'error-answers',
  checks:
    'every status class as its typed error with the API message; retries only where they help; HTML, broken JSON and errors inside a 200',
  cases: ({ prefix, wire }) => {
    const cases: (Case<JobWorld> | SkippedCase)[] = NOT_RETRIED.map(([status, name, code]) =>
      check(
        `${prefix}error-${status}`,
        `a ${status} mapped to the wrong class, retried, or stripped of the API's message or request id`,
        async (world) => {
          const header = wire.requestIdHeader;
          world.expectCall(
            errorReply(wire, status, `conformance error ${status}`, {
              ...(header === undefined ? {} : { headers: { [header]: ERROR_REQUEST_ID } }),
            }),
          );
          const error = await rejection(world.run());
          expectError(error, { name, code, statusCode: status, isRetryable: false });
          assert.match(error.message, new RegExp(`conformance error ${status}`), 'the API message is kept');
          if (header !== undefined)
            assert.equal(error.requestId, ERROR_REQUEST_ID, `the error keeps ${requestIdSentIn(header)}`);
          if (status === 400)
            assert.notEqual(error.batchTooLarge, true, 'an ordinary 400 is not "too large"');
          assert.equal(world.interceptor.requests.length, 1, 'not retried');
        },
      ),
    );
    cases.push(
      // Retried under a wait, a 429 rewrapped as a server error reads the same; what tells is the error the
      // caller gets once retries are spent, which code catching RateLimitError must see.
      check(
        `${prefix}error-429-rate-limited`,
        'a 429 mapped to another class (a retryable server error), or retried past maxRetries',
        async (world) => {
          world.expectCall(errorReply(wire, 429, 'conformance error 429'));
          const error = await rejection(world.run({ maxRetries: 0 }));
          expectError(error, {
            name: 'RateLimitError',
            code: 'rate_limited',
            statusCode: 429,
            isRetryable: true,
          });
          assert.notEqual(error.quotaExhausted, true, 'a rate limit is not a used-up quota');
          assert.match(error.message, /conformance error 429/, 'the API message is kept');
          assert.equal(world.interceptor.requests.length, 1, 'not retried under maxRetries: 0');
        },
      ),
      wire.signals?.quotaExhausted === true
        ? check(
            `${prefix}error-429-quota-exhausted`,
            'a used-up quota retried for minutes as if it were a rate limit',
            async (world) => {
              world.expectCall(errorReply(wire, 429, 'quota used up', { kind: 'quota-exhausted' }));
              const error = await rejection(world.run());
              expectError(error, { name: 'RateLimitError', isRetryable: false });
              assert.equal(error.quotaExhausted, true);
              assert.equal(world.interceptor.requests.length, 1, 'a used-up quota is not retried');
            },
          )
        : skip(
            `${prefix}error-429-quota-exhausted`,
            'the wire profile declares no quota-exhausted signal (signals.quotaExhausted)',
          ),
      check(
        `${prefix}error-5xx-retried`,
        "a 500, 502, 503 or 504 not retried (a gateway's 502 with a JSON body, or its timeout, taken for a final answer)",
        async (world) => {
          for (const [status, message] of RETRIED) world.expectCall(errorReply(wire, status, message));
          world.expectCall(world.success);
          await world.run({ maxRetries: RETRIED.length });
          assert.equal(world.interceptor.requests.length, RETRIED.length + 1, 'each 5xx retried once');
        },
      ),
      check(
        `${prefix}error-5xx-exhausted`,
        'spent retries reported as the last error alone, or retried past maxRetries, or the request id of a retried error lost',
        async (world) => {
          const header = wire.requestIdHeader;
          world.expectCall(
            errorReply(wire, 503, 'unavailable', {
              ...(header === undefined ? {} : { headers: { [header]: ERROR_REQUEST_ID } }),
            }),
            { times: 3 },
          );
          const error = await rejection(world.run({ maxRetries: 2 }));
          expectError(error, { name: 'RetryError', code: 'retries_exhausted' });
          const last = error.lastError as Error & { requestId?: string };
          assert.equal(last.name, 'ServerError');
          assert.equal(error.attempts, 3);
          if (header !== undefined)
            assert.equal(last.requestId, ERROR_REQUEST_ID, `the last error keeps ${requestIdSentIn(header)}`);
        },
      ),
      check(
        `${prefix}html-502`,
        "a proxy's HTML page taken for the API's answer: markup in the message, or no status",
        async (world) => {
          world.expectCall(() => ({ status: 502, headers: { 'content-type': 'text/html' }, body: PAGE }), {
            times: 2,
          });
          const error = await rejection(world.run({ maxRetries: 1 }));
          expectError(error, { name: 'RetryError' });
          const last = error.lastError as Error & { statusCode?: number };
          assert.equal(last.name, 'ServerError');
          assert.equal(last.statusCode, 502);
          // Judged by what it tells: the status, without the page's markup (its wording is the proxy's).
          assert.match(last.message, /502/, 'the message gives the status');
          assert.doesNotMatch(last.message, /<\/?[a-z]+[^>]*>/i, 'markup is stripped from the message');
        },
      ),
      check(
        `${prefix}malformed-json`,
        'a cut-off JSON body crashing the provider or retried',
        async (world) => {
          world.expectCall(() => ({
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: '{"data": [{"index": 0,',
          }));
          const error = await rejection(world.run());
          expectError(error, { name: 'InvalidResponseError' });
          assert.equal(world.interceptor.requests.length, 1, 'not retried');
        },
      ),
      check(
        `${prefix}error-200-body`,
        'an error a gateway sends with status 200 reported as a wrong shape, its message lost',
        async (world) => {
          const message = 'conformance upstream failure inside a 200';
          world.expectCall(() => ({ status: 200, body: wire.errorBody({ status: 500, message }) }));
          const error = await rejection(world.run({ maxRetries: 0 }));
          assert.ok(EmbedKitError.isInstance(error), `a typed embedkit error, not ${error.name}`);
          assert.match(error.message, new RegExp(message), "the server's message is surfaced");
        },
      ),
    );
    return cases;
  },
};
