import { describeEmbeddingProvider } from '@embedkit/conformance';
import { createLumen } from '../src/index.js';

type Body = { texts: string[]; dims?: number; purpose?: string };
const types: Record<string, 'query' | 'document'> = { search_query: 'query', search_document: 'document' };

describeEmbeddingProvider({
  name: 'lumen',
  baseURL: 'https://api.lumen.example/v2',
  modelId: 'lumen-embed-1',
  createModel: ({ modelId, ...settings }) => createLumen(settings).embedding(modelId),
  wire: {
    endpoint: () => ({ method: 'POST', path: '/v2/embed' }),
    inputsOf: (body) => (body as Body).texts,
    dimensionsOf: (body) => (body as Body).dims,
    inputTypeOf: (body) => types[(body as Body).purpose ?? ''],
    successBody: ({ vectors, usageTokens }) => ({ vectors, tokens: usageTokens }),
    errorBody: ({ message, kind }) => ({
      message,
      code:
        { 'quota-exhausted': 'credits_exhausted', 'batch-too-large': 'batch_too_large' }[kind ?? ''] ??
        'error',
    }),
    reportsUsage: true,
    maxInputsPerRequest: 96,
    authHeader: (apiKey) => ({ name: 'x-api-key', value: apiKey }),
  },
});
