import { InvalidArgumentError, InvalidResponseError } from './errors.js';
import type { JsonResponse } from './http/client.js';
import type { Embedding, OutputType, ResponseInfo } from './types.js';
import { decodeBase64Vectors, numberArraysToVectors } from './vectors.js';

/**
 * The API key for a call: the explicit setting, else the first environment variable that is set. Read at
 * call time, never at import. A missing key is an `InvalidArgumentError` that names what to set.
 */
export function loadApiKey(options: {
  apiKey: string | undefined;
  environmentVariables: readonly string[];
  provider: string;
}): string {
  if (options.apiKey !== undefined) {
    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      const fallback =
        options.environmentVariables.length === 0
          ? ''
          : ` or leave it out to use ${options.environmentVariables.join(' or ')}`;
      throw new InvalidArgumentError(`${options.provider}: apiKey is empty; pass a key${fallback}.`, {
        argument: 'apiKey',
      });
    }
    return options.apiKey;
  }
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  for (const name of options.environmentVariables) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  const where =
    options.environmentVariables.length === 0
      ? 'Pass apiKey'
      : `Set the ${options.environmentVariables.join(' or ')} environment variable, or pass apiKey`;
  throw new InvalidArgumentError(`${options.provider}: no API key. ${where} to the provider settings.`, {
    argument: 'apiKey',
  });
}

/** What the response helpers need of a schema: zod's `safeParse`, described structurally so core needs no zod. */
export interface SafeParser<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Reads `providerOptions[provider]` with a strict schema; a bad option is an `InvalidArgumentError` before sending. */
export function readProviderOptions<T>(
  schema: SafeParser<T>,
  provider: string,
  providerOptions: Record<string, Record<string, unknown>> | undefined,
): T {
  const options = schema.safeParse(providerOptions?.[provider] ?? {});
  if (!options.success) {
    throw new InvalidArgumentError(
      `providerOptions.${provider} is invalid: ${describeIssues(options.error.issues)}.`,
      {
        argument: `providerOptions.${provider}`,
      },
    );
  }
  return options.data;
}

/** Checks a response body against a (lenient) schema; the wrong shape is an `InvalidResponseError` naming the first problem. */
export function parseResponse<T>(
  schema: SafeParser<T>,
  response: JsonResponse,
  provider: string,
  what: string,
): T {
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidResponseError(
      `${provider} returned a ${what} body of the wrong shape: ${issue === undefined ? '' : describeIssues([issue])}.`,
      { provider, statusCode: response.status, requestId: response.requestId },
    );
  }
  return parsed.data;
}

/** Response metadata for the engine. */
export function responseInfo(response: JsonResponse, modelId: string | undefined): ResponseInfo {
  const info: ResponseInfo = { status: response.status, headers: response.headers };
  if (response.requestId !== undefined) info.requestId = response.requestId;
  if (modelId !== undefined) info.modelId = modelId;
  return info;
}

/**
 * Puts each item at its `index` (APIs do not promise order) and checks that every position from 0 to
 * `expected - 1` is filled exactly once.
 */
export function inOrder<T extends { index: number }>(
  items: readonly T[],
  expected: number,
  what: string,
  provider: string,
): T[] {
  if (items.length !== expected) {
    throw new InvalidResponseError(`${provider} returned ${items.length} ${what} for ${expected} inputs.`, {
      provider,
    });
  }
  const ordered = new Array<T>(expected);
  for (const item of items) {
    if (
      !Number.isInteger(item.index) ||
      item.index < 0 ||
      item.index >= expected ||
      ordered[item.index] !== undefined
    ) {
      throw new InvalidResponseError(
        `${provider} returned ${what} index ${item.index} ${ordered[item.index] !== undefined ? 'twice' : 'out of range'} for ${expected} inputs.`,
        { provider },
      );
    }
    ordered[item.index] = item;
  }
  return ordered;
}

/**
 * Decodes vectors into one slab: base64 strings (little-endian float32 for `float`, one byte per value
 * otherwise), or JSON number arrays (bit-packed types some APIs return as integers, or floats from a
 * server that ignored the encoding asked for — accepted as numbers, never decoded as base64), or float
 * vectors `requestJson` already decoded (`floatVectors`), which are checked and kept where they are.
 */
export function decodeVectors(
  vectors: readonly (string | unknown[] | Float32Array)[],
  outputType: OutputType,
): Embedding[] {
  if (vectors.every((vector) => typeof vector === 'string'))
    return decodeBase64Vectors(vectors as string[], outputType);
  if (vectors.every((vector) => typeof vector !== 'string'))
    return numberArraysToVectors(vectors, outputType);
  return vectors.map((vector) =>
    typeof vector === 'string'
      ? decodeBase64Vectors([vector], outputType)[0]!
      : numberArraysToVectors([vector], outputType)[0]!,
  );
}

/** `data:<mediaType>;base64,<payload>`: the media type and the payload, or undefined for any other string. */
export function parseDataUrl(text: string): { mediaType: string; base64: string } | undefined {
  const match = /^data:([a-z]+\/[a-z0-9.+-]+);base64,(.+)$/is.exec(text);
  return match === null ? undefined : { mediaType: match[1]!.toLowerCase(), base64: match[2]! };
}
