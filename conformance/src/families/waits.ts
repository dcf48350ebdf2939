/**
 * Waits, for every group: each form in which this API says how long to wait (the headers it sends, a
 * structured body, a sentence in the message), measured on the injected clock. "It retried" is not
 * enough: the engine must wait what was asked, up to `maxRetryDelayMs`.
 */
import { strict as assert } from 'node:assert';
import type { WireReply } from '../interceptor.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import { errorReply, type JobKit, type JobWorld } from '../suite/job-kit.js';

/** One retried answer (a 429, or a 503 with a wait): the engine must have slept once, for a wait `accepts` takes. */
async function waitedOnce(
  world: JobWorld,
  reply: () => WireReply,
  accepts: (sleep: number) => boolean,
  what: string,
  settings: { maxRetryDelayMs?: number } = {},
): Promise<void> {
  world.expectCall(reply);
  world.expectCall(world.success);
  await world.run(settings);
  assert.equal(world.interceptor.requests.length, 2, 'retried once');
  assert.equal(world.clock.sleeps.length, 1, `one wait, not ${JSON.stringify(world.clock.sleeps)}`);
  const slept = world.clock.sleeps[0]!;
  assert.ok(accepts(slept), `waited ${slept} ms for ${what}`);
}

export const waits: Family<JobKit, JobWorld> = {
  name: 'waits',
  checks: 'every wait form the API uses (headers, structured body, message), measured on the clock, capped',
  skip: (kit) => kit.refillWait,
  cases: ({ prefix, wire }) => {
    const forms = wire.waits ?? {};
    const headers = forms.headers ?? ['retry-after'];
    const limited = (extra: Record<string, string>) =>
      errorReply(wire, 429, 'rate limited', { headers: extra });
    const cases: (Case<JobWorld> | SkippedCase)[] = [];
    const undeclared = (id: string, field: string) =>
      skip(`${prefix}${id}`, `the wire profile declares no such wait (waits.${field})`);

    if (headers.includes('retry-after')) {
      cases.push(
        check(
          `${prefix}error-429-retry-after-seconds`,
          'Retry-After ignored, or read as milliseconds',
          (world) =>
            waitedOnce(world, limited({ 'retry-after': '2' }), (sleep) => sleep === 2_000, 'Retry-After: 2'),
        ),
        // HTTP-dates have whole seconds, so a date 5 s ahead means a wait of 4 to 5 s.
        check(
          `${prefix}error-429-retry-after-http-date`,
          'a Retry-After HTTP-date ignored (parsed as a number)',
          (world) => {
            const date = new Date(Date.now() + 5_000).toUTCString();
            return waitedOnce(
              world,
              limited({ 'retry-after': date }),
              (sleep) => sleep > 3_000 && sleep <= 5_000,
              date,
            );
          },
        ),
        // Servers send Retry-After with a 503 too (maintenance, overload), not only with a 429.
        check(
          `${prefix}error-503-retry-after`,
          'Retry-After read on 429s only, so a 503 that says when to come back is retried after a blind backoff',
          (world) =>
            waitedOnce(
              world,
              errorReply(wire, 503, 'down for maintenance', { headers: { 'retry-after': '3' } }),
              (sleep) => sleep === 3_000,
              'Retry-After: 3 on a 503',
            ),
        ),
      );
    } else {
      cases.push(
        undeclared('error-429-retry-after-seconds', 'headers'),
        undeclared('error-429-retry-after-http-date', 'headers'),
        undeclared('error-503-retry-after', 'headers'),
      );
    }
    cases.push(
      headers.includes('retry-after-ms')
        ? check(`${prefix}error-429-retry-after-milliseconds`, 'retry-after-ms ignored', (world) =>
            waitedOnce(
              world,
              limited({ 'retry-after-ms': '1500' }),
              (sleep) => sleep === 1_500,
              'retry-after-ms: 1500',
            ),
          )
        : undeclared('error-429-retry-after-milliseconds', 'headers'),
      forms.structuredBody === undefined
        ? undeclared('wait-structured-body', 'structuredBody')
        : check(
            `${prefix}wait-structured-body`,
            'the wait in the error body ignored (only headers read)',
            (world) =>
              waitedOnce(
                world,
                () => ({ status: 429, body: forms.structuredBody!(3_500) }),
                (sleep) => sleep === 3_500,
                'a structured wait of 3.5 s',
              ),
          ),
      forms.messageBody === undefined
        ? undeclared('wait-message', 'messageBody')
        : check(`${prefix}wait-message`, '"try again in 2.5s" in the message ignored', (world) =>
            waitedOnce(
              world,
              () => ({ status: 429, body: forms.messageBody!(2_500) }),
              (sleep) => sleep === 2_500,
              'a message asking for 2.5 s',
            ),
          ),
    );
    // The cap, through the first form the API uses: a 25 s wait under maxRetryDelayMs 10 s, which the
    // three retries can reach (a wait they cannot reach fails the call at once, in core's own tests).
    const long: (() => WireReply) | undefined = headers.includes('retry-after')
      ? limited({ 'retry-after': '25' })
      : forms.structuredBody !== undefined
        ? () => ({ status: 429, body: forms.structuredBody!(25_000) })
        : forms.messageBody !== undefined
          ? () => ({ status: 429, body: forms.messageBody!(25_000) })
          : headers.includes('retry-after-ms')
            ? limited({ 'retry-after-ms': '25000' })
            : undefined;
    cases.push(
      long === undefined
        ? skip(`${prefix}wait-capped`, 'the wire profile declares no wait form (waits)')
        : check(
            `${prefix}wait-capped`,
            'a server wait longer than maxRetryDelayMs obeyed in full, or dropped for blind backoff',
            (world) =>
              waitedOnce(world, long, (sleep) => sleep === 10_000, 'a 25 s wait under a 10 s cap', {
                maxRetryDelayMs: 10_000,
              }),
          ),
    );
    return cases;
  },
};
