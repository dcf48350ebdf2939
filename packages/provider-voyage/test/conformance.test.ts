import { fileURLToPath } from 'node:url';
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createVoyage } from '../src/index.js';
import { voyageContextualizedWire, voyageRerankingWire, voyageWire } from './voyage-wire.js';

const base = { name: 'voyage', baseURL: 'https://api.voyageai.com/v1' };
describeEmbeddingProvider({
  ...base,
  modelId: 'voyage-3.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).embedding(modelId),
  wire: voyageWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'VOYAGE_API_KEY',
});
describeContextualizedProvider({
  ...base,
  modelId: 'voyage-context-3',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).contextualizedEmbedding(modelId),
  wire: voyageContextualizedWire,
  cassettes: fileURLToPath(new URL('./cassettes/contextualized', import.meta.url)),
});
describeRerankingProvider({
  ...base,
  modelId: 'rerank-2.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).reranking(modelId),
  wire: voyageRerankingWire,
  cassettes: fileURLToPath(new URL('./cassettes/rerank', import.meta.url)),
});
