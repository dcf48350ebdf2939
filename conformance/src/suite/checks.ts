/** Assertions every group's scenarios share. */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import type { OutputType } from '@embedkit/core';
import { compileRedaction, DEFAULT_REQUEST_ID_HEADERS } from '@embedkit/core/provider';
import { arrayClassOf } from './answers.js';

export type AnyError = Error & Record<string, unknown>;

/** Headers a scenario creates the provider with (its `headers` setting); the custom-headers scenarios check they are sent. */
export const PROVIDER_HEADERS = { 'x-provider-header': 'from-settings' };

/** Headers a custom-headers scenario gives a call of its own (the `headers` call setting). */
export const CALL_HEADERS = { 'x-call-header': 'per-call' };

/**
 * `text` in the forms a tidying provider changes (edge whitespace, a newline and a tab, CRLF), one for each
 * `index` in turn: the groups whose texts are not embeddings inputs check they are sent as given too.
 */
export function untidied(text: string, index: number): string {
  const forms = [`  ${text}  `, `${text}\n\tits second line`, `${text}\r\nafter a CRLF`];
  return forms[index % forms.length]!;
}

/** Checks that a request carried the provider's `headers` setting (`PROVIDER_HEADERS`); `what` names it. */
function expectProviderHeaders(headers: Record<string, string>, what: string): void {
  assert.equal(
    headers['x-provider-header'],
    'from-settings',
    `${what} did not carry \`x-provider-header: from-settings\`, given in the provider's \`headers\` setting: the provider must send the headers it was created with on every request`,
  );
}

/**
 * Checks that `request` carried both the provider's `headers` setting (`PROVIDER_HEADERS`) and the
 * call's own (`CALL_HEADERS`); `what` names the request, e.g. "the rerank request".
 */
export function expectCustomHeaders(headers: Record<string, string>, what: string): void {
  expectProviderHeaders(headers, what);
  assert.equal(
    headers['x-call-header'],
    'per-call',
    `${what} did not carry \`x-call-header: per-call\`, given in the call's own \`headers\`: the provider must send a call's headers with its request`,
  );
}

/**
 * Checks that a request the provider made without headers of the call's own, after a call that gave
 * `CALL_HEADERS`, carried the provider's `headers` setting and not the earlier call's: a provider that
 * merges a call's headers into its settings' object (`Object.assign(settings.headers, call.headers)`)
 * sends them with every call after it. `what` names the request, e.g. "the rerank request".
 */
export function expectCallHeadersNotKept(headers: Record<string, string>, what: string): void {
  expectProviderHeaders(headers, what);
  assert.equal(
    headers['x-call-header'],
    undefined,
    `${what}, made without headers of its own after a call that gave \`x-call-header: per-call\`, still carried it: the provider kept one call's headers for the calls after it (merged into its \`headers\` setting?)`,
  );
}

/** The error `promise` rejects with; fails the scenario when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<AnyError> {
  try {
    await promise;
  } catch (error) {
    return error as AnyError;
  }
  return assert.fail('the call succeeded, but it had to fail');
}

/**
 * Checks one returned vector against what the fake API sent: the typed array of the output type, its
 * length, and every value (floats to float32 precision, quantized bytes exactly).
 */
export function expectVector(
  actual: unknown,
  expected: readonly number[],
  label: string,
  outputType: OutputType = 'float',
): void {
  const arrayClass = arrayClassOf(outputType);
  const name = (actual as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  assert.equal(name, arrayClass, `${label} is a ${arrayClass}`);
  const vector = actual as ArrayLike<number>;
  assert.equal(
    vector.length,
    expected.length,
    `${label}: length ${vector.length}, expected ${expected.length}`,
  );
  for (let index = 0; index < expected.length; index++) {
    const difference = Math.abs(vector[index]! - expected[index]!);
    if (!(difference <= (outputType === 'float' ? 1e-6 : 0)))
      assert.fail(`${label}: value ${index} is ${vector[index]}, expected ${expected[index]}`);
  }
}

/** Whether `actual` holds exactly `expected` (floats to float32 precision, quantized bytes exactly). */
export function sameValues(actual: unknown, expected: readonly number[], outputType: OutputType): boolean {
  const vector = actual as ArrayLike<number> | undefined;
  if (vector === undefined || vector === null || vector.length !== expected.length) return false;
  for (let index = 0; index < expected.length; index++)
    if (!(Math.abs(vector[index]! - expected[index]!) <= (outputType === 'float' ? 1e-6 : 0))) return false;
  return true;
}

/**
 * The other place of `expected` whose value `actual` holds when it does not hold its own (`expected[index]`),
 * or -1: an answer placed at another's index, which a failure names ("vector 0 is input 4's") since that
 * tells more than its first differing value. `holds` says whether an answer is an expected value. A place
 * expected to hold the same as `index` (a repeated input) cannot hold `actual` when `index` does not, so it
 * is never named.
 */
export function misplacedOwner<T>(
  actual: unknown,
  expected: readonly T[],
  index: number,
  holds: (actual: unknown, expected: T) => boolean,
): number {
  if (holds(actual, expected[index]!)) return -1;
  return expected.findIndex((other, position) => position !== index && holds(actual, other));
}

/**
 * Checks vectors against what the fake API sent for each input, in input order (`expectVector` on each).
 * A vector that is another input's is named as such ("vectors out of order: vector 0 is input 4's").
 */
export function expectVectorsInOrder(
  actual: readonly unknown[],
  expected: readonly (readonly number[])[],
  outputType: OutputType = 'float',
): void {
  const holds = (vector: unknown, values: readonly number[]) => sameValues(vector, values, outputType);
  for (const [index, values] of expected.entries()) {
    const owner = misplacedOwner(actual[index], expected, index, holds);
    if (owner >= 0) assert.fail(`vectors out of order: vector ${index} is input ${owner}'s`);
    expectVector(actual[index], values, `vector ${index}`, outputType);
  }
}

/** Where the key shows in a text, and the part of the text that holds it. */
export interface KeyFound {
  at: number;
  form: string;
}

/**
 * Finds the key in a text in every form core's redaction removes (its `compileRedaction` with the key
 * and `alsoEncoded` as the secrets, no other patterns): as is, percent-encoded once or more, JSON-escaped
 * at any depth, as HTML references, and in base64 (also of `key:`, `:key` and each value in `alsoEncoded`,
 * the auth header's value), wrapped into lines too. A text the redaction would change holds the key: the
 * check and the redaction it judges share one list of forms, so neither can know one the other does not.
 * The form found is the first: it starts at the first character the redaction changes, and ends where a
 * prefix of the text first holds a form (found by halving: a longer prefix holds every form a shorter one
 * does). The two texts' common end would span from the first form to the last, the text between them
 * included.
 */
export function keyFinder(
  secret: string,
  alsoEncoded: readonly string[] = [],
): (text: string) => KeyFound | undefined {
  const redaction = compileRedaction([secret, ...alsoEncoded], { patterns: false });
  const holdsKey = (text: string) => redaction(text) !== text;
  return (text) => {
    const clean = redaction(text);
    if (clean === text) return undefined;
    let at = 0;
    while (text[at] === clean[at]) at++;
    let low = at + 1;
    let high = text.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (holdsKey(text.slice(0, middle))) high = middle;
      else low = middle + 1;
    }
    return { at, form: text.slice(at, low) };
  };
}

/** `text` with every form of the key `find` finds (a {@link keyFinder}) shown as `<the key>`. */
export function withoutKey(text: string, find: (text: string) => KeyFound | undefined): string {
  let shown = '';
  let rest = text;
  for (let found = find(rest); found !== undefined; found = find(rest)) {
    shown += `${rest.slice(0, found.at)}<the key>`;
    rest = rest.slice(found.at + found.form.length);
  }
  return shown + rest;
}

/** Every error in a chain: the error, its `cause`s, and the errors it aggregates (`errors`, `lastError`). */
function errorChain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 32) {
    const current = queue.shift();
    if (current === null || current === undefined || out.includes(current)) continue;
    out.push(current);
    if (typeof current !== 'object') continue;
    const record = current as { cause?: unknown; errors?: unknown; lastError?: unknown };
    queue.push(record.cause, record.lastError);
    if (Array.isArray(record.errors)) queue.push(...record.errors);
  }
  return out;
}

function fieldsOf(value: unknown): [string, string][] {
  if (typeof value !== 'object' || value === null) return [['value', String(value)]];
  const error = value as Record<string, unknown>;
  const fields: [string, string][] = [
    ['String(error)', String(value)],
    ['message', String(error.message)],
    ['stack', String(error.stack)],
  ];
  for (const name of Object.getOwnPropertyNames(value)) {
    const field = error[name];
    if (typeof field === 'string') fields.push([name, field]);
    else if (typeof field === 'object' && field !== null && !(field instanceof Error)) {
      try {
        fields.push([name, JSON.stringify(field) ?? '']);
      } catch {
        fields.push([name, inspect(field, { depth: 4 })]);
      }
    }
  }
  return fields;
}

/** Where a provider on core's helpers names its key so that core's redaction finds it. */
const SECRETS_HINT =
  "core redacts each key a JsonEndpoint's resolve() lists in secrets (requestJson's secrets): list it there, and put no request header or setting into a message of your own";

/**
 * Fails when the key shows anywhere in `error`: its message, `String(error)`, stack, every string field
 * (`url`, `requestId`, `responseBody`, …), `inspect` and JSON forms, and the same for every error of
 * its cause chain, in every form the key takes in text (`alsoEncoded`: credentials built from it, such
 * as the auth header's value, whose base64 counts too).
 */
export function assertNoSecret(error: unknown, secret: string, alsoEncoded: readonly string[] = []): void {
  const find = keyFinder(secret, alsoEncoded);
  const places: [string, string][] = [];
  for (const [depth, link] of errorChain(error).entries()) {
    const where = depth === 0 ? '' : `cause ${depth}: `;
    for (const [name, text] of fieldsOf(link)) places.push([`${where}${name}`, text]);
  }
  places.push(['inspect(error)', inspect(error, { depth: 8 })]);
  try {
    places.push(['JSON.stringify(error)', JSON.stringify(error) ?? '']);
  } catch {
    // A circular error cannot be serialized; the other forms cover it.
  }
  for (const [place, text] of places) {
    const found = find(text);
    if (found !== undefined) {
      const { at, form } = found;
      const name = (error as { name?: string })?.name ?? 'the error';
      assert.fail(
        `the API key leaked into ${name} (${place}${form === secret ? '' : `, as ${JSON.stringify(form.slice(0, 200))}`}): …${text.slice(Math.max(0, at - 60), at + 20)}…; ${SECRETS_HINT}`,
      );
    }
  }
}

/**
 * Checks that a request carries the key, once, in the header the wire's `authHeader` names, and says which
 * header that is and whether the request had it at all (or more than once), so that an author whose provider dropped the
 * header or sent the key in another one is told which header the suite looked at.
 */
export function expectKeyInAuthHeader(
  headers: Readonly<Record<string, string>>,
  auth: { name: string; value: string },
): void {
  const sent = headers[auth.name.toLowerCase()];
  // A header sent twice reads as its values joined with `, ` (see the interceptor).
  const twice = sent !== undefined && sent !== auth.value && sent.split(', ').includes(auth.value);
  assert.equal(
    sent,
    auth.value,
    `the key is sent once in the ${auth.name} header (the wire's authHeader), but the request ${
      sent === undefined
        ? `had no ${auth.name} header`
        : twice
          ? `sent that header more than once`
          : `held another value in it`
    }`,
  );
}

/**
 * `the request id the API sent in <header>`, for a check that a result or error keeps it; for a header
 * core does not read by default, with where a provider on core's helpers names it.
 */
export function requestIdSentIn(header: string): string {
  const hint = DEFAULT_REQUEST_ID_HEADERS.includes(header.toLowerCase())
    ? ''
    : ` (core reads ${DEFAULT_REQUEST_ID_HEADERS.slice(0, -1).join(', ')} and ${DEFAULT_REQUEST_ID_HEADERS.at(-1)}; name another in the JsonEndpoint's requestIdHeaders)`;
  return `the request id the API sent in ${header}${hint}`;
}

/** The headers of a successful answer: its request id under the wire's `requestIdHeader`, else `x-request-id`. */
export function requestIdHeaders(header: string | undefined, id: string): Record<string, string> {
  return { [header ?? 'x-request-id']: id };
}

/**
 * Where the wire declares the header the API names each request by, fails unless each of a result's
 * responses keeps the id the suite's answer sent in it (see `requestIdHeaders`).
 */
export function expectRequestIdsKept(
  responses: readonly { requestId?: string }[],
  header: string | undefined,
  id: string,
): void {
  if (header === undefined) return;
  for (const [index, response] of responses.entries())
    assert.equal(
      response.requestId,
      id,
      `the result keeps ${requestIdSentIn(header)}${responses.length > 1 ? ` (response ${index})` : ''}`,
    );
}

/** Checks a typed embedkit error by name, code and status. */
export function expectError(
  error: AnyError,
  expected: { name: string; code?: string; statusCode?: number; isRetryable?: boolean },
): void {
  assert.equal(error.name, expected.name, `${expected.name} expected, got ${error.name}: ${error.message}`);
  if (expected.code !== undefined)
    assert.equal(error.code, expected.code, `${error.name}.code is ${error.code}, expected ${expected.code}`);
  if (expected.statusCode !== undefined)
    assert.equal(
      error.statusCode,
      expected.statusCode,
      `${error.name}.statusCode is ${error.statusCode}, expected ${expected.statusCode}`,
    );
  if (expected.isRetryable !== undefined)
    assert.equal(
      error.isRetryable,
      expected.isRetryable,
      `${error.name}.isRetryable is ${error.isRetryable}, expected ${expected.isRetryable}: the engine decides retries by it (a ParsedError that sets isRetryable overrides what the status says)`,
    );
}
