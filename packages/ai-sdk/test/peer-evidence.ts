import { createCohere } from '@ai-sdk/cohere';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, type EmbeddingModelV4 } from '@ai-sdk/provider';
import { fakeFetch } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';

/**
 * The behaviours of the AI SDK providers behind the suite's expected failures and the package README's
 * findings, each shown on the provider itself (its own `doEmbed`, a recording fetch), with no embedkit
 * code in between.
 */

type Replies = Parameters<typeof fakeFetch>[0];
const KEY = 'test-key-peer-evidence-5c1e9a7d3b2f4e6a';

function openaiModel(replies: Replies) {
  const recorder = fakeFetch(replies);
  const model = createOpenAI({ apiKey: KEY, fetch: recorder.fetch as typeof fetch }).embedding(
    'text-embedding-3-small',
  );
  return { model, requests: recorder.requests };
}

function googleModel(replies: Replies) {
  const recorder = fakeFetch(replies);
  const model = createGoogleGenerativeAI({ apiKey: KEY, fetch: recorder.fetch as typeof fetch }).embedding(
    'gemini-embedding-001',
  );
  return { model, requests: recorder.requests };
}

function cohereModel(replies: Replies) {
  const recorder = fakeFetch(replies);
  const model = createCohere({ apiKey: KEY, fetch: recorder.fetch as typeof fetch }).embedding('embed-v4.0');
  return { model, requests: recorder.requests };
}

/** The error `doEmbed` rejects with; fails the test when it resolves. */
export async function rejectionOf(model: EmbeddingModelV4, values: string[]): Promise<APICallError> {
  const error = await model.doEmbed({ values }).then(
    () => expect.unreachable('doEmbed resolved; it had to fail'),
    (caught: unknown) => caught,
  );
  expect(APICallError.isInstance(error)).toBe(true);
  return error as APICallError;
}

const cohereAnswer = (vectors: number[][]) => ({
  id: 'evidence',
  embeddings: { float: vectors },
  texts: [],
  meta: { billed_units: { input_tokens: 1 } },
});

/** Findings common to the three providers, with the body each API sends. */
function sharedFindings(
  create: (replies: Replies) => { model: EmbeddingModelV4; requests: { body: unknown }[] },
  bodies: {
    quota: unknown;
    tooLarge: unknown;
    echo: (key: string) => unknown;
    success: unknown;
    key: string;
  },
) {
  it('drops a misspelt provider option without a word and sends the request', async () => {
    const { model, requests } = create([{ body: bodies.success }]);
    const result = await model.doEmbed({
      values: ['x'],
      providerOptions: { [bodies.key]: { conformanceNoSuchOption: true } },
    });
    expect(result.warnings ?? []).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(JSON.stringify(requests[0]!.body)).not.toContain('conformanceNoSuchOption');
  });

  it('a 429 for a used-up quota is an APICallError with isRetryable: true', async () => {
    const { model } = create([{ status: 429, body: bodies.quota }]);
    const error = await rejectionOf(model, ['x']);
    expect(error.statusCode).toBe(429);
    expect(error.isRetryable).toBe(true);
  });

  it('a "request too large" 400 is a plain APICallError, isRetryable: false', async () => {
    const { model } = create([{ status: 400, body: bodies.tooLarge }]);
    const error = await rejectionOf(model, ['x', 'y']);
    expect(error.statusCode).toBe(400);
    expect(error.isRetryable).toBe(false);
  });

  it('an API key the server echoes stays in the error message and body (the adapter redacts it)', async () => {
    const { model } = create([{ status: 401, body: bodies.echo(KEY) }]);
    const error = await rejectionOf(model, ['x']);
    expect(error.message).toContain(KEY);
    expect(error.responseBody).toContain(KEY);
  });
}

export const peerFinding = {
  openai(): void {
    describe('evidence: @ai-sdk/openai itself', () => {
      it("returns vectors in the order of the answer's data list, ignoring each item's index", async () => {
        const { model } = openaiModel([
          {
            body: {
              object: 'list',
              data: [
                { object: 'embedding', index: 1, embedding: [0, 1] },
                { object: 'embedding', index: 0, embedding: [1, 0] },
              ],
              usage: { prompt_tokens: 2, total_tokens: 2 },
            },
          },
        ]);
        const result = await model.doEmbed({ values: ['first', 'second'] });
        // Input 0 gets the vector the API labelled index 1.
        expect(result.embeddings).toEqual([
          [0, 1],
          [1, 0],
        ]);
      });

      it('accepts an answer whose items carry a duplicate or impossible index', async () => {
        const { model } = openaiModel([
          {
            body: {
              object: 'list',
              data: [
                { object: 'embedding', index: 0, embedding: [1, 0] },
                { object: 'embedding', index: 0, embedding: [0, 1] },
              ],
              usage: { prompt_tokens: 2, total_tokens: 2 },
            },
          },
          {
            body: {
              object: 'list',
              data: [
                { object: 'embedding', index: 0, embedding: [1, 0] },
                { object: 'embedding', index: 7, embedding: [0, 1] },
              ],
              usage: { prompt_tokens: 2, total_tokens: 2 },
            },
          },
        ]);
        expect((await model.doEmbed({ values: ['a', 'b'] })).embeddings).toHaveLength(2);
        expect((await model.doEmbed({ values: ['a', 'b'] })).embeddings).toHaveLength(2);
      });

      it('reads no wait from a 429 message ("Please try again in 2.5s"): no Retry-After reaches the caller', async () => {
        const { model } = openaiModel([
          {
            status: 429,
            headers: { 'x-request-id': 'req_evidence' },
            body: {
              error: {
                message: 'Rate limit reached for requests. Please try again in 2.5s.',
                type: 'requests',
                param: null,
                code: 'rate_limit_exceeded',
              },
            },
          },
        ]);
        const error = await rejectionOf(model, ['x']);
        expect(error.isRetryable).toBe(true);
        // The answer's headers do reach the caller (so their having no wait is the peer's doing): the
        // wait stays in the body's text, where nothing reads it.
        expect(error.responseHeaders?.['x-request-id']).toBe('req_evidence');
        expect(error.responseHeaders?.['retry-after']).toBeUndefined();
        expect(error.responseHeaders?.['retry-after-ms']).toBeUndefined();
      });

      sharedFindings(openaiModel, {
        key: 'openai',
        success: {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [1, 0] }],
          usage: { prompt_tokens: 1, total_tokens: 1 },
        },
        quota: {
          error: {
            message: 'You exceeded your current quota.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          },
        },
        tooLarge: {
          error: {
            message: 'Requested 400000 tokens, max 300000 tokens per request',
            type: 'max_tokens_per_request',
            param: null,
            code: 'max_tokens_per_request',
          },
        },
        echo: (key) => ({
          error: {
            message: `Incorrect API key provided: ${key}.`,
            type: 'invalid_request_error',
            code: null,
          },
        }),
      });
    });
  },

  google(): void {
    describe('evidence: @ai-sdk/google itself', () => {
      sharedFindings(googleModel, {
        key: 'google',
        success: { embedding: { values: [1, 0] } },
        quota: {
          error: {
            code: 429,
            message: 'Quota exceeded for metric: embed_content_free_tier_requests, limit: 1000',
            status: 'RESOURCE_EXHAUSTED',
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
                violations: [{ quotaId: 'EmbedContentRequestsPerDayPerProjectPerModel-FreeTier' }],
              },
            ],
          },
        },
        tooLarge: {
          error: {
            code: 400,
            message: 'Request payload size exceeds the limit: 4194304 bytes.',
            status: 'INVALID_ARGUMENT',
          },
        },
        echo: (key) => ({
          error: { code: 401, message: `API key not valid: ${key}`, status: 'UNAUTHENTICATED' },
        }),
      });

      it("reads no RetryInfo: a 429 whose wait is only in the body's retryDelay carries no wait", async () => {
        const { model } = googleModel([
          {
            status: 429,
            headers: { 'x-request-id': 'req_evidence' },
            body: {
              error: {
                code: 429,
                message: 'Please retry in 1.5s.',
                status: 'RESOURCE_EXHAUSTED',
                details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }],
              },
            },
          },
        ]);
        const error = await rejectionOf(model, ['x']);
        expect(error.isRetryable).toBe(true);
        // The answer's headers do reach the caller (so their having no wait is the peer's doing): the
        // wait stays in the body's text, where nothing reads it.
        expect(error.responseHeaders?.['x-request-id']).toBe('req_evidence');
        expect(error.responseHeaders?.['retry-after']).toBeUndefined();
        expect(error.responseHeaders?.['retry-after-ms']).toBeUndefined();
      });
    });
  },

  cohere(): void {
    describe('evidence: @ai-sdk/cohere itself', () => {
      it('sends input_type "search_query" when no input type is given', async () => {
        const { model, requests } = cohereModel([{ body: cohereAnswer([[1, 0]]) }]);
        await model.doEmbed({ values: ['a document, not a query'] });
        expect((requests[0]!.body as { input_type?: string }).input_type).toBe('search_query');
      });

      it("ignores the specification's dimensions option: no output_dimension is sent", async () => {
        const { model, requests } = cohereModel([{ body: cohereAnswer([[1, 0]]) }]);
        // @ai-sdk/cohere is built on @ai-sdk/provider 4.0.19, whose v4 call options have no `dimensions`
        // yet; `ai` 7 passes it all the same.
        const withDimensions = { values: ['x'], dimensions: 256 };
        await model.doEmbed(withDimensions);
        expect(requests[0]!.body).not.toHaveProperty('output_dimension');
        const { model: withOption, requests: optionRequests } = cohereModel([
          { body: cohereAnswer([[1, 0]]) },
        ]);
        await withOption.doEmbed({ values: ['x'], providerOptions: { cohere: { outputDimension: 256 } } });
        expect((optionRequests[0]!.body as { output_dimension?: number }).output_dimension).toBe(256);
      });

      sharedFindings(cohereModel, {
        key: 'cohere',
        success: cohereAnswer([[1, 0]]),
        quota: { message: 'You are past your monthly limit of API calls for this Trial key.' },
        tooLarge: { message: 'too many tokens: total number of tokens exceeds the limit' },
        echo: (key) => ({ message: `invalid api token ${key}` }),
      });
    });
  },
};
