import type { CassetteInteraction } from './cassette.js';

const describeValue = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The differences between a recorded request body and the one sent, field by field and item by item
 * (`body.input[1]: recorded "cats", sent "cows"`), at most `limit` (10). Key order does not count. The
 * replay's mismatch messages and the conformance suite's cassette checks both name differences with it.
 */
export function bodyDifferences(
  expected: unknown,
  actual: unknown,
  path = 'body',
  out: string[] = [],
  limit = 10,
): string[] {
  if (out.length >= limit) return out;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length)
      out.push(`${path}: ${expected.length} items recorded, ${actual.length} sent`);
    for (let index = 0; index < Math.min(expected.length, actual.length); index++)
      bodyDifferences(expected[index], actual[index], `${path}[${index}]`, out, limit);
    return out;
  }
  if (isObject(expected) && isObject(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)]))
      bodyDifferences(expected[key], actual[key], `${path}.${key}`, out, limit);
    return out;
  }
  if (!Object.is(expected, actual) && JSON.stringify(expected) !== JSON.stringify(actual))
    out.push(`${path}: recorded ${describeValue(expected)}, sent ${describeValue(actual)}`);
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
 * "application/json", sent "text/plain"`). Headers the recording does not hold are not compared.
 */
export function headerDifferences(
  recorded: Pick<CassetteInteraction['request'], 'headers' | 'auth'>,
  sent: Readonly<Record<string, string>>,
): string[] {
  const out: string[] = [];
  // A list is a recorder's own form of the headers, never compared (see `checkCassette`).
  const headers = Array.isArray(recorded.headers) ? {} : (recorded.headers ?? {});
  for (const [name, value] of Object.entries(headers)) {
    const actual = sent[name.toLowerCase()];
    if (actual !== value)
      out.push(`header ${name}: recorded ${describeValue(value)}, sent ${describeValue(actual)}`);
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
