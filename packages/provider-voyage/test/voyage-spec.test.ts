import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Cassette } from '@embedkit/conformance';
import { embedContextualized, embedMany, rerank } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

// MongoDB's OpenAPI 3.1 spec of the Voyage API (the most precise Voyage schema), read where the project's
// shared material keeps it; it is never copied into the package.
const SPEC_PATH = '/work/shared/specs/voyage-atlas.openapi.json';
const specMissing = !existsSync(SPEC_PATH);
const SKIP_REASON = `(skipped when ${SPEC_PATH} is absent: the spec lives outside the repository)`;

type Json = Record<string, unknown>;

/** The spec mixes in 3.0-style `nullable`, sometimes without `type`; its enums already list null. */
function stripNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = stripNullable(value);
  return out;
}

function validators(): {
  request: Record<string, ValidateFunction>;
  response: Record<string, ValidateFunction>;
} {
  const spec = stripNullable(JSON.parse(readFileSync(SPEC_PATH, 'utf8'))) as {
    paths: Record<string, { post: { requestBody: Json; responses: Record<string, Json> } }>;
  };
  // Not strict: the spec carries vendor keywords (`x-supported-models`) and OpenAPI's `discriminator`.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  const request: Record<string, ValidateFunction> = {};
  const response: Record<string, ValidateFunction> = {};
  for (const [path, item] of Object.entries(spec.paths)) {
    const content = (body: Json) =>
      (body.content as Record<string, { schema: Json }>)['application/json']!.schema;
    request[path] = ajv.compile(content(item.post.requestBody));
    response[path] = ajv.compile(content(item.post.responses['200']!));
  }
  return { request, response };
}

function check(validate: ValidateFunction | undefined, body: unknown, label: string): void {
  expect(validate, `the spec has a schema for ${label}`).toBeDefined();
  const ok = validate!(body);
  expect(ok ? [] : validate!.errors?.map((error) => `${error.instancePath} ${error.message}`), label).toEqual(
    [],
  );
}

const CASSETTES = new URL('./cassettes/', import.meta.url);
const cassettes = readdirSync(CASSETTES)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(new URL(file, CASSETTES), 'utf8')) as Cassette);

describe('request bodies validate against the Atlas OpenAPI spec', () => {
  it(`there are Voyage cassettes to check`, () => {
    expect(cassettes.length).toBeGreaterThanOrEqual(5);
  });

  it.skipIf(specMissing)(`every request in every cassette ${SKIP_REASON}`, () => {
    const { request } = validators();
    let checked = 0;
    for (const cassette of cassettes) {
      for (const [position, interaction] of cassette.interactions.entries()) {
        const path = interaction.request.path.replace(/^\/v1/, '');
        check(request[path], interaction.request.body, `${cassette.name} request ${position}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(cassettes.length);
  });

  it.skipIf(specMissing)(`every 200 answer in every cassette ${SKIP_REASON}`, () => {
    const { response } = validators();
    for (const cassette of cassettes) {
      for (const [position, interaction] of cassette.interactions.entries()) {
        if (interaction.response.status !== 200) continue;
        const path = interaction.request.path.replace(/^\/v1/, '');
        check(response[path], interaction.response.body, `${cassette.name} response ${position}`);
      }
    }
  });

  it.skipIf(specMissing)(
    `what the provider sends to every endpoint, every option set ${SKIP_REASON}`,
    async () => {
      const { request } = validators();
      const full = (length: number) => float32ToBase64(new Float32Array(length).fill(0.5));
      const chunked = (chunks: number[], withText = false) => ({
        object: 'list',
        data: chunks.map((count, index) => ({
          object: 'list',
          index,
          data: Array.from({ length: count }, (_, chunk) => ({
            object: 'embedding',
            index: chunk,
            embedding: full(256),
            ...(withText ? { text: `chunk ${chunk}` } : {}),
          })),
        })),
        model: 'voyage-context-3',
        usage: { total_tokens: 9 },
      });
      const server = fakeFetch([
        { body: embeddingsBody('voyage-3.5', [full(256)]) },
        { body: embeddingsBody('voyage-code-3', ['gH8A/4B/AP+AfwD/gH8A/4B/AP+AfwD/gH8A/4B/AP8=']) },
        { body: chunked([2, 1]) },
        { body: chunked([2], true) },
        { body: embeddingsBody('voyage-multimodal-3', [full(1024)]) },
        { body: embeddingsBody('voyage-multimodal-3.5', [full(1024)]) },
        {
          body: {
            object: 'list',
            data: [{ index: 1, relevance_score: 0.5 }],
            model: 'rerank-2.5',
            usage: { total_tokens: 5 },
          },
        },
      ]);
      const voyage = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch });
      await embedMany({
        model: voyage.embedding('voyage-3.5'),
        inputs: ['a'],
        inputType: 'query',
        dimensions: 256,
      });
      await embedMany({
        model: voyage.embedding('voyage-code-3'),
        inputs: ['b'],
        dimensions: 256,
        outputType: 'ubinary',
        truncate: true,
      });
      await embedContextualized({
        model: voyage.contextualizedEmbedding('voyage-context-3'),
        documents: [['c1', 'c2'], ['d1']],
        inputType: 'document',
        dimensions: 256,
      });
      await embedContextualized({
        model: voyage.contextualizedEmbedding('voyage-context-3'),
        documents: [['a whole document']],
        inputType: 'document',
        dimensions: 256,
        providerOptions: { voyage: { autoChunking: true, chunkSize: 128, chunkOverlap: 16 } },
      });
      await embedMany({
        model: voyage.multimodalEmbedding('voyage-multimodal-3'),
        inputs: [
          {
            content: [
              { type: 'text', text: 'a banana' },
              { type: 'image', url: 'https://example.com/banana.jpg' },
            ],
          },
        ],
      });
      await embedMany({
        model: voyage.multimodalEmbedding('voyage-multimodal-3.5'),
        inputs: [{ image: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), mediaType: 'image/png' }],
        inputType: 'document',
      });
      await rerank({ model: voyage.reranking('rerank-2.5'), query: 'q', documents: ['x', 'y'], topN: 1 });
      expect(server.requests.map((item) => new URL(item.url).pathname)).toEqual([
        '/v1/embeddings',
        '/v1/embeddings',
        '/v1/contextualizedembeddings',
        '/v1/contextualizedembeddings',
        '/v1/multimodalembeddings',
        '/v1/multimodalembeddings',
        '/v1/rerank',
      ]);
      // Known spec quirk: its `inputs` schema for /contextualizedembeddings only allows lists of lists, while
      // its own `enable_auto_chunking` description (and the SDK types) require a flat list of documents then.
      // The auto-chunking body is checked with each document wrapped, so every other field is still validated.
      const autoChunked = server.requests[3]!.body as { inputs: string[] };
      expect(autoChunked.inputs).toEqual(['a whole document']);
      server.requests[3]!.body = { ...autoChunked, inputs: autoChunked.inputs.map((document) => [document]) };
      for (const [index, item] of server.requests.entries()) {
        check(
          request[new URL(item.url).pathname.replace(/^\/v1/, '')],
          item.body,
          `request ${index} to ${item.url}`,
        );
      }
    },
  );
});
