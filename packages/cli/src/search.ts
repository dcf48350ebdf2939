import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type EmbeddingModel,
  embedMany,
  embedStream,
  INPUT_TYPES,
  type InputType,
  MAX_CONCURRENCY,
  norm,
  topK,
} from '@embedkit/core';
import {
  HELP_OPTION,
  integerOption,
  isProviderName,
  MODEL_OPTIONS,
  parse,
  splitModelId,
  stringOption,
} from './args.js';
import {
  engineSettings,
  fullModelId,
  type ModelChoice,
  openChoice,
  publicBaseURL,
  readModelChoice,
  sentInputType,
  serverKey,
  shownBaseURL,
} from './common.js';
import { CliError, EXIT, InputChangedError, InputError, UsageError } from './errors.js';
import { describeFileError, fsyncDirectory, unwritableKind } from './file-system.js';
import { type ReadBytes, WholeInputHash } from './input-fingerprint.js';
import { INPUT_OPTION_NAMES, INPUT_OPTIONS, inputPathArgument, readInputOptions } from './input-options.js';
import { type InputOptions, type InputRecord, type InputSource, isBlank, openInput } from './inputs.js';
import { Interrupts } from './interrupts.js';
import { lockedFile, lockPath, OutputLock, refuseOwnFilesTaken } from './output-lock.js';
import { inputCount } from './progress.js';
import { describeId, RepeatedIds } from './repeated-ids.js';
import { refuseOutputOverInput } from './same-file.js';

export const INDEX_HELP = `Usage: embedkit index <input> --model <provider:model> --out <index.ekx> [options]

Embeds every input of a file (.txt, .jsonl, .ndjson or .csv, as for bulk; - for stdin) into a search index:
the vectors, the texts, and the model, dimensions, input type and API root (--base-url, without
credentials; never the key) they were made with, so that queries are embedded into the same vector space. Documents use
the "document" input type when the model has one. Ids must be unique: two records with one id are
refused (exit 2), naming both lines, before anything is sent. A file is read twice, to check it and to
embed it: one changed in between or while it is embedded (lines appended included, as they were never
checked) is refused (exit 1), and no index is written. An --out that is the input is refused;
one that exists needs --overwrite. A lock file (<file>.lock) keeps a second run off the same --out
(exit 75); a directory or a loop of symbolic links in its place is refused up front (exit 2).
Ctrl-C (exit 130) or SIGTERM (exit 143) stops the run, removes its temporary files and its lock, and
leaves --out as it was.

Options:
  -o, --out <file>     the index file to write (e.g. docs.ekx)
  --overwrite          replace the file at --out if there is one
  -m, --model <p:m>    provider:model, e.g. openai:text-embedding-3-small
  --dimensions <n>     vector length (models that allow a choice)
  --input-type <t>     the documents' input type (default: document, when the model supports it)
  ${INPUT_OPTION_NAMES}   how to read the input, as for bulk
  --concurrency <n>    calls in flight (default 4)
  --batch-size <n>     inputs per call (default: the model's limit)
  --max-retries <n>, --timeout <seconds>, --base-url <url>, --api-key-env <var>, --replay <dir>
  --cache <dir>, --no-cache   the vector cache on disk, as for embed
  -q, --quiet          no summary when the index is written

Example:
  embedkit index docs.jsonl --model openai:text-embedding-3-small --dimensions 512 --out docs.ekx
`;

export const SEARCH_HELP = `Usage: embedkit search <index.ekx> <query> [--top 5] [options]

Embeds the query with the index's model, dimensions and query input type, and prints the most
similar documents (brute-force cosine similarity), best first: rank, score, id and text.
A --model or --dimensions other than the index's is refused (exit 2): vectors of different models or
lengths are not comparable. The query goes where this run's own settings send it (--base-url, else
EMBEDKIT_BASE_URL, else the provider's variable such as OPENAI_BASE_URL, else its public host), never
to a server named in the index file: an index built through another API root is refused (exit 2)
with that root named; pass --base-url <that root> if you trust it with your key.

Options:
  -k, --top <n>        how many results (default 5)
  --json               print the results as a JSON array
  -m, --model <p:m>    must equal the index's model (optional)
  --dimensions <n>     must equal the index's (optional)
  --input-type <t>     the query's input type (default: the one stored in the index)
  --max-retries <n>, --timeout <seconds>, --base-url <url>, --api-key-env <var>, --replay <dir>
  --cache <dir>, --no-cache   the vector cache on disk, as for embed

Example:
  embedkit search docs.ekx "how do I rotate my API key?" --top 3
`;

/** First 8 bytes of an index file. */
const MAGIC = Buffer.from('EKINDEX1', 'latin1');

/** The JSON header of an index file: everything a query needs to land in the same vector space. */
export interface IndexHeader {
  format: 'embedkit-index';
  version: 1;
  provider: string;
  model: string;
  /** Length of every vector. */
  dimensions: number;
  /** The `dimensions` option the documents were embedded with (null: the model's default). */
  requestedDimensions: number | null;
  /** The documents' input type. */
  inputType: InputType | null;
  /** The input type queries are embedded with. */
  queryInputType: InputType | null;
  count: number;
  normalized: boolean;
  source: string;
  createdAt: string;
  /**
   * The API root the documents were embedded through (`--base-url`, `EMBEDKIT_BASE_URL` or the provider's
   * variable), without credentials; null for the provider's public host. Never the key. Absent in indexes
   * made before it was stored.
   */
  baseURL?: string | null;
}

/**
 * Layout: `EKINDEX1`, a little-endian uint32 header length, the JSON header, zero padding to a 16-byte
 * boundary, `count × dimensions` little-endian float32 values, then one JSON line per document
 * (`{"id", "line", "text", "metadata"}`) in the same order.
 */
function vectorsOffset(headerLength: number): number {
  return Math.ceil((12 + headerLength) / 16) * 16;
}

function queryTypeFor(inputType: InputType | null): InputType | null {
  if (inputType === 'document') return 'query';
  if (inputType === 'code-document') return 'code-query';
  return inputType;
}

const INDEX_OPTIONS = {
  ...HELP_OPTION,
  ...MODEL_OPTIONS,
  out: { type: 'string', short: 'o' },
  ...INPUT_OPTIONS,
  concurrency: { type: 'string' },
  'batch-size': { type: 'string' },
  overwrite: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/**
 * A file write stream whose first error is kept instead of crashing the process (an 'error' event with no
 * listener throws): `write` and `end` report it, and destroying the stream after a failure is quiet.
 */
function openWrite(path: string): WriteStream & { failure?: Error } {
  // Created exclusively: a temporary name is this run's own, never a file (or a link) already there.
  const stream: WriteStream & { failure?: Error } = createWriteStream(path, { flags: 'wx' });
  stream.on('error', (error) => {
    stream.failure ??= error;
  });
  return stream;
}

async function write(stream: WriteStream & { failure?: Error }, data: string | Buffer): Promise<void> {
  if (stream.failure !== undefined) throw stream.failure;
  if (!stream.write(data)) await once(stream, 'drain');
}

async function end(stream: WriteStream & { failure?: Error }): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    if (stream.failure !== undefined) {
      reject(stream.failure);
      return;
    }
    stream.once('error', reject);
    stream.end(() => resolvePromise());
  });
}

export async function indexCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('index', argv, INDEX_OPTIONS);
  if (values.help) {
    process.stdout.write(INDEX_HELP);
    return EXIT.ok;
  }
  const inputPath = inputPathArgument('index', positionals);
  const out = stringOption(values, 'out');
  if (out === undefined) throw new UsageError('--out is required, e.g. --out docs.ekx.', 'index');
  // An index is written whole or not at all: nothing is resumed, so no fingerprint of the input is kept.
  // A file is read twice (checked, then embedded): a hash of every byte read proves both read the same.
  const inputOptions: InputOptions = {
    path: inputPath,
    ...readInputOptions('index', values, inputPath),
    fingerprint: false,
    whole: true,
  };
  const choice = readModelChoice('index', values);
  const concurrency = integerOption('index', values, 'concurrency', 1, MAX_CONCURRENCY);
  const batchSize = integerOption('index', values, 'batch-size', 1);
  // The same refusal as bulk's, before anything is opened: an index written over its own input.
  refuseOutputOverInput('index', inputPath, out, [out, lockPath(out)]);
  // The index is renamed onto --out once every input is paid for: a directory there would refuse it then,
  // and so would one a symbolic link at --out names (the index is written through the link).
  const kind = unwritableKind(out);
  if (kind === 'a directory') {
    throw new UsageError(
      `${out} is a directory; --out names the index file to write, e.g. --out ${join(out, 'index.ekx')}.`,
      'index',
    );
  }
  // A loop of symbolic links names no file to write through: the rename replaced the link itself, with
  // no --overwrite (a loop does not "exist"), once every input was paid for. bulk refuses it too.
  if (kind === 'a loop of symbolic links') {
    throw new UsageError(
      `${out} is a loop of symbolic links, which names no file to write the index to; remove the link, or choose another --out.`,
      'index',
    );
  }
  // The lock beside the output is a file of index's own, as it is of bulk's.
  refuseOwnFilesTaken('index', [lockPath(lockedFile(out))]);
  const opened = await openChoice(choice, {
    outputType: 'float',
    ...(batchSize === undefined ? {} : { batchSize }),
  });
  let lock: OutputLock | undefined;
  // Ctrl-C or SIGTERM: the first stops the run (temporary files removed, lock released, --out as it
  // was); a second exits at once (a later run removes the temporary files that leaves).
  const interrupts = new Interrupts();
  let count: number;
  let dimensions: number;
  try {
    ({ count, dimensions } = await interrupts.during(async () => {
      // A missing, unreadable or empty input is refused here, before the lock exists.
      let source = await openInput(inputOptions);
      // One run per output, with bulk's lock: a second run is refused (exit 75) while this one writes.
      lock = await OutputLock.acquire(out, (message) => process.stderr.write(`embedkit: ${message}\n`));
      if (values.overwrite !== true && existsSync(out)) {
        throw new CliError(`${out} already exists; pass --overwrite to replace it, or choose another --out.`);
      }
      // A symbolic link at --out is written through, as bulk writes it: the new index replaces the file
      // the link names (beside which the lock is), and the link stays. Renamed onto the link itself, it
      // left the file the link named as it was, and every other name of it with the earlier index.
      const target = lockedFile(out);
      await removeStaleTemporaries(target);
      let checked: CheckedInput | undefined;
      if (source.rereadable) {
        // A file is read once before anything is sent: a bad line or a repeated id costs no request.
        // Stdin and pipes can be read only once: their ids are checked as they come.
        checked = await checkInputFirst(source, inputOptions, interrupts.signal);
        // A file changed since is refused here, before anything is sent.
        source = await reopenChecked(inputOptions, checked);
      }
      return await buildIndex({
        out: target,
        source,
        ...(checked === undefined ? {} : { checked }),
        choice,
        opened,
        lock,
        concurrency,
        batchSize,
        signal: interrupts.signal,
      });
    }));
  } catch (error) {
    if (error instanceof InputChangedError)
      throw new CliError(
        `${error.message}\nNo index was written; run again once nothing writes to ${inputPath}.`,
      );
    if (!interrupts.signal.aborted) throw error;
    process.stderr.write(
      `embedkit: interrupted; no index was written${existsSync(out) ? ` (${out} is as it was)` : ''}.\n`,
    );
    return interrupts.exitCode;
  } finally {
    await lock?.release();
    await opened.close();
  }
  if (!values.quiet) {
    process.stderr.write(
      `embedkit: indexed ${inputCount(count)} (${dimensions} dimensions, ${fullModelId(choice)}) into ${out}\n`,
    );
  }
  return EXIT.ok;
}

/** Two records of an index with one id: search would answer with both under one name (exit 2). */
function repeatedIdError(source: string, repeated: { id: unknown; firstLine: number; line: number }) {
  return new CliError(
    `${source}:${repeated.line}: the id ${describeId(repeated.id)} is already the id of line ${repeated.firstLine}; ids in an index must be unique, or search answers with two documents under one id. Give each record its own id, or choose another field with --id-field.\nNo index was written.`,
    EXIT.usage,
  );
}

/**
 * What finds a repeated id in `source`, if one can come. A record of a .txt file has its line number as
 * id, and lines never repeat: its ids are not kept (a kept id costs 10 to 38 bytes, so 10 million lines
 * cost a hundred megabytes or more). With `options`, a file is read again to name the earlier line of a
 * repeat, so only its ids' fingerprints are kept; stdin's lines are kept with them.
 */
function repeatedIdsOf(
  source: Awaited<ReturnType<typeof openInput>>,
  options?: InputOptions,
  signal?: AbortSignal,
): RepeatedIds | undefined {
  if (source.format === 'txt') return undefined;
  if (source.rereadable && options !== undefined)
    return new RepeatedIds({
      name: source.name,
      reread: async () => (await openInput(options)).records,
      ...(signal === undefined ? {} : { signal }),
    });
  return new RepeatedIds({ name: source.name });
}

/** What the check of an input file read: every byte of it (a digest a block, and of the whole), and the file's time then. */
interface CheckedInput {
  read: ReadBytes;
  mtimeMs: number | undefined;
}

/**
 * Reads a whole input file once, refusing a bad line or a repeated id before anything is sent; returns
 * what it read, which the reading that embeds the file must read again.
 */
async function checkInputFirst(
  source: Awaited<ReturnType<typeof openInput>>,
  options: InputOptions,
  signal: AbortSignal,
): Promise<CheckedInput> {
  const ids = repeatedIdsOf(source, options, signal);
  try {
    for await (const record of source.records) {
      signal.throwIfAborted();
      const repeated = await ids?.add(record);
      if (repeated !== undefined) throw repeatedIdError(source.name, repeated);
    }
    const repeated = await ids?.end();
    if (repeated !== undefined) throw repeatedIdError(source.name, repeated);
  } catch (error) {
    if (error instanceof InputError) throw new CliError(`${error.message}\nNo index was written.`);
    throw error;
  }
  return { read: source.whole!.readBytes(), mtimeMs: source.mtimeMs };
}

/** The error for an input file read to embed it that is not the one checked: `what` says how. */
function changedSinceChecked(name: string, what: string): InputChangedError {
  return new InputChangedError(
    `${name} changed after it was checked: ${what}; the index would hold records no check has seen.`,
  );
}

/**
 * Opens a checked file again to embed it, refusing before anything is sent one that is not the file checked:
 * no regular file now, another size (lines appended since were never checked, and a file still growing is
 * not finished), or other bytes under a new modification time. A time changed over the same bytes (`touch`,
 * an editor saving what it had) is no change: the file is read once more to tell. Looked at before it is
 * opened, so an emptied file is said to have changed, not to be empty. The reading that embeds it is held
 * to the checked bytes too: each block of the file is compared as it is read, before any line in it is
 * sent, so an edit that kept the size and time stops the run where it is, not after every call.
 */
async function reopenChecked(options: InputOptions, checked: CheckedInput): Promise<InputSource> {
  const name = options.path;
  // A file that is gone or unreadable now is said so by openInput, as for any input.
  const info = await stat(name).catch(() => undefined);
  if (info !== undefined) {
    if (!info.isFile())
      throw changedSinceChecked(name, 'it is no regular file now, and was one when its records were checked');
    if (info.size !== checked.read.bytes)
      throw changedSinceChecked(
        name,
        `it is ${info.size} bytes long now, and was ${checked.read.bytes} when its records were checked`,
      );
    if (info.mtimeMs !== checked.mtimeMs && !(await holdsCheckedBytes(name, checked)))
      throw changedSinceChecked(
        name,
        `it was modified at ${new Date(info.mtimeMs).toISOString()}, after its records were checked`,
      );
  }
  return openInput({
    ...options,
    whole: {
      read: checked.read,
      changed: (what) =>
        changedSinceChecked(name, `the bytes read to embed it are not the ones checked (${what})`),
    },
  });
}

/** Whether the file at `path` holds the bytes `checked` read, as a whole-file SHA-256 says. */
async function holdsCheckedBytes(path: string, checked: CheckedInput): Promise<boolean> {
  const read = new WholeInputHash();
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }))
      read.read(chunk as Buffer);
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${describeFileError(error)}.`);
  }
  return read.bytes === checked.read.bytes && read.digest() === checked.read.sha256;
}

/** This run's temporary files beside `out`: names no other run uses. */
function temporaryNames(out: string): { vectors: string; docs: string; index: string } {
  const stem = `${out}.${process.pid}-${randomBytes(6).toString('hex')}`;
  return { vectors: `${stem}.vectors.tmp`, docs: `${stem}.docs.tmp`, index: `${stem}.index.tmp` };
}

/**
 * Deletes temporary files a killed index run left beside `out`. Only the run holding the output's lock
 * writes them, and that is this one, so every such file is garbage.
 */
async function removeStaleTemporaries(out: string): Promise<void> {
  const directory = dirname(out);
  const prefix = `${basename(out)}.`;
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const name of names) {
    if (
      !name.startsWith(prefix) ||
      !/^\d+-[0-9a-f]+\.(vectors|docs|index)\.tmp$/.test(name.slice(prefix.length))
    )
      continue;
    await rm(join(directory, name), { force: true });
  }
}

/** Embeds the source into temporary files, then assembles the index at `out`. */
async function buildIndex(job: {
  out: string;
  source: Awaited<ReturnType<typeof openInput>>;
  /** What the check of a file read: this reading must read the same bytes, or no index is written. */
  checked?: CheckedInput;
  choice: ModelChoice;
  opened: Awaited<ReturnType<typeof openChoice>>;
  lock: OutputLock;
  concurrency: number | undefined;
  batchSize: number | undefined;
  /** Aborted by Ctrl-C or SIGTERM: the calls stop, and no index is written. */
  signal: AbortSignal;
}): Promise<{ count: number; dimensions: number }> {
  const { out, source, checked, choice, opened, concurrency, batchSize, signal } = job;
  const { model } = opened;
  const inputType: InputType | null =
    choice.inputType ?? (model.capabilities.inputTypes.includes('document') ? 'document' : null);
  // The engine sends an input type the model lacks as none (with a warning): the header says what the
  // documents were embedded with, or every search would ask for a query type the model lacks too.
  const appliedType = sentInputType(model, inputType ?? undefined) ?? null;
  const names = temporaryNames(out);
  const vectors = openWrite(names.vectors);
  const docs = openWrite(names.docs);
  const queue: InputRecord[] = [];
  let head = 0;
  // Stdin or a pipe is read once: its ids are checked as they come, and a repeated one stops the run.
  const ids = source.rereadable ? undefined : repeatedIdsOf(source);
  async function* texts(): AsyncGenerator<string> {
    for await (const record of source.records) {
      const repeated = await ids?.add(record);
      if (repeated !== undefined) throw repeatedIdError(source.name, repeated);
      queue.push(record);
      yield record.text;
    }
  }
  let count = 0;
  let dimensions: number | undefined;
  try {
    const stream = embedStream({
      ...engineSettings({ ...choice, ...(inputType === null ? {} : { inputType }) }, model, 'float'),
      inputs: texts(),
      signal,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(batchSize === undefined ? {} : { maxInputsPerCall: batchSize }),
    });
    for await (const { embedding } of stream) {
      const record = queue[head]!;
      queue[head++] = undefined as never;
      if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      dimensions ??= embedding.length;
      if (embedding.length !== dimensions)
        throw new CliError(
          `line ${record.line}: a vector of ${embedding.length} values among vectors of ${dimensions}.`,
        );
      await write(vectors, Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength));
      const doc: Record<string, unknown> = { id: record.id, line: record.line, text: record.text };
      if (record.metadata !== undefined && Object.keys(record.metadata).length > 0)
        doc.metadata = record.metadata;
      await write(docs, `${JSON.stringify(doc)}\n`);
      count++;
    }
    // The whole file is read now. Every byte read was compared with the checked ones as it was read (the
    // last block by the whole file's SHA-256): what is left is a file cut short while it was read, whose
    // missing end no comparison reached.
    source.whole?.end();
    await end(vectors);
    await end(docs);
    if (count === 0) throw new CliError(`${source.name}: no inputs (every line is blank).`);
    const header: IndexHeader = {
      format: 'embedkit-index',
      version: 1,
      provider: choice.provider,
      model: choice.modelId,
      dimensions: dimensions!,
      requestedDimensions: choice.dimensions ?? null,
      inputType: appliedType,
      queryInputType: queryTypeFor(appliedType),
      count,
      normalized: model.capabilities.normalized,
      // A pipe's path (/dev/fd/63) names nothing once the command ends: such an input is recorded as stdin is.
      source: source.rereadable ? resolve(source.name) : 'stdin',
      createdAt: new Date().toISOString(),
      baseURL: opened.baseURL === undefined ? null : publicBaseURL(opened.baseURL),
    };
    await assemble(out, header, names, async () => {
      signal.throwIfAborted();
      await job.lock.verify();
    });
    return { count, dimensions: dimensions! };
  } catch (error) {
    vectors.destroy();
    docs.destroy();
    // Every line of a checked file parsed: one that no longer does was changed since.
    if (error instanceof InputError && checked !== undefined)
      throw changedSinceChecked(
        source.name,
        `line ${error.line} no longer reads as it did: ${error.reason.replace(/\.$/, '')}`,
      );
    if (error instanceof InputError) throw new CliError(`${error.message}\nNo index was written.`);
    throw error;
  } finally {
    await rm(names.vectors, { force: true });
    await rm(names.docs, { force: true });
  }
}

/**
 * Writes header, vectors and documents into a temporary file, then renames it over `out` once `guard`
 * confirms this run still holds the output's lock.
 */
async function assemble(
  out: string,
  header: IndexHeader,
  names: { vectors: string; docs: string; index: string },
  guard: () => Promise<void>,
): Promise<void> {
  const json = Buffer.from(JSON.stringify(header));
  const start = Buffer.alloc(vectorsOffset(json.length));
  MAGIC.copy(start, 0);
  start.writeUInt32LE(json.length, 8);
  json.copy(start, 12);
  const temporary = names.index;
  const target = openWrite(temporary);
  try {
    await write(target, start);
    for (const file of [names.vectors, names.docs]) {
      for await (const chunk of createReadStream(file)) await write(target, chunk as Buffer);
    }
    await end(target);
    const handle = await open(temporary, 'r+');
    try {
      // A file replaced (--overwrite) keeps its permissions: an index made private (chmod 600) must not
      // become readable by others because it was rebuilt.
      const replaced = await stat(out).catch(() => undefined);
      if (replaced?.isFile() === true) await handle.chmod(replaced.mode & 0o7777);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await guard();
    await rename(temporary, out);
    await fsyncDirectory(out);
  } catch (error) {
    target.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Reads an index: its header, every vector (one aligned slab), and a way to fetch documents by position.
 * `checkHeader` sees the header once it is known to be one, before the rest of the file is read: what
 * the header alone refutes is refused whatever the state of the vectors and documents.
 */
export async function readIndex(
  path: string,
  checkHeader: (header: IndexHeader) => void = () => {},
): Promise<{
  header: IndexHeader;
  vectors: Float32Array[];
  documents(positions: number[]): Promise<Map<number, Record<string, unknown>>>;
}> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // Looked at before it is opened: a directory opens and fails only when read, in the system's words,
    // and a named pipe cannot be read at positions (its open waits for a writer, maybe forever).
    const info = await stat(path);
    if (info.isDirectory()) throw new CliError(`cannot read ${path}: it is a directory.`);
    if (!info.isFile())
      throw new CliError(
        `cannot read ${path}: it is not a regular file (a pipe or a device), and search reads an index at positions: save it to a file first.`,
      );
    handle = await open(path, 'r');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${path}: ${describeFileError(error)}.`);
  }
  try {
    // Every length the file states is checked against its size before anything is allocated: a damaged
    // or foreign file must be refused in words, never allocate gigabytes or crash the process.
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(12);
    const { bytesRead: prefixRead } = await handle.read(prefix, 0, 12, 0);
    if (prefixRead < MAGIC.length || !prefix.subarray(0, 8).equals(MAGIC))
      throw new CliError(`${path} is not an embedkit index (made by "embedkit index").`);
    const headerLength = prefix.readUInt32LE(8);
    if (prefixRead < 12 || 12 + headerLength > size)
      throw damagedIndex(path, `its header runs past the end of the file (${size} bytes)`);
    const json = Buffer.alloc(headerLength);
    await handle.read(json, 0, headerLength, 12);
    let header: IndexHeader;
    try {
      header = JSON.parse(json.toString('utf8')) as IndexHeader;
    } catch {
      throw damagedIndex(path, 'its header is not valid JSON');
    }
    if (header === null || typeof header !== 'object' || header.format !== 'embedkit-index')
      throw damagedIndex(path, 'its header is not an index header');
    if (header.version !== 1)
      throw new CliError(
        `${path}: unsupported index version ${JSON.stringify(header.version)}; this embedkit reads version 1. Rebuild the index with this version of embedkit, or search it with the version that built it.`,
      );
    for (const field of ['count', 'dimensions'] as const) {
      const value: unknown = header[field];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
        throw damagedIndex(path, `its header's ${field} is ${JSON.stringify(value)}, not a whole number ≥ 1`);
    }
    /** Why the header's `field` is refused, when it is not what `expected` says. */
    const wrongField = (field: keyof IndexHeader, expected: string) => {
      const value: unknown = header[field];
      return damagedIndex(
        path,
        value === undefined
          ? `its header has no ${field}`
          : `its header's ${field} is ${JSON.stringify(value)}, not ${expected}`,
      );
    };
    // The model a query is embedded with, and what --model is compared with: anything but a name read as
    // "undefined" in both. The provider is joined to the model with a colon and split again at the first
    // one, so a provider holding a colon would name another provider and model.
    if (typeof header.provider !== 'string' || !isProviderName(header.provider))
      throw wrongField('provider', 'a name');
    if (typeof header.model !== 'string' || header.model === '') throw wrongField('model', 'a name');
    // No model's id holds white space or a control character: taken as it is, a hand-edited one would be
    // refused by --model's own check, in words about an option the user did not give.
    if (/[\s\p{Cc}]/u.test(header.model))
      throw wrongField('model', 'a model id (one holds no white space or control characters)');
    // The query is embedded with these options as they stand: a hand-edited value of another type (a
    // "256" for the length, a 7 for the input type) would be sent to the API as it is.
    const requested: unknown = header.requestedDimensions;
    if (
      requested !== null &&
      (typeof requested !== 'number' || !Number.isSafeInteger(requested) || requested < 1)
    )
      throw wrongField('requestedDimensions', 'null or a whole number ≥ 1');
    // The documents were asked for at that length, and index writes float vectors, which have the length
    // asked for: another one means the header was changed, and the query would be asked for at a length
    // the documents do not have, after a request paid for.
    if (requested !== null && requested !== header.dimensions)
      throw damagedIndex(
        path,
        `its header's requestedDimensions is ${requested} but its dimensions is ${header.dimensions}, though the vectors have the length asked for`,
      );
    const queryType: unknown = header.queryInputType;
    if (queryType !== null && !(INPUT_TYPES as readonly unknown[]).includes(queryType))
      throw wrongField('queryInputType', `null or one of ${INPUT_TYPES.join(', ')}`);
    checkHeader(header);
    const offset = vectorsOffset(headerLength);
    const vectorBytes = header.count * header.dimensions * 4;
    if (offset + vectorBytes > size)
      throw new CliError(
        `${path} is truncated: expected ${header.count} vectors of ${header.dimensions} values (${vectorBytes} bytes from byte ${offset}), but the file is ${size} bytes long. Rebuild the index.`,
      );
    const slab = new Float32Array(header.count * header.dimensions);
    const bytes = new Uint8Array(slab.buffer);
    // One read takes at most 2 GiB less a byte: a larger slab is read in parts.
    for (let done = 0; done < bytes.length; ) {
      const { bytesRead } = await handle.read(
        bytes,
        done,
        Math.min(bytes.length - done, 1 << 30),
        offset + done,
      );
      if (bytesRead === 0) throw new CliError(`${path} is truncated: expected ${header.count} vectors.`);
      done += bytesRead;
    }
    // The API answers finite values only (core refuses others): a NaN or an infinity here means the file
    // was changed, and search would refuse it only after the query was paid for.
    for (let at = 0; at < slab.length; at++) {
      const value = slab[at]!;
      if (value - value !== 0)
        throw damagedIndex(
          path,
          `vector ${Math.floor(at / header.dimensions) + 1} holds ${value} at position ${(at % header.dimensions) + 1}`,
        );
    }
    const vectors: Float32Array[] = [];
    for (let index = 0; index < header.count; index++) {
      vectors.push(slab.subarray(index * header.dimensions, (index + 1) * header.dimensions));
    }
    const docsOffset = offset + bytes.length;
    // Each document is a line of at least 3 bytes ("{}" and its line break), and the last one ends the
    // file: a file cut short after its vectors is refused here, before the query is sent.
    const last = Buffer.alloc(1);
    if (size > docsOffset) await handle.read(last, 0, 1, size - 1);
    if (size - docsOffset < header.count * 3 || last[0] !== 0x0a)
      throw new CliError(
        `${path} is truncated: its ${header.count} documents do not fit in the ${size - docsOffset} bytes after its vectors, or the last one is cut short. Rebuild the index.`,
      );
    return {
      header,
      vectors,
      async documents(positions) {
        const wanted = new Set(positions);
        const found = new Map<number, Record<string, unknown>>();
        if (wanted.size === 0) return found;
        let carry = '';
        let position = 0;
        for await (const chunk of createReadStream(path, { start: docsOffset, encoding: 'utf8' })) {
          const parts = (carry + (chunk as string)).split('\n');
          carry = parts.pop()!;
          for (const part of parts) {
            if (wanted.has(position)) found.set(position, parseDocument(path, part, position));
            position++;
          }
          if (found.size === wanted.size) break;
        }
        // A hit without its document would print as an unnamed result: a file cut short is said to be.
        // (Every document line ends with a line break: an unfinished last one is part of the cut.)
        if (found.size < wanted.size)
          throw new CliError(
            `${path} is truncated: it holds ${header.count} vectors but only ${position} complete documents. Rebuild the index.`,
          );
        return found;
      },
    };
  } finally {
    await handle.close();
  }
}

/** A file that starts as an index does but cannot be one: said so, with what to do. */
function damagedIndex(path: string, why: string): CliError {
  return new CliError(
    `${path} is damaged or not an embedkit index: ${why}. Rebuild it with "embedkit index".`,
  );
}

function parseDocument(path: string, line: string, position: number): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch {
    document = undefined;
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw damagedIndex(path, `document ${position + 1} is not a JSON object`);
  return document as Record<string, unknown>;
}

const SEARCH_OPTIONS = {
  ...HELP_OPTION,
  ...MODEL_OPTIONS,
  top: { type: 'string', short: 'k' },
  json: { type: 'boolean' },
} as const;

export async function searchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('search', argv, SEARCH_OPTIONS);
  if (values.help) {
    process.stdout.write(SEARCH_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 2) throw new UsageError('search takes an index file and one query.', 'search');
  const [path, query] = positionals as [string, string];
  if (isBlank(query)) throw new UsageError('the query is empty.', 'search');
  const top = integerOption('search', values, 'top', 1) ?? 5;
  // The options read before the file, and compared with its header before the rest of it is read: a
  // --model or --dimensions other than the index's is a usage error whatever the state of its body.
  const given = stringOption(values, 'model');
  const givenModel = given === undefined ? undefined : splitModelId(given, 'search');
  const dimensions = integerOption('search', values, 'dimensions', 1);
  const index = await readIndex(path, (header) => {
    if (
      givenModel !== undefined &&
      (givenModel.provider !== header.provider || givenModel.modelId !== header.model)
    ) {
      throw new CliError(
        `${path} was built with ${header.provider}:${header.model}; refusing to search it with ${givenModel.provider}:${givenModel.modelId}: vectors of different models are not comparable. Rebuild the index with that model, or drop --model.`,
        EXIT.usage,
      );
    }
    if (dimensions !== undefined && dimensions !== header.dimensions) {
      throw new CliError(
        `${path} holds ${header.dimensions}-dimension vectors; refusing to search it with --dimensions ${dimensions}.`,
        EXIT.usage,
      );
    }
  });
  const { header } = index;
  const indexModel = fullModelId({ provider: header.provider, modelId: header.model });
  // The index decides the model and the length; only transport options and the query's input type come from the flags.
  const base = readModelChoice('search', { ...values, model: indexModel, dimensions: undefined });
  const choice: ModelChoice = {
    ...base,
    ...(header.requestedDimensions === null ? {} : { dimensions: header.requestedDimensions }),
  };
  if (base.inputType === undefined && header.queryInputType !== null)
    choice.inputType = header.queryInputType;
  // The query, and the key with it, go only where this run's own settings send them: a server named in
  // an index file (which may come from anyone) is never followed, only compared. A replay sends nothing.
  const opened = await openChoice(choice, {
    replayInputs: [query],
    verify: ({ baseURL }) => refuseOtherServer(path, header, baseURL, choice.replay !== undefined),
  });
  let queryVector: Float32Array;
  try {
    queryVector = await embedQuery(opened.model, choice, query);
  } finally {
    await opened.close();
  }
  if (queryVector.length !== header.dimensions) {
    throw new CliError(
      `the query vector has ${queryVector.length} values; ${path} holds ${header.dimensions}.`,
    );
  }
  // An all-zero query has no direction: every document would score 0, in file order, as if ranked.
  if (norm(queryVector) === 0) {
    throw new CliError(
      `the API returned a vector of zeros for the query, so no document is more similar to it than another. Rephrase the query, or check the server at the API root.`,
    );
  }
  const hits = topK(queryVector, index.vectors, top);
  const documents = await index.documents(hits.map((hit) => hit.index));
  const results = hits.map((hit, rank) => {
    const doc = documents.get(hit.index) ?? {};
    // The rank and score first, and this search's own: a document line of the file cannot set them.
    const computed = { rank: rank + 1, score: hit.score };
    return { ...computed, ...doc, ...computed };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } else {
    for (const result of results) {
      // Cut by code points: a cut inside a surrogate pair would print U+FFFD.
      const text = [...String((result as { text?: unknown }).text ?? '').replace(/\s+/g, ' ')];
      const snippet = text.length > 100 ? `${text.slice(0, 99).join('')}…` : text.join('');
      const id = describeId((result as { id?: unknown }).id);
      process.stdout.write(
        `${result.rank}\t${result.score.toFixed(4)}\t${visible(id)}\t${visible(snippet)}\n`,
      );
    }
  }
  return EXIT.ok;
}

/**
 * Control characters (C0, DEL, C1) as `\u001b`: an index may come from anyone, and the terminal must show
 * its escape sequences, not obey them (a title, the clipboard, hidden text).
 */
function visible(text: string): string {
  return text.replace(/\p{Cc}/gu, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Refuses (exit 2) to search an index built through an API root other than the one this run resolves to
 * (`--base-url`, `EMBEDKIT_BASE_URL`, the provider's variable, else its public host): following the
 * stored one would hand the user's key to whatever server the file names; using another would compare
 * vectors of two servers. An index built through the provider's own host stores none and is searched as
 * the run's settings say.
 */
function refuseOtherServer(
  path: string,
  header: IndexHeader,
  baseURL: string | undefined,
  replaying: boolean,
): void {
  const stored = header.baseURL;
  if (typeof stored !== 'string') return;
  let parsed: string;
  try {
    const url = new URL(stored);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    // The parsed form: a file may hold anything, and control characters must not reach the terminal.
    parsed = url.href;
  } catch {
    throw new CliError(
      `${path} names an API root that is not an http(s) URL; it was not made by "embedkit index", or was changed since. Rebuild the index.`,
      EXIT.usage,
    );
  }
  // Replayed answers come from files: no query and no key leave the machine, whatever server built the index.
  if (replaying) return;
  const ours = serverKey(baseURL);
  if (ours === serverKey(parsed)) return;
  // An index an earlier version made may record a query: its values are not shown.
  const shown = shownBaseURL(parsed);
  const here =
    ours === null
      ? `this run would send the query, with your API key, to the provider's own API`
      : `this run would send the query, with your API key, to ${ours}`;
  throw new CliError(
    `${path} was built through the API root ${shown}, and ${here}. embedkit never sends a query to a server named in an index file on its own. If you trust ${shown} with your key, pass --base-url ${shown}; otherwise rebuild the index through your own API root.`,
    EXIT.usage,
  );
}

async function embedQuery(model: EmbeddingModel, choice: ModelChoice, query: string): Promise<Float32Array> {
  const result = await embedMany({ ...engineSettings(choice, model, 'float'), inputs: [query] });
  return result.embeddings[0] as Float32Array;
}
