/** Constructed cassettes of the Acme API, replayed by the suite's own test against the reference and every mutant. */
import { float32ToBase64 } from '@embedkit/core/provider';
import type { CassetteInteraction } from '@embedkit/replay';
import type { Cassette } from '../src/types.js';
import { ACME_VERSION } from './reference-provider.js';

export const ACME_VECTORS = [
  [0.5, -0.5, 0.25, 0.125, 0, 1, -1, 0.75],
  [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
];

const answer = (vectors: number[][], order: number[], tokens: number) => ({
  object: 'list',
  data: order.map((index) => ({ object: 'embedding', index, embedding: float32ToBase64(vectors[index]!) })),
  model: 'acme-embed-1',
  usage: { prompt_tokens: tokens, total_tokens: tokens },
});

/**
 * The request headers every Acme request sends, as a recording keeps them: its content type and version
 * by value, its key by the header and scheme that carry it.
 */
const acmeHeaders: Pick<CassetteInteraction['request'], 'headers' | 'auth'> = {
  headers: { 'acme-version': ACME_VERSION, 'content-type': 'application/json' },
  auth: { header: 'authorization', scheme: 'Bearer' },
};

/** The request Acme sends for one input, 'pets', at 8 dimensions. */
const petsRequest = {
  method: 'POST',
  path: '/v1/embeddings',
  body: { model: 'acme-embed-1', input: ['pets'], encoding_format: 'base64', truncate: false, dimensions: 8 },
  ...acmeHeaders,
};

export const acmeCassettes: Cassette[] = [
  {
    version: 1,
    name: 'two inputs as queries',
    source: 'constructed',
    call: { modelId: 'acme-embed-1', inputs: ['pets', 'animals'], inputType: 'query', dimensions: 8 },
    interactions: [
      {
        request: {
          method: 'POST',
          path: '/v1/embeddings',
          body: {
            model: 'acme-embed-1',
            input: ['pets', 'animals'],
            encoding_format: 'base64',
            truncate: false,
            dimensions: 8,
            input_type: 'query',
          },
          ...acmeHeaders,
        },
        response: {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: answer(ACME_VECTORS, [1, 0], 2),
        },
      },
    ],
    expect: {
      embeddings: { count: 2, dimensions: 8, prefixes: ACME_VECTORS.map((vector) => vector.slice(0, 4)) },
      usage: { inputTokens: 2 },
    },
  },
  {
    version: 1,
    name: 'rate limited then answered',
    source: 'constructed',
    description:
      'A 429 asking for 1.5 s in retry-after-ms; the engine must wait exactly that before the retry.',
    call: { modelId: 'acme-embed-1', inputs: ['pets'], dimensions: 8, maxRetries: 1 },
    interactions: [
      {
        request: petsRequest,
        response: {
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after-ms': '1500' },
          body: {
            error: {
              message: 'Rate limit reached.',
              type: 'requests',
              param: null,
              code: 'rate_limit_exceeded',
            },
          },
        },
      },
      {
        request: petsRequest,
        response: {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: answer(ACME_VECTORS, [0], 1),
        },
      },
    ],
    expect: {
      embeddings: { count: 1, dimensions: 8, prefixes: [ACME_VECTORS[0]!.slice(0, 4)] },
      usage: { inputTokens: 1 },
    },
  },
];
