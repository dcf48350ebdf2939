/**
 * The suite plans its calls by what a provider declares: a correct provider whose only change is a lower
 * declared limit (an embedding model's tokens per call, down to one, a contextualized model's chunks or
 * tokens per call, a reranker's tokens per call) passes every scenario through both transports, as the
 * engine packs its calls under that limit.
 */
import type {
  ContextualizedCapabilities,
  EmbeddingCapabilities,
  RerankingCapabilities,
} from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import {
  ACME_CONTEXTUALIZED_LIMITS,
  AcmeContextualizedModel,
  AcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { AcmeEmbeddingModel, acmeCapabilities } from '../mutants/reference-provider.js';
import type { CreateModelOptions } from '../src/types.js';
import { acmeWithLimiter, checkReference, GROUPS } from './mutant-suites.js';

/** The Acme embedding model declaring a budget of `maxTokensPerCall` tokens a call (the API takes 50,000). */
const fewerEmbeddingTokens =
  (maxTokensPerCall: number) =>
  ({ modelId, ...settings }: CreateModelOptions) =>
    new (class extends AcmeEmbeddingModel {
      override readonly capabilities: EmbeddingCapabilities = { ...acmeCapabilities, maxTokensPerCall };
    })(modelId, settings);

/** The Acme contextualized model declaring at most `maxChunksPerCall` chunks a call (the API takes 32). */
const fewerChunks =
  (maxChunksPerCall: number) =>
  ({ modelId, ...settings }: CreateModelOptions) =>
    new (class extends AcmeContextualizedModel {
      override readonly contextualizedCapabilities: ContextualizedCapabilities = {
        ...ACME_CONTEXTUALIZED_LIMITS,
        maxChunksPerCall,
      };
    })(modelId, settings);

/** The Acme reranker declaring a budget of `maxTokensPerCall` tokens a call. */
const smallBudget =
  (maxTokensPerCall: number) =>
  ({ modelId, ...settings }: CreateModelOptions) =>
    new (class extends AcmeRerankingModel {
      override readonly capabilities: RerankingCapabilities = {
        maxDocumentsPerCall: 16,
        maxTokensPerCall,
        supportsParallelCalls: true,
      };
    })(modelId, settings);

/** The embeddings group's generated scenarios, its cassettes' replays left out. */
const generated = (create: Parameters<typeof GROUPS.embeddings.list>[0]) => {
  const list = GROUPS.embeddings.list(create);
  return { ...list, scenarios: list.scenarios.filter((scenario) => !scenario.id.startsWith('cassette/')) };
};

describe('an embedding model declaring a small token budget per call', () => {
  // The suite's inputs count about 16 tokens each by the engine's estimate (half their UTF-8 bytes): at 40
  // two fit a call, at 60 three, where 16 inputs a call are declared; at 8 not even 16 inputs of a token
  // each fit one call.
  for (const budget of [40, 60, 8]) {
    it(
      `passes every scenario at maxTokensPerCall ${budget}`,
      () => checkReference({ list: GROUPS.embeddings.list, reference: fewerEmbeddingTokens(budget) }),
      60_000,
    );
  }

  // Budgets of a few tokens: the budget split packs inputs whose counts fit the budget (two that make it,
  // then one; at one token, one input a call), where inputs counted as 40% of it each (0, 0, 1, 1 and 2
  // tokens at 1, 2, 3, 4 and 6) went three to a call. Acme's cassettes were recorded under its own budget of 50,000 tokens,
  // where two short inputs share a call that a budget of 4 or fewer splits: a provider declaring such a
  // budget records its cassettes under it, so their replays are left out here.
  for (const budget of [1, 2, 3, 4, 6]) {
    it(
      `passes every generated scenario at a budget of a few tokens: maxTokensPerCall ${budget}`,
      () => checkReference({ list: generated, reference: fewerEmbeddingTokens(budget) }),
      60_000,
    );
  }

  it('still holds a call at the input limit, of shorter inputs, and skips it, saying why, only where the budget cannot', () => {
    const skipped = (budget: number) =>
      GROUPS.embeddings
        .list(fewerEmbeddingTokens(budget))
        .families.flatMap((family) => family.skippedCases)
        .filter((skip) => skip.id.includes('max-inputs'));
    expect(skipped(40)).toEqual([]);
    const reason =
      'the model declares maxTokensPerCall 8: no call of it holds 16 inputs, even of a token each';
    expect(skipped(8)).toEqual([
      { id: 'split-at-max-inputs', reason },
      { id: 'split-above-max-inputs', reason },
    ]);
  });
});

describe("an embedding model created with its own limiter, whose token budget a minute binds below the model's per call", () => {
  // As above: at 40 two of the suite's inputs fit a call (and the token budget split packs by 40, not by
  // the 50,000 declared), at 8 not even 16 inputs of a token each, nor the shared families' one-input job
  // and its retry (8 tokens each) in a minute.
  for (const budget of [40, 8]) {
    it(
      `passes every scenario at tokensPerMinute ${budget}`,
      () => checkReference({ list: GROUPS.embeddings.list, reference: acmeWithLimiter(budget) }),
      60_000,
    );
  }
  // A budget of a few tokens, where two short inputs that share a call in Acme's cassettes go apart: as
  // with a declared budget of a few tokens above, the cassettes' replays are left out.
  it(
    'passes every generated scenario at a budget of a few tokens: tokensPerMinute 3',
    () => checkReference({ list: generated, reference: acmeWithLimiter(3) }),
    60_000,
  );

  it("skips a call at the input limit, saying the limiter's budget binds, only where that budget cannot hold it", () => {
    const skipped = (budget: number) =>
      GROUPS.embeddings
        .list(acmeWithLimiter(budget))
        .families.flatMap((family) => family.skippedCases)
        .filter((skip) => skip.id.includes('max-inputs'));
    expect(skipped(40)).toEqual([]);
    const reason =
      "the model's limiter allows 8 tokens a minute, below its maxTokensPerCall 50000: no call holds 16 inputs, even of a token each";
    expect(skipped(8)).toEqual([
      { id: 'split-at-max-inputs', reason },
      { id: 'split-above-max-inputs', reason },
    ]);
  });

  it("skips the waits, saying why, only where the small job's call and its retry overrun the limiter's minute", () => {
    const waits = (budget: number) =>
      GROUPS.embeddings.list(acmeWithLimiter(budget)).families.find((family) => family.family === 'waits');
    expect(waits(16)?.skipped).toBeUndefined();
    expect(waits(16)?.scenarios).toContain('error-429-retry-after-seconds');
    expect(waits(15)).toMatchObject({
      skipped:
        "the model's limiter allows 15 tokens a minute: the small job's call of 8 tokens, retried, waits for the limiter's refill besides the wait the API asked",
      scenarios: [],
    });
  });
});

describe('a contextualized model declaring fewer chunks per call than its documents per call', () => {
  // 8 documents a call: below 8 chunks a call the chunk limit binds first.
  for (const chunks of [3, 4, 6]) {
    it(
      `passes every scenario at maxChunksPerCall ${chunks}`,
      () => checkReference({ list: GROUPS.contextualized.list, reference: fewerChunks(chunks) }),
      60_000,
    );
  }
});

/** The Acme contextualized model declaring a budget of `maxTokensPerCall` tokens a call. */
const fewerContextualizedTokens =
  (maxTokensPerCall: number) =>
  ({ modelId, ...settings }: CreateModelOptions) =>
    new (class extends AcmeContextualizedModel {
      override readonly contextualizedCapabilities: ContextualizedCapabilities = {
        ...ACME_CONTEXTUALIZED_LIMITS,
        maxTokensPerCall,
      };
    })(modelId, settings);

describe('a contextualized model declaring a small token budget per call', () => {
  // The token budget split packs documents whose counts fit the budget (where one chunk counted as 40% of
  // it went three to a call at 1, 3 and 6), and the calls at the document limit, and the one
  // bisected, hold documents of a one-token chunk where the suite's own (about 18 tokens each) would go
  // in calls of their own.
  for (const budget of [1, 3, 6, 40]) {
    it(
      `passes every scenario at maxTokensPerCall ${budget}`,
      () =>
        checkReference({ list: GROUPS.contextualized.list, reference: fewerContextualizedTokens(budget) }),
      60_000,
    );
  }

  it('holds a call at the document limit, of shorter chunks, and skips it, saying why, only where the budget cannot', () => {
    const skipped = (budget: number) =>
      GROUPS.contextualized
        .list(fewerContextualizedTokens(budget))
        .families.flatMap((family) => family.skippedCases);
    // The suite's documents count about 18 tokens each: at 40, 8 of them would go in calls of their own
    // where 8 documents of a one-token chunk fit.
    expect(skipped(40)).toEqual([]);
    const reason = (count: number) =>
      `the model declares contextualized maxTokensPerCall 6: no call of it holds ${count} documents, even of a token each`;
    expect(skipped(6)).toEqual([
      { id: 'ctx-split-at-max-documents', reason: reason(8) },
      { id: 'ctx-split-above-max-documents', reason: reason(8) },
    ]);
  });
});

describe('a reranker declaring a small token budget per call', () => {
  // The query and one of the suite's documents count about 35 tokens: 3 documents a call at 120, 2 at 80.
  for (const budget of [120, 80]) {
    it(
      `passes every scenario at maxTokensPerCall ${budget}`,
      () => checkReference({ list: GROUPS.rerank.list, reference: smallBudget(budget) }),
      60_000,
    );
  }
});
