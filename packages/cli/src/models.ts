import type { EmbeddingCapabilities } from '@embedkit/core';
import { HELP_OPTION, parse, stringOption } from './args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { installedProviderNames, type KnownModel, loadProvider, modelsOf, packageName } from './providers.js';

export const MODELS_HELP = `Usage: embedkit models [--provider <name>] [--json]

Lists every embedding model the installed provider packages know (the ones the commands embed with;
contextualized and reranking models are left out), with its capabilities: default and allowed
dimensions, inputs and tokens per call, context length, input types, output types, modalities, and
whether vectors come back unit-length. Providers not installed are named with the package to install.
Other model ids are accepted too; these are the ones whose limits the packages know.

Options:
  -p, --provider <name>  only this provider (openai, voyage, gemini, jina, ...)
  --json               print a JSON array

Example:
  embedkit models --provider openai
`;

const OPTIONS = {
  ...HELP_OPTION,
  provider: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
} as const;

function describeDimensions(capabilities: EmbeddingCapabilities): string {
  const allowed = capabilities.dimensions;
  const fallback =
    capabilities.defaultDimensions === undefined ? '?' : String(capabilities.defaultDimensions);
  if (allowed === undefined) return fallback;
  const range = 'min' in allowed ? `${allowed.min}-${allowed.max}` : allowed.join('/');
  return `${fallback} (${range})`;
}

function row(model: KnownModel): string[] {
  const c = model.capabilities;
  return [
    model.modelId,
    model.kind,
    describeDimensions(c),
    String(c.maxInputsPerCall),
    c.maxTokensPerCall === undefined ? '-' : String(c.maxTokensPerCall),
    c.maxTokensPerInput === undefined ? '-' : String(c.maxTokensPerInput),
    c.inputTypes.length === 0 ? '-' : c.inputTypes.join(','),
    c.outputTypes.join(','),
    c.modalities.join(','),
    c.normalized ? 'yes' : 'no',
  ];
}

const HEADINGS = [
  'MODEL',
  'KIND',
  'DIMENSIONS',
  'INPUTS/CALL',
  'TOKENS/CALL',
  'CONTEXT',
  'INPUT TYPES',
  'OUTPUT TYPES',
  'MODALITIES',
  'NORMALIZED',
];

function table(rows: string[][]): string {
  const widths = HEADINGS.map((heading, column) =>
    Math.max(heading.length, ...rows.map((cells) => cells[column]!.length)),
  );
  return [HEADINGS, ...rows]
    .map(
      (cells) =>
        `  ${cells
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}`,
    )
    .join('\n');
}

export async function modelsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('models', argv, OPTIONS);
  if (values.help) {
    process.stdout.write(MODELS_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(`models takes no arguments; got "${positionals[0]}".`, 'models');
  const only = stringOption(values, 'provider');
  if (only !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(only))
    throw new UsageError(`"${only}" is not a provider name.`, 'models');
  const names = only === undefined ? installedProviderNames() : [only];
  const found: { provider: string; models: KnownModel[] }[] = [];
  const notes: string[] = [];
  for (const provider of names) {
    try {
      const module = await loadProvider(provider);
      found.push({ provider, models: modelsOf(provider, module) });
    } catch (error) {
      // With --provider the one asked for must load; in the full listing a missing one is a note.
      if (only !== undefined) throw error;
      const message = error instanceof CliError ? error.message.split('\n')[0]! : String(error);
      notes.push(
        message.includes('not installed')
          ? `${provider}: not installed (npm install ${packageName(provider)})`
          : `${provider}: ${message}`,
      );
    }
  }
  if (values.json) {
    const models = found.flatMap(({ models }) => models);
    process.stdout.write(`${JSON.stringify(models)}\n`);
  } else {
    const blocks = found.map(({ provider, models }) =>
      models.length === 0
        ? `${provider} (${packageName(provider)}): the package lists no models; any model id is passed through.`
        : `${provider} (${packageName(provider)})\n${table(models.map(row))}`,
    );
    process.stdout.write(`${blocks.join('\n\n')}\n`);
  }
  for (const note of notes) process.stderr.write(`${note}\n`);
  return found.length === 0 ? EXIT.failure : EXIT.ok;
}
