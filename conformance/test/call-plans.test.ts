/**
 * The suite plans a job's calls as the engine packs them: `packedCallSizes` gives the sizes `embedMany`
 * sends under the same limits (a limiter's token budget a minute below the model's budget per call, and
 * the cost groups a model keeps apart included), and a suite plans a job by the limiter it draws on.
 */
import {
  createRateLimiter,
  type EmbeddingCapabilities,
  type EmbedInput,
  type EmbedSettings,
  embedContextualized,
  embedMany,
  estimateTokenCounter,
  InvalidArgumentError,
} from '@embedkit/core';
import type { ContextualizedCapabilities, ProviderOptions } from '@embedkit/core/provider';
import { MockEmbeddingModel, recordingClock } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ACME_CONTEXTUALIZED_LIMITS,
  AcmeContextualizedModel,
  acmeContextualizedWire,
  acmeRerankingWire,
  createAcmeContextualizedModel,
  createAcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { acmeWire, createAcmeModel, type ModelFactory } from '../mutants/reference-provider.js';
import { createEmbeddingSuite, DEFAULT_MODE } from '../src/embeddings/suite.js';
import { contextualizedPass, createContextualizedSuite } from '../src/groups/contextualized/suite.js';
import { createRerankingSuite, QUERY } from '../src/groups/rerank/suite.js';
import { createHarness, runInWorld } from '../src/harness.js';
import { packedCallSizes } from '../src/suite/family.js';
import type { CreateModelOptions } from '../src/types.js';
import { acmeWithLimiter } from './mutant-suites.js';

interface Plan {
  /** Each item's tokens, and its cost group (undefined: none). */
  costs: { tokens: number; group?: string }[];
  maxItems: number;
  maxTokens?: number;
  tokensPerMinute?: number;
}

/** The sizes of the calls `embedMany` sends for items of these costs, one call at a time. */
async function engineCalls(plan: Plan): Promise<number[]> {
  const inputs = plan.costs.map((_, index) => `item ${index}`);
  const costOf = new Map(inputs.map((input, index) => [input, plan.costs[index]!]));
  const capabilities: Partial<EmbeddingCapabilities> = {
    maxInputsPerCall: plan.maxItems,
    ...(plan.maxTokens === undefined ? {} : { maxTokensPerCall: plan.maxTokens }),
  };
  const model = Object.assign(new MockEmbeddingModel({ capabilities }), {
    callGroup: (input: EmbedInput) => costOf.get(input as string)?.group,
  });
  await embedMany({
    model,
    inputs,
    concurrency: 1,
    clock: recordingClock(),
    tokenCounter: { exact: false, count: (input) => costOf.get(input as string)!.tokens },
    ...(plan.tokensPerMinute === undefined
      ? {}
      : { rateLimit: createRateLimiter({ tokensPerMinute: plan.tokensPerMinute }) }),
  });
  return model.calls.map((call) => call.inputs.length);
}

const tokens = (...counts: number[]) => counts.map((count) => ({ tokens: count }));

describe('packedCallSizes', () => {
  const plans: [string, Plan, number[]][] = [
    ['by count', { costs: tokens(1, 1, 1, 1, 1), maxItems: 2 }, [2, 2, 1]],
    ['by the budget per call', { costs: tokens(3, 3, 3, 3), maxItems: 8, maxTokens: 7 }, [2, 2]],
    [
      "by a limiter's token budget a minute, below the model's budget per call",
      { costs: tokens(6, 6, 6, 6), maxItems: 8, maxTokens: 40, tokensPerMinute: 13 },
      [2, 2],
    ],
    [
      "an item over the limiter's budget a minute alone in its call",
      { costs: tokens(2, 20, 2, 2), maxItems: 8, maxTokens: 40, tokensPerMinute: 10 },
      [1, 1, 2],
    ],
    [
      'closing a call where the next item is of another cost group',
      {
        costs: [
          { tokens: 1, group: 'url' },
          { tokens: 1, group: 'url' },
          { tokens: 1, group: 'base64' },
          { tokens: 1 },
          { tokens: 1, group: 'url' },
        ],
        maxItems: 8,
      },
      [2, 2, 1],
    ],
  ];
  for (const [name, plan, sizes] of plans) {
    it(`gives the calls the engine sends: ${name} (${sizes.join(', ')})`, async () => {
      expect(await engineCalls(plan)).toEqual(sizes);
      const { costs, maxItems, maxTokens, tokensPerMinute } = plan;
      expect(packedCallSizes(costs, { maxItems, maxTokens, tokensPerMinute })).toEqual(sizes);
    });
  }
});

describe("the embeddings suite's plan, under a limiter's token budget a minute below the model's per call", () => {
  const base = { name: 'acme', baseURL: 'https://api.acme.test/v1', modelId: 'acme-embed-1', wire: acmeWire };
  // The inputs count 16 tokens each by the engine's estimate: two fit a call of 40, where the model
  // declares 50,000 tokens a call and 16 inputs.
  const cases: [string, ModelFactory, () => Partial<EmbedSettings>][] = [
    ["the model's own limiter", acmeWithLimiter(40), () => ({})],
    [
      "the job's rateLimit",
      createAcmeModel,
      () => ({ rateLimit: createRateLimiter({ tokensPerMinute: 40 }) }),
    ],
  ];
  for (const [name, createModel, extra] of cases) {
    it(`is the calls the engine sends, by ${name}`, async () => {
      const options = { ...base, createModel };
      const suite = createEmbeddingSuite(options, DEFAULT_MODE);
      const texts = suite.inputs(5, 'limited');
      const settings = extra();
      let calls: number[] = [];
      await runInWorld(createHarness(options, 'undici'), async (world) => {
        calls = suite.respondAll(world, texts, suite.success(), settings);
        const result = await embedMany({ ...suite.settings(world, settings), inputs: texts });
        suite.expectVectors(result, texts);
      });
      expect(calls).toEqual([2, 2, 1]);
    });
  }
});

describe("the contextualized and reranking suites' plans, under a limiter's token budget a minute", () => {
  const base = { name: 'acme', baseURL: 'https://api.acme.test/v1' };

  it('pack documents by that budget as the engine does', () => {
    const suite = createContextualizedSuite(
      {
        ...base,
        modelId: 'acme-context-1',
        createModel: createAcmeContextualizedModel,
        wire: acmeContextualizedWire,
      },
      { name: 'default' },
    );
    const documents = suite.documents([1, 1, 1, 1, 1], 'limited');
    const counts = documents.map((document) => estimateTokenCounter.count(document[0]!));
    // Two one-chunk documents fit a call of the budget, three do not.
    const minute = counts[0]! * 2 + 1;
    expect(suite.plan(documents)).toEqual([5]);
    expect(suite.plan(documents, { rateLimit: createRateLimiter({ tokensPerMinute: minute }) })).toEqual([
      2, 2, 1,
    ]);
  });

  it('pack a query and its documents by that budget as the engine does', () => {
    const suite = createRerankingSuite(
      {
        ...base,
        modelId: 'acme-rerank-1',
        createModel: createAcmeRerankingModel,
        wire: acmeRerankingWire,
      },
      { name: 'default' },
    );
    const documents = Array.from({ length: 5 }, (_, index) => `document ${index}: pets and animals`);
    // The query counts once per document, as the API counts it: two such pairs fit the budget, three not.
    const pair = estimateTokenCounter.count(QUERY) + estimateTokenCounter.count(documents[0]!);
    const rateLimit = createRateLimiter({ tokensPerMinute: pair * 2 + 1 });
    expect(suite.plan(documents)).toEqual([5]);
    expect(suite.plan(documents, { rateLimit })).toEqual([2, 2, 1]);
  });
});

describe("the contextualized suite's plan, for a model whose limits depend on the job's provider options", () => {
  // Two documents a call with `smallCalls`, as a provider whose option changes what the API takes
  // (Voyage's auto-chunking) declares through `contextualizedCapabilitiesFor`; any other option refused.
  class OptionLimitedModel extends AcmeContextualizedModel {
    contextualizedCapabilitiesFor(providerOptions: ProviderOptions | undefined): ContextualizedCapabilities {
      const options = providerOptions?.acme;
      if (options !== undefined && Object.keys(options).some((key) => key !== 'smallCalls'))
        throw new InvalidArgumentError('acme takes no such contextualized option', {
          argument: 'providerOptions',
        });
      return options?.smallCalls === true
        ? { ...ACME_CONTEXTUALIZED_LIMITS, maxDocumentsPerCall: 2 }
        : ACME_CONTEXTUALIZED_LIMITS;
    }
  }
  const options = {
    name: 'acme',
    baseURL: 'https://api.acme.test/v1',
    modelId: 'acme-context-1',
    createModel: ({ modelId, ...settings }: CreateModelOptions) => new OptionLimitedModel(modelId, settings),
    wire: acmeContextualizedWire,
  };

  it('is the calls the engine sends for those options', async () => {
    const pass = contextualizedPass(options, { name: 'default' });
    const suite = pass.suite;
    const documents = suite.documents([1, 1, 1, 1, 1], 'optioned');
    const extra = { providerOptions: { acme: { smallCalls: true } } };
    let calls: number[] = [];
    let sent: number[] = [];
    await pass
      .toScenario('planned-with-options', async (world) => {
        calls = suite.respondAll(world, documents, suite.success(), extra);
        const result = await embedContextualized(suite.settings(world, { documents, ...extra }));
        suite.expectVectors(result, documents);
        sent = world.interceptor.requests.map(
          (request) => acmeContextualizedWire.documentsOf(request.body).length,
        );
      })
      .run('undici');
    expect(sent).toEqual([2, 2, 1]);
    expect(calls).toEqual(sent);
  });

  it('plans options the model refuses by the limits of none, as the engine refuses the job unsent', () => {
    const suite = createContextualizedSuite(options, { name: 'default' });
    const documents = suite.documents([1, 1, 1], 'refused');
    expect(suite.plan(documents, { providerOptions: { acme: { noSuchOption: true } } })).toEqual([3]);
  });
});
