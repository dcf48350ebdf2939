/**
 * What the suite tells the author of a new provider about the mistakes authors make first: each failure
 * says what to change, in the provider or in its wire profile or cassette.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbedRequest, ParsedError } from '@embedkit/core/provider';
import { afterAll, describe, expect, it } from 'vitest';
import { acmeCassettes } from '../mutants/cassettes.js';
import { AcmeEmbeddingModel, acmeWire } from '../mutants/reference-provider.js';
import { runConformance } from '../src/describe.js';
import type { CreateModelOptions, DescribeEmbeddingProviderOptions, WireProfile } from '../src/types.js';

const suite = (
  createModel: DescribeEmbeddingProviderOptions['createModel'],
  wire: WireProfile = acmeWire,
): DescribeEmbeddingProviderOptions => ({
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  modelId: 'acme-embed-1',
  createModel,
  wire,
});

const create =
  (Model: typeof AcmeEmbeddingModel) =>
  ({ modelId, ...settings }: CreateModelOptions) =>
    new Model(modelId, settings);

const firstLines = (outcomes: { passed: boolean; error?: unknown }[]) =>
  outcomes.map((outcome) =>
    outcome.passed ? 'passed' : String((outcome.error as Error).message).split('\n')[0],
  );

describe('a request body whose inputs are not where the wire profile reads them', () => {
  /** Sends its inputs as `texts`, where the API (and the wire) reads `input`. */
  class MisnamedInputs extends AcmeEmbeddingModel {
    protected override requestBody(request: EmbedRequest) {
      const { input, ...body } = super.requestBody(request);
      return { ...body, texts: input };
    }
  }
  // A wire written by hand, as an author writes one: it reads the field, and nothing more.
  const { itemsOf: _items, ...rest } = acmeWire;
  const wire: WireProfile = { ...rest, inputsOf: (body) => (body as { input: string[] }).input };

  it('fails naming the wire reader and the fields the body has, not a TypeError of the suite', async () => {
    const { outcomes } = await runConformance(suite(create(MisnamedInputs), wire), { only: ['single'] });
    expect(firstLines(outcomes)).toEqual(
      Array(2).fill(
        "the wire's inputsOf read undefined from a request body, not a list of texts: the provider sent its inputs under another field than the wire profile reads, or inputsOf reads the wrong one (the body's fields: encoding_format, model, texts, truncate) (this scenario catches: the key in the wrong header, the body not sent as JSON, the auth or content-type header sent twice, the input altered, usage guessed, lost or read from the wrong count (a request's total for its input tokens), the request id or status lost, the key in the result, an answer refused for a charset in its content type)",
      ),
    );
  });

  it('says so first in a scenario that retries, rather than naming the requests sent again after the failed reply', async () => {
    const { outcomes } = await runConformance(suite(create(MisnamedInputs), wire), {
      only: ['key-not-in-url'],
    });
    for (const line of firstLines(outcomes))
      expect(line).toMatch(/^the wire's inputsOf read undefined from a request body, not a list of texts: /);
    expect(outcomes.map((outcome) => outcome.passed)).toEqual([false, false]);
  });

  it('the same wire passes the provider that sends them there', async () => {
    const { outcomes } = await runConformance(suite(create(AcmeEmbeddingModel), wire), { only: ['single'] });
    expect(firstLines(outcomes)).toEqual(['passed', 'passed']);
  });
});

describe('an error of the right class that the engine would not retry', () => {
  /** Marks every 429 as not retryable: a parser that sets `isRetryable` where the status decides. */
  class FinalRateLimits extends AcmeEmbeddingModel {
    protected override parseError(body: unknown): ParsedError {
      const parsed = super.parseError(body);
      return parsed.quotaExhausted === true ? parsed : { ...parsed, isRetryable: false };
    }
  }

  it('says which flag is wrong and where it comes from', async () => {
    const { outcomes } = await runConformance(suite(create(FinalRateLimits)), {
      only: ['error-429-rate-limited'],
    });
    expect(firstLines(outcomes)).toEqual(
      Array(2).fill(
        'RateLimitError.isRetryable is false, expected true: the engine decides retries by it (a ParsedError that sets isRetryable overrides what the status says) (this scenario catches: a 429 mapped to another class (a retryable server error), or retried past maxRetries)',
      ),
    );
  });
});

describe('a request id header the provider does not read', () => {
  const wire: WireProfile = { ...acmeWire, requestIdHeader: 'x-acme-trace' };

  it('says where a provider on core names the header', async () => {
    const { outcomes } = await runConformance(suite(create(AcmeEmbeddingModel), wire), { only: ['single'] });
    expect(outcomes.map((outcome) => outcome.passed)).toEqual([false, false]);
    for (const line of firstLines(outcomes))
      expect(line).toMatch(
        /^the result keeps the request id the API sent in x-acme-trace \(core reads x-request-id, request-id and x-goog-request-id; name another in the JsonEndpoint's requestIdHeaders\) \(this scenario catches/,
      );
  });
});

describe('a cassette of a retried answer', () => {
  const retried = acmeCassettes.find((cassette) => cassette.name === 'rate limited then answered')!;
  const { maxRetries: _retries, ...call } = retried.call;
  const withoutRetries = { ...retried, call };
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-cassettes-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('replays with the call its cassette states (the reference passes)', async () => {
    expect(retried.call.maxRetries).toBe(1);
    const { outcomes } = await runConformance(
      { ...suite(create(AcmeEmbeddingModel)), cassettes: [retried] },
      { only: ['cassette/rate limited then answered'] },
    );
    expect(firstLines(outcomes)).toEqual(['passed', 'passed']);
  });

  it('without maxRetries in its call, fails naming the cassette, its file and the setting', async () => {
    writeFileSync(join(directory, 'rate-limited.json'), JSON.stringify(withoutRetries));
    const { outcomes } = await runConformance(
      { ...suite(create(AcmeEmbeddingModel)), cassettes: directory },
      { only: ['cassette/rate limited then answered'] },
    );
    expect(firstLines(outcomes)).toEqual(
      Array(2).fill(
        `cassette "rate limited then answered" (${join(directory, 'rate-limited.json')}) expects a result, but the call failed: RateLimitError: acme API error 429: Rate limit reached. — Lower concurrency or set rateLimit; retries are turned off (maxRetries 0), so none was made. A replay retries as often as the cassette's call.maxRetries says, and never without it: set "maxRetries": 1 in its call to replay the 1 retried answer`,
      ),
    );
  });

  it('that differs from what the provider sends fails naming the cassette file too', async () => {
    const queries = acmeCassettes.find((cassette) => cassette.name === 'two inputs as queries')!;
    const [interaction] = queries.interactions;
    const request = {
      ...interaction!.request,
      body: { ...(interaction!.request.body as object), dimensions: 16 },
    };
    const file = join(directory, 'queries.json');
    writeFileSync(file, JSON.stringify({ ...queries, interactions: [{ ...interaction, request }] }));
    const { outcomes } = await runConformance(
      { ...suite(create(AcmeEmbeddingModel)), cassettes: directory },
      { only: ['cassette/two inputs as queries'] },
    );
    expect(firstLines(outcomes)).toEqual(
      Array(2).fill(
        `request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): body.dimensions: recorded 16, sent 8 (cassette file ${file})`,
      ),
    );
  });
});

describe('a cassette that expects an error', () => {
  const queries = acmeCassettes.find((cassette) => cassette.name === 'two inputs as queries')!;
  const [interaction] = queries.interactions;
  const refused = {
    ...queries,
    name: 'key refused',
    interactions: [
      {
        ...interaction!,
        response: {
          status: 401,
          headers: { 'content-type': 'application/json' },
          body: { error: { message: 'Incorrect API key provided.', code: 'invalid_api_key' } },
        },
      },
    ],
  };
  const replay = (expected: { name: string; code: string; statusCode?: number }) =>
    runConformance(
      { ...suite(create(AcmeEmbeddingModel)), cassettes: [{ ...refused, expect: { error: expected } }] },
      { only: ['cassette/key refused'] },
    );

  it('passes with the class, code and status the engine gives', async () => {
    const { outcomes } = await replay({
      name: 'AuthenticationError',
      code: 'authentication',
      statusCode: 401,
    });
    expect(firstLines(outcomes)).toEqual(['passed', 'passed']);
  });

  it("with the API's own code where the error's is expected, names the field and both values", async () => {
    const { outcomes } = await replay({
      name: 'AuthenticationError',
      code: 'invalid_api_key',
      statusCode: 401,
    });
    expect(firstLines(outcomes)).toEqual(
      Array(2).fill('AuthenticationError.code is authentication, expected invalid_api_key'),
    );
  });

  it('with another status, names the field and both values', async () => {
    const { outcomes } = await replay({
      name: 'AuthenticationError',
      code: 'authentication',
      statusCode: 403,
    });
    expect(firstLines(outcomes)).toEqual(
      Array(2).fill('AuthenticationError.statusCode is 401, expected 403'),
    );
  });
});
