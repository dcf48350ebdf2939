import { fileURLToPath } from 'node:url';
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createVoyage } from '../src/index.js';
import { voyageContextualizedWire, voyageRerankingWire, voyageWire } from './voyage-wire.js';

// Gaps of core's http layer (shared by every provider built on it) while core closes them; remove each once it passes.
const coreGaps = (prefix = '') => ({
  [`${prefix}error-200-body`]:
    "engine defect: core's parseResponse reports an error inside a 2xx as a wrong shape and drops the server's message",
  [`${prefix}redaction-json-escaped`]:
    "engine defect: core's redact removes the literal key only, not its JSON-escaped forms in a raw body",
  [`${prefix}redaction-request-id`]:
    "engine defect: core's requestJson keeps a request id that echoes the key as it came",
});

const base = { name: 'voyage', baseURL: 'https://api.voyageai.com/v1' };
describeEmbeddingProvider({
  ...base,
  modelId: 'voyage-3.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).embedding(modelId),
  wire: voyageWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'VOYAGE_API_KEY',
  expectedFailures: coreGaps(),
});
describeContextualizedProvider({
  ...base,
  modelId: 'voyage-context-3',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).contextualizedEmbedding(modelId),
  wire: voyageContextualizedWire,
  cassettes: fileURLToPath(new URL('./cassettes/contextualized', import.meta.url)),
  expectedFailures: coreGaps('ctx-'),
});
describeRerankingProvider({
  ...base,
  modelId: 'rerank-2.5',
  createModel: ({ modelId, ...settings }) => createVoyage(settings).reranking(modelId),
  wire: voyageRerankingWire,
  cassettes: fileURLToPath(new URL('./cassettes/rerank', import.meta.url)),
  expectedFailures: coreGaps('rerank-'),
});
