import type { WireProfile } from '@embedkit/conformance';
import type { InputType } from '@embedkit/core';

/**
 * Cohere's embed API (`POST https://api.cohere.com/v2/embed`), from Cohere's API reference
 * (docs.cohere.com/reference/embed and /reference/errors):
 *
 * - request: `model`, `texts` (at most 96), `input_type` (`search_document`, `search_query`,
 *   `classification`, `clustering`, `image`; required by v3 and newer models), `embedding_types`
 *   (default `["float"]`), `output_dimension` (256, 512, 1024 or 1536; embed-v4.0 and newer), `truncate`
 *   (`NONE`, `START`, `END`; default `END`); Bearer auth.
 * - answer: `{ id, embeddings: { float: [[…]] , int8, uint8, binary, ubinary, base64 }, texts, meta }`,
 *   vectors in input order with no index field; `meta.billed_units.input_tokens` is the token count.
 * - errors: every non-2xx body is `{ "message": string }`; the size limit reads "invalid request: total
 *   number of texts must be at most 96 - received 104".
 *
 * Not verified against the live API (no key here): the exact wording Cohere uses for a used-up quota and
 * for too many tokens in one call (both written below in the documented `{ message }` shape), and
 * whether `meta.billed_units.input_tokens` is present on every answer (the AI SDK provider requires it).
 */

interface CohereRequestBody {
  model?: string;
  texts?: string[];
  input_type?: string;
  output_dimension?: number;
}

// Written out here rather than taken from the adapter, so that a wrong mapping there cannot pass.
const INPUT_TYPE_OF: Record<string, InputType> = {
  search_query: 'query',
  search_document: 'document',
  classification: 'classification',
  clustering: 'clustering',
};

/** Cohere's documented limit on texts per embed call. */
export const COHERE_MAX_TEXTS = 96;

export const cohereWire: WireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v2/embed' }),
  inputsOf: (body) => (body as CohereRequestBody).texts ?? [],
  dimensionsOf: (body) => (body as CohereRequestBody).output_dimension,
  inputTypeOf: (body) => {
    const inputType = (body as CohereRequestBody).input_type;
    return inputType === undefined ? undefined : INPUT_TYPE_OF[inputType];
  },
  // Cohere answers in input order and carries no index, so `order` cannot be expressed.
  successBody: ({ body, vectors, usageTokens }) => ({
    id: 'conformance-embed-1',
    embeddings: { float: vectors },
    texts: (body as CohereRequestBody).texts ?? [],
    meta: {
      api_version: { version: '2' },
      // None at all for an answer without usage.
      ...(usageTokens === undefined ? {} : { billed_units: { input_tokens: usageTokens } }),
    },
  }),
  errorBody({ status, message, kind }) {
    if (kind === 'batch-too-large') return { message: `too many tokens: ${message}` };
    if (kind === 'quota-exhausted')
      return { message: `You are past your monthly limit of API calls for this Trial key. (${message})` };
    return { message: status === 401 ? `invalid api token: ${message}` : message };
  },
  reportsUsage: true,
  maxInputsPerRequest: COHERE_MAX_TEXTS,
  authHeader: (apiKey) => ({ name: 'authorization', value: `Bearer ${apiKey}` }),
};
