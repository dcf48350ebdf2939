import { fileURLToPath } from 'node:url';
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createJina } from '../src/index.js';
import { jinaContextualizedWire, jinaRerankingWire, jinaWire } from './jina-wire.js';

// Jina reports a used-up balance as 403 AUTHZ_INSUFFICIENT_BALANCE (tested in jina-errors.test.ts), not
// as a 429, so its wire declares no quota-exhausted signal.
const base = { name: 'jina', baseURL: 'https://api.jina.ai/v1' };
describeEmbeddingProvider({
  ...base,
  modelId: 'jina-embeddings-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).embedding(modelId),
  wire: jinaWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'JINA_API_KEY',
});
describeContextualizedProvider({
  ...base,
  modelId: 'jina-embeddings-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).contextualizedEmbedding(modelId),
  wire: jinaContextualizedWire,
  cassettes: fileURLToPath(new URL('./cassettes/contextualized', import.meta.url)),
});
describeRerankingProvider({
  ...base,
  modelId: 'jina-reranker-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).reranking(modelId),
  wire: jinaRerankingWire,
  cassettes: fileURLToPath(new URL('./cassettes/rerank', import.meta.url)),
});
