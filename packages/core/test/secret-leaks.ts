/**
 * Finds a secret anywhere in an error: every own property (string or symbol keyed, enumerable or not),
 * `String(error)`, the stack, `util.inspect` (what `console.error` prints), recursively through `cause`
 * chains and `errors` arrays; each text also after undoing JSON escapes, percent-encoding and HTML
 * character references up to three levels deep, so an escaped copy of a key counts as a leak.
 */
import { inspect } from 'node:util';

/**
 * The fields an embedkit error may carry, reviewed for secrets. A field that is not listed fails
 * `expectNoSecret`: a new field has to be added here (and so is known to be walked) before it ships.
 */
export const REVIEWED_ERROR_FIELDS: ReadonlySet<string> = new Set([
  'message',
  'stack',
  'name',
  'code',
  'isRetryable',
  'provider',
  'url',
  'statusCode',
  'requestId',
  'retryAfterMs',
  'responseBody',
  'providerCode',
  'cause',
  // RetryError
  'errors',
  'lastError',
  'attempts',
  // InvalidRequestError, RateLimitError, InvalidArgumentError
  'batchTooLarge',
  'inputIndex',
  'quotaExhausted',
  'argument',
]);

/** One level of JSON, percent and HTML-reference unescaping. */
function unescapeOnce(text: string): string {
  return text
    .replace(/\\(u[0-9a-fA-F]{4}|["\\/bfnrt])/g, (_match, sequence: string) =>
      sequence.startsWith('u')
        ? String.fromCharCode(Number.parseInt(sequence.slice(1), 16))
        : (({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[sequence] ?? sequence),
    )
    .replace(/&#[xX]([0-9a-fA-F]+);/g, (_match, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16)),
    )
    .replace(/&#(\d+);/g, (_match, decimal: string) => String.fromCodePoint(Number(decimal)))
    .replace(
      /&(quot|amp|apos|lt|gt);/g,
      (_match, name: string) => ({ quot: '"', amp: '&', apos: "'", lt: '<', gt: '>' })[name as 'quot'],
    )
    .replace(/(?:%[0-9a-fA-F]{2})+/g, (encoded) => {
      try {
        return decodeURIComponent(encoded);
      } catch {
        return encoded;
      }
    });
}

/** The secret found in `text` in any of its encodings, or undefined. */
export function secretIn(text: string, secrets: readonly string[]): string | undefined {
  let view = text;
  for (let level = 0; level < 4; level++) {
    for (const secret of secrets) if (view.includes(secret)) return secret;
    view = unescapeOnce(view);
  }
  return undefined;
}

export interface Walk {
  /** `path: secret` for every leak found. */
  leaks: string[];
  /** Every own property path visited, e.g. `cause.cause.message`. */
  visited: string[];
  /** Own property names of embedkit errors that are not in `REVIEWED_ERROR_FIELDS`. */
  unreviewed: string[];
}

/** Walks an error (or any value) and reports every leak of `secrets`. */
export function walkForSecrets(value: unknown, secrets: readonly string[]): Walk {
  const walk: Walk = { leaks: [], visited: [], unreviewed: [] };
  const seen = new Set<unknown>();
  const check = (path: string, text: string) => {
    const secret = secretIn(text, secrets);
    if (secret !== undefined) walk.leaks.push(`${path}: ${JSON.stringify(secret)} in ${text.slice(0, 300)}`);
  };
  const visit = (current: unknown, path: string, depth: number) => {
    if (typeof current === 'string') return check(path, current);
    if (typeof current !== 'object' || current === null || depth > 12 || seen.has(current)) return;
    seen.add(current);
    if (current instanceof Error) {
      check(`${path}<String>`, String(current));
      check(`${path}<stack>`, String(current.stack));
      check(`${path}<inspect>`, inspect(current, { depth: 12 }));
    }
    const isEmbedKitError = Symbol.for('embedkit.error') in current;
    const keys = Reflect.ownKeys(current);
    // The walk must cover at least every own enumerable key; Reflect.ownKeys adds the rest.
    for (const key of Object.keys(current)) {
      if (!keys.includes(key)) throw new Error(`walk skipped the enumerable key ${path}.${key}`);
    }
    for (const key of keys) {
      const name = String(key);
      walk.visited.push(path === '' ? name : `${path}.${name}`);
      if (isEmbedKitError && typeof key === 'string' && !REVIEWED_ERROR_FIELDS.has(key))
        walk.unreviewed.push(`${path}.${key}`);
      const descriptor = Object.getOwnPropertyDescriptor(current, key);
      const field = descriptor?.get === undefined ? descriptor?.value : descriptor.get.call(current);
      visit(field, path === '' ? name : `${path}.${name}`, depth + 1);
    }
  };
  visit(value, '', 0);
  if (typeof value === 'object' && value !== null) check('<JSON>', safeJson(value));
  return walk;
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
