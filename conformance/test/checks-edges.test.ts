/**
 * What the checks see and compare. A request's headers: a header sent more than once keeps every value,
 * in the order sent, in every form a transport hands headers over, so that a check of a header that must
 * be sent once (`authorization`, `content-type`) sees the repeat on the undici transport as on the fetch
 * one. And the input-type scenarios on a wire that reads a request without an input type as the API's
 * default type.
 */
import type { EmbedRequest } from '@embedkit/core/provider';
import { request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  ACME_INPUT_TYPES,
  AcmeEmbeddingModel,
  acmeWire,
  createAcmeModel,
  type ModelFactory,
} from '../mutants/reference-provider.js';
import { runScenarios } from '../src/describe.js';
import { createInterceptor, type Interceptor, type TransportKind } from '../src/interceptor.js';
import { listEmbeddingScenarios } from '../src/scenarios.js';
import type { WireProfile } from '../src/types.js';

const ORIGIN = 'https://api.acme.test';
const ENDPOINT = `${ORIGIN}/v1/embeddings`;

/**
 * The headers the interceptor of `kind` saw on one request, sent by `send` through its transport; `send`
 * resolves with the answer's text, read to its end.
 */
async function seenHeaders(
  kind: TransportKind,
  send: (transport: Interceptor['transport']) => Promise<string>,
): Promise<Record<string, string>> {
  const interceptor = createInterceptor(kind, ORIGIN);
  try {
    interceptor.expect('POST', '/v1/embeddings', () => ({ status: 200, body: { ok: true } }));
    expect(await send(interceptor.transport)).toBe('{"ok":true}');
    expect(interceptor.requests).toHaveLength(1);
    return interceptor.requests[0]!.headers;
  } finally {
    await interceptor.close();
  }
}

/** Sends `headers` as given to undici's `request`, through the interceptor's dispatcher. */
const throughUndici = (headers: unknown) =>
  seenHeaders('undici', (transport) =>
    undiciRequest(ENDPOINT, {
      method: 'POST',
      dispatcher: transport.dispatcher!,
      headers: headers as Record<string, string>,
      body: '{}',
    }).then((response) => response.body.text()),
  );

describe('the headers of a request as the scenarios see them', () => {
  it("keeps both values of a header repeated in undici's flat list of names and values, in the order sent", async () => {
    expect(
      await throughUndici([
        'authorization',
        'Bearer own-key',
        'content-type',
        'application/json',
        'Authorization',
        'Bearer gateway-key',
        'x-trace-id',
        't-1',
      ]),
    ).toStrictEqual({
      authorization: 'Bearer own-key, Bearer gateway-key',
      'content-type': 'application/json',
      'x-trace-id': 't-1',
    });
  });

  it('reads a flat list of names and values held as bytes, as undici keeps raw headers', async () => {
    expect(
      await throughUndici(
        ['content-type', 'application/json', 'Content-Type', 'application/json'].map((text) =>
          Buffer.from(text),
        ),
      ),
    ).toStrictEqual({ 'content-type': 'application/json, application/json' });
  });

  it('keeps both values of a header named in two letter cases in one object, and each value of a list', async () => {
    expect(
      await throughUndici({
        authorization: 'Bearer own-key',
        Authorization: 'Bearer gateway-key',
        'x-tags': ['a', 'b'],
      }),
    ).toStrictEqual({ authorization: 'Bearer own-key, Bearer gateway-key', 'x-tags': 'a, b' });
  });

  it('shows a repeated header the same way on the fetch transport, where fetch joins the values', async () => {
    const headers = [
      ['authorization', 'Bearer own-key'],
      ['Authorization', 'Bearer gateway-key'],
      ['content-type', 'application/json'],
    ];
    const fetched = await seenHeaders('fetch', (transport) =>
      transport.fetch!(ENDPOINT, { method: 'POST', headers: headers as [string, string][], body: '{}' }).then(
        (response) => response.text(),
      ),
    );
    expect(fetched.authorization).toBe('Bearer own-key, Bearer gateway-key');
    expect(fetched['content-type']).toBe('application/json');
    expect((await throughUndici(headers)).authorization).toBe(fetched.authorization);
  });
});

/** Acme, sending the API's word for `document` when no input type is asked, as for an API that requires one. */
class SendsDefault extends AcmeEmbeddingModel {
  protected override requestBody(request: EmbedRequest) {
    const body = super.requestBody(request);
    body.input_type ??= ACME_INPUT_TYPES.document;
    return body;
  }
}

/** Acme's wire, but reading a request that names no input type as the API's default, `document`. */
const defaultingWire: WireProfile = {
  ...acmeWire,
  inputTypeOf: (body) => {
    const word = (body as { input_type?: string }).input_type ?? ACME_INPUT_TYPES.document;
    return word === ACME_INPUT_TYPES.query ? 'query' : 'document';
  },
  itemsOf: (body) =>
    acmeWire.itemsOf!(body).map((item) => ({ ...item, inputType: defaultingWire.inputTypeOf(body) })),
};

/**
 * The outcome of each input-type scenario `ids` names for a model of `createModel`, on `wire` (the
 * defaulting wire unless given).
 */
async function inputTypeOutcomes(
  createModel: ModelFactory,
  wire: WireProfile = defaultingWire,
  ids = ['input-type-document', 'input-type-query'],
): Promise<string[]> {
  const { scenarios } = listEmbeddingScenarios({
    name: 'acme',
    baseURL: 'https://api.acme.test/v1',
    modelId: 'acme-embed-1',
    createModel,
    wire,
  });
  const outcomes = await runScenarios(scenarios, { only: ids });
  return outcomes.map(
    ({ id, kind, passed, error }) =>
      `${id} [${kind}]: ${passed ? 'passed' : String((error as Error).message).split(' (this scenario')[0]}`,
  );
}

describe('the input-type scenarios on a wire that reads no input type as the default one', () => {
  it('pass a provider that sends each input type', async () => {
    expect(await inputTypeOutcomes(createAcmeModel)).toStrictEqual([
      'input-type-query [undici]: passed',
      'input-type-query [fetch]: passed',
      'input-type-document [undici]: passed',
      'input-type-document [fetch]: passed',
    ]);
  });

  it('fail a provider that never sends the input type, by the type the API does not take as its default', async () => {
    class DropsInputType extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const { input_type: _dropped, ...body } = super.requestBody(request);
        return body;
      }
    }
    const outcomes = await inputTypeOutcomes(
      ({ modelId, ...settings }) => new DropsInputType(modelId, settings),
    );
    // Sending nothing for `document` is what the API reads as `document`: only the other type shows the bug.
    expect(outcomes).toStrictEqual([
      'input-type-query [undici]: the job asking inputType "query" sent the same first request as the job asking none: the provider sends nothing for "query" (a word missing from its mapping?), though its capabilities.inputTypes declares it',
      'input-type-query [fetch]: the job asking inputType "query" sent the same first request as the job asking none: the provider sends nothing for "query" (a word missing from its mapping?), though its capabilities.inputTypes declares it',
      'input-type-document [undici]: passed',
      'input-type-document [fetch]: passed',
    ]);
  });

  it("pass a provider that sends the API's default word when no input type is asked (an API that requires one)", async () => {
    expect(
      await inputTypeOutcomes(({ modelId, ...settings }) => new SendsDefault(modelId, settings)),
    ).toStrictEqual([
      'input-type-query [undici]: passed',
      'input-type-query [fetch]: passed',
      'input-type-document [undici]: passed',
      'input-type-document [fetch]: passed',
    ]);
  });
});

describe('the unsupported input type scenario', () => {
  it('passes a provider that sends its default input type when none is asked, comparing with its own request', async () => {
    const create: ModelFactory = ({ modelId, ...settings }) => new SendsDefault(modelId, settings);
    const ids = ['input-type-query', 'input-type-document', 'input-type-unsupported'];
    expect(await inputTypeOutcomes(create, acmeWire, ids)).toStrictEqual([
      'input-type-query [undici]: passed',
      'input-type-query [fetch]: passed',
      'input-type-document [undici]: passed',
      'input-type-document [fetch]: passed',
      'input-type-unsupported [undici]: passed',
      'input-type-unsupported [fetch]: passed',
    ]);
  });
});
