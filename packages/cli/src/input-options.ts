import { extname } from 'node:path';
import { integerOption, type Options, type ParsedValues, stringOption } from './args.js';
import { UsageError } from './errors.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  formatOf,
  INPUT_FORMATS,
  type InputFormat,
  type InputOptions,
  shellWord,
} from './inputs.js';

/**
 * The options that say how an input file is read, for every command that reads one (bulk, index). One
 * table, one parser and one help text: a command that read them on its own once lacked one of them.
 */
export const INPUT_OPTIONS = {
  format: { type: 'string' },
  field: { type: 'string' },
  'id-field': { type: 'string' },
  'max-line-bytes': { type: 'string' },
} as const satisfies Options;

/** The lines of a command's help that describe {@link INPUT_OPTIONS}, as `bulk --help` shows them. */
export const INPUT_OPTIONS_HELP = `  --format <f>         ${INPUT_FORMATS.slice(0, -1).join(', ')} or ${INPUT_FORMATS.at(-1)}, when the extension does not say
  --field <name>       the field holding the text (default: text)
  --id-field <name>    the field used as the record id (default: id, when present; else the line number);
                       when given, every record must have it; a null id, or an integer id past
                       2^53 (quote it as a string), is a bad line; an id given to two records is a
                       warning naming both lines
  --max-line-bytes <n> the longest line accepted, in bytes (default ${DEFAULT_MAX_LINE_BYTES}, ${DEFAULT_MAX_LINE_BYTES / 1024 / 1024} MiB)
`;

/** The names of {@link INPUT_OPTIONS}, for a help that lists them and refers to `bulk --help`. */
export const INPUT_OPTION_NAMES = Object.keys(INPUT_OPTIONS)
  .map((name) => `--${name}`)
  .join(', ');

/** How to read an input, as the command line says, with every default filled in; the path aside. */
export type InputReading = Omit<InputOptions, 'path'> &
  Required<Pick<InputOptions, 'field' | 'idField' | 'idFieldRequired' | 'maxLineBytes'>>;

/** The one input file of `command` (or - for stdin): any other count of arguments is a usage error. */
export function inputPathArgument(command: string, positionals: readonly string[]): string {
  if (positionals.length !== 1)
    throw new UsageError(`${command} takes exactly one input file (or - for stdin).`, command);
  return positionals[0]!;
}

/**
 * Reads {@link INPUT_OPTIONS} from `command`'s parsed command line: a bad value is a usage error naming
 * the option, before anything is opened. So is a `.json` input without `--format` (see below).
 */
export function readInputOptions(command: string, values: ParsedValues, inputPath: string): InputReading {
  const format = stringOption(values, 'format');
  if (format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')}; got "${format}".`, command);
  }
  // A file the extension does not name is read as text, one input a line: for a .json file that is a
  // line of JSON syntax an input (`[`, `  {"text": "…"},`), each one paid for. A JSON document is not
  // read whole either, since memory stays bounded whatever the input's size: its records go one a line.
  const extension = extname(inputPath);
  if (format === undefined && extension.toLowerCase() === '.json') {
    const jsonl = `${inputPath.slice(0, -extension.length)}.jsonl`;
    throw new UsageError(
      `${inputPath} is a .json file, which ${command} does not read: its input is .txt (one text a line), .jsonl (one JSON object a line) or .csv. Write the records one a line (for an array of objects: jq -c '.[]' ${shellWord(inputPath)} > ${shellWord(jsonl)}), or pass --format to say how to read it.`,
      command,
    );
  }
  const idField = stringOption(values, 'id-field');
  // Plain text has no fields: ignored, a .txt of JSON lines (or stdin, read as text by default) was
  // embedded line by line as JSON syntax, a named --id-field turned into line numbers unsaid.
  const named = (['field', 'id-field'] as const).filter((name) => stringOption(values, name) !== undefined);
  if (named.length > 0 && formatOf(inputPath, format as InputFormat | undefined) === 'txt') {
    const options = named.map((name) => `--${name}`).join(' and ');
    throw new UsageError(
      `${options} ${named.length > 1 ? 'name fields' : 'names a field'} of .jsonl and .csv records, but ${inputPath === '-' ? 'stdin' : inputPath} is read as plain text, one input a line; pass --format jsonl or --format csv if it holds records.`,
      command,
    );
  }
  return {
    ...(format === undefined ? {} : { format: format as InputFormat }),
    field: stringOption(values, 'field') ?? 'text',
    // Named, the field is required of every record; by default a record without "id" takes its line number.
    idField: idField ?? 'id',
    idFieldRequired: idField !== undefined,
    maxLineBytes: integerOption(command, values, 'max-line-bytes', 1) ?? DEFAULT_MAX_LINE_BYTES,
    maxLineBytesOption: '--max-line-bytes',
  };
}
