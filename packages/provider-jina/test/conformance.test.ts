import { fileURLToPath } from 'node:url';
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createJina } from '../src/index.js';
import { jinaContextualizedWire, jinaRerankingWire, jinaWire } from './jina-wire.js';

// Jina reports a used-up balance as 403 AUTHZ_INSUFFICIENT_BALANCE (tested in jina-errors.test.ts); its
// 429s are per-minute limits (RATE_*) and are retried, so no Jina body can pass the 429 quota scenario.
const noQuota429 =
  'Jina has no 429 quota-exhausted form: a used-up balance is a 403 PermissionDeniedError, every 429 is a RATE_* limit and retried';
const base = { name: 'jina', baseURL: 'https://api.jina.ai/v1' };
describeEmbeddingProvider({
  ...base,
  modelId: 'jina-embeddings-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).embedding(modelId),
  wire: jinaWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'JINA_API_KEY',
  expectedFailures: {
    'error-429-quota-exhausted': noQuota429,
    'tiny-batches/error-429-quota-exhausted': noQuota429,
  },
});
describeContextualizedProvider({
  ...base,
  modelId: 'jina-embeddings-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).contextualizedEmbedding(modelId),
  wire: jinaContextualizedWire,
});
describeRerankingProvider({
  ...base,
  modelId: 'jina-reranker-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).reranking(modelId),
  wire: jinaRerankingWire,
});
