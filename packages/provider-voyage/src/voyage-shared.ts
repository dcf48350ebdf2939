import type { EmbedRequest, JsonEndpoint, RateLimiter, Warning } from '@embedkit/core/provider';

/** What a Voyage provider hands each of its models: the API as a JSON endpoint (key and host read at each call). */
export interface VoyageModelConfig extends JsonEndpoint {
  /** The limiter the provider's models draw on, when the provider was given one. */
  rateLimiter?: RateLimiter | undefined;
  /** The base URL the setting or the environment chose, unless it is the API's own (no key is read). */
  customBaseURL: () => string | undefined;
}

/**
 * The settings every Voyage embedding endpoint shares. The engine checked them against the model's
 * capabilities; this maps them to Voyage's words.
 */
export function commonEmbeddingFields(
  request: Pick<EmbedRequest, 'inputType' | 'dimensions' | 'outputType'>,
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
  if (request.dimensions !== undefined) body.output_dimension = request.dimensions;
  const outputType = request.outputType ?? 'float';
  // `float` is the API default; the quantized types go as `output_dtype`.
  if (outputType !== 'float') body.output_dtype = outputType;
  return body;
}
