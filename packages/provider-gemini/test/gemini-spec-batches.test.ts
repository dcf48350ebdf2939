import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCassettes } from '@embedkit/conformance';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';
import { closeObjects } from './spec-schema.js';

// Google's OpenAPI export of the Generative Language API, kept outside the project and read at test time.
const SPEC = fileURLToPath(
  new URL(
    '../../../../shared/specs/gemini-generativelanguage-v1beta.embeddings.openapi.json',
    import.meta.url,
  ),
);
const SPEC_ABSENT = `the Gemini spec is not at ${SPEC} (it lives outside the project and is never copied in)`;
const BATCH_CASSETTES = fileURLToPath(new URL('./cassettes/batch', import.meta.url));

type Schema = Record<string, unknown>;
type Spec = {
  paths: Record<string, Record<string, { requestBody?: unknown; responses: { default: Schema } }>>;
  components: { schemas: Record<string, Schema> };
};

function loadSpec(): { spec: Spec; schema: (name: string) => ValidateFunction } {
  const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as Spec;
  const components = closeObjects(spec.components) as Spec['components'];
  // `EmbedContentBatch.required` names what `asyncBatchEmbedContent` must be given; the batch resource
  // the API answers with does not echo `inputConfig`, so answers are read without that list.
  delete components.schemas.EmbedContentBatch!.required;
  // `BaseOperation` is only ever one branch of an `allOf` (with `metadata` and `response` in the other),
  // so closing it on its own would refuse every operation.
  delete components.schemas.BaseOperation!.additionalProperties;
  const ajv = new Ajv({ strict: false, allErrors: true });
  // Google's own formats and OpenAPI's numeric ones, which ajv does not know.
  ajv.addFormat('google-duration', /^-?\d+(\.\d+)?s$/);
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('double', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('int32', { type: 'number', validate: (value) => Number.isInteger(value) });
  ajv.addFormat('int64', /^-?\d+$/);
  ajv.addFormat('float', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
  ajv.addSchema({ $id: 'gemini', components });
  const schema = (name: string) =>
    ajv.getSchema(`gemini#/components/schemas/${name}`) ?? expect.fail(`no schema ${name}`);
  return { spec, schema };
}

function problems(validate: ValidateFunction, body: unknown): string[] {
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** A batch resource as the API sends it, without the `@type` of its `metadata` (a protobuf Any tag). */
function untagged(body: unknown): Schema {
  const { metadata, ...rest } = body as { metadata?: Schema };
  if (metadata === undefined) return rest;
  const { '@type': _tag, ...fields } = metadata;
  return { ...rest, metadata: fields };
}

describe('Gemini batch jobs against the spec', () => {
  it('the recorded batch job validates request and answer, each against its operation', (context) => {
    if (!existsSync(SPEC)) return context.skip(SPEC_ABSENT);
    const { schema } = loadSpec();
    const interactions = loadCassettes(BATCH_CASSETTES).flatMap((cassette) => cassette.interactions);
    expect(interactions.map(({ request }) => `${request.method} ${request.path.split('?')[0]}`)).toEqual([
      'POST /v1beta/models/gemini-embedding-001:asyncBatchEmbedContent',
      'GET /v1beta/batches/abc123',
      'GET /v1beta/batches/abc123',
      'GET /v1beta/batches/abc123',
    ]);
    const [create, ...polls] = interactions;
    expect(problems(schema('AsyncBatchEmbedContentRequest'), create!.request.body)).toEqual([]);
    expect(problems(schema('AsyncBatchEmbedContentOperation'), untagged(create!.response.body))).toEqual([]);
    for (const [index, { response }] of polls.entries()) {
      expect(response.status).toBe(200);
      // `GET batches/{id}` answers an Operation whose metadata is the EmbedContentBatch.
      const answer = untagged(response.body);
      expect(problems(schema('Operation'), answer), `poll ${index}`).toEqual([]);
      expect(problems(schema('EmbedContentBatch'), answer.metadata), `poll ${index}`).toEqual([]);
    }
    // The checks can fail: a state outside BatchState and a count that is not an int64 string are refused.
    const batch = schema('EmbedContentBatch');
    expect(problems(batch, { state: 'BATCH_STATE_DONE' })).not.toEqual([]);
    expect(problems(batch, { batchStats: { requestCount: 2 } })).not.toEqual([]);
  });

  it('cancel and delete call the operations the spec declares, with no body, and take their Empty answer', async (context) => {
    if (!existsSync(SPEC)) return context.skip(SPEC_ABSENT);
    const { spec } = loadSpec();
    const calls: { method: string; path: string; body: unknown }[] = [];
    const jobs = createGemini({
      apiKey: 'AIza-test-not-a-real-key',
      fetch: async (url, init) => {
        calls.push({ method: init.method ?? 'GET', path: new URL(url).pathname, body: init.body });
        return Response.json({});
      },
    }).batchEmbeddingJobs('gemini-embedding-001');
    await jobs.cancel('batches/q7');
    await jobs.delete('batches/q7');
    expect(calls).toEqual([
      { method: 'POST', path: '/v1beta/batches/q7:cancel', body: undefined },
      { method: 'DELETE', path: '/v1beta/batches/q7', body: undefined },
    ]);
    const cancel = spec.paths['/v1beta/batches/{generateContentBatch}:cancel']!.post!;
    const remove = spec.paths['/v1beta/batches/{generateContentBatch}']!.delete!;
    for (const operation of [cancel, remove]) {
      expect(operation.requestBody).toBeUndefined();
      expect(operation.responses.default.content).toEqual({
        'application/json': { schema: { $ref: '#/components/schemas/Empty' } },
      });
    }
  });
});
