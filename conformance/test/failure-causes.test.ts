/**
 * What a failing scenario says about two mistakes a new provider makes: a key not sent where the wire
 * puts it (or sent there twice) names the header the suite looked in, and a provider that drops `dimensions` is told so by every
 * scenario that asks the suite's small length, not only by the dimensions family (before, those failed
 * with the engine's length error and the bug of their own case named beside it, none of them this one).
 */

import type { EmbedRequest, Transport } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import {
  AcmeEmbeddingModel,
  type AcmeSettings,
  acmeCapabilities,
  acmeWire,
} from '../mutants/reference-provider.js';
import { runConformance } from '../src/describe.js';
import type { DescribeEmbeddingProviderOptions, WireProfile } from '../src/types.js';

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
