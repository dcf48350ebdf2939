import type { WireProfile } from '@embedkit/conformance';

type Body = { model?: string; texts: string[]; dims?: number; purpose?: string };
// Written out here rather than imported from src, so a wrong mapping in the provider cannot pass.
const types: Record<string, 'query' | 'document'> = { search_query: 'query', search_document: 'document' };
const codes: Record<string, string> = {
  'quota-exhausted': 'credits_exhausted',
  'batch-too-large': 'batch_too_large',
};

/** Lumen's wire: where a call goes, how to read a request back, how Lumen answers and fails. */
export const lumenWire: WireProfile = {
  endpoint: () => ({ method: 'POST', path: '/v2/embed' }),
  inputsOf: (body) => (body as Body).texts,
  dimensionsOf: (body) => (body as Body).dims,
  inputTypeOf: (body) => types[(body as Body).purpose ?? ''],
  successBody: ({ vectors, usageTokens }) => ({ vectors, tokens: usageTokens }),
  errorBody: ({ message, kind }) => ({ message, code: codes[kind ?? ''] ?? 'error' }),
  reportsUsage: true,
  // The body names the model, so the suite checks it is the one asked (model-named).
  modelOf: (request) => (request.body as Body).model,
  // Lumen's two special errors; each one declared here switches its scenarios on.
  signals: { quotaExhausted: true, batchTooLarge: true },
  maxInputsPerRequest: 96,
  authHeader: (apiKey) => ({ name: 'x-api-key', value: apiKey }),
};
