import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The built command: tests run the real binary (vitest's global setup builds it when stale). */
export const BIN = join(PACKAGE_ROOT, 'dist', 'bin.js');
export const OPENAI_CASSETTES = join(PACKAGE_ROOT, '..', 'provider-openai', 'test', 'cassettes');

/**
 * Two ids that shared one 64-bit fingerprint under the repeated-id table's former unkeyed hash (found by
 * a birthday search over such names): no repeat of each other. The fingerprint is keyed now, so ids
 * written in advance share none; tests that need a shared one pass the table a weak `fingerprint`.
 */
export const SHARED_FINGERPRINT = ['id-8217b01ac6bf0e05', 'id-5eb543d795d86659'] as const;

/** A fake key: every test checks it never appears in anything the command prints. */
export const FAKE_KEY = 'sk-fake-cli-key-Zq8v3kP0';

export function temporaryDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'embedkit-cli-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
  /** Called once the process is spawned (to kill it midway). */
  onSpawn?: (child: ChildProcess) => void;
  /** Run under `/usr/bin/time -v` (to read the peak memory). */
  timeVerbose?: boolean;
  /** A command that runs the CLI, e.g. `['prlimit', '--fsize=65536', '--']`. */
  wrapper?: string[];
  /** A file to read stdin from (as `< file` would), instead of `stdin`. */
  stdinFile?: string;
  /** Leave stdin open for `onSpawn` to write to: an input that stalls, as a pipe whose writer is slow. */
  holdStdin?: boolean;
}

/**
 * The environment of every run: the fake key, no proxy (loopback must stay loopback), no colours, and no
 * disk cache (it would count as the user's, and a re-run would send fewer requests); cache tests turn it on.
 */
function childEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENAI_API_KEY: FAKE_KEY,
    NO_COLOR: '1',
    EMBEDKIT_NO_CACHE: '1',
  };
  for (const name of [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'http_proxy',
    'https_proxy',
    'ALL_PROXY',
    'all_proxy',
    'EMBEDKIT_DEBUG',
    // The API roots a developer's shell may set; the tests name their loopback servers themselves.
    'EMBEDKIT_BASE_URL',
    'OPENAI_BASE_URL',
  ])
    delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs `embedkit <args>` as a subprocess (asynchronously: the fake server lives in this process). */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing; build the CLI first (npx tsup).`);
  const wrapper = options.timeVerbose ? ['/usr/bin/time', '-v'] : (options.wrapper ?? []);
  const [command, ...commandArgs] = [...wrapper, process.execPath, BIN, ...args] as [string, ...string[]];
  const stdinFile = options.stdinFile === undefined ? undefined : openSync(options.stdinFile, 'r');
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      env: childEnvironment(options.env),
      cwd: options.cwd ?? PACKAGE_ROOT,
      stdio: [stdinFile ?? 'pipe', 'pipe', 'pipe'],
    });
    if (stdinFile !== undefined) closeSync(stdinFile);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (child.stdin !== null) {
      child.stdin.on('error', () => {});
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else if (options.holdStdin !== true) child.stdin.end();
    }
    options.onSpawn?.(child);
  });
}

/** The peak resident memory `/usr/bin/time -v` reports, in KiB. */
export function maxRssFromTime(stderr: string): number | undefined {
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

/**
 * Vectors the fake server returns. An input "item <n> ..." gets [n, then values k/8 derived from n]:
 * every value is exact in float32, and the first one says which input it belongs to. Any other text
 * gets a bag-of-words vector (one count per word at the word's hash), so similar texts score higher.
 */
export function vectorFor(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  const item = /^item (\d+)\b/.exec(text);
  if (item) {
    const n = Number(item[1]);
    vector[0] = n;
    for (let index = 1; index < dimensions; index++) vector[index] = ((n * 31 + index * 7) % 101) / 8;
    return vector;
  }
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 2166136261;
    for (let index = 0; index < word.length; index++)
      hash = Math.imul(hash ^ word.charCodeAt(index), 16777619);
    vector[(hash >>> 0) % dimensions]! += 1;
  }
  return vector;
}

export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface FakeServerOptions {
  /** Vector length when the request names none. */
  defaultDimensions?: number;
  /** Called for every request (1-based count); an answer replaces the normal one. */
  intercept?: (request: {
    number: number;
    inputs: string[];
    body: Record<string, unknown>;
  }) => FakeAnswer | undefined;
  /** Milliseconds before answering each request. */
  delayMs?: number;
  /** Called for every request (1-based count): a promise returned holds the answer until it settles. */
  hold?: (request: { number: number }) => Promise<void> | undefined;
}

export interface FakeServer {
  baseURL: string;
  /** Requests received. */
  requests: number;
  /** Inputs answered with vectors (a retried input counts again). */
  inputsAnswered: number;
  /** Authorization headers seen. */
  authorizations: Set<string>;
  close(): Promise<void>;
}

/** A loopback server speaking OpenAI's `POST /v1/embeddings` wire, answering in base64. */
export async function startFakeOpenAI(options: FakeServerOptions = {}): Promise<FakeServer> {
  const state = { requests: 0, inputsAnswered: 0, authorizations: new Set<string>() };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const number = ++state.requests;
      state.authorizations.add(String(request.headers.authorization));
      const send = (answer: FakeAnswer) => {
        const payload = JSON.stringify(answer.body);
        response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        response.end(payload);
      };
      if (request.method !== 'POST' || request.url !== '/v1/embeddings') {
        send({ status: 404, body: { error: { message: `no route ${request.method} ${request.url}` } } });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const inputs = body.input as string[];
      const answer = () => {
        const special = options.intercept?.({ number, inputs, body });
        if (special !== undefined) return send(special);
        const dimensions = (body.dimensions as number | undefined) ?? options.defaultDimensions ?? 8;
        state.inputsAnswered += inputs.length;
        send({
          ...openAIAnswer(inputs, dimensions, body.model),
          headers: { 'x-request-id': `req_${number}` },
        });
      };
      const go = () => {
        if (options.delayMs) setTimeout(answer, options.delayMs);
        else answer();
      };
      const held = options.hold?.({ number });
      if (held === undefined) go();
      else held.then(go, go);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    get inputsAnswered() {
      return state.inputsAnswered;
    },
    authorizations: state.authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 429 that asks for a wait of `seconds`. */
export function rateLimited(seconds: number, number: number): FakeAnswer {
  return {
    status: 429,
    headers: { 'retry-after': String(seconds), 'x-request-id': `req-429-${number}` },
    body: { error: { message: 'Rate limit reached.', type: 'requests' } },
  };
}

/**
 * OpenAI's answer to `inputs` (status 200): for each, the {@link vectorFor} vector of `dimensions` values
 * in base64, as the CLI asks for it; a token for every four characters. An intercept that changes one
 * thing about an answer (the vectors' length) builds the rest of it here.
 */
export function openAIAnswer(
  inputs: readonly string[],
  dimensions: number,
  model: unknown = 'text-embedding-3-small',
): FakeAnswer {
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += Math.ceil(text.length / 4);
    const vector = vectorFor(text, dimensions);
    return {
      object: 'embedding',
      index,
      embedding: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64'),
    };
  });
  return {
    status: 200,
    body: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
  };
}

/** The OpenAI error body for an over-long input at `index` within one call. */
export function contextLengthError(index: number): FakeAnswer {
  return {
    status: 400,
    body: {
      error: {
        message: `Invalid 'input[${index}]': maximum input length is 8192 tokens.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
  };
}

/** `running`, or undefined when it has not ended within `ms` (a run that should stop, and may hang). */
export function within(running: Promise<RunResult>, ms: number): Promise<RunResult | undefined> {
  return Promise.race([
    running,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

/** Resolves once `condition` holds (polled every `everyMs`), or rejects after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  { timeoutMs = 20_000, everyMs = 5 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A bulk checkpoint as the tests read it (undefined while there is none, or mid-rename). */
export function readCheckpointFile(
  out: string,
): { inputsDone: number; complete: boolean; bytes: Record<string, number>; lastLine: number } | undefined {
  try {
    return JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** An NPY header read here, independently of the CLI's own code: what `numpy.load` relies on. */
export interface NpyFacts {
  descr: string;
  fortranOrder: string;
  shape: [number, number];
  dataOffset: number;
}

/** The 128-byte NPY 1.0 header embedkit writes for float32 rows of `shape`. */
export function npyHeaderBytes(rows: number, columns: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${columns}), }`;
  return Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]),
    Buffer.from(`${dict.padEnd(117, ' ')}\n`, 'latin1'),
  ]);
}

/** Parses an NPY 1.0 header; throws with the reason when the bytes are not a loadable NPY file. */
export function parseNpy(bytes: Buffer): NpyFacts {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((byte, index) => bytes[index] !== byte))
    throw new Error(`not an NPY file (${bytes.length} bytes, bad magic)`);
  if (bytes[6] !== 1 || bytes[7] !== 0) throw new Error(`NPY version ${bytes[6]}.${bytes[7]}, expected 1.0`);
  const dataOffset = 10 + bytes.readUInt16LE(8);
  if (dataOffset % 64 !== 0) throw new Error(`NPY data starts at ${dataOffset}, not on a 64-byte boundary`);
  if (bytes.length < dataOffset)
    throw new Error(`NPY header cut short: ${bytes.length} < ${dataOffset} bytes`);
  const header = bytes.subarray(10, dataOffset).toString('latin1');
  const match =
    /^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \((\d+), (\d+)\), \} *\n$/.exec(header);
  if (match === null) throw new Error(`bad NPY header: ${JSON.stringify(header)}`);
  return {
    descr: match[1]!,
    fortranOrder: match[2]!,
    shape: [Number(match[3]), Number(match[4])],
    dataOffset,
  };
}

/** `count` lines "item 0" … "item <count-1>", each padded with dots to `width`, and a final line break. */
export function itemLines(count: number, width = 0): string {
  return `${Array.from({ length: count }, (_, n) => `item ${n}`.padEnd(width, '.')).join('\n')}\n`;
}

/** 0 … count-1. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_, n) => n);
}

/** The first value of each record's vector in a bulk `.jsonl` output: n for the input "item n". */
export function firstValues(out: string): number[] {
  return readJsonLines<{ embedding: number[] }>(out).map((record) => record.embedding[0]!);
}

/** What {@link bulkArgs} and {@link indexArgs} take: `extra` defaults to none, `dimensions` to 4. */
type CommandArgs = [
  server: Pick<FakeServer, 'baseURL'>,
  input: string,
  out: string,
  extra?: string[],
  dimensions?: number,
];

/**
 * The arguments of `embedkit <command> <input> --out <out>` against a fake server: an OpenAI model of
 * `dimensions` values, then `extra`.
 */
function commandArgs(
  command: 'bulk' | 'index',
  ...[server, input, out, extra = [], dimensions = 4]: CommandArgs
): string[] {
  return [
    command,
    input,
    '--out',
    out,
    '--model',
    'openai:text-embedding-3-small',
    '--dimensions',
    String(dimensions),
    '--base-url',
    server.baseURL,
    ...extra,
  ];
}

/**
 * The arguments of `embedkit bulk` (see {@link commandArgs}), quiet (no progress and no summary) unless
 * `extra` names a --progress or a --quiet itself (an option given twice is refused).
 */
export function bulkArgs(...[server, input, out, extra = [], dimensions]: CommandArgs): string[] {
  const quiet = extra.some((arg) => ['--progress', '-q', '--quiet'].includes(arg)) ? [] : ['-q'];
  return commandArgs('bulk', server, input, out, [...quiet, ...extra], dimensions);
}

/**
 * A bulk run of 1,500 inputs (calls of 100, written to `input`) against a server that answers its first
 * call and holds the others until `release` is called; resolves once the first batch is saved at `out`.
 * The run is caught between two saved batches, whatever the machine's speed.
 */
export async function heldBulkRun(input: string, out: string, onSpawn?: (child: ChildProcess) => void) {
  writeFileSync(input, itemLines(1500));
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? undefined : released) });
  const run = runCli(
    bulkArgs(server, input, out, ['--batch-size', '100', '--concurrency', '1']),
    onSpawn ? { onSpawn } : {},
  ).finally(() => server.close());
  await waitFor(() => (readCheckpointFile(out)?.inputsDone ?? 0) > 0, 'the first saved batch');
  return { run, release };
}

/**
 * A bulk run of `input` into `out` in calls of 100, stopped by Ctrl-C once its first batch is saved: its
 * server answers the first call and holds the others until the stop. Checks the stop said so (exit 130,
 * 100 inputs saved); returns the server, which now answers every call, and the arguments that continue
 * the run. The caller closes the server.
 */
export async function bulkStoppedAfterFirstBatch(
  input: string,
  out: string,
): Promise<{ server: FakeServer; args: string[] }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = await startFakeOpenAI({ hold: ({ number }) => (number === 1 ? undefined : released) });
  const args = bulkArgs(server, input, out, ['--batch-size', '100', '--concurrency', '1']);
  let child: ChildProcess | undefined;
  const running = runCli(args, {
    onSpawn: (spawned) => {
      child = spawned;
    },
  });
  try {
    await waitFor(() => (readCheckpointFile(out)?.inputsDone ?? 0) > 0, 'the first saved batch');
    child!.kill('SIGINT');
    const stopped = await running;
    expect(stopped.stderr).toBe(
      `embedkit: interrupted. 100 inputs are done and saved in ${out}; run the same command again to continue.\n`,
    );
    expect(stopped.code).toBe(130);
  } catch (error) {
    await server.close();
    throw error;
  } finally {
    release();
  }
  return { server, args };
}

/** The arguments of `embedkit index` (see {@link commandArgs}). */
export function indexArgs(...args: CommandArgs): string[] {
  return commandArgs('index', ...args);
}

/** The header of an index file, as the tests read it. */
export interface IndexFileHeader {
  count: number;
  dimensions: number;
  source: string;
  baseURL?: string | null;
  [field: string]: unknown;
}

/** A document of an index file: one JSON line after the vectors. */
export interface IndexFileDocument {
  id: unknown;
  line: number;
  text: string;
  metadata?: Record<string, unknown>;
}

/**
 * The header, the vectors and the documents of an index file, read here independently of the CLI
 * (`EKINDEX1`, a uint32 header length, the JSON header, padding to 16 bytes, float32 vectors, then one
 * JSON line per document); `vectorsOffset` is where the vectors start, to build a file with another header.
 */
export function readIndexFile(path: string): {
  header: IndexFileHeader;
  vectors: number[][];
  docs: IndexFileDocument[];
  vectorsOffset: number;
} {
  const bytes = readFileSync(path);
  const magic = bytes.subarray(0, 8).toString('latin1');
  if (magic !== 'EKINDEX1')
    throw new Error(`${path} is not an index file: it starts with ${JSON.stringify(magic)}`);
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(12, 12 + length).toString('utf8')) as IndexFileHeader;
  const vectorsOffset = Math.ceil((12 + length) / 16) * 16;
  const vectors: number[][] = [];
  for (let row = 0; row < header.count; row++) {
    const vector: number[] = [];
    for (let index = 0; index < header.dimensions; index++)
      vector.push(bytes.readFloatLE(vectorsOffset + (row * header.dimensions + index) * 4));
    vectors.push(vector);
  }
  const docs = parseJsonLines<IndexFileDocument>(
    bytes.subarray(vectorsOffset + header.count * header.dimensions * 4).toString('utf8'),
  );
  return { header, vectors, docs, vectorsOffset };
}

/**
 * The bytes of the index file at `path` with `header` in place of its own (its vectors and documents
 * kept as they are), to build an index whose header says something else.
 */
export function indexBytesWithHeader(path: string, header: unknown): Buffer {
  const { vectorsOffset } = readIndexFile(path);
  const json = Buffer.from(JSON.stringify(header));
  const start = Buffer.alloc(Math.ceil((12 + json.length) / 16) * 16);
  start.write('EKINDEX1', 'latin1');
  start.writeUInt32LE(json.length, 8);
  json.copy(start, 12);
  return Buffer.concat([start, readFileSync(path).subarray(vectorsOffset)]);
}

/**
 * An index of two documents at 4 dimensions built against `server` (as `file` names it, from `name`),
 * rewritten with `fields` changed in its header.
 */
export async function indexWithHeader(
  server: Pick<FakeServer, 'baseURL'>,
  file: (name: string, content?: string) => string,
  name: string,
  fields: Record<string, unknown>,
): Promise<string> {
  const input = file(`${name}.txt`, 'item 1\nitem 2\n');
  const out = file(`${name}.ekx`);
  const built = await runCli(indexArgs(server, input, out, ['-q']));
  if (built.code !== 0) throw new Error(`index exited with ${built.code}: ${built.stderr}`);
  writeFileSync(out, indexBytesWithHeader(out, { ...readIndexFile(out).header, ...fields }));
  return out;
}

/** What `search` prints for the index at `path` it finds damaged, `why` saying how. */
export function damagedIndexMessage(path: string, why: string): string {
  return `embedkit: error: ${path} is damaged or not an embedkit index: ${why}. Rebuild it with "embedkit index".\n`;
}

/**
 * Builds an index (see {@link indexWithHeader}) with `fields` in its header and checks that `search`
 * refuses it as damaged (exit 1) for the reason `why`, before the query is sent, without --model and
 * with the index's own.
 */
export async function expectSearchRefusesHeader(
  server: FakeServer,
  file: (name: string, content?: string) => string,
  name: string,
  fields: Record<string, unknown>,
  why: string,
): Promise<void> {
  const out = await indexWithHeader(server, file, name, fields);
  const requests = server.requests;
  for (const extra of [[], ['--model', 'openai:text-embedding-3-small']]) {
    const result = await runCli(['search', out, 'item 1', '--base-url', server.baseURL, ...extra]);
    expect(result.stderr).toBe(damagedIndexMessage(out, why));
    expect(result.stdout).toBe('');
    expect(result.code).toBe(1);
  }
  expect(server.requests).toBe(requests);
}

/** The records of JSONL text, one per line (blank lines skipped). */
function parseJsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** The records of a JSONL file, one per line (blank lines skipped). */
export function readJsonLines<T>(path: string): T[] {
  return parseJsonLines<T>(readFileSync(path, 'utf8'));
}

/** A function giving the path of a file in `directory`, writing `content` to it first when given. */
export function filesIn(directory: string): (name: string, content?: string | Buffer) => string {
  return (name, content) => {
    const path = join(directory, name);
    if (content !== undefined) writeFileSync(path, content);
    return path;
  };
}

/** Every item of `source`, in order. */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

/** `parts` as the chunks of a stream: a string as its latin1 bytes, an array as those bytes. */
export async function* chunks(...parts: (string | number[])[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part);
}

/**
 * A fake OpenAI server and a temporary directory for the tests of one file or `describe` block: the
 * server starts before them and both go after them. `server` is the running server (read it inside a
 * test); `file` writes or names a file in the directory, as {@link filesIn} does.
 */
export function serverAndFiles(options: FakeServerOptions = {}) {
  const directory = temporaryDirectory();
  let running: FakeServer | undefined;
  beforeAll(async () => {
    running = await startFakeOpenAI(options);
  });
  afterAll(async () => {
    await running?.close();
    directory.remove();
  });
  return {
    directory,
    file: filesIn(directory.path),
    get server(): FakeServer {
      if (running === undefined) throw new Error('the fake server starts before the tests');
      return running;
    },
  };
}
