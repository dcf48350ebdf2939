import { float32ToBase64 } from '@embedkit/core/provider';
import type { WireProfile } from '../types.js';

interface OpenAIRequestBody {
  input?: string | string[];
  model?: string;
  dimensions?: number;
  encoding_format?: string;
}

/**
 * The wire of OpenAI's `POST /embeddings`, shared by every OpenAI-compatible server: `input` array,
 * `dimensions`, `encoding_format` (answered in base64 when asked), `{"error": {...}}` bodies,
 * `usage.prompt_tokens`, Bearer auth. `path` is the full path of the endpoint, e.g. `/v1/embeddings`.
 */
export function openAICompatibleWire(options: {
  path: string;
  query?: string;
  maxInputsPerRequest?: number;
}): WireProfile {
  const path = options.query === undefined ? options.path : `${options.path}?${options.query}`;
  return {
    endpoint: () => ({ method: 'POST', path }),
    inputsOf(body) {
      const input = (body as OpenAIRequestBody).input;
      return typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
    },
    dimensionsOf: (body) => (body as OpenAIRequestBody).dimensions,
    // OpenAI embeddings have no input type.
    inputTypeOf: () => undefined,
    successBody({ body, vectors, order, usageTokens }) {
      const request = body as OpenAIRequestBody;
      const base64 = request.encoding_format === 'base64';
      return {
        object: 'list',
        data: order.map((index) => ({
          object: 'embedding',
          index,
          embedding: base64 ? float32ToBase64(vectors[index]!) : vectors[index],
        })),
        model: request.model,
        usage: { prompt_tokens: usageTokens ?? 0, total_tokens: usageTokens ?? 0 },
      };
    },
    errorBody({ status, message, kind }) {
      // Shapes as the API sends them: quota errors carry type and code `insufficient_quota`; the
      // request-size error carries `max_tokens_per_request`.
      if (kind === 'quota-exhausted')
        return { error: { message, type: 'insufficient_quota', param: null, code: 'insufficient_quota' } };
      if (kind === 'batch-too-large')
        return {
          error: { message, type: 'max_tokens_per_request', param: null, code: 'max_tokens_per_request' },
        };
      const code =
        status === 401
          ? 'invalid_api_key'
          : status === 404
            ? 'model_not_found'
            : status === 429
              ? 'rate_limit_exceeded'
              : null;
      return {
        error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code },
      };
    },
    reportsUsage: true,
    ...(options.maxInputsPerRequest === undefined
      ? {}
      : { maxInputsPerRequest: options.maxInputsPerRequest }),
    authHeader: (apiKey) => ({ name: 'authorization', value: `Bearer ${apiKey}` }),
  };
}
