import {
  type EmbeddingCapabilities,
  type EmbedRequest,
  InvalidArgumentError,
  type JsonResponse,
  requestJson,
  type Transport,
  type Warning,
} from '@embedkit/core';
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
