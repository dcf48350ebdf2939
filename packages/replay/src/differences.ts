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
