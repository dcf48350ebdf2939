import { fileURLToPath } from 'node:url';
import { describeBatchEmbeddingJobs, describeEmbeddingProvider } from '@embedkit/conformance';
import { createGemini } from '../src/index.js';
import { geminiBatchWire, geminiWire } from './gemini-wire.js';

const baseURL = 'https://generativelanguage.googleapis.com/v1beta';

describeEmbeddingProvider({
  name: 'gemini',
  baseURL,
  modelId: 'gemini-embedding-001',
  createModel: ({ modelId, ...settings }) => createGemini(settings).embedding(modelId),
  wire: geminiWire,
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'GEMINI_API_KEY',
});

for (const results of ['inline', 'file'] as const) {
  describeBatchEmbeddingJobs({
    name: `gemini (${results} results)`,
    baseURL,
    modelId: 'gemini-embedding-001',
    createJobs: ({ modelId, ...settings }) => createGemini(settings).batchEmbeddingJobs(modelId),
    wire: geminiBatchWire(results),
    dimensions: 128,
    ...(results === 'inline'
      ? { cassettes: fileURLToPath(new URL('./cassettes/batch', import.meta.url)) }
      : {}),
  });
}
