import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { describeEmbeddingProvider } from '../src/describe.js';

// The suite as a provider author registers it, against the reference provider the mutants derive from.
describeEmbeddingProvider({
  name: 'acme reference',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
});
