import {
  acmeBatchWire,
  acmeContextualizedWire,
  acmeRerankingWire,
  createAcmeBatchJobs,
  createAcmeContextualizedModel,
  createAcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { describeEmbeddingProvider } from '../src/describe.js';
import { describeBatchEmbeddingJobs } from '../src/groups/batch-jobs.js';
import { describeContextualizedProvider } from '../src/groups/contextualized/index.js';
import { describeRerankingProvider } from '../src/groups/rerank/index.js';

// The suite as a provider author registers it, against the references the mutants derive from.
const base = { name: 'acme reference', baseURL: 'https://api.acme.test/v1' };
// Temporary, until the engine is fixed: core's Packer gives a call it closes on the token (or chunk) budget
// the offset of the next item, so the job's vectors land one place late (a hole, and one vector too many).
const engineDefect =
  'engine defect: a call closed on the token or chunk budget starts one position late (n + 1 vectors, one hole)';
describeEmbeddingProvider({
  ...base,
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
  expectedFailures: { 'token-budget-split': engineDefect, 'split-at-token-limit': engineDefect },
});
describeContextualizedProvider({
  ...base,
  modelId: 'acme-context-1',
  createModel: createAcmeContextualizedModel,
  wire: acmeContextualizedWire,
  expectedFailures: {
    'ctx-split-by-chunks': engineDefect,
    'tiny-batches/ctx-split-by-chunks': engineDefect,
    'ctx-token-budget-split': engineDefect,
  },
});
describeRerankingProvider({
  ...base,
  modelId: 'acme-rerank-1',
  createModel: createAcmeRerankingModel,
  wire: acmeRerankingWire,
});
describeBatchEmbeddingJobs({
  ...base,
  modelId: 'acme-embed-1',
  createJobs: createAcmeBatchJobs,
  wire: acmeBatchWire,
  dimensions: 16,
});
