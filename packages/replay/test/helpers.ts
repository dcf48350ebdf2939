import type { EmbeddingModel, EmbedRequest } from '@embedkit/core';
import { requestJson, type Transport } from '@embedkit/core/provider';
import type { Cassette, CassetteInteraction } from '../src/index.js';

/** What a scrub writes in place of a secret or a credential. */
export const R = '[REDACTED]';

/** A recorded cassette of `interactions` for one input (`inputs`), named `name`. */
export function recording(interactions: CassetteInteraction[], name = 'recorded', inputs = ['x']): Cassette {
  return {
    version: 1,
    name,
    source: 'recorded',
    call: { modelId: 'm', inputs },
    interactions,
    expect: { embeddings: { count: 1, dimensions: 2 }, usage: null },
  };
}

/** One exchange: a request of `method` to `path` with `body`, answered with `response`. */
export const exchange = (
  body: unknown,
  response: CassetteInteraction['response'],
  path = '/v1/embeddings',
  method = 'POST',
): CassetteInteraction => ({ request: { method, path, body }, response });

export const OK = { status: 200, body: { ok: true } };

/**
 * A cassette of two interactions whose second request records `headers`, as they are (the format's
 * object, or a recorder's list).
 */
export const recordingHeaders = (headers: unknown): Cassette =>
  recording([
    { request: { method: 'POST', path: '/v1/e', body: { input: 'a' } }, response: OK },
    {
      request: {
        method: 'POST',
        path: '/v1/e',
        body: { input: 'b' },
        headers,
      } as CassetteInteraction['request'],
      response: OK,
    },
  ]);

/** What `run` throws; the test fails when it throws nothing. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('it did not throw');
}

/** What `acmeModel` sends besides its body, and how it reads an error. */
export interface AcmeOptions {
  /** The path after the base URL, with any query (default `/embeddings`). */
  path?: string;
  headers?: Record<string, string>;
  /** Reads an error body's `{error: {message}}`, as every real provider reads its own. */
  readsErrors?: boolean;
}

/**
 * The smallest provider: one `POST /embeddings` of `{model, input}` per call, through the given transport,
 * its answer's vectors in base64.
 */
export function acmeModel(
  transport: Transport,
  baseURL = 'https://api.acme.test/v1',
  { path = '/embeddings', headers, readsErrors = false }: AcmeOptions = {},
): EmbeddingModel {
  return {
    specificationVersion: 'v1',
    provider: 'acme',
    modelId: 'acme-1',
    capabilities: {
      maxInputsPerCall: 8,
      inputTypes: [],
      outputTypes: ['float'],
      modalities: ['text'],
      normalized: false,
      supportsParallelCalls: true,
    },
    async doEmbed(request: EmbedRequest) {
      const response = await requestJson({
        transport,
        provider: 'acme',
        url: `${baseURL}${path}`,
        ...(headers === undefined ? {} : { headers }),
        body: { input: request.inputs, model: 'acme-1' },
        signal: request.signal,
        ...(readsErrors
          ? { parseError: (body) => ({ message: (body as { error: { message: string } }).error.message }) }
          : {}),
      });
      const body = response.body as { data: { embedding: string }[] };
      const embeddings = body.data.map((item) => {
        const bytes = Uint8Array.from(atob(item.embedding), (character) => character.charCodeAt(0));
        return new Float32Array(bytes.buffer);
      });
      return { embeddings, warnings: [], response: { status: response.status, headers: response.headers } };
    },
  };
}
