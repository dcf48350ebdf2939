import { fileURLToPath } from 'node:url';
// From source until @embedkit/conformance's index re-exports its groups/ (the lead adds that export).
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createVoyage } from '../src/index.js';
import { voyageContextualizedWire, voyageRerankingWire, voyageWire } from './voyage-wire.js';

const noQuotaForm = 'Voyage documents no quota-exhausted error: every 429 is a rate limit, and retried';
const base = { name: 'voyage', baseURL: 'https://api.voyageai.com/v1' };
describeEmbeddingProvider({
  ...base,
  modelId: 'voyage-3.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).embedding(modelId),
  wire: voyageWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'VOYAGE_API_KEY',
  expectedFailures: {
    'error-429-quota-exhausted': noQuotaForm,
    'tiny-batches/error-429-quota-exhausted': noQuotaForm,
  },
});
describeContextualizedProvider({
  ...base,
  modelId: 'voyage-context-3',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).contextualizedEmbedding(modelId),
  wire: voyageContextualizedWire,
});
describeRerankingProvider({
  ...base,
  modelId: 'rerank-2.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).reranking(modelId),
  wire: voyageRerankingWire,
});
