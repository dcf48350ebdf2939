import { fileURLToPath } from 'node:url';
import { describeEmbeddingProvider, openAICompatibleWire } from '@embedkit/conformance';
import { createOpenAI, createOpenAICompatible } from '../src/index.js';

describeEmbeddingProvider({
  name: 'openai',
  baseURL: 'https://api.openai.com/v1',
  modelId: 'text-embedding-3-small',
  createModel: ({ modelId, ...settings }) => createOpenAI(settings).embedding(modelId),
  // OpenAI documents at most 2,048 inputs and 300,000 tokens per request, and 8,192 tokens per input.
  wire: openAICompatibleWire({
    path: '/v1/embeddings',
    maxInputsPerRequest: 2048,
    maxTokensPerRequest: 300_000,
    maxTokensPerInput: 8192,
    vectorLengths: { default: 1536, allowed: { min: 1, max: 1536 } },
    requestIdHeader: 'x-request-id',
    options: [
      {
        name: 'user',
        options: { user: 'user-1234' },
        onWire: (body) => (body as { user?: string }).user,
        expected: 'user-1234',
      },
    ],
  }),
  cassettes: fileURLToPath(new URL('./cassettes', import.meta.url)),
  recordApiKeyEnvironmentVariable: 'OPENAI_API_KEY',
});

// A model of fixed length: its family checks that no length is sent when none was asked (the API refuses
// `dimensions` for text-embedding-ada-002), and that one asked for is refused before anything is sent.
describeEmbeddingProvider({
  name: 'openai fixed-length',
  baseURL: 'https://api.openai.com/v1',
  modelId: 'text-embedding-ada-002',
  createModel: ({ modelId, ...settings }) => createOpenAI(settings).embedding(modelId),
  wire: openAICompatibleWire({
    path: '/v1/embeddings',
    maxInputsPerRequest: 2048,
    maxTokensPerRequest: 300_000,
    maxTokensPerInput: 8192,
    // Fixed length: the API refuses `dimensions` for text-embedding-ada-002.
    vectorLengths: { default: 1536 },
  }),
});

// OneRouter-style use: an OpenAI-compatible gateway with its own base URL and capabilities.
describeEmbeddingProvider({
  name: 'onerouter',
  baseURL: 'https://llm.onerouter.pro/v1',
  modelId: 'text-embedding-3-small',
  createModel: ({ modelId, ...settings }) =>
    createOpenAICompatible({
      name: 'onerouter',
      ...settings,
      capabilities: { maxInputsPerCall: 64, dimensions: { min: 1, max: 1536 }, defaultDimensions: 1536 },
    }).embedding(modelId),
  wire: openAICompatibleWire({ path: '/v1/embeddings' }),
});
