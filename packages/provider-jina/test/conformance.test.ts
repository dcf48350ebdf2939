import { fileURLToPath } from 'node:url';
import {
  describeContextualizedProvider,
  describeEmbeddingProvider,
  describeRerankingProvider,
} from '@embedkit/conformance';
import { createJina } from '../src/index.js';
import { jinaContextualizedWire, jinaRerankingWire, jinaWire } from './jina-wire.js';

// Gaps of core's http layer (shared by every provider built on it) while core closes them; remove each once it passes.
const coreGaps = (prefix = '') => ({
  [`${prefix}error-200-body`]:
    "engine defect: core's parseResponse reports an error inside a 2xx as a wrong shape and drops the server's message",
  [`${prefix}redaction-json-escaped`]:
    "engine defect: core's redact removes the literal key only, not its JSON-escaped forms in a raw body",
  [`${prefix}redaction-request-id`]:
    "engine defect: core's requestJson keeps a request id that echoes the key as it came",
});

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
  expectedFailures: coreGaps(),
});
describeContextualizedProvider({
  ...base,
  modelId: 'jina-embeddings-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).contextualizedEmbedding(modelId),
  wire: jinaContextualizedWire,
  cassettes: fileURLToPath(new URL('./cassettes/contextualized', import.meta.url)),
  expectedFailures: coreGaps('ctx-'),
});
describeRerankingProvider({
  ...base,
  modelId: 'jina-reranker-v3',
  createModel: ({ modelId, ...settings }) => createJina(settings).reranking(modelId),
  wire: jinaRerankingWire,
  cassettes: fileURLToPath(new URL('./cassettes/rerank', import.meta.url)),
  expectedFailures: coreGaps('rerank-'),
});
