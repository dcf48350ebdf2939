/**
 * What a failing scenario says about two mistakes a new provider makes: a key not sent where the wire
 * puts it (or sent there twice) names the header the suite looked in, and a provider that drops `dimensions` is told so by every
 * scenario that asks the suite's small length, not only by the dimensions family (before, those failed
 * with the engine's length error and the bug of their own case named beside it, none of them this one).
 */

import { type EmbedRequest, float32ToBase64, type Transport } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { ACME_VECTORS, acmeCassettes } from '../mutants/cassettes.js';
import {
  AcmeEmbeddingModel,
  type AcmeSettings,
  acmeCapabilities,
  acmeWire,
} from '../mutants/reference-provider.js';
import { type CassetteSuite, replayCassette } from '../src/cassettes.js';
import { runConformance } from '../src/describe.js';
import { TRANSPORT_KINDS } from '../src/interceptor.js';
import type { Cassette, DescribeEmbeddingProviderOptions, WireProfile } from '../src/types.js';
import { failureMessages } from './mutant-suites.js';

/** The transport `inner` with the request headers changed by `headers`. */
const rewritingHeaders = (
  inner: Transport,
  headers: (sent: Record<string, string>) => Record<string, string>,
): Transport => ({
  kind: inner.kind,
  request: (request) => inner.request({ ...request, headers: headers(request.headers) }),
});

/** Acme without its authorization header. */
class DropsAuthHeader extends AcmeEmbeddingModel {
  constructor(modelId: string, settings: AcmeSettings) {
    super(modelId, settings);
    this.transport = rewritingHeaders(this.transport, ({ authorization: _dropped, ...rest }) => rest);
  }
}

/** Acme adding its own `Authorization` beside the `authorization` it already sends: the key goes twice. */
class KeyTwice extends AcmeEmbeddingModel {
  constructor(modelId: string, settings: AcmeSettings) {
    super(modelId, settings);
    this.transport = rewritingHeaders(this.transport, (sent) => ({
      Authorization: `Bearer ${settings.apiKey}`,
      ...sent,
    }));
  }
}

/** Acme sending the key in its authorization header, without the `Bearer` the API wants. */
class BareKey extends AcmeEmbeddingModel {
  constructor(modelId: string, settings: AcmeSettings) {
    super(modelId, settings);
    this.transport = rewritingHeaders(this.transport, (sent) => ({
      ...sent,
      authorization: settings.apiKey,
    }));
  }
}

/** Acme with a default length of 128, so that the generic scenarios ask a small one (16). */
const LONG_VECTORS = { ...acmeCapabilities, defaultDimensions: 128, dimensions: { min: 8, max: 128 } };
const longWire: WireProfile = { ...acmeWire, vectorLengths: { default: 128, allowed: { min: 8, max: 128 } } };

class LongAcme extends AcmeEmbeddingModel {
  override readonly capabilities = LONG_VECTORS;
}

class LongAcmeDropsDimensions extends LongAcme {
  protected override requestBody(request: EmbedRequest) {
    const { dimensions: _dropped, ...body } = super.requestBody(request);
    return body;
  }
}

/** Acme sending `dimensions` as text, `"8"` for 8. */
class DimensionsAsText extends AcmeEmbeddingModel {
  protected override requestBody(request: EmbedRequest) {
    const body = super.requestBody(request);
    return { ...body, dimensions: String(body.dimensions) };
  }
}

/** Acme posting to `/embedding`, a letter short of the API's path. */
class WrongPath extends AcmeEmbeddingModel {
  protected override url(path: string) {
    return super.url(path.replace(/s$/, ''));
  }
}

/** Acme sending its key in `x-api-key` instead of its authorization header. */
class KeyInAnotherHeader extends AcmeEmbeddingModel {
  constructor(modelId: string, settings: AcmeSettings) {
    super(modelId, settings);
    this.transport = rewritingHeaders(this.transport, ({ authorization: _moved, ...rest }) => ({
      ...rest,
      'x-api-key': settings.apiKey,
    }));
  }
}

/** Acme taking one input per call, so that a job of several inputs sends its calls at once. */
class OneInputAcme extends AcmeEmbeddingModel {
  override readonly capabilities = { ...acmeCapabilities, maxInputsPerCall: 1 };
}

/** Acme taking 1,000 inputs in one call. */
class WideAcme extends AcmeEmbeddingModel {
  override readonly capabilities = {
    ...acmeCapabilities,
    maxInputsPerCall: 1_000,
    maxTokensPerCall: 1_000_000,
  };
}

const cassetteSuite: CassetteSuite = {
  name: 'acme',
  baseURL: 'https://api.acme.test/v1',
  kind: 'embed',
  wire: acmeWire,
};

const offline = (
  createModel: DescribeEmbeddingProviderOptions['createModel'],
  only: string[],
  wire: WireProfile = acmeWire,
) =>
  runConformance(
    { name: 'acme', baseURL: 'https://api.acme.test/v1', modelId: 'acme-embed-1', createModel, wire },
    { only },
  );

/** A failure's first line, without the note of what its scenario catches. */
const cause = (error: unknown) =>
  String((error as Error)?.message)
    .split('\n')[0]!
    .split(' (this scenario catches:')[0];

describe('a key not sent as the wire says', () => {
  for (const [label, Model, expected] of [
    [
      'no auth header at all',
      DropsAuthHeader,
      "the key is sent once in the authorization header (the wire's authHeader), but the request had no authorization header",
    ],
    [
      'the auth header holding another value',
      BareKey,
      "the key is sent once in the authorization header (the wire's authHeader), but the request held another value in it",
    ],
    [
      'the auth header sent twice',
      KeyTwice,
      "the key is sent once in the authorization header (the wire's authHeader), but the request sent that header more than once",
    ],
  ] as const) {
    it(`${label}: the failure names the header`, async () => {
      const { outcomes } = await offline(
        ({ modelId, ...settings }) => new Model(modelId, settings),
        ['single'],
      );
      expect(outcomes.map((outcome) => [outcome.kind, outcome.passed, cause(outcome.error)])).toEqual([
        ['undici', false, expected],
        ['fetch', false, expected],
      ]);
    });
  }
});

describe('a provider that drops dimensions', () => {
  const dropped =
    "acme returned vector 0 with 128 values; expected 16 for dimensions 16. No request carried dimensions (as the wire's itemsOf reads them) though the job asked 16: the provider drops the dimensions option, so the API answered its default length.";

  it('is told so by a generic scenario and by a shared family, through both transports', async () => {
    const { outcomes } = await offline(
      ({ modelId, ...settings }) => new LongAcmeDropsDimensions(modelId, settings),
      ['single', 'error-5xx-retried'],
      longWire,
    );
    expect(
      outcomes.map((outcome) => [outcome.id, outcome.kind, outcome.passed, cause(outcome.error)]),
    ).toEqual([
      ['single', 'undici', false, dropped],
      ['single', 'fetch', false, dropped],
      ['error-5xx-retried', 'undici', false, dropped],
      ['error-5xx-retried', 'fetch', false, dropped],
    ]);
  });

  it("names the dropped option as what the scenario caught, not the scenario's own bug", async () => {
    const { outcomes } = await offline(
      ({ modelId, ...settings }) => new LongAcmeDropsDimensions(modelId, settings),
      ['single', 'error-5xx-retried'],
      longWire,
    );
    const caught = `${dropped} (this scenario catches: the dimensions option dropped, so the API answers its default length)`;
    expect(
      outcomes.map((outcome) => [
        outcome.id,
        outcome.kind,
        String((outcome.error as Error)?.message).split('\n')[0],
      ]),
    ).toEqual([
      ['single', 'undici', caught],
      ['single', 'fetch', caught],
      ['error-5xx-retried', 'undici', caught],
      ['error-5xx-retried', 'fetch', caught],
    ]);
  });

  it('the same model sending them passes those scenarios', async () => {
    const { outcomes } = await offline(
      ({ modelId, ...settings }) => new LongAcme(modelId, settings),
      ['single', 'error-5xx-retried'],
      longWire,
    );
    expect(outcomes.map((outcome) => [outcome.id, outcome.kind, outcome.passed])).toEqual([
      ['single', 'undici', true],
      ['single', 'fetch', true],
      ['error-5xx-retried', 'undici', true],
      ['error-5xx-retried', 'fetch', true],
    ]);
  });
});

describe('a request that does not match its cassette', () => {
  it('names the recorded request it was compared with and the field dropped, through both transports', async () => {
    const expected = (id: string) =>
      TRANSPORT_KINDS.map(
        (kind) =>
          `${id} [${kind}]: request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): body.dimensions: recorded 8, sent (absent)`,
      );
    expect(
      await failureMessages('drops-dimensions', [
        'cassette/two inputs as queries',
        'cassette/rate limited then answered',
      ]),
    ).toEqual([
      ...expected('cassette/two inputs as queries'),
      ...expected('cassette/rate limited then answered'),
    ]);
  });

  it('names a query parameter the recording lacks, the key in it redacted', async () => {
    const messages = await failureMessages('key-in-url', ['cassette/two inputs as queries']);
    expect(messages).toEqual(
      TRANSPORT_KINDS.map(
        (kind) =>
          `cassette/two inputs as queries [${kind}]: request 1 of 1 (POST /v1/embeddings?api_key=[REDACTED]) differs from the cassette's interactions[0] (POST /v1/embeddings): query.api_key: recorded (absent), sent "[REDACTED]"`,
      ),
    );
    for (const message of messages) expect(message).not.toMatch(/test-key|3f9a1c0d/);
  });

  it('names a path the recording does not hold', async () => {
    for (const kind of TRANSPORT_KINDS)
      await expect(
        replayCassette(
          { ...cassetteSuite, createModel: ({ modelId, ...settings }) => new WrongPath(modelId, settings) },
          acmeCassettes[0]!,
          kind,
        ),
      ).rejects.toMatchObject({
        message: `request 1 of 1 (POST /v1/embedding) differs from the cassette's interactions[0] (POST /v1/embeddings): path: recorded "/v1/embeddings", sent "/v1/embedding"`,
      });
  });

  it('names a body field sent as another type', async () => {
    for (const kind of TRANSPORT_KINDS)
      await expect(
        replayCassette(
          {
            ...cassetteSuite,
            createModel: ({ modelId, ...settings }) => new DimensionsAsText(modelId, settings),
          },
          acmeCassettes[0]!,
          kind,
        ),
      ).rejects.toMatchObject({
        message: `request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): body.dimensions: recorded 8, sent "8"`,
      });
  });

  it('names the first few differences of a large body and counts the rest', async () => {
    const inputs = Array.from({ length: 1_000 }, (_, index) => `text ${index}`);
    const recording: Cassette = {
      ...structuredClone(acmeCassettes[0]!),
      name: 'a thousand inputs',
      call: { modelId: 'acme-embed-1', inputs, dimensions: 8 },
    };
    recording.interactions[0]!.request.body = {
      model: 'acme-embed-1',
      input: inputs.map((input) => input.toUpperCase()),
      encoding_format: 'base64',
      truncate: false,
      dimensions: 8,
    };
    for (const kind of TRANSPORT_KINDS)
      await expect(
        replayCassette(
          { ...cassetteSuite, createModel: ({ modelId, ...settings }) => new WideAcme(modelId, settings) },
          recording,
          kind,
        ),
      ).rejects.toMatchObject({
        message: `request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): body.input[0]: recorded "TEXT 0", sent "text 0"; body.input[1]: recorded "TEXT 1", sent "text 1"; body.input[2]: recorded "TEXT 2", sent "text 2"; and 997 more differences`,
      });
  });
});

describe('a request that does not send the headers its cassette records', () => {
  const CASSETTES = ['cassette/two inputs as queries', 'cassette/rate limited then answered'];
  const expected = (difference: string) =>
    CASSETTES.flatMap((id) =>
      TRANSPORT_KINDS.map(
        (kind) =>
          `${id} [${kind}]: request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): ${difference}`,
      ),
    );

  it('names a version header dropped, through both transports, in every cassette', async () => {
    expect(await failureMessages('drops-version-header', CASSETTES)).toEqual(
      expected('header acme-version: recorded "2024-06-01", sent (absent)'),
    );
  });

  it('names a wrong content type', async () => {
    expect(await failureMessages('body-as-text', CASSETTES)).toEqual(
      expected('header content-type: recorded "application/json", sent "text/plain"'),
    );
  });

  it('names the header the key was recorded in when the provider leaves it out, never showing the key', async () => {
    for (const kind of TRANSPORT_KINDS) {
      const failure = replayCassette(
        {
          ...cassetteSuite,
          createModel: ({ modelId, ...settings }) => new KeyInAnotherHeader(modelId, settings),
        },
        acmeCassettes[0]!,
        kind,
      );
      await expect(failure).rejects.toMatchObject({
        message: `request 1 of 1 differs from the cassette's interactions[0] (POST /v1/embeddings): header authorization (the key's): recorded "Bearer …", sent (absent)`,
      });
    }
  });

  it('compares no header of a cassette that records none', async () => {
    const unrecorded = structuredClone(acmeCassettes[0]!);
    const { headers: _headers, auth: _auth, ...request } = unrecorded.interactions[0]!.request;
    unrecorded.interactions[0]!.request = request;
    for (const kind of TRANSPORT_KINDS)
      await replayCassette(
        {
          ...cassetteSuite,
          createModel: ({ modelId, ...settings }) => new KeyInAnotherHeader(modelId, settings),
        },
        unrecorded,
        kind,
      );
  });
});

describe('a request sent beside others that differs from its recording', () => {
  it('is named by its place among the requests sent, through both transports', async () => {
    const inputs = ['pets', 'animals', 'plants'];
    const interactions = inputs.map((input, index) => ({
      request: {
        ...structuredClone(acmeCassettes[0]!.interactions[0]!.request),
        body: {
          model: 'acme-embed-1',
          input: [input],
          encoding_format: 'base64',
          truncate: false,
          dimensions: 8,
        },
      },
      response: {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: float32ToBase64(ACME_VECTORS[index % 2]!) }],
          usage: { prompt_tokens: 1, total_tokens: 1 },
        },
      },
    }));
    // The third request's recording holds another input than the one the call sends.
    (interactions[2]!.request.body as { input: string[] }).input = ['trees'];
    const concurrent: Cassette = {
      ...structuredClone(acmeCassettes[0]!),
      name: 'three calls at once',
      call: { modelId: 'acme-embed-1', inputs, dimensions: 8 },
      interactions,
    };
    for (const kind of TRANSPORT_KINDS)
      await expect(
        replayCassette(
          {
            ...cassetteSuite,
            createModel: ({ modelId, ...settings }) => new OneInputAcme(modelId, settings),
          },
          concurrent,
          kind,
        ),
      ).rejects.toMatchObject({
        message: `request 3 of 3 differs from the cassette's interactions[2] (POST /v1/embeddings): body.input[0]: recorded "trees", sent "plants"`,
      });
  });
});
