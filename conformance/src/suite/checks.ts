/** Assertions every group's scenarios share. */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import type { OutputType } from '@embedkit/core';
import { arrayClassOf } from './answers.js';

export type AnyError = Error & Record<string, unknown>;

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

/** The forms a key takes in text: as is, percent-encoded, and JSON-escaped (`\/`, `\u002f`, …). */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  // JSON may escape the solidus: PHP's writer sends `\/`, any writer may send `\u002f`.
  for (const solidus of ['\\/', '\\u002f', '\\u002F']) forms.add(secret.replaceAll('/', solidus));
  return [...forms];
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

/**
 * Fails when the key shows anywhere in `error`: its message, `String(error)`, stack, every string field
 * (`url`, `requestId`, `responseBody`, …), `inspect` and JSON forms, and the same for every error of
 * its cause chain, in every form the key takes in text.
 */
export function assertNoSecret(error: unknown, secret: string): void {
  const forms = secretForms(secret);
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
    const form = forms.find((candidate) => text.includes(candidate));
    if (form !== undefined) {
      const name = (error as { name?: string })?.name ?? 'the error';
      const at = text.indexOf(form);
      assert.fail(
        `the API key leaked into ${name} (${place}${form === secret ? '' : `, as ${JSON.stringify(form)}`}): …${text.slice(Math.max(0, at - 60), at + 20)}…`,
      );
    }
  }
}

/** Checks a typed embedkit error by name, code and status. */
export function expectError(
  error: AnyError,
  expected: { name: string; code?: string; statusCode?: number; isRetryable?: boolean },
): void {
  assert.equal(error.name, expected.name, `${expected.name} expected, got ${error.name}: ${error.message}`);
  if (expected.code !== undefined) assert.equal(error.code, expected.code);
  if (expected.statusCode !== undefined) assert.equal(error.statusCode, expected.statusCode);
  if (expected.isRetryable !== undefined) assert.equal(error.isRetryable, expected.isRetryable);
}
