import { type ParseArgsConfig, parseArgs } from 'node:util';
import { INPUT_TYPES, type InputType, type OutputType } from '@embedkit/core';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

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

/** `parseArgs` in strict mode, with its errors turned into usage errors that name the command. */
export function parse(
  command: string,
  argv: string[],
  options: Options,
): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedValues, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A whole number option, checked against `minimum`. */
export function integerOption(
  command: string,
  values: ParsedValues,
  name: string,
  minimum: number,
): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum) {
    throw new UsageError(`--${name} must be a whole number ≥ ${minimum}, got "${text}".`, command);
  }
  return value;
}

/** A positive number option (may be fractional), e.g. seconds. */
export function numberOption(command: string, values: ParsedValues, name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a number > 0, got "${text}".`, command);
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

const OUTPUT_TYPES: readonly OutputType[] = ['float', 'int8', 'uint8', 'binary', 'ubinary'];

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

export function splitModelId(text: string, command: string): { provider: string; modelId: string } {
  const separator = text.indexOf(':');
  if (separator <= 0 || separator === text.length - 1) {
    throw new UsageError(
      `--model must look like "provider:model", e.g. "openai:text-embedding-3-small"; got "${text}".`,
      command,
    );
  }
  const provider = text.slice(0, separator);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(provider)) {
    throw new UsageError(
      `"${provider}" is not a provider name (lowercase letters, digits and dashes).`,
      command,
    );
  }
  return { provider, modelId: text.slice(separator + 1) };
}
