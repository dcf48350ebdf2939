/**
 * A small schema kit for wire envelopes and provider options, so that providers need no validation
 * library (zod alone was 8 MB of every install and most of a browser bundle). It covers what the
 * providers use: objects that are lenient (unknown keys dropped), loose (kept) or strict (refused),
 * optional and nullish fields, strings, numbers, whole numbers with bounds, booleans, arrays, unions,
 * records and custom checks. Values are checked, never converted; a vector's numbers are never
 * checked one by one here. Import it as `schema` from `@embedkit/core/provider`.
 */
import type { SafeParser, SchemaIssue } from './provider-utils.js';
import { closestName } from './setting-names.js';

/** A schema: `safeParse` returns the value (objects rebuilt with their known keys) or the issues found. */
export interface Schema<T> extends SafeParser<T> {
  /** Checks `value` at `path`, pushing issues; returns the value to keep (meaningless once an issue was pushed). */
  readonly check: (value: unknown, path: PropertyKey[], issues: SchemaIssue[]) => T;
  /** Whether an object may leave this key out. */
  readonly optional: boolean;
}

/** The type a schema accepts. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { readonly optional: true } ? K : never;
}[keyof S];
type InferShape<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};
/** Spreads an intersection into one object type, for readable hovers and error messages. */
type Flatten<T> = { [K in keyof T]: T[K] } & {};

function make<T>(
  check: (value: unknown, path: PropertyKey[], issues: SchemaIssue[]) => T,
  optional = false,
): Schema<T> {
  return {
    check,
    optional,
    safeParse(value) {
      const issues: SchemaIssue[] = [];
      const data = check(value, [], issues);
      return issues.length === 0 ? { success: true, data } : { success: false, error: { issues } };
    },
  };
}

function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function typeIssue(expected: string, value: unknown, path: PropertyKey[], issues: SchemaIssue[]): void {
  issues.push({
    code: 'invalid_type',
    expected,
    path: [...path],
    message: `expected ${expected === 'int' ? 'a whole number' : expected}, got ${describeType(value)}`,
  });
}

/** A string; `minLength: 1` refuses the empty string. */
export function string(options: { minLength?: number } = {}): Schema<string> {
  return make((value, path, issues) => {
    if (typeof value !== 'string') typeIssue('string', value, path, issues);
    else if (options.minLength !== undefined && value.length < options.minLength) {
      issues.push({
        code: 'too_small',
        origin: 'string',
        minimum: options.minLength,
        inclusive: true,
        path: [...path],
        message:
          options.minLength === 1 ? 'must not be empty' : `must be at least ${options.minLength} characters`,
      });
    }
    return value as string;
  });
}

function bounded(
  expected: 'number' | 'int',
  options: { minimum?: number; maximum?: number },
): Schema<number> {
  return make((value, path, issues) => {
    const valid =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (expected === 'number' || Number.isSafeInteger(value));
    if (!valid) typeIssue(expected, value, path, issues);
    else if (options.minimum !== undefined && value < options.minimum) {
      issues.push({
        code: 'too_small',
        origin: 'number',
        minimum: options.minimum,
        inclusive: true,
        path: [...path],
        message: `must be at least ${options.minimum}`,
      });
    } else if (options.maximum !== undefined && value > options.maximum) {
      issues.push({
        code: 'too_big',
        origin: 'number',
        maximum: options.maximum,
        inclusive: true,
        path: [...path],
        message: `must be at most ${options.maximum}`,
      });
    }
    return value as number;
  });
}

/** A finite number, optionally bounded (inclusive). */
export function number(options: { minimum?: number; maximum?: number } = {}): Schema<number> {
  return bounded('number', options);
}

/** A whole number (a safe integer), optionally bounded (inclusive). */
export function integer(options: { minimum?: number; maximum?: number } = {}): Schema<number> {
  return bounded('int', options);
}

export function boolean(): Schema<boolean> {
  return make((value, path, issues) => {
    if (typeof value !== 'boolean') typeIssue('boolean', value, path, issues);
    return value as boolean;
  });
}

/** Anything: the value is kept as it is. */
export function unknown(): Schema<unknown> {
  return make((value) => value);
}

/** Any value `test` accepts, typed as `T`; `message` says what was expected. */
export function custom<T>(test: (value: unknown) => boolean, message: string): Schema<T> {
  return make((value, path, issues) => {
    if (!test(value)) issues.push({ code: 'custom', path: [...path], message });
    return value as T;
  });
}

/**
 * A token count read from a `usage` object: the first of `keys` that holds a whole number of at least 0;
 * undefined when there is none, or no object. Never an issue: usage is a report, and an answer whose
 * vectors are good is not thrown away over it (servers that speak an API's dialect send usage partly, or
 * in other shapes).
 */
export function usageTokens(...keys: string[]): Schema<number | undefined> & { readonly optional: true } {
  return make<number | undefined>((value) => {
    if (typeof value !== 'object' || value === null) return undefined;
    for (const key of keys) {
      const count = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
      if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 0) return count;
    }
    return undefined;
  }, true) as Schema<number | undefined> & { readonly optional: true };
}

/**
 * A float vector as `requestJson` hands it over: a JSON array, or a `Float32Array` it already decoded from
 * the body bytes (`floatVectors`). Only the shape is checked here; the decode checks every element.
 */
export function vectorArray(): Schema<unknown[] | Float32Array> {
  return custom((value) => Array.isArray(value) || value instanceof Float32Array, 'expected an array');
}

/** An array whose every item matches `item`. */
export function array<T>(item: Schema<T>): Schema<T[]> {
  return make((value, path, issues) => {
    if (!Array.isArray(value)) {
      typeIssue('array', value, path, issues);
      return value as T[];
    }
    const out = new Array<T>(value.length);
    for (let index = 0; index < value.length; index++) {
      path.push(index);
      out[index] = item.check(value[index], path, issues);
      path.pop();
    }
    return out;
  });
}

/** An object with string keys whose every value matches `value`. */
export function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  return make((input, path, issues) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      typeIssue('object', input, path, issues);
      return input as Record<string, T>;
    }
    const out: Record<string, T> = {};
    for (const [key, item] of Object.entries(input)) {
      path.push(key);
      const checked = value.check(item, path, issues);
      // An own "__proto__" key of a parsed body stays a key: assigned, it would set the result's prototype.
      if (key === '__proto__')
        Object.defineProperty(out, key, {
          value: checked,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[key] = checked;
      path.pop();
    }
    return out;
  });
}

function objectOf<S extends Shape>(
  shape: S,
  unknownKeys: 'drop' | 'keep' | 'refuse',
): Schema<Flatten<InferShape<S>>> {
  const known = Object.keys(shape);
  return make((input, path, issues) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      typeIssue('object', input, path, issues);
      return input as Flatten<InferShape<S>>;
    }
    const source = input as Record<string, unknown>;
    const out: Record<string, unknown> = unknownKeys === 'keep' ? { ...source } : {};
    for (const key of known) {
      const field = shape[key]!;
      // Own keys only: a key named like a member of every object (`constructor`) is absent when not given.
      const value = Object.hasOwn(source, key) ? source[key] : undefined;
      if (value === undefined && field.optional) continue;
      path.push(key);
      out[key] = field.check(value, path, issues);
      path.pop();
    }
    if (unknownKeys === 'refuse') {
      const extra = Object.keys(source).filter((key) => !Object.hasOwn(shape, key));
      if (extra.length > 0) {
        issues.push({
          code: 'unrecognized_keys',
          keys: extra,
          path: [...path],
          // Each with the key it is a typo of, as an unknown setting is named (`usr` for `user`).
          message: `unknown ${extra.length > 1 ? 'keys' : 'key'} ${extra
            .map((key) => {
              const typoOf = closestName(key, known);
              return `"${key}"${typoOf === undefined ? '' : ` (did you mean "${typoOf}"?)`}`;
            })
            .join(', ')}`,
        });
      }
    }
    return out as Flatten<InferShape<S>>;
  });
}

/** An object with these keys; other keys are dropped from the result (lenient: for answers). */
export function object<S extends Shape>(shape: S): Schema<Flatten<InferShape<S>>> {
  return objectOf(shape, 'drop');
}

/** An object with these keys; other keys are kept in the result as they are. */
export function looseObject<S extends Shape>(shape: S): Schema<Flatten<InferShape<S>>> {
  return objectOf(shape, 'keep');
}

/** An object with these keys and no other (strict: for options a user writes, where a typo must not pass). */
export function strictObject<S extends Shape>(shape: S): Schema<Flatten<InferShape<S>>> {
  return objectOf(shape, 'refuse');
}

/** The first of `options` that accepts the value. */
export function union<const S extends readonly Schema<unknown>[]>(options: S): Schema<Infer<S[number]>> {
  return make((value, path, issues) => {
    for (const option of options) {
      const attempt: SchemaIssue[] = [];
      const data = option.check(value, path, attempt);
      if (attempt.length === 0) return data as Infer<S[number]>;
    }
    issues.push({ code: 'invalid_union', path: [...path], message: 'matches none of the accepted forms' });
    return value as Infer<S[number]>;
  });
}

/** `inner`, or absent (`undefined`). */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { readonly optional: true } {
  return make<T | undefined>(
    (value, path, issues) => (value === undefined ? undefined : inner.check(value, path, issues)),
    true,
  ) as Schema<T | undefined> & { readonly optional: true };
}

/** `inner`, `null`, or absent. */
export function nullish<T>(inner: Schema<T>): Schema<T | null | undefined> & { readonly optional: true } {
  return make<T | null | undefined>(
    (value, path, issues) =>
      value === undefined || value === null ? value : inner.check(value, path, issues),
    true,
  ) as Schema<T | null | undefined> & { readonly optional: true };
}
