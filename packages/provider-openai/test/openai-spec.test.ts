import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedMany } from '@embedkit/core';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

// The spec is never copied into the project: it lives in `../shared/specs` beside the repository's root
// directory and is read from there when the test runs.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const specPath = resolve(repoRoot, '../shared/specs/openai-embeddings.openapi.json');
const specExists = existsSync(specPath);
const skipReason = specExists
  ? ''
  : ` (skipped: the OpenAI spec is not at ${specPath}; it is kept beside the repository in ../shared/specs, never copied into it)`;

const cassetteDirectory = fileURLToPath(new URL('./cassettes', import.meta.url));
const cassettes = readdirSync(cassetteDirectory)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(readFileSync(join(cassetteDirectory, file), 'utf8')) as Cassette);

type JsonObject = Record<string, unknown>;

/** The part of the conformance suite's cassette format this test reads. */
interface Cassette {
  name: string;
  interactions: { request: { path: string; body?: unknown }; response: { status: number; body: unknown } }[];
}

const SPEC_KEY = 'openai-embeddings.openapi.json';
// Standard base64 with padding, which is what the API sends for `encoding_format: "base64"`.
const BASE64 = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';

interface Validators {
  request: ValidateFunction;
  response: ValidateFunction;
  /** `CreateEmbeddingResponse` with each `embedding` allowed to be a base64 string instead of numbers. */
  base64Response: ValidateFunction;
  error: ValidateFunction;
}

function loadValidators(): Validators {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { components: { schemas: JsonObject } };
  // OpenAPI 3.1 schemas are JSON Schema 2020-12. `strict: false` because the spec carries OpenAPI
  // keywords (`example`, `x-oaiMeta`, …) that are not JSON Schema; formats such as `float` are
  // annotations, not checks.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(spec, SPEC_KEY);
  const schema = (name: string) => {
    const validate = ajv.getSchema(`${SPEC_KEY}#/components/schemas/${name}`);
    if (validate === undefined) throw new Error(`${name} is missing from ${specPath}`);
    return validate;
  };

  // The spec models `Embedding.embedding` only as an array of numbers; with `encoding_format: "base64"`
  // the API sends a string, a case the spec does not describe. Derive a copy of the response schema
  // whose items differ from the spec's `Embedding` in that one property and nothing else.
  const schemas = spec.components.schemas;
  const embedding = structuredClone(schemas.Embedding) as { properties: JsonObject };
  embedding.properties.embedding = { type: 'string', minLength: 1, pattern: BASE64 };
  const response = structuredClone(schemas.CreateEmbeddingResponse) as {
    properties: { data: { items: unknown } };
  };
  const items = response.properties.data.items as { $ref?: unknown };
  if (items.$ref !== '#/components/schemas/Embedding') {
    throw new Error(`CreateEmbeddingResponse.data.items is no longer the Embedding $ref in ${specPath}`);
  }
  response.properties.data.items = embedding;

  return {
    request: schema('CreateEmbeddingRequest'),
    response: schema('CreateEmbeddingResponse'),
    base64Response: ajv.compile(response),
    error: schema('ErrorResponse'),
  };
}

const validators = specExists ? loadValidators() : undefined;

function errorsOf(validate: ValidateFunction, value: unknown): ErrorObject[] {
  return validate(value) ? [] : (validate.errors ?? []);
}

function usesBase64(body: unknown): boolean {
  const data = (body as { data?: { embedding?: unknown }[] }).data ?? [];
  return data.some((item) => typeof item.embedding === 'string');
}

describe('OpenAI cassettes against the official OpenAPI spec', () => {
  it('has cassettes to check (an empty directory would make every check below vacuous)', () => {
    expect(cassettes.length).toBeGreaterThanOrEqual(9);
  });

  for (const cassette of cassettes) {
    it.skipIf(!specExists)(
      `${cassette.name}: every request body is a CreateEmbeddingRequest${skipReason}`,
      () => {
        for (const interaction of cassette.interactions) {
          expect(interaction.request.path).toBe('/v1/embeddings');
          expect(errorsOf(validators!.request, interaction.request.body)).toEqual([]);
        }
      },
    );

    it.skipIf(!specExists)(`${cassette.name}: every response body matches the spec${skipReason}`, () => {
      for (const { response } of cassette.interactions) {
        if (response.status === 200) {
          const validate = usesBase64(response.body) ? validators!.base64Response : validators!.response;
          expect(errorsOf(validate, response.body)).toEqual([]);
        } else {
          expect(errorsOf(validators!.error, response.body)).toEqual([]);
        }
      }
    });
  }
});

describe('the validators can fail', () => {
  const valid = {
    model: 'text-embedding-3-small',
    input: ['The cat sat on the mat'],
    encoding_format: 'base64',
  };

  it.skipIf(!specExists)(`accepts a plain valid request${skipReason}`, () => {
    expect(errorsOf(validators!.request, valid)).toEqual([]);
  });

  it.skipIf(!specExists)(`rejects a request with a field the API does not define${skipReason}`, () => {
    // `input_type` is Voyage's word; `CreateEmbeddingRequest` is closed (`additionalProperties: false`).
    const errors = errorsOf(validators!.request, { ...valid, input_type: 'query' });
    expect(errors).toContainEqual(
      expect.objectContaining({
        keyword: 'additionalProperties',
        params: { additionalProperty: 'input_type' },
      }),
    );
  });

  it.skipIf(!specExists)(`rejects dimensions 0 and an unknown encoding${skipReason}`, () => {
    expect(errorsOf(validators!.request, { ...valid, dimensions: 0 })).not.toEqual([]);
    expect(errorsOf(validators!.request, { ...valid, encoding_format: 'int8' })).not.toEqual([]);
  });

  it.skipIf(!specExists)(
    `the spec's own response schema rejects base64 vectors, so the relaxed copy is needed${skipReason}`,
    () => {
      const body = {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: 'ZicXO4DRGLxwaYE8OAU9uw==' }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 3, total_tokens: 3 },
      };
      expect(errorsOf(validators!.response, body)).not.toEqual([]);
      expect(errorsOf(validators!.base64Response, body)).toEqual([]);
      // The relaxed copy still checks everything else, and the string must be base64.
      expect(errorsOf(validators!.base64Response, { ...body, usage: { prompt_tokens: 3 } })).not.toEqual([]);
      const notBase64 = { ...body, data: [{ object: 'embedding', index: 0, embedding: 'not base64!' }] };
      expect(errorsOf(validators!.base64Response, notBase64)).not.toEqual([]);
    },
  );
});

describe('bodies the provider builds', () => {
  // The cassettes are replayed against the provider by conformance.test.ts; this checks the
  // provider's own bodies for every option it maps, independent of the cassettes.
  async function sentBody(
    options: { encodingFormat?: 'base64' | 'float'; dimensions?: number; user?: string } = {},
  ) {
    const bodies: unknown[] = [];
    const provider = createOpenAI({
      apiKey: 'test-key-openai-spec',
      ...(options.encodingFormat === undefined ? {} : { encodingFormat: options.encodingFormat }),
      fetch: async (_url, init) => {
        bodies.push(JSON.parse(String(init.body)));
        const dimensions = options.dimensions ?? 1536;
        return new Response(
          JSON.stringify({
            object: 'list',
            data: [{ object: 'embedding', index: 0, embedding: new Array(dimensions).fill(0.5) }],
            model: 'text-embedding-3-small',
            usage: { prompt_tokens: 2, total_tokens: 2 },
          }),
          { status: 200, headers: { 'content-type': 'application/json' } },
        );
      },
    });
    await embedMany({
      model: provider.embedding('text-embedding-3-small'),
      inputs: ['pets and animals'],
      maxRetries: 0,
      ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
      ...(options.user === undefined ? {} : { providerOptions: { openai: { user: options.user } } }),
    });
    expect(bodies).toHaveLength(1);
    return bodies[0];
  }

  it.skipIf(!specExists)(
    `default, float, dimensions and user are all valid requests${skipReason}`,
    async () => {
      for (const options of [
        {},
        { encodingFormat: 'float' as const },
        { dimensions: 256 },
        { user: 'user-1234', dimensions: 8, encodingFormat: 'float' as const },
      ]) {
        expect(errorsOf(validators!.request, await sentBody(options))).toEqual([]);
      }
    },
  );
});
