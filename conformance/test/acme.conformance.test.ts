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
describeEmbeddingProvider({
  ...base,
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
});
describeContextualizedProvider({
  ...base,
  modelId: 'acme-context-1',
  createModel: createAcmeContextualizedModel,
  wire: acmeContextualizedWire,
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
