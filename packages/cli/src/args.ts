import { type ParseArgsConfig, parseArgs } from 'node:util';
import { INPUT_TYPES, type InputType, OUTPUT_TYPES, type OutputType } from '@embedkit/core';
import { closestName } from '@embedkit/core/provider';
import { UsageError } from './errors.js';
import { speakFor } from './library-terms.js';

/** A command's option table, as `parseArgs` takes it. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command that calls a provider accepts. */
export const MODEL_OPTIONS = {
  model: { type: 'string', short: 'm' },
  'base-url': { type: 'string' },
  'api-key-env': { type: 'string' },
  replay: { type: 'string' },
  'input-type': { type: 'string' },
  dimensions: { type: 'string' },
  'max-retries': { type: 'string' },
  timeout: { type: 'string' },
  cache: { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const satisfies Options;

export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies Options;

export type ParsedValues = Record<string, string | boolean | undefined>;

/** Commands whose `-` argument reads stdin. */
const STDIN_COMMANDS = new Set(['embed', 'bulk', 'index']);

/**
 * `parseArgs` in strict mode, with its errors turned into usage errors that name the command: an
 * unknown option suggests the one it is a typo of. A `-` argument read from a terminal says that the
 * command is waiting for typed input, rather than seeming to hang.
 */
export function parse(
  command: string,
  argv: string[],
  options: Options,
): { values: ParsedValues; positionals: string[] } {
  // The library's messages name this command's flags for its settings, and no other command's.
  speakFor(options);
  let parsed: { values: ParsedValues; positionals: string[] };
  let repeated: string | undefined;
  let joined: { short: string; name: string } | undefined;
  try {
    const { values, positionals, tokens } = parseArgs({
      args: joinNegativeValues(argv, options),
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    parsed = { values: values as ParsedValues, positionals };
    repeated = repeatedOption(tokens, options);
    joined = shortJoinedWithEquals(tokens);
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }, options, argv), command);
  }
  // parseArgs keeps the last of two values and drops the other without a word: `--dimensions 256
  // --dimensions 512` embedded at 512, and `--out a.npy -o b.npy` wrote b.npy. Which one was meant is
  // the user's to say; the values are not shown, since --base-url or --api-key-env may hold a secret.
  if (repeated !== undefined)
    throw new UsageError(`--${repeated} is given more than once; give it once.`, command);
  // `-k=3` is -k with the value "=3" to parseArgs (as to getopt), refused later in words about "=3".
  if (joined !== undefined) {
    const { short, name } = joined;
    throw new UsageError(
      `${short}=… gives ${short} a value that starts with "="; write ${short} <value> or --${name}=<value>.`,
      command,
    );
  }
  if (STDIN_COMMANDS.has(command) && parsed.positionals.includes('-') && process.stdin.isTTY) {
    process.stderr.write(
      'embedkit: reading input from stdin (this terminal): type or paste it, then press Ctrl-D. To embed a file, pass its path instead of -.\n',
    );
  }
  return parsed;
}

/**
 * The first option that takes one value and is given twice (as `--name`, `--name=value` or its short
 * form), if any. A switch given twice (`--json --json`) says the same thing twice and is let be.
 */
function repeatedOption(
  tokens: readonly { kind: string; name?: string }[],
  options: Options,
): string | undefined {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    const option = options[token.name];
    if (option?.type !== 'string' || option.multiple === true) continue;
    if (seen.has(token.name)) return token.name;
    seen.add(token.name);
  }
  return undefined;
}

/** The first short option given as `-k=value`, if any. */
function shortJoinedWithEquals(
  tokens: readonly { kind: string; name?: string; rawName?: string; value?: string; inlineValue?: boolean }[],
): { short: string; name: string } | undefined {
  for (const token of tokens) {
    if (token.kind !== 'option' || token.rawName === undefined || token.name === undefined) continue;
    if (!token.rawName.startsWith('--') && token.inlineValue === true && token.value?.startsWith('='))
      return { short: token.rawName, name: token.name };
  }
  return undefined;
}

/** A negative number: no option's name starts with a digit or a point, so it is never an option. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * `--dimensions -1` as `--dimensions=-1` (and `-k -1` as `--top=-1`), up to a `--`: parseArgs takes a
 * value that starts with a dash for a forgotten one ("ambiguous"), so the option's own check, which says
 * what values it takes, was never reached; `--dimensions=-1` got it. Only numbers are joined: any other
 * word that starts with a dash may be the next option after a value that was left out.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--') return [...joined, ...argv.slice(index)];
    const name = argument.startsWith('--')
      ? argument.slice(2)
      : /^-\w$/.test(argument)
        ? nameOfShort(argument[1]!, options)
        : undefined;
    const next = argv[index + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined) {
      // The next argument is this option's value, as parseArgs reads it; a negative number is joined to it.
      if (NEGATIVE_NUMBER.test(next)) joined.push(`--${name}=${next}`);
      else joined.push(argument, next);
      index++;
      continue;
    }
    joined.push(argument);
  }
  return joined;
}

function describeParseError(error: Error & { code?: string }, options: Options, argv: string[]): string {
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /Unknown option '([^']+)'/.exec(error.message)?.[1];
    if (given !== undefined) {
      const names = Object.keys(options).map((name) => `--${name}`);
      const suggestion = given.startsWith('--') ? closestName(given, names) : undefined;
      if (suggestion !== undefined) return `Unknown option '${given}'; did you mean ${suggestion}?`;
      // A text or a file name that starts with a dash ("-5 degrees") reads as short options. The way to
      // pass it is last, after --, where nothing is an option any more; neither the help nor this
      // message would say so otherwise.
      const argument = given.startsWith('--') ? undefined : argv.find((text) => text.startsWith(given));
      return argument === undefined
        ? `Unknown option '${given}'.`
        : `Unknown option '${given}'. To pass an argument that starts with -, put it last, after --: -- ${JSON.stringify(argument)}.`;
    }
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const missing = /Option '(-\w, )?(--[\w-]+) <value>' argument missing/.exec(error.message);
    if (missing !== null) return `${missing[2]} needs a value.`;
    // `--dimensions --json`: parseArgs reads the next option as a forgotten value, in three lines of its
    // own words; the next argument is not shown (a value, not an option, may be anything).
    const ambiguous = /^Option '(-\w|--[\w-]+)' argument is ambiguous/.exec(error.message);
    if (ambiguous !== null) {
      const name = longName(ambiguous[1]!, options);
      return `${name} needs a value, but the argument after it starts with -. A value that starts with - is written ${name}=<value>.`;
    }
    const switched = /^Option '(--[\w-]+)' does not take an argument/.exec(error.message);
    if (switched !== null) return `${switched[1]} takes no value; give it alone.`;
  }
  return error.message;
}

/** The name of the option whose short form is `-<letter>`, if any. */
function nameOfShort(letter: string, options: Options): string | undefined {
  return Object.keys(options).find((key) => options[key]!.short === letter);
}

/** `--name` for an option as parseArgs names it, `-m` or `--model`. */
function longName(given: string, options: Options): string {
  if (given.startsWith('--')) return given;
  const name = nameOfShort(given[1]!, options);
  return name === undefined ? given : `--${name}`;
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A whole number option, checked against `minimum` and, where given, `maximum`. */
export function integerOption(
  command: string,
  values: ParsedValues,
  name: string,
  minimum: number,
  maximum?: number,
): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < minimum || (maximum !== undefined && value > maximum)) {
    const range = maximum === undefined ? `≥ ${minimum}` : `from ${minimum} to ${maximum}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got "${text}".`, command);
  }
  // A whole number all the same: saying it must be one would send the user looking for another mistake.
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(
      `--${name} is too large: at most ${Number.MAX_SAFE_INTEGER.toLocaleString('en-US')}, got "${text}".`,
      command,
    );
  }
  return value;
}

/**
 * A positive number option written in decimal (may be fractional), e.g. seconds. Only plain decimals:
 * `Number()` alone would also read `0x10` as 16 and `1e3` as 1000, which no one types for seconds.
 */
export function numberOption(command: string, values: ParsedValues, name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text.trim()) || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a decimal number > 0 (e.g. 30 or 0.5), got "${text}".`, command);
  }
  return value;
}

export function inputTypeOption(command: string, values: ParsedValues): InputType | undefined {
  const text = stringOption(values, 'input-type');
  if (text === undefined) return undefined;
  if (!(INPUT_TYPES as readonly string[]).includes(text)) {
    throw new UsageError(`--input-type must be one of ${INPUT_TYPES.join(', ')}; got "${text}".`, command);
  }
  return text as InputType;
}

export function outputTypeOption(command: string, values: ParsedValues): OutputType | undefined {
  const text = stringOption(values, 'output-type');
  if (text === undefined) return undefined;
  if (!(OUTPUT_TYPES as readonly string[]).includes(text)) {
    throw new UsageError(`--output-type must be one of ${OUTPUT_TYPES.join(', ')}; got "${text}".`, command);
  }
  return text as OutputType;
}

/** `--model` is required and must look like `provider:model`. */
export function modelOption(command: string, values: ParsedValues): { provider: string; modelId: string } {
  const text = stringOption(values, 'model');
  if (text === undefined)
    throw new UsageError('--model is required, e.g. --model openai:text-embedding-3-small.', command);
  return splitModelId(text, command);
}

/**
 * Whether `text` can name a provider (the package `@embedkit/provider-<text>`): lowercase letters, digits
 * and dashes. A model's full id is split at its first colon, so a provider's name can never hold one.
 */
export function isProviderName(text: string): boolean {
  return /^[a-z0-9][a-z0-9-]*$/.test(text);
}

export function splitModelId(text: string, command: string): { provider: string; modelId: string } {
  const separator = text.indexOf(':');
  if (separator <= 0 || text.slice(separator + 1).trim() === '') {
    throw new UsageError(
      `--model must look like "provider:model", e.g. "openai:text-embedding-3-small"; got "${text}".`,
      command,
    );
  }
  const provider = text.slice(0, separator);
  if (!isProviderName(provider)) {
    throw new UsageError(
      `"${provider}" is not a provider name (lowercase letters, digits and dashes).`,
      command,
    );
  }
  const modelId = text.slice(separator + 1);
  // No model's id starts or ends with white space: sent as given, it would be an unknown model to the
  // API, with the space invisible in its message.
  if (modelId.trim() !== modelId) {
    throw new UsageError(
      `the model id ${JSON.stringify(modelId)} starts or ends with white space; write --model "${provider}:${modelId.trim()}".`,
      command,
    );
  }
  return { provider, modelId };
}

/**
 * Whether the environment variable `name` turns its switch on: set to anything but nothing, `0`, `false`,
 * `no` or `off` (in any case). `EMBEDKIT_NO_CACHE=0` reads as "not off"; taken as set, it turned the cache off.
 */
export function environmentSwitch(name: string, environment: NodeJS.ProcessEnv = process.env): boolean {
  const value = (environment[name] ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false' && value !== 'no' && value !== 'off';
}
