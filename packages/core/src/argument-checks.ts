/**
 * The checks of number and boolean arguments, and how every refusal shows the value it refused. One
 * place, so that a message reads the same wherever the argument was given: `requestsPerMinute` read from
 * the environment as the text `"60"` is refused as `got "60"`, not as `got 60`, which reads as if the
 * number itself were wrong.
 */

import { InvalidArgumentError } from './errors.js';

/** Strings up to this length are shown quoted; a longer one may be a credential given in the wrong place. */
const SHOWN_STRING_LENGTH = 24;

/**
 * A value as a refusal shows it: a number, boolean, `null` or `undefined` as itself (`NaN`, `-0`, `10n`);
 * a string quoted (`"60"`), or by its length alone if it is long; an array, object, function or symbol by
 * its kind (an object with the first few of its keys), never by its contents.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'string':
      if (value === '') return 'an empty string';
      return value.length <= SHOWN_STRING_LENGTH
        ? JSON.stringify(value)
        : `a string of ${value.length} characters`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const keys = Object.keys(value as object);
  return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 5).join(', ')}`;
}

/** Absent, or true or false: a string such as 'false' would read as true. */
export function checkBoolean(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${name} must be true or false, got ${describeValue(value)}.`, {
      argument: name,
    });
  }
}

/**
 * Absent, or a whole number in [minimum, maximum]; an `InvalidArgumentError` naming `name` otherwise. With
 * no maximum, the message asks for a whole number of at least `minimum`.
 */
export function checkWholeNumber(
  value: number | undefined,
  name: string,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= minimum && value <= maximum)) {
    const range =
      maximum === Number.MAX_SAFE_INTEGER
        ? `≥ ${minimum}`
        : `from ${minimum} to ${maximum.toLocaleString('en-US')}`;
    throw new InvalidArgumentError(`${name} must be a whole number ${range}, got ${describeValue(value)}.`, {
      argument: name,
    });
  }
}

/**
 * Absent, or a finite number above 0 (a rate, an interval) and at most `maximum`; else an
 * `InvalidArgumentError` naming `name`.
 */
export function checkPositiveNumber(
  value: number | undefined,
  name: string,
  maximum = Number.POSITIVE_INFINITY,
): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new InvalidArgumentError(`${name} must be a finite number > 0, got ${describeValue(value)}.`, {
      argument: name,
    });
  }
  if (value !== undefined && value > maximum) {
    throw new InvalidArgumentError(
      `${name} must be a number > 0 and ≤ ${maximum.toLocaleString('en-US')}, got ${describeValue(value)}.`,
      { argument: name },
    );
  }
}
