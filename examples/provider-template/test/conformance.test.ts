import { describeEmbeddingProvider } from '@embedkit/conformance';
import { createLumen } from '../src/index.js';
import { lumenWire } from './lumen-wire.js';

describeEmbeddingProvider({
  name: 'lumen',
  baseURL: 'https://api.lumen.example/v2',
  modelId: 'lumen-embed-1',
  createModel: ({ modelId, ...settings }) => createLumen(settings).embedding(modelId),
  wire: lumenWire,
});
