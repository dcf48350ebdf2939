import { resolve } from 'node:path';
import {
  createRateLimiter,
  embedStream,
  InvalidRequestError,
  isAbortError,
  type OutputType,
  type StreamedEmbedding,
} from '@embedkit/core';
import {
  HELP_OPTION,
  integerOption,
  MODEL_OPTIONS,
  numberOption,
  outputTypeOption,
  parse,
  stringOption,
} from './args.js';
import { engineSettings, openChoice, readModelChoice } from './common.js';
import { CliError, describeError, EXIT, InputError, UsageError } from './errors.js';
import { INPUT_FORMATS, type InputFormat, type InputRecord, openInput } from './inputs.js';
import { BulkOutput, type JobKey } from './output.js';
import { type ProgressMode, ProgressReporter } from './progress.js';

export const BULK_HELP = `Usage: embedkit bulk <input> --model <provider:model> --out <file> [options]

Embeds every input of a file with bounded memory, whatever its size. Output is appended after each
finished batch and a checkpoint is written once the data is on disk: after a crash or Ctrl-C, run the
same command again and it continues where it stopped. The result holds every input exactly once, in
input order.

Input (<input>, or - for stdin):
  .txt                 one input a line (blank lines are skipped; the id is the line number)
  .jsonl               one JSON object a line; --field names the text, other fields are kept as metadata
  .csv                 a header row, then one record a line (RFC 4180 quoting)
  --format <f>         txt, jsonl or csv, when the extension does not say
  --field <name>       the field holding the text (default: text)
  --id-field <name>    the field used as the record id (default: id, when present; else the line number)

Output (--out, -o):
  <file>.jsonl         one record a line: {"id", "line", "metadata", "embedding"}
  <file>.npy           a NumPy array of rows (float32, int8 or uint8) and <file>.meta.jsonl beside it
                       with the id, line and metadata of each row; numpy.load opens it as is
  --include-text       also store each input's text in the records
  --overwrite          replace an existing output instead of resuming or refusing

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
  --api-key-env <var>  openai-compatible: the environment variable holding the key
  --replay <dir>       answer from the cassettes in <dir> instead of the network (no key needed)

Progress (stderr):
  --progress <mode>    auto (a bar on a terminal, plain lines otherwise), bar, plain, none
  --progress-interval <seconds>  plain mode: seconds between lines (default 10)
  -q, --quiet          no progress and no summary

Example:
  embedkit bulk docs.jsonl --model openai:text-embedding-3-small --dimensions 512 --out docs.npy
`;

const OPTIONS = {
  ...HELP_OPTION,
  ...MODEL_OPTIONS,
  out: { type: 'string', short: 'o' },
  format: { type: 'string' },
  field: { type: 'string' },
  'id-field': { type: 'string' },
  'include-text': { type: 'boolean' },
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

/** Records buffered before a flush is forced even while results keep arriving. */
const MAX_BUFFERED_RECORDS = 8192;
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

const IDLE = Symbol('idle');

/** Resolves on the next turn of the event loop: by then every result already available was consumed. */
function nextTurn(): Promise<typeof IDLE> {
  return new Promise((resolve) => setImmediate(() => resolve(IDLE)));
}

export async function bulkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('bulk', argv, OPTIONS);
  if (values.help) {
    process.stdout.write(BULK_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('bulk takes exactly one input file (or - for stdin).', 'bulk');
  const inputPath = positionals[0]!;
  const out = stringOption(values, 'out');
  if (out === undefined)
    throw new UsageError('--out is required, e.g. --out vectors.jsonl or --out vectors.npy.', 'bulk');
  const kind = /\.npy$/i.test(out) ? 'npy' : /\.(jsonl|ndjson)$/i.test(out) ? 'jsonl' : undefined;
  if (kind === undefined) throw new UsageError(`--out must end in .jsonl or .npy; got "${out}".`, 'bulk');
  const outputKind: 'npy' | 'jsonl' = kind;
  const outFile: string = out;
  const format = stringOption(values, 'format');
  if (format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')}; got "${format}".`, 'bulk');
  }
  const choice = readModelChoice('bulk', values);
  const outputType: OutputType = outputTypeOption('bulk', values) ?? 'float';
  const batchSize = integerOption('bulk', values, 'batch-size', 1);
  const concurrency = integerOption('bulk', values, 'concurrency', 1);
  const rpm = numberOption('bulk', values, 'rpm');
  const tpm = numberOption('bulk', values, 'tpm');
  const progressText = stringOption(values, 'progress') ?? 'auto';
  if (!['auto', 'bar', 'plain', 'none'].includes(progressText)) {
    throw new UsageError(`--progress must be auto, bar, plain or none; got "${progressText}".`, 'bulk');
  }
  const progressMode: ProgressMode = values.quiet
    ? 'none'
    : progressText === 'auto'
      ? process.stderr.isTTY
        ? 'bar'
        : 'plain'
      : (progressText as ProgressMode);
  const intervalSeconds = numberOption('bulk', values, 'progress-interval') ?? 10;
  const field = stringOption(values, 'field') ?? 'text';
  const idField = stringOption(values, 'id-field') ?? 'id';

  const reportRss = values['debug-max-rss'] === true;
  try {
    return await runBulk();
  } finally {
    if (reportRss) process.stderr.write(`embedkit: maxRSS ${process.resourceUsage().maxRSS} KiB\n`);
  }

  async function runBulk(): Promise<number> {
    const source = await openInput({
      path: inputPath,
      ...(format === undefined ? {} : { format: format as InputFormat }),
      field,
      idField,
    });
    // The first input is read before any output exists: a file with no inputs, or a broken first
    // line, leaves nothing behind.
    const first = await source.records.next();
    if (first.done) throw new CliError(`${source.name}: no inputs (every line is blank).`);
    const opened = await openChoice(choice, batchSize === undefined ? {} : { batchSize });
    const { model } = opened;
    const job: JobKey = {
      provider: choice.provider,
      model: choice.modelId,
      dimensions: choice.dimensions ?? null,
      inputType: choice.inputType ?? null,
      outputType,
      input: inputPath === '-' ? '-' : resolve(inputPath),
      format: source.format,
      field,
      idField,
      includeText: values['include-text'] === true,
      output: outputKind,
    };
    const quiet = progressMode === 'none';
    let output: BulkOutput;
    try {
      output = await BulkOutput.open({ out: outFile, job, overwrite: values.overwrite === true });
    } catch (error) {
      await opened.close();
      throw error;
    }
    if (output.complete) {
      await opened.close();
      if (!quiet)
        process.stderr.write(
          `embedkit: ${out} is already complete (${output.inputsDone} inputs); nothing to do.\n`,
        );
      return EXIT.ok;
    }
    const skip = output.inputsDone;
    const expectedLastLine = output.lastLine;
    if (skip > 0 && !quiet) process.stderr.write(`embedkit: resuming ${out}: ${skip} inputs already done.\n`);

    // Inputs handed to the engine and not yet written, in order. Bounded by the engine's window.
    const queue: InputRecord[] = [];
    let head = 0;
    let inputFailure: InputError | undefined;
    async function* texts(): AsyncGenerator<string> {
      let index = 0;
      try {
        let next = first;
        while (!next.done) {
          const record = next.value;
          if (index < skip) {
            if (index === skip - 1 && record.line !== expectedLastLine) {
              throw new CliError(
                `${source.name} changed since the checkpoint: input ${skip} was on line ${expectedLastLine}, now on line ${record.line}. Pass --overwrite to start again.`,
              );
            }
          } else {
            queue.push(record);
            yield record.text;
          }
          index++;
          next = await source.records.next();
        }
        if (index < skip) {
          throw new CliError(
            `${source.name} has ${index} inputs, but the checkpoint says ${skip} are done. Pass --overwrite to start again.`,
          );
        }
      } catch (error) {
        // A bad line ends the stream here: everything before it is still embedded and saved.
        if (error instanceof InputError) {
          inputFailure = error;
          return;
        }
        throw error;
      }
    }

    const progress = new ProgressReporter({
      mode: progressMode,
      intervalSeconds,
      resumedInputs: skip,
      ...(source.size === undefined ? {} : { totalBytes: source.size }),
    });
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts > 1) process.exit(EXIT.interrupted);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let written = 0;
    let failure: unknown;
    const iterator = embedStream({
      ...engineSettings(choice, model, outputType),
      inputs: texts(),
      signal: controller.signal,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(batchSize === undefined ? {} : { maxInputsPerCall: batchSize }),
      ...(rpm === undefined && tpm === undefined
        ? {}
        : {
            rateLimit: createRateLimiter({
              ...(rpm === undefined ? {} : { requestsPerMinute: rpm }),
              ...(tpm === undefined ? {} : { tokensPerMinute: tpm }),
            }),
          }),
      onRetry: (event) => progress.retry(event),
      onWait: (event) => progress.wait(event),
      onProgress: (event) => progress.tokensReported(event.inputTokens),
    })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const pending = iterator.next();
        let step: IteratorResult<StreamedEmbedding> | typeof IDLE;
        if (output.buffered > 0) {
          step = await Promise.race([pending, nextTurn()]);
          if (step === IDLE) {
            // Nothing more is ready: the batches that finished are written before waiting for more.
            await output.flush();
            step = await pending;
          }
        } else {
          step = await pending;
        }
        if (step.done) break;
        const record = queue[head];
        if (record === undefined || step.value.index !== written) {
          throw new Error(`internal: result ${step.value.index} arrived while ${written} was expected.`);
        }
        queue[head++] = undefined as never;
        if (head > 4096 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        output.add(record, step.value.embedding);
        written++;
        progress.done(written, record.bytesRead);
        if (output.buffered >= MAX_BUFFERED_RECORDS || output.bufferedBytes >= MAX_BUFFERED_BYTES)
          await output.flush();
      }
    } catch (error) {
      failure = error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      progress.stop();
    }
    await opened.close();
    const total = skip + written;
    if (failure === undefined && inputFailure === undefined) {
      await output.finish();
      if (!quiet) {
        const s = progress.snapshot();
        process.stderr.write(
          `embedkit: done: ${total} inputs in ${out} (${written} this run) in ${s.elapsedSeconds.toFixed(1)}s, ${s.retries} retries, ${s.rateLimitWaits} rate-limit waits${s.throttleWaits > 0 ? `, ${s.throttleWaits} --rpm/--tpm waits (${s.throttleWaitSeconds.toFixed(1)}s)` : ''}.\n`,
        );
      }
      return EXIT.ok;
    }
    await output.stop();
    const saved = `${total} inputs are done and saved in ${out}`;
    if (failure !== undefined && (controller.signal.aborted || isAbortError(failure))) {
      process.stderr.write(`embedkit: interrupted. ${saved}; run the same command again to continue.\n`);
      return EXIT.interrupted;
    }
    if (failure !== undefined) {
      const pendingRecord = queue[head];
      let where = pendingRecord === undefined ? '' : `at the input on line ${pendingRecord.line}: `;
      if (InvalidRequestError.isInstance(failure) && failure.inputIndex !== undefined) {
        const named = queue[head + failure.inputIndex - written];
        if (named !== undefined) where = `the input on line ${named.line} failed: `;
      }
      process.stderr.write(
        `embedkit: error: ${where}${describeError(failure)}\n${saved}; run the same command again to continue.\n`,
      );
      return EXIT.failure;
    }
    process.stderr.write(
      `embedkit: error: ${inputFailure!.message}\n${saved}; fix that line and run the same command again to continue.\n`,
    );
    return EXIT.failure;
  }
}
