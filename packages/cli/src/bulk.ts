import { resolve } from 'node:path';
import { MAX_CONCURRENCY, type OutputType } from '@embedkit/core';
import {
  HELP_OPTION,
  integerOption,
  MODEL_OPTIONS,
  numberOption,
  outputTypeOption,
  parse,
  stringOption,
} from './args.js';
import { BulkJob } from './bulk-job.js';
import { readModelChoice } from './common.js';
import { EXIT, UsageError } from './errors.js';
import { unwritableKind } from './file-system.js';
import { INPUT_OPTIONS, INPUT_OPTIONS_HELP, inputPathArgument, readInputOptions } from './input-options.js';
import { checkpointPath, metaPath, type StartMode } from './output.js';
import { lockedFile, lockPath, refuseOwnFilesTaken } from './output-lock.js';
import type { ProgressMode } from './progress.js';

export const BULK_HELP = `Usage: embedkit bulk <input> --model <provider:model> --out <file> [options]

Embeds every input of a file with bounded memory, whatever its size. Output is appended after each
finished batch and a checkpoint is written once the data is on disk: after a crash or Ctrl-C, run the
same command again and it continues where it stopped. The result holds every input exactly once, in
input order. A lock file (<file>.lock) keeps a second run off the same output (exit 75), and a resumed
run (even of a finished job) first checks that the part of the input already embedded is unchanged.
A resume must use the same model, options and API root (--base-url or the provider's variable).
An option the model cannot honour (--output-type, --dimensions) is refused (exit 2) before anything
is read or written.

Input (<input>, or - for stdin; a pipe given as a path, like <(zcat docs.gz), is read as stdin):
  .txt                 one input a line (blank lines are skipped; the id is the line number)
  .jsonl, .ndjson      one JSON object a line; --field names the text, other fields are kept as metadata
  .csv                 a header row, then one record a line (RFC 4180 quoting)
  .json                refused unless --format says how to read it: write one JSON object a line (.jsonl)
${INPUT_OPTIONS_HELP}  Input is UTF-8 (a byte-order mark at the start is dropped); a byte that is not UTF-8 is a bad line.

Output (--out, -o):
  <file>.jsonl         one record a line: {"id", "line", "metadata", "embedding"} (.ndjson: the same)
  <file>.npy           a NumPy array of rows (float32, int8 or uint8) and <file>.meta.jsonl beside it
                       with the id, line and metadata of each row; numpy.load opens it as is
  --out is a file (or a new path): a named pipe is refused (exit 2), since the output is
  written at positions and resumed from
  --include-text       also store each input's text in the records
  --restart            discard the earlier output and checkpoint of bulk at --out and start again
                       (after the input changed, or to reuse an --out written by another job)
  --overwrite          replace whatever is at --out, even files embedkit did not write (this
                       includes what --restart does: given with it, --overwrite applies)

Model and requests:
  -m, --model <p:m>    provider:model, e.g. openai:text-embedding-3-small
  --dimensions <n>     vector length (models that allow a choice)
  --input-type <t>     query, document, similarity, classification, clustering, code-query, ...
  --output-type <t>    float (default), int8, uint8, binary, ubinary
  --batch-size <n>     inputs per call (default: the model's limit)
  --concurrency <n>    calls in flight (default 4)
  --rpm <n>            at most n requests a minute
  --tpm <n>            at most n tokens a minute
  --max-retries <n>    retries per call (default 3)
  --timeout <seconds>  per attempt (default 120)
  --base-url <url>     the provider's API root (a proxy, a gateway, a local server)
  --api-key-env <var>  the environment variable holding the key (default: the provider's usual one)
  --replay <dir>       answer from the cassettes in <dir> instead of the network (no key needed)
  --cache <dir>        cache vectors on disk in <dir>, shared by every run and process (default:
                       $XDG_CACHE_HOME/embedkit, else ~/.cache/embedkit; none with --replay)
  --no-cache           neither read nor write the cache (or set EMBEDKIT_NO_CACHE=1)

Progress (stderr):
  --progress <mode>    auto (a bar on a terminal, plain lines otherwise), bar, plain, none
  --progress-interval <seconds>  seconds between plain lines (default 10; with auto, when stderr is
                       no terminal); refused beside bar, none and -q
  -q, --quiet          no progress and no summary (--progress none keeps the summary: "done:",
                       "resuming", "already complete")

Example:
  embedkit bulk docs.jsonl --model openai:text-embedding-3-small --dimensions 512 --out docs.npy
`;

const OPTIONS = {
  ...HELP_OPTION,
  ...MODEL_OPTIONS,
  out: { type: 'string', short: 'o' },
  ...INPUT_OPTIONS,
  'include-text': { type: 'boolean' },
  restart: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  'output-type': { type: 'string' },
  'batch-size': { type: 'string' },
  concurrency: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  progress: { type: 'string' },
  'progress-interval': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  // Hidden: prints the process's peak resident memory at exit (used by the memory test).
  'debug-max-rss': { type: 'boolean' },
} as const;

export async function bulkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('bulk', argv, OPTIONS);
  if (values.help) {
    process.stdout.write(BULK_HELP);
    return EXIT.ok;
  }
  const inputPath = inputPathArgument('bulk', positionals);
  const out = stringOption(values, 'out');
  if (out === undefined)
    throw new UsageError('--out is required, e.g. --out vectors.jsonl or --out vectors.npy.', 'bulk');
  const outputKind = /\.npy$/i.test(out) ? 'npy' : /\.(jsonl|ndjson)$/i.test(out) ? 'jsonl' : undefined;
  if (outputKind === undefined)
    throw new UsageError(`--out must end in .jsonl, .ndjson or .npy; got "${out}".`, 'bulk');
  // The output is written at positions, read back and resumed from, none of which a pipe or a directory
  // allows: refused before anything is read or sent (a FIFO was waited on, then failed with ESPIPE).
  for (const path of outputKind === 'npy' ? [out, metaPath(out)] : [out]) {
    const kind = unwritableKind(path);
    if (kind !== undefined) {
      throw new UsageError(
        `${path} is ${kind}; bulk writes a file it can resume, so --out must name a regular file or a path that does not exist yet.`,
        'bulk',
      );
    }
  }
  // The checkpoint and the lock beside the output are files of bulk's own.
  refuseOwnFilesTaken('bulk', [checkpointPath(out), lockPath(lockedFile(out))]);
  const reading = readInputOptions('bulk', values, inputPath);
  const choice = readModelChoice('bulk', values);
  const outputType: OutputType = outputTypeOption('bulk', values) ?? 'float';
  const batchSize = integerOption('bulk', values, 'batch-size', 1);
  const concurrency = integerOption('bulk', values, 'concurrency', 1, MAX_CONCURRENCY);
  const rpm = numberOption('bulk', values, 'rpm');
  const tpm = numberOption('bulk', values, 'tpm');
  const progressText = stringOption(values, 'progress') ?? 'auto';
  if (!['auto', 'bar', 'plain', 'none'].includes(progressText)) {
    throw new UsageError(`--progress must be auto, bar, plain or none; got "${progressText}".`, 'bulk');
  }
  // -q shows no progress: a --progress that asks for some says the opposite, and which was meant is the
  // user's to say (-q won without a word, in either order). --progress none agrees with it. An interval
  // paces progress lines, so beside -q or --progress none it would be dropped without a word as well.
  const silencer =
    values.quiet === true
      ? { named: '-q (--quiet)', said: '-q' }
      : progressText === 'none'
        ? { named: '--progress none', said: '--progress none' }
        : undefined;
  const clash =
    values.quiet === true && values.progress !== undefined && progressText !== 'none'
      ? `--progress ${progressText}`
      : values['progress-interval'] !== undefined
        ? '--progress-interval'
        : undefined;
  if (silencer !== undefined && clash !== undefined) {
    throw new UsageError(
      `${silencer.named} and ${clash} cannot be combined: ${silencer.said} shows no progress; give one of them.`,
      'bulk',
    );
  }
  // The interval paces plain lines only: a bar is redrawn as inputs finish, so beside --progress bar it
  // would be dropped without a word. --progress auto takes it, for the plain lines it shows off a terminal.
  if (progressText === 'bar' && values['progress-interval'] !== undefined) {
    throw new UsageError(
      '--progress bar and --progress-interval cannot be combined: the interval paces plain progress lines, and a bar is redrawn as inputs finish; give one of them.',
      'bulk',
    );
  }
  const progressMode: ProgressMode = values.quiet
    ? 'none'
    : progressText === 'auto'
      ? process.stderr.isTTY
        ? 'bar'
        : 'plain'
      : (progressText as ProgressMode);
  const mode: StartMode = values.overwrite ? 'overwrite' : values.restart ? 'restart' : 'resume';
  const job = new BulkJob({
    inputPath,
    inputKey: inputPath === '-' ? '-' : resolve(inputPath),
    out,
    outputKind,
    reading,
    includeText: values['include-text'] === true,
    mode,
    choice,
    outputType,
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rpm === undefined ? {} : { rpm }),
    ...(tpm === undefined ? {} : { tpm }),
    progressMode,
    progressIntervalSeconds: numberOption('bulk', values, 'progress-interval') ?? 10,
    quiet: values.quiet === true,
  });
  try {
    return await job.run();
  } finally {
    if (values['debug-max-rss'] === true)
      process.stderr.write(`embedkit: maxRSS ${process.resourceUsage().maxRSS} KiB\n`);
  }
}
