const REDACTED = '[REDACTED]';

/**
 * Most backslashes an escape is taken to carry: a backslash inside four levels of JSON texts, one quoted
 * in the next, is written with 16. A bound, not a limit on what is found: a longer run of backslashes is
 * tried from at most this many of its characters, where an unbounded count tried it from each of them, in
 * time that grew with the square of its length (200 KB of backslashes took about 50 s).
 */
const MAX_ESCAPES = 16;

/**
 * The `%` that starts a percent-encoded byte, itself encoded any number of times (`%25` is `%`): a URL
 * embedded in another URL's query (a proxy's, a login redirect's `return_to`) is encoded once more for
 * each level, so `+` reads `%2B`, then `%252B`, then `%25252B`.
 */
const PERCENT = '%(?:25)*';

/**
 * A JSON escape inside a value: `\/`, or a `\uXXXX` (.NET's JSON writer escapes `+` as `\u002B`), at any
 * depth of nesting (a JSON text quoted in another writes `\\u002B`), but never an escaped `&`, quote, `<`
 * or `>`, which end a value, so a redacted JSON text still parses.
 */
const JSON_ESCAPE_IN_VALUE = `\\\\{1,${MAX_ESCAPES}}(?:/|u(?!00(?:26|22|27|3[cCeE]))[0-9a-fA-F]{4})`;

/**
 * Names whose value is a credential when they appear as a query parameter (`?name=value`, in a URL or
 * quoted in free text): Gemini's `key`, Azure's `api-key` and `subscription-key`, Azure Functions' `code`,
 * SAS `sig` / `signature`, OAuth's `access_token`, `client_secret`, `code` and friends.
 */
const SECRET_PARAMETER_NAMES = [
  'key',
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'subscription-key',
  'code',
  'sig',
  'signature',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'client_secret',
  'password',
];

/** Lower-cased names of request headers whose value is a credential. */
const SECRET_HEADER_NAMES = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
]);
/** Any other header whose name says it carries a credential (`x-my-token`, `x-auth-signature`). */
const SECRET_HEADER_WORDS = /key|token|secret|password|signature|credential|auth|cookie/i;
/** Rate-limit headers count tokens (`x-ratelimit-remaining-tokens`); they carry none. */
const RATE_LIMIT_HEADER = /^(?:x-)?ratelimit-/i;

/**
 * Whether a header of this name carries a credential: the known ones (`authorization`, `cookie`,
 * `x-api-key`, …) and any whose name says so (`x-auth-token`, `set-cookie`), rate-limit counters aside.
 * The one list request redaction and cassette scrubbing share.
 */
export function isSecretHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_HEADER_NAMES.has(lower)) return true;
  return SECRET_HEADER_WORDS.test(lower) && !RATE_LIMIT_HEADER.test(lower);
}

/**
 * Lower-cased names of request headers that name the account (OpenAI's organization and project ids):
 * no credential, but redacted from errors as the settings that send them are, however they were set.
 */
const ACCOUNT_HEADER_NAMES = new Set(['openai-organization', 'openai-project']);

/** Whether a header of this name names the account rather than carries a credential. */
export function isAccountHeaderName(name: string): boolean {
  return ACCOUNT_HEADER_NAMES.has(name.toLowerCase());
}

/**
 * Whether a query parameter (or a field of a form or JSON body) of this name carries a credential:
 * `key`, `api_key`, `access_token`, `refresh_token`, `client_secret`, `sig`, `code`, ….
 */
export function isSecretParameterName(name: string): boolean {
  return SECRET_PARAMETER_NAME_SET.has(name.toLowerCase());
}

const SECRET_PARAMETER_NAME_SET = new Set(SECRET_PARAMETER_NAMES);

/**
 * Credential parameter names that bodies also use for ordinary data (Gemini's batch `metadata.key`, an
 * error's `"code": "invalid_api_key"`): as a field, they are not taken to hold a credential.
 */
const DATA_FIELD_NAMES = new Set(['key', 'code']);

/**
 * Names of fields that hold a credential: the credential parameter names but `key` and `code`, the
 * credential headers written as fields (`"authorization": "Basic …"` in a quoted request), and a service
 * account's `private_key`.
 */
const SECRET_FIELD_NAMES = [
  ...SECRET_PARAMETER_NAMES.filter((name) => !DATA_FIELD_NAMES.has(name)),
  'authorization',
  'proxy-authorization',
  'ocp-apim-subscription-key',
  'private_key',
];
const SECRET_FIELD_NAME_SET = new Set(SECRET_FIELD_NAMES);

/**
 * Whether a field of a JSON body (or of any record printed as text) of this name holds a credential:
 * `api_key`, `access_token`, `client_secret`, `password`, `authorization`, `private_key`, …. The one
 * list cassette scrubbing and the redaction of quoted fields share.
 */
export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELD_NAME_SET.has(name.toLowerCase());
}

/** An alternation of `names` for a pattern, each spelled with `-`, `_` or nothing between its words. */
const anySpelling = (names: readonly string[]) =>
  names.map((name) => name.replace(/[-_]/g, '[-_]?')).join('|');

/**
 * An alternation of `names` as a query may spell them: any character percent-encoded (a server reads
 * `?%6Bey=` and `?api%5Fkey=` as `key` and `api_key`), a letter encoded in either case, and `-`, `_` or
 * nothing between the words, as `anySpelling` has them. For a pattern with the `i` flag.
 */
const encodedSpelling = (names: readonly string[]) =>
  names
    .map((name) =>
      [...name]
        .map((character) => {
          if (character === '-' || character === '_') return `(?:[-_]|${PERCENT}(?:2d|5f))?`;
          const code = character.charCodeAt(0);
          // The upper- and lower-case letter differ by 0x20 only: their encodings by the first digit.
          return `(?:${character}|${PERCENT}[${(code >> 4) - 2}${code >> 4}]${(code & 15).toString(16)})`;
        })
        .join(''),
    )
    .join('|');

const parameterNames = encodedSpelling(SECRET_PARAMETER_NAMES);

const PERCENT_ENCODED_BYTE = new RegExp(`${PERCENT}([0-9a-f]{2})`, 'gi');

/** `text` with each percent-encoded byte decoded, however many times it was encoded (a parameter's name). */
const percentDecoded = (text: string) =>
  text.replace(PERCENT_ENCODED_BYTE, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/**
 * A `code` whose value is an ordinary code, left readable: a status (`error code=400`) or a word in one
 * letter case, words joined by `_` (`invalid_request`, `RESOURCE_EXHAUSTED`), with the punctuation of the
 * sentence it ends. Secrets sent as `code` (an Azure Functions key, an OAuth authorization code) are
 * random strings, with digits among the letters or both letter cases mixed, and stay redacted.
 */
const PLAIN_CODE = /^(?:\d{1,3}|[a-z]+(?:_[a-z]+)*|[A-Z]+(?:_[A-Z]+)*)[,.;:]?$/;

/**
 * `name=value` for a secret name, at a parameter boundary: the start, anything that is not part of a
 * name, or the escaped `&` of a JSON body (`\u0026`) or of a nested URL (`%26`). The boundary is matched
 * as a prefix, not a lookbehind, which older browsers cannot compile. The value stops at what ends a
 * parameter, a quoted string or a parenthesised URL (a stack frame); JSON escapes inside it (`\/`,
 * `\u002b`) are part of it, but never an escaped quote, so a redacted JSON text still parses. A value in
 * quotes (`api_key='sk-…'`, a keyword argument a Python service prints; `\"` inside a JSON text) is
 * redacted inside them: the quote ended the value before it began, and the value stayed. The quote counts
 * as the value's own only when the same quote closes it before any comma, so the end of a quoted URL
 * (`"…?sig=","next": …`) is not read as the start of a value. The name is captured (group 2): a `code`
 * that holds an ordinary code (`PLAIN_CODE`) is left as it is.
 */
const SECRET_PARAMETER = new RegExp(
  `((?:^|[^\\w.%-]|\\\\u0026|${PERCENT}26|${PERCENT}3[fF])(${parameterNames})(?:=|${PERCENT}3[dD])(?:(\\\\{0,${MAX_ESCAPES}}["'])(?=[^&#\\s"'<>()\`\\\\,;]+\\3))?)(?:[^&#\\s"'<>()\`\\\\]|${JSON_ESCAPE_IN_VALUE})*`,
  'gi',
);

/**
 * An authorization header's scheme (`Basic `, `bearer `), by HTTP's grammar its first word: no secret, so
 * kept wherever the header is quoted, as a field or as text.
 */
const AUTHORIZATION_SCHEME = '[a-z][\\w-]{0,31}[ \\t]+';

/**
 * The start of a quoted credential field's value: `"password": "`, `'api_key': '` (a printed dict), or a
 * body quoted inside a JSON text, where every quote carries the same run of backslashes
 * (`\"client_secret\": \"`). The value itself is found by `redactSecretFields`. The field's name
 * (group 3) and what may be a scheme at the start of its value (group 4: one that ends the value or
 * is followed by an escape is none) tell the scheme an authorization field keeps.
 */
const SECRET_FIELD = new RegExp(
  `(\\\\{0,${MAX_ESCAPES}})(["'])(${anySpelling(SECRET_FIELD_NAMES)})\\1\\2\\s*:\\s*\\1\\2((?:${AUTHORIZATION_SCHEME}(?=[^\\s"'\\\\]))?)`,
  'gi',
);

/**
 * Redacts the value of every quoted credential field, up to its closing quote or, when the value is cut
 * there, the end of the text. Inside a value of a JSON text, a quote written with an even run of
 * backslashes closes it (`\"` is an escaped quote, `\\"` an escaped backslash then the end); one level of
 * quoting deeper, where the field's own quote is `\"`, the runs double: a run of 4n + 1 closes it.
 */
function redactSecretFields(text: string): string {
  SECRET_FIELD.lastIndex = 0;
  let out = '';
  let from = 0;
  for (let match = SECRET_FIELD.exec(text); match !== null; match = SECRET_FIELD.exec(text)) {
    const level = match[1]!.length;
    const quote = match[2]!;
    // The value of a field of another name is all credential, its first word too.
    const start = match.index + match[0].length - (/authorization$/i.test(match[3]!) ? 0 : match[4]!.length);
    let end = start;
    let backslashes = 0;
    for (; end < text.length; end++) {
      const character = text[end];
      if (character === quote && backslashes % (2 * level + 2) === level) break;
      backslashes = character === '\\' ? backslashes + 1 : 0;
    }
    out += `${text.slice(from, start)}${REDACTED}`;
    from = end < text.length ? end - level : end;
    SECRET_FIELD.lastIndex = end;
  }
  return out === '' ? text : out + text.slice(from);
}

/** `name: value` in free text for header names that only ever carry a key. */
const SECRET_HEADER_TEXT = new RegExp(
  `((?:^|[^\\w-])(?:x-goog-api-key|x-api-key|api-key|ocp-apim-subscription-key)["']?\\s*[:=]\\s*["']?)(?:[^\\s"'<>,;&#\\\\]|${JSON_ESCAPE_IN_VALUE})+`,
  'gi',
);

/** A bearer token quoted anywhere (`Authorization: Bearer …`). */
const BEARER_TOKEN = new RegExp(`(\\bBearer\\s+)(?:[\\w.~+/=-]|${JSON_ESCAPE_IN_VALUE})+`, 'gi');

/** The name of an `Authorization` or `Proxy-Authorization` header written as text, and its scheme. */
const AUTHORIZATION_START = `(?:^|[^\\w-])(?:proxy-)?authorization["']?[ \\t]*[:=][ \\t]*["']?(?:${AUTHORIZATION_SCHEME})?`;

/**
 * The credentials of an `Authorization` or `Proxy-Authorization` header written as text, whatever its
 * scheme (`Basic dXNlcjpwYXNz`, `Token …`, `ApiKey …`) or with none: the scheme's name is kept, what
 * follows it redacted. (`Basic` alone is an ordinary word, so it is found only after the header's name.)
 */
const AUTHORIZATION_TEXT = new RegExp(
  `(${AUTHORIZATION_START})(?:[^\\s"'<>,;&#\\\\]|${JSON_ESCAPE_IN_VALUE})+`,
  'gi',
);

/**
 * URL userinfo: `scheme://user:pass@` (also with the JSON-escaped slashes `:\/\/`), up to the last `@`
 * before what ends an authority, as URL parsers read it: a password may hold an unencoded `@`, and all of
 * it is redacted. `https://host/path@x` is left alone. The scheme is at most 32 characters: unbounded, a
 * long run of letters (an API's error message) was tried as a scheme from each of its letters, in time
 * that grew with the square of its length (80 KB took seven seconds).
 */
const URL_USERINFO = /([a-z][a-z0-9+.-]{0,31}:(?:\\?\/){2})[^\s/\\?#"'<>]+@/gi;

/**
 * Removes every secret from `text`: each given value in every form it takes on the wire and in JSON
 * (raw, percent-encoded once or more, JSON-escaped with `\/`, `\"`, `\\` or `\uXXXX`, mixed, at any depth
 * of nesting, HTML character references, base64, also wrapped into lines), the values of credential query
 * parameters (their names and `=` percent-encoded too), bearer tokens, key headers quoted as text, the
 * credentials of authorization headers quoted as text, and URL userinfo. Secrets
 * shorter than 4 characters are ignored (they would redact ordinary words). The one routine every error
 * message, URL, request id, body excerpt and cause goes through; it runs only when an error is built.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  return compileRedaction(secrets)(text);
}

/**
 * A URL given as a setting or a flag, for a message, without what may be its user and password. A
 * password may hold `/`, `@`, `#` or `?` unencoded, which makes the text no valid URL or moves where its
 * host seems to start, so the userinfo is taken to run from `scheme://` to the last `@`. A text with an
 * `@` that is not of the form `scheme://…@` is not shown at all: nothing says where its password starts
 * or ends (`user:pass@host` reads as the scheme `user:`). What is left goes through `redact` (credential
 * query parameters).
 */
export function redactGivenUrl(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return redact(text);
  const authority = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (authority !== null && authority[0].length <= at)
    return redact(`${authority[0]}${REDACTED}${text.slice(at)}`);
  return REDACTED;
}

/** `redact` for one set of secrets, compiled once and applied to each field of an error. */
export interface Redaction {
  (text: string): string;
  /** Length of the longest secret, for cutting excerpts safely. */
  readonly longest: number;
}

/**
 * A line break inside base64 that an encoder wraps (MIME at 76 columns: Java's MIME encoder writes `\r\n`,
 * Python's `encodebytes` `\n`): as is, with the spaces or tabs that fold a header's value onto the next
 * line (HTTP/1.1's obsolete line folding), JSON-escaped at any depth of nesting, percent-encoded (a query's
 * `%0D%0A`), or the one space an error message's excerpt of a non-JSON body makes of it.
 */
const LINE_BREAK = `(?:\\r?\\n[ \\t]*| |(?:\\\\{1,${MAX_ESCAPES}}r)?\\\\{1,${MAX_ESCAPES}}n|(?:${PERCENT}0[dD])?${PERCENT}0[aA])`;
const LINE_BREAKS = new RegExp(LINE_BREAK, 'g');

/**
 * One character of base64 as a text may carry it: itself, or a `+`, `/` or `=` JSON-escaped (`\/`, .NET's
 * `\u002B`) or percent-encoded (a query's `%2B`), at any depth.
 */
const BASE64_CHARACTER = `(?:[\\w+/-]|\\\\{1,${MAX_ESCAPES}}(?:/|u00(?:2[bBfF]|3[dD]))|${PERCENT}(?:2[bBfF]|3[dD]))`;

/**
 * The last line of wrapped base64, which no header's name follows: a line of 60 characters or more may be
 * followed by the next header of an echoed request (`Via: 1.1 gw`), whose name is no part of the run.
 */
const LAST_LINE = `${BASE64_CHARACTER}+={0,2}(?![\\w:+/-])`;

/**
 * Base64 wrapped into lines: every line but the last at least 60 characters long (Ruby wraps at 60, PEM
 * at 64, MIME at 76), so words of a sentence are not taken for one. The run starts where base64 does not
 * (a prefix, not a lookbehind, as in `SECRET_PARAMETER`), or after a line break (an escaped `\n` or a
 * `%0A` ends in a character base64 may hold): a long run without a break is then tried once, not from each
 * of its characters.
 */
const WRAPPED_BASE64 = new RegExp(
  `(^|[^\\w+/%\\\\-]|${LINE_BREAK})((?:${BASE64_CHARACTER}{60,}${LINE_BREAK})+${LAST_LINE})`,
  'g',
);

/**
 * Base64 wrapped after an authorization header's name and scheme, whose first line may hold fewer than 60
 * characters: a header echoed at 76 columns, or folded, leaves only what fits after its name on that line.
 * The header's name says that a credential follows, where a short first line alone would take words.
 */
const WRAPPED_AUTHORIZATION = new RegExp(
  `(${AUTHORIZATION_START})(${BASE64_CHARACTER}+${LINE_BREAK}(?:${BASE64_CHARACTER}{60,}${LINE_BREAK})*${LAST_LINE})`,
  'gi',
);

/** Options of `compileRedaction`. */
export interface RedactionOptions {
  /**
   * Whether credentials found without being given (`?key=…`, `Bearer …`, `user:pass@`, credential fields)
   * are redacted too. Default true; false removes the given secrets only (a cassette's inputs and answers,
   * where such patterns would cut ordinary data).
   */
  readonly patterns?: boolean;
}

/**
 * The patterns of the secrets most recently redacted, each compiled once. A pattern of a real key (an
 * OpenAI project key runs to 164 characters, with its base64 forms) is a large expression: built and run
 * anew for every failed call, it took about 30 ms of CPU per error, and under a run of 429s the event
 * loop paid that for each answer. Kept, V8 keeps its compiled code, and a later error costs under 1 ms.
 * A secret stays here, in memory only, until newer ones push it out: a model's key (which the model holds
 * anyway), and the credentials a failed call carried in its headers or query.
 */
const secretPatterns = new Map<string, SecretPatterns>();
/** Patterns kept: a key and its bearer form, each with up to six base64 forms, for a dozen models. */
const SECRET_PATTERNS_KEPT = 256;
/**
 * Characters of a secret its first pattern looks for. The whole secret's pattern, built only for a text
 * where that one finds its start, costs most of a failed call's CPU to build (about 30 ms for 164
 * characters, against 2 ms for 12).
 */
const SECRET_PREFIX = 12;

interface SecretPatterns {
  /** The first characters of the secret in any of their forms: a text without them holds no form of it. */
  start: RegExp;
  /** Every form of the whole secret, built on first need. */
  whole: RegExp | undefined;
}

function compiledSecretPattern(secret: string): SecretPatterns {
  let patterns = secretPatterns.get(secret);
  if (patterns === undefined) {
    patterns = { start: new RegExp(secretSource([...secret].slice(0, SECRET_PREFIX))), whole: undefined };
    if (secretPatterns.size >= SECRET_PATTERNS_KEPT)
      secretPatterns.delete(secretPatterns.keys().next().value as string);
  } else {
    // Most recently used last: the first in the map is the one to let go.
    secretPatterns.delete(secret);
  }
  secretPatterns.set(secret, patterns);
  return patterns;
}

/**
 * `text` with every form of `secret` replaced. `held` keeps the patterns one redaction uses, so that a
 * redaction of more secrets than the cache keeps never compiles one twice.
 */
function redactSecret(text: string, secret: string, held: Map<string, SecretPatterns>): string {
  let patterns = held.get(secret);
  if (patterns === undefined) {
    patterns = compiledSecretPattern(secret);
    held.set(secret, patterns);
  }
  if (!patterns.start.test(text)) return text;
  patterns.whole ??= new RegExp(secretSource([...secret]), 'g');
  return text.replace(patterns.whole, REDACTED);
}

/** The secrets whose patterns are kept, oldest first. Exported for tests only. */
export function keptSecretPatterns(): string[] {
  return [...secretPatterns.keys()];
}

/** The secrets whose whole pattern was built, of those kept. Exported for tests only. */
export function builtWholePatterns(): string[] {
  return [...secretPatterns].filter(([, patterns]) => patterns.whole !== undefined).map(([secret]) => secret);
}

/** What every form `secretSource` matches but the secret itself holds: a `\`, a `%` or a `&`. */
const ENCODING_MARK = /[\\%&]/;

/** Compiles `redact` for a set of secrets. */
export function compileRedaction(
  secrets: readonly (string | undefined)[],
  options: RedactionOptions = {},
): Redaction {
  const given = secrets.filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 4,
  );
  const kept = [...new Set(given.flatMap((secret) => [secret, ...base64Forms(secret)]))].sort(
    (a, b) => b.length - a.length,
  );
  const held = new Map<string, SecretPatterns>();
  const redactGiven = (text: string): string => {
    let out = text;
    // Every form of a secret but itself holds a `\`, `%` or `&`: a text without them can hold only
    // the secret itself, found without building its pattern. Otherwise each pattern also matches the
    // secret as it is. One pass per secret, so each occurrence is replaced once, even of a secret that
    // `[REDACTED]` holds.
    const plain = !ENCODING_MARK.test(text);
    for (const secret of kept)
      out = plain ? out.split(secret).join(REDACTED) : redactSecret(out, secret, held);
    return out;
  };
  const apply = (text: string): string => {
    // A wrapped base64 text where a secret runs across a line break (a `Basic` token, a gateway's echo of
    // the request's headers encoded) is written unwrapped, the secret redacted: no pattern of a secret
    // allows for line breaks. One that holds no secret, or none across a break, keeps its lines.
    const unwrap = (match: string, start: string, run: string) => {
      const joined = run.replace(LINE_BREAKS, '');
      const clean = redactGiven(joined);
      if (clean === joined || redactGiven(run).replace(LINE_BREAKS, '') === clean) return match;
      // A last line that no secret reaches, and that no padding marks as base64's end, keeps its line
      // break: after a line of 60 characters the run's pattern cannot tell a token's last line from the
      // first word of the next line of prose, which, joined to the token, was redacted with it.
      const lastBreak = [...run.matchAll(LINE_BREAKS)].at(-1)!;
      const lastLine = run.slice(lastBreak.index + lastBreak[0].length);
      const head = redactGiven(run.slice(0, lastBreak.index).replace(LINE_BREAKS, ''));
      if (lastLine.endsWith('=') || head + lastLine !== clean) return start + clean;
      return start + head + run.slice(lastBreak.index);
    };
    const unwrapped =
      kept.length === 0 ? text : text.replace(WRAPPED_BASE64, unwrap).replace(WRAPPED_AUTHORIZATION, unwrap);
    const out = redactGiven(unwrapped);
    if (options.patterns === false) return out;
    return redactSecretFields(out)
      .replace(URL_USERINFO, `$1${REDACTED}@`)
      .replace(SECRET_PARAMETER, (match, start: string, name: string) =>
        percentDecoded(name).toLowerCase() === 'code' && PLAIN_CODE.test(match.slice(start.length))
          ? match
          : start + REDACTED,
      )
      .replace(SECRET_HEADER_TEXT, `$1${REDACTED}`)
      .replace(AUTHORIZATION_TEXT, `$1${REDACTED}`)
      .replace(BEARER_TOKEN, `$1${REDACTED}`);
  };
  // The longest secret given: its base64 forms are shorter than its encodings the margin allows for.
  return Object.assign(apply, { longest: Math.max(0, ...given.map((secret) => secret.length)) });
}

/**
 * What a secret looks like inside base64 text (a gateway that echoes the request's headers encoded): for
 * each of the three places its first byte can take in a 3-byte group, the base64 of its whole groups, in
 * the standard and the URL alphabet. The one or two bytes at either end share a group with their
 * neighbours and are not matched. A secret of fewer than 12 whole bytes has none: a base64 run that short
 * could be found in ordinary text.
 */
export function base64Forms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  const forms: string[] = [];
  for (let skip = 0; skip < 3; skip++) {
    const whole = bytes.subarray(skip, skip + Math.floor((bytes.length - skip) / 3) * 3);
    if (whole.length < 12) continue;
    const form = btoa(String.fromCharCode(...whole));
    forms.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/** The short escapes JSON writes for control characters (a tab is `\t`). */
const JSON_SHORT_ESCAPES: Record<string, string> = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };

/** The named references an HTML page uses for the characters it must escape. */
const HTML_NAMED_REFERENCES: Record<string, string> = {
  '"': '&quot;',
  '&': '&amp;',
  "'": '&apos;',
  '<': '&lt;',
  '>': '&gt;',
};

function escapeForPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A hex number matched in either case, without making the rest of the pattern case-insensitive. */
function hexPattern(value: number, width: number): string {
  return [...value.toString(16).padStart(width, '0')]
    .map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit))
    .join('');
}

/**
 * The source of a pattern that matches `characters` (a secret, or its first characters) with each in any
 * of its encodings, so mixed forms
 * (`sk\u002dab\/cd%2B`) are found too: itself (a quote, slash or backslash possibly preceded by the
 * backslashes of one or more levels of JSON escaping), `\uXXXX` after one or more backslashes, its
 * UTF-8 bytes percent-encoded (once or more), or an HTML character reference.
 */
function secretSource(characters: readonly string[]): string {
  let source = '';
  for (const character of characters) {
    const alternatives: string[] = [];
    if (character === '\\') alternatives.push(`\\\\{1,${MAX_ESCAPES}}`);
    else if (character === '"' || character === '/' || character === "'")
      alternatives.push(`\\\\{0,${MAX_ESCAPES}}${escapeForPattern(character)}`);
    else alternatives.push(escapeForPattern(character));
    let unicodeEscape = '';
    for (let index = 0; index < character.length; index++) {
      unicodeEscape += `\\\\{1,${MAX_ESCAPES}}u${hexPattern(character.charCodeAt(index), 4)}`;
    }
    alternatives.push(unicodeEscape);
    const shortEscape = JSON_SHORT_ESCAPES[character];
    if (shortEscape !== undefined) alternatives.push(`\\\\{1,${MAX_ESCAPES}}${shortEscape}`);
    alternatives.push(
      [...new TextEncoder().encode(character)].map((byte) => `${PERCENT}${hexPattern(byte, 2)}`).join(''),
    );
    const codePoint = character.codePointAt(0)!;
    alternatives.push(`&#(?:[xX]0*${hexPattern(codePoint, 1)}|0*${codePoint});`);
    const named = HTML_NAMED_REFERENCES[character];
    if (named !== undefined) alternatives.push(named);
    source += `(?:${alternatives.join('|')})`;
  }
  return source;
}

/** The headers whose value is `scheme credentials`, whatever else it holds. */
const AUTHORIZATION_HEADER_NAMES = new Set(['authorization', 'proxy-authorization']);

/**
 * Every secret of one call, for redaction when an error is built: the given values (the API key), the
 * values of account headers, the values of credential headers (of an authorization header, what follows
 * its scheme; of another, also the token after a `Bearer` / `Basic` scheme; and the password a `Basic`
 * value encodes), the userinfo of the URL, and the values of its
 * credential query parameters, each also percent-decoded; and the password of each proxy the call went
 * through (`proxies`, their URLs), as written and percent-decoded, with the `Basic` token of its user and
 * password: a proxy's error page may echo them in any of these forms. Called only on the
 * error path.
 */
export function secretsOfCall(
  url: string,
  headers: Record<string, string> | undefined,
  secrets: readonly (string | undefined)[] = [],
  proxies: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const secret of secrets) if (typeof secret === 'string') out.push(secret);
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (isAccountHeaderName(name)) out.push(value);
    if (!isSecretHeaderName(name)) continue;
    const scheme = /^(\w+)\s+(.+)$/.exec(value.trim());
    // An authorization header's first word is its scheme by HTTP's grammar: no secret, and what an echo of
    // the header keeps readable (`Bearer [REDACTED]`). Another header's value may start with a secret word;
    // and a token too short to have base64 forms of its own (under 12 characters, or under 4, too short to
    // be a secret at all) keeps the whole value a secret, which has them.
    if (scheme === null || !AUTHORIZATION_HEADER_NAMES.has(name.toLowerCase()) || scheme[2]!.length < 12)
      out.push(value);
    if (scheme !== null) {
      out.push(scheme[2]!);
      if (scheme[1]!.toLowerCase() === 'basic') out.push(...basicCredentials(scheme[2]!));
    }
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: the patterns in `redact` still find userinfo and credential parameters in it.
  }
  if (parsed !== undefined) {
    for (const part of [parsed.username, parsed.password]) if (part !== '') out.push(part, safeDecode(part));
    for (const [name, value] of parsed.searchParams) {
      if (isSecretParameterName(name) && value !== '') out.push(value);
    }
  }
  for (const proxy of proxies) out.push(...proxyCredentials(proxy));
  return out;
}

/**
 * The password of a proxy's URL, as written and percent-decoded, and `user:password` with its base64, the
 * `Proxy-Authorization: Basic` token undici sends them as. None for a URL without them.
 */
function proxyCredentials(proxy: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(proxy);
  } catch {
    return [];
  }
  const { username, password } = parsed;
  if (username === '' && password === '') return [];
  const out: string[] = [];
  // The user name alone is no secret, and often a word (`user`, `proxy`) an error's text needs.
  if (password !== '') out.push(password, safeDecode(password));
  const credentials = `${safeDecode(username)}:${safeDecode(password)}`;
  const bytes = new TextEncoder().encode(credentials);
  out.push(credentials, btoa(String.fromCharCode(...bytes)));
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function basicCredentials(encoded: string): string[] {
  try {
    const decoded = atob(encoded);
    const colon = decoded.indexOf(':');
    return colon === -1 ? [decoded] : [decoded, decoded.slice(colon + 1)];
  } catch {
    return [];
  }
}

/**
 * A secret-free copy of an error and its whole `cause` chain (and `errors` of an AggregateError): message,
 * stack and every string or number field redacted; other fields dropped. `console.error` and
 * `util.inspect` print a cause with its stack, so the raw error of a failed request (which may quote the
 * URL or a header) is never kept.
 */
export function redactCause(value: unknown, redaction: Redaction, depth = 0): unknown {
  if (typeof value === 'string') return redaction(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= 8) return undefined;
  const source = value as Record<string, unknown>;
  const message = redaction(typeof source.message === 'string' ? source.message : String(value));
  const cause = 'cause' in source ? redactCause(source.cause, redaction, depth + 1) : undefined;
  const copy = (cause === undefined ? new Error(message) : new Error(message, { cause })) as Error &
    Record<string, unknown>;
  Object.defineProperty(copy, 'name', {
    value: typeof source.name === 'string' ? redaction(source.name) : 'Error',
    writable: true,
    configurable: true,
  });
  copy.stack =
    typeof source.stack === 'string' ? redaction(source.stack) : `${String(copy.name)}: ${message}`;
  for (const key of Object.keys(source)) {
    if (key === 'message' || key === 'stack' || key === 'cause' || key === 'name' || key === 'errors')
      continue;
    const field = source[key];
    if (typeof field === 'string') copy[key] = redaction(field);
    else if (typeof field === 'number' || typeof field === 'boolean') copy[key] = field;
  }
  // An AggregateError's `errors` is not enumerable (Node reports a connection refused on every address of
  // a host as one); keep it the same way.
  if (Array.isArray(source.errors)) {
    Object.defineProperty(copy, 'errors', {
      value: source.errors.map((entry) => redactCause(entry, redaction, depth + 1)),
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** A short, secret-free excerpt of a response body for error messages. */
export function bodyExcerpt(text: string, redaction: Redaction, limit = 1_000): string {
  // Redacting a whole 200 MB body would be slow: keep a margin past the limit wide enough to hold any
  // secret that starts inside it, in its longest usual encoding, so no partial secret survives the cut.
  const margin = 256 + redaction.longest * 24;
  let head = text.length > limit + margin ? text.slice(0, limit + margin) : text;
  let clean = redaction(head);
  // Redaction shrinks the head (each secret becomes [REDACTED]): a secret cut at its end must still lie
  // past the limit, so take more of the text until the margin is there again.
  for (let size = head.length * 2; head.length < text.length && clean.length < limit + margin; size *= 2) {
    head = text.slice(0, size);
    clean = redaction(head);
  }
  if (clean.length <= limit && head.length === text.length) return clean;
  const rest = text.length - head.length + Math.max(0, clean.length - limit);
  return `${clean.slice(0, limit)}… (${rest} more characters)`;
}
