import { type Embedding, embedMany, norm, type OutputType } from '@embedkit/core';
import { vectorLength } from '@embedkit/core/provider';
import { HELP_OPTION, MODEL_OPTIONS, outputTypeOption, parse } from './args.js';
import { engineSettings, fullModelId, openChoice, readModelChoice, sentInputType } from './common.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { isBlank } from './inputs.js';
import { readStdin } from './stdin.js';

export const EMBED_HELP = `Usage: embedkit embed <text>... --model <provider:model> [options]

Embeds one or more texts and prints each vector as a JSON array, one per line.
Use - as a text to read it from stdin.

Options:
  -m, --model <p:m>    provider:model, e.g. openai:text-embedding-3-small
  --input-type <t>     query, document, similarity, classification, clustering, code-query, ...
  --dimensions <n>     vector length (models that allow a choice)
  --output-type <t>    float (default), int8, uint8, binary, ubinary
  --json               print one JSON object: model, dimensions, usage and the vectors
  --summary            print a short summary of each vector instead of its values
  --max-retries <n>    retries per call (default 3)
  --timeout <seconds>  per attempt (default 120)
  --base-url <url>     the provider's API root (a proxy, a gateway, a local server);
                       default: EMBEDKIT_BASE_URL, else the provider's own (e.g. OPENAI_BASE_URL)
  --api-key-env <var>  the environment variable holding the key (default: the provider's usual one)
  --replay <dir>       answer from the cassettes in <dir> instead of the network (no key needed)
  --cache <dir>        cache vectors on disk in <dir>, shared by every run and process (default:
                       $XDG_CACHE_HOME/embedkit, else ~/.cache/embedkit; none with --replay)
  --no-cache           neither read nor write the cache (or set EMBEDKIT_NO_CACHE=1)

Examples:
  embedkit embed "pets and animals" --model openai:text-embedding-3-small --dimensions 256 --summary
  echo "a query" | embedkit embed - --model voyage:voyage-3.5 --input-type query --json
`;

const OPTIONS = {
  ...HELP_OPTION,
  ...MODEL_OPTIONS,
  'output-type': { type: 'string' },
  json: { type: 'boolean' },
  summary: { type: 'boolean' },
} as const;

/** Values as plain numbers: float32 with 9 significant digits (enough to read back the same float32). */
export function vectorValues(embedding: Embedding): number[] {
  const out = new Array<number>(embedding.length);
  const float = embedding instanceof Float32Array;
  for (let index = 0; index < embedding.length; index++) {
    const value = embedding[index]!;
    out[index] = float && !Number.isInteger(value) ? Number(value.toPrecision(9)) : value;
  }
  return out;
}

/**
 * Dimensions a value holds: eight for the bit-packed types (a 1024-dimension binary vector is 128 values),
 * one for the rest, by core's own rule of how many values a vector of a type takes.
 */
function dimensionsPerValue(outputType: OutputType): number {
  return 8 / vectorLength(outputType, 8);
}

function summarize(embedding: Embedding, outputType: OutputType): string {
  const head = vectorValues(embedding.subarray(0, 4) as Embedding).map((value) =>
    outputType === 'float' ? value.toFixed(4) : String(value),
  );
  const more = embedding.length > 4 ? ', …' : '';
  // A bit-packed vector's values are not its dimensions: the line gives both, as --json does.
  const perValue = dimensionsPerValue(outputType);
  const detail =
    outputType === 'float'
      ? `, norm ${norm(embedding as Float32Array).toFixed(4)}`
      : perValue > 1
        ? `, ${embedding.length * perValue} dimensions`
        : '';
  return `${embedding.length} values (${outputType})${detail}: [${head.join(', ')}${more}]`;
}

export async function embedCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('embed', argv, OPTIONS);
  if (values.help) {
    process.stdout.write(EMBED_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0)
    throw new UsageError('embed needs at least one text (or - for stdin).', 'embed');
  if (values.json && values.summary)
    throw new UsageError('--json and --summary cannot be combined.', 'embed');
  // Stdin is read once: a second - would be sent as an empty text, and refused as "stdin is empty".
  if (positionals.filter((text) => text === '-').length > 1)
    throw new UsageError('- (stdin) can be given once: stdin is read once, as one text.', 'embed');
  const choice = readModelChoice('embed', values);
  const outputType = outputTypeOption('embed', values);
  const inputs: string[] = [];
  for (const [index, text] of positionals.entries()) {
    const value = text === '-' ? (await readStdin()).replace(/\r?\n$/, '') : text;
    if (isBlank(value)) {
      // Which one, among several: "a text is empty" sent the user looking through all of them.
      const which = positionals.length === 1 ? 'the text' : `text ${index + 1} (of ${positionals.length})`;
      throw new CliError(`${text === '-' ? 'stdin' : which} is empty; embedding APIs reject empty inputs.`);
    }
    inputs.push(value);
  }
  const opened = await openChoice(choice, {
    replayInputs: inputs,
    ...(outputType === undefined ? {} : { outputType }),
  });
  try {
    const result = await embedMany({ ...engineSettings(choice, opened.model, outputType), inputs });
    const type = outputType ?? 'float';
    if (values.json) {
      const first = result.embeddings[0];
      const body = {
        model: fullModelId(choice),
        dimensions:
          choice.dimensions ?? (first === undefined ? null : first.length * dimensionsPerValue(type)),
        outputType: type,
        // An input type the model lacks is sent as none (with a warning): say what the vectors were made with.
        inputType: sentInputType(opened.model, choice.inputType) ?? null,
        usage: result.usage ?? null,
        embeddings: result.embeddings.map(vectorValues),
      };
      process.stdout.write(`${JSON.stringify(body)}\n`);
    } else if (values.summary) {
      result.embeddings.forEach((embedding, index) => {
        const label = inputs.length > 1 ? `${index + 1}: ` : '';
        process.stdout.write(`${label}${fullModelId(choice)} ${summarize(embedding, type)}\n`);
      });
      if (result.usage !== undefined) process.stdout.write(`${result.usage.inputTokens} tokens\n`);
    } else {
      for (const embedding of result.embeddings)
        process.stdout.write(`${JSON.stringify(vectorValues(embedding))}\n`);
    }
    return EXIT.ok;
  } finally {
    await opened.close();
  }
}
