import type { Options } from './args.js';

/**
 * The library's messages in the command's words. The library's errors and warnings name its settings
 * (`maxRetries`, `rateLimit`, `timeoutMs`…), which mean nothing on a command line: each is said here as
 * the flag the running command has for it, and where it has none, the part of the sentence that names it
 * is left out (what the user can do instead is in the advice that is left: how long to wait, a flag).
 * The settings are found by their names, which the library keeps within a major version, never by the
 * words around them: one table serves every message the command prints from the library.
 */
interface Setting {
  /** The options (without `--`) that set it, in the commands that have them; `--rpm/--tpm` for two. */
  flags: readonly string[];
  /** Its value is in milliseconds; its flag's, in seconds. */
  milliseconds?: true;
  /** The environment variable the command also reads it from, said after the flag. */
  variable?: string;
}

const SETTINGS: Record<string, Setting> = {
  maxRetries: { flags: ['max-retries'] },
  timeoutMs: { flags: ['timeout'], milliseconds: true },
  maxRetryDelayMs: { flags: [], milliseconds: true },
  concurrency: { flags: ['concurrency'] },
  rateLimit: { flags: ['rpm', 'tpm'] },
  maxInputsPerCall: { flags: ['batch-size'] },
  dimensions: { flags: ['dimensions'] },
  inputType: { flags: ['input-type'] },
  outputType: { flags: ['output-type'] },
  baseURL: { flags: ['base-url'], variable: 'EMBEDKIT_BASE_URL' },
  providerOptions: { flags: [] },
  maxResponseBytes: { flags: [] },
  maxTokensPerCall: { flags: [] },
  apiKey: { flags: [] },
};

/**
 * A setting's name where it names the setting: not part of a longer word or of a flag, and not a count
 * ("8 dimensions per byte"). A name with a path after it (`providerOptions.openai.user`) is one name.
 */
const NAME = `(?<![\\w.-])(?<!\\d )(${Object.keys(SETTINGS).join('|')})(?:\\.\\w+)*(?!\\w)`;

/** `50 ms (timeoutMs)`: a value, then the setting that bounds it. */
const VALUE_THEN_NAME = new RegExp(`(\\d+) ms \\(${NAME}\\)`, 'g');
/** `timeoutMs 50 ms`, `maxRetryDelayMs 60000 ms`: a setting and its value. */
const NAME_THEN_VALUE = new RegExp(`${NAME} (\\d+) ms`, 'g');
const ANY_NAME = new RegExp(NAME, 'g');
/** `the baseURL setting`: said as its flag alone (`--base-url (or EMBEDKIT_BASE_URL)`), not "the --base-url setting". */
const THE_NAME_SETTING = new RegExp(`the ${NAME} setting`, 'g');
/** `rateLimit: createRateLimiter({ requestsPerMinute: 3 })`: a setting, then code a program would pass. */
const NAME_THEN_CODE = new RegExp(`${NAME}: [\\w.]+\\((?:[^()]|\\([^()]*\\))*\\)`, 'g');

/** Where a part of a sentence begins: after one of these (or at the start of the message). */
const CLAUSE_STARTS = ['; ', ', ', ': ', ' — ', '('] as const;
/** Where it ends: at one of these (or at the end of the message). */
const CLAUSE_END = /[;,:)]|\.(?=\s|$)| — /g;

/** The options of the command being run: the flags its messages may name. */
let commandOptions: ReadonlySet<string> = new Set();

/** Takes `options` as the running command's: its messages name these flags, and no other. */
export function speakFor(options: Options): void {
  commandOptions = new Set(Object.keys(options));
}

/** The flags of `name` the running command has, as its messages write them (`--rpm/--tpm`); undefined for none. */
function flagOf(name: string): string | undefined {
  const { flags, variable } = SETTINGS[name]!;
  const had = flags.filter((flag) => commandOptions.has(flag));
  if (had.length === 0) return undefined;
  const said = had.map((flag) => `--${flag}`).join('/');
  return variable === undefined ? said : `${said} (or ${variable})`;
}

function seconds(milliseconds: string): string {
  return `${Number(milliseconds) / 1000} s`;
}

/** `message`, a library's error or warning, with its settings said as the running command's flags. */
export function inCommandTerms(message: string): string {
  let text = message
    .replace(THE_NAME_SETTING, (whole, name: string) => flagOf(name) ?? whole)
    // The code is a program's; the setting before it is said as any other.
    .replace(NAME_THEN_CODE, (whole) => whole.slice(0, whole.indexOf(':')))
    .replace(VALUE_THEN_NAME, (_, value: string, name: string) => {
      const flag = flagOf(name);
      return flag === undefined ? seconds(value) : `${seconds(value)} (${flag})`;
    })
    .replace(NAME_THEN_VALUE, (whole, name: string, value: string) => {
      if (SETTINGS[name]!.milliseconds !== true) return whole;
      const flag = flagOf(name);
      return flag === undefined ? seconds(value) : `${flag} ${Number(value) / 1000}`;
    });
  // A setting the command has no flag for takes the part of the sentence that names it along.
  for (let found = unflagged(text); found !== undefined; found = unflagged(text)) {
    const shorter = withoutClause(text, found);
    // Each pass takes a name out; one that stayed would be taken again and again.
    if (shorter === text) break;
    text = shorter;
  }
  return text.replace(ANY_NAME, (_, name: string) => flagOf(name)!);
}

/** Where the first setting the command has no flag for is named in `text`. */
function unflagged(text: string): number | undefined {
  for (const found of text.matchAll(ANY_NAME)) {
    if (flagOf(found[1]!) === undefined) return found.index;
  }
  return undefined;
}

/**
 * `text` without the part of its sentence that names a setting at `at`. Of alternatives joined by "or"
 * ("lower concurrency or set rateLimit"), only those that name a setting without a flag go; where those
 * left name a setting too, the words after the last one's setting stay ("lowering concurrency or a
 * rateLimit cannot help": "lowering --concurrency cannot help"). A part left with nothing goes whole,
 * with one of its delimiters.
 */
function withoutClause(text: string, at: number): string {
  let start = 0;
  let opener = '';
  for (const delimiter of CLAUSE_STARTS) {
    const found = text.lastIndexOf(delimiter, at);
    if (found >= 0 && found + delimiter.length > start) {
      start = found + delimiter.length;
      opener = delimiter;
    }
  }
  CLAUSE_END.lastIndex = at;
  const endMatch = CLAUSE_END.exec(text);
  const end = endMatch === null ? text.length : endMatch.index;
  const closer = endMatch === null ? '' : endMatch[0];
  const clause = text.slice(start, end);
  const alternatives = clause.split(' or ');
  const kept = alternatives.filter((alternative) => unflagged(alternative) === undefined);
  if (kept.length > 0 && kept.length < alternatives.length) {
    const last = alternatives.at(-1)!;
    let tail = '';
    // Alternatives that each name a setting share the words after the last one's.
    if (!kept.includes(last) && kept.some((alternative) => new RegExp(NAME).test(alternative))) {
      const names = [...last.matchAll(ANY_NAME)].at(-1)!;
      tail = last.slice(names.index + names[0].length);
    }
    return `${text.slice(0, start)}${kept.join(' or ')}${tail}${text.slice(end)}`;
  }
  if (opener === '(' && closer === ')') return `${text.slice(0, start - 1).trimEnd()}${text.slice(end + 1)}`;
  if ((opener === '' || opener === ': ' || opener === ' — ') && (closer === ';' || closer === ',')) {
    return `${text.slice(0, start)}${text.slice(end + 1).trimStart()}`;
  }
  return `${text.slice(0, start - opener.length)}${text.slice(end)}`;
}
