import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCassettes } from '@embedkit/conformance';
import { embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

// MongoDB's OpenAPI 3.1 spec of the Voyage API, read where the project's shared material keeps it.
const SPEC_PATH = '/work/shared/specs/voyage-atlas.openapi.json';
const specMissing = !existsSync(SPEC_PATH);
const SKIP_REASON = `(skipped when ${SPEC_PATH} is absent: the spec lives outside the repository)`;

type Json = Record<string, unknown>;
type Operation = { requestBody: Json; responses: Record<string, Json> };

/**
 * The spec with its 3.0-style `nullable` keys dropped (ajv refuses `nullable` without `type`; the enums
 * already list null) and every `$ref` under `components.responses` replaced by what it names.
 */
function loadSpec(specPath = SPEC_PATH): { paths: Record<string, { post: Operation }> } {
  const raw = JSON.parse(readFileSync(specPath, 'utf8')) as { components: { responses: Json } };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/responses/')) {
      return walk(raw.components.responses[ref.slice('#/components/responses/'.length)]);
    }
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== 'nullable')
        .map(([key, value]) => [key, walk(value)]),
    );
  };
  return walk(raw) as { paths: Record<string, { post: Operation }> };
}

/**
 * The JSON schema the spec gives `path` for its request body, or for its answer with `status`. `closed`:
 * with `additionalProperties: false` added at the top, so a field the spec does not declare is refused
 * (its request schemas leave other fields open, which would let a misnamed field through).
 */
function validatorFor(path: string, what: 'request' | number, closed = false): ValidateFunction {
  const operation = loadSpec().paths[path]?.post;
  expect(operation, `the spec has POST ${path}`).toBeDefined();
  const holder = what === 'request' ? operation!.requestBody : operation!.responses[String(what)];
  expect(holder, `the spec describes ${what} of POST ${path}`).toBeDefined();
  const schema = (holder!.content as Record<string, { schema: Json }>)['application/json']!.schema;
  // Not strict: the spec carries vendor keywords (`x-supported-models`) and OpenAPI's `discriminator`.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  return ajv.compile(closed ? { ...schema, additionalProperties: false } : schema);
}

function problems(validate: ValidateFunction, body: unknown): string[] {
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

const CASSETTES = fileURLToPath(new URL('./cassettes', import.meta.url));
/** Every recorded exchange, the contextualized and rerank groups (kept in folders of their own) included. */
const recorded = ['', '/contextualized', '/rerank'].flatMap((folder) =>
  loadCassettes(`${CASSETTES}${folder}`).flatMap((cassette) =>
    cassette.interactions.map((interaction, position) => ({
      label: `${cassette.name} #${position}`,
      path: interaction.request.path.replace(/^\/v1/, ''),
      request: interaction.request.body,
      status: interaction.response.status,
      answer: interaction.response.body,
    })),
  ),
);

describe('Voyage recordings against the Atlas spec, every endpoint', () => {
  it('the recordings reach /embeddings, /contextualizedembeddings and /rerank', () => {
    expect([...new Set(recorded.map((item) => item.path))].sort()).toEqual([
      '/contextualizedembeddings',
      '/embeddings',
      '/rerank',
    ]);
  });

  it.skipIf(specMissing)(
    `the contextualized and rerank requests and answers match the spec ${SKIP_REASON}`,
    () => {
      const grouped = recorded.filter((item) => item.path !== '/embeddings');
      expect(grouped).toHaveLength(2);
      for (const item of grouped) {
        expect(problems(validatorFor(item.path, 'request'), item.request), item.label).toEqual([]);
        expect(item.status, item.label).toBe(200);
        expect(problems(validatorFor(item.path, 200), item.answer), item.label).toEqual([]);
      }
    },
  );

  it.skipIf(specMissing)(
    `every recorded error answer is the spec's body for its status ${SKIP_REASON}`,
    () => {
      const errors = recorded.filter((item) => item.status !== 200);
      expect(errors.map((item) => item.status).sort()).toEqual([400, 401, 429, 503, 503]);
      for (const item of errors) {
        const validate = validatorFor(item.path, item.status);
        expect(problems(validate, item.answer), item.label).toEqual([]);
        // The check can fail: a detail that is not a string is refused.
        expect(problems(validate, { detail: 7 }), item.label).not.toEqual([]);
      }
    },
  );
});

describe('Voyage multimodal answers as the spec describes them', () => {
  // voyage-multimodal-3.5 answers 1,024 values by default; eighths are exact in float32 and in JSON.
  const vector = Array.from({ length: 1024 }, (_, index) => (index % 8) / 8 - 0.5);
  /** An answer that holds every field the spec requires, `text_tokens` and `image_pixels` included. */
  const answer = (embedding: string | number[]) => ({
    object: 'list',
    data: [{ object: 'embedding', embedding, index: 0 }],
    model: 'voyage-multimodal-3.5',
    usage: { text_tokens: 3, image_pixels: 2240, total_tokens: 7 },
  });

  async function embedImage(body: Json) {
    const server = fakeFetch([{ body }]);
    const voyage = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch });
    const result = await embedMany({
      model: voyage.multimodalEmbedding('voyage-multimodal-3.5'),
      inputs: [{ content: [{ type: 'image', url: 'https://example.com/banana.jpg' }] }],
      maxRetries: 0,
    });
    return { result, sent: server.requests[0]!.body as Json };
  }

  it.skipIf(specMissing)(`a base64 answer is read, with the total token count ${SKIP_REASON}`, async () => {
    const body = answer(float32ToBase64(new Float32Array(vector)));
    expect(problems(validatorFor('/multimodalembeddings', 200), body)).toEqual([]);
    const { result } = await embedImage(body);
    expect(Array.from(result.embeddings[0]!)).toEqual(vector);
    expect(result.usage).toEqual({ inputTokens: 7 });
  });

  it.skipIf(specMissing)(
    `asks for base64 as output_encoding, the field the spec declares for this endpoint ${SKIP_REASON}`,
    async () => {
      const { sent } = await embedImage(answer(float32ToBase64(new Float32Array(vector))));
      expect(sent).toStrictEqual({
        inputs: [{ content: [{ type: 'image_url', image_url: 'https://example.com/banana.jpg' }] }],
        model: 'voyage-multimodal-3.5',
        truncation: false,
        output_encoding: 'base64',
      });
      expect(problems(validatorFor('/multimodalembeddings', 'request', true), sent)).toEqual([]);
      // The check can fail: `encoding_format`, the /embeddings name, is no field of this request.
      expect(
        problems(validatorFor('/multimodalembeddings', 'request', true), {
          ...sent,
          encoding_format: 'base64',
        }),
      ).toEqual([' must NOT have additional properties']);
    },
  );

  it.skipIf(specMissing)(
    `an answer in JSON numbers (a server that does not know the encoding field) is read the same ${SKIP_REASON}`,
    async () => {
      const body = answer(vector);
      expect(problems(validatorFor('/multimodalembeddings', 200), body)).toEqual([]);
      const { result } = await embedImage(body);
      expect(Array.from(result.embeddings[0]!)).toEqual(vector);
      expect(result.usage).toEqual({ inputTokens: 7 });
    },
  );
});

// Voyage's own spec and the TS SDK's (2025): they still name the older ids the Atlas spec's closed
// `model` enum has dropped, such as voyage-large-2.
const OLDER_SPEC_PATHS = [
  '/work/shared/specs/voyage.openapi.json',
  '/work/shared/specs/voyage-typescript-sdk.openapi.json',
];
const olderSpecsMissing = specMissing || !OLDER_SPEC_PATHS.every((path) => existsSync(path));
const OLDER_SKIP_REASON = `(skipped when ${[SPEC_PATH, ...OLDER_SPEC_PATHS].join(' or ')} is absent)`;

/**
 * The `/embeddings` request schema of an older spec, closed, with `input`'s `type: object` dropped: beside
 * its `oneOf [string, array]` that type refuses every real request.
 */
function olderEmbeddingsRequest(specPath: string): ValidateFunction {
  const body = loadSpec(specPath).paths['/embeddings']!.post.requestBody;
  const schema = (body.content as Record<string, { schema: Json }>)['application/json']!.schema;
  const { input, ...properties } = schema.properties as Record<string, Json>;
  const { type: _object, ...inputWithoutType } = input!;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile({
    ...schema,
    properties: { ...properties, input: inputWithoutType },
    additionalProperties: false,
  });
}

describe('an older id the Atlas spec no longer lists', () => {
  it.skipIf(olderSpecsMissing)(
    `voyage-large-2 sends the body Voyage's own spec and the TS SDK's describe ${OLDER_SKIP_REASON}`,
    async () => {
      const vector = float32ToBase64(new Float32Array([0.5, -0.25]));
      const server = fakeFetch([{ body: embeddingsBody('voyage-large-2', [vector], 3) }]);
      const model = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-large-2');
      const result = await embedMany({ model, inputs: ['Sample text 1'], inputType: 'query', maxRetries: 0 });
      const sent = server.requests[0]!.body as Json;
      expect(sent).toStrictEqual({
        input: ['Sample text 1'],
        model: 'voyage-large-2',
        input_type: 'query',
        truncation: false,
        encoding_format: 'base64',
      });
      expect(Array.from(result.embeddings[0]!)).toStrictEqual([0.5, -0.25]);
      for (const specPath of OLDER_SPEC_PATHS) {
        expect(problems(olderEmbeddingsRequest(specPath), sent), specPath).toEqual([]);
        // The check can fail: an `output_dtype` its enum does not list is refused.
        expect(
          problems(olderEmbeddingsRequest(specPath), { ...sent, output_dtype: 'int4' }),
          specPath,
        ).toEqual(['/output_dtype must be equal to one of the allowed values']);
      }
      // The Atlas spec's closed enum refuses the id, which is why the older specs are the ones checked.
      expect(problems(validatorFor('/embeddings', 'request'), sent)).toEqual([
        '/model must be equal to one of the allowed values',
      ]);
    },
  );
});
