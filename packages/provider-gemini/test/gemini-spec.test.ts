import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
const SPEC_ABSENT = `the Gemini spec is not at ${SPEC} (it lives outside the project and is never copied in), so request bodies cannot be checked against it`;
const CASSETTES = fileURLToPath(new URL('./cassettes', import.meta.url));
// Google's discovery document of the same API: the system parameters every method takes.
const DISCOVERY = fileURLToPath(
  new URL(
    '../../../../shared/specs/gemini-generativelanguage-v1beta.embeddings.discovery.json',
    import.meta.url,
  ),
);
const DISCOVERY_ABSENT = `the Gemini discovery document is not at ${DISCOVERY} (it lives outside the project), so query parameters cannot be checked against it`;

interface DiscoveryParameter {
  location: string;
  type: string;
  enum?: string[];
}

/**
 * The query parameters of `url` that the discovery document does not declare, or declares with another
 * type or set of values, each as a sentence.
 */
let declaredParameters: Record<string, DiscoveryParameter> | undefined;

function undeclaredQuery(url: string): string[] {
  declaredParameters ??= (
    JSON.parse(readFileSync(DISCOVERY, 'utf8')) as { parameters: Record<string, DiscoveryParameter> }
  ).parameters;
  const problems: string[] = [];
  for (const [name, value] of new URL(url, 'https://generativelanguage.googleapis.com').searchParams) {
    const declared = declaredParameters[name];
    if (declared === undefined || declared.location !== 'query') problems.push(`${name} is not declared`);
    else if (declared.type === 'boolean' && value !== 'true' && value !== 'false')
      problems.push(`${name}=${value} is not a boolean`);
    else if (declared.enum !== undefined && !declared.enum.includes(value))
      problems.push(`${name}=${value} is not one of ${declared.enum.join(', ')}`);
  }
  return problems;
}

type Schema = Record<string, unknown>;

interface Operation {
  requestBody?: { content: { 'application/json': { schema: { $ref: string } } } };
  responses: { default: { content: { 'application/json': { schema: { $ref: string } } } } };
}

function loadValidators() {
  const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  // Google's own formats (not ajv formats): a Duration such as "3.5s" and a FieldMask such as "a.b,c".
  ajv.addFormat('google-duration', /^-?\d+(\.\d+)?s$/);
  ajv.addFormat('google-fieldmask', /^[\w.]*(,[\w.]*)*$/);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (value) => Number.isInteger(value) && Math.abs(value) < 2 ** 31,
  });
  ajv.addFormat('int64', /^-?\d+$/);
  ajv.addFormat('float', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('double', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
  ajv.addSchema({ $id: 'gemini', components: closeObjects(spec.components) as Schema });
  const compile = (ref: string) => ajv.getSchema(`gemini${ref}`) ?? expect.fail(`no schema ${ref}`);
  /** The request and response validators of the operation behind `METHOD /path`. */
  return (method: string, path: string): { request?: ValidateFunction; response: ValidateFunction } => {
    const bare = path.split('?')[0]!;
    for (const [template, item] of Object.entries(spec.paths)) {
      const pattern = new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/:]+')}$`,
      );
      const operation = item[method.toLowerCase()];
      if (operation === undefined || !pattern.test(bare)) continue;
      const requestRef = operation.requestBody?.content['application/json'].schema.$ref;
      return {
        ...(requestRef === undefined ? {} : { request: compile(requestRef) }),
        response: compile(operation.responses.default.content['application/json'].schema.$ref),
      };
    }
    return expect.fail(`the spec has no ${method} ${path}`);
  };
}

describe('Gemini wire against the spec', () => {
  it('every cassette request body (and success body) validates against the spec', (context) => {
    if (!existsSync(SPEC)) return context.skip(SPEC_ABSENT);
    const validatorsFor = loadValidators();
    const cassettes = loadCassettes(CASSETTES);
    expect(cassettes.length).toBeGreaterThanOrEqual(8);
    let checked = 0;
    for (const cassette of cassettes) {
      for (const [position, { request, response }] of cassette.interactions.entries()) {
        const validators = validatorsFor(request.method, request.path);
        expect(validators.request, `${cassette.name} #${position} has a request schema`).toBeDefined();
        const validRequest = validators.request!(request.body);
        expect(validators.request!.errors ?? [], `${cassette.name} #${position} request`).toEqual([]);
        expect(validRequest).toBe(true);
        if (response.status === 200) {
          validators.response(response.body);
          expect(validators.response.errors ?? [], `${cassette.name} #${position} response`).toEqual([]);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  /** The URL of every JSON call the provider makes: embedContent, batchEmbedContents and the batch-job calls. */
  async function providerURLs(): Promise<string[]> {
    const urls: string[] = [];
    const provider = createGemini({
      apiKey: 'AIza-test-not-a-real-key',
      fetch: async (url, init) => {
        urls.push(url);
        const body = init.body === undefined ? undefined : JSON.parse(String(init.body));
        if (url.includes(':embedContent')) return Response.json({ embedding: { values: [0.6, 0.8] } });
        if (url.includes(':batchEmbedContents'))
          return Response.json({ embeddings: body.requests.map(() => ({ values: [0.6, 0.8] })) });
        return Response.json({ name: 'batches/q', metadata: { state: 'BATCH_STATE_PENDING' } });
      },
    });
    const model = provider.embedding('gemini-embedding-001');
    await model.doEmbed({ inputs: ['one'] });
    await model.doEmbed({ inputs: ['one', 'two'] });
    const jobs = provider.batchEmbeddingJobs('gemini-embedding-001');
    await jobs.create({ inputs: ['one'] });
    await jobs.get('batches/q');
    await jobs.cancel('batches/q');
    await jobs.delete('batches/q');
    expect(urls).toHaveLength(6);
    return urls;
  }

  /** Every recorded request path, the batch group's included. */
  const recordedPaths = () =>
    [CASSETTES, join(CASSETTES, 'batch')].flatMap((directory) =>
      loadCassettes(directory).flatMap((cassette) =>
        cassette.interactions.map(({ request }) => ({ name: cassette.name, path: request.path })),
      ),
    );

  it('every JSON call asks for compact JSON (prettyPrint=false), as every recorded JSON exchange does', async () => {
    for (const url of await providerURLs())
      expect(new URL(url).searchParams.get('prettyPrint'), url).toBe('false');
    const recorded = recordedPaths();
    expect(recorded.length).toBeGreaterThanOrEqual(16);
    for (const { name, path } of recorded) {
      const query = new URL(path, 'https://generativelanguage.googleapis.com').searchParams;
      // A results file is media, not JSON: it is downloaded with alt=media and nothing else.
      const expected = path.includes(':download') ? null : 'false';
      expect(query.get('prettyPrint'), `${name} ${path}`).toBe(expected);
    }
  });

  it('every query parameter sent or recorded is one the discovery document declares, of its type', async (context) => {
    if (!existsSync(DISCOVERY)) return context.skip(DISCOVERY_ABSENT);
    // The checker itself: a misspelt name, a value of the wrong type and one outside the enum are caught.
    expect(undeclaredQuery('/v1beta/models/m:embedContent?pretty_print=false')).toEqual([
      'pretty_print is not declared',
    ]);
    expect(undeclaredQuery('/v1beta/models/m:embedContent?prettyPrint=0&alt=xml')).toEqual([
      'prettyPrint=0 is not a boolean',
      'alt=xml is not one of json, media, proto',
    ]);
    for (const url of await providerURLs()) expect(undeclaredQuery(url), url).toEqual([]);
    for (const { name, path } of recordedPaths())
      expect(undeclaredQuery(path), `${name} ${path}`).toEqual([]);
  });

  it('the closed schemas reject a misspelt field and a wrong task type', (context) => {
    if (!existsSync(SPEC)) return context.skip(SPEC_ABSENT);
    const { request } = loadValidators()('POST', '/v1beta/models/gemini-embedding-001:embedContent');
    const good = { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'x' }] } };
    expect(request!(good)).toBe(true);
    expect(request!({ ...good, outputDimensions: 128 })).toBe(false);
    expect(request!({ ...good, taskType: 'RETRIEVAL' })).toBe(false);
    expect(request!({ content: good.content })).toBe(false);
  });

  it('the async batch create body the provider sends validates against AsyncBatchEmbedContentRequest', async (context) => {
    if (!existsSync(SPEC)) return context.skip(SPEC_ABSENT);
    const validatorsFor = loadValidators();
    const sent: { url: string; body: unknown }[] = [];
    const jobs = createGemini({
      apiKey: 'AIza-test-not-a-real-key',
      fetch: async (url, init) => {
        sent.push({ url, body: JSON.parse(String(init.body)) });
        return Response.json({
          name: 'batches/spec-check',
          metadata: { name: 'batches/spec-check', state: 'BATCH_STATE_PENDING' },
        });
      },
    }).batchEmbeddingJobs('gemini-embedding-001');
    await jobs.create({
      inputs: [
        { text: 'first document', title: 'First' },
        { text: 'second document', title: 'Second' },
      ],
      inputType: 'document',
      dimensions: 768,
      displayName: 'spec check',
    });
    const path = new URL(sent[0]!.url).pathname;
    const { request } = validatorsFor('POST', path);
    request!(sent[0]!.body);
    expect(request!.errors ?? []).toEqual([]);
  });
});
