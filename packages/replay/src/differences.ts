import { compileRedaction, type Redaction } from '@embedkit/core/provider';
import type { CassetteInteraction } from './cassette.js';

const describeValue = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Core's redaction by the credential patterns alone (`Bearer …`, `?key=…`), for differences given no secret. */
const PATTERNS_ONLY = compileRedaction([]);

const redactionOf = (secrets: readonly string[]): Redaction =>
  secrets.length === 0 ? PATTERNS_ONLY : compileRedaction(secrets);

/**
 * How one value differs, each side redacted: `path: recorded "cat", sent "cow"`. Two values that read
 * alike once redacted (two `Bearer` tokens) differ only where redaction hides them, which is said in so
 * many words: shown, they read as the same text named a difference. That sentence puts no colon right
 * after the path: `authorization: <word>` reads as a credential to every redaction.
 */
function valueDifference(path: string, recorded: unknown, sent: unknown, redaction: Redaction): string {
  const recordedText = redaction(describeValue(recorded));
  const sentText = redaction(describeValue(sent));
  return recordedText === sentText
    ? `${path} differs only in its secret part: recorded and sent both read ${recordedText} redacted`
    : `${path}: recorded ${recordedText}, sent ${sentText}`;
}

/**
 * The differences between a recorded request body and the one sent, field by field and item by item
 * (`body.input[1]: recorded "cats", sent "cows"`), at most `limit` (10), values redacted (`secrets`, and
 * the credential patterns; two that read alike redacted are said to differ in their secret part). Key
 * order does not count. The replay's mismatch messages and the conformance suite's cassette checks both
 * name differences with it.
 */
export function bodyDifferences(
  expected: unknown,
  actual: unknown,
  path = 'body',
  out: string[] = [],
  limit = 10,
  secrets: readonly string[] = [],
): string[] {
  return collectDifferences(expected, actual, path, out, limit, redactionOf(secrets));
}

function collectDifferences(
  expected: unknown,
  actual: unknown,
  path: string,
  out: string[],
  limit: number,
  redaction: Redaction,
): string[] {
  if (out.length >= limit) return out;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length)
      out.push(`${path}: ${expected.length} items recorded, ${actual.length} sent`);
    for (let index = 0; index < Math.min(expected.length, actual.length); index++)
      collectDifferences(expected[index], actual[index], `${path}[${index}]`, out, limit, redaction);
    return out;
  }
  if (isObject(expected) && isObject(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)]))
      collectDifferences(expected[key], actual[key], `${path}.${key}`, out, limit, redaction);
    return out;
  }
  if (!Object.is(expected, actual) && JSON.stringify(expected) !== JSON.stringify(actual))
    out.push(valueDifference(path, expected, actual, redaction));
  return out;
}

/** A credential as a message may show it: its scheme and an ellipsis for the key, never the key. */
const credentialForm = (scheme: string | undefined) => `"${scheme === undefined ? '' : `${scheme} `}…"`;

/** The scheme of a credential header's value: the word before the key, or undefined for a key sent alone. */
const schemeOf = (value: string) => {
  const space = value.indexOf(' ');
  return space < 0 ? undefined : value.slice(0, space);
};

/**
 * How the headers a request sent (`sent`, lower-case names, a header sent twice joined with `, `) differ
 * from those its recording holds: each recorded header by exact value, and the header that carries the key
 * by presence, once, and scheme only, so that the key never shows (`header content-type: recorded
 * "application/json", sent "text/plain"`); other values redacted as `bodyDifferences` redacts them
 * (`secrets`, default none). Headers the recording does not hold are not compared.
 */
export function headerDifferences(
  recorded: Pick<CassetteInteraction['request'], 'headers' | 'auth'>,
  sent: Readonly<Record<string, string>>,
  secrets: readonly string[] = [],
): string[] {
  const out: string[] = [];
  const redaction = redactionOf(secrets);
  // A list is a recorder's own form of the headers, never compared (see `checkCassette`).
  const headers = Array.isArray(recorded.headers) ? {} : (recorded.headers ?? {});
  for (const [name, value] of Object.entries(headers)) {
    const actual = sent[name.toLowerCase()];
    if (actual !== value) out.push(valueDifference(`header ${name}`, value, actual, redaction));
  }
  const { auth } = recorded;
  if (auth !== undefined) {
    const name = auth.header.toLowerCase();
    const actual = sent[name];
    const recordedForm = credentialForm(auth.scheme);
    // No key holds `, ` (base64, hex and token characters only): a value that does is the header sent twice.
    const values = actual?.split(', ').length ?? 0;
    // `(the key's)` before the colon: `authorization: <word>` reads as a credential to every redaction.
    const header = `header ${name} (the key's)`;
    if (actual === undefined) out.push(`${header}: recorded ${recordedForm}, sent (absent)`);
    else if (values > 1) out.push(`${header}: recorded once as ${recordedForm}, sent ${values} values`);
    else if (schemeOf(actual) !== auth.scheme)
      out.push(`${header}: recorded ${recordedForm}, sent ${credentialForm(schemeOf(actual))}`);
  }
  return out;
}
