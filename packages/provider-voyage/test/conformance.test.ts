import { fileURLToPath } from 'node:url';
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createVoyage } from '../src/index.js';
import { voyageContextualizedWire, voyageRerankingWire, voyageWire } from './voyage-wire.js';

// Temporary, until the engine is fixed: core's Packer gives a call it closes on the token (or chunk) budget
// the offset of the next item, so the job's vectors land one place late (a hole, and one vector too many).
const engineDefect =
  'engine defect: a call closed on the token or chunk budget starts one position late (n + 1 vectors, one hole)';

const base = { name: 'voyage', baseURL: 'https://api.voyageai.com/v1' };
describeEmbeddingProvider({
  ...base,
  modelId: 'voyage-3.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).embedding(modelId),
  wire: voyageWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'VOYAGE_API_KEY',
  expectedFailures: { 'token-budget-split': engineDefect, 'split-at-token-limit': engineDefect },
});
describeContextualizedProvider({
  ...base,
  modelId: 'voyage-context-3',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).contextualizedEmbedding(modelId),
  wire: voyageContextualizedWire,
  cassettes: fileURLToPath(new URL('./cassettes/contextualized', import.meta.url)),
  expectedFailures: {
    'ctx-split-by-chunks': engineDefect,
    'tiny-batches/ctx-split-by-chunks': engineDefect,
    'ctx-token-budget-split': engineDefect,
  },
});
describeRerankingProvider({
  ...base,
  modelId: 'rerank-2.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).reranking(modelId),
  wire: voyageRerankingWire,
  cassettes: fileURLToPath(new URL('./cassettes/rerank', import.meta.url)),
});
