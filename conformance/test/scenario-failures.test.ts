/**
 * What a failing scenario tells a provider author: a request that left by another way than the transport
 * `createModel` was given fails it (and reaches nothing), and every failure names the bug its case catches.
 */

import { strict as assert } from 'node:assert';
import type { EmbedRequest, EmbedResponse } from '@embedkit/core/provider';
import { createTransport } from '@embedkit/core/provider';
import { fetch as undiciFetch } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { acmeCassettes } from '../mutants/cassettes.js';
import { mutants } from '../mutants/index.js';
import {
  AcmeEmbeddingModel,
  type AcmeSettings,
  acmeCapabilities,
  acmeWire,
} from '../mutants/reference-provider.js';
import { runConformance } from '../src/describe.js';
import { withNote } from '../src/suite/family.js';
import type { CreateModelOptions, DescribeEmbeddingProviderOptions } from '../src/types.js';
import { startLiveServer } from './acme-live-server.js';

const KEY = 'fake-key-the-scenarios-must-never-send';
const live = await startLiveServer({ key: KEY });
afterAll(() => live.close());

/** The Acme reference with its transport replaced by `transport(settings)`. */
const acmeThrough =
  (transport: (settings: AcmeSettings) => AcmeSettings) =>
  ({ modelId, ...settings }: CreateModelOptions) =>
    new AcmeEmbeddingModel(modelId, transport(settings));

const suite = (
  createModel: DescribeEmbeddingProviderOptions['createModel'],
): DescribeEmbeddingProviderOptions => ({
  name: 'acme',
  baseURL: live.baseURL,
  modelId: 'acme-embed-1',
  createModel,
  wire: acmeWire,
});

const message = (error: unknown) => String((error as Error)?.message ?? error);

describe('a provider that ignores the transport it was given', () => {
  const url = `${live.baseURL}/embeddings`;
  for (const [label, createModel, expected] of [
    [
      'and sends through the global fetch',
      acmeThrough(({ dispatcher: _ignored, ...settings }) => ({
        ...settings,
        fetch: (input, init) => globalThis.fetch(input, init),
      })),
      {
        undici: `createModel ignored the \`dispatcher\` it was given (the undici transport): a request to ${url} went through the global fetch (or node:http)`,
        fetch: undefined,
      },
    ],
    [
      "and sends through undici's global dispatcher",
      acmeThrough(({ dispatcher: _ignored, ...settings }) => ({
        ...settings,
        fetch: (input, init) => undiciFetch(input, init as never) as unknown as Promise<Response>,
      })),
      {
        undici: `createModel ignored the \`dispatcher\` it was given (the undici transport): a request to ${url} went through undici's global dispatcher`,
        fetch: `createModel ignored the \`fetch\` it was given (the fetch transport): a request to ${url} went through undici's global dispatcher`,
      },
    ],
    [
      "and sends through core's default transport",
      acmeThrough(({ apiKey, baseURL, headers }) => ({
        apiKey,
        baseURL,
        ...(headers === undefined ? {} : { headers }),
      })),
      {
        undici: `createModel ignored the \`dispatcher\` it was given (the undici transport): a request to 127.0.0.1:${new URL(live.baseURL).port} went through a connection of its own`,
        fetch: `createModel ignored the \`fetch\` it was given (the fetch transport): a request to 127.0.0.1:${new URL(live.baseURL).port} went through a connection of its own`,
      },
    ],
  ] as const) {
    it(`${label}: fails the scenario, which says so, and nothing reaches the network`, async () => {
      const before = live.requests.length;
      // undici first, in a process where no scenario ran before (as the suite orders them).
      const { outcomes } = await runConformance(suite(createModel), { only: ['single', 'error-401'] });
      expect(live.requests.length - before, 'requests that reached the live API').toBe(0);
      for (const outcome of outcomes) {
        const wanted = expected[outcome.kind];
        if (wanted === undefined) expect(outcome.passed, `${outcome.id} [${outcome.kind}]`).toBe(true);
        else expect(message(outcome.error), `${outcome.id} [${outcome.kind}]`).toContain(wanted);
      }
    });
  }

  it('the reference, which uses what it is given, passes', async () => {
    const { outcomes } = await runConformance(suite(acmeThrough((settings) => settings)), {
      only: ['single', 'error-401'],
    });
    expect(outcomes.filter((outcome) => !outcome.passed).map((outcome) => message(outcome.error))).toEqual(
      [],
    );
  });

  it('the network is open again once the scenarios are over (record mode needs it)', async () => {
    const transport = createTransport({});
    const response = await transport.request({
      method: 'POST',
      url: `${live.baseURL}/embeddings`,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'acme-embed-1', input: ['pets'], dimensions: 8 }),
      maxResponseBytes: 1_000_000,
    });
    expect(response.status).toBe(200);
    expect(
      (await globalThis.fetch(`${live.baseURL}/embeddings`, { method: 'POST', body: '{}' })).status,
    ).toBe(401);
  });
});

describe('a failing scenario', () => {
  it('names the bug its case catches', async () => {
    const mutant = mutants.find((candidate) => candidate.name === 'drops-dimensions')!;
    const { outcomes } = await runConformance(
      {
        ...suite(mutant.create as DescribeEmbeddingProviderOptions['createModel']),
        baseURL: 'https://api.acme.test/v1',
      },
      { only: ['dimensions-honoured'] },
    );
    expect(outcomes.map((outcome) => outcome.passed)).toEqual([false, false]);
    // At the end of the first line, before any account of the values node's assert adds.
    for (const outcome of outcomes)
      expect(message(outcome.error)).toMatch(/^[^\n]* \(this scenario catches: [^\n]+\)(\n|$)/);
  });
});

/** A mutant by name, as `createModel`. */
const mutantModel = (name: string) =>
  mutants.find((candidate) => candidate.name === name)!
    .create as DescribeEmbeddingProviderOptions['createModel'];

/** Runs the `only` scenarios against `createModel` with the recorded Acme base URL (nothing live). */
const offline = (createModel: DescribeEmbeddingProviderOptions['createModel'], only: string[]) =>
  runConformance(
    { ...suite(createModel), baseURL: 'https://api.acme.test/v1', cassettes: acmeCassettes },
    { only },
  );

describe('what a failure says', () => {
  it("a vector that is another input's is named so", async () => {
    const { outcomes } = await offline(mutantModel('ignores-index-order'), ['shuffled-indices']);
    expect(outcomes.length).toBe(2);
    for (const outcome of outcomes)
      expect(message(outcome.error)).toMatch(
        /^vectors out of order: vector 0 is input 5's \(this scenario catches/,
      );
  });

  it('the note of what the scenario catches shows once in the stack as in the message', async () => {
    const { outcomes } = await offline(mutantModel('drops-dimensions'), ['dimensions-honoured']);
    for (const outcome of outcomes) {
      const stack = String((outcome.error as Error).stack);
      expect(stack.split('(this scenario catches:').length - 1, stack).toBe(1);
    }
  });

  it("the note of what the scenario catches ends the first line, before node's diff of the values", async () => {
    /** Throws a plain `Error` for a 401, as a provider that wraps what it does not recognise does. */
    class PlainErrorOn401 extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 401) throw new Error('acme request failed');
          throw error;
        }
      }
    }
    const { outcomes } = await offline(
      ({ modelId, ...settings }) => new PlainErrorOn401(modelId, settings),
      ['error-401'],
    );
    expect(outcomes.map((outcome) => outcome.passed)).toEqual([false, false]);
    for (const outcome of outcomes) {
      const [first, ...rest] = message(outcome.error).split('\n');
      expect(first).toBe(
        "AuthenticationError expected, got Error: acme request failed (this scenario catches: a 401 mapped to the wrong class, retried, or stripped of the API's message or request id)",
      );
      // Node 24 ends the diff with a line break, Node 20 does not.
      expect(rest.join('\n').trimEnd()).toBe("+ actual - expected\n\n+ 'Error'\n- 'AuthenticationError'");
    }
  });

  it("the note goes before node's `3 !== 1` line too, and at the end of any other error's message", () => {
    const thrown = (check: () => void) => {
      try {
        check();
      } catch (error) {
        return error;
      }
      throw new Error('the check passed');
    };
    const note = ' (this scenario catches: X)';
    const counted = withNote(
      thrown(() => assert.strictEqual(3, 1, 'the provider sent one request')),
      note,
    ) as Error;
    expect(counted.message).toBe('the provider sent one request (this scenario catches: X)\n\n3 !== 1\n');
    const quoting = withNote(
      thrown(() => assert.strictEqual(1, 2, 'the answer was refused:\n\nserver said: busy')),
      note,
    ) as Error;
    expect(quoting.message).toBe(
      'the answer was refused:\n\nserver said: busy (this scenario catches: X)\n\n1 !== 2\n',
    );
    const plain = withNote(new Error('first paragraph\n\nsecond paragraph'), note) as Error;
    expect(plain.message).toBe('first paragraph\n\nsecond paragraph (this scenario catches: X)');
  });

  it('a provider that drops the signal passes redaction-timeout through fetch rather than hanging it', async () => {
    // The timeout scenarios name that bug; the redaction one must still end, whatever the provider's request does.
    const { outcomes } = await offline(mutantModel('ignores-abort'), ['redaction-timeout']);
    expect(outcomes.map(({ kind, passed }) => ({ kind, passed }))).toEqual([
      { kind: 'undici', passed: true },
      { kind: 'fetch', passed: true },
    ]);
  }, 10_000);

  /** Sends one more call than the scenario answers: a "warm-up" before the real one, or a "ping" after it. */
  class SendsTwice extends AcmeEmbeddingModel {
    constructor(
      modelId: string,
      settings: AcmeSettings,
      private readonly extra: 'warm-up' | 'ping',
    ) {
      super(modelId, settings);
    }

    override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
      if (this.extra === 'warm-up') await super.doEmbed(request).catch(() => undefined);
      const answer = await super.doEmbed(request);
      // Not waited for: the call has ended before the mocks refuse it.
      if (this.extra === 'ping') void super.doEmbed(request).catch(() => undefined);
      return answer;
    }
  }

  // How many requests were sent in all: after a warm-up the real request is the one refused, which the
  // engine retries as a network failure until its retries run out (8 in all); with a ping, 2.
  for (const [extra, when, sent] of [
    ['warm-up', 'before the call', 8],
    ['ping', 'after the call, not waited for', 2],
  ] as const) {
    it(`a request the scenario does not expect (${when}) is named, not reported as a network error`, async () => {
      const { outcomes } = await offline(
        ({ modelId, ...settings }) => new SendsTwice(modelId, settings, extra),
        ['single'],
      );
      expect(outcomes.length).toBe(2);
      for (const outcome of outcomes) {
        expect(message(outcome.error)).toMatch(
          new RegExp(
            `^request 2 of ${sent} \\(POST /v1/embeddings\\) was not expected: the scenario answers 1 `,
          ),
        );
        expect(message(outcome.error)).not.toMatch(/MOCK_NOT_MATCHED|network/);
      }
    });
  }

  it("a cassette's usage is compared under a label", async () => {
    const { outcomes } = await offline(mutantModel('wrong-usage-sum'), ['cassette/two inputs as queries']);
    expect(outcomes.length).toBe(2);
    for (const outcome of outcomes)
      expect(message(outcome.error)).toMatch(/^usage differs from the recording: 4 vs 2/);
  });
});

describe('dimensions equal to the default', () => {
  /** Correct: leaves `dimensions` out when the length asked is the model's default, which the API answers anyway. */
  class OmitsDefaultLength extends AcmeEmbeddingModel {
    protected override requestBody(request: EmbedRequest) {
      const body = super.requestBody(request);
      if (body.dimensions === acmeCapabilities.defaultDimensions) delete body.dimensions;
      return body;
    }
  }

  it('may be left out of the request', async () => {
    const { outcomes } = await offline(
      ({ modelId, ...settings }) => new OmitsDefaultLength(modelId, settings),
      ['dimensions-max', 'dimensions-default', 'dimensions-honoured', 'dimensions-min'],
    );
    expect(outcomes.length).toBe(8);
    expect(outcomes.filter((outcome) => !outcome.passed).map((outcome) => message(outcome.error))).toEqual(
      [],
    );
  });

  it('a length clamped below the one asked is still refused, and said so', async () => {
    const { outcomes } = await offline(mutantModel('caps-dimensions'), ['dimensions-max']);
    expect(outcomes.length).toBe(2);
    for (const outcome of outcomes)
      expect(message(outcome.error)).toMatch(/^item 0 asks 24 dimensions, not the 32 asked/);
  });
});
