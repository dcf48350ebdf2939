import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { CliError, InputError } from './errors.js';

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
  /** Bytes of the source read when this input was parsed (for progress and ETA). */
  bytesRead: number;
}

export interface InputOptions {
  /** A path, or `-` for stdin. */
  path: string;
  format?: InputFormat;
  /** JSONL / CSV: the field holding the text. Default `text`. */
  field?: string;
  /** JSONL / CSV: the field holding the id. Default `id` (used when present). */
  idField?: string;
}

/** An opened source: its name for messages, its size when known, and its inputs in order. */
export interface InputSource {
  name: string;
  format: InputFormat;
  /** Bytes, for a regular file. */
  size?: number;
  records: AsyncGenerator<InputRecord>;
}

export function formatOf(path: string, given: InputFormat | undefined): InputFormat {
  if (given !== undefined) return given;
  if (path === '-') return 'txt';
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  if (extension === '.csv') return 'csv';
  return 'txt';
}

/**
 * Opens the input: a missing, unreadable or empty file is refused here, before any request, with a
 * message naming the path.
 */
export async function openInput(options: InputOptions): Promise<InputSource> {
  const format = formatOf(options.path, options.format);
  const field = options.field ?? 'text';
  const idField = options.idField ?? 'id';
  if (options.path === '-') {
    const stream = process.stdin;
    return {
      name: 'stdin',
      format,
      records: parseRecords(
        'stdin',
        format,
        lines(stream, () => 0),
        field,
        idField,
      ),
    };
  }
  let size: number;
  try {
    const info = await stat(options.path);
    if (info.isDirectory()) throw new CliError(`cannot read ${options.path}: it is a directory.`);
    size = info.size;
    // Opening proves the file is readable now, so the error comes before any output is created.
    const handle = await open(options.path, 'r');
    await handle.close();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${options.path}: ${describeFsError(error)}`);
  }
  if (size === 0) throw new CliError(`${options.path}: the file is empty; there is nothing to embed.`);
  const stream = createReadStream(options.path, { highWaterMark: 256 * 1024 });
  return {
    name: options.path,
    format,
    size,
    records: parseRecords(
      options.path,
      format,
      lines(stream, () => (stream as ReadStream).bytesRead),
      field,
      idField,
    ),
  };
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file.';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied.';
  return (error as Error).message ?? String(error);
}

interface Line {
  number: number;
  text: string;
  bytesRead: number;
}

/**
 * Splits a byte stream into lines (LF or CRLF; a UTF-8 byte-order mark is dropped). Pulls the stream
 * one chunk at a time, so memory holds one chunk and one partial line whatever the file size.
 */
async function* lines(stream: NodeJS.ReadableStream, bytesRead: () => number): AsyncGenerator<Line> {
  let carry: Buffer | undefined;
  let number = 0;
  let first = true;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (carry !== undefined) {
      buffer = Buffer.concat([carry, buffer]);
      carry = undefined;
    }
    let start = 0;
    if (first && buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf)
      start = 3;
    first = false;
    for (;;) {
      const end = buffer.indexOf(0x0a, start);
      if (end === -1) break;
      const stop = end > start && buffer[end - 1] === 0x0d ? end - 1 : end;
      number++;
      yield { number, text: decoder.decode(buffer.subarray(start, stop)), bytesRead: bytesRead() };
      start = end + 1;
    }
    // Copy the tail so the chunk itself is not kept alive by a view.
    if (start < buffer.length) carry = Buffer.from(buffer.subarray(start));
  }
  if (carry !== undefined && carry.length > 0) {
    const stop = carry[carry.length - 1] === 0x0d ? carry.length - 1 : carry.length;
    number++;
    yield { number, text: decoder.decode(carry.subarray(0, stop)), bytesRead: bytesRead() };
  }
}

async function* parseRecords(
  source: string,
  format: InputFormat,
  input: AsyncGenerator<Line>,
  field: string,
  idField: string,
): AsyncGenerator<InputRecord> {
  if (format === 'txt') {
    for await (const line of input) {
      // A blank line is no input: embedding APIs reject empty strings.
      if (line.text.trim() === '') continue;
      yield { line: line.number, text: line.text, id: line.number, bytesRead: line.bytesRead };
    }
    return;
  }
  if (format === 'jsonl') {
    for await (const line of input) {
      if (line.text.trim() === '') continue;
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
          `expected a JSON object with a "${field}" field, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}.`,
        );
      }
      yield fromObject(source, line.number, value as Record<string, unknown>, field, idField, line.bytesRead);
    }
    return;
  }
  yield* parseCsv(source, input, field, idField);
}

function fromObject(
  source: string,
  line: number,
  record: Record<string, unknown>,
  field: string,
  idField: string,
  bytesRead: number,
): InputRecord {
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
      `the "${field}" field is ${text === null ? 'null' : typeof text}, not a string.`,
    );
  if (text.trim() === '')
    throw new InputError(source, line, `the "${field}" field is empty; embedding APIs reject empty inputs.`);
  const metadata: Record<string, unknown> = {};
  let id: unknown = line;
  for (const [key, value] of Object.entries(record)) {
    if (key === field) continue;
    if (key === idField) id = value;
    else metadata[key] = value;
  }
  return { line, text, id, metadata, bytesRead };
}

/**
 * RFC 4180 CSV: a header row names the columns; fields may be quoted, with `""` for a quote, and a
 * quoted field may span lines (the record's line is where it starts).
 */
async function* parseCsv(
  source: string,
  input: AsyncGenerator<Line>,
  field: string,
  idField: string,
): AsyncGenerator<InputRecord> {
  let header: string[] | undefined;
  let fields: string[] = [];
  let current = '';
  let quoted = false;
  let startLine = 0;
  let quoteLine = 0;
  for await (const line of input) {
    if (!quoted) {
      if (line.text.trim() === '') continue;
      fields = [];
      current = '';
      startLine = line.number;
    } else {
      current += '\n';
    }
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
    if (quoted) continue;
    fields.push(current);
    current = '';
    if (header === undefined) {
      header = fields.map((name) => name.trim());
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
    const record: Record<string, unknown> = {};
    for (let column = 0; column < header.length; column++) record[header[column]!] = fields[column]!;
    yield fromObject(source, startLine, record, field, idField, line.bytesRead);
  }
  if (quoted) throw new InputError(source, quoteLine, 'a quoted CSV field is never closed.');
  if (header === undefined) throw new CliError(`${source}: no CSV header row; there is nothing to embed.`);
}
