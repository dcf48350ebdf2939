import {
  decodeBase64Vectors,
  type Embedding,
  type EmbeddingCapabilities,
  type EmbedRequest,
  InvalidArgumentError,
  InvalidResponseError,
  type JsonResponse,
  numberArraysToVectors,
  type OutputType,
  type ResponseInfo,
  requestJson,
  type Transport,
  type Warning,
} from '@embedkit/core';
import type { z } from 'zod';
import { parseVoyageError } from './voyage-api.js';

/** What a Voyage provider hands each of its models. */
export interface VoyageModelConfig {
  /** `voyage`: the provider name and the `providerOptions` key. */
  provider: string;
  /** Reads the key at call time and picks the host for it; returns the secrets to redact too. */
  resolve: () => { baseURL: string; headers: Record<string, string>; secrets: string[] };
  transport: Transport;
  maxResponseBytes?: number;
}

/** Reads `providerOptions.voyage` with a strict schema; a bad option is an `InvalidArgumentError` before sending. */
export function readProviderOptions<T extends z.ZodType>(
  schema: T,
  provider: string,
  providerOptions: Record<string, Record<string, unknown>> | undefined,
): z.infer<T> {
  const options = schema.safeParse(providerOptions?.[provider] ?? {});
  if (!options.success) {
    throw new InvalidArgumentError(
      `providerOptions.${provider} is invalid: ${options.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}.`,
      { argument: `providerOptions.${provider}` },
    );
  }
  return options.data;
}

/** The settings every Voyage embedding endpoint shares, checked against the model's capabilities. */
export function commonEmbeddingFields(
  request: Pick<EmbedRequest, 'inputType' | 'dimensions' | 'outputType'>,
  capabilities: EmbeddingCapabilities,
  label: string,
  warnings: Warning[],
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (request.inputType === 'query' || request.inputType === 'document') {
    body.input_type = request.inputType;
  } else if (request.inputType !== undefined) {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'inputType',
      message: `${label} has no "${request.inputType}" input type (it supports query, document); the inputs were sent without one.`,
    });
  }
  if (request.dimensions !== undefined) {
    const allowed = capabilities.dimensions;
    if (allowed === undefined) {
      throw new InvalidArgumentError(`${label} has a fixed vector length; remove the dimensions option.`, {
        argument: 'dimensions',
      });
    }
    const ok =
      'min' in allowed
        ? request.dimensions >= allowed.min && request.dimensions <= allowed.max
        : allowed.includes(request.dimensions);
    if (!ok) {
      throw new InvalidArgumentError(
        `dimensions ${request.dimensions} is not allowed for ${label}; use ${'min' in allowed ? `${allowed.min} to ${allowed.max}` : allowed.join(', ')}.`,
        { argument: 'dimensions' },
      );
    }
    body.output_dimension = request.dimensions;
  }
  const outputType = request.outputType ?? 'float';
  if (!capabilities.outputTypes.includes(outputType)) {
    throw new InvalidArgumentError(
      `${label} cannot return ${outputType} vectors; it supports ${capabilities.outputTypes.join(', ')}.`,
      { argument: 'outputType' },
    );
  }
  // `float` is the API default; the quantized types go as `output_dtype`.
  if (outputType !== 'float') body.output_dtype = outputType;
  return body;
}

/** Posts one JSON body to `{baseURL}{path}` with the key, mapping Voyage's error bodies. */
export async function postVoyage(
  config: VoyageModelConfig,
  path: string,
  body: Record<string, unknown>,
  request: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> },
): Promise<JsonResponse> {
  const { baseURL, headers, secrets } = config.resolve();
  return requestJson({
    transport: config.transport,
    provider: config.provider,
    url: `${baseURL.replace(/\/+$/, '')}${path}`,
    method: 'POST',
    headers: { ...headers, ...request.headers },
    body,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    secrets,
    maxResponseBytes: config.maxResponseBytes,
    parseError: parseVoyageError,
  });
}

/** Response metadata for the engine. */
export function responseInfo(response: JsonResponse, modelId: string | undefined): ResponseInfo {
  const info: ResponseInfo = { status: response.status, headers: response.headers };
  if (response.requestId !== undefined) info.requestId = response.requestId;
  if (modelId !== undefined) info.modelId = modelId;
  return info;
}

/** Checks a response body with zod; the wrong shape is an `InvalidResponseError` naming the first problem. */
export function parseResponse<T extends z.ZodType>(
  schema: T,
  response: JsonResponse,
  provider: string,
  what: string,
): z.infer<T> {
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidResponseError(
      `${provider} returned a ${what} body of the wrong shape: ${issue?.path.join('.')} ${issue?.message}.`,
      { provider, statusCode: response.status, requestId: response.requestId },
    );
  }
  return parsed.data;
}

/**
 * Puts each item at its `index` (the API does not promise order) and checks that every position from 0
 * to `expected - 1` is filled exactly once.
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
    if (item.index >= expected || ordered[item.index] !== undefined) {
      throw new InvalidResponseError(
        `${provider} returned ${what} index ${item.index} ${item.index >= expected ? 'out of range' : 'twice'} for ${expected} inputs.`,
        { provider },
      );
    }
    ordered[item.index] = item;
  }
  return ordered;
}

/**
 * Decodes vectors into one slab: base64 per `output_dtype` (little-endian float32, or one byte per value:
 * signed for `int8` / `binary`, unsigned for `uint8` / `ubinary`), or JSON numbers if the API ignored
 * `encoding_format`.
 */
export function decodeVectors(vectors: readonly (string | unknown[])[], outputType: OutputType): Embedding[] {
  if (vectors.every((vector) => typeof vector === 'string'))
    return decodeBase64Vectors(vectors as string[], outputType);
  if (vectors.every((vector) => Array.isArray(vector))) return numberArraysToVectors(vectors, outputType);
  return vectors.map((vector) =>
    typeof vector === 'string'
      ? decodeBase64Vectors([vector], outputType)[0]!
      : numberArraysToVectors([vector], outputType)[0]!,
  );
}
