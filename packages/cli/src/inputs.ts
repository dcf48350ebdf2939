import { createReadStream, type Stats } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { extname } from 'node:path';
import { CliError, InputError } from './errors.js';
import { describeFileError, openPipe } from './file-system.js';
import { BLOCK_BYTES, ConsumedInputHash, type HeldReading, WholeInputHash } from './input-fingerprint.js';
import { refuseDirectoryStdin } from './stdin.js';

export type InputFormat = 'txt' | 'jsonl' | 'csv';
export const INPUT_FORMATS: readonly InputFormat[] = ['txt', 'jsonl', 'csv'];

/** One input read from a file: the text to embed and where it came from. */
export interface InputRecord {
  /** 1-based line where the input starts. */
  line: number;
  text: string;
  /** The `--id-field` value when the record has one; otherwise the line number is the id. */
  id: unknown;
  /** The record's other fields (JSONL, CSV). */
  metadata?: Record<string, unknown>;
  /** Byte offset in the source where this input's text ends (for the checkpoint and progress). */
  end: number;
}

export interface InputOptions {
  /** A path, or `-` for stdin. */
  path: string;
  format?: InputFormat;
  /** JSONL / CSV: the field holding the text. Default `text`. */
  field?: string;
  /** JSONL / CSV: the field holding the id. Default `id` (used when present). */
  idField?: string;
  /**
   * The id field was named on the command line (`--id-field`): every record must have it, and the
   * first that lacks it is a `file:line` error. Default false: a record without it is identified by its line.
   */
  idFieldRequired?: boolean;
  /** The longest line accepted, in bytes (a longer one is a `file:line` error). Default 64 MiB. */
  maxLineBytes?: number;
  /** The command-line option that sets `maxLineBytes`, named in that error (bulk: `--max-line-bytes`). */
  maxLineBytesOption?: string;
  /**
   * Keep the hash of the input bytes behind the inputs written (`consumed`), which a resumable output
   * records. Default true; a reader that resumes nothing (index) passes false and holds no byte read.
   */
  fingerprint?: boolean;
  /**
   * Keep a SHA-256 of every byte read (`whole`), by which a command that reads a file twice (index: once
   * to check it, once to embed it) proves the second reading read what the first checked; a regular file
   * only (stdin and pipes are read once). Held to the first reading, the second compares each block of
   * the file as it reads it, and a block that differs ends its records with the error `changed` makes.
   * Default false.
   */
  whole?: boolean | HeldReading;
}

/** The longest line read by default: 64 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** An opened source: its name for messages, its size when known, and its inputs in order. */
export interface InputSource {
  name: string;
  format: InputFormat;
  /**
   * A regular file, which can be opened and read again from its start. Stdin, a pipe given as a path
   * (`<(zcat docs.gz)`, a FIFO) or a device is read once, as it comes.
   */
  rereadable: boolean;
  /** Bytes, for a regular file. */
  size?: number;
  /** Modification time in milliseconds, for a regular file. */
  mtimeMs?: number;
  records: AsyncGenerator<InputRecord>;
  /** The hash of the bytes behind the inputs consumed so far (see {@link ConsumedInputHash}). */
  consumed: ConsumedInputHash;
  /** The hash of every byte read so far, when `whole` was asked for. */
  whole?: WholeInputHash;
}

export function formatOf(path: string, given: InputFormat | undefined): InputFormat {
  if (given !== undefined) return given;
  if (path === '-') return 'txt';
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  if (extension === '.csv') return 'csv';
  return 'txt';
}

/** How records are read from the lines of a source: the text field and the id field. */
interface RecordFields {
  field: string;
  idField: string;
  idFieldRequired: boolean;
}

/**
 * Opens the input: a missing, unreadable or empty file is refused here, before any request, with a
 * message naming the path. A path that is not a regular file (a pipe, a FIFO, a device) is read as
 * stdin is: once, as it comes, with no size or modification time.
 */
export async function openInput(options: InputOptions): Promise<InputSource> {
  const format = formatOf(options.path, options.format);
  const fields: RecordFields = {
    field: options.field ?? 'text',
    idField: options.idField ?? 'id',
    idFieldRequired: options.idFieldRequired === true,
  };
  const consumed = new ConsumedInputHash(options.fingerprint !== false);
  const whole =
    options.whole === undefined || options.whole === false
      ? undefined
      : new WholeInputHash(options.whole === true ? undefined : options.whole);
  const reading: LineReading = {
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    consumed,
    ...(options.maxLineBytesOption === undefined ? {} : { option: options.maxLineBytesOption }),
  };
  if (options.path === '-') {
    refuseDirectoryStdin();
    return {
      name: 'stdin',
      format,
      rereadable: false,
      consumed,
      records: parseRecords('stdin', format, lines(process.stdin, 'stdin', reading), fields, reading),
    };
  }
  let info: Stats;
  let handle: FileHandle | undefined;
  let pipe: Socket | undefined;
  try {
    info = await stat(options.path);
    if (info.isDirectory()) throw new CliError(`cannot read ${options.path}: it is a directory.`);
    // Opening proves the file is readable now, so the error comes before any output is created.
    if (info.isFIFO()) pipe = await openPipe(options.path);
    else {
      handle = await open(options.path, 'r');
      if (info.isFile()) {
        await handle.close();
        handle = undefined;
      }
    }
  } catch (error) {
    await handle?.close().catch(() => {});
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${options.path}: ${describeFileError(error)}.`);
  }
  if (handle !== undefined || pipe !== undefined) {
    // A pipe (`<(zcat docs.gz)`, a FIFO) or a device: stat says 0 bytes whatever it holds, and its
    // bytes can be read only once, so the file opened here is the one read (closing it and opening
    // again could lose what the writer sent in between).
    const stream = pipe ?? handle!.createReadStream({ highWaterMark: 256 * 1024 });
    return {
      name: options.path,
      format,
      rereadable: false,
      consumed,
      records: parseRecords(options.path, format, lines(stream, options.path, reading), fields, reading),
    };
  }
  if (info.size === 0) throw new CliError(`${options.path}: the file is empty; there is nothing to embed.`);
  // Read a block at a time when blocks are compared: each is compared before any line in it is handed on.
  const stream = createReadStream(options.path, {
    highWaterMark: whole === undefined ? 256 * 1024 : BLOCK_BYTES,
  });
  reading.file = true;
  // Only a regular file is read twice; stdin or a pipe, read once, has nothing to compare its hash with.
  if (whole !== undefined) reading.whole = whole;
  return {
    name: options.path,
    format,
    rereadable: true,
    size: info.size,
    mtimeMs: info.mtimeMs,
    consumed,
    ...(whole === undefined ? {} : { whole }),
    records: parseRecords(options.path, format, lines(stream, options.path, reading), fields, reading),
  };
}

interface Line {
  number: number;
  text: string;
  /** Byte offset in the source where the line's text ends (before its line break). */
  end: number;
  /** The line ended with CRLF rather than LF (a quoted CSV field keeps the CR of a line break it holds). */
  crlf?: boolean;
}

export interface LineReading {
  maxLineBytes: number;
  /** The option that raises the cap, for the message. */
  option?: string;
  /** Told every chunk read, in order. */
  consumed: ConsumedInputHash;
  /** Told every chunk read too, when every byte read is hashed. */
  whole?: WholeInputHash;
  /** The input is a regular file (a command can convert it in place of it); not stdin or a pipe. */
  file?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function isByteOrderMark(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** The byte offset of the first byte of `bytes` that does not begin a valid UTF-8 sequence there. */
function firstInvalidByte(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    // The sequence length a lead byte announces, and the range its second byte must fall in
    // (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead < 0x80) length = 1;
    else if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return index;
    for (let next = 1; next < length; next++) {
      const byte = bytes[index + next];
      const min = next === 1 ? low : 0x80;
      const max = next === 1 ? high : 0xbf;
      if (byte === undefined || byte < min || byte > max) return index;
    }
    index += length;
  }
  return index;
}

/**
 * The message for a line that is not valid UTF-8: the byte at fault and its column (in characters),
 * and how to convert the file. Texts are sent byte for byte, so no byte is ever replaced.
 */
function invalidUtf8(source: string, file: boolean, bytes: Uint8Array): string {
  const at = firstInvalidByte(bytes);
  const column = [...new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, at))].length + 1;
  const byte = bytes[at] ?? 0;
  // The converted copy keeps the extension, which says how its lines are read.
  const extension = extname(source);
  const converted = `${source.slice(0, source.length - extension.length)}.utf8${extension}`;
  const convert = file
    ? `iconv -f latin1 -t utf-8 ${shellWord(source)} > ${shellWord(converted)}`
    : 'pipe it through iconv -f latin1 -t utf-8';
  return `the byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at column ${column} is not valid UTF-8; texts are sent byte for byte, so none is replaced. Convert the input to UTF-8 first, e.g. (for Latin-1) ${convert}.`;
}

/** `word` as one word of a POSIX shell command: as it is when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Splits a byte stream into lines (LF or CRLF; a UTF-8 byte-order mark at the start of the stream is
 * dropped, a U+FEFF at the start of any later line is kept; a line that is not valid UTF-8 is a
 * `file:line` error naming the byte). Pulls the stream
 * one chunk at a time. A line that spans chunks is kept as a list of pieces and joined once when its
 * end arrives, so reading is linear in the line's length; a line longer than `maxLineBytes` is an
 * error before it is held whole, so memory stays bounded whatever the file.
 */
export async function* lines(
  stream: AsyncIterable<Buffer | string>,
  source: string,
  reading: LineReading,
): AsyncGenerator<Line> {
  const { maxLineBytes } = reading;
  // Fatal: a byte that is not UTF-8 is an error, never a silent U+FFFD. `ignoreBOM`: a U+FEFF that
  // starts a line is text and is kept; only the file's own mark is dropped, below.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const decode = (bytes: Buffer): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      throw new InputError(source, number, invalidUtf8(source, reading.file === true, bytes));
    }
  };
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  /** Offset in the source of the current chunk's first byte. */
  let offset = 0;
  let number = 0;
  const tooLong = () =>
    new InputError(
      source,
      number + 1,
      reading.option === undefined
        ? `the line is longer than ${maxLineBytes} bytes, the most one input may have.`
        : `the line is longer than ${reading.option} (${maxLineBytes} bytes); pass a larger ${reading.option} if it is meant to be one input.`,
    );
  const line = (last: Buffer, lineEnd: number): Line => {
    let bytes = pieces.length === 0 ? last : Buffer.concat([...pieces, last], pieceBytes + last.length);
    pieces = [];
    pieceBytes = 0;
    let end = lineEnd;
    const crlf = bytes.length > 0 && bytes[bytes.length - 1] === CR;
    if (crlf) {
      bytes = bytes.subarray(0, bytes.length - 1);
      end--;
    }
    // The file's byte-order mark is no part of its first line, so it does not count against the cap.
    if (number === 0 && isByteOrderMark(bytes)) bytes = bytes.subarray(3);
    if (bytes.length > maxLineBytes) throw tooLong();
    number++;
    const text = decode(bytes);
    return crlf ? { number, text, end, crlf } : { number, text, end };
  };
  for await (const received of stream) {
    const chunk = typeof received === 'string' ? Buffer.from(received) : received;
    reading.consumed.read(chunk);
    reading.whole?.read(chunk);
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      if (newline === -1) break;
      yield line(chunk.subarray(start, newline), offset + newline);
      // Asked for the next line, the reader is done with this one (and read the input it ended, if any).
      reading.consumed.passed(offset + newline);
      start = newline + 1;
    }
    if (start < chunk.length) {
      pieces.push(chunk.subarray(start));
      pieceBytes += chunk.length - start;
      // One byte of slack: the line may end with the CR of a CRLF; three more for the first line, which
      // may start with the byte-order mark.
      if (pieceBytes > maxLineBytes + (number === 0 ? 4 : 1)) throw tooLong();
    }
    offset += chunk.length;
  }
  if (pieceBytes > 0) yield line(Buffer.alloc(0), offset);
}

/**
 * Text of ASCII spaces, tabs, CRs and LFs only (a line holds no LF; a field may), or of nothing: no
 * input. Any other character is text and is sent, a U+FEFF or a no-break space included, which
 * `String.trim` would take for white space and drop unsaid.
 */
export function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/** `record`, told to the input's hash as it is read (see {@link ConsumedInputHash}). */
function read(reading: LineReading, record: InputRecord): InputRecord {
  reading.consumed.inputRead(record.end);
  return record;
}

async function* parseRecords(
  source: string,
  format: InputFormat,
  input: AsyncGenerator<Line>,
  fields: RecordFields,
  reading: LineReading,
): AsyncGenerator<InputRecord> {
  const { field } = fields;
  if (format === 'txt') {
    for await (const line of input) {
      // A blank line is no input: embedding APIs reject empty strings.
      if (isBlank(line.text)) continue;
      yield read(reading, { line: line.number, text: line.text, id: line.number, end: line.end });
    }
    return;
  }
  if (format === 'jsonl') {
    for await (const line of input) {
      if (isBlank(line.text)) continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        throw new InputError(source, line.number, `not valid JSON (${(error as Error).message}).`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InputError(
          source,
          line.number,
          `expected a JSON object with a "${field}" field, got ${Array.isArray(value) ? 'an array' : excerpt(JSON.stringify(value))}.`,
        );
      }
      yield read(
        reading,
        fromObject(source, line.number, value as Record<string, unknown>, fields, line.end),
      );
    }
    return;
  }
  yield* parseCsv(source, input, fields, reading);
}

/**
 * `json` as a message shows it: whole when short, else its first 40 characters and an ellipsis. A line
 * may hold 64 MiB; the message names it, and its start says what it is.
 */
function excerpt(json: string): string {
  if (json.length <= 40) return json;
  // A cut between the two halves of a surrogate pair would leave half a character.
  return `${json.slice(0, 40).replace(/[\ud800-\udbff]$/, '')}…`;
}

function fromObject(
  source: string,
  line: number,
  record: Record<string, unknown>,
  fields: RecordFields,
  end: number,
): InputRecord {
  const { field, idField } = fields;
  if (!Object.hasOwn(record, field)) {
    throw new InputError(
      source,
      line,
      `no "${field}" field (fields: ${Object.keys(record).join(', ') || 'none'}); choose one with --field.`,
    );
  }
  const text = record[field];
  if (typeof text !== 'string')
    throw new InputError(
      source,
      line,
      // typeof says "object" of an array too: a list of chunks is named as what it is.
      `the "${field}" field is ${text === null ? 'null' : Array.isArray(text) ? 'an array' : typeof text}, not a string.`,
    );
  if (isBlank(text))
    throw new InputError(source, line, `the "${field}" field is empty; embedding APIs reject empty inputs.`);
  // Kept as entries, then made an object in one go: a field named "__proto__" stays a field, where an
  // assignment would set the object's prototype and drop it.
  const metadata: [string, unknown][] = [];
  let id: unknown = line;
  for (const [key, value] of Object.entries(record)) {
    if (key === field) continue;
    if (key === idField) id = checkedId(source, line, idField, value, fields.idFieldRequired);
    else metadata.push([key, value]);
  }
  if (fields.idFieldRequired && !Object.hasOwn(record, idField)) {
    // A field named on the command line and absent is most likely a typo: line numbers in its place
    // would pass unnoticed.
    throw new InputError(
      source,
      line,
      `no "${idField}" field, which --id-field names (fields: ${Object.keys(record).join(', ') || 'none'}); every record needs one. Without --id-field, a record with no "id" field is identified by its line number.`,
    );
  }
  return { line, text, id, metadata: Object.fromEntries(metadata), end };
}

/**
 * An id as read, or a `file:line` error: a null id says nothing (line numbers in its place could match
 * another record's id), and an integer JSON cannot hold exactly (past 2^53) would silently become
 * another number, merging distinct ids.
 */
function checkedId(source: string, line: number, idField: string, id: unknown, required: boolean): unknown {
  if (id === null) {
    throw new InputError(
      source,
      line,
      `the "${idField}" field is null; give the record an id${required ? '' : `, or remove the field to use the line number`}.`,
    );
  }
  // JSON reads an integer past the largest double (1e400) as Infinity, which would be written as null.
  if (typeof id === 'number' && !Number.isSafeInteger(id) && (Number.isInteger(id) || !Number.isFinite(id))) {
    throw new InputError(
      source,
      line,
      `the "${idField}" field is an integer too large to keep exactly (past ${Number.MAX_SAFE_INTEGER}, it reads as ${String(id)}); quote it as a string ("${idField}":"<digits>"), or its last digits are lost and distinct ids merge.`,
    );
  }
  return id;
}

/**
 * RFC 4180 CSV: a header row names the columns; fields may be quoted, with `""` for a quote, and a
 * quoted field may span lines (the record's line is where it starts). A line break inside quotes is
 * part of the field's text as it is in the file, CRLF or LF: texts are sent byte for byte.
 */
async function* parseCsv(
  source: string,
  input: AsyncGenerator<Line>,
  recordFields: RecordFields,
  reading: LineReading,
): AsyncGenerator<InputRecord> {
  const { field } = recordFields;
  let header: string[] | undefined;
  let fields: string[] = [];
  let current = '';
  let quoted = false;
  let startLine = 0;
  let quoteLine = 0;
  /** The line break that ended the previous line: inside quotes it belongs to the field. */
  let lineBreak = '\n';
  let records = 0;
  for await (const line of input) {
    if (!quoted) {
      if (isBlank(line.text)) continue;
      fields = [];
      current = '';
      startLine = line.number;
    } else {
      current += lineBreak;
    }
    lineBreak = line.crlf === true ? '\r\n' : '\n';
    const text = line.text;
    let index = 0;
    let fieldStart = !quoted && current === '';
    while (index < text.length) {
      const char = text[index]!;
      if (quoted) {
        if (char === '"') {
          if (text[index + 1] === '"') {
            current += '"';
            index += 2;
            continue;
          }
          quoted = false;
          index++;
          if (index < text.length && text[index] !== ',') {
            throw new InputError(
              source,
              line.number,
              `a quoted CSV field must be followed by a comma or the end of the line.`,
            );
          }
          continue;
        }
        current += char;
        index++;
        continue;
      }
      if (char === '"' && fieldStart) {
        quoted = true;
        quoteLine = line.number;
        fieldStart = false;
        index++;
        continue;
      }
      if (char === ',') {
        fields.push(current);
        current = '';
        fieldStart = true;
        index++;
        continue;
      }
      current += char;
      fieldStart = false;
      index++;
    }
    if (quoted) {
      // A quote never closed would otherwise gather the rest of the file into one field.
      if (current.length > reading.maxLineBytes) {
        throw new InputError(
          source,
          quoteLine,
          `the quoted CSV field is longer than ${reading.option ?? 'the line cap'} (${reading.maxLineBytes}); is its closing quote missing?`,
        );
      }
      continue;
    }
    fields.push(current);
    current = '';
    if (header === undefined) {
      header = fields.map((name) => name.trim());
      // A record holds one value a name: of two columns with one name, the first's values would be lost.
      const repeated = header.find((name, column) => header!.indexOf(name) !== column);
      if (repeated !== undefined) {
        throw new InputError(
          source,
          startLine,
          `the CSV header names the column "${repeated}" more than once (columns: ${header.join(', ')}); give each column a name of its own.`,
        );
      }
      if (!header.includes(field)) {
        throw new InputError(
          source,
          startLine,
          `the CSV header has no "${field}" column (columns: ${header.join(', ')}); choose one with --field.`,
        );
      }
      continue;
    }
    if (fields.length !== header.length) {
      throw new InputError(
        source,
        startLine,
        `expected ${header.length} CSV fields (${header.join(', ')}), found ${fields.length}.`,
      );
    }
    // From entries, as for metadata: a column named "__proto__" is kept as a field.
    const record: Record<string, unknown> = Object.fromEntries(
      header.map((name, column) => [name, fields[column]!]),
    );
    records++;
    yield read(reading, fromObject(source, startLine, record, recordFields, line.end));
  }
  if (quoted) throw new InputError(source, quoteLine, 'a quoted CSV field is never closed.');
  if (header === undefined) throw new CliError(`${source}: no CSV header row; there is nothing to embed.`);
  // Said here, where the header is known: "every line is blank" would not be true of it.
  if (records === 0)
    throw new CliError(`${source}: the CSV header row is followed by no records; there is nothing to embed.`);
}
