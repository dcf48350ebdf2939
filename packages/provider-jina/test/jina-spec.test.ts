import { readdirSync, readFileSync } from 'node:fs';
import type { Cassette } from '@embedkit/conformance';
import { embedContextualized, embedMany, rerank } from '@embedkit/core';
import { type FetchFunction, float32ToBase64 } from '@embedkit/core/provider';
import type { CapturedRequest } from '@embedkit/core/testing';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createJina, JINA_EMBEDDING_MODELS } from '../src/index.js';
import { TEST_KEY } from './helpers.js';
import { ajvModule, SKIP_REASON, SPEC_PATH, specMissing } from './spec.js';

type Json = Record<string, unknown>;
type Spec = {
  paths: Record<string, { post: { requestBody: Json; responses: Record<string, Json> } }>;
  components: { schemas: Record<string, Json> };
};

/**
 * Validators for `/v1/embeddings` and `/v1/rerank`. `closed` also forbids fields a model's schema does not
 * list (the spec leaves `additionalProperties` open, so `normalized` sent to v4 would pass otherwise).
 */
function validators(closed: boolean): {
  request: Record<string, ValidateFunction>;
  response: Record<string, ValidateFunction>;
} {
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
  if (closed) {
    for (const [name, schema] of Object.entries(spec.components.schemas)) {
      if (name.endsWith('Request') && schema.type === 'object') schema.additionalProperties = false;
    }
  }
  // Not strict: the spec carries OpenAPI's `discriminator`; each variant pins `model` with const/enum.
  const ajv = new ajvModule!.Ajv2020({ strict: false, allErrors: true });
  const request: Record<string, ValidateFunction> = {};
  const response: Record<string, ValidateFunction> = {};
  for (const path of ['/v1/embeddings', '/v1/rerank']) {
    const item = spec.paths[path]!;
    const content = (body: Json) =>
      (body.content as Record<string, { schema: Json }>)['application/json']!.schema;
    const withComponents = (schema: Json) => ({ ...schema, components: spec.components });
    request[path] = ajv.compile(withComponents(content(item.post.requestBody)));
    response[path] = ajv.compile(withComponents(content(item.post.responses['200']!)));
  }
  return { request, response };
}

function errorsOf(validate: ValidateFunction, body: unknown): string[] {
  return validate(body)
    ? []
    : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

function check(validate: ValidateFunction | undefined, body: unknown, label: string): void {
  expect(validate, `the spec has a schema for ${label}`).toBeDefined();
  expect(errorsOf(validate!, body), label).toEqual([]);
}

const CASSETTES = new URL('./cassettes/', import.meta.url);
const cassettes = readdirSync(CASSETTES)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(new URL(file, CASSETTES), 'utf8')) as Cassette);

/**
 * A fake Jina API that answers any embeddings body with the right number of vectors of the asked length
 * and encoding, and any rerank body with a score per document. It records every request.
 */
function fakeJina(): { fetch: FetchFunction; requests: CapturedRequest[] } {
  const requests: CapturedRequest[] = [];
  const fetch: FetchFunction = async (url, init) => {
    const body = JSON.parse(String(init.body)) as Json;
    requests.push({ url, method: init.method ?? 'GET', headers: {}, body });
    let answer: Json;
    if (url.endsWith('/rerank')) {
      answer = {
        model: body.model,
        object: 'list',
        usage: { total_tokens: 5 },
        results: (body.documents as unknown[])
          .map((_, index) => ({ index, relevance_score: 1 / (index + 2) }))
          .slice(0, (body.top_n as number | undefined) ?? undefined),
      };
    } else {
      const input = Array.isArray(body.input) ? body.input : [body.input];
      const length =
        (body.dimensions as number | undefined) ??
        JINA_EMBEDDING_MODELS[body.model as string]!.capabilities.defaultDimensions!;
      const embedding =
        body.embedding_type === 'base64'
          ? float32ToBase64(new Float32Array(length).fill(0.25))
          : new Array<number>(length / 8).fill(body.embedding_type === 'binary' ? -3 : 200);
      answer = {
        model: body.model,
        object: 'list',
        usage: { total_tokens: 7, prompt_tokens: 7 },
        data: input.map((_, index) => ({ object: 'embedding', index, embedding })),
      };
    }
    return new Response(JSON.stringify(answer), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, requests };
}

describe('request bodies validate against the Jina OpenAPI spec', () => {
  it('there are Jina cassettes to check', () => {
    expect(cassettes.length).toBeGreaterThanOrEqual(10);
  });

  it.skipIf(specMissing)(`every request in every cassette ${SKIP_REASON}`, () => {
    const { request } = validators(true);
    let checked = 0;
    for (const cassette of cassettes) {
      for (const [position, interaction] of cassette.interactions.entries()) {
        check(
          request[interaction.request.path],
          interaction.request.body,
          `${cassette.name} request ${position}`,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(cassettes.length);
  });

  it.skipIf(specMissing)(`every 200 answer in every cassette ${SKIP_REASON}`, () => {
    const { response } = validators(false);
    let checked = 0;
    for (const cassette of cassettes) {
      for (const [position, interaction] of cassette.interactions.entries()) {
        if (interaction.response.status !== 200) continue;
        check(
          response[interaction.request.path],
          interaction.response.body,
          `${cassette.name} response ${position}`,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it.skipIf(specMissing)(`the closed check catches a field a model does not have ${SKIP_REASON}`, () => {
    // Proves the validator can fail: v4 has no `normalized`, v3 no `return_multivector`, and the
    // discriminator rejects an unknown model.
    const { request } = validators(true);
    const embeddings = request['/v1/embeddings']!;
    expect(errorsOf(embeddings, { model: 'jina-embeddings-v4', input: ['a'], normalized: true })).not.toEqual(
      [],
    );
    expect(
      errorsOf(embeddings, { model: 'jina-embeddings-v3', input: ['a'], return_multivector: true }),
    ).not.toEqual([]);
    expect(errorsOf(embeddings, { model: 'jina-embeddings-v3', input: ['a'], dimensions: 2048 })).not.toEqual(
      [],
    );
    expect(
      errorsOf(embeddings, { model: 'jina-embeddings-v3', input: ['a'], task: 'clustering' }),
    ).not.toEqual([]);
    expect(errorsOf(embeddings, { model: 'jina-embeddings-v3', input: ['a'] })).toEqual([]);
  });

  it.skipIf(specMissing)(
    `what the provider sends to every endpoint, every model family ${SKIP_REASON}`,
    async () => {
      const { request } = validators(true);
      const server = fakeJina();
      const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      await embedMany({
        model: jina.embedding('jina-embeddings-v3'),
        inputs: ['a', 'b'],
        inputType: 'clustering',
        dimensions: 256,
        truncate: true,
      });
      await embedMany({
        model: jina.embedding('jina-embeddings-v3'),
        inputs: ['c'],
        outputType: 'binary',
        dimensions: 64,
      });
      await embedMany({
        model: jina.embedding('jina-embeddings-v3'),
        inputs: ['c'],
        outputType: 'ubinary',
        providerOptions: { jina: { normalized: false } },
      });
      await embedMany({
        model: jina.embedding('jina-embeddings-v4'),
        inputs: [
          { text: 'a sunset' },
          { image: 'https://example.com/sunset.jpg' },
          { image: png, mediaType: 'image/png' },
        ],
        inputType: 'document',
      });
      await embedMany({
        model: jina.embedding('jina-embeddings-v4'),
        inputs: ['def f(): pass'],
        inputType: 'code-document',
      });
      await embedMany({
        model: jina.embedding('jina-embeddings-v5-text-small'),
        inputs: ['x'],
        inputType: 'clustering',
      });
      await embedMany({
        model: jina.embedding('jina-embeddings-v5-text-nano'),
        inputs: ['x'],
        inputType: 'similarity',
        dimensions: 128,
      });
      await embedMany({
        model: jina.embedding('jina-clip-v2'),
        inputs: [{ content: [{ type: 'image', url: 'https://example.com/cat.png' }] }, 'a cat'],
      });
      await embedMany({ model: jina.embedding('jina-clip-v2'), inputs: ['a cat'], inputType: 'query' });
      await embedMany({
        model: jina.embedding('jina-code-embeddings-1.5b'),
        inputs: ['for x in xs: print(x)'],
        providerOptions: { jina: { task: 'code2code.query' } },
      });
      await embedMany({
        model: jina.embedding('jina-code-embeddings-0.5b'),
        inputs: ['how do I sort?'],
        inputType: 'question-answering',
      });
      await embedContextualized({
        model: jina.contextualizedEmbedding('jina-embeddings-v3'),
        documents: [['chunk one', 'chunk two'], ['only chunk']],
        inputType: 'document',
        dimensions: 128,
      });
      await embedContextualized({
        model: jina.contextualizedEmbedding('jina-embeddings-v4'),
        documents: [['v4 chunk one', 'v4 chunk two']],
        inputType: 'query',
      });
      await rerank({ model: jina.reranking('jina-reranker-v3'), query: 'q', documents: ['x', 'y'], topN: 1 });
      await rerank({
        model: jina.reranking('jina-reranker-v3'),
        query: 'q',
        documents: ['x'],
        truncate: true,
        providerOptions: { jina: { maxDocumentLength: 1024 } },
      });
      await rerank({
        model: jina.reranking('jina-reranker-v2-base-multilingual'),
        query: 'q',
        documents: ['x'],
      });
      expect(server.requests).toHaveLength(17);
      for (const [index, item] of server.requests.entries()) {
        check(request[new URL(item.url).pathname], item.body, `request ${index} to ${item.url}`);
      }
    },
  );
});
